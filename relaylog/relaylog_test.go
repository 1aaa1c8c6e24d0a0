package relaylog_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/relaylog"
	"github.com/semisync-go/semisync/replica"
)

// A File is the relay log of a replica stream, with fsync and Discard.
var (
	_ replica.RelayLog  = (*relaylog.File)(nil)
	_ replica.Syncer    = (*relaylog.File)(nil)
	_ replica.Discarder = (*relaylog.File)(nil)
)

// The binlog files of the records built here.
const (
	firstBinlog  = "mysql-bin.000001"
	secondBinlog = "mysql-bin.000002"
)

// fdeLen is the length of the format-description-like events built here.
const fdeLen = 252

// event returns n bytes of event: tag, then '.' to fill. The package does
// not look inside events, so their contents need only tell them apart (and
// not end in zeros, which recovery takes for an unwritten tail).
func event(tag string, n int) []byte {
	b := bytes.Repeat([]byte{'.'}, n)
	copy(b, tag)
	return b
}

// xidRecord is a record of a 31-byte event (a MySQL XID event's size)
// for transaction xid, ending at offset end of file.
func xidRecord(file string, end uint32, xid uint64) relaylog.Record {
	return relaylog.Record{
		End:   semisync.FilePos(file, uint64(end)),
		Event: event(fmt.Sprintf("xid %d", xid), 31),
	}
}

// relayRecords returns n XID records of mysql-bin.000001, each event 31
// bytes, ending 31 bytes after the previous one.
func relayRecords(n int) []relaylog.Record {
	recs := make([]relaylog.Record, n)
	for i := range recs {
		recs[i] = xidRecord(firstBinlog, uint32(328+31*(i+1)), uint64(i))
	}
	return recs
}

// openRelay opens the relay log file at path, which must need no cut, and
// closes it when the test ends.
func openRelay(t testing.TB, path string) *relaylog.File {
	t.Helper()
	r, rec, err := relaylog.Open(path)
	require.NoError(t, err)
	t.Cleanup(func() { r.Close() })
	require.False(t, rec.Cut(), "%v", rec)
	require.Equal(t, rec, r.Recovery())
	return r
}

// writeFlush writes recs and flushes them.
func writeFlush(t testing.TB, r *relaylog.File, recs ...relaylog.Record) {
	t.Helper()
	for _, rec := range recs {
		require.NoError(t, r.Write(rec.Event, rec.End))
	}
	require.NoError(t, r.Flush())
}

// testingT is what the helpers need of a *testing.T or a *rapid.T.
type testingT interface {
	require.TestingT
	Helper()
}

// readRecords returns every record of the relay log file at path, with
// copies of the events.
func readRecords(t testingT, path string) []relaylog.Record {
	t.Helper()
	var recs []relaylog.Record
	require.NoError(t, relaylog.Read(path, func(r relaylog.Record) error {
		recs = append(recs, relaylog.Record{End: r.End, Event: slices.Clone(r.Event)})
		return nil
	}))
	return recs
}

// readNothing is a Read callback that keeps nothing.
func readNothing(relaylog.Record) error { return nil }

// relayWithRecords writes recs to a new relay log file, one Flush per
// record and one Sync at the end, closes it and returns its path, its
// bytes and the offset at which each record starts (with the end of the
// last record last; the Sync's mark follows it).
func relayWithRecords(t testing.TB, recs []relaylog.Record) (path string, data []byte, starts []int64) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "relay")
	r, _, err := relaylog.Open(path)
	require.NoError(t, err)
	starts = []int64{r.Stats().Bytes}
	for _, rec := range recs {
		writeFlush(t, r, rec)
		starts = append(starts, r.Stats().Bytes)
	}
	require.NoError(t, r.Sync())
	require.NoError(t, r.Close())
	data, err = os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, starts[len(starts)-1]+markLen, int64(len(data)))
	requireMarkAt(t, data, starts[len(starts)-1])
	return path, data, starts
}

