package source_test

// A reference model of the source, driven side by side with the real Source
// by random action sequences: rapid (with shrinking) in TestModelRapid, and a
// fixed-seed math/rand/v2 loop in TestModelSeeded so a plain `go test` runs
// thousands of sequences.
//
// The model (mdlModel) restates the rules of the package documentation and
// spec §4–§5 as plainly as possible: a slice of sessions, a slice of writes,
// a slice of pending waiters, and the quorum recomputed from scratch after
// every event (the N-th highest acknowledgement of the connected replicas
// that count, or FirstOf's lowest of the first N, kept monotonic). Time is
// synctest's fake clock, so deadlines, Result.Waited and event times are
// exact. Where the model and the source disagreed, the doc and spec decided;
// see the tests at the end of the file.

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/ackset"
	"github.com/semisync-go/semisync/source"
	"github.com/semisync-go/semisync/status"
	"github.com/semisync-go/semisync/vars"
)

// ---------------------------------------------------------------------------
// The reference model.

// mdlSession is one Register call.
type mdlSession struct {
	n       int // index, for traces
	id      semisync.ReplicaID
	current bool // the replica's newest session (not superseded)
	closed  bool
	acked   semisync.Position // this session's acknowledged position
	flagged semisync.Position // highest event end sent with the flag
	// Skipped events waiting for the replica to acknowledge the flagged
	// events sent before them (Session.Skipped).
	skipping          bool
	skipAfter, skipTo semisync.Position
	lastHeard         time.Duration // registration, last ACK or solicitation
	real              *source.Session
}

// connected reports whether the session's acknowledgements count.
func (x *mdlSession) connected() bool { return x.current && !x.closed }

// mdlWrite is one Flushed group end since the last RESET MASTER.
type mdlWrite struct {
	end, prev semisync.Position
	stretch   int // the ON stretch it was written in; 0 = written while OFF
}

// mdlWaiter is one Wait call.
type mdlWaiter struct {
	n               int
	pos             semisync.Position
	start, deadline time.Duration
	timed           bool // has a deadline (not fail-closed)
	pending         bool // blocked in the model
	done            bool // the model says it returned
	want            source.Result
	wantErr         error
	cancel          context.CancelFunc
	got             chan mdlResult
	collected       bool
}

type mdlResult struct {
	res source.Result
	err error
}

// mdlCounters are the status counters the model predicts.
type mdlCounters struct {
	yes, no, noTimes, waitSessions, waitTimeouts, clients uint64
	txWaits, netWaits, getAck, requestAck, backtraverse   uint64
	startsRefused, regressions                            uint64
	txWaitTime                                            time.Duration
	switchOffs                                            [status.NumSwitchOffReasons]uint64
}

// mdlModel is the reference state machine.
type mdlModel struct {
	flavor     semisync.Flavor
	failClosed bool

	// stallAfter is Options.StallAfter (0: no stall reports).
	stallAfter time.Duration
	lastStall  time.Duration
	stalled    bool // lastStall is set
	// custom is the policy set with SetPolicy; until then (custom.N() ==
	// 0) the policy is COUNT wait_for_replica_count.
	custom ackset.Policy

	// Variables, as last set.
	timeout time.Duration
	count   int
	wnr     bool

	enabled, on, closed bool
	now                 time.Duration // since the bubble's start

	quorum      semisync.Position // monotonic until RESET MASTER
	commitPos   semisync.Position // newest write while enabled, since enable/reset
	commitSet   bool
	lastWritten semisync.Position
	binlogEnd   semisync.Position // largest of Flushed and Appended, since reset

	// marks is, per replica ID, the highest start or ACK (capped at the
	// binlog's end) since RESET MASTER or its latest regression; absent:
	// none since RESET MASTER.
	marks map[semisync.ReplicaID]semisync.Position
	// regressions per replica ID, as the ledger counts them (never reset).
	ledgerRegs map[semisync.ReplicaID]uint64
	// The commits at risk: (riskFrom, riskTo] while risk.
	risk             bool
	riskFrom, riskTo semisync.Position

	writes    []mdlWrite
	stretch   int // current ON stretch (0 while OFF)
	stretches int // ON stretches so far
	waitPos   semisync.Position
	waitSet   bool

	sessions []*mdlSession
	pending  []*mdlWaiter // in arrival order
	c        mdlCounters
	events   []source.Event // expected, not yet compared
}

func (m *mdlModel) emit(e source.Event) {
	e.Time = time.Time{}.Add(m.now) // compared as an offset from the bubble's start, see check
	m.events = append(m.events, e)
}

// policy returns the rule in force: kind, size and members (AnyOf's set,
// FirstOf's priority list).
func (m *mdlModel) policy() (ackset.Kind, int, []semisync.ReplicaID) {
	switch {
	case m.custom.N() != 0:
		return m.custom.Kind(), m.custom.N(), m.custom.Members()
	case m.flavor == semisync.FlavorMariaDB:
		return ackset.KindCount, 1, nil
	}
	return ackset.KindCount, m.count, nil
}

func (m *mdlModel) policyString() string {
	kind, n, members := m.policy()
	switch kind {
	case ackset.KindAny:
		return ackset.AnyOf(n, members...).String()
	case ackset.KindFirst:
		return ackset.FirstOf(n, members...).String()
	}
	return ackset.Count(n).String()
}

func (m *mdlModel) connected() []*mdlSession {
	var out []*mdlSession
	for _, x := range m.sessions {
		if x.connected() {
			out = append(out, x)
		}
	}
	return out
}

// counts reports whether replica id's acknowledgements can count.
func (m *mdlModel) counts(id semisync.ReplicaID) bool {
	kind, _, members := m.policy()
	return kind == ackset.KindCount || slices.Contains(members, id)
}

// eligible returns the connected replicas that count, in priority order
// for FirstOf.
func (m *mdlModel) eligible() []*mdlSession {
	kind, _, members := m.policy()
	var out []*mdlSession
	if kind == ackset.KindFirst {
		for _, id := range members {
			for _, x := range m.connected() {
				if x.id == id {
					out = append(out, x)
				}
			}
		}
		return out
	}
	for _, x := range m.connected() {
		if m.counts(x.id) {
			out = append(out, x)
		}
	}
	return out
}

// satisfiable: enough replicas are connected to make a quorum.
func (m *mdlModel) satisfiable() bool {
	_, n, _ := m.policy()
	return len(m.eligible()) >= n
}

// current is the position the connected replicas acknowledge now: the
// n-th highest of the eligible ones' positions, or for FirstOf the lowest
// of the first n eligible ones.
func (m *mdlModel) current() (semisync.Position, bool) {
	kind, n, _ := m.policy()
	el := m.eligible()
	if len(el) < n {
		return semisync.Position{}, false
	}
	var ps []semisync.Position
	for _, x := range el {
		ps = append(ps, x.acked)
	}
	if kind == ackset.KindFirst {
		return slices.MinFunc(ps[:n], semisync.Position.Compare), true
	}
	slices.SortFunc(ps, func(a, b semisync.Position) int { return b.Compare(a) })
	return ps[n-1], true
}

