package semisynctest_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/semisync-go/semisync/semisynctest"
)

// The library alone, acknowledging after fsync, holds every checker on
// schedules rapid generates (a failure shrinks and prints its seed and
// schedule).
func TestLibraryHolds(t *testing.T) {
	cfg := semisynctest.Config{Disk: semisynctest.Disk{Torn: true, SyncFail: 0.01}}
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
	cfg := semisynctest.Config{Disk: semisynctest.Disk{Torn: true, SyncFail: 0.05}}
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
	t.Logf("%v", f)
	require.LessOrEqual(t, len(f.Schedule), 6)
	require.ErrorContains(t, f.Err, "NoLostAck")
}

// A host that makes a commit visible before its wait returns
// (AFTER_COMMIT) while claiming AFTER_SYNC is found.
func TestAfterCommitHostCaught(t *testing.T) {
	cfg := semisynctest.Config{VisibleAtCommit: true}
	f, err := semisynctest.Explore(cfg, 1000, semisynctest.AfterSyncVisibility)
	require.NoError(t, err)
	require.NotNil(t, f)
	t.Logf("%v", f)
	require.Equal(t, "commit\n", f.Schedule.String())
}
