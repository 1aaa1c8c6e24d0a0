package binlog_test

import (
	"fmt"
	"log"
	"os"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/examples/binlog"
)

// A binlog on disk: a commit group is appended and synced with one fsync;
// a cursor (what a replica's sender reads) then sees it, and reopening the
// file finds it again.
func ExampleFile() {
	dir, err := os.MkdirTemp("", "binlog")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	b, _, err := binlog.OpenFile(dir, "binlog") // a new file: nothing to recover
	if err != nil {
		log.Fatal(err)
	}
	for _, tx := range []string{"INSERT 1", "INSERT 2"} { // one group
		if _, err := b.Append([]byte(tx)); err != nil {
			log.Fatal(err)
		}
	}
	// A source host calls source.Flushed(b.Head()) here, then:
	if err := b.Sync(); err != nil { // durable, and readable by cursors
		log.Fatal(err)
	}

	c, _ := b.Open(b.Head()) // a replica caught up: nothing new
	_, more, _ := c.Next()
	fmt.Println("new events after the head:", more)
	c.Close()
	b.Close()

	b, rec, err := binlog.OpenFile(dir, "binlog")
	if err != nil {
		log.Fatal(err) // a *relaylog.CorruptError: damage to synced events
	}
	defer b.Close()
	if rec.Cut() {
		log.Printf("the binlog lost its last events: %v", rec)
	}
	c, _ = b.Open(semisync.Position{}) // from the beginning
	for {
		ev, ok, _ := c.Next()
		if !ok {
			break
		}
		fmt.Printf("%q ends at %v\n", ev.Data, ev.End)
	}
	c.Close()
	// Output:
	// new events after the head: false
	// "INSERT 1" ends at binlog.000001:12
	// "INSERT 2" ends at binlog.000001:20
}
