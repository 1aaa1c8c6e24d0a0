//go:build linux

package mysqlreplica_test

// Findings of an independent review of the interop module, kept as
// regression tests. Linux only: breakRelaySync uses /proc and dup3.

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/interop/mysqlreplica"
	"github.com/semisync-go/semisync/relaylog"
	"github.com/semisync-go/semisync/replica"
)

// breakRelaySync makes the relay file at path lose its writes and fail
// every fsync from now on, as a disk whose writeback fails does (fsync
// returns EIO): the file's descriptor is replaced by a pipe's write end, so
// writes "succeed" into the pipe and fsync fails (EINVAL). The relaylog.File
// cannot tell the difference from a real I/O error.
func breakRelaySync(t *testing.T, path string) {
	t.Helper()
	want, err := filepath.EvalSymlinks(path)
	require.NoError(t, err)
	ents, err := os.ReadDir("/proc/self/fd")
	require.NoError(t, err)
	fd := -1
	for _, e := range ents {
		if l, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name())); err == nil && l == want {
			require.Equal(t, -1, fd, "the relay file is open more than once")
			fd, err = strconv.Atoi(e.Name())
			require.NoError(t, err)
		}
	}
	require.NotEqual(t, -1, fd, "no descriptor of %s", want)
	pr, pw, err := os.Pipe()
	require.NoError(t, err)
	t.Cleanup(func() {
		pr.Close()
		pw.Close()
	})
	require.NoError(t, syscall.Dup3(int(pw.Fd()), fd, 0))
}

// After an fsync of the relay file fails, Replicate ends with the error (no
// ACK: right). The caller reconnects, as the package tells it to, and
// Replicate dumps from Relay.Last() (replicate.go:172): the end of what was
// flushed, not of what was fsynced. MariaDB (and MySQL) take the dump's start
// position as an ACK from a semisync replica (semisync_master.cc dump_start
// -> report_reply_binlog; spec §7.1), so the waiting commit is released and
// counted yes_tx although the relay file never made it durable. With a
// Linux fsync error the written pages may already be gone; a later fsync
// that "succeeds" would also let an explicit ACK cover them.
func TestReviewResumeAfterSyncFailureAcksUnsynced(t *testing.T) {
	src, ours, c, _ := connectedReplica(t, 2000)
	insert(t, c, 5, "warm")
	src.WaitStatus(t, "Rpl_semi_sync_master_status", "ON", 10*time.Second)

	breakRelaySync(t, ours.path)
	before := readCounters(t, src)
	done := startCommit(c, "never-synced")
	src.WaitStatus(t, "Rpl_semi_sync_master_wait_sessions", "1", 10*time.Second)
	end := head(t, src) // the end of the waiting commit
	r := ours.wait(10 * time.Second)
	// The first write or fsync after the break fails and ends the stream;
	// the relay file is failed and takes nothing more.
	require.ErrorContains(t, r.err, "relay log")
	require.ErrorIs(t, ours.relay.Err(), relaylog.ErrFailed)
	require.True(t, ours.relay.Synced().Less(end))

	// The caller's reconnect loop. Each connection fails again at its
	// first fsync; what matters is where each one starts.
	var res commitResult
	for attempt := 0; ; attempt++ {
		select {
		case res = <-done:
		default:
			if attempt < 50 {
				ours.start()
				r := ours.wait(10 * time.Second)
				require.Error(t, r.err)
				continue
			}
			res = <-done // with a correct resume position: the timeout, as no_tx
		}
		break
	}
	require.NoError(t, res.err)
	d := readCounters(t, src).sub(before)
	require.True(t, ours.relay.Synced().Less(end), "nothing was fsynced after the break")
	require.Zero(t, d.yes, "the source counted the commit ending at %v as acknowledged (after %v), but the relay file is fsynced only up to %v",
		end, res.took.Round(time.Millisecond), ours.relay.Synced())
}

// A replica whose relay file is empty and whose Config.Start is zero dumps
// from the source's current position (SHOW MASTER STATUS). MariaDB takes
// the dump's start position as the replica's ACK (spec §7.1), so a commit
// waiting for an ACK at that moment is released as yes_tx although this
// replica never receives it. MariaDB's own replica does the same when
// pointed at the current position; Config.Start documents it. This test
// pins the server's behaviour the documentation describes.
func TestReviewFreshStartAtHeadAcksWaitingCommit(t *testing.T) {
	src := semisyncSource(t, 30000)
	require.Equal(t, "ON", src.Status(t, "Rpl_semi_sync_master_status"))
	c := src.Conn(t)
	before := readCounters(t, src)
	// A commit waits for an ACK: no semisync replica is connected
	// (wait_no_slave=ON), e.g. the previous one just died.
	done := startCommit(c, "waiting")
	src.WaitStatus(t, "Rpl_semi_sync_master_wait_sessions", "1", 10*time.Second)
	end := head(t, src)

	ours := newOurReplica(t, src)
	ours.start()
	res := <-done
	require.NoError(t, res.err)
	d := readCounters(t, src).sub(before)
	run := ours.stop()
	require.Equal(t, end, run.res.Start, "the dump started after the waiting commit")
	require.Equal(t, int64(1), d.yes, "the dump's start released the waiting commit as acknowledged")
	require.Zero(t, d.getAck, "without an ACK packet")
	n, _ := ours.ackCount()
	require.Zero(t, n)
}

// Cancelling ctx while Replicate connects ends it with ctx's error, also
// when the source accepted the TCP connection and never answers (an
// overloaded server, a half-dead proxy): go-mysql heeds ctx only while
// dialing, so Replicate closes the connection itself.
func TestReviewCancelDuringConnect(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err == nil {
			accepted <- c // held, never answered
			cancel()
		}
	}()
	rep, err := replica.New(replica.Options{Flavor: semisync.FlavorMariaDB, Durability: replica.Synced})
	require.NoError(t, err)
	relay, _, err := relaylog.Open(filepath.Join(t.TempDir(), "relay"))
	require.NoError(t, err)
	defer relay.Close()

	_, err = mysqlreplica.Replicate(ctx, mysqlreplica.Config{
		Addr: l.Addr().String(), User: "repl", ServerID: ourServerID,
		Replica: rep, Relay: relay, ConnectTimeout: 30 * time.Second, // far longer than the test, and bounded
	})
	require.ErrorIs(t, err, context.Canceled)
	(<-accepted).Close()
}
