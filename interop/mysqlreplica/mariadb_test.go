package mysqlreplica_test

// Tests against a real MariaDB source that the harness starts on
// 127.0.0.1. Each asserts the server's own counters; they skip without
// MariaDB unless CI is set.

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/stretchr/testify/require"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/interop/internal/mariadbtest"
	"github.com/semisync-go/semisync/interop/mysqlreplica"
	"github.com/semisync-go/semisync/relaylog"
	"github.com/semisync-go/semisync/replica"
	"github.com/semisync-go/semisync/status"
	"github.com/semisync-go/semisync/vars"
)

const ourServerID = 100

// semisyncSource starts a MariaDB source with semisync on and the given
// timeout, a table t.k to insert into (created without binlogging, so
// nothing waits for a replica that is not there yet).
func semisyncSource(t testing.TB, timeoutMillis int, args ...string) *mariadbtest.Server {
	t.Helper()
	mariadbtest.Require(t)
	src := mariadbtest.Start(t, mariadbtest.Options{ServerID: 1, Args: append([]string{
		"--rpl-semi-sync-master-enabled=1",
		"--rpl-semi-sync-master-timeout=" + strconv.Itoa(timeoutMillis),
	}, args...)})
	src.Exec(t, "SET SESSION sql_log_bin = 0")
	src.Exec(t, "CREATE DATABASE t")
	src.Exec(t, "CREATE TABLE t.k (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(32)) ENGINE=InnoDB")
	src.Exec(t, "SET SESSION sql_log_bin = 1")
	return src
}

// connectedReplica starts a semisync source (timeoutMillis, extra
// mariadbd options), our replica replicating from it from the source's
// current position, start, and waits until the source counts it as a
// client; c is a client connection to the source.
func connectedReplica(t testing.TB, timeoutMillis int, args ...string) (src *mariadbtest.Server, ours *ourReplica, c *client.Conn, start semisync.Position) {
	t.Helper()
	src = semisyncSource(t, timeoutMillis, args...)
	start = head(t, src)
	ours = newOurReplica(t, src)
	ours.start()
	src.WaitStatus(t, "Rpl_semi_sync_master_clients", "1", 10*time.Second)
	return src, ours, src.Conn(t), start
}

// ourReplica is our Go replica replicating from a source: a replica.Replica
// with semisync on and synced durability, a relay file, and a connection
// whose writes (the ACKs) a test can hold back, inject into or cut.
type ourReplica struct {
	t     testing.TB
	src   *mariadbtest.Server
	rep   *replica.Replica
	path  string
	relay *relaylog.File
	gate  *gate

	mu        sync.Mutex
	conns     []*tapConn
	acks      []semisync.Position
	unsynced  []semisync.Position // ACKs sent before their fsync: must stay empty
	runs      []chan runResult
	cancelRun context.CancelFunc
}

type runResult struct {
	res mysqlreplica.Result
	err error
}

func newOurReplica(t testing.TB, src *mariadbtest.Server) *ourReplica {
	return newOurReplicaOf(t, src, semisync.FlavorMariaDB)
}

// newOurReplicaOf is newOurReplica negotiating in flavor f's names.
func newOurReplicaOf(t testing.TB, src *mariadbtest.Server, f semisync.Flavor) *ourReplica {
	t.Helper()
	reg, err := vars.NewRegistry(f)
	require.NoError(t, err)
	name := map[semisync.Flavor]string{
		semisync.FlavorMariaDB: "rpl_semi_sync_slave_enabled",
		semisync.FlavorMySQL:   "rpl_semi_sync_replica_enabled",
	}[f]
	require.NoError(t, reg.Exec("SET GLOBAL "+name+" = ON"))
	rep, err := replica.New(replica.Options{Vars: reg, Durability: replica.Synced})
	require.NoError(t, err)
	o := &ourReplica{t: t, src: src, rep: rep, path: filepath.Join(t.TempDir(), "relay"), gate: newGate()}
	o.relay, _, err = relaylog.Open(o.path)
	require.NoError(t, err)
	t.Cleanup(func() {
		o.gate.release()
		o.stop()
		o.relay.Close()
	})
	return o
}

