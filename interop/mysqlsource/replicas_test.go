package mysqlsource_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/examples/binlog"
	"github.com/semisync-go/semisync/interop/internal/mariadbtest"
	"github.com/semisync-go/semisync/interop/mysqlsource"
	"github.com/semisync-go/semisync/source"
)

// fileBinlog is a binlog.File (on disk, fsynced, followed by cursors as it
// grows) holding a real primary's events, with the format description
// that opens its one file.
type fileBinlog struct {
	*binlog.File
	fde []byte
}

func (b *fileBinlog) FormatDescription(file string) ([]byte, error) {
	if file != b.Head().File() {
		return nil, fmt.Errorf("no file %s", file)
	}
	return b.fde, nil
}

func (b *fileBinlog) Files() ([]string, error) { return []string{b.Head().File()}, nil }

// host is the host of the test's source: it takes the primary's event
// groups one at a time, as if its own engine had committed them, appends
// them to its binlog, tells the source, and makes them durable and
// readable.
type host struct {
	t          *testing.T
	up         upstream
	bl         *fileBinlog
	src        *source.Source
	standalone bool // the current group's GTID event says it has no COMMIT
}

// group appends the primary's next event group (and any file events
// before it) and returns where it ends.
func (h *host) group() semisync.Position {
	for {
		ev := h.up.next(h.t)
		end, err := h.bl.Append(ev)
		require.NoError(h.t, err)
		require.Equal(h.t, uint64(binary.LittleEndian.Uint32(ev[13:])), end.Offset(), "the event ends where the primary's log_pos says")
		switch ev[4] {
		case mysqlsource.TypeMariaGTID:
			h.standalone = ev[mysqlsource.HeaderLen+12]&mysqlsource.GTIDStandalone != 0
		case 16: // XID_EVENT
			return end
		case 2: // QUERY_EVENT: a DDL on its own, or a COMMIT
			if h.standalone || bytes.HasSuffix(ev[:len(ev)-mysqlsource.ChecksumLen], []byte("COMMIT")) {
				return end
			}
		}
	}
}

// commit takes one group: appended, reported to the source, then fsynced
// (which shows it to the replicas' cursors).
func (h *host) commit() semisync.Position {
	end := h.group()
	require.NoError(h.t, h.src.Flushed(end))
	require.NoError(h.t, h.bl.Sync())
	return end
}

// wait is the host's commit wait.
func (h *host) wait(end semisync.Position) source.Outcome {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := h.src.Wait(ctx, end)
	require.NoError(h.t, err)
	return res.Outcome
}

// dialUpstream starts a file/position dump from the primary's first file,
// Annotate_rows events included (the host's binlog is the primary's, byte
// for byte, so positions are the primary's).
func dialUpstream(t *testing.T, primary *mariadbtest.Server) upstream {
	pc := primary.Conn(t)
	for _, q := range []string{"SET @master_binlog_checksum = 'CRC32'", "SET @master_heartbeat_period = 100000000", "SET @mariadb_slave_capability = 4"} {
		_, err := pc.Execute(q)
		require.NoError(t, err)
	}
	d, _ := mysqlsource.AppendDump(nil, mysqlsource.Dump{Start: semisync.FilePos("mysql-bin.000001", 4), ServerID: 99, Flags: mysqlsource.DumpSendAnnotateRows})
	pc.ResetSequence()
	require.NoError(t, pc.WritePacket(append(make([]byte, 4), d...)))
	require.NoError(t, pc.SetReadDeadline(time.Now().Add(2*time.Minute)))
	return upstream{c: pc}
}

// table returns the row count and CHECKSUM TABLE of d.t on s, or -1s
// while the table does not exist yet.
func table(t *testing.T, s *mariadbtest.Server) [2]string {
	c := s.Conn(t)
	r, err := c.Execute("SELECT COUNT(*) FROM d.t")
	if err != nil {
		return [2]string{"-1", "-1"}
	}
	n, _ := r.GetString(0, 0)
	r, err = c.Execute("CHECKSUM TABLE d.t")
	if err != nil {
		return [2]string{n, "-1"}
	}
	sum, _ := r.GetString(0, 1)
	return [2]string{n, sum}
}

