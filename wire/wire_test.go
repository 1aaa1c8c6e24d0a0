package wire_test

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash/crc32"
	"io"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/wire"
)

// Bytes captured on the wire (mariadb-on-loopback §5c), completed where the
// capture was elided.
const (
	// xidEventHex is a 31-byte XID event: the 19-byte header go-mysql saw
	// (timestamp 0x6b01453f, type 0x10, server_id 1, size 31, log_pos
	// 0x0d426d = 868973, flags 0), then xid 4005 and the CRC32 of the 27
	// bytes before it.
	xidEventHex = "3f45016b" + "10" + "01000000" + "1f000000" + "6d420d00" + "0000" +
		"a50f000000000000" + "fc304bb4"
	// xidPacketHex is the flagged XID event packet: length 34, seq 9, then
	// OK, magic, flag 1 and the event.
	xidPacketHex = "22000009" + "00ef01" + xidEventHex
	// heartbeatEventHex is a HEARTBEAT_LOG_EVENT (type 0x1b, size 39) at the
	// same position, naming the binlog file, with its CRC32.
	heartbeatEventHex = "00000000" + "1b" + "01000000" + "27000000" + "6d420d00" + "0000" +
		"6d7973716c2d62696e2e303030303031" + "54f223af"
	// goMySQLAckPacketHex is go-mysql's ACK for the XID event above: length
	// 25, seq 0, magic, position 868973, "mysql-bin.000001".
	goMySQLAckPacketHex = "19000000" + "ef" + "6d420d0000000000" + "6d7973716c2d62696e2e303030303031"
	// mariaDBAckHex is the payload of a real MariaDB 10.11 replica's ACK
	// (position 1822045, "mysql-bin.000001"), sent with seq 0.
	mariaDBAckHex = "ef" + "5dcd1b0000000000" + "6d7973716c2d62696e2e303030303031"
	// errorPacketHex is the error packet a source sends instead of an
	// event: ER_MASTER_FATAL_ERROR_READING_BINLOG (1236).
	errorPacketHex = "ff" + "d404" + "23" + "4859303030" + "436f756c64206e6f742066696e64"
	// eofPacketHex is the EOF packet that ends a non-blocking dump.
	eofPacketHex = "fe" + "0000" + "0200"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	require.NoError(t, err)
	return b
}

func reader(stream []byte, limit int) *wire.PacketReader {
	return wire.NewPacketReader(bufio.NewReader(bytes.NewReader(stream)), limit)
}

func TestXIDEventPacket(t *testing.T) {
	event := unhex(t, xidEventHex)
	require.Len(t, event, 31)
	require.Equal(t, crc32.ChecksumIEEE(event[:27]), binary.LittleEndian.Uint32(event[27:]), "a plausible event: its CRC32 holds")

	payload := wire.AppendEvent(nil, true, event)
	require.Equal(t, payload, append(wire.AppendEventHeader(nil, true), event...))
	pkt, next := wire.AppendPacket(nil, 9, payload)
	require.Equal(t, unhex(t, xidPacketHex), pkt)
	require.Equal(t, uint8(10), next)

	pr := reader(pkt, 0)
	seq, got, err := pr.ReadPacket()
	require.NoError(t, err)
	require.Equal(t, uint8(9), seq)
	require.Equal(t, uint8(10), pr.NextSeq())
	require.Equal(t, payload, got)

	ev, reply, err := wire.DecodeEvent(got)
	require.NoError(t, err)
	require.True(t, reply)
	require.Equal(t, event, ev)
	require.Same(t, &got[wire.EventHeaderLen], &ev[0], "the event aliases the payload")
	require.Equal(t, byte(0x10), ev[4], "XID event type")
	require.Equal(t, uint32(868973), binary.LittleEndian.Uint32(ev[13:17]), "log_pos, the position to acknowledge")
	require.Equal(t, uint8(1), wire.SeqAfterEvent(pr.NextSeq(), reply), "after a flagged event the next packet is seq 1")

	_, _, err = pr.ReadPacket()
	require.ErrorIs(t, err, io.EOF)
}

