package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/stretchr/testify/require"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/interop/internal/mariadbtest"
)

// Bad flags and configuration get a clear message and exit status 2; a
// store that cannot be opened gets 1; nothing panics.
func TestBadConfiguration(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(file, []byte("x"), 0o644))
	cnf := func(body string) string {
		p := filepath.Join(t.TempDir(), "my.cnf")
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
		return p
	}
	base := []string{"--datadir", filepath.Join(dir, "store"), "--upstream", "127.0.0.1:1", "--upstream-server-id", "50", "--server-id", "100", "--listen", "127.0.0.1:0"}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--no-such-flag"}, 2, "flag provided but not defined"},
		{[]string{"--upstream", "127.0.0.1:1"}, 2, "--datadir is required"},
		{append(base, "--ack-mode", "sometimes"), 2, `ack mode "sometimes"`},
		{append(base, "--server-id", "50"), 2, "must differ"},
		{append(base, "--upstream-server-id", "0"), 2, "--upstream-server-id"},
		{append(base, "--upstream", "nohostport"), 2, "--upstream"},
		{append(base, "--binlog-checksum", "MD5"), 2, "--binlog-checksum"},
		{append(base, "--segment-size", "10"), 2, "--segment-size"},
		{append(base, "--retain-age", "-1s"), 2, "must not be negative"},
		{append(base, "--start-gtid", "0-1"), 2, "start GTID"},
		{append(base, "--log-level", "loud"), 2, "--log-level"},
		{append(base, "--flavor", "postgres"), 2, "--flavor"},
		{append(base, "--flavor", "mysql", "--start-gtid", "0-1-5"), 2, "start GTID for flavor mysql"},
		{append(base, "--flavor", "mysql", "--server-uuid", "not-a-uuid"), 2, "not-a-uuid"},
		{append(base, "--flavor", "mysql", "--gtid-mode", "sometimes"), 2, "SOMETIMES"},
		{append(base, "--defaults-file", cnf("[semisync-binlogd]\nflavor = mysql\n[mysqld]\nrpl_semi_sync_source_timeout = -5\n")), 2, "rpl_semi_sync_source_timeout"},
		{append(base, "--defaults-file", cnf("[semisync-binlogd]\nflavor = mysql\n[mysqld]\nrpl_semi_sync_master_timeout = 5\n")), 2, "rpl_semi_sync_master_timeout"},
		{append(base, "extra"), 2, "unexpected argument"},
		{append(base, "--defaults-file", cnf("[mariadbd]\nrpl_semi_sync_master_timeout = -5\n")), 2, "rpl_semi_sync_master_timeout"},
		{append(base, "--defaults-file", cnf("[mariadbd]\nrpl_semi_sync_master_no_such = 1\n")), 2, "rpl_semi_sync_master_no_such"},
		{append(base, "--defaults-file", cnf("[semisync-binlogd]\nno-such = 1\n")), 2, `unknown option "no-such"`},
		{append(base, "--defaults-file", cnf("[semisync-binlogd]\nack_mode = never\n")), 2, "never"},
		{append(base, "--defaults-file", filepath.Join(dir, "missing.cnf")), 2, "missing.cnf"},
		{[]string{"--datadir", file, "--upstream", "127.0.0.1:1", "--upstream-server-id", "50", "--server-id", "100"}, 1, "file"},
		{append(base, "--listen", "256.0.0.1:1"), 1, "256.0.0.1"},
	} {
		var out, errOut bytes.Buffer
		code := run(context.Background(), tc.args, &out, &errOut)
		require.Equal(t, tc.code, code, "%v: %s", tc.args, errOut.String())
		require.Contains(t, errOut.String(), tc.want, "%v", tc.args)
	}
}

// Flags given on the command line win over the option file's; the file
// sets the semisync variables and the other flags.
func TestOptionFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "my.cnf")
	require.NoError(t, os.WriteFile(p, []byte("# binlog server\n[mariadbd]\nrpl_semi_sync_master_timeout = 1234\nrpl_semi_sync_slave_enabled = ON\n"+
		"[semisync-binlogd]\nack-mode = chained\nserver_id = 7\nsegment-size = 1M\n"), 0o644))
	srv, ln, err := setup([]string{"--defaults-file", p, "--datadir", t.TempDir(), "--upstream", "127.0.0.1:1", "--upstream-server-id", "50",
		"--listen", "127.0.0.1:0"}, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil {
		defer srv.Close()
		defer ln.Close()
	}
	// "1M" is not an integer for the flag: the file's line is refused.
	require.ErrorContains(t, err, "segment-size")
	require.NoError(t, os.WriteFile(p, []byte("[mariadbd]\nrpl_semi_sync_master_timeout = 1234\n[semisync-binlogd]\nack-mode = chained\nserver_id = 7\nsegment-size = 65536\n"), 0o644))
	srv, ln, err = setup([]string{"--defaults-file", p, "--datadir", t.TempDir(), "--upstream", "127.0.0.1:1", "--upstream-server-id", "50",
		"--ack-mode", "local", "--listen", "127.0.0.1:0"}, &bytes.Buffer{}, &bytes.Buffer{})
	require.NoError(t, err)
	defer srv.Close()
	defer ln.Close()
	require.Equal(t, "local", srv.AckMode().String(), "the command line wins")
	require.Equal(t, uint64(1234), srv.Source().Vars().Config().TimeoutMillis)
	v, err := srv.Source().Vars().Get("rpl_semi_sync_master_enabled")
	require.NoError(t, err)
	require.Equal(t, "ON", v)
}

