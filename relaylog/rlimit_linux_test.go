//go:build linux

package relaylog_test

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/semisync-go/semisync/relaylog"
)

// syncWithFileSizeLimit runs r.Sync with the process's file size limit
// (RLIMIT_FSIZE) set to limit bytes: writes past it fail with EFBIG (Go
// ignores SIGXFSZ), a real failing write with the file system left as it
// is. The limit is the process's: no test of this package runs in
// parallel.
func syncWithFileSizeLimit(t *testing.T, r *relaylog.File, limit int64) error {
	t.Helper()
	var old syscall.Rlimit
	require.NoError(t, syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old))
	lim := old
	lim.Cur = uint64(limit)
	require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim))
	err := r.Sync()
	require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old))
	return err
}

// A sync mark whose write fails after a good fsync (the disk full, here
// the file size limit) is undone, whole or partial, and the error
// returned: Synced does not move, so nothing is acknowledged, the file
// stays usable, and the next Sync fsyncs again and writes the mark.
func TestSyncMarkWriteFails(t *testing.T) {
	for _, room := range []int64{0, 10} { // bytes of the mark that fit
		t.Run(fmt.Sprintf("%d bytes fit", room), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "relay")
			r := openRelay(t, path)
			recs := relayRecords(2)
			writeFlush(t, r, recs[0])
			require.NoError(t, r.Sync())
			writeFlush(t, r, recs[1])
			size := r.Stats().Bytes
			syncs := r.Stats().Syncs

			err := syncWithFileSizeLimit(t, r, size+room)
			require.ErrorIs(t, err, syscall.EFBIG)
			require.NotErrorIs(t, err, relaylog.ErrFailed)
			require.ErrorContains(t, err, "relaylog: writing the sync mark")
			require.NoError(t, r.Err(), "the file stays usable")
			require.Equal(t, recs[0].End, r.Synced(), "Synced does not move")
			require.Equal(t, syncs+1, r.Stats().Syncs, "the fsync happened")
			require.Equal(t, size, r.Stats().Bytes)
			fi, err := os.Stat(path)
			require.NoError(t, err)
			require.Equal(t, size, fi.Size(), "the partial mark is undone")

			require.NoError(t, r.Sync(), "the next Sync tries again")
			require.Equal(t, recs[1].End, r.Synced())
			require.Equal(t, size+markLen, r.Stats().Bytes)
			pos, err := r.Rewind()
			require.NoError(t, err)
			require.Equal(t, recs[1].End, pos)
			require.NoError(t, r.Close())
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			require.Equal(t, size+markLen, int64(len(data)))
			requireMarkAt(t, data, size)
			require.Equal(t, recs, readRecords(t, path))
		})
	}
}
