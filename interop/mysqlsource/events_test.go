package mysqlsource_test

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"flag"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/go-mysql-org/go-mysql/replication"
	"github.com/stretchr/testify/require"

	"github.com/semisync-go/semisync/interop/internal/mariadbtest"
	"github.com/semisync-go/semisync/interop/mysqlreplica"
	"github.com/semisync-go/semisync/interop/mysqlsource"
)

var update = flag.Bool("update", false, "rewrite testdata/mariadb-10.11-events.txt from a live MariaDB")

// capturePath holds events a real MariaDB 10.11 sent in dumps, one per
// line: a label and the event's bytes in hex (CRC32 trailer included).
const capturePath = "testdata/mariadb-10.11-events.txt"

// rebuild makes the event ev again with this package's builders, from the
// fields ev's header and body hold; nil for a type it does not make.
func rebuild(t *testing.T, ev []byte) []byte {
	t.Helper()
	hd, err := mysqlreplica.ParseHeader(ev)
	require.NoError(t, err)
	h := mysqlsource.Header{Timestamp: hd.Timestamp, ServerID: hd.ServerID, LogPos: hd.LogPos, Flags: hd.Flags}
	body := ev[mysqlsource.HeaderLen : len(ev)-mysqlsource.ChecksumLen]
	le16, le32, le64 := binary.LittleEndian.Uint16, binary.LittleEndian.Uint32, binary.LittleEndian.Uint64
	switch hd.Type {
	case mysqlsource.TypeRotate:
		return mysqlsource.AppendRotate(nil, h, string(body[8:]), le64(body), true)
	case mysqlsource.TypeFormatDescription:
		require.Equal(t, byte(mysqlsource.HeaderLen), body[56], "the header length")
		fd := mysqlsource.FormatDescription{
			BinlogVersion:  le16(body),
			ServerVersion:  string(bytes.TrimRight(body[2:52], "\x00")),
			Created:        le32(body[52:]),
			PostHeaderLens: body[57 : len(body)-1],
			Checksum:       body[len(body)-1],
		}
		if strings.HasPrefix(fd.ServerVersion, "10.11.") {
			require.Equal(t, mysqlsource.MariaDB1011PostHeaderLens(), fd.PostHeaderLens, "MariaDB 10.11's post-header lengths")
		}
		out, err := mysqlsource.AppendFormatDescription(nil, h, fd)
		require.NoError(t, err)
		return out
	case mysqlsource.TypeHeartbeat:
		return mysqlsource.AppendHeartbeat(nil, h, string(body), true)
	case mysqlsource.TypeBinlogCheckpoint:
		return mysqlsource.AppendBinlogCheckpoint(nil, h, string(body[4:4+le32(body)]), true)
	case mysqlsource.TypeMariaGTIDList:
		n, flags := le32(body)&(1<<28-1), uint8(le32(body)>>28)
		var list []mysqlsource.GTID
		for i := range n {
			g := body[4+16*i:]
			list = append(list, mysqlsource.GTID{Domain: le32(g), ServerID: le32(g[4:]), Seq: le64(g[8:])})
		}
		out, err := mysqlsource.AppendGTIDList(nil, h, list, flags, true)
		require.NoError(t, err)
		return out
	case mysqlsource.TypeMariaGTID:
		flags2 := body[12]
		var commitID uint64
		if flags2&mysqlsource.GTIDGroupCommitID != 0 {
			commitID = le64(body[13:])
		}
		out, err := mysqlsource.AppendMariaGTID(nil, h, le64(body), le32(body[8:]), flags2, commitID, true)
		require.NoError(t, err)
		return out
	}
	return nil
}

// TestEventsAsCaptured: every event of the made-up kinds that a real
// MariaDB 10.11 sent (kept in testdata) is made again byte for byte.
func TestEventsAsCaptured(t *testing.T) {
	f, err := os.Open(capturePath)
	require.NoError(t, err)
	defer f.Close()
	kinds := map[uint8]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		label, hexed, ok := strings.Cut(sc.Text(), " ")
		require.True(t, ok, "a line without a label: %q", sc.Text())
		ev, err := hex.DecodeString(hexed)
		require.NoError(t, err)
		got := rebuild(t, ev)
		require.NotNil(t, got, "%s: not a made-up kind", label)
		require.Equal(t, hex.EncodeToString(ev), hex.EncodeToString(got), label)
		kinds[ev[4]]++
	}
	require.NoError(t, sc.Err())
	for _, typ := range []uint8{mysqlsource.TypeRotate, mysqlsource.TypeFormatDescription, mysqlsource.TypeHeartbeat,
		mysqlsource.TypeBinlogCheckpoint, mysqlsource.TypeMariaGTIDList, mysqlsource.TypeMariaGTID} {
		require.NotZero(t, kinds[typ], "no captured event of type %d", typ)
	}
}

