package source

import (
	"fmt"
	"time"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/status"
)

// EventKind names a state change a Source reports to its Observer.
type EventKind uint8

const (
	// EventSwitchedOff: status went from ON to OFF (asynchronous mode).
	// Event.Reason says why. A switch-off while status is already OFF
	// (MySQL counts one when the source is disabled) is not reported.
	EventSwitchedOff EventKind = iota + 1
	// EventSwitchedOn: status went from OFF to ON. Event.Trigger says why.
	EventSwitchedOn
	// EventReplicaJoined: a semisync replica session was registered.
	// Event.Replica and Event.Position (its start position) are set.
	EventReplicaJoined
	// EventReplicaLeft: a replica session was closed. Event.Replica is set.
	EventReplicaLeft
	// EventWaitStalled: commits have been waiting longer than
	// Options.StallAfter. Event.Waiters is the number waiting, Event.Position
	// the oldest one's position and Event.Blocked how long it has waited.
	// Reported at most once per StallAfter.
	EventWaitStalled
	// EventEnabled: rpl_semi_sync_source_enabled went OFF→ON.
	EventEnabled
	// EventDisabled: rpl_semi_sync_source_enabled went ON→OFF.
	EventDisabled
	// EventStartRefused: Source.Register refused a replica whose start
	// position lay after the binlog's end as the source knew it
	// (ErrStartBeyondEnd, counted in starts_refused): a replica that has
	// events this source never wrote, or a peer that forged a position.
	// Event.Replica, Event.Position (the start asked for) and Event.End
	// (the binlog's end; zero if the source knew of none) are set.
	EventStartRefused
	// EventReplicaRegressed: a replica registered again with a start
	// position before one it had already acknowledged to this source since
	// RESET MASTER, so it lost events it had acknowledged (a relay log cut
	// by a crash, relay_log_recovery, a restored backup); counted in
	// replica_regressions. It follows the replica's EventReplicaJoined.
	// Event.Replica, Event.Position (the new start) and Event.Previous (the
	// highest position it had acknowledged) are set. See Tail for what it
	// means for the acknowledged commits.
	EventReplicaRegressed
)

var eventNames = [...]string{
	EventSwitchedOff:      "switched-off",
	EventSwitchedOn:       "switched-on",
	EventReplicaJoined:    "replica-joined",
	EventReplicaLeft:      "replica-left",
	EventWaitStalled:      "wait-stalled",
	EventEnabled:          "enabled",
	EventDisabled:         "disabled",
	EventStartRefused:     "start-refused",
	EventReplicaRegressed: "replica-regressed",
}

// String returns a lower-case name such as "switched-off".
func (k EventKind) String() string {
	if int(k) < len(eventNames) && eventNames[k] != "" {
		return eventNames[k]
	}
	return fmt.Sprintf("EventKind(%d)", uint8(k))
}

// Trigger says why a source switched ON (spec §4.5).
type Trigger uint8

const (
	// TriggerCatchUp: the replicas acknowledged the newest written
	// transaction (with the quorum policy, so N replicas must catch up).
	TriggerCatchUp Trigger = iota + 1
	// TriggerWaitNoReplica: rpl_semi_sync_source_wait_no_replica was set
	// OFF→ON, which forces status ON without any catch-up check.
	TriggerWaitNoReplica
	// TriggerEnable: the source was enabled (or created enabled).
	TriggerEnable
)

var triggerNames = [...]string{
	TriggerCatchUp:       "catch-up",
	TriggerWaitNoReplica: "wait-no-replica",
	TriggerEnable:        "enable",
}

// String returns a lower-case name such as "catch-up".
func (t Trigger) String() string {
	if int(t) < len(triggerNames) && triggerNames[t] != "" {
		return triggerNames[t]
	}
	return fmt.Sprintf("Trigger(%d)", uint8(t))
}

// Event is one state change. It is a plain value; which fields are set
// depends on Kind.
type Event struct {
	Kind     EventKind
	Time     time.Time              // when it happened
	Reason   status.SwitchOffReason // EventSwitchedOff
	Trigger  Trigger                // EventSwitchedOn
	Replica  semisync.ReplicaID     // joined, left, start refused, regressed
	Position semisync.Position      // joined, refused, regressed: start; stalled: oldest waiter
	Waiters  int                    // EventWaitStalled
	Blocked  time.Duration          // EventWaitStalled
	Previous semisync.Position      // EventReplicaRegressed: the highest position acknowledged before
	End      semisync.Position      // EventStartRefused: the binlog's end as the source knew it
}

// String renders the event for logs.
func (e Event) String() string {
	switch e.Kind {
	case EventSwitchedOff:
		return "switched-off reason=" + e.Reason.String()
	case EventSwitchedOn:
		return "switched-on trigger=" + e.Trigger.String()
	case EventReplicaJoined:
		return fmt.Sprintf("replica-joined id=%d start=%s", e.Replica, e.Position)
	case EventReplicaLeft:
		return fmt.Sprintf("replica-left id=%d", e.Replica)
	case EventWaitStalled:
		return fmt.Sprintf("wait-stalled waiters=%d oldest=%s blocked=%s", e.Waiters, e.Position, e.Blocked)
	case EventStartRefused:
		end := e.End.String()
		if e.End.IsZero() {
			end = "none"
		}
		return fmt.Sprintf("start-refused id=%d start=%s end=%s", e.Replica, e.Position, end)
	case EventReplicaRegressed:
		return fmt.Sprintf("replica-regressed id=%d start=%s acked=%s", e.Replica, e.Position, e.Previous)
	}
	return e.Kind.String()
}

// Observer receives a Source's events. Observe is called on one goroutine
// owned by the Source, in order, never while the Source holds a lock, so it
// may call the Source's methods, except Close (which waits for that
// goroutine to end). Events still queued when Close is called are delivered
// before Close returns. A slow Observer never delays a commit or an
// acknowledgement: events that do not fit in the buffer
// (Options.EventBuffer) are dropped and counted (Source.DroppedEvents).
type Observer interface {
	Observe(Event)
}

// ObserverFunc adapts a function to an Observer.
type ObserverFunc func(Event)

// Observe calls f(e).
func (f ObserverFunc) Observe(e Event) { f(e) }

// eventRing is a bounded FIFO of events, guarded by the source's mutex.
type eventRing struct {
	buf        []Event
	head, size int
	dropped    uint64
}

func (r *eventRing) push(e Event) {
	if len(r.buf) == 0 {
		return
	}
	if r.size == len(r.buf) {
		r.dropped++
		return
	}
	r.buf[(r.head+r.size)%len(r.buf)] = e
	r.size++
}

func (r *eventRing) pop() (Event, bool) {
	if r.size == 0 {
		return Event{}, false
	}
	e := r.buf[r.head]
	r.buf[r.head] = Event{}
	r.head = (r.head + 1) % len(r.buf)
	r.size--
	return e, true
}
