package ackset_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/ackset"
)

func at(off uint64) semisync.Position { return semisync.FilePos("binlog.000001", off) }

func mustNew(t *testing.T, p ackset.Policy) *ackset.Set {
	t.Helper()
	s, err := ackset.New(p)
	require.NoError(t, err)
	return s
}

// MySQL's AckContainer looks for the minimum slot below the new ACK but
// returns the last such slot by index, so with N=3 it can release a position
// only two replicas hold (mysql-server PR #509, spec §6.2 B1).
func TestMySQLPR509Regression(t *testing.T) {
	s := mustNew(t, ackset.Count(3))
	for _, id := range []semisync.ReplicaID{1, 2, 3} {
		s.Connect(id, semisync.Position{})
	}
	s.Ack(1, at(100))
	s.Ack(2, at(50))
	u := s.Ack(3, at(200))
	require.True(t, u.Advanced)
	require.Equal(t, at(50), u.Quorum, "only 50 is held by all three replicas (MySQL reports 100)")
}

func TestCountPolicy(t *testing.T) {
	s := mustNew(t, ackset.Count(2))
	u := s.Connect(1, at(4))
	require.False(t, u.Advanced, "one replica cannot make a quorum of two")
	require.False(t, s.Satisfiable())
	u = s.Connect(2, at(4))
	require.True(t, u.Advanced, "both announced start positions count as acknowledgements")
	require.Equal(t, at(4), u.Quorum)
	require.True(t, s.Satisfiable())

	u = s.Ack(1, at(300))
	require.Equal(t, ackset.Update{Quorum: at(4), Ack: ackset.AckAccepted}, u)
	u = s.Ack(2, at(200))
	require.Equal(t, ackset.Update{Quorum: at(200), Advanced: true, Ack: ackset.AckAccepted}, u)
	u = s.Ack(2, at(300))
	require.Equal(t, at(300), u.Quorum)

	// Count(1) releases on the first acknowledgement from anyone.
	u, err := s.SetPolicy(ackset.Count(1))
	require.NoError(t, err)
	require.False(t, u.Advanced)
	require.Equal(t, ackset.Update{Quorum: at(310), Advanced: true, Ack: ackset.AckAccepted}, s.Ack(1, at(310)))
}

func TestAckClassification(t *testing.T) {
	s := mustNew(t, ackset.Count(1))
	s.Connect(7, at(10))
	require.Equal(t, ackset.AckStale, s.Ack(7, at(9)).Ack)
	require.Equal(t, ackset.AckDuplicate, s.Ack(7, at(10)).Ack)
	require.Equal(t, ackset.AckUnknownReplica, s.Ack(8, at(99)).Ack)
	require.Equal(t, at(10), s.Quorum(), "ignored acknowledgements change nothing")
	pos, ok := s.Acked(7)
	require.True(t, ok)
	require.Equal(t, at(10), pos)
	_, ok = s.Acked(8)
	require.False(t, ok)

	// An acknowledgement in the next binlog file is later than any offset in
	// this one, also across a digit rollover of the file index.
	s.Connect(9, semisync.FilePos("binlog.999999", 1<<40))
	u := s.Ack(9, semisync.FilePos("binlog.1000000", 4))
	require.Equal(t, ackset.AckAccepted, u.Ack)
	require.Equal(t, semisync.FilePos("binlog.1000000", 4), u.Quorum)
}

func TestReconnectAndDisconnect(t *testing.T) {
	s := mustNew(t, ackset.Count(2))
	s.Connect(1, at(4))
	s.Connect(2, at(4))
	s.Ack(1, at(500))
	s.Ack(2, at(500))
	require.Equal(t, at(500), s.Quorum())

	// Replica 2 comes back having lost part of its relay log: the new session
	// starts where it says, and the quorum does not move back.
	u := s.Connect(2, at(100))
	require.Equal(t, ackset.Update{Quorum: at(500), Ack: ackset.AckAccepted}, u)
	pos, _ := s.Acked(2)
	require.Equal(t, at(100), pos)
	require.Equal(t, 2, s.Len())

	// A disconnected replica's past acknowledgements no longer count.
	_, ok := s.Disconnect(1)
	require.True(t, ok)
	_, ok = s.Disconnect(1)
	require.False(t, ok)
	s.Connect(3, at(700))
	require.Equal(t, at(500), s.Quorum())
	require.Equal(t, at(600), s.Ack(2, at(600)).Quorum)
	require.Equal(t, []ackset.ReplicaState{{ID: 3, Acked: at(700)}, {ID: 2, Acked: at(600)}}, s.Replicas(nil))
}

