package mariadbtest

import (
	"cmp"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
)

// ReplUser and ReplPassword are the credentials of the replication user that
// [Start] creates on every server, for 127.0.0.1 only.
const (
	ReplUser     = "repl"
	ReplPassword = "replpw"
)

const (
	// readyTimeout bounds the wait for a new server to answer SELECT 1.
	readyTimeout = 30 * time.Second
	// stopTimeout is how long Stop waits after SIGTERM before SIGKILL.
	stopTimeout = 30 * time.Second
	// killTimeout is how long Stop waits for the process after SIGKILL.
	killTimeout = 10 * time.Second
	// pingTimeout bounds each read of a readiness probe.
	pingTimeout = 500 * time.Millisecond
	// pollInterval is the period of every polling loop of the package.
	pollInterval = 10 * time.Millisecond
	// portAttempts is how many ports Start tries when the one it picked was
	// taken between picking and binding.
	portAttempts = 5
	// maxSocketPath is the longest unix socket path mariadbd accepts.
	maxSocketPath = 107
	// tailLines is how much of a log failure messages quote.
	tailLines = 20
)

// replUserSetup creates the replication user without binlogging it: a
// binlogged commit on a semisync source with no replica connected would block
// for the whole rpl_semi_sync_master_timeout (wait_no_slave=ON).
var replUserSetup = []string{
	"SET SESSION sql_log_bin=0",
	"CREATE USER '" + ReplUser + "'@'127.0.0.1' IDENTIFIED BY '" + ReplPassword + "'",
	"GRANT REPLICATION SLAVE, BINLOG MONITOR, REPLICATION SLAVE ADMIN ON *.* TO '" + ReplUser + "'@'127.0.0.1'",
}

// portTakenMarkers are error log lines of a mariadbd that could not bind its
// port.
var portTakenMarkers = []string{"Address already in use", "Bind on TCP/IP port"}

// errExited says that mariadbd exited while Start waited for it.
var errExited = errors.New("mariadbd exited during startup")

// errPortTaken says that mariadbd could not bind the port Start picked.
var errPortTaken = errors.New("port taken")

// Options configures a server started by [Start].
type Options struct {
	// ServerID is the --server-id; 0 means 1. A replica needs an ID of its
	// own ([StartReplica] picks one).
	ServerID uint32
	// Args are extra mariadbd options, appended after all of Start's own
	// (so they override them), e.g. "--rpl-semi-sync-master-enabled=1".
	Args []string
}

// Server is a private mariadbd started by [Start]. Its methods may be called
// from several goroutines.
type Server struct {
	Addr     string // "127.0.0.1:port"
	Port     int
	ServerID uint32
	Dir      string // base directory; the datadir is Dir/data
	ErrorLog string // path of the error log

	proc        *process // the running mariadbd; set before Start returns
	mariadbd    string   // the binary and the extra arguments, for Restart
	extra       []string
	startFailed bool // Start failed the test; read by its cleanup only

	stopMu  sync.Mutex
	stopped atomic.Bool // set as soon as Stop begins
	stopErr error       // Stop's result, returned again by later calls

	connMu sync.Mutex
	conn   *client.Conn // Exec's connection, opened lazily
}

// process is one mariadbd process and the goroutine that waits for it.
type process struct {
	p    *os.Process
	done chan struct{} // closed when the process has exited and been reaped
	err  error         // cmd.Wait's result; read only after done is closed
}

// Start starts a private mariadbd and returns once it answers queries over
// TCP as root (the probe also checks that the answer comes from this server,
// not from one that took the port first), with the replication user
// created. The server is stopped and
// its base directory removed when the test ends (the directory is kept, and
// its path logged, when the test failed).
//
// The server listens on 127.0.0.1 only, on a free high port; it has binary
// logging on (--log-bin=mysql-bin, --binlog-format=ROW, --relay-log=relay-bin),
// --skip-name-resolve, a 16 MB redo log and a 64 MB buffer pool. Start fails
// the test (with the error log's tail) if mariadbd exits or does not answer
// within 30 s; it retries with another port if the one it picked was taken.
func Start(tb testing.TB, opts Options) *Server {
	tb.Helper()
	return start(tb, opts, freePort)
}

