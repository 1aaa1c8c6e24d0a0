package transport_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/source"
	"github.com/semisync-go/semisync/transport"
	"github.com/semisync-go/semisync/wire"
)

// Who may connect: the shared secret, the Authenticate hook, TLS and the
// protocol version. Each test checks that a stranger is refused before it
// can take over a healthy replica's session, and that the healthy replica
// and its commits do not notice.

// testSecret is the shared secret of the tests: 32 bytes, as recommended.
var testSecret = []byte("0123456789abcdef0123456789abcdef")

// bounded returns a context that ends after failAfter: a Replicate call
// that should be refused at once ends with its error rather than stream
// forever if it is accepted after all.
func bounded(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), failAfter)
	t.Cleanup(cancel)
	return ctx
}

// config returns the configuration of a semisync replica with ID id that
// streams into relay from the binlog's head.
func (r *rig) config(t *testing.T, id semisync.ReplicaID, relay *relayLog) transport.ReplicaConfig {
	t.Helper()
	return transport.ReplicaConfig{Replica: newReplica(t, r.flavor, true), ID: id, Start: r.bl.Head(), RelayLog: relay}
}

// joinHealthy connects replica 2 with cfg's credentials, waits for it to
// join and requires a commit to be acknowledged.
func (r *rig) joinHealthy(t *testing.T, cfg transport.ReplicaConfig) *replicaRun {
	t.Helper()
	run := replicate(t, r.dial(t), cfg)
	r.events.take(t, "the healthy replica joined", eventKind(source.EventReplicaJoined, cfg.ID))
	_, res := commit(t, r, eventData(0))
	require.Equal(t, source.Acknowledged, res.Outcome)
	return run
}

// requireHealthyKept requires the healthy replica's session to be intact:
// nothing superseded, the source ON with one client, a new commit
// acknowledged, and the replica still streaming.
func (r *rig) requireHealthyKept(t *testing.T, healthy *replicaRun) {
	t.Helper()
	require.Zero(t, r.srv.Stats().Superseded, "no connection superseded")
	st := r.src.State()
	require.True(t, st.On, "the source stays ON")
	require.Equal(t, 1, st.Clients)
	_, res := commit(t, r, eventData(1))
	require.Equal(t, source.Acknowledged, res.Outcome)
	select {
	case e := <-healthy.done:
		t.Fatalf("the healthy replica stopped: %v", e.err)
	default:
	}
}

// byHand plays a replica's handshake byte by byte on conn: it sends hello,
// reads the challenge, sends the response that respond builds for it (nil:
// no proof, no token) and returns the source's answer: nil for an accept,
// or the refusal. It also returns the challenge's nonce.
func byHand(t *testing.T, conn net.Conn, hello []byte, respond func(secretRequired bool, nonce [transport.NonceLen]byte) []byte) ([transport.NonceLen]byte, error) {
	t.Helper()
	defer conn.Close()
	out, _ := wire.AppendPacket(nil, 0, hello)
	_, err := conn.Write(out)
	require.NoError(t, err)
	pr := wire.NewPacketReader(bufio.NewReader(conn), 0)
	seq, p, err := pr.ReadPacket()
	require.NoError(t, err)
	require.Equal(t, uint8(1), seq, "the challenge's sequence id")
	required, nonce, err := transport.ParseChallenge(p)
	require.NoError(t, err)
	resp := transport.AppendResponse(nil, [transport.NonceLen]byte{7}, nil, nil)
	if respond != nil {
		resp = respond(required, nonce)
	}
	out, _ = wire.AppendPacket(out[:0], 0, resp)
	_, err = conn.Write(out)
	require.NoError(t, err)
	seq, p, err = pr.ReadPacket()
	require.NoError(t, err)
	require.Equal(t, uint8(1), seq, "the answer's sequence id")
	_, _, err = transport.ParseAccept(p)
	return nonce, err
}

