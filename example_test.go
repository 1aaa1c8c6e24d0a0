package semisync_test

import (
	"fmt"
	"os"

	"github.com/semisync-go/semisync"
)

// Binlog positions order by the file's numeric index, so a suffix that grows
// a digit still sorts after the file before it. MySQL's strcmp order does
// not.
func ExamplePosition_Compare() {
	a := semisync.FilePos("binlog.999999", 1<<20)
	b := semisync.FilePos("binlog.1000000", 4)
	fmt.Println(a.Compare(b), a.CompareBytewise(b))
	// Output: -1 1
}

func ExampleParsePosition() {
	p, err := semisync.ParsePosition("mysql-bin.000042:1337")
	fmt.Println(p.File(), p.Offset(), err)
	lsn, _ := semisync.ParsePosition("98765")
	fmt.Println(lsn.IsLSN(), lsn)
	_, err = semisync.ParsePosition("mysql-bin.000042:")
	fmt.Println(err)
	// Output:
	// mysql-bin.000042 1337 <nil>
	// true 98765
	// semisync: invalid position "mysql-bin.000042:": want file:offset or a decimal number
}

func ExampleWriteTable() {
	rows := []semisync.Row{
		{Name: "rpl_semi_sync_source_enabled", Value: "ON"},
		{Name: "rpl_semi_sync_source_timeout", Value: "10000"},
		{Name: "rpl_semi_sync_replica_enabled", Value: "OFF"},
	}
	var shown []semisync.Row
	for _, r := range rows {
		if semisync.Like(r.Name, "rpl\\_semi\\_sync\\_source%") {
			shown = append(shown, r)
		}
	}
	_ = semisync.WriteTable(os.Stdout, shown)
	// Output:
	// +------------------------------+-------+
	// | Variable_name                | Value |
	// +------------------------------+-------+
	// | rpl_semi_sync_source_enabled | ON    |
	// | rpl_semi_sync_source_timeout | 10000 |
	// +------------------------------+-------+
}