func TestOpenCreates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "relay")
	r := openRelay(t, path)
	require.Equal(t, path, r.Path())
	require.True(t, r.Last().IsZero())
	require.True(t, r.Synced().IsZero())
	require.NoError(t, r.Err())

	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, []byte("SSRL\x02"), data, "a new file holds the magic and the format version")
	require.Equal(t, relaylog.Stats{Bytes: int64(len(data))}, r.Stats())
	require.Empty(t, readRecords(t, path))
}

func TestFileWriteFlushSync(t *testing.T) {
	path := filepath.Join(t.TempDir(), "relay")
	r := openRelay(t, path)
	recs := relayRecords(3)
	magic := r.Stats().Bytes

	// Write only buffers: nothing moves.
	require.NoError(t, r.Write(recs[0].Event, recs[0].End))
	require.True(t, r.Last().IsZero())
	require.Equal(t, relaylog.Stats{Bytes: magic}, r.Stats())
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, magic, fi.Size(), "nothing reaches the file before Flush")

	// Flush: the record is in the file, not yet fsynced.
	require.NoError(t, r.Flush())
	require.Equal(t, recs[0].End, r.Last())
	require.True(t, r.Synced().IsZero(), "Synced moves only with Sync")
	st := r.Stats()
	require.Equal(t, int64(1), st.Records)
	require.Equal(t, int64(1), st.Flushes)
	require.Zero(t, st.Syncs)
	require.Greater(t, st.Bytes, magic+int64(len(recs[0].Event)))
	fi, err = os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, st.Bytes, fi.Size())

	// Sync: fsynced.
	require.NoError(t, r.Sync())
	require.Equal(t, recs[0].End, r.Synced())
	require.Equal(t, int64(1), r.Stats().Syncs)

	// Nothing new: neither Sync nor Flush does anything. The Sync
	// appended one sync mark.
	require.NoError(t, r.Sync())
	require.NoError(t, r.Flush())
	require.Equal(t, relaylog.Stats{Records: 1, Bytes: st.Bytes + markLen, Flushes: 1, Syncs: 1}, r.Stats())

	// Two more records in one Flush.
	writeFlush(t, r, recs[1:]...)
	require.Equal(t, recs[2].End, r.Last())
	require.Equal(t, recs[0].End, r.Synced())
	require.Equal(t, int64(3), r.Stats().Records)
	require.Equal(t, int64(2), r.Stats().Flushes)
	require.NoError(t, r.Sync())
	require.Equal(t, recs[2].End, r.Synced())
	require.Equal(t, int64(2), r.Stats().Syncs)
	require.Equal(t, recs, readRecords(t, path))
}

func TestFileReopen(t *testing.T) {
	// A rotate's record, an event that does not advance (same end), and
	// positions in the next file.
	recs := relayRecords(3)
	recs = append(recs,
		relaylog.Record{End: semisync.FilePos(secondBinlog, 4), Event: event("rotate", 47)},
		relaylog.Record{End: semisync.FilePos(secondBinlog, 4), Event: event("heartbeat", 35)},
		relaylog.Record{End: semisync.FilePos(secondBinlog, fdeLen+4), Event: event("format description", fdeLen)},
	)
	path, data, _ := relayWithRecords(t, recs)

	r := openRelay(t, path)
	require.Equal(t, recs[len(recs)-1].End, r.Last())
	require.Equal(t, r.Last(), r.Synced(), "what a reopened file holds is fsynced")
	require.Equal(t, relaylog.Stats{Records: int64(len(recs)), Bytes: int64(len(data))}, r.Stats())
	requireFileIs(t, path, data) // it ends in a sync mark: Open adds none
	require.Equal(t, recs, readRecords(t, path))

	// Appending after a reopen continues the file.
	more := xidRecord(secondBinlog, fdeLen+4+31, 9)
	writeFlush(t, r, more)
	require.NoError(t, r.Close())
	require.Equal(t, append(recs, more), readRecords(t, path))
}

