package semisynctest_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/ackset"
	"github.com/semisync-go/semisync/examples/binlog"
	"github.com/semisync-go/semisync/internal/mysqlmodel"
	"github.com/semisync-go/semisync/semisynctest"
	"github.com/semisync-go/semisync/transport"
)

// mysqlAcks is MySQL's AckContainer as a simulation's quorum arithmetic.
// When the wait count changes it starts a new, empty container at the
// next ACK, where MySQL resizes it at once and keeps its slots: it
// releases no later than MySQL would.
type mysqlAcks struct {
	c     *mysqlmodel.AckContainer
	n     int
	fixed bool
}

func (m *mysqlAcks) Ack(id semisync.ReplicaID, pos semisync.Position, count int) (semisync.Position, bool) {
	if m.c == nil || count != m.n {
		m.c, m.n = mysqlmodel.NewAckContainer(count, m.fixed), count
	}
	return m.c.Insert(id, pos)
}

// MySQL's quorum arithmetic before mysql-server PR #509 releases a commit
// that fewer replicas than the wait count hold; NoLostAck finds it, and
// with the PR's fix every checker holds.
func TestMySQLAckContainerCaught(t *testing.T) {
	cfg := semisynctest.Config{
		Replicas: 4,
		Vars:     "rpl_semi_sync_source_wait_for_replica_count = 3",
		Acks:     func() semisynctest.AckContainer { return &mysqlAcks{} },
	}
	f, err := semisynctest.Explore(cfg, 1000, semisynctest.NoLostAck)
	require.NoError(t, err)
	require.NotNil(t, f, "no schedule of 1000 released a commit early")
	golden(t, "pr509.golden", f.Error())

	cfg.Acks = func() semisynctest.AckContainer { return &mysqlAcks{fixed: true} }
	f, err = semisynctest.Explore(cfg, 1000)
	require.NoError(t, err)
	if f != nil {
		t.Fatalf("the fixed container: %v\nhistory:\n%s", f, f.History)
	}
}

// Config.Acks and Config.Policy do not go together.
func TestAcksWithPolicyRefused(t *testing.T) {
	p := ackset.Count(2)
	_, err := semisynctest.Run(semisynctest.Config{
		Acks:   func() semisynctest.AckContainer { return &mysqlAcks{} },
		Policy: &p,
	}, 1, nil)
	require.ErrorContains(t, err, "Config.Acks and Config.Policy together")
}

// engine is a host's storage engine over the simulation's binlog, which
// commits when told to (Commit).
type engine struct {
	*semisynctest.Binlog
	rows map[int]bool
}

func (e *engine) Commit(_ context.Context, txs []semisynctest.Tx) error {
	for _, tx := range txs {
		e.rows[tx.N] = true
	}
	return nil
}

func (e *engine) Visible(tx semisynctest.Tx) bool { return e.rows[tx.N] }

// Crash recovers as MySQL's engines do with the binlog as coordinator: a
// committed transaction the binlog lost is rolled back. (One the binlog
// kept but the engine had not committed would be committed; its client
// is gone, and no checker looks at it.)
func (e *engine) Crash() error {
	if err := e.Binlog.Crash(); err != nil {
		return err
	}
	for n := range e.rows {
		if !e.Holds(semisynctest.Tx{N: n}) {
			delete(e.rows, n)
		}
	}
	return nil
}

// A host's engine that commits in order after the wait point holds every
// checker, failovers included (the promoted replica's relay log becomes
// its binlog).
func TestHostEngineHolds(t *testing.T) {
	cfg := semisynctest.Config{Host: func(b *semisynctest.Binlog) semisynctest.Host {
		return &engine{Binlog: b, rows: map[int]bool{}}
	}, Disk: semisynctest.Disk{Torn: true, SyncFail: 0.01}}
	n := 2000
	if testing.Short() {
		n = 300
	}
	f, err := semisynctest.Explore(cfg, n)
	require.NoError(t, err)
	if f != nil {
		t.Fatalf("%v\nhistory:\n%s", f, f.History)
	}
}

// memHost is a host with a binlog of its own: the example binlog
// (examples/binlog.Memory, strict about where a replica starts), events
// of its own bytes, and an engine.
type memHost struct {
	m    *binlog.Memory
	rows map[int]bool
}

func (h *memHost) Flush(_ context.Context, txs []semisynctest.Tx, ends []semisync.Position) error {
	for i, tx := range txs {
		ends[i] = h.m.Append(fmt.Appendf(nil, "insert into t values (%d)", tx.N))
	}
	return nil
}

func (h *memHost) Sync(context.Context, semisync.Position) error { h.m.Publish(); return nil }

func (h *memHost) Commit(_ context.Context, txs []semisynctest.Tx) error {
	for _, tx := range txs {
		h.rows[tx.N] = true
	}
	return nil
}

func (h *memHost) Open(start semisync.Position) (transport.Cursor, error) { return h.m.Open(start) }
func (h *memHost) Visible(tx semisynctest.Tx) bool                        { return h.rows[tx.N] }
func (h *memHost) End() semisync.Position                                 { return h.m.Head() }

// Crash: every event written was synced (Sync follows Flush at once), so
// the binlog keeps them all and goes on in a new file; the engine
// recovers what the binlog holds, which is everything it had.
func (h *memHost) Crash() error { h.m.Rotate(); return nil }

