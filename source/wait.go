package source

import (
	"context"
	"errors"
	"time"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/status"
)

// waiter is one blocked commit wait. Waiters are pooled: the channel (one
// slot, one send per wait) is reused, so a wait allocates nothing.
type waiter struct {
	pos        semisync.Position
	start      time.Time
	deadline   time.Time // zero in fail-closed mode
	prev, next *waiter   // position order, while linked
	relNext    *waiter   // the release chain, between unlock and wake
	freeNext   *waiter   // the free stack
	linked     bool
	src        *Source      // the source whose pool it is in
	fn         func(Result) // WaitFunc's callback, or nil: wake the channel
	outcome    Outcome
	reason     status.SwitchOffReason
	ch         chan struct{}
}

// Wait blocks the committing session until its transaction, whose binlog
// end position is pos, is acknowledged by a quorum of replicas, or until
// one of the other outcomes (see Outcome): its deadline passes
// (rpl_semi_sync_source_timeout after the wait began, computed once, in
// O(1)), the source switches to asynchronous mode, is disabled or closed,
// or ctx ends. It is MySQL's commitTrx (spec §5.2); the host calls it at the
// wait point, after reporting the group with Flushed.
//
// The error is nil except for Cancelled (ctx.Err()) and after Close
// (ErrClosed). Wait does not allocate; when a quorum already holds pos it
// returns without taking a lock.
func (s *Source) Wait(ctx context.Context, pos semisync.Position) (Result, error) {
	res, w, err := s.begin(ctx, pos, nil)
	if w == nil {
		return res, err
	}
	select {
	case <-w.ch:
	case <-ctx.Done():
		s.mu.Lock()
		if w.linked {
			s.unlink(w)
			w.outcome = Cancelled
			s.mu.Unlock()
			err = ctx.Err()
		} else {
			// Released at the same moment: the wake-up is on its way.
			s.mu.Unlock()
			<-w.ch
		}
	}
	return s.finish(w), err
}

// WaitFunc is Wait without blocking a goroutine: it begins the wait for pos
// and returns, and done receives the Result exactly once — before WaitFunc
// returns when the outcome is known at once, and otherwise from the call
// that releases the wait (an acknowledgement, Tick or the source's timer,
// a variable change, a replica leaving, ResetMaster, Close), after the
// source's lock is released. done must not block; it may call the source,
// but not Close (which waits for what is delivering it).
// There is no context: the wait ends with one of the source's outcomes,
// never Cancelled. A simulation (package semisynctest) begins its waits
// this way, so that one goroutine drives the whole cluster; a host with an
// event loop can too. It returns ErrClosed (and does not call done) after
// Close, and an error for a nil done.
func (s *Source) WaitFunc(pos semisync.Position, done func(Result)) error {
	if done == nil {
		// A wait nobody collects would keep its waiter, and WaitSessions.
		return errNoCallback
	}
	res, w, err := s.begin(context.Background(), pos, done)
	if err != nil {
		return err
	}
	if w == nil {
		done(res)
	}
	return nil
}

var errNoCallback = errors.New("source: WaitFunc needs a callback")

