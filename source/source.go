package source

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/ackset"
	"github.com/semisync-go/semisync/status"
	"github.com/semisync-go/semisync/vars"
)

// Options configures a Source. The zero Options is a MySQL-flavored source
// with its own registry of default variables (so it starts disabled, as
// MySQL's plugin does), MySQL's count quorum and MySQL's fallback to
// asynchronous mode.
type Options struct {
	// Vars holds the live system variables the source follows
	// (rpl_semi_sync_source_enabled, _timeout, _wait_for_replica_count,
	// _wait_no_replica, _wait_point). A change takes effect as MySQL applies
	// it (see the package documentation). If nil, New creates a registry of
	// Flavor with its defaults; Source.Vars returns it either way.
	Vars *vars.Registry
	// Flavor names the variables and counters when Vars is nil (otherwise
	// the registry's flavor is used). MariaDB counts no_times only on real
	// ON→OFF transitions; the MySQL flavors count every switch-off.
	Flavor semisync.Flavor
	// Policy, if not nil, replaces MySQL's rule (any
	// wait_for_replica_count distinct replicas) with another quorum policy;
	// the variable is then ignored. New rejects an invalid policy.
	Policy *ackset.Policy
	// FailClosed makes the source never fall back to asynchronous mode: a
	// commit waits until a quorum acknowledges it, its context ends, or the
	// source is disabled or closed. The timeout and wait_no_replica are
	// ignored, and status is ON whenever the source is enabled.
	FailClosed bool
	// Status receives the counters. If nil the source keeps its own;
	// Source.Counters returns it either way.
	Status *status.Source
	// Observer, if set, receives state-change events on a goroutine the
	// source owns (see Observer).
	Observer Observer
	// EventBuffer is how many undelivered events are kept before new ones
	// are dropped and counted; default 256.
	EventBuffer int
	// StallAfter, if positive, reports EventWaitStalled when a commit has
	// waited longer than this.
	StallAfter time.Duration
	// SolicitAfter is how long a waiting commit and a silent replica must
	// wait before Session.SolicitAck asks the host to request a fresh
	// acknowledgement. Zero means one second; negative turns soliciting off.
	SolicitAfter time.Duration
	// Clock, if set, is the source's time, and the host drives its
	// timeouts: the source starts no timer goroutine, and the host calls
	// Tick when its clock reaches NextDeadline (or at any time: Tick
	// expires what is due and nothing else). This is how a simulation
	// (package semisynctest) runs the source deterministically. A clock
	// that goes backwards is counted as MySQL counts a failed clock read
	// (Rpl_semi_sync_source_timefunc_failures). If nil, the source reads
	// the system clock and runs its own timer.
	Clock Clock
}

// Clock is a source of time for a Source (Options.Clock).
type Clock interface {
	// Now returns the current time. It is called on the commit path,
	// with and without the source's lock, and from whatever goroutines
	// call the source (a released Wait measures itself on its own): it
	// must be cheap, safe for concurrent use, and must not call the
	// source.
	Now() time.Time
}

const (
	defaultEventBuffer  = 256
	defaultSolicitAfter = time.Second
	idleTimer           = 1000 * time.Hour
)