func TestAckPackets(t *testing.T) {
	cases := []struct {
		name   string
		pos    semisync.Position
		packet string
	}{
		{"go-mysql", semisync.FilePos("mysql-bin.000001", 868973), goMySQLAckPacketHex},
		{"mariadb-replica", semisync.FilePos("mysql-bin.000001", 1822045), "19000000" + mariaDBAckHex},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want := unhex(t, tc.packet)
			ack, err := wire.AppendAck(nil, tc.pos)
			require.NoError(t, err)
			pkt, next := wire.AppendPacket(nil, wire.AckSeq, ack)
			require.Equal(t, want, pkt)
			require.Equal(t, uint8(1), next)

			prefixed, err := wire.AppendAck([]byte("keep"), tc.pos)
			require.NoError(t, err)
			require.Equal(t, append([]byte("keep"), ack...), prefixed, "AppendAck appends")

			seq, payload, err := reader(want, wire.MaxAckLen).ReadPacket()
			require.NoError(t, err)
			require.Equal(t, wire.AckSeq, seq)
			pos, err := wire.DecodeAck(payload)
			require.NoError(t, err)
			require.Equal(t, tc.pos, pos)

			name, off, err := wire.ParseAck(payload)
			require.NoError(t, err)
			require.Equal(t, tc.pos.File(), string(name))
			require.Equal(t, tc.pos.Offset(), off)
			require.Same(t, &payload[wire.AckHeaderLen], &name[0], "the name aliases the payload")
		})
	}
}

func TestHeartbeat(t *testing.T) {
	require.Equal(t, []byte{0x00, 0xef, 0x00}, wire.AppendEventHeader(nil, false))
	hb := unhex(t, heartbeatEventHex)
	require.Equal(t, crc32.ChecksumIEEE(hb[:35]), binary.LittleEndian.Uint32(hb[35:]))
	payload := wire.AppendEvent(nil, false, hb)
	require.Equal(t, unhex(t, "00ef00"+heartbeatEventHex), payload)
	ev, reply, err := wire.DecodeEvent(payload)
	require.NoError(t, err)
	require.False(t, reply)
	require.Equal(t, hb, ev)
	require.Equal(t, byte(0x1b), ev[4], "HEARTBEAT_LOG_EVENT")
}

func TestDecodeEventErrors(t *testing.T) {
	sentinels := []error{wire.ErrShort, wire.ErrNotEvent, wire.ErrMagic}
	cases := []struct {
		name    string
		payload string
		want    error
	}{
		{"empty", "", wire.ErrShort},
		{"status only", "00", wire.ErrShort},
		{"status and magic", "00ef", wire.ErrShort},
		{"error packet", errorPacketHex, wire.ErrNotEvent},
		{"eof packet", eofPacketHex, wire.ErrNotEvent},
		{"lone error byte", "ff", wire.ErrNotEvent},
		{"asynchronous event packet", "00" + xidEventHex, wire.ErrMagic},
		{"flag where magic belongs", "000101", wire.ErrMagic},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ev, reply, err := wire.DecodeEvent(unhex(t, tc.payload))
			require.ErrorIs(t, err, tc.want)
			for _, other := range sentinels {
				if other != tc.want {
					require.NotErrorIs(t, err, other)
				}
			}
			require.Nil(t, ev)
			require.False(t, reply)
		})
	}
	_, _, err := wire.DecodeEvent(nil)
	require.ErrorIs(t, err, wire.ErrShort)
}

// TestDecodeEventFlag: only bit 0 of the flag byte asks for a reply, as in
// MySQL's replica (spec §8.2).
func TestDecodeEventFlag(t *testing.T) {
	for flag, want := range map[byte]bool{0x00: false, 0x01: true, 0x02: false, 0x03: true, 0x80: false, 0xfe: false, 0xff: true} {
		ev, reply, err := wire.DecodeEvent([]byte{wire.StatusOK, wire.Magic, flag, 0x42})
		require.NoError(t, err)
		require.Equal(t, want, reply, "flag %#02x", flag)
		require.Equal(t, []byte{0x42}, ev)
	}
	ev, reply, err := wire.DecodeEvent([]byte{wire.StatusOK, wire.Magic, wire.FlagReplyRequired})
	require.NoError(t, err)
	require.True(t, reply)
	require.Empty(t, ev, "a prefix with no event is not an error of this layer")
}

