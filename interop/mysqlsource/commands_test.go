package mysqlsource_test

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/interop/mysqlsource"
)

// MySQL's replica sends COM_REGISTER_SLAVE as mysqlreplica (and MySQL's
// own IO thread) builds it: these bytes parse to what they say.
func TestParseRegisterReplica(t *testing.T) {
	p := []byte{0x15, 0x4d, 0, 0, 0, 9, 'r', 'e', 'p', 'l', 'i', 'c', 'a', '-', '1', 4, 'r', 'e', 'p', 'l', 0, 0x0a, 0x0c, 0, 0, 0, 0, 1, 0, 0, 0}
	r, err := mysqlsource.ParseRegisterReplica(p)
	require.NoError(t, err)
	require.Equal(t, mysqlsource.RegisterReplica{ServerID: 77, Host: "replica-1", User: "repl", Port: 3082, SourceID: 1}, r)
	out, err := mysqlsource.AppendRegisterReplica(nil, r)
	require.NoError(t, err)
	require.Equal(t, p, out)
	for _, bad := range [][]byte{nil, {0x12}, p[:4], p[:10], p[:len(p)-1], append(bytes.Clone(p), 0)} {
		_, err := mysqlsource.ParseRegisterReplica(bad)
		require.ErrorIs(t, err, mysqlsource.ErrMalformedCommand, "%x", bad)
	}
	_, err = mysqlsource.AppendRegisterReplica(nil, mysqlsource.RegisterReplica{Host: strings.Repeat("h", 251)})
	require.Error(t, err)
	long := []byte{0x15, 1, 0, 0, 0, 0xfc, 0xfb, 0} // a length-encoded report_host of 251 bytes
	long = append(append(long, strings.Repeat("h", 251)...), make([]byte, 2+10)...)
	_, err = mysqlsource.ParseRegisterReplica(long)
	require.ErrorIs(t, err, mysqlsource.ErrMalformedCommand)
}

// COM_BINLOG_DUMP: offset, flags, server id, then the file name to the
// end of the packet.
func TestParseDump(t *testing.T) {
	p := []byte{0x12, 4, 0, 0, 0, 0, 0, 0x4d, 0, 0, 0}
	p = append(p, "mysql-bin.000001"...)
	d, err := mysqlsource.ParseDump(p)
	require.NoError(t, err)
	require.Equal(t, mysqlsource.Dump{Start: semisync.FilePos("mysql-bin.000001", 4), ServerID: 77}, d)
	out, err := mysqlsource.AppendDump(nil, d)
	require.NoError(t, err)
	require.Equal(t, p, out)
	for _, bad := range [][]byte{nil, {0x15}, p[:10], append(bytes.Clone(p[:11]), strings.Repeat("x", semisync.MaxFileNameLen+1)...)} {
		_, err := mysqlsource.ParseDump(bad)
		require.ErrorIs(t, err, mysqlsource.ErrMalformedCommand, "%x", bad)
	}
	_, err = mysqlsource.AppendDump(nil, mysqlsource.Dump{Start: semisync.FilePos("b.000001", 1<<32)})
	require.Error(t, err, "an offset beyond the command's 4 bytes")
}

// COM_BINLOG_DUMP_GTID with a GTID set of two sources, encoded as MySQL 8
// (and go-mysql, independently) encodes Gtid_set, intervals end exclusive;
// the set is there whatever the flags (MySQL's replica sends flags 0);
// lengths that run past the packet or claim more than it holds, and
// intervals MySQL refuses, are refused before anything is allocated.
func TestParseGTIDDump(t *testing.T) {
	const set = "01020300-0000-0000-0000-000000000000:1-42:50,09000000-0000-0000-0000-000000000000:1"
	d := mysqlsource.GTIDDump{ServerID: 77, Pos: 4, GTIDs: []mysqlsource.UUIDSet{
		{SID: [16]byte{1, 2, 3}, Intervals: []mysqlsource.Interval{{Start: 1, End: 43}, {Start: 50, End: 51}}},
		{SID: [16]byte{9}, Intervals: []mysqlsource.Interval{{Start: 1, End: 2}}},
	}}
	p, err := mysqlsource.AppendGTIDDump(nil, d)
	require.NoError(t, err)
	require.Len(t, p, 1+2+4+4+8+4+8+2*24+3*16)
	theirs, err := mysql.ParseMysqlGTIDSet(set)
	require.NoError(t, err)
	require.Equal(t, theirs.Encode(), p[1+2+4+4+8+4:], "go-mysql's encoding of the same set")
	got, err := mysqlsource.ParseGTIDDump(p)
	require.NoError(t, err)
	require.Equal(t, d, got)
	for _, bad := range [][]mysqlsource.Interval{{{Start: 0, End: 2}}, {{Start: 3, End: 3}}, {{Start: 1, End: 5}, {Start: 5, End: 7}}, {{Start: 4, End: 9}, {Start: 1, End: 2}}, {{Start: 1, End: 1<<63 + 1}}} {
		_, err := mysqlsource.AppendGTIDDump(nil, mysqlsource.GTIDDump{GTIDs: []mysqlsource.UUIDSet{{Intervals: bad}}})
		require.Error(t, err, "%v", bad)
	}

	noSet := mysqlsource.GTIDDump{Flags: mysqlsource.DumpThroughPosition, ServerID: 5, File: "binlog.000003", Pos: 1234, GTIDs: []mysqlsource.UUIDSet{}}
	p2, err := mysqlsource.AppendGTIDDump(nil, noSet)
	require.NoError(t, err)
	got, err = mysqlsource.ParseGTIDDump(p2)
	require.NoError(t, err)
	require.Equal(t, noSet, got)

	huge := bytes.Clone(p)
	binary.LittleEndian.PutUint64(huge[1+2+4+4+8+4:], 1<<62) // the number of source ids
	badInterval := bytes.Clone(p)
	binary.LittleEndian.PutUint64(badInterval[len(p)-8:], 1) // [1, 1)
	adjacent := bytes.Clone(p)
	binary.LittleEndian.PutUint64(adjacent[1+2+4+4+8+4+8+24+16:], 43) // [1, 43) then [43, 51)
	noLength := p[:1+2+4+4+8]                                         // no GTID set at all
	for _, bad := range [][]byte{nil, p[:10], p[:len(p)-1], append(bytes.Clone(p), 0), huge, badInterval, adjacent, noLength, append(bytes.Clone(p2), 0)} {
		_, err := mysqlsource.ParseGTIDDump(bad)
		require.ErrorIs(t, err, mysqlsource.ErrMalformedCommand, "%x", bad)
	}
}