// start is Start with the port picker injected, so that tests can make the
// first port a taken one.
func start(tb testing.TB, opts Options, pickPort func() (int, error)) *Server {
	tb.Helper()
	inst := Require(tb)
	tmpl := templateDatadir(tb, inst)
	began := time.Now()
	// A short base directory: the socket path must stay within 107 bytes.
	dir, err := os.MkdirTemp("", "mdb")
	if err != nil {
		tb.Fatalf("mariadbtest: %v", err)
	}
	s := &Server{ServerID: cmp.Or(opts.ServerID, 1), Dir: dir, ErrorLog: filepath.Join(dir, "error.log")}
	tb.Cleanup(func() { s.cleanup(tb) })
	if n := len(s.path("s.sock")); n > maxSocketPath {
		tb.Fatalf("mariadbtest: socket path %s is %d bytes, more than mariadbd's %d: use a shorter TMPDIR", s.path("s.sock"), n, maxSocketPath)
	}
	if err := os.Mkdir(s.path("tmp"), 0o700); err != nil {
		tb.Fatalf("mariadbtest: %v", err)
	}
	if err := copyDatadir(s.path("data"), tmpl); err != nil {
		tb.Fatalf("mariadbtest: copying the template datadir: %v", err)
	}
	for attempt := 1; ; attempt++ {
		port, err := pickPort()
		if err != nil {
			tb.Fatalf("mariadbtest: finding a free port: %v", err)
		}
		s.Port, s.Addr = port, net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		logStart := s.ErrorLogSize()
		s.mariadbd, s.extra = inst.Mariadbd, opts.Args
		if err := s.launch(inst.Mariadbd, opts.Args); err != nil {
			tb.Fatalf("mariadbtest: %v", err)
		}
		err = s.waitReady(logStart)
		if err == nil {
			break
		}
		if errors.Is(err, errPortTaken) && attempt < portAttempts {
			tb.Logf("mariadbtest: port %d was taken; trying another", port)
			continue
		}
		s.abort(tb, "%v\nerror log %s, last lines:\n%s", err, s.ErrorLog, s.ErrorLogTail(tailLines))
	}
	if err := s.setup(); err != nil {
		s.abort(tb, "creating the replication user on %s: %v", s.Addr, err)
	}
	if testing.Verbose() {
		tb.Logf("mariadbtest: mariadbd pid %d, server_id %d, on %s, ready in %v (dir %s)",
			s.PID(), s.ServerID, s.Addr, time.Since(began).Round(time.Millisecond), s.Dir)
	}
	return s
}

// abort stops a server that failed to start, then fails the test. The
// server is stopped here, not by cleanup, because its exit is part of the
// failure being reported rather than a second one.
func (s *Server) abort(tb testing.TB, format string, args ...any) {
	tb.Helper()
	_ = s.Stop()
	s.startFailed = true
	tb.Fatalf("mariadbtest: "+format, args...)
}

// copyDatadir copies the template datadir src to dst, which must not exist.
func copyDatadir(dst, src string) error {
	return os.CopyFS(dst, os.DirFS(src))
}

// path is the path of name inside the base directory.
func (s *Server) path(name string) string { return filepath.Join(s.Dir, name) }

// args is mariadbd's command line. --no-defaults must come first, or
// /etc/mysql/*.cnf is read (socket /run/mysqld/mysqld.sock, port 3306, ...).
func (s *Server) args(extra []string) []string {
	args := append([]string{"--no-defaults"}, rootUser()...)
	args = append(args,
		"--datadir="+s.path("data"),
		"--tmpdir="+s.path("tmp"),
		"--socket="+s.path("s.sock"),
		"--pid-file="+s.path("mariadbd.pid"),
		"--log-error="+s.ErrorLog,
		"--bind-address=127.0.0.1",
		"--port="+strconv.Itoa(s.Port),
		"--skip-name-resolve",
		"--server-id="+strconv.FormatUint(uint64(s.ServerID), 10),
		"--log-bin=mysql-bin",
		"--binlog-format=ROW",
		"--relay-log=relay-bin",
		"--innodb-log-file-size=16M",
		"--innodb-buffer-pool-size=64M",
	)
	return append(args, extra...)
}