// --flavor mysql (from the option file): MySQL's variable names, and a
// server_uuid made up at the first start and kept in the datadir, the
// same after a restart; --server-uuid sets it.
func TestMySQLFlavor(t *testing.T) {
	p := filepath.Join(t.TempDir(), "my.cnf")
	require.NoError(t, os.WriteFile(p, []byte("[mysqld]\nrpl_semi_sync_source_timeout = 4321\n[semisync-binlogd]\nflavor = mysql\nserver-id = 7\n"), 0o644))
	dir := t.TempDir()
	uuid := func(args ...string) string {
		t.Helper()
		srv, ln, err := setup(append([]string{"--defaults-file", p, "--datadir", dir, "--upstream", "127.0.0.1:1", "--upstream-server-id", "50",
			"--listen", "127.0.0.1:0"}, args...), &bytes.Buffer{}, &bytes.Buffer{})
		require.NoError(t, err)
		defer srv.Close()
		defer ln.Close()
		require.Equal(t, uint64(4321), srv.Source().Vars().Config().TimeoutMillis)
		require.Equal(t, semisync.FlavorMySQL, srv.Source().Vars().Flavor())
		require.NoError(t, srv.Start(ln))
		c, err := client.Connect(ln.Addr().String(), "repl", "", "")
		require.NoError(t, err)
		defer c.Close()
		r, err := c.Execute("SELECT @@GLOBAL.SERVER_UUID")
		require.NoError(t, err)
		u, err := r.GetString(0, 0)
		require.NoError(t, err)
		return u
	}
	first := uuid()
	require.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, first)
	require.Equal(t, first, uuid(), "kept in the datadir")
	require.Equal(t, "b5d3e1c2-0000-11ef-8000-000000000050", uuid("--server-uuid", "b5d3e1c2-0000-11ef-8000-000000000050"))
}

// binary builds the program once per test binary.
var binary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "semisync-binlogd")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "semisync-binlogd")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v: %s", err, out)
	}
	return bin, nil
})

// proc is a running semisync-binlogd.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
	log  *syncBuffer
}

// syncBuffer is the process's stderr, read while it writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
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

var listening = regexp.MustCompile(`serving replicas on 127\.0\.0\.1:(\d+)`)

// startProc starts the program and returns it and its port.
func startProc(t *testing.T, args ...string) (*proc, int) {
	bin, err := binary()
	require.NoError(t, err)
	cmd := exec.Command(bin, args...)
	log := &syncBuffer{}
	cmd.Stderr = log
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	p := &proc{cmd: cmd, done: make(chan struct{}), log: log}
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case line <- sc.Text():
			default:
			}
		}
		cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() { p.kill(t) })
	select {
	case l := <-line:
		m := listening.FindStringSubmatch(l)
		require.NotNil(t, m, l)
		port, _ := strconv.Atoi(m[1])
		return p, port
	case <-p.done:
		t.Fatalf("semisync-binlogd exited: %s", log.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("semisync-binlogd did not start: %s", log.String())
	}
	return nil, 0
}

// kill sends SIGKILL and reaps the process.
func (p *proc) kill(t *testing.T) {
	select {
	case <-p.done:
		return
	default:
	}
	require.NoError(t, p.cmd.Process.Kill())
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("semisync-binlogd (pid %d) not reaped after SIGKILL", p.cmd.Process.Pid)
	}
}

// ids returns the ids in d.t on s (none while it cannot say).
func ids(s *mariadbtest.Server) map[int]bool {
	out := map[int]bool{}
	c, err := client.Connect(s.Addr, "root", "", "")
	if err != nil {
		return out
	}
	defer c.Close()
	r, err := c.Execute("SELECT id FROM d.t")
	if err != nil {
		return out
	}
	for i := range r.RowNumber() {
		n, _ := r.GetInt(i, 0)
		out[int(n)] = true
	}
	return out
}

