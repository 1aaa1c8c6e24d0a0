package ackset

import (
	"github.com/semisync-go/semisync"
)

// AckResult says what an acknowledgement did to the acknowledging replica's
// own position.
type AckResult uint8

const (
	// AckNone: the call was not an acknowledgement (SetPolicy, Disconnect,
	// Reset).
	AckNone AckResult = iota
	// AckAccepted: the replica's position moved forward (or, for Connect, was
	// set to the announced start position).
	AckAccepted
	// AckDuplicate: the replica had acknowledged exactly this position
	// already. Nothing changed.
	AckDuplicate
	// AckStale: the position is before one the replica acknowledged earlier
	// in this session. Ignored: nothing moves backwards.
	AckStale
	// AckUnknownReplica: no session is connected under that ID. Ignored.
	AckUnknownReplica
)

var ackResultNames = [...]string{"none", "accepted", "duplicate", "stale", "unknown-replica"}

// String returns a lower-case name such as "stale".
func (r AckResult) String() string {
	if int(r) < len(ackResultNames) {
		return ackResultNames[r]
	}
	return "AckResult(?)"
}

// Update reports the effect of one call on a [Set].
type Update struct {
	// Quorum is the quorum position after the call.
	Quorum semisync.Position
	// Advanced is true when the call moved Quorum forward: every position at
	// or before Quorum may now be released.
	Advanced bool
	// Ack classifies the acknowledgement itself (AckNone for calls that are
	// not one).
	Ack AckResult
}

// replica is the state of one connected replica.
type replica struct {
	id   semisync.ReplicaID
	pos  semisync.Position
	rank int // index in Set.order

	// Derived from the policy; refreshed by SetPolicy.
	member bool // counts under KindCount, KindAny and KindGroups
	group  int  // KindGroups: index of the replica's group, or -1
}

// Set tracks the acknowledged position of every connected replica and
// answers "what is the highest position a quorum has acknowledged?".
//
// A Set is pure bookkeeping: no locks, no clock, no I/O, no goroutines. It is
// not safe for concurrent use; the owner (a source) serialises calls. In
// steady state (acknowledgements from connected replicas) no method
// allocates.
//
// # Semantics
//
// Only connected replicas count. Connect starts a session with the position
// the replica announces (MySQL treats the dump request's start position as an
// acknowledgement, spec §7.1); a second Connect under the same ID replaces
// the session, and its announced position replaces the old one even if it is
// earlier (the replica may have lost part of its relay log). Within a
// session a replica's position only moves forward: duplicate and stale
// acknowledgements are classified and ignored. Acknowledgements from IDs
// without a session are ignored.
//
// The quorum position is the highest position P such that the connected
// replicas whose positions are at or after P satisfy the policy (for
// [FirstOf]: the lowest position among the synchronous replicas). It never
// moves backwards: when replicas disconnect, reconnect from earlier
// positions, or the policy becomes stricter, what was already acknowledged
// stays acknowledged; only [Set.Reset] forgets it.
//
// Unlike MySQL's AckContainer, a disconnected replica's old acknowledgements
// do not help acknowledge later positions, and the N-th position is found
// exactly (MySQL's container can report a position fewer than N replicas
// have: mysql-server PR #509).
type Set struct {
	policy Policy
	byID   map[semisync.ReplicaID]*replica
	order  []*replica // connected replicas, latest position first
	quorum semisync.Position

	// Derived from the policy.
	prio     map[semisync.ReplicaID]int // KindFirst: index in the priority list
	slots    []*replica                 // KindFirst: connected member per priority, or nil
	groupIdx map[string]int             // KindGroups: group name -> index
	seen     []uint32                   // KindGroups: per group, the walk that last saw it
	walk     uint32
}

// New returns an empty Set with policy p, or an error wrapping
// [ErrInvalidPolicy].
func New(p Policy) (*Set, error) {
	s := &Set{byID: make(map[semisync.ReplicaID]*replica)}
	if _, err := s.SetPolicy(p); err != nil {
		return nil, err
	}
	return s, nil
}

// Policy returns the current policy.
func (s *Set) Policy() Policy { return s.policy }

// Quorum returns the highest position acknowledged by a quorum, or the zero
// Position if nothing is acknowledged yet.
func (s *Set) Quorum() semisync.Position { return s.quorum }

// Current returns the position the connected replicas acknowledge right
// now under the policy, ignoring what earlier sessions acknowledged, and
// whether they satisfy the policy at all. It can be below [Set.Quorum] after
// a replica disconnects or reconnects from an earlier position. A source uses
// it to decide when replicas have caught up (MySQL's switch-on rule, spec
// §4.5), which must be judged on the replicas that are there now.
func (s *Set) Current() (semisync.Position, bool) { return s.candidate() }

