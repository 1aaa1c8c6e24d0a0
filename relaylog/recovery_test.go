package relaylog_test

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/relaylog"
)

// markLen is the length of a sync mark, and of a record's header.
const markLen = 22

// markAt returns the sync mark a Sync writes at offset off: a header with
// both lengths 0, the offset off, its checksum, and the checksum's bitwise
// NOT where a record has its body's checksum.
func markAt(off int64) []byte {
	h := binary.LittleEndian.AppendUint32(nil, 0)
	h = binary.LittleEndian.AppendUint16(h, 0)
	h = binary.LittleEndian.AppendUint64(h, uint64(off))
	sum := crc32.Checksum(h, crc32.MakeTable(crc32.Castagnoli))
	h = binary.LittleEndian.AppendUint32(h, sum)
	return binary.LittleEndian.AppendUint32(h, ^sum)
}

// requireMarkAt checks that data holds a sync mark at offset off.
func requireMarkAt(t testingT, data []byte, off int64) {
	t.Helper()
	require.GreaterOrEqual(t, int64(len(data)), off+markLen)
	require.Equal(t, markAt(off), data[off:off+markLen], "the sync mark at byte %d", off)
}

// recordLen returns the length of rec's record in a file.
func recordLen(rec relaylog.Record) int64 {
	return int64(markLen + len(rec.End.File()) + len(rec.Event))
}

// syncedRelay writes recs to a new relay log file with a Sync after each,
// as a replica with replica.Synced durability does before each ACK, and
// returns its path, its bytes and the offset of each record (with the end
// of the last record last): each record but the last is followed by its
// mark at the next one's offset less markLen, the last by one at the end
// given.
func syncedRelay(t testing.TB, recs []relaylog.Record) (path string, data []byte, starts []int64) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "relay")
	r, _, err := relaylog.Open(path)
	require.NoError(t, err)
	for _, rec := range recs {
		starts = append(starts, r.Stats().Bytes)
		writeFlush(t, r, rec)
		require.NoError(t, r.Sync())
	}
	starts = append(starts, r.Stats().Bytes-markLen)
	require.NoError(t, r.Close())
	data, err = os.ReadFile(path)
	require.NoError(t, err)
	for _, s := range starts[1 : len(starts)-1] {
		requireMarkAt(t, data, s-markLen) // the mark after each record
	}
	requireMarkAt(t, data, starts[len(starts)-1])
	return path, data, starts
}

// Regression: a bit flipped in the last record of a file fsynced after
// every record used to be taken for a torn write and cut, silently (only
// Stats.Truncated changed), although the record had been fsynced and so
// possibly acknowledged. Its sync mark follows it now, and every flip of
// every bit of its header and body is refused, at the record's offset, by
// Open, Read, Check and Repair alike, and the file is left as it is.
func TestSyncedLastRecordDamageRefused(t *testing.T) {
	recs := relayRecords(20)
	_, data, starts := syncedRelay(t, recs)
	last, end := starts[19], starts[20]
	require.Equal(t, recordLen(recs[19]), end-last)
	path := filepath.Join(t.TempDir(), "relay")
	for at := last; at < end; at++ {
		for bit := range 8 {
			bad := slices.Clone(data)
			bad[at] ^= 1 << bit
			require.NoError(t, os.WriteFile(path, bad, 0o644))
			requireRefused(t, path, bad, last, fmt.Sprintf("before the sync mark at byte %d, which proves it was fsynced", end))
		}
	}
}