func TestFileLSNPositions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "relay")
	r := openRelay(t, path)
	var recs []relaylog.Record
	for i := range 3 {
		recs = append(recs, relaylog.Record{End: semisync.LSN(uint64(1000 * (i + 1))), Event: event(fmt.Sprintf("xid %d", i), 27)})
	}
	writeFlush(t, r, recs...)
	require.NoError(t, r.Close())
	require.Equal(t, recs, readRecords(t, path))
	require.Equal(t, semisync.LSN(3000), openRelay(t, path).Last())
}

// The package does not interpret events: any length from 1 byte on is a
// record, the 19-byte minimum of a MySQL event being MySQL's business.
func TestFileShortEvents(t *testing.T) {
	path := filepath.Join(t.TempDir(), "relay")
	r := openRelay(t, path)
	recs := []relaylog.Record{
		{End: semisync.LSN(1), Event: []byte{0}},
		{End: semisync.LSN(2), Event: []byte("ab")},
		{End: semisync.LSN(2), Event: bytes.Repeat([]byte{0xff}, 18)},
	}
	writeFlush(t, r, recs...)
	require.NoError(t, r.Sync())
	require.NoError(t, r.Close())
	require.Equal(t, recs, readRecords(t, path))
	reopened := openRelay(t, path)
	require.Equal(t, semisync.LSN(2), reopened.Last())
	require.Equal(t, int64(len(recs)), reopened.Stats().Records)
}

func TestFileDiscard(t *testing.T) {
	path := filepath.Join(t.TempDir(), "relay")
	r := openRelay(t, path)
	recs := relayRecords(4)
	writeFlush(t, r, recs[:2]...)
	st := r.Stats()

	require.NoError(t, r.Write(recs[3].Event, recs[3].End))
	r.Discard()
	require.Equal(t, recs[1].End, r.Last())
	require.NoError(t, r.Flush())
	require.Equal(t, st, r.Stats(), "nothing left to flush")

	// The discarded end no longer bounds the next write.
	writeFlush(t, r, recs[2])
	require.NoError(t, r.Close())
	require.Equal(t, recs[:3], readRecords(t, path))
	require.Equal(t, recs[2].End, openRelay(t, path).Last())
}

func TestFileWriteErrors(t *testing.T) {
	recs := relayRecords(2)
	// A name that sorts after mysql-bin.*, so only its length is wrong.
	long := semisync.FilePos(strings.Repeat("z", semisync.MaxFileNameLen+1), 4)
	tests := []struct {
		name  string
		event []byte
		end   semisync.Position
		want  string // in the error
	}{
		{"end before the previous one", recs[0].Event, semisync.FilePos(firstBinlog, 100), "before"},
		{"end in an earlier file", recs[0].Event, semisync.FilePos("mysql-bin.000000", 1<<40), "before"},
		{"LSN after file positions", recs[0].Event, semisync.LSN(1 << 40), "before"},
		{"nil event", nil, recs[1].End, "0-byte event"},
		{"empty event", []byte{}, recs[1].End, "0-byte event"},
		{"file name too long", recs[1].Event, long, fmt.Sprintf("file name of %d bytes", semisync.MaxFileNameLen+1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "relay")
			r := openRelay(t, path)
			// The previous end is still in the buffer: Write checks
			// against what it was given, not what reached the file.
			require.NoError(t, r.Write(recs[0].Event, recs[0].End))
			err := r.Write(tt.event, tt.end)
			require.ErrorIs(t, err, relaylog.ErrInvalidWrite)
			require.ErrorContains(t, err, tt.want)
			require.True(t, strings.HasPrefix(err.Error(), "relaylog: "), "error %q", err)
			require.NoError(t, r.Flush())
			require.Equal(t, recs[0].End, r.Last())
			require.Equal(t, int64(1), r.Stats().Records)
			require.NoError(t, r.Err(), "a refused write does not fail the file")
			require.NoError(t, r.Close())
			require.Equal(t, recs[:1], readRecords(t, path))
		})
	}
}