// Len returns the number of connected replicas.
func (s *Set) Len() int { return len(s.order) }

// Acked returns the position replica id has acknowledged in its current
// session, and whether it is connected.
func (s *Set) Acked(id semisync.ReplicaID) (semisync.Position, bool) {
	if r := s.byID[id]; r != nil {
		return r.pos, true
	}
	return semisync.Position{}, false
}

// ReplicaState is one connected replica as [Set.Replicas] reports it.
type ReplicaState struct {
	ID    semisync.ReplicaID // the replica
	Acked semisync.Position  // what it has acknowledged in its current session
}

// Replicas appends the connected replicas to dst, latest position first, and
// returns the extended slice. It allocates only if dst lacks capacity.
func (s *Set) Replicas(dst []ReplicaState) []ReplicaState {
	for _, r := range s.order {
		dst = append(dst, ReplicaState{ID: r.id, Acked: r.pos})
	}
	return dst
}

// Connect starts a session for replica id at the position it announces,
// which counts as an acknowledgement. If id already has a session, the new
// one replaces it (see the type's documentation). Connect allocates only for
// an ID it has not seen connected before.
func (s *Set) Connect(id semisync.ReplicaID, start semisync.Position) Update {
	r := s.byID[id]
	if r == nil {
		r = &replica{id: id, pos: start, rank: len(s.order)}
		s.derive(r)
		s.byID[id] = r
		s.order = append(s.order, r)
		if i := s.prioOf(id); i >= 0 {
			s.slots[i] = r
		}
	} else {
		r.pos = start
	}
	s.reposition(r)
	return s.recompute(AckAccepted)
}

// Disconnect ends replica id's session. It reports whether id was
// connected. Under [FirstOf] the next member in the list may take the
// departed replica's place and advance the quorum; for the other kinds a
// disconnect never advances it.
func (s *Set) Disconnect(id semisync.ReplicaID) (Update, bool) {
	r := s.byID[id]
	if r == nil {
		return Update{Quorum: s.quorum}, false
	}
	delete(s.byID, id)
	copy(s.order[r.rank:], s.order[r.rank+1:])
	s.order[len(s.order)-1] = nil
	s.order = s.order[:len(s.order)-1]
	for i := r.rank; i < len(s.order); i++ {
		s.order[i].rank = i
	}
	if i := s.prioOf(id); i >= 0 {
		s.slots[i] = nil
	}
	return s.recompute(AckNone), true
}

// Ack records that replica id holds everything up to pos. Acknowledgements
// that are duplicate, stale or from an unknown replica change nothing; the
// result says which.
func (s *Set) Ack(id semisync.ReplicaID, pos semisync.Position) Update {
	r := s.byID[id]
	if r == nil {
		return Update{Quorum: s.quorum, Ack: AckUnknownReplica}
	}
	switch c := pos.Compare(r.pos); {
	case c == 0:
		return Update{Quorum: s.quorum, Ack: AckDuplicate}
	case c < 0:
		return Update{Quorum: s.quorum, Ack: AckStale}
	}
	r.pos = pos
	s.reposition(r)
	if pos.Compare(s.quorum) <= 0 {
		// A replica at or before the quorum cannot lift it: a quorum for a
		// later position cannot include this replica, so it existed before
		// this acknowledgement and the quorum would already be there.
		return Update{Quorum: s.quorum, Ack: AckAccepted}
	}
	return s.recompute(AckAccepted)
}

// SetPolicy replaces the policy. A looser policy may acknowledge more at
// once; the Update reports it. A stricter one never takes back what was
// acknowledged. On error the Set is unchanged.
func (s *Set) SetPolicy(p Policy) (Update, error) {
	if err := p.Validate(); err != nil {
		return Update{Quorum: s.quorum}, err
	}
	s.policy = p
	s.prio, s.slots, s.groupIdx, s.seen = nil, nil, nil, nil
	switch p.kind {
	case KindFirst:
		s.prio = make(map[semisync.ReplicaID]int, len(p.members))
		for i, id := range p.members {
			s.prio[id] = i
		}
		s.slots = make([]*replica, len(p.members))
	case KindGroups:
		s.groupIdx = make(map[string]int)
		for _, g := range p.groups {
			if _, ok := s.groupIdx[g]; !ok {
				s.groupIdx[g] = len(s.groupIdx)
			}
		}
		s.seen = make([]uint32, len(s.groupIdx))
		s.walk = 0
	}
	for _, r := range s.order {
		s.derive(r)
		if i := s.prioOf(r.id); i >= 0 {
			s.slots[i] = r
		}
	}
	return s.recompute(AckNone), nil
}