// A host with its own binlog holds every checker on schedules rapid
// draws. (Its binlog gives its own positions, so it cannot take a
// promoted replica's relay log: failovers are left out.)
func TestHostOwnBinlogHolds(t *testing.T) {
	cfg := semisynctest.Config{Host: func(*semisynctest.Binlog) semisynctest.Host {
		return &memHost{m: binlog.NewMemory("host-bin"), rows: map[int]bool{}}
	}, Trace: true}
	rapid.Check(t, func(t *rapid.T) {
		var sc semisynctest.Schedule
		for _, st := range semisynctest.Schedules(cfg).Draw(t, "schedule") {
			if st.Op != semisynctest.Failover {
				sc = append(sc, st)
			}
		}
		seed := rapid.Uint64().Draw(t, "seed")
		h, err := semisynctest.Run(cfg, seed, sc)
		require.NoError(t, err)
		if err := h.Check(); err != nil {
			t.Fatalf("%v\nseed %d, schedule:\n%s\nhistory:\n%s", err, seed, sc, h)
		}
		for _, e := range h.Binlog {
			var n int
			_, err := fmt.Sscanf(string(e.Data), "insert into t values (%d)", &n)
			require.NoError(t, err, "the host's own bytes reach the checkers")
		}
	})
}

// The simulation's binlog writes each transaction's number as its bytes.
func TestBinlogEvents(t *testing.T) {
	h, err := semisynctest.Run(semisynctest.Config{}, 1, semisynctest.Schedule{{Op: semisynctest.Commit}})
	require.NoError(t, err)
	require.Len(t, h.Binlog, 3, "the commit and the two of the liveness probe")
	for i, e := range h.Binlog {
		require.Equal(t, uint64(i+1), binary.LittleEndian.Uint64(e.Data))
	}
	for _, l := range h.Logs {
		require.Equal(t, h.Binlog, l)
	}
}

// evenEngine shows even-numbered transactions as the binlog writes them:
// readers see commit 2 before commit 1, and before its wait returns.
type evenEngine struct{ engine }

func (e *evenEngine) Flush(ctx context.Context, txs []semisynctest.Tx, ends []semisync.Position) error {
	for _, tx := range txs {
		if tx.N%2 == 0 {
			e.rows[tx.N] = true
		}
	}
	return e.Binlog.Flush(ctx, txs, ends)
}

// The readers are asked about every commit they have not seen, not only
// up to the first hidden one: a commit seen out of order is caught.
func TestVisibilityOutOfOrder(t *testing.T) {
	cfg := semisynctest.Config{Host: func(b *semisynctest.Binlog) semisynctest.Host {
		return &evenEngine{engine{Binlog: b, rows: map[int]bool{}}}
	}}
	sc := semisynctest.Schedule{{Op: semisynctest.Commit}, {Op: semisynctest.Commit}}
	for seed := range uint64(100) {
		_, err := semisynctest.Replay(cfg, seed, sc, semisynctest.AfterSyncVisibility)
		require.ErrorContains(t, err, "commit 2 visible at 0s", "seed %d", seed)
	}
}

// badEnds is a host whose binlog gives every transaction the same end.
type badEnds struct{ engine }

func (h *badEnds) Flush(ctx context.Context, txs []semisynctest.Tx, ends []semisync.Position) error {
	for i := range txs {
		ends[i] = semisync.FilePos("binlog.000001", 104)
	}
	return nil
}

// An end the source refuses stops the run, as it stops waitpoint's
// pipeline.
func TestHostBadEndStops(t *testing.T) {
	cfg := semisynctest.Config{Host: func(b *semisynctest.Binlog) semisynctest.Host {
		return &badEnds{engine{Binlog: b, rows: map[int]bool{}}}
	}}
	_, err := semisynctest.Run(cfg, 1, semisynctest.Schedule{{Op: semisynctest.Commit}, {Op: semisynctest.Commit}})
	require.ErrorContains(t, err, "step 2 (commit): the host's Flush returned end binlog.000001:104")
}

// The simulation's binlog refuses a start it does not hold (a lost tail,
// the middle of an event), takes a file's start or an event's end, and
// its cursors find a crash.
func TestBinlogOpen(t *testing.T) {
	var b *semisynctest.Binlog
	sc := semisynctest.Schedule{{Op: semisynctest.Commit}, {Op: semisynctest.Advance, D: time.Second}, {Op: semisynctest.CrashSource}}
	_, err := semisynctest.Run(semisynctest.Config{Host: func(bl *semisynctest.Binlog) semisynctest.Host {
		b = bl
		return &engine{Binlog: bl, rows: map[int]bool{}}
	}}, 1, sc)
	require.NoError(t, err)
	// binlog.000001 holds the commit (ends at 104); binlog.000002 the two
	// of the liveness probe.
	for _, ok := range []semisync.Position{semisync.FilePos("binlog.000001", 4), semisync.FilePos("binlog.000001", 104), semisync.FilePos("binlog.000002", 4), semisync.FilePos("binlog.000002", 204)} {
		cur, err := b.Open(ok)
		require.NoError(t, err, "%s", ok)
		require.NoError(t, cur.Close())
	}
	for _, bad := range []semisync.Position{semisync.FilePos("binlog.000001", 204), semisync.FilePos("binlog.000001", 50), semisync.FilePos("binlog.000003", 4), semisync.FilePos("other.000001", 4)} {
		_, err := b.Open(bad)
		require.ErrorIs(t, err, semisynctest.ErrUnknownStart, "%s", bad)
	}
	cur, err := b.Open(semisync.FilePos("binlog.000002", 204))
	require.NoError(t, err)
	_, ok, err := cur.Next()
	require.NoError(t, err)
	require.False(t, ok, "at the end")
	wait := cur.Wait()
	require.NoError(t, b.Crash())
	select {
	case <-wait:
	default:
		t.Fatal("a crash does not wake a waiting cursor")
	}
	_, _, err = cur.Next()
	require.Error(t, err, "a cursor from before the crash")
}
