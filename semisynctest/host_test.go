package semisynctest_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/ackset"
	"github.com/semisync-go/semisync/examples/binlog"
	"github.com/semisync-go/semisync/internal/mysqlmodel"
	"github.com/semisync-go/semisync/semisynctest"
	"github.com/semisync-go/semisync/transport"
)

// mysqlAcks is MySQL's AckContainer as a simulation's quorum arithmetic:
// a new container when the wait count changes, as MySQL resizes it.
type mysqlAcks struct {
	c     *mysqlmodel.AckContainer
	n     int
	fixed bool
}

func (m *mysqlAcks) Ack(r int, pos semisync.Position, count int) (semisync.Position, bool) {
	if m.c == nil || count != m.n {
		m.c, m.n = mysqlmodel.NewAckContainer(count, m.fixed), count
	}
	return m.c.Insert(semisync.ReplicaID(r+1), pos)
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
	require.Error(t, err)
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

func (e *engine) Visible(n int) bool { return e.rows[n] }

// Crash recovers as MySQL's engines do with the binlog as coordinator:
// a transaction is committed after the crash if and only if the binlog
// kept it.
func (e *engine) Crash() error {
	if err := e.Binlog.Crash(); err != nil {
		return err
	}
	for n := range e.rows {
		if !e.Holds(n) {
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
func (h *memHost) Visible(n int) bool                                     { return h.rows[n] }
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