// launch starts mariadbd directly (not through a shell) and a goroutine that
// reaps it. Output written before mariadbd opens its error log (bad options,
// for example) goes to the same file.
func (s *Server) launch(mariadbd string, extra []string) error {
	out, err := os.OpenFile(s.ErrorLog, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer out.Close() // the child has its own descriptor
	cmd := exec.Command(mariadbd, s.args(extra)...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return err
	}
	p := &process{p: cmd.Process, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	s.proc = p
	return nil
}

// waitReady polls until the server answers as itself, mariadbd exits
// (errExited), reports that its port is taken (errPortTaken) or readyTimeout
// passes. logStart is the error log's size before launch.
func (s *Server) waitReady(logStart int64) error {
	deadline := time.NewTimer(readyTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		// A mariadbd that cannot bind takes seconds to abort: kill it
		// rather than wait, since its datadir has seen no transaction.
		if portTaken(s.ErrorLogSince(logStart)) {
			s.proc.kill()
			return fmt.Errorf("%w: %d", errPortTaken, s.Port)
		}
		err := s.ping()
		if err == nil {
			return nil
		}
		select {
		case <-s.proc.done:
			if portTaken(s.ErrorLogSince(logStart)) {
				return fmt.Errorf("%w: %d", errPortTaken, s.Port)
			}
			return fmt.Errorf("%w: %v", errExited, s.proc.err)
		case <-deadline.C:
			return fmt.Errorf("mariadbd (pid %d) does not answer on %s after %v: %v", s.PID(), s.Addr, readyTimeout, err)
		case <-tick.C:
		}
	}
}

// readTimeout returns a client option bounding each read of a connection.
func readTimeout(d time.Duration) client.Option {
	return func(c *client.Conn) error {
		c.ReadTimeout = d
		return nil
	}
}

// ping connects as root and asks for the server's socket path, which tells
// this server from one of another test process that took the port between
// freePort and mariadbd's bind. Its reads time out quickly: a probe that
// fails is simply repeated, and whatever else listens on the port must not
// hold Start up.
func (s *Server) ping() error {
	c, err := client.Connect(s.Addr, "root", "", "", readTimeout(pingTimeout))
	if err != nil {
		return err
	}
	defer quit(c)
	r, err := c.Execute("SELECT @@socket")
	if err != nil {
		return err
	}
	sock, err := r.GetString(0, 0)
	if err != nil {
		return err
	}
	if sock != s.path("s.sock") {
		return fmt.Errorf("another server (socket %s) answers on %s", sock, s.Addr)
	}
	return nil
}

// setup runs replUserSetup on a connection of its own (sql_log_bin=0 is a
// session setting, which must not stick to Exec's connection).
func (s *Server) setup() error {
	c, err := client.Connect(s.Addr, "root", "", "", readTimeout(readyTimeout))
	if err != nil {
		return err
	}
	defer quit(c)
	for _, q := range replUserSetup {
		if _, err := c.Execute(q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}

// quit ends a connection with COM_QUIT, so that the server does not log it
// as aborted, and closes it.
func quit(c *client.Conn) {
	if c.Quit() != nil {
		_ = c.Close()
	}
}

// kill sends SIGKILL and waits (a bounded time) for the process to be reaped.
func (p *process) kill() {
	_ = p.p.Kill()
	reap := time.NewTimer(killTimeout)
	defer reap.Stop()
	select {
	case <-p.done:
	case <-reap.C:
	}
}

// portTaken reports whether an error log excerpt says the port was in use.
func portTaken(log string) bool {
	for _, m := range portTakenMarkers {
		if strings.Contains(log, m) {
			return true
		}
	}
	return false
}

// freePort asks the kernel for a free port on 127.0.0.1 and releases it. Some
// other process may take it before mariadbd binds it; Start retries then.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// PID returns the process ID of mariadbd.
func (s *Server) PID() int { return s.proc.p.Pid }

// Stop stops the server: SIGTERM, then SIGKILL if it has not exited after
// 30 s. It closes Exec's connection. Stop is idempotent: later calls return
// the first call's result. It returns an error if it had to use SIGKILL, or
// if the process had exited before Stop or exited with a failure status.
func (s *Server) Stop() error {
	_, err := s.stop()
	return err
}

// Kill kills mariadbd with SIGKILL, as a crash would, and waits for it to
// be reaped; Restart starts it again. It fails the test if the server was
// stopped, or was not reaped in time.
func (s *Server) Kill(tb testing.TB) {
	tb.Helper()
	s.stopMu.Lock()
	defer s.stopMu.Unlock()
	if s.stopped.Load() {
		tb.Fatalf("mariadbtest: Kill of a stopped server")
	}
	s.proc.kill()
	select {
	case <-s.proc.done:
	default:
		tb.Fatalf("mariadbtest: mariadbd (pid %d) not reaped within %v of SIGKILL", s.PID(), killTimeout)
	}
	s.connMu.Lock()
	s.closeConnLocked()
	s.connMu.Unlock()
}

// Restart starts a killed server again, with the same datadir, port and
// arguments, and returns once it answers queries (crash recovery
// included). It fails the test if the server is running or was stopped,
// or does not come back within 30 s.
func (s *Server) Restart(tb testing.TB) {
	tb.Helper()
	s.stopMu.Lock()
	defer s.stopMu.Unlock()
	if s.stopped.Load() {
		tb.Fatalf("mariadbtest: Restart of a stopped server")
	}
	select {
	case <-s.proc.done:
	default:
		tb.Fatalf("mariadbtest: Restart of a running server (pid %d)", s.PID())
	}
	logStart := s.ErrorLogSize()
	if err := s.launch(s.mariadbd, s.extra); err != nil {
		tb.Fatalf("mariadbtest: %v", err)
	}
	if err := s.waitReady(logStart); err != nil {
		tb.Fatalf("mariadbtest: restarting: %v\nerror log, last lines:\n%s", err, s.ErrorLogTail(tailLines))
	}
}

// stop is Stop, also reporting whether this call did the stopping.
func (s *Server) stop() (first bool, err error) {
	s.stopMu.Lock()
	defer s.stopMu.Unlock()
	if s.stopped.Swap(true) {
		return false, s.stopErr
	}
	// Close Exec's connection first when it is idle, so the server logs no
	// aborted connection. A statement still running (a commit waiting for an
	// ACK, say) keeps it busy; it is closed after the server went away.
	if s.connMu.TryLock() {
		s.closeConnLocked()
		s.connMu.Unlock()
	}
	s.stopErr = s.terminate()
	s.connMu.Lock()
	s.closeConnLocked()
	s.connMu.Unlock()
	return true, s.stopErr
}

// terminate signals the process by PID and waits for it.
func (s *Server) terminate() error {
	p := s.proc
	if p == nil { // Start failed before launching anything
		return nil
	}
	select {
	case <-p.done:
		return fmt.Errorf("mariadbd (pid %d) had exited before Stop: %v", p.p.Pid, p.err)
	default:
	}
	if err := p.p.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("SIGTERM to mariadbd (pid %d): %w", p.p.Pid, err)
	}
	grace := time.NewTimer(stopTimeout)
	defer grace.Stop()
	select {
	case <-p.done:
		if p.err != nil {
			return fmt.Errorf("mariadbd (pid %d) exited after SIGTERM with %v", p.p.Pid, p.err)
		}
		return nil
	case <-grace.C:
	}
	if err := p.p.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("SIGKILL to mariadbd (pid %d) after %v: %w", p.p.Pid, stopTimeout, err)
	}
	reap := time.NewTimer(killTimeout)
	defer reap.Stop()
	select {
	case <-p.done:
		return fmt.Errorf("mariadbd (pid %d) did not exit within %v of SIGTERM and was killed", p.p.Pid, stopTimeout)
	case <-reap.C:
		return fmt.Errorf("mariadbd (pid %d) did not exit within %v of SIGKILL", p.p.Pid, killTimeout)
	}
}

// cleanup is the tb.Cleanup of Start: stop, then remove the base directory
// or, when the test failed, keep it and say where it is.
func (s *Server) cleanup(tb testing.TB) {
	if first, err := s.stop(); first && err != nil {
		report := tb.Errorf
		if tb.Failed() { // already failing: the server's state is context, not news
			report = tb.Logf
		}
		report("mariadbtest: stopping the server on %s: %v\nerror log, last lines:\n%s", s.Addr, err, s.ErrorLogTail(tailLines))
	}
	if tb.Failed() {
		if s.startFailed { // the failure quoted the error log already
			tb.Logf("mariadbtest: test failed; keeping %s", s.Dir)
		} else {
			tb.Logf("mariadbtest: test failed; keeping %s (server_id %d, %s)\nerror log, last lines:\n%s",
				s.Dir, s.ServerID, s.Addr, s.ErrorLogTail(tailLines))
		}
		return
	}
	if err := os.RemoveAll(s.Dir); err != nil {
		tb.Logf("mariadbtest: removing %s: %v", s.Dir, err)
	}
}
