package dump_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"time"

	"github.com/semisync-go/semisync/dump"
	"github.com/semisync-go/semisync/examples/binlog"
	"github.com/semisync-go/semisync/source"
	"github.com/semisync-go/semisync/wire"
)

// A source streams one commit to a replica over a connection whose
// handshake is done, with MySQL's framing; the replica's ACK releases the
// commit.
func ExampleRun() {
	src, _ := source.New(source.Options{})
	defer src.Close()
	_ = src.Vars().Exec("SET GLOBAL rpl_semi_sync_source_enabled = ON")
	bl := binlog.NewMemory("binlog")
	_ = src.Appended(bl.Head())

	// The handshake is over: the replica asked for the binlog's head.
	sess, _ := src.Register(2, bl.Head())
	defer sess.Close()
	cur, _ := bl.Open(bl.Head())
	defer cur.Close()
	srvEnd, replica := net.Pipe()
	var cnt dump.Counters
	done := make(chan struct{})
	go func() {
		defer close(done)
		dump.Run(dump.Conn{Conn: srvEnd, Raw: srvEnd, Reader: bufio.NewReader(srvEnd), Cursor: cur, Start: bl.Head(),
			Session: sess, Framer: mysqlFramer{}, Seq: 1},
			dump.Options{HeartbeatPeriod: time.Second, PeerTimeout: 3 * time.Second, WriteTimeout: 10 * time.Second, MaxAckPacket: 1024}, &cnt)
	}()

	// A commit: append, report, publish, wait.
	end := bl.Append([]byte("INSERT 1"))
	_ = src.Flushed(end)
	bl.Publish()
	result := make(chan source.Result, 1)
	go func() {
		r, _ := src.Wait(context.Background(), end)
		result <- r
	}()

	// The replica reads the event and acknowledges it.
	_, p, _ := wire.NewPacketReader(bufio.NewReader(replica), 0).ReadPacket()
	event, reply, _ := wire.DecodeEvent(p)
	fmt.Printf("%s, reply required: %v\n", event, reply)
	ack, _ := wire.AppendAck(nil, end)
	out, _ := wire.AppendPacket(nil, wire.AckSeq, ack)
	_, _ = replica.Write(out)
	fmt.Println((<-result).Outcome)

	replica.Close()
	<-done
	fmt.Println("acks:", cnt.Acks.Load())
	// Output:
	// INSERT 1, reply required: true
	// acknowledged
	// acks: 1
}
