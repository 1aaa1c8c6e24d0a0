package semisynctest_test

import (
	"fmt"

	"github.com/semisync-go/semisync/replica"
	"github.com/semisync-go/semisync/semisynctest"
)

// lazyStore is a host's relay store that saves fsyncs: it syncs only
// every other batch, and claims to have synced the others.
type lazyStore struct {
	*semisynctest.DiskFile
	batches int
}

func (s *lazyStore) Sync() error {
	if s.batches++; s.batches%2 != 0 {
		return nil // "synced"
	}
	return s.DiskFile.Sync()
}

// A host property-tests its relay store: the simulator runs its store
// under every replica, crashes them, and checks that no acknowledged
// commit is lost. The lazy store is caught, and the failure shrinks to a
// scenario file.
func Example() {
	cfg := semisynctest.Config{Relay: func(d *semisynctest.DiskFile) replica.RelayLog {
		return &lazyStore{DiskFile: d}
	}}
	f, err := semisynctest.Explore(cfg, 1000, semisynctest.NoLostAck)
	if err != nil || f == nil {
		fmt.Println("no failure:", err)
		return
	}
	fmt.Print(f.Scenario())
	// Output:
	// # seed 3
	// commit
	// crash 0
	// crash 1
	// advance 3ms
	// crash 2
}
