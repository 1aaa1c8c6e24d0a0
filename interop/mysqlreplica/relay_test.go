package mysqlreplica_test

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"log"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/interop/mysqlreplica"
)

// relayRecords returns n XID-like records of mysql-bin.000001, each
// event 31 bytes with its CRC32, ending 31 bytes after the previous one.
func relayRecords(n int) []mysqlreplica.Record {
	recs := make([]mysqlreplica.Record, n)
	for i := range recs {
		end := uint32(328 + 31*(i+1))
		recs[i] = mysqlreplica.Record{
			End:   semisync.FilePos(firstBinlog, uint64(end)),
			Event: mkEvent(mysqlreplica.TypeXID, end, 0, xidBody(uint64(i)), true),
		}
	}
	return recs
}

// openRelay opens the relay file at path and closes it when the test ends.
func openRelay(t testing.TB, path string) *mysqlreplica.RelayFile {
	t.Helper()
	r, err := mysqlreplica.OpenRelayFile(path)
	require.NoError(t, err)
	t.Cleanup(func() { r.Close() })
	return r
}

// writeFlush writes recs and flushes them.
func writeFlush(t testing.TB, r *mysqlreplica.RelayFile, recs ...mysqlreplica.Record) {
	t.Helper()
	for _, rec := range recs {
		require.NoError(t, r.Write(rec.Event, rec.End))
	}
	require.NoError(t, r.Flush())
}

// readRecords returns every record of the relay file at path, with copies
// of the events.
func readRecords(t testing.TB, path string) []mysqlreplica.Record {
	t.Helper()
	var recs []mysqlreplica.Record
	require.NoError(t, mysqlreplica.ReadRelayFile(path, func(r mysqlreplica.Record) error {
		recs = append(recs, mysqlreplica.Record{End: r.End, Event: slices.Clone(r.Event)})
		return nil
	}))
	return recs
}

// relayWithRecords writes recs to a new relay file, one Flush per record,
// closes it and returns its path, its bytes and the offset at which each
// record starts (with the file's length last).
func relayWithRecords(t testing.TB, recs []mysqlreplica.Record) (path string, data []byte, starts []int64) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "relay")
	r, err := mysqlreplica.OpenRelayFile(path)
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
	require.Equal(t, starts[len(starts)-1], int64(len(data)))
	return path, data, starts
}

func TestOpenRelayFileCreates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "relay")
	r := openRelay(t, path)
	require.Equal(t, path, r.Path())
	require.True(t, r.Last().IsZero())
	require.True(t, r.Synced().IsZero())

	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.True(t, bytes.HasPrefix(data, []byte("SSRL")), "the file starts with the magic: %q", data)
	require.Equal(t, mysqlreplica.RelayStats{Bytes: int64(len(data))}, r.Stats())
	require.Empty(t, readRecords(t, path))
}

func TestRelayFileWriteFlushSync(t *testing.T) {
	path := filepath.Join(t.TempDir(), "relay")
	r := openRelay(t, path)
	recs := relayRecords(3)
	magic := r.Stats().Bytes

	// Write only buffers: nothing moves.
	require.NoError(t, r.Write(recs[0].Event, recs[0].End))
	require.True(t, r.Last().IsZero())
	require.Equal(t, mysqlreplica.RelayStats{Bytes: magic}, r.Stats())
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

	// Nothing new: neither Sync nor Flush does anything.
	require.NoError(t, r.Sync())
	require.NoError(t, r.Flush())
	require.Equal(t, mysqlreplica.RelayStats{Records: 1, Bytes: st.Bytes, Flushes: 1, Syncs: 1}, r.Stats())

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

func TestRelayFileReopen(t *testing.T) {
	// A rotate's record, an event that does not advance (same end), and
	// positions in the next file.
	recs := relayRecords(3)
	recs = append(recs,
		mysqlreplica.Record{End: semisync.FilePos(secondBinlog, 4), Event: mkEvent(mysqlreplica.TypeRotate, 500, 0, rotateBody(secondBinlog, 4), true)},
		mysqlreplica.Record{End: semisync.FilePos(secondBinlog, 4), Event: mkEvent(mysqlreplica.TypeHeartbeat, 4, 0, []byte(secondBinlog), true)},
		mysqlreplica.Record{End: semisync.FilePos(secondBinlog, fdeLen+4), Event: mkFDE(fdeLen+4, mysqlreplica.ChecksumCRC32)},
	)
	path, _, starts := relayWithRecords(t, recs)

	r := openRelay(t, path)
	require.Equal(t, recs[len(recs)-1].End, r.Last())
	require.Equal(t, r.Last(), r.Synced(), "what a reopened file holds is fsynced")
	require.Equal(t, mysqlreplica.RelayStats{Records: int64(len(recs)), Bytes: starts[len(starts)-1]}, r.Stats())
	require.Equal(t, recs, readRecords(t, path))

	// Appending after a reopen continues the file.
	more := mysqlreplica.Record{End: semisync.FilePos(secondBinlog, fdeLen+4+31), Event: mkEvent(mysqlreplica.TypeXID, fdeLen+4+31, 0, xidBody(9), true)}
	writeFlush(t, r, more)
	require.NoError(t, r.Close())
	require.Equal(t, append(recs, more), readRecords(t, path))
}

func TestRelayFileLSNPositions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "relay")
	r := openRelay(t, path)
	var recs []mysqlreplica.Record
	for i := range 3 {
		recs = append(recs, mysqlreplica.Record{End: semisync.LSN(uint64(1000 * (i + 1))), Event: mkEvent(mysqlreplica.TypeXID, 0, 0, xidBody(uint64(i)), false)})
	}
	writeFlush(t, r, recs...)
	require.NoError(t, r.Close())
	require.Equal(t, recs, readRecords(t, path))
	require.Equal(t, semisync.LSN(3000), openRelay(t, path).Last())
}

