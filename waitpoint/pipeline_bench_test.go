package waitpoint_test

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
	"github.com/semisync-go/semisync/vars"
	"github.com/semisync-go/semisync/waitpoint"
)

// The benchmarks run in real time against a Source that is enabled and ON,
// with one replica session and a one-hour timeout, so no wait times out. An
// acker goroutine plays the replica: it acknowledges the highest position
// Sync has made readable, as soon as it sees it (spinning, yielding with
// runtime.Gosched while there is nothing new).

// memSteps is an in-memory binlog and engine that only numbers the
// transactions (LSN positions) and publishes each group's end in Sync. It
// allocates nothing. syncCost, if set, makes Sync spin that long, standing
// in for an fsync (spinning rather than sleeping, whose granularity would
// dominate).
type memSteps struct {
	syncCost time.Duration
	last     uint64 // written by Flush, which the flush stage serialises
	groups   atomic.Int64
	synced   atomic.Uint64
}

func (s *memSteps) Flush(_ context.Context, txs []int, ends []semisync.Position) error {
	for i := range txs {
		s.last++
		ends[i] = semisync.LSN(s.last)
	}
	s.groups.Add(1)
	return nil
}

func (s *memSteps) Sync(_ context.Context, end semisync.Position) error {
	if s.syncCost > 0 {
		for start := time.Now(); time.Since(start) < s.syncCost; {
		}
	}
	s.synced.Store(end.Offset())
	return nil
}

func (*memSteps) Commit(context.Context, []int) error { return nil }

// benchRig is a source with its replica, the steps, and the acker.
type benchRig struct {
	src   *source.Source
	steps *memSteps
	stop  atomic.Bool
	done  chan struct{}
}

func newBenchRig(b *testing.B, wp vars.WaitPoint, syncCost time.Duration) *benchRig {
	b.Helper()
	src, err := source.New(source.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = src.Close() })
	if err := src.Vars().Exec(fmt.Sprintf("SET GLOBAL rpl_semi_sync_source_enabled = ON, "+
		"rpl_semi_sync_source_timeout = 60000, rpl_semi_sync_source_wait_point = %s", wp)); err != nil {
		b.Fatal(err)
	}
	sess, err := src.Register(1, semisync.Position{})
	if err != nil {
		b.Fatal(err)
	}
	r := &benchRig{src: src, steps: &memSteps{syncCost: syncCost}, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		var acked uint64
		for !r.stop.Load() {
			if s := r.steps.synced.Load(); s > acked {
				acked = s
				sess.Ack(semisync.LSN(s))
			} else {
				runtime.Gosched()
			}
		}
	}()
	return r
}

func (r *benchRig) close() {
	r.stop.Store(true)
	<-r.done
}

// direct is the baseline: the same steps and source calls in the same
// order, one transaction at a time under a mutex, without a pipeline (so
// without group commit). Under AFTER_SYNC the mutex covers the wait, since
// engine commits must stay in binlog order.
type direct struct {
	r  *benchRig
	wp vars.WaitPoint
	mu sync.Mutex
}

func (d *direct) commit(ctx context.Context, tx int) (source.Result, error) {
	var txs [1]int
	var ends [1]semisync.Position
	txs[0] = tx
	d.mu.Lock()
	_ = d.r.steps.Flush(ctx, txs[:], ends[:])
	end := ends[0]
	if err := d.r.src.Flushed(end); err != nil {
		d.mu.Unlock()
		return source.Result{}, err
	}
	_ = d.r.steps.Sync(ctx, end)
	var res source.Result
	var err error
	if d.wp == vars.AfterSync {
		res, err = d.r.src.Wait(ctx, end)
	}
	_ = d.r.steps.Commit(ctx, txs[:])
	d.mu.Unlock()
	if d.wp == vars.AfterCommit {
		res, err = d.r.src.Wait(ctx, end)
	}
	return res, err
}

// runCommits makes total commits from g goroutines with commit and returns
// how long they took. It fails the benchmark if a commit was not
// acknowledged.
func runCommits(b *testing.B, g, total int, commit func(context.Context, int) (source.Result, error)) time.Duration {
	b.Helper()
	var claimed, failed atomic.Int64
	var wg sync.WaitGroup
	ctx := context.Background()
	start := time.Now()
	for range g {
		wg.Go(func() {
			for claimed.Add(1) <= int64(total) {
				if res, err := commit(ctx, 1); err != nil || res.Outcome != source.Acknowledged {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d commits not acknowledged", n)
	}
	return elapsed
}

// BenchmarkPipeline measures commits through a Pipeline from G concurrent
// committers, with a free Sync and with one that costs 20µs: ns/op is wall
// time per commit, commits/s the throughput, txs/group the average group
// size. x-vs-direct is the pipeline's time divided by the direct
// baseline's (see direct) for as many commits in the same benchmark
// function: below 1 the pipeline is faster.
//
// The commits are split between goroutines, so this benchmark uses b.N
// (the total number of commits) rather than b.Loop.
func BenchmarkPipeline(b *testing.B) {
	for _, g := range []int{1, 64} {
		for _, cost := range []time.Duration{0, 20 * time.Microsecond} {
			for _, wp := range []vars.WaitPoint{vars.AfterSync, vars.AfterCommit} {
				b.Run(fmt.Sprintf("G=%d/sync=%s/%s", g, cost, wp), func(b *testing.B) {
					benchPipeline(b, g, cost, wp)
				})
			}
		}
	}
}

// benchPipeline runs one case: the direct baseline for b.N commits, then
// the pipeline for b.N commits, timed.
func benchPipeline(b *testing.B, g int, cost time.Duration, wp vars.WaitPoint) {
	base := newBenchRig(b, wp, cost)
	d := &direct{r: base, wp: wp}
	baseline := runCommits(b, g, b.N, d.commit)
	base.close()

	r := newBenchRig(b, wp, cost)
	defer r.close()
	p, err := waitpoint.New(r.src, r.steps, waitpoint.Options{})
	if err != nil {
		b.Fatal(err)
	}
	commit := func(ctx context.Context, tx int) (source.Result, error) {
		res, err := p.Commit(ctx, tx)
		return res.Wait, err
	}
	b.ReportAllocs()
	b.ResetTimer()
	runCommits(b, g, b.N, commit)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "commits/s")
	b.ReportMetric(float64(b.N)/float64(max(r.steps.groups.Load(), 1)), "txs/group")
	b.ReportMetric(float64(b.Elapsed())/float64(max(baseline, 1)), "x-vs-direct")
}