func TestFileSameEndTwice(t *testing.T) {
	// Events that do not advance the position share their end with the
	// previous one.
	path := filepath.Join(t.TempDir(), "relay")
	r := openRelay(t, path)
	recs := relayRecords(1)
	hb := relaylog.Record{End: recs[0].End, Event: event("heartbeat", 35)}
	writeFlush(t, r, recs[0], hb)
	require.Equal(t, []relaylog.Record{recs[0], hb}, readRecords(t, path))
}

func TestFileClosed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "relay")
	r, _, err := relaylog.Open(path)
	require.NoError(t, err)
	recs := relayRecords(2)
	writeFlush(t, r, recs[0])
	require.NoError(t, r.Write(recs[1].Event, recs[1].End))
	require.NoError(t, r.Close())
	require.NoError(t, r.Close(), "Close is idempotent")

	require.ErrorIs(t, r.Write(recs[1].Event, recs[1].End), relaylog.ErrClosed)
	require.ErrorIs(t, r.Flush(), relaylog.ErrClosed)
	require.ErrorIs(t, r.Sync(), relaylog.ErrClosed)
	_, err = r.Rewind()
	require.ErrorIs(t, err, relaylog.ErrClosed)
	require.Equal(t, recs[0].End, r.Last())
	require.Equal(t, recs[:1], readRecords(t, path), "Close drops what was not flushed")
}

// A file whose creation a crash interrupted (empty, a start of the magic,
// or zeros no longer than it: the size was durable, the bytes not) is
// started again.
func TestOpenUnfinishedCreation(t *testing.T) {
	fresh := filepath.Join(t.TempDir(), "fresh")
	r, _, err := relaylog.Open(fresh)
	require.NoError(t, err)
	require.NoError(t, r.Close())
	fi, err := os.Stat(fresh)
	require.NoError(t, err)
	for _, data := range [][]byte{nil, []byte("SSR"), {0, 0}, make([]byte, fi.Size())} {
		path := filepath.Join(t.TempDir(), "relay")
		require.NoError(t, os.WriteFile(path, data, 0o644))
		r, rec, err := relaylog.Open(path)
		require.NoError(t, err, "%q", data)
		require.False(t, rec.Cut(), "%q: nothing held, nothing cut", data)
		require.True(t, r.Last().IsZero())
		require.NoError(t, r.Close())
		require.NoError(t, relaylog.Read(path, readNothing))
	}
}

func TestOpenErrors(t *testing.T) {
	_, good, _ := relayWithRecords(t, relayRecords(2))
	tests := []struct {
		name    string
		data    []byte
		wantErr error
	}{
		{"wrong magic", append([]byte("XSRL\x01"), good[5:]...), relaylog.ErrNotRelayLog},
		{"another format version", append([]byte("SSRL\x03"), good[5:]...), relaylog.ErrNotRelayLog},
		{"format version 0", append([]byte("SSRL\x00"), good[5:]...), relaylog.ErrNotRelayLog},
		{"a text file", []byte("hello, world\n"), relaylog.ErrNotRelayLog},
		{"shorter than the magic, not its start", []byte("XYZ"), relaylog.ErrNotRelayLog},
		{"zeros", make([]byte, 100), relaylog.ErrNotRelayLog},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "relay")
			require.NoError(t, os.WriteFile(path, tt.data, 0o644))
			_, _, err := relaylog.Open(path)
			require.ErrorIs(t, err, tt.wantErr)
			require.ErrorIs(t, relaylog.Read(path, readNothing), tt.wantErr)
			_, err = relaylog.Check(path, nil)
			require.ErrorIs(t, err, tt.wantErr)
			_, err = relaylog.Repair(path)
			require.ErrorIs(t, err, tt.wantErr)
			requireFileIs(t, path, tt.data)
		})
	}
	t.Run("missing directory", func(t *testing.T) {
		_, _, err := relaylog.Open(filepath.Join(t.TempDir(), "none", "relay"))
		require.ErrorIs(t, err, fs.ErrNotExist)
	})
	t.Run("Repair of a missing file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "relay")
		_, err := relaylog.Repair(path)
		require.ErrorIs(t, err, fs.ErrNotExist)
		_, err = os.Stat(path)
		require.ErrorIs(t, err, fs.ErrNotExist, "Repair creates nothing")
	})
	t.Run("Read of a missing file", func(t *testing.T) {
		require.ErrorIs(t, relaylog.Read(filepath.Join(t.TempDir(), "relay"), readNothing), fs.ErrNotExist)
	})
}