// begin is a wait's start: the outcome when it is known at once, or the
// linked waiter (w) whose outcome comes later; fn is WaitFunc's callback.
func (s *Source) begin(ctx context.Context, pos semisync.Position, fn func(Result)) (res Result, w *waiter, err error) {
	if pos.IsZero() {
		return Result{Outcome: NoPosition}, nil, nil
	}
	if s.fastAcked(pos) {
		s.st.Add(status.YesTx, 1)
		return Result{Outcome: Acknowledged}, nil, nil
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return Result{}, nil, ErrClosed
	}
	if !s.enabled {
		s.mu.Unlock()
		return Result{Outcome: Disabled}, nil, nil
	}
	// A transaction is tracked (MySQL: it has an active-list node, spec
	// §5.2 step 1) when it was written while status was ON. A position
	// beyond every write has no node: MySQL does not wait for it.
	tracked := s.on && pos.Compare(s.lastWritten) <= 0 && s.eras.covers(pos)
	if pos.Compare(s.acks.Quorum()) <= 0 {
		s.mu.Unlock()
		if tracked {
			s.st.Add(status.YesTx, 1)
		} else {
			s.st.Add(status.NoTx, 1)
		}
		return Result{Outcome: Acknowledged}, nil, nil
	}
	if !tracked {
		s.mu.Unlock()
		s.st.Add(status.NoTx, 1)
		return Result{Outcome: Async}, nil, nil
	}
	if err := ctx.Err(); err != nil {
		s.mu.Unlock()
		s.st.Add(status.NoTx, 1)
		return Result{Outcome: Cancelled}, nil, err
	}

	w = s.getWaiter()
	now := s.now()
	w.pos, w.start, w.outcome, w.reason, w.fn = pos, now, 0, 0, fn
	// MySQL's wait_pos bookkeeping (spec §5.2 step 5c).
	if !s.waitSet {
		s.waitPos, s.waitSet = pos, true
	} else if pos.Compare(s.waitPos) <= 0 {
		s.waitPos = pos
		s.st.Add(status.WaitPosBacktraverse, 1)
	}
	s.insert(w)
	if s.failClosed {
		w.deadline = time.Time{}
	} else {
		w.deadline = now.Add(s.cfg.Timeout())
		s.armTimer(w.deadline, now)
	}
	if s.stallAfter > 0 {
		s.armTimer(now.Add(s.stallAfter), now)
	}
	s.st.Add(status.WaitSessions, 1)
	s.mu.Unlock()
	return Result{}, w, nil
}

// finish counts a released wait, returns its waiter to the pool and
// returns its Result.
func (s *Source) finish(w *waiter) Result {
	waited := s.now().Sub(w.start)
	s.st.Add(status.WaitSessions, -1)
	res := Result{Outcome: w.outcome, Reason: w.reason, Waited: waited}
	switch w.outcome {
	case Acknowledged:
		s.st.Update(func(b status.Batch) {
			b.Add(status.YesTx, 1)
			recordTxWait(b, waited)
		})
	case SwitchedOff, Reset:
		s.st.Update(func(b status.Batch) {
			b.Add(status.NoTx, 1)
			recordTxWait(b, waited)
		})
	case TimedOut:
		s.st.Add(status.WaitTimeouts, 1)
		s.st.Add(status.NoTx, 1)
	default: // Cancelled
		s.st.Add(status.NoTx, 1)
	}
	if waited >= 0 {
		s.st.WaitLatency.Record(waited)
	}
	w.pos, w.fn = semisync.Position{}, nil
	s.putWaiter(w)
	return res
}

// getWaiter pops an idle waiter, or makes one. Called with s.mu held: the
// only consumer of the free stack.
func (s *Source) getWaiter() *waiter {
	for {
		w := s.free.Load()
		if w == nil {
			return &waiter{ch: make(chan struct{}, 1), src: s}
		}
		if s.free.CompareAndSwap(w, w.freeNext) {
			w.freeNext = nil
			return w
		}
	}
}

// putWaiter pushes an idle waiter, lock-free.
func (s *Source) putWaiter(w *waiter) {
	for {
		top := s.free.Load()
		w.freeNext = top
		if s.free.CompareAndSwap(top, w) {
			return
		}
	}
}

// recordTxWait is status.Source.RecordTxWait inside a batch, so that yes_tx
// or no_tx and the wait time land in the same snapshot.
func recordTxWait(b status.Batch, d time.Duration) {
	if d < 0 {
		b.Add(status.TimefuncFailures, 1)
		return
	}
	b.Add(status.TxWaits, 1)
	b.Add(status.TxWaitTime, int64(d/time.Microsecond))
}

// fastAcked reports, without locking, whether pos is acknowledged by a
// quorum while the source is enabled and ON, and pos was written in the
// current ON stretch: the "yes_tx without waiting" case.
func (s *Source) fastAcked(pos semisync.Position) bool {
	s1 := s.seq.Load()
	if s1&1 != 0 {
		return false
	}
	v := s.view.Load()
	off := s.off.Load()
	if s.seq.Load() != s1 || v == nil || !v.open {
		return false
	}
	return pos.File() == v.file && pos.Offset() <= off && (!v.fromSame || v.fromOff < pos.Offset())
}