// A Sync appends one sync mark after its fsync, none when it has nothing
// to do; Rewind keeps it, and the next record follows it.
func TestSyncMark(t *testing.T) {
	path := filepath.Join(t.TempDir(), "relay")
	r := openRelay(t, path)
	recs := relayRecords(3)
	writeFlush(t, r, recs[0])
	at := r.Stats().Bytes
	require.NoError(t, r.Sync())
	require.Equal(t, at+markLen, r.Stats().Bytes)
	require.NoError(t, r.Sync())
	require.Equal(t, at+markLen, r.Stats().Bytes, "a Sync with nothing to do writes no mark")
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, at+markLen, int64(len(data)))
	requireMarkAt(t, data, at)

	writeFlush(t, r, recs[1])
	pos, err := r.Rewind()
	require.NoError(t, err)
	require.Equal(t, recs[0].End, pos)
	require.Equal(t, at+markLen, r.Stats().Bytes, "Rewind keeps the mark")
	writeFlush(t, r, recs[1], recs[2])
	require.NoError(t, r.Sync())
	require.NoError(t, r.Close())

	var items []relaylog.Item
	rep, err := relaylog.Check(path, func(it relaylog.Item) error {
		it.Record.Event = nil
		items = append(items, it)
		return nil
	})
	require.NoError(t, err)
	second := at + markLen + recordLen(recs[1])
	third := second + recordLen(recs[2])
	require.Equal(t, []relaylog.Item{
		{Offset: 5, Len: recordLen(recs[0]), Record: relaylog.Record{End: recs[0].End}},
		{Offset: at, Len: markLen, Mark: true},
		{Offset: at + markLen, Len: recordLen(recs[1]), Record: relaylog.Record{End: recs[1].End}},
		{Offset: second, Len: recordLen(recs[2]), Record: relaylog.Record{End: recs[2].End}},
		{Offset: third, Len: markLen, Mark: true},
	}, items)
	require.Equal(t, relaylog.Report{
		Version: 2, Size: third + markLen, Marks: 2,
		Recovery: relaylog.Recovery{Path: path, Records: 3, End: recs[2].End, Proven: third},
	}, rep)
	require.True(t, rep.Whole())
}

// A file whose last records were flushed but not fsynced, reopened after a
// crash of the process: Open keeps them (the page cache had them), fsyncs
// them and marks them, so later damage to them is refused.
func TestOpenMarksWhatItKeeps(t *testing.T) {
	recs := relayRecords(3)
	path, data, _ := syncedRelay(t, recs[:1])
	r := openRelay(t, path)
	writeFlush(t, r, recs[1:]...)
	require.NoError(t, r.Close()) // a crash after the Flush
	r = openRelay(t, path)
	require.Equal(t, recs[2].End, r.Synced())
	require.NoError(t, r.Close())
	after, err := os.ReadFile(path)
	require.NoError(t, err)
	end := int64(len(data)) + recordLen(recs[1]) + recordLen(recs[2])
	require.Equal(t, end+markLen, int64(len(after)))
	requireMarkAt(t, after, end)
	bad := slices.Clone(after)
	bad[end-1] ^= 0x10 // the last event's last byte
	require.NoError(t, os.WriteFile(path, bad, 0o644))
	requireRefused(t, path, bad, end-recordLen(recs[2]), "a checksum mismatch")
}

// What a power failure can leave after the last completed fsync — zeros,
// holes, stale bytes, partial records, junk, whole records after junk, the
// last mark torn or lost — lies past the last intact sync mark: Open cuts
// it, says so, and keeps every record a completed Sync covered.
func TestPowerFailureTail(t *testing.T) {
	recs := relayRecords(5)
	// r0..r3 each fsynced and marked; r4 flushed, never fsynced.
	path, data, starts := syncedRelay(t, recs[:4])
	r := openRelay(t, path)
	writeFlush(t, r, recs[4])
	require.NoError(t, r.Close())
	whole, err := os.ReadFile(path)
	require.NoError(t, err)
	fsynced := starts[4] // the last fsync covered everything before here; its mark is here
	require.Equal(t, int64(len(data)), fsynced+markLen)
	mark3 := whole[fsynced : fsynced+markLen]
	r4 := whole[fsynced+markLen:]
	rnd := rand.New(rand.NewPCG(1, 2))
	junk := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(1 + rnd.IntN(255))
		}
		return b
	}
	flipped := slices.Clone(mark3)
	flipped[3] ^= 0x04
	stale := whole[starts[1]:starts[2]] // the second record and its mark, at the wrong place
	before := starts[3] - markLen       // the mark after the third record
	tests := []struct {
		name   string
		tail   []byte // what replaces the bytes from fsynced on
		keep   int    // records kept
		cutAt  int64  // where the cut starts
		proven int64  // the last intact mark
		reason string // Recovery.Reason
	}{
		{"mark lost, zeros", make([]byte, 4096), 4, fsynced, before, "zero bytes"},
		{"mark lost, junk", junk(100), 4, fsynced, before, "a header checksum mismatch"},
		{"mark torn", mark3[:10], 4, fsynced, before, "a short header"},
		{"mark damaged", flipped, 4, fsynced, before, "a header checksum mismatch"},
		{"mark kept, zeros", slices.Concat(mark3, make([]byte, 512)), 4, fsynced + markLen, fsynced, "zero bytes"},
		{"mark kept, partial record", slices.Concat(mark3, r4[:10]), 4, fsynced + markLen, fsynced, "a short header"},
		{"mark kept, partial record then zeros", slices.Concat(mark3, r4[:30], make([]byte, 4096)), 4, fsynced + markLen, fsynced, "a checksum mismatch"},
		{"mark kept, a hole in the record", slices.Concat(mark3, r4[:25], make([]byte, 8), r4[33:]), 4, fsynced + markLen, fsynced, "a checksum mismatch"},
		{"mark kept, record, junk", slices.Concat(mark3, r4, junk(40)), 5, fsynced + markLen + int64(len(r4)), fsynced, "a header checksum mismatch"},
		{"junk, then a whole record", slices.Concat(junk(30), r4), 4, fsynced, before, "a header checksum mismatch"},
		{"zeros, then a whole record", slices.Concat(make([]byte, 30), r4), 4, fsynced, before, "a header checksum mismatch"},
		{"stale record", stale, 4, fsynced, before, fmt.Sprintf("the record ends at %v, before %v", recs[1].End, recs[3].End)},
		{"stale mark", whole[starts[1]-markLen : starts[1]], 4, fsynced, before, fmt.Sprintf("a sync mark naming byte %d", starts[1]-markLen)},
		{"mark kept, impossible lengths", slices.Concat(mark3, header(0, 7, 1, 0)), 4, fsynced + markLen, fsynced, "impossible lengths"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "relay")
			bad := slices.Concat(whole[:fsynced], tt.tail)
			require.NoError(t, os.WriteFile(path, bad, 0o644))
			rec := requireRecovered(t, path, recs[:tt.keep], int64(len(bad))-tt.cutAt)
			require.Equal(t, tt.cutAt, rec.CutAt)
			require.Equal(t, tt.proven, rec.Proven)
			require.Equal(t, tt.reason, rec.Reason)
		})
	}
}

