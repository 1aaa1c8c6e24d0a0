package binlogd_test

import (
	"fmt"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/stretchr/testify/require"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/interop/binlogd"
	"github.com/semisync-go/semisync/interop/internal/mariadbtest"
	"github.com/semisync-go/semisync/interop/mysqlsource"
	"github.com/semisync-go/semisync/vars"
)

// downUser and downPassword are the binlog server's replication account.
const (
	downUser     = "repl"
	downPassword = "secret"
)

// startPrimary starts a MariaDB primary with semisync on, whose commits
// wait at most timeout.
func startPrimary(t *testing.T, timeout time.Duration) *mariadbtest.Server {
	return mariadbtest.Start(t, mariadbtest.Options{Args: []string{"--rpl-semi-sync-master-enabled=1",
		"--rpl-semi-sync-master-timeout=" + strconv.FormatInt(timeout.Milliseconds(), 10)}})
}

// config is the binlog server's configuration for a primary: semisync on
// at both levels, the downstream timeout given.
func config(t testing.TB, dir string, primary *mariadbtest.Server, mode binlogd.AckMode, downTimeout time.Duration) binlogd.Config {
	c := vars.Defaults(semisync.FlavorMariaDB)
	c.SourceEnabled, c.ReplicaEnabled = true, true
	c.TimeoutMillis = uint64(downTimeout.Milliseconds())
	reg, err := vars.NewRegistry(semisync.FlavorMariaDB, vars.WithConfig(c))
	require.NoError(t, err)
	return binlogd.Config{Dir: dir, Vars: reg, AckMode: mode,
		Upstream: binlogd.Upstream{Addr: primary.Addr, User: mariadbtest.ReplUser, Password: mariadbtest.ReplPassword,
			ServerID: 50, HeartbeatPeriod: 200 * time.Millisecond, RetryInterval: 100 * time.Millisecond},
		Downstream: mysqlsource.Options{ServerID: 100, User: downUser, Password: downPassword, Admin: "admin", AdminPassword: "adminpw",
			Checksum: true, HeartbeatPeriod: 200 * time.Millisecond}}
}

// startBinlogd starts a binlog server on a loopback port and waits until
// the primary counts it as a semisync replica.
func startBinlogd(t *testing.T, cfg binlogd.Config, primary *mariadbtest.Server, clientsBefore int64) (*binlogd.Server, int) {
	return startBinlogdTB(t, cfg, primary, clientsBefore)
}

func startBinlogdTB(t testing.TB, cfg binlogd.Config, primary *mariadbtest.Server, clientsBefore int64) (*binlogd.Server, int) {
	srv, err := binlogd.New(cfg)
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	require.NoError(t, srv.Start(ln))
	t.Cleanup(func() { require.NoError(t, srv.Close()) })
	mariadbtest.Eventually(t, 30*time.Second, func() bool {
		return primary.StatusInt(t, "Rpl_semi_sync_master_clients") > clientsBefore
	}, "the primary never counted the binlog server as a semisync replica: %v", stats{srv})
	return srv, ln.Addr().(*net.TCPAddr).Port
}

// startReplica starts a MariaDB replica of the binlog server, by GTID.
func startReplica(t *testing.T, id uint32, port int) *mariadbtest.Server {
	r := mariadbtest.Start(t, mariadbtest.Options{ServerID: id, Args: []string{"--rpl-semi-sync-slave-enabled=1"}})
	pointAt(t, r, port)
	return r
}

func pointAt(t testing.TB, r *mariadbtest.Server, port int) {
	r.Exec(t, fmt.Sprintf("CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=%d, MASTER_USER='%s', MASTER_PASSWORD='%s', "+
		"MASTER_USE_GTID=slave_pos, MASTER_HEARTBEAT_PERIOD=0.2, MASTER_CONNECT_RETRY=1", port, downUser, downPassword))
	r.StartSlave(t)
}

// table returns the row count and CHECKSUM TABLE of d.t on s ("-1"s while
// the table does not exist).
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

