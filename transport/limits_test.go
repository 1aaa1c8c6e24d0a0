package transport_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/source"
	"github.com/semisync-go/semisync/transport"
	"github.com/semisync-go/semisync/wire"
)

// The server's limits: connections beyond MaxConnections, or beyond
// MaxHandshakes when no handshake waiting for its peer can be evicted, are
// refused at once, with no goroutine, cursor or session; a handshake has
// HandshakeTimeout in all; healthy replicas already streaming do not
// notice a flood.

// tcpOnly runs body over loopback TCP and checks afterwards that no
// goroutine is left behind.
func tcpOnly(t *testing.T, body func(t *testing.T, nw *network)) { netKinds[0].run(t, body) }

// requireTooMany reads the server's first packet on c and requires it to
// be the refusal of a connection beyond a limit.
func requireTooMany(t *testing.T, c net.Conn) {
	t.Helper()
	require.NoError(t, c.SetReadDeadline(time.Now().Add(failAfter)))
	seq, p, err := wire.NewPacketReader(bufio.NewReader(c), 0).ReadPacket()
	require.NoError(t, err)
	require.Equal(t, uint8(1), seq)
	_, _, err = transport.ParseChallenge(p)
	var refused *transport.RefusedError
	require.ErrorAs(t, err, &refused)
	require.Equal(t, transport.RefusedError{Code: transport.CodeTooMany, Message: "transport: too many connections"}, *refused)
	require.ErrorIs(t, err, transport.ErrTooManyConnections)
}

// commitAll runs n commits and requires every one to be acknowledged.
func commitAll(t *testing.T, r *rig, n int) {
	t.Helper()
	acked := 0
	for i := range n {
		if _, res := commit(t, r, eventData(i)); res.Outcome == source.Acknowledged {
			acked++
		}
	}
	require.Equal(t, n, acked, "acknowledged commits")
}

// requireClosedBy reads c until the server closes it (after, perhaps, its
// challenge), and fails if it stays open.
func requireClosedBy(t *testing.T, c net.Conn) {
	t.Helper()
	require.NoError(t, c.SetReadDeadline(time.Now().Add(failAfter)))
	_, err := io.Copy(io.Discard, c)
	if !errors.Is(err, syscall.ECONNRESET) { // reset if it left bytes unread
		require.NoError(t, err, "closed by the server, not by the deadline")
	}
}

// helloOnly sends a hello for id on c and reads the source's challenge,
// then leaves the handshake there: once the challenge is read, the source
// has read the hello.
func helloOnly(t *testing.T, c net.Conn, id semisync.ReplicaID, start semisync.Position) {
	t.Helper()
	require.NoError(t, send(c, 0, transport.AppendHello(nil, true, id, start)))
	require.NoError(t, c.SetReadDeadline(time.Now().Add(failAfter)))
	seq, p, err := wire.NewPacketReader(bufio.NewReader(c), 0).ReadPacket()
	require.NoError(t, err)
	require.Equal(t, uint8(1), seq, "the challenge's sequence id")
	_, _, err = transport.ParseChallenge(p)
	require.NoError(t, err)
}

// requireHandshaking waits, yielding but never sleeping, until the server
// has admitted n handshakes: a dial returns once the kernel has the
// connection, before the server has accepted it.
func requireHandshaking(t *testing.T, r *rig, n int64) {
	t.Helper()
	deadline := time.Now().Add(failAfter)
	for r.srv.Stats().Handshaking != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d handshakes in flight, want %d", r.srv.Stats().Handshaking, n)
		}
		runtime.Gosched()
	}
}

// strangerHook returns an Authenticate hook that lets replica IDs below
// 100 in and holds the others, a stranger each, until hold is closed (or
// the handshake's deadline), then refuses them; reached receives once for
// each stranger held, of at most k.
func strangerHook(k int) (hook func(context.Context, transport.Peer) error, hold, reached chan struct{}) {
	hold, reached = make(chan struct{}), make(chan struct{}, k)
	return func(ctx context.Context, p transport.Peer) error {
		if p.ID < 100 {
			return nil
		}
		reached <- struct{}{}
		select {
		case <-hold:
		case <-ctx.Done():
		}
		return errors.New("a stranger")
	}, hold, reached
}

