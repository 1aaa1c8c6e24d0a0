package relaylog_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/relaylog"
)

// FuzzScan writes "SSRL" and then arbitrary bytes (the first is the format
// version), and checks, reads and opens the file. Check, Read and Open
// agree; Open only cuts a tail, never at or before an intact sync mark
// found at any offset (the mark search is compared with a brute-force
// one), refuses a version 2 file only where an intact mark follows the
// damage, and leaves a refused file as it is; what it keeps is what Read
// reported, in order.
func FuzzScan(f *testing.F) {
	recs := relayRecords(3)
	_, synced, starts := syncedRelay(f, recs)
	body := synced[4:] // from the version byte on
	flipped := func(at int64) []byte {
		b := slices.Clone(body)
		b[at-4] ^= 0x01
		return b
	}
	f.Add([]byte{2})
	f.Add(body)
	f.Add(body[:len(body)-7])                  // a torn last mark
	f.Add(body[:starts[3]-4-7])                // a torn last record
	f.Add(append(slices.Clone(body), 0, 0, 0)) // zeros after the last mark
	f.Add(flipped(starts[1] + 20))             // the middle record damaged
	f.Add(flipped(starts[2] + 20))             // the last record damaged
	f.Add(flipped(starts[3] + 3))              // the last mark damaged
	_, oneMark, _ := relayWithRecords(f, recs)
	f.Add(oneMark[4:])
	v1 := slices.Clone(oneMark[4 : len(oneMark)-markLen])
	v1[0] = 1
	f.Add(v1)
	f.Add(append(slices.Clone(v1), 0, 0, 0, 0))
	_, lsn, _ := relayWithRecords(f, []relaylog.Record{{End: semisync.LSN(7), Event: recs[0].Event}})
	f.Add(lsn[4:])
	_, tiny, _ := relayWithRecords(f, []relaylog.Record{{End: semisync.LSN(1), Event: []byte{1}}}) // the shortest event
	f.Add(tiny[4:])

	// One file, rewritten by every input: the inputs of a fuzzing
	// process run one at a time, and a directory per input would cost
	// more than the scan.
	path := filepath.Join(f.TempDir(), "relay")
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return // shorter than the magic: a file Open starts again
		}
		orig := append([]byte("SSRL"), data...)
		require.NoError(t, os.WriteFile(path, orig, 0o644))
		var before []relaylog.Record
		readErr := relaylog.Read(path, func(r relaylog.Record) error {
			before = append(before, relaylog.Record{End: r.End, Event: slices.Clone(r.Event)})
			return nil
		})
		var checked []relaylog.Record
		rep, checkErr := relaylog.Check(path, func(it relaylog.Item) error {
			if !it.Mark {
				checked = append(checked, relaylog.Record{End: it.Record.End, Event: slices.Clone(it.Record.Event)})
			}
			return nil
		})
		requireFileIs(t, path, orig)
		lastMark := bruteLastMark(orig)

		r, rec, err := relaylog.Open(path)
		if err != nil {
			requireFileIs(t, path, orig)
			var ce *relaylog.CorruptError
			if errors.As(err, &ce) {
				require.ErrorIs(t, readErr, relaylog.ErrCorrupt)
				require.NoError(t, checkErr)
				require.Equal(t, ce, rep.Corrupt)
				require.Equal(t, before, checked)
				if rep.Version == 2 {
					require.Greater(t, lastMark, ce.Offset, "refused without an intact mark after the damage")
				}
			} else {
				require.Equal(t, errors.Is(err, relaylog.ErrNotRelayLog), errors.Is(readErr, relaylog.ErrNotRelayLog))
			}
			return
		}
		defer r.Close()
		require.NoError(t, readErr, "Open succeeded, Read on the same bytes did not")
		require.NoError(t, checkErr)
		require.Nil(t, rep.Corrupt)
		require.Equal(t, rep.Recovery, rec, "Check says what Open does")
		require.Equal(t, before, checked)
		require.Equal(t, int64(len(orig)), rep.Size)

		after, err := os.ReadFile(path)
		require.NoError(t, err)
		kept := int64(len(orig)) - rec.CutBytes
		require.Equal(t, []byte("SSRL\x02"), after[:5], "Open writes version 2")
		require.Equal(t, orig[5:kept], after[5:kept], "Open only cuts a tail")
		if tail := after[kept:]; len(tail) > 0 {
			require.Equal(t, markAt(kept), tail, "and marks what it keeps")
		}
		require.Equal(t, rec.CutBytes, r.Stats().Truncated)
		if rec.Cut() {
			require.Greater(t, rec.CutAt, lastMark, "a cut at or before an intact mark")
			if rec.Proven > 0 {
				require.GreaterOrEqual(t, rec.CutAt, rec.Proven+markLen)
			}
			require.Equal(t, int64(len(orig)), rec.CutAt+rec.CutBytes)
		}

		var recs []relaylog.Record
		require.NoError(t, relaylog.Read(path, func(r relaylog.Record) error {
			if len(recs) > 0 {
				require.False(t, r.End.Less(recs[len(recs)-1].End), "record ends at %v, before %v", r.End, recs[len(recs)-1].End)
			}
			require.NotEmpty(t, r.Event)
			recs = append(recs, relaylog.Record{End: r.End, Event: slices.Clone(r.Event)})
			return nil
		}))
		require.Equal(t, before, recs, "the records are those Read found before the cut")
		require.Equal(t, int64(len(recs)), r.Stats().Records)
		require.Equal(t, int64(len(recs)), rec.Records)
		if len(recs) > 0 {
			require.Equal(t, recs[len(recs)-1].End, r.Last())
			require.Equal(t, recs[len(recs)-1].End, rec.End)
		} else {
			require.True(t, r.Last().IsZero())
		}
	})
}

// bruteLastMark returns the offset of the last intact sync mark in a
// version 2 file's bytes, found by trying every offset, or -1.
func bruteLastMark(data []byte) int64 {
	if len(data) < 5 || data[4] != 2 {
		return -1
	}
	for off := int64(len(data)) - markLen; off >= 5; off-- {
		if bytes.Equal(data[off:off+markLen], markAt(off)) {
			return off
		}
	}
	return -1
}