// header builds a record header whose own checksum is right, for the
// lengths and offset given, with bodySum as the body's checksum.
func header(evLen uint32, nameLen uint16, offset uint64, bodySum uint32) []byte {
	h := binary.LittleEndian.AppendUint32(nil, evLen)
	h = binary.LittleEndian.AppendUint16(h, nameLen)
	h = binary.LittleEndian.AppendUint64(h, offset)
	h = binary.LittleEndian.AppendUint32(h, crc32.Checksum(h, crc32.MakeTable(crc32.Castagnoli)))
	return binary.LittleEndian.AppendUint32(h, bodySum)
}

// A header whose checksum holds but whose lengths no Write produces is
// damage where the file proves it was fsynced (a sync mark follows), and
// a tail to cut past the last sync mark: its lengths cannot be trusted to
// find what follows.
func TestOpenImpossibleLengths(t *testing.T) {
	_, good, _ := relayWithRecords(t, relayRecords(1))
	tests := []struct {
		name    string
		evLen   uint32
		nameLen uint16
	}{
		{"empty event with a name", 0, 1},
		{"event over MaxEventLen", relaylog.MaxEventLen + 1, 0},
		{"file name over MaxFileNameLen", 31, semisync.MaxFileNameLen + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at := int64(len(good))
			bad := append(slices.Clone(good), header(tt.evLen, tt.nameLen, 1<<20, 0)...)
			marked := append(slices.Clone(bad), markAt(int64(len(bad)))...)

			path := filepath.Join(t.TempDir(), "relay")
			require.NoError(t, os.WriteFile(path, marked, 0o644))
			requireRefused(t, path, marked, at, "impossible lengths")

			require.NoError(t, os.WriteFile(path, bad, 0o644))
			requireRecovered(t, path, relayRecords(1), markLen)
		})
	}
}

// Records whose checksums hold but whose ends go backwards are damage
// where a sync mark follows them, and a tail past the last one.
func TestOpenEndsBackwards(t *testing.T) {
	recs := relayRecords(2)
	_, data, starts := relayWithRecords(t, recs)
	// Swap the two records: both are whole, in the wrong order.
	first, second := data[starts[0]:starts[1]], data[starts[1]:starts[2]]
	swapped := slices.Concat(data[:starts[0]], second, first, data[starts[2]:])
	path := filepath.Join(t.TempDir(), "relay")
	require.NoError(t, os.WriteFile(path, swapped, 0o644))
	requireRefused(t, path, swapped, starts[0]+int64(len(second)), fmt.Sprintf("ends at %v, before %v", recs[0].End, recs[1].End))

	require.NoError(t, os.WriteFile(path, swapped[:starts[2]], 0o644))
	requireRecovered(t, path, recs[1:], int64(len(first)))
}

func TestReadCallbackError(t *testing.T) {
	path, _, _ := relayWithRecords(t, relayRecords(3))
	stop := errors.New("stop")
	n := 0
	err := relaylog.Read(path, func(relaylog.Record) error {
		n++
		if n == 2 {
			return stop
		}
		return nil
	})
	require.ErrorIs(t, err, stop)
	require.Equal(t, 2, n)
}

// requireFileIs checks that the file at path holds exactly want.
func requireFileIs(t testingT, path string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	require.True(t, bytes.Equal(want, got), "the file changed: %d bytes, want %d", len(got), len(want))
}

