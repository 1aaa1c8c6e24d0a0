package binlog_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/examples/binlog"
	"github.com/semisync-go/semisync/transport"
)

var _ transport.Binlog = (*binlog.File)(nil)

// readFrom returns every event a cursor from start has now.
func readFrom(t *testing.T, b transport.Binlog, start semisync.Position) []transport.Event {
	t.Helper()
	c, err := b.Open(start)
	require.NoError(t, err)
	defer c.Close()
	return readAll(t, c)
}

func pos(off uint64) semisync.Position { return semisync.FilePos("binlog.000001", off) }

// Positions are file offsets, frames included; events reach the file at
// Sync and cursors at Publish; reopening reads them back.
func TestFileAppendSyncPublishReopen(t *testing.T) {
	dir := t.TempDir()
	b, err := binlog.OpenFile(dir, "binlog")
	require.NoError(t, err)
	require.Equal(t, pos(4), b.Head())
	require.Equal(t, pos(4+8+3), b.Append([]byte("one")))
	require.Equal(t, pos(4+8+3+8+3), b.Append([]byte("two")))
	require.Empty(t, readFrom(t, b, semisync.Position{}), "nothing before Publish")
	fi, err := os.Stat(b.Path())
	require.NoError(t, err)
	require.Equal(t, int64(4), fi.Size(), "nothing written before Sync")

	require.NoError(t, b.Sync())
	b.Publish()
	require.Equal(t, int64(1), b.Syncs())
	want := []transport.Event{{Data: []byte("one"), End: pos(15)}, {Data: []byte("two"), End: pos(26)}}
	require.Equal(t, want, readFrom(t, b, semisync.Position{}))
	require.Equal(t, want[1:], readFrom(t, b, pos(15)))
	_, err = b.Open(pos(16))
	require.ErrorIs(t, err, binlog.ErrUnknownPosition)

	b.Append([]byte("never synced"))
	require.NoError(t, b.Close())
	require.NoError(t, b.Close())
	require.ErrorIs(t, b.Sync(), binlog.ErrClosed)

	b, err = binlog.OpenFile(dir, "binlog")
	require.NoError(t, err)
	defer b.Close()
	require.Equal(t, pos(26), b.Head())
	require.Equal(t, 2, b.Len())
	require.Equal(t, want, readFrom(t, b, semisync.Position{}), "published on open")
	require.Equal(t, pos(26+8+5), b.Append([]byte("three")))
}

// A crash inside the last event's write leaves a torn tail that opening
// cuts; damage before the last event is refused.
func TestFileRecovery(t *testing.T) {
	dir := t.TempDir()
	b, err := binlog.OpenFile(dir, "binlog")
	require.NoError(t, err)
	for _, ev := range []string{"first", "second", "third"} {
		b.Append([]byte(ev))
	}
	require.NoError(t, b.Sync())
	path := b.Path()
	require.NoError(t, b.Close())
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	lastStart := 4 + 8 + 5 + 8 + 6

	for cut := lastStart + 1; cut < len(data); cut++ {
		require.NoError(t, os.WriteFile(path, data[:cut], 0o644))
		b, err := binlog.OpenFile(dir, "binlog")
		require.NoError(t, err, "cut at %d", cut)
		require.Equal(t, 2, b.Len(), "cut at %d", cut)
		require.Equal(t, pos(uint64(lastStart)), b.Head())
		require.NoError(t, b.Close())
		fi, err := os.Stat(path)
		require.NoError(t, err)
		require.Equal(t, int64(lastStart), fi.Size(), "the torn tail is cut from the file")
	}

	bad := append([]byte(nil), data...)
	bad[4+8] ^= 0xff // a byte of the first event
	require.NoError(t, os.WriteFile(path, bad, 0o644))
	_, err = binlog.OpenFile(dir, "binlog")
	require.ErrorIs(t, err, binlog.ErrCorrupt)

	require.NoError(t, os.WriteFile(path, []byte("not a binlog"), 0o644))
	_, err = binlog.OpenFile(dir, "binlog")
	require.ErrorIs(t, err, binlog.ErrCorrupt)
	_, err = binlog.OpenFile(filepath.Join(dir, "missing"), "binlog")
	require.Error(t, err)
}
