package status

import (
	"sync"
	"sync/atomic"
)

// Replica holds the counters of one semisync replica (the receiving side).
// The zero value is ready to use; a Replica must not be copied after first
// use. All methods are safe for concurrent use and allocation-free. The
// counting methods are single atomic operations; StartIO and Snapshot take a
// mutex so that a snapshot never sees StartIO half done.
type Replica struct {
	mu              sync.Mutex // StartIO and Snapshot
	status          atomic.Bool
	sendAck         atomic.Uint64
	ackSendFailures atomic.Uint64
}

// StartIO records that the receiver (IO) thread started: status := enabled
// (ON when the replica side's enabled variable is ON, spec §9.1) and
// SendAck := 0 (MariaDB resets it at IO start).
func (r *Replica) StartIO(enabled bool) {
	r.mu.Lock()
	r.status.Store(enabled)
	r.sendAck.Store(0)
	r.mu.Unlock()
}

// StopIO records that the receiver thread stopped: status OFF (spec §9.1).
func (r *Replica) StopIO() { r.SetStatus(false) }

// SetStatus sets the status flag, for example OFF when negotiation finds
// that the source has no semisync support (spec §8.1).
func (r *Replica) SetStatus(on bool) { r.status.Store(on) }

// CountAckSent records one ACK written and flushed to the source (MariaDB's
// Rpl_semi_sync_slave_send_ack; some older MariaDB versions also counted an
// ACK whose flush failed).
func (r *Replica) CountAckSent() { r.sendAck.Add(1) }

// CountAckSendFailure records one ACK that could not be sent. MySQL only
// logs such failures and carries on (spec §9.2); this count is an
// extension shown in no SHOW output.
func (r *Replica) CountAckSendFailure() { r.ackSendFailures.Add(1) }

// ReplicaStatusSnapshot is a consistent copy of a [Replica]'s counters. (The
// name keeps it apart from [ReplicaSnapshot], a source's ledger entry for
// one replica.)
type ReplicaStatusSnapshot struct {
	// Status is Rpl_semi_sync_replica_status (Rpl_semi_sync_slave_status):
	// ON when the receiver thread started with semisync enabled and the
	// source supports it; OFF when it stopped or the source lacks semisync
	// (spec §2, §9.1).
	Status bool
	// SendAck is MariaDB's Rpl_semi_sync_slave_send_ack: ACKs sent since
	// the receiver thread last started. Unit: ACKs.
	SendAck uint64
	// AckSendFailures is the number of ACKs that could not be sent since
	// the Replica was created. Not a MySQL variable. Unit: ACKs.
	AckSendFailures uint64
}

// Snapshot returns a consistent copy of the counters. It does not allocate.
func (r *Replica) Snapshot() ReplicaStatusSnapshot {
	r.mu.Lock()
	defer r.mu.Unlock()
	return ReplicaStatusSnapshot{
		Status:          r.status.Load(),
		SendAck:         r.sendAck.Load(),
		AckSendFailures: r.ackSendFailures.Load(),
	}
}