// converge waits until every replica's d.t equals the primary's.
func converge(t *testing.T, primary *mariadbtest.Server, replicas ...*mariadbtest.Server) {
	want := table(t, primary)
	for _, r := range replicas {
		mariadbtest.Eventually(t, 45*time.Second, func() bool { return table(t, r) == want },
			"replica %d: d.t is %v, the primary's %v\n%s", r.ServerID, table(t, r), want, r.ErrorLogTail(8))
	}
}

// mixed runs the primary's i-th transaction: an insert of two rows, an
// update of a tenth of the table, a delete, or two statements in one
// transaction.
func mixed(t *testing.T, c *client.Conn, i int) {
	var qs []string
	switch i % 4 {
	case 0:
		qs = []string{fmt.Sprintf("INSERT INTO d.t VALUES (%d, %d, 'a'), (%d, %d, 'b')", 1000+2*i, i, 1001+2*i, i)}
	case 1:
		qs = []string{fmt.Sprintf("UPDATE d.t SET v = v + 1, s = CONCAT(LEFT(s, 150), '%d') WHERE id %% 10 = %d", i, i%10)}
	case 2:
		qs = []string{fmt.Sprintf("DELETE FROM d.t WHERE id = %d", 1000+2*(i-2))}
	default:
		qs = []string{"BEGIN",
			fmt.Sprintf("INSERT INTO d.t VALUES (%d, %d, 'tx')", 5000+i, i),
			fmt.Sprintf("UPDATE d.t SET v = v * 2 WHERE id %% 10 = %d", i%10),
			"COMMIT"}
	}
	for _, q := range qs {
		_, err := c.Execute(q)
		require.NoError(t, err)
	}
}

func createTable(t *testing.T, primary *mariadbtest.Server) {
	primary.Exec(t, "CREATE DATABASE d")
	primary.Exec(t, "CREATE TABLE d.t (id INT PRIMARY KEY, v BIGINT NOT NULL, s VARCHAR(200)) ENGINE=InnoDB")
	primary.Exec(t, "INSERT INTO d.t SELECT seq, seq, 'first' FROM d.seq_0_to_49")
}

// primary -> binlog server (local) -> two MariaDB replicas by GTID: 1000
// transactions of mixed DML, each acknowledged to the primary by the
// binlog server (Rpl_semi_sync_master_yes_tx counts them), reach both
// replicas: CHECKSUM TABLE equal on all three. Small segments make the
// store rotate many times on the way.
func TestBinlogServerThousandTransactions(t *testing.T) {
	primary := startPrimary(t, 10*time.Second)
	cfg := config(t, t.TempDir(), primary, binlogd.Local, 10*time.Second)
	cfg.Store.SegmentBytes = 64 << 10
	srv, port := startBinlogd(t, cfg, primary, 0)
	r2, r3 := startReplica(t, 2, port), startReplica(t, 3, port)
	mariadbtest.Eventually(t, 30*time.Second, func() bool { return srv.Source().State().Clients == 2 }, "replicas never registered")

	createTable(t, primary)
	yes0 := primary.StatusInt(t, "Rpl_semi_sync_master_yes_tx")
	const n = 1000
	c := primary.Conn(t)
	for i := range n {
		mixed(t, c, i)
	}
	require.Equal(t, int64(n), primary.StatusInt(t, "Rpl_semi_sync_master_yes_tx")-yes0, "every transaction acknowledged by the binlog server")
	require.Equal(t, "ON", primary.Status(t, "Rpl_semi_sync_master_status"))
	converge(t, primary, r2, r3)
	st := srv.Stats()
	require.Greater(t, st.Store.Segments, 3, "the store rotated")
	require.GreaterOrEqual(t, st.LocalAcks, uint64(n))
	require.Zero(t, st.ChainedAcks)
	for _, r := range []*mariadbtest.Server{r2, r3} {
		require.Equal(t, "ON", r.Status(t, "Rpl_semi_sync_slave_status"))
	}
}

