package binlogd_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
	"github.com/stretchr/testify/require"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/examples/binlog"
	"github.com/semisync-go/semisync/interop/binlogd"
	"github.com/semisync-go/semisync/interop/mysqlsource"
	"github.com/semisync-go/semisync/source"
	"github.com/semisync-go/semisync/vars"
)

// primaryUUID is the MySQL stand-in primary's server_uuid.
const primaryUUID = "3e11fa47-71ca-11e1-9e33-c80aa9429562"

// mysqlPrimary stands in for a MySQL 8 primary with GTID_MODE=ON and
// semisync on (no MySQL server is installable here): a host writing its
// own binlog (GTID, BEGIN, a row of DML, XID; or GTID and a DDL statement
// alone), served by this repository's mysqlsource in MySQL flavor.
// Restart is a crash and start: a new file, a new format description, a
// new source and server on the same port.
type mysqlPrimary struct {
	t    *testing.T
	addr string
	sid  [16]byte

	mu       sync.Mutex // the host's binlog lock: one commit at a time
	bl       *fileBinlog
	src      *source.Source
	srv      *mysqlsource.Server
	served   chan error
	executed []mysqlsource.UUIDSet
	gno      uint64
	boot     uint32 // the format description's creation time: one per start
	gtidMode string // ON: GTID events; else anonymous ones
}

// fileBinlog is a Memory binlog with its files' names and format
// descriptions (mysqlsource.Binlog).
type fileBinlog struct {
	*binlog.Memory
	mu    sync.Mutex
	files []string
	fds   map[string][]byte
}

func (b *fileBinlog) Files() ([]string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.files...), nil
}

func (b *fileBinlog) FormatDescription(file string) ([]byte, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	fd, ok := b.fds[file]
	if !ok {
		return nil, fmt.Errorf("no file %s", file)
	}
	return fd, nil
}

func startMySQLPrimary(t *testing.T, gtidMode string) *mysqlPrimary {
	p := &mysqlPrimary{t: t, bl: &fileBinlog{Memory: binlog.NewMemory("mysql-bin"), fds: map[string][]byte{}}, boot: 1700000000, gtidMode: gtidMode}
	set, err := mysqlsource.ParseGTIDSet(primaryUUID + ":1")
	require.NoError(t, err)
	p.sid = set[0].SID
	p.newFile()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(p.stop)
	return p
}

// put appends ev (checksummed) with its log_pos its end.
func (p *mysqlPrimary) put(ev []byte) semisync.Position {
	end := p.bl.Head().Offset() + uint64(len(ev))
	mysqlsource.SetLogPos(ev, uint32(end), true)
	got := p.bl.Append(ev)
	require.Equal(p.t, end, got.Offset())
	return got
}

func (p *mysqlPrimary) header() mysqlsource.Header {
	return mysqlsource.Header{Timestamp: p.boot, ServerID: 1}
}

// event is a checksummed event of type typ with body.
func (p *mysqlPrimary) event(typ byte, body []byte) []byte {
	ev := make([]byte, mysqlsource.HeaderLen, mysqlsource.HeaderLen+len(body)+4)
	binary.LittleEndian.PutUint32(ev, p.boot)
	ev[4] = typ
	binary.LittleEndian.PutUint32(ev[5:], 1)
	binary.LittleEndian.PutUint32(ev[9:], uint32(cap(ev)))
	return append(append(ev, body...), 0, 0, 0, 0)
}

