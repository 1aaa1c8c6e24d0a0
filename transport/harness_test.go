package transport_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/examples/binlog"
	"github.com/semisync-go/semisync/replica"
	"github.com/semisync-go/semisync/source"
	"github.com/semisync-go/semisync/transport"
	"github.com/semisync-go/semisync/vars"
	"github.com/semisync-go/semisync/wire"
)

// This file is the tests' harness: the two networks every scenario runs
// over, a rig (source, binlog, server), replicas driven by Replicate, a
// relay log that can be held, and hand-made replicas and sources that speak
// the protocol byte by byte. Nothing here sleeps: tests wait for the
// source's Observer events, for OnError calls, for commit outcomes and for
// what reaches the relay log, through unbounded queues.

// failAfter bounds every wait, so that a hang fails with a message rather
// than at the test binary's timeout. In a synctest bubble it is fake time,
// which only passes while every goroutine of the bubble is blocked.
const failAfter = 30 * time.Second

// longTimeout is the rpl_semi_sync_source_timeout of commits that must be
// acknowledged: so long that no machine is slow enough to reach it, and no
// longer than a minute, the bound of every wait in a test.
const longTimeout = time.Minute

// network is how a test reaches a server: loopback TCP in real time, or
// net.Pipe inside a synctest bubble, where the source's timeouts, the
// server's heartbeats and every connection deadline run on the bubble's
// fake clock.
type network struct {
	pipe bool
}

// netKind is one of the networks, with how to run a test body on it: the
// TCP variant checks afterwards that the goroutine count is back to where
// it was; the pipe variant runs in a synctest bubble, and synctest.Test
// itself fails when a goroutine of the bubble outlives the body.
type netKind struct {
	name string
	run  func(t *testing.T, body func(*testing.T, *network))
}

var netKinds = []netKind{
	{"tcp", func(t *testing.T, body func(*testing.T, *network)) {
		base := runtime.NumGoroutine()
		t.Cleanup(func() { requireGoroutines(t, base) })
		body(t, &network{})
	}},
	{"pipe", func(t *testing.T, body func(*testing.T, *network)) {
		synctest.Test(t, func(t *testing.T) { body(t, &network{pipe: true}) })
	}},
}

// forEachNet runs body once over each network, as a subtest.
func forEachNet(t *testing.T, body func(t *testing.T, nw *network)) {
	for _, k := range netKinds {
		t.Run(k.name, func(t *testing.T) { k.run(t, body) })
	}
}

// pipeOnly runs body over net.Pipe in a synctest bubble: for tests that
// count heartbeats or measure deadlines, which only fake time makes exact.
func pipeOnly(t *testing.T, body func(t *testing.T, nw *network)) {
	synctest.Test(t, func(t *testing.T) { body(t, &network{pipe: true}) })
}

// requireGoroutines waits, yielding but never sleeping, until no more than
// base goroutines run, and fails with every goroutine's stack if that does
// not happen within failAfter.
func requireGoroutines(t *testing.T, base int) {
	t.Helper()
	deadline := time.Now().Add(failAfter)
	for runtime.NumGoroutine() > base {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("%d goroutines still run, %d before the test:\n%s", runtime.NumGoroutine(), base, buf)
		}
		runtime.Gosched()
	}
}

// advance moves a synctest bubble's fake clock on by d. In a bubble,
// time.Sleep returns as soon as every other goroutine is durably blocked
// and the fake clock has reached the deadline: it orders the test's steps
// on the fake clock and synchronises nothing by real time. Never call it
// outside a bubble.
func advance(d time.Duration) { time.Sleep(d) }

// queue is an unbounded FIFO that other goroutines fill and the test
// drains; a push wakes the waiting taker.
type queue[T any] struct {
	mu     sync.Mutex
	items  []T
	closed bool
	signal chan struct{}
}

func newQueue[T any]() *queue[T] { return &queue[T]{signal: make(chan struct{}, 1)} }

func (q *queue[T]) push(v T) {
	q.mu.Lock()
	q.items = append(q.items, v)
	q.mu.Unlock()
	q.wake()
}

