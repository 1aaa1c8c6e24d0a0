package ackset_test

import (
	"fmt"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/ackset"
)

// Two of three replicas must hold a transaction before its commit returns.
func Example() {
	set, err := ackset.New(ackset.Count(2))
	if err != nil {
		panic(err)
	}
	start := semisync.FilePos("binlog.000001", 4)
	for id := semisync.ReplicaID(1); id <= 3; id++ {
		set.Connect(id, start)
	}
	set.Ack(1, semisync.FilePos("binlog.000001", 900))
	u := set.Ack(3, semisync.FilePos("binlog.000001", 700))
	fmt.Println(u.Quorum, u.Advanced)

	// A stale acknowledgement changes nothing.
	u = set.Ack(3, semisync.FilePos("binlog.000001", 600))
	fmt.Println(u.Quorum, u.Advanced, u.Ack)

	// Lowering the count releases what one replica holds, at once.
	u, _ = set.SetPolicy(ackset.Count(1))
	fmt.Println(u.Quorum, u.Advanced)
	// Output:
	// binlog.000001:700 true
	// binlog.000001:700 false stale
	// binlog.000001:900 true
}

// PostgreSQL-style priorities: replica 10 is synchronous while it is
// connected; when it leaves, 20 takes its place.
func ExampleFirstOf() {
	set, _ := ackset.New(ackset.FirstOf(1, 10, 20))
	set.Connect(10, semisync.LSN(100))
	set.Connect(20, semisync.LSN(500))
	fmt.Println(set.Quorum())
	u, _ := set.Disconnect(10)
	fmt.Println(u.Quorum, u.Advanced)
	// Output:
	// 100
	// 500 true
}

// Two acknowledgements that span two zones.
func ExampleSpread() {
	zones := map[semisync.ReplicaID]string{1: "east", 2: "east", 3: "west"}
	set, _ := ackset.New(ackset.Spread(2, 2, zones))
	for id := semisync.ReplicaID(1); id <= 3; id++ {
		set.Connect(id, semisync.LSN(0))
	}
	set.Ack(1, semisync.LSN(40))
	set.Ack(2, semisync.LSN(40))
	fmt.Println(set.Quorum()) // both in the east: not enough
	set.Ack(3, semisync.LSN(30))
	fmt.Println(set.Quorum())
	// Output:
	// 0
	// 30
}
