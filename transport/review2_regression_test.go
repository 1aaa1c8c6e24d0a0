package transport_test

// Regression tests from the second review (of commit c737b82): each failed
// before its fix.

import (
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/semisync-go/semisync/source"
	"github.com/semisync-go/semisync/transport"
)

// slowCloseConn is a server-side connection whose first Close takes a while
// after the socket is shut (as a TLS close_notify or SO_LINGER can): it
// only widens a window that exists with any Close.
type slowCloseConn struct {
	net.Conn
	delay  time.Duration
	closed atomic.Bool
}

func (c *slowCloseConn) Close() error {
	err := c.Conn.Close()
	if !c.closed.Swap(true) {
		time.Sleep(c.delay) // fake time: inside a synctest bubble
	}
	return err
}

// TestReviewTwoReconnectSwitchesSourceOff (server.go:431 replace before
// :433 Register): a replica that reconnects under the same ID has its older
// connection closed before the new session is registered, so the older
// session closes while it is still the replica's current one (not
// superseded): Source.Close counts the replica out, and with
// wait_no_replica OFF the source switches OFF (replica loss) and releases a
// waiting commit unacknowledged, although the replica never left. Had the
// new session been registered first, the old one would be superseded and
// its Close harmless (source.Register's contract).
func TestReviewTwoReconnectSwitchesSourceOff(t *testing.T) {
	pipeOnly(t, func(t *testing.T, nw *network) {
		r := newRig(t, nw, rigConfig{set: []string{"rpl_semi_sync_source_wait_no_replica = OFF"},
			server: transport.ServerOptions{PeerTimeout: time.Hour}})
		start := r.bl.Head()

		srvEnd, replicaEnd := net.Pipe()
		go r.srv.ServeConn(&slowCloseConn{Conn: srvEnd, delay: 100 * time.Millisecond})
		startRaw(t, replicaEnd, 2, start, rawOptions{semisync: true}) // never acknowledges
		r.events.take(t, "replica 2 joined", eventKind(source.EventReplicaJoined, 2))
		r.events.take(t, "the switch-on", eventKind(source.EventSwitchedOn, 0))

		_, wait := startCommit(t, r, eventData(0))
		advance(time.Millisecond)

		// The same replica connects again, from where it started.
		r.dialRaw(t, 2, start, rawOptions{semisync: true})
		r.events.take(t, "replica 2 joined again", eventKind(source.EventReplicaJoined, 2))
		advance(time.Second)

		select {
		case got := <-wait: // fails: SwitchedOff, replica-loss
			t.Fatalf("the commit was released (%v, %v) while its replica only reconnected", got.res.Outcome, got.res.Reason)
		default:
		}
		require.True(t, r.src.State().On, "the source switched OFF on a reconnect")
		require.Equal(t, 1, r.src.State().Clients)
	})
}

// TestReviewTwoReconnectSwitchesSourceOffTCP is the same over loopback TCP
// with plain connections: no slow Close is needed, the older session is
// nearly always closed before the new one registers.
func TestReviewTwoReconnectSwitchesSourceOffTCP(t *testing.T) {
	r := newRig(t, &network{}, rigConfig{set: []string{"rpl_semi_sync_source_wait_no_replica = OFF"},
		server: transport.ServerOptions{PeerTimeout: time.Hour}})
	start := r.bl.Head()
	r.dialRaw(t, 2, start, rawOptions{semisync: true}) // never acknowledges
	r.events.take(t, "replica 2 joined", eventKind(source.EventReplicaJoined, 2))
	r.events.take(t, "the switch-on", eventKind(source.EventSwitchedOn, 0))
	_, wait := startCommit(t, r, eventData(0))

	r.dialRaw(t, 2, start, rawOptions{semisync: true}) // the same replica again
	r.events.take(t, "replica 2 joined again", eventKind(source.EventReplicaJoined, 2))
	select {
	case got := <-wait: // fails: SwitchedOff, replica-loss
		t.Fatalf("the commit was released (%v, %v) while its replica only reconnected", got.res.Outcome, got.res.Reason)
	case <-time.After(200 * time.Millisecond):
	}
	require.True(t, r.src.State().On)
	require.Equal(t, 1, r.src.State().Clients)
}

// brokenListener is a listener whose Accept fails for good with an error
// that is not net.ErrClosed, as a custom or wrapped listener may report
// its end (io.EOF, its own "closed" error).
type brokenListener struct{ net.Listener }

func (brokenListener) Accept() (net.Conn, error) { return nil, io.EOF }

// TestReviewTwoServeSpinsOnPermanentAcceptError (server.go:216-229): Serve
// treats every Accept error but net.ErrClosed as transient and retries it
// for ever (once a second), where it used to return the listener's error
// as its doc still says; net/http retries only errors that say they are
// temporary.
func TestReviewTwoServeSpinsOnPermanentAcceptError(t *testing.T) {
	r := newRig(t, &network{}, rigConfig{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	served := make(chan error, 1)
	go func() { served <- r.srv.Serve(brokenListener{ln}) }()
	select {
	case err := <-served:
		require.ErrorIs(t, err, io.EOF)
	case <-time.After(3 * time.Second): // fails: Serve is still retrying
		t.Fatalf("Serve still retries a listener whose Accept failed for good")
	}
}

// TestReviewTwoID0ZombieConnection: ID 0 is an ID like any other. The
// server used to exempt it from closing an older connection while the
// source superseded the older session all the same, leaving a connected,
// answering replica whose ACKs no longer counted. Now the newer connection
// replaces the older one, in the source and in the server alike.
func TestReviewTwoID0ZombieConnection(t *testing.T) {
	pipeOnly(t, func(t *testing.T, nw *network) {
		r := newRig(t, nw, rigConfig{server: transport.ServerOptions{PeerTimeout: time.Hour}})
		r.setTimeout(t, 10*time.Second)
		r.dialRaw(t, 0, r.bl.Head(), rawOptions{semisync: true, autoAck: true})
		r.events.take(t, "replica 0 joined", eventKind(source.EventReplicaJoined, 0))
		r.dialRaw(t, 0, r.bl.Head(), rawOptions{semisync: true, autoAck: true})
		r.events.take(t, "replica 0 joined again", eventKind(source.EventReplicaJoined, 0))
		r.events.take(t, "the older replica 0 left", eventKind(source.EventReplicaLeft, 0))
		require.Equal(t, 1, r.src.State().Clients, "one ID, one connection")
		require.Equal(t, uint64(1), r.srv.Stats().Superseded)
		_, res := commit(t, r, eventData(0))
		require.Equal(t, source.Acknowledged, res.Outcome, "the connected replica 0 acknowledges")
	})
}
