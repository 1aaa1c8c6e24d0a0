package mysqlsource_test

import (
	"encoding/hex"
	"fmt"

	"github.com/semisync-go/semisync/interop/mysqlsource"
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