// TestSecretRefusesTakeover: with a shared secret, a hello that reuses a
// healthy replica's ID without credentials is refused before it is
// registered: the healthy replica keeps its session, the source stays ON
// and commits stay acknowledged. (On the old protocol, such a hello
// superseded the healthy connection.)
func TestSecretRefusesTakeover(t *testing.T) {
	forEachNet(t, func(t *testing.T, nw *network) {
		r := newRig(t, nw, rigConfig{server: transport.ServerOptions{Secret: testSecret}})
		cfg := r.config(t, 2, newRelayLog())
		cfg.Secret = testSecret
		healthy := r.joinHealthy(t, cfg)

		// Replicate without the secret gives up when challenged.
		stranger := r.config(t, 2, newRelayLog())
		_, err := transport.Replicate(bounded(t), r.dial(t), stranger)
		require.ErrorIs(t, err, transport.ErrSecretRequired)
		r.ended.take(t, "the stranger's end", nil)

		// A hand-made replica that answers anyway, with no proof or a
		// made-up one, is refused with code 5 and a generic message.
		hello := transport.AppendHello(nil, true, 2, r.bl.Head())
		for _, proof := range [][]byte{nil, bytes.Repeat([]byte{1}, 32)} {
			_, err = byHand(t, r.dial(t), hello, func(required bool, _ [transport.NonceLen]byte) []byte {
				require.True(t, required, "the challenge says the secret is required")
				return transport.AppendResponse(nil, [transport.NonceLen]byte{7}, proof, nil)
			})
			var refused *transport.RefusedError
			require.ErrorAs(t, err, &refused)
			require.Equal(t, transport.RefusedError{Code: transport.CodeNotAuthorised, Message: "transport: not authorised"}, *refused)
			require.ErrorIs(t, err, transport.ErrNotAuthorised)
			end := r.ended.take(t, "the hand-made replica's end", nil)
			require.ErrorIs(t, end.err, transport.ErrNotAuthorised)
		}
		require.Equal(t, uint64(2), r.srv.Stats().BadProofs)
		r.requireHealthyKept(t, healthy)
	})
}

// TestWrongSecret: a replica with another secret is refused, and the hook
// is never asked about it.
func TestWrongSecret(t *testing.T) {
	forEachNet(t, func(t *testing.T, nw *network) {
		var asked atomic.Int32
		r := newRig(t, nw, rigConfig{server: transport.ServerOptions{Secret: testSecret,
			Authenticate: func(context.Context, transport.Peer) error { asked.Add(1); return nil }}})
		cfg := r.config(t, 2, newRelayLog())
		cfg.Secret = testSecret
		healthy := r.joinHealthy(t, cfg)

		wrong := r.config(t, 2, newRelayLog())
		wrong.Secret = []byte("0123456789abcdef0123456789abcdeF")
		_, err := transport.Replicate(bounded(t), r.dial(t), wrong)
		require.ErrorIs(t, err, transport.ErrNotAuthorised)
		require.ErrorIs(t, r.ended.take(t, "the wrong secret's end", nil).err, transport.ErrNotAuthorised)
		require.Equal(t, uint64(1), r.srv.Stats().BadProofs)
		require.Equal(t, int32(1), asked.Load(), "the hook saw only the healthy replica")
		r.requireHealthyKept(t, healthy)
	})
}

