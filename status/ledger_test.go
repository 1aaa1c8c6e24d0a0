package status_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/status"
)

var t0 = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

func at(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }

func pos(file string, off uint64) semisync.Position { return semisync.FilePos(file, off) }

func TestLedgerJoinAckLeave(t *testing.T) {
	var l status.Ledger
	e := l.Join(7, pos("binlog.000003", 100), at(0))
	require.Equal(t, semisync.ReplicaID(7), e.ID())
	require.Equal(t, pos("binlog.000003", 100), e.Acked(), "the start position counts as acknowledged")

	e.RecordAck(pos("binlog.000003", 500), at(1))
	e.RecordAck(pos("binlog.000003", 400), at(2)) // stale: older
	e.RecordAck(pos("binlog.000003", 500), at(3)) // stale: repeated
	l.SetHead(pos("binlog.000003", 900))

	snaps := l.Snapshot()
	require.Len(t, snaps, 1)
	s := snaps[0]
	require.Equal(t, semisync.ReplicaID(7), s.ID)
	require.True(t, s.Connected)
	require.Equal(t, uint64(1), s.Sessions)
	require.True(t, s.ConnectedSince.Equal(at(0)))
	require.True(t, s.Disconnected.IsZero())
	require.Equal(t, pos("binlog.000003", 100), s.Start)
	require.Equal(t, pos("binlog.000003", 500), s.Acked, "a stale ACK does not move the position back")
	require.Equal(t, uint64(3), s.Acks, "every ACK counts, the start position does not")
	require.Equal(t, uint64(2), s.StaleAcks)
	require.True(t, s.LastAck.Equal(at(3)))
	require.Equal(t, status.Lag{Bytes: 400, BytesKnown: true}, s.Lag)

	l.Leave(e, at(4))
	s = l.Snapshot()[0]
	require.False(t, s.Connected, "entries survive a disconnect")
	require.True(t, s.Disconnected.Equal(at(4)))
	l.Leave(e, at(5)) // extra Leave: harmless
	l.Leave(nil, at(5))
	e2 := l.Join(7, pos("binlog.000003", 450), at(6))
	require.Same(t, e, e2, "the same ID reuses its entry")
	s = l.Snapshot()[0]
	require.True(t, s.Connected)
	require.Equal(t, uint64(2), s.Sessions)
	require.Equal(t, pos("binlog.000003", 450), s.Acked, "a reconnect restarts from the announced position")
	require.Equal(t, uint64(3), s.Acks)
}

func TestLedgerOverlappingSessions(t *testing.T) {
	// The replica reconnects before the old session's end is seen.
	var l status.Ledger
	old := l.Join(1, semisync.LSN(10), at(0))
	l.Join(1, semisync.LSN(20), at(1))
	l.Leave(old, at(2))
	require.True(t, l.Snapshot()[0].Connected, "the newer session is still open")
}

func TestLedgerSortedLookupForget(t *testing.T) {
	var l status.Ledger
	for _, id := range []semisync.ReplicaID{30, 10, 20} {
		l.Join(id, semisync.LSN(uint64(id)), at(0))
	}
	require.Equal(t, 3, l.Len())
	var ids []semisync.ReplicaID
	for _, s := range l.Snapshot() {
		ids = append(ids, s.ID)
	}
	require.Equal(t, []semisync.ReplicaID{10, 20, 30}, ids)

	e, ok := l.Lookup(20)
	require.True(t, ok)
	require.Equal(t, semisync.LSN(20), e.Acked())
	_, ok = l.Lookup(25)
	require.False(t, ok)

	require.True(t, l.Forget(20))
	require.False(t, l.Forget(20))
	require.Equal(t, 2, l.Len())
	_, ok = l.Lookup(20)
	require.False(t, ok)
	e.RecordAck(semisync.LSN(99), at(1)) // a forgotten entry may still be recorded into
	require.Equal(t, semisync.LSN(99), e.Acked())

	fresh := l.Join(20, semisync.LSN(5), at(2))
	require.NotSame(t, e, fresh, "Join after Forget starts a fresh entry")
	s := l.Snapshot()[1]
	require.Equal(t, uint64(1), s.Sessions)
	require.Zero(t, s.Acks)
}