func TestRelayFileDiscard(t *testing.T) {
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

func TestRelayFileWriteErrors(t *testing.T) {
	recs := relayRecords(2)
	tests := []struct {
		name  string
		event []byte
		end   semisync.Position
	}{
		{"end before the previous one", recs[0].Event, semisync.FilePos(firstBinlog, 100)},
		{"end in an earlier file", recs[0].Event, semisync.FilePos("mysql-bin.000000", 1<<40)},
		{"LSN after file positions", recs[0].Event, semisync.LSN(1 << 40)},
		{"event shorter than a header", recs[0].Event[:mysqlreplica.HeaderLen-1], recs[1].End},
		{"empty event", nil, recs[1].End},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "relay")
			r := openRelay(t, path)
			// The previous end is still in the buffer: Write checks
			// against what it was given, not what reached the file.
			require.NoError(t, r.Write(recs[0].Event, recs[0].End))
			require.Error(t, r.Write(tt.event, tt.end))
			require.NoError(t, r.Flush())
			require.Equal(t, recs[0].End, r.Last())
			require.Equal(t, int64(1), r.Stats().Records)
			require.Equal(t, recs[:1], readRecords(t, path))
		})
	}
}

func TestRelayFileSameEndTwice(t *testing.T) {
	// Events that do not advance the position share their end with the
	// previous one.
	path := filepath.Join(t.TempDir(), "relay")
	r := openRelay(t, path)
	recs := relayRecords(1)
	hb := mysqlreplica.Record{End: recs[0].End, Event: mkEvent(mysqlreplica.TypeHeartbeat, 359, 0, []byte(firstBinlog), true)}
	writeFlush(t, r, recs[0], hb)
	require.Equal(t, []mysqlreplica.Record{recs[0], hb}, readRecords(t, path))
}

func TestRelayFileClosed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "relay")
	r, err := mysqlreplica.OpenRelayFile(path)
	require.NoError(t, err)
	recs := relayRecords(2)
	writeFlush(t, r, recs[0])
	require.NoError(t, r.Write(recs[1].Event, recs[1].End))
	require.NoError(t, r.Close())
	require.NoError(t, r.Close(), "Close is idempotent")

	require.ErrorIs(t, r.Write(recs[1].Event, recs[1].End), mysqlreplica.ErrRelayClosed)
	require.ErrorIs(t, r.Flush(), mysqlreplica.ErrRelayClosed)
	require.ErrorIs(t, r.Sync(), mysqlreplica.ErrRelayClosed)
	require.Equal(t, recs[0].End, r.Last())
	require.Equal(t, recs[:1], readRecords(t, path), "Close drops what was not flushed")
}

func TestOpenRelayFileErrors(t *testing.T) {
	_, good, _ := relayWithRecords(t, relayRecords(2))
	tests := []struct {
		name    string
		data    []byte
		wantErr error
	}{
		{"wrong magic", append([]byte("XSRL\x01"), good[5:]...), mysqlreplica.ErrNotRelayFile},
		{"another format version", append([]byte("SSRL\x02"), good[5:]...), mysqlreplica.ErrNotRelayFile},
		{"a text file", []byte("hello, world\n"), mysqlreplica.ErrNotRelayFile},
		{"zeros", make([]byte, 100), mysqlreplica.ErrNotRelayFile},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "relay")
			require.NoError(t, os.WriteFile(path, tt.data, 0o644))
			_, err := mysqlreplica.OpenRelayFile(path)
			require.ErrorIs(t, err, tt.wantErr)
			require.ErrorIs(t, mysqlreplica.ReadRelayFile(path, func(mysqlreplica.Record) error { return nil }), tt.wantErr)
			requireFileIs(t, path, tt.data)
		})
	}
	t.Run("missing directory", func(t *testing.T) {
		_, err := mysqlreplica.OpenRelayFile(filepath.Join(t.TempDir(), "none", "relay"))
		require.ErrorIs(t, err, fs.ErrNotExist)
	})
}

