package status

import "strconv"

// Counter names one of the source's counters or gauges. The source package
// records into them with [Source.Add] or [Source.Update]; hosts read them through
// [Source.Snapshot].
//
// Each constant's comment says exactly when MySQL changes the value (spec §2,
// §5.2, §7) and its unit, so that the recording side can follow MySQL.
// Values never go below zero: a decrement that would cross zero stops at
// zero.
type Counter uint8

const (
	// Clients is a gauge: the number of connected semisynchronous replicas
	// (status variable clients). +1 when a dump session starts for a
	// connection that declared itself semisync (user variable
	// @rpl_semi_sync_replica or @rpl_semi_sync_slave non-zero, spec §7.1),
	// even while the source is disabled; −1 when that dump session ends
	// (spec §7.2, transmit_stop). RESET MASTER does not touch it. Unit:
	// connections.
	Clients Counter = iota
	// YesTx counts commits acknowledged in semisync mode (yes_tx): +1 at the
	// end of each commit wait (commitTrx) when status is ON at that point
	// and the transaction had an active-transaction node, including the case
	// where an ACK already covered the position so no wait was needed (spec
	// §5.2 step 7). MariaDB counts it only when the ACK was actually
	// observed (spec §10). Unit: transactions.
	YesTx
	// NoTx counts commits that ended without semisync acknowledgement
	// (no_tx): +1 at the end of every other commit wait — status OFF on
	// entry, switched OFF during the wait (timeout or any other switch-off),
	// or no active node (the transaction was written while status was OFF or
	// before the source was enabled). Nothing is counted when the source is
	// disabled or the transaction has no binlog position (spec §5.2 steps 2
	// and 7). Unit: transactions.
	NoTx
	// NoTimes counts switch-offs to asynchronous mode (no_times). MySQL
	// counts every switch_off() call: commit-wait timeout, replica loss with
	// wait_no_replica=OFF, shutdown, wait_no_replica set OFF with no clients,
	// active-node allocation failure, and disabling the source even when
	// status was already OFF (spec §4.4). MariaDB counts only real ON→OFF
	// transitions. Record it with [Source.SwitchOff], which also counts the
	// reason, not with Add. Unit: switch-offs.
	NoTimes
	// TimefuncFailures counts clock failures (timefunc_failures): +1 when,
	// after a wakeup that was not a timeout, the time elapsed since the wait
	// began is negative (the clock went backwards); that wakeup then adds
	// nothing to TxWaits or TxWaitTime (spec §5.2 step 5f).
	// [Source.RecordTxWait] does this for a negative duration. Unit: events.
	TimefuncFailures
	// WaitPosBacktraverse counts out-of-order waiters
	// (wait_pos_backtraverse): +1 when a session about to wait has a
	// position less than or equal to (≤, not <) the current smallest waiting
	// position, that is, a waiter for an earlier or equal position arrives
	// after one for a later position. Not counted when no waiting position
	// is set (spec §5.2 step 5c). Unit: events.
	WaitPosBacktraverse
	// WaitSessions is a gauge: the sessions currently blocked waiting for an
	// ACK (wait_sessions). +1 right before the timed wait, −1 right after it
	// (spec §5.2 step 5e). Decrements stop at zero, as in MySQL, because
	// RESET MASTER may zero it while sessions wait. Unit: sessions.
	WaitSessions
	// TxWaits counts successful wakeups of commit waits (tx_waits): +1 per
	// wakeup that was not a timeout; a session woken several times before
	// its ACK arrives counts several times (spec §5.2 step 5f). Record it in
	// the same [Source.Update] as TxWaitTime (or use [Source.RecordTxWait]) so that
	// snapshots see both. Unit: wakeups.
	TxWaits
	// TxWaitTime is the total commit wait time (tx_wait_time), in
	// microseconds: on each successful wakeup, += the time since the start
	// of this commitTrx call (not since the previous wakeup), truncated to
	// whole microseconds. Timeouts add nothing (spec §5.2 step 5f).
	// Unit: µs.
	TxWaitTime
	// NetWaits counts ACK requests sent (net_waits). Since MySQL 5.7: +1
	// each time a dump session sent an event with the reply-required flag
	// and flushed the socket (spec §7.2 after_send_event); MariaDB does the
	// same. (In 5.5/5.6 it counted the dump thread's timed reply reads.)
	// Unit: events.
	NetWaits
	// NetWaitTime is the time dump sessions spent blocked reading ACKs
	// (net_wait_time), in microseconds. It is always 0 since MySQL 5.7,
	// where a separate receiver reads ACKs, but MySQL and MariaDB still show
	// it (and net_avg_wait_time), so it is kept. Unit: µs.
	NetWaitTime
	// WaitTimeouts counts commit waits that timed out (+1 per timeout, which
	// then switches the source OFF: spec §4.4 trigger 1, §5.2 step 5f).
	// MySQL counts it but shows it in no status variable, so it appears only
	// in [SourceSnapshot], never in SHOW output. RESET MASTER does not zero
	// it. Unit: timeouts.
	WaitTimeouts
	// RequestAck is MariaDB's request_ack: +1 per transaction inserted into
	// the active-transaction list while status is ON (the after-flush hook).
	// Only FlavorMariaDB shows it. RESET MASTER does not zero it.
	// Unit: transactions.
	RequestAck
	// GetAck is MariaDB's get_ack: +1 per well-formed ACK packet received
	// from any replica, before it is processed. Only FlavorMariaDB shows it.
	// RESET MASTER does not zero it. Unit: ACK packets.
	GetAck
	// StartsRefused counts dump requests refused because the replica asked
	// to start after the end of the binlog as the source knows it: +1 per
	// refused registration, which changes nothing else. MySQL's dump thread
	// refuses such a request with error 1236 before semisync sees it; the
	// source checks it too, because the start position counts as an
	// acknowledgement (spec §7.1). A library extension: it appears only in
	// [SourceSnapshot], never in SHOW output, and RESET MASTER does not
	// zero it. Unit: registrations.
	StartsRefused
	// ReplicaRegressions counts replicas that registered again with a start
	// position before one they had already acknowledged to this source
	// (since the last RESET MASTER): +1 per such registration. The replica
	// lost acknowledged events (a relay log cut after a power failure,
	// relay_log_recovery, a restored backup); MySQL does not notice. A
	// library extension: it appears only in [SourceSnapshot], never in SHOW
	// output, and RESET MASTER does not zero it. Unit: registrations.
	ReplicaRegressions

	numCounters
)