// close says no more items will come.
func (q *queue[T]) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.wake()
}

func (q *queue[T]) wake() {
	select {
	case q.signal <- struct{}{}:
	default:
	}
}

// take removes and returns the first item that match accepts (any item
// when match is nil), waiting for one; items before it stay queued. It
// fails the test if the queue closes or failAfter passes first.
func (q *queue[T]) take(t testing.TB, what string, match func(T) bool) T {
	t.Helper()
	v, ok := q.tryTake(t, what, match)
	if !ok {
		t.Fatalf("waiting for %s: the queue closed without one", what)
	}
	return v
}

// tryTake is take that reports a queue closed without a match as false.
func (q *queue[T]) tryTake(t testing.TB, what string, match func(T) bool) (T, bool) {
	t.Helper()
	limit := time.NewTimer(failAfter)
	defer limit.Stop()
	for {
		q.mu.Lock()
		for i, v := range q.items {
			if match == nil || match(v) {
				q.items = slices.Delete(q.items, i, i+1)
				q.mu.Unlock()
				return v, true
			}
		}
		closed := q.closed
		q.mu.Unlock()
		if closed {
			var zero T
			return zero, false
		}
		select {
		case <-q.signal:
		case <-limit.C:
			t.Fatalf("waiting for %s: nothing after %v", what, failAfter)
		}
	}
}

// eventKind matches source events of kind k about replica id (any replica
// when id is 0).
func eventKind(k source.EventKind, id semisync.ReplicaID) func(source.Event) bool {
	return func(e source.Event) bool { return e.Kind == k && (id == 0 || e.Replica == id) }
}

// connEnd is one OnError call: why the server's connection with a replica
// ended.
type connEnd struct {
	id  semisync.ReplicaID
	err error
}

// rigConfig configures a rig. The source is enabled, with
// rpl_semi_sync_source_timeout longTimeout, then set runs each assignment
// as SET GLOBAL.
type rigConfig struct {
	flavor semisync.Flavor // default FlavorMySQL
	set    []string
	server transport.ServerOptions
	binlog transport.Binlog // default: the rig's Memory
	stall  time.Duration    // source.Options.StallAfter
}

// rig is one source with its binlog and transport server, reachable over
// the test's network.
type rig struct {
	nw     *network
	flavor semisync.Flavor
	src    *source.Source
	bl     *binlog.Memory
	srv    *transport.Server
	events *queue[source.Event] // the source's Observer
	ended  *queue[connEnd]      // the server's OnError
	ln     net.Listener         // TCP only
	served chan error           // what Serve returned (TCP only)

	mu      sync.Mutex
	written []binlog.RelayEvent // every event appended, in binlog order
}

// sourceVar names a source variable in flavor f: suffix "enabled" is
// rpl_semi_sync_source_enabled or rpl_semi_sync_master_enabled.
func sourceVar(f semisync.Flavor, suffix string) string {
	if f == semisync.FlavorMySQL {
		return "rpl_semi_sync_source_" + suffix
	}
	return "rpl_semi_sync_master_" + suffix
}

// replicaVar names a replica variable in flavor f.
func replicaVar(f semisync.Flavor, suffix string) string {
	if f == semisync.FlavorMySQL {
		return "rpl_semi_sync_replica_" + suffix
	}
	return "rpl_semi_sync_slave_" + suffix
}

