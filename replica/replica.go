package replica

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/status"
	"github.com/semisync-go/semisync/vars"
	"github.com/semisync-go/semisync/wire"
)

// Durability is how durable the relay log must make an event before the
// replica acknowledges it.
type Durability uint8

const (
	// Flushed acknowledges once the relay log has written and flushed the
	// event (RelayLog.Flush): MySQL's meaning. The event survives a crash
	// of the replica's process but not necessarily of its machine, since
	// MySQL fsyncs the relay log only per sync_relay_log (spec §9.2, B5).
	Flushed Durability = iota
	// Synced acknowledges only after the relay log has also been synced to
	// stable storage (Syncer.Sync): an acknowledged event survives a power
	// failure of the replica. Stronger than MySQL.
	Synced
)

var durabilityNames = [...]string{"flushed", "synced"}

// String returns "flushed" or "synced".
func (d Durability) String() string {
	if int(d) < len(durabilityNames) {
		return durabilityNames[d]
	}
	return fmt.Sprintf("Durability(%d)", uint8(d))
}

// RelayLog is the host's relay log: where a stream writes what it
// receives. A Stream calls it from the one goroutine that drives the
// stream, never concurrently for one stream.
type RelayLog interface {
	// Write appends one event, semisync prefix removed, that ends at end in
	// the source's binlog. The event slice is valid only during the call.
	// An error stops the stream (MySQL's IO thread stops when it cannot
	// queue an event); nothing after it is acknowledged.
	Write(event []byte, end semisync.Position) error
	// Flush makes every written event readable by the applier and safe
	// from a crash of the process (MySQL's flush of the relay log to the
	// operating system). An error stops the stream and no ACK is sent for
	// what it did not make durable.
	Flush() error
}

// Syncer is implemented by a RelayLog that can make what it has flushed
// durable on stable storage (fsync). Durability Synced requires it.
type Syncer interface {
	// Sync makes every flushed event durable. An error stops the stream.
	Sync() error
}

// Discarder is implemented by a RelayLog that can drop what was written
// since its last Flush. Stream.Close calls it when the stream ends with
// such writes, so that the next connection, which resumes from
// Stream.Durable, does not find them in the relay log a second time (MySQL
// cuts its relay log back to the last complete event on restart).
type Discarder interface {
	// Discard drops every event written since the last Flush.
	Discard()
}

// AckSender sends ACK packets to the source, on the connection that
// carries the dump (the transport package, or the host's MySQL client).
// A Stream calls it from the goroutine that drives the stream.
type AckSender interface {
	// SendAck sends one ACK for pos. payload is its wire form (see
	// wire.AppendAck), valid only during the call; send it as one packet
	// with sequence id wire.AckSeq. An error is counted and reported to
	// Options.OnAckError, and the stream goes on: as in MySQL, a lost ACK
	// costs the source a timeout, not the replica its stream (spec §9.2).
	SendAck(pos semisync.Position, payload []byte) error
}

// Options configure a Replica.
type Options struct {
	// Vars holds the replica's system variables; the one that matters is
	// rpl_semi_sync_replica_enabled (MariaDB: rpl_semi_sync_slave_enabled),
	// read when a stream opens. If nil, New creates a registry of Flavor
	// with its defaults, in which the replica side is OFF, as in MySQL: set
	// it ON before opening a stream to replicate semisynchronously.
	Vars *vars.Registry
	// Flavor names the variables and status when Vars is nil (otherwise
	// the registry's flavor is used) and picks the negotiation statements.
	Flavor semisync.Flavor
	// Durability is what the relay log must do before an ACK.
	Durability Durability
	// Status receives the status counters. If nil the replica keeps its
	// own; Replica.Counters returns it either way.
	Status *status.Replica
	// OnAckError, if set, is called with every ACK that could not be sent,
	// on the goroutine that drives the stream. It must not block.
	OnAckError func(pos semisync.Position, err error)
}

// ErrInvalidOptions is wrapped by the error New returns for bad Options.
var ErrInvalidOptions = errors.New("replica: invalid options")

