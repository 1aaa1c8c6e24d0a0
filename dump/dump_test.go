package dump_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"net"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/dump"
	"github.com/semisync-go/semisync/examples/binlog"
	"github.com/semisync-go/semisync/source"
	"github.com/semisync-go/semisync/wire"
)

// mysqlFramer frames as MySQL's protocol does: the payload after the
// semisync header is the event itself; a heartbeat is "HB" and the last
// end's offset, standing for a HEARTBEAT_LOG_EVENT.
type mysqlFramer struct{}

func (mysqlFramer) AppendEventHead(dst []byte, _ semisync.Position, _ []byte) []byte { return dst }

func (mysqlFramer) AppendHeartbeat(dst []byte, last semisync.Position) []byte {
	return binary.LittleEndian.AppendUint64(append(dst, 'H', 'B'), last.Offset())
}

// stream is a source, its binlog and one replica connection under Run.
type stream struct {
	src  *source.Source
	bl   *binlog.Memory
	rep  net.Conn // the replica's end
	pr   *wire.PacketReader
	cnt  dump.Counters
	done chan struct{} // closes when Run has returned
	res  dump.Result
	err  error
}

var opts = dump.Options{HeartbeatPeriod: time.Second, PeerTimeout: 3 * time.Second, WriteTimeout: 10 * time.Second, MaxAckPacket: 1024}

// start runs a semisync replica 2's connection from the binlog's head.
func start(t *testing.T) *stream { return startWith(t, opts) }

// startWith is start with the options o.
func startWith(t *testing.T, o dump.Options) *stream {
	t.Helper()
	src, err := source.New(source.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { src.Close() })
	require.NoError(t, src.Vars().Exec("SET GLOBAL rpl_semi_sync_source_enabled = ON"))
	bl := binlog.NewMemory("binlog")
	require.NoError(t, src.Appended(bl.Head()))
	sess, err := src.Register(2, bl.Head())
	require.NoError(t, err)
	cur, err := bl.Open(bl.Head())
	require.NoError(t, err)
	srvEnd, repEnd := net.Pipe()
	st := &stream{src: src, bl: bl, rep: repEnd, pr: wire.NewPacketReader(bufio.NewReader(repEnd), 0), done: make(chan struct{})}
	stop := make(chan struct{})
	go func() {
		defer close(st.done)
		defer sess.Close()
		defer cur.Close()
		st.res, st.err = dump.Run(dump.Conn{Conn: srvEnd, Raw: srvEnd, Reader: bufio.NewReader(srvEnd), Cursor: cur,
			Start: bl.Head(), Session: sess, Framer: mysqlFramer{}, Seq: 1, Done: stop}, o, &st.cnt)
	}()
	t.Cleanup(func() {
		close(stop)
		repEnd.Close()
		<-st.done
	})
	return st
}

// commit writes one event and starts its wait.
func (st *stream) commit(t *testing.T, data string) (semisync.Position, <-chan source.Result) {
	t.Helper()
	end := st.bl.Append([]byte(data))
	require.NoError(t, st.src.Flushed(end))
	st.bl.Publish()
	res := make(chan source.Result, 1)
	go func() {
		r, _ := st.src.Wait(context.Background(), end)
		res <- r
	}()
	return end, res
}

// read reads one packet from the source.
func (st *stream) read(t *testing.T) (uint8, []byte) {
	t.Helper()
	seq, p, err := st.pr.ReadPacket()
	require.NoError(t, err)
	return seq, p
}

// send writes one packet to the source.
func (st *stream) send(t *testing.T, seq uint8, payload []byte) {
	t.Helper()
	out, _ := wire.AppendPacket(nil, seq, payload)
	_, err := st.rep.Write(out)
	require.NoError(t, err)
}