func newRig(t *testing.T, nw *network, cfg rigConfig) *rig {
	t.Helper()
	if cfg.flavor == 0 {
		cfg.flavor = semisync.FlavorMySQL
	}
	reg, err := vars.NewRegistry(cfg.flavor)
	require.NoError(t, err)
	r := &rig{nw: nw, flavor: cfg.flavor, bl: binlog.NewMemory("binlog"),
		events: newQueue[source.Event](), ended: newQueue[connEnd]()}
	require.NoError(t, reg.Exec(fmt.Sprintf("SET GLOBAL %s = ON, %s = %d", sourceVar(cfg.flavor, "enabled"),
		sourceVar(cfg.flavor, "timeout"), longTimeout.Milliseconds())))
	for _, s := range cfg.set {
		require.NoError(t, reg.Exec("SET GLOBAL "+s))
	}
	r.src, err = source.New(source.Options{Vars: reg, Observer: source.ObserverFunc(r.events.push), StallAfter: cfg.stall})
	require.NoError(t, err)
	require.NoError(t, r.src.Appended(r.bl.Head())) // the binlog's end, before serving replicas
	// Created enabled, the source switches on at once unless
	// wait_no_replica is OFF; later switch-ons are the tests' business.
	if r.src.State().On {
		on := r.events.take(t, "the switch-on at creation", eventKind(source.EventSwitchedOn, 0))
		require.Equal(t, source.TriggerEnable, on.Trigger)
	}
	opts := cfg.server
	opts.OnError = func(id semisync.ReplicaID, err error) { r.ended.push(connEnd{id, err}) }
	log := cfg.binlog
	if log == nil {
		log = r.bl
	}
	r.srv, err = transport.NewServer(r.src, log, opts)
	require.NoError(t, err)
	if !nw.pipe {
		r.ln, err = net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		r.served = make(chan error, 1)
		go func() { r.served <- r.srv.Serve(r.ln) }()
	}
	t.Cleanup(func() {
		require.NoError(t, r.srv.Close())
		if r.served != nil {
			require.ErrorIs(t, receive(t, "Serve to return", r.served), transport.ErrServerClosed)
		}
		require.NoError(t, r.src.Close())
	})
	return r
}

// dial opens a replica connection to the server: over TCP to its
// listener, or as a net.Pipe whose other end a goroutine hands to
// ServeConn.
func (r *rig) dial(t *testing.T) net.Conn {
	t.Helper()
	if !r.nw.pipe {
		c, err := net.Dial("tcp", r.ln.Addr().String())
		require.NoError(t, err)
		return c
	}
	srvEnd, replicaEnd := net.Pipe()
	go r.srv.ServeConn(srvEnd)
	return replicaEnd
}

// setTimeout sets rpl_semi_sync_source_timeout, which applies to the waits
// that begin afterwards.
func (r *rig) setTimeout(t *testing.T, d time.Duration) {
	t.Helper()
	require.NoError(t, r.src.Vars().Exec(fmt.Sprintf("SET GLOBAL %s = %d", sourceVar(r.flavor, "timeout"), d.Milliseconds())))
}

// write does a host's part of a commit up to the wait, in the order
// source/doc.go prescribes: append the event, report the group with
// Flushed, then let the replicas see it with Publish. It records the
// event in r.written.
func (r *rig) write(data []byte) (semisync.Position, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	end := r.bl.Append(data)
	r.written = append(r.written, binlog.RelayEvent{Data: slices.Clone(data), End: end})
	if err := r.src.Flushed(end); err != nil {
		return end, err
	}
	r.bl.Publish()
	return end, nil
}

// writeGroup appends several events as one commit group: only the last
// one's end is reported with Flushed, as a host does for a group commit.
func (r *rig) writeGroup(t *testing.T, events ...[]byte) semisync.Position {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	var end semisync.Position
	for _, data := range events {
		end = r.bl.Append(data)
		r.written = append(r.written, binlog.RelayEvent{Data: slices.Clone(data), End: end})
	}
	require.NoError(t, r.src.Flushed(end))
	r.bl.Publish()
	return end
}

// requireRelayHolds requires the relay log to hold exactly the events
// written to the binlog, in order, with their bytes and end positions. It
// reports the first difference, never the events' bytes.
func (r *rig) requireRelayHolds(t *testing.T, relay *relayLog) {
	t.Helper()
	want, got := r.binlogEvents(), relay.Events()
	for i := range min(len(want), len(got)) {
		require.Equal(t, want[i].End, got[i].End, "end position of event %d", i)
		require.True(t, bytes.Equal(want[i].Data, got[i].Data), "bytes of event %d (%d bytes, want %d)", i, len(got[i].Data), len(want[i].Data))
	}
	require.Equal(t, len(want), len(got), "number of events in the relay log")
}

// binlogEvents returns every event written, in order.
func (r *rig) binlogEvents() []binlog.RelayEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.written)
}

