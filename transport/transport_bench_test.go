package transport_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/examples/binlog"
	"github.com/semisync-go/semisync/replica"
	"github.com/semisync-go/semisync/source"
	"github.com/semisync-go/semisync/transport"
	"github.com/semisync-go/semisync/vars"
	"github.com/semisync-go/semisync/waitpoint"
)

// The benchmarks run a real source, a Server on loopback TCP, a binlog of
// 64-byte events in a ring (so the harness allocates nothing, and the
// allocation figures are the library's end to end) and one in-process
// replica that acknowledges after writing and flushing each batch to
// memory. Each reports a ratio against a baseline measured in the
// same run on the same machine:
//
//   - BenchmarkCommitLatency: the p50 of one commit (append, Flushed,
//     publish, Wait until the replica's ACK) against the p50 of a raw
//     16-byte TCP echo round trip (x-vs-echo; the target is ≤ 1.3);
//   - BenchmarkCommitThroughput: commits per second with G committers,
//     against a minimal pipeline with none of the library's bookkeeping
//     (x-vs-raw, a throughput ratio: above 1 is faster than raw).

// benchRelay is a relay log in memory that keeps only the last batch.
type benchRelay struct {
	buf  []byte
	last semisync.Position
}

func (r *benchRelay) Write(ev []byte, end semisync.Position) error {
	r.buf = append(r.buf, ev...)
	r.last = end
	return nil
}

func (r *benchRelay) Flush() error { r.buf = r.buf[:0]; return nil }

// benchRing is a binlog of fixed-size events in a ring, so that a long
// benchmark allocates nothing for the binlog and the allocation figures are
// the library's. Its cursors must not fall a whole ring behind (the
// committers wait for ACKs, so they cannot).
type benchRing struct {
	mu      sync.Mutex
	n       uint64 // events appended
	visible uint64 // events published
	waiters []chan struct{}
}

const benchRingSize = 1 << 14

func (r *benchRing) end(i uint64) semisync.Position {
	return semisync.FilePos("binlog.000001", binlog.FirstOffset+i*uint64(len(benchEvent)))
}

func (r *benchRing) Head() semisync.Position {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.end(r.n)
}

func (r *benchRing) Append([]byte) semisync.Position {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n++
	return r.end(r.n)
}

func (r *benchRing) Publish() {
	r.mu.Lock()
	r.visible = r.n
	ws := r.waiters
	r.mu.Unlock()
	for _, w := range ws {
		select {
		case w <- struct{}{}:
		default:
		}
	}
}

func (r *benchRing) Open(start semisync.Position) (transport.Cursor, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := &benchCursor{r: r, next: (start.Offset()-binlog.FirstOffset)/uint64(len(benchEvent)) + 1, wake: make(chan struct{}, 1)}
	r.waiters = append(r.waiters[:len(r.waiters):len(r.waiters)], c.wake)
	return c, nil
}

type benchCursor struct {
	r    *benchRing
	next uint64
	wake chan struct{}
}

func (c *benchCursor) Next() (transport.Event, bool, error) {
	c.r.mu.Lock()
	defer c.r.mu.Unlock()
	if c.next > c.r.visible {
		return transport.Event{}, false, nil
	}
	if c.r.n-c.next >= benchRingSize {
		return transport.Event{}, false, fmt.Errorf("bench ring: cursor fell behind")
	}
	ev := transport.Event{Data: benchEvent, End: c.r.end(c.next)}
	c.next++
	return ev, true, nil
}

func (c *benchCursor) Wait() <-chan struct{} { return c.wake }

func (c *benchCursor) Close() error { return nil }

// benchCluster is a source with one replica over loopback TCP.
type benchCluster struct {
	src    *source.Source
	bl     *benchRing
	srv    *transport.Server
	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex // the binlog's write order
}

func newBenchCluster(b *testing.B) *benchCluster {
	b.Helper()
	reg, err := vars.NewRegistry(semisync.FlavorMySQL)
	if err != nil {
		b.Fatal(err)
	}
	if err := reg.Exec("SET GLOBAL rpl_semi_sync_source_enabled = ON, rpl_semi_sync_source_timeout = 60000"); err != nil {
		b.Fatal(err)
	}
	joined := make(chan struct{}, 1)
	src, err := source.New(source.Options{Vars: reg, Observer: source.ObserverFunc(func(e source.Event) {
		if e.Kind == source.EventReplicaJoined {
			joined <- struct{}{}
		}
	})})
	if err != nil {
		b.Fatal(err)
	}
	c := &benchCluster{src: src, bl: &benchRing{}, done: make(chan struct{})}
	if err := src.Appended(c.bl.Head()); err != nil {
		b.Fatal(err)
	}
	if c.srv, err = transport.NewServer(src, c.bl, transport.ServerOptions{}); err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go c.srv.Serve(ln)

	rreg, _ := vars.NewRegistry(semisync.FlavorMySQL)
	if err := rreg.Exec("SET GLOBAL rpl_semi_sync_replica_enabled = ON"); err != nil {
		b.Fatal(err)
	}
	rep, err := replica.New(replica.Options{Vars: rreg})
	if err != nil {
		b.Fatal(err)
	}
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	go func() {
		defer close(c.done)
		transport.Replicate(ctx, conn, transport.ReplicaConfig{Replica: rep, ID: 2, Start: c.bl.Head(), RelayLog: &benchRelay{}})
	}()
	select {
	case <-joined:
	case <-time.After(time.Minute):
		b.Fatal("the replica did not join within a minute")
	}
	return c
}

