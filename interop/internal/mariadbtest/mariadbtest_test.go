package mariadbtest_test

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/stretchr/testify/require"

	"github.com/semisync-go/semisync/interop/internal/mariadbtest"
)

// semisyncSource are the options of a semisync source whose commits wait at
// most 2 s for an ACK (the default is 10 s).
var semisyncSource = mariadbtest.Options{Args: []string{
	"--rpl-semi-sync-master-enabled=1",
	"--rpl-semi-sync-master-timeout=2000",
}}

// recorder is a testing.TB that records Skipf and Fatalf instead of applying
// them to the test. Like the real ones, both end the calling goroutine, so
// record runs the code under test in a goroutine of its own. With failed
// set, it tells the code under test that the test failed.
type recorder struct {
	testing.TB
	failed         bool
	skipped, fatal string
}

func (r *recorder) Helper() {}

func (r *recorder) Failed() bool { return r.failed || r.TB.Failed() }

func (r *recorder) Skipf(format string, args ...any) {
	r.skipped = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// record runs fn with a recorder wrapping t and returns the recorder once fn
// has returned or called Skipf or Fatalf.
func record(t *testing.T, fn func(tb testing.TB)) *recorder {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(r)
	}()
	<-done
	return r
}

func TestRequireInjected(t *testing.T) {
	const version = "mariadbd  Ver 10.11.19-MariaDB"
	type setup struct {
		installed  bool  // found before any install
		installErr error // nil: install succeeds and makes MariaDB findable
		ci         string
	}
	tests := []struct {
		name        string
		setup       setup
		wantSkip    string // substring of the skip message; "" means no skip
		wantFatal   string // substring of the failure message; "" means no failure
		wantInstall bool   // whether install must be called
	}{
		{name: "installed", setup: setup{installed: true}},
		{name: "missing, installed by apt-get", setup: setup{}, wantInstall: true},
		{
			name:     "missing, cannot install, CI unset",
			setup:    setup{installErr: errors.New("cannot install it: not running as root")},
			wantSkip: "set CI=true to make this a failure", wantInstall: true,
		},
		{
			name:     "missing, apt-get fails, CI unset",
			setup:    setup{installErr: errors.New("apt-get update: exit status 100")},
			wantSkip: "apt-get update: exit status 100", wantInstall: true,
		},
		{
			name:     "missing, CI=false",
			setup:    setup{installErr: errors.New("no apt-get"), ci: "false"},
			wantSkip: "mariadbd not found", wantInstall: true,
		},
		{
			name:     "missing, CI=0",
			setup:    setup{installErr: errors.New("no apt-get"), ci: "0"},
			wantSkip: "mariadb-install-db not found", wantInstall: true,
		},
		{
			name:      "missing, CI=true",
			setup:     setup{installErr: errors.New("no apt-get"), ci: "true"},
			wantFatal: `MariaDB not available and CI="true"`, wantInstall: true,
		},
		{
			name:      "missing, CI=1",
			setup:     setup{installErr: errors.New("no apt-get"), ci: "1"},
			wantFatal: "no apt-get", wantInstall: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			installed, installCalled := tt.setup.installed, false
			find := func(name string) (string, error) {
				if installed {
					return "/fake/" + name, nil
				}
				return "", fmt.Errorf("%s not found", name)
			}
			getenv := func(key string) string {
				if key == "CI" {
					return tt.setup.ci
				}
				return ""
			}
			install := func() error {
				installCalled = true
				installed = tt.setup.installErr == nil
				return tt.setup.installErr
			}
			versionOf := func(string) (string, error) { return version, nil }

			var inst *mariadbtest.Install
			r := record(t, func(tb testing.TB) {
				inst = mariadbtest.RequireFrom(tb, find, getenv, install, versionOf)
			})

			require.Equal(t, tt.wantInstall, installCalled, "install called")
			if tt.wantSkip != "" {
				require.Contains(t, r.skipped, tt.wantSkip)
			} else {
				require.Empty(t, r.skipped)
			}
			if tt.wantFatal != "" {
				require.Contains(t, r.fatal, tt.wantFatal)
			} else {
				require.Empty(t, r.fatal)
			}
			if tt.wantSkip == "" && tt.wantFatal == "" {
				require.Equal(t, &mariadbtest.Install{
					Mariadbd: "/fake/mariadbd", InstallDB: "/fake/mariadb-install-db", Client: "/fake/mariadb", Version: version,
				}, inst)
			}
		})
	}
}

