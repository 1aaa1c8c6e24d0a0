package semisynctest_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/replica"
	"github.com/semisync-go/semisync/semisynctest"
)

// The library alone, acknowledging after fsync, holds every checker on
// schedules rapid generates (a failure shrinks and prints its seed and
// schedule).
func TestLibraryHolds(t *testing.T) {
	cfg := semisynctest.Config{Disk: semisynctest.Disk{Torn: true, SyncFail: 0.01}, Trace: true}
	rapid.Check(t, func(t *rapid.T) {
		sc := semisynctest.Schedules(cfg).Draw(t, "schedule")
		seed := rapid.Uint64().Draw(t, "seed")
		h, err := semisynctest.Run(cfg, seed, sc)
		require.NoError(t, err)
		if err := h.Check(); err != nil {
			t.Fatalf("%v\nseed %d, schedule:\n%s\nhistory:\n%s", err, seed, sc, h)
		}
	})
}

// One seed, one history, byte for byte.
func TestDeterministic(t *testing.T) {
	cfg := semisynctest.Config{Disk: semisynctest.Disk{Torn: true, SyncFail: 0.05}, Trace: true}
	for i := range 20 {
		sc := semisynctest.Schedules(cfg).Example(i)
		a, err := semisynctest.Run(cfg, uint64(i), sc)
		require.NoError(t, err)
		b, err := semisynctest.Run(cfg, uint64(i), sc)
		require.NoError(t, err)
		require.Equal(t, a.String(), b.String())
		again, err := semisynctest.ParseSchedule(sc.String())
		require.NoError(t, err)
		require.Equal(t, sc, again, "the text form reads back")
	}
}

// A replica that acknowledges once its relay log is flushed, not synced
// (MySQL's rule), loses acknowledged commits in a power failure: the
// checker finds it, and the shrunk schedule is a short story.
func TestFlushedReplicaLosesAcks(t *testing.T) {
	cfg := semisynctest.Config{FlushedAcks: true}
	f, err := semisynctest.Explore(cfg, 1000, semisynctest.NoLostAck)
	require.NoError(t, err)
	require.NotNil(t, f, "no schedule of 1000 lost an acknowledged commit")
	golden(t, "flushed-acks.golden", f.Error())
	// The scenario file replays to the same failure.
	path := filepath.Join(t.TempDir(), "scenario.txt")
	require.NoError(t, os.WriteFile(path, []byte(f.Scenario()), 0o644))
	_, err = semisynctest.ReplayFile(cfg, path, semisynctest.NoLostAck)
	require.EqualError(t, err, f.Err.Error())
}

// A host that makes a commit visible before its wait returns
// (AFTER_COMMIT) while claiming AFTER_SYNC is found.
func TestAfterCommitHostCaught(t *testing.T) {
	cfg := semisynctest.Config{VisibleAtCommit: true}
	f, err := semisynctest.Explore(cfg, 1000, semisynctest.AfterSyncVisibility)
	require.NoError(t, err)
	require.NotNil(t, f)
	golden(t, "after-commit.golden", f.Error())
}

var update = flag.Bool("update", false, "rewrite the golden files")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, string(want), got)
}

// The library holds on 10^4 schedules (Explore's, each with its seed),
// the number CI runs; a release runs 10^6 (see the README).
func TestLibraryHoldsMany(t *testing.T) {
	n := 10000
	if testing.Short() {
		n = 1000
	}
	for _, cfg := range []semisynctest.Config{
		{Disk: semisynctest.Disk{Torn: true, SyncFail: 0.01}},
		{Flavor: semisync.FlavorMariaDB, Replicas: 2, Vars: "rpl_semi_sync_master_wait_point = AFTER_SYNC"},
		{Flavor: semisync.FlavorMySQLLegacy, Replicas: 5, Vars: "rpl_semi_sync_master_wait_for_slave_count = 3"},
		{Net: semisynctest.Net{Delay: 5 * time.Millisecond, Jitter: 5 * time.Millisecond, Loss: 0.05, Dup: 0.05, Reorder: 0.05}, Disk: semisynctest.Disk{Torn: true, Garbage: true}},
	} {
		f, err := semisynctest.Explore(cfg, n/4)
		require.NoError(t, err)
		if f != nil {
			t.Fatalf("%v\nhistory:\n%s", f, f.History)
		}
	}
}

// Held, the failover check a real cluster runs: commits held by fewer than
// want logs, by any identity; a log holding one twice is an error.
func TestHeld(t *testing.T) {
	short, err := semisynctest.Held([]string{"a", "b", "c"}, [][]string{{"a", "b", "x"}, {"a"}, {"b", "a"}}, 2)
	require.NoError(t, err)
	require.Equal(t, []string{"c"}, short)
	_, err = semisynctest.Held([]int{1}, [][]int{{1, 2, 1}}, 1)
	require.ErrorIs(t, err, semisynctest.ErrHeldTwice)
}

// A source host that sends a commit to its replicas before its binlog
// has fsynced it: a crash of the source in between leaves replicas holding
// what the restarted source never wrote. NoPhantom finds it.
func TestPublishBeforeSyncCaught(t *testing.T) {
	cfg := semisynctest.Config{PublishBeforeSync: true, BinlogSync: 10 * time.Millisecond} // a slow disk
	f, err := semisynctest.Explore(cfg, 1000, semisynctest.NoPhantom)
	require.NoError(t, err)
	require.NotNil(t, f, "no schedule of 1000 left a phantom")
	golden(t, "publish-before-sync.golden", f.Error())
}

// A failover: the replica holding the most becomes the source, the others
// replicate from it, and every acknowledged commit is in its binlog.
func TestFailover(t *testing.T) {
	sc, err := semisynctest.ParseSchedule("commit\ncommit\ncommit\nadvance 10ms\nfailover\ncommit\nadvance 10ms\nfailover\n")
	require.NoError(t, err)
	h, err := semisynctest.Replay(semisynctest.Config{Trace: true}, 7, sc)
	require.NoError(t, err, "%s", h)
	require.Contains(t, h.String(), "promoted with 3 events")
	require.Contains(t, h.String(), "failover: not done", "one per run")
	require.Len(t, h.Binlog, 6, "the 3 commits it held, the one after, and the 2 of the liveness probe")
}

// A crash that leaves junk where unsynced events were (Disk.Garbage): the
// relay log finds it by its checksums when reopened and cuts it, so no
// replica holds bytes the source never wrote. A store that syncs lazily
// leaves an unsynced tail for the crash to damage.
func TestGarbageCut(t *testing.T) {
	cfg := semisynctest.Config{Disk: semisynctest.Disk{Garbage: true}, Trace: true, Relay: func(d *semisynctest.DiskFile) replica.RelayLog {
		return &lazyStore{DiskFile: d}
	}}
	damaged := 0
	for i := range 300 {
		h, err := semisynctest.Run(cfg, uint64(i), semisynctest.Schedules(cfg).Example(i))
		require.NoError(t, err)
		require.NoError(t, h.Check(semisynctest.NoPhantom, semisynctest.OneOutcome))
		if strings.Contains(h.String(), "damaged events") {
			damaged++
		}
	}
	require.NotZero(t, damaged, "no crash left junk in 300 runs")
}