// newFile starts the binlog's next file (the first, or the one a restart
// begins): a format description and the previous GTIDs.
func (p *mysqlPrimary) newFile() {
	if len(p.bl.files) > 0 {
		p.bl.Rotate()
	}
	file := p.bl.Head().File()
	fd, err := mysqlsource.AppendFormatDescription(nil, p.header(), mysqlsource.FormatDescription{BinlogVersion: 4,
		ServerVersion: mysqlsource.DefaultMySQLVersion, Created: p.boot, PostHeaderLens: mysqlsource.MariaDB1011PostHeaderLens(), Checksum: mysqlsource.ChecksumCRC32})
	require.NoError(p.t, err)
	p.put(fd)
	d, err := mysqlsource.AppendGTIDDump(nil, mysqlsource.GTIDDump{GTIDs: p.executed})
	require.NoError(p.t, err)
	p.put(p.event(35, d[1+2+4+4+8+4:])) // PREVIOUS_GTIDS_LOG_EVENT: the set alone
	p.bl.mu.Lock()
	p.bl.files = append(p.bl.files, file)
	p.bl.fds[file] = fd
	p.bl.mu.Unlock()
	p.bl.Publish()
}

// serve starts a semisync source and its server on ln.
func (p *mysqlPrimary) serve(ln net.Listener) {
	src, err := source.New(source.Options{Flavor: semisync.FlavorMySQL})
	require.NoError(p.t, err)
	require.NoError(p.t, src.Vars().Exec("SET GLOBAL rpl_semi_sync_source_enabled = ON, GLOBAL rpl_semi_sync_source_timeout = 30000"))
	require.NoError(p.t, src.Appended(p.bl.Head()))
	srv, err := mysqlsource.NewServer(src, p.bl, mysqlsource.Options{ServerID: 1, ServerUUID: primaryUUID, GTIDMode: p.gtidMode,
		User: downUser, Password: downPassword, Checksum: true, HeartbeatPeriod: 200 * time.Millisecond,
		Statement: func(stmt string, admin bool) ([]string, [][]string, bool, error) {
			// MySQL's SHOW MASTER STATUS: the binlog's end and the GTID set
			// there, under the binlog lock.
			if !strings.EqualFold(stmt, "SHOW MASTER STATUS") {
				return nil, nil, false, nil
			}
			p.mu.Lock()
			defer p.mu.Unlock()
			end := p.bl.Head()
			return []string{"File", "Position", "Binlog_Do_DB", "Binlog_Ignore_DB", "Executed_Gtid_Set"},
				[][]string{{end.File(), fmt.Sprint(end.Offset()), "", "", mysqlsource.FormatGTIDSet(p.executed)}}, true, nil
		}})
	require.NoError(p.t, err)
	p.src, p.srv, p.served = src, srv, make(chan error, 1)
	go func() { p.served <- srv.Serve(ln) }()
}

func (p *mysqlPrimary) stop() {
	if p.srv == nil {
		return
	}
	require.NoError(p.t, p.srv.Close())
	require.ErrorIs(p.t, <-p.served, mysqlsource.ErrServerClosed)
	require.NoError(p.t, p.src.Close())
	p.srv = nil
}

// restart stops the primary as a crash would (no rotate at the old file's
// end) and starts it again in a new file, on the same address.
func (p *mysqlPrimary) restart() {
	p.stop()
	p.boot++
	p.newFile()
	ln, err := net.Listen("tcp", p.addr)
	require.NoError(p.t, err)
	p.serve(ln)
}