// TestMaxHandshakes: with MaxHandshakes k in flight, each new connection
// evicts the handshake that has waited longest for its peer (the wait
// starts again when the peer's hello is read), so silent clients hold at
// most k goroutines and cannot keep out a replica that reconnects; only
// handshakes the server itself is working on (here, k stuck in the
// Authenticate hook) make it refuse a new connection at once. (Before, k
// silent connections renewed every HandshakeTimeout kept every
// reconnecting replica out with code 1040.)
func TestMaxHandshakes(t *testing.T) {
	tcpOnly(t, func(t *testing.T, nw *network) {
		const k = 4
		var bl countingBinlog
		authenticate, hold, reached := strangerHook(k)
		r := newRig(t, nw, rigConfig{binlog: &bl, server: transport.ServerOptions{MaxHandshakes: k, HandshakeTimeout: time.Minute,
			Authenticate: authenticate}})
		bl.Binlog = r.bl
		healthy := r.joinHealthy(t, r.config(t, 2, newRelayLog()))
		base := runtime.NumGoroutine()

		// k silent connections; the first of them then sends its hello,
		// which starts its wait again; then k-1 more that send a hello
		// and stop, each evicting the one that has waited longest: the
		// silent ones after the first.
		var silent, later []net.Conn
		for range k {
			silent = append(silent, r.dial(t))
		}
		requireHandshaking(t, r, k) // all admitted before the first renews its wait
		helloOnly(t, silent[0], 200, r.bl.Head())
		for i := range k - 1 {
			c := r.dial(t)
			helloOnly(t, c, semisync.ReplicaID(201+i), r.bl.Head())
			later = append(later, c)
		}
		for i, c := range silent[1:] {
			requireClosedBy(t, c)
			require.ErrorIs(t, r.ended.take(t, "an evicted handshake's end", nil).err, transport.ErrTooManyConnections, "connection %d", i)
		}
		st := r.srv.Stats()
		require.Equal(t, uint64(k-1), st.HandshakesEvicted)
		require.Zero(t, st.RefusedHandshakes)
		require.Zero(t, st.BadHandshakes, "an eviction is not the peer's fault")
		require.Equal(t, int64(k), st.Handshaking)
		require.Equal(t, int64(k+1), st.Active, "the healthy replica and k handshakes")
		requireGoroutines(t, base+k) // one goroutine per handshake in flight
		require.Equal(t, int32(1), bl.opens.Load(), "a cursor for the healthy replica only")
		commitAll(t, r, 10)

		// The healthy replica reconnects while k are waiting: it evicts
		// the one that has waited longest (the first, whose hello came
		// before the others connected) and streams again.
		healthy.stop(t)
		r.ended.take(t, "the healthy replica's end", nil)
		replicate(t, r.dial(t), r.config(t, 2, newRelayLog()))
		r.events.take(t, "the healthy replica joined again", eventKind(source.EventReplicaJoined, 2))
		require.Equal(t, uint64(k), r.srv.Stats().HandshakesEvicted)
		requireClosedBy(t, silent[0])
		require.ErrorIs(t, r.ended.take(t, "the handshake it evicted", nil).err, transport.ErrTooManyConnections)
		commitAll(t, r, 10)

		// Two more: the first fills the k-th place, the second evicts the
		// oldest of the later ones.
		for i := range 2 {
			c := r.dial(t)
			helloOnly(t, c, semisync.ReplicaID(210+i), r.bl.Head())
			later = append(later, c)
		}
		requireClosedBy(t, later[0])
		require.ErrorIs(t, r.ended.take(t, "the handshake evicted last", nil).err, transport.ErrTooManyConnections)
		require.Equal(t, uint64(k+1), r.srv.Stats().HandshakesEvicted)
		for _, c := range later[1:] {
			c.Close()
		}
		for range k {
			r.ended.take(t, "a waiting handshake's end", nil)
		}
		require.Zero(t, r.srv.Stats().Handshaking)

		// k strangers stuck in the hook cannot be evicted: the next
		// connection is refused at once, and the hook's end frees them.
		var strangers []net.Conn
		for i := range k {
			c := r.dial(t)
			helloOnly(t, c, semisync.ReplicaID(300+i), r.bl.Head())
			require.NoError(t, send(c, 0, transport.AppendResponse(nil, [transport.NonceLen]byte{7}, nil, nil)))
			strangers = append(strangers, c)
		}
		for range k {
			receive(t, "a stranger in the hook", reached)
		}
		c := r.dial(t)
		requireTooMany(t, c)
		c.Close()
		require.Equal(t, uint64(1), r.srv.Stats().RefusedHandshakes)
		close(hold)
		for _, c := range strangers {
			c.Close()
			require.ErrorIs(t, r.ended.take(t, "a stranger's end", nil).err, transport.ErrNotAuthorised)
		}
		commitAll(t, r, 5)
		require.Zero(t, r.srv.Stats().Superseded)
	})
}