// appendToFile appends b to the file at path, as a crashed writer might
// have left it.
func appendToFile(t testing.TB, path string, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	require.NoError(t, err)
	_, err = f.Write(b)
	require.NoError(t, err)
	require.NoError(t, f.Close())
}

// requireRecovered opens the relay log file at path, expects it to hold
// recs after cutting cut bytes from its end, and that a record written
// after that reads back after them. Open marks what it keeps as fsynced.
func requireRecovered(t testing.TB, path string, recs []relaylog.Record, cut int64) relaylog.Recovery {
	t.Helper()
	fi, err := os.Stat(path)
	require.NoError(t, err)
	before := fi.Size()
	var held []relaylog.Record
	rep, err := relaylog.Check(path, func(it relaylog.Item) error {
		if !it.Mark {
			held = append(held, relaylog.Record{End: it.Record.End, Event: slices.Clone(it.Record.Event)})
		}
		return nil
	})
	require.NoError(t, err)
	require.Nil(t, rep.Corrupt)
	require.Equal(t, recs, held, "Check reports the records Open keeps")
	require.Equal(t, recs, readRecords(t, path), "Read leaves out the tail Open cuts")

	r, rec, err := relaylog.Open(path)
	require.NoError(t, err)
	defer r.Close()
	require.Equal(t, rep.Recovery, rec, "Check says what Open does")
	require.Equal(t, rec, r.Recovery())
	require.Equal(t, cut > 0, rec.Cut())
	require.Equal(t, cut, rec.CutBytes)
	if cut > 0 {
		require.Equal(t, before-cut, rec.CutAt)
		require.GreaterOrEqual(t, rec.CutAt, rec.Proven, "nothing before the last sync mark is cut")
		require.Contains(t, rec.String(), fmt.Sprintf("cut %d bytes from byte %d", cut, rec.CutAt))
	}
	require.Equal(t, int64(len(recs)), rec.Records)
	require.Equal(t, recs[len(recs)-1].End, rec.End)
	require.Equal(t, recs[len(recs)-1].End, r.Last())
	require.Equal(t, r.Last(), r.Synced(), "Open fsyncs what it keeps")
	st := r.Stats()
	require.Equal(t, cut, st.Truncated)
	require.Equal(t, int64(len(recs)), st.Records)
	fi, err = os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, st.Bytes, fi.Size(), "the tail is cut from the file")
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	requireMarkAt(t, data, st.Bytes-markLen)

	next := xidRecord(firstBinlog, 10_000, 99)
	writeFlush(t, r, next)
	require.NoError(t, r.Sync())
	require.NoError(t, r.Close())
	require.Equal(t, append(slices.Clone(recs), next), readRecords(t, path))
	return rec
}

// requireRefused expects Open, Read, Check and Repair to refuse the file at
// path, which holds data, with a *CorruptError at offset at whose message
// contains want, and to leave the file as it is.
func requireRefused(t testing.TB, path string, data []byte, at int64, want string) {
	t.Helper()
	requireCorruptAt := func(err error) {
		t.Helper()
		require.ErrorIs(t, err, relaylog.ErrCorrupt)
		var ce *relaylog.CorruptError
		require.ErrorAs(t, err, &ce)
		require.Equal(t, at, ce.Offset, "%v", err)
		require.ErrorContains(t, err, want)
	}
	_, _, err := relaylog.Open(path)
	requireCorruptAt(err)
	requireCorruptAt(relaylog.Read(path, readNothing))
	_, err = relaylog.Repair(path)
	requireCorruptAt(err)
	rep, err := relaylog.Check(path, nil)
	require.NoError(t, err)
	require.NotNil(t, rep.Corrupt)
	requireCorruptAt(rep.Corrupt)
	require.False(t, rep.Whole())
	require.False(t, rep.Recovery.Cut())
	requireFileIs(t, path, data)
}