// start runs Replicate in a goroutine that stop (or the test's cleanup)
// ends and waits for.
func (o *ourReplica) start() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan runResult, 1)
	o.mu.Lock()
	o.cancelRun = cancel
	o.runs = append(o.runs, done)
	o.mu.Unlock()
	cfg := mysqlreplica.Config{
		Addr: o.src.Addr, User: "repl", Password: "replpw", ServerID: ourServerID,
		Replica: o.rep, Relay: o.relay,
		Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			var d net.Dialer
			c, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			tc := &tapConn{Conn: c, gate: o.gate, closed: make(chan struct{})}
			o.mu.Lock()
			o.conns = append(o.conns, tc)
			o.mu.Unlock()
			return tc, nil
		},
		OnAck: func(pos semisync.Position) {
			o.mu.Lock()
			defer o.mu.Unlock()
			o.acks = append(o.acks, pos)
			if o.relay.Synced().Less(pos) {
				o.unsynced = append(o.unsynced, pos)
			}
		},
	}
	go func() {
		res, err := mysqlreplica.Replicate(ctx, cfg)
		done <- runResult{res, err}
	}()
}

// stop cancels the running Replicate and returns its outcome.
func (o *ourReplica) stop() runResult {
	o.mu.Lock()
	cancel, runs := o.cancelRun, o.runs
	o.runs = nil
	o.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	var last runResult
	for _, r := range runs {
		last = <-r
	}
	return last
}

// wait returns the outcome of a Replicate that ended by itself.
func (o *ourReplica) wait(timeout time.Duration) runResult {
	o.mu.Lock()
	runs := o.runs
	o.runs = nil
	o.mu.Unlock()
	require.Len(o.t, runs, 1)
	select {
	case r := <-runs[0]:
		return r
	case <-time.After(timeout):
		o.t.Fatalf("Replicate did not end within %v", timeout)
		return runResult{}
	}
}

func (o *ourReplica) lastConn() *tapConn {
	o.mu.Lock()
	defer o.mu.Unlock()
	require.NotEmpty(o.t, o.conns)
	return o.conns[len(o.conns)-1]
}

func (o *ourReplica) ackCount() (n int, unsynced []semisync.Position) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.acks), append([]semisync.Position(nil), o.unsynced...)
}

// gate holds back writes while closed.
type gate struct {
	mu   sync.Mutex
	open chan struct{} // closed while the gate is open
}

func newGate() *gate {
	g := &gate{open: make(chan struct{})}
	close(g.open)
	return g
}

func (g *gate) hold() {
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-g.open:
		g.open = make(chan struct{})
	default:
	}
}

func (g *gate) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-g.open:
	default:
		close(g.open)
	}
}

func (g *gate) wait(closed <-chan struct{}) {
	g.mu.Lock()
	open := g.open
	g.mu.Unlock()
	select {
	case <-open:
	case <-closed:
	}
}

// tapConn is the replica's connection to the source: writes pass the gate
// one at a time, so a test can hold ACKs back or slip a packet in between.
type tapConn struct {
	net.Conn
	gate   *gate
	wmu    sync.Mutex
	once   sync.Once
	closed chan struct{}
}

func (c *tapConn) Write(p []byte) (int, error) {
	c.gate.wait(c.closed)
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.Conn.Write(p)
}

// inject writes one raw packet between the replica's own writes.
func (c *tapConn) inject(p []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_, err := c.Conn.Write(p)
	return err
}

// kill resets the connection, as a replica whose process dies does.
func (c *tapConn) kill() {
	if tc, ok := c.Conn.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.Close()
}

func (c *tapConn) Close() error {
	c.once.Do(func() { close(c.closed) })
	return c.Conn.Close()
}

