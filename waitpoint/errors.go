package waitpoint

import (
	"errors"
	"fmt"
)

// Stage names a step of the commit order. A *StepError says at which stage
// a commit stopped, and so how far it got.
type Stage uint8

const (
	// StageQueue: the commit's context ended while it was queued, before its
	// group was formed. Nothing was written; the transaction is not part of
	// the binlog, and the host may roll it back.
	StageQueue Stage = iota + 1
	// StageFlush: Steps.Flush failed. Flush's contract is that a failed
	// Flush leaves nothing of the group in the binlog.
	StageFlush
	// StageFlushed: Flush succeeded but returned end positions that are not
	// strictly increasing (ErrBadEnds), or reporting the group to the
	// source failed, for instance with source.ErrOutOfOrder (a host bug: the
	// binlog went backwards). The group is in the binlog, which needs
	// repair, but was neither synced nor committed; MySQL
	// treats a failed after_flush hook as a binlog write error
	// (binlog_error_action).
	StageFlushed
	// StageSync: Steps.Sync failed. The group is in the binlog (and reported
	// to the source) but may not be durable; it was not committed.
	StageSync
	// StageWait: the source's Wait panicked. It only appears with
	// ErrPanicked; a Wait that returns an error does not stop the commit.
	StageWait
	// StageCommit: Steps.Commit (the engine commit) failed. Under
	// AFTER_SYNC the group's wait has happened; under AFTER_COMMIT nobody
	// waits. Whether the transactions are visible is what the engine says.
	StageCommit
)

var stageNames = [...]string{
	StageQueue:   "queue",
	StageFlush:   "flush",
	StageFlushed: "flushed",
	StageSync:    "sync",
	StageWait:    "wait",
	StageCommit:  "commit",
}

// String returns a lower-case name such as "sync".
func (s Stage) String() string {
	if int(s) < len(stageNames) && stageNames[s] != "" {
		return stageNames[s]
	}
	return fmt.Sprintf("Stage(%d)", uint8(s))
}

// StepError is the error Pipeline.Commit returns when the commit did not
// complete: Stage says where it stopped, Err why (the step's own error,
// ctx.Err() for StageQueue, ErrBadEnds or ErrPanicked). Every member of a
// group that fails at a stage gets the same *StepError. Match the step's
// error with errors.Is or errors.As: StepError unwraps to Err.
type StepError struct {
	Stage Stage
	Err   error
}

// Error returns "waitpoint: <stage>: <error>".
func (e *StepError) Error() string {
	return "waitpoint: " + e.Stage.String() + ": " + e.Err.Error()
}

// Unwrap returns Err.
func (e *StepError) Unwrap() error { return e.Err }

var (
	// ErrInvalidOptions is wrapped by the errors New returns for a nil
	// source or steps, or bad Options.
	ErrInvalidOptions = errors.New("waitpoint: invalid options")
	// ErrBadEnds is wrapped by the StageFlushed error of a group whose Flush
	// returned end positions that are zero or not strictly increasing: the
	// source could not track them, so the group stops before the source
	// hears of it.
	ErrBadEnds = errors.New("waitpoint: Flush returned end positions out of order")
	// ErrPanicked is wrapped by the error the other members of a group get
	// when a step (or the source) panicked, or exited the leader's goroutine,
	// while the group's leader ran it. The panic itself goes on in the
	// leader's goroutine.
	ErrPanicked = errors.New("waitpoint: a step panicked")
)