func TestParseAckErrors(t *testing.T) {
	hexName := func(n int) string { return hex.EncodeToString([]byte(strings.Repeat("b", n))) }
	cases := []struct {
		name    string
		payload string
		want    error // nil: accepted
		quit    bool
		pos     semisync.Position
	}{
		{name: "empty", payload: "", want: wire.ErrShort},
		{name: "ok packet", payload: "00000002000000", want: wire.ErrMagic},
		{name: "com_quit", payload: "01", want: wire.ErrMagic, quit: true},
		{name: "com_ping", payload: "0e", want: wire.ErrMagic},
		{name: "magic only", payload: "ef", want: wire.ErrShort},
		{name: "8 bytes", payload: "ef01020304050607", want: wire.ErrShort},
		{name: "9 bytes: LSN", payload: "ef0100000000000080", pos: semisync.LSN(1<<63 + 1)},
		{name: "name of 511 bytes", payload: "ef0400000000000000" + hexName(511), pos: semisync.FilePos(strings.Repeat("b", 511), 4)},
		{name: "name of 512 bytes", payload: "ef0400000000000000" + hexName(512), want: wire.ErrNameTooLong},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			payload := unhex(t, tc.payload)
			require.Equal(t, tc.quit, wire.IsQuit(payload))
			name, off, err := wire.ParseAck(payload)
			pos, derr := wire.DecodeAck(payload)
			if tc.want != nil {
				require.ErrorIs(t, err, tc.want)
				require.ErrorIs(t, derr, tc.want)
				require.Nil(t, name)
				require.Zero(t, off)
				require.Equal(t, semisync.Position{}, pos)
				return
			}
			require.NoError(t, err)
			require.NoError(t, derr)
			require.Equal(t, tc.pos, pos)
			require.Equal(t, tc.pos.File(), string(name))
			require.Equal(t, tc.pos.Offset(), off)
		})
	}
}

func TestIsQuit(t *testing.T) {
	for payload, want := range map[string]bool{"01": true, "": false, "0100": false, "ef": false, "0e": false, "00": false} {
		require.Equal(t, want, wire.IsQuit(unhex(t, payload)), payload)
	}
}

func TestAppendAckNameTooLong(t *testing.T) {
	dst := []byte("prefix")
	out, err := wire.AppendAck(dst, semisync.FilePos(strings.Repeat("b", semisync.MaxFileNameLen+1), 4))
	require.ErrorIs(t, err, wire.ErrNameTooLong)
	require.Equal(t, []byte("prefix"), out)
	require.Len(t, out, len(dst), "dst unchanged")

	out, err = wire.AppendAck(nil, semisync.FilePos(strings.Repeat("b", semisync.MaxFileNameLen), 4))
	require.NoError(t, err)
	require.Len(t, out, wire.MaxAckLen)
}

func TestAckRoundTrip(t *testing.T) {
	for _, n := range []uint64{0, 4, 868973, math.MaxUint64} {
		ack, err := wire.AppendAck(nil, semisync.LSN(n))
		require.NoError(t, err)
		require.Len(t, ack, wire.AckHeaderLen, "an LSN ACK has no name")
		pos, err := wire.DecodeAck(ack)
		require.NoError(t, err)
		require.Equal(t, semisync.LSN(n), pos)
	}
	rapid.Check(t, func(t *rapid.T) {
		name := string(rapid.SliceOfN(rapid.Byte(), 0, semisync.MaxFileNameLen).Draw(t, "name"))
		p := semisync.FilePos(name, rapid.Uint64().Draw(t, "off"))
		ack, err := wire.AppendAck(nil, p)
		require.NoError(t, err)
		require.Len(t, ack, wire.AckHeaderLen+len(name))
		got, err := wire.DecodeAck(ack)
		require.NoError(t, err)
		require.Equal(t, p, got)
	})
}

// frame is one protocol packet header.
type frame struct {
	len int
	seq uint8
}