// requireBackInSemisync commits until the source reports semisync ON
// again (the commit that brings it back may still count as no_tx), then
// checks that the next 20 commits are each acknowledged by one ACK.
func requireBackInSemisync(t testing.TB, src *mariadbtest.Server, c *client.Conn, tag string) {
	t.Helper()
	mariadbtest.Eventually(t, 10*time.Second, func() bool {
		insert(t, c, 1, "catch-up")
		return src.Status(t, "Rpl_semi_sync_master_status") == "ON"
	}, "the source did not switch back ON")
	mid := readCounters(t, src)
	insert(t, c, 20, tag)
	require.Equal(t, counters{yes: 20, getAck: 20}, readCounters(t, src).sub(mid))
}

// counters reads the source's semisync counters.
type counters struct{ yes, no, getAck, noTimes int64 }

func readCounters(t testing.TB, src *mariadbtest.Server) counters {
	return counters{
		yes:     src.StatusInt(t, "Rpl_semi_sync_master_yes_tx"),
		no:      src.StatusInt(t, "Rpl_semi_sync_master_no_tx"),
		getAck:  src.StatusInt(t, "Rpl_semi_sync_master_get_ack"),
		noTimes: src.StatusInt(t, "Rpl_semi_sync_master_no_times"),
	}
}

func (c counters) sub(d counters) counters {
	return counters{c.yes - d.yes, c.no - d.no, c.getAck - d.getAck, c.noTimes - d.noTimes}
}

// head is the source's current binlog position.
func head(t testing.TB, src *mariadbtest.Server) semisync.Position {
	rows := src.Query(t, "SHOW MASTER STATUS")
	require.NotEmpty(t, rows)
	off, err := strconv.ParseUint(rows[0][1], 10, 64)
	require.NoError(t, err)
	return semisync.FilePos(rows[0][0], off)
}

// insert runs n autocommit INSERTs on c.
func insert(t testing.TB, c *client.Conn, n int, tag string) {
	t.Helper()
	for i := range n {
		_, err := c.Execute("INSERT INTO t.k (v) VALUES ('" + tag + strconv.Itoa(i) + "')")
		require.NoError(t, err)
	}
}

// requireRelayMatchesBinlog checks that the relay file holds exactly the
// source's binlog from start to upTo: every event the source wrote there,
// byte for byte, in order, once. Events the source made up for the dump
// (the rotate and format description it sends first on each connection)
// are set aside. It returns the number of XID events.
func requireRelayMatchesBinlog(t testing.TB, src *mariadbtest.Server, relayPath string, start, upTo semisync.Position) int {
	return requireRelayMatchesBinlogAlg(t, src, relayPath, start, upTo, mysqlreplica.ChecksumCRC32)
}

// requireRelayMatchesBinlogAlg is requireRelayMatchesBinlog for a source
// whose binlog_checksum is alg.
func requireRelayMatchesBinlogAlg(t testing.TB, src *mariadbtest.Server, relayPath string, start, upTo semisync.Position, alg uint8) int {
	t.Helper()
	got := map[string][]byte{} // binlog file -> events that lie in it
	var order []string
	var xids int
	prev := start
	dec := mysqlreplica.NewDecoder(start, alg)
	require.NoError(t, relaylog.Read(relayPath, func(r relaylog.Record) error {
		d, err := dec.Decode(r.Event)
		if err != nil {
			return err
		}
		if d.End != r.End {
			return errors.New("record end " + r.End.String() + " differs from the event's " + d.End.String())
		}
		if !d.Advances {
			return nil
		}
		file := prev.File()
		if _, ok := got[file]; !ok {
			order = append(order, file)
		}
		got[file] = append(got[file], r.Event...)
		if d.Header.Type == mysqlreplica.TypeXID {
			xids++
		}
		prev = r.End
		return nil
	}))
	require.False(t, upTo.Less(prev), "relay went past %v to %v", upTo, prev)
	require.Equal(t, upTo, prev, "relay ends at %v, the source's binlog at %v", prev, upTo)
	for i, file := range order {
		data, err := os.ReadFile(filepath.Join(src.Dir, "data", file))
		require.NoError(t, err)
		from := uint64(4)
		if i == 0 {
			from = start.Offset()
		}
		to := uint64(len(data))
		if file == upTo.File() {
			to = upTo.Offset()
		}
		require.LessOrEqual(t, to, uint64(len(data)))
		want := data[from:to]
		if from == 4 {
			want = notInUse(t, want)
		}
		if !bytes.Equal(want, got[file]) {
			i := 0
			for i < min(len(want), len(got[file])) && want[i] == got[file][i] {
				i++
			}
			t.Fatalf("relay events of %s differ from the binlog's bytes %d..%d (relay has %d bytes): first difference at file offset %d\nbinlog %x\nrelay  %x",
				file, from, to, len(got[file]), uint64(i)+from, want[i:min(i+32, len(want))], got[file][i:min(i+32, len(got[file]))])
		}
	}
	return xids
}

