package relaylog_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/relaylog"
)

// FuzzScan writes the relay log's magic and then arbitrary bytes, and
// opens and reads the file: Open may only cut a tail, what it keeps is
// what Read reported before the cut, and ends never go backwards.
func FuzzScan(f *testing.F) {
	empty := filepath.Join(f.TempDir(), "empty")
	r, err := relaylog.Open(empty)
	require.NoError(f, err)
	require.NoError(f, r.Close())
	magic, err := os.ReadFile(empty)
	require.NoError(f, err)

	recs := relayRecords(3)
	_, good, starts := relayWithRecords(f, recs)
	body := good[len(magic):]
	flipped := func(at int64) []byte {
		b := slices.Clone(body)
		b[at-int64(len(magic))] ^= 0x01
		return b
	}
	f.Add([]byte{})
	f.Add(body)
	f.Add(body[:len(body)-7])                  // a torn last record
	f.Add(append(slices.Clone(body), 0, 0, 0)) // zeros after the last record
	f.Add(flipped(starts[1] + 20))             // the middle record damaged
	f.Add(flipped(starts[2] + 20))             // the last record damaged
	_, lsn, _ := relayWithRecords(f, []relaylog.Record{{End: semisync.LSN(7), Event: recs[0].Event}})
	f.Add(lsn[len(magic):])
	_, tiny, _ := relayWithRecords(f, []relaylog.Record{{End: semisync.LSN(1), Event: []byte{1}}}) // the shortest event
	f.Add(tiny[len(magic):])

	// One file, rewritten by every input: the inputs of a fuzzing
	// process run one at a time, and a directory per input would cost
	// more than the scan.
	path := filepath.Join(f.TempDir(), "relay")
	f.Fuzz(func(t *testing.T, data []byte) {
		orig := append(slices.Clone(magic), data...)
		require.NoError(t, os.WriteFile(path, orig, 0o644))
		var before []relaylog.Record
		readErr := relaylog.Read(path, func(r relaylog.Record) error {
			before = append(before, relaylog.Record{End: r.End, Event: slices.Clone(r.Event)})
			return nil
		})

		r, err := relaylog.Open(path)
		if err != nil {
			requireFileIs(t, path, orig)
			return
		}
		defer r.Close()
		require.NoError(t, readErr, "Open succeeded, Read on the same bytes did not")
		after, err := os.ReadFile(path)
		require.NoError(t, err)
		require.True(t, bytes.HasPrefix(orig, after), "Open may only cut the file")
		require.Equal(t, int64(len(orig)-len(after)), r.Stats().Truncated)

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
		if len(recs) > 0 {
			require.Equal(t, recs[len(recs)-1].End, r.Last())
		} else {
			require.True(t, r.Last().IsZero())
		}
	})
}
