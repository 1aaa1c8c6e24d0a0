package semisynctest_test

import (
	"slices"
	"testing"
	"time"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/ackset"
	"github.com/semisync-go/semisync/semisynctest"
	"github.com/semisync-go/semisync/source"
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

// Commit latency by quorum policy, for 32 replicas across 3 zones (the
// source in zone a; 1 ms one way within a zone, 30 ms across), no faults:
// 500 commits 2 ms apart, p50 and p99 of the acknowledged ones in
// simulated milliseconds, so a user can choose a policy before deploying.
func BenchmarkPolicyLatency(b *testing.B) {
	const replicas = 32
	zone := func(i int) string { return string(rune('a' + i%3)) }
	groups := map[semisync.ReplicaID]string{}
	var order, inB []semisync.ReplicaID
	for i := range replicas {
		id := semisync.ReplicaID(i + 1)
		groups[id] = zone(i)
		order = append(order, id)
		if zone(i) == "b" {
			inB = append(inB, id)
		}
	}
	for _, tc := range []struct {
		name   string
		policy ackset.Policy
	}{
		{"count-1", ackset.Count(1)},
		{"count-2", ackset.Count(2)},
		{"count-16", ackset.Count(16)},
		{"any-2-of-zone-b", ackset.AnyOf(2, inB...)},
		{"first-2", ackset.FirstOf(2, order...)},
		{"2-spanning-2-zones", ackset.Spread(2, 2, groups)},
		{"3-spanning-3-zones", ackset.Spread(3, 3, groups)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			p := tc.policy
			cfg := semisynctest.Config{Replicas: replicas, Policy: &p, Heal: time.Second, Links: func(i int) semisynctest.Net {
				d := time.Millisecond
				if zone(i) != "a" {
					d = 30 * time.Millisecond
				}
				return semisynctest.Net{Delay: d, Jitter: d / 10}
			}}
			var sc semisynctest.Schedule
			for range 500 {
				sc = append(sc, semisynctest.Step{Op: semisynctest.Commit}, semisynctest.Step{Op: semisynctest.Advance, D: 2 * time.Millisecond})
			}
			var lat []time.Duration
			for i := range b.N {
				h, err := semisynctest.Run(cfg, uint64(i), sc)
				if err != nil {
					b.Fatal(err)
				}
				if err := h.Check(); err != nil {
					b.Fatal(err)
				}
				lat = lat[:0]
				for _, c := range h.Commits[:500] {
					if c.Outcome == source.Acknowledged {
						lat = append(lat, c.Ended-c.Began)
					}
				}
			}
			if len(lat) == 0 {
				b.Fatal("no commit acknowledged")
			}
			slices.Sort(lat) // the last run's: every run is the same schedule
			ms := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))]) / float64(time.Millisecond) }
			b.ReportMetric(ms(0.5), "p50-sim-ms")
			b.ReportMetric(ms(0.99), "p99-sim-ms")
			b.ReportMetric(float64(len(lat)), "acked-of-500")
		})
	}
}
