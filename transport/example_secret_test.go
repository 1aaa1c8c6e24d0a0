package transport_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"net"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/examples/binlog"
	"github.com/semisync-go/semisync/replica"
	"github.com/semisync-go/semisync/source"
	"github.com/semisync-go/semisync/transport"
	"github.com/semisync-go/semisync/vars"
)

// The shared secret: a replica proves it knows the secret without sending
// it, and the source proves it in turn. While replica 2 streams, a
// stranger without the secret and an impostor with a wrong one both use
// replica 2's ID; both are refused, and replica 2 keeps its session. Over
// an untrusted network, use it with TLS (ServerOptions.TLSConfig).
func ExampleServer_sharedSecret() {
	// 32 random bytes, shared by the source and its replicas; a deployment
	// keeps them in its secret store.
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)

	reg, _ := vars.NewRegistry(semisync.FlavorMySQL)
	_ = reg.Exec("SET GLOBAL rpl_semi_sync_source_enabled = ON")
	src, _ := source.New(source.Options{Vars: reg})
	defer src.Close()
	bl := binlog.NewMemory("binlog")
	srv, _ := transport.NewServer(src, bl, transport.ServerOptions{Secret: secret})
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go srv.Serve(ln)
	defer srv.Close()

	newReplica := func() *replica.Replica {
		rreg, _ := vars.NewRegistry(semisync.FlavorMySQL)
		_ = rreg.Exec("SET GLOBAL rpl_semi_sync_replica_enabled = ON")
		rep, _ := replica.New(replica.Options{Vars: rreg})
		return rep
	}
	commit := func(stmt string) {
		end := bl.Append([]byte(stmt))
		_ = src.Flushed(end)
		bl.Publish()
		res, _ := src.Wait(context.Background(), end)
		fmt.Printf("%s ending at %v: %v\n", stmt, end, res.Outcome)
	}

	relay := &binlog.Relay{}
	conn, _ := net.Dial("tcp", ln.Addr().String())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := transport.Replicate(ctx, conn, transport.ReplicaConfig{
			Replica: newReplica(), ID: 2, Start: relay.Last(), RelayLog: relay, Secret: secret})
		done <- err
	}()
	commit("INSERT 1")

	for _, who := range []struct {
		name   string
		secret []byte
	}{{"stranger", nil}, {"impostor", []byte("guessed")}} {
		conn, _ := net.Dial("tcp", ln.Addr().String())
		_, err := transport.Replicate(context.Background(), conn, transport.ReplicaConfig{
			Replica: newReplica(), ID: 2, RelayLog: &binlog.Relay{}, Secret: who.secret})
		fmt.Printf("%s: %v\n", who.name, err)
	}

	commit("INSERT 2")
	st := srv.Stats()
	fmt.Printf("bad proofs %d, superseded %d, clients %d\n", st.BadProofs, st.Superseded, src.State().Clients)
	cancel()
	fmt.Println("replica 2 stopped:", <-done)
	// Output:
	// INSERT 1 ending at binlog.000001:12: acknowledged
	// stranger: transport: the source requires the shared secret, and ReplicaConfig.Secret is empty
	// impostor: transport: source refused the replica (code 5): transport: not authorised
	// INSERT 2 ending at binlog.000001:20: acknowledged
	// bad proofs 1, superseded 0, clients 1
	// replica 2 stopped: context canceled
}