// Source is the semisync state machine of one replication source: the
// enabled flag and status ON/OFF, the commit waiters, the replica sessions
// and their acknowledgements, and the counters. All methods are safe for
// concurrent use. Create one with New and stop it with Close.
type Source struct {
	mu sync.Mutex

	reg          *vars.Registry
	flavor       semisync.Flavor
	cancelSub    func()
	cfg          vars.Config // the values last applied
	customPolicy bool
	failClosed   bool
	solicitAfter time.Duration
	stallAfter   time.Duration

	st   *status.Source
	acks *ackset.Set

	enabled, on, closed bool

	// MySQL's commit_pos: the largest group end reported while enabled,
	// since enable or RESET MASTER; commitSet is its "initialised" flag.
	commitPos semisync.Position
	commitSet bool
	// lastWritten is the largest position ever reported (enabled or not),
	// since RESET MASTER.
	lastWritten semisync.Position
	// binlogEnd is the binlog's end as the host reported it: the largest
	// position given to Flushed or Appended since RESET MASTER. No replica
	// may start after it.
	binlogEnd semisync.Position
	// MySQL's wait_pos (spec §5.2 step 5c): maintained exactly as MySQL
	// does, because the reply-required flag depends on it.
	waitPos semisync.Position
	waitSet bool
	nodes   posQueue // group ends written while ON, not yet acknowledged
	eras    epochs   // stretches written while ON

	// Waiters in position order (ties in arrival order).
	whead, wtail *waiter
	nwait        int
	// free is a stack of idle waiters: pushed lock-free by returning
	// waits, popped only under mu (one consumer, so no ABA problem).
	free atomic.Pointer[waiter]

	sessions map[semisync.ReplicaID]*Session
	clients  int
	// marks holds, per replica ID, what it acknowledged across its
	// sessions; bounded by the number of distinct IDs, like the ledger.
	marks map[semisync.ReplicaID]*ackMark
	// Commits a quorum acknowledged that a replica which acknowledged them
	// has since come back without: (riskFrom, riskTo], while risk.
	risk             bool
	riskFrom, riskTo semisync.Position

	clock      Clock // nil: the system clock and the source's own timer
	timer      *time.Timer
	timerAt    time.Time
	timerArmed bool
	lastStall  time.Time

	events   eventRing
	observer Observer
	kick     chan struct{}
	done     chan struct{}
	wg       sync.WaitGroup

	// The lock-free fast path for already-acknowledged commits: a
	// sequence-locked copy of the quorum offset and of what rarely changes.
	seq  atomic.Uint64
	view atomic.Pointer[fastView]
	off  atomic.Uint64
}

// fastView is what the fast path needs besides the quorum offset. It is
// replaced (allocated) only when one of its fields changes.
type fastView struct {
	file string // the quorum's file
	open bool   // enabled, status ON, not closed, and the stretch allows it
	// The current ON stretch starts after (file, fromOff): in the quorum's
	// file when fromSame, else in an earlier file (so every position in the
	// quorum's file is after it).
	fromSame bool
	fromOff  uint64
	from     semisync.Position
}

// New returns a running Source. It starts one goroutine for timeouts
// (none with Options.Clock: the host calls Tick) and, with an Observer,
// one for event delivery; Close stops them. An error wraps ErrInvalidOptions.
func New(o Options) (*Source, error) {
	reg := o.Vars
	if reg == nil {
		if !o.Flavor.Valid() {
			return nil, fmt.Errorf("%w: unknown flavor %s", ErrInvalidOptions, o.Flavor)
		}
		var err error
		if reg, err = vars.NewRegistry(o.Flavor); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalidOptions, err)
		}
	}
	if o.EventBuffer < 0 {
		return nil, fmt.Errorf("%w: negative EventBuffer %d", ErrInvalidOptions, o.EventBuffer)
	}
	if o.StallAfter < 0 {
		return nil, fmt.Errorf("%w: negative StallAfter %s", ErrInvalidOptions, o.StallAfter)
	}
	s := &Source{
		reg:          reg,
		flavor:       reg.Flavor(),
		failClosed:   o.FailClosed,
		solicitAfter: o.SolicitAfter,
		stallAfter:   o.StallAfter,
		clock:        o.Clock,
		st:           o.Status,
		observer:     o.Observer,
		sessions:     make(map[semisync.ReplicaID]*Session),
		marks:        make(map[semisync.ReplicaID]*ackMark),
		kick:         make(chan struct{}, 1),
		done:         make(chan struct{}),
	}
	if s.solicitAfter == 0 {
		s.solicitAfter = defaultSolicitAfter
	}
	if s.st == nil {
		s.st = new(status.Source)
	}
	if s.observer != nil {
		n := o.EventBuffer
		if n == 0 {
			n = defaultEventBuffer
		}
		s.events.buf = make([]Event, n)
	}
	var policy ackset.Policy
	if o.Policy != nil {
		policy, s.customPolicy = *o.Policy, true
	} else {
		policy = ackset.Count(int(max(1, reg.Config().WaitForReplicaCount)))
	}
	acks, err := ackset.New(policy)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidOptions, err)
	}
	s.acks = acks
	if s.clock == nil {
		s.timer = time.NewTimer(idleTimer)
		s.timer.Stop()
	}

	// Subscribe before reading the values, and apply them before the
	// callback can run (it takes s.mu too), so no change is missed and none
	// is overwritten by an older value.
	s.mu.Lock()
	s.cancelSub = reg.OnChange(func(_, next vars.Config) { s.configure(next) })
	s.cfg = reg.Config()
	s.cfg.SourceEnabled = false
	s.st.SetStatus(false)
	s.configureLocked(reg.Config(), s.now())
	s.publish()
	s.mu.Unlock()

	if s.clock == nil {
		s.wg.Add(1)
		go s.runTimer()
	}
	if s.observer != nil {
		s.wg.Add(1)
		go s.runEvents()
	}
	return s, nil
}