// TestMaxHandshakesTLS: a TLS handshake counts as a handshake in flight
// and is evicted like any other while it waits for the peer's
// ClientHello; a replica with valid TLS gets in past k silent ones. With
// k TLS handshakes past waiting (in the hook), a new connection is
// closed at once without a word: a refusal would need TLS first.
func TestMaxHandshakesTLS(t *testing.T) {
	tcpOnly(t, func(t *testing.T, nw *network) {
		const k = 2
		ca := newPKI(t)
		srvTLS := &tls.Config{Certificates: []tls.Certificate{ca.issue(t, sourceName, true)}, MinVersion: tls.VersionTLS13}
		authenticate, hold, reached := strangerHook(k)
		r := newRig(t, nw, rigConfig{server: transport.ServerOptions{TLSConfig: srvTLS, MaxHandshakes: k, HandshakeTimeout: time.Minute,
			Authenticate: authenticate}})
		cfg := r.config(t, 2, newRelayLog())
		cfg.TLSConfig = ca.clientTLS()
		r.joinHealthy(t, cfg)

		var silent []net.Conn
		for range k {
			silent = append(silent, r.dial(t)) // never sends its ClientHello
		}
		requireHandshaking(t, r, k)
		cfg3 := r.config(t, 3, newRelayLog())
		cfg3.TLSConfig = ca.clientTLS()
		replicate(t, r.dial(t), cfg3)
		r.events.take(t, "replica 3 joined past the silent ones", eventKind(source.EventReplicaJoined, 3))
		requireClosedBy(t, silent[0])
		require.ErrorIs(t, r.ended.take(t, "the evicted handshake's end", nil).err, transport.ErrTooManyConnections)
		st := r.srv.Stats()
		require.Equal(t, uint64(1), st.HandshakesEvicted)
		commitAll(t, r, 10)
		silent[1].Close()
		r.ended.take(t, "a silent connection's end", nil)
		require.Equal(t, uint64(1), r.srv.Stats().BadHandshakes)

		var strangers []net.Conn
		for i := range k {
			c := tls.Client(r.dial(t), ca.clientTLS())
			helloOnly(t, c, semisync.ReplicaID(300+i), r.bl.Head())
			require.NoError(t, send(c, 0, transport.AppendResponse(nil, [transport.NonceLen]byte{7}, nil, nil)))
			strangers = append(strangers, c)
		}
		for range k {
			receive(t, "a stranger in the hook", reached)
		}
		c := r.dial(t)
		require.NoError(t, c.SetReadDeadline(time.Now().Add(failAfter)))
		_, err := c.Read(make([]byte, 1))
		require.ErrorIs(t, err, io.EOF, "closed at once, without a word")
		c.Close()
		require.Equal(t, uint64(1), r.srv.Stats().RefusedHandshakes)
		close(hold)
		for _, c := range strangers {
			c.Close()
			require.ErrorIs(t, r.ended.take(t, "a stranger's end", nil).err, transport.ErrNotAuthorised)
		}
		commitAll(t, r, 5)
	})
}

