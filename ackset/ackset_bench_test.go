package ackset_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/ackset"
)

// naiveQuorum is the baseline: on every ACK, sort all positions and pick the
// N-th highest (what the model test does, minus its maps).
type naiveQuorum struct {
	pos, scratch []semisync.Position
	n            int
	quorum       semisync.Position
}

func (q *naiveQuorum) ack(i int, p semisync.Position) {
	if p.Compare(q.pos[i]) <= 0 {
		return
	}
	q.pos[i] = p
	q.scratch = append(q.scratch[:0], q.pos...)
	slices.SortFunc(q.scratch, func(a, b semisync.Position) int { return b.Compare(a) })
	if c := q.scratch[q.n-1]; c.Compare(q.quorum) > 0 {
		q.quorum = c
	}
}

// BenchmarkAck measures one acknowledgement in steady state: replicas ack in
// turn, each a little further on, so the quorum advances about once per
// round. x-vs-sort is the time per ACK divided by the naive sort-and-pick
// baseline's, measured in the same run on the same sequence.
func BenchmarkAck(b *testing.B) {
	for _, r := range []int{1, 2, 3, 8, 64} {
		counts := []int{1, r}
		if r == 1 {
			counts = counts[:1]
		}
		for _, n := range counts {
			b.Run(fmt.Sprintf("replicas=%d/count=%d", r, n), func(b *testing.B) {
				positions := make([]semisync.Position, 1024)
				for i := range positions {
					positions[i] = semisync.FilePos("binlog.000001", uint64(4+100*i))
				}
				s, err := ackset.New(ackset.Count(n))
				if err != nil {
					b.Fatal(err)
				}
				for id := range r {
					s.Connect(semisync.ReplicaID(id+1), semisync.Position{})
				}
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					// Positions wrap around every 1024 ACKs; a wrapped one is
					// stale, so reconnect everyone at zero then (rarely).
					k := i % (len(positions) * r)
					if k == 0 && i > 0 {
						s.Reset()
					}
					s.Ack(semisync.ReplicaID(k%r+1), positions[k/r])
					i++
				}
				b.StopTimer()
				iters := min(i, 1<<20)

				// Baseline, same sequence, timed by hand with the benchmark
				// timer stopped so it does not count in ns/op or allocs.
				q := &naiveQuorum{pos: make([]semisync.Position, r), scratch: make([]semisync.Position, 0, r), n: n}
				start := time.Now()
				for i := range iters {
					k := i % (len(positions) * r)
					if k == 0 && i > 0 {
						clear(q.pos)
						q.quorum = semisync.Position{}
					}
					q.ack(k%r, positions[k/r])
				}
				naive := time.Since(start)
				perOurs := float64(b.Elapsed()) / float64(i)
				perNaive := float64(naive) / float64(iters)
				b.ReportMetric(perOurs/perNaive, "x-vs-sort")
			})
		}
	}
}