// Vars returns the registry whose variables the source follows.
func (s *Source) Vars() *vars.Registry { return s.reg }

// Flavor returns the naming flavor of the source's variables and counters.
func (s *Source) Flavor() semisync.Flavor { return s.flavor }

// Counters returns the source's counters. Read them with Snapshot.
func (s *Source) Counters() *status.Source { return s.st }

// Snapshot returns a consistent copy of the counters (see status.Source).
func (s *Source) Snapshot() status.SourceSnapshot { return s.st.Snapshot() }

// Show answers SHOW STATUS LIKE pattern for the source's status variables,
// in the source's flavor.
func (s *Source) Show(pattern string) []semisync.Row {
	snap := s.st.Snapshot()
	return status.Show(s.flavor, pattern, &snap, nil)
}

// WaitPoint returns the wait point new commits should use
// (rpl_semi_sync_source_wait_point). The waitpoint package reads it once
// per commit group, so a change applies to commits that start after it.
func (s *Source) WaitPoint() vars.WaitPoint { return s.reg.Config().WaitPoint }

// State is a moment's view of a Source.
type State struct {
	Enabled bool // rpl_semi_sync_source_enabled
	On      bool // Rpl_semi_sync_source_status: semisynchronous right now
	Closed  bool
	Clients int // registered replica sessions
	// Waiting is the number of commits blocked in Wait.
	Waiting int
	// Acknowledged is the highest position a quorum has acknowledged;
	// Written the newest position reported with Flushed.
	Acknowledged, Written semisync.Position
	Policy                ackset.Policy
}

// State returns the source's current state.
func (s *Source) State() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return State{
		Enabled: s.enabled, On: s.on, Closed: s.closed,
		Clients: s.clients, Waiting: s.nwait,
		Acknowledged: s.acks.Quorum(), Written: s.lastWritten,
		Policy: s.acks.Policy(),
	}
}

// Tail is the part of the binlog written but not acknowledged by a quorum:
// every position after Acknowledged up to and including Written; and, when
// AtRisk, the acknowledged commits that a quorum may no longer hold.
type Tail struct {
	// Acknowledged is the highest position a quorum has acknowledged
	// (State.Acknowledged); it never moves back until RESET MASTER.
	Acknowledged semisync.Position
	// Written is the newest position reported with Flushed.
	Written semisync.Position
	// AtRisk reports that the commits in (AtRiskFrom, AtRiskTo] were
	// acknowledged by a quorum, but a replica that acknowledged them has
	// since registered again below them (EventReplicaRegressed): they may
	// now be held by fewer replicas than the quorum needs. AtRiskTo is at
	// or before Acknowledged. The range shrinks, and AtRisk clears, as the
	// replicas connected now acknowledge it again under the policy in
	// force (several regressions merge into one range, from the lowest
	// start to the highest top). RESET MASTER clears it.
	AtRisk     bool
	AtRiskFrom semisync.Position
	AtRiskTo   semisync.Position
}

// Empty reports whether everything written is acknowledged. It says
// nothing about AtRisk: acknowledged commits may still be held by too few
// replicas.
func (t Tail) Empty() bool { return t.Written.Compare(t.Acknowledged) <= 0 }

// Contains reports whether p lies in the tail: written but not acknowledged.
func (t Tail) Contains(p semisync.Position) bool {
	return t.Acknowledged.Compare(p) < 0 && p.Compare(t.Written) <= 0
}

// Weak reports whether p is an acknowledged position that a quorum may no
// longer hold: AtRisk and p in (AtRiskFrom, AtRiskTo].
func (t Tail) Weak(p semisync.Position) bool {
	return t.AtRisk && t.AtRiskFrom.Compare(p) < 0 && p.Compare(t.AtRiskTo) <= 0
}

// String renders the tail as "(acked, written]", followed by
// " at risk (from, to]" when AtRisk.
func (t Tail) String() string {
	out := "(" + t.Acknowledged.String() + ", " + t.Written.String() + "]"
	if t.AtRisk {
		out += " at risk (" + t.AtRiskFrom.String() + ", " + t.AtRiskTo.String() + "]"
	}
	return out
}