func (c *benchCluster) close() {
	c.cancel()
	<-c.done
	c.srv.Close()
	c.src.Close()
}

var benchEvent = make([]byte, 64)

// commit writes one event and waits for it, in MySQL's order.
func (c *benchCluster) commit(ctx context.Context) (source.Outcome, error) {
	c.mu.Lock()
	end := c.bl.Append(benchEvent)
	err := c.src.Flushed(end)
	c.bl.Publish()
	c.mu.Unlock()
	if err != nil {
		return 0, err
	}
	res, err := c.src.Wait(ctx, end)
	return res.Outcome, err
}

// echoLatency measures n round trips of 16 bytes to an echo goroutine over
// loopback TCP and returns their median and 99th percentile.
func echoLatency(b *testing.B, n int) (p50, p99 time.Duration) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		var buf [16]byte
		for {
			if _, err := io.ReadFull(c, buf[:]); err != nil {
				return
			}
			if _, err := c.Write(buf[:]); err != nil {
				return
			}
		}
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	lat := make([]time.Duration, n)
	var buf [16]byte
	for i := range lat {
		t0 := time.Now()
		if _, err := c.Write(buf[:]); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(c, buf[:]); err != nil {
			b.Fatal(err)
		}
		lat[i] = time.Since(t0)
	}
	return percentile(lat, 0.5), percentile(lat, 0.99)
}

func percentile(d []time.Duration, q float64) time.Duration {
	slices.Sort(d)
	return d[int(q*float64(len(d)-1))]
}