func TestFileZeroTail(t *testing.T) {
	// A file system may extend a file before the data reaches it: a
	// crash leaves zeros after the last record.
	recs := relayRecords(2)
	for _, n := range []int{1, 17, 21, 22, 23, 64, 4096, 100_000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			path, _, _ := relayWithRecords(t, recs)
			appendToFile(t, path, make([]byte, n))
			require.Equal(t, recs, readRecords(t, path), "Read skips the zeros")
			requireRecovered(t, path, recs, int64(n))
		})
	}
}

func TestFileCorruptMiddleRecord(t *testing.T) {
	recs := relayRecords(3)
	_, data, starts := relayWithRecords(t, recs)
	// Every byte of the middle record, each flipped two ways: a sync mark
	// follows, so the record was fsynced and this is damage, not a torn
	// write, and nothing may be cut (the later record may have been
	// acknowledged).
	for at := starts[1]; at < starts[2]; at++ {
		for _, mask := range []byte{0x01, 0xff} {
			t.Run(fmt.Sprintf("byte %d^%#x", at-starts[1], mask), func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "relay")
				bad := slices.Clone(data)
				bad[at] ^= mask
				require.NoError(t, os.WriteFile(path, bad, 0o644))
				requireRefused(t, path, bad, starts[1], fmt.Sprintf("before the sync mark at byte %d", starts[3]))
			})
		}
	}
}

func TestFileTornLastRecord(t *testing.T) {
	recs := relayRecords(3)
	_, data, starts := relayWithRecords(t, recs)
	last := starts[2]
	// The file ends at every byte within the last record: the write a
	// crash interrupted.
	for end := last + 1; end < starts[3]; end++ {
		t.Run(fmt.Sprintf("cut at %d of %d", end-last, starts[3]-last), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "relay")
			require.NoError(t, os.WriteFile(path, data[:end], 0o644))
			require.Equal(t, recs[:2], readRecords(t, path), "Read does not report the torn record")
			requireRecovered(t, path, recs[:2], end-last)
		})
	}
}

// A last record that was flushed but never fsynced (no sync mark
// follows it) and fails its checksum cannot be told from a write that a
// power failure tore: it is cut, and the Recovery says so. The bytes
// damaged are the end's file name and the event, the last ones of the
// record. (Damage to a record a Sync covered is refused:
// TestSyncedLastRecordDamageRefused.)
func TestFileCorruptUnsyncedLastRecord(t *testing.T) {
	recs := relayRecords(3)
	_, data, starts := relayWithRecords(t, recs[:2])
	path := filepath.Join(t.TempDir(), "relay")
	require.NoError(t, os.WriteFile(path, data, 0o644))
	r := openRelay(t, path)
	writeFlush(t, r, recs[2])
	require.NoError(t, r.Close())
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	last := starts[2] + markLen
	n := int64(len(firstBinlog) + len(recs[2].Event))
	require.Equal(t, int64(len(data)), last+recordLen(recs[2]))
	for at := int64(len(data)) - n; at < int64(len(data)); at++ {
		t.Run(fmt.Sprintf("byte %d of %d", at-last, int64(len(data))-last), func(t *testing.T) {
			bad := slices.Clone(data)
			bad[at] ^= 0x01
			require.NoError(t, os.WriteFile(path, bad, 0o644))
			rec := requireRecovered(t, path, recs[:2], int64(len(data))-last)
			require.Equal(t, "a checksum mismatch", rec.Reason)
			require.Equal(t, starts[2], rec.Proven, "the mark after the second record")
		})
	}
	// The record's last block never reached the disk.
	t.Run("record ends in zeros", func(t *testing.T) {
		bad := slices.Clone(data)
		clear(bad[len(bad)-10:])
		require.NoError(t, os.WriteFile(path, bad, 0o644))
		requireRecovered(t, path, recs[:2], int64(len(data))-last)
	})
}

