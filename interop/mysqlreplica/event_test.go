package mysqlreplica_test

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/interop/mysqlreplica"
)

// The binlog files of the hand-built streams.
const (
	firstBinlog  = "mysql-bin.000001"
	secondBinlog = "mysql-bin.000002"
)

// crcLen is the length of an event's CRC32 trailer.
const crcLen = 4

// mkEvent builds a binlog v4 event: the 19-byte header (timestamp, type,
// server id 1, size, log_pos, flags), body and, when crc is set, a correct
// CRC32 (IEEE, over header and body) trailer.
func mkEvent(typ uint8, logPos uint32, flags uint16, body []byte, crc bool) []byte {
	size := mysqlreplica.HeaderLen + len(body)
	if crc {
		size += crcLen
	}
	ev := make([]byte, 0, size)
	ev = binary.LittleEndian.AppendUint32(ev, 1_700_000_000)
	ev = append(ev, typ)
	ev = binary.LittleEndian.AppendUint32(ev, 1)
	ev = binary.LittleEndian.AppendUint32(ev, uint32(size))
	ev = binary.LittleEndian.AppendUint32(ev, logPos)
	ev = binary.LittleEndian.AppendUint16(ev, flags)
	ev = append(ev, body...)
	if crc {
		ev = binary.LittleEndian.AppendUint32(ev, crc32.ChecksumIEEE(ev))
	}
	return ev
}

// flipCRC returns a copy of ev with its CRC32 trailer damaged.
func flipCRC(ev []byte) []byte {
	c := slices.Clone(ev)
	c[len(c)-1] ^= 0xff
	return c
}

// evSize is the length of an event with a body of n bytes.
func evSize(n int, crc bool) uint32 {
	if crc {
		n += crcLen
	}
	return uint32(mysqlreplica.HeaderLen + n)
}

// rotateBody is a ROTATE_EVENT's body: the position (u64) and the file name.
func rotateBody(name string, pos uint64) []byte {
	return append(binary.LittleEndian.AppendUint64(nil, pos), name...)
}

// xidBody is an XID_EVENT's body: the transaction id (u64).
func xidBody(xid uint64) []byte { return binary.LittleEndian.AppendUint64(nil, xid) }

// fdeLen is the length of the format description events built here: 252
// bytes, so the first event after it ends at 256 as in MariaDB's binlogs.
const fdeLen = 252

// mkFDE builds a FORMAT_DESCRIPTION_EVENT of fdeLen bytes naming alg as its
// checksum algorithm: binlog version 4, a server version, a creation time,
// the header length and post-header lengths, then the algorithm byte and
// four checksum bytes. MySQL writes the real CRC32 there when alg is
// CRC32 and zeros when it is OFF.
func mkFDE(logPos uint32, alg uint8) []byte {
	body := binary.LittleEndian.AppendUint16(nil, 4)
	body = append(body, fmt.Sprintf("%-50s", "10.11.19-MariaDB-log")...)
	body = binary.LittleEndian.AppendUint32(body, 1_700_000_000)
	body = append(body, mysqlreplica.HeaderLen)
	for len(body) < fdeLen-mysqlreplica.HeaderLen-crcLen-1 {
		body = append(body, byte(len(body)%64))
	}
	body = append(body, alg)
	if alg == mysqlreplica.ChecksumCRC32 {
		return mkEvent(mysqlreplica.TypeFormatDescription, logPos, 0, body, true)
	}
	return fixSize(append(mkEvent(mysqlreplica.TypeFormatDescription, logPos, 0, body, false), 0, 0, 0, 0))
}

// fixSize rewrites ev's event size field to its length, after a test
// changed the length.
func fixSize(ev []byte) []byte {
	binary.LittleEndian.PutUint32(ev[9:], uint32(len(ev)))
	return ev
}

