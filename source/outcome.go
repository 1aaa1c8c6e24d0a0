package source

import (
	"errors"
	"fmt"
	"time"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/status"
)

// Outcome says how a commit wait ended. In every case the transaction has
// already been committed locally (MySQL never rolls back because of
// semisync); the outcome tells the host whether a quorum of replicas holds it,
// so the host can answer its client as MySQL does (success, silently) or more
// strictly.
type Outcome uint8

const (
	// Acknowledged: a quorum of replicas holds the transaction. Counted as
	// yes_tx when the source was ON and the transaction was written while it
	// was ON (MySQL's rule); an acknowledged transaction written while the
	// source was asynchronous still counts as no_tx.
	Acknowledged Outcome = iota + 1
	// TimedOut: this wait reached its deadline (rpl_semi_sync_source_timeout
	// after it began) and switched the source to asynchronous mode
	// (spec §4.4 trigger 1). Counted as no_tx and in wait_timeouts.
	TimedOut
	// Async: the source was asynchronous (status OFF) when the wait began,
	// or the transaction was written while it was, so no acknowledgement was
	// requested for it. The wait returned at once. Counted as no_tx.
	Async
	// SwitchedOff: the wait was released because the source switched to
	// asynchronous mode while it waited: another wait timed out, too few
	// replicas remained, the source was disabled or closed. Result.Reason
	// says which. Counted as no_tx.
	SwitchedOff
	// Disabled: the source is disabled (rpl_semi_sync_source_enabled=OFF);
	// nothing was waited for and nothing counted (spec §5.2 step 2).
	Disabled
	// NoPosition: the wait was for the zero Position, which MySQL treats as
	// "this transaction wrote nothing to the binlog": nothing was waited for
	// and nothing counted.
	NoPosition
	// Cancelled: the context ended before the wait did. The transaction
	// stays committed locally and may still be acknowledged later.
	// Counted as no_tx.
	Cancelled
	// Reset: RESET MASTER (Source.ResetMaster) forgot the binlog the
	// transaction was in while it waited; it is released unacknowledged.
	// Counted as no_tx, with its wait time (tx_waits).
	Reset
)

var outcomeNames = [...]string{
	Acknowledged: "acknowledged",
	TimedOut:     "timed-out",
	Async:        "async",
	SwitchedOff:  "switched-off",
	Disabled:     "disabled",
	NoPosition:   "no-position",
	Cancelled:    "cancelled",
	Reset:        "reset",
}

// String returns a lower-case name such as "timed-out".
func (o Outcome) String() string {
	if int(o) < len(outcomeNames) && outcomeNames[o] != "" {
		return outcomeNames[o]
	}
	return fmt.Sprintf("Outcome(%d)", uint8(o))
}

// Result is what Source.Wait reports. It is a plain value; Wait never
// allocates one.
type Result struct {
	// Outcome says how the wait ended.
	Outcome Outcome
	// Reason is why the source switched off, for TimedOut (always
	// status.ReasonTimeout) and SwitchedOff.
	Reason status.SwitchOffReason
	// Waited is how long the wait blocked; zero when it returned at once.
	Waited time.Duration
}

// Acknowledged reports whether a quorum of replicas holds the transaction.
func (r Result) Acknowledged() bool { return r.Outcome == Acknowledged }

// String renders the result as "acknowledged" or "switched-off (timeout)".
func (r Result) String() string {
	if r.Outcome == SwitchedOff || r.Outcome == TimedOut {
		return r.Outcome.String() + " (" + r.Reason.String() + ")"
	}
	return r.Outcome.String()
}

var (
	// ErrClosed is returned by the methods of a Source, and of its sessions,
	// called after Source.Close.
	ErrClosed = errors.New("source: closed")
	// ErrOutOfOrder is wrapped by the error Source.Flushed returns for a
	// position at or before one already reported: MySQL's "binlog write
	// out-of-order" (spec §5.3). Nothing changes.
	ErrOutOfOrder = errors.New("source: binlog write out of order")
	// ErrInvalidOptions is wrapped by the errors New returns for bad Options.
	ErrInvalidOptions = errors.New("source: invalid options")
	// ErrStartBeyondEnd is wrapped by the error Source.Register returns
	// for a start position after the end of the binlog as the source knows
	// it (see Source.Appended): MySQL refuses such a dump request with
	// error 1236 ("Client requested master to start replication from
	// position > file size"). The start position counts as an
	// acknowledgement (spec §7.1), so accepting it would let a replica
	// acknowledge commits it was never sent. Nothing changes but the
	// starts_refused counter.
	ErrStartBeyondEnd = errors.New("source: start position beyond the end of the binlog")
)

// OrderError is the error Source.Flushed returns for a position that does not
// come after the binlog's end as the source knows it. It wraps
// ErrOutOfOrder.
type OrderError struct {
	Pos semisync.Position // the position reported
	// Last is the binlog's end as the source knew it: the largest position
	// accepted by Flushed or Appended since RESET MASTER.
	Last semisync.Position
}

func (e *OrderError) Error() string {
	return fmt.Sprintf("source: binlog write out of order: %s is not after %s", e.Pos, e.Last)
}

// Unwrap returns ErrOutOfOrder.
func (e *OrderError) Unwrap() error { return ErrOutOfOrder }

// StartError is the error Source.Register returns for a replica that asked
// to start after the end of the binlog as the source knows it: the largest
// position given to Flushed or Appended since RESET MASTER. It wraps
// ErrStartBeyondEnd. MySQL answers such a dump request with error 1236.
type StartError struct {
	Replica semisync.ReplicaID // the replica that asked
	Start   semisync.Position  // the position it asked to start from
	// End is the binlog's end as the source knew it; the zero Position if
	// no write and no end had been reported (see Source.Appended).
	End semisync.Position
}

// Error names the replica, its start and the binlog's end.
func (e *StartError) Error() string {
	if e.End.IsZero() {
		return fmt.Sprintf("source: replica %d asked to start at %s, but the source knows of no write; report the binlog's end with Appended",
			e.Replica, e.Start)
	}
	return fmt.Sprintf("source: replica %d asked to start at %s, after the end of the binlog (%s)", e.Replica, e.Start, e.End)
}

// Unwrap returns ErrStartBeyondEnd.
func (e *StartError) Unwrap() error { return ErrStartBeyondEnd }
