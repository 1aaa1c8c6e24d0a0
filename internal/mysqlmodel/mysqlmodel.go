// Package mysqlmodel models parts of MySQL's semisync source closely
// enough to reproduce their known bugs in tests: package ackset's tests
// compare its quorum arithmetic with MySQL's, and package semisynctest's
// show that the simulation's checkers catch MySQL's.
package mysqlmodel

import "github.com/semisync-go/semisync"

// AckContainer models MySQL 8.0's AckContainer (spec §6.2), for wait_for_replica_count n: n-1 slots; a new replica
// takes the highest-index free slot (the slot scan remembers the last
// empty one it passes); when the container is full, the n-th distinct
// replica's ACK reports the "minimum" slot below it, which before
// mysql-server PR #509 is the last such slot by index, not the smallest.
// Fixed chooses the smallest, as the PR does.
type AckContainer struct {
	slots    []slot
	greatest semisync.Position
	fixed    bool
}

type slot struct {
	id  semisync.ReplicaID
	pos semisync.Position
	set bool
}

// NewAckContainer returns an empty container for wait count n (at least
// 1): with the bug of mysql-server PR #509, or fixed.
func NewAckContainer(n int, fixed bool) *AckContainer {
	return &AckContainer{slots: make([]slot, max(n, 1)-1), fixed: fixed}
}

// Insert takes replica id's ACK of pos and returns the position to report
// (MySQL's reportReplyBinlog), if any.
func (c *AckContainer) Insert(id semisync.ReplicaID, pos semisync.Position) (semisync.Position, bool) {
	if pos.Compare(c.greatest) <= 0 {
		return semisync.Position{}, false
	}
	empty := len(c.slots)
	for i := range c.slots {
		switch {
		case !c.slots[i].set:
			empty = i
		case c.slots[i].id == id:
			c.slots[i].pos = pos // no check that it moves forward
			return semisync.Position{}, false
		}
	}
	if empty < len(c.slots) {
		c.slots[empty] = slot{id: id, pos: pos, set: true}
		return semisync.Position{}, false
	}
	// Full: this is the n-th distinct replica.
	minIdx := -1
	for i := range c.slots {
		if c.slots[i].pos.Compare(pos) >= 0 {
			continue
		}
		// The bug: without the fix, the last slot below pos wins, not the
		// least.
		if !c.fixed || minIdx < 0 || c.slots[i].pos.Compare(c.slots[minIdx].pos) < 0 {
			minIdx = i
		}
	}
	if minIdx < 0 {
		c.greatest = pos
		c.clear(pos)
		return pos, true
	}
	c.greatest = c.slots[minIdx].pos
	c.clear(c.greatest)
	for i := range c.slots {
		if !c.slots[i].set {
			empty = i
		}
	}
	c.slots[empty] = slot{id: id, pos: pos, set: true}
	return c.greatest, true
}

// clear empties the slots holding p.
func (c *AckContainer) clear(p semisync.Position) {
	for i := range c.slots {
		if c.slots[i].set && c.slots[i].pos == p {
			c.slots[i] = slot{}
		}
	}
}