// Replica is the replica side of semisync for one replication channel: its
// variables, its status (Rpl_semi_sync_replica_status, MariaDB's send_ack)
// and the streams it opens, one per connection to the source. Its methods
// are safe for concurrent use.
type Replica struct {
	reg        *vars.Registry
	flavor     semisync.Flavor
	durability Durability
	st         *status.Replica
	onAckErr   func(semisync.Position, error)

	mu   sync.Mutex
	open int // streams not yet closed
	on   int // open streams that are enabled and not refused semisync
}

// setOn moves one stream in or out of the set whose semisync is on, and
// sets the status: ON while any open stream's is. Called with r.mu held.
func (r *Replica) setOn(s *Stream, on bool) {
	if s.on == on {
		return
	}
	s.on = on
	if on {
		r.on++
	} else {
		r.on--
	}
	r.st.SetStatus(r.on > 0)
}

// New returns a replica configured by o.
func New(o Options) (*Replica, error) {
	if o.Durability > Synced {
		return nil, fmt.Errorf("%w: durability %v", ErrInvalidOptions, o.Durability)
	}
	reg := o.Vars
	if reg == nil {
		if !o.Flavor.Valid() {
			return nil, fmt.Errorf("%w: flavor %v", ErrInvalidOptions, o.Flavor)
		}
		var err error
		if reg, err = vars.NewRegistry(o.Flavor); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalidOptions, err)
		}
	}
	st := o.Status
	if st == nil {
		st = new(status.Replica)
	}
	return &Replica{reg: reg, flavor: reg.Flavor(), durability: o.Durability, st: st, onAckErr: o.OnAckError}, nil
}

// Vars returns the registry the replica reads its variables from.
func (r *Replica) Vars() *vars.Registry { return r.reg }

// Flavor returns the replica's flavor.
func (r *Replica) Flavor() semisync.Flavor { return r.flavor }

// Durability returns what the relay log must do before an ACK.
func (r *Replica) Durability() Durability { return r.durability }

// Counters returns the status counters the replica keeps.
func (r *Replica) Counters() *status.Replica { return r.st }

// Status returns a consistent copy of the status counters.
func (r *Replica) Status() status.ReplicaStatusSnapshot { return r.st.Snapshot() }

// Show returns the replica's status variables whose names match the LIKE
// pattern (SHOW STATUS LIKE), named for the replica's flavor.
func (r *Replica) Show(pattern string) []semisync.Row {
	s := r.st.Snapshot()
	return status.Show(r.flavor, pattern, nil, &s)
}

// Open starts a stream for one connection to the source: MySQL's IO thread
// starting (spec §9.1). It reads rpl_semi_sync_replica_enabled now; a later
// change applies to the next stream, as in MySQL (spec §9.3). The status
// becomes ON if enabled, until the negotiation says otherwise. start is the
// source position the stream begins at (what the dump asks for); events
// arrive after it. log receives the events; acks sends the ACKs.
//
// Durability Synced requires log to implement Syncer.
func (r *Replica) Open(start semisync.Position, log RelayLog, acks AckSender) (*Stream, error) {
	if log == nil || acks == nil {
		return nil, fmt.Errorf("%w: Open needs a relay log and an ACK sender", ErrInvalidOptions)
	}
	var syncer Syncer
	if r.durability == Synced {
		var ok bool
		if syncer, ok = log.(Syncer); !ok {
			return nil, fmt.Errorf("%w: durability synced needs a relay log with a Sync method", ErrInvalidOptions)
		}
	}
	enabled := r.reg.Config().ReplicaEnabled
	s := &Stream{r: r, log: log, syncer: syncer, acks: acks, enabled: enabled,
		written: start, durable: start, acked: start}
	r.mu.Lock()
	r.open++
	if r.open == 1 {
		// The first receiver starting: MariaDB resets send_ack here.
		r.st.StartIO(false)
	}
	r.setOn(s, enabled)
	r.mu.Unlock()
	s.publish() // so that Stats shows the start position before any Flush
	return s, nil
}

