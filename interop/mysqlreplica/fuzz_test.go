package mysqlreplica_test

import (
	"encoding/binary"
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
	for i := range 3 {
		ev := mkEvent(mysqlreplica.TypeXID, uint32(328+31*(i+1)), 0, xidBody(uint64(i)), false)
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
