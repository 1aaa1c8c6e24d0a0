package status

import (
	"sync"
	"sync/atomic"
	"time"
)

// Source holds the counters of one semisync source: every
// Rpl_semi_sync_source_* / Rpl_semi_sync_master_* status variable, the
// counters MySQL keeps without showing them, and this library's extensions.
// The zero value is ready to use; a Source must not be copied after first
// use. All methods are safe for concurrent use and allocation-free, except
// where a method says otherwise.
//
// Single updates ([Source.Add], [Source.SetStatus]) are one atomic
// operation each and never wait. Grouped updates ([Source.Update],
// [Source.RecordTxWait], [Source.SwitchOff]) take the shared side of a
// reader/writer lock, so they never wait for each other, only for
// [Source.Snapshot] or [Source.ResetMaster], which take the exclusive side
// for the few hundred nanoseconds they need to copy or zero the counters.
// Go's RWMutex lets a waiting exclusive locker in ahead of new shared
// lockers, so a snapshot always finishes, however busy the recorders are.
//
// The source package records; hosts read with [Source.Snapshot].
type Source struct {
	cut        sync.RWMutex // batches: shared; Snapshot and ResetMaster: exclusive
	counters   [numCounters]atomic.Int64
	status     atomic.Bool
	switchOffs [NumSwitchOffReasons]atomic.Uint64

	// WaitLatency is the distribution of commit-wait durations. MySQL has no
	// such thing; the source records one sample per commit wait that
	// blocked, from the start of the wait to its end, whatever the outcome
	// (ACK, timeout or switch-off). It is not part of the consistent cut of
	// the counters and RESET MASTER does not clear it.
	WaitLatency Histogram

	// Replicas is the per-replica acknowledgement ledger. RESET MASTER does
	// not clear it.
	Replicas Ledger
}

// Batch records counter updates that a snapshot must see together or not
// at all, such as TxWaits and TxWaitTime. A Batch exists only inside the
// function given to [Source.Update]; do not keep it after that function
// returns (its updates would then no longer be grouped). The zero Batch
// does nothing.
type Batch struct{ s *Source }

// Update runs fn with a [Batch]: every update fn makes through it is
// entirely in a [SourceSnapshot] or entirely absent, and [Source.ResetMaster]
// never lands in the middle. fn runs under the shared side of a
// reader/writer lock: updates never wait for each other, only for a
// snapshot or reset that is copying or zeroing the counters (a few hundred
// nanoseconds), and a snapshot always gets its turn. The lock is released
// when fn returns or panics. Update does not allocate when fn does not
// escape (a func literal passed directly does not).
//
// fn must be short and must not block. It must not call Update, Snapshot,
// SnapshotInto, ResetMaster, SwitchOff or RecordTxWait on the same Source:
// taking the read lock again deadlocks as soon as a snapshot is waiting.
// [Source.Add] and [Source.SetStatus] are fine.
func (s *Source) Update(fn func(Batch)) {
	s.cut.RLock()
	defer s.cut.RUnlock()
	fn(Batch{s})
}

// Add adds delta to counter c and returns the new value. A result that would
// be negative is stored as zero (MySQL guards wait_sessions this way). An
// undefined Counter is ignored and 0 returned.
func (b Batch) Add(c Counter, delta int64) uint64 {
	if b.s == nil || !c.Valid() {
		return 0
	}
	return uint64(addFloor(&b.s.counters[c], delta))
}

// SetStatus sets the status flag (Rpl_semi_sync_source_status): ON while
// the source runs semisynchronously, OFF after a switch-off (spec §4).
func (b Batch) SetStatus(on bool) {
	if b.s != nil {
		b.s.status.Store(on)
	}
}

// SwitchOff records one switch_off(): status OFF, NoTimes +1 and the
// reason's count +1 (spec §4.4). Recording all three together keeps the sum
// of [SourceSnapshot.SwitchOffs] equal to NoTimes. An undefined reason is
// counted as [ReasonInternal].
func (b Batch) SwitchOff(r SwitchOffReason) {
	if b.s == nil {
		return
	}
	if !r.Valid() {
		r = ReasonInternal
	}
	b.s.status.Store(false)
	b.s.counters[NoTimes].Add(1)
	b.s.switchOffs[r].Add(1)
}

// Add adds delta to counter c and returns the new value, with one atomic
// operation (a compare-and-swap loop for a decrement, which stops at zero;
// see [Batch.Add]). It never waits. An update of one counter is always
// entirely in a snapshot or entirely absent; use a [Batch] when several
// counters must move together.
func (s *Source) Add(c Counter, delta int64) uint64 {
	if !c.Valid() {
		return 0
	}
	return uint64(addFloor(&s.counters[c], delta))
}

// SetStatus sets the status flag with one atomic store; see
// [Batch.SetStatus].
func (s *Source) SetStatus(on bool) { s.status.Store(on) }

// SwitchOff records one switch_off() as one update; see [Batch.SwitchOff].
// For MariaDB's accounting, call it only on a real ON→OFF transition.
func (s *Source) SwitchOff(r SwitchOffReason) {
	s.Update(func(b Batch) { b.SwitchOff(r) })
}