// Unacknowledged returns the un-acknowledged tail of the binlog. Under
// AFTER_SYNC these transactions are in the binlog (and will be committed by
// the engine's crash recovery) but no quorum of replicas may have them: a
// source that crashes and comes back must not serve them as replicated
// (MySQL Bug #99370). A host records the tail when it demotes or closes the
// source (and, for crashes, persists Acknowledged as it advances), and after
// a restart truncates or marks the transactions in it, as MariaDB does with
// --init-rpl-role=SLAVE. Nothing announces that the acknowledged position
// advanced: a host that persists it polls (State is cheap). It works after
// Close.
//
// The tail also reports acknowledged commits at risk (Tail.AtRisk): when a
// replica comes back below what it had acknowledged, the acknowledged
// position does not move back — commits already released are not made to
// wait again, and later commits wait for a quorum as usual — but the
// commits it no longer holds may be held by fewer replicas than the quorum
// until the replicas connected now acknowledge them again. A host that
// promotes a replica or trusts Acknowledged for crash recovery should treat
// them as it treats the tail.
func (s *Source) Unacknowledged() Tail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Tail{Acknowledged: s.acks.Quorum(), Written: s.lastWritten,
		AtRisk: s.risk, AtRiskFrom: s.riskFrom, AtRiskTo: s.riskTo}
}

// DroppedEvents returns how many events were dropped because the observer
// fell behind by more than Options.EventBuffer events.
func (s *Source) DroppedEvents() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.events.dropped
}

// SetPolicy replaces the quorum policy at runtime (wait_for_replica_count is
// ignored from then on). A looser policy can release waiting commits at
// once; a stricter one never takes back what was acknowledged. With
// wait_no_replica OFF, a policy the connected replicas cannot satisfy
// switches the source to asynchronous mode. On error nothing changes.
func (s *Source) SetPolicy(p ackset.Policy) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	u, err := s.acks.SetPolicy(p)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	s.customPolicy = true
	now := s.now()
	chain := s.afterAck(u, now, true)
	chain = s.checkReplicaLoss(now, chain)
	s.settleRisk()
	s.publish()
	s.mu.Unlock()
	wake(chain)
	return nil
}

// Flushed reports that a commit group was written (flushed) to the binlog
// and ends at end: MySQL's after_flush hook, called once per group, in
// binlog order, before the group's events can be sent to a replica and
// before anyone waits for them. It returns an *OrderError (wrapping
// ErrOutOfOrder) if end is not after the binlog's end as the source knows
// it — the previous group's end, or a later end given to Appended — (and
// changes nothing), or ErrClosed.
func (s *Source) Flushed(end semisync.Position) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	if end.Compare(s.binlogEnd) <= 0 {
		last := s.binlogEnd
		s.mu.Unlock()
		return &OrderError{Pos: end, Last: last}
	}
	s.lastWritten, s.binlogEnd = end, end
	s.st.Replicas.SetHead(end)
	if s.enabled {
		s.commitPos, s.commitSet = end, true
		if s.on {
			s.nodes.push(end)
			s.st.Add(status.RequestAck, 1)
		}
	}
	s.mu.Unlock()
	return nil
}

// Appended reports that the binlog now ends at end after events that are
// not a commit group: a rotation's first position of the new file, a new
// file's header events, or, at startup, the end of the binlog recovered
// from disk. The source refuses a replica that asks to start after the
// binlog's end (Register, ErrStartBeyondEnd), and it knows that end only
// from Flushed and Appended: call Appended at startup, before serving any
// replica, with the end of the existing binlog (its first position if it
// is new); after each rotation with the new file's first position (and
// again after its header events, if replicas may start after them); and
// after ResetMaster with the new binlog's first position. Call it in binlog
// order with Flushed, as part of the same binlog write (under the host's
// binlog lock), so it never reports an end beyond a group not yet given to
// Flushed: Flushed refuses a group that ends at or before the reported end.
//
// Appended asks for no acknowledgement and flags nothing: the positions it
// reports are not commits, and neither State.Written nor the
// un-acknowledged tail moves. An end at or before the binlog's end as the
// source knows it changes nothing. It returns ErrClosed after Close, and
// nil otherwise.
func (s *Source) Appended(end semisync.Position) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if end.Compare(s.binlogEnd) > 0 {
		s.binlogEnd = end
	}
	return nil
}

