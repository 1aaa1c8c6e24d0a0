package source_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/source"
)

// TestRegisterBeyondEndRefused: a start position counts as an
// acknowledgement (spec §7.1), so a peer that claims a position beyond the
// binlog's end must be refused. It once was accepted and released a
// waiting commit, and later commits ending at or before its claim counted
// as acknowledged by it.
func TestRegisterBeyondEndRefused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		log := &mdlEventLog{}
		s, err := source.New(source.Options{Observer: log})
		require.NoError(t, err)
		defer s.Close()
		require.NoError(t, s.Vars().Exec("SET GLOBAL rpl_semi_sync_source_enabled = ON, rpl_semi_sync_source_timeout = 60000"))
		r1, err := s.Register(1, semisync.Position{})
		require.NoError(t, err)
		require.NoError(t, s.Flushed(pos(100)))
		w1 := make(chan source.Result, 1)
		go func() { res, _ := s.Wait(context.Background(), pos(100)); w1 <- res }()
		synctest.Wait()
		log.take()

		_, err = s.Register(2, pos(5000))
		require.ErrorIs(t, err, source.ErrStartBeyondEnd)
		var se *source.StartError
		require.True(t, errors.As(err, &se))
		require.Equal(t, source.StartError{Replica: 2, Start: pos(5000), End: pos(100)}, *se)
		require.Contains(t, err.Error(), "after the end of the binlog")

		synctest.Wait()
		st := s.State()
		require.Equal(t, 1, st.Clients, "a refused start is no client")
		require.Equal(t, 1, st.Waiting, "a refused start releases nothing")
		require.Equal(t, semisync.Position{}, st.Acknowledged)
		snap := s.Snapshot()
		require.Equal(t, uint64(1), snap.StartsRefused)
		require.Equal(t, uint64(1), snap.Clients)
		require.Len(t, snap.Replicas, 1, "a refused start has no ledger row")
		require.Equal(t, []source.Event{{Kind: source.EventStartRefused, Time: time.Now(), Replica: 2,
			Position: pos(5000), End: pos(100)}}, log.take())
		for _, r := range s.Show("%") {
			require.NotContains(t, r.Name, "refused", "an extension, not a status variable")
		}

		// A later commit ending before the claimed start waits for a real
		// acknowledgement.
		require.NoError(t, s.Flushed(pos(200)))
		w2 := make(chan source.Result, 1)
		go func() { res, _ := s.Wait(context.Background(), pos(200)); w2 <- res }()
		synctest.Wait()
		require.Equal(t, 2, s.State().Waiting)
		r1.Ack(pos(200))
		require.Equal(t, source.Acknowledged, (<-w1).Outcome)
		require.Equal(t, source.Acknowledged, (<-w2).Outcome)

		// At the end, and at the beginning, a start is accepted.
		r2, err := s.Register(2, pos(200))
		require.NoError(t, err)
		r2.Close()
		r3, err := s.Register(3, semisync.Position{})
		require.NoError(t, err)
		r3.Close()
		require.Equal(t, uint64(1), s.Snapshot().StartsRefused)
	})
}

// TestRegisterBeforeAnyEnd: a new source knows no end, so only the zero
// Position is accepted until the host reports one with Appended; the error
// says so.
func TestRegisterBeforeAnyEnd(t *testing.T) {
	s, err := source.New(source.Options{})
	require.NoError(t, err)
	defer s.Close()
	_, err = s.Register(1, pos(4))
	require.ErrorIs(t, err, source.ErrStartBeyondEnd)
	require.Contains(t, err.Error(), "the source knows of no write; report the binlog's end with Appended")
	var se *source.StartError
	require.True(t, errors.As(err, &se))
	require.True(t, se.End.IsZero())

	x, err := s.Register(1, semisync.Position{})
	require.NoError(t, err)
	x.Close()
	require.NoError(t, s.Appended(pos(4)))
	x, err = s.Register(1, pos(4))
	require.NoError(t, err)
	x.Close()
	require.Equal(t, uint64(1), s.Snapshot().StartsRefused)
}

