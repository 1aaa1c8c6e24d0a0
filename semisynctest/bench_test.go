package semisynctest_test

import (
	"testing"
	"time"

	"github.com/semisync-go/semisync/semisynctest"
)

// Schedules of 100 commits among 3 replicas with faults (a crash, a
// restart, a partition and a heal, time passing), each run to the end of
// its healing and checked by every checker: schedules/s on one core.
func BenchmarkSchedule(b *testing.B) {
	cfg := semisynctest.Config{Disk: semisynctest.Disk{Torn: true, SyncFail: 0.01}, Heal: time.Second}
	var sc semisynctest.Schedule
	for i := range 100 {
		sc = append(sc, semisynctest.Step{Op: semisynctest.Commit})
		switch i % 25 {
		case 5:
			sc = append(sc, semisynctest.Step{Op: semisynctest.Crash, Replica: i % 3})
		case 10:
			sc = append(sc, semisynctest.Step{Op: semisynctest.Advance, D: 20 * time.Millisecond})
		case 15:
			sc = append(sc, semisynctest.Step{Op: semisynctest.Restart, Replica: (i - 10) % 3}, semisynctest.Step{Op: semisynctest.Partition, Replica: (i + 1) % 3})
		case 20:
			sc = append(sc, semisynctest.Step{Op: semisynctest.Heal, Replica: (i - 4) % 3})
		default:
			sc = append(sc, semisynctest.Step{Op: semisynctest.Advance, D: time.Millisecond})
		}
	}
	b.ReportAllocs()
	start := time.Now()
	for i := range b.N {
		h, err := semisynctest.Run(cfg, uint64(i), sc)
		if err != nil {
			b.Fatal(err)
		}
		if err := h.Check(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "schedules/s")
}