func TestAnyOfPolicy(t *testing.T) {
	s := mustNew(t, ackset.AnyOf(2, 1, 2, 3))
	s.Connect(1, at(4))
	s.Connect(9, at(4)) // not in the set: tracked, never counted
	require.False(t, s.Satisfiable())
	s.Ack(9, at(1000))
	s.Ack(1, at(1000))
	require.Equal(t, semisync.Position{}, s.Quorum())
	s.Connect(3, at(4))
	require.Equal(t, at(4), s.Quorum())
	require.Equal(t, at(800), s.Ack(3, at(800)).Quorum)
	require.True(t, s.Satisfiable())
}

func TestFirstOfPolicy(t *testing.T) {
	// PostgreSQL's FIRST 1 (a, b): a is synchronous while connected.
	s := mustNew(t, ackset.FirstOf(1, 10, 20))
	s.Connect(20, at(4))
	require.Equal(t, at(4), s.Quorum(), "b is the highest-priority connected member")
	s.Connect(10, at(4))
	s.Ack(20, at(900))
	require.Equal(t, at(4), s.Quorum(), "a is connected now: b's acknowledgement is not enough")
	require.Equal(t, at(300), s.Ack(10, at(300)).Quorum)

	// When a leaves, b takes its place and what b holds is acknowledged.
	u, ok := s.Disconnect(10)
	require.True(t, ok)
	require.Equal(t, ackset.Update{Quorum: at(900), Advanced: true}, u)

	// FIRST 2: both must acknowledge; with one connected nothing more is.
	_, err := s.SetPolicy(ackset.FirstOf(2, 10, 20, 30))
	require.NoError(t, err)
	require.False(t, s.Satisfiable())
	s.Ack(20, at(1000))
	require.Equal(t, at(900), s.Quorum())
	s.Connect(30, at(950))
	require.Equal(t, at(950), s.Quorum(), "20 and 30 are the two synchronous members")
	require.True(t, s.Satisfiable())
}

func TestSpreadPolicy(t *testing.T) {
	zones := map[semisync.ReplicaID]string{1: "a", 2: "a", 3: "b"}
	s := mustNew(t, ackset.Spread(2, 2, zones))
	s.Connect(1, at(4))
	s.Connect(2, at(4))
	s.Connect(4, at(4)) // in no zone: counts towards 2, covers no zone
	s.Ack(1, at(100))
	s.Ack(2, at(100))
	s.Ack(4, at(100))
	require.Equal(t, semisync.Position{}, s.Quorum(), "three acknowledgements, all in zone a or none")
	require.False(t, s.Satisfiable())
	s.Connect(3, at(50))
	require.Equal(t, at(50), s.Quorum())
	require.True(t, s.Satisfiable())
	require.Equal(t, at(100), s.Ack(3, at(120)).Quorum)

	// Relaxing to one zone releases more at once, and says so.
	s.Ack(1, at(200))
	u, err := s.SetPolicy(ackset.Spread(1, 1, zones))
	require.NoError(t, err)
	require.Equal(t, ackset.Update{Quorum: at(200), Advanced: true}, u)
}

func TestResetForgetsPositions(t *testing.T) {
	s := mustNew(t, ackset.Count(1))
	s.Connect(1, at(4))
	s.Ack(1, at(5000))
	s.Reset()
	require.Equal(t, semisync.Position{}, s.Quorum())
	// After RESET MASTER the binlog starts over; new acknowledgements count.
	u := s.Ack(1, at(120))
	require.Equal(t, ackset.Update{Quorum: at(120), Advanced: true, Ack: ackset.AckAccepted}, u)
}