// notInUse returns a copy of binlog bytes that start with a format
// description event, as a source sends it: MariaDB (like MySQL) clears
// LOG_EVENT_BINLOG_IN_USE_F in the format description it sends and
// recomputes its checksum, so a replica does not take the binlog for one
// left open by a crash.
func notInUse(t testing.TB, b []byte) []byte {
	h, err := mysqlreplica.ParseHeader(b[:binary.LittleEndian.Uint32(b[9:])])
	require.NoError(t, err)
	require.Equal(t, uint8(mysqlreplica.TypeFormatDescription), h.Type)
	out := bytes.Clone(b)
	const flagsAt, inUse = 17, 0x1
	binary.LittleEndian.PutUint16(out[flagsAt:], h.Flags&^inUse)
	if alg := out[h.Size-5]; alg == mysqlreplica.ChecksumCRC32 {
		binary.LittleEndian.PutUint32(out[h.Size-4:], crc32.ChecksumIEEE(out[:h.Size-4]))
	}
	return out
}

// Test 1: our replica registers as a semisync client, 1000 autocommit
// INSERTs each wait for its ACK (yes_tx +1000, no_tx +0, one ACK each),
// every ACK follows the fsync of what it acknowledges, and the relay file
// holds the source's binlog byte for byte.
func TestMariaDBSemisyncReplica(t *testing.T) {
	src, ours, c, start := connectedReplica(t, 10000)
	src.WaitStatus(t, "Rpl_semi_sync_master_status", "ON", 10*time.Second)
	before := readCounters(t, src)
	insert(t, c, 1000, "r")
	delta := readCounters(t, src).sub(before)
	require.Equal(t, counters{yes: 1000, no: 0, getAck: 1000}, delta)

	end := head(t, src)
	res := ours.stop()
	require.ErrorIs(t, res.err, context.Canceled)
	require.True(t, res.res.Negotiation.Semisync)
	require.Equal(t, "rpl_semi_sync_master_enabled", res.res.Negotiation.Variable)
	require.Equal(t, start, res.res.Start)
	require.Equal(t, end, res.res.Durable)

	n, unsynced := ours.ackCount()
	require.Equal(t, 1000, n, "one ACK per commit")
	require.Empty(t, unsynced, "ACKs sent before the fsync of their position")
	require.Equal(t, 1000, requireRelayMatchesBinlog(t, src, ours.path, start, end))
	src.WaitStatus(t, "Rpl_semi_sync_master_clients", "0", 10*time.Second)
}

// startCommit runs one INSERT on c in a goroutine and returns a channel
// with its error and how long it took.
func startCommit(c *client.Conn, v string) <-chan commitResult {
	ch := make(chan commitResult, 1)
	go func() {
		t0 := time.Now()
		_, err := c.Execute("INSERT INTO t.k (v) VALUES ('" + v + "')")
		ch <- commitResult{err, time.Since(t0)}
	}()
	return ch
}

type commitResult struct {
	err  error
	took time.Duration
}

func visible(t testing.TB, src *mariadbtest.Server, v string) int {
	rows := src.Query(t, "SELECT COUNT(*) FROM t.k WHERE v = '"+v+"'")
	n, err := strconv.Atoi(rows[0][0])
	require.NoError(t, err)
	return n
}