// commit runs one commit as a host does: append, Flushed, Publish, then
// wait at the wait point with src.Wait.
func commit(t *testing.T, r *rig, data []byte) (semisync.Position, source.Result) {
	t.Helper()
	end, err := r.write(data)
	require.NoError(t, err)
	res, err := waitBounded(r.src, end)
	require.NoError(t, err)
	return end, res
}

// commitResult is the outcome of a commit run on another goroutine.
type commitResult struct {
	res source.Result
	err error
}

// startCommit writes a commit on the test's goroutine and waits for it on
// another; the result arrives on the channel.
func startCommit(t *testing.T, r *rig, data []byte) (semisync.Position, <-chan commitResult) {
	t.Helper()
	end, err := r.write(data)
	require.NoError(t, err)
	out := make(chan commitResult, 1)
	go func() {
		res, err := waitBounded(r.src, end)
		out <- commitResult{res, err}
	}()
	return end, out
}

// receive waits for a value on ch, failing the test after failAfter.
func receive[T any](t *testing.T, what string, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(failAfter):
		t.Fatalf("waiting for %s: nothing after %v", what, failAfter)
		panic("unreachable")
	}
}

// eventData is the bytes of the i-th test event: distinct and of varying
// length, so a lost, doubled or shifted event changes positions and bytes.
func eventData(i int) []byte {
	return fmt.Appendf(nil, "event %d %s", i, make([]byte, i%7))
}

// newReplica returns a replica channel whose semisync is enabled or not.
func newReplica(t *testing.T, f semisync.Flavor, enabled bool) *replica.Replica {
	t.Helper()
	reg, err := vars.NewRegistry(f)
	require.NoError(t, err)
	if enabled {
		require.NoError(t, reg.Exec("SET GLOBAL "+replicaVar(f, "enabled")+" = ON"))
	}
	rep, err := replica.New(replica.Options{Vars: reg})
	require.NoError(t, err)
	return rep
}

// relayLog is the example's in-memory relay log with test hooks: a gate
// that, while held, stops every Flush (a replica that stops acknowledging,
// as behind a stalled disk); a queue of the last durable position after
// each flush, to wait for the relay log to reach a position; and an
// optional function run after each flush on the replica's goroutine.
type relayLog struct {
	*binlog.Relay
	flushed    *queue[semisync.Position]
	onFlush    func(*relayLog)
	writeDelay time.Duration // fake time each Write takes: a slow disk (bubbles only)

	mu   sync.Mutex
	gate chan struct{} // non-nil while held
}

func newRelayLog() *relayLog {
	return &relayLog{Relay: &binlog.Relay{}, flushed: newQueue[semisync.Position]()}
}

// hold makes the next flushes wait until release.
func (l *relayLog) hold() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.gate == nil {
		l.gate = make(chan struct{})
	}
}

// release lets held flushes, and later ones, through.
func (l *relayLog) release() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.gate != nil {
		close(l.gate)
		l.gate = nil
	}
}

// Write takes writeDelay, then writes.
func (l *relayLog) Write(event []byte, end semisync.Position) error {
	if l.writeDelay > 0 {
		advance(l.writeDelay)
	}
	return l.Relay.Write(event, end)
}

// Flush waits at the gate while it is held, then flushes.
func (l *relayLog) Flush() error {
	l.mu.Lock()
	gate := l.gate
	l.mu.Unlock()
	if gate != nil {
		<-gate
	}
	if err := l.Relay.Flush(); err != nil {
		return err
	}
	l.flushed.push(l.Last())
	if l.onFlush != nil {
		l.onFlush(l)
	}
	return nil
}

// waitFor waits until a flush has made pos durable.
func (l *relayLog) waitFor(t *testing.T, pos semisync.Position) {
	t.Helper()
	l.flushed.take(t, "relay log at "+pos.String(), func(p semisync.Position) bool { return p.Compare(pos) >= 0 })
}

// replicaExit is what Replicate returned.
type replicaExit struct {
	res transport.ReplicaResult
	err error
}