// TestHookRefusesTakeover: a hook that refuses a replica whose ID is
// connected keeps the healthy session; the refused replica learns only
// "not authorised" unless the hook discloses its reason.
func TestHookRefusesTakeover(t *testing.T) {
	forEachNet(t, func(t *testing.T, nw *network) {
		var mu sync.Mutex
		var peers []transport.Peer
		errTaken := errors.New("replica ID in use (internal detail)")
		r := newRig(t, nw, rigConfig{server: transport.ServerOptions{
			Authenticate: func(_ context.Context, p transport.Peer) error {
				mu.Lock()
				p.Token = slices.Clone(p.Token)
				peers = append(peers, p)
				mu.Unlock()
				switch {
				case p.Connected:
					return errTaken
				case p.ID == 9:
					return transport.Disclose(errors.New("replica 9 is not in the inventory"))
				}
				return nil
			}}})
		healthy := r.joinHealthy(t, r.config(t, 2, newRelayLog()))

		_, err := transport.Replicate(bounded(t), r.dial(t), r.config(t, 2, newRelayLog()))
		var refused *transport.RefusedError
		require.ErrorAs(t, err, &refused)
		require.Equal(t, transport.RefusedError{Code: transport.CodeNotAuthorised, Message: "transport: not authorised"}, *refused,
			"the hook's reason stays on the source")
		end := r.ended.take(t, "the refused connection's end", nil)
		require.ErrorIs(t, end.err, errTaken, "OnError gets the hook's reason")
		require.ErrorIs(t, end.err, transport.ErrNotAuthorised)

		_, err = transport.Replicate(bounded(t), r.dial(t), r.config(t, 9, newRelayLog()))
		require.ErrorAs(t, err, &refused)
		require.Equal(t, "replica 9 is not in the inventory", refused.Message, "a disclosed reason reaches the replica")
		r.ended.take(t, "replica 9's end", nil)

		require.Equal(t, uint64(2), r.srv.Stats().RefusedByHook)
		r.requireHealthyKept(t, healthy)
		mu.Lock()
		defer mu.Unlock()
		require.Len(t, peers, 3)
		for i, want := range []struct {
			id        semisync.ReplicaID
			connected bool
		}{{2, false}, {2, true}, {9, false}} {
			p := peers[i]
			require.Equal(t, want.id, p.ID, "peer %d", i)
			require.Equal(t, want.connected, p.Connected, "peer %d", i)
			require.True(t, p.Semisync, "peer %d", i)
			require.Nil(t, p.TLS, "peer %d: no TLS", i)
			require.Empty(t, p.Token, "peer %d", i)
			require.NotNil(t, p.RemoteAddr, "peer %d", i)
		}
	})
}

// countingBinlog counts Open calls.
type countingBinlog struct {
	transport.Binlog
	opens atomic.Int32
}

func (b *countingBinlog) Open(start semisync.Position) (transport.Cursor, error) {
	b.opens.Add(1)
	return b.Binlog.Open(start)
}

// TestAuthenticateBeforeAnything: a refused replica is never given a
// cursor or a session: the hook runs before Binlog.Open and
// Source.Register.
func TestAuthenticateBeforeAnything(t *testing.T) {
	forEachNet(t, func(t *testing.T, nw *network) {
		var bl countingBinlog
		r := newRig(t, nw, rigConfig{binlog: &bl, server: transport.ServerOptions{
			Authenticate: func(context.Context, transport.Peer) error { return errors.New("nobody") }}})
		bl.Binlog = r.bl
		_, err := transport.Replicate(bounded(t), r.dial(t), r.config(t, 2, newRelayLog()))
		require.ErrorIs(t, err, transport.ErrNotAuthorised)
		r.ended.take(t, "the refused connection's end", nil)
		require.Zero(t, bl.opens.Load(), "no cursor opened")
		require.Zero(t, r.src.State().Clients, "no session registered")
		require.Zero(t, r.srv.Stats().Connections)
	})
}

