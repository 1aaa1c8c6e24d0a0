package source

import (
	"time"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/ackset"
	"github.com/semisync-go/semisync/status"
)

// Session is one replica connection that asked for semisync: MySQL's
// semisync dump thread as the source sees it (spec §7). The host (or the
// transport package) creates it with Source.Register when the replica's dump
// request arrives, asks it per event whether to set the reply-required flag,
// hands it every acknowledgement, and closes it when the connection ends.
//
// A Session's methods may be called from different goroutines (typically
// ReplyRequired from the sending one, Ack from the receiving one); they
// serialise on the source's lock.
type Session struct {
	src   *Source
	id    semisync.ReplicaID
	entry *status.LedgerEntry
	mark  *ackMark // the replica's, shared by its sessions; guarded by src.mu

	// Guarded by src.mu.
	closed     bool
	superseded bool              // a newer session registered the same ID
	flagged    semisync.Position // the last event sent with the flag
	skipAfter  semisync.Position // a skipped event waits for an ACK of this
	skipTo     semisync.Position
	skipping   bool
	lastHeard  time.Time // registration, last ACK or last solicitation
}

// Register starts a semisync session for replica id whose dump begins at
// start (the position it asked to receive from). As in MySQL (spec §7.1):
// the session counts in clients even while the source is disabled (MySQL
// Bug #80122), and start counts as an acknowledgement from the replica, so a
// replica that reconnects having everything can release commits and switch
// the source back ON at once. A second session under the same ID replaces
// the first for the quorum (MySQL kills the older dump thread); the older
// one still counts in clients until it is closed.
//
// Because start counts as an acknowledgement, a start after the end of the
// binlog as the source knows it — the largest position given to Flushed or
// Appended since ResetMaster — is refused with a *StartError wrapping
// ErrStartBeyondEnd (MySQL's error 1236), counted in starts_refused and
// reported as EventStartRefused; nothing else changes. The zero Position
// (from the beginning) is always accepted. A new source knows no end until
// the host reports one, so call Appended at startup. The source knows only
// the newest end: a start inside an older binlog file, beyond that file's
// real end, cannot be checked here, and the host's binlog must refuse it
// (transport.Binlog.Open does).
//
// A replica that registers below a position it already acknowledged to
// this source since ResetMaster (an ACK or an earlier start) lost events it
// had acknowledged. It is registered as usual (its start counts, as in
// MySQL), and the source reports it: EventReplicaRegressed, the
// replica_regressions counter, the replica's ledger row
// (status.ReplicaSnapshot.Regressions) and, when a quorum had acknowledged
// some of what it lost, the commits at risk in Unacknowledged (Tail.AtRisk).
// A replica's first registration, and one at or after what it acknowledged,
// report nothing. What each replica ID acknowledged is kept in memory only,
// from New (or ResetMaster) on, one small entry per ID ever registered: a
// replica that lost data while the source restarted too is not reported,
// and a host that lets anyone register (no authentication in front of the
// source) should bound the IDs it lets in.
func (s *Source) Register(id semisync.ReplicaID, start semisync.Position) (*Session, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, ErrClosed
	}
	now := s.now()
	if !start.IsZero() && start.Compare(s.binlogEnd) > 0 {
		end := s.binlogEnd
		s.st.Add(status.StartsRefused, 1)
		s.emit(Event{Kind: EventStartRefused, Replica: id, Position: start, End: end}, now)
		s.mu.Unlock()
		return nil, &StartError{Replica: id, Start: start, End: end}
	}
	mark := s.marks[id]
	if mark == nil {
		mark = new(ackMark)
		s.marks[id] = mark
	}
	prev, regressed := mark.pos, mark.set && start.Compare(mark.pos) < 0
	// The start is the replica's acknowledgement from now on, even below
	// what it acknowledged before: only what it acknowledges after a
	// regression can make a later one.
	mark.pos, mark.set = start, true
	sess := &Session{src: s, id: id, mark: mark, lastHeard: now}
	if old := s.sessions[id]; old != nil {
		old.superseded = true
	}
	s.sessions[id] = sess
	s.clients++
	s.st.Add(status.Clients, 1)
	sess.entry = s.st.Replicas.Join(id, start, now)
	s.emit(Event{Kind: EventReplicaJoined, Replica: id, Position: start}, now)
	if regressed {
		s.st.Add(status.ReplicaRegressions, 1)
		sess.entry.RecordRegression(prev, start, now)
		s.emit(Event{Kind: EventReplicaRegressed, Replica: id, Position: start, Previous: prev}, now)
		s.regressed(start, prev)
	}
	chain := s.afterAck(s.acks.Connect(id, start), now, true)
	s.settleRisk()
	s.publish()
	s.mu.Unlock()
	wake(chain)
	return sess, nil
}