// Stream is one connection's replication stream on the replica: MySQL's
// IO thread between connect and disconnect. It decides from its own
// negotiation whether event packets carry the semisync header, writes
// events through the relay log, and acknowledges flagged events once the
// relay log has made them as durable as configured, one ACK for all the
// flagged events made durable together.
//
// A Stream is driven by one goroutine: Negotiate (or SetNegotiated), then
// for each packet Unwrap and Queue (or Heartbeat), and Flush whenever no
// more packets are waiting; Close at the end. Its accessors may be called
// from any goroutine.
type Stream struct {
	r      *Replica
	log    RelayLog
	syncer Syncer
	acks   AckSender

	enabled  bool
	on       bool // counted in Replica.on; guarded by Replica.mu
	semisync bool
	closed   bool

	written semisync.Position // end of the last event written
	dirty   bool              // written since the last flush
	durable semisync.Position // end of the last event made durable
	pending semisync.Position // highest flagged end awaiting an ACK
	owe     bool              // pending is set
	acked   semisync.Position // last position an ACK was sent for

	acksSent, ackFailures, events uint64
	scratch                       []byte
	stats                         sync.Mutex // guards the copies Stats reads
	snap                          StreamStats
}

// Enabled reports whether the replica's semisync was enabled when the
// stream opened: whether to negotiate at all.
func (s *Stream) Enabled() bool { return s.enabled }

// Negotiate runs the semisync negotiation on the connection q queries
// (wire.Negotiate with the replica's flavor) when the stream is enabled,
// and records its outcome. A disabled stream sends nothing and replicates
// asynchronously. An error means the dump must not start (as MySQL's IO
// thread fails); the stream's status is then OFF. After Close it sends
// nothing and returns ErrClosed.
func (s *Stream) Negotiate(ctx context.Context, q wire.Querier) (wire.Negotiation, error) {
	if s.closed {
		return wire.Negotiation{}, ErrClosed
	}
	if !s.enabled {
		n := wire.Negotiation{Reason: "replica semisync is disabled"}
		s.SetNegotiated(false)
		return n, nil
	}
	n, err := wire.Negotiate(ctx, s.r.flavor, q)
	s.SetNegotiated(err == nil && n.Semisync)
	return n, err
}

// SetNegotiated records the outcome of a negotiation done by other means
// (a transport's own handshake): whether this connection's event packets
// carry the semisync header. It is ignored unless the stream is enabled,
// and after Close. Status is OFF from now on if semisync was not agreed.
func (s *Stream) SetNegotiated(semisyncAgreed bool) {
	if s.closed {
		// The replica's status belongs to the streams still open.
		return
	}
	s.semisync = s.enabled && semisyncAgreed
	r := s.r
	r.mu.Lock()
	r.setOn(s, s.semisync)
	r.mu.Unlock()
	s.publish()
}

// Semisync reports whether this connection negotiated semisync: whether
// its event packets carry the header and flagged events are acknowledged.
func (s *Stream) Semisync() bool { return s.semisync }

// Unwrap takes an event packet's payload and returns the event and whether
// the source asked for an acknowledgement. On a semisync connection the
// payload must carry the semisync prefix (wire.DecodeEvent); otherwise it is
// the status byte and the event. An error (a packet that is not an event,
// a missing magic byte) must stop the stream, as MySQL's IO thread stops.
// event aliases payload. After Close it returns ErrClosed.
func (s *Stream) Unwrap(payload []byte) (event []byte, replyRequired bool, err error) {
	if s.closed {
		return nil, false, ErrClosed
	}
	if s.semisync {
		return wire.DecodeEvent(payload)
	}
	switch {
	case len(payload) == 0:
		return nil, false, fmt.Errorf("%w: empty event packet", wire.ErrShort)
	case payload[0] != wire.StatusOK:
		return nil, false, fmt.Errorf("%w: first byte %#02x", wire.ErrNotEvent, payload[0])
	}
	return payload[1:], false, nil
}

// ErrPositionOrder is wrapped by the error Queue returns for an event whose
// end position is before the previous event's: the stream is corrupt.
var ErrPositionOrder = errors.New("replica: event positions out of order")

// ErrClosed is returned by a Stream's methods after Close.
var ErrClosed = errors.New("replica: stream closed")

// Queue writes one event that ends at end through the relay log (MySQL's
// queue_event) and, when replyRequired and the stream is semisync, notes
// that end must be acknowledged once durable. Positions must not go
// backwards (ErrPositionOrder); an event may end where the previous one
// did (an empty event). A relay-log error is returned and the stream must stop.
func (s *Stream) Queue(event []byte, end semisync.Position, replyRequired bool) error {
	if s.closed {
		return ErrClosed
	}
	if end.Compare(s.written) < 0 {
		return fmt.Errorf("%w: event ending at %v arrived after %v", ErrPositionOrder, end, s.written)
	}
	if err := s.log.Write(event, end); err != nil {
		return fmt.Errorf("replica: relay log write at %v: %w", end, err)
	}
	s.written, s.dirty = end, true
	s.events++
	if replyRequired && s.semisync {
		s.pending, s.owe = end, true
	}
	return nil
}

