package binlog_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/examples/binlog"
	"github.com/semisync-go/semisync/relaylog"
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

// appendAll appends events and fails the test on error.
func appendAll(t *testing.T, b *binlog.File, events ...string) {
	t.Helper()
	for _, ev := range events {
		_, err := b.Append([]byte(ev))
		require.NoError(t, err)
	}
}

// Events reach the file, and cursors, at Sync; a cursor waiting at the end
// is woken by it; reopening reads them back with the same positions.
func TestFileAppendSyncPublishReopen(t *testing.T) {
	dir := t.TempDir()
	b, rec, err := binlog.OpenFile(dir, "binlog")
	require.NoError(t, err)
	require.False(t, rec.Cut())
	require.Equal(t, rec, b.Recovery())
	require.Equal(t, pos(4), b.Head())
	end, err := b.Append([]byte("one"))
	require.NoError(t, err)
	require.Equal(t, pos(7), end)
	appendAll(t, b, "two")
	require.Empty(t, readFrom(t, b, semisync.Position{}), "nothing before Sync")
	c, err := b.Open(pos(4))
	require.NoError(t, err)
	defer c.Close()
	require.Empty(t, readAll(t, c))
	wait := c.Wait()
	n := 0
	require.NoError(t, relaylog.Read(b.Path(), func(relaylog.Record) error { n++; return nil }))
	require.Zero(t, n, "nothing in the file before Sync")

	require.NoError(t, b.Sync())
	require.Equal(t, int64(1), b.Syncs())
	want := []transport.Event{{Data: []byte("one"), End: pos(7)}, {Data: []byte("two"), End: pos(10)}}
	select {
	case <-wait:
	default:
		t.Fatal("Sync did not wake a cursor waiting at the end")
	}
	require.Equal(t, want, readAll(t, c))
	require.Equal(t, want, readFrom(t, b, semisync.Position{}))
	require.Equal(t, want[1:], readFrom(t, b, pos(7)))
	for _, bad := range []semisync.Position{pos(8), pos(11), semisync.FilePos("binlog.000002", 4)} {
		_, err = b.Open(bad)
		require.ErrorIs(t, err, binlog.ErrUnknownPosition, "%v", bad)
	}

	appendAll(t, b, "never synced")
	_, err = b.Open(pos(22))
	require.ErrorIs(t, err, binlog.ErrUnknownPosition, "appended, not synced")
	require.NoError(t, b.Close())
	_, _, err = c.Next()
	require.ErrorIs(t, err, relaylog.ErrClosed, "a cursor after Close")
	require.NoError(t, b.Close())
	require.ErrorIs(t, b.Sync(), relaylog.ErrClosed)
	_, err = b.Append([]byte("after close"))
	require.ErrorIs(t, err, relaylog.ErrClosed)

	b, rec, err = binlog.OpenFile(dir, "binlog")
	require.NoError(t, err)
	defer b.Close()
	require.False(t, rec.Cut(), "nothing written reached the file")
	require.Equal(t, pos(10), b.Head())
	require.Equal(t, 2, b.Len())
	require.Equal(t, want, readFrom(t, b, semisync.Position{}), "readable on open")
	require.Equal(t, want, readFrom(t, b, pos(4)), "from the file's first position")
	end, err = b.Append([]byte("three"))
	require.NoError(t, err)
	require.Equal(t, pos(15), end)
	_, err = b.Append(nil)
	require.ErrorIs(t, err, relaylog.ErrInvalidWrite, "an empty event")
}

// markLen is the length of the sync mark relaylog writes after each
// fsync.
const markLen = 22