func BenchmarkCommitLatency(b *testing.B) {
	c := newBenchCluster(b)
	defer c.close()
	ctx := context.Background()
	for range 1000 { // warm up
		c.commit(ctx)
	}
	lat := make([]time.Duration, 0, 1<<20)
	b.ReportAllocs()
	for b.Loop() {
		t0 := time.Now()
		out, err := c.commit(ctx)
		lat = append(lat, time.Since(t0))
		if err != nil || out != source.Acknowledged {
			b.Fatalf("commit: %v %v", out, err)
		}
	}
	b.StopTimer()
	n := max(len(lat), 2000)
	echo, echo99 := echoLatency(b, n)
	p50, p99 := percentile(lat, 0.5), percentile(lat, 0.99)
	b.ReportMetric(float64(p50.Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(p99.Nanoseconds()), "p99-ns")
	b.ReportMetric(float64(echo.Nanoseconds()), "echo-p50-ns")
	b.ReportMetric(float64(echo99.Nanoseconds()), "echo-p99-ns")
	b.ReportMetric(float64(p50)/float64(echo), "x-vs-echo")
}

// benchSteps are the host's steps for a waitpoint.Pipeline over the
// in-memory binlog: Flush appends, Sync publishes.
type benchSteps struct{ bl *benchRing }

func (s benchSteps) Flush(_ context.Context, txs []int, ends []semisync.Position) error {
	for i := range txs {
		ends[i] = s.bl.Append(benchEvent)
	}
	return nil
}

func (s benchSteps) Sync(context.Context, semisync.Position) error { s.bl.Publish(); return nil }

func (benchSteps) Commit(context.Context, []int) error { return nil }

func BenchmarkCommitThroughput(b *testing.B) {
	for _, mode := range []string{"direct", "waitpoint"} {
		for _, g := range []int{1, 64, 512} {
			b.Run(fmt.Sprintf("%s/G=%d", mode, g), func(b *testing.B) { benchThroughput(b, mode, g) })
		}
	}
}

// benchThroughput runs b.N commits on g goroutines. "direct": each commit
// is its own group (append, Flushed, publish under the binlog mutex, then
// Wait); "waitpoint": commits go through a waitpoint.Pipeline, which
// groups them (AFTER_SYNC: one Flushed and one wait per group).
func benchThroughput(b *testing.B, mode string, g int) {
	c := newBenchCluster(b)
	ctx := context.Background()
	commit := func() {
		if out, err := c.commit(ctx); err != nil || out != source.Acknowledged {
			b.Errorf("commit: %v %v", out, err)
		}
	}
	if mode == "waitpoint" {
		p, err := waitpoint.New[int](c.src, benchSteps{c.bl}, waitpoint.Options{})
		if err != nil {
			b.Fatal(err)
		}
		commit = func() {
			if res, err := p.Commit(ctx, 0); err != nil || res.Wait.Outcome != source.Acknowledged {
				b.Errorf("commit: %v %v", res.Wait, err)
			}
		}
	}
	b.ReportAllocs()
	lib := runCommitters(b, g, commit)
	b.StopTimer()
	st := c.srv.Stats()
	b.ReportMetric(float64(st.Probes), "probes")
	c.close()
	raw := newRawPipeline(b)
	rawRate := measureRate(g, max(b.N, 20000), raw.commit)
	raw.close()
	b.ReportMetric(lib, "commits/s")
	b.ReportMetric(rawRate, "raw-commits/s")
	b.ReportMetric(lib/rawRate, "x-vs-raw")
}

// runCommitters runs b.N commits on g goroutines under the benchmark's
// timer and returns commits per second.
func runCommitters(b *testing.B, g int, commit func()) float64 {
	b.ResetTimer()
	return measureRate(g, b.N, commit)
}

// measureRate runs n commits on g goroutines and returns commits per
// second.
func measureRate(g, n int, commit func()) float64 {
	t0 := time.Now()
	var left atomic.Int64
	left.Store(int64(n))
	var wg sync.WaitGroup
	for range g {
		wg.Go(func() {
			for left.Add(-1) >= 0 {
				commit()
			}
		})
	}
	wg.Wait()
	return float64(n) / time.Since(t0).Seconds()
}

// rawPipeline is the baseline: the least a semisync pipeline over TCP must
// do, with none of MySQL's bookkeeping. Committers take the next position;
// a sender writes every new event (64 bytes and its 8-byte position) to a
// replica goroutine, which answers each read with the highest position in
// it (a coalesced
// ACK); an ACK reader releases the waiters at or below it, each through its
// own channel.
type rawPipeline struct {
	mu      sync.Mutex
	head    uint64
	sentTo  uint64
	waiters []rawWaiter
	kick    chan struct{}
	conns   []net.Conn
	wg      sync.WaitGroup
	pool    sync.Pool
}

type rawWaiter struct {
	pos uint64
	ch  chan struct{}
}

func newRawPipeline(b *testing.B) *rawPipeline {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	src, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	rep := <-accepted
	if rep == nil {
		b.Fatal("accept failed")
	}
	p := &rawPipeline{kick: make(chan struct{}, 1), conns: []net.Conn{src, rep}}
	p.pool.New = func() any { return make(chan struct{}, 1) }
	p.wg.Add(3)
	go p.send(src)
	go p.replica(rep)
	go p.readAcks(src)
	return p
}

func (p *rawPipeline) close() {
	for _, c := range p.conns {
		c.Close()
	}
	close(p.kick)
	p.wg.Wait()
}

func (p *rawPipeline) commit() {
	p.mu.Lock()
	p.head++
	pos := p.head
	ch := p.pool.Get().(chan struct{})
	p.waiters = append(p.waiters, rawWaiter{pos, ch})
	p.mu.Unlock()
	select {
	case p.kick <- struct{}{}:
	default:
	}
	<-ch // the ACK reader sends one token when an ACK covers pos
	p.pool.Put(ch)
}

func (p *rawPipeline) send(c net.Conn) {
	defer p.wg.Done()
	var buf []byte
	for range p.kick {
		p.mu.Lock()
		from, to := p.sentTo, p.head
		p.sentTo = to
		p.mu.Unlock()
		buf = buf[:0]
		for q := from + 1; q <= to; q++ {
			buf = append(buf, benchEvent...)
			buf = binary.LittleEndian.AppendUint64(buf, q)
		}
		if len(buf) > 0 {
			if _, err := c.Write(buf); err != nil {
				return
			}
		}
	}
}

func (p *rawPipeline) replica(c net.Conn) {
	defer p.wg.Done()
	buf := make([]byte, 64<<10)
	have := 0
	var ack [8]byte
	for {
		n, err := c.Read(buf[have:])
		if err != nil {
			return
		}
		have += n
		const rec = 64 + 8 // an event and its position
		whole := have / rec * rec
		if whole == 0 {
			continue
		}
		copy(ack[:], buf[whole-8:whole])
		have = copy(buf, buf[whole:have])
		if _, err := c.Write(ack[:]); err != nil {
			return
		}
	}
}

func (p *rawPipeline) readAcks(c net.Conn) {
	defer p.wg.Done()
	var ack [8]byte
	var ready []rawWaiter
	for {
		if _, err := io.ReadFull(c, ack[:]); err != nil {
			return
		}
		pos := binary.LittleEndian.Uint64(ack[:])
		p.mu.Lock()
		i := 0
		for i < len(p.waiters) && p.waiters[i].pos <= pos {
			i++
		}
		ready = append(ready[:0], p.waiters[:i]...)
		p.waiters = append(p.waiters[:0], p.waiters[i:]...)
		p.mu.Unlock()
		for _, w := range ready {
			w.ch <- struct{}{}
		}
	}
}