// recompute raises the quorum to the current acknowledgement; it reports
// whether it advanced.
func (m *mdlModel) recompute() bool {
	if cur, ok := m.current(); ok && cur.Compare(m.quorum) > 0 {
		m.quorum = cur
		return true
	}
	return false
}

// groupOf returns the write whose group contains p.
func (m *mdlModel) groupOf(p semisync.Position) (mdlWrite, bool) {
	for _, w := range m.writes {
		if p.Compare(w.end) <= 0 {
			return w, true
		}
	}
	return mdlWrite{}, false
}

func (m *mdlModel) switchOn(t source.Trigger) {
	if m.on {
		return
	}
	m.on = true
	m.stretches++
	m.stretch = m.stretches
	m.emit(source.Event{Kind: source.EventSwitchedOn, Trigger: t})
}

// switchOff is spec §4.4's switch_off: every waiter is released.
func (m *mdlModel) switchOff(r status.SwitchOffReason) {
	if !m.on {
		// MySQL counts disabling an already-OFF source; MariaDB does not.
		if r == status.ReasonDisabled && m.flavor != semisync.FlavorMariaDB {
			m.c.noTimes++
			m.c.switchOffs[r]++
		}
		return
	}
	m.on = false
	m.stretch = 0
	m.waitSet = false
	m.c.noTimes++
	m.c.switchOffs[r]++
	m.emit(source.Event{Kind: source.EventSwitchedOff, Reason: r})
	for _, w := range slices.Clone(m.pending) {
		m.finish(w, source.SwitchedOff, r)
	}
}

// finish ends a blocked wait.
func (m *mdlModel) finish(w *mdlWaiter, o source.Outcome, r status.SwitchOffReason) {
	m.pending = slices.DeleteFunc(m.pending, func(x *mdlWaiter) bool { return x == w })
	w.pending, w.done = false, true
	waited := m.now - w.start
	w.want = source.Result{Outcome: o, Waited: waited}
	if o == source.SwitchedOff || o == source.TimedOut {
		w.want.Reason = r
	}
	if m.c.waitSessions > 0 {
		m.c.waitSessions--
	}
	switch o {
	case source.Acknowledged:
		m.c.yes++
		m.c.txWaits++
		m.c.txWaitTime += waited.Truncate(time.Microsecond)
	case source.SwitchedOff, source.Reset:
		m.c.no++
		m.c.txWaits++
		m.c.txWaitTime += waited.Truncate(time.Microsecond)
	case source.TimedOut:
		m.c.no++
		m.c.waitTimeouts++
	case source.Cancelled:
		m.c.no++
		w.wantErr = context.Canceled
	}
}

// afterAck is what every acknowledgement-like event does while enabled
// (spec §4.5 #1, §5.4): try to switch on when the replicas connected now
// acknowledge the newest write, then release the waits the quorum covers.
func (m *mdlModel) afterAck(advanced, tryOn bool) {
	if !m.enabled {
		return
	}
	if tryOn && !m.on && !m.failClosed {
		if cur, ok := m.current(); ok && (!m.commitSet || cur.Compare(m.commitPos) >= 0) {
			m.switchOn(source.TriggerCatchUp)
		}
	}
	if !advanced {
		return
	}
	if len(m.pending) > 0 && m.quorum.Compare(m.waitPos) >= 0 {
		m.waitSet = false
	}
	for _, w := range slices.Clone(m.pending) {
		if w.pos.Compare(m.quorum) <= 0 {
			m.finish(w, source.Acknowledged, 0)
		}
	}
}

// replicaLoss is the documented rule (package doc, spec §4.4 #2): with
// wait_no_replica OFF, status goes OFF when the connected replicas cannot
// make a quorum.
func (m *mdlModel) replicaLoss() {
	if m.enabled && m.on && !m.failClosed && !m.wnr && !m.satisfiable() {
		m.switchOff(status.ReasonReplicaLoss)
	}
}

func (m *mdlModel) flushed(end semisync.Position) error {
	if m.closed {
		return source.ErrClosed
	}
	if end.Compare(m.binlogEnd) <= 0 {
		return source.ErrOutOfOrder
	}
	m.writes = append(m.writes, mdlWrite{end: end, prev: m.lastWritten, stretch: m.stretch})
	m.lastWritten, m.binlogEnd = end, end
	if m.enabled {
		m.commitPos, m.commitSet = end, true
		if m.on {
			m.c.requestAck++
		}
	}
	return nil
}

// beginWait decides what Wait does on entry (spec §5.2, Outcome's doc).
func (m *mdlModel) beginWait(w *mdlWaiter, ctxDone bool) {
	w.start = m.now
	immediate := func(o source.Outcome, err error) {
		w.done, w.want, w.wantErr = true, source.Result{Outcome: o}, err
	}
	switch {
	case w.pos.IsZero():
		immediate(source.NoPosition, nil)
		return
	case m.closed:
		immediate(0, source.ErrClosed)
		return
	case !m.enabled:
		immediate(source.Disabled, nil)
		return
	}
	g, _ := m.groupOf(w.pos)
	tracked := m.on && g.stretch != 0
	switch {
	case w.pos.Compare(m.quorum) <= 0:
		immediate(source.Acknowledged, nil)
		if tracked {
			m.c.yes++
		} else {
			m.c.no++
		}
	case !tracked:
		immediate(source.Async, nil)
		m.c.no++
	case ctxDone:
		immediate(source.Cancelled, context.Canceled)
		m.c.no++
	default:
		// MySQL's wait_pos (spec §5.2 step 5c).
		if !m.waitSet {
			m.waitPos, m.waitSet = w.pos, true
		} else if w.pos.Compare(m.waitPos) <= 0 {
			m.waitPos = w.pos
			m.c.backtraverse++
		}
		w.pending = true
		m.pending = append(m.pending, w)
		m.c.waitSessions++
		if !m.failClosed {
			w.timed, w.deadline = true, m.now+m.timeout
		}
		m.expire(m.now)
	}
}

// expire fires the earliest deadline if it is at or before at: every wait
// with that deadline times out and the first switches the source off, which
// releases the others (package doc, "Concurrent timeouts").
func (m *mdlModel) expire(at time.Duration) {
	first := time.Duration(-1)
	for _, w := range m.pending {
		if w.timed && (first < 0 || w.deadline < first) {
			first = w.deadline
		}
	}
	if first < 0 || first > at {
		return
	}
	m.now = first
	for _, w := range slices.Clone(m.pending) {
		if w.timed && w.deadline == first {
			m.finish(w, source.TimedOut, status.ReasonTimeout)
		}
	}
	m.switchOff(status.ReasonTimeout)
}

