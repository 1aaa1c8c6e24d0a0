package replica_test

import (
	"bytes"
	"context"
	"fmt"
	"os"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/replica"
	"github.com/semisync-go/semisync/wire"
)

// memRelayLog is a relay log in memory: Write buffers an event, Flush makes
// the buffered events durable.
type memRelayLog struct {
	buffered, durable [][]byte
}

func (l *memRelayLog) Write(event []byte, end semisync.Position) error {
	l.buffered = append(l.buffered, bytes.Clone(event)) // event is only valid during the call
	return nil
}

func (l *memRelayLog) Flush() error {
	fmt.Printf("relay log: flushed %d event(s)\n", len(l.buffered))
	l.durable = append(l.durable, l.buffered...)
	l.buffered = l.buffered[:0]
	return nil
}

// printAcks stands for the connection to the source: it prints each ACK.
type printAcks struct{}

func (printAcks) SendAck(pos semisync.Position, payload []byte) error {
	fmt.Printf("ACK %v: % x\n", pos, payload)
	return nil
}

// A replica receives three events on a semisync connection; the source
// asked for a reply to the last one only. Flush makes all three durable and
// then acknowledges them with one ACK.
func Example() {
	r, err := replica.New(replica.Options{Flavor: semisync.FlavorMySQL})
	if err != nil {
		fmt.Println(err)
		return
	}
	// OFF by default, as in MySQL.
	if err := r.Vars().Exec("SET GLOBAL rpl_semi_sync_replica_enabled = ON"); err != nil {
		fmt.Println(err)
		return
	}
	s, err := r.Open(semisync.FilePos("binlog.000001", 4), &memRelayLog{}, printAcks{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	s.SetNegotiated(true) // the source agreed (or: s.Negotiate on the connection)

	// What arrives from the source: event packets with the semisync header.
	packets := []struct {
		payload []byte
		end     semisync.Position // the event's end in the source's binlog
	}{
		{wire.AppendEvent(nil, false, []byte("BEGIN")), semisync.FilePos("binlog.000001", 120)},
		{wire.AppendEvent(nil, false, []byte("INSERT")), semisync.FilePos("binlog.000001", 250)},
		{wire.AppendEvent(nil, true, []byte("COMMIT")), semisync.FilePos("binlog.000001", 281)},
	}
	for _, p := range packets {
		event, reply, err := s.Unwrap(p.payload)
		if err != nil {
			fmt.Println(err) // a host stops the stream here
			return
		}
		if err := s.Queue(event, p.end, reply); err != nil {
			fmt.Println(err)
			return
		}
	}
	// No further packet is waiting: make it all durable, then acknowledge.
	if err := s.Flush(); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("durable up to", s.Durable())
	_ = semisync.WriteTable(os.Stdout, r.Show("Rpl_semi%"))
	// Output:
	// relay log: flushed 3 event(s)
	// ACK binlog.000001:281: ef 19 01 00 00 00 00 00 00 62 69 6e 6c 6f 67 2e 30 30 30 30 30 31
	// durable up to binlog.000001:281
	// +------------------------------+-------+
	// | Variable_name                | Value |
	// +------------------------------+-------+
	// | Rpl_semi_sync_replica_status | ON    |
	// +------------------------------+-------+
}

// MariaDB names the replica's status Rpl_semi_sync_slave_status and counts
// the ACKs sent since the stream started in Rpl_semi_sync_slave_send_ack.
// The status is ON from Open while the replica is enabled, OFF when the
// source turns out to have no semisync, and OFF when the stream closes.
func ExampleReplica_Show() {
	r, _ := replica.New(replica.Options{Flavor: semisync.FlavorMariaDB})
	_ = r.Vars().Exec("SET GLOBAL rpl_semi_sync_slave_enabled = ON")
	s, _ := r.Open(semisync.FilePos("mariadb-bin.000007", 4), &memRelayLog{}, printAcks{})
	fmt.Println("opened:", r.Show("%status"))

	s.SetNegotiated(true)
	event, reply, _ := s.Unwrap(wire.AppendEvent(nil, true, []byte("COMMIT")))
	_ = s.Queue(event, semisync.FilePos("mariadb-bin.000007", 300), reply)
	_ = s.Flush()
	_ = semisync.WriteTable(os.Stdout, r.Show("Rpl_semi_sync_slave%"))

	s.Close()
	fmt.Println("closed:", r.Show("%status"))
	// Output:
	// opened: [{Rpl_semi_sync_slave_status ON}]
	// relay log: flushed 1 event(s)
	// ACK mariadb-bin.000007:300: ef 2c 01 00 00 00 00 00 00 6d 61 72 69 61 64 62 2d 62 69 6e 2e 30 30 30 30 30 37
	// +------------------------------+-------+
	// | Variable_name                | Value |
	// +------------------------------+-------+
	// | Rpl_semi_sync_slave_send_ack | 1     |
	// | Rpl_semi_sync_slave_status   | ON    |
	// +------------------------------+-------+
	// closed: [{Rpl_semi_sync_slave_status OFF}]
}

// sourceWithoutSemisync answers the replica's probes like a MySQL source
// that has no semisync plugin: the variables do not exist.
type sourceWithoutSemisync struct{}

func (sourceWithoutSemisync) Query(_ context.Context, stmt string) ([][]string, error) {
	fmt.Println("query:", stmt)
	return nil, &wire.ServerError{Code: wire.ErUnknownSystemVariable, Message: "Unknown system variable"}
}

// Against a source without semisync the negotiation is not an error: the
// stream replicates asynchronously, its packets carry no header (a payload
// whose event happens to start with 0xEF is still an event), and nothing is
// acknowledged (spec §8.1).
func ExampleStream_Negotiate() {
	r, _ := replica.New(replica.Options{Flavor: semisync.FlavorMySQL})
	_ = r.Vars().Exec("SET GLOBAL rpl_semi_sync_replica_enabled = ON")
	s, _ := r.Open(semisync.FilePos("binlog.000001", 4), &memRelayLog{}, printAcks{})
	defer s.Close()

	n, err := s.Negotiate(context.Background(), sourceWithoutSemisync{})
	fmt.Println("semisync:", n.Semisync, "| error:", err, "|", n.Reason)
	fmt.Println(r.Show("%status"))

	event, reply, _ := s.Unwrap([]byte{wire.StatusOK, wire.Magic, wire.FlagReplyRequired, 0x10})
	fmt.Printf("event: % x, reply required: %v\n", event, reply)
	_ = s.Queue(event, semisync.FilePos("binlog.000001", 100), reply)
	_ = s.Flush()
	// Output:
	// query: SELECT @@global.rpl_semi_sync_source_enabled
	// query: SELECT @@global.rpl_semi_sync_master_enabled
	// semisync: false | error: <nil> | source has no semisync variable; replicating asynchronously
	// [{Rpl_semi_sync_replica_status OFF}]
	// event: ef 01 10, reply required: false
	// relay log: flushed 1 event(s)
}
