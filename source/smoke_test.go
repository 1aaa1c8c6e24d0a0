package source_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/ackset"
	"github.com/semisync-go/semisync/source"
	"github.com/semisync-go/semisync/status"
)

func pos(off uint64) semisync.Position { return semisync.FilePos("binlog.000001", off) }

func TestSmoke(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, err := source.New(source.Options{})
		require.NoError(t, err)
		defer s.Close()
		require.NoError(t, s.Vars().Exec("SET GLOBAL rpl_semi_sync_source_enabled = ON, rpl_semi_sync_source_timeout = 1000"))
		require.NoError(t, s.Appended(pos(4)))
		r1, err := s.Register(1, pos(4))
		require.NoError(t, err)
		require.NoError(t, s.Flushed(pos(100)))
		require.True(t, r1.ReplyRequired(pos(100)))
		done := make(chan source.Result, 1)
		go func() { res, _ := s.Wait(context.Background(), pos(100)); done <- res }()
		synctest.Wait()
		require.Equal(t, 1, s.State().Waiting)
		r1.Ack(pos(100))
		res := <-done
		require.Equal(t, source.Acknowledged, res.Outcome)

		// Fast path.
		res, err = s.Wait(context.Background(), pos(100))
		require.NoError(t, err)
		require.Equal(t, source.Acknowledged, res.Outcome)

		// Timeout.
		require.NoError(t, s.Flushed(pos(200)))
		go func() { res, _ := s.Wait(context.Background(), pos(200)); done <- res }()
		synctest.Wait()
		time.Sleep(999 * time.Millisecond)
		synctest.Wait()
		require.Equal(t, 1, s.State().Waiting)
		time.Sleep(time.Millisecond)
		res = <-done
		require.Equal(t, source.TimedOut, res.Outcome)
		require.False(t, s.State().On)
		res, _ = s.Wait(context.Background(), pos(200))
		require.Equal(t, source.Async, res.Outcome)
		// Catch up.
		require.True(t, r1.ReplyRequired(pos(200)))
		r1.Ack(pos(200))
		require.True(t, s.State().On)
		snap := s.Snapshot()
		require.Equal(t, uint64(2), snap.YesTx)
		require.Equal(t, uint64(2), snap.NoTx)
		require.Equal(t, uint64(1), snap.NoTimes)
		require.Equal(t, uint64(1), snap.SwitchOffs[status.ReasonTimeout])
	})
}

func TestNewRejectsBadOptions(t *testing.T) {
	zero := ackset.Count(0)
	anyNone := ackset.AnyOf(0, 1, 2)
	for name, o := range map[string]source.Options{
		"count 0":      {Policy: &zero},
		"any 0":        {Policy: &anyNone},
		"flavor":       {Flavor: semisync.Flavor(9)},
		"event buffer": {EventBuffer: -1},
		"stall after":  {StallAfter: -time.Second},
	} {
		t.Run(name, func(t *testing.T) {
			s, err := source.New(o)
			require.ErrorIs(t, err, source.ErrInvalidOptions)
			require.Nil(t, s)
		})
	}
}