// mixed runs the primary's i-th transaction, one that changes rows (a
// statement that changes none writes nothing to the binlog): an insert of
// two rows, an update of a tenth of the table, a delete of a row inserted
// two transactions before, or a transaction of two statements.
func mixed(t *testing.T, primary *mariadbtest.Server, i int) {
	switch i % 4 {
	case 0:
		primary.Exec(t, fmt.Sprintf("INSERT INTO d.t VALUES (%d, %d, 'a'), (%d, %d, 'b')", 1000+2*i, i, 1001+2*i, i))
	case 1:
		primary.Exec(t, fmt.Sprintf("UPDATE d.t SET v = v + 1, s = CONCAT(LEFT(s, 150), '%d') WHERE id %% 10 = %d", i, i%10))
	case 2:
		primary.Exec(t, fmt.Sprintf("DELETE FROM d.t WHERE id = %d", 1000+2*(i-2)))
	default:
		c := primary.Conn(t)
		for _, q := range []string{"BEGIN",
			fmt.Sprintf("INSERT INTO d.t VALUES (%d, %d, 'tx')", 5000+i, i),
			fmt.Sprintf("UPDATE d.t SET v = v * 2 WHERE id %% 10 = %d", i%10),
			"COMMIT"} {
			_, err := c.Execute(q)
			require.NoError(t, err)
		}
	}
}