// Test 2: both wait points. With our ACKs held back, a commit waits
// (wait_sessions = 1); under AFTER_SYNC other sessions cannot see its row
// yet, under AFTER_COMMIT they can. Releasing the ACK releases the commit
// as yes_tx.
func TestMariaDBWaitPoints(t *testing.T) {
	src, ours, c, _ := connectedReplica(t, 30000)
	for _, tc := range []struct {
		waitPoint string
		visible   int
	}{{"AFTER_SYNC", 0}, {"AFTER_COMMIT", 1}} {
		t.Run(tc.waitPoint, func(t *testing.T) {
			src.Exec(t, "SET GLOBAL rpl_semi_sync_master_wait_point = "+tc.waitPoint)
			require.Equal(t, tc.waitPoint, src.Variable(t, "rpl_semi_sync_master_wait_point"))
			insert(t, c, 10, "warm")
			before := readCounters(t, src)

			ours.gate.hold()
			v := "held-" + tc.waitPoint
			done := startCommit(c, v)
			src.WaitStatus(t, "Rpl_semi_sync_master_wait_sessions", "1", 10*time.Second)
			require.Equal(t, tc.visible, visible(t, src, v), "row visible to others while its commit waits")
			ours.gate.release()
			r := <-done
			require.NoError(t, r.err)
			require.Equal(t, 1, visible(t, src, v))

			insert(t, c, 100, tc.waitPoint)
			require.Equal(t, counters{yes: 101, getAck: 101}, readCounters(t, src).sub(before))
		})
	}
}

// Test 3: our replica withholds its ACKs. The next commit waits the whole
// rpl_semi_sync_master_timeout, the source switches OFF (no_times +1) and
// counts it and later commits as no_tx; once our ACKs flow again the source
// switches back ON by itself and later commits are yes_tx.
func TestMariaDBTimeoutAndReentry(t *testing.T) {
	const timeout = 1000 * time.Millisecond
	src, ours, c, _ := connectedReplica(t, int(timeout/time.Millisecond))
	insert(t, c, 5, "warm")
	src.WaitStatus(t, "Rpl_semi_sync_master_status", "ON", 10*time.Second)
	logAt := src.ErrorLogSize()
	before := readCounters(t, src)

	ours.gate.hold()
	r := <-startCommit(c, "timed-out")
	require.NoError(t, r.err, "a timed-out commit still commits")
	require.GreaterOrEqual(t, r.took, timeout, "the commit waited the whole timeout")
	require.Equal(t, "OFF", src.Status(t, "Rpl_semi_sync_master_status"))
	insert(t, c, 10, "async")
	d := readCounters(t, src).sub(before)
	require.Equal(t, counters{no: 11, noTimes: 1}, d)

	ours.gate.release()
	// The source flags the events at and after its last commit while OFF;
	// our ACK of one of them switches it back ON.
	requireBackInSemisync(t, src, c, "sync-again")
	log := src.ErrorLogSince(logAt)
	require.Contains(t, log, "switched OFF")
	require.Contains(t, log, "switched ON")
	n, unsynced := ours.ackCount()
	require.Positive(t, n)
	require.Empty(t, unsynced)
}

