package relaylog

import (
	"bytes"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/semisync-go/semisync"
)

// changingFile is a file that a File rewrites while a read-only scan reads
// it: its ReadAt calls after the first switchAfter see after instead of
// before, and Stat reports the length and a modification time of the
// content it sees.
type changingFile struct {
	before, after []byte
	switchAfter   int
	reads         int
}

func (c *changingFile) content() []byte {
	if c.reads > c.switchAfter {
		return c.after
	}
	return c.before
}

func (c *changingFile) ReadAt(p []byte, off int64) (int, error) {
	c.reads++
	b := c.content()
	if off >= int64(len(b)) {
		return 0, io.EOF
	}
	n := copy(p, b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (c *changingFile) Stat() (fs.FileInfo, error) {
	mod := time.Unix(1, 0)
	if c.reads > c.switchAfter {
		mod = time.Unix(2, 0)
	}
	return fileInfo{size: int64(len(c.content())), mod: mod}, nil
}

type fileInfo struct {
	fs.FileInfo
	size int64
	mod  time.Time
}

func (fi fileInfo) Size() int64        { return fi.size }
func (fi fileInfo) ModTime() time.Time { return fi.mod }

// relayBytes writes a relay log file: each batch flushed, and fsynced
// unless it is the last and synced is false. It returns its bytes.
func relayBytes(t *testing.T, synced bool, batches ...[]Record) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "relay")
	f, _, err := Open(path)
	require.NoError(t, err)
	for i, b := range batches {
		for _, r := range b {
			require.NoError(t, f.Write(r.Event, r.End))
		}
		require.NoError(t, f.Flush())
		if synced || i < len(batches)-1 {
			require.NoError(t, f.Sync())
		}
	}
	require.NoError(t, f.Close())
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return data
}

// A read-only scan alongside a File's Rewind: the records it is reading
// past the last fsync are cut and others written in their place, fsynced
// and marked. Reading part of the old record and part of the new one, and
// then the new sync mark, looks like damage before a mark; reading past
// the new, shorter end looks like a read error. The scan sees that the
// file changed, resumes at the item it could not read, and reports the
// new records: no false ErrCorrupt, no error.
func TestScanReadOnlyResumesAfterRewind(t *testing.T) {
	first := Record{End: semisync.FilePos("mysql-bin.000001", 100), Event: bytes.Repeat([]byte{'a'}, 40)}
	// Events longer than the scan's read buffer, so that it reads them in
	// two pieces.
	old := Record{End: semisync.FilePos("mysql-bin.000001", 200_000), Event: bytes.Repeat([]byte{'o'}, 100_000)}
	b := Record{End: semisync.FilePos("mysql-bin.000001", 190_000), Event: bytes.Repeat([]byte{'b'}, 90_000)}
	c := Record{End: semisync.FilePos("mysql-bin.000001", 210_000), Event: bytes.Repeat([]byte{'c'}, 20_000)}
	shorter := Record{End: semisync.FilePos("mysql-bin.000001", 180_000), Event: bytes.Repeat([]byte{'s'}, 80_000)}
	longer := Record{End: semisync.FilePos("mysql-bin.000001", 300_000), Event: bytes.Repeat([]byte{'l'}, 200_000)}
	before := relayBytes(t, false, []Record{first}, []Record{old})
	for _, tt := range []struct {
		name   string
		after  []byte
		want   []Record
		single func(t *testing.T, s *scanner, err error) // what one pass without the retry makes of it
	}{
		{
			"mixed bytes, then a mark", relayBytes(t, true, []Record{first}, []Record{b}, []Record{c}), []Record{first, b, c},
			func(t *testing.T, s *scanner, err error) {
				require.NoError(t, err)
				require.NotNil(t, s.corrupt, "one pass takes the mix for damage before a mark")
			},
		},
		{
			"the file got shorter", relayBytes(t, true, []Record{first}, []Record{shorter}), []Record{first, shorter},
			func(t *testing.T, s *scanner, err error) { require.ErrorIs(t, err, io.ErrUnexpectedEOF) },
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			// Reads 1 (the magic) and 2 (the first 64 KiB) see the old
			// file, the rest the new one.
			cf := &changingFile{before: before, after: tt.after, switchAfter: 2}
			var got []Record
			s := &scanner{fn: func(it Item) error {
				if !it.Mark {
					got = append(got, Record{End: it.Record.End, Event: slices.Clone(it.Record.Event)})
				}
				return nil
			}}
			size, err := scanReadOnly(cf, s)
			require.NoError(t, err)
			require.Nil(t, s.corrupt)
			require.False(t, s.tail)
			require.Equal(t, int64(len(tt.after)), size)
			require.Equal(t, tt.want, got)

			cf = &changingFile{before: before, after: tt.after, switchAfter: 2}
			s = &scanner{}
			require.NoError(t, s.readHeader(cf))
			tt.single(t, s, s.run(cf, int64(len(before))))
		})
	}
	// A new record longer than the old one: the scan, bounded by the
	// length it found first, sees no mark after the mix and leaves it out
	// as a tail, without an error.
	cf := &changingFile{before: before, after: relayBytes(t, true, []Record{first}, []Record{longer}), switchAfter: 2}
	s := &scanner{}
	_, err := scanReadOnly(cf, s)
	require.NoError(t, err)
	require.Nil(t, s.corrupt)
	require.True(t, s.tail)
	require.Equal(t, int64(1), s.records)
}

// Damage that stays is refused after the retries, as a genuine one is.
func TestScanReadOnlyDamageStays(t *testing.T) {
	recs := []Record{
		{End: semisync.LSN(1), Event: []byte("one")},
		{End: semisync.LSN(2), Event: []byte("two")},
	}
	data := relayBytes(t, true, recs[:1], recs[1:])
	data[10] ^= 0x01
	cf := &changingFile{before: data, after: data, switchAfter: 0}
	s := &scanner{}
	_, err := scanReadOnly(cf, s)
	require.NoError(t, err)
	require.NotNil(t, s.corrupt)
	require.Equal(t, int64(len(magic)), s.corrupt.Offset)
}

// A Follower gives back the window a long record made it grow.
func TestFollowWindowShrinks(t *testing.T) {
	f, _, err := Open(filepath.Join(t.TempDir(), "relay"))
	require.NoError(t, err)
	defer f.Close()
	long := bytes.Repeat([]byte{'x'}, 1<<20)
	require.NoError(t, f.Write(long, semisync.FilePos("b.000001", uint64(4+len(long)))))
	for i := range 10 {
		require.NoError(t, f.Write([]byte("short"), semisync.FilePos("b.000001", uint64(4+len(long)+5*(i+1)))))
	}
	require.NoError(t, f.Flush())
	require.NoError(t, f.Sync())
	fl, err := f.Follow(semisync.Position{})
	require.NoError(t, err)
	defer fl.Close()
	r, ok, err := fl.Next()
	require.NoError(t, err)
	require.True(t, ok)
	require.Len(t, r.Event, len(long))
	require.GreaterOrEqual(t, cap(fl.win), len(long))
	for range 10 {
		r, ok, err = fl.Next()
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, "short", string(r.Event))
	}
	require.LessOrEqual(t, cap(fl.win), followWindow)
}