func TestParseHeader(t *testing.T) {
	// The flagged XID event of mariadb-on-loopback §5b, as it came off
	// the wire after the 3-byte OK/semisync prefix (xid and CRC made up).
	xid := mustHex(t, "3f45016b"+"10"+"01000000"+"1f000000"+"6d420d00"+"0000"+"0102030405060708"+"aabbccdd")
	// Every field a distinct byte, so a field read from the wrong offset
	// or in the wrong byte order shows.
	distinct := mustHex(t, "01020304"+"a2"+"11121314"+"17000000"+"21222324"+"3132"+"ffffffff")
	tests := []struct {
		name    string
		event   []byte
		want    mysqlreplica.Header
		wantErr error
	}{
		{"flagged XID", xid, mysqlreplica.Header{Timestamp: 0x6b01453f, Type: mysqlreplica.TypeXID, ServerID: 1, Size: 31, LogPos: 868973}, nil},
		{"little-endian fields", distinct, mysqlreplica.Header{Timestamp: 0x04030201, Type: 0xa2, ServerID: 0x14131211, Size: 23, LogPos: 0x24232221, Flags: 0x3231}, nil},
		{"header only", fixSize(slices.Clone(distinct[:19])), mysqlreplica.Header{Timestamp: 0x04030201, Type: 0xa2, ServerID: 0x14131211, Size: 19, LogPos: 0x24232221, Flags: 0x3231}, nil},
		{"empty", nil, mysqlreplica.Header{}, mysqlreplica.ErrShortEvent},
		{"18 bytes", xid[:18], mysqlreplica.Header{}, mysqlreplica.ErrShortEvent},
		{"size field says more", xid[:30], mysqlreplica.Header{}, mysqlreplica.ErrEventSize},
		{"size field says less", append(slices.Clone(xid), 0), mysqlreplica.Header{}, mysqlreplica.ErrEventSize},
		{"size field says 0", make([]byte, 19), mysqlreplica.Header{}, mysqlreplica.ErrEventSize},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := mysqlreplica.ParseHeader(tt.event)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, h)
		})
	}
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	require.NoError(t, err)
	return b
}

// decodeStep is one event of a stream and what decoding it must give.
type decodeStep struct {
	name     string
	event    []byte
	end      semisync.Position
	advances bool
	alg      uint8 // the algorithm in force after the event
	body     []byte
}

