package transport_test

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/source"
	"github.com/semisync-go/semisync/transport"
	"github.com/semisync-go/semisync/wire"
)

// The server's limits: connections beyond MaxConnections or MaxHandshakes
// are refused at once, with no goroutine, cursor or session; a handshake
// has HandshakeTimeout in all; healthy replicas already streaming do not
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

// TestMaxHandshakes: with MaxHandshakes k, k connections that never send a
// hello hold k handshakes, and n more are refused at once (whether or not
// they sent a hello) with no goroutine of their own; the healthy replica
// keeps committing; once the silent ones go, the server accepts again.
// (Before the limit, every connection got two goroutines and could take
// over an ID.)
func TestMaxHandshakes(t *testing.T) {
	tcpOnly(t, func(t *testing.T, nw *network) {
		const k, n = 4, 6
		var bl countingBinlog
		r := newRig(t, nw, rigConfig{binlog: &bl, server: transport.ServerOptions{MaxHandshakes: k, HandshakeTimeout: time.Minute}})
		bl.Binlog = r.bl
		r.joinHealthy(t, r.config(t, 2, newRelayLog()))
		base := runtime.NumGoroutine()

		var silent []net.Conn
		for range k {
			silent = append(silent, r.dial(t))
		}
		// Accepted in the order they connected: the silent ones first.
		for i := range n {
			c := r.dial(t)
			if i%2 == 0 {
				require.NoError(t, send(c, 0, transport.AppendHello(nil, true, 2, r.bl.Head())))
			}
			requireTooMany(t, c)
			c.Close()
		}
		st := r.srv.Stats()
		require.Equal(t, uint64(n), st.RefusedHandshakes)
		require.Zero(t, st.RefusedConnections)
		require.Equal(t, int64(k), st.Handshaking)
		require.Equal(t, int64(k+1), st.Active)
		require.LessOrEqual(t, runtime.NumGoroutine(), base+k+2, "one goroutine per handshake, none for the refused")
		require.Equal(t, int32(1), bl.opens.Load(), "a cursor for the healthy replica only")
		require.Equal(t, 1, r.src.State().Clients)

		commitAll(t, r, 20)

		for _, c := range silent {
			c.Close()
		}
		for range k {
			require.ErrorIs(t, r.ended.take(t, "a silent connection's end", nil).err, io.EOF)
		}
		require.Zero(t, r.srv.Stats().Handshaking)
		replicate(t, r.dial(t), r.config(t, 3, newRelayLog()))
		r.events.take(t, "replica 3 joined after the flood", eventKind(source.EventReplicaJoined, 3))
		commitAll(t, r, 5)
		require.Zero(t, r.srv.Stats().Superseded)
	})
}

// TestMaxHandshakesTLS: a TLS handshake counts as a handshake in flight; a
// connection beyond the limit is closed without a word (a refusal would
// need TLS first).
func TestMaxHandshakesTLS(t *testing.T) {
	tcpOnly(t, func(t *testing.T, nw *network) {
		const k, n = 2, 3
		ca := newPKI(t)
		srvTLS := &tls.Config{Certificates: []tls.Certificate{ca.issue(t, sourceName, true)}, MinVersion: tls.VersionTLS13}
		r := newRig(t, nw, rigConfig{server: transport.ServerOptions{TLSConfig: srvTLS, MaxHandshakes: k, HandshakeTimeout: time.Minute}})
		cfg := r.config(t, 2, newRelayLog())
		cfg.TLSConfig = ca.clientTLS()
		r.joinHealthy(t, cfg)

		var silent []net.Conn
		for range k {
			silent = append(silent, r.dial(t)) // never sends its ClientHello
		}
		for range n {
			c := r.dial(t)
			require.NoError(t, c.SetReadDeadline(time.Now().Add(failAfter)))
			_, err := c.Read(make([]byte, 1))
			require.ErrorIs(t, err, io.EOF, "closed at once, without a word")
			c.Close()
		}
		st := r.srv.Stats()
		require.Equal(t, uint64(n), st.RefusedHandshakes)
		require.Equal(t, int64(k), st.Handshaking)
		commitAll(t, r, 10)
		for _, c := range silent {
			c.Close()
			r.ended.take(t, "a silent connection's end", nil)
		}
		require.Equal(t, uint64(k), r.srv.Stats().BadHandshakes)
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
