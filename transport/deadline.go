package transport

import (
	"net"
	"time"
)

// chunk is the most written in one call under one deadline, so that a big
// event on a slow link keeps extending its deadline as it progresses.
const chunk = 64 << 10

// progressWriter writes to a connection under a deadline that moves on as
// long as bytes move: a write fails only when no chunk of it completes for
// about timeout (between 7/8 of it and all of it), never because the
// connection has been busy for long. MySQL's net_write_timeout works per
// write call in the same way.
type progressWriter struct {
	c       net.Conn
	timeout time.Duration
	set     time.Time // when the deadline was last moved
}

func (w *progressWriter) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		n := min(len(p), chunk)
		if now := time.Now(); now.Sub(w.set) > w.timeout/8 {
			w.c.SetWriteDeadline(now.Add(w.timeout))
			w.set = now
		}
		m, err := w.c.Write(p[:n])
		written += m
		if err != nil {
			return written, err
		}
		p = p[n:]
	}
	return written, nil
}

// progressReader reads from a connection under a deadline that moves on
// whenever bytes arrive, so a big event on a slow link is not cut while it
// is still arriving. Before waiting for a new packet the reader's owner
// calls arm, which moves the deadline if it has not moved lately.
type progressReader struct {
	c       net.Conn
	timeout time.Duration
	set     time.Time
}

func (r *progressReader) Read(p []byte) (int, error) {
	n, err := r.c.Read(p)
	if n > 0 {
		r.arm(time.Now())
	}
	return n, err
}

// arm moves the read deadline to now+timeout unless it was moved less than
// timeout/8 ago.
func (r *progressReader) arm(now time.Time) {
	if now.Sub(r.set) > r.timeout/8 {
		r.c.SetReadDeadline(now.Add(r.timeout))
		r.set = now
	}
}