// nextStall is when the next EventWaitStalled is due: a commit has waited
// StallAfter, and at most one report per StallAfter.
func (m *mdlModel) nextStall() (time.Duration, bool) {
	if m.stallAfter <= 0 || len(m.pending) == 0 {
		return 0, false
	}
	oldest := m.pending[0].start
	for _, w := range m.pending {
		oldest = min(oldest, w.start)
	}
	due := oldest + m.stallAfter
	if m.stalled {
		due = max(due, m.lastStall+m.stallAfter)
	}
	return due, true
}

// stall reports the oldest waiter (the first in position order among
// equally old ones).
func (m *mdlModel) stall() {
	var oldest *mdlWaiter
	for _, w := range m.pending {
		if oldest == nil || w.start < oldest.start || (w.start == oldest.start && w.pos.Compare(oldest.pos) < 0) {
			oldest = w
		}
	}
	m.emit(source.Event{Kind: source.EventWaitStalled, Waiters: len(m.pending), Position: oldest.pos,
		Blocked: m.now - oldest.start})
	m.lastStall, m.stalled = m.now, true
}

// tick advances the clock by d, firing deadlines and stall reports in
// time order. At the same instant, timeouts come first.
func (m *mdlModel) tick(d time.Duration) {
	target := m.now + d
	for {
		first := time.Duration(-1)
		for _, w := range m.pending {
			if w.timed && (first < 0 || w.deadline < first) {
				first = w.deadline
			}
		}
		due, stalls := m.nextStall()
		switch {
		case first >= 0 && first <= target && (!stalls || first <= due):
			m.expire(first) // releases every waiter
		case stalls && due <= target:
			m.now = due
			m.stall()
		default:
			m.now = target
			return
		}
	}
}

func (m *mdlModel) cancel(w *mdlWaiter) {
	if w.pending {
		m.finish(w, source.Cancelled, 0)
	}
}

// appended is Source.Appended: the binlog's end moves forward, nothing else.
func (m *mdlModel) appended(end semisync.Position) error {
	if m.closed {
		return source.ErrClosed
	}
	m.binlogEnd = semisync.Max(m.binlogEnd, end)
	return nil
}

func (m *mdlModel) register(x *mdlSession, start semisync.Position) error {
	if m.closed {
		return source.ErrClosed
	}
	// A start after the binlog's end is refused; nothing else changes.
	if !start.IsZero() && start.Compare(m.binlogEnd) > 0 {
		m.c.startsRefused++
		m.emit(source.Event{Kind: source.EventStartRefused, Replica: x.id, Position: start, End: m.binlogEnd})
		return source.ErrStartBeyondEnd
	}
	prev, known := m.marks[x.id]
	regressed := known && start.Compare(prev) < 0
	m.marks[x.id] = start
	for _, o := range m.sessions {
		if o.id == x.id {
			o.current = false
		}
	}
	x.current, x.acked, x.lastHeard = true, start, m.now
	m.sessions = append(m.sessions, x)
	m.c.clients++
	m.emit(source.Event{Kind: source.EventReplicaJoined, Replica: x.id, Position: start})
	if regressed {
		m.c.regressions++
		m.ledgerRegs[x.id]++
		m.emit(source.Event{Kind: source.EventReplicaRegressed, Replica: x.id, Position: start, Previous: prev})
		// What it lost that a quorum had acknowledged is at risk: (start,
		// min(prev, quorum)], merged with what already is.
		if start.Compare(m.quorum) < 0 {
			top := prev
			if m.quorum.Compare(top) < 0 {
				top = m.quorum
			}
			if !m.risk {
				m.risk, m.riskFrom, m.riskTo = true, start, top
			} else {
				if start.Compare(m.riskFrom) < 0 {
					m.riskFrom = start
				}
				m.riskTo = semisync.Max(m.riskTo, top)
			}
		}
	}
	m.afterAck(m.recompute(), true)
	m.settleRisk()
	return nil
}

// settleRisk: the replicas connected now acknowledge (under the policy)
// everything up to current, so the commits at risk start there; none are
// once current reaches the top.
func (m *mdlModel) settleRisk() {
	if !m.risk {
		return
	}
	cur, ok := m.current()
	if !ok || cur.Compare(m.riskFrom) <= 0 {
		return
	}
	if cur.Compare(m.riskTo) >= 0 {
		m.risk, m.riskFrom, m.riskTo = false, semisync.Position{}, semisync.Position{}
		return
	}
	m.riskFrom = cur
}

func (m *mdlModel) closeSession(x *mdlSession) {
	if x.closed {
		return
	}
	x.closed = true
	if m.c.clients > 0 {
		m.c.clients--
	}
	if m.closed {
		return
	}
	m.emit(source.Event{Kind: source.EventReplicaLeft, Replica: x.id})
	if x.current {
		m.afterAck(m.recompute(), false)
		m.replicaLoss()
		m.settleRisk()
	}
}

func (m *mdlModel) ack(x *mdlSession, p semisync.Position) ackset.AckResult {
	if m.closed || x.closed || !x.current {
		return ackset.AckUnknownReplica
	}
	m.c.getAck++
	x.lastHeard = m.now
	// The replica's mark: what it acknowledged, but nothing beyond the
	// binlog's end.
	capped := p
	if capped.Compare(m.binlogEnd) > 0 {
		capped = m.binlogEnd
	}
	if prev, known := m.marks[x.id]; !known || capped.Compare(prev) > 0 {
		m.marks[x.id] = capped
	}
	res := ackset.AckAccepted
	switch c := p.Compare(x.acked); {
	case c == 0:
		res = ackset.AckDuplicate
	case c < 0:
		res = ackset.AckStale
	default:
		x.acked = p
	}
	if x.skipping && p.Compare(x.skipAfter) >= 0 {
		x.skipping = false
		x.acked = semisync.Max(x.acked, x.skipTo)
	}
	m.afterAck(m.recompute(), true)
	m.settleRisk()
	return res
}

func (m *mdlModel) skipped(x *mdlSession, end semisync.Position) {
	if m.closed || x.closed || !x.current {
		return
	}
	if x.acked.Compare(x.flagged) < 0 {
		if !x.skipping {
			x.skipTo = end
		}
		x.skipping, x.skipAfter, x.skipTo = true, x.flagged, semisync.Max(x.skipTo, end)
		return
	}
	x.acked = semisync.Max(x.acked, end)
	m.afterAck(m.recompute(), true)
	m.settleRisk()
}

// replyRequired is updateSyncHeader (spec §7.2).
func (m *mdlModel) replyRequired(x *mdlSession, end semisync.Position) bool {
	flag := false
	switch {
	case m.closed || !x.connected() || !m.enabled:
	case m.on:
		isNode := false
		for _, w := range m.writes {
			isNode = isNode || (w.end == end && w.stretch == m.stretch)
		}
		flag = isNode && end.Compare(m.quorum) > 0 && (!m.waitSet || end.Compare(m.waitPos) >= 0)
	default:
		flag = !m.commitSet || end.Compare(m.commitPos) >= 0
	}
	if flag {
		m.c.netWaits++
		x.flagged = semisync.Max(x.flagged, end)
	}
	return flag
}