// replicaRun is one Replicate call running on its own goroutine.
type replicaRun struct {
	conn   net.Conn
	cancel context.CancelFunc
	done   chan replicaExit
	exit   *replicaExit
}

// replicate runs Replicate on conn with cfg on a goroutine of its own.
// Cleanup releases the relay log's gate, cancels the call and waits for it.
func replicate(t *testing.T, conn net.Conn, cfg transport.ReplicaConfig) *replicaRun {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	run := &replicaRun{conn: conn, cancel: cancel, done: make(chan replicaExit, 1)}
	go func() {
		res, err := transport.Replicate(ctx, conn, cfg)
		run.done <- replicaExit{res, err}
	}()
	t.Cleanup(func() {
		if l, ok := cfg.RelayLog.(*relayLog); ok {
			l.release()
		}
		run.stop(t)
	})
	return run
}

// startReplica connects a replica to the rig's server and replicates from
// start into relay.
func (r *rig) startReplica(t *testing.T, id semisync.ReplicaID, rep *replica.Replica, relay *relayLog, start semisync.Position) *replicaRun {
	t.Helper()
	return replicate(t, r.dial(t), transport.ReplicaConfig{Replica: rep, ID: id, Start: start, RelayLog: relay})
}

// wait waits for Replicate to return.
func (x *replicaRun) wait(t *testing.T) replicaExit {
	t.Helper()
	if x.exit == nil {
		e := receive(t, "Replicate to return", x.done)
		x.exit = &e
	}
	return *x.exit
}

// stop cancels Replicate's context and waits for it to return.
func (x *replicaRun) stop(t *testing.T) replicaExit {
	t.Helper()
	x.cancel()
	return x.wait(t)
}

// rawPacket is one packet a hand-made replica read, decoded.
type rawPacket struct {
	seq     uint8
	flagged bool
	kind    byte
	end     semisync.Position
	data    []byte
	at      time.Time // when it was read (fake time in a bubble)
}

func (p rawPacket) heartbeat() bool { return p.kind == transport.KindHeartbeat }

// rawReplica is a hand-made replica: it sends the hello itself, then a
// goroutine reads and decodes every packet into packets. With autoAck it
// acknowledges every flagged packet at once (an instant relay log);
// otherwise it never answers unless the test sends something.
type rawReplica struct {
	conn     net.Conn
	semisync bool
	packets  *queue[rawPacket]
	done     chan struct{}
	readErr  error // why the reader stopped; set before packets closes

	wmu sync.Mutex
}

// rawOptions configure a hand-made replica.
type rawOptions struct {
	semisync bool
	autoAck  bool
}

// dialRaw connects a hand-made replica to the rig's server.
func (r *rig) dialRaw(t *testing.T, id semisync.ReplicaID, start semisync.Position, o rawOptions) *rawReplica {
	t.Helper()
	return startRaw(t, r.dial(t), id, start, o)
}

// startRaw sends the hello on conn, answers the challenge without
// credentials, requires an accept and starts the reader.
func startRaw(t *testing.T, conn net.Conn, id semisync.ReplicaID, start semisync.Position, o rawOptions) *rawReplica {
	t.Helper()
	f := &rawReplica{conn: conn, semisync: o.semisync, packets: newQueue[rawPacket](), done: make(chan struct{})}
	f.send(t, 0, transport.AppendHello(nil, o.semisync, id, start))
	br := bufio.NewReader(conn)
	pr := wire.NewPacketReader(br, 0)
	seq, p, err := pr.ReadPacket()
	require.NoError(t, err)
	require.Equal(t, uint8(1), seq, "the challenge's sequence id")
	_, _, err = transport.ParseChallenge(p)
	require.NoError(t, err)
	f.send(t, 0, transport.AppendResponse(nil, [transport.NonceLen]byte{}, nil, nil))
	seq, p, err = pr.ReadPacket()
	require.NoError(t, err)
	require.Equal(t, uint8(1), seq, "the accept's sequence id")
	granted, _, err := transport.ParseAccept(p)
	require.NoError(t, err)
	require.Equal(t, o.semisync, granted)
	go f.read(pr, o.autoAck)
	t.Cleanup(f.close)
	return f
}

