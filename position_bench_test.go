package semisync_test

import (
	"testing"
	"time"

	"github.com/semisync-go/semisync"
)

var sinkInt int

// BenchmarkPositionCompare measures Compare within one binlog file (the
// steady state), across files (rotation) and across a digit rollover.
// x-vs-uint64 divides by the time of comparing two bare uint64 offsets,
// measured in the same run.
func BenchmarkPositionCompare(b *testing.B) {
	cases := []struct {
		name string
		a, c semisync.Position
	}{
		{"same-file", semisync.FilePos("binlog.000001", 1000), semisync.FilePos("binlog.000001", 2000)},
		{"next-file", semisync.FilePos("binlog.000001", 1000), semisync.FilePos("binlog.000002", 4)},
		{"rollover", semisync.FilePos("binlog.999999", 1000), semisync.FilePos("binlog.1000000", 4)},
		{"lsn", semisync.LSN(1000), semisync.LSN(2000)},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			ps := [2]semisync.Position{tc.a, tc.c}
			n := 0
			for b.Loop() {
				sinkInt += ps[n&1].Compare(ps[(n+1)&1])
				n++
			}
			b.StopTimer()
			offs := [2]uint64{tc.a.Offset(), tc.c.Offset()}
			start := time.Now()
			for i := range n {
				x, y := offs[i&1], offs[(i+1)&1]
				if x < y {
					sinkInt--
				} else if x > y {
					sinkInt++
				}
			}
			base := time.Since(start)
			b.ReportMetric(float64(b.Elapsed())/float64(max(base, 1)), "x-vs-uint64")
		})
	}
}
