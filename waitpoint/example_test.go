package waitpoint_test

import (
	"context"
	"fmt"
	"sync"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/source"
	"github.com/semisync-go/semisync/waitpoint"
)

// memEngine is a tiny binlog and storage engine: each transaction, a name,
// takes 100 bytes of binlog. Sync hands the new binlog end to the binlog
// sender (the channel), as a host lets its dump threads read on.
type memEngine struct {
	mu      sync.Mutex
	size    uint64
	visible map[string]bool
	sender  chan semisync.Position
}

func (e *memEngine) Flush(_ context.Context, txs []string, ends []semisync.Position) error {
	for i := range txs {
		e.size += 100
		ends[i] = semisync.FilePos("binlog.000001", e.size)
	}
	fmt.Println("flush", txs, "ends", ends)
	return nil
}

func (e *memEngine) Sync(_ context.Context, end semisync.Position) error {
	fmt.Println("sync up to", end)
	e.sender <- end
	return nil
}

func (e *memEngine) Commit(_ context.Context, txs []string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, tx := range txs {
		e.visible[tx] = true
	}
	fmt.Println("commit", txs)
	return nil
}

func (e *memEngine) Visible(tx string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.visible[tx]
}

// Under AFTER_SYNC (MySQL's default) the transaction is written and synced,
// the replica receives it, and only once the replica has acknowledged it
// does the engine commit it: until then no other session can see it.
func Example() {
	src, err := source.New(source.Options{})
	if err != nil {
		panic(err)
	}
	defer src.Close()
	if err := src.Vars().Exec("SET GLOBAL rpl_semi_sync_source_enabled = ON"); err != nil {
		panic(err)
	}
	replica, err := src.Register(2, semisync.Position{})
	if err != nil {
		panic(err)
	}
	eng := &memEngine{visible: map[string]bool{}, sender: make(chan semisync.Position, 1)}

	// The binlog sender and the replica: receive up to end, acknowledge.
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		for end := range eng.sender {
			fmt.Println("replica has", end, "- t1 visible on the source:", eng.Visible("t1"))
			replica.Ack(end)
		}
	}()

	p, err := waitpoint.New(src, eng, waitpoint.Options{})
	if err != nil {
		panic(err)
	}
	res, err := p.Commit(context.Background(), "t1")
	fmt.Println(res.Position, res.WaitPoint, res.Wait, err)
	close(eng.sender)
	<-sent
	// Output:
	// flush [t1] ends [binlog.000001:100]
	// sync up to binlog.000001:100
	// replica has binlog.000001:100 - t1 visible on the source: false
	// commit [t1]
	// binlog.000001:100 AFTER_SYNC acknowledged <nil>
}