// TestMaxConnectionsEvicts: with MaxConnections served, some of them
// handshakes waiting for their peers, a replica that reconnects evicts the
// one that has waited longest instead of being refused; replicas already
// streaming are never evicted, and with none waiting the next connection
// is refused.
func TestMaxConnectionsEvicts(t *testing.T) {
	tcpOnly(t, func(t *testing.T, nw *network) {
		const m = 3
		r := newRig(t, nw, rigConfig{server: transport.ServerOptions{MaxConnections: m, MaxHandshakes: m + 1, HandshakeTimeout: time.Minute}})
		healthy := r.joinHealthy(t, r.config(t, 2, newRelayLog()))
		silent := []net.Conn{r.dial(t), r.dial(t)}
		helloOnly(t, silent[0], 200, r.bl.Head())
		helloOnly(t, silent[1], 201, r.bl.Head())
		require.Equal(t, int64(m), r.srv.Stats().Active)

		healthy.stop(t)
		r.ended.take(t, "the healthy replica's end", nil)
		silent = append(silent, r.dial(t)) // takes the healthy one's place
		helloOnly(t, silent[2], 202, r.bl.Head())
		replicate(t, r.dial(t), r.config(t, 2, newRelayLog()))
		r.events.take(t, "the healthy replica joined again", eventKind(source.EventReplicaJoined, 2))
		requireClosedBy(t, silent[0])
		require.ErrorIs(t, r.ended.take(t, "the evicted handshake's end", nil).err, transport.ErrTooManyConnections)
		st := r.srv.Stats()
		require.Equal(t, uint64(1), st.HandshakesEvicted)
		require.Zero(t, st.RefusedConnections)
		require.Equal(t, int64(m), st.Active)
		commitAll(t, r, 10)

		// Replicas 3 and 4 take the two remaining places, one at a time.
		replicate(t, r.dial(t), r.config(t, 3, newRelayLog()))
		r.events.take(t, "replica 3 joined", eventKind(source.EventReplicaJoined, 3))
		replicate(t, r.dial(t), r.config(t, 4, newRelayLog()))
		r.events.take(t, "replica 4 joined", eventKind(source.EventReplicaJoined, 4))
		for range 2 {
			require.ErrorIs(t, r.ended.take(t, "an evicted handshake's end", nil).err, transport.ErrTooManyConnections)
		}
		requireClosedBy(t, silent[1])
		requireClosedBy(t, silent[2])
		_, err := transport.Replicate(bounded(t), r.dial(t), r.config(t, 9, newRelayLog()))
		require.ErrorIs(t, err, transport.ErrTooManyConnections, "nothing left to evict")
		st = r.srv.Stats()
		require.Equal(t, uint64(3), st.HandshakesEvicted)
		require.Equal(t, uint64(1), st.RefusedConnections)
		require.Equal(t, m, r.src.State().Clients)
		commitAll(t, r, 10)
	})
}

// TestServeConnEvicts: ServeConn's connections are evicted like Serve's:
// the evicted call returns ErrTooManyConnections and its peer sees the
// pipe closed.
func TestServeConnEvicts(t *testing.T) {
	pipeOnly(t, func(t *testing.T, nw *network) {
		r := newRig(t, nw, rigConfig{server: transport.ServerOptions{MaxHandshakes: 1, HandshakeTimeout: time.Minute}})
		srvEnd, silent := net.Pipe()
		done := make(chan error, 1)
		go func() { done <- r.srv.ServeConn(srvEnd) }()
		synctest.Wait()
		require.Equal(t, int64(1), r.srv.Stats().Handshaking)
		replicate(t, r.dial(t), r.config(t, 2, newRelayLog()))
		r.events.take(t, "replica 2 joined", eventKind(source.EventReplicaJoined, 2))
		require.ErrorIs(t, receive(t, "the evicted ServeConn's end", done), transport.ErrTooManyConnections)
		require.ErrorIs(t, r.ended.take(t, "the evicted handshake's end", nil).err, transport.ErrTooManyConnections)
		_, err := silent.Read(make([]byte, 1))
		require.ErrorIs(t, err, io.EOF)
		silent.Close()
		require.Equal(t, uint64(1), r.srv.Stats().HandshakesEvicted)
		commitAll(t, r, 3)
	})
}