// mdlSolicitAfter is Options.SolicitAfter's default.
const mdlSolicitAfter = time.Second

// solicitAck follows Session.SolicitAck's documentation: commits have
// waited at least SolicitAfter, this replica's acknowledgement could release
// some of them, and it has been silent for SolicitAfter; or, at once, a
// skipped event waits and the replica is behind a waiting commit.
func (m *mdlModel) solicitAck(x *mdlSession) bool {
	if m.closed || !x.connected() || !m.enabled || !m.on || !m.counts(x.id) {
		return false
	}
	ask := false
	for _, w := range m.pending {
		behind := w.pos.Compare(x.acked) > 0
		ask = ask || (behind && x.skipping) ||
			(behind && m.now-w.start >= mdlSolicitAfter && m.now-x.lastHeard >= mdlSolicitAfter)
	}
	if ask {
		x.lastHeard = m.now
		m.c.netWaits++
	}
	return ask
}

func (m *mdlModel) setEnabled(v bool) {
	if m.closed {
		return
	}
	switch {
	case v && !m.enabled:
		m.enabled = true
		m.commitSet, m.waitSet = false, false
		m.emit(source.Event{Kind: source.EventEnabled})
		if m.failClosed || m.wnr || m.satisfiable() {
			m.switchOn(source.TriggerEnable)
		}
	case !v && m.enabled:
		m.switchOff(status.ReasonDisabled)
		m.enabled = false
		m.commitSet, m.waitSet = false, false
		m.emit(source.Event{Kind: source.EventDisabled})
	default:
		m.replicaLoss()
	}
}

func (m *mdlModel) setWaitNoReplica(v bool) {
	prev := m.wnr
	m.wnr = v
	if m.closed || !m.enabled || m.failClosed {
		return
	}
	if prev && !v && m.on && !m.satisfiable() {
		m.switchOff(status.ReasonWaitNoReplica)
	}
	if !prev && v {
		m.switchOn(source.TriggerWaitNoReplica) // no catch-up check (spec §4.5 #2)
	}
	m.replicaLoss()
}

func (m *mdlModel) setCount(n int) {
	if m.closed {
		return // a closed source follows no variable
	}
	prev := m.count
	m.count = n
	if n != prev && m.custom.N() == 0 {
		// Re-evaluates the quorum at once: may release and catch up.
		m.afterAck(m.recompute(), true)
	}
	if m.enabled && !m.failClosed {
		m.replicaLoss()
	}
	m.settleRisk()
}

// setPolicy is Source.SetPolicy: an invalid policy changes nothing.
func (m *mdlModel) setPolicy(p ackset.Policy, valid bool) error {
	switch {
	case m.closed:
		return source.ErrClosed
	case !valid:
		return ackset.ErrInvalidPolicy
	}
	m.custom = p
	m.afterAck(m.recompute(), true)
	m.replicaLoss()
	m.settleRisk()
	return nil
}

func (m *mdlModel) setTimeout(d time.Duration) {
	m.timeout = d
	if !m.closed && m.enabled && !m.failClosed {
		m.replicaLoss()
	}
}

// resetMaster is spec §4.6; a closed source ignores it.
func (m *mdlModel) resetMaster() {
	if m.closed {
		return
	}
	m.quorum = semisync.Position{}
	for _, x := range m.sessions {
		if x.connected() {
			x.acked, x.flagged = semisync.Position{}, semisync.Position{}
			x.skipping, x.skipAfter, x.skipTo = false, semisync.Position{}, semisync.Position{}
		}
	}
	m.commitSet, m.waitSet = false, false
	m.lastWritten, m.binlogEnd = semisync.Position{}, semisync.Position{}
	m.writes = nil
	clear(m.marks)
	m.risk, m.riskFrom, m.riskTo = false, semisync.Position{}, semisync.Position{}
	c := &m.c
	c.yes, c.no, c.noTimes, c.waitSessions, c.backtraverse = 0, 0, 0, 0, 0
	c.txWaits, c.txWaitTime, c.netWaits = 0, 0, 0
	c.switchOffs = [status.NumSwitchOffReasons]uint64{}
	// The waits still blocked are released (Outcome Reset); they count
	// after the zeroing, as they return after it.
	for _, w := range slices.Clone(m.pending) {
		m.finish(w, source.Reset, 0)
	}
}

func (m *mdlModel) close() {
	if m.closed {
		return
	}
	m.switchOff(status.ReasonShutdown)
	m.closed = true
}

// ---------------------------------------------------------------------------
// The harness: the real source, the model, and a source of choices.

// mdlChooser draws the random choices: from rapid or from math/rand/v2.
type mdlChooser interface {
	intn(label string, n int) int
}

type mdlRapidChooser struct{ t *rapid.T }

func (c mdlRapidChooser) intn(label string, n int) int {
	return rapid.IntRange(0, n-1).Draw(c.t, label)
}

type mdlRandChooser struct{ r *rand.Rand }

func (c mdlRandChooser) intn(_ string, n int) int { return c.r.IntN(n) }

// mdlTB is what the harness needs of *testing.T and *rapid.T.
type mdlTB interface {
	Helper()
	Fatalf(format string, args ...any)
}

// mdlEventLog is the Observer: it records events for comparison.
type mdlEventLog struct {
	mu  sync.Mutex
	evs []source.Event
}

func (l *mdlEventLog) Observe(e source.Event) {
	l.mu.Lock()
	l.evs = append(l.evs, e)
	l.mu.Unlock()
}

func (l *mdlEventLog) take() []source.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	evs := l.evs
	l.evs = nil
	return evs
}

type mdlHarness struct {
	t   mdlTB
	c   mdlChooser
	src *source.Source
	m   *mdlModel
	obs *mdlEventLog
	t0  time.Time

	names     map[string]string // flavor-neutral variable → SET name
	file0     int               // first binlog file index
	file      int               // current binlog file index
	lsn       bool              // positions are LSNs, not file:offset
	off       uint64            // last offset written in file
	waiters   []*mdlWaiter
	trace     []string
	counted   uint64 // finished waits counted in yes_tx/no_tx since reset
	resetLive bool   // a RESET MASTER happened while commits waited
}

// mdlVarNames maps the variables to each flavor's names.
var mdlVarNames = map[semisync.Flavor]map[string]string{
	semisync.FlavorMySQL: {
		"enabled": "rpl_semi_sync_source_enabled", "timeout": "rpl_semi_sync_source_timeout",
		"count": "rpl_semi_sync_source_wait_for_replica_count", "wnr": "rpl_semi_sync_source_wait_no_replica",
	},
	semisync.FlavorMySQLLegacy: {
		"enabled": "rpl_semi_sync_master_enabled", "timeout": "rpl_semi_sync_master_timeout",
		"count": "rpl_semi_sync_master_wait_for_slave_count", "wnr": "rpl_semi_sync_master_wait_no_slave",
	},
	semisync.FlavorMariaDB: {
		"enabled": "rpl_semi_sync_master_enabled", "timeout": "rpl_semi_sync_master_timeout",
		"wnr": "rpl_semi_sync_master_wait_no_slave",
	},
}