// TestToken: the token reaches the hook, which refuses a replica without
// it; a token longer than MaxToken is refused by Replicate itself.
func TestToken(t *testing.T) {
	forEachNet(t, func(t *testing.T, nw *network) {
		token := []byte("let me in")
		r := newRig(t, nw, rigConfig{server: transport.ServerOptions{
			Authenticate: func(_ context.Context, p transport.Peer) error {
				if !bytes.Equal(p.Token, token) {
					return fmt.Errorf("token %q", p.Token)
				}
				return nil
			}}})
		_, err := transport.Replicate(bounded(t), r.dial(t), r.config(t, 2, newRelayLog()))
		require.ErrorIs(t, err, transport.ErrNotAuthorised)
		require.ErrorContains(t, r.ended.take(t, "the tokenless end", nil).err, `token ""`)

		cfg := r.config(t, 2, newRelayLog())
		cfg.Token = token
		r.joinHealthy(t, cfg)

		long := r.config(t, 3, newRelayLog())
		long.Token = make([]byte, transport.MaxToken+1)
		conn := r.dial(t)
		_, err = transport.Replicate(bounded(t), conn, long)
		require.ErrorContains(t, err, "token of 1025 bytes")
		require.ErrorIs(t, r.ended.take(t, "the long token's connection", nil).err, io.EOF, "nothing sent")
		require.Equal(t, uint64(1), r.srv.Stats().RefusedByHook)
	})
}

// recordingConn records what crosses a connection in each direction.
type recordingConn struct {
	net.Conn
	mu          sync.Mutex
	read, wrote bytes.Buffer
}

func (c *recordingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	c.read.Write(p[:n])
	c.mu.Unlock()
	return n, err
}

func (c *recordingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.mu.Lock()
	c.wrote.Write(p[:n])
	c.mu.Unlock()
	return n, err
}

// packets splits recorded bytes into the payloads of their first n
// packets.
func packets(t *testing.T, b []byte, n int) [][]byte {
	t.Helper()
	pr := wire.NewPacketReader(bufio.NewReader(bytes.NewReader(b)), 0)
	var out [][]byte
	for range n {
		_, p, err := pr.ReadPacket()
		require.NoError(t, err)
		out = append(out, slices.Clone(p))
	}
	return out
}

// capture runs a replica with the secret through a recording connection
// until it has joined, and returns what it sent (hello, response) and
// what it read (challenge, accept).
func capture(t *testing.T, r *rig) (sent, got [][]byte) {
	t.Helper()
	rec := &recordingConn{Conn: r.dial(t)}
	cfg := r.config(t, 2, newRelayLog())
	cfg.Secret = testSecret
	run := replicate(t, rec, cfg)
	r.events.take(t, "the recorded replica joined", eventKind(source.EventReplicaJoined, 2))
	_, res := commit(t, r, eventData(0)) // the replica has read the accept
	require.Equal(t, source.Acknowledged, res.Outcome)
	run.stop(t)
	r.ended.take(t, "the recorded replica's end", nil)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return packets(t, rec.wrote.Bytes(), 2), packets(t, rec.read.Bytes(), 2)
}

// TestReplayedResponse: a hello and response captured from a replica that
// knows the secret do not pass on another connection, whose challenge has
// a fresh nonce.
func TestReplayedResponse(t *testing.T) {
	forEachNet(t, func(t *testing.T, nw *network) {
		r := newRig(t, nw, rigConfig{server: transport.ServerOptions{Secret: testSecret}})
		sent, got := capture(t, r)
		_, capturedNonce, err := transport.ParseChallenge(got[0])
		require.NoError(t, err)

		nonce, err := byHand(t, r.dial(t), sent[0], func(bool, [transport.NonceLen]byte) []byte { return sent[1] })
		require.NotEqual(t, capturedNonce, nonce, "every challenge has a fresh nonce")
		require.ErrorIs(t, err, transport.ErrNotAuthorised)
		require.ErrorIs(t, r.ended.take(t, "the replay's end", nil).err, transport.ErrNotAuthorised)
		require.Equal(t, uint64(1), r.srv.Stats().BadProofs)
		require.Equal(t, uint64(1), r.srv.Stats().Connections, "only the genuine replica was accepted")
	})
}

