package transport_test

// Regression tests from the independent review of issue 4: each scenario
// failed before its fix.

import (
	"bufio"
	"errors"
	"net"
	"os"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/source"
	"github.com/semisync-go/semisync/transport"
	"github.com/semisync-go/semisync/wire"
)

// slowConn delivers what it reads in chunks of at most chunk bytes, each
// after delay: a link (or reader) that is slow but never stalls.
type slowConn struct {
	net.Conn
	chunk int
	delay time.Duration
}

func (c slowConn) Read(p []byte) (int, error) {
	time.Sleep(c.delay) // fake time: only used inside a synctest bubble
	if len(p) > c.chunk {
		p = p[:c.chunk]
	}
	return c.Conn.Read(p)
}

// slowWrite writes b in chunks of chunk bytes, one every delay.
func slowWrite(c net.Conn, b []byte, chunk int, delay time.Duration) error {
	for len(b) > 0 {
		n := min(chunk, len(b))
		if _, err := c.Write(b[:n]); err != nil {
			return err
		}
		b = b[n:]
		time.Sleep(delay)
	}
	return nil
}

// TestReviewWriteTimeoutBelowPeriodCutsHealthyConn (server.go:426, :481): the
// write deadline is an absolute time moved only once per heartbeat period,
// so with WriteTimeout < HeartbeatPeriod every write between
// tick+WriteTimeout and the next tick fails at once, on a connection whose
// replica reads everything.
func TestReviewWriteTimeoutBelowPeriodCutsHealthyConn(t *testing.T) {
	pipeOnly(t, func(t *testing.T, nw *network) {
		const period = time.Second
		r := newRig(t, nw, rigConfig{server: transport.ServerOptions{HeartbeatPeriod: period, WriteTimeout: period / 5}})
		fr := r.dialRaw(t, 2, r.bl.Head(), rawOptions{semisync: true, autoAck: true})
		r.events.take(t, "replica 2 joined", eventKind(source.EventReplicaJoined, 2))
		advance(period / 2) // a replica that reads at once; nothing was due
		end, err := r.write(eventData(0))
		require.NoError(t, err)
		p := fr.next(t, "the event") // fails: "the replica stopped reading: EOF"
		require.Equal(t, end, p.end)
	})
}

// TestReviewLargeEventSlowReaderCutBySource (server.go:426-436, :481): the
// sender extends its write deadline only between events, so one event
// whose transfer takes longer than WriteTimeout is cut although the
// replica reads it steadily; the replica reconnects and the same happens
// again, for ever.
func TestReviewLargeEventSlowReaderCutBySource(t *testing.T) {
	pipeOnly(t, func(t *testing.T, nw *network) {
		const period = time.Second
		r := newRig(t, nw, rigConfig{server: transport.ServerOptions{HeartbeatPeriod: period, WriteTimeout: 3 * period,
			PeerTimeout: time.Hour}})
		// 64 KiB every 100 ms: 640 KiB/s, never a pause longer than 0.1 s.
		conn := slowConn{Conn: r.dial(t), chunk: 64 << 10, delay: 100 * time.Millisecond}
		fr := startRaw(t, conn, 2, r.bl.Head(), rawOptions{semisync: true, autoAck: true})
		end, err := r.write(make([]byte, 4<<20)) // 6.4 s on that link
		require.NoError(t, err)
		p := fr.next(t, "the 4 MiB event") // fails: the source cut the connection
		require.Equal(t, end, p.end)
	})
}