// TestMaxConnections: with MaxConnections m, the (m+1)-th replica is
// refused with code 1040 while m are streaming, and accepted once one of
// them has left.
func TestMaxConnections(t *testing.T) {
	tcpOnly(t, func(t *testing.T, nw *network) {
		const m = 3
		r := newRig(t, nw, rigConfig{server: transport.ServerOptions{MaxConnections: m}})
		var runs []*replicaRun
		for id := range m {
			runs = append(runs, replicate(t, r.dial(t), r.config(t, semisync.ReplicaID(2+id), newRelayLog())))
			r.events.take(t, "a replica joined", eventKind(source.EventReplicaJoined, semisync.ReplicaID(2+id)))
		}
		_, err := transport.Replicate(bounded(t), r.dial(t), r.config(t, 9, newRelayLog()))
		var refused *transport.RefusedError
		require.ErrorAs(t, err, &refused)
		require.Equal(t, uint16(transport.CodeTooMany), refused.Code)
		require.ErrorIs(t, err, transport.ErrTooManyConnections)
		st := r.srv.Stats()
		require.Equal(t, uint64(1), st.RefusedConnections)
		require.Equal(t, int64(m), st.Active)
		require.Equal(t, m, r.src.State().Clients)
		commitAll(t, r, 10)

		runs[m-1].stop(t)
		r.ended.take(t, "the stopped replica's end", nil)
		replicate(t, r.dial(t), r.config(t, 9, newRelayLog()))
		r.events.take(t, "replica 9 joined", eventKind(source.EventReplicaJoined, 9))
		commitAll(t, r, 10)
	})
}

// TestServeConnLimits: ServeConn applies the limits too: beyond them it
// refuses the connection and returns ErrTooManyConnections.
func TestServeConnLimits(t *testing.T) {
	pipeOnly(t, func(t *testing.T, nw *network) {
		r := newRig(t, nw, rigConfig{server: transport.ServerOptions{MaxConnections: 1}})
		r.joinHealthy(t, r.config(t, 2, newRelayLog()))
		srvEnd, replicaEnd := net.Pipe()
		read := make(chan struct{})
		go func() {
			defer close(read)
			requireTooMany(t, replicaEnd)
		}()
		require.ErrorIs(t, r.srv.ServeConn(srvEnd), transport.ErrTooManyConnections)
		<-read
		replicaEnd.Close()
		require.Equal(t, uint64(1), r.srv.Stats().RefusedConnections)
		commitAll(t, r, 3)
	})
}

// TestHandshakeTimeout: a connection that says nothing, one that stops
// after its hello, and one that sends its hello a byte at a time are all
// closed HandshakeTimeout after they connected, and counted.
func TestHandshakeTimeout(t *testing.T) {
	pipeOnly(t, func(t *testing.T, nw *network) {
		const timeout = time.Second
		r := newRig(t, nw, rigConfig{server: transport.ServerOptions{HandshakeTimeout: timeout}})
		hello := transport.AppendHello(nil, true, 2, r.bl.Head())
		pkt, _ := wire.AppendPacket(nil, 0, hello)

		t0 := time.Now()
		silent := r.dial(t)
		defer silent.Close()
		requireTimedOut := func(what string) {
			t.Helper()
			require.ErrorIs(t, r.ended.take(t, what, nil).err, os.ErrDeadlineExceeded, what)
			require.Equal(t, timeout, time.Since(t0), what) // fake time: exact
		}
		requireTimedOut("the silent connection's end")

		t0 = time.Now()
		mute := r.dial(t)
		defer mute.Close()
		_, err := mute.Write(pkt)
		require.NoError(t, err)
		_, _, err = wire.NewPacketReader(bufio.NewReader(mute), 0).ReadPacket() // the challenge
		require.NoError(t, err)
		requireTimedOut("the connection that never answered the challenge")

		t0 = time.Now()
		drip := r.dial(t)
		defer drip.Close()
		dripped := make(chan struct{})
		go func() {
			defer close(dripped)
			for i := 0; i < len(pkt); i++ {
				if _, err := drip.Write(pkt[i : i+1]); err != nil {
					return
				}
				advance(timeout / 10)
			}
		}()
		requireTimedOut("the slow hello")
		<-dripped
		st := r.srv.Stats()
		require.Equal(t, uint64(3), st.HandshakeTimeouts)
		require.Zero(t, st.Handshaking)
		require.Zero(t, st.Active)
		require.Zero(t, st.BadHandshakes)
	})
}

// TestHandshakePacketBound: a handshake packet longer than the longest
// hello or response ends the connection without being read.
func TestHandshakePacketBound(t *testing.T) {
	tcpOnly(t, func(t *testing.T, nw *network) {
		r := newRig(t, nw, rigConfig{})
		c := r.dial(t)
		defer c.Close()
		require.NoError(t, send(c, 0, make([]byte, 4<<10)))
		require.ErrorIs(t, r.ended.take(t, "the connection's end", nil).err, wire.ErrPacketTooLarge)
		require.Equal(t, uint64(1), r.srv.Stats().BadHandshakes)
	})
}