var mdlFlavors = []semisync.Flavor{semisync.FlavorMySQL, semisync.FlavorMySQLLegacy, semisync.FlavorMariaDB}

// mdlTimeouts are the values rpl_semi_sync_source_timeout takes, in ms.
var mdlTimeouts = []uint64{0, 1, 50, 1000, 2500, 10000}

func mdlOnOff(v bool) string {
	if v {
		return "ON"
	}
	return "OFF"
}

// newMdlHarness starts a source with random options inside the current
// synctest bubble. The caller must defer h.cleanup().
func newMdlHarness(t mdlTB, c mdlChooser) *mdlHarness {
	t.Helper()
	h := &mdlHarness{t: t, c: c, obs: &mdlEventLog{}, t0: time.Now()}
	flavor := mdlFlavors[c.intn("flavor", len(mdlFlavors))]
	h.names = mdlVarNames[flavor]
	h.m = &mdlModel{flavor: flavor, failClosed: c.intn("failClosed", 4) == 0, count: 1, wnr: true,
		timeout: 10 * time.Second, marks: map[semisync.ReplicaID]semisync.Position{},
		ledgerRegs: map[semisync.ReplicaID]uint64{}}
	switch c.intn("positions", 6) {
	case 0:
		h.file0 = 999998 // "binlog.999999" is followed by "binlog.1000000"
	case 1:
		h.lsn = true
	default:
		h.file0 = 1
	}
	if c.intn("stall", 3) == 0 {
		h.m.stallAfter = []time.Duration{500 * time.Millisecond, time.Second, 3 * time.Second}[c.intn("stallAfter", 3)]
	}
	h.file, h.off = h.file0, 4
	reg, err := vars.NewRegistry(flavor)
	if err != nil {
		t.Fatalf("NewRegistry: %v", err)
	}
	// Initial variables, applied before New.
	timeout := mdlTimeouts[c.intn("timeout", len(mdlTimeouts))]
	wnr := c.intn("wnr", 2) == 0
	enabled := c.intn("enabled", 5) != 0
	stmt := fmt.Sprintf("SET GLOBAL %s = %d, %s = %s", h.names["timeout"], timeout, h.names["wnr"], mdlOnOff(wnr))
	count := 1
	if h.names["count"] != "" {
		count = 1 + c.intn("count", 3)
		stmt += fmt.Sprintf(", %s = %d", h.names["count"], count)
	}
	if err := reg.Exec(stmt); err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
	if err := reg.Exec(fmt.Sprintf("SET GLOBAL %s = %s", h.names["enabled"], mdlOnOff(enabled))); err != nil {
		t.Fatalf("enable: %v", err)
	}
	h.m.timeout, h.m.wnr, h.m.count = time.Duration(timeout)*time.Millisecond, wnr, count
	h.logf("new flavor=%s failClosed=%v stallAfter=%s timeout=%d wnr=%v count=%d enabled=%v file0=%d lsn=%v",
		flavor, h.m.failClosed, h.m.stallAfter, timeout, wnr, count, enabled, h.file0, h.lsn)
	h.src, err = source.New(source.Options{Vars: reg, FailClosed: h.m.failClosed, Observer: h.obs,
		StallAfter: h.m.stallAfter})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	h.m.setEnabled(enabled)
	h.settle()
	for range h.c.intn("replicas", 4) {
		h.step(mdlActions[slices.IndexFunc(mdlActions, func(a mdlAction) bool { return a.name == "register" })])
	}
	return h
}

// cleanup releases everything so the bubble can end, whatever happened.
func (h *mdlHarness) cleanup() {
	for _, w := range h.waiters {
		w.cancel()
	}
	if h.src != nil {
		_ = h.src.Close()
	}
}

func (h *mdlHarness) logf(format string, args ...any) {
	h.trace = append(h.trace, fmt.Sprintf(format, args...))
}

func (h *mdlHarness) fatalf(format string, args ...any) {
	h.t.Helper()
	h.t.Fatalf("%s\nsequence:\n  %s", fmt.Sprintf(format, args...), strings.Join(h.trace, "\n  "))
}

func (h *mdlHarness) fileName(i int) string {
	if h.lsn {
		return ""
	}
	return fmt.Sprintf("binlog.%06d", i)
}

// settle waits until every goroutine of the bubble is blocked, then compares.
func (h *mdlHarness) settle() {
	h.t.Helper()
	synctest.Wait()
	h.check()
}

// pick returns a random element of xs, or nil.
func mdlPick[T any](h *mdlHarness, label string, xs []*T) *T {
	if len(xs) == 0 {
		return nil
	}
	return xs[h.c.intn(label, len(xs))]
}

// writtenPos returns a random written position, sometimes inside a group
// (a transaction's own end under AFTER_COMMIT), biased towards the newest.
func (h *mdlHarness) writtenPos(label string) semisync.Position {
	ws := h.m.writes
	if len(ws) == 0 {
		return semisync.Position{}
	}
	i := len(ws) - 1
	if h.c.intn(label+"Old", 2) == 0 {
		i = h.c.intn(label+"Index", len(ws))
	}
	w := ws[i]
	if w.prev.File() == w.end.File() && w.end.Offset()-w.prev.Offset() > 1 && h.c.intn(label+"Mid", 4) == 0 {
		return semisync.FilePos(w.end.File(), w.prev.Offset()+1+uint64(h.c.intn(label+"Off", int(w.end.Offset()-w.prev.Offset()-1))))
	}
	return w.end
}

// session picks a session, usually a connected one.
func (h *mdlHarness) session(label string) *mdlSession {
	if h.c.intn(label+"Any", 4) == 0 {
		return mdlPick(h, label, h.m.sessions)
	}
	return mdlPick(h, label, h.m.connected())
}

// ackPos draws an acknowledgement position for x: written, newest, the
// same again, stale, or beyond anything written.
func (h *mdlHarness) ackPos(x *mdlSession) semisync.Position {
	last := h.m.lastWritten
	switch h.c.intn("ackKind", 6) {
	case 0:
		return h.writtenPos("ack")
	case 1:
		return last
	case 2:
		return x.acked
	case 3:
		if x.acked.Offset() > 0 {
			return semisync.FilePos(x.acked.File(), x.acked.Offset()-1)
		}
		return x.acked
	case 4:
		if last.IsZero() {
			return semisync.FilePos(h.fileName(h.file0), 50)
		}
		return semisync.FilePos(last.File(), last.Offset()+1+uint64(h.c.intn("beyond", 100)))
	default:
		return semisync.FilePos(h.fileName(h.file+1), 10)
	}
}

// ---------------------------------------------------------------------------
// Actions.

type mdlAction struct {
	name   string
	weight int
	run    func(h *mdlHarness)
}

