package mysqlreplica

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"

	"github.com/semisync-go/semisync"
)

// HeaderLen is the length of a binlog event header in format v4 (MySQL 5.0
// and later, every MariaDB): timestamp (4), type (1), server id (4), event
// size (4), log position (4) and flags (2), all little-endian.
const HeaderLen = 19

// Event types this package interprets. Every other type is carried into the
// relay log as it came.
const (
	TypeQuery             = 2  // QUERY_EVENT: DDL, or BEGIN without MariaDB GTIDs
	TypeRotate            = 4  // ROTATE_EVENT: the binlog continues in another file
	TypeXID               = 16 // XID_EVENT: an InnoDB transaction's commit
	TypeFormatDescription = 15 // FORMAT_DESCRIPTION_EVENT: the binlog's format, and its checksum algorithm
	TypeHeartbeat         = 27 // HEARTBEAT_LOG_EVENT: the source is alive; not part of the binlog
	TypeMariaGTID         = 162
)

// FlagArtificial is LOG_EVENT_ARTIFICIAL_F: the source made the event up
// for this dump (the rotate it sends first); its log position means
// nothing.
const FlagArtificial = 0x20

// Checksum algorithms of binlog_checksum, as the format description event
// names them.
const (
	ChecksumOff   = 0
	ChecksumCRC32 = 1
)

// checksumLen is the length of a CRC32 trailer.
const checksumLen = 4

// Errors decoding events. Each is wrapped with the details.
var (
	// ErrShortEvent means an event is shorter than its header or than
	// what its type requires.
	ErrShortEvent = errors.New("mysqlreplica: event too short")
	// ErrEventSize means the header's event size is not the length that
	// arrived.
	ErrEventSize = errors.New("mysqlreplica: event size does not match its header")
	// ErrChecksum means an event's CRC32 trailer does not match its bytes.
	ErrChecksum = errors.New("mysqlreplica: event checksum mismatch")
	// ErrChecksumAlg means a format description names a checksum
	// algorithm other than OFF and CRC32.
	ErrChecksumAlg = errors.New("mysqlreplica: unknown binlog checksum algorithm")
	// ErrEventOrder means an event ends before the position the stream
	// had reached in the same binlog file.
	ErrEventOrder = errors.New("mysqlreplica: event ends before the stream's position")
)

// Header is a binlog event header (format v4).
type Header struct {
	Timestamp uint32
	Type      uint8
	ServerID  uint32
	// Size is the whole event's length, header and checksum included.
	Size uint32
	// LogPos is where the event ends in the source's binlog file (0 for
	// events the source made up for the dump).
	LogPos uint32
	Flags  uint16
}

// ParseHeader decodes the header of event. It checks that the event is at
// least a header long and exactly as long as its header says.
func ParseHeader(event []byte) (Header, error) {
	if len(event) < HeaderLen {
		return Header{}, fmt.Errorf("%w: %d bytes, a header is %d", ErrShortEvent, len(event), HeaderLen)
	}
	h := Header{
		Timestamp: binary.LittleEndian.Uint32(event[0:]),
		Type:      event[4],
		ServerID:  binary.LittleEndian.Uint32(event[5:]),
		Size:      binary.LittleEndian.Uint32(event[9:]),
		LogPos:    binary.LittleEndian.Uint32(event[13:]),
		Flags:     binary.LittleEndian.Uint16(event[17:]),
	}
	if uint64(h.Size) != uint64(len(event)) {
		return h, fmt.Errorf("%w: header says %d bytes, %d arrived", ErrEventSize, h.Size, len(event))
	}
	return h, nil
}

// Decoder follows a stream of binlog events: it knows the checksum
// algorithm in force (from the source's answer before the dump, then from
// each format description event), verifies every event's CRC32, and works
// out the position in the source's binlog at which each event ends.
// The zero Decoder expects no checksums and starts at the zero position;
// use NewDecoder.
type Decoder struct {
	alg uint8
	pos semisync.Position
}

// NewDecoder returns a decoder for a dump that starts at start, whose events
// before the first format description carry a checksum when alg is
// ChecksumCRC32 (what the source answered to SELECT @master_binlog_checksum).
func NewDecoder(start semisync.Position, alg uint8) *Decoder {
	return &Decoder{alg: alg, pos: start}
}