func TestLagOf(t *testing.T) {
	tests := []struct {
		name  string
		acked semisync.Position
		head  semisync.Position
		want  status.Lag
	}{
		{"same file", pos("binlog.000001", 100), pos("binlog.000001", 350), status.Lag{Bytes: 250, BytesKnown: true}},
		{"caught up", pos("binlog.000001", 350), pos("binlog.000001", 350), status.Lag{BytesKnown: true}},
		{"ahead in same file", pos("binlog.000001", 400), pos("binlog.000001", 350), status.Lag{BytesKnown: true}},
		{"LSN", semisync.LSN(10), semisync.LSN(25), status.Lag{Bytes: 15, BytesKnown: true}},
		{"rotation", pos("binlog.000001", 900), pos("binlog.000003", 120), status.Lag{Files: 2}},
		{"rotation past a digit", pos("binlog.999999", 900), pos("binlog.1000000", 4), status.Lag{Files: 1}},
		{"ahead by a file", pos("binlog.000004", 4), pos("binlog.000003", 120), status.Lag{BytesKnown: true}},
		{"no head yet", pos("binlog.000001", 4), semisync.Position{}, status.Lag{BytesKnown: true}},
		{"different stems", pos("a.000001", 4), pos("b.000002", 4), status.Lag{}},
		{"no numeric suffix", pos("binlog", 4), pos("binlog.1", 4), status.Lag{}},
		{"same index spelled differently", pos("binlog.01", 4), pos("binlog.1", 9), status.Lag{}},
		{"LSN against file", semisync.LSN(4), pos("binlog.000001", 4), status.Lag{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, status.LagOf(tt.acked, tt.head))
		})
	}
}

func TestLedgerRotationLag(t *testing.T) {
	var l status.Ledger
	e := l.Join(1, pos("binlog.000001", 4), at(0))
	l.SetHead(pos("binlog.000001", 1000))
	require.Equal(t, status.Lag{Bytes: 996, BytesKnown: true}, l.Snapshot()[0].Lag)

	l.SetHead(pos("binlog.000002", 200)) // the source rotated
	require.Equal(t, pos("binlog.000002", 200), l.Head())
	require.Equal(t, status.Lag{Files: 1}, l.Snapshot()[0].Lag)

	e.RecordAck(pos("binlog.000002", 150), at(1)) // the replica followed
	require.Equal(t, status.Lag{Bytes: 50, BytesKnown: true}, l.Snapshot()[0].Lag)
}

func TestLedgerReconnectDoesNotAllocate(t *testing.T) {
	var l status.Ledger
	e := l.Join(9, pos("binlog.000001", 4), at(0))
	e.RecordAck(pos("binlog.000001", 400), at(1))
	l.Leave(e, at(2))
	allocs := testing.AllocsPerRun(100, func() {
		e := l.Join(9, pos("binlog.000001", 400), at(3))
		l.Leave(e, at(4))
	})
	require.Zero(t, allocs)
	require.Equal(t, 1, l.Len())
}

func TestRecordAckDoesNotAllocate(t *testing.T) {
	var l status.Ledger
	e := l.Join(9, pos("binlog.000001", 4), at(0))
	p := pos("binlog.000001", 4)
	off := uint64(4)
	allocs := testing.AllocsPerRun(1000, func() {
		off++
		e.RecordAck(semisync.FilePos(p.File(), off), at(1))
		e.RecordAck(semisync.FilePos(p.File(), off-1), at(1)) // stale
	})
	require.Zero(t, allocs)
	require.Equal(t, semisync.FilePos("binlog.000001", off), e.Acked())

	l.SetHead(p)
	require.Zero(t, testing.AllocsPerRun(100, func() { l.SetHead(p) }))
	require.Zero(t, testing.AllocsPerRun(100, func() { _, _ = l.Lookup(9) }))
}