// The one case no format can tell apart: a power failure loses the last
// Sync's mark (written after its fsync, not fsynced itself) and the
// records that fsync covered are damaged too. They are cut, and the
// Recovery says so: the replica resumes from the shorter position.
func TestLostMarkAndDamagedLastBatch(t *testing.T) {
	recs := relayRecords(3)
	_, data, starts := syncedRelay(t, recs)
	bad := slices.Clone(data[:starts[3]]) // the last mark lost
	bad[starts[3]-1] ^= 0x01              // and the last record damaged
	path := filepath.Join(t.TempDir(), "relay")
	require.NoError(t, os.WriteFile(path, bad, 0o644))
	rec := requireRecovered(t, path, recs[:2], starts[3]-starts[2])
	require.Equal(t, starts[2], rec.CutAt)
	require.Equal(t, starts[2]-markLen, rec.Proven, "the second record's mark")
	require.Equal(t, recs[1].End, rec.End)
	require.Equal(t, fmt.Sprintf("relaylog: %s: cut %d bytes from byte %d (a checksum mismatch), past the last fsync the file proves (byte %d); 2 records, resuming after %v",
		path, rec.CutBytes, rec.CutAt, rec.Proven, recs[1].End), rec.String())
}

// Damage anywhere before an intact mark is refused, even where the
// damaged header's lengths cannot be trusted to find the next record: the
// mark is found at any offset.
func TestDamageBeforeMarkAtAnyOffset(t *testing.T) {
	recs := relayRecords(4)
	path, data, starts := relayWithRecords(t, recs) // one mark, at the end
	for _, at := range []int64{starts[0], starts[0] + 3, starts[1] + 1, starts[2] + 5, starts[2] + 13, starts[3] + 21} {
		bad := slices.Clone(data)
		bad[at] ^= 0x80
		require.NoError(t, os.WriteFile(path, bad, 0o644))
		rec := at - (at-starts[0])%recordLen(recs[0])
		requireRefused(t, path, bad, rec, fmt.Sprintf("before the sync mark at byte %d", starts[4]))
	}
}