// commit writes the next transaction (every tenth a DDL statement alone)
// and, if wait, waits for its semisync outcome.
func (p *mysqlPrimary) commit(wait bool) (uint64, source.Outcome) {
	p.mu.Lock()
	p.gno++
	gno := p.gno
	body := append([]byte{1}, p.sid[:]...)
	body = binary.LittleEndian.AppendUint64(body, gno)
	body = append(body, 2) // logical timestamps follow
	body = binary.LittleEndian.AppendUint64(body, gno-1)
	body = binary.LittleEndian.AppendUint64(body, gno)
	if p.gtidMode == "ON" {
		p.put(p.event(mysqlsource.TypeMySQLGTID, body))
	} else {
		p.put(p.event(34, make([]byte, len(body)))) // ANONYMOUS_GTID_LOG_EVENT
	}
	query := func(q string) []byte {
		ev, err := mysqlsource.AppendQuery(nil, p.header(), "d", q, true)
		require.NoError(p.t, err)
		return ev
	}
	var end semisync.Position
	if gno%10 == 0 {
		end = p.put(query(fmt.Sprintf("CREATE TABLE t%d (k INT PRIMARY KEY)", gno)))
	} else {
		p.put(query("BEGIN"))
		p.put(query(fmt.Sprintf("INSERT INTO t VALUES (%d)", gno)))
		end = p.put(mysqlsource.AppendXID(nil, p.header(), gno, true))
	}
	require.NoError(p.t, p.src.Flushed(end))
	p.bl.Publish()
	if p.gtidMode == "ON" {
		if len(p.executed) == 0 {
			p.executed = []mysqlsource.UUIDSet{{SID: p.sid, Intervals: []mysqlsource.Interval{{Start: 1, End: 1}}}}
		}
		p.executed[0].Intervals[0].End = gno + 1
	}
	p.mu.Unlock()
	if !wait {
		return gno, source.Outcome(0)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r, err := p.src.Wait(ctx, end)
	require.NoError(p.t, err)
	return gno, r.Outcome
}

// mysqlConfig is a MySQL-flavor binlog server's configuration, ACKs local.
func mysqlConfig(t testing.TB, dir, primary string) binlogd.Config {
	c := vars.Defaults(semisync.FlavorMySQL)
	c.SourceEnabled, c.ReplicaEnabled = true, true
	reg, err := vars.NewRegistry(semisync.FlavorMySQL, vars.WithConfig(c))
	require.NoError(t, err)
	return binlogd.Config{Dir: dir, Vars: reg, AckMode: binlogd.Local,
		Upstream: binlogd.Upstream{Addr: primary, User: downUser, Password: downPassword,
			ServerID: 50, HeartbeatPeriod: 200 * time.Millisecond, RetryInterval: 50 * time.Millisecond},
		Downstream: mysqlsource.Options{ServerID: 100, User: downUser, Password: downPassword, Checksum: true, HeartbeatPeriod: 200 * time.Millisecond}}
}

// startMySQLBinlogd starts a binlog server and waits until the primary
// counts it as a semisync replica.
func startMySQLBinlogd(t *testing.T, cfg binlogd.Config, p *mysqlPrimary) (*binlogd.Server, string) {
	srv, err := binlogd.New(cfg)
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	require.NoError(t, srv.Start(ln))
	t.Cleanup(func() { require.NoError(t, srv.Close()) })
	eventually(t, func() bool { return p.src.State().Clients == 1 }, "the primary never counted the binlog server as a semisync replica: %v", stats{srv})
	return srv, ln.Addr().String()
}

// eventually polls cond every 20 ms (a server's progress over TCP, no
// goroutine of ours to synchronise with) for at most 30 s.
func eventually(t *testing.T, cond func() bool, msg string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf(msg, args...)
		}
		<-tick.C
	}
}

// gtidsFrom connects go-mysql's BinlogSyncer (MySQL flavor, semisync on,
// an independent replica implementation) to the binlog server with set,
// and returns the transaction numbers of the next n GTID events.
func gtidsFrom(t *testing.T, addr, set string, n int) []int64 {
	t.Helper()
	st, err := syncerMySQL(t, addr, set)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out []int64
	for len(out) < n {
		ev, err := st.GetEvent(ctx)
		require.NoError(t, err, "after %v", out)
		if g, ok := ev.Event.(*replication.GTIDEvent); ok {
			out = append(out, g.GNO)
		}
	}
	return out
}

func syncerMySQL(t *testing.T, addr, set string) (*replication.BinlogStreamer, error) {
	st, _, err := syncerMySQLClose(t, addr, set)
	return st, err
}