// TestReviewLargeEventSlowLinkCutByReplica (client.go:137-142): the replica's
// read deadline is set before a packet and not moved while its bytes
// arrive, so an event whose transfer takes longer than PeerTimeout (three
// heartbeat periods by default) ends Replicate with a timeout, although
// data never stopped flowing; every reconnect fails the same way.
func TestReviewLargeEventSlowLinkCutByReplica(t *testing.T) {
	pipeOnly(t, func(t *testing.T, nw *network) {
		end := semisync.FilePos("binlog.000001", 4+4<<20)
		conn := nw.fakeSource(t, func(c net.Conn, _ []byte) error {
			accept, _ := wire.AppendPacket(nil, 1, transport.AppendAccept(nil, true, 1000)) // PeerTimeout 3 s
			if _, err := c.Write(accept); err != nil {
				return err
			}
			payload := wire.AppendEventHeader(nil, false)
			payload = transport.AppendEnvelope(payload, transport.KindEvent, end, make([]byte, 4<<20))
			pkt, seq := wire.AppendPacket(nil, 2, payload)
			// 64 KiB every 100 ms: the 4 MiB event takes 6.4 s.
			if err := slowWrite(c, pkt, 64<<10, 100*time.Millisecond); err != nil {
				return nil // the replica hung up: what this test shows
			}
			for { // then heartbeats, twice a period
				hb := transport.AppendEnvelope(wire.AppendEventHeader(nil, false), transport.KindHeartbeat, end, nil)
				var out []byte
				out, seq = wire.AppendPacket(nil, seq, hb)
				if _, err := c.Write(out); err != nil {
					return nil
				}
				time.Sleep(500 * time.Millisecond)
			}
		})
		relay := newRelayLog()
		got := make(chan struct{})
		relay.onFlush = func(l *relayLog) {
			if l.Last() == end {
				close(got)
			}
		}
		run := replicate(t, conn, transport.ReplicaConfig{Replica: newReplica(t, semisync.FlavorMySQL, true), ID: 2, RelayLog: relay})
		select {
		case e := <-run.done:
			run.exit = &e
			t.Fatalf("Replicate ended while the event was still arriving steadily: %v", e.err)
		case <-got:
		case <-time.After(failAfter):
			t.Fatalf("the event did not arrive within %v", failAfter)
		}
	})
}

// TestReviewAckBeyondSentReleasesCommit (server.go:407-415): the ACK reader
// hands any position to the session, also one beyond everything the
// connection has sent. A commit whose event no replica was ever sent is
// reported Acknowledged. MySQL accepts such an ACK too (spec §11 checklist),
// but this transport knows what it sent (sender.last) and could refuse or
// clamp it; MySQL itself refuses a dump start beyond the binlog's end.
func TestReviewAckBeyondSentReleasesCommit(t *testing.T) {
	pipeOnly(t, func(t *testing.T, nw *network) {
		r := newRig(t, nw, rigConfig{})
		fr := r.dialRaw(t, 2, r.bl.Head(), rawOptions{semisync: true})
		r.events.take(t, "replica 2 joined", eventKind(source.EventReplicaJoined, 2))
		r.setTimeout(t, 2*time.Second)
		// Written and reported, not yet readable by any dump.
		end := r.bl.Append(eventData(0))
		require.NoError(t, r.src.Flushed(end))
		done := make(chan source.Result, 1)
		go func() {
			res, _ := waitBounded(r.src, end)
			done <- res
		}()
		ack, err := wire.AppendAck(nil, semisync.FilePos("binlog.999999", 1<<40))
		require.NoError(t, err)
		fr.send(t, wire.AckSeq, ack)
		res := receive(t, "the commit", done)
		require.NotEqual(t, source.Acknowledged, res.Outcome, "acknowledged an event never sent to any replica")
		require.Equal(t, uint64(1), r.srv.Stats().AcksAhead)
		require.Zero(t, r.srv.Stats().Acks)
		r.bl.Publish()
	})
}