// ResetMaster does what RESET MASTER (RESET BINARY LOGS AND GTIDS) does to
// semisync (spec §4.6): the acknowledged, waiting and written positions are
// forgotten, because the binlog starts again; the counters of spec §2 are
// zeroed; status is unchanged. The source also forgets the binlog's end
// (report the new binlog's first position with Appended), what each
// replica acknowledged (a replica that then starts at the new binlog's
// beginning has not regressed) and the commits at risk (Tail.AtRisk).
// Commits still waiting are released with Outcome Reset: their positions
// belong to the old binlog, and no acknowledgement in the new one can
// vouch for them (MySQL lets them wait on, to be released by an unrelated
// position of the new binlog or by the timeout). After Close it does
// nothing.
func (s *Source) ResetMaster() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	defer wake(s.releaseAll(Reset, 0, nil))
	defer s.mu.Unlock()
	s.acks.Reset()
	s.commitPos, s.commitSet = semisync.Position{}, false
	s.lastWritten, s.binlogEnd = semisync.Position{}, semisync.Position{}
	s.waitPos, s.waitSet = semisync.Position{}, false
	s.nodes.clear()
	s.eras.reset()
	for _, m := range s.marks {
		// Zeroed, not deleted: open sessions keep pointers to them.
		*m = ackMark{}
	}
	s.risk, s.riskFrom, s.riskTo = false, semisync.Position{}, semisync.Position{}
	if s.on {
		s.eras.openAt(semisync.Position{})
	}
	for _, x := range s.sessions {
		x.flagged, x.skipping = semisync.Position{}, false
		x.skipAfter, x.skipTo = semisync.Position{}, semisync.Position{}
	}
	s.st.Replicas.SetHead(semisync.Position{})
	s.st.ResetMaster()
	s.publish()
}

// Close switches the source off for good: every waiting commit is released
// (SwitchedOff, reason shutdown), later calls return ErrClosed, and the
// source's goroutine is stopped after it has delivered the pending events.
// Close is idempotent and returns once everything the source started has
// ended. It always returns nil.
func (s *Source) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.wg.Wait()
		return nil
	}
	now := s.now()
	chain := s.switchOff(status.ReasonShutdown, now, nil)
	s.closed = true
	s.publish()
	s.mu.Unlock()
	wake(chain)
	s.cancelSub()
	close(s.done)
	s.wg.Wait()
	if s.timer != nil {
		s.timer.Stop()
	}
	return nil
}

// configure applies the variables' values as MySQL's update functions do.
func (s *Source) configure(next vars.Config) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	chain := s.configureLocked(next, s.now())
	s.publish()
	s.mu.Unlock()
	wake(chain)
}

// configureLocked is configure with s.mu held; it returns the waiters to
// wake.
func (s *Source) configureLocked(next vars.Config, now time.Time) *waiter {
	prev := s.cfg
	s.cfg = next
	var chain *waiter
	if next.WaitForReplicaCount != prev.WaitForReplicaCount && !s.customPolicy {
		// Resizing MySQL's ACK container may report a position at once.
		if u, err := s.acks.SetPolicy(ackset.Count(int(max(1, next.WaitForReplicaCount)))); err == nil {
			chain = s.afterAck(u, now, true)
		}
	}
	switch {
	case next.SourceEnabled && !s.enabled:
		s.enable(now)
	case !next.SourceEnabled && s.enabled:
		chain = s.disable(now, chain)
	case s.enabled && !s.failClosed:
		if !next.WaitNoReplica && prev.WaitNoReplica && s.on && !s.acks.Satisfiable() {
			// MySQL: wait_no_replica ON→OFF with no clients (spec §4.4 #4).
			chain = s.switchOff(status.ReasonWaitNoReplica, now, chain)
		}
		if next.WaitNoReplica && !prev.WaitNoReplica && !s.on {
			// force_switch_on: no catch-up check (spec §4.5 #2).
			s.switchOn(TriggerWaitNoReplica, now)
		}
		chain = s.checkReplicaLoss(now, chain)
	}
	s.settleRisk()
	return chain
}