// counterNames holds the MySQL suffix of each counter's status variable.
var counterNames = [numCounters]string{
	Clients:             "clients",
	YesTx:               "yes_tx",
	NoTx:                "no_tx",
	NoTimes:             "no_times",
	TimefuncFailures:    "timefunc_failures",
	WaitPosBacktraverse: "wait_pos_backtraverse",
	WaitSessions:        "wait_sessions",
	TxWaits:             "tx_waits",
	TxWaitTime:          "tx_wait_time",
	NetWaits:            "net_waits",
	NetWaitTime:         "net_wait_time",
	WaitTimeouts:        "wait_timeouts",
	RequestAck:          "request_ack",
	GetAck:              "get_ack",
	StartsRefused:       "starts_refused",
	ReplicaRegressions:  "replica_regressions",
}

// resetByResetMaster lists what RESET MASTER (RESET BINARY LOGS AND GTIDS)
// zeroes, in MySQL and MariaDB alike (spec §2, §4.6): not Clients, not
// WaitTimeouts, not MariaDB's RequestAck and GetAck, and none of this
// library's extensions (StartsRefused, ReplicaRegressions).
var resetByResetMaster = [...]Counter{
	YesTx, NoTx, NoTimes, TimefuncFailures, WaitSessions,
	WaitPosBacktraverse, TxWaits, TxWaitTime, NetWaits, NetWaitTime,
}

// String returns the counter's name as in its status variable's suffix
// ("yes_tx", "tx_wait_time", "wait_timeouts"), or "Counter(n)" for an
// undefined value.
func (c Counter) String() string {
	if c.Valid() {
		return counterNames[c]
	}
	return "Counter(" + strconv.Itoa(int(c)) + ")"
}

// Valid reports whether c is one of the defined counters.
func (c Counter) Valid() bool { return c < numCounters }

// SwitchOffReason says why the source switched from semisynchronous to
// asynchronous mode (spec §4.4). MySQL counts switch-offs only in total
// (no_times); [SourceSnapshot.SwitchOffs] counts them per reason.
type SwitchOffReason uint8

const (
	// ReasonTimeout: a commit wait timed out (spec §4.4 trigger 1).
	ReasonTimeout SwitchOffReason = iota
	// ReasonReplicaLoss: a semisync replica disconnected, leaving exactly
	// wait_for_replica_count−1 clients, while wait_no_replica is OFF
	// (trigger 2).
	ReasonReplicaLoss
	// ReasonShutdown: the server is shutting down with too few replicas,
	// seen on disconnect or by a session about to wait (triggers 2 and 3).
	ReasonShutdown
	// ReasonWaitNoReplica: wait_no_replica was set OFF while no semisync
	// replica was connected (trigger 4).
	ReasonWaitNoReplica
	// ReasonInternal: an internal failure, such as the active-transaction
	// node allocation failing or a binlog write arriving out of order
	// (trigger 5). Undefined reasons passed to SwitchOff count here too.
	ReasonInternal
	// ReasonDisabled: the source was disabled (trigger 6); MySQL counts this
	// even when status was already OFF.
	ReasonDisabled
)

// NumSwitchOffReasons is the number of defined [SwitchOffReason] values:
// the length of [SourceSnapshot.SwitchOffs].
const NumSwitchOffReasons = int(ReasonDisabled) + 1

var reasonNames = [NumSwitchOffReasons]string{
	ReasonTimeout:       "timeout",
	ReasonReplicaLoss:   "replica_loss",
	ReasonShutdown:      "shutdown",
	ReasonWaitNoReplica: "wait_no_replica",
	ReasonInternal:      "internal",
	ReasonDisabled:      "disabled",
}

// String returns "timeout", "replica_loss", "shutdown", "wait_no_replica",
// "internal" or "disabled", or "SwitchOffReason(n)" for an undefined value.
func (r SwitchOffReason) String() string {
	if r.Valid() {
		return reasonNames[r]
	}
	return "SwitchOffReason(" + strconv.Itoa(int(r)) + ")"
}

// Valid reports whether r is one of the defined reasons.
func (r SwitchOffReason) Valid() bool { return int(r) < NumSwitchOffReasons }
