package ackset_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/ackset"
	"github.com/semisync-go/semisync/internal/mysqlmodel"
)

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
			c := mysqlmodel.NewAckContainer(3, false)
			s := mustNew(t, ackset.Count(3))
			for id := semisync.ReplicaID(1); id <= 3; id++ {
				s.Connect(id, semisync.Position{})
			}
			var mysql, ours semisync.Position
			for _, a := range o.acks {
				if p, ok := c.Insert(a.ID, a.Acked); ok {
					mysql = p
				}
				ours = s.Ack(a.ID, a.Acked).Quorum
			}
			require.Equal(t, at(o.mysqlSays), mysql, "the model of MySQL's container")
			require.Equal(t, at(50), ours, "only 50 is held by all three replicas")
		})
	}
}