// frames walks a stream of protocol packets and returns their headers.
func frames(t *testing.T, stream []byte) []frame {
	t.Helper()
	var out []frame
	for len(stream) > 0 {
		require.GreaterOrEqual(t, len(stream), wire.PacketHeaderLen)
		n := int(stream[0]) | int(stream[1])<<8 | int(stream[2])<<16
		out = append(out, frame{n, stream[3]})
		require.GreaterOrEqual(t, len(stream), wire.PacketHeaderLen+n)
		stream = stream[wire.PacketHeaderLen+n:]
	}
	return out
}

// pattern returns n bytes that differ from one packet to the next, so a
// misplaced piece shows.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>16)
	}
	return b
}

func TestPacketReaderSplit(t *testing.T) {
	cases := []struct {
		name   string
		size   int
		seq    uint8
		frames []frame
		next   uint8
	}{
		{"exact multiple", wire.MaxPacketLen, 3, []frame{{wire.MaxPacketLen, 3}, {0, 4}}, 5},
		{"max plus 10", wire.MaxPacketLen + 10, 3, []frame{{wire.MaxPacketLen, 3}, {10, 4}}, 5},
		{"seq wraps", wire.MaxPacketLen + 1, 255, []frame{{wire.MaxPacketLen, 255}, {1, 0}}, 1},
		{"just below", wire.MaxPacketLen - 1, 7, []frame{{wire.MaxPacketLen - 1, 7}}, 8},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			payload := pattern(tc.size)
			stream, next := wire.AppendPacket(nil, tc.seq, payload)
			require.Equal(t, tc.next, next)
			require.Equal(t, tc.frames, frames(t, stream))

			pr := reader(stream, tc.size)
			seq, got, err := pr.ReadPacket()
			require.NoError(t, err)
			require.Equal(t, tc.seq, seq)
			require.True(t, bytes.Equal(payload, got), "payload differs")
			require.Equal(t, tc.next, pr.NextSeq())
			_, _, err = pr.ReadPacket()
			require.ErrorIs(t, err, io.EOF)

			_, _, err = reader(stream, tc.size-1).ReadPacket()
			var tl *wire.TooLargeError
			require.ErrorAs(t, err, &tl)
			require.Equal(t, tc.size-1, tl.Max)
		})
	}
}

func TestPacketReaderOrderError(t *testing.T) {
	stream, _ := wire.AppendPacket(nil, 3, pattern(wire.MaxPacketLen+10))
	stream[wire.PacketHeaderLen+wire.MaxPacketLen+3] = 6 // the continuation should be 4
	_, _, err := reader(stream, 0).ReadPacket()
	var oe *wire.OrderError
	require.ErrorAs(t, err, &oe)
	require.Equal(t, wire.OrderError{Got: 6, Want: 4}, *oe)
	require.ErrorIs(t, err, wire.ErrPacketOrder)
	require.NotErrorIs(t, err, wire.ErrPacketTooLarge)
}

func TestPacketReaderTooLarge(t *testing.T) {
	stream, _ := wire.AppendPacket(nil, 0, pattern(101))
	pr := reader(stream, 100)
	_, payload, err := pr.ReadPacket()
	require.Nil(t, payload)
	var tl *wire.TooLargeError
	require.ErrorAs(t, err, &tl)
	require.Equal(t, wire.TooLargeError{Len: 101, Max: 100}, *tl)
	require.ErrorIs(t, err, wire.ErrPacketTooLarge)
	require.NotErrorIs(t, err, wire.ErrPacketOrder)
	require.Zero(t, wire.BufCap(pr), "rejected before reading the payload")

	_, payload, err = reader(stream, 101).ReadPacket()
	require.NoError(t, err)
	require.Len(t, payload, 101)
}

