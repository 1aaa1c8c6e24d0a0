package transport

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/semisync-go/semisync"
)

// The transport's own framing, inside MySQL's protocol packets and the
// semisync prefix of package wire:
//
//	hello  (replica → source, seq 0): "SSGO" | version | flags | replica id u32 | start offset u64 | start file name
//	accept (source → replica, seq 1): 0x00 | "SSGO" | version | flags | heartbeat period ms u32
//	refuse (source → replica, seq 1): 0xFF | code u16 | message
//	event  (source → replica, seq 2…): [0x00 0xEF flag | 0x00] | kind | end offset u64 | name length u16 | name | data
//	ACK    (replica → source, seq 0): wire's ACK packet, exactly as MySQL's
//	quit   (replica → source, seq 0): COM_QUIT (0x01), as MariaDB's replica sends
//
// All integers are little-endian. hello flag bit 0 asks for semisync;
// accept flag bit 0 grants it. Event kinds: 0 an event of the host's
// binlog, 1 a heartbeat (its end is the end of the last event sent).

const (
	protoMagic   = "SSGO"
	protoVersion = 1

	flagSemisync = 0x01

	kindEvent     = 0
	kindHeartbeat = 1

	helloFixed    = 4 + 1 + 1 + 4 + 8
	acceptLen     = 1 + 4 + 1 + 1 + 4
	envelopeFixed = 1 + 8 + 2

	// Refusal codes.
	codeBadHello    = 1
	codeBinlog      = 2
	codeSource      = 3
	codeShuttingOff = 4
)

// ErrProtocol is wrapped by errors about bytes that break the transport's
// framing (a bad hello, accept or event envelope).
var ErrProtocol = errors.New("transport: protocol error")

// RefusedError is the source's refusal of a replica's hello.
type RefusedError struct {
	// Code says why: 1 a malformed hello, 2 the binlog could not be opened
	// at the start position, 3 the source could not register the replica,
	// 4 the server is closing.
	Code uint16
	// Message is the source's explanation.
	Message string
}

// Error returns the code and the source's message.
func (e *RefusedError) Error() string {
	return fmt.Sprintf("transport: source refused the replica (code %d): %s", e.Code, e.Message)
}

type hello struct {
	semisync bool
	id       semisync.ReplicaID
	start    semisync.Position
}

func appendHello(dst []byte, h hello) []byte {
	dst = append(dst, protoMagic...)
	flags := byte(0)
	if h.semisync {
		flags |= flagSemisync
	}
	dst = append(dst, protoVersion, flags)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(h.id))
	dst = binary.LittleEndian.AppendUint64(dst, h.start.Offset())
	return append(dst, h.start.File()...)
}

func parseHello(p []byte) (hello, error) {
	switch {
	case len(p) < helloFixed || string(p[:4]) != protoMagic:
		return hello{}, fmt.Errorf("%w: not a replica hello (%d bytes)", ErrProtocol, len(p))
	case p[4] != protoVersion:
		return hello{}, fmt.Errorf("%w: protocol version %d, want %d", ErrProtocol, p[4], protoVersion)
	case len(p)-helloFixed > semisync.MaxFileNameLen:
		return hello{}, fmt.Errorf("%w: start file name of %d bytes", ErrProtocol, len(p)-helloFixed)
	}
	return hello{
		semisync: p[5]&flagSemisync != 0,
		id:       semisync.ReplicaID(binary.LittleEndian.Uint32(p[6:10])),
		start:    semisync.FilePos(string(p[helloFixed:]), binary.LittleEndian.Uint64(p[10:18])),
	}, nil
}

func appendAccept(dst []byte, granted bool, heartbeatMillis uint32) []byte {
	dst = append(dst, 0x00)
	dst = append(dst, protoMagic...)
	flags := byte(0)
	if granted {
		flags |= flagSemisync
	}
	dst = append(dst, protoVersion, flags)
	return binary.LittleEndian.AppendUint32(dst, heartbeatMillis)
}

func appendRefuse(dst []byte, code uint16, msg string) []byte {
	dst = append(dst, 0xFF)
	dst = binary.LittleEndian.AppendUint16(dst, code)
	return append(dst, msg...)
}

// parseAccept returns whether semisync was granted and the heartbeat
// period in milliseconds, or the refusal.
func parseAccept(p []byte) (granted bool, heartbeatMillis uint32, err error) {
	if len(p) >= 3 && p[0] == 0xFF {
		return false, 0, &RefusedError{Code: binary.LittleEndian.Uint16(p[1:3]), Message: string(p[3:])}
	}
	if len(p) != acceptLen || p[0] != 0x00 || string(p[1:5]) != protoMagic || p[5] != protoVersion {
		return false, 0, fmt.Errorf("%w: not a source's accept (%d bytes)", ErrProtocol, len(p))
	}
	return p[6]&flagSemisync != 0, binary.LittleEndian.Uint32(p[7:11]), nil
}

// envelopeLen is the length of an event's envelope with its data.
func envelopeLen(end semisync.Position, data []byte) int {
	return envelopeFixed + len(end.File()) + len(data)
}

// appendEnvelope appends the envelope of an event or heartbeat.
func appendEnvelope(dst []byte, kind byte, end semisync.Position, data []byte) []byte {
	dst = append(dst, kind)
	dst = binary.LittleEndian.AppendUint64(dst, end.Offset())
	dst = binary.LittleEndian.AppendUint16(dst, uint16(len(end.File())))
	dst = append(dst, end.File()...)
	return append(dst, data...)
}

// names interns binlog file names so that decoding a stream of events in
// one file does not allocate a string per event.
type names struct{ last string }

func (n *names) intern(b []byte) string {
	if string(b) != n.last { // the conversion in a comparison does not allocate
		n.last = string(b)
	}
	return n.last
}

// parseEnvelope splits an event's envelope. data aliases p.
func parseEnvelope(p []byte, nm *names) (kind byte, end semisync.Position, data []byte, err error) {
	if len(p) < envelopeFixed {
		return 0, semisync.Position{}, nil, fmt.Errorf("%w: event envelope of %d bytes", ErrProtocol, len(p))
	}
	kind = p[0]
	off := binary.LittleEndian.Uint64(p[1:9])
	n := int(binary.LittleEndian.Uint16(p[9:11]))
	switch {
	case kind != kindEvent && kind != kindHeartbeat:
		return 0, semisync.Position{}, nil, fmt.Errorf("%w: event kind %d", ErrProtocol, kind)
	case n > semisync.MaxFileNameLen || len(p) < envelopeFixed+n:
		return 0, semisync.Position{}, nil, fmt.Errorf("%w: file name of %d bytes in a %d-byte envelope", ErrProtocol, n, len(p))
	}
	return kind, semisync.FilePos(nm.intern(p[envelopeFixed:envelopeFixed+n]), off), p[envelopeFixed+n:], nil
}
