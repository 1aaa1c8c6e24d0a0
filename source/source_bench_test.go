package source_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/source"
)

// The benchmarks run in real time (not in a synctest bubble) against a
// Source that is enabled and ON, with one registered replica session and a
// one-hour timeout, so no wait ever times out. Positions are offsets in one
// binlog file (binlog.000002), numbered 1, 2, 3, … in commit order.
//
// Every x-vs-cond metric is a time ratio, as in the other packages'
// benchmarks: the source's time per operation divided by the naive
// sync.Cond wait set's, measured in the same run on the same workload.
// Below 1 means the source is faster (0.1 = ten times faster).

const benchFile = "binlog.000002"

func benchPos(n uint64) semisync.Position { return semisync.FilePos(benchFile, n) }

// benchWaitSet is what the harness drives: the source, or the baseline.
type benchWaitSet interface {
	// flush reports that position p was written; called in position order
	// under the harness's binlog mutex.
	flush(p uint64) error
	// wait blocks until p is acknowledged and reports whether it was.
	wait(p uint64) bool
	// ack acknowledges everything up to p.
	ack(p uint64)
	// waiting returns how many waits are blocked now.
	waiting() int
	// blocked returns how many waits have blocked (rather than finding
	// their position already acknowledged).
	blocked() uint64
}

// benchCond is the naive baseline: one mutex, one sync.Cond, the
// acknowledged position; every ACK wakes every waiter, which re-checks.
type benchCond struct {
	mu      sync.Mutex
	cond    sync.Cond
	acked   uint64
	nwait   int
	waits   uint64 // waits that blocked, counted under mu
	wakeups uint64 // cond.Wait returns, counted under mu
}

func newBenchCond() *benchCond {
	c := &benchCond{}
	c.cond.L = &c.mu
	return c
}

func (c *benchCond) flush(uint64) error { return nil }

func (c *benchCond) wait(p uint64) bool {
	c.mu.Lock()
	c.nwait++
	if c.acked < p {
		c.waits++
	}
	for c.acked < p {
		c.cond.Wait()
		c.wakeups++
	}
	c.nwait--
	c.mu.Unlock()
	return true
}

func (c *benchCond) ack(p uint64) {
	c.mu.Lock()
	c.acked = max(c.acked, p)
	c.mu.Unlock()
	c.cond.Broadcast()
}

func (c *benchCond) waiting() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nwait
}

func (c *benchCond) blocked() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.waits
}

// benchSource is a Source enabled and ON with one replica session.
type benchSource struct {
	s    *source.Source
	sess *source.Session
	ctx  context.Context
}

