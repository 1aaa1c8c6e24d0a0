package transport_test

import (
	"bytes"
	"context"
	"net"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/replica"
	"github.com/semisync-go/semisync/source"
	"github.com/semisync-go/semisync/transport"
	"github.com/semisync-go/semisync/vars"
	"github.com/semisync-go/semisync/wire"
)

// BenchmarkFlood measures what a flood of hostile connections costs a
// healthy replica: a source with one healthy semisync replica over
// loopback TCP and floodCommitters committers; acknowledged commits per
// second in a window during which floodHostiles connections open and stay
// open, against quiet windows before and after it in the same run
// (flood-vs-quiet, the target is ≥ 0.8; the quiet windows on both sides
// take out a drift of the machine's load). Each hostile uses a forged ID, one in a hundred the
// healthy replica's own, and either sends only its hello
// ("hello-only": it then holds a handshake until HandshakeTimeout) or its
// hello and a response without credentials at once ("full": without
// authentication it becomes a replica). The hostile clients run in the
// benchmark's process, so their sockets count in its RSS and their dialing
// takes its CPU.
//
// Configurations: "secret" is the recommended setup (a shared secret,
// default limits); "limits-only" has the default limits and no
// authentication. The flood's window lasts floodWindow and each quiet one
// half of it, whatever b.N is; run with -benchtime=1x and -count for a
// spread. The healthy replica reconnects
// whenever its connection ends, as a host's would.
func BenchmarkFlood(b *testing.B) {
	for _, auth := range []string{"secret", "limits-only"} {
		for _, hostile := range []string{"hello-only", "full"} {
			b.Run(auth+"/"+hostile, func(b *testing.B) { benchFlood(b, auth == "secret", hostile == "full") })
		}
	}
}

const (
	floodHostiles   = 2000
	floodCommitters = 8
	floodWindow     = 3 * time.Second
	floodDialers    = 8 // goroutines that open the hostile connections
)

// floodCluster is a source with one healthy replica that reconnects.
type floodCluster struct {
	*benchCluster
	addr       string
	reconnects atomic.Int64
}

func newFloodCluster(b *testing.B, secret []byte) *floodCluster {
	b.Helper()
	reg, err := vars.NewRegistry(semisync.FlavorMySQL)
	if err != nil {
		b.Fatal(err)
	}
	if err := reg.Exec("SET GLOBAL rpl_semi_sync_source_enabled = ON, rpl_semi_sync_source_timeout = 3600000"); err != nil {
		b.Fatal(err)
	}
	joined := make(chan struct{}, 1)
	src, err := source.New(source.Options{Vars: reg, Observer: source.ObserverFunc(func(e source.Event) {
		if e.Kind == source.EventReplicaJoined && e.Replica == 2 {
			select {
			case joined <- struct{}{}:
			default:
			}
		}
	})})
	if err != nil {
		b.Fatal(err)
	}
	c := &floodCluster{benchCluster: &benchCluster{src: src, bl: &benchRing{}, done: make(chan struct{})}}
	if err := src.Appended(c.bl.Head()); err != nil { // the binlog's end, before serving replicas
		b.Fatal(err)
	}
	if c.srv, err = transport.NewServer(src, c.bl, transport.ServerOptions{Secret: secret}); err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	c.addr = ln.Addr().String()
	go c.srv.Serve(ln)

	rreg, _ := vars.NewRegistry(semisync.FlavorMySQL)
	if err := rreg.Exec("SET GLOBAL rpl_semi_sync_replica_enabled = ON"); err != nil {
		b.Fatal(err)
	}
	rep, err := replica.New(replica.Options{Vars: rreg})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	go func() {
		defer close(c.done)
		start := c.bl.Head()
		for first := true; ctx.Err() == nil; first = false {
			if !first {
				c.reconnects.Add(1)
				t := time.NewTimer(10 * time.Millisecond)
				select {
				case <-t.C:
				case <-ctx.Done():
					t.Stop()
					return
				}
			}
			conn, err := net.Dial("tcp", c.addr)
			if err != nil {
				continue
			}
			res, _ := transport.Replicate(ctx, conn, transport.ReplicaConfig{
				Replica: rep, ID: 2, Start: start, RelayLog: &benchRelay{}, Secret: secret})
			start = res.Durable
		}
	}()
	select {
	case <-joined:
	case <-time.After(time.Minute):
		c.close()
		b.Fatalf("the healthy replica did not join within a minute: %+v", c.srv.Stats())
	}
	return c
}

// window runs committers for d and returns acknowledged commits per
// second and the median and 99th percentile of their latency.
func (c *floodCluster) window(d time.Duration) (rate float64, p50, p99 time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	lats := make([][]time.Duration, floodCommitters)
	var wg sync.WaitGroup
	t0 := time.Now()
	for g := range floodCommitters {
		wg.Go(func() {
			for ctx.Err() == nil {
				s := time.Now()
				out, err := c.commit(ctx)
				if err == nil && out == source.Acknowledged {
					lats[g] = append(lats[g], time.Since(s))
				}
			}
		})
	}
	wg.Wait()
	all := slices.Concat(lats...)
	if len(all) == 0 {
		return 0, d, d
	}
	return float64(len(all)) / time.Since(t0).Seconds(), percentile(all, 0.5), percentile(all, 0.99)
}