// enable is MySQL's enable_master (spec §4.3).
func (s *Source) enable(now time.Time) {
	s.enabled = true
	s.commitPos, s.commitSet = semisync.Position{}, false
	s.waitPos, s.waitSet = semisync.Position{}, false
	s.nodes.clear()
	s.emit(Event{Kind: EventEnabled}, now)
	if s.failClosed || s.cfg.WaitNoReplica || s.acks.Satisfiable() {
		s.switchOn(TriggerEnable, now)
	}
}

// disable is MySQL's disable_master (spec §4.3).
func (s *Source) disable(now time.Time, chain *waiter) *waiter {
	chain = s.switchOff(status.ReasonDisabled, now, chain)
	s.enabled = false
	s.commitPos, s.commitSet = semisync.Position{}, false
	s.waitPos, s.waitSet = semisync.Position{}, false
	s.emit(Event{Kind: EventDisabled}, now)
	return chain
}

// switchOn sets status ON and opens a new stretch of tracked transactions.
func (s *Source) switchOn(t Trigger, now time.Time) {
	if s.on {
		return
	}
	s.on = true
	s.st.SetStatus(true)
	s.eras.openAt(s.lastWritten)
	s.emit(Event{Kind: EventSwitchedOn, Trigger: t}, now)
}

// switchOff is MySQL's switch_off(): status OFF, no_times +1, every waiter
// released. MySQL counts a switch-off of a source already OFF when it is
// disabled; MariaDB counts only real transitions.
func (s *Source) switchOff(r status.SwitchOffReason, now time.Time, chain *waiter) *waiter {
	if !s.on {
		if r == status.ReasonDisabled && s.flavor != semisync.FlavorMariaDB && s.enabled {
			s.st.SwitchOff(r)
		}
		return chain
	}
	s.on = false
	s.st.SwitchOff(r)
	s.eras.closeAt(s.lastWritten)
	s.waitPos, s.waitSet = semisync.Position{}, false
	s.nodes.clear()
	s.emit(Event{Kind: EventSwitchedOff, Reason: r}, now)
	return s.releaseAll(SwitchedOff, r, chain)
}

// afterAck is MySQL's reportReplyBinlog after the ACK container (spec §5.4):
// try to switch on, then release what the quorum now covers.
//
// A disconnect (tryOn false) releases what a FirstOf promotion covers but,
// as in MySQL, never switches the source on.
func (s *Source) afterAck(u ackset.Update, now time.Time, tryOn bool) *waiter {
	if !s.enabled {
		return nil
	}
	if tryOn && !s.on && !s.failClosed {
		// try_switch_on, judged on the replicas connected now.
		if cur, ok := s.acks.Current(); ok && (!s.commitSet || cur.Compare(s.commitPos) >= 0) {
			s.switchOn(TriggerCatchUp, now)
		}
	}
	if !u.Advanced {
		return nil
	}
	q := u.Quorum
	s.nodes.dropThrough(q)
	if s.nwait > 0 && q.Compare(s.waitPos) >= 0 {
		s.waitSet = false
	}
	var chain *waiter
	for s.whead != nil && s.whead.pos.Compare(q) <= 0 {
		chain = s.release(s.whead, Acknowledged, 0, chain)
	}
	return chain
}

// ackMark is what one replica ID has acknowledged to the source across its
// sessions: the highest of its start positions and ACKs (capped at the
// binlog's end) since RESET MASTER or its latest regression. Skipped
// events do not count: the replica was not sent them, so it may
// legitimately start before them.
type ackMark struct {
	pos semisync.Position
	set bool // pos is known: the ID registered or acknowledged since RESET MASTER
}

// raise records an acknowledgement of pos. Called with s.mu held.
func (m *ackMark) raise(pos, end semisync.Position) {
	if pos.Compare(end) > 0 {
		pos = end // no replica holds what was never written
	}
	if !m.set || pos.Compare(m.pos) > 0 {
		m.pos, m.set = pos, true
	}
}

// regressed records that a replica which had acknowledged prev came back
// at start (before prev): the commits in (start, prev] that a quorum had
// acknowledged are at risk. Called with s.mu held, before the replica's
// start counts (acks.Connect).
func (s *Source) regressed(start, prev semisync.Position) {
	q := s.acks.Quorum()
	if start.Compare(q) >= 0 {
		return // it lost only what no quorum had acknowledged
	}
	top := prev
	if q.Compare(top) < 0 {
		top = q
	}
	if !s.risk {
		s.risk, s.riskFrom, s.riskTo = true, start, top
		return
	}
	if start.Compare(s.riskFrom) < 0 {
		s.riskFrom = start
	}
	if top.Compare(s.riskTo) > 0 {
		s.riskTo = top
	}
}

