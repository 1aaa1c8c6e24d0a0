package wire

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/semisync-go/semisync"
)

// The bytes of MySQL's semisync protocol (spec §8.2, §8.4).
const (
	// StatusOK is the first payload byte of every binlog event packet the
	// source sends (the OK marker that precedes an event).
	StatusOK byte = 0x00
	// Magic is the semisync indicator: the byte after StatusOK in every
	// event packet of a semisync dump, and the first byte of every ACK.
	Magic byte = 0xEF
	// FlagReplyRequired in the flag byte asks the replica to acknowledge the
	// event once it holds it (MySQL's kPacketFlagSync).
	FlagReplyRequired byte = 0x01
	// ComQuit is the payload of the client's COM_QUIT command: a stopping
	// MariaDB replica sends it on the semisync connection (MDEV-32551).
	ComQuit byte = 0x01

	// EventHeaderLen is the length of the semisync prefix of an event
	// packet: StatusOK, Magic and the flag byte.
	EventHeaderLen = 3
	// AckHeaderLen is the fixed part of an ACK payload: Magic and the 8-byte
	// little-endian position. The binlog file name follows.
	AckHeaderLen = 9
	// MaxAckLen is the longest well-formed ACK payload.
	MaxAckLen = AckHeaderLen + semisync.MaxFileNameLen
	// AckSeq is the sequence id of every ACK packet: the replica resets its
	// counter before writing one, and the source's receiver expects it.
	AckSeq uint8 = 0
)

// Errors the decoders return, wrapped with detail; match them with
// errors.Is.
var (
	// ErrShort: the payload ends before its fixed fields do.
	ErrShort = errors.New("wire: packet too short")
	// ErrMagic: the byte where Magic belongs holds something else (MySQL:
	// "Missing magic number for semi-sync packet", and on the source
	// "Read semi-sync reply magic number error").
	ErrMagic = errors.New("wire: missing semisync magic number")
	// ErrNotEvent: an event packet does not start with StatusOK; it is an
	// error (0xFF) or end-of-file (0xFE) packet of the dump instead.
	ErrNotEvent = errors.New("wire: not an event packet")
	// ErrNameTooLong: an ACK carries a binlog file name of more than
	// semisync.MaxFileNameLen bytes (MySQL: "Read semi-sync reply binlog
	// file length too large").
	ErrNameTooLong = errors.New("wire: binlog file name too long")
	// ErrPacketOrder: a packet's sequence id breaks the protocol's rules.
	ErrPacketOrder = errors.New("wire: packets out of order")
	// ErrPacketTooLarge: a payload exceeds the reader's limit.
	ErrPacketTooLarge = errors.New("wire: packet too large")
)

// AppendEventHeader appends the semisync prefix of an event packet (StatusOK,
// Magic, flag) to dst. The event's bytes follow it in the same payload.
func AppendEventHeader(dst []byte, replyRequired bool) []byte {
	flag := byte(0)
	if replyRequired {
		flag = FlagReplyRequired
	}
	return append(dst, StatusOK, Magic, flag)
}

// AppendEvent appends the payload of an event packet to dst: the semisync
// prefix and the event's bytes.
func AppendEvent(dst []byte, replyRequired bool, event []byte) []byte {
	return append(AppendEventHeader(dst, replyRequired), event...)
}

// DecodeEvent splits the payload of an event packet of a semisync dump into
// the event's bytes (a sub-slice of payload, no copy) and whether the source
// asked for an acknowledgement. As MySQL's replica does, only bit 0 of the
// flag byte counts; the other bits are ignored. A packet that is not an
// event (ErrNotEvent), too short for the prefix (ErrShort) or without the
// magic byte (ErrMagic) is an error: a replica that negotiated semisync
// stops its stream on it (spec §8.2).
func DecodeEvent(payload []byte) (event []byte, replyRequired bool, err error) {
	switch {
	case len(payload) == 0:
		return nil, false, fmt.Errorf("%w: empty event packet", ErrShort)
	case payload[0] != StatusOK:
		return nil, false, fmt.Errorf("%w: first byte %#02x", ErrNotEvent, payload[0])
	case len(payload) < EventHeaderLen:
		return nil, false, fmt.Errorf("%w: %d-byte event packet, semisync header needs %d", ErrShort, len(payload), EventHeaderLen)
	case payload[1] != Magic:
		return nil, false, fmt.Errorf("%w: byte %#02x after the status byte", ErrMagic, payload[1])
	}
	return payload[EventHeaderLen:], payload[2]&FlagReplyRequired != 0, nil
}