// With MySQL's framing an event's payload is the semisync header and the
// event's bytes, flagged as the session decides, the sequence ids reset
// after a flagged event; an ACK releases the commit; malformed ACKs and
// ACKs beyond what was sent are counted and ignored; COM_QUIT ends Run.
func TestRunMySQLFraming(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := start(t)
		end, res := st.commit(t, "INSERT 1")
		seq, p := st.read(t)
		require.Equal(t, uint8(1), seq)
		require.Equal(t, wire.AppendEvent(nil, true, []byte("INSERT 1")), p, "the semisync header, then the event")

		st.send(t, wire.AckSeq, []byte{0xef, 1}) // too short
		ahead, _ := wire.AppendAck(nil, semisync.FilePos(end.File(), end.Offset()+100))
		st.send(t, wire.AckSeq, ahead)
		ack, _ := wire.AppendAck(nil, end)
		st.send(t, wire.AckSeq, ack)
		r := <-res
		require.Equal(t, source.Acknowledged, r.Outcome)
		require.Equal(t, uint64(1), st.cnt.Malformed.Load())
		require.Equal(t, uint64(1), st.cnt.Ahead.Load())
		require.Equal(t, uint64(1), st.cnt.Acks.Load())

		end2, res2 := st.commit(t, "INSERT 2")
		seq, p = st.read(t)
		require.Equal(t, uint8(1), seq, "reset after the flagged event")
		require.Equal(t, wire.AppendEvent(nil, true, []byte("INSERT 2")), p)
		ack, _ = wire.AppendAck(nil, end2)
		st.send(t, wire.AckSeq, ack)
		require.Equal(t, source.Acknowledged, (<-res2).Outcome)

		st.send(t, 0, []byte{wire.ComQuit})
		<-st.done
		require.NoError(t, st.err)
		require.True(t, st.res.Quit)
		require.Equal(t, uint64(1), st.cnt.Quits.Load())
	})
}

// A replica silent for a heartbeat period gets a probe: the framer's
// heartbeat with the reply flag; one that leaves it unanswered for
// PeerTimeout is dead, and Run ends with ErrPeerSilent.
func TestRunProbeAndDeadPeer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := start(t)
		time.Sleep(opts.HeartbeatPeriod) // the fake clock: one period of silence
		seq, p := st.read(t)
		require.Equal(t, uint8(1), seq)
		want := wire.AppendEventHeader(nil, true)
		want = mysqlFramer{}.AppendHeartbeat(want, st.bl.Head())
		require.Equal(t, want, p, "a probe: the heartbeat, flagged")
		go func() { // keep reading what follows, unanswered
			for {
				if _, _, err := st.pr.ReadPacket(); err != nil {
					return
				}
			}
		}()
		<-st.done
		require.ErrorIs(t, st.err, dump.ErrPeerSilent)
		require.True(t, st.res.Dead)
		require.Equal(t, uint64(1), st.cnt.DeadPeers.Load())
		require.GreaterOrEqual(t, st.cnt.Probes.Load(), uint64(1))
		require.False(t, st.res.Quit)
	})
}

// Zero Options select the defaults: a probe after a second of silence,
// the replica dead 30 s later.
func TestRunZeroOptions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := startWith(t, dump.Options{})
		start := time.Now()
		seq, p := st.read(t)
		require.Equal(t, time.Second, time.Since(start), "the default heartbeat period")
		require.Equal(t, uint8(1), seq)
		_, reply, err := wire.DecodeEvent(p)
		require.NoError(t, err)
		require.True(t, reply, "a probe")
		go func() {
			for {
				if _, _, err := st.pr.ReadPacket(); err != nil {
					return
				}
			}
		}()
		<-st.done
		require.ErrorIs(t, st.err, dump.ErrPeerSilent)
		require.GreaterOrEqual(t, time.Since(start), 31*time.Second, "the default PeerTimeout after the probe")
	})
}

// Done stops a sender that is still sending a backlog.
func TestRunDoneDuringBacklog(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src, err := source.New(source.Options{})
		require.NoError(t, err)
		defer src.Close()
		bl := binlog.NewMemory("binlog")
		big := make([]byte, 64<<10) // larger than the sender's buffer: each event blocks on the pipe
		for range 100 {
			bl.Append(big)
		}
		bl.Publish()
		cur, err := bl.Open(semisync.Position{})
		require.NoError(t, err)
		defer cur.Close()
		srvEnd, repEnd := net.Pipe()
		defer repEnd.Close()
		stop := make(chan struct{})
		done := make(chan error, 1)
		go func() {
			_, err := dump.Run(dump.Conn{Conn: srvEnd, Raw: srvEnd, Reader: bufio.NewReader(srvEnd), Cursor: cur,
				Framer: mysqlFramer{}, Seq: 1, Done: stop}, dump.Options{}, &dump.Counters{})
			done <- err
		}()
		pr := wire.NewPacketReader(bufio.NewReader(repEnd), 0)
		_, _, err = pr.ReadPacket() // the sender is in the backlog
		require.NoError(t, err)
		close(stop)
		read := make(chan int)
		go func() { // drain what was on its way when it stopped
			n := 1
			for {
				if _, _, err := pr.ReadPacket(); err != nil {
					read <- n
					return
				}
				n++
			}
		}()
		require.NoError(t, <-done)
		srvEnd.Close()
		require.Less(t, <-read, 10, "events sent after Done, of 100")
	})
}
