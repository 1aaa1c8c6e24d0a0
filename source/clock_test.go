package source_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/semisync-go/semisync"

	"github.com/semisync-go/semisync/source"
)

// manual is a clock the test moves.
type manual struct{ t time.Time }

func (m *manual) Now() time.Time { return m.t }

// clockWait is a source on a manual clock (timeout 1 s) with one replica
// and a WaitFunc begun for pos(100), whose Results got collects.
func clockWait(t *testing.T) (*source.Source, *manual, *source.Session, *[]source.Result) {
	clk := &manual{t: time.Unix(1700000000, 0)}
	s, err := source.New(source.Options{Clock: clk})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	require.NoError(t, s.Vars().Exec("SET GLOBAL rpl_semi_sync_source_enabled = ON, rpl_semi_sync_source_timeout = 1000"))
	require.NoError(t, s.Appended(pos(4)))
	r1, err := s.Register(1, pos(4))
	require.NoError(t, err)
	require.NoError(t, s.Flushed(pos(100)))
	got := new([]source.Result)
	require.NoError(t, s.WaitFunc(pos(100), func(r source.Result) { *got = append(*got, r) }))
	return s, clk, r1, got
}

// With Options.Clock the host drives time: a wait begun with WaitFunc
// times out when the host's clock passes its deadline and the host calls
// Tick (NextDeadline says when), not before; its outcome is delivered to
// the callback once, by Tick, with the wait measured on the host's clock.
func TestClockTickTimeout(t *testing.T) {
	s, clk, r1, got := clockWait(t)
	require.Empty(t, *got)
	at, ok := s.NextDeadline()
	require.True(t, ok)
	require.Equal(t, clk.t.Add(time.Second), at)

	clk.t = clk.t.Add(999 * time.Millisecond)
	s.Tick()
	require.Empty(t, *got, "not yet due")
	clk.t = at
	s.Tick()
	require.Len(t, *got, 1)
	require.Equal(t, source.TimedOut, (*got)[0].Outcome)
	require.Equal(t, time.Second, (*got)[0].Waited)
	require.False(t, s.State().On)
	_, ok = s.NextDeadline()
	require.False(t, ok)
	snap := s.Snapshot()
	require.Equal(t, uint64(1), snap.NoTx)
	require.Equal(t, uint64(1), snap.WaitTimeouts)

	// An ACK later: nothing more for the released wait.
	r1.Ack(pos(100))
	s.Tick()
	require.Len(t, *got, 1)
}

// A clock that goes backwards during a wait: the wait's time is negative,
// and it is counted as MySQL counts a failed clock read
// (timefunc_failures), not as a wait time.
func TestClockBackwards(t *testing.T) {
	s, clk, r1, got := clockWait(t)
	clk.t = clk.t.Add(-5 * time.Second)
	r1.Ack(pos(100))
	require.Len(t, *got, 1, "released by the ACK, on its call")
	require.Equal(t, source.Acknowledged, (*got)[0].Outcome)
	require.Negative(t, (*got)[0].Waited)
	snap := s.Snapshot()
	require.Equal(t, uint64(1), snap.TimefuncFailures)
	require.Equal(t, uint64(0), snap.TxWaits)
	require.Equal(t, uint64(1), snap.YesTx)
}

// WaitFunc's outcomes known at once come before it returns; after Close it
// returns ErrClosed without calling back; Close releases a pending one.
func TestWaitFuncImmediate(t *testing.T) {
	clk := &manual{t: time.Unix(1700000000, 0)}
	s, err := source.New(source.Options{Clock: clk})
	require.NoError(t, err)
	var got []source.Outcome
	record := func(r source.Result) { got = append(got, r.Outcome) }
	require.NoError(t, s.WaitFunc(semisync.Position{}, record))
	require.NoError(t, s.WaitFunc(pos(100), record))
	require.Equal(t, []source.Outcome{source.NoPosition, source.Disabled}, got)

	require.NoError(t, s.Vars().Exec("SET GLOBAL rpl_semi_sync_source_enabled = ON, rpl_semi_sync_source_wait_no_replica = ON"))
	require.NoError(t, s.Flushed(pos(100)))
	require.NoError(t, s.WaitFunc(pos(100), record))
	require.Len(t, got, 2, "waiting")
	require.NoError(t, s.Close())
	require.Equal(t, []source.Outcome{source.NoPosition, source.Disabled, source.SwitchedOff}, got)
	require.ErrorIs(t, s.WaitFunc(pos(100), record), source.ErrClosed)
	require.Len(t, got, 3)
}

// WaitFunc refuses a nil callback: nobody would collect the wait.
func TestWaitFuncNil(t *testing.T) {
	s, _, _, _ := clockWait(t)
	require.Error(t, s.WaitFunc(pos(100), nil))
	require.Equal(t, 1, s.State().Waiting, "only clockWait's wait")
}