// realisticStream is a dump from mysql-bin.000001:328 with CRC32 on, as a
// source sends it: the artificial rotate and the file's format description
// (log_pos 0, since the dump starts after it), one transaction, events that
// do not advance the position, a real rotate, and the new file's format
// description turning checksums off (MySQL rotates the binlog when
// binlog_checksum changes), then one event without a checksum.
func realisticStream() []decodeStep {
	const crc32 = mysqlreplica.ChecksumCRC32
	at := func(pos uint32) semisync.Position { return semisync.FilePos(firstBinlog, uint64(pos)) }
	pos := uint32(328)
	next := func(typ uint8, body []byte) (ev []byte, end semisync.Position) {
		pos += evSize(len(body), true)
		return mkEvent(typ, pos, 0, body, true), at(pos)
	}
	gtidBody := []byte{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	gtid, gtidEnd := next(mysqlreplica.TypeMariaGTID, gtidBody)
	queryBody := []byte("\x05\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00CREATE TABLE t(i INT)")
	query, queryEnd := next(mysqlreplica.TypeQuery, queryBody)
	xid, xidEnd := next(mysqlreplica.TypeXID, xidBody(42))
	heartbeat := mkEvent(mysqlreplica.TypeHeartbeat, pos+1000, 0, []byte(firstBinlog), true)
	noPos := mkEvent(mysqlreplica.TypeQuery, 0, 0, queryBody, true)
	madeUp := mkEvent(mysqlreplica.TypeQuery, pos+2000, mysqlreplica.FlagArtificial, queryBody, true)
	rotate, _ := next(mysqlreplica.TypeRotate, rotateBody(secondBinlog, 4))
	second := func(off uint64) semisync.Position { return semisync.FilePos(secondBinlog, off) }
	return []decodeStep{
		{"artificial rotate", mkEvent(mysqlreplica.TypeRotate, 0, mysqlreplica.FlagArtificial, rotateBody(firstBinlog, 328), true), at(328), false, crc32, rotateBody(firstBinlog, 328)},
		{"format description, log_pos 0", mkFDE(0, crc32), at(328), false, crc32, nil},
		{"GTID", gtid, gtidEnd, true, crc32, gtidBody},
		{"QUERY", query, queryEnd, true, crc32, queryBody},
		{"XID", xid, xidEnd, true, crc32, xidBody(42)},
		{"heartbeat", heartbeat, xidEnd, false, crc32, []byte(firstBinlog)},
		{"log_pos 0", noPos, xidEnd, false, crc32, queryBody},
		{"artificial flag", madeUp, xidEnd, false, crc32, queryBody},
		{"real rotate", rotate, second(4), true, crc32, rotateBody(secondBinlog, 4)},
		{"format description of the new file, checksums off", mkFDE(fdeLen+4, mysqlreplica.ChecksumOff), second(fdeLen + 4), true, mysqlreplica.ChecksumOff, nil},
		// Its last 4 bytes are no CRC: were they checked, it would fail.
		{"XID without checksum", mkEvent(mysqlreplica.TypeXID, fdeLen+4+27, 0, xidBody(43), false), second(fdeLen + 4 + 27), true, mysqlreplica.ChecksumOff, xidBody(43)},
	}
}

func TestDecoderStream(t *testing.T) {
	start := semisync.FilePos(firstBinlog, 328)
	dec := mysqlreplica.NewDecoder(start, mysqlreplica.ChecksumCRC32)
	require.Equal(t, start, dec.Position())
	require.Equal(t, uint8(mysqlreplica.ChecksumCRC32), dec.Checksum())
	steps := realisticStream()
	for _, s := range steps {
		// Subtests share the decoder, so they run in order and stop at
		// the first failure.
		ok := t.Run(s.name, func(t *testing.T) {
			d, err := dec.Decode(s.event)
			require.NoError(t, err)
			require.Equal(t, s.end, d.End, "End")
			require.Equal(t, s.advances, d.Advances, "Advances")
			require.Equal(t, s.end, dec.Position(), "Position after the event")
			require.Equal(t, s.alg, dec.Checksum(), "checksum algorithm after the event")
			require.Equal(t, s.event[4], d.Header.Type)
			require.Equal(t, uint32(len(s.event)), d.Header.Size)
			if s.body != nil {
				require.Equal(t, s.body, d.Body)
			}
		})
		require.True(t, ok)
	}
	require.Equal(t, semisync.FilePos(secondBinlog, fdeLen+4+27), dec.Position())
}

func TestDecoderChecksumFollowsFormatDescription(t *testing.T) {
	const (
		off   = mysqlreplica.ChecksumOff
		crc32 = mysqlreplica.ChecksumCRC32
	)
	start := semisync.FilePos(firstBinlog, 4)
	goodCRC := mkEvent(mysqlreplica.TypeXID, 1000, 0, xidBody(1), true)
	tests := []struct {
		name    string
		initial uint8 // the algorithm given to NewDecoder
		fde     uint8 // the algorithm the format description names
		event   []byte
		wantErr error
	}{
		{"CRC32 then CRC32: a bad CRC fails", crc32, crc32, flipCRC(goodCRC), mysqlreplica.ErrChecksum},
		{"CRC32 then CRC32: a good CRC passes", crc32, crc32, goodCRC, nil},
		{"CRC32 then OFF: a bad CRC is not checked", crc32, off, flipCRC(goodCRC), nil},
		{"CRC32 then OFF: an event without CRC passes", crc32, off, mkEvent(mysqlreplica.TypeXID, 1000, 0, xidBody(1), false), nil},
		{"OFF then CRC32: a bad CRC fails", off, crc32, flipCRC(goodCRC), mysqlreplica.ErrChecksum},
		{"OFF then CRC32: a good CRC passes", off, crc32, goodCRC, nil},
		{"OFF then OFF: a bad CRC is not checked", off, off, flipCRC(goodCRC), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dec := mysqlreplica.NewDecoder(start, tt.initial)
			d, err := dec.Decode(mkFDE(fdeLen+4, tt.fde))
			require.NoError(t, err)
			require.Equal(t, tt.fde, dec.Checksum())
			require.Len(t, d.Body, fdeLen-mysqlreplica.HeaderLen-crcLen, "the FDE's body never includes its 4 checksum bytes")
			_, err = dec.Decode(tt.event)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, semisync.FilePos(firstBinlog, 1000), dec.Position())
		})
	}
}