// rogueSource plays a source by hand on one connection: script gets the
// source's end and reads and writes everything itself; the returned conn
// is the replica's end. Cleanup waits for the script.
func (nw *network) rogueSource(t *testing.T, script func(c net.Conn, pr *wire.PacketReader) error) net.Conn {
	t.Helper()
	var srvEnd, replicaEnd net.Conn
	if nw.pipe {
		srvEnd, replicaEnd = net.Pipe()
	} else {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		defer ln.Close()
		replicaEnd, err = net.Dial("tcp", ln.Addr().String())
		require.NoError(t, err)
		srvEnd, err = ln.Accept()
		require.NoError(t, err)
	}
	done := make(chan error, 1)
	go func() {
		defer srvEnd.Close()
		done <- script(srvEnd, wire.NewPacketReader(bufio.NewReader(srvEnd), 0))
	}()
	t.Cleanup(func() {
		replicaEnd.Close()
		require.NoError(t, receive(t, "the rogue source's script", done))
	})
	return replicaEnd
}

// send writes one packet.
func send(c net.Conn, seq uint8, payload []byte) error {
	out, _ := wire.AppendPacket(nil, seq, payload)
	_, err := c.Write(out)
	return err
}

// TestRogueSource: a replica with the secret refuses a source that does not
// prove it: no proof, a proof under another secret, or an accept replayed
// from another connection. Nothing reaches its relay log. A replica
// without the secret refuses a source that requires one.
func TestRogueSource(t *testing.T) {
	genuine := func(t *testing.T) (sent, got [][]byte) {
		r := newRig(t, &network{pipe: true}, rigConfig{server: transport.ServerOptions{Secret: testSecret}})
		return capture(t, r)
	}
	var replayed [][]byte // a genuine source's challenge and accept
	pipeOnly(t, func(t *testing.T, _ *network) { _, replayed = genuine(t) })

	event := wire.AppendEvent(nil, true, transport.AppendEnvelope(nil, transport.KindEvent, semisync.FilePos("binlog.000001", 20), []byte("forged")))
	cases := []struct {
		name   string
		secret []byte
		answer func(hello, response []byte) (challenge, accept []byte)
		want   error
	}{
		{"no proof", testSecret, nil, transport.ErrSourceNotAuthenticated},
		{"another secret", testSecret, func(hello, response []byte) ([]byte, []byte) {
			nonce, proof, token, err := transport.ParseResponse(response)
			if err != nil {
				return nil, nil
			}
			other := []byte("not the secret")
			return nil, transport.AppendAcceptProof(nil, true, 1000,
				transport.SourceProof(other, [transport.NonceLen]byte{}, nonce, hello, token, proof, true, 1000))
		}, transport.ErrSourceNotAuthenticated},
		{"replayed accept", testSecret, func([]byte, []byte) ([]byte, []byte) { return replayed[0], replayed[1] },
			transport.ErrSourceNotAuthenticated},
		{"secret required, none given", nil, func([]byte, []byte) ([]byte, []byte) {
			return transport.AppendChallenge(nil, true, [transport.NonceLen]byte{}), nil
		}, transport.ErrSecretRequired},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			forEachNet(t, func(t *testing.T, nw *network) {
				conn := nw.rogueSource(t, func(c net.Conn, pr *wire.PacketReader) error {
					_, hello, err := pr.ReadPacket()
					if err != nil {
						return err
					}
					hello = slices.Clone(hello)
					var challenge, accept []byte
					if tc.answer != nil {
						challenge, _ = tc.answer(hello, nil)
					}
					if challenge == nil {
						challenge = transport.AppendChallenge(nil, false, [transport.NonceLen]byte{})
					}
					if err := send(c, 1, challenge); err != nil {
						return err
					}
					_, response, err := pr.ReadPacket()
					if err != nil {
						return drain(c) // the replica gave up at the challenge
					}
					if tc.answer != nil {
						_, accept = tc.answer(hello, response)
					}
					if accept == nil {
						accept = transport.AppendAccept(nil, true, 1000)
					}
					if send(c, 1, accept) != nil || send(c, 2, event) != nil {
						return nil // the replica hung up
					}
					return drain(c)
				})
				relay := newRelayLog()
				res, err := transport.Replicate(bounded(t), conn, transport.ReplicaConfig{
					Replica: newReplica(t, semisync.FlavorMySQL, true), ID: 2, RelayLog: relay, Secret: tc.secret})
				require.ErrorIs(t, err, tc.want)
				require.Empty(t, relay.Events(), "nothing from a rogue source reaches the relay log")
				require.Zero(t, res.Stats.Events)
			})
		})
	}
}