func TestReadRelayFileCallbackError(t *testing.T) {
	path, _, _ := relayWithRecords(t, relayRecords(3))
	stop := errors.New("stop")
	n := 0
	err := mysqlreplica.ReadRelayFile(path, func(mysqlreplica.Record) error {
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
func requireFileIs(t testing.TB, path string, want []byte) {
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

// requireRecovered opens the relay file at path, expects it to hold recs
// after cutting cut bytes, and that a record written after that reads
// back after them.
func requireRecovered(t testing.TB, path string, recs []mysqlreplica.Record, cut int64) {
	t.Helper()
	r, err := mysqlreplica.OpenRelayFile(path)
	require.NoError(t, err)
	defer r.Close()
	require.Equal(t, recs[len(recs)-1].End, r.Last())
	st := r.Stats()
	require.Equal(t, cut, st.Truncated)
	require.Equal(t, int64(len(recs)), st.Records)
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, st.Bytes, fi.Size(), "the torn tail is cut from the file")

	next := mysqlreplica.Record{End: semisync.FilePos(firstBinlog, 10_000), Event: mkEvent(mysqlreplica.TypeXID, 10_000, 0, xidBody(99), true)}
	writeFlush(t, r, next)
	require.NoError(t, r.Sync())
	require.NoError(t, r.Close())
	require.Equal(t, append(slices.Clone(recs), next), readRecords(t, path))
}

func TestRelayFileZeroTail(t *testing.T) {
	// A file system may extend a file before the data reaches it: a
	// crash leaves zeros after the last record.
	recs := relayRecords(2)
	for _, n := range []int{1, 17, 21, 22, 23, 64, 4096, 100_000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			path, _, _ := relayWithRecords(t, recs)
			appendToFile(t, path, make([]byte, n))
			require.Equal(t, recs, readRecords(t, path), "ReadRelayFile skips the zeros")
			requireRecovered(t, path, recs, int64(n))
		})
	}
}

func TestRelayFileCorruptMiddleRecord(t *testing.T) {
	recs := relayRecords(3)
	_, data, starts := relayWithRecords(t, recs)
	// Every byte of the middle record, each flipped two ways: the file
	// holds a good record after it, so this is damage, not a torn write,
	// and nothing may be cut (the later record may have been
	// acknowledged).
	for at := starts[1]; at < starts[2]; at++ {
		for _, mask := range []byte{0x01, 0xff} {
			t.Run(fmt.Sprintf("byte %d^%#x", at-starts[1], mask), func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "relay")
				bad := slices.Clone(data)
				bad[at] ^= mask
				require.NoError(t, os.WriteFile(path, bad, 0o644))
				_, err := mysqlreplica.OpenRelayFile(path)
				require.ErrorIs(t, err, mysqlreplica.ErrCorrupt)
				requireFileIs(t, path, bad)
				require.ErrorIs(t, mysqlreplica.ReadRelayFile(path, func(mysqlreplica.Record) error { return nil }), mysqlreplica.ErrCorrupt)
			})
		}
	}
}

func TestRelayFileTornLastRecord(t *testing.T) {
	recs := relayRecords(3)
	_, data, starts := relayWithRecords(t, recs)
	last := starts[2]
	// The file ends at every byte within the last record: the write a
	// crash interrupted.
	for end := last + 1; end < starts[3]; end++ {
		t.Run(fmt.Sprintf("cut at %d of %d", end-last, starts[3]-last), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "relay")
			require.NoError(t, os.WriteFile(path, data[:end], 0o644))
			require.Equal(t, recs[:2], readRecords(t, path), "ReadRelayFile does not report the torn record")
			requireRecovered(t, path, recs[:2], end-last)
		})
	}
}

