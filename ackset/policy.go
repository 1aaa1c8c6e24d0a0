package ackset

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/semisync-go/semisync"
)

// ErrInvalidPolicy is wrapped by every error [Policy.Validate] returns.
var ErrInvalidPolicy = errors.New("ackset: invalid policy")

// Kind names the rule a [Policy] applies.
type Kind uint8

const (
	// KindCount is MySQL's rpl_semi_sync_source_wait_for_replica_count: any N
	// distinct connected replicas.
	KindCount Kind = iota
	// KindAny is PostgreSQL's ANY N (names): any N of a named set.
	KindAny
	// KindFirst is PostgreSQL's FIRST N (names): the N highest-priority
	// connected members of a list must all acknowledge.
	KindFirst
	// KindGroups needs N replicas that span at least K distinct groups
	// (zones, data centres), like a MongoDB tag-set write concern.
	KindGroups
)

var kindNames = [...]string{"COUNT", "ANY", "FIRST", "GROUPS"}

// String returns COUNT, ANY, FIRST or GROUPS.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Policy says which sets of replicas make a quorum. A Policy is an immutable
// value: the constructors copy what they are given. Build one with [Count],
// [AnyOf], [FirstOf] or [Spread]; [New] and [Set.SetPolicy] validate it.
//
// The zero Policy is invalid.
type Policy struct {
	kind    Kind
	n, k    int
	members []semisync.ReplicaID          // AnyOf: the set; FirstOf: highest priority first
	groups  map[semisync.ReplicaID]string // Spread
}

// Count is MySQL's rule: a position is acknowledged once n distinct
// connected replicas have acknowledged it (n = 1: any one of them). It is
// rpl_semi_sync_source_wait_for_replica_count.
func Count(n int) Policy { return Policy{kind: KindCount, n: n} }

// AnyOf needs n acknowledgements from members of the given set; replicas
// outside the set may connect and acknowledge but never count.
func AnyOf(n int, members ...semisync.ReplicaID) Policy {
	return Policy{kind: KindAny, n: n, members: slices.Clone(members)}
}

// FirstOf follows PostgreSQL's FIRST n (list): the synchronous replicas are
// the n connected members that come first in the list, and a position is
// acknowledged when all of them have acknowledged it. While fewer than n
// members are connected nothing is acknowledged. When a synchronous member
// disconnects the next connected member in the list takes its place, which
// can acknowledge more at once.
func FirstOf(n int, priority ...semisync.ReplicaID) Policy {
	return Policy{kind: KindFirst, n: n, members: slices.Clone(priority)}
}

// Spread needs n acknowledging replicas that between them cover at least k
// distinct groups. groups maps a replica to its group (a zone, say); a
// replica not in the map counts towards n but covers no group.
func Spread(n, k int, groups map[semisync.ReplicaID]string) Policy {
	p := Policy{kind: KindGroups, n: n, k: k, groups: make(map[semisync.ReplicaID]string, len(groups))}
	for id, g := range groups {
		p.groups[id] = g
	}
	return p
}

// Kind returns the policy's rule.
func (p Policy) Kind() Kind { return p.kind }

// N returns the number of acknowledging replicas the policy needs.
func (p Policy) N() int { return p.n }

// K returns the number of distinct groups a [Spread] policy needs (0 for the
// other kinds).
func (p Policy) K() int { return p.k }

// Members returns a copy of the set ([AnyOf]) or priority list ([FirstOf]);
// nil for the other kinds.
func (p Policy) Members() []semisync.ReplicaID { return slices.Clone(p.members) }

// Counts reports whether replica id's acknowledgements can ever count
// towards the policy: a member of the set ([AnyOf]) or list ([FirstOf]);
// any replica for [Count] and [Spread].
func (p Policy) Counts(id semisync.ReplicaID) bool {
	if p.kind == KindAny || p.kind == KindFirst {
		return slices.Contains(p.members, id)
	}
	return true
}

// Group returns the group of replica id under a [Spread] policy.
func (p Policy) Group(id semisync.ReplicaID) (string, bool) {
	g, ok := p.groups[id]
	return g, ok
}

// String describes the policy in PostgreSQL-like syntax, for example
// "COUNT 2", "ANY 2 (1, 2, 3)", "FIRST 1 (3, 1)" or "GROUPS 2 SPANNING 2".
func (p Policy) String() string {
	switch p.kind {
	case KindAny, KindFirst:
		ids := make([]string, len(p.members))
		for i, id := range p.members {
			ids[i] = id.String()
		}
		return fmt.Sprintf("%s %d (%s)", p.kind, p.n, strings.Join(ids, ", "))
	case KindGroups:
		return fmt.Sprintf("%s %d SPANNING %d", p.kind, p.n, p.k)
	}
	return fmt.Sprintf("%s %d", p.kind, p.n)
}

// Validate reports why p can never be used, or nil. A policy that asks for
// more replicas than are connected right now is valid: it is simply not
// satisfied yet (see [Set.Satisfiable]). A policy that no set of replicas
// could ever satisfy is not.
func (p Policy) Validate() error {
	if int(p.kind) >= len(kindNames) {
		return fmt.Errorf("%w: unknown kind %d (build policies with Count, AnyOf, FirstOf or Spread)", ErrInvalidPolicy, p.kind)
	}
	if p.n < 1 {
		return fmt.Errorf("%w: %s needs at least 1 acknowledgement, got %d", ErrInvalidPolicy, p.kind, p.n)
	}
	switch p.kind {
	case KindAny, KindFirst:
		if p.n > len(p.members) {
			return fmt.Errorf("%w: %s %d names only %d replicas", ErrInvalidPolicy, p.kind, p.n, len(p.members))
		}
		seen := make(map[semisync.ReplicaID]bool, len(p.members))
		for _, id := range p.members {
			if seen[id] {
				return fmt.Errorf("%w: %s names replica %d twice", ErrInvalidPolicy, p.kind, id)
			}
			seen[id] = true
		}
	case KindGroups:
		if p.k < 1 || p.k > p.n {
			return fmt.Errorf("%w: GROUPS %d needs between 1 and %d distinct groups, got %d", ErrInvalidPolicy, p.n, p.n, p.k)
		}
		distinct := make(map[string]bool)
		for id, g := range p.groups {
			if g == "" {
				return fmt.Errorf("%w: replica %d has an empty group name (leave it out of the map instead)", ErrInvalidPolicy, id)
			}
			distinct[g] = true
		}
		if len(distinct) < p.k {
			return fmt.Errorf("%w: GROUPS %d SPANNING %d, but the map has only %d distinct groups", ErrInvalidPolicy, p.n, p.k, len(distinct))
		}
	}
	return nil
}