// TestSecretAccepted: replicas and the source that share the secret stream
// as without one.
func TestSecretAccepted(t *testing.T) {
	forEachNet(t, func(t *testing.T, nw *network) {
		r := newRig(t, nw, rigConfig{server: transport.ServerOptions{Secret: testSecret}})
		relay := newRelayLog()
		cfg := r.config(t, 2, relay)
		cfg.Secret = testSecret
		r.joinHealthy(t, cfg)
		for i := 1; i < 5; i++ {
			_, res := commit(t, r, eventData(i))
			require.Equal(t, source.Acknowledged, res.Outcome)
		}
		relay.waitFor(t, r.bl.Head())
		r.requireRelayHolds(t, relay)
		require.Zero(t, r.srv.Stats().BadProofs)
	})
}

// TestMutualTLS: with client certificates required, the hook sees the
// replica's verified certificate and can tie it to the replica's ID; a
// replica without a certificate, or with one from another authority, is
// refused by TLS itself, before any hello; a host that wraps its listener
// with tls.NewListener gets the same.
func TestMutualTLS(t *testing.T) {
	ca := newPKI(t)
	var seen atomic.Value // the CommonName of the last verified certificate the hook saw
	byName := func(_ context.Context, p transport.Peer) error {
		if p.TLS == nil || len(p.TLS.VerifiedChains) == 0 {
			return errors.New("no verified certificate")
		}
		cn := p.TLS.VerifiedChains[0][0].Subject.CommonName
		seen.Store(cn)
		if cn != fmt.Sprintf("replica-%d", p.ID) {
			return fmt.Errorf("certificate %q for replica %d", cn, p.ID)
		}
		return nil
	}
	run := func(t *testing.T, r *rig, dial func() net.Conn) {
		cert := ca.issue(t, "replica-2", false)
		cfg := r.config(t, 2, newRelayLog())
		cfg.TLSConfig = ca.clientTLS(cert)
		healthy := replicate(t, dial(), cfg)
		r.events.take(t, "replica 2 joined", eventKind(source.EventReplicaJoined, 2))
		require.Equal(t, "replica-2", seen.Load())

		// Replica 2's certificate does not make a replica 3.
		other := r.config(t, 3, newRelayLog())
		other.TLSConfig = ca.clientTLS(cert)
		_, err := transport.Replicate(bounded(t), dial(), other)
		require.ErrorIs(t, err, transport.ErrNotAuthorised)
		require.ErrorContains(t, r.ended.take(t, "replica 3's end", nil).err, `certificate "replica-2" for replica 3`)

		// No certificate, or one from another authority: TLS refuses.
		before := r.srv.Stats()
		for _, certs := range [][]tls.Certificate{nil, {newPKI(t).issue(t, "replica-2", false)}} {
			anon := r.config(t, 2, newRelayLog())
			anon.TLSConfig = ca.clientTLS(certs...)
			_, err = transport.Replicate(bounded(t), dial(), anon)
			require.Error(t, err)
			require.NotErrorIs(t, err, transport.ErrNotAuthorised, "refused by TLS, not by the hook")
			end := r.ended.take(t, "the TLS failure", nil)
			require.ErrorContains(t, end.err, "TLS handshake")
		}
		st := r.srv.Stats()
		require.Equal(t, before.BadHandshakes+2, st.BadHandshakes)
		require.Equal(t, before.RefusedByHook, st.RefusedByHook, "the hook never saw them")
		r.requireHealthyKept(t, healthy)
	}
	t.Run("TLSConfig", func(t *testing.T) {
		netKinds[0].run(t, func(t *testing.T, nw *network) {
			r := newRig(t, nw, rigConfig{server: transport.ServerOptions{TLSConfig: ca.serverTLS(t), Authenticate: byName}})
			run(t, r, func() net.Conn { return r.dial(t) })
		})
	})
	t.Run("tls.NewListener", func(t *testing.T) {
		netKinds[0].run(t, func(t *testing.T, _ *network) {
			r := newRig(t, &network{pipe: true}, rigConfig{server: transport.ServerOptions{Authenticate: byName}}) // no listener of its own
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			served := make(chan error, 1)
			go func() { served <- r.srv.Serve(tls.NewListener(ln, ca.serverTLS(t))) }()
			t.Cleanup(func() {
				require.NoError(t, r.srv.Close())
				require.ErrorIs(t, <-served, transport.ErrServerClosed)
			})
			run(t, r, func() net.Conn {
				c, err := net.Dial("tcp", ln.Addr().String())
				require.NoError(t, err)
				return c
			})
		})
	})
}