// ID returns the replica's identity.
func (x *Session) ID() semisync.ReplicaID { return x.id }

// ReplyRequired answers, for an event about to be sent to this replica that
// ends at end, whether to set the reply-required flag (0x01) in its semisync
// header: MySQL's updateSyncHeader (spec §7.2), exactly.
//
//   - Disabled: never.
//   - Status ON: when end is the end of a commit group written while ON,
//     not yet acknowledged by the quorum, and not before the smallest
//     position a commit currently waits for (MySQL's wait_pos).
//   - Status OFF: when end is at or after the newest group written (or
//     nothing was written since enable), so the source notices when the
//     replica catches up.
//
// A true answer counts one ACK request (net_waits): the host is expected to
// send the event with the flag. Call it for every event sent on the session
// (heartbeats excluded), in stream order. A superseded session (see
// Source.Register) is never asked to reply.
func (x *Session) ReplyRequired(end semisync.Position) bool {
	s := x.src
	s.mu.Lock()
	defer s.mu.Unlock()
	if !x.flag(end) {
		return false
	}
	if end.Compare(x.flagged) > 0 {
		x.flagged = end
	}
	s.st.Add(status.NetWaits, 1)
	return true
}

// flag is updateSyncHeader. Called with the source's lock held.
func (x *Session) flag(end semisync.Position) bool {
	s := x.src
	switch {
	case s.closed || x.closed || x.superseded || !s.enabled:
		return false
	case s.on:
		return end.Compare(s.acks.Quorum()) > 0 &&
			(!s.waitSet || end.Compare(s.waitPos) >= 0) &&
			s.nodes.contains(end)
	default:
		return !s.commitSet || end.Compare(s.commitPos) >= 0
	}
}

// Ack records an acknowledgement from this replica that it holds everything
// up to pos: MySQL's handleAck and reportReplyBinlog (spec §5.4, §6.1).
// Commits the quorum now covers are released; if the source is
// asynchronous and the replicas have caught up with the newest write, it
// switches back ON. Duplicate, stale and superseded-session
// acknowledgements are classified and change nothing else. Each call counts
// one ACK packet (MariaDB's get_ack).
func (x *Session) Ack(pos semisync.Position) ackset.AckResult {
	s := x.src
	s.mu.Lock()
	if s.closed || x.closed || x.superseded {
		s.mu.Unlock()
		return ackset.AckUnknownReplica
	}
	now := s.now()
	s.st.Add(status.GetAck, 1)
	x.entry.RecordAck(pos, now)
	x.mark.raise(pos, s.binlogEnd)
	x.lastHeard = now
	u := s.acks.Ack(x.id, pos)
	res := u.Ack
	if x.skipping && pos.Compare(x.skipAfter) >= 0 {
		x.skipping = false
		u2 := s.acks.Ack(x.id, x.skipTo)
		u.Quorum, u.Advanced = u2.Quorum, u.Advanced || u2.Advanced
	}
	chain := s.afterAck(u, now, true)
	s.settleRisk()
	s.publish()
	s.mu.Unlock()
	wake(chain)
	return res
}

