package transport

import (
	"net"
	"time"
)

// lazyDeadline moves a connection's deadline to now+timeout at most once
// per timeout/8, so that most reads cost no deadline update (package dump
// has the same for the source's writes);
// the deadline it keeps is then never less than 7/8 of timeout away from
// the last progress.
type lazyDeadline struct {
	timeout time.Duration
	set     time.Time // when the deadline was last moved
}

// move calls setDeadline with now+timeout unless the deadline was moved
// less than timeout/8 ago.
func (d *lazyDeadline) move(now time.Time, setDeadline func(time.Time) error) {
	if now.Sub(d.set) > d.timeout/8 {
		setDeadline(now.Add(d.timeout))
		d.set = now
	}
}

// progressReader reads from a connection under a deadline that moves on
// whenever bytes arrive, so a big event on a slow link is not cut while it
// is still arriving. Before waiting for a new packet the reader's owner
// calls arm, which moves the deadline if it has not moved lately.
type progressReader struct {
	c net.Conn
	d lazyDeadline
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
func (r *progressReader) arm(now time.Time) { r.d.move(now, r.c.SetReadDeadline) }
