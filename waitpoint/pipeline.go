package waitpoint

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/source"
	"github.com/semisync-go/semisync/vars"
)

// Steps are the host's parts of a commit: its binlog and its storage
// engine. The pipeline calls them from the goroutine of a group's leader
// (one of the committing callers), one group at a time per stage, in binlog
// order: Flush and Sync of a group are never concurrent with those of
// another group; Commit of a group is never concurrent with another Commit,
// but may run while the next group flushes or syncs. For each group, Flush
// returns before Sync is called, and Sync before Commit.
//
// The slices belong to the pipeline and are valid only during the call: a
// step must not keep them. txs is in commit order (the order the callers
// joined the queue) and Commit receives the same transactions as the
// group's Flush.
//
// ctx carries the leader's values (for tracing, say) but never ends: the
// steps work for every member of the group, so one caller's cancellation
// must not fail the others' commits. A step's error stops the group (see
// StepError and the Stage constants); a step must not panic, but if it does
// the other members get an error wrapping ErrPanicked and the panic
// continues in the leader's goroutine.
type Steps[T any] interface {
	// Flush appends the group's transactions to the binlog, in order, and
	// stores each one's end position in ends (len(ends) == len(txs)): the
	// position just after its last event. The positions must be non-zero,
	// strictly increasing, and after every position of earlier groups.
	// Replicas must not be able to read the group yet (see Sync), and no
	// other session may see the transactions. On error nothing of the group
	// may remain in the binlog.
	//
	// The context each step receives carries the leader's values but not
	// its cancellation, and is valid only until the step returns: a step
	// must not keep it.
	Flush(ctx context.Context, txs []T, ends []semisync.Position) error
	// Sync makes the binlog durable up to end, the group's last position
	// (fsync, or nothing if the host trades durability for speed, as MySQL
	// does with sync_binlog != 1: spec §11 B4). The source knows of the group
	// by now, so this is where the host lets its binlog senders read up to
	// end.
	Sync(ctx context.Context, end semisync.Position) error
	// Commit makes the group's transactions visible to other sessions (the
	// storage engine commit), in order.
	Commit(ctx context.Context, txs []T) error
}

// Source is what the pipeline needs of a semisync source: *source.Source
// implements it. A host may wrap a source (to trace or count the calls)
// and pass the wrapper.
type Source interface {
	// WaitPoint is rpl_semi_sync_source_wait_point, read once per group.
	// Any value other than vars.AfterCommit counts as AFTER_SYNC, the
	// lossless one.
	WaitPoint() vars.WaitPoint
	// Flushed is MySQL's after_flush: the group ending at end is written.
	// source.ErrClosed lets the group go on; any other error stops it
	// (StageFlushed).
	Flushed(end semisync.Position) error
	// Wait is MySQL's commitTrx: block until pos is acknowledged, or say why
	// not (source.Outcome).
	Wait(ctx context.Context, pos semisync.Position) (source.Result, error)
}

var _ Source = (*source.Source)(nil)

// Options configures a Pipeline. The zero Options is MySQL's group commit:
// a group takes every commit queued when it is formed.
type Options struct {
	// MaxGroup, if positive, bounds the number of transactions in one
	// group; commits beyond it wait for the next group. Zero means no bound.
	MaxGroup int
}

// Result is what Pipeline.Commit reports for one transaction.
type Result struct {
	// Position is the transaction's end position as Flush returned it; zero
	// if it was not written (StageQueue and StageFlush errors).
	Position semisync.Position
	// WaitPoint is the wait point the transaction's group used.
	WaitPoint vars.WaitPoint
	// Wait is the source's verdict. Under AFTER_SYNC it is the result of the
	// group's single wait, for the group's end position, and every member
	// has the same; under AFTER_COMMIT it is this transaction's own wait.
	// It is the zero Result when nobody waited: an error stopped the group
	// before its wait point.
	Wait source.Result
	// Group is the number of transactions in the commit group (1 when the
	// transaction was alone); zero when it never joined one.
	Group int
}

// Pipeline runs commits in MySQL's order around a semisync source, with
// group commit. Create one with New; it is safe for concurrent use, and
// every committing goroutine calls Commit. It owns no goroutine and needs no
// Close: the work is done by the callers (see the package documentation).
type Pipeline[T any] struct {
	src      Source
	steps    Steps[T]
	maxGroup int

	// mu guards the queue and the two stages. The flush stage covers Flush,
	// Flushed and Sync; the commit stage the AFTER_SYNC wait and the engine
	// commit. Each is held by one group at a time and handed from leader to
	// leader: a leader leaving the flush stage forms the next group from the
	// queue and wakes its leader; a leader leaving the commit stage wakes the
	// one waiting for it. A leader holds the flush stage until it has the
	// commit stage (hand over hand), so groups commit in binlog order. No
	// lock is held while a step or the source runs.
	mu         sync.Mutex
	head, tail *member[T] // commits waiting for a group, in arrival order
	flushBusy  bool       // a group is in the flush stage
	commitBusy bool       // a group is in the commit stage
	commitNext *member[T] // the leader, still in the flush stage, waiting for the commit stage

	pool sync.Pool // *member[T]
}