var mdlActions = []mdlAction{
	{"tick", 5, (*mdlHarness).actTick},
	{"write", 8, (*mdlHarness).actWrite},
	{"appended", 2, (*mdlHarness).actAppended},
	{"wait", 8, (*mdlHarness).actWait},
	{"ack", 10, (*mdlHarness).actAck},
	{"register", 4, (*mdlHarness).actRegister},
	{"closeSession", 3, (*mdlHarness).actCloseSession},
	{"send", 5, (*mdlHarness).actSend},
	{"skip", 2, (*mdlHarness).actSkip},
	{"cancel", 3, (*mdlHarness).actCancel},
	{"solicit", 2, (*mdlHarness).actSolicit},
	{"setTimeout", 2, (*mdlHarness).actSetTimeout},
	{"setCount", 2, (*mdlHarness).actSetCount},
	{"setPolicy", 2, (*mdlHarness).actSetPolicy},
	{"setWaitNoReplica", 2, (*mdlHarness).actSetWaitNoReplica},
	{"setEnabled", 3, (*mdlHarness).actSetEnabled},
	{"resetMaster", 1, (*mdlHarness).actResetMaster},
	{"closeSource", 1, (*mdlHarness).actCloseSource},
}

func (h *mdlHarness) actTick() {
	ms := h.m.timeout.Milliseconds()
	var d time.Duration
	switch h.c.intn("tickKind", 4) {
	case 0:
		d = time.Duration(max(ms-1, 0)) * time.Millisecond
	case 1:
		d = time.Duration(ms) * time.Millisecond
	case 2:
		d = time.Duration(ms+1) * time.Millisecond
	default:
		d = time.Duration(h.c.intn("tickMs", int(2*ms+2))) * time.Millisecond
	}
	h.logf("tick %s", d)
	h.m.tick(d)
	time.Sleep(d)
}

func (h *mdlHarness) actWrite() {
	if h.c.intn("outOfOrder", 10) == 0 && !h.m.lastWritten.IsZero() {
		p := h.m.lastWritten
		h.logf("write %s (again)", p)
		err := h.src.Flushed(p)
		h.expectErr("Flushed", err, h.m.flushed(p))
		return
	}
	if h.c.intn("rotate", 8) == 0 && !h.lsn {
		h.file++
		h.off = 4
	}
	h.off += 1 + uint64(h.c.intn("size", 300))
	p := semisync.FilePos(h.fileName(h.file), h.off)
	h.logf("write %s", p)
	want := h.m.flushed(p)
	h.expectErr("Flushed", h.src.Flushed(p), want)
}

// actAppended reports a binlog end that is no commit group: a rotation's
// first position, header events, or an older end (which changes nothing).
func (h *mdlHarness) actAppended() {
	var p semisync.Position
	switch h.c.intn("appendedKind", 4) {
	case 0:
		if !h.lsn {
			h.file++
			h.off = 4
		} else {
			h.off += 1 + uint64(h.c.intn("appendedSize", 100))
		}
		p = semisync.FilePos(h.fileName(h.file), h.off)
	case 1:
		h.off += 1 + uint64(h.c.intn("appendedSize", 100))
		p = semisync.FilePos(h.fileName(h.file), h.off)
	case 2:
		p = h.writtenPos("appendedOld")
	default:
		p = h.m.binlogEnd
	}
	h.logf("appended %s", p)
	want := h.m.appended(p)
	h.expectErr("Appended", h.src.Appended(p), want)
}

func (h *mdlHarness) expectErr(what string, got, want error) {
	h.t.Helper()
	if (got == nil) != (want == nil) || (want != nil && !errors.Is(got, want)) {
		h.fatalf("%s: error %v, model says %v", what, got, want)
	}
}