func TestRequireOncePerProcess(t *testing.T) {
	a := mariadbtest.Require(t)
	b := mariadbtest.Require(t)
	require.Same(t, a, b)
	require.Contains(t, a.Version, "MariaDB")
}

func TestStartSemisyncSource(t *testing.T) {
	t.Parallel()
	s := mariadbtest.Start(t, semisyncSource)

	require.Contains(t, []string{"ON", "OFF"}, s.Status(t, "Rpl_semi_sync_master_status"))
	require.Equal(t, "ON", s.Variable(t, "rpl_semi_sync_master_enabled"))
	require.Equal(t, int64(0), s.StatusInt(t, "Rpl_semi_sync_master_clients"))
	require.Equal(t, "1", s.Variable(t, "server_id"))
	require.Equal(t, strconv.Itoa(s.Port), s.Variable(t, "port"))
	require.Equal(t, "ROW", s.Variable(t, "binlog_format"))

	t.Run("repl user", func(t *testing.T) {
		c, err := client.Connect(s.Addr, mariadbtest.ReplUser, mariadbtest.ReplPassword, "")
		require.NoError(t, err)
		defer c.Close()
		r, err := c.Execute("SHOW GRANTS")
		require.NoError(t, err)
		grants, err := r.GetString(0, 0)
		require.NoError(t, err)
		for _, g := range []string{"REPLICATION SLAVE", "BINLOG MONITOR", "REPLICATION SLAVE ADMIN"} {
			require.Contains(t, grants, g)
		}
	})

	t.Run("setup not binlogged", func(t *testing.T) {
		for _, row := range s.Query(t, "SHOW BINLOG EVENTS") {
			require.NotContains(t, strings.Join(row, " "), mariadbtest.ReplUser)
		}
	})

	t.Run("stop", func(t *testing.T) {
		pid, off := s.PID(), s.ErrorLogSize()
		require.NoError(t, s.Stop())
		require.NoError(t, s.Stop(), "second Stop")
		require.Contains(t, s.ErrorLogSince(off), "Shutdown complete")

		p, err := os.FindProcess(pid)
		if err == nil {
			require.Error(t, p.Signal(syscall.Signal(0)), "pid %d still there", pid)
		}
		c, err := net.Dial("tcp", s.Addr)
		if err == nil {
			c.Close()
		}
		require.Error(t, err, "port %d still accepts connections", s.Port)

		r := record(t, func(tb testing.TB) { s.Exec(tb, "SELECT 1") })
		require.Contains(t, r.fatal, "server stopped")
	})
}

func TestCleanup(t *testing.T) {
	t.Parallel()
	for _, failed := range []bool{false, true} {
		var s *mariadbtest.Server
		t.Run(fmt.Sprintf("failed=%v", failed), func(t *testing.T) {
			s = mariadbtest.Start(&recorder{TB: t, failed: failed}, mariadbtest.Options{})
		})
		// The subtest's cleanup has run: the server is gone either way, and
		// its directory is kept only for a failed test.
		c, err := net.Dial("tcp", s.Addr)
		if err == nil {
			c.Close()
		}
		require.Error(t, err, "port %d still accepts connections", s.Port)
		_, err = os.Stat(s.ErrorLog)
		if failed {
			require.NoError(t, err, "error log of a failed test kept")
			require.NoError(t, os.RemoveAll(s.Dir))
		} else {
			require.ErrorIs(t, err, fs.ErrNotExist, "directory of a passed test removed")
		}
	}
}

