package status

import (
	"runtime"
	"sync/atomic"
	"time"
)

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

// readConsistent runs load until it has run entirely while q's writer was
// not inside an update. load must only read atomics and store into the
// caller's variables; it may run several times. Only a writer that never
// pauses between updates could hold a reader back; ledger writers record
// once per acknowledgement.
func readConsistent(q *singleSeq, load func()) {
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