// RecordTxWait records one wakeup of a commit wait that was not a timeout,
// sinceStart after the wait began (spec §5.2 step 5f): TxWaits +1 and
// TxWaitTime += sinceStart in whole microseconds, as one update. A negative
// sinceStart means the clock went backwards and counts TimefuncFailures
// instead. It does not touch WaitLatency.
func (s *Source) RecordTxWait(sinceStart time.Duration) {
	if sinceStart < 0 {
		s.Add(TimefuncFailures, 1)
		return
	}
	s.Update(func(b Batch) {
		b.Add(TxWaits, 1)
		b.Add(TxWaitTime, sinceStart.Microseconds())
	})
}

// ResetMaster zeroes, as one update, what RESET MASTER (RESET BINARY LOGS
// AND GTIDS) zeroes (spec §2, §4.6): YesTx, NoTx, NoTimes, TimefuncFailures,
// WaitSessions, WaitPosBacktraverse, TxWaits, TxWaitTime, NetWaits and
// NetWaitTime, plus the per-reason switch-off counts (so that they still sum
// to NoTimes). Clients, WaitTimeouts, RequestAck, GetAck, StartsRefused,
// ReplicaRegressions, the status flag, WaitLatency and Replicas are left
// alone.
//
// It waits for open batches to end, so it never lands between two updates
// of one batch.
func (s *Source) ResetMaster() {
	s.cut.Lock()
	defer s.cut.Unlock()
	for _, c := range resetByResetMaster {
		s.counters[c].Store(0)
	}
	for i := range s.switchOffs {
		s.switchOffs[i].Store(0)
	}
}

// Value returns the current value of counter c (0 for an undefined Counter)
// with one atomic load: cheap, but not consistent with other counters. Use
// [Source.Snapshot] for a consistent view.
func (s *Source) Value(c Counter) uint64 {
	if !c.Valid() {
		return 0
	}
	return uint64(s.counters[c].Load())
}

// Status returns the status flag with one atomic load.
func (s *Source) Status() bool { return s.status.Load() }

// SourceSnapshot is a copy of a [Source]'s counters: no [Batch] is ever
// half-visible in it, and each single update is either in it or not.
// WaitLatency and Replicas are copied just after the counters; each is
// consistent on its own but not necessarily with the counters.
//
// Each field says when MySQL changes the value and its unit; the [Counter]
// constants carry the same rules in more detail, with spec references.
type SourceSnapshot struct {
	// Status is Rpl_semi_sync_source_status: ON (true) while the source is
	// enabled and running semisynchronously; set OFF by every switch-off
	// (commit-wait timeout, replica loss, shutdown, disable) and ON again by
	// enabling, by a replica catching up, or by wait_no_replica going OFF→ON
	// (spec §4). Read at snapshot time.
	Status bool
	// Clients is Rpl_semi_sync_source_clients, a gauge: +1 when a dump
	// session starts for a connection that declared itself semisync (even
	// while the source is disabled), −1 when it ends. Unit: connections.
	Clients uint64
	// YesTx is Rpl_semi_sync_source_yes_tx: +1 at the end of each commit
	// wait that finished with status ON and an active-transaction node,
	// including waits an earlier ACK had already satisfied. Unit:
	// transactions.
	YesTx uint64
	// NoTx is Rpl_semi_sync_source_no_tx: +1 at the end of every other
	// commit wait (status OFF on entry, timed out or switched off while
	// waiting, or written while OFF); not counted while the source is
	// disabled. Unit: transactions.
	NoTx uint64
	// NoTimes is Rpl_semi_sync_source_no_times: +1 on every switch-off (in
	// MySQL also on disabling an already-OFF source; MariaDB counts only
	// ON→OFF). Unit: switch-offs.
	NoTimes uint64
	// TimefuncFailures is Rpl_semi_sync_source_timefunc_failures: +1 when a
	// commit wait's elapsed time came out negative (the clock went back).
	// Unit: events.
	TimefuncFailures uint64
	// WaitPosBacktraverse is Rpl_semi_sync_source_wait_pos_backtraverse: +1
	// when a session starts waiting for a position ≤ the smallest position
	// already waited for. Unit: events.
	WaitPosBacktraverse uint64
	// WaitSessions is Rpl_semi_sync_source_wait_sessions, a gauge: sessions
	// blocked waiting for an ACK right now (+1 before each timed wait, −1
	// after it). Unit: sessions.
	WaitSessions uint64
	// TxWaits is Rpl_semi_sync_source_tx_waits: +1 per commit-wait wakeup
	// that was not a timeout (a session woken twice counts twice). Unit:
	// wakeups.
	TxWaits uint64
	// TxWaitTime is Rpl_semi_sync_source_tx_wait_time: on each TxWaits
	// wakeup, += the time since that commit wait began; timeouts add
	// nothing. MySQL keeps whole microseconds, so this is a multiple of a
	// microsecond, and SHOW renders it in µs.
	TxWaitTime time.Duration
	// NetWaits is Rpl_semi_sync_source_net_waits: +1 each time a dump
	// session sent an event with the reply-required flag and flushed it.
	// Unit: events.
	NetWaits uint64
	// NetWaitTime is Rpl_semi_sync_source_net_wait_time: the time dump
	// sessions spent blocked reading ACKs, a multiple of a microsecond. It
	// is always 0 since MySQL 5.7, where a separate receiver reads ACKs, but
	// both servers still show it.
	NetWaitTime time.Duration
	// WaitTimeouts is +1 per commit wait that timed out (and so switched
	// the source off). MySQL counts it but shows it nowhere; neither does
	// SHOW here. RESET MASTER does not zero it. Unit: timeouts.
	WaitTimeouts uint64
	// RequestAck is MariaDB's Rpl_semi_sync_master_request_ack: +1 per
	// transaction added to the active-transaction list while status is ON.
	// Unit: transactions.
	RequestAck uint64
	// GetAck is MariaDB's Rpl_semi_sync_master_get_ack: +1 per well-formed
	// ACK packet received from any replica. Unit: ACK packets.
	GetAck uint64
	// StartsRefused is +1 per replica registration refused because its
	// start position lay after the binlog's end as the source knew it
	// (MySQL's error 1236). Not a MySQL variable; SHOW does not show it and
	// RESET MASTER does not zero it. Unit: registrations.
	StartsRefused uint64
	// ReplicaRegressions is +1 per replica that registered again below a
	// position it had already acknowledged (it lost acknowledged events).
	// Not a MySQL variable; SHOW does not show it and RESET MASTER does not
	// zero it. Unit: registrations.
	ReplicaRegressions uint64

	// SwitchOffs counts switch-offs by [SwitchOffReason]; they sum to
	// NoTimes. Not a MySQL variable.
	SwitchOffs [NumSwitchOffReasons]uint64
	// WaitLatency is a copy of [Source.WaitLatency].
	WaitLatency HistogramSnapshot
	// Replicas is a copy of [Source.Replicas], sorted by replica ID, with
	// lag measured against the ledger's head ([Ledger.SetHead]).
	Replicas []ReplicaSnapshot
}

