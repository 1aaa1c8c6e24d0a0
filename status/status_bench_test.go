package status_test

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/status"
)

// The baselines: what recording one counter costs without this package's
// consistency machinery.
type lockedCounter struct {
	mu sync.Mutex
	n  uint64
}

func atomicLoop(c *atomic.Uint64, n int) {
	for range n {
		c.Add(1)
	}
}

func mutexLoop(c *lockedCounter, n int) {
	for range n {
		c.mu.Lock()
		c.n++
		c.mu.Unlock()
	}
}

// wallPerOp runs loop for n operations split over par goroutines and returns
// the wall-clock nanoseconds per operation, as b.RunParallel reports them.
func wallPerOp(par, n int, loop func(int)) float64 {
	n = max(n, par)
	var wg sync.WaitGroup
	start := time.Now()
	for range par {
		wg.Go(func() { loop(n / par) })
	}
	wg.Wait()
	return float64(time.Since(start).Nanoseconds()) / float64(n/par*par)
}

// reportRatios measures both baselines with par goroutines and reports how
// many times slower than each the benchmarked operation was.
func reportRatios(b *testing.B, par int) {
	ours := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	n := min(b.N, 5_000_000) // enough for a stable baseline, bounded run time
	var a atomic.Uint64
	var m lockedCounter
	atomicNs := wallPerOp(par, n, func(k int) { atomicLoop(&a, k) })
	mutexNs := wallPerOp(par, n, func(k int) { mutexLoop(&m, k) })
	b.ReportMetric(ours/atomicNs, "x-vs-atomic")
	b.ReportMetric(ours/mutexNs, "x-vs-mutex")
}

func BenchmarkSourceAdd(b *testing.B) {
	b.ReportAllocs()
	var s status.Source
	for b.Loop() {
		s.Add(status.YesTx, 1)
	}
	reportRatios(b, 1)
}

func BenchmarkSourceAddGauge(b *testing.B) {
	b.ReportAllocs()
	var s status.Source
	for b.Loop() {
		s.Add(status.WaitSessions, 1)
		s.Add(status.WaitSessions, -1) // the CAS path
	}
	reportRatios(b, 1)
}

// BenchmarkSourceBatchPair records the TxWaits/TxWaitTime pair as one
// update, the common multi-counter case.
func BenchmarkSourceBatchPair(b *testing.B) {
	b.ReportAllocs()
	var s status.Source
	for b.Loop() {
		s.RecordTxWait(150 * time.Microsecond)
	}
	reportRatios(b, 1)
}

// BenchmarkSourceAddParallel measures Add under contention from many more
// goroutines than processors, as with many committing sessions; b.Loop
// cannot drive parallel benchmarks, so it uses RunParallel, and the
// baselines run with as many goroutines.
func BenchmarkSourceAddParallel(b *testing.B) {
	const perProc = 16
	b.ReportAllocs()
	b.SetParallelism(perProc)
	var s status.Source
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			s.Add(status.YesTx, 1)
		}
	})
	reportRatios(b, perProc*runtime.GOMAXPROCS(0))
}

func BenchmarkHistogramRecord(b *testing.B) {
	b.ReportAllocs()
	var h status.Histogram
	h.Record(time.Hour) // steady state: a new maximum (one more CAS) is rare
	d := 150 * time.Microsecond
	for b.Loop() {
		h.Record(d)
		d += 7
	}
	reportRatios(b, 1)
}

func BenchmarkLedgerRecordAck(b *testing.B) {
	b.ReportAllocs()
	var l status.Ledger
	e := l.Join(1, semisync.FilePos("binlog.000001", 4), time.Unix(1, 0))
	now := time.Unix(2, 0)
	off := uint64(4)
	for b.Loop() {
		off += 100
		e.RecordAck(semisync.FilePos("binlog.000001", off), now)
	}
	reportRatios(b, 1)
}

func BenchmarkSourceSnapshotInto(b *testing.B) {
	b.ReportAllocs()
	var s status.Source
	for id := range semisync.ReplicaID(4) {
		s.Replicas.Join(id, semisync.FilePos("binlog.000001", 4), time.Unix(1, 0))
	}
	s.Replicas.SetHead(semisync.FilePos("binlog.000001", 1000))
	var snap status.SourceSnapshot
	for b.Loop() {
		s.SnapshotInto(&snap)
	}
}

func BenchmarkShow(b *testing.B) {
	b.ReportAllocs()
	var s status.Source
	snap := s.Snapshot()
	for b.Loop() {
		_ = status.Show(semisync.FlavorMySQL, "Rpl_semi_sync%", &snap, nil)
	}
}