// Heartbeat handles a heartbeat from the source. A heartbeat is not written
// to the relay log; when it asks for a reply on a semisync connection, the
// next Flush acknowledges everything written so far (which also answers a
// source that solicits a lost ACK).
func (s *Stream) Heartbeat(replyRequired bool) {
	if replyRequired && s.semisync && !s.closed {
		s.pending, s.owe = semisync.Max(s.pending, s.written), true
	}
}

// Flush makes what was queued as durable as configured and then sends one
// ACK for the highest flagged position among it. Call it when no further
// packet is waiting to be read, so that events that arrived together are
// flushed (and synced) and acknowledged together. A relay-log error is
// returned and no ACK is sent: the stream must stop. A failed ACK is only
// counted and reported (Options.OnAckError); Flush then returns nil.
func (s *Stream) Flush() error {
	if s.closed {
		return ErrClosed
	}
	if s.dirty {
		if err := s.log.Flush(); err != nil {
			return fmt.Errorf("replica: relay log flush: %w", err)
		}
		if s.syncer != nil {
			if err := s.syncer.Sync(); err != nil {
				return fmt.Errorf("replica: relay log sync: %w", err)
			}
		}
		s.durable, s.dirty = s.written, false
	}
	if s.owe {
		s.owe = false
		s.ack(s.pending)
	}
	s.publish()
	return nil
}

func (s *Stream) ack(pos semisync.Position) {
	var err error
	s.scratch, err = wire.AppendAck(s.scratch[:0], pos)
	if err == nil {
		err = s.acks.SendAck(pos, s.scratch)
	}
	if err != nil {
		s.ackFailures++
		s.r.st.CountAckSendFailure()
		if s.r.onAckErr != nil {
			s.r.onAckErr(pos, err)
		}
		return
	}
	s.acksSent++
	s.acked = semisync.Max(s.acked, pos)
	s.r.st.CountAckSent()
}

// StreamStats describes a stream at one instant.
type StreamStats struct {
	// Semisync is whether the connection negotiated semisync.
	Semisync bool
	// Events is the number of events queued.
	Events uint64
	// Written is the end of the last event written to the relay log.
	Written semisync.Position
	// Durable is the end of the last event the relay log made durable (as
	// configured): the position to reconnect from.
	Durable semisync.Position
	// Acked is the highest position acknowledged to the source.
	Acked semisync.Position
	// AcksSent and AckFailures count ACKs sent and ACKs that failed.
	AcksSent, AckFailures uint64
}

func (s *Stream) publish() {
	s.stats.Lock()
	s.snap = StreamStats{Semisync: s.semisync, Events: s.events, Written: s.written, Durable: s.durable,
		Acked: s.acked, AcksSent: s.acksSent, AckFailures: s.ackFailures}
	s.stats.Unlock()
}

// Stats returns the stream's figures as of its last Flush (or Open,
// negotiation or Close). It may be called from any goroutine.
func (s *Stream) Stats() StreamStats {
	s.stats.Lock()
	defer s.stats.Unlock()
	return s.snap
}

// Durable returns the end of the last event the relay log made durable:
// where a new connection should resume. Call it from the goroutine that
// drives the stream, or after Close.
func (s *Stream) Durable() semisync.Position { return s.durable }

// Close ends the stream: MySQL's IO thread stopping, which turns the
// replica's status OFF (spec §9.1) unless another stream of the replica is
// still open. Events written but not flushed are not acknowledged; if the
// relay log is a Discarder they are discarded. Close is
// idempotent.
func (s *Stream) Close() {
	if s.closed {
		return
	}
	s.closed = true
	if d, ok := s.log.(Discarder); ok && s.dirty {
		d.Discard()
		s.written, s.dirty = s.durable, false
	}
	s.publish()
	r := s.r
	r.mu.Lock()
	r.setOn(s, false)
	r.open--
	if r.open == 0 {
		r.st.StopIO()
	}
	r.mu.Unlock()
}