// settleRisk narrows the commits at risk to those the replicas connected
// now do not acknowledge under the policy (ackset's Current), and clears
// them once they do. Called with s.mu held after acknowledgements, the
// replicas or the policy changed.
func (s *Source) settleRisk() {
	if !s.risk {
		return
	}
	cur, ok := s.acks.Current()
	if !ok || cur.Compare(s.riskFrom) <= 0 {
		return
	}
	if cur.Compare(s.riskTo) >= 0 {
		s.risk, s.riskFrom, s.riskTo = false, semisync.Position{}, semisync.Position{}
		return
	}
	s.riskFrom = cur
}

// checkReplicaLoss applies the documented replica-loss rule (spec §4.4 #2):
// with wait_no_replica OFF, status goes OFF as soon as the connected replicas
// can no longer satisfy the quorum policy. MySQL's code checks
// clients == wait_count-1 exactly; see the package documentation.
func (s *Source) checkReplicaLoss(now time.Time, chain *waiter) *waiter {
	if s.enabled && s.on && !s.failClosed && !s.cfg.WaitNoReplica && !s.acks.Satisfiable() {
		chain = s.switchOff(status.ReasonReplicaLoss, now, chain)
	}
	return chain
}

// publish refreshes the fast path's copy of the state. Called with s.mu held
// after every change.
//
// The fast path accepts positions up to the quorum and, because only written
// positions are tracked, up to the newest write as of this call; a write
// after it only makes the fast path more conservative until the next call.
func (s *Source) publish() {
	q := s.acks.Quorum()
	if s.lastWritten.Compare(q) < 0 {
		q = s.lastWritten
	}
	open := s.enabled && s.on && !s.closed
	from, _ := s.eras.current()
	v := s.view.Load()
	s.seq.Add(1)
	if v == nil || v.file != q.File() || v.open != open || v.from != from {
		nv := &fastView{file: q.File(), open: open, from: from, fromSame: from.File() == q.File(), fromOff: from.Offset()}
		if !nv.fromSame && from.Compare(q) > 0 {
			nv.open = false // the stretch starts in a later file: slow path
		}
		s.view.Store(nv)
	}
	s.off.Store(q.Offset())
	s.seq.Add(1)
}

// emit queues an event for the observer. Called with s.mu held.
func (s *Source) emit(e Event, now time.Time) {
	if s.observer == nil {
		return
	}
	e.Time = now
	s.events.push(e)
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// now reads the source's clock.
func (s *Source) now() time.Time {
	if s.clock != nil {
		return s.clock.Now()
	}
	return time.Now()
}

// Tick expires the waits whose deadline has passed by the source's clock
// and reports stalls, as the source's own timer does without
// Options.Clock; with it, the host calls Tick when its clock reaches
// NextDeadline. Calling it early or more often changes nothing. Waits it
// releases are woken (or their WaitFunc callbacks called) before it
// returns.
func (s *Source) Tick() { s.onTimer() }

// NextDeadline returns the earliest time Tick may have something to do
// (the earliest wait deadline or stall report armed), and false when
// nothing is armed. The timer is re-armed lazily: the deadline may be one
// of a wait already released, and the Tick it calls for then does nothing
// but re-arm; it never stays stale after a Tick.
func (s *Source) NextDeadline() (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.timerAt, s.timerArmed && !s.closed
}

// runTimer fires timeouts and stall reports. It never calls the observer,
// so a blocked observer cannot hold up a timeout.
func (s *Source) runTimer() {
	defer s.wg.Done()
	for {
		select {
		case <-s.done:
			return
		case <-s.timer.C:
			s.onTimer()
		}
	}
}

// runEvents delivers events to the observer, in order; at Close it
// delivers what is still queued and ends.
func (s *Source) runEvents() {
	defer s.wg.Done()
	for {
		select {
		case <-s.done:
			s.deliver()
			return
		case <-s.kick:
			s.deliver()
		}
	}
}

func (s *Source) deliver() {
	for {
		s.mu.Lock()
		e, ok := s.events.pop()
		s.mu.Unlock()
		if !ok {
			return
		}
		s.observer.Observe(e)
	}
}
