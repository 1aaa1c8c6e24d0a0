package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/semisync-go/semisync/source"
	"github.com/semisync-go/semisync/vars"
)

// Any error of start (a corrupt binlog or relay log left in -dir, a -dir
// that is a file) comes back as an error: the program says what is wrong
// and exits 1, after stopping what it had started. (It once panicked on a
// nil cluster in its cleanup.)
func TestReviewStartErrorPanics(t *testing.T) {
	for name, prepare := range map[string]func(t *testing.T, dir string) string{
		"corrupt binlog": func(t *testing.T, dir string) string {
			require.NoError(t, os.MkdirAll(filepath.Join(dir, "source"), 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(dir, "source", "binlog.000001"), []byte("garbage"), 0o644))
			return dir
		},
		"corrupt relay log": func(t *testing.T, dir string) string {
			require.NoError(t, os.MkdirAll(filepath.Join(dir, "replica2"), 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(dir, "replica2", "relay.log"), []byte("garbage"), 0o644))
			return dir
		},
		"dir is a file": func(t *testing.T, dir string) string {
			f := filepath.Join(dir, "file")
			require.NoError(t, os.WriteFile(f, nil, 0o644))
			return f
		},
	} {
		t.Run(name, func(t *testing.T) {
			dir := prepare(t, t.TempDir())
			var out, errOut bytes.Buffer
			code := func() (code int) {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("run panicked: %v", r)
					}
				}()
				return run(context.Background(), &out, &errOut, []string{"-duration", "100ms", "-dir", dir})
			}()
			require.Equal(t, 1, code, "stderr: %s", errOut.String())
			require.Contains(t, errOut.String(), "cluster:")
		})
	}
}

// Settings parse accepts must not fail a check by construction. With
// wait_for_replica_count equal to the number of replicas, scene 2 already
// times out and switches the source OFF, so scene 3 (expectFallback) finds
// no commit that times out; with wait_no_replica=OFF the source switches
// OFF when the second replica leaves, before any commit waits. Either the
// scene expects what the settings make happen, or parse refuses them
// (exit 2); the program once reported "check FAILED" and exited 1.
//
// The timeout is 500 ms: at 100 ms a healthy scene of this test failed
// about one run in four, when one of the fsyncs that every commit waits
// for (all replicas must acknowledge) stalled past the timeout on a
// loaded machine. The program no longer accepts timeouts it cannot judge
// (TestClusterRefusesUnjudgeableTimeout), and reports a machine slower
// than an accepted timeout with exit 2 (TestClusterSlowMachineNotJudged).
func TestReviewSceneThreeSpuriousFailure(t *testing.T) {
	cnf := filepath.Join(t.TempDir(), "my.cnf")
	require.NoError(t, os.WriteFile(cnf, []byte("[mysqld]\nrpl_semi_sync_source_wait_no_replica = OFF\n"), 0o644))
	for _, args := range [][]string{
		{"-replicas", "2", "-wait-count", "2"},
		{"-replicas", "3", "-wait-count", "3"},
		{"-config", cnf},
	} {
		var out, errOut bytes.Buffer
		code := run(context.Background(), &out, &errOut, append([]string{"-duration", "150ms", "-timeout", "500ms", "-committers", "2"}, args...))
		require.NotEqual(t, 1, code, "%v: accepted settings, then a check failed by construction\n%s", args, out.String())
		if code == 2 && out.Len() > 0 {
			// Accepted, then too slow a machine for the timeout: no check
			// ran. Rare with 500 ms; say so rather than pass in silence.
			require.Contains(t, errOut.String(), "cannot be judged", "%v", args)
			t.Logf("%v: %s", args, errOut.String())
		}
	}
}

// -timeout refuses 0 ("want a positive whole number of milliseconds", exit
// 2), but rpl_semi_sync_source_timeout = 0 in -config is accepted: every
// commit then times out or is async, and four checks fail (exit 1). The
// final value, wherever it came from, should be checked as the flag is.
func TestReviewConfigTimeoutZero(t *testing.T) {
	cnf := filepath.Join(t.TempDir(), "my.cnf")
	require.NoError(t, os.WriteFile(cnf, []byte("[mysqld]\nrpl_semi_sync_source_timeout = 0\n"), 0o644))
	var out, errOut bytes.Buffer
	code := run(context.Background(), &out, &errOut, []string{"-duration", "100ms", "-committers", "2", "-config", cnf})
	require.Equal(t, 2, code, "stdout: %s", out.String())
	require.Contains(t, errOut.String(), "timeout")
	require.Empty(t, out.String(), "nothing starts")
}

