package mysqlreplica_test

import (
	"context"
	"log"
	"time"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/interop/mysqlreplica"
	"github.com/semisync-go/semisync/relaylog"
	"github.com/semisync-go/semisync/replica"
	"github.com/semisync-go/semisync/vars"
)

// A semisync replica of a MariaDB source that reconnects after failures,
// resuming after the last event its relay file holds. (Not run: it needs a
// server; the package's tests run the same against a real one.)
func Example_replicate() {
	reg, err := vars.NewRegistry(semisync.FlavorMariaDB)
	if err != nil {
		log.Fatal(err)
	}
	if err := reg.Exec("SET GLOBAL rpl_semi_sync_slave_enabled = ON"); err != nil {
		log.Fatal(err)
	}
	// Synced: acknowledge only what the relay file has fsynced.
	rep, err := replica.New(replica.Options{Vars: reg, Durability: replica.Synced})
	if err != nil {
		log.Fatal(err)
	}
	relay, rec, err := relaylog.Open("relay.ssrl")
	if err != nil {
		log.Fatal(err) // relaylog.ErrCorrupt: inspect it with cmd/relaylog
	}
	defer relay.Close()
	if rec.Cut() {
		log.Print(rec) // what was cut, and the shorter position replication resumes from
	}

	ctx := context.Background()
	for ctx.Err() == nil {
		res, err := mysqlreplica.Replicate(ctx, mysqlreplica.Config{
			Addr: "127.0.0.1:3306", User: "repl", Password: "replpw", ServerID: 100,
			Replica: rep, Relay: relay,
		})
		log.Printf("connection ended at %v (semisync %v): %v", res.Durable, res.Negotiation.Semisync, err)
		time.Sleep(time.Second) // back off before reconnecting
	}
}