// Files of format version 1 (no sync marks) are read with version 1's
// rules, which Read keeps to without changing the file, and Open upgrades
// them to version 2.
func TestVersion1File(t *testing.T) {
	recs := relayRecords(3)
	path := filepath.Join(t.TempDir(), "relay")
	r := openRelay(t, path)
	writeFlush(t, r, recs...)
	require.NoError(t, r.Close()) // flushed, never synced: no mark
	v2, err := os.ReadFile(path)
	require.NoError(t, err)
	v1 := slices.Clone(v2)
	v1[4] = 1
	end := int64(len(v1))
	last := end - recordLen(recs[2])

	write := func(t *testing.T, data []byte) string {
		path := filepath.Join(t.TempDir(), "relay")
		require.NoError(t, os.WriteFile(path, data, 0o644))
		return path
	}
	t.Run("Read and Check change nothing", func(t *testing.T) {
		path := write(t, v1)
		require.Equal(t, recs, readRecords(t, path))
		rep, err := relaylog.Check(path, nil)
		require.NoError(t, err)
		require.Equal(t, 1, rep.Version)
		require.True(t, rep.Whole())
		require.True(t, rep.Recovery.Upgraded, "Open would upgrade it")
		requireFileIs(t, path, v1)
	})
	t.Run("Open upgrades", func(t *testing.T) {
		path := write(t, v1)
		r, rec, err := relaylog.Open(path)
		require.NoError(t, err)
		require.True(t, rec.Upgraded)
		require.False(t, rec.Cut())
		require.Contains(t, rec.String(), "upgraded from format version 1")
		writeFlush(t, r, xidRecord(firstBinlog, 10_000, 9))
		require.NoError(t, r.Sync())
		require.NoError(t, r.Close())
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		require.Equal(t, byte(2), data[4])
		require.Equal(t, v2[5:], data[5:end], "the records are kept as they are")
		requireMarkAt(t, data, end) // Open's, after its fsync
		requireMarkAt(t, data, int64(len(data))-markLen)
		require.Equal(t, append(slices.Clone(recs), xidRecord(firstBinlog, 10_000, 9)), readRecords(t, path))
		r = openRelay(t, path)
		require.False(t, r.Recovery().Upgraded)
	})
	t.Run("a zero tail is cut", func(t *testing.T) {
		path := write(t, slices.Concat(v1, make([]byte, 100)))
		require.Equal(t, recs, readRecords(t, path))
		rec := requireRecovered(t, path, recs, 100)
		require.True(t, rec.Upgraded)
		require.Equal(t, "zero bytes", rec.Reason)
	})
	t.Run("a torn last record is cut", func(t *testing.T) {
		bad := slices.Clone(v1)
		bad[end-1] ^= 0x01
		path := write(t, bad)
		requireRecovered(t, path, recs[:2], end-last)
	})
	t.Run("damage with data after it is refused", func(t *testing.T) {
		bad := slices.Clone(v1)
		bad[last-1] ^= 0x01
		path := write(t, bad)
		requireRefused(t, path, bad, last-recordLen(recs[1]), "a checksum mismatch, with data after it")
	})
	t.Run("a version 1 file holds no sync mark", func(t *testing.T) {
		bad := slices.Concat(v1, markAt(end))
		path := write(t, bad)
		requireRefused(t, path, bad, end, "impossible lengths")
	})
}

// Read and Check never change a file Open would cut.
func TestReadLeavesTail(t *testing.T) {
	recs := relayRecords(2)
	path, data, _ := relayWithRecords(t, recs)
	tail := slices.Concat(data, []byte{9, 9, 9}, make([]byte, 40))
	require.NoError(t, os.WriteFile(path, tail, 0o644))
	require.Equal(t, recs, readRecords(t, path))
	rep, err := relaylog.Check(path, nil)
	require.NoError(t, err)
	require.False(t, rep.Whole())
	require.Nil(t, rep.Corrupt)
	require.Equal(t, int64(len(data)), rep.Recovery.CutAt)
	require.Equal(t, int64(43), rep.Recovery.CutBytes)
	requireFileIs(t, path, tail)
	rec, err := relaylog.Repair(path)
	require.NoError(t, err)
	require.Equal(t, rep.Recovery, rec, "Repair cuts what Check said")
	requireFileIs(t, path, data)
	require.Equal(t, recs, readRecords(t, path))
}

// The hot path allocates nothing: Write, Flush and Sync with its sync
// mark.
func TestSyncAllocatesNothing(t *testing.T) {
	r := openRelay(t, filepath.Join(t.TempDir(), "relay"))
	ev := event("xid", 31)
	off := uint64(4)
	writeFlushSync := func() {
		off += 31
		if err := r.Write(ev, semisync.FilePos(firstBinlog, off)); err != nil {
			t.Fatal(err)
		}
		if err := r.Flush(); err != nil {
			t.Fatal(err)
		}
		if err := r.Sync(); err != nil {
			t.Fatal(err)
		}
	}
	writeFlushSync() // the buffer grows once
	require.Zero(t, testing.AllocsPerRun(50, writeFlushSync))
	require.Equal(t, int64(52), r.Stats().Syncs)
}