// syncerMySQLClose is syncerMySQL, with the syncer's Close.
func syncerMySQLClose(t *testing.T, addr, set string) (*replication.BinlogStreamer, func(), error) {
	host, port, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	var p uint16
	_, err = fmt.Sscan(port, &p)
	require.NoError(t, err)
	b := replication.NewBinlogSyncer(replication.BinlogSyncerConfig{ServerID: 70, Flavor: mysql.MySQLFlavor, Host: host, Port: p,
		User: downUser, Password: downPassword, SemiSyncEnabled: true, MaxReconnectAttempts: 1,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	t.Cleanup(b.Close)
	gs, err := mysql.ParseMysqlGTIDSet(set)
	require.NoError(t, err)
	st, err := b.StartSyncGTID(gs)
	return st, b.Close, err
}

func seq(from, to int64) []int64 {
	var out []int64
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

// A MySQL primary with GTID_MODE=ON, followed by GTID set
// (COM_BINLOG_DUMP_GTID): an empty store begins at the primary's
// gtid_executed; every commit after is acknowledged by the binlog server;
// a MySQL replica (go-mysql's) starts from its own set and gets exactly
// the transactions it lacks, and one lacking what the store never had is
// refused; after the binlog server restarts, and after the primary
// restarts into a new file, the server resumes by GTID set with no gap
// and no duplicate, and its set is the primary's.
func TestBinlogServerMySQLGTID(t *testing.T) {
	p := startMySQLPrimary(t, "ON")
	for range 10 {
		p.commit(false) // before the binlog server: no semisync replica
	}
	dir := t.TempDir()
	cfg := mysqlConfig(t, dir, p.addr)
	logs := &syncBuffer{}
	cfg.Logger = slog.New(slog.NewTextHandler(logs, nil))
	srv, addr := startMySQLBinlogd(t, cfg, p)
	eventually(t, func() bool { return srv.Stats().GTID == primaryUUID+":1-10" }, "the store never began at the primary's gtid_executed: %v", stats{srv})
	for range 40 {
		gno, out := p.commit(true)
		require.Equal(t, source.Acknowledged, out, "transaction %d", gno)
	}
	require.Equal(t, uint64(40), p.src.Snapshot().YesTx)
	require.Equal(t, seq(11, 50), gtidsFrom(t, addr, primaryUUID+":1-10", 40))
	require.Equal(t, seq(31, 50), gtidsFrom(t, addr, primaryUUID+":1-30", 20), "from the checkpoint its set covers")
	c, err := client.Connect(addr, downUser, downPassword, "")
	require.NoError(t, err)
	r, err := c.Execute("SELECT @@GLOBAL.gtid_executed")
	require.NoError(t, err)
	got, _ := r.GetString(0, 0)
	require.Equal(t, primaryUUID+":1-50", got)
	r, err = c.Execute("SHOW MASTER STATUS")
	require.NoError(t, err)
	got, _ = r.GetString(0, 4)
	require.Equal(t, primaryUUID+":1-50", got, "what a binlog server behind this one asks")
	r, err = c.Execute("SHOW REPLICA STATUS")
	require.NoError(t, err)
	status := map[string]string{}
	for i, f := range r.Fields {
		status[string(f.Name)], _ = r.GetString(0, i)
	}
	require.Equal(t, "Auto_Position", status["Using_Gtid"])
	require.Equal(t, primaryUUID+":1-50", status["Gtid_IO_Pos"])
	require.Equal(t, "ON", status["Rpl_semi_sync_slave_status"], "the upstream replica's status, by MySQL's name")
	uuid, err := c.Execute("SELECT @@GLOBAL.SERVER_UUID")
	require.NoError(t, err)
	mine, _ := uuid.GetString(0, 0)
	require.NotEqual(t, primaryUUID, mine, "the binlog server's own server_uuid")
	c.Close()

	// A replica lacking 1-10, which the store never had: refused (1236).
	st, err := syncerMySQL(t, addr, primaryUUID+":1-5")
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		for err == nil {
			var ev *replication.BinlogEvent
			if ev, err = st.GetEvent(ctx); err != nil {
				break
			}
			if g, ok := ev.Event.(*replication.GTIDEvent); ok {
				t.Fatalf("sent transaction %d to a replica lacking 6-10", g.GNO)
			}
		}
		cancel()
	}
	require.ErrorContains(t, err, "1236")

	// The binlog server restarts: it resumes by GTID set.
	require.NoError(t, srv.Close())
	eventually(t, func() bool { return p.src.State().Clients == 0 }, "the primary still counts the stopped binlog server")
	cfg = mysqlConfig(t, dir, p.addr)
	cfg.Logger = slog.New(slog.NewTextHandler(logs, nil))
	srv, addr = startMySQLBinlogd(t, cfg, p)
	require.Contains(t, logs.String(), `"binlogd: dump from the primary by GTID" gtid=`+primaryUUID+":1-50")
	require.Equal(t, primaryUUID+":1-50", srv.Stats().GTID)
	for range 20 {
		gno, out := p.commit(true)
		require.Equal(t, source.Acknowledged, out, "transaction %d", gno)
	}

	// The primary restarts in a new file: the server resumes by GTID set,
	// and writes the rotate the crashed primary did not.
	connects := srv.Stats().Connects
	p.restart()
	eventually(t, func() bool { return p.src.State().Clients == 1 }, "the binlog server never came back to the restarted primary: %v", stats{srv})
	require.Greater(t, srv.Stats().Connects, connects)
	require.Contains(t, logs.String(), `"binlogd: dump from the primary by GTID" gtid=`+primaryUUID+":1-70")
	require.NotContains(t, logs.String(), "by file and position")
	for range 20 {
		gno, out := p.commit(true)
		require.Equal(t, source.Acknowledged, out, "transaction %d", gno)
	}
	require.Equal(t, uint64(20), p.src.Snapshot().YesTx)
	require.Equal(t, seq(41, 90), gtidsFrom(t, addr, primaryUUID+":1-40", 50), "across both restarts: no gap, no duplicate")
	eventually(t, func() bool { return srv.Stats().GTID == primaryUUID+":1-90" }, "the store's set is not the primary's: %v", stats{srv})
	files, err := srv.Store().Files()
	require.NoError(t, err)
	require.Equal(t, []string{"mysql-bin.000001", "mysql-bin.000002"}, files)
}

// A MySQL primary with GTID_MODE=OFF is followed by file and position,
// even once the store's set is not empty (previous GTIDs of a file name
// transactions from before GTID_MODE was turned OFF): a dump by GTID set
// would be refused.
func TestBinlogServerMySQLGTIDModeOff(t *testing.T) {
	p := startMySQLPrimary(t, "OFF")
	for range 5 {
		p.commit(false)
	}
	dir := t.TempDir()
	srv, _ := startMySQLBinlogd(t, mysqlConfig(t, dir, p.addr), p)
	for range 10 {
		gno, out := p.commit(true)
		require.Equal(t, source.Acknowledged, out, "transaction %d", gno)
	}
	require.Equal(t, "", srv.Stats().GTID)
	// The primary restarts; its new file's previous GTIDs name old ones.
	p.executed = []mysqlsource.UUIDSet{{SID: p.sid, Intervals: []mysqlsource.Interval{{Start: 1, End: 101}}}}
	p.restart()
	eventually(t, func() bool { return p.src.State().Clients == 1 }, "the binlog server never came back to the restarted primary: %v", stats{srv})
	for range 10 {
		gno, out := p.commit(true)
		require.Equal(t, source.Acknowledged, out, "transaction %d", gno)
	}
	require.Equal(t, primaryUUID+":1-100", srv.Stats().GTID, "the previous GTIDs, taken as held")
	// The binlog server restarts with a set: still by file and position.
	require.NoError(t, srv.Close())
	eventually(t, func() bool { return p.src.State().Clients == 0 }, "the primary still counts the stopped binlog server")
	srv, _ = startMySQLBinlogd(t, mysqlConfig(t, dir, p.addr), p)
	for range 10 {
		gno, out := p.commit(true)
		require.Equal(t, source.Acknowledged, out, "transaction %d", gno)
	}
	require.Equal(t, uint64(20), p.src.Snapshot().YesTx)
	require.Equal(t, primaryUUID+":1-100", srv.Stats().GTID, "no GTID since: the set is the previous GTIDs'")
}

// syncBuffer is a log's destination that the test reads while the server
// writes.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// stats prints a server's figures when a failure message is written, not
// when the check begins.
type stats struct{ srv *binlogd.Server }

func (s stats) String() string { return fmt.Sprintf("%+v", s.srv.Stats()) }

// Chained mode with a MySQL primary and a MySQL replica (go-mysql's)
// behind the server: the primary's commits are acknowledged once the
// replica has acknowledged them; with the replica gone, the server's own
// wait (rpl_semi_sync_source_timeout, MySQL's name) times out, it falls
// back to local, and the primary's commit is still acknowledged; with the
// replica back and caught up, the ACKs are chained again.
func TestBinlogServerMySQLChained(t *testing.T) {
	p := startMySQLPrimary(t, "ON")
	for range 3 {
		p.commit(false)
	}
	cfg := mysqlConfig(t, t.TempDir(), p.addr)
	cfg.AckMode = binlogd.Chained
	require.NoError(t, cfg.Vars.Exec("SET GLOBAL rpl_semi_sync_source_timeout = 300"))
	srv, addr := startMySQLBinlogd(t, cfg, p)
	eventually(t, func() bool { return srv.Stats().GTID == primaryUUID+":1-3" }, "the store never began at the primary's set: %v", stats{srv})

	follow := func(set string) func() {
		ctx, cancel := context.WithCancel(context.Background())
		st, closeSyncer, err := syncerMySQLClose(t, addr, set)
		require.NoError(t, err)
		done := make(chan struct{})
		go func() { // go-mysql acknowledges as it reads
			defer close(done)
			for {
				if _, err := st.GetEvent(ctx); err != nil {
					return
				}
			}
		}()
		eventually(t, func() bool { return srv.Source().State().Clients == 1 }, "the replica never registered: %v", stats{srv})
		return func() { closeSyncer(); cancel(); <-done }
	}
	stop := follow(primaryUUID + ":1-3")
	for range 10 {
		gno, out := p.commit(true)
		require.Equal(t, source.Acknowledged, out, "transaction %d", gno)
	}
	st := srv.Stats()
	require.Equal(t, uint64(10), st.ChainedAcks, "%+v", st)
	require.Equal(t, uint64(0), st.Fallbacks)
	require.Equal(t, uint64(10), srv.Source().Snapshot().YesTx, "each waited for the replica behind the server")

	// The replica goes: the server falls back, the primary's commit is
	// acknowledged all the same (the server's 300 ms is below its 30 s).
	stop()
	eventually(t, func() bool { return srv.Source().State().Clients == 0 }, "the replica is still registered")
	gno, out := p.commit(true)
	require.Equal(t, source.Acknowledged, out, "transaction %d", gno)
	require.Equal(t, uint64(1), srv.Stats().Fallbacks)
	require.True(t, srv.Stats().FellBack)

	// Back, from what it has: chained again once it has caught up.
	stop = follow(primaryUUID + ":1-13")
	defer stop()
	eventually(t, func() bool {
		gno, out := p.commit(true)
		require.Equal(t, source.Acknowledged, out, "transaction %d", gno)
		return srv.Stats().Reentries == 1
	}, "never chained again: %v", stats{srv})
	require.False(t, srv.Stats().FellBack)
}

// A fresh MySQL primary (GTID_MODE ON, no transaction yet): the store
// begins where the primary's current file does, learns its set from the
// file's previous GTIDs, and a replica with no GTID gets every
// transaction.
func TestBinlogServerMySQLFreshPrimary(t *testing.T) {
	p := startMySQLPrimary(t, "ON")
	srv, addr := startMySQLBinlogd(t, mysqlConfig(t, t.TempDir(), p.addr), p)
	for range 5 {
		gno, out := p.commit(true)
		require.Equal(t, source.Acknowledged, out, "transaction %d", gno)
	}
	eventually(t, func() bool { return srv.Stats().GTID == primaryUUID+":1-5" }, "the store's set is not the primary's: %v", stats{srv})
	require.Equal(t, seq(1, 5), gtidsFrom(t, addr, "", 5))
}