// A file system that extended the file before the data arrived can leave
// the start of the last record followed by zeros: Open cuts both.
func TestFilePartialRecordThenZeros(t *testing.T) {
	recs := relayRecords(3)
	_, data, starts := relayWithRecords(t, recs)
	last := starts[2]
	for _, keep := range []int64{3, (starts[3] - last) / 2, starts[3] - last - 1} {
		t.Run(fmt.Sprintf("%d bytes then zeros", keep), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "relay")
			require.NoError(t, os.WriteFile(path, data[:last+keep], 0o644))
			appendToFile(t, path, make([]byte, 4096))
			requireRecovered(t, path, recs[:2], keep+4096)
		})
	}
}

func TestFileConcurrentReaders(t *testing.T) {
	path := filepath.Join(t.TempDir(), "relay")
	r := openRelay(t, path)
	recs := relayRecords(200)
	errc := make(chan error, 1)
	go func() {
		// The writer, as a replica drives it: write, flush, sometimes
		// sync.
		for i, rec := range recs {
			if err := r.Write(rec.Event, rec.End); err != nil {
				errc <- err
				return
			}
			if err := r.Flush(); err != nil {
				errc <- err
				return
			}
			if i%10 == 9 {
				if err := r.Sync(); err != nil {
					errc <- err
					return
				}
			}
		}
		errc <- nil
	}()
	var last, synced semisync.Position
	var stats relaylog.Stats
	for done := false; !done; {
		select {
		case err := <-errc:
			require.NoError(t, err)
			done = true
		default:
		}
		s := r.Synced()
		l := r.Last()
		st := r.Stats()
		require.False(t, l.Less(last), "Last went back from %v to %v", last, l)
		require.False(t, s.Less(synced), "Synced went back from %v to %v", synced, s)
		require.False(t, l.Less(s), "Synced %v read before Last %v is after it", s, l)
		require.GreaterOrEqual(t, st.Records, stats.Records)
		require.GreaterOrEqual(t, st.Bytes, stats.Bytes)
		require.GreaterOrEqual(t, st.Syncs, stats.Syncs)
		// Read alongside the writer sees a prefix of what was written.
		if got := readRecords(t, path); len(got) > 0 {
			require.LessOrEqual(t, len(got), len(recs))
			require.Equal(t, recs[:len(got)], got)
		}
		last, synced, stats = l, s, st
	}
	require.Equal(t, recs[len(recs)-1].End, r.Last())
	require.Equal(t, recs[len(recs)-1].End, r.Synced())
	require.Equal(t, int64(len(recs)), r.Stats().Records)
	require.Equal(t, int64(len(recs)/10), r.Stats().Syncs)
}

// Rewind cuts the file back to its last fsynced record: records flushed
// since and the unflushed buffer are gone, from the file too, and writing
// goes on after the synced record.
func TestFileRewind(t *testing.T) {
	path := filepath.Join(t.TempDir(), "relay")
	r := openRelay(t, path)
	recs := relayRecords(3)
	writeFlush(t, r, recs[0])
	require.NoError(t, r.Sync())
	writeFlush(t, r, recs[1])
	require.NoError(t, r.Write(recs[2].Event, recs[2].End))
	require.Equal(t, recs[1].End, r.Last())

	pos, err := r.Rewind()
	require.NoError(t, err)
	require.Equal(t, recs[0].End, pos)
	require.Equal(t, recs[0].End, r.Last())
	require.Equal(t, int64(1), r.Stats().Records)
	require.Equal(t, []relaylog.Record{recs[0]}, readRecords(t, path))

	pos, err = r.Rewind() // nothing to cut
	require.NoError(t, err)
	require.Equal(t, recs[0].End, pos)

	writeFlush(t, r, recs[1])
	require.NoError(t, r.Sync())
	require.NoError(t, r.Close())
	require.Equal(t, []relaylog.Record{recs[0], recs[1]}, readRecords(t, path))
	_, err = r.Rewind()
	require.ErrorIs(t, err, relaylog.ErrClosed)
}
