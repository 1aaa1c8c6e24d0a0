package replica_test

import (
	"testing"
	"time"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/replica"
	"github.com/semisync-go/semisync/wire"
)

// benchLog is a relay log in memory that does not allocate in steady
// state: Write copies the event into a buffer that starts over when full,
// Flush marks what was written durable, Sync does nothing more.
type benchLog struct {
	buf     []byte
	flushed int
}

func newBenchLog() *benchLog { return &benchLog{buf: make([]byte, 0, 1<<20)} }

func (l *benchLog) Write(event []byte, _ semisync.Position) error {
	if len(l.buf)+len(event) > cap(l.buf) {
		l.buf, l.flushed = l.buf[:0], 0
	}
	l.buf = append(l.buf, event...)
	return nil
}

func (l *benchLog) Flush() error { l.flushed = len(l.buf); return nil }
func (l *benchLog) Sync() error  { return nil }

// benchAcks counts the ACKs and keeps a copy of the last one, as a sender
// that writes it to a connection would read it.
type benchAcks struct {
	n    int
	last [wire.MaxAckLen]byte
}

func (a *benchAcks) SendAck(_ semisync.Position, payload []byte) error {
	a.n++
	copy(a.last[:], payload)
	return nil
}

const benchFile = "binlog.000001"

// benchStream is a semisync stream on a benchLog, fed 100-byte events.
type benchStream struct {
	s       *replica.Stream
	acks    *benchAcks
	flagged []byte // the payload of a flagged event packet
	plain   []byte // the payload of an unflagged one
	off     uint64
}

func newBenchStream(tb testing.TB) *benchStream {
	r, err := replica.New(replica.Options{Flavor: semisync.FlavorMySQL, Durability: replica.Synced})
	if err != nil {
		tb.Fatal(err)
	}
	if err := r.Vars().Exec("SET GLOBAL rpl_semi_sync_replica_enabled = ON"); err != nil {
		tb.Fatal(err)
	}
	acks := new(benchAcks)
	s, err := r.Open(semisync.FilePos(benchFile, 4), newBenchLog(), acks)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Close)
	s.SetNegotiated(true)
	ev := make([]byte, 100)
	return &benchStream{s: s, acks: acks, off: 4,
		flagged: wire.AppendEvent(nil, true, ev), plain: wire.AppendEvent(nil, false, ev)}
}

// event unwraps and queues one event packet, as a host does per packet.
func (x *benchStream) event(tb testing.TB, payload []byte) {
	ev, reply, err := x.s.Unwrap(payload)
	if err != nil {
		tb.Fatal(err)
	}
	x.off += uint64(len(ev))
	if err := x.s.Queue(ev, semisync.FilePos(benchFile, x.off), reply); err != nil {
		tb.Fatal(err)
	}
}

func (x *benchStream) flush(tb testing.TB) {
	if err := x.s.Flush(); err != nil {
		tb.Fatal(err)
	}
}

// one is the work per flagged event when each is flushed and acknowledged
// on its own: Unwrap, Queue, Flush (relay-log flush, sync, one ACK).
func (x *benchStream) one(tb testing.TB) {
	x.event(tb, x.flagged)
	x.flush(tb)
}

// batch is a batch of 64 events, the last flagged (as a source flags the
// last event of a commit group), then one Flush and one ACK; or, with
// flushEach, a Flush after every event, as a host that does not wait for
// the packets already buffered would do.
func (x *benchStream) batch(tb testing.TB, flushEach bool) {
	for i := range batchLen {
		p := x.plain
		if i == batchLen-1 {
			p = x.flagged
		}
		x.event(tb, p)
		if flushEach || i == batchLen-1 {
			x.flush(tb)
		}
	}
}

const batchLen = 64

// BenchmarkFlaggedEvent measures one flagged 100-byte event received,
// written, flushed, synced and acknowledged: the replica's cost per event
// when events arrive one at a time. It must not allocate.
func BenchmarkFlaggedEvent(b *testing.B) {
	x := newBenchStream(b)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		x.one(b)
		n++
	}
	if x.acks.n != n {
		b.Fatalf("%d ACKs for %d flagged events", x.acks.n, n)
	}
}

// BenchmarkBatch measures 64 events that arrived together, one Flush and
// one ACK for them; ns/event is the time per event. x-vs-per-event-flush
// compares it with the same packets each flushed on its own (MySQL's
// replica flushes the relay log per event, spec §9.2). The relay log here
// is memory, whose Flush and Sync cost nothing: with a file, the saved
// flushes and fsyncs dominate and the gain is far larger.
func BenchmarkBatch(b *testing.B) {
	x := newBenchStream(b)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		x.batch(b, false)
		n++
	}
	if x.acks.n != n {
		b.Fatalf("%d ACKs for %d batches", x.acks.n, n)
	}
	ours := float64(b.Elapsed().Nanoseconds()) / float64(n*batchLen)
	b.ReportMetric(ours, "ns/event")

	base := newBenchStream(b)
	iters := min(n, 2000)
	start := time.Now()
	for range iters {
		base.batch(b, true)
	}
	baseline := float64(time.Since(start).Nanoseconds()) / float64(iters*batchLen)
	b.ReportMetric(ours/baseline, "x-vs-per-event-flush")
}
