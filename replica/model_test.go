package replica_test

// A reference model of one Stream, driven side by side with the real one by
// random action sequences (rapid, with shrinking): events queued with or
// without the reply flag, heartbeats, flushes, failures injected into the
// next relay-log write, flush or sync or the next ACK, events arriving out
// of order, and Close, in both durabilities and on semisync and
// asynchronous connections of every flavor.
//
// Two kinds of check run after every action:
//
//   - exact: the model predicts the calls the stream makes to the relay log
//     and the ACK sender (in order, with their positions and whether the
//     injected failure hit them), its error, its counters (Stats, Status,
//     OnAckError) and its durable position;
//   - invariants, checked on the whole recorded call log without the model,
//     as the spec states them (§9.2, B5):
//     1. every SendAck at position p other than the start comes after a
//     successful Write of p, followed by a successful Flush and, with
//     Synced, a successful Sync, all before the SendAck;
//     2. every SendAck position is one the stream owed: the end of an event
//     queued with the flag on a semisync connection, or the position
//     written when a heartbeat asked for a reply;
//     3. SendAck positions never go backwards, and a SendAck repeats the
//     previous one's position only if a heartbeat asked for a reply in
//     between (a heartbeat re-acknowledges what was already acknowledged:
//     that is how a source solicits a lost ACK). Failed SendAck calls
//     count as attempts: an ACK is never retried;
//     4. after a Flush that returned nil, every owed position has been
//     attempted: the last SendAck is at or after it (it may have failed:
//     MySQL does not retry a lost ACK, the source times out instead);
//     5. an asynchronous stream never calls SendAck, and a Flushed stream
//     never calls Sync.

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/replica"
	"github.com/semisync-go/semisync/status"
	"github.com/semisync-go/semisync/wire"
)

// ---------------------------------------------------------------------------
// The reference model.

// mdl restates the package documentation: what a stream writes, makes
// durable and owes.
type mdl struct {
	semisync, synced, closed bool

	written, durable semisync.Position
	dirty            bool              // written since the last durable flush
	owe              bool              // an ACK is owed, for pending
	pending          semisync.Position // the highest owed position
	acked            semisync.Position

	events, acksSent, ackFailures uint64
	failedAcks                    []semisync.Position // OnAckError's positions
	armed                         map[op]bool         // failures injected, not yet hit
	published                     replica.StreamStats // what Stats shows
}

// mdlCall is one call the model predicts, in the form recorded calls are
// compared in.
type mdlCall struct {
	op     op
	pos    semisync.Position // Write and SendAck only
	failed bool
}

func newModel(semisyncConn, synced bool, start semisync.Position) *mdl {
	m := &mdl{semisync: semisyncConn, synced: synced, written: start, durable: start, acked: start, armed: map[op]bool{}}
	m.publish()
	return m
}

func (m *mdl) publish() {
	m.published = replica.StreamStats{Semisync: m.semisync, Events: m.events, Written: m.written,
		Durable: m.durable, Acked: m.acked, AcksSent: m.acksSent, AckFailures: m.ackFailures}
}

// call predicts one call and reports whether the injected failure hits it.
func (m *mdl) call(calls *[]mdlCall, o op, p semisync.Position) (failed bool) {
	failed = m.armed[o]
	delete(m.armed, o)
	*calls = append(*calls, mdlCall{op: o, pos: p, failed: failed})
	return failed
}

// queue predicts Queue(end, reply): the calls and whether it fails.
func (m *mdl) queue(end semisync.Position, reply bool) (calls []mdlCall, fails bool) {
	if m.closed || end.Less(m.written) {
		return nil, true
	}
	if m.call(&calls, opWrite, end) {
		return calls, true
	}
	m.written, m.dirty = end, true
	m.events++
	if reply && m.semisync {
		m.pending, m.owe = end, true
	}
	return calls, false
}

// heartbeat predicts Heartbeat(reply): it owes the written position.
func (m *mdl) heartbeat(reply bool) (owes bool) {
	if !reply || !m.semisync || m.closed {
		return false
	}
	m.pending, m.owe = semisync.Max(m.pending, m.written), true
	return true
}