func TestPolicyValidation(t *testing.T) {
	bad := []struct {
		p   ackset.Policy
		msg string
	}{
		{ackset.Policy{}, "COUNT needs at least 1"},
		{ackset.Count(0), "needs at least 1"},
		{ackset.AnyOf(3, 1, 2), "ANY 3 names only 2 replicas"},
		{ackset.FirstOf(1, 1, 1), "names replica 1 twice"},
		{ackset.Spread(2, 3, map[semisync.ReplicaID]string{1: "a", 2: "b", 3: "c"}), "between 1 and 2 distinct groups"},
		{ackset.Spread(2, 0, nil), "between 1 and 2"},
		{ackset.Spread(2, 2, map[semisync.ReplicaID]string{1: "a", 2: "a"}), "only 1 distinct groups"},
		{ackset.Spread(1, 1, map[semisync.ReplicaID]string{1: ""}), "empty group name"},
	}
	for _, tc := range bad {
		t.Run(tc.p.String(), func(t *testing.T) {
			require.ErrorIs(t, tc.p.Validate(), ackset.ErrInvalidPolicy)
			require.ErrorContains(t, tc.p.Validate(), tc.msg)
			_, err := ackset.New(tc.p)
			require.ErrorIs(t, err, ackset.ErrInvalidPolicy)
		})
	}

	s := mustNew(t, ackset.Count(1))
	s.Connect(1, at(10))
	u, err := s.SetPolicy(ackset.Count(0))
	require.Error(t, err)
	require.Equal(t, at(10), u.Quorum)
	require.Equal(t, ackset.KindCount, s.Policy().Kind(), "a rejected policy leaves the old one in place")
	require.Equal(t, 1, s.Policy().N())
}

func TestPolicyAccessors(t *testing.T) {
	ids := []semisync.ReplicaID{3, 1}
	p := ackset.FirstOf(1, ids...)
	ids[0] = 99
	require.Equal(t, []semisync.ReplicaID{3, 1}, p.Members(), "the policy copied its list")
	require.Equal(t, "FIRST 1 (3, 1)", p.String())
	require.Equal(t, "ANY 2 (1, 2, 3)", ackset.AnyOf(2, 1, 2, 3).String())
	require.Equal(t, "COUNT 2", ackset.Count(2).String())
	zones := map[semisync.ReplicaID]string{1: "a"}
	sp := ackset.Spread(1, 1, zones)
	zones[1] = "changed"
	g, ok := sp.Group(1)
	require.True(t, ok)
	require.Equal(t, "a", g)
	require.Equal(t, "GROUPS 1 SPANNING 1", sp.String())
	require.Equal(t, 1, sp.K())
	require.Equal(t, "stale", ackset.AckStale.String())
}

func TestAckDoesNotAllocate(t *testing.T) {
	for _, p := range []ackset.Policy{
		ackset.Count(2),
		ackset.AnyOf(2, 1, 2, 3),
		ackset.FirstOf(2, 3, 2, 1),
		ackset.Spread(2, 2, map[semisync.ReplicaID]string{1: "a", 2: "b", 3: "c"}),
	} {
		s := mustNew(t, p)
		for id := semisync.ReplicaID(1); id <= 3; id++ {
			s.Connect(id, at(4))
		}
		off := uint64(4)
		allocs := testing.AllocsPerRun(1000, func() {
			off++
			for id := semisync.ReplicaID(1); id <= 3; id++ {
				s.Ack(id, at(off))
			}
		})
		require.Zero(t, allocs, p.String())
		require.Equal(t, at(off), s.Quorum(), p.String())
	}
}

func TestCurrentFollowsConnectedReplicas(t *testing.T) {
	s := mustNew(t, ackset.Count(2))
	_, ok := s.Current()
	require.False(t, ok, "no replicas: the policy is not satisfied")
	s.Connect(1, at(4))
	_, ok = s.Current()
	require.False(t, ok, "one replica cannot satisfy COUNT 2")
	s.Connect(2, at(4))
	s.Ack(1, at(500))
	s.Ack(2, at(400))
	cur, ok := s.Current()
	require.True(t, ok)
	require.Equal(t, at(400), cur)

	// Replica 2 reconnects from an earlier position: the quorum keeps 400,
	// but what the connected replicas hold now is 100.
	s.Connect(2, at(100))
	cur, ok = s.Current()
	require.True(t, ok)
	require.Equal(t, at(100), cur)
	require.Equal(t, at(400), s.Quorum())
}

func TestPolicyCounts(t *testing.T) {
	for _, tc := range []struct {
		p    ackset.Policy
		id   semisync.ReplicaID
		want bool
	}{
		{ackset.Count(2), 9, true},
		{ackset.AnyOf(1, 1, 2), 2, true},
		{ackset.AnyOf(1, 1, 2), 3, false},
		{ackset.FirstOf(1, 3, 1), 1, true},
		{ackset.FirstOf(1, 3, 1), 2, false},
		{ackset.Spread(2, 2, map[semisync.ReplicaID]string{1: "a"}), 5, true},
	} {
		require.Equal(t, tc.want, tc.p.Counts(tc.id), "%v counts %d", tc.p, tc.id)
	}
}