// A source.Source with a file binlog serves two real MariaDB 10.11
// replicas that connect with MASTER_USE_GTID=slave_pos: both negotiate
// semisync, every commit is acknowledged and reaches both (row count and
// CHECKSUM TABLE equal to the primary's), and the source's counters and
// ledger say so. Then one replica is stopped and the other killed: the
// next commit times out and the source switches off; the killed replica
// is restarted (crash recovery, GTID position from its own tables), the
// stopped one started, both catch up by GTID and the source is back ON.
func TestServerServesTwoMariaDBReplicas(t *testing.T) {
	primary := mariadbtest.Start(t, mariadbtest.Options{})
	primary.Exec(t, "CREATE DATABASE d")
	primary.Exec(t, "CREATE TABLE d.t (id INT PRIMARY KEY, v BIGINT NOT NULL, s VARCHAR(200)) ENGINE=InnoDB")
	primary.Exec(t, "INSERT INTO d.t SELECT seq, seq, 'first' FROM d.seq_0_to_49")

	f, rec, err := binlog.OpenFile(t.TempDir(), "mysql-bin")
	require.NoError(t, err)
	require.Zero(t, rec.CutBytes)
	t.Cleanup(func() { f.Close() })
	src, err := source.New(source.Options{Flavor: semisync.FlavorMariaDB})
	require.NoError(t, err)
	t.Cleanup(func() { src.Close() })
	require.NoError(t, src.Vars().Exec("SET GLOBAL rpl_semi_sync_master_enabled = ON"))
	require.NoError(t, src.Vars().Exec("SET GLOBAL rpl_semi_sync_master_timeout = 30000"))
	require.NoError(t, src.Appended(f.Head()))
	h := &host{t: t, up: dialUpstream(t, primary), bl: &fileBinlog{File: f}, src: src}
	h.bl.fde = h.up.next(t)
	require.Equal(t, uint8(mysqlsource.TypeFormatDescription), h.bl.fde[4])
	end, err := f.Append(h.bl.fde)
	require.NoError(t, err)
	require.Equal(t, uint64(256), end.Offset(), "positions are the primary's")
	h.commit() // CREATE DATABASE, before any replica: no wait
	h.commit() // CREATE TABLE
	h.commit() // the first 50 rows

	srv, err := mysqlsource.NewServer(src, h.bl, mysqlsource.Options{ServerID: 100, User: "repl", Password: "secret", Checksum: true})
	require.NoError(t, err)
	ln := serve(t, srv)

	var replicas []*mariadbtest.Server
	for id := uint32(2); id <= 3; id++ {
		r := mariadbtest.Start(t, mariadbtest.Options{ServerID: id, Args: []string{"--rpl-semi-sync-slave-enabled=1"}})
		r.Exec(t, fmt.Sprintf("CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=%d, MASTER_USER='repl', MASTER_PASSWORD='secret', "+
			"MASTER_USE_GTID=slave_pos, MASTER_HEARTBEAT_PERIOD=1", ln.Port))
		r.StartSlave(t)
		replicas = append(replicas, r)
	}
	why := func() string { return replicas[0].ErrorLogTail(10) + replicas[1].ErrorLogTail(10) }
	requireEventually(t, func() bool { return src.State().Clients == 2 }, why)
	for _, r := range replicas {
		require.Equal(t, "ON", r.Status(t, "Rpl_semi_sync_slave_status"))
	}

	const n = 300
	for i := range n {
		mixed(t, primary, i)
		end = h.commit()
		if o := h.wait(end); o != source.Acknowledged {
			for _, r := range replicas {
				t.Log(table(t, r), r.Query(t, "SELECT @@gtid_slave_pos"), r.ErrorLogTail(30))
			}
			t.Log(end, src.Snapshot().Replicas, srv.Stats())
			t.FailNow()
		}
	}
	want := table(t, primary)
	for _, r := range replicas {
		requireEventually(t, func() bool { return table(t, r) == want }, why)
	}
	snap := src.Snapshot()
	require.Equal(t, uint64(n), snap.YesTx)
	require.Zero(t, snap.NoTx)
	require.Equal(t, uint64(2), snap.Clients)
	require.Len(t, snap.Replicas, 2)
	requireEventually(t, func() bool {
		for _, e := range src.Snapshot().Replicas {
			if !e.Connected || e.Acked != end {
				return false
			}
		}
		return true
	}, nil)
	for i, e := range src.Snapshot().Replicas {
		require.Equal(t, semisync.ReplicaID(2+i), e.ID)
		require.NotZero(t, e.Acks)
	}
	require.Equal(t, uint64(2), srv.Stats().Dumps)

	// One replica stopped, the other killed: no semisync replica is left,
	// and the next commit times out (the source switches off, no_tx + 1).
	require.NoError(t, src.Vars().Exec("SET GLOBAL rpl_semi_sync_master_timeout = 300"))
	replicas[0].StopSlave(t)
	replicas[1].Kill(t)
	requireEventually(t, func() bool { return src.State().Clients == 0 }, nil)
	for i := n; i < n+3; i++ {
		mixed(t, primary, i)
		end = h.commit()
		outcome := h.wait(end)
		if i == n {
			require.Equal(t, source.TimedOut, outcome)
		} else {
			require.Equal(t, source.Async, outcome, "the source is OFF")
		}
	}
	snap = src.Snapshot()
	require.False(t, snap.Status)
	require.Equal(t, uint64(3), snap.NoTx)

	// Back: the killed replica restarts and reconnects on its own by GTID,
	// the stopped one is started; both catch up, the source is ON again
	// and the next commit is acknowledged.
	replicas[1].Restart(t)
	replicas[0].StartSlave(t)
	want = table(t, primary)
	for _, r := range replicas {
		requireEventually(t, func() bool { return table(t, r) == want }, why)
	}
	requireEventually(t, func() bool { return src.State().Clients == 2 && src.Snapshot().Status }, why)
	mixed(t, primary, n+3)
	end = h.commit()
	require.Equal(t, source.Acknowledged, h.wait(end))
	want = table(t, primary)
	for _, r := range replicas {
		requireEventually(t, func() bool { return table(t, r) == want }, why)
		require.Equal(t, "ON", r.Status(t, "Rpl_semi_sync_slave_status"))
		want := primary.Query(t, "SELECT @@gtid_binlog_pos")[0][0] // @@gtid_slave_pos may trail the rows by a moment
		requireEventually(t, func() bool { return r.Query(t, "SELECT @@gtid_slave_pos")[0][0] == want }, nil)
	}
	require.Zero(t, src.Snapshot().ReplicaRegressions, "a replica that resumed by GTID resumed where it was")
}