// rssMiB is the process's resident set in MiB, from /proc/self/status.
func rssMiB() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range bytes.Lines(data) {
		if rest, ok := bytes.CutPrefix(line, []byte("VmRSS:")); ok {
			kb, _ := strconv.Atoi(string(bytes.Fields(rest)[0]))
			return float64(kb) / 1024
		}
	}
	return 0
}

// ensureFiles raises the soft limit on open files to n if it is lower, or
// skips the benchmark when the hard limit does not allow it.
func ensureFiles(b *testing.B, n uint64) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		b.Skipf("cannot read the open-file limit: %v", err)
	}
	if lim.Cur >= n {
		return
	}
	if lim.Max < n {
		b.Skipf("the flood needs %d open files in this process; the hard limit is %d (ulimit -Hn)", n, lim.Max)
	}
	lim.Cur = n
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		b.Skipf("cannot raise the open-file limit to %d: %v", n, err)
	}
}

// flood opens floodHostiles hostile connections and returns them, open.
func flood(addr string, full bool, head semisync.Position) []net.Conn {
	conns := make([]net.Conn, floodHostiles)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range floodDialers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= floodHostiles {
					return
				}
				c, err := net.Dial("tcp", addr)
				if err != nil {
					continue
				}
				conns[i] = c
				id := semisync.ReplicaID(1000 + i)
				if i%100 == 0 {
					id = 2 // the healthy replica's
				}
				out, _ := wire.AppendPacket(nil, 0, transport.AppendHello(nil, i%2 == 0, id, head))
				if full {
					out, _ = wire.AppendPacket(out, 0, transport.AppendResponse(nil, [transport.NonceLen]byte{}, nil, nil))
				}
				c.SetWriteDeadline(time.Now().Add(time.Second))
				c.Write(out) // a refused connection may be closed already
			}
		})
	}
	wg.Wait()
	return conns
}

func benchFlood(b *testing.B, withSecret, full bool) {
	ensureFiles(b, 2*floodHostiles+1024)
	var secret []byte
	if withSecret {
		secret = []byte("0123456789abcdef0123456789abcdef")
	}
	c := newFloodCluster(b, secret)
	defer c.close()
	c.window(200 * time.Millisecond) // warm up
	b.ResetTimer()

	before, quiet50, quiet99 := c.window(floodWindow / 2)
	runtime.GC()
	rss0, g0 := rssMiB(), runtime.NumGoroutine()

	// The flood opens while the committers run; a sampler keeps the
	// largest RSS and goroutine count seen.
	var conns []net.Conn
	var setup time.Duration
	flooded := make(chan struct{})
	go func() {
		defer close(flooded)
		t0 := time.Now()
		conns = flood(c.addr, full, c.bl.Head())
		setup = time.Since(t0)
	}()
	stopSampling := make(chan struct{})
	sampled := make(chan [2]float64, 1)
	go func() {
		var maxRSS, maxG float64
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			maxRSS, maxG = max(maxRSS, rssMiB()), max(maxG, float64(runtime.NumGoroutine()))
			select {
			case <-tick.C:
			case <-stopSampling:
				sampled <- [2]float64{maxRSS, maxG}
				return
			}
		}
	}()
	during, during50, during99 := c.window(floodWindow)
	close(stopSampling)
	peak := <-sampled
	<-flooded
	b.StopTimer()
	st := c.srv.Stats()
	for _, conn := range conns {
		if conn != nil {
			conn.Close()
		}
	}
	// Quiet again once the server has let go of every hostile and the
	// healthy replica is back.
	for deadline := time.Now().Add(time.Minute); ; {
		now := c.srv.Stats()
		if now.Active == 1 && now.Handshaking == 0 && c.src.State().Clients == 1 {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("the server still serves %d connections a minute after the flood: %+v", now.Active, now)
		}
		time.Sleep(10 * time.Millisecond) // polling a server that drains on its own
	}
	b.StartTimer()
	after, _, _ := c.window(floodWindow / 2)
	b.StopTimer()
	quiet := (before + after) / 2

	b.ReportMetric(quiet, "quiet-commits/s")
	b.ReportMetric(after/before, "after-vs-before")
	b.ReportMetric(during, "flood-commits/s")
	b.ReportMetric(during/quiet, "flood-vs-quiet")
	b.ReportMetric(float64(quiet50.Microseconds()), "quiet-p50-µs")
	b.ReportMetric(float64(quiet99.Microseconds()), "quiet-p99-µs")
	b.ReportMetric(float64(during50.Microseconds()), "flood-p50-µs")
	b.ReportMetric(float64(during99.Microseconds()), "flood-p99-µs")
	b.ReportMetric(peak[0]-rss0, "rss-growth-MiB")
	b.ReportMetric(peak[1]-float64(g0), "goroutine-growth")
	b.ReportMetric(float64(setup.Milliseconds()), "flood-setup-ms")
	b.ReportMetric(float64(st.RefusedConnections+st.RefusedHandshakes), "refused-at-once")
	b.ReportMetric(float64(st.BadProofs), "bad-proofs")
	b.ReportMetric(float64(st.Connections), "accepted")
	b.ReportMetric(float64(st.Superseded), "takeovers")
	b.ReportMetric(float64(c.reconnects.Load()), "healthy-reconnects")
	if testing.Verbose() {
		b.Logf("stats after the flood window: %+v", st)
	}
}