// member is one call of Commit while it is queued or in a group. Members
// are pooled, so a commit allocates nothing. Each is woken through its own
// one-slot channel: a follower once (its result); a leader when its group is
// formed (unless it formed it itself) and when the commit stage is handed
// to it (unless it was free). Each signal is consumed before the next is
// sent.
type member[T any] struct {
	tx         T
	prev, next *member[T] // queue links; next also links a group
	queued     bool       // in the queue (guarded by Pipeline.mu)
	lead       bool       // the signal says: lead the group that starts here
	ch         chan struct{}

	// Written by the leader before it signals ch.
	end      semisync.Position
	wp       vars.WaitPoint
	group    int
	wait     source.Result
	err      error
	waitSelf bool // AFTER_COMMIT: wait for end after the signal

	// Used while this member leads a group.
	txs  []T
	ends []semisync.Position
	ctx  detached
}

// New returns a Pipeline that runs steps around src. src is usually a
// *source.Source. The error wraps ErrInvalidOptions.
func New[T any](src Source, steps Steps[T], o Options) (*Pipeline[T], error) {
	if s, ok := src.(*source.Source); src == nil || ok && s == nil {
		return nil, fmt.Errorf("%w: nil source", ErrInvalidOptions)
	}
	if steps == nil {
		return nil, fmt.Errorf("%w: nil steps", ErrInvalidOptions)
	}
	if o.MaxGroup < 0 {
		return nil, fmt.Errorf("%w: negative MaxGroup %d", ErrInvalidOptions, o.MaxGroup)
	}
	p := &Pipeline[T]{src: src, steps: steps, maxGroup: o.MaxGroup}
	p.pool.New = func() any { return &member[T]{ch: make(chan struct{}, 1)} }
	return p, nil
}

// Commit runs one transaction through the commit order: it joins the queue,
// and either leads its group through flush, Flushed, sync, [wait if
// AFTER_SYNC], engine commit, or waits for the leader that does; then, under
// AFTER_COMMIT, it waits for its own position. It returns when the
// transaction is committed and its wait, if any, has ended.
//
// The error is
//
//   - nil: the transaction is committed; Result.Wait says whether a quorum
//     of replicas holds it (source.Outcome).
//   - a *StepError: the commit stopped at StepError.Stage. StageQueue means
//     ctx ended before the transaction's group was formed, and nothing was
//     written.
//   - otherwise the wait's error, and the transaction is committed:
//     ctx.Err() when ctx ended during its wait (Outcome Cancelled; under
//     AFTER_SYNC, the leader's ctx.Err() for every member), or
//     source.ErrClosed when the source was closed.
//
// Once its group is formed, a commit cannot be abandoned: the rest of the
// group, and the groups after it, depend on its engine commit happening in
// order. ctx then only ends the wait: the wait under AFTER_COMMIT, and the
// group's wait under AFTER_SYNC if this caller leads the group.
func (p *Pipeline[T]) Commit(ctx context.Context, tx T) (Result, error) {
	if err := ctx.Err(); err != nil {
		return Result{}, &StepError{Stage: StageQueue, Err: err}
	}
	m := p.pool.Get().(*member[T])
	m.tx = tx
	p.mu.Lock()
	p.enqueue(m)
	if !p.flushBusy {
		// The flush stage is free, so the queue was empty: m forms a group
		// of its own at once.
		p.flushBusy = true
		p.take()
		p.mu.Unlock()
		return p.run(ctx, m)
	}
	p.mu.Unlock()
	select {
	case <-m.ch:
	case <-ctx.Done():
		if p.withdraw(m) {
			p.put(m)
			return Result{}, &StepError{Stage: StageQueue, Err: ctx.Err()}
		}
		<-m.ch // in a group already: the signal is on its way
	}
	if m.lead {
		m.lead = false
		return p.run(ctx, m)
	}
	return p.follow(ctx, m)
}

// enqueue appends m to the queue. Called with p.mu held.
func (p *Pipeline[T]) enqueue(m *member[T]) {
	m.queued = true
	m.prev = p.tail
	if p.tail == nil {
		p.head = m
	} else {
		p.tail.next = m
	}
	p.tail = m
}