// Skipped tells the session that the host did not send the event ending at
// end because the replica does not need it: GTID auto-positioning found the
// replica already has the transaction, or a filter (skip_replication)
// removed it. MySQL treats a skipped event as acknowledged only if its
// header would have carried the flag (spec §7.2); events it does not flag
// are never acknowledged, which stalls commits (MDEV-38486). Here every
// skipped event counts as acknowledged by this replica, but not before the
// replica has acknowledged every event sent to it with the flag (MySQL
// counts it at once): an acknowledgement the replica still owes is never
// taken as given. Events sent without the flag are, as in MySQL, taken as
// received once a later acknowledgement covers them. While a skip waits,
// SolicitAck asks for a fresh acknowledgement at once.
func (x *Session) Skipped(end semisync.Position) {
	s := x.src
	s.mu.Lock()
	if s.closed || x.closed || x.superseded {
		s.mu.Unlock()
		return
	}
	if acked, _ := s.acks.Acked(x.id); acked.Compare(x.flagged) < 0 {
		if !x.skipping {
			x.skipTo = end
		}
		x.skipping, x.skipAfter, x.skipTo = true, x.flagged, semisync.Max(x.skipTo, end)
		s.mu.Unlock()
		return
	}
	now := s.now()
	chain := s.afterAck(s.acks.Ack(x.id, end), now, true)
	s.settleRisk()
	s.publish()
	s.mu.Unlock()
	wake(chain)
}

// SolicitAck reports whether the host should ask this replica for a fresh
// acknowledgement now, for instance by setting the reply-required flag on
// the next heartbeat. It is the remedy for a lost ACK (MySQL Bug #104015,
// vitess#17749): commits have waited at least Options.SolicitAfter, this
// replica's acknowledgement could release some of them (it counts for the
// policy and is behind a waiting commit), and it has been silent (no ACK, no
// solicitation) for SolicitAfter. While a skipped event waits (see
// Skipped) and commits wait, it answers true at once. A true answer counts
// one ACK request (net_waits). Call it whenever a heartbeat is due.
func (x *Session) SolicitAck() bool {
	s := x.src
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.solicitAfter < 0 || s.closed || x.closed || x.superseded || !s.enabled || !s.on || s.whead == nil ||
		!s.acks.Policy().Counts(x.id) {
		return false
	}
	now := s.now()
	acked, _ := s.acks.Acked(x.id)
	if x.skipping && s.wtail.pos.Compare(acked) > 0 {
		// A skipped event waits for an acknowledgement of what was sent
		// before it, and commits wait: ask at once.
		x.lastHeard = now
		s.st.Add(status.NetWaits, 1)
		return true
	}
	if now.Sub(x.lastHeard) < s.solicitAfter {
		return false
	}
	waiting := false
	for w := s.whead; w != nil; w = w.next {
		if w.pos.Compare(acked) > 0 && now.Sub(w.start) >= s.solicitAfter {
			waiting = true
			break
		}
	}
	if !waiting {
		return false
	}
	x.lastHeard = now
	s.st.Add(status.NetWaits, 1)
	return true
}

// Close ends the session: clients −1 and, when it is the replica's current
// session, its acknowledgements stop counting. With wait_no_replica OFF,
// if the remaining replicas can no longer satisfy the quorum policy, the
// source switches to asynchronous mode (spec §4.4 #2, see the package
// documentation for how MySQL's code differs). Close is idempotent.
func (x *Session) Close() {
	s := x.src
	s.mu.Lock()
	if x.closed {
		s.mu.Unlock()
		return
	}
	x.closed = true
	now := s.now()
	s.clients--
	s.st.Add(status.Clients, -1)
	s.st.Replicas.Leave(x.entry, now)
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.emit(Event{Kind: EventReplicaLeft, Replica: x.id}, now)
	var chain *waiter
	if !x.superseded {
		delete(s.sessions, x.id)
		u, _ := s.acks.Disconnect(x.id)
		chain = s.afterAck(u, now, false)
		chain = s.checkReplicaLoss(now, chain)
		s.settleRisk() // FirstOf may promote a replica that holds them
	}
	s.publish()
	s.mu.Unlock()
	wake(chain)
}