func TestRelayFileCorruptLastRecord(t *testing.T) {
	// A last record that fits the file exactly but fails its checksum is
	// the write a crash interrupted (OpenRelayFile's doc): it is cut.
	// The bytes damaged are the end's file name and the event, the last
	// ones of the record.
	recs := relayRecords(3)
	_, data, starts := relayWithRecords(t, recs)
	last, n := starts[2], int64(len(firstBinlog)+len(recs[2].Event))
	for at := starts[3] - n; at < starts[3]; at++ {
		t.Run(fmt.Sprintf("byte %d of %d", at-last, starts[3]-last), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "relay")
			bad := slices.Clone(data)
			bad[at] ^= 0x01
			require.NoError(t, os.WriteFile(path, bad, 0o644))
			requireRecovered(t, path, recs[:2], starts[3]-last)
		})
	}
	// The record's last block never reached the disk.
	t.Run("record ends in zeros", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "relay")
		bad := slices.Clone(data)
		clear(bad[len(bad)-10:])
		require.NoError(t, os.WriteFile(path, bad, 0o644))
		requireRecovered(t, path, recs[:2], starts[3]-last)
	})
}

// A file system that extended the file before the data arrived can leave
// the start of the last record followed by zeros: OpenRelayFile cuts both.
func TestRelayPartialRecordThenZeros(t *testing.T) {
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

// Write refuses an end whose file name is longer than a position may
// carry, so everything it writes reads back.
func TestRelayWriteLongFileName(t *testing.T) {
	path := filepath.Join(t.TempDir(), "relay")
	r := openRelay(t, path)
	recs := relayRecords(1)
	writeFlush(t, r, recs[0])
	long := semisync.FilePos(strings.Repeat("z", semisync.MaxFileNameLen+1), 4) // after mysql-bin.*
	require.Error(t, r.Write(recs[0].Event, long))
	require.NoError(t, r.Flush())
	require.Equal(t, recs[0].End, r.Last())
	require.NoError(t, r.Close())
	require.Equal(t, []mysqlreplica.Record{recs[0]}, readRecords(t, path))
}

func TestRelayFileConcurrentReaders(t *testing.T) {
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
	var stats mysqlreplica.RelayStats
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
		last, synced, stats = l, s, st
	}
	require.Equal(t, recs[len(recs)-1].End, r.Last())
	require.Equal(t, recs[len(recs)-1].End, r.Synced())
	require.Equal(t, int64(len(recs)), r.Stats().Records)
	require.Equal(t, int64(len(recs)/10), r.Stats().Syncs)
}

// ExampleRelayFile writes two events, makes them durable and reads them
// back: the position to resume at is the end of the last record.
func ExampleRelayFile() {
	dir, err := os.MkdirTemp("", "relay")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "relay")

	relay, err := mysqlreplica.OpenRelayFile(path)
	if err != nil {
		log.Fatal(err)
	}
	for _, end := range []uint32{359, 390} {
		if err := relay.Write(mkEvent(mysqlreplica.TypeXID, end, 0, xidBody(uint64(end)), true), semisync.FilePos("mysql-bin.000001", uint64(end))); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Println("after Write:", relay.Last())
	if err := relay.Flush(); err != nil {
		log.Fatal(err)
	}
	fmt.Println("after Flush:", relay.Last(), "synced:", relay.Synced())
	if err := relay.Sync(); err != nil {
		log.Fatal(err)
	}
	fmt.Println("after Sync:", relay.Last(), "synced:", relay.Synced())
	relay.Close()

	err = mysqlreplica.ReadRelayFile(path, func(r mysqlreplica.Record) error {
		fmt.Println("record ending at", r.End, "of", len(r.Event), "bytes")
		return nil
	})
	fmt.Println(err)
	// Output:
	// after Write: 0
	// after Flush: mysql-bin.000001:390 synced: 0
	// after Sync: mysql-bin.000001:390 synced: mysql-bin.000001:390
	// record ending at mysql-bin.000001:359 of 31 bytes
	// record ending at mysql-bin.000001:390 of 31 bytes
	// <nil>
}

// Rewind cuts the file back to its last fsynced record: records flushed
// since and the unflushed buffer are gone, from the file too, and writing
// goes on after the synced record.
func TestRelayRewind(t *testing.T) {
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
	require.Equal(t, []mysqlreplica.Record{recs[0]}, readRecords(t, path))

	pos, err = r.Rewind() // nothing to cut
	require.NoError(t, err)
	require.Equal(t, recs[0].End, pos)

	writeFlush(t, r, recs[1])
	require.NoError(t, r.Sync())
	require.NoError(t, r.Close())
	require.Equal(t, []mysqlreplica.Record{recs[0], recs[1]}, readRecords(t, path))
	_, err = r.Rewind()
	require.ErrorIs(t, err, mysqlreplica.ErrRelayClosed)
}