func TestLedgerRegression(t *testing.T) {
	var l status.Ledger
	e := l.Join(4, pos("binlog.000002", 4), at(0))
	e.RecordAck(pos("binlog.000002", 900), at(1))
	s := l.Snapshot()[0]
	require.Zero(t, s.Regressions)
	require.True(t, s.RegressedFrom.IsZero() && s.RegressedTo.IsZero() && s.RegressedAt.IsZero())

	// The replica comes back at 300, below the 900 it acknowledged.
	l.Leave(e, at(2))
	l.Join(4, pos("binlog.000002", 300), at(3))
	e.RecordRegression(pos("binlog.000002", 900), pos("binlog.000002", 300), at(3))
	s = l.Snapshot()[0]
	require.Equal(t, uint64(1), s.Regressions)
	require.Equal(t, pos("binlog.000002", 900), s.RegressedFrom)
	require.Equal(t, pos("binlog.000002", 300), s.RegressedTo)
	require.True(t, s.RegressedAt.Equal(at(3)))
	require.Equal(t, pos("binlog.000002", 300), s.Acked, "the start is the acknowledged position again")

	// A second one, from the beginning, replaces the latest.
	e.RecordRegression(pos("binlog.000002", 300), semisync.Position{}, at(4))
	s = l.Snapshot()[0]
	require.Equal(t, uint64(2), s.Regressions)
	require.Equal(t, pos("binlog.000002", 300), s.RegressedFrom)
	require.True(t, s.RegressedTo.IsZero())
	require.True(t, s.RegressedAt.Equal(at(4)))

	var nilEntry *status.LedgerEntry
	nilEntry.RecordRegression(pos("binlog.000001", 5), pos("binlog.000001", 4), at(5)) // ignored
}

func TestRecordRegressionDoesNotAllocate(t *testing.T) {
	var l status.Ledger
	e := l.Join(9, pos("binlog.000001", 4), at(0))
	e.RecordRegression(pos("binlog.000001", 500), pos("binlog.000001", 4), at(1))
	off := uint64(10)
	allocs := testing.AllocsPerRun(1000, func() {
		off++
		l.Join(9, pos("binlog.000001", off), at(2))
		e.RecordRegression(pos("binlog.000001", off+100), pos("binlog.000001", off), at(2))
	})
	require.Zero(t, allocs)
}

func indexIsOffset(p semisync.Position) bool {
	i, ok := p.FileIndex()
	return ok && i == p.Offset()
}

// TestLedgerReadsAreNeverTorn records positions whose offset equals the
// file index while readers snapshot; a torn read would pair a file with
// another file's offset.
func TestLedgerReadsAreNeverTorn(t *testing.T) {
	const n = 3000
	var l status.Ledger
	e := l.Join(1, pos("binlog.000000", 0), at(0))
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := uint64(1); i <= n; i++ {
			p := pos(fmt.Sprintf("binlog.%06d", i), i)
			e.RecordAck(p, at(int(i)))
			l.SetHead(p)
		}
	})
	for range 4 {
		wg.Go(func() {
			var buf []status.ReplicaSnapshot
			last := uint64(0)
			for last < n {
				buf = l.SnapshotInto(buf[:0])
				a := buf[0].Acked
				if !indexIsOffset(a) || a.Offset() < last {
					t.Errorf("torn or backward read: %v after offset %d", a, last)
					return
				}
				if h := l.Head(); !h.IsZero() && !indexIsOffset(h) {
					t.Errorf("torn head: %v", h)
					return
				}
				last = a.Offset()
			}
		})
	}
	wg.Wait()
	require.Equal(t, uint64(n), l.Snapshot()[0].Acks)
}