// Position returns the end of the last event decoded: where the dump would
// resume after it.
func (d *Decoder) Position() semisync.Position { return d.pos }

// Checksum returns the checksum algorithm in force.
func (d *Decoder) Checksum() uint8 { return d.alg }

// Decoded is what the decoder learnt from one event.
type Decoded struct {
	Header Header
	// End is the position in the source's binlog after the event. It is
	// the position before it for events that do not advance it: events
	// the source made up for the dump, heartbeats, and events with no log
	// position.
	End semisync.Position
	// Advances reports whether the event is one of the source's binlog
	// (it moved the position on), as opposed to one made up for the dump.
	// A rotate that the source wrote into its binlog advances; the one it
	// sends first on every dump does not.
	Advances bool
	// Body is the event after its header, without its checksum.
	Body []byte
}

// Decode checks one event and returns where it ends. It does not keep
// event. An error leaves the decoder as it was.
func (d *Decoder) Decode(event []byte) (Decoded, error) {
	h, err := ParseHeader(event)
	if err != nil {
		return Decoded{}, err
	}
	alg := d.alg
	if h.Type == TypeFormatDescription {
		// The format description carries its own algorithm in the byte
		// before its checksum; from it on that algorithm is in force.
		// It always carries the four checksum bytes (MySQL 5.6.1+).
		if len(event) < HeaderLen+1+checksumLen {
			return Decoded{}, fmt.Errorf("%w: format description of %d bytes", ErrShortEvent, len(event))
		}
		alg = event[len(event)-checksumLen-1]
		if alg != ChecksumOff && alg != ChecksumCRC32 {
			return Decoded{}, fmt.Errorf("%w: %d", ErrChecksumAlg, alg)
		}
	}
	body := event[HeaderLen:]
	if alg == ChecksumCRC32 || h.Type == TypeFormatDescription {
		if len(body) < checksumLen {
			return Decoded{}, fmt.Errorf("%w: %d bytes leave no room for a checksum", ErrShortEvent, len(event))
		}
		data := event[:len(event)-checksumLen]
		if alg == ChecksumCRC32 {
			want := binary.LittleEndian.Uint32(event[len(data):])
			if got := crc32.ChecksumIEEE(data); got != want {
				return Decoded{}, fmt.Errorf("%w: type %d ending at %d: computed %08x, event says %08x", ErrChecksum, h.Type, h.LogPos, got, want)
			}
		}
		body = data[HeaderLen:]
	}
	out := Decoded{Header: h, End: d.pos, Body: body}
	switch {
	case h.Type == TypeRotate:
		if len(body) < 8 {
			return Decoded{}, fmt.Errorf("%w: rotate body of %d bytes", ErrShortEvent, len(body))
		}
		name := body[8:]
		if len(name) == 0 || len(name) > semisync.MaxFileNameLen {
			return Decoded{}, fmt.Errorf("%w: rotate to a file name of %d bytes", ErrShortEvent, len(name))
		}
		out.End = semisync.FilePos(string(name), binary.LittleEndian.Uint64(body))
		out.Advances = h.LogPos != 0 && h.Flags&FlagArtificial == 0
	case h.Type == TypeHeartbeat, h.LogPos == 0, h.Flags&FlagArtificial != 0:
	default:
		out.End = semisync.FilePos(d.pos.File(), uint64(h.LogPos))
		out.Advances = true
		if out.End.Less(d.pos) {
			return Decoded{}, fmt.Errorf("%w: type %d ends at %v, after %v", ErrEventOrder, h.Type, out.End, d.pos)
		}
	}
	d.alg, d.pos = alg, out.End
	return out, nil
}

// ParseChecksumName returns the algorithm a binlog_checksum value names:
// "CRC32" or "NONE" (an empty value, from a source that predates
// checksums, is NONE).
func ParseChecksumName(s string) (uint8, error) {
	switch s {
	case "", "NONE", "none", "OFF":
		return ChecksumOff, nil
	case "CRC32", "crc32":
		return ChecksumCRC32, nil
	}
	return 0, fmt.Errorf("%w: %q", ErrChecksumAlg, s)
}
