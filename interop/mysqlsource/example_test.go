package mysqlsource_test

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net"

	"github.com/go-mysql-org/go-mysql/client"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/examples/binlog"
	"github.com/semisync-go/semisync/interop/mysqlsource"
	"github.com/semisync-go/semisync/source"
)

// The rotate a source sends first in every dump: made up for the dump
// (FlagArtificial, no timestamp, no position), it names the file and
// position the dump starts at. With binlog_checksum=CRC32 it ends in the
// event's CRC32.
func ExampleAppendRotate() {
	ev := mysqlsource.AppendRotate(nil, mysqlsource.Header{ServerID: 1, Flags: mysqlsource.FlagArtificial}, "mysql-bin.000001", 4, true)
	fmt.Println(len(ev), "bytes")
	fmt.Println(hex.EncodeToString(ev[:mysqlsource.HeaderLen]))
	fmt.Printf("%s\n", ev[mysqlsource.HeaderLen+8:len(ev)-mysqlsource.ChecksumLen])
	// Output:
	// 47 bytes
	// 0000000004010000002f000000000000002000
	// mysql-bin.000001
}

// memoryBinlog is an in-memory binlog as a Server reads it (a real host
// keeps files: examples/binlog.File, or its own).
type memoryBinlog struct{ *binlog.Memory }

func (memoryBinlog) FormatDescription(string) ([]byte, error) { return nil, errors.New("empty binlog") }
func (memoryBinlog) Files() ([]string, error)                 { return []string{"mysql-bin.000001"}, nil }

// A source serving replicas on loopback, and what a replica's IO thread
// asks it before its dump: whether the source has semisync, and its
// server id.
func Example() {
	src, err := source.New(source.Options{Flavor: semisync.FlavorMariaDB})
	if err != nil {
		panic(err)
	}
	defer src.Close()
	if err := src.Vars().Exec("SET GLOBAL rpl_semi_sync_master_enabled = ON"); err != nil {
		panic(err)
	}
	bl := memoryBinlog{binlog.NewMemory("mysql-bin")}
	if err := src.Appended(bl.Head()); err != nil { // where the binlog ends
		panic(err)
	}
	srv, err := mysqlsource.NewServer(src, bl, mysqlsource.Options{ServerID: 100, User: "repl", Password: "secret"})
	if err != nil {
		panic(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	go srv.Serve(ln)
	defer srv.Close()

	// What a MariaDB replica's IO thread asks first (here with go-mysql's
	// client).
	c, err := client.Connect(ln.Addr().String(), "repl", "secret", "")
	if err != nil {
		panic(err)
	}
	defer c.Close()
	for _, q := range []string{"SHOW VARIABLES LIKE 'rpl_semi_sync_master_enabled'", "SHOW VARIABLES LIKE 'SERVER_ID'"} {
		r, err := c.Execute(q)
		if err != nil {
			panic(err)
		}
		name, _ := r.GetString(0, 0)
		value, _ := r.GetString(0, 1)
		fmt.Println(name, value)
	}
	// Output:
	// rpl_semi_sync_master_enabled ON
	// server_id 100
}
