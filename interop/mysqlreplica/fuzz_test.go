package mysqlreplica_test

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/interop/mysqlreplica"
)

// FuzzDecode feeds a stream of events to a Decoder that starts at
// mysql-bin.000001:328: the input is cut into events by their size
// fields, and whatever is left decoded as a last event.
func FuzzDecode(f *testing.F) {
	var crcOn, crcOff []byte
	for _, s := range realisticStream() {
		f.Add(s.event, true)
		crcOn = append(crcOn, s.event...)
	}
	f.Add(crcOn, true)
	for i, r := range relayRecords(3) {
		ev := mkEvent(mysqlreplica.TypeXID, uint32(r.End.Offset()), 0, xidBody(uint64(i)), false)
		f.Add(ev, false)
		crcOff = append(crcOff, ev...)
	}
	crcOff = append(crcOff, mkEvent(mysqlreplica.TypeRotate, 500, 0, rotateBody(secondBinlog, 4), false)...)
	crcOff = append(crcOff, mkFDE(fdeLen+4, mysqlreplica.ChecksumCRC32)...)
	f.Add(crcOff, false)
	f.Add([]byte{}, true)

	f.Fuzz(func(t *testing.T, data []byte, crc bool) {
		alg := uint8(mysqlreplica.ChecksumOff)
		if crc {
			alg = mysqlreplica.ChecksumCRC32
		}
		dec := mysqlreplica.NewDecoder(semisync.FilePos(firstBinlog, 328), alg)
		for len(data) > 0 {
			ev := data
			if len(data) >= mysqlreplica.HeaderLen {
				if n := binary.LittleEndian.Uint32(data[9:]); n >= mysqlreplica.HeaderLen && uint64(n) <= uint64(len(data)) {
					ev = data[:n]
				}
			}
			data = data[len(ev):]

			prev, prevAlg := dec.Position(), dec.Checksum()
			d, err := dec.Decode(ev)
			if err != nil {
				require.Equal(t, prev, dec.Position(), "an error leaves the position")
				require.Equal(t, prevAlg, dec.Checksum(), "an error leaves the checksum algorithm")
				continue
			}
			require.Equal(t, d.End, dec.Position())
			require.Equal(t, uint32(len(ev)), d.Header.Size)
			// Body is the input after the header, not a copy.
			require.LessOrEqual(t, len(d.Body), len(ev)-mysqlreplica.HeaderLen)
			if len(d.Body) > 0 {
				require.True(t, &d.Body[0] == &ev[mysqlreplica.HeaderLen], "Body is not the event's bytes after the header")
			}
			if !d.Advances {
				require.True(t, d.Header.Type == mysqlreplica.TypeRotate || d.End == prev, "an event that does not advance moved the position from %v to %v", prev, d.End)
			}
			if d.Header.Type != mysqlreplica.TypeRotate {
				require.False(t, d.End.Less(prev), "the position went back from %v to %v", prev, d.End)
			}
		}
	})
}

// FuzzRelayScan writes the relay file's magic and then arbitrary bytes,
// and opens and reads the file.
func FuzzRelayScan(f *testing.F) {
	empty := filepath.Join(f.TempDir(), "empty")
	r, err := mysqlreplica.OpenRelayFile(empty)
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
	_, lsn, _ := relayWithRecords(f, []mysqlreplica.Record{{End: semisync.LSN(7), Event: recs[0].Event}})
	f.Add(lsn[len(magic):])

	// One file, rewritten by every input: the inputs of a fuzzing
	// process run one at a time, and a directory per input would cost
	// more than the scan.
	path := filepath.Join(f.TempDir(), "relay")
	f.Fuzz(func(t *testing.T, data []byte) {
		orig := append(slices.Clone(magic), data...)
		require.NoError(t, os.WriteFile(path, orig, 0o644))
		var before []mysqlreplica.Record
		readErr := mysqlreplica.ReadRelayFile(path, func(r mysqlreplica.Record) error {
			before = append(before, mysqlreplica.Record{End: r.End, Event: slices.Clone(r.Event)})
			return nil
		})

		r, err := mysqlreplica.OpenRelayFile(path)
		if err != nil {
			requireFileIs(t, path, orig)
			return
		}
		defer r.Close()
		require.NoError(t, readErr, "OpenRelayFile succeeded, ReadRelayFile on the same bytes did not")
		after, err := os.ReadFile(path)
		require.NoError(t, err)
		require.True(t, bytes.HasPrefix(orig, after), "OpenRelayFile may only cut the file")
		require.Equal(t, int64(len(orig)-len(after)), r.Stats().Truncated)

		var recs []mysqlreplica.Record
		require.NoError(t, mysqlreplica.ReadRelayFile(path, func(r mysqlreplica.Record) error {
			if len(recs) > 0 {
				require.False(t, r.End.Less(recs[len(recs)-1].End), "record ends at %v, before %v", r.End, recs[len(recs)-1].End)
			}
			recs = append(recs, mysqlreplica.Record{End: r.End, Event: slices.Clone(r.Event)})
			return nil
		}))
		require.Equal(t, before, recs, "the records are those ReadRelayFile found before the cut")
		require.Equal(t, int64(len(recs)), r.Stats().Records)
		if len(recs) > 0 {
			require.Equal(t, recs[len(recs)-1].End, r.Last())
		} else {
			require.True(t, r.Last().IsZero())
		}
	})
}