// TestVersionMismatch: a replica of protocol version 1 gets a clear
// refusal from this source at once, and this replica gets a *VersionError
// from a source of version 1, which refuses its hello; neither waits for
// a timeout (both timeouts are a minute, and the errors are not
// timeouts).
func TestVersionMismatch(t *testing.T) {
	forEachNet(t, func(t *testing.T, nw *network) {
		r := newRig(t, nw, rigConfig{server: transport.ServerOptions{HandshakeTimeout: time.Minute}})
		c := r.dial(t)
		defer c.Close()
		require.NoError(t, send(c, 0, transport.AppendHelloVersion(nil, 1, true, 2, r.bl.Head())))
		seq, p, err := wire.NewPacketReader(bufio.NewReader(c), 0).ReadPacket()
		require.NoError(t, err)
		require.Equal(t, uint8(1), seq)
		_, _, err = transport.ParseAccept(p) // what a version 1 replica makes of it
		var refused *transport.RefusedError
		require.ErrorAs(t, err, &refused)
		require.Equal(t, transport.RefusedError{Code: transport.CodeBadHello,
			Message: "transport: protocol error: the peer speaks protocol version 1, this side 2"}, *refused)
		var ve *transport.VersionError
		require.ErrorAs(t, r.ended.take(t, "the old replica's end", nil).err, &ve)
		require.Equal(t, transport.VersionError{Got: 1, Want: 2}, *ve)

		conn := nw.rogueSource(t, func(c net.Conn, pr *wire.PacketReader) error {
			if _, _, err := pr.ReadPacket(); err != nil {
				return err
			}
			// A version 1 source's refusal of a version 2 hello.
			if err := send(c, 1, append([]byte{0xFF, 1, 0}, "transport: protocol error: protocol version 2, want 1"...)); err != nil {
				return err
			}
			return drain(c)
		})
		_, err = transport.Replicate(bounded(t), conn, transport.ReplicaConfig{
			Replica: newReplica(t, semisync.FlavorMySQL, true), ID: 2, RelayLog: newRelayLog(), HandshakeTimeout: time.Minute})
		require.ErrorAs(t, err, &ve)
		require.Equal(t, byte(2), ve.Want)
		require.ErrorIs(t, err, transport.ErrProtocol)
		require.ErrorAs(t, err, &refused)
		require.Equal(t, uint16(1), refused.Code)
		require.EqualError(t, err, "transport: protocol error: the source does not speak protocol version 2: transport: protocol error: protocol version 2, want 1")
	})
}