func TestTwoServers(t *testing.T) {
	t.Parallel()
	servers := []*mariadbtest.Server{
		mariadbtest.Start(t, mariadbtest.Options{}),
		mariadbtest.Start(t, mariadbtest.Options{ServerID: 7}),
	}
	require.NotEqual(t, servers[0].Port, servers[1].Port)
	require.NotEqual(t, servers[0].Dir, servers[1].Dir)
	for _, s := range servers {
		require.Equal(t, [][]string{{strconv.Itoa(s.Port), strconv.FormatUint(uint64(s.ServerID), 10)}},
			s.Query(t, "SELECT @@port, @@server_id"))
	}
}

// A killed server comes back on its datadir and port with its committed
// rows, and is stopped cleanly by cleanup after the restart.
func TestKillRestart(t *testing.T) {
	t.Parallel()
	s := mariadbtest.Start(t, mariadbtest.Options{})
	s.Exec(t, "CREATE DATABASE k")
	s.Exec(t, "CREATE TABLE k.k (a INT PRIMARY KEY) ENGINE=InnoDB")
	s.Exec(t, "INSERT INTO k.k VALUES (1), (2)")
	pid := s.PID()
	s.Kill(t)
	_, err := client.Connect(s.Addr, "root", "", "")
	require.Error(t, err, "nothing answers on the port of a killed server")
	s.Restart(t)
	require.NotEqual(t, pid, s.PID())
	require.Equal(t, [][]string{{"2"}}, s.Query(t, "SELECT COUNT(*) FROM k.k"))
	require.Contains(t, s.ErrorLogTail(200), "crash recovery", "InnoDB recovered the killed server's datadir")
}

func TestServerHelpers(t *testing.T) {
	t.Parallel()
	s := mariadbtest.Start(t, mariadbtest.Options{})

	t.Run("query", func(t *testing.T) {
		require.Equal(t, [][]string{{"1", "", "x"}}, s.Query(t, "SELECT 1, NULL, 'x'"))
		require.Nil(t, s.Query(t, "DO 1"))
		r := s.Exec(t, "CREATE DATABASE h")
		require.Equal(t, uint64(1), r.AffectedRows)
	})

	t.Run("session state of a Conn", func(t *testing.T) {
		c := s.Conn(t)
		_, err := c.Execute("SET @x = 42")
		require.NoError(t, err)
		r, err := c.Execute("SELECT @x")
		require.NoError(t, err)
		v, err := r.GetString(0, 0)
		require.NoError(t, err)
		require.Equal(t, "42", v)
	})

	t.Run("error log", func(t *testing.T) {
		require.Contains(t, s.ErrorLogSince(0), "ready for connections")
		require.Contains(t, s.ErrorLogTail(50), "ready for connections")
		require.Len(t, strings.Split(s.ErrorLogTail(2), "\n"), 2)
	})

	t.Run("wait", func(t *testing.T) {
		s.WaitStatus(t, "Rpl_semi_sync_master_clients", "0", 5*time.Second)
		calls := 0
		mariadbtest.Eventually(t, 5*time.Second, func() bool { calls++; return calls == 3 }, "third call")
		require.Equal(t, 3, calls)
	})

	failures := []struct {
		name string
		fn   func(tb testing.TB)
		want string
	}{
		{"Exec error", func(tb testing.TB) { s.Exec(tb, "SELEC 1") }, "You have an error in your SQL syntax"},
		{"unknown status", func(tb testing.TB) { s.Status(tb, "No_such_status") }, "no such variable"},
		{"not a name", func(tb testing.TB) { s.Variable(tb, "x' OR '1") }, "not a variable name"},
		{"not an integer", func(tb testing.TB) { s.StatusInt(tb, "Rpl_semi_sync_master_status") }, "is not an integer"},
		{
			"WaitStatus timeout",
			func(tb testing.TB) { s.WaitStatus(tb, "Rpl_semi_sync_master_clients", "5", 50*time.Millisecond) },
			`want "5", last seen "0"`,
		},
		{
			"WaitStatus unknown",
			func(tb testing.TB) { s.WaitStatus(tb, "No_such_status", "1", time.Minute) },
			"no such variable",
		},
		{
			"Eventually timeout",
			func(tb testing.TB) {
				mariadbtest.Eventually(tb, 30*time.Millisecond, func() bool { return false }, "never %d", 7)
			},
			"never 7",
		},
	}
	for _, f := range failures {
		t.Run(f.name, func(t *testing.T) {
			require.Contains(t, record(t, f.fn).fatal, f.want)
		})
	}

	t.Run("Exec reconnects after an SQL error", func(t *testing.T) {
		require.Equal(t, [][]string{{"2"}}, s.Query(t, "SELECT 2"))
	})
}

