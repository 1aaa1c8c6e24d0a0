// Package deadline moves a connection's deadlines on as bytes move, for
// the source's sender (package dump) and the replica's side of package
// transport: a read or write fails only when nothing moves for about a
// timeout, never because the connection has been busy for long (as
// MySQL's net_read_timeout and net_write_timeout work per call).
package deadline

import (
	"net"
	"time"
)

// Chunk is the most a Writer writes in one call under one deadline, so
// that a big event on a slow link keeps extending its deadline as it
// progresses.
const Chunk = 64 << 10

// Lazy moves a connection's deadline to now+Timeout at most once per
// Timeout/8, so that most reads and writes cost no deadline update; the
// deadline it keeps is then never less than 7/8 of Timeout away from the
// last progress.
type Lazy struct {
	Timeout time.Duration
	Set     time.Time // when the deadline was last moved
}

// Move calls setDeadline with now+Timeout unless the deadline was moved
// less than Timeout/8 ago.
func (d *Lazy) Move(now time.Time, setDeadline func(time.Time) error) {
	if now.Sub(d.Set) > d.Timeout/8 {
		setDeadline(now.Add(d.Timeout))
		d.Set = now
	}
}

// Writer writes to a connection in chunks of at most Chunk bytes, each
// under a write deadline that D moves on.
type Writer struct {
	C net.Conn
	D Lazy
}

// Write writes p; it fails when a chunk makes no progress until the
// deadline.
func (w *Writer) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		n := min(len(p), Chunk)
		w.D.Move(time.Now(), w.C.SetWriteDeadline)
		m, err := w.C.Write(p[:n])
		written += m
		if err != nil {
			return written, err
		}
		p = p[n:]
	}
	return written, nil
}

// Reader reads from a connection under a read deadline that D moves on
// whenever bytes arrive, so a big event on a slow link is not cut while it
// is still arriving. Before waiting for a new packet the reader's owner
// calls Arm, which moves the deadline if it has not moved lately.
type Reader struct {
	C net.Conn
	D Lazy
}

// Read reads into p and moves the deadline on if bytes came.
func (r *Reader) Read(p []byte) (int, error) {
	n, err := r.C.Read(p)
	if n > 0 {
		r.Arm(time.Now())
	}
	return n, err
}

// Arm moves the read deadline to now+Timeout unless it was moved less
// than Timeout/8 ago.
func (r *Reader) Arm(now time.Time) { r.D.Move(now, r.C.SetReadDeadline) }