func TestDecoderErrors(t *testing.T) {
	const (
		off   = mysqlreplica.ChecksumOff
		crc32 = mysqlreplica.ChecksumCRC32
	)
	sizeMore := mkEvent(mysqlreplica.TypeXID, 2000, 0, xidBody(2), true)
	binary.LittleEndian.PutUint32(sizeMore[9:], uint32(len(sizeMore)+1))
	sizeLess := mkEvent(mysqlreplica.TypeXID, 2000, 0, xidBody(2), false)
	binary.LittleEndian.PutUint32(sizeLess[9:], uint32(len(sizeLess)-1))
	bodyFlipped := mkEvent(mysqlreplica.TypeXID, 2000, 0, xidBody(2), true)
	bodyFlipped[mysqlreplica.HeaderLen] ^= 1
	fdeFlipped := mkFDE(0, crc32)
	fdeFlipped[40] ^= 1
	fdeAlg := func(alg uint8) []byte {
		ev := mkFDE(0, crc32)
		ev[len(ev)-crcLen-1] = alg
		return ev
	}
	tests := []struct {
		name    string
		alg     uint8
		event   []byte
		wantErr error
	}{
		{"empty", crc32, nil, mysqlreplica.ErrShortEvent},
		{"shorter than a header", off, make([]byte, 18), mysqlreplica.ErrShortEvent},
		{"size field says more", crc32, sizeMore, mysqlreplica.ErrEventSize},
		{"size field says less", off, sizeLess, mysqlreplica.ErrEventSize},
		{"corrupted CRC", crc32, flipCRC(mkEvent(mysqlreplica.TypeXID, 2000, 0, xidBody(2), true)), mysqlreplica.ErrChecksum},
		{"corrupted body", crc32, bodyFlipped, mysqlreplica.ErrChecksum},
		{"corrupted heartbeat", crc32, flipCRC(mkEvent(mysqlreplica.TypeHeartbeat, 2000, 0, []byte(firstBinlog), true)), mysqlreplica.ErrChecksum},
		{"no room for a CRC", crc32, mkEvent(mysqlreplica.TypeXID, 2000, 0, []byte{1, 2, 3}, false), mysqlreplica.ErrShortEvent},
		{"FDE with a corrupted CRC", off, fdeFlipped, mysqlreplica.ErrChecksum},
		{"FDE with checksum algorithm 7", crc32, fdeAlg(7), mysqlreplica.ErrChecksumAlg},
		{"FDE with checksum algorithm 255 (undefined)", off, fdeAlg(255), mysqlreplica.ErrChecksumAlg},
		{"FDE too short for its algorithm byte", off, mkEvent(mysqlreplica.TypeFormatDescription, 0, 0, []byte{1, 2, 3, 4}, false), mysqlreplica.ErrShortEvent},
		{"rotate with an empty name", crc32, mkEvent(mysqlreplica.TypeRotate, 2000, 0, rotateBody("", 4), true), mysqlreplica.ErrShortEvent},
		{"artificial rotate with an empty name", crc32, mkEvent(mysqlreplica.TypeRotate, 0, mysqlreplica.FlagArtificial, rotateBody("", 4), true), mysqlreplica.ErrShortEvent},
		{"rotate with an empty name, no CRC", off, mkEvent(mysqlreplica.TypeRotate, 2000, 0, rotateBody("", 4), false), mysqlreplica.ErrShortEvent},
		{"rotate body shorter than its position", crc32, mkEvent(mysqlreplica.TypeRotate, 2000, 0, []byte{4, 0, 0, 0, 0}, true), mysqlreplica.ErrShortEvent},
		{"rotate body of 7 bytes, no CRC", off, mkEvent(mysqlreplica.TypeRotate, 2000, 0, []byte{4, 0, 0, 0, 0, 0, 0}, false), mysqlreplica.ErrShortEvent},
		{"rotate to a name longer than MaxFileNameLen", crc32, mkEvent(mysqlreplica.TypeRotate, 2000, 0, rotateBody(strings.Repeat("b", semisync.MaxFileNameLen+1), 4), true), mysqlreplica.ErrShortEvent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Decode a good event first so that the position to keep is
			// not the start.
			dec := mysqlreplica.NewDecoder(semisync.FilePos(firstBinlog, 328), tt.alg)
			_, err := dec.Decode(mkEvent(mysqlreplica.TypeXID, 1000, 0, xidBody(1), tt.alg == crc32))
			require.NoError(t, err)
			before := dec.Position()
			require.Equal(t, semisync.FilePos(firstBinlog, 1000), before)

			_, err = dec.Decode(tt.event)
			require.ErrorIs(t, err, tt.wantErr)
			require.Equal(t, before, dec.Position(), "an error leaves the position as it was")
			require.Equal(t, tt.alg, dec.Checksum(), "an error leaves the checksum algorithm as it was")
		})
	}
}

