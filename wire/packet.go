package wire

import (
	"bufio"
	"fmt"
	"io"
	"slices"
)

// Framing of the MySQL client/server protocol: every packet is a 3-byte
// little-endian payload length, a 1-byte sequence id, then the payload. A
// payload of 2^24−1 bytes or more is split into packets of MaxPacketLen bytes,
// each with the next sequence id, ended by a shorter (possibly empty) one.
const (
	// PacketHeaderLen is the length of a protocol packet header.
	PacketHeaderLen = 4
	// MaxPacketLen is the largest payload one protocol packet carries
	// (2^24 − 1); longer payloads continue in the next packet.
	MaxPacketLen = 1<<24 - 1
	// DefaultMaxPayload is the largest payload ReadPacket accepts when the
	// caller gives no limit: 1 GiB, MySQL's largest max_allowed_packet.
	DefaultMaxPayload = 1 << 30
)

// AppendPacket appends payload framed as protocol packets, the first with
// sequence id seq, and returns the extended buffer and the sequence id the
// next packet must use. Payloads of MaxPacketLen bytes or more are split as
// MySQL splits them.
func AppendPacket(dst []byte, seq uint8, payload []byte) ([]byte, uint8) {
	for {
		n := min(len(payload), MaxPacketLen)
		dst = append(dst, byte(n), byte(n>>8), byte(n>>16), seq)
		dst = append(dst, payload[:n]...)
		seq++
		payload = payload[n:]
		if n < MaxPacketLen {
			return dst, seq
		}
	}
}

// PacketReader reads protocol packets from a stream. It reuses one buffer:
// the payload ReadPacket returns is valid until the next call. It is not
// safe for concurrent use.
type PacketReader struct {
	r    *bufio.Reader
	max  int
	buf  []byte
	next uint8
	// hdr receives each packet header: a local array would escape to the
	// heap through io.ReadFull and cost an allocation per packet.
	hdr [PacketHeaderLen]byte
}

// NewPacketReader returns a reader of packets from r whose payloads are at
// most maxPayload bytes (DefaultMaxPayload when maxPayload ≤ 0). Memory grows
// with the payloads actually read, never with a length a peer merely
// announces.
func NewPacketReader(r *bufio.Reader, maxPayload int) *PacketReader {
	if maxPayload <= 0 {
		maxPayload = DefaultMaxPayload
	}
	return &PacketReader{r: r, max: maxPayload}
}

// Buffered reports whether at least one whole packet is already buffered,
// so that ReadPacket would return it without reading from the stream. A
// receiver uses it to process every packet that has arrived before doing
// something expensive once for all of them (a relay-log flush and one ACK).
func (pr *PacketReader) Buffered() bool {
	n := pr.r.Buffered()
	if n < PacketHeaderLen {
		return false
	}
	h, _ := pr.r.Peek(PacketHeaderLen)
	l := int(h[0]) | int(h[1])<<8 | int(h[2])<<16
	return l < MaxPacketLen && n >= PacketHeaderLen+l
}

// ReadPacket reads one logical packet and returns its first sequence id and
// its payload (the concatenation when the payload was split). The sequence
// ids of continuation packets must follow on; a gap is an *OrderError. A
// payload longer than the reader's limit is a *TooLargeError, and the
// stream cannot be read further. io.EOF means the stream ended cleanly
// between packets; io.ErrUnexpectedEOF that it ended inside one.
func (pr *PacketReader) ReadPacket() (seq uint8, payload []byte, err error) {
	pr.buf = pr.buf[:0]
	h := &pr.hdr
	for part := 0; ; part++ {
		if _, err := io.ReadFull(pr.r, h[:]); err != nil {
			if part > 0 && err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return seq, nil, err
		}
		n := int(h[0]) | int(h[1])<<8 | int(h[2])<<16
		if part == 0 {
			seq = h[3]
		} else if h[3] != seq+uint8(part) {
			return seq, nil, &OrderError{Got: h[3], Want: seq + uint8(part)}
		}
		if len(pr.buf)+n > pr.max {
			return seq, nil, &TooLargeError{Len: len(pr.buf) + n, Max: pr.max}
		}
		if err := pr.readN(n); err != nil {
			return seq, nil, err
		}
		if n < MaxPacketLen {
			pr.next = seq + uint8(part) + 1
			return seq, pr.buf, nil
		}
	}
}

// NextSeq returns the sequence id that follows the last packet read: its
// first id plus the number of packets it was split into.
func (pr *PacketReader) NextSeq() uint8 { return pr.next }

// readN appends n bytes from the stream to pr.buf, growing the buffer in
// steps bounded by what has arrived, so a lying length costs nothing.
func (pr *PacketReader) readN(n int) error {
	for n > 0 {
		chunk := min(n, 64<<10)
		start := len(pr.buf)
		pr.buf = slices.Grow(pr.buf, chunk)[:start+chunk]
		if _, err := io.ReadFull(pr.r, pr.buf[start:]); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			pr.buf = pr.buf[:start]
			return err
		}
		n -= chunk
	}
	return nil
}

// WritePacket writes payload to w as protocol packets starting at sequence
// id seq, through a buffer the caller owns (scratch, which may be nil), and
// returns the grown scratch buffer and the next sequence id.
func WritePacket(w io.Writer, scratch []byte, seq uint8, payload []byte) ([]byte, uint8, error) {
	scratch, next := AppendPacket(scratch[:0], seq, payload)
	_, err := w.Write(scratch)
	return scratch, next, err
}

// OrderError reports a packet whose sequence id is not the one the
// protocol's rules require (MySQL's "Got packets out of order", ER 1156).
type OrderError struct {
	// Got is the sequence id read; Want the one the rules require.
	Got, Want uint8
}

// Error says which id came and which was expected.
func (e *OrderError) Error() string {
	return fmt.Sprintf("wire: packet sequence id %d, want %d (packets out of order)", e.Got, e.Want)
}

// Is makes errors.Is(err, ErrPacketOrder) true for an *OrderError.
func (e *OrderError) Is(target error) bool { return target == ErrPacketOrder }

// TooLargeError reports a payload over the reader's limit (MySQL's "Got a
// packet bigger than 'max_allowed_packet' bytes", ER 1153).
type TooLargeError struct {
	// Len is how long the payload is at least; Max the reader's limit.
	Len, Max int
}

// Error states the length and the limit.
func (e *TooLargeError) Error() string {
	return fmt.Sprintf("wire: packet payload of at least %d bytes exceeds the limit of %d", e.Len, e.Max)
}

// Is makes errors.Is(err, ErrPacketTooLarge) true for a *TooLargeError.
func (e *TooLargeError) Is(target error) bool { return target == ErrPacketTooLarge }