// TestReviewSupersededConnectionLingers (server.go:368-372): a replica that
// reconnects under the same ID gets a new session, but the server leaves
// the old connection streaming; the source keeps counting it in clients
// (Rpl_semi_sync_source_clients 2 for one replica) for as long as the old
// peer answers probes. MySQL kills the older dump thread of a server_id.
func TestReviewSupersededConnectionLingers(t *testing.T) {
	pipeOnly(t, func(t *testing.T, nw *network) {
		const period = time.Second
		r := newRig(t, nw, rigConfig{server: transport.ServerOptions{HeartbeatPeriod: period}})
		r.dialRaw(t, 2, r.bl.Head(), rawOptions{semisync: true, autoAck: true})
		r.events.take(t, "replica 2 joined", eventKind(source.EventReplicaJoined, 2))
		r.dialRaw(t, 2, r.bl.Head(), rawOptions{semisync: true, autoAck: true})
		r.events.take(t, "replica 2 joined again", eventKind(source.EventReplicaJoined, 2))
		advance(10 * period)
		require.Equal(t, 1, r.src.State().Clients, "one replica, one client")
		require.Equal(t, int64(1), r.srv.Stats().Active, "the superseded connection is closed")
		require.Equal(t, uint64(1), r.srv.Stats().Superseded)
	})
}

// flakyListener fails its first Accept the way accept(2) fails when the
// process is out of file descriptors, then accepts normally.
type flakyListener struct {
	net.Listener
	failed atomic.Bool
}

func (l *flakyListener) Accept() (net.Conn, error) {
	if !l.failed.Swap(true) {
		return nil, &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", syscall.EMFILE)}
	}
	return l.Listener.Accept()
}

// TestReviewServeStopsOnTransientAcceptError (server.go:193-203): Serve
// returns on the first Accept error that is not a timeout, so one EMFILE
// (a burst of connections) stops the source from accepting replicas for
// good; net/http retries such errors with a back-off.
func TestReviewServeStopsOnTransientAcceptError(t *testing.T) {
	r := newRig(t, &network{pipe: true}, rigConfig{}) // no listener of the rig's own
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	served := make(chan error, 1)
	go func() { served <- r.srv.Serve(&flakyListener{Listener: ln}) }()
	c, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.SetDeadline(time.Now().Add(5*time.Second)))
	hello, _ := wire.AppendPacket(nil, 0, transport.AppendHello(nil, false, 2, semisync.Position{}))
	_, err = c.Write(hello)
	require.NoError(t, err)
	_, p, err := wire.NewPacketReader(bufio.NewReader(c), 0).ReadPacket()
	require.NoError(t, err, "the server answers the hello") // fails: nobody accepts any more
	_, _, err = transport.ParseChallenge(p)
	require.NoError(t, err)
	require.NoError(t, r.srv.Close())
	require.True(t, errors.Is(receive(t, "Serve to return", served), transport.ErrServerClosed))
}

// TestReviewSlowRelayFlushCountsLiveReplicaDead (server.go:479-494): the
// replica answers a probe only after its relay-log flush (or fsync)
// returns, so a disk stall longer than PeerTimeout (3 s by default) makes
// the source declare a live replica dead, close its session (a switch-off
// with wait_no_replica OFF) and force a reconnect. MySQL never drops a
// replica for a missing ACK; the commit times out instead. Real time over
// TCP: with net.Pipe the probe write itself would block.
func TestReviewSlowRelayFlushCountsLiveReplicaDead(t *testing.T) {
	const period = 50 * time.Millisecond // PeerTimeout: 150 ms
	r := newRig(t, &network{}, rigConfig{server: transport.ServerOptions{HeartbeatPeriod: period}})
	relay := newRelayLog()
	r.startReplica(t, 2, newReplica(t, semisync.FlavorMySQL, true), relay, r.bl.Head())
	r.events.take(t, "replica 2 joined", eventKind(source.EventReplicaJoined, 2))
	relay.hold() // a disk stall of 20 periods
	_, wait := startCommit(t, r, eventData(0))
	time.Sleep(20 * period)
	require.Zero(t, r.srv.Stats().DeadPeers, "a replica whose disk stalled is not dead")
	require.Equal(t, 1, r.src.State().Clients)
	relay.release()
	got := receive(t, "the commit", wait)
	require.Equal(t, source.Acknowledged, got.res.Outcome)
}