// Test 4: our replica's connection dies mid-stream (reset, as when its
// process dies) while commits keep coming. The source counts it out; a new
// process opens the same relay file and resumes from its last record: the
// relay then holds the source's binlog exactly (nothing lost, nothing
// twice), across a binlog rotation too, and the source re-enters semisync.
func TestMariaDBConnectionDiesAndResumes(t *testing.T) {
	src, ours, c, start := connectedReplica(t, 1000)
	insert(t, c, 50, "before")
	src.Exec(t, "FLUSH BINARY LOGS") // a real rotate inside the stream

	writer := src.Conn(t)
	stopWriting := make(chan struct{})
	written := make(chan error, 1)
	go func() {
		for i := 0; ; i++ {
			select {
			case <-stopWriting:
				written <- nil
				return
			default:
			}
			if _, err := writer.Execute("INSERT INTO t.k (v) VALUES ('during" + strconv.Itoa(i) + "')"); err != nil {
				written <- err
				return
			}
		}
	}()
	mariadbtest.Eventually(t, 10*time.Second, func() bool {
		return src.StatusInt(t, "Rpl_semi_sync_master_yes_tx") >= 100
	}, "commits did not flow")
	ours.lastConn().kill()
	r := ours.wait(10 * time.Second)
	require.Error(t, r.err)
	src.WaitStatus(t, "Rpl_semi_sync_master_clients", "0", 10*time.Second)

	// A new process: reopen the relay file from disk and resume from it.
	require.NoError(t, ours.relay.Close())
	var err error
	var rec relaylog.Recovery
	ours.relay, rec, err = relaylog.Open(ours.path)
	require.NoError(t, err)
	require.False(t, rec.Cut(), "%v", rec)
	resumeAt := ours.relay.Last()
	ours.start()
	src.WaitStatus(t, "Rpl_semi_sync_master_clients", "1", 10*time.Second)
	close(stopWriting)
	require.NoError(t, <-written)
	requireBackInSemisync(t, src, c, "after")

	end := head(t, src)
	res := ours.stop()
	require.ErrorIs(t, res.err, context.Canceled)
	require.Equal(t, resumeAt, res.res.Start, "resumed from the relay file's last record")
	require.Equal(t, end, res.res.Durable)
	xids := requireRelayMatchesBinlog(t, src, ours.path, start, end)
	rows := src.Query(t, "SELECT COUNT(*) FROM t.k")
	require.Equal(t, rows[0][0], strconv.Itoa(xids), "one XID per row inserted")
	_, unsynced := ours.ackCount()
	require.Empty(t, unsynced)
}

// Test 5: a malformed ACK on the dump connection. MariaDB logs it and
// ignores it: the connection stays, the replica stays a client, and the
// next well-formed ACKs release commits as before (spec §6.3 says the same
// of MySQL).
func TestMariaDBMalformedAck(t *testing.T) {
	src, ours, c, _ := connectedReplica(t, 10000)
	insert(t, c, 5, "warm")
	for _, tc := range []struct {
		name    string
		payload []byte
		logged  string
	}{
		{"bad magic", append([]byte{0xee}, []byte("\x00\x00\x00\x00\x00\x00\x00\x00mysql-bin.000001")...), "Read semi-sync reply magic number error"},
		{"short", []byte{0xef, 1, 2}, "Read semi-sync reply length error: packet is too small"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logAt := src.ErrorLogSize()
			before := readCounters(t, src)
			pkt := append([]byte{byte(len(tc.payload)), 0, 0, 0}, tc.payload...)
			require.NoError(t, ours.lastConn().inject(pkt))
			mariadbtest.Eventually(t, 10*time.Second, func() bool {
				return src.ErrorLogSince(logAt) != ""
			}, "the source logged nothing about the malformed ACK")
			t.Logf("MariaDB logged: %s", src.ErrorLogSince(logAt))
			require.Contains(t, src.ErrorLogSince(logAt), tc.logged)
			require.Equal(t, "1", src.Status(t, "Rpl_semi_sync_master_clients"))
			insert(t, c, 10, "after-"+tc.name)
			require.Equal(t, counters{yes: 10, getAck: 10}, readCounters(t, src).sub(before))
		})
	}
}