// Every command survives Append then Parse unchanged.
func TestCommandsRoundTrip(t *testing.T) {
	str := rapid.StringN(0, 255, 255)
	rapid.Check(t, func(t *rapid.T) {
		r := mysqlsource.RegisterReplica{ServerID: rapid.Uint32().Draw(t, "id"), Host: str.Draw(t, "host"), User: str.Draw(t, "user"),
			Password: str.Draw(t, "password"), Port: rapid.Uint16().Draw(t, "port"), Rank: rapid.Uint32().Draw(t, "rank"), SourceID: rapid.Uint32().Draw(t, "source")}
		if len(r.Host) <= 255 && len(r.User) <= 255 && len(r.Password) <= 255 {
			p, err := mysqlsource.AppendRegisterReplica(nil, r)
			require.NoError(t, err)
			got, err := mysqlsource.ParseRegisterReplica(p)
			require.NoError(t, err)
			require.Equal(t, r, got)
		}
		d := mysqlsource.Dump{Start: semisync.FilePos(rapid.StringN(0, 40, 40).Draw(t, "file"), uint64(rapid.Uint32().Draw(t, "pos"))),
			Flags: rapid.Uint16().Draw(t, "flags"), ServerID: rapid.Uint32().Draw(t, "id")}
		p, err := mysqlsource.AppendDump(nil, d)
		require.NoError(t, err)
		got, err := mysqlsource.ParseDump(p)
		require.NoError(t, err)
		require.Equal(t, d, got)
		g := mysqlsource.GTIDDump{Flags: rapid.Uint16().Draw(t, "flags"), ServerID: rapid.Uint32().Draw(t, "id"),
			File: rapid.StringN(0, 40, 40).Draw(t, "file"), Pos: rapid.Uint64().Draw(t, "pos")}
		g.GTIDs = []mysqlsource.UUIDSet{}
		for range rapid.IntRange(0, 4).Draw(t, "sids") {
			s := mysqlsource.UUIDSet{Intervals: []mysqlsource.Interval{}}
			copy(s.SID[:], rapid.SliceOfN(rapid.Byte(), 16, 16).Draw(t, "sid"))
			next := uint64(1)
			for range rapid.IntRange(0, 4).Draw(t, "intervals") {
				start := next + rapid.Uint64Range(0, 100).Draw(t, "gap")
				end := start + rapid.Uint64Range(1, 100).Draw(t, "len")
				s.Intervals = append(s.Intervals, mysqlsource.Interval{Start: start, End: end})
				next = end + 1
			}
			g.GTIDs = append(g.GTIDs, s)
		}
		p, err = mysqlsource.AppendGTIDDump(nil, g)
		require.NoError(t, err)
		gotG, err := mysqlsource.ParseGTIDDump(p)
		require.NoError(t, err)
		require.Equal(t, g, gotG)
	})
}

// The Framer's heartbeat is the one MariaDB sent in the captured dump.
func TestFramerHeartbeatAsCaptured(t *testing.T) {
	data, err := os.ReadFile(capturePath)
	require.NoError(t, err)
	found := 0
	for line := range strings.Lines(string(data)) {
		_, hexed, _ := strings.Cut(strings.TrimSpace(line), " ")
		ev, err := hex.DecodeString(hexed)
		require.NoError(t, err)
		if ev[4] != mysqlsource.TypeHeartbeat {
			continue
		}
		file := string(ev[mysqlsource.HeaderLen : len(ev)-mysqlsource.ChecksumLen])
		last := semisync.FilePos(file, uint64(binary.LittleEndian.Uint32(ev[13:])))
		f := mysqlsource.Framer{ServerID: binary.LittleEndian.Uint32(ev[5:]), Checksum: true}
		require.Equal(t, ev, f.AppendHeartbeat(nil, last))
		require.Empty(t, f.AppendEventHead(nil, last, []byte("event")))
		found++
	}
	require.NotZero(t, found)
}