// flush predicts Flush.
func (m *mdl) flush() (calls []mdlCall, fails bool) {
	if m.closed {
		return nil, true
	}
	if m.dirty {
		if m.call(&calls, opFlush, semisync.Position{}) {
			return calls, true
		}
		if m.synced && m.call(&calls, opSync, semisync.Position{}) {
			return calls, true
		}
		m.durable, m.dirty = m.written, false
	}
	if m.owe {
		m.owe = false
		if m.call(&calls, opAck, m.pending) {
			m.ackFailures++
			m.failedAcks = append(m.failedAcks, m.pending)
		} else {
			m.acksSent++
			m.acked = semisync.Max(m.acked, m.pending)
		}
	}
	m.publish()
	return calls, false
}

func (m *mdl) close() {
	if !m.closed {
		m.closed = true
		m.publish()
	}
}

// ---------------------------------------------------------------------------
// The harness: the real stream, the model and the journal the invariants
// need besides the call log.

type harness struct {
	t       *rapid.T
	e       env
	m       *mdl
	start   semisync.Position
	synced  bool
	last    semisync.Position // the last position offered to Queue
	fileIdx uint64

	// owed maps every position the stream came to owe an ACK for to the
	// index in the call log at which it did; heartbeats lists the call-log
	// indexes at which a heartbeat asked for a reply.
	owed       map[semisync.Position]int
	heartbeats []int
}

// action is one kind of step with its weight in the random choice.
type action struct {
	name   string
	weight int
	run    func(h *harness)
}

var actions = []action{
	{"queue", 12, (*harness).queue},
	{"heartbeat", 4, (*harness).heartbeat},
	{"flush", 8, (*harness).flush},
	{"inject", 4, (*harness).inject},
	{"backwards", 2, (*harness).backwards},
	{"close", 1, (*harness).close},
}

// weighted lists each action's index weight times, for SampledFrom.
var weighted = func() []int {
	var w []int
	for i, a := range actions {
		for range a.weight {
			w = append(w, i)
		}
	}
	return w
}()

func TestModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		h := newHarness(t)
		steps := rapid.IntRange(1, 120).Draw(t, "steps")
		for range steps {
			a := actions[rapid.SampledFrom(weighted).Draw(t, "action")]
			n := len(h.e.rec.calls)
			a.run(h)
			h.checkCounters()
			h.checkLog(n)
		}
		h.close()
		h.checkCounters()
	})
}

func newHarness(t *rapid.T) *harness {
	f := rapid.SampledFrom(semisync.Flavors[:]).Draw(t, "flavor")
	d := rapid.SampledFrom([]replica.Durability{replica.Flushed, replica.Synced}).Draw(t, "durability")
	enabled := rapid.Bool().Draw(t, "enabled")
	agreed := rapid.Bool().Draw(t, "source has semisync")
	negotiate := rapid.Bool().Draw(t, "negotiate (else a transport's handshake)")
	start := semisync.FilePos("binlog.000001", rapid.Uint64Range(4, 1000).Draw(t, "start"))

	var errs []ackError
	r, err := replica.New(replica.Options{Flavor: f, Durability: d,
		OnAckError: func(p semisync.Position, err error) { errs = append(errs, ackError{p, err}) }})
	require.NoError(t, err)
	setEnabled(t, r, enabled)
	rec := newRecorder()
	s, err := r.Open(start, fakeLog{rec}, fakeAcks{rec})
	require.NoError(t, err)
	require.Equal(t, enabled, r.Status().Status)
	if negotiate {
		q := sourceWithout()
		if agreed {
			q = sourceWith(f)
		}
		n, err := s.Negotiate(context.Background(), q)
		require.NoError(t, err)
		require.Equal(t, enabled && agreed, n.Semisync)
		require.Equal(t, enabled, len(q.stmts) > 0, "only an enabled stream negotiates")
	} else {
		s.SetNegotiated(agreed)
	}
	require.Equal(t, enabled && agreed, s.Semisync())
	return &harness{t: t, e: env{r: r, s: s, rec: rec, ackErrs: &errs}, m: newModel(enabled && agreed, d == replica.Synced, start),
		start: start, synced: d == replica.Synced, last: start, fileIdx: 1, owed: map[semisync.Position]int{}}
}