// withdraw takes m out of the queue, if it is still there (its group is not
// formed), and reports whether it was.
func (p *Pipeline[T]) withdraw(m *member[T]) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !m.queued {
		return false
	}
	if m.prev == nil {
		p.head = m.next
	} else {
		m.prev.next = m.next
	}
	if m.next == nil {
		p.tail = m.prev
	} else {
		m.next.prev = m.prev
	}
	m.prev, m.next, m.queued = nil, nil, false
	return true
}

// take forms a group, which enters the flush stage: it detaches the
// queue's members from the head, up to MaxGroup, and returns the first
// one, the group's leader. Called with p.mu held and the queue not empty.
func (p *Pipeline[T]) take() *member[T] {
	first, x := p.head, p.head
	var last *member[T]
	for n := 0; x != nil && (p.maxGroup == 0 || n < p.maxGroup); n++ {
		x.queued = false
		last, x = x, x.next
	}
	last.next = nil
	p.head = x
	if x == nil {
		p.tail = nil
	} else {
		x.prev = nil
	}
	return first
}

// passFlush hands the flush stage, which a leader is leaving, to a new
// group formed from the queue, and returns that group's leader for
// wakeLeader; with nothing queued it frees the stage. Called with p.mu held.
func (p *Pipeline[T]) passFlush() *member[T] {
	if p.head == nil {
		p.flushBusy = false
		return nil
	}
	return p.take()
}

// wakeLeader tells m, if not nil, to lead the group that starts with it.
func wakeLeader[T any](m *member[T]) {
	if m != nil {
		m.lead = true
		m.ch <- struct{}{}
	}
}

// leaveFlush leaves the flush stage without entering the commit stage (the
// group stopped).
func (p *Pipeline[T]) leaveFlush() {
	p.mu.Lock()
	next := p.passFlush()
	p.mu.Unlock()
	wakeLeader(next)
}

// enterCommit moves m's group from the flush stage to the commit stage,
// hand over hand: if another group is committing, m keeps the flush stage
// and waits; whoever gives m the commit stage passes the flush stage on.
func (p *Pipeline[T]) enterCommit(m *member[T]) {
	p.mu.Lock()
	if p.commitBusy {
		p.commitNext = m
		p.mu.Unlock()
		<-m.ch
		return
	}
	p.commitBusy = true
	next := p.passFlush()
	p.mu.Unlock()
	wakeLeader(next)
}

// leaveCommit leaves the commit stage, handing it to the leader waiting
// for it, if any, and passing that leader's flush stage on.
func (p *Pipeline[T]) leaveCommit() {
	p.mu.Lock()
	w := p.commitNext
	var next *member[T]
	if w == nil {
		p.commitBusy = false
	} else {
		p.commitNext = nil
		next = p.passFlush()
	}
	p.mu.Unlock()
	if w != nil {
		w.ch <- struct{}{}
	}
	wakeLeader(next)
}

// run leads the group that starts with m, which is in the flush stage.
func (p *Pipeline[T]) run(ctx context.Context, m *member[T]) (Result, error) {
	n := 0
	for x := m; x != nil; x = x.next {
		m.txs = append(m.txs, x.tx)
		n++
	}
	if cap(m.ends) < n {
		m.ends = make([]semisync.Position, n)
	}
	m.ends = m.ends[:n]
	clear(m.ends)
	m.ctx.parent = ctx

	wp, w, serr, werr := p.stages(ctx, m)
	p.deliver(m, wp, w, serr, werr)

	res := Result{WaitPoint: wp, Group: n, Wait: w}
	if written(serr) {
		res.Position = m.ends[0]
	}
	var err error
	switch {
	case serr != nil:
		err = serr
	case wp == vars.AfterCommit:
		res.Wait, err = p.src.Wait(ctx, res.Position)
	default:
		err = werr
	}
	clear(m.txs) // drop the references to the transactions
	m.txs = m.txs[:0]
	m.ctx.parent = nil
	p.put(m)
	return res, err
}