// TestPacketReaderLyingHeader: a peer announcing a 16 MiB payload and
// sending a few bytes costs memory in proportion to what it sent.
func TestPacketReaderLyingHeader(t *testing.T) {
	for _, tc := range []struct {
		sent, maxCap int
	}{
		{10, 64 << 10},
		{64 << 10, 2 * (64<<10 + 64<<10)},
		{100 << 10, 2 * (100<<10 + 64<<10)},
		{1 << 20, 2 * (1<<20 + 64<<10)},
	} {
		stream := append([]byte{0xff, 0xff, 0xff, 0x00}, pattern(tc.sent)...)
		pr := reader(stream, 0)
		_, payload, err := pr.ReadPacket()
		require.ErrorIs(t, err, io.ErrUnexpectedEOF, "sent %d", tc.sent)
		require.Nil(t, payload)
		require.LessOrEqual(t, wire.BufCap(pr), tc.maxCap, "sent %d", tc.sent)
	}
}

func TestPacketReaderEOF(t *testing.T) {
	ok, _ := wire.AppendPacket(nil, 0, []byte("ok"))
	split, _ := wire.AppendPacket(nil, 0, pattern(wire.MaxPacketLen))
	cases := []struct {
		name   string
		stream []byte
		want   error
	}{
		{"empty stream", nil, io.EOF},
		{"partial header", []byte{0x05, 0x00}, io.ErrUnexpectedEOF},
		{"header only", []byte{0x05, 0x00, 0x00, 0x00}, io.ErrUnexpectedEOF},
		{"partial payload", []byte{0x05, 0x00, 0x00, 0x00, 'a', 'b'}, io.ErrUnexpectedEOF},
		{"no continuation header", split[:len(split)-wire.PacketHeaderLen], io.ErrUnexpectedEOF},
		{"partial continuation header", split[:len(split)-2], io.ErrUnexpectedEOF},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// A whole packet first, so the error comes from the second read.
			pr := reader(append(append([]byte{}, ok...), tc.stream...), 0)
			_, payload, err := pr.ReadPacket()
			require.NoError(t, err)
			require.Equal(t, []byte("ok"), payload)
			_, payload, err = pr.ReadPacket()
			require.ErrorIs(t, err, tc.want)
			if tc.want == io.ErrUnexpectedEOF {
				require.False(t, errors.Is(err, io.EOF), "inside a packet the stream must not end cleanly")
			}
			require.Nil(t, payload)
		})
	}
}

func TestPacketReaderEmptyPayload(t *testing.T) {
	pr := reader([]byte{0, 0, 0, 5}, 0)
	seq, payload, err := pr.ReadPacket()
	require.NoError(t, err)
	require.Equal(t, uint8(5), seq)
	require.Empty(t, payload)
	require.Equal(t, uint8(6), pr.NextSeq())
}

func TestPacketReaderBuffered(t *testing.T) {
	first, next := wire.AppendPacket(nil, 0, []byte("a"))
	cases := []struct {
		name string
		tail string // hex bytes after the first packet
		want bool
	}{
		{"nothing", "", false},
		{"partial header", "0300", false},
		{"partial payload", "03000001" + "6262", false},
		{"whole packet", "03000001" + "626262", true},
		{"empty packet", "00000001", true},
		{"whole packet and a partial one", "01000001" + "62" + "0500", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pr := reader(append(append([]byte{}, first...), unhex(t, tc.tail)...), 0)
			require.False(t, pr.Buffered(), "nothing read from the stream yet")
			_, _, err := pr.ReadPacket()
			require.NoError(t, err)
			require.Equal(t, tc.want, pr.Buffered())
			if tc.want {
				seq, _, err := pr.ReadPacket()
				require.NoError(t, err)
				require.Equal(t, next, seq)
			}
		})
	}
}

func TestSeqAfterEvent(t *testing.T) {
	for _, tc := range []struct {
		next  uint8
		reply bool
		want  uint8
	}{
		{5, false, 5}, {5, true, 1}, {0, false, 0}, {255, true, 1}, {1, true, 1},
	} {
		require.Equal(t, tc.want, wire.SeqAfterEvent(tc.next, tc.reply), "%+v", tc)
	}
}