// next draws a position after the last one offered, sometimes in the next
// binlog file.
func (h *harness) next() semisync.Position {
	delta := rapid.Uint64Range(1, 500).Draw(h.t, "delta")
	if rapid.IntRange(0, 9).Draw(h.t, "rotate?") == 0 {
		h.fileIdx++
		h.last = semisync.FilePos(fileName(h.fileIdx), 4+delta)
	} else {
		h.last = semisync.FilePos(h.last.File(), h.last.Offset()+delta)
	}
	return h.last
}

func fileName(i uint64) string { return fmt.Sprintf("binlog.%06d", i) }

// expectCalls compares the calls made since index n with the model's.
func (h *harness) expectCalls(n int, want []mdlCall) {
	got := []mdlCall{}
	for _, c := range h.e.rec.calls[n:] {
		mc := mdlCall{op: c.op, failed: c.err != nil}
		if c.op == opWrite || c.op == opAck {
			mc.pos = c.pos
		}
		got = append(got, mc)
	}
	if want == nil {
		want = []mdlCall{}
	}
	require.Equal(h.t, want, got, "calls")
}

// expectErr checks an error against the model's prediction.
func (h *harness) expectErr(err error, fails bool) {
	switch {
	case !fails:
		require.NoError(h.t, err)
	case h.m.closed:
		require.ErrorIs(h.t, err, replica.ErrClosed)
	default:
		require.Error(h.t, err)
	}
}

func (h *harness) queue() {
	s, m := h.e.s, h.m
	flagged := rapid.Bool().Draw(h.t, "flagged")
	ev := rapid.SliceOfN(rapid.Byte(), 0, 6).Draw(h.t, "event")
	if rapid.Bool().Draw(h.t, "starts like a header?") {
		ev = append([]byte{wire.Magic, wire.FlagReplyRequired}, ev...)
	}
	end := h.next()
	got, reply, err := s.Unwrap(packet(m.semisync, flagged, ev))
	if m.closed {
		require.ErrorIs(h.t, err, replica.ErrClosed)
		got, reply = ev, flagged
	} else {
		require.NoError(h.t, err)
		require.Equal(h.t, ev, got)
		require.Equal(h.t, flagged && m.semisync, reply)
		if !m.semisync && rapid.Bool().Draw(h.t, "host passes the flag anyway") {
			reply = flagged // must be ignored on an asynchronous stream
		}
	}
	n := len(h.e.rec.calls)
	want, fails := m.queue(end, reply)
	err = s.Queue(got, end, reply)
	h.expectErr(err, fails)
	if fails && !m.closed {
		require.ErrorIs(h.t, err, errInjected)
	}
	h.expectCalls(n, want)
	if len(want) > 0 {
		require.Equal(h.t, ev, h.e.rec.calls[n].data, "the event written, header removed")
	}
	if !fails && reply && m.semisync {
		h.owed[end] = n
	}
}

func (h *harness) backwards() {
	w := h.m.written
	var p semisync.Position
	if w.Offset() > 0 && rapid.Bool().Draw(h.t, "same file?") {
		p = semisync.FilePos(w.File(), rapid.Uint64Range(0, w.Offset()-1).Draw(h.t, "offset"))
	} else {
		p = semisync.FilePos("binlog.000000", rapid.Uint64Range(0, 1<<40).Draw(h.t, "offset"))
	}
	n := len(h.e.rec.calls)
	want, fails := h.m.queue(p, true)
	require.True(h.t, fails)
	h.expectErr(h.e.s.Queue([]byte{1}, p, true), fails)
	h.expectCalls(n, want)
}

func (h *harness) heartbeat() {
	reply := rapid.Bool().Draw(h.t, "reply")
	n := len(h.e.rec.calls)
	h.e.s.Heartbeat(reply)
	if h.m.heartbeat(reply) {
		h.heartbeats = append(h.heartbeats, n)
		if _, ok := h.owed[h.m.written]; !ok {
			h.owed[h.m.written] = n
		}
	}
	h.expectCalls(n, nil)
}