func TestStartFailsFast(t *testing.T) {
	t.Parallel()
	r := record(t, func(tb testing.TB) {
		mariadbtest.Start(tb, mariadbtest.Options{Args: []string{"--no-such-option"}})
	})
	require.Contains(t, r.fatal, "mariadbd exited during startup")
	require.Contains(t, r.fatal, "no-such-option", "the error log's tail")
}

func TestStartRetriesTakenPort(t *testing.T) {
	t.Parallel()
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer taken.Close()
	takenPort := taken.Addr().(*net.TCPAddr).Port

	var picked []int
	pick := func() (int, error) {
		if len(picked) == 0 {
			picked = append(picked, takenPort)
			return takenPort, nil
		}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		defer l.Close()
		picked = append(picked, l.Addr().(*net.TCPAddr).Port)
		return picked[len(picked)-1], nil
	}
	s := mariadbtest.StartWithPorts(t, mariadbtest.Options{}, pick)

	require.Len(t, picked, 2)
	require.Equal(t, picked[1], s.Port)
	require.Contains(t, s.ErrorLogSince(0), "Address already in use")
	require.Equal(t, [][]string{{"1"}}, s.Query(t, "SELECT 1"))
}

func TestReplicateFrom(t *testing.T) {
	t.Parallel()
	src := mariadbtest.Start(t, semisyncSource)
	rep := mariadbtest.StartReplica(t, src, mariadbtest.Options{Args: []string{"--sync-relay-log=1"}})

	require.Equal(t, src.ServerID+1, rep.ServerID)
	require.Equal(t, "ON", rep.Variable(t, "rpl_semi_sync_slave_enabled"))
	require.Equal(t, "1", rep.Variable(t, "sync_relay_log"))
	src.WaitStatus(t, "Rpl_semi_sync_master_clients", "1", 10*time.Second)
	src.WaitStatus(t, "Rpl_semi_sync_master_status", "ON", 10*time.Second)

	yes, no := src.StatusInt(t, "Rpl_semi_sync_master_yes_tx"), src.StatusInt(t, "Rpl_semi_sync_master_no_tx")
	for _, q := range []string{
		"CREATE DATABASE d",
		"CREATE TABLE d.t (id INT PRIMARY KEY)",
		"INSERT INTO d.t VALUES (1)",
	} {
		src.Exec(t, q)
	}
	require.Equal(t, yes+3, src.StatusInt(t, "Rpl_semi_sync_master_yes_tx"))
	require.Equal(t, no, src.StatusInt(t, "Rpl_semi_sync_master_no_tx"))
	mariadbtest.Eventually(t, 10*time.Second, func() bool {
		n, err := rowCount(rep, "SELECT id FROM d.t")
		return err == nil && n == 1
	}, "row replicated to %s", rep.Addr)

	rep.StopSlave(t)
	src.WaitStatus(t, "Rpl_semi_sync_master_clients", "0", 10*time.Second)
	rep.StartSlave(t)
	src.WaitStatus(t, "Rpl_semi_sync_master_clients", "1", 10*time.Second)
}