// The primary is killed (kill -9) and restarted in the middle of the
// stream: the binlog server reconnects by GTID, and the replicas get
// every transaction once — a gap or a duplicate would stop their SQL
// threads (duplicate key, row not found) or leave CHECKSUM TABLE apart.
func TestBinlogServerPrimaryRestart(t *testing.T) {
	primary := startPrimary(t, 10*time.Second)
	srv, port := startBinlogd(t, config(t, t.TempDir(), primary, binlogd.Local, 10*time.Second), primary, 0)
	r2 := startReplica(t, 2, port)
	createTable(t, primary)
	c := primary.Conn(t)
	for i := range 100 {
		mixed(t, c, i)
	}
	converge(t, primary, r2)
	connects := srv.Stats().Connects
	primary.Kill(t)
	primary.Restart(t)
	mariadbtest.Eventually(t, 30*time.Second, func() bool {
		return primary.StatusInt(t, "Rpl_semi_sync_master_clients") == 1
	}, "the binlog server never came back to the restarted primary: %v", stats{srv})
	require.Greater(t, srv.Stats().Connects, connects)
	c = primary.Conn(t)
	yes0 := primary.StatusInt(t, "Rpl_semi_sync_master_yes_tx")
	for i := 100; i < 200; i++ {
		mixed(t, c, i)
	}
	require.Equal(t, int64(100), primary.StatusInt(t, "Rpl_semi_sync_master_yes_tx")-yes0)
	converge(t, primary, r2)
	gtid := primary.Query(t, "SELECT @@gtid_binlog_pos")[0][0]
	mariadbtest.Eventually(t, 30*time.Second, func() bool { return r2.Query(t, "SELECT @@gtid_slave_pos")[0][0] == gtid },
		"the replica's GTID position never reached the primary's %s", gtid)
	require.Equal(t, gtid, srv.Stats().GTID, "the store's GTID position is the primary's")
	status := r2.Query(t, "SHOW SLAVE STATUS")[0]
	require.Equal(t, "Yes", status[11], "the replica's SQL thread runs")
	head := primary.Query(t, "SHOW MASTER STATUS")[0][0]
	require.Equal(t, head, status[5], "the replica learnt of the primary's new file (a rotate the binlog server wrote if the primary did not)")
}

// A binlog server started next to a primary that already has data begins
// at the primary's GTID position: a replica that was replicating from the
// primary, and is exactly there, moves to the binlog server and goes on
// (a replica behind that position is refused with 1236, by GTID and by
// file and position).
func TestBinlogServerStartsAtPrimaryPosition(t *testing.T) {
	primary := startPrimary(t, 10*time.Second)
	createTable(t, primary)
	r2 := mariadbtest.StartReplica(t, primary, mariadbtest.Options{ServerID: 2})
	c := primary.Conn(t)
	for i := range 40 {
		mixed(t, c, i)
	}
	r2.WaitCaughtUp(t, primary, 30*time.Second)
	r2.StopSlave(t)
	srv, port := startBinlogd(t, config(t, t.TempDir(), primary, binlogd.Local, 10*time.Second), primary, 0)
	state := primary.Query(t, "SELECT @@gtid_binlog_pos")[0][0]
	mariadbtest.Eventually(t, 10*time.Second, func() bool { return srv.Stats().GTID == state }, "the store does not begin at %s: %v", state, stats{srv})
	pointAt(t, r2, port)
	for i := 40; i < 80; i++ {
		mixed(t, c, i)
	}
	converge(t, primary, r2)

	// A fresh replica has none of what the store begins after.
	r3 := mariadbtest.Start(t, mariadbtest.Options{ServerID: 3, Args: []string{"--rpl-semi-sync-slave-enabled=1"}})
	r3.Exec(t, fmt.Sprintf("CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=%d, MASTER_USER='%s', MASTER_PASSWORD='%s', MASTER_USE_GTID=slave_pos",
		port, downUser, downPassword))
	r3.Exec(t, "START SLAVE")
	mariadbtest.Eventually(t, 30*time.Second, func() bool {
		rows := r3.Query(t, "SHOW SLAVE STATUS")
		return len(rows) == 1 && rows[0][10] == "No" && rows[0][34] == "1236"
	}, "the fresh replica was not refused")
}