// A flag's value is pasted into a SET statement between quotes, so a quote
// in -wait-point runs a second assignment: here wait_no_replica goes OFF
// and parse reports no error.
func TestReviewWaitPointQuote(t *testing.T) {
	_, reg, err := parse(io.Discard, []string{"-wait-point", "AFTER_SYNC', rpl_semi_sync_source_wait_no_replica = 'OFF"})
	if err == nil {
		t.Fatalf("accepted; wait_no_replica is now %v", reg.Config().WaitNoReplica)
	}
}

// The progress reporter reads the workload's tally through a function that
// copies the struct under the workload's mutex, but the copy shares the
// map: draw then iterates it (total) and indexes it without the lock while
// the committers write it. go test -race reports the race (and a plain
// build can die with "concurrent map iteration and map write"). The
// existing tests never draw: their scenes are shorter than the 1 s
// interval used when the output is not a terminal. The README's command
// (-duration 2s) draws twice per scene.
func TestReviewProgressReadsMapUnlocked(t *testing.T) {
	c, err := start(t.TempDir(), mustRegistry(t), 3)
	require.NoError(t, err)
	defer c.close()
	require.NoError(t, c.waitClients(3))
	d := 600 * time.Millisecond
	pb := &progress{w: io.Discard, tty: true, d: d} // draws every 100 ms
	tl := c.workload(context.Background(), d, 8, pb)
	require.Positive(t, tl.total())
	// Without -race this test only passes; with -race the detector fails it.
}

func mustRegistry(t *testing.T) *vars.Registry {
	t.Helper()
	_, reg, err := parse(io.Discard, []string{"-timeout", "2s"})
	require.NoError(t, err)
	return reg
}

// The failover check identifies a commit by its payload, "tx-%08d" from a
// counter that starts at 1 in every run. Run twice on the same -dir (the
// files stay, by design) and the second run's commits carry the first
// run's names: an acknowledged commit missing from every relay log is
// still "found" there, in the record of the earlier commit of the same
// name. Here the relay logs lose every record of the second run, and the
// check still reports no acknowledged commit short.
func TestReviewFailoverCheckReusedDir(t *testing.T) {
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	require.Equal(t, 0, run(context.Background(), &out, &errOut, []string{"-duration", "300ms", "-timeout", "1s", "-committers", "4", "-dir", dir}), errOut.String())

	c, err := start(dir, mustRegistry(t), 3)
	require.NoError(t, err)
	defer c.close()
	sizes := make([]int64, len(c.nodes))
	for i, n := range c.nodes {
		fi, err := os.Stat(n.path)
		require.NoError(t, err)
		sizes[i] = fi.Size()
	}
	require.NoError(t, c.waitClients(3))
	tl := c.workload(context.Background(), 100*time.Millisecond, 2, newProgress(io.Discard, time.Second))
	require.Positive(t, tl.by[source.Acknowledged])
	require.NoError(t, c.stopAll())
	for i, n := range c.nodes {
		require.NoError(t, os.Truncate(n.path, sizes[i])) // this run's records, lost
	}
	acked, short, err := c.failoverCheck(2)
	require.NoError(t, err)
	require.Equal(t, acked, short, "none of this run's %d acknowledged commits is in any relay log", acked)
}

// The default -dir is "a temporary directory, removed at exit": an
// interrupt (main turns SIGINT and SIGTERM into ctx ending) stops the run
// early, exits 1, and still removes it.
func TestReviewInterruptLeavesTempDir(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errOut bytes.Buffer
	require.Equal(t, 1, run(ctx, &out, &errOut, []string{"-duration", "10s"}))
	require.Contains(t, errOut.String(), "context canceled")
	ents, err := os.ReadDir(os.Getenv("TMPDIR"))
	require.NoError(t, err)
	require.Empty(t, ents, "the temporary directory outlives the interrupted run")
}