// A crash inside the last write leaves a torn tail (a cut, or zeros) that
// opening cuts and reports; damage before the last sync mark is refused
// and the file left as it is.
func TestFileRecovery(t *testing.T) {
	dir := t.TempDir()
	b, _, err := binlog.OpenFile(dir, "binlog")
	require.NoError(t, err)
	appendAll(t, b, "first", "second")
	require.NoError(t, b.Sync())
	path := b.Path()
	two, err := os.ReadFile(path)
	require.NoError(t, err)
	appendAll(t, b, "third")
	require.NoError(t, b.Sync())
	require.NoError(t, b.Close())
	three, err := os.ReadFile(path)
	require.NoError(t, err)

	reopen := func(t *testing.T, data []byte) (*binlog.File, relaylog.Recovery) {
		t.Helper()
		require.NoError(t, os.WriteFile(path, data, 0o644))
		b, rec, err := binlog.OpenFile(dir, "binlog")
		require.NoError(t, err)
		t.Cleanup(func() { b.Close() })
		require.Equal(t, rec, b.Recovery())
		return b, rec
	}
	third := len(three) - markLen // where the third event's record ends
	for cut := len(two) + 1; cut < len(three); cut++ {
		b, rec := reopen(t, three[:cut])
		require.Equal(t, cut != third, rec.Cut(), "cut at %d", cut) // at third: the mark is lost, nothing torn
		if cut < third {
			require.Equal(t, 2, b.Len(), "cut at %d", cut)
			require.Equal(t, pos(4+5+6), b.Head())
			require.Equal(t, int64(len(two)), rec.CutAt)
		} else {
			require.Equal(t, 3, b.Len(), "cut at %d: only the last mark is torn", cut)
			if rec.Cut() {
				require.Equal(t, int64(third), rec.CutAt)
			}
		}
		require.Equal(t, b.Head(), rec.End)
	}
	zeros := func(data []byte, n int) []byte { return append(append([]byte(nil), data...), make([]byte, n)...) }
	b, rec := reopen(t, zeros(three, 4096))
	require.Equal(t, 3, b.Len(), "a zero tail holds no events")
	require.Equal(t, int64(4096), rec.CutBytes)
	b, _ = reopen(t, zeros(three[:len(two)+10], 4096))
	require.Equal(t, 2, b.Len(), "a torn event followed by zeros is cut")

	bad := append([]byte(nil), three...)
	bad[len(two)-markLen-2] ^= 0xff // a byte of the second event
	require.NoError(t, os.WriteFile(path, bad, 0o644))
	_, _, err = binlog.OpenFile(dir, "binlog")
	require.ErrorIs(t, err, relaylog.ErrCorrupt)
	after, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, bad, after, "a refused file is left as it is")

	require.NoError(t, os.WriteFile(path, []byte("not a binlog"), 0o644))
	_, _, err = binlog.OpenFile(dir, "binlog")
	require.ErrorIs(t, err, relaylog.ErrNotRelayLog)
	_, _, err = binlog.OpenFile(filepath.Join(dir, "missing"), "binlog")
	require.Error(t, err)
}

// Regression: the binlog's last event, fsynced by Sync (a commit that may
// have returned), used to be cut silently when any bit of it was damaged.
// Its sync mark follows it now: every flip of every bit of its record is
// refused, with the record's offset, and the file left as it is.
func TestFileSyncedLastEventDamageRefused(t *testing.T) {
	dir := t.TempDir()
	b, _, err := binlog.OpenFile(dir, "binlog")
	require.NoError(t, err)
	var start int64
	for i := range 20 {
		fi, err := os.Stat(b.Path())
		require.NoError(t, err)
		start = fi.Size()
		appendAll(t, b, fmt.Sprintf("INSERT %d", i))
		require.NoError(t, b.Sync())
	}
	require.NoError(t, b.Close())
	data, err := os.ReadFile(b.Path())
	require.NoError(t, err)
	end := int64(len(data)) - markLen
	for at := start; at < end; at++ {
		for bit := range 8 {
			bad := slices.Clone(data)
			bad[at] ^= 1 << bit
			require.NoError(t, os.WriteFile(b.Path(), bad, 0o644))
			_, _, err := binlog.OpenFile(dir, "binlog")
			var ce *relaylog.CorruptError
			require.ErrorAs(t, err, &ce, "byte %d bit %d", at, bit)
			require.Equal(t, start, ce.Offset)
			after, err := os.ReadFile(b.Path())
			require.NoError(t, err)
			require.Equal(t, bad, after, "a refused file is left as it is")
		}
	}
}

// Discard drops a group whose write failed part way: nothing of it reaches
// the file or cursors, and Head and Len go back.
func TestFileDiscard(t *testing.T) {
	b, _, err := binlog.OpenFile(t.TempDir(), "binlog")
	require.NoError(t, err)
	defer b.Close()
	appendAll(t, b, "one")
	require.NoError(t, b.Sync())
	appendAll(t, b, "half of a group")
	_, err = b.Append(nil) // the group's next event fails
	require.ErrorIs(t, err, relaylog.ErrInvalidWrite)
	b.Discard()
	require.Equal(t, pos(7), b.Head())
	require.Equal(t, 1, b.Len())
	appendAll(t, b, "two")
	require.NoError(t, b.Sync())
	require.Equal(t, []transport.Event{{Data: []byte("one"), End: pos(7)}, {Data: []byte("two"), End: pos(10)}}, readFrom(t, b, semisync.Position{}))
	fresh, _, err := binlog.OpenFile(t.TempDir(), "binlog")
	require.NoError(t, err)
	defer fresh.Close()
	appendAll(t, fresh, "x")
	fresh.Discard()
	require.Equal(t, pos(4), fresh.Head())
	require.Zero(t, fresh.Len())
}