// kill -9 of the binlog server, five times, at different moments of a
// write burst, in chained mode with a downstream timeout longer than the
// test: while the server is down, every transaction the primary reported
// acknowledged (Rpl_semi_sync_master_yes_tx went up during its commit)
// is already on one of the replicas, from what their relay logs hold;
// after each restart the server recovers its store, resumes from the
// primary by GTID, the replicas resume from it, and at the end the three
// tables are equal.
func TestKillNineChained(t *testing.T) {
	primary := mariadbtest.Start(t, mariadbtest.Options{Args: []string{"--rpl-semi-sync-master-enabled=1", "--rpl-semi-sync-master-timeout=1000"}})
	cnf := filepath.Join(t.TempDir(), "my.cnf")
	require.NoError(t, os.WriteFile(cnf, []byte(fmt.Sprintf("[mariadbd]\nrpl_semi_sync_master_timeout = 3600000\n"+
		"[semisync-binlogd]\nupstream = %s\nupstream-user = %s\nupstream-password = %s\nupstream-server-id = 50\nserver-id = 100\n"+
		"user = repl\npassword = secret\nack-mode = chained\nheartbeat-period = 200ms\nconnect-retry = 100ms\nsegment-size = 65536\n",
		primary.Addr, mariadbtest.ReplUser, mariadbtest.ReplPassword)), 0o644))
	datadir := t.TempDir()
	p, port := startProc(t, "--defaults-file", cnf, "--datadir", datadir, "--listen", "127.0.0.1:0")
	args := []string{"--defaults-file", cnf, "--datadir", datadir, "--listen", "127.0.0.1:" + strconv.Itoa(port)}
	mariadbtest.Eventually(t, 30*time.Second, func() bool { return primary.StatusInt(t, "Rpl_semi_sync_master_clients") == 1 }, "binlogd never connected")
	var replicas []*mariadbtest.Server
	for id := uint32(2); id <= 3; id++ {
		r := mariadbtest.Start(t, mariadbtest.Options{ServerID: id, Args: []string{"--rpl-semi-sync-slave-enabled=1"}})
		r.Exec(t, fmt.Sprintf("CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=%d, MASTER_USER='repl', MASTER_PASSWORD='secret', "+
			"MASTER_USE_GTID=slave_pos, MASTER_HEARTBEAT_PERIOD=0.2, MASTER_CONNECT_RETRY=1", port))
		r.StartSlave(t)
		replicas = append(replicas, r)
	}
	primary.Exec(t, "CREATE DATABASE d")
	primary.Exec(t, "CREATE TABLE d.t (id INT PRIMARY KEY, v INT) ENGINE=InnoDB")
	mariadbtest.Eventually(t, 30*time.Second, func() bool {
		return replicas[0].Status(t, "Rpl_semi_sync_slave_status") == "ON" &&
			replicas[1].Status(t, "Rpl_semi_sync_slave_status") == "ON"
	}, "replicas never caught up")

	// The burst: one writer, each commit's acknowledgement read from
	// yes_tx around it.
	var (
		mu      sync.Mutex
		acked   []int
		written atomic.Int64
		stop    = make(chan struct{})
		burst   = make(chan error, 1)
	)
	go func() {
		c, err := client.Connect(primary.Addr, "root", "", "")
		if err != nil {
			burst <- err
			return
		}
		defer c.Close()
		yes := func() (int64, error) {
			r, err := c.Execute("SHOW GLOBAL STATUS LIKE 'Rpl_semi_sync_master_yes_tx'")
			if err != nil {
				return 0, err
			}
			s, _ := r.GetString(0, 1)
			return strconv.ParseInt(s, 10, 64)
		}
		for i := 1; ; i++ {
			select {
			case <-stop:
				burst <- nil
				return
			default:
			}
			before, err := yes()
			if err == nil {
				_, err = c.Execute(fmt.Sprintf("INSERT INTO d.t VALUES (%d, %d)", i, i))
			}
			var after int64
			if err == nil {
				after, err = yes()
			}
			if err != nil {
				burst <- err
				return
			}
			if after > before {
				mu.Lock()
				acked = append(acked, i)
				mu.Unlock()
			}
			written.Store(int64(i))
		}
	}()
	for k, at := range []int64{40, 90, 130, 200, 260} {
		mariadbtest.Eventually(t, 60*time.Second, func() bool { return written.Load() >= at }, "the burst stalled at %d", written.Load())
		p.kill(t)
		mu.Lock()
		snapshot := append([]int(nil), acked...)
		mu.Unlock()
		mariadbtest.Eventually(t, 30*time.Second, func() bool {
			have := ids(replicas[0])
			for id := range ids(replicas[1]) {
				have[id] = true
			}
			for _, id := range snapshot {
				if !have[id] {
					return false
				}
			}
			return true
		}, "kill %d: a transaction the primary reported acknowledged is on no replica", k)
		p, _ = startProc(t, args...)
	}
	// Acknowledgements resume after the last restart.
	lastKill := int(written.Load())
	mariadbtest.Eventually(t, 60*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(acked) > 0 && acked[len(acked)-1] > lastKill
	}, "no acknowledgement after the last restart")
	close(stop)
	require.NoError(t, <-burst)
	mu.Lock()
	require.NotEmpty(t, acked)
	t.Logf("%d transactions written, %d acknowledged", written.Load(), len(acked))
	mu.Unlock()
	want := primary.Query(t, "CHECKSUM TABLE d.t")[0][1]
	for _, r := range replicas {
		mariadbtest.Eventually(t, 60*time.Second, func() bool {
			rows := r.Query(t, "CHECKSUM TABLE d.t")
			return rows[0][1] == want
		}, "replica %d never converged: %s\n%s", r.ServerID, r.Query(t, "SHOW SLAVE STATUS")[0][37], p.log.String())
	}
}