func (h *harness) flush() {
	n := len(h.e.rec.calls)
	want, fails := h.m.flush()
	err := h.e.s.Flush()
	h.expectErr(err, fails)
	if fails && !h.m.closed {
		require.ErrorIs(h.t, err, errInjected)
	}
	h.expectCalls(n, want)
	if err == nil {
		// Invariant 4: nothing owed is left unattempted.
		last, ok := h.lastAck()
		for p := range h.owed {
			require.True(h.t, ok && !last.Less(p), "owed %v not acknowledged after a successful Flush", p)
		}
	}
}

func (h *harness) inject() {
	o := rapid.SampledFrom([]op{opWrite, opFlush, opSync, opAck}).Draw(h.t, "fail")
	h.e.rec.failNext(o, errInjected)
	h.m.armed[o] = true
}

func (h *harness) close() {
	h.e.s.Close()
	h.m.close()
}

// lastAck returns the position of the last SendAck call.
func (h *harness) lastAck() (semisync.Position, bool) {
	for i := len(h.e.rec.calls) - 1; i >= 0; i-- {
		if c := h.e.rec.calls[i]; c.op == opAck {
			return c.pos, true
		}
	}
	return semisync.Position{}, false
}

// checkCounters compares every figure the stream and the replica expose
// with the model's.
func (h *harness) checkCounters() {
	m := h.m
	require.Equal(h.t, m.published, h.e.s.Stats(), "Stats")
	require.Equal(h.t, m.durable, h.e.s.Durable(), "Durable")
	require.Equal(h.t, status.ReplicaStatusSnapshot{Status: m.semisync && !m.closed, SendAck: m.acksSent,
		AckSendFailures: m.ackFailures}, h.e.r.Status(), "Status")
	var failed []semisync.Position
	for _, e := range *h.e.ackErrs {
		require.ErrorIs(h.t, e.err, errInjected)
		failed = append(failed, e.pos)
	}
	require.Equal(h.t, m.failedAcks, failed, "OnAckError")
}

// checkLog checks invariants 1–3 and 5 on the calls made from index from
// on, against the whole log before them.
func (h *harness) checkLog(from int) {
	calls := h.e.rec.calls
	for l := from; l < len(calls); l++ {
		c := calls[l]
		require.False(h.t, c.op == opSync && !h.synced, "Sync in Flushed mode")
		if c.op != opAck {
			continue
		}
		require.True(h.t, h.m.semisync, "an asynchronous stream acknowledged %v", c.pos)
		// 2: owed.
		at, ok := h.owed[c.pos]
		require.True(h.t, ok && at <= l, "ACK of %v, never owed", c.pos)
		// 1: written, then flushed (and synced), before the ACK.
		if c.pos != h.start {
			i := lastIndex(calls[:l], func(x call) bool { return x.op == opWrite && x.pos == c.pos && x.err == nil })
			require.GreaterOrEqual(h.t, i, 0, "ACK of %v, never written", c.pos)
			j := slices.IndexFunc(calls[i+1:l], func(x call) bool { return x.op == opFlush && x.err == nil })
			require.GreaterOrEqual(h.t, j, 0, "ACK of %v, not flushed since its write", c.pos)
			if h.synced {
				k := slices.IndexFunc(calls[i+1+j+1:l], func(x call) bool { return x.op == opSync && x.err == nil })
				require.GreaterOrEqual(h.t, k, 0, "ACK of %v, not synced since its flush", c.pos)
			}
		}
		// 3: never backwards; a repeat only after a soliciting heartbeat.
		prev := lastIndex(calls[:l], func(x call) bool { return x.op == opAck })
		if prev < 0 {
			continue
		}
		require.False(h.t, c.pos.Less(calls[prev].pos), "ACK of %v after %v", c.pos, calls[prev].pos)
		if c.pos == calls[prev].pos {
			solicited := slices.IndexFunc(h.heartbeats, func(hb int) bool { return hb > prev && hb <= l }) >= 0
			require.True(h.t, solicited, "ACK of %v repeated without a heartbeat", c.pos)
		}
	}
}

func lastIndex[T any](s []T, f func(T) bool) int {
	for i := len(s) - 1; i >= 0; i-- {
		if f(s[i]) {
			return i
		}
	}
	return -1
}
