package status

import (
	"runtime"
	"sync/atomic"
	"time"
)

// multiSeq lets many goroutines update a group of atomics without a lock
// while readers still copy a consistent cut of the group. A writer brackets
// its updates with begin (started+1) and end (finished+1).
//
// Why a reader's copy is consistent: all operations are sequentially
// consistent atomics, so they fall into one total order. The reader loads
// finished (value f), then started (value s), and goes on only if f == s.
// Every writer counted in f ended before the finished load, so it also began
// before the later started load and is one of the s writers that had begun by
// then; f == s therefore means every writer that had begun had also ended: at
// the instant of the started load no writer was inside its bracket. The
// reader then copies and loads started again. If it is still s, no writer
// began between the two loads, so no writer's update (each comes after its
// begin) falls inside the copy: the copy equals the state at that instant.
// Otherwise the reader yields and tries again.
//
// A reader can be delayed while writers keep arriving, but each attempt only
// needs a moment with no writer inside, and brackets are a few atomic
// operations long.
type multiSeq struct {
	started  atomic.Uint64
	finished atomic.Uint64
}

func (q *multiSeq) begin() { q.started.Add(1) }
func (q *multiSeq) end()   { q.finished.Add(1) }

func (q *multiSeq) readBegin() (uint64, bool) {
	f := q.finished.Load()
	s := q.started.Load()
	return s, f == s
}

func (q *multiSeq) readValid(s uint64) bool { return q.started.Load() == s }

// singleSeq is a classic sequence lock for a group of atomics that only one
// goroutine at a time updates (the callers serialise writes): the counter is
// odd while an update is in progress.
type singleSeq struct{ n atomic.Uint64 }

func (q *singleSeq) begin() { q.n.Add(1) }
func (q *singleSeq) end()   { q.n.Add(1) }

func (q *singleSeq) readBegin() (uint64, bool) {
	n := q.n.Load()
	return n, n&1 == 0
}

func (q *singleSeq) readValid(n uint64) bool { return q.n.Load() == n }

type seqReader interface {
	readBegin() (uint64, bool)
	readValid(uint64) bool
}

// readConsistent runs load until it has run entirely while no writer of q
// was inside an update. load must only read atomics and store into the
// caller's variables; it may run several times.
func readConsistent(q seqReader, load func()) {
	for {
		if v, ok := q.readBegin(); ok {
			load()
			if q.readValid(v) {
				return
			}
		}
		runtime.Gosched()
	}
}

// addFloor adds d to v without letting the result go below zero, and returns
// the new value. Increments take the fast path; decrements use a CAS loop so
// that a concurrent reset to zero cannot be undone into a negative value.
func addFloor(v *atomic.Int64, d int64) int64 {
	if d >= 0 {
		return v.Add(d)
	}
	for {
		old := v.Load()
		n := max(old+d, 0)
		if v.CompareAndSwap(old, n) {
			return n
		}
	}
}

// unixNano encodes t for an atomic.Int64; the zero Time becomes 0.
func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// fromUnixNano decodes what unixNano encoded; 0 becomes the zero Time.
func fromUnixNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}
