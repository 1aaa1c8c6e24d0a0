package status

import (
	"sync/atomic"
	"time"
)

// Source holds the counters of one semisync source: every
// Rpl_semi_sync_source_* / Rpl_semi_sync_master_* status variable, the
// counters MySQL keeps without showing them, and this library's extensions.
// The zero value is ready to use; a Source must not be copied after first
// use. All methods are safe for concurrent use, lock-free and
// allocation-free, except where a method says otherwise.
//
// The source package records; hosts read with [Source.Snapshot].
type Source struct {
	seq        multiSeq
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

// Batch groups counter updates that a snapshot must see together or not at
// all, such as TxWaits and TxWaitTime. Get one from [Source.Begin], update
// through it, and call [Batch.End] exactly once, on the same goroutine and
// without blocking in between: snapshots wait while any batch is open.
// Calls on a Batch after End, or on the zero Batch, do nothing.
type Batch struct{ s *Source }

// Begin opens a batch of updates. It does not allocate.
func (s *Source) Begin() Batch {
	s.seq.begin()
	return Batch{s}
}

// End closes the batch. Further calls do nothing.
func (b *Batch) End() {
	if b.s != nil {
		b.s.seq.end()
		b.s = nil
	}
}

// Add adds delta to counter c and returns the new value. A result that would
// be negative is stored as zero (MySQL guards wait_sessions this way). An
// undefined Counter is ignored and 0 returned.
func (b *Batch) Add(c Counter, delta int64) uint64 {
	if b.s == nil || !c.Valid() {
		return 0
	}
	return uint64(addFloor(&b.s.counters[c], delta))
}

// SetStatus sets the status flag (Rpl_semi_sync_source_status): ON while
// the source runs semisynchronously, OFF after a switch-off (spec §4).
func (b *Batch) SetStatus(on bool) {
	if b.s != nil {
		b.s.status.Store(on)
	}
}

// SwitchOff records one switch_off(): status OFF, NoTimes +1 and the
// reason's count +1 (spec §4.4). Recording all three together keeps the sum
// of [SourceSnapshot.SwitchOffs] equal to NoTimes. An undefined reason is
// counted as [ReasonInternal].
func (b *Batch) SwitchOff(r SwitchOffReason) {
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

// Add adds delta to counter c as one update and returns the new value; see
// [Batch.Add].
func (s *Source) Add(c Counter, delta int64) uint64 {
	b := s.Begin()
	v := b.Add(c, delta)
	b.End()
	return v
}

// SetStatus sets the status flag as one update; see [Batch.SetStatus].
func (s *Source) SetStatus(on bool) {
	b := s.Begin()
	b.SetStatus(on)
	b.End()
}

// SwitchOff records one switch_off() as one update; see [Batch.SwitchOff].
// For MariaDB's accounting, call it only on a real ON→OFF transition.
func (s *Source) SwitchOff(r SwitchOffReason) {
	b := s.Begin()
	b.SwitchOff(r)
	b.End()
}

// RecordTxWait records one wakeup of a commit wait that was not a timeout,
// sinceStart after the wait began (spec §5.2 step 5f): TxWaits +1 and
// TxWaitTime += sinceStart in whole microseconds, as one update. A negative
// sinceStart means the clock went backwards and counts TimefuncFailures
// instead. It does not touch WaitLatency.
func (s *Source) RecordTxWait(sinceStart time.Duration) {
	b := s.Begin()
	if sinceStart < 0 {
		b.Add(TimefuncFailures, 1)
	} else {
		b.Add(TxWaits, 1)
		b.Add(TxWaitTime, sinceStart.Microseconds())
	}
	b.End()
}

// ResetMaster zeroes, as one update, what RESET MASTER (RESET BINARY LOGS
// AND GTIDS) zeroes (spec §2, §4.6): YesTx, NoTx, NoTimes, TimefuncFailures,
// WaitSessions, WaitPosBacktraverse, TxWaits, TxWaitTime, NetWaits and
// NetWaitTime, plus the per-reason switch-off counts (so that they still sum
// to NoTimes). Clients, WaitTimeouts, RequestAck, GetAck, the status flag,
// WaitLatency and Replicas are left alone.
func (s *Source) ResetMaster() {
	s.seq.begin()
	for _, c := range resetByResetMaster {
		s.counters[c].Store(0)
	}
	for i := range s.switchOffs {
		s.switchOffs[i].Store(0)
	}
	s.seq.end()
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

// SourceSnapshot is a copy of a [Source]'s counters at one instant: no
// update recorded in one [Batch] is ever half-visible. WaitLatency and
// Replicas are copied just after the counters; each is consistent on its
// own but not necessarily with the counters.
//
// Field comments give the MySQL meaning in short; the [Counter] constants
// have the full rules.
type SourceSnapshot struct {
	// Status is Rpl_semi_sync_source_status: ON (true) while the source is
	// enabled and running semisynchronously, OFF when disabled or fallen
	// back to asynchronous mode (spec §4.1).
	Status bool
	// Clients is the number of connected semisync replicas ([Clients]).
	Clients uint64
	// YesTx is the number of commits acknowledged in semisync mode ([YesTx]).
	YesTx uint64
	// NoTx is the number of commits that ended without acknowledgement
	// ([NoTx]).
	NoTx uint64
	// NoTimes is the number of switch-offs to asynchronous mode ([NoTimes]).
	NoTimes uint64
	// TimefuncFailures is the number of wakeups whose elapsed time was
	// negative ([TimefuncFailures]).
	TimefuncFailures uint64
	// WaitPosBacktraverse is the number of waiters that arrived for a
	// position ≤ the smallest one already waited for
	// ([WaitPosBacktraverse]).
	WaitPosBacktraverse uint64
	// WaitSessions is the number of sessions waiting for an ACK right now
	// ([WaitSessions]).
	WaitSessions uint64
	// TxWaits is the number of successful commit-wait wakeups ([TxWaits]).
	TxWaits uint64
	// TxWaitTime is the total of the wait times recorded with TxWaits
	// ([TxWaitTime]). MySQL keeps it in whole microseconds, so this is
	// always a multiple of a microsecond; SHOW renders it as µs.
	TxWaitTime time.Duration
	// NetWaits is the number of ACK requests sent ([NetWaits]).
	NetWaits uint64
	// NetWaitTime is the time spent blocked reading ACKs in the dump
	// session, a multiple of a microsecond, and always 0 since MySQL 5.7
	// ([NetWaitTime]).
	NetWaitTime time.Duration
	// WaitTimeouts is the number of commit waits that timed out
	// ([WaitTimeouts]); MySQL counts it but does not show it.
	WaitTimeouts uint64
	// RequestAck is MariaDB's count of transactions added to the
	// active-transaction list ([RequestAck]).
	RequestAck uint64
	// GetAck is MariaDB's count of ACK packets received ([GetAck]).
	GetAck uint64

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
	var on bool
	readConsistent(&s.seq, func() {
		for i := range raw {
			raw[i] = s.counters[i].Load()
		}
		for i := range offs {
			offs[i] = s.switchOffs[i].Load()
		}
		on = s.status.Load()
	})
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
