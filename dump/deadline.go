package dump

import (
	"net"
	"time"
)

// chunk is the most written in one call under one deadline, so that a big
// event on a slow link keeps extending its deadline as it progresses.
const chunk = 64 << 10

// lazyDeadline moves a connection's deadline to now+timeout at most once
// per timeout/8, so that most writes cost no deadline update; the deadline
// it keeps is then never less than 7/8 of timeout away from the last
// progress.
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

// progressWriter writes to a connection under a deadline that moves on as
// long as bytes move: a write fails only when no chunk of it completes for
// about timeout (between 7/8 of it and all of it), never because the
// connection has been busy for long. MySQL's net_write_timeout works per
// write call in the same way.
type progressWriter struct {
	c net.Conn
	d lazyDeadline
}

func (w *progressWriter) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		n := min(len(p), chunk)
		w.d.move(time.Now(), w.c.SetWriteDeadline)
		m, err := w.c.Write(p[:n])
		written += m
		if err != nil {
			return written, err
		}
		p = p[n:]
	}
	return written, nil
}
