package wire_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/wire"
)

// A source frames a flagged event; the replica reads the packet, strips the
// semisync prefix and learns that it must acknowledge.
func ExampleAppendEvent() {
	event := []byte("...a binlog event...")

	// Source: the dump command was seq 0, so the first event is seq 1.
	payload := wire.AppendEvent(nil, true, event)
	pkt, next := wire.AppendPacket(nil, 1, payload)
	fmt.Printf("packet header and prefix: % x\n", pkt[:wire.PacketHeaderLen+wire.EventHeaderLen])
	fmt.Println("next seq:", wire.SeqAfterEvent(next, true))

	// Replica.
	pr := wire.NewPacketReader(bufio.NewReader(bytes.NewReader(pkt)), 0)
	seq, p, err := pr.ReadPacket()
	if err != nil {
		fmt.Println(err)
		return
	}
	ev, reply, err := wire.DecodeEvent(p)
	fmt.Printf("seq %d, event %q, reply required %v, err %v\n", seq, ev, reply, err)
	// Output:
	// packet header and prefix: 17 00 00 01 00 ef 01
	// next seq: 1
	// seq 1, event "...a binlog event...", reply required true, err <nil>
}

// A packet that is not an event, here the error packet a source sends when
// it cannot read its binlog, stops the replica's stream.
func ExampleDecodeEvent() {
	_, _, err := wire.DecodeEvent([]byte{0xff, 0xd4, 0x04, '#', 'H', 'Y', '0', '0', '0'})
	fmt.Println(err)
	_, _, err = wire.DecodeEvent([]byte{0x00, 0x10, 0x00})
	fmt.Println(err)
	// Output:
	// wire: not an event packet: first byte 0xff
	// wire: missing semisync magic number: byte 0x10 after the status byte
}

// The replica acknowledges the end of the flagged event it holds: the ACK
// go-mysql sends for position 868973 of mysql-bin.000001, always seq 0.
func ExampleAppendAck() {
	ack, err := wire.AppendAck(nil, semisync.FilePos("mysql-bin.000001", 868973))
	if err != nil {
		fmt.Println(err)
		return
	}
	pkt, _ := wire.AppendPacket(nil, wire.AckSeq, ack)
	fmt.Printf("%x\n", pkt)
	// Output:
	// 19000000ef6d420d00000000006d7973716c2d62696e2e303030303031
}

// The source decodes the ACK a real MariaDB replica sent.
func ExampleDecodeAck() {
	payload := []byte{0xef, 0x5d, 0xcd, 0x1b, 0, 0, 0, 0, 0, 'm', 'y', 's', 'q', 'l', '-', 'b', 'i', 'n', '.', '0', '0', '0', '0', '0', '1'}
	pos, err := wire.DecodeAck(payload)
	fmt.Println(pos, err)
	// Output:
	// mysql-bin.000001:1822045 <nil>
}

// A stopping MariaDB replica sends COM_QUIT on the semisync connection; the
// source's ACK reader tells it from a malformed ACK.
func ExampleIsQuit() {
	for _, p := range [][]byte{{wire.ComQuit}, {0xef, 1, 2}} {
		_, err := wire.DecodeAck(p)
		fmt.Printf("quit %v, ACK error: %v\n", wire.IsQuit(p), err)
	}
	// Output:
	// quit true, ACK error: wire: missing semisync magic number: ACK packet is a COM_QUIT (see IsQuit)
	// quit false, ACK error: wire: packet too short: 3-byte ACK, need at least 9
}

// exampleConn stands for the host's client connection to a MySQL 8.4
// source: it knows rpl_semi_sync_source_enabled, not the master name.
type exampleConn struct{}

func (exampleConn) Query(_ context.Context, stmt string) ([][]string, error) {
	fmt.Println(">", stmt)
	switch stmt {
	case "SELECT @@global.rpl_semi_sync_source_enabled":
		return [][]string{{"1"}}, nil
	case "SELECT @@global.rpl_semi_sync_master_enabled":
		return nil, &wire.ServerError{Code: wire.ErUnknownSystemVariable, Message: "Unknown system variable"}
	}
	return nil, nil
}

// A MySQL 8.0.26+ replica and a MySQL 5.7-style replica negotiate with the
// same source: the first gets semisync, the second falls back to
// asynchronous replication, as MySQL does.
func ExampleNegotiate() {
	for _, f := range []semisync.Flavor{semisync.FlavorMySQL, semisync.FlavorMySQLLegacy} {
		n, err := wire.Negotiate(context.Background(), f, exampleConn{})
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%v replica: semisync %v (%s)\n", f, n.Semisync, n.Variable+n.Reason)
	}
	// Output:
	// > SELECT @@global.rpl_semi_sync_source_enabled
	// > SET @rpl_semi_sync_replica = 1, @rpl_semi_sync_slave = 1
	// mysql replica: semisync true (rpl_semi_sync_source_enabled)
	// > SELECT @@global.rpl_semi_sync_master_enabled
	// mysql-legacy replica: semisync false (source has no semisync variable; replicating asynchronously)
}

// A Go source that poses as MariaDB answers each replica's probe, then
// records the declaration and checks it when the dump starts.
func ExampleAnswerProbe() {
	for _, stmt := range []string{
		"SHOW VARIABLES LIKE 'rpl_semi_sync_master_enabled'",
		"SELECT @@global.rpl_semi_sync_source_enabled",
		"SELECT @@global.rpl_semi_sync_master_enabled",
		"SELECT UNIX_TIMESTAMP()",
	} {
		ans, ok := wire.AnswerProbe(semisync.FlavorMariaDB, stmt, true)
		switch {
		case !ok:
			fmt.Println("not a probe")
		case ans.Err != nil:
			fmt.Println("error", ans.Err.Code)
		default:
			fmt.Println(ans.Columns, ans.Rows)
		}
	}

	vars := map[string]string{}
	uv, _ := wire.ParseSetUserVars("SET @rpl_semi_sync_slave= 1")
	for _, v := range uv {
		vars[v.Name] = v.Value
	}
	fmt.Println("semisync dump:", wire.DeclaredSemisync(semisync.FlavorMariaDB, func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	}))
	// Output:
	// [Variable_name Value] [[rpl_semi_sync_master_enabled ON]]
	// error 1193
	// [@@global.rpl_semi_sync_master_enabled] [[1]]
	// not a probe
	// semisync dump: true
}

// A source reads a session's SET statements to learn what the replica
// declared; an expression is left for the host to evaluate.
func ExampleParseSetUserVars() {
	for _, stmt := range []string{
		"SET @master_binlog_checksum='NONE', @source_binlog_checksum='NONE'",
		"SET @master_binlog_checksum= @@global.binlog_checksum",
	} {
		vars, err := wire.ParseSetUserVars(stmt)
		fmt.Println(vars, err != nil)
	}
	// Output:
	// [{master_binlog_checksum NONE} {source_binlog_checksum NONE}] false
	// [] true
}