// dump sends COM_BINLOG_DUMP from file:pos on c (after declaring CRC32
// checksums, MariaDB's GTID capability and a 100 ms heartbeat) and returns
// the events received until the first heartbeat after at least min events.
func dump(t *testing.T, c *client.Conn, file string, pos uint32, min int) [][]byte {
	t.Helper()
	for _, q := range []string{"SET @master_binlog_checksum = 'CRC32'", "SET @master_heartbeat_period = 100000000", "SET @mariadb_slave_capability = 4"} {
		_, err := c.Execute(q)
		require.NoError(t, err)
	}
	cmd := []byte{0x12} // COM_BINLOG_DUMP
	cmd = binary.LittleEndian.AppendUint32(cmd, pos)
	cmd = binary.LittleEndian.AppendUint16(cmd, 0)
	cmd = binary.LittleEndian.AppendUint32(cmd, 77) // the replica's server_id
	cmd = append(cmd, file...)
	c.ResetSequence()
	require.NoError(t, c.WritePacket(append(make([]byte, 4), cmd...)))
	require.NoError(t, c.SetReadDeadline(time.Now().Add(30*time.Second)))
	var evs [][]byte
	for {
		p, err := c.ReadPacket()
		require.NoError(t, err)
		require.Equal(t, byte(0), p[0], "an event packet, not %x", p)
		ev := p[1:]
		require.Equal(t, crc32.ChecksumIEEE(ev[:len(ev)-4]), binary.LittleEndian.Uint32(ev[len(ev)-4:]), "the CRC32 MariaDB sent")
		evs = append(evs, bytes.Clone(ev))
		if ev[4] == mysqlsource.TypeHeartbeat && len(evs) > min {
			return evs
		}
	}
}

// TestEventsAsMariaDBSends: a live MariaDB 10.11 is dumped from the start
// of a file with GTIDs before it, and from the middle of a file; each
// event of the made-up kinds is made again byte for byte. With -update the
// events become the testdata TestEventsAsCaptured checks.
func TestEventsAsMariaDBSends(t *testing.T) {
	srv := mariadbtest.Start(t, mariadbtest.Options{})
	srv.Exec(t, "CREATE DATABASE d")
	srv.Exec(t, "CREATE TABLE d.t (a INT PRIMARY KEY) ENGINE=InnoDB")
	srv.Exec(t, "SET SESSION gtid_domain_id = 7")
	srv.Exec(t, "INSERT INTO d.t VALUES (1)")
	srv.Exec(t, "SET SESSION gtid_domain_id = 0")
	srv.Exec(t, "INSERT INTO d.t VALUES (2)")
	srv.Exec(t, "FLUSH BINARY LOGS")
	srv.Exec(t, "INSERT INTO d.t VALUES (3)")

	var lines []string
	check := func(what string, evs [][]byte) {
		made := 0
		for i, ev := range evs {
			got := rebuild(t, ev)
			if got == nil {
				continue
			}
			label := fmt.Sprintf("%s#%d", what, i)
			require.Equal(t, hex.EncodeToString(ev), hex.EncodeToString(got), label)
			lines = append(lines, label+" "+hex.EncodeToString(ev))
			made++
		}
		require.NotZero(t, made, what)
	}
	second := dump(t, srv.Conn(t), "mysql-bin.000002", 4, 5)
	check("second-file-start", second)
	list := second[2]
	require.Equal(t, uint8(mysqlsource.TypeMariaGTIDList), list[4], "the GTID list after the format description")
	require.Equal(t, uint32(2), binary.LittleEndian.Uint32(list[mysqlsource.HeaderLen:]), "two domains before the second file")

	first := dump(t, srv.Conn(t), "mysql-bin.000001", 4, 8)
	check("first-file-start", first)
	hd, err := mysqlreplica.ParseHeader(first[4])
	require.NoError(t, err)
	check("first-file-middle", dump(t, srv.Conn(t), "mysql-bin.000001", hd.LogPos, 2))

	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(capturePath), 0o755))
		require.NoError(t, os.WriteFile(capturePath, []byte(strings.Join(lines, "\n")+"\n"), 0o644))
	}
}