// stages takes the group led by m (its transactions in m.txs) through the
// stages, starting in the flush stage, and returns the *StepError that
// stopped the group, or nil and the AFTER_SYNC wait's result and error. It
// returns having left both stages. If a step panics, it hands the followers
// an error and lets the panic go on.
func (p *Pipeline[T]) stages(ctx context.Context, m *member[T]) (wp vars.WaitPoint, w source.Result, serr *StepError, werr error) {
	stage, inFlush, inCommit, ok := StageFlush, true, false, false
	defer func() {
		if inFlush {
			p.leaveFlush()
		}
		if inCommit {
			p.leaveCommit()
		}
		if !ok {
			r := recover()
			p.deliver(m, wp, source.Result{}, &StepError{Stage: stage, Err: panicked(r)}, nil)
			if r != nil {
				panic(r)
			}
		}
	}()
	// The wait point is read once per group, now that every member has
	// joined it: a commit that called Commit after a change uses the new
	// value, and a group never waits twice or not at all. It is read inside
	// the protected region: a panicking Source must not jam the stages.
	wp = p.src.WaitPoint()
	sctx := &m.ctx
	err := p.steps.Flush(sctx, m.txs, m.ends)
	end := m.ends[len(m.ends)-1]
	if err == nil {
		// Bad end positions: the group is in the binlog, but the source
		// cannot be told where it ends.
		stage = StageFlushed
		err = checkEnds(m.ends)
	}
	if err == nil {
		// A closed source no longer holds commits back: the group goes on,
		// as MySQL's commits do without the plugin, and the wait reports
		// source.ErrClosed.
		if err = p.src.Flushed(end); errors.Is(err, source.ErrClosed) {
			err = nil
		}
	}
	if err == nil {
		stage = StageSync
		err = p.steps.Sync(sctx, end)
	}
	if err == nil {
		// Hand over hand: the next group may flush while this one waits,
		// but cannot commit before it.
		p.enterCommit(m)
		inFlush, inCommit = false, true
		if wp != vars.AfterCommit {
			// MySQL's after_sync hook: once per group, for its last
			// position, before the engine commit (spec §5.1(2)).
			stage = StageWait
			wctx := ctx
			if len(m.ends) > 1 {
				// A group of several waits as MySQL's does, without a
				// context: one member's cancelled context must not make
				// the others' commits asynchronous.
				wctx = sctx
			}
			w, werr = p.src.Wait(wctx, end)
		}
		stage = StageCommit
		err = p.steps.Commit(sctx, m.txs)
	}
	ok = true
	if err != nil {
		serr = &StepError{Stage: stage, Err: err}
	}
	return wp, w, serr, werr
}

// deliver hands every follower of m's group its result and wakes it. Under
// AFTER_COMMIT a follower then waits for its own position with its own
// context, as MySQL's after_commit hook waits per transaction (spec
// §5.1(3)).
func (p *Pipeline[T]) deliver(m *member[T], wp vars.WaitPoint, w source.Result, serr *StepError, werr error) {
	n := len(m.ends)
	for i, x := 1, m.next; x != nil; i++ {
		next := x.next // x belongs to its caller once signalled
		x.wp, x.group, x.wait = wp, n, w
		if written(serr) {
			x.end = m.ends[i]
		}
		switch {
		case serr != nil:
			x.err = serr
		case wp == vars.AfterCommit:
			x.waitSelf = true
		default:
			x.err = werr
		}
		x.ch <- struct{}{}
		x = next
	}
	m.next = nil
}

// follow returns a follower's result once its leader has delivered it.
func (p *Pipeline[T]) follow(ctx context.Context, m *member[T]) (Result, error) {
	res := Result{Position: m.end, WaitPoint: m.wp, Wait: m.wait, Group: m.group}
	err := m.err
	if m.waitSelf {
		res.Wait, err = p.src.Wait(ctx, m.end)
	}
	p.put(m)
	return res, err
}

// put resets m, keeping its channel and buffers, and returns it to the pool.
func (p *Pipeline[T]) put(m *member[T]) {
	*m = member[T]{ch: m.ch, txs: m.txs[:0], ends: m.ends[:0]}
	p.pool.Put(m)
}

// written reports whether a group that stopped with serr (or not at all)
// is in the binlog, so that its end positions mean something.
func written(serr *StepError) bool { return serr == nil || serr.Stage > StageFlush }

// checkEnds verifies Flush's contract on the end positions.
func checkEnds(ends []semisync.Position) error {
	for i, e := range ends {
		if e.IsZero() || i > 0 && e.Compare(ends[i-1]) <= 0 {
			return fmt.Errorf("%w: %v", ErrBadEnds, ends)
		}
	}
	return nil
}

// panicked describes the value a step panicked with (nil: it exited the
// goroutine).
func panicked(r any) error {
	if r == nil {
		return fmt.Errorf("%w (or exited its goroutine)", ErrPanicked)
	}
	return fmt.Errorf("%w: %v", ErrPanicked, r)
}

// detached is the leader's context without its cancellation, as
// context.WithoutCancel makes it, but kept in the leader's pooled member so
// that a group allocates nothing. Its Done channel is nil, so the context
// package never links a derived context to the parent's cancellation.
type detached struct{ parent context.Context }

// Deadline reports no deadline.
func (*detached) Deadline() (time.Time, bool) { return time.Time{}, false }

// Done returns nil: the context never ends.
func (*detached) Done() <-chan struct{} { return nil }

// Err returns nil.
func (*detached) Err() error { return nil }

// Value returns the leader's context's value for key.
func (d *detached) Value(key any) any { return d.parent.Value(key) }