func (h *mdlHarness) actWait() {
	p := h.writtenPos("wait")
	if h.c.intn("waitBeyond", 12) == 0 {
		// Not written yet: a host error, but defined (nothing to wait for).
		p = semisync.FilePos(h.fileName(h.file), h.off+1+uint64(h.c.intn("waitBeyondOff", 50)))
	}
	if p.IsZero() && h.c.intn("waitZero", 8) != 0 {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	pre := h.c.intn("preCancelled", 10) == 0
	if pre {
		cancel()
	}
	w := &mdlWaiter{n: len(h.waiters), pos: p, cancel: cancel, got: make(chan mdlResult, 1)}
	h.waiters = append(h.waiters, w)
	h.logf("wait#%d %s cancelled=%v", w.n, p, pre)
	h.m.beginWait(w, pre)
	go func() {
		res, err := h.src.Wait(ctx, p)
		w.got <- mdlResult{res, err}
	}()
}

func (h *mdlHarness) actAck() {
	x := h.session("ackSession")
	if x == nil {
		return
	}
	p := h.ackPos(x)
	h.logf("ack s%d(id %d) %s", x.n, x.id, p)
	want := h.m.ack(x, p)
	if got := x.real.Ack(p); got != want {
		h.fatalf("Ack(%s) on s%d = %s, model says %s", p, x.n, got, want)
	}
}

func (h *mdlHarness) actRegister() {
	id := semisync.ReplicaID(1 + h.c.intn("id", 4))
	var start semisync.Position
	switch h.c.intn("startKind", 6) {
	case 0:
	case 1:
		start = h.writtenPos("start")
	case 2:
		start = h.m.lastWritten
	case 3:
		start = h.m.binlogEnd
	case 4:
		// Where the replica was: the same, or a little behind (it lost
		// part of its relay log).
		if p, ok := h.m.marks[id]; ok {
			start = p
			if p.Offset() > 4 && h.c.intn("startBehind", 2) == 0 {
				start = semisync.FilePos(p.File(), p.Offset()-1-uint64(h.c.intn("startBehindBy", int(min(p.Offset()-4, 200)))))
			}
		}
	default:
		// Beyond the end: refused.
		start = semisync.FilePos(h.fileName(h.file), h.off+10)
	}
	x := &mdlSession{n: len(h.m.sessions), id: id}
	h.logf("register s%d id=%d start=%s", x.n, id, start)
	want := h.m.register(x, start)
	real, err := h.src.Register(id, start)
	h.expectErr("Register", err, want)
	x.real = real
}

func (h *mdlHarness) actCloseSession() {
	x := h.session("closeSession")
	if x == nil {
		return
	}
	h.logf("close s%d(id %d)", x.n, x.id)
	h.m.closeSession(x)
	x.real.Close()
}

func (h *mdlHarness) actSend() {
	x := h.session("sendSession")
	if x == nil || x.real == nil {
		return
	}
	end := h.writtenPos("send")
	if end.IsZero() {
		return
	}
	h.logf("send s%d(id %d) %s", x.n, x.id, end)
	want := h.m.replyRequired(x, end)
	if got := x.real.ReplyRequired(end); got != want {
		h.fatalf("ReplyRequired(%s) on s%d = %v, model says %v", end, x.n, got, want)
	}
}

func (h *mdlHarness) actSkip() {
	x := h.session("skipSession")
	if x == nil || x.real == nil {
		return
	}
	end := h.writtenPos("skip")
	h.logf("skipped s%d(id %d) %s", x.n, x.id, end)
	h.m.skipped(x, end)
	x.real.Skipped(end)
}

func (h *mdlHarness) actSolicit() {
	x := h.session("solicitSession")
	if x == nil {
		return
	}
	h.logf("solicit s%d(id %d)", x.n, x.id)
	want := h.m.solicitAck(x)
	if got := x.real.SolicitAck(); got != want {
		h.fatalf("SolicitAck() on s%d = %v, model says %v", x.n, got, want)
	}
}

func (h *mdlHarness) actCancel() {
	w := mdlPick(h, "cancelWaiter", h.waiters)
	if w == nil {
		return
	}
	h.logf("cancel wait#%d", w.n)
	h.m.cancel(w)
	w.cancel()
}

func (h *mdlHarness) set(name, value string) {
	stmt := fmt.Sprintf("SET GLOBAL %s = %s", h.names[name], value)
	h.logf("%s", stmt)
	if err := h.src.Vars().Exec(stmt); err != nil {
		h.fatalf("%s: %v", stmt, err)
	}
}

func (h *mdlHarness) actSetTimeout() {
	ms := mdlTimeouts[h.c.intn("timeoutValue", len(mdlTimeouts))]
	h.m.setTimeout(time.Duration(ms) * time.Millisecond)
	h.set("timeout", fmt.Sprint(ms))
}

func (h *mdlHarness) actSetCount() {
	if h.names["count"] == "" {
		return
	}
	n := 1 + h.c.intn("countValue", 3)
	h.m.setCount(n)
	h.set("count", fmt.Sprint(n))
}

func (h *mdlHarness) actSetPolicy() {
	n := 1 + h.c.intn("policyN", 3)
	var ids []semisync.ReplicaID // a random subset of 1..4 in random order
	for _, i := range rand.New(rand.NewPCG(uint64(h.c.intn("policyPerm", 1<<30)), 0)).Perm(4) {
		if h.c.intn("policyMember", 3) != 0 {
			ids = append(ids, semisync.ReplicaID(i+1))
		}
	}
	var p ackset.Policy
	switch h.c.intn("policyKind", 3) {
	case 0:
		p = ackset.Count(n)
	case 1:
		p = ackset.AnyOf(n, ids...)
	default:
		p = ackset.FirstOf(n, ids...)
	}
	valid := p.Kind() == ackset.KindCount || n <= len(ids)
	h.logf("SetPolicy(%s)", p)
	want := h.m.setPolicy(p, valid)
	h.expectErr("SetPolicy", h.src.SetPolicy(p), want)
}

func (h *mdlHarness) actSetWaitNoReplica() {
	v := h.c.intn("wnrValue", 2) == 0
	h.m.setWaitNoReplica(v)
	h.set("wnr", mdlOnOff(v))
}

func (h *mdlHarness) actSetEnabled() {
	v := h.c.intn("enabledValue", 4) != 0
	h.m.setEnabled(v)
	h.set("enabled", mdlOnOff(v))
}

func (h *mdlHarness) actResetMaster() {
	h.logf("reset master")
	if len(h.m.pending) > 0 {
		h.resetLive = true
	}
	closed := h.m.closed
	h.m.resetMaster()
	h.src.ResetMaster()
	if closed {
		return // ignored: nothing is zeroed
	}
	h.counted = 0
	h.file, h.off = h.file0, 4
}

func (h *mdlHarness) actCloseSource() {
	if h.c.intn("reallyClose", 8) != 0 {
		return
	}
	h.logf("close source")
	h.m.close()
	if err := h.src.Close(); err != nil {
		h.fatalf("Close: %v", err)
	}
}

// step runs one action chosen by the chooser, then compares.
func (h *mdlHarness) step(a mdlAction) {
	h.t.Helper()
	a.run(h)
	h.settle()
}

// ---------------------------------------------------------------------------
// Comparison and invariants.

func (h *mdlHarness) check() {
	h.t.Helper()
	m := h.m
	st := h.src.State()
	// Waits first: their outcomes feed the counters.
	for _, w := range h.waiters {
		if w.collected {
			continue
		}
		select {
		case r := <-w.got:
			w.collected = true
			if !w.done {
				h.fatalf("wait#%d (%s) returned %v, %v; the model says it still waits", w.n, w.pos, r.res, r.err)
			}
			if r.res != w.want || !errors.Is(r.err, w.wantErr) || (r.err == nil) != (w.wantErr == nil) {
				h.fatalf("wait#%d (%s) returned %+v, %v; model says %+v, %v", w.n, w.pos, r.res, r.err, w.want, w.wantErr)
			}
			// Invariant: nothing is acknowledged beyond the quorum.
			if r.res.Outcome == source.Acknowledged && w.pos.Compare(st.Acknowledged) > 0 {
				h.fatalf("wait#%d (%s) acknowledged but the quorum is %s", w.n, w.pos, st.Acknowledged)
			}
			switch {
			case r.err == source.ErrClosed, r.res.Outcome == source.Disabled, r.res.Outcome == source.NoPosition:
			default:
				h.counted++
			}
		default:
			if w.done {
				h.fatalf("wait#%d (%s) still waits; model says it returned %+v, %v", w.n, w.pos, w.want, w.wantErr)
			}
		}
	}
	if len(m.pending) == 0 {
		h.resetLive = false
	}

	type view struct {
		enabled, on, closed bool
		clients, waiting    int
		acked, written      semisync.Position
	}
	gotState := view{st.Enabled, st.On, st.Closed, st.Clients, st.Waiting, st.Acknowledged, st.Written}
	wantState := view{m.enabled, m.on, m.closed, int(m.c.clients), len(m.pending), m.quorum, m.lastWritten}
	if st.Policy.String() != m.policyString() {
		h.fatalf("State().Policy = %s, model says %s", st.Policy, m.policyString())
	}
	if gotState != wantState {
		h.fatalf("State() = %+v\nmodel says %+v", gotState, wantState)
	}
	wantTail := source.Tail{Acknowledged: m.quorum, Written: m.lastWritten,
		AtRisk: m.risk, AtRiskFrom: m.riskFrom, AtRiskTo: m.riskTo}
	if tail := h.src.Unacknowledged(); tail != wantTail {
		h.fatalf("Unacknowledged() = %s\nmodel says %s", tail, wantTail)
	}
	if st.On && !st.Enabled {
		h.fatalf("status ON while disabled")
	}

	snap := h.src.Snapshot()
	got := mdlCounters{
		yes: snap.YesTx, no: snap.NoTx, noTimes: snap.NoTimes, waitSessions: snap.WaitSessions,
		waitTimeouts: snap.WaitTimeouts, clients: snap.Clients, txWaits: snap.TxWaits,
		netWaits: snap.NetWaits, getAck: snap.GetAck, requestAck: snap.RequestAck,
		backtraverse: snap.WaitPosBacktraverse, txWaitTime: snap.TxWaitTime, switchOffs: snap.SwitchOffs,
		startsRefused: snap.StartsRefused, regressions: snap.ReplicaRegressions,
	}
	if got != m.c {
		h.fatalf("counters %+v\nmodel says %+v", got, m.c)
	}
	for _, r := range snap.Replicas {
		if r.Regressions != m.ledgerRegs[r.ID] {
			h.fatalf("ledger: replica %d has %d regressions, model says %d", r.ID, r.Regressions, m.ledgerRegs[r.ID])
		}
	}
	if snap.Status != m.on {
		h.fatalf("status counter %v, model says %v", snap.Status, m.on)
	}
	if snap.YesTx+snap.NoTx != h.counted {
		h.fatalf("yes_tx %d + no_tx %d != %d counted waits", snap.YesTx, snap.NoTx, h.counted)
	}
	if !h.resetLive && snap.WaitSessions != uint64(st.Waiting) {
		h.fatalf("wait_sessions %d != State().Waiting %d", snap.WaitSessions, st.Waiting)
	}
	if st.On && !m.wnr && !m.failClosed {
		ids := map[semisync.ReplicaID]bool{}
		for _, x := range m.sessions {
			if x.connected() && st.Policy.Counts(x.id) {
				ids[x.id] = true
			}
		}
		if len(ids) < st.Policy.N() {
			h.fatalf("status ON with wait_no_replica OFF and %d replicas for %s", len(ids), st.Policy)
		}
	}

	evs := h.obs.take()
	for i := range evs {
		evs[i].Time = time.Time{}.Add(evs[i].Time.Sub(h.t0))
	}
	if !slices.Equal(evs, m.events) {
		h.fatalf("events %v\nmodel says %v", evs, m.events)
	}
	m.events = nil
}

// run drives steps actions chosen by weight.
func (h *mdlHarness) run(steps int) {
	h.t.Helper()
	var table []int
	for i, a := range mdlActions {
		for range a.weight {
			table = append(table, i)
		}
	}
	for range steps {
		h.step(mdlActions[table[h.c.intn("action", len(table))]])
	}
	// Finally close the source: every waiter returns and nothing leaks.
	h.logf("close source (end)")
	h.m.close()
	if err := h.src.Close(); err != nil {
		h.fatalf("Close: %v", err)
	}
	h.settle()
	if h.m.closed && len(h.m.pending) != 0 {
		h.fatalf("model still has waiters after Close")
	}
}

// ---------------------------------------------------------------------------
// Tests.

// TestModelRapid drives random sequences with shrinking; each sequence runs
// in its own synctest bubble.
func TestModelRapid(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		rapid.SyncTest(rt, func(rt *rapid.T) {
			h := newMdlHarness(rt, mdlRapidChooser{rt})
			defer h.cleanup()
			h.run(rapid.IntRange(1, 80).Draw(rt, "steps"))
		})
	})
}