// Test 6: our vars package reads the live server's SHOW VARIABLES and a
// my.cnf with the settings the server was started with to the same values,
// and shows the same rows the server shows; our MariaDB status names are
// the server's.
func TestMariaDBVarsAndStatusParity(t *testing.T) {
	settings := []string{
		"rpl_semi_sync_master_enabled=ON",
		"rpl_semi_sync_master_timeout=4321",
		"rpl_semi_sync_master_wait_point=AFTER_SYNC",
		"rpl_semi_sync_master_wait_no_slave=OFF",
		"rpl_semi_sync_master_trace_level=16",
		"rpl_semi_sync_slave_enabled=ON",
		"rpl_semi_sync_slave_delay_master=ON",
		"rpl_semi_sync_slave_kill_conn_timeout=7",
		"rpl_semi_sync_slave_trace_level=64",
	}
	mariadbtest.Require(t)
	var args []string
	cnf := "[mariadbd]\n"
	for _, s := range settings {
		args = append(args, "--"+s)
		cnf += s + "\n"
	}
	srv := mariadbtest.Start(t, mariadbtest.Options{ServerID: 1, Args: args})

	live := srv.Query(t, "SHOW GLOBAL VARIABLES LIKE 'rpl_semi_sync%'")
	var rows []semisync.Row
	for _, r := range live {
		rows = append(rows, semisync.Row{Name: r[0], Value: r[1]})
	}
	fromServer, err := vars.NewRegistry(semisync.FlavorMariaDB)
	require.NoError(t, err)
	require.NoError(t, fromServer.ApplyRows(rows))
	fromFile, err := vars.NewRegistry(semisync.FlavorMariaDB)
	require.NoError(t, err)
	require.NoError(t, fromFile.LoadOptionFile(bytes.NewReader([]byte(cnf)), "my.cnf"))
	require.Equal(t, fromFile.Config(), fromServer.Config())
	require.Equal(t, rows, fromFile.Show("rpl_semi_sync%"), "our SHOW VARIABLES is the server's")

	var serverStatus []string
	for _, r := range srv.Query(t, "SHOW GLOBAL STATUS LIKE 'Rpl_semi_sync%'") {
		serverStatus = append(serverStatus, r[0])
	}
	var ourStatus []string
	for _, r := range status.Show(semisync.FlavorMariaDB, "Rpl_semi_sync%", &status.SourceSnapshot{}, &status.ReplicaStatusSnapshot{}) {
		ourStatus = append(ourStatus, r.Name)
	}
	require.Equal(t, serverStatus, ourStatus)
}

// Our replica negotiating in MySQL 8.0.26+'s names against MariaDB, which
// knows only the master names: the source-name probe fails as an unknown
// variable, the master-name probe answers, and the declaration (which sets
// both user variables) makes it a semisync client.
func TestMariaDBMySQLNamingFallsBack(t *testing.T) {
	src := semisyncSource(t, 10000)
	ours := newOurReplicaOf(t, src, semisync.FlavorMySQL)
	ours.start()
	src.WaitStatus(t, "Rpl_semi_sync_master_clients", "1", 10*time.Second)
	c := src.Conn(t)
	insert(t, c, 5, "warm")
	before := readCounters(t, src)
	insert(t, c, 100, "r")
	require.Equal(t, counters{yes: 100, getAck: 100}, readCounters(t, src).sub(before))
	res := ours.stop()
	require.ErrorIs(t, res.err, context.Canceled)
	require.True(t, res.res.Negotiation.Semisync)
	require.Equal(t, "rpl_semi_sync_master_enabled", res.res.Negotiation.Variable)
}

// A source with binlog_checksum=NONE: events carry no CRC32 and the format
// description says so; the relay still holds the binlog byte for byte.
func TestMariaDBChecksumNone(t *testing.T) {
	src, ours, c, start := connectedReplica(t, 10000, "--binlog-checksum=NONE")
	require.Equal(t, "NONE", src.Variable(t, "binlog_checksum"))
	before := readCounters(t, src)
	insert(t, c, 100, "r")
	src.Exec(t, "FLUSH BINARY LOGS")
	insert(t, c, 100, "s")
	d := readCounters(t, src).sub(before)
	require.Equal(t, int64(200), d.yes)
	require.Zero(t, d.no)
	end := head(t, src)
	mariadbtest.Eventually(t, 10*time.Second, func() bool { return !ours.relay.Synced().Less(end) }, "relay did not reach %v", end)
	ours.stop()
	require.Equal(t, 200, requireRelayMatchesBinlogAlg(t, src, ours.path, start, end, mysqlreplica.ChecksumOff))
}