// Without a checksum an event is the same bytes without the trailer, its
// size 4 less.
func TestEventsWithoutChecksum(t *testing.T) {
	h := mysqlsource.Header{ServerID: 9, LogPos: 1234}
	gtid := func(checksum bool) []byte {
		ev, err := mysqlsource.AppendMariaGTID(nil, h, 5, 1, mysqlsource.GTIDGroupCommitID, 99, checksum)
		require.NoError(t, err)
		return ev
	}
	for _, pair := range [][2][]byte{
		{mysqlsource.AppendRotate(nil, h, "b.000002", 4, false), mysqlsource.AppendRotate(nil, h, "b.000002", 4, true)},
		{mysqlsource.AppendHeartbeat(nil, h, "b.000002", false), mysqlsource.AppendHeartbeat(nil, h, "b.000002", true)},
		{mysqlsource.AppendBinlogCheckpoint(nil, h, "b.000001", false), mysqlsource.AppendBinlogCheckpoint(nil, h, "b.000001", true)},
		{gtid(false), gtid(true)},
	} {
		off, on := pair[0], pair[1]
		require.Len(t, on, len(off)+mysqlsource.ChecksumLen)
		require.Equal(t, uint32(len(off)), binary.LittleEndian.Uint32(off[9:]))
		require.Equal(t, uint32(len(on)), binary.LittleEndian.Uint32(on[9:]))
		require.Equal(t, off[:9], on[:9])
		require.Equal(t, off[13:], on[13:len(on)-4])
		require.Equal(t, crc32.ChecksumIEEE(on[:len(on)-4]), binary.LittleEndian.Uint32(on[len(on)-4:]))
	}
	// Appending keeps what dst held.
	two := mysqlsource.AppendHeartbeat(mysqlsource.AppendHeartbeat(nil, h, "x", true), h, "x", true)
	require.Equal(t, two[:len(two)/2], two[len(two)/2:])
}

// The builders refuse what the format cannot hold.
func TestEventsRefused(t *testing.T) {
	_, err := mysqlsource.AppendFormatDescription(nil, mysqlsource.Header{}, mysqlsource.FormatDescription{ServerVersion: strings.Repeat("v", 51)})
	require.ErrorContains(t, err, "at most 50")
	_, err = mysqlsource.AppendFormatDescription(nil, mysqlsource.Header{}, mysqlsource.FormatDescription{Checksum: 2})
	require.ErrorContains(t, err, "checksum algorithm 2")
	_, err = mysqlsource.AppendGTIDList(nil, mysqlsource.Header{}, nil, 16, true)
	require.ErrorContains(t, err, "4 flag bits")
	empty, err := mysqlsource.AppendGTIDList(nil, mysqlsource.Header{}, nil, 0, false)
	require.NoError(t, err)
	require.Len(t, empty, mysqlsource.HeaderLen+6, "a count and MariaDB's two bytes of padding")
	require.Equal(t, "0-1-42", mysqlsource.GTID{Domain: 0, ServerID: 1, Seq: 42}.String())
	_, err = mysqlsource.AppendMariaGTID(nil, mysqlsource.Header{}, 1, 0, 0x40, 0, true)
	require.ErrorContains(t, err, "XA")
	lens := mysqlsource.MariaDB1011PostHeaderLens()
	lens[0]++
	require.NotEqual(t, lens, mysqlsource.MariaDB1011PostHeaderLens(), "a copy each time")
}

// The events a host writes into its own binlog parse as go-mysql's parser
// (an independent reading of the format) parses a real server's.
func TestEventsParsedByGoMySQL(t *testing.T) {
	h := mysqlsource.Header{Timestamp: 1700000000, ServerID: 7}
	fde, err := mysqlsource.AppendFormatDescription(nil, h, mysqlsource.FormatDescription{BinlogVersion: 4, ServerVersion: "10.11.0-MariaDB-log",
		PostHeaderLens: mysqlsource.MariaDB1011PostHeaderLens(), Checksum: mysqlsource.ChecksumCRC32})
	require.NoError(t, err)
	gtid, err := mysqlsource.AppendMariaGTID(nil, h, 42, 3, 0, 0, true)
	require.NoError(t, err)
	q, err := mysqlsource.AppendQuery(nil, h, "shop", "INSERT INTO t VALUES (1)", true)
	require.NoError(t, err)
	x := mysqlsource.AppendXID(nil, h, 99, true)
	p := replication.NewBinlogParser()
	p.SetVerifyChecksum(true)
	var got []*replication.BinlogEvent
	end := uint32(4)
	for _, ev := range [][]byte{fde, gtid, q, x} {
		end += uint32(len(ev))
		mysqlsource.SetLogPos(ev, end, true)
		e, err := p.Parse(ev)
		require.NoError(t, err)
		require.Equal(t, end, e.Header.LogPos)
		got = append(got, e)
	}
	require.Equal(t, uint64(42), got[1].Event.(*replication.MariadbGTIDEvent).GTID.SequenceNumber)
	require.Equal(t, uint32(3), got[1].Event.(*replication.MariadbGTIDEvent).GTID.DomainID)
	qe := got[2].Event.(*replication.QueryEvent)
	require.Equal(t, "shop", string(qe.Schema))
	require.Equal(t, "INSERT INTO t VALUES (1)", string(qe.Query))
	require.Equal(t, uint64(99), got[3].Event.(*replication.XIDEvent).XID)

	_, err = mysqlsource.AppendQuery(nil, h, strings.Repeat("s", 256), "SELECT 1", true)
	require.ErrorContains(t, err, "at most 255")
	short := []byte{1, 2, 3}
	mysqlsource.SetLogPos(short, 9, true)
	require.Equal(t, []byte{1, 2, 3}, short, "too short to be an event: left alone")
}