// TestModelSeeded runs many fixed-seed sequences, so a plain `go test`
// covers a wide range without rapid's shrinking.
func TestModelSeeded(t *testing.T) {
	seeds := 2000
	if testing.Short() {
		seeds = 200
	}
	for seed := range uint64(seeds) {
		synctest.Test(t, func(t *testing.T) {
			c := mdlRandChooser{rand.New(rand.NewPCG(seed, 0x5e31))}
			h := newMdlHarness(&mdlSeedTB{T: t, seed: seed}, c)
			defer h.cleanup()
			h.run(60)
		})
		if t.Failed() {
			return
		}
	}
}

// mdlSeedTB adds the seed to failure messages.
type mdlSeedTB struct {
	*testing.T
	seed uint64
}

func (t *mdlSeedTB) Fatalf(format string, args ...any) {
	t.T.Helper()
	t.T.Fatalf("seed %d: %s", t.seed, fmt.Sprintf(format, args...))
}

// ---------------------------------------------------------------------------
// Minimal tests for what the model found.

// TestStallNotReportedForReleasedWaiters: a stall report that falls due at
// the instant a commit wait times out must not be emitted after the timeout
// has switched the source off and released every waiter (it would report a
// stall of zero waiters). Found by the model; fixed in onTimer.
func TestStallNotReportedForReleasedWaiters(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		log := &mdlEventLog{}
		s, err := source.New(source.Options{Observer: log, StallAfter: 500 * time.Millisecond})
		require.NoError(t, err)
		defer s.Close()
		// wait_no_replica is ON by default: status ON with no replica.
		require.NoError(t, s.Vars().Exec("SET GLOBAL rpl_semi_sync_source_enabled = ON, rpl_semi_sync_source_timeout = 1000"))
		require.NoError(t, s.Flushed(pos(100)))
		go func() { _, _ = s.Wait(context.Background(), pos(100)) }() // deadline 1 s
		synctest.Wait()
		require.NoError(t, s.Vars().Exec("SET GLOBAL rpl_semi_sync_source_timeout = 5000"))
		go func() { _, _ = s.Wait(context.Background(), pos(100)) }() // deadline 5 s
		synctest.Wait()
		time.Sleep(time.Second) // stall at 0.5 s; at 1 s the first wait times out
		synctest.Wait()
		var kinds []string
		for _, e := range log.take() {
			kinds = append(kinds, e.String())
			if e.Kind == source.EventWaitStalled {
				require.Positive(t, e.Waiters, "stall report for no waiter: %s", e)
			}
		}
		require.Equal(t, []string{"enabled", "switched-on trigger=enable",
			"wait-stalled waiters=2 oldest=binlog.000001:100 blocked=500ms", "switched-off reason=timeout"}, kinds)
	})
}

// TestOldOnStretchStillTracked: a commit written while the source was ON
// must wait for its acknowledgement even after many switch-offs and forced
// switch-ons (Outcome Async is only for commits written while OFF). The
// source remembers the last 64 ON stretches (see the package doc).
func TestOldOnStretchStillTracked(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, err := source.New(source.Options{})
		require.NoError(t, err)
		defer s.Close()
		require.NoError(t, s.Vars().Exec("SET GLOBAL rpl_semi_sync_source_enabled = ON"))
		require.NoError(t, s.Flushed(pos(100))) // written while ON
		for range 63 {
			// No replica: OFF switches off, ON forces status ON (spec §4.4 #4, §4.5 #2).
			require.NoError(t, s.Vars().Exec("SET GLOBAL rpl_semi_sync_source_wait_no_replica = OFF"))
			require.NoError(t, s.Vars().Exec("SET GLOBAL rpl_semi_sync_source_wait_no_replica = ON"))
		}
		require.True(t, s.State().On)
		done := make(chan source.Result, 1)
		go func() { r, _ := s.Wait(context.Background(), pos(100)); done <- r }()
		synctest.Wait()
		require.Equal(t, 1, s.State().Waiting, "the commit should wait for an ACK")
		r1, err := s.Register(1, pos(100))
		require.NoError(t, err)
		defer r1.Close()
		require.Equal(t, source.Acknowledged, (<-done).Outcome)
	})
}
