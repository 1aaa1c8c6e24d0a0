package ackset_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/ackset"
)

// mysqlAckContainer models MySQL 8.0's AckContainer (spec §6.2) closely
// enough to reproduce mysql-server PR #509: N-1 slots; a new replica takes
// the highest-index free slot (the slot scan remembers the last empty one
// it passes); and when the container is full, the "minimum" slot below the
// new ACK is the last such slot by index, not the smallest.
type mysqlAckContainer struct {
	slots    []mysqlSlot
	greatest semisync.Position
}

type mysqlSlot struct {
	id  semisync.ReplicaID
	pos semisync.Position
	set bool
}

func newMySQLAckContainer(n int) *mysqlAckContainer {
	return &mysqlAckContainer{slots: make([]mysqlSlot, n-1)}
}

// insert returns the position to report, if any.
func (c *mysqlAckContainer) insert(id semisync.ReplicaID, pos semisync.Position) (semisync.Position, bool) {
	if pos.Compare(c.greatest) <= 0 {
		return semisync.Position{}, false
	}
	empty := len(c.slots)
	for i := range c.slots {
		switch {
		case !c.slots[i].set:
			empty = i
		case c.slots[i].id == id:
			c.slots[i].pos = pos
			return semisync.Position{}, false
		}
	}
	if empty == len(c.slots) { // full: this is the N-th distinct replica
		minIdx := -1
		for i := range c.slots {
			if c.slots[i].pos.Compare(pos) < 0 {
				minIdx = i // the bug: the last one below pos, not the least
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
		c.slots[empty] = mysqlSlot{id: id, pos: pos, set: true}
		return c.greatest, true
	}
	c.slots[empty] = mysqlSlot{id: id, pos: pos, set: true}
	return semisync.Position{}, false
}

func (c *mysqlAckContainer) clear(p semisync.Position) {
	for i := range c.slots {
		if c.slots[i].set && c.slots[i].pos == p {
			c.slots[i] = mysqlSlot{}
		}
	}
}

// TestMySQLContainerDiffers shows the bug the PR #509 regression test
// guards against: with wait_for_replica_count=3, MySQL's container reports a
// position only two replicas hold, in one arrival order and not the other.
// Set reports the right position in both.
func TestMySQLContainerDiffers(t *testing.T) {
	orders := []struct {
		name      string
		acks      []ackset.ReplicaState
		mysqlSays uint64
	}{
		{"A100-B50-C200", []ackset.ReplicaState{{ID: 1, Acked: at(100)}, {ID: 2, Acked: at(50)}, {ID: 3, Acked: at(200)}}, 100},
		{"B50-A100-C200", []ackset.ReplicaState{{ID: 2, Acked: at(50)}, {ID: 1, Acked: at(100)}, {ID: 3, Acked: at(200)}}, 50},
	}
	for _, o := range orders {
		t.Run(o.name, func(t *testing.T) {
			c := newMySQLAckContainer(3)
			s := mustNew(t, ackset.Count(3))
			for id := semisync.ReplicaID(1); id <= 3; id++ {
				s.Connect(id, semisync.Position{})
			}
			var mysql, ours semisync.Position
			for _, a := range o.acks {
				if p, ok := c.insert(a.ID, a.Acked); ok {
					mysql = p
				}
				ours = s.Ack(a.ID, a.Acked).Quorum
			}
			require.Equal(t, at(o.mysqlSays), mysql, "the model of MySQL's container")
			require.Equal(t, at(50), ours, "only 50 is held by all three replicas")
		})
	}
}
