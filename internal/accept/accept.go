// Package accept is what the library's servers (package transport and the
// interop module's mysqlsource) share in their accept loops: which Accept
// errors a listener recovers from, and how long to wait before accepting
// again, as net/http does, so that running out of descriptors for a moment
// does not stop a server.
package accept

import (
	"errors"
	"net"
	"syscall"
	"time"
)

// Transient reports whether an Accept error is one a listener recovers
// from: a timeout, running out of descriptors, buffers or memory, or a
// connection aborted before it was accepted.
func Transient(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	for _, e := range []syscall.Errno{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM, syscall.ECONNABORTED} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// Backoff is the wait after a transient Accept error: 5 ms, doubling up to
// 1 s while errors go on. The zero value is ready; one accept loop owns it.
type Backoff struct{ delay time.Duration }

// Bounds of a Backoff's wait.
const (
	MinDelay = 5 * time.Millisecond
	MaxDelay = time.Second
)

// Wait waits the next delay, or until done is closed; it reports whether
// the wait ran its course (false: done was closed).
func (b *Backoff) Wait(done <-chan struct{}) bool {
	b.delay = min(max(2*b.delay, MinDelay), MaxDelay)
	t := time.NewTimer(b.delay)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-done:
		return false
	}
}

// Reset starts the delays over, after an Accept that succeeded.
func (b *Backoff) Reset() { b.delay = 0 }
