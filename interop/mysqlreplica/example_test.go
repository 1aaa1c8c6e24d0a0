package mysqlreplica_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/interop/mysqlreplica"
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
	relay, err := mysqlreplica.OpenRelayFile("relay.ssrl")
	if err != nil {
		log.Fatal(err)
	}
	defer relay.Close()

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

// A relay file keeps each event with the source position it ends at; after
// a crash, reopening it cuts a torn last record and replication resumes
// after the last whole one.
func ExampleOpenRelayFile() {
	dir, err := os.MkdirTemp("", "relay")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "relay.ssrl")

	relay, err := mysqlreplica.OpenRelayFile(path)
	if err != nil {
		log.Fatal(err)
	}
	for _, end := range []uint64{400, 431} {
		relay.Write(xidEvent(uint32(end)), semisync.FilePos("mysql-bin.000001", end))
	}
	relay.Flush()
	relay.Sync()
	relay.Close()

	// A crash in the middle of writing a third record.
	f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	f.Write([]byte{31, 0, 0, 0, 0xde, 0xad})
	f.Close()

	relay, err = mysqlreplica.OpenRelayFile(path)
	if err != nil {
		log.Fatal(err)
	}
	defer relay.Close()
	fmt.Println("resume after:", relay.Last(), "cut:", relay.Stats().Truncated, "bytes")
	mysqlreplica.ReadRelayFile(path, func(r mysqlreplica.Record) error {
		h, err := mysqlreplica.ParseHeader(r.Event)
		fmt.Println(r.End, "type", h.Type, errors.Is(err, nil))
		return nil
	})
	// Output:
	// resume after: mysql-bin.000001:431 cut: 6 bytes
	// mysql-bin.000001:400 type 16 true
	// mysql-bin.000001:431 type 16 true
}

// xidEvent builds a 31-byte XID event ending at logPos, with its CRC32.
func xidEvent(logPos uint32) []byte {
	e := make([]byte, 0, 31)
	e = binary.LittleEndian.AppendUint32(e, 1795257634)
	e = append(e, mysqlreplica.TypeXID)
	e = binary.LittleEndian.AppendUint32(e, 1)  // server id
	e = binary.LittleEndian.AppendUint32(e, 31) // size
	e = binary.LittleEndian.AppendUint32(e, logPos)
	e = binary.LittleEndian.AppendUint16(e, 0)
	e = binary.LittleEndian.AppendUint64(e, 7) // xid
	return binary.LittleEndian.AppendUint32(e, crc32.ChecksumIEEE(e))
}
