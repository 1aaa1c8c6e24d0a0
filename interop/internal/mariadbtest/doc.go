// Package mariadbtest runs private, throw-away MariaDB servers for tests: a
// real semisync source to point a Go replica at, or a real MariaDB replica to
// point at a Go source.
//
// It is test support for the interop module, not part of the library. It
// exists so that interop tests check the library against the real thing
// (MariaDB 10.11, whose semisync is built in) instead of against our own
// reading of the spec.
//
// # What a server is
//
// [Start] starts one mariadbd bound to 127.0.0.1 on a free high port, with its
// own datadir, tmpdir, socket, pid file and error log inside a fresh base
// directory ([Server.Dir]), binary logging on (ROW format, mysql-bin), and
// no option files read (--no-defaults comes first, so the machine's
// /etc/mysql configuration never leaks in). Root has no password over TCP,
// and a replication user [ReplUser]/[ReplPassword] exists on
// 127.0.0.1 with REPLICATION SLAVE, BINLOG MONITOR and REPLICATION SLAVE
// ADMIN. That user is created with sql_log_bin=0, so a fresh server's binlog
// holds no transaction: with rpl_semi_sync_master_wait_no_slave=ON (the
// default) every binlogged commit made while no semisync replica is
// connected would block for the whole rpl_semi_sync_master_timeout.
//
// The datadir is a copy of a template made once per test process with
// mariadb-install-db, because copying its 33 MB takes about a tenth of a
// second (a quarter of install-db's time, see BenchmarkDatadir) and
// install-db takes half a second to a second and a half.
//
// # Installation
//
// [Require] finds mariadbd, mariadb-install-db and the mariadb client. When they are missing and
// the process runs as root with apt-get available (a fresh CI machine), it
// installs mariadb-server-core and mariadb-client-core. When MariaDB cannot be
// had, it skips the test, or fails it when the CI environment variable is set
// (to anything but "false" or "0"), so that CI never passes by skipping.
// [Start] calls Require itself.
//
// # Lifetime and cleanup
//
// Each server belongs to the test that started it: tb.Cleanup stops it
// (SIGTERM, then SIGKILL after 30 s) and removes its base directory, except
// when the test failed: then the directory is kept and its path and the error
// log's tail are logged. The process is started directly (never through a
// shell, whose children can outlive it as zombies) and, on Linux, with a
// parent-death signal, so a crashed test binary does not leave mariadbd
// running. A server that exited on its own, or needed SIGKILL, fails the test
// in cleanup; a test that kills a server on purpose calls [Server.Stop]
// itself and checks its error.
//
// # Process-wide state
//
// Two things are done at most once per test process and kept in package
// variables: finding (or installing) MariaDB, and making the template
// datadir. This is the one place in the project with package-level mutable
// state. It is deliberate: many tests in one binary start servers, and
// installing packages or running install-db for each of them would cost
// seconds per test. Both are guarded by sync.Once, so parallel tests share
// them safely. The template directory of a previous test process is removed
// by the next one once its owner process has exited.
//
// # Concurrency
//
// A [Server]'s methods may be called from several goroutines. [Server.Exec]
// and the helpers built on it share one cached root connection and run one
// statement at a time; a test that needs statements to run concurrently
// (for example a commit that waits for a semisync ACK while the test
// inspects status) opens its own connections with [Server.Conn]. Like
// t.Fatal, a failing helper ends the calling goroutine with runtime.Goexit,
// so goroutines that call helpers should release what they hold with defer.
//
// # Usage
//
// A semisync source with a real MariaDB replica:
//
//	src := mariadbtest.Start(t, mariadbtest.Options{Args: []string{
//		"--rpl-semi-sync-master-enabled=1",
//		"--rpl-semi-sync-master-timeout=2000",
//	}})
//	rep := mariadbtest.StartReplica(t, src, mariadbtest.Options{})
//	src.WaitStatus(t, "Rpl_semi_sync_master_clients", "1", 10*time.Second)
//	yes := src.StatusInt(t, "Rpl_semi_sync_master_yes_tx")
//	src.Exec(t, "CREATE DATABASE d")
//	// src.StatusInt(t, "Rpl_semi_sync_master_yes_tx") is yes+1
//	rep.StopSlave(t)
//	src.WaitStatus(t, "Rpl_semi_sync_master_clients", "0", 10*time.Second)
//
// A Go replica instead of the MariaDB one connects to src.Addr as
// [ReplUser] with [ReplPassword]; semisync must already be enabled on the
// source when it connects (go-mysql reads the variable once, at connect).
//
// The tests need a few seconds: the template is made once (0.5 to 1.5 s),
// then each server starts in a few hundred milliseconds.
package mariadbtest