// newBenchSource returns a source ready for commits at positions after
// benchPos(0); it is closed when the benchmark ends. If before is not zero,
// it is written before the source is enabled, so the ON stretch starts
// there (the zero Position otherwise).
func newBenchSource(b *testing.B, before semisync.Position) *benchSource {
	b.Helper()
	s, err := source.New(source.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	if !before.IsZero() {
		if err := s.Flushed(before); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.Vars().Exec("SET GLOBAL rpl_semi_sync_source_enabled = ON, rpl_semi_sync_source_timeout = 60000"); err != nil {
		b.Fatal(err)
	}
	if err := s.Appended(benchPos(0)); err != nil {
		b.Fatal(err)
	}
	sess, err := s.Register(1, benchPos(0))
	if err != nil {
		b.Fatal(err)
	}
	if st := s.State(); !st.On || st.Clients != 1 {
		b.Fatalf("source not ready: %+v", st)
	}
	return &benchSource{s: s, sess: sess, ctx: context.Background()}
}

func (x *benchSource) flush(p uint64) error { return x.s.Flushed(benchPos(p)) }

// mustFlush is flush on the benchmark's goroutine.
func (x *benchSource) mustFlush(b *testing.B, p uint64) {
	if err := x.flush(p); err != nil {
		b.Fatal(err)
	}
}

func (x *benchSource) wait(p uint64) bool {
	res, err := x.s.Wait(x.ctx, benchPos(p))
	return err == nil && res.Outcome == source.Acknowledged
}

func (x *benchSource) ack(p uint64) { x.sess.Ack(benchPos(p)) }

func (x *benchSource) waiting() int { return x.s.State().Waiting }

// blocked is tx_waits: waits woken by an acknowledgement.
func (x *benchSource) blocked() uint64 { return x.s.Snapshot().TxWaits }

// benchPipeline is the commit path and a replica's ACK path around a wait
// set. Committers take the next position under the binlog mutex, report it
// (flush) while holding it, publish it in the atomic flushed, release the
// mutex and wait. The acker spins on flushed (yielding with
// runtime.Gosched while there is nothing new), so handing a position to it
// costs one atomic store and allocates nothing.
type benchPipeline struct {
	ws      benchWaitSet
	acks    ackStyle
	binlog  sync.Mutex
	next    uint64
	flushed atomic.Uint64
	stop    atomic.Bool
	failed  atomic.Int64
	ackDone chan struct{}
}

// ackStyle is how the acker acknowledges.
type ackStyle struct {
	name string
	// coalesce: acknowledge the highest flushed position seen, not every
	// position in order.
	coalesce bool
	// rtt: a coalesced acknowledgement arrives this long after the acker
	// saw the position, as if it travelled to a replica and back (the
	// acker busy-waits, yielding); up to inflight of them travel at once,
	// one per new position seen.
	rtt      time.Duration
	inflight int
}

var (
	perPosition = ackStyle{name: "per-position"}
	coalesced   = ackStyle{name: "coalesced", coalesce: true, inflight: 1}
	// pipelinedRTT models a replica over loopback TCP (p50 round trip
	// 6.2 µs in performance-anchors.md) that acknowledges whatever it has
	// read whenever it reads: many small ACKs in flight, each covering the
	// commits flushed just before it was sent, none of those flushed after.
	pipelinedRTT = ackStyle{name: "pipelined-rtt6us", coalesce: true, rtt: 6 * time.Microsecond, inflight: 4096}
)

// inflightAck is a coalesced acknowledgement on its way back.
type inflightAck struct {
	due time.Duration // since the acker started
	pos uint64
}

// startPipeline starts the acker.
func startPipeline(ws benchWaitSet, acks ackStyle) *benchPipeline {
	pl := &benchPipeline{ws: ws, acks: acks, ackDone: make(chan struct{})}
	go pl.ackLoop()
	return pl
}

func (pl *benchPipeline) commit() {
	pl.binlog.Lock()
	pl.next++
	p := pl.next
	err := pl.ws.flush(p)
	pl.flushed.Store(p)
	pl.binlog.Unlock()
	if !pl.ws.wait(p) || err != nil {
		pl.failed.Add(1)
	}
}

func (pl *benchPipeline) ackLoop() {
	defer close(pl.ackDone)
	if pl.acks.coalesce {
		pl.ackCoalesced()
	} else {
		pl.ackEach()
	}
}

// ackEach acknowledges every flushed position, in order, as soon as it sees
// it.
func (pl *benchPipeline) ackEach() {
	var acked uint64
	for {
		f := pl.flushed.Load()
		switch {
		case f > acked:
			for acked < f {
				acked++
				pl.ws.ack(acked)
			}
		case pl.stop.Load() && pl.flushed.Load() == acked:
			return
		default:
			runtime.Gosched()
		}
	}
}

// ackCoalesced acknowledges the highest flushed position it sees, rtt after
// it saw it, with up to inflight acknowledgements on their way.
func (pl *benchPipeline) ackCoalesced() {
	ring := make([]inflightAck, pl.acks.inflight)
	var seen, acked uint64
	head, n := 0, 0
	start := time.Now()
	for {
		var now time.Duration
		if pl.acks.rtt > 0 {
			now = time.Since(start)
		}
		if f := pl.flushed.Load(); f > seen && n < len(ring) {
			ring[(head+n)%len(ring)] = inflightAck{due: now + pl.acks.rtt, pos: f}
			n++
			seen = f
		}
		switch {
		case n > 0 && ring[head].due <= now:
			acked = ring[head].pos
			head = (head + 1) % len(ring)
			n--
			pl.ws.ack(acked)
		case n == 0 && pl.stop.Load() && pl.flushed.Load() == acked:
			return
		default:
			runtime.Gosched()
		}
	}
}

// finish stops the acker once everything flushed is acknowledged and fails
// the benchmark if a commit was not acknowledged.
func (pl *benchPipeline) finish(b *testing.B) {
	b.Helper()
	pl.stop.Store(true)
	<-pl.ackDone
	if n := pl.failed.Load(); n > 0 {
		b.Fatalf("%d commits not written or not acknowledged", n)
	}
}

// runPipeline makes total commits from g goroutines and returns how long
// they took.
func runPipeline(b *testing.B, ws benchWaitSet, g, total int, acks ackStyle) time.Duration {
	b.Helper()
	pl := startPipeline(ws, acks)
	var claimed atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range g {
		wg.Go(func() {
			for claimed.Add(1) <= int64(total) {
				pl.commit()
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	pl.finish(b)
	return elapsed
}

// perOp is d per operation, in nanoseconds.
func perOp(d time.Duration, n int) float64 { return float64(d) / float64(max(n, 1)) }

// baselineIters bounds the baselines measured by hand after b.Loop.
const baselineIters = 1 << 22

// BenchmarkWaitFastPath measures Wait for a position the quorum already
// holds: the lock-free fast path (yes_tx without waiting). The baseline is
// the cond set's wait for an acknowledged position: mutex, compare, unlock.
//
// The fast path checks that the position lies in the current ON stretch,
// so its cost depends on where that stretch starts: at the zero Position
// (the source was enabled before anything was written), earlier in the
// same binlog file, or in an earlier file (a rotation since).
func BenchmarkWaitFastPath(b *testing.B) {
	for _, tc := range []struct {
		name   string
		before semisync.Position
	}{
		{"stretch=empty", semisync.Position{}},
		{"stretch=same-file", benchPos(0)},
		{"stretch=earlier-file", semisync.FilePos("binlog.000001", 4)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			x := newBenchSource(b, tc.before)
			x.mustFlush(b, 1)
			x.ack(1)
			p := benchPos(1)
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				if res, _ := x.s.Wait(x.ctx, p); res.Outcome != source.Acknowledged {
					b.Fatalf("outcome %s", res)
				}
				n++
			}
			ours := perOp(b.Elapsed(), n)

			c := newBenchCond()
			c.ack(1)
			iters := min(n, baselineIters)
			start := time.Now()
			for range iters {
				c.wait(1)
			}
			b.ReportMetric(ours/perOp(time.Since(start), iters), "x-vs-cond")
		})
	}
}

// BenchmarkWaitRelease measures one commit that blocks until it is
// released: Flushed(p), then Wait(p), while an acking goroutine acknowledges
// p as soon as it sees it (through an atomic: see benchPipeline). The wait
// may find p already acknowledged when the acker is quicker than the
// committer; the same is true of the baseline, the cond set driven by the
// same pipeline. blocked/commit and cond-blocked/commit are the shares of
// commits that did block.
func BenchmarkWaitRelease(b *testing.B) {
	x := newBenchSource(b, semisync.Position{})
	pl := startPipeline(x, perPosition)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		pl.commit()
		n++
	}
	ours := perOp(b.Elapsed(), n)
	pl.finish(b)

	c := newBenchCond()
	iters := min(n, baselineIters)
	pl = startPipeline(c, perPosition)
	start := time.Now()
	for range iters {
		pl.commit()
	}
	base := time.Since(start)
	pl.finish(b)
	b.ReportMetric(float64(x.blocked())/float64(n), "blocked/commit")
	b.ReportMetric(float64(c.blocked())/float64(iters), "cond-blocked/commit")
	b.ReportMetric(ours/perOp(base, iters), "x-vs-cond")
}

// BenchmarkCommitWait measures a commit pipeline: G committer goroutines
// share b.N commits; one acker acknowledges every position in order
// (per-position, like MySQL's one ACK per transaction) or the highest
// flushed position it sees (coalesced, like a replica that acknowledges
// the last event it has read), at once or (pipelined-rtt6us) one loopback
// round trip later, with many ACKs in flight, so that commits keep
// arriving between ACKs that each release a few of them. For impl=source, x-vs-cond compares with the cond set running the
// same pipeline for b.N commits in the same benchmark function, just before
// (so it is cond commits/s divided by source commits/s). blocked/commit is
// the share of commits that did block; for the cond set, wakeups/commit
// counts its waiters' wake-ups, spurious ones included.
//
// The work is split between goroutines, so this benchmark uses b.N (the
// total number of commits) rather than b.Loop.
func BenchmarkCommitWait(b *testing.B) {
	for _, g := range []int{1, 8, 64, 512} {
		for _, acks := range []ackStyle{perPosition, coalesced, pipelinedRTT} {
			for _, impl := range []string{"source", "cond"} {
				b.Run(fmt.Sprintf("G=%d/acks=%s/impl=%s", g, acks.name, impl), func(b *testing.B) {
					var cond time.Duration
					var ws benchWaitSet = newBenchCond()
					if impl == "source" {
						cond = runPipeline(b, ws, g, b.N, acks)
						ws = newBenchSource(b, semisync.Position{})
					}
					b.ReportAllocs()
					b.ResetTimer()
					runPipeline(b, ws, g, b.N, acks)
					b.StopTimer()
					b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "commits/s")
					b.ReportMetric(float64(ws.blocked())/float64(b.N), "blocked/commit")
					if c, ok := ws.(*benchCond); ok {
						b.ReportMetric(float64(c.wakeups)/float64(b.N), "wakeups/commit")
					}
					if cond > 0 {
						b.ReportMetric(float64(b.Elapsed())/float64(cond), "x-vs-cond")
					}
				})
			}
		}
	}
}

// spacedWaiters is a fixed set of goroutines that each wait for one
// position per round, so that rounds start no goroutine.
type spacedWaiters struct {
	ws       benchWaitSet
	start    []chan uint64
	wg       sync.WaitGroup
	returned atomic.Int64 // waits returned in this round
	base     uint64       // positions of the next round start after base
}

func newSpacedWaiters(ws benchWaitSet, n int) *spacedWaiters {
	sw := &spacedWaiters{ws: ws, start: make([]chan uint64, n)}
	for i := range sw.start {
		ch := make(chan uint64, 1)
		sw.start[i] = ch
		go func() {
			for p := range ch {
				sw.ws.wait(p)
				sw.returned.Add(1)
				sw.wg.Done()
			}
		}()
	}
	return sw
}

// round blocks one waiter on each of the next n positions, then
// acknowledges the positions one at a time, in order, each ACK releasing
// exactly one waiter. With spaced, each ACK is sent only once the waiter
// the previous one released has returned (as if ACKs arrived just slower
// than commits return); otherwise the ACKs go back to back. It returns how
// long it took from the first ACK until every waiter had returned. If clock
// is not nil, only that stretch runs on its timer (stopped on entry).
func (sw *spacedWaiters) round(b, clock *testing.B, spaced bool) time.Duration {
	n := len(sw.start)
	for i := range n {
		if err := sw.ws.flush(sw.base + uint64(i) + 1); err != nil {
			b.Fatal(err)
		}
	}
	sw.returned.Store(0)
	sw.wg.Add(n)
	for i, ch := range sw.start {
		ch <- sw.base + uint64(i) + 1
	}
	for sw.ws.waiting() < n {
		runtime.Gosched()
	}
	if clock != nil {
		clock.StartTimer()
	}
	start := time.Now()
	for i := range n {
		sw.ws.ack(sw.base + uint64(i) + 1)
		for spaced && sw.returned.Load() <= int64(i) {
			runtime.Gosched()
		}
	}
	sw.wg.Wait()
	elapsed := time.Since(start)
	if clock != nil {
		clock.StopTimer()
	}
	sw.base += uint64(n)
	if w := sw.ws.waiting(); w != 0 {
		b.Fatalf("%d waiters left", w)
	}
	return elapsed
}

func (sw *spacedWaiters) close() {
	for _, ch := range sw.start {
		close(ch)
	}
}

// spacedCondBudget bounds the time spent on the baseline's rounds (at least
// one): with spaced ACKs one round of the cond set at N=4096 takes seconds.
const spacedCondBudget = time.Second

// BenchmarkSpacedAcks measures releasing N blocked waiters (positions
// 1..N) by N ACKs, for 1, 2, …, N: each ACK frees one waiter. The source
// wakes only that waiter; the cond set wakes every remaining one, which
// re-checks and sleeps again. With spacing=released each ACK waits until
// the previous waiter has returned, so each broadcast finds the other
// waiters asleep (the case of ACKs arriving spaced); with back-to-back the
// ACKs outrun the waiters, which then mostly see a position that already
// covers them (in effect, one ACK frees all).
//
// An op is one round: ns/op is its ACK phase, from the first ACK until
// every waiter has returned (registering the waiters is not timed), so
// give -benchtime as a duration, not a count; ns/waiter divides it by N; cond-ns/waiter is the cond set's, measured in the same run, and
// cond-wakeups/waiter how often each of its waiters woke up.
func BenchmarkSpacedAcks(b *testing.B) {
	for _, n := range []int{1024, 4096} {
		for _, spacing := range []struct {
			name   string
			spaced bool
		}{{"released", true}, {"back-to-back", false}} {
			b.Run(fmt.Sprintf("waiters=%d/spacing=%s", n, spacing.name), func(b *testing.B) {
				sw := newSpacedWaiters(newBenchSource(b, semisync.Position{}), n)
				defer sw.close()
				b.ReportAllocs()
				rounds := 0
				for b.Loop() {
					b.StopTimer()
					sw.round(b, b, spacing.spaced)
					b.StartTimer()
					rounds++
				}
				ours := perOp(b.Elapsed(), rounds*n)

				c := newBenchCond()
				cw := newSpacedWaiters(c, n)
				defer cw.close()
				var base time.Duration
				condRounds := 0
				for condRounds < rounds && (condRounds == 0 || base < spacedCondBudget) {
					base += cw.round(b, nil, spacing.spaced)
					condRounds++
				}
				cond := perOp(base, condRounds*n)
				b.ReportMetric(ours, "ns/waiter")
				b.ReportMetric(cond, "cond-ns/waiter")
				b.ReportMetric(float64(c.wakeups)/float64(condRounds*n), "cond-wakeups/waiter")
				b.ReportMetric(ours/cond, "x-vs-cond")
			})
		}
	}
}

// benchBatch is how many positions the single-goroutine benchmarks flush or
// acknowledge between two untimed catch-up steps, so that the source's
// queue of un-acknowledged groups stays bounded.
const benchBatch = 4096

// BenchmarkFlushed measures reporting one commit group while ON with one
// replica and no waiters. Every benchBatch groups the replica acknowledges
// the last one, off the clock, so that the queue of groups stays bounded.
func BenchmarkFlushed(b *testing.B) {
	x := newBenchSource(b, semisync.Position{})
	b.ReportAllocs()
	var p uint64
	for b.Loop() {
		p++
		if err := x.s.Flushed(benchPos(p)); err != nil {
			b.Fatal(err)
		}
		if p%benchBatch == 0 {
			b.StopTimer()
			x.ack(p)
			b.StartTimer()
		}
	}
}

// BenchmarkReplyRequired measures the reply-required decision for an event
// about to be sent, while ON with benchBatch groups written and not yet
// acknowledged (the decision searches them), no waiters: for the event
// that ends a group (flagged) and for one inside a group (not flagged).
func BenchmarkReplyRequired(b *testing.B) {
	for _, tc := range []struct {
		name  string
		delta uint64 // subtracted from a group's end
		want  bool
	}{{"group-end", 0, true}, {"mid-group", 50, false}} {
		b.Run(tc.name, func(b *testing.B) {
			x := newBenchSource(b, semisync.Position{})
			const step = 100
			for i := uint64(1); i <= benchBatch; i++ {
				x.mustFlush(b, i*step)
			}
			ends := make([]semisync.Position, benchBatch)
			for i := range ends {
				ends[i] = benchPos(uint64(i+1)*step - tc.delta)
			}
			if got := x.sess.ReplyRequired(ends[0]); got != tc.want {
				b.Fatalf("ReplyRequired(%s) = %v, want %v", ends[0], got, tc.want)
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				x.sess.ReplyRequired(ends[i%benchBatch])
				i++
			}
		})
	}
}

// BenchmarkAck measures one acknowledgement with no waiters, while ON: one
// that advances the quorum over a written group (benchBatch groups are
// written at a time, off the clock), and a duplicate of the last one.
func BenchmarkAck(b *testing.B) {
	for _, tc := range []struct {
		name    string
		advance bool
	}{{"advance", true}, {"duplicate", false}} {
		b.Run(tc.name, func(b *testing.B) {
			x := newBenchSource(b, semisync.Position{})
			x.mustFlush(b, 1)
			x.ack(1)
			written := uint64(1)
			b.ReportAllocs()
			p := uint64(1)
			for b.Loop() {
				if !tc.advance {
					x.ack(p)
					continue
				}
				p++
				if p > written {
					b.StopTimer()
					for range benchBatch {
						written++
						x.mustFlush(b, written)
					}
					b.StartTimer()
				}
				x.ack(p)
			}
			if st := x.s.State(); st.Acknowledged != benchPos(p) {
				b.Fatalf("acknowledged %s, want %s", st.Acknowledged, benchPos(p))
			}
		})
	}
}