// Toggling the source's semisync OFF and ON does not cut off a MariaDB
// replica that stays connected: the commit after each toggle is
// acknowledged, without a reconnect.
func TestToggleWithConnectedReplica(t *testing.T) {
	t.Parallel()
	src := mariadbtest.Start(t, semisyncSource)
	rep := mariadbtest.StartReplica(t, src, mariadbtest.Options{Args: []string{"--sync-relay-log=1"}})
	src.WaitStatus(t, "Rpl_semi_sync_master_clients", "1", 10*time.Second)
	src.Exec(t, "CREATE DATABASE d")
	src.Exec(t, "CREATE TABLE d.t (id INT PRIMARY KEY)")
	for i := range 3 {
		src.Exec(t, "SET GLOBAL rpl_semi_sync_master_enabled = OFF")
		src.Exec(t, fmt.Sprintf("INSERT INTO d.t VALUES (%d)", 2*i))
		src.Exec(t, "SET GLOBAL rpl_semi_sync_master_enabled = ON")
		rep.WaitCaughtUp(t, src, 30*time.Second)
		yes, no := src.StatusInt(t, "Rpl_semi_sync_master_yes_tx"), src.StatusInt(t, "Rpl_semi_sync_master_no_tx")
		src.Exec(t, fmt.Sprintf("INSERT INTO d.t VALUES (%d)", 2*i+1))
		require.Equal(t, yes+1, src.StatusInt(t, "Rpl_semi_sync_master_yes_tx"), "toggle %d: the next commit is acknowledged", i)
		require.Equal(t, no, src.StatusInt(t, "Rpl_semi_sync_master_no_tx"), "toggle %d", i)
		require.Equal(t, "ON", src.Status(t, "Rpl_semi_sync_master_status"), "toggle %d", i)
		require.Equal(t, "1", src.Status(t, "Rpl_semi_sync_master_clients"), "toggle %d: no reconnect", i)
	}
}

// A replica that was stopped while the source committed catches up after
// START SLAVE: WaitCaughtUp returns once it has applied everything, and
// the next commit is acknowledged at once. A replica that cannot catch up
// (stopped) fails WaitCaughtUp after its timeout, saying where it is.
func TestWaitCaughtUp(t *testing.T) {
	t.Parallel()
	src := mariadbtest.Start(t, mariadbtest.Options{Args: []string{
		"--rpl-semi-sync-master-enabled=1", "--rpl-semi-sync-master-timeout=60000"}})
	rep := mariadbtest.StartReplica(t, src, mariadbtest.Options{Args: []string{"--sync-relay-log=1"}})
	src.WaitStatus(t, "Rpl_semi_sync_master_clients", "1", 10*time.Second)
	src.Exec(t, "CREATE DATABASE d")
	src.Exec(t, "CREATE TABLE d.t (id INT PRIMARY KEY)")
	rep.StopSlave(t)
	src.WaitStatus(t, "Rpl_semi_sync_master_clients", "0", 10*time.Second)
	src.Exec(t, "SET GLOBAL rpl_semi_sync_master_enabled = OFF")
	for i := range 500 {
		src.Exec(t, fmt.Sprintf("INSERT INTO d.t VALUES (%d)", i))
	}
	src.Exec(t, "SET GLOBAL rpl_semi_sync_master_enabled = ON")

	r := record(t, func(tb testing.TB) { rep.WaitCaughtUp(tb, src, time.Second) })
	require.Contains(t, r.fatal, "did not reach")
	require.Contains(t, r.fatal, "Slave_IO_Running: No")

	rep.StartSlave(t)
	src.WaitStatus(t, "Rpl_semi_sync_master_clients", "1", 10*time.Second)
	rep.WaitCaughtUp(t, src, 50*time.Second)
	n, err := rowCount(rep, "SELECT id FROM d.t")
	require.NoError(t, err)
	require.Equal(t, 500, n)
	yes := src.StatusInt(t, "Rpl_semi_sync_master_yes_tx")
	start := time.Now()
	src.Exec(t, "INSERT INTO d.t VALUES (1000)")
	require.Equal(t, yes+1, src.StatusInt(t, "Rpl_semi_sync_master_yes_tx"))
	require.Less(t, time.Since(start), 30*time.Second, "acknowledged, not timed out")
}

// rowCount runs query on a fresh connection and counts its rows, returning
// errors instead of failing: the table may not exist yet on a replica.
func rowCount(s *mariadbtest.Server, query string) (int, error) {
	c, err := client.Connect(s.Addr, "root", "", "")
	if err != nil {
		return 0, err
	}
	defer c.Close()
	r, err := c.Execute(query)
	if err != nil {
		return 0, err
	}
	return r.RowNumber(), nil
}