// TestSeqScriptedStream runs a source loop writing six events and a replica
// loop reading them and acknowledging the flagged ones, both applying the
// sequence rules of spec §8.4: the dump command is seq 0, so the first event
// is seq 1; after a flagged event both sides reset, so the next event is seq
// 1 again and every ACK is seq 0.
func TestSeqScriptedStream(t *testing.T) {
	cases := []struct {
		name    string
		flagged [6]bool
		big     int // index of an event of MaxPacketLen bytes (split in two), or -1
		seqs    []uint8
	}{
		{"events 2 and 5 flagged", [6]bool{false, true, false, false, true, false}, -1, []uint8{1, 2, 1, 2, 3, 1}},
		{"with a split event", [6]bool{false, true, false, false, true, false}, 3, []uint8{1, 2, 1, 2, 4, 1}},
		{"none flagged", [6]bool{}, -1, []uint8{1, 2, 3, 4, 5, 6}},
		{"all flagged", [6]bool{true, true, true, true, true, true}, -1, []uint8{1, 1, 1, 1, 1, 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			events := make([][]byte, 6)
			ends := make([]uint64, 6)
			for i := range events {
				events[i] = []byte{byte(i), 0xe0, 0xe1}
				if i == tc.big {
					events[i] = pattern(wire.MaxPacketLen)
				}
				ends[i] = 1000 * uint64(i+1)
			}

			// Source.
			var stream []byte
			seq := uint8(1)
			var written []uint8
			for i, ev := range events {
				written = append(written, seq)
				var next uint8
				stream, next = wire.AppendPacket(stream, seq, wire.AppendEvent(nil, tc.flagged[i], ev))
				seq = wire.SeqAfterEvent(next, tc.flagged[i])
			}
			require.Equal(t, tc.seqs, written)

			// Replica.
			pr := reader(stream, 0)
			want := uint8(1)
			var acks []byte
			var acked []semisync.Position
			for i := range events {
				seq, payload, err := pr.ReadPacket()
				require.NoError(t, err)
				require.Equal(t, want, seq, "event %d", i+1)
				ev, reply, err := wire.DecodeEvent(payload)
				require.NoError(t, err)
				require.Equal(t, tc.flagged[i], reply, "event %d", i+1)
				require.True(t, bytes.Equal(events[i], ev), "event %d", i+1)
				if reply {
					pos := semisync.FilePos("binlog.000001", ends[i])
					ack, err := wire.AppendAck(nil, pos)
					require.NoError(t, err)
					var next uint8
					acks, next = wire.AppendPacket(acks, wire.AckSeq, ack)
					require.Equal(t, uint8(1), next, "after its ACK the replica's counter is 1")
					acked = append(acked, pos)
				}
				want = wire.SeqAfterEvent(pr.NextSeq(), reply)
			}
			_, _, err := pr.ReadPacket()
			require.ErrorIs(t, err, io.EOF)

			// The source's ACK receiver.
			ar := reader(acks, wire.MaxAckLen)
			for _, pos := range acked {
				seq, payload, err := ar.ReadPacket()
				require.NoError(t, err)
				require.Equal(t, wire.AckSeq, seq)
				got, err := wire.DecodeAck(payload)
				require.NoError(t, err)
				require.Equal(t, pos, got)
			}
			_, _, err = ar.ReadPacket()
			require.ErrorIs(t, err, io.EOF)
		})
	}
}

func TestWritePacket(t *testing.T) {
	var out bytes.Buffer
	scratch := make([]byte, 0, 64)
	scratch, next, err := wire.WritePacket(&out, scratch, 9, wire.AppendEvent(nil, true, unhex(t, xidEventHex)))
	require.NoError(t, err)
	require.Equal(t, uint8(10), next)
	require.Equal(t, unhex(t, xidPacketHex), out.Bytes())
	require.Equal(t, out.Bytes(), scratch)

	_, next, err = wire.WritePacket(failWriter{}, scratch, 0, []byte{wire.ComQuit})
	require.ErrorIs(t, err, io.ErrClosedPipe)
	require.Equal(t, uint8(1), next)
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }

func TestErrorTexts(t *testing.T) {
	require.Contains(t, (&wire.OrderError{Got: 6, Want: 4}).Error(), "sequence id 6, want 4")
	require.Contains(t, (&wire.TooLargeError{Len: 101, Max: 100}).Error(), "101")
	_, _, err := wire.DecodeEvent(unhex(t, errorPacketHex))
	require.Contains(t, err.Error(), "0xff")
}