func TestDecoderRotateNameOfMaxLength(t *testing.T) {
	name := strings.Repeat("b", semisync.MaxFileNameLen)
	dec := mysqlreplica.NewDecoder(semisync.FilePos(firstBinlog, 4), mysqlreplica.ChecksumCRC32)
	d, err := dec.Decode(mkEvent(mysqlreplica.TypeRotate, 2000, 0, rotateBody(name, 4), true))
	require.NoError(t, err)
	require.Equal(t, semisync.FilePos(name, 4), d.End)
	require.True(t, d.Advances)
}

func TestZeroDecoder(t *testing.T) {
	// The zero Decoder expects no checksums and starts at the zero
	// position.
	var dec mysqlreplica.Decoder
	require.True(t, dec.Position().IsZero())
	require.Equal(t, uint8(mysqlreplica.ChecksumOff), dec.Checksum())
	d, err := dec.Decode(mkEvent(mysqlreplica.TypeRotate, 0, mysqlreplica.FlagArtificial, rotateBody(firstBinlog, 4), false))
	require.NoError(t, err)
	require.False(t, d.Advances)
	require.Equal(t, semisync.FilePos(firstBinlog, 4), dec.Position())
}

func TestParseChecksumName(t *testing.T) {
	tests := []struct {
		in      string
		want    uint8
		wantErr bool
	}{
		{"CRC32", mysqlreplica.ChecksumCRC32, false},
		{"crc32", mysqlreplica.ChecksumCRC32, false},
		{"NONE", mysqlreplica.ChecksumOff, false},
		{"none", mysqlreplica.ChecksumOff, false},
		{"OFF", mysqlreplica.ChecksumOff, false},
		{"", mysqlreplica.ChecksumOff, false}, // a source older than checksums
		{"CRC", 0, true},
		{"CRC64", 0, true},
		{" CRC32", 0, true},
		{"CRC32\x00", 0, true},
		{"1", 0, true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.in), func(t *testing.T) {
			got, err := mysqlreplica.ParseChecksumName(tt.in)
			if tt.wantErr {
				require.ErrorIs(t, err, mysqlreplica.ErrChecksumAlg)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

// drawEvent draws a well-formed event that is neither a rotate, a format
// description nor a heartbeat, and that ends at logPos, without the
// artificial flag.
func drawEvent(t *rapid.T, logPos uint32, crc bool) []byte {
	typ := rapid.Uint8().Filter(func(v uint8) bool {
		return v != mysqlreplica.TypeRotate && v != mysqlreplica.TypeFormatDescription && v != mysqlreplica.TypeHeartbeat
	}).Draw(t, "type")
	flags := rapid.Uint16().Draw(t, "flags") &^ mysqlreplica.FlagArtificial
	body := rapid.SliceOfN(rapid.Byte(), 0, 64).Draw(t, "body")
	return mkEvent(typ, logPos, flags, body, crc)
}

func TestDecoderPositionFollowsLogPos(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		crc := rapid.Bool().Draw(t, "crc")
		alg := uint8(mysqlreplica.ChecksumOff)
		if crc {
			alg = mysqlreplica.ChecksumCRC32
		}
		pos := rapid.Uint32Range(4, 1<<30).Draw(t, "start")
		dec := mysqlreplica.NewDecoder(semisync.FilePos(firstBinlog, uint64(pos)), alg)
		for range rapid.IntRange(1, 30).Draw(t, "events") {
			// The next event ends after the previous one; a gap stands
			// for events the source skipped.
			gap := rapid.Uint32Range(0, 1<<16).Draw(t, "gap")
			pos += evSize(64, crc) + gap
			ev := drawEvent(t, pos, crc)
			d, err := dec.Decode(ev)
			require.NoError(t, err)
			require.True(t, d.Advances)
			require.Equal(t, semisync.FilePos(firstBinlog, uint64(pos)), d.End)
			require.Len(t, d.Body, len(ev)-int(evSize(0, crc)))
		}
		require.Equal(t, semisync.FilePos(firstBinlog, uint64(pos)), dec.Position())
		require.Equal(t, alg, dec.Checksum())
	})
}

func TestDecoderDetectsAnyFlippedByte(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		start := semisync.FilePos(firstBinlog, 328)
		ev := drawEvent(t, 1000, true)
		i := rapid.IntRange(0, len(ev)-1).Draw(t, "byte")
		ev[i] ^= rapid.Uint8Range(1, 255).Draw(t, "xor")
		if ev[4] == mysqlreplica.TypeFormatDescription && ev[len(ev)-crcLen-1] == mysqlreplica.ChecksumOff {
			// The flip made the event a format description that names
			// checksums OFF: such an event declares that it carries no
			// CRC, so nothing in the binlog format can tell it from a
			// genuine one (MySQL reads the algorithm from the event too).
			t.Skip("flipped into an unverifiable format description")
		}
		dec := mysqlreplica.NewDecoder(start, mysqlreplica.ChecksumCRC32)
		_, err := dec.Decode(ev)
		require.Error(t, err, "byte %d flipped", i)
		require.True(t, errors.Is(err, mysqlreplica.ErrChecksum) || errors.Is(err, mysqlreplica.ErrEventSize) ||
			errors.Is(err, mysqlreplica.ErrShortEvent) || errors.Is(err, mysqlreplica.ErrChecksumAlg), "unexpected error %v", err)
		require.Equal(t, start, dec.Position())
		require.Equal(t, uint8(mysqlreplica.ChecksumCRC32), dec.Checksum())
	})
}

