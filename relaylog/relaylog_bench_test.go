package relaylog_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/relaylog"
)

// benchEvents are the events the benchmarks write: a 31-byte XID with its
// CRC32, as a MySQL source sends one per transaction, and a 200-byte event
// standing for a small row event.
var benchEvents = []struct {
	name  string
	event []byte
}{
	{"xid-31B", event("xid", 31)},
	{"rows-200B", event("rows", 200)},
}

// openBenchRelay opens a relay log file in a fresh directory.
func openBenchRelay(b *testing.B) *relaylog.File {
	b.Helper()
	r, _, err := relaylog.Open(filepath.Join(b.TempDir(), "relay"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { r.Close() })
	return r
}

// BenchmarkWrite measures Write+Flush of one event: the cost of handing an
// event to the operating system, without fsync.
func BenchmarkWrite(b *testing.B) {
	for _, be := range benchEvents {
		b.Run(be.name, func(b *testing.B) {
			r := openBenchRelay(b)
			b.SetBytes(int64(len(be.event)))
			b.ReportAllocs()
			off := uint64(4)
			for b.Loop() {
				off += uint64(len(be.event))
				if err := r.Write(be.event, semisync.FilePos(firstBinlog, off)); err != nil {
					b.Fatal(err)
				}
				if err := r.Flush(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkFlushSync measures Write+Flush+Sync of one event: what a
// replica with replica.Synced durability pays before each ACK (the Sync
// includes the sync mark's write after the fsync). x-vs-raw-fsync is its
// time per event divided by that of a plain os.File Write+Sync of the same
// event, measured in the same loop, one raw event after each relay log
// event with the timer stopped, so that both see the same load: the relay
// log's own overhead on top of the fsync.
func BenchmarkFlushSync(b *testing.B) {
	for _, be := range benchEvents {
		b.Run(be.name, func(b *testing.B) {
			r := openBenchRelay(b)
			raw, err := os.Create(filepath.Join(b.TempDir(), "raw"))
			if err != nil {
				b.Fatal(err)
			}
			defer raw.Close()
			b.ReportAllocs()
			off, n := uint64(4), 0
			var rawTime time.Duration
			for b.Loop() {
				off += uint64(len(be.event))
				if err := r.Write(be.event, semisync.FilePos(firstBinlog, off)); err != nil {
					b.Fatal(err)
				}
				if err := r.Flush(); err != nil {
					b.Fatal(err)
				}
				if err := r.Sync(); err != nil {
					b.Fatal(err)
				}
				n++
				b.StopTimer()
				start := time.Now()
				if _, err := raw.Write(be.event); err != nil {
					b.Fatal(err)
				}
				if err := raw.Sync(); err != nil {
					b.Fatal(err)
				}
				rawTime += time.Since(start)
				b.StartTimer()
			}
			b.StopTimer()
			b.ReportMetric(float64(r.Stats().Syncs)/float64(n), "fsyncs/op")
			b.ReportMetric(float64(b.Elapsed())/float64(max(rawTime, 1)), "x-vs-raw-fsync")
		})
	}
}

// BenchmarkFollow measures a Follower reading a file of fsynced records
// from the start to the end, as a source serving a replica that catches
// up reads its binlog: ns/record, and x-vs-read, its time divided by that
// of reading the same bytes with plain 64 KiB ReadAt calls (no parsing,
// no checksums), measured in the same loop, one after the other, so that
// both see the same load and the same page cache.
func BenchmarkFollow(b *testing.B) {
	const records = 20000
	for _, be := range benchEvents {
		b.Run(be.name, func(b *testing.B) {
			r := openBenchRelay(b)
			off := uint64(4)
			for range records {
				off += uint64(len(be.event))
				if err := r.Write(be.event, semisync.FilePos(firstBinlog, off)); err != nil {
					b.Fatal(err)
				}
			}
			if err := r.Flush(); err != nil {
				b.Fatal(err)
			}
			if err := r.Sync(); err != nil {
				b.Fatal(err)
			}
			raw, err := os.Open(r.Path())
			if err != nil {
				b.Fatal(err)
			}
			defer raw.Close()
			size := r.Stats().Bytes
			buf := make([]byte, 64<<10)
			b.ReportAllocs()
			var rawTime time.Duration
			for b.Loop() {
				fl, err := r.Follow(semisync.Position{})
				if err != nil {
					b.Fatal(err)
				}
				n := 0
				for {
					_, ok, err := fl.Next()
					if err != nil {
						b.Fatal(err)
					}
					if !ok {
						break
					}
					n++
				}
				fl.Close()
				if n != records {
					b.Fatalf("%d records, want %d", n, records)
				}
				b.StopTimer()
				start := time.Now()
				for at := int64(0); at < size; at += int64(len(buf)) {
					if _, err := raw.ReadAt(buf[:min(int64(len(buf)), size-at)], at); err != nil {
						b.Fatal(err)
					}
				}
				rawTime += time.Since(start)
				b.StartTimer()
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed())/float64(b.N*records), "ns/record")
			b.ReportMetric(float64(b.Elapsed())/float64(max(rawTime, 1)), "x-vs-read")
		})
	}
}