// AppendAck appends the payload of an ACK packet for pos to dst: Magic, the
// offset as 8 little-endian bytes, and the file name with no terminator
// (spec §8.4). An LSN position has an empty name. A name longer than
// semisync.MaxFileNameLen is ErrNameTooLong and dst is returned unchanged.
func AppendAck(dst []byte, pos semisync.Position) ([]byte, error) {
	name := pos.File()
	if len(name) > semisync.MaxFileNameLen {
		return dst, fmt.Errorf("%w: %d bytes, at most %d", ErrNameTooLong, len(name), semisync.MaxFileNameLen)
	}
	dst = append(dst, Magic)
	dst = binary.LittleEndian.AppendUint64(dst, pos.Offset())
	return append(dst, name...), nil
}

// ParseAck checks an ACK payload the way MySQL's receiver does (spec §6.3:
// magic, at least 9 bytes, a name shorter than 512 bytes) and returns its
// fields without copying: name aliases payload. Use it on a hot path with a
// cache of the last name; DecodeAck is the convenient form.
func ParseAck(payload []byte) (name []byte, offset uint64, err error) {
	switch {
	case len(payload) == 0:
		return nil, 0, fmt.Errorf("%w: empty ACK", ErrShort)
	case payload[0] != Magic:
		if IsQuit(payload) {
			return nil, 0, fmt.Errorf("%w: ACK packet is a COM_QUIT (see IsQuit)", ErrMagic)
		}
		return nil, 0, fmt.Errorf("%w: ACK starts with %#02x", ErrMagic, payload[0])
	case len(payload) < AckHeaderLen:
		return nil, 0, fmt.Errorf("%w: %d-byte ACK, need at least %d", ErrShort, len(payload), AckHeaderLen)
	case len(payload) > MaxAckLen:
		return nil, 0, fmt.Errorf("%w: %d bytes, at most %d", ErrNameTooLong, len(payload)-AckHeaderLen, semisync.MaxFileNameLen)
	}
	return payload[AckHeaderLen:], binary.LittleEndian.Uint64(payload[1:AckHeaderLen]), nil
}

// DecodeAck decodes an ACK payload into the position it acknowledges (see
// ParseAck for the checks). The name is copied.
func DecodeAck(payload []byte) (semisync.Position, error) {
	name, off, err := ParseAck(payload)
	if err != nil {
		return semisync.Position{}, err
	}
	return semisync.FilePos(string(name), off), nil
}

// IsQuit reports whether a packet read from a semisync replica's connection
// is COM_QUIT: the replica is leaving, not sending a malformed ACK. MariaDB
// replicas send it there when their IO thread stops (MDEV-32551); MariaDB's
// source recognises it and so should any receiver (spec §10, B12).
func IsQuit(payload []byte) bool { return len(payload) == 1 && payload[0] == ComQuit }

// SeqAfterEvent returns the sequence id of the packet that follows an event
// packet on a semisync dump. next is the id that ordinary framing gives it
// (one more than the event packet's last id); after an event that asked for
// a reply, both sides reset their counters so the next packet has id 1
// (spec §8.4): the source resets and increments after sending it, and the
// replica, having reset to write its ACK as id 0 (AckSeq), expects 1. The
// replica applies the reset when it reads the flagged event, whether or
// not it has written the ACK yet.
func SeqAfterEvent(next uint8, replyRequired bool) uint8 {
	if replyRequired {
		return 1
	}
	return next
}