// An event other than a rotate cannot end before the position the
// decoder was at: ErrEventOrder, and the decoder stays where it was.
func TestDecoderRefusesLogPosBackwards(t *testing.T) {
	dec := mysqlreplica.NewDecoder(semisync.FilePos(firstBinlog, 1000), mysqlreplica.ChecksumCRC32)
	_, err := dec.Decode(mkEvent(mysqlreplica.TypeXID, 500, 0, xidBody(1), true))
	require.ErrorIs(t, err, mysqlreplica.ErrEventOrder, "an event ending at 500 cannot follow position 1000 in the same file")
	require.Equal(t, semisync.FilePos(firstBinlog, 1000), dec.Position())
}

// ExampleDecoder follows the start of a dump from mysql-bin.000001:328
// with CRC32 checksums: the artificial rotate names the file, the XID
// moves the position on.
func ExampleDecoder() {
	dec := mysqlreplica.NewDecoder(semisync.FilePos("mysql-bin.000001", 328), mysqlreplica.ChecksumCRC32)
	stream := [][]byte{
		mkEvent(mysqlreplica.TypeRotate, 0, mysqlreplica.FlagArtificial, rotateBody("mysql-bin.000001", 328), true),
		mkEvent(mysqlreplica.TypeXID, 359, 0, xidBody(7), true),
		mkEvent(mysqlreplica.TypeHeartbeat, 359, 0, []byte("mysql-bin.000001"), true),
		flipCRC(mkEvent(mysqlreplica.TypeXID, 390, 0, xidBody(8), true)),
	}
	for _, ev := range stream {
		d, err := dec.Decode(ev)
		if err != nil {
			fmt.Println("error:", errors.Is(err, mysqlreplica.ErrChecksum))
			continue
		}
		fmt.Printf("type %d ends at %v, advances %v\n", d.Header.Type, d.End, d.Advances)
	}
	fmt.Println("resume at", dec.Position())
	// Output:
	// type 4 ends at mysql-bin.000001:328, advances false
	// type 16 ends at mysql-bin.000001:359, advances true
	// type 27 ends at mysql-bin.000001:359, advances false
	// error: true
	// resume at mysql-bin.000001:359
}