// read is the hand-made replica's reader goroutine.
func (f *rawReplica) read(pr *wire.PacketReader, autoAck bool) {
	defer close(f.done)
	defer f.packets.close()
	var last semisync.Position
	for {
		seq, payload, err := pr.ReadPacket()
		if err != nil {
			f.readErr = err
			return
		}
		p := rawPacket{seq: seq, at: time.Now()}
		event := payload
		if f.semisync {
			event, p.flagged, err = wire.DecodeEvent(payload)
		} else if len(payload) == 0 || payload[0] != wire.StatusOK {
			err = fmt.Errorf("async event packet starting %x", payload[:min(len(payload), 1)])
		} else {
			event = payload[1:]
		}
		if err == nil {
			var data []byte
			p.kind, p.end, data, err = transport.ParseEnvelope(event)
			p.data = slices.Clone(data)
		}
		if err != nil {
			f.readErr = err
			return
		}
		if p.kind == transport.KindEvent {
			last = p.end
		}
		if autoAck && p.flagged {
			ack, _ := wire.AppendAck(nil, last)
			if f.write(wire.AckSeq, ack) != nil {
				return
			}
		}
		f.packets.push(p)
	}
}

// write sends one packet.
func (f *rawReplica) write(seq uint8, payload []byte) error {
	f.wmu.Lock()
	defer f.wmu.Unlock()
	buf, _ := wire.AppendPacket(nil, seq, payload)
	_, err := f.conn.Write(buf)
	return err
}

// send sends one packet and requires it to be written.
func (f *rawReplica) send(t *testing.T, seq uint8, payload []byte) {
	t.Helper()
	require.NoError(t, f.write(seq, payload))
}

// next waits for the next packet the replica read.
func (f *rawReplica) next(t *testing.T, what string) rawPacket {
	t.Helper()
	p, ok := f.packets.tryTake(t, what, nil)
	if !ok {
		// The reader set readErr before it closed the queue.
		t.Fatalf("waiting for %s: the replica stopped reading: %v", what, f.readErr)
	}
	return p
}

// close closes the connection and waits for the reader to stop.
func (f *rawReplica) close() {
	f.conn.Close()
	<-f.done
}

// fakeSource plays a hand-made source on one connection: script gets the
// server's end after the replica's hello has been read, challenged (with no
// credentials required) and the response read, and returns when it is done; the returned conn is the replica's end. Cleanup waits for the
// script, which must return once the replica closes its end.
func (nw *network) fakeSource(t *testing.T, script func(c net.Conn, hello []byte) error) net.Conn {
	t.Helper()
	var srvEnd, replicaEnd net.Conn
	accepted := make(chan net.Conn, 1)
	if nw.pipe {
		srvEnd, replicaEnd = net.Pipe()
		accepted <- srvEnd
	} else {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		go func() {
			defer ln.Close()
			c, err := ln.Accept()
			if err != nil {
				c = nil
			}
			accepted <- c
		}()
		replicaEnd, err = net.Dial("tcp", ln.Addr().String())
		require.NoError(t, err)
	}
	done := make(chan error, 1)
	go func() {
		c := <-accepted
		if c == nil {
			done <- errors.New("accept failed")
			return
		}
		defer c.Close()
		pr := wire.NewPacketReader(bufio.NewReader(c), 0)
		_, hello, err := pr.ReadPacket()
		hello = slices.Clone(hello)
		if err == nil {
			challenge, _ := wire.AppendPacket(nil, 1, transport.AppendChallenge(nil, false, [transport.NonceLen]byte{}))
			if _, err = c.Write(challenge); err == nil {
				_, _, err = pr.ReadPacket()
			}
		}
		if err == nil {
			err = script(c, hello)
		}
		done <- err
	}()
	t.Cleanup(func() {
		replicaEnd.Close()
		require.NoError(t, receive(t, "the fake source's script", done))
	})
	return replicaEnd
}

// drain reads from c until the replica closes its end: a source that
// stays silent.
func drain(c net.Conn) error {
	io.Copy(io.Discard, c)
	return nil
}