// insert links w in position order, after any waiter for the same position.
// Positions almost always arrive in order, so the walk from the tail is
// short.
func (s *Source) insert(w *waiter) {
	p := s.wtail
	for p != nil && p.pos.Compare(w.pos) > 0 {
		p = p.prev
	}
	w.prev = p
	if p == nil {
		w.next, s.whead = s.whead, w
	} else {
		w.next, p.next = p.next, w
	}
	if w.next == nil {
		s.wtail = w
	} else {
		w.next.prev = w
	}
	w.linked = true
	s.nwait++
}

func (s *Source) unlink(w *waiter) {
	if w.prev == nil {
		s.whead = w.next
	} else {
		w.prev.next = w.next
	}
	if w.next == nil {
		s.wtail = w.prev
	} else {
		w.next.prev = w.prev
	}
	w.prev, w.next, w.linked = nil, nil, false
	s.nwait--
}

// release unlinks w with its outcome and prepends it to the release chain,
// which wake walks once the lock is dropped.
func (s *Source) release(w *waiter, o Outcome, r status.SwitchOffReason, chain *waiter) *waiter {
	s.unlink(w)
	w.outcome, w.reason = o, r
	w.relNext = chain
	return w
}

// releaseAll releases every waiter with the same outcome.
func (s *Source) releaseAll(o Outcome, r status.SwitchOffReason, chain *waiter) *waiter {
	for s.whead != nil {
		chain = s.release(s.whead, o, r, chain)
	}
	return chain
}

// wake sends each released waiter its wake-up. Called without the lock.
func wake(w *waiter) {
	for w != nil {
		next := w.relNext
		w.relNext = nil
		if fn := w.fn; fn != nil {
			fn(w.src.finish(w))
		} else {
			w.ch <- struct{}{} // one slot, one send per wait: never blocks
		}
		w = next
	}
}

// armTimer makes sure the timer fires no later than at. The timer is re-armed
// lazily: released waiters do not disarm it; when it fires early it is set
// again for the earliest remaining deadline.
func (s *Source) armTimer(at, now time.Time) {
	if s.timerArmed && !at.Before(s.timerAt) {
		return
	}
	s.timerAt, s.timerArmed = at, true
	if s.clock == nil {
		s.timer.Reset(at.Sub(now))
	}
}

// onTimer expires waiters whose deadline passed (the first such timeout
// switches the source off, releasing everyone else), reports stalls, and
// re-arms the timer.
func (s *Source) onTimer() {
	s.mu.Lock()
	s.timerArmed = false
	if s.closed {
		s.mu.Unlock()
		return
	}
	now := s.now()
	var chain *waiter
	timedOut := false
	var next time.Time
	var oldest *waiter
	for w := s.whead; w != nil; {
		nw := w.next
		switch {
		case !w.deadline.IsZero() && !w.deadline.After(now):
			chain = s.release(w, TimedOut, status.ReasonTimeout, chain)
			timedOut = true
		default:
			if !w.deadline.IsZero() && (next.IsZero() || w.deadline.Before(next)) {
				next = w.deadline
			}
			if oldest == nil || w.start.Before(oldest.start) {
				oldest = w
			}
		}
		w = nw
	}
	if timedOut {
		// The timed-out waiter calls switch_off (spec §5.2 step 5f).
		chain = s.switchOff(status.ReasonTimeout, now, chain)
		next, oldest = time.Time{}, nil
	}
	if s.stallAfter > 0 && oldest != nil {
		due := oldest.start.Add(s.stallAfter)
		if !s.lastStall.IsZero() && s.lastStall.Add(s.stallAfter).After(due) {
			due = s.lastStall.Add(s.stallAfter)
		}
		if !due.After(now) {
			s.emit(Event{Kind: EventWaitStalled, Waiters: s.nwait, Position: oldest.pos, Blocked: now.Sub(oldest.start)}, now)
			s.lastStall = now
			due = now.Add(s.stallAfter)
		}
		if next.IsZero() || due.Before(next) {
			next = due
		}
	}
	if !next.IsZero() {
		s.armTimer(next, now)
	}
	s.publish()
	s.mu.Unlock()
	wake(chain)
}