// Reset forgets every acknowledgement: the quorum position and every
// connected replica's position go back to the zero Position, and the
// replicas stay connected. It is what RESET MASTER does to MySQL's ACK
// bookkeeping (spec §4.6): the binlog starts again from its first file, so
// old positions would make every new acknowledgement look stale.
func (s *Set) Reset() {
	s.quorum = semisync.Position{}
	for _, r := range s.order {
		r.pos = semisync.Position{}
	}
}

// Satisfiable reports whether the connected replicas could satisfy the
// policy at all, if they all acknowledged the same position. A source uses
// it for MySQL's replica-loss rule (with wait_no_replica OFF, semisync
// switches off when too few replicas remain, spec §4.4).
func (s *Set) Satisfiable() bool {
	switch s.policy.kind {
	case KindFirst:
		found := 0
		for _, r := range s.slots {
			if r != nil {
				found++
			}
		}
		return found >= s.policy.n
	case KindGroups:
		s.beginWalk()
		count, groups := 0, 0
		for _, r := range s.order {
			count++
			groups += s.markGroup(r)
		}
		return count >= s.policy.n && groups >= s.policy.k
	}
	count := 0
	for _, r := range s.order {
		if r.member {
			count++
		}
	}
	return count >= s.policy.n
}

// derive fills the replica's policy-dependent fields.
func (s *Set) derive(r *replica) {
	r.member, r.group = true, -1
	switch s.policy.kind {
	case KindAny:
		r.member = false
		for _, id := range s.policy.members {
			if id == r.id {
				r.member = true
				break
			}
		}
	case KindFirst:
		r.member = false
	case KindGroups:
		if g, ok := s.policy.groups[r.id]; ok {
			r.group = s.groupIdx[g]
		}
	}
}

func (s *Set) prioOf(id semisync.ReplicaID) int {
	if s.prio == nil {
		return -1
	}
	if i, ok := s.prio[id]; ok {
		return i
	}
	return -1
}

// reposition restores the latest-first order after r's position changed.
func (s *Set) reposition(r *replica) {
	i := r.rank
	for i > 0 && s.order[i-1].pos.Compare(r.pos) < 0 {
		s.order[i] = s.order[i-1]
		s.order[i].rank = i
		i--
	}
	for i+1 < len(s.order) && s.order[i+1].pos.Compare(r.pos) > 0 {
		s.order[i] = s.order[i+1]
		s.order[i].rank = i
		i++
	}
	s.order[i], r.rank = r, i
}

// beginWalk starts a new pass over the replicas for markGroup.
func (s *Set) beginWalk() {
	if s.walk++; s.walk == 0 { // wrapped: old marks could look current
		clear(s.seen)
		s.walk = 1
	}
}

// markGroup counts r's group once per walk: it returns 1 the first time the
// current walk meets the group, else 0.
func (s *Set) markGroup(r *replica) int {
	if r.group < 0 || s.seen[r.group] == s.walk {
		return 0
	}
	s.seen[r.group] = s.walk
	return 1
}

// candidate computes the policy's quorum position from the current
// sessions, ignoring the monotonic floor. ok is false when the connected
// replicas do not satisfy the policy.
func (s *Set) candidate() (p semisync.Position, ok bool) {
	n := s.policy.n
	switch s.policy.kind {
	case KindCount:
		if len(s.order) >= n {
			return s.order[n-1].pos, true
		}
	case KindAny:
		for _, r := range s.order {
			if r.member {
				if n--; n == 0 {
					return r.pos, true
				}
			}
		}
	case KindFirst:
		for _, r := range s.slots {
			if r == nil {
				continue
			}
			if !ok || r.pos.Compare(p) < 0 {
				p, ok = r.pos, true
			}
			if n--; n == 0 {
				return p, true
			}
		}
		return semisync.Position{}, false
	case KindGroups:
		s.beginWalk()
		count, groups := 0, 0
		for _, r := range s.order {
			count++
			groups += s.markGroup(r)
			if count >= n && groups >= s.policy.k {
				return r.pos, true
			}
		}
	}
	return semisync.Position{}, false
}

func (s *Set) recompute(ack AckResult) Update {
	u := Update{Ack: ack}
	if p, ok := s.candidate(); ok && p.Compare(s.quorum) > 0 {
		s.quorum, u.Advanced = p, true
	}
	u.Quorum = s.quorum
	return u
}
