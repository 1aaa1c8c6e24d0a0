package transport_test

import (
	"context"
	"fmt"
	"net"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/examples/binlog"
	"github.com/semisync-go/semisync/replica"
	"github.com/semisync-go/semisync/source"
	"github.com/semisync-go/semisync/transport"
	"github.com/semisync-go/semisync/vars"
)

// A source streams its binlog over loopback TCP to one semisync replica;
// three commits each wait until the replica holds them.
func Example() {
	// The source: semisync enabled, commits wait up to 10 s (the default).
	reg, _ := vars.NewRegistry(semisync.FlavorMySQL)
	_ = reg.Exec("SET GLOBAL rpl_semi_sync_source_enabled = ON")
	src, _ := source.New(source.Options{Vars: reg})
	defer src.Close()
	bl := binlog.NewMemory("binlog")
	_ = src.Appended(bl.Head()) // where the binlog ends, before serving replicas
	srv, _ := transport.NewServer(src, bl, transport.ServerOptions{})
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go srv.Serve(ln)
	defer srv.Close()

	// The replica: semisync enabled, replicating into an in-memory relay
	// log from the start of the binlog.
	rreg, _ := vars.NewRegistry(semisync.FlavorMySQL)
	_ = rreg.Exec("SET GLOBAL rpl_semi_sync_replica_enabled = ON")
	rep, _ := replica.New(replica.Options{Vars: rreg})
	relay := &binlog.Relay{}
	conn, _ := net.Dial("tcp", ln.Addr().String())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := transport.Replicate(ctx, conn, transport.ReplicaConfig{
			Replica: rep, ID: 2, Start: relay.Last(), RelayLog: relay})
		done <- err
	}()

	// Three commits, in the order a host follows: write, Flushed, publish,
	// then wait.
	for _, stmt := range []string{"INSERT 1", "INSERT 2", "UPDATE 1"} {
		end := bl.Append([]byte(stmt))
		_ = src.Flushed(end)
		bl.Publish()
		res, _ := src.Wait(context.Background(), end)
		fmt.Printf("%s ending at %v: %v\n", stmt, end, res.Outcome)
	}
	// An acknowledged commit is in the relay log.
	for _, ev := range relay.Events() {
		fmt.Printf("relay log: %q up to %v\n", ev.Data, ev.End)
	}

	cancel()
	fmt.Println("replica stopped:", <-done)
	// Output:
	// INSERT 1 ending at binlog.000001:12: acknowledged
	// INSERT 2 ending at binlog.000001:20: acknowledged
	// UPDATE 1 ending at binlog.000001:28: acknowledged
	// relay log: "INSERT 1" up to binlog.000001:12
	// relay log: "INSERT 2" up to binlog.000001:20
	// relay log: "UPDATE 1" up to binlog.000001:28
	// replica stopped: context canceled
}