// TestAppended: Appended moves the binlog's end and nothing else; Flushed
// must come after it; ResetMaster forgets it; a closed source refuses it.
func TestAppended(t *testing.T) {
	s, err := source.New(source.Options{})
	require.NoError(t, err)
	require.NoError(t, s.Vars().Exec("SET GLOBAL rpl_semi_sync_source_enabled = ON"))
	require.NoError(t, s.Flushed(pos(100)))
	before := s.Snapshot()
	rotated := semisync.FilePos("binlog.000002", 4)
	require.NoError(t, s.Appended(rotated))
	require.NoError(t, s.Appended(pos(50)), "an older end is a no-op")
	st := s.State()
	require.Equal(t, pos(100), st.Written, "Appended is no commit group")
	require.Equal(t, source.Tail{Written: pos(100)}, s.Unacknowledged())
	after := s.Snapshot()
	require.Equal(t, before.RequestAck, after.RequestAck, "nothing to acknowledge")

	err = s.Flushed(rotated)
	require.ErrorIs(t, err, source.ErrOutOfOrder)
	var oe *source.OrderError
	require.True(t, errors.As(err, &oe))
	require.Equal(t, rotated, oe.Last)
	require.NoError(t, s.Flushed(semisync.FilePos("binlog.000002", 300)))

	// The new file's first position is a valid start; nothing after the end is.
	x, err := s.Register(1, rotated)
	require.NoError(t, err)
	x.Close()
	_, err = s.Register(1, semisync.FilePos("binlog.000002", 301))
	require.ErrorIs(t, err, source.ErrStartBeyondEnd)

	s.ResetMaster()
	_, err = s.Register(1, pos(4))
	require.ErrorIs(t, err, source.ErrStartBeyondEnd, "RESET MASTER forgets the end")
	require.NoError(t, s.Appended(pos(4)))
	x, err = s.Register(1, pos(4))
	require.NoError(t, err)
	x.Close()

	require.NoError(t, s.Close())
	require.ErrorIs(t, s.Appended(pos(500)), source.ErrClosed)
	_, err = s.Register(1, pos(4))
	require.ErrorIs(t, err, source.ErrClosed, "closed comes first")
}

// TestRegressionAckBeyondEnd: an acknowledgement beyond the binlog's end
// (a host error or a lying peer) does not make a later honest start at the
// end look like a regression.
func TestRegressionAckBeyondEnd(t *testing.T) {
	s, err := source.New(source.Options{})
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, s.Flushed(pos(100)))
	x, err := s.Register(1, pos(100))
	require.NoError(t, err)
	x.Ack(pos(900)) // beyond the end
	x.Close()
	x, err = s.Register(1, pos(100))
	require.NoError(t, err)
	defer x.Close()
	require.Zero(t, s.Snapshot().ReplicaRegressions)
}

// TestRegressionSuperseding: a session that supersedes another of the same
// replica below what the older one acknowledged is a regression; the
// commits at risk clear when the new session acknowledges them.
func TestRegressionSuperseding(t *testing.T) {
	s, err := source.New(source.Options{})
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, s.Flushed(pos(200)))
	x, err := s.Register(1, pos(100))
	require.NoError(t, err)
	x.Ack(pos(200))
	y, err := s.Register(1, pos(150)) // supersedes x, below its ACK
	require.NoError(t, err)
	defer y.Close()
	x.Close()
	snap := s.Snapshot()
	require.Equal(t, uint64(1), snap.ReplicaRegressions)
	require.Equal(t, uint64(1), snap.Replicas[0].Regressions)
	require.Equal(t, pos(200), snap.Replicas[0].RegressedFrom)
	require.Equal(t, pos(150), snap.Replicas[0].RegressedTo)
	// The quorum (one replica) had 200: (150, 200] is at risk, and y's ACK
	// clears it.
	tail := s.Unacknowledged()
	require.True(t, tail.AtRisk)
	require.True(t, tail.Weak(pos(200)))
	require.False(t, tail.Weak(pos(150)))
	require.Equal(t, "(binlog.000001:200, binlog.000001:200] at risk (binlog.000001:150, binlog.000001:200]", tail.String())
	y.Ack(pos(200))
	require.False(t, s.Unacknowledged().AtRisk)
}
