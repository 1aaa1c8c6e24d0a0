package binlogd_test

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/interop/binlogd"
	"github.com/semisync-go/semisync/interop/mysqlsource"
)

// FuzzStoreWrite (up to 64 events an input) feeds the store events from the network as the upstream
// replica would, whatever their bytes: it never panics, what a cursor
// reads are events that were written, in order, and a reopened store
// holds the same GTID position and end.
func FuzzStoreWrite(f *testing.F) {
	p, head := newPrimary(f)
	var seed []byte
	for _, e := range append(head, p.tx()...) {
		ev := e[0].([]byte)
		seed = binary.LittleEndian.AppendUint16(seed, uint16(len(ev)))
		seed = append(seed, ev...)
	}
	f.Add(seed)
	f.Add([]byte{19, 0, 0, 0, 0, 0, 162, 1, 0, 0, 0, 19, 0, 0, 0, 30, 0, 0, 0, 0, 0})
	// MySQL's: previous GTIDs, then GTID, BEGIN, XID.
	seed = nil
	h := mysqlsource.Header{Timestamp: 1700000000, ServerID: 1}
	prev, err := mysqlsource.AppendGTIDDump(nil, mysqlsource.GTIDDump{GTIDs: []mysqlsource.UUIDSet{{SID: [16]byte{1}, Intervals: []mysqlsource.Interval{{Start: 1, End: 3}}}}})
	require.NoError(f, err)
	begin, err := mysqlsource.AppendQuery(nil, h, "d", "BEGIN", false)
	require.NoError(f, err)
	for _, ev := range [][]byte{mysqlEvent(35, prev[1+2+4+4+8+4:]), mysqlEvent(33, append([]byte{1, 1}, make([]byte, 40)...)), begin, mysqlsource.AppendXID(nil, h, 1, false)} {
		seed = binary.LittleEndian.AppendUint16(seed, uint16(len(ev)))
		seed = append(seed, ev...)
	}
	if len(seed)%2 == 0 {
		seed = append(seed, 0) // odd: a MySQL primary's store
	}
	f.Add(seed)
	f.Fuzz(fuzzStore)
}

// mysqlEvent is an event of type typ with body and no checksum, its
// log_pos 1 (an event of the binlog, not made up).
func mysqlEvent(typ byte, body []byte) []byte {
	ev := make([]byte, mysqlsource.HeaderLen, mysqlsource.HeaderLen+len(body))
	ev[4] = typ
	binary.LittleEndian.PutUint32(ev[9:], uint32(cap(ev)))
	binary.LittleEndian.PutUint32(ev[13:], 1)
	return append(ev, body...)
}

func fuzzStore(t *testing.T, data []byte) {
	{
		dir := t.TempDir()
		// The store's flavor by the input's length: a MySQL primary's for
		// odd lengths.
		o := binlogd.StoreOptions{SegmentBytes: 4096, MySQL: len(data)%2 == 1}
		s, err := binlogd.OpenStore(dir, o)
		require.NoError(t, err)
		off := uint64(4)
		var stored []semisync.Position
		for k := 0; len(data) >= 2 && k < 64; k++ { // each event may cost a segment and its fsyncs
			n := int(binary.LittleEndian.Uint16(data))
			data = data[2:]
			n = min(n, len(data))
			ev := data[:n]
			data = data[n:]
			off += uint64(n) % 300
			end := semisync.FilePos("mysql-bin.000001", off)
			before := s.Last()
			if err := s.Write(ev, end); err != nil {
				continue
			}
			if s.Last() != before && len(ev) >= 19 && binary.LittleEndian.Uint32(ev[13:]) != 0 && ev[4] != 0 && ev[4] != 27 && binary.LittleEndian.Uint16(ev[17:])&0x20 == 0 {
				stored = append(stored, end)
			}
		}
		require.NoError(t, s.Flush())
		require.NoError(t, s.Sync())
		gtid, err := s.GTID()
		require.NoError(t, err)
		if len(stored) > 0 {
			c, err := s.Open(semisync.Position{})
			if err == nil {
				var got []semisync.Position
				for {
					ev, ok, err := c.Next()
					require.NoError(t, err)
					if !ok {
						break
					}
					got = append(got, ev.End)
				}
				require.Equal(t, stored, got)
				c.Close()
			}
		}
		end := s.Synced()
		require.NoError(t, s.Close())
		s, err = binlogd.OpenStore(dir, o)
		require.NoError(t, err)
		defer s.Close()
		require.Equal(t, end, s.Synced())
		again, _ := s.GTID()
		require.Equal(t, gtid, again)
	}
}
