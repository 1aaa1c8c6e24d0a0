package semisynctest_test

import (
	"context"
	"fmt"

	"github.com/semisync-go/semisync"
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
func Example_relayStore() {
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

// toyEngine is a host's storage engine over the simulation's binlog. Its
// bug: it commits a transaction as the binlog writes it, so readers may
// see it before its commit wait returns.
type toyEngine struct {
	*semisynctest.Binlog
	rows map[int]bool
}

func (e *toyEngine) Flush(ctx context.Context, txs []semisynctest.Tx, ends []semisync.Position) error {
	for _, tx := range txs {
		e.rows[tx.N] = true // should be in Commit
	}
	return e.Binlog.Flush(ctx, txs, ends)
}

func (e *toyEngine) Visible(tx semisynctest.Tx) bool { return e.rows[tx.N] }

// A host property-tests its commit path: the simulator commits through
// its engine and binlog, and AfterSyncVisibility finds that readers see
// a commit before its wait returned.
func Example() {
	cfg := semisynctest.Config{Host: func(b *semisynctest.Binlog) semisynctest.Host {
		return &toyEngine{Binlog: b, rows: map[int]bool{}}
	}}
	f, _ := semisynctest.Explore(cfg, 1000)
	fmt.Println(f.Err)
	fmt.Print(f.Scenario())
	// Output:
	// AfterSyncVisibility: commit 1 visible at 0s, before its wait returned (3.184677ms)
	// # seed 0
	// commit
}