// Snapshot returns a consistent copy of the counters; see [SourceSnapshot].
// It allocates only the Replicas slice.
func (s *Source) Snapshot() SourceSnapshot {
	var out SourceSnapshot
	s.SnapshotInto(&out)
	return out
}

// SnapshotInto is [Source.Snapshot] writing into dst. It reuses
// dst.Replicas and does not allocate when its capacity suffices.
func (s *Source) SnapshotInto(dst *SourceSnapshot) {
	var raw [numCounters]int64
	var offs [NumSwitchOffReasons]uint64
	s.cut.Lock()
	for i := range raw {
		raw[i] = s.counters[i].Load()
	}
	for i := range offs {
		offs[i] = s.switchOffs[i].Load()
	}
	on := s.status.Load()
	s.cut.Unlock()
	u := func(c Counter) uint64 { return uint64(raw[c]) }
	dst.Status = on
	dst.Clients = u(Clients)
	dst.YesTx = u(YesTx)
	dst.NoTx = u(NoTx)
	dst.NoTimes = u(NoTimes)
	dst.TimefuncFailures = u(TimefuncFailures)
	dst.WaitPosBacktraverse = u(WaitPosBacktraverse)
	dst.WaitSessions = u(WaitSessions)
	dst.TxWaits = u(TxWaits)
	dst.TxWaitTime = time.Duration(raw[TxWaitTime]) * time.Microsecond
	dst.NetWaits = u(NetWaits)
	dst.NetWaitTime = time.Duration(raw[NetWaitTime]) * time.Microsecond
	dst.WaitTimeouts = u(WaitTimeouts)
	dst.RequestAck = u(RequestAck)
	dst.GetAck = u(GetAck)
	dst.StartsRefused = u(StartsRefused)
	dst.ReplicaRegressions = u(ReplicaRegressions)
	dst.SwitchOffs = offs
	s.WaitLatency.SnapshotInto(&dst.WaitLatency)
	dst.Replicas = s.Replicas.SnapshotInto(dst.Replicas[:0])
}

// TxAvgWaitTime is tx_avg_wait_time: TxWaitTime / TxWaits truncated to a
// whole microsecond, or 0 when TxWaits is 0. (MySQL divides in double
// precision and truncates, which equals this integer division for totals
// below 2^53 µs.)
func (s *SourceSnapshot) TxAvgWaitTime() time.Duration { return avgMicros(s.TxWaitTime, s.TxWaits) }

// NetAvgWaitTime is net_avg_wait_time: NetWaitTime / NetWaits truncated to
// a whole microsecond, or 0 when NetWaits is 0. It is 0 since MySQL 5.7.
func (s *SourceSnapshot) NetAvgWaitTime() time.Duration { return avgMicros(s.NetWaitTime, s.NetWaits) }

func avgMicros(total time.Duration, n uint64) time.Duration {
	if n == 0 || total <= 0 {
		return 0
	}
	return time.Duration(uint64(total.Microseconds())/n) * time.Microsecond
}