// A source whose semisync is disabled when our replica connects, and
// enabled later: as MariaDB's own replica does, ours declares itself
// semisync whenever the source has the variable, so its ACKs count the
// moment the source enables semisync, with no reconnect. (go-mysql's
// BinlogSyncer stays asynchronous for the life of such a connection.)
func TestMariaDBSourceEnabledAfterConnect(t *testing.T) {
	mariadbtest.Require(t)
	src := mariadbtest.Start(t, mariadbtest.Options{ServerID: 1, Args: []string{"--rpl-semi-sync-master-timeout=10000"}})
	src.Exec(t, "CREATE DATABASE t")
	src.Exec(t, "CREATE TABLE t.k (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(32)) ENGINE=InnoDB")
	require.Equal(t, "OFF", src.Variable(t, "rpl_semi_sync_master_enabled"))
	ours := newOurReplica(t, src)
	ours.start()
	c := src.Conn(t)
	mariadbtest.Eventually(t, 10*time.Second, func() bool {
		return ours.relay.Synced().Compare(head(t, src)) == 0 && !ours.relay.Synced().IsZero()
	}, "our replica did not start")
	// MariaDB counts a replica that declared itself semisync as a client
	// even while its own semisync is disabled; its status stays OFF.
	require.Equal(t, "1", src.Status(t, "Rpl_semi_sync_master_clients"))
	require.Equal(t, "OFF", src.Status(t, "Rpl_semi_sync_master_status"))

	src.Exec(t, "SET GLOBAL rpl_semi_sync_master_enabled = ON")
	requireBackInSemisync(t, src, c, "r")
	res := ours.stop()
	require.True(t, res.res.Negotiation.Semisync)
	require.Equal(t, "OFF", res.res.Negotiation.SourceEnabled, "what the source said at connect")
}

// With replica.Synced, a reconnect resumes after the relay's last fsynced
// record and cuts off what was flushed after it: the source takes the
// dump's start as an acknowledgement, so starting after records that were
// never fsynced would acknowledge them. Here the relay gains a flushed,
// unsynced record past the source's binlog; the next connection cuts it
// and resumes exactly where the fsynced records end.
func TestMariaDBResumesFromLastFsync(t *testing.T) {
	src, ours, c, start := connectedReplica(t, 10000)
	insert(t, c, 20, "a")
	synced := head(t, src)
	ours.stop()
	require.Equal(t, synced, ours.relay.Synced())

	bogus := semisync.FilePos(synced.File(), synced.Offset()+1000)
	require.NoError(t, ours.relay.Write(xidEvent(uint32(bogus.Offset())), bogus))
	require.NoError(t, ours.relay.Flush())
	require.Equal(t, bogus, ours.relay.Last())

	ours.start()
	src.WaitStatus(t, "Rpl_semi_sync_master_clients", "1", 10*time.Second)
	before := readCounters(t, src)
	insert(t, c, 20, "b")
	require.Equal(t, counters{yes: 20, getAck: 20}, readCounters(t, src).sub(before))
	end := head(t, src)
	res := ours.stop()
	require.Equal(t, synced, res.res.Start, "resumed after the last fsynced record")
	require.Equal(t, 40, requireRelayMatchesBinlog(t, src, ours.path, start, end))
}

// xidEvent builds a 31-byte XID event ending at logPos, with its CRC32.
func xidEvent(logPos uint32) []byte {
	e := make([]byte, 0, 31)
	e = binary.LittleEndian.AppendUint32(e, 1795257634)
	e = append(e, mysqlreplica.TypeXID)
	e = binary.LittleEndian.AppendUint32(e, 1)  // server id
	e = binary.LittleEndian.AppendUint32(e, 31) // size
	e = binary.LittleEndian.AppendUint32(e, logPos)
	e = binary.LittleEndian.AppendUint16(e, 0)
	e = binary.LittleEndian.AppendUint64(e, 7) // xid
	return binary.LittleEndian.AppendUint32(e, crc32.ChecksumIEEE(e))
}
