package transport

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"time"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/internal/deadline"
	"github.com/semisync-go/semisync/replica"
	"github.com/semisync-go/semisync/wire"
)

// ReplicaConfig configures the replica side of one connection.
type ReplicaConfig struct {
	// Replica is the replica channel: its variables decide whether this
	// connection asks for semisync, its status counts the ACKs.
	Replica *replica.Replica
	// ID identifies the replica to the source (its server_id).
	ID semisync.ReplicaID
	// Start is the position to stream from: the relay log's last durable
	// position when resuming.
	Start semisync.Position
	// RelayLog receives the events.
	RelayLog replica.RelayLog
	// PeerTimeout is how long the replica waits for any byte (of an event
	// or heartbeat) before declaring the source dead; a big event that
	// keeps arriving is never cut. Default: three of the
	// source's heartbeat periods, as announced in its accept.
	PeerTimeout time.Duration
	// MaxPacket bounds an event packet; default wire.DefaultMaxPayload.
	MaxPacket int
	// HandshakeTimeout bounds the whole handshake: the TLS handshake, the
	// hello, the challenge, the response and the source's answer. Default
	// 10s.
	HandshakeTimeout time.Duration

	// TLSConfig, if set, makes the connection a TLS connection: Replicate
	// wraps conn with tls.Client and completes the TLS handshake first. Set
	// ServerName (or RootCAs and a VerifyConnection of your own) so that the
	// source's certificate is verified, and Certificates for mutual TLS.
	// Leave it nil when conn is a TLS connection already (tls.Dial).
	TLSConfig *tls.Config
	// Secret, if not empty, is the shared secret of ServerOptions.Secret:
	// the replica proves it knows it without sending it, and requires the
	// source to prove it in turn. A source that sends no proof, or a wrong
	// one, ends the call with an error wrapping ErrSourceNotAuthenticated
	// before any event is read. A source that requires a secret when
	// Secret is empty ends it with ErrSecretRequired.
	Secret []byte
	// Token, if not empty, is sent to the source for its Authenticate hook
	// (Peer.Token): an API key, a signed ticket. It crosses the network as
	// it is, so send one only over TLS. At most MaxToken bytes.
	Token []byte
}

// ErrSecretRequired is returned by Replicate when the source requires the
// shared secret and ReplicaConfig.Secret is empty.
var ErrSecretRequired = errors.New("transport: the source requires the shared secret, and ReplicaConfig.Secret is empty")

// ErrSourceNotAuthenticated is wrapped by Replicate's error when
// ReplicaConfig.Secret is set and the source's accept carries no proof of
// the secret, or a wrong one: the source does not know the secret (a
// rogue source, or one configured without it).
var ErrSourceNotAuthenticated = errors.New("transport: the source did not prove it knows the shared secret")

// ReplicaResult says how far a connection got.
type ReplicaResult struct {
	// Semisync reports whether the connection negotiated semisync.
	Semisync bool
	// Durable is the end of the last event the relay log made durable:
	// where the next connection should start.
	Durable semisync.Position
	// Stats are the stream's final figures.
	Stats replica.StreamStats
}

// Replicate runs the replica side of one connection until ctx ends, the
// source goes away or something fails: it sends the hello (asking for
// semisync when the replica's rpl_semi_sync_replica_enabled is ON when it
// starts), reads events into the relay log, flushes them (and syncs, with
// replica.Synced) whenever no further packet is waiting, and acknowledges
// flagged events after that, one ACK for each such batch. When ctx ends it
// tells the source with COM_QUIT and returns ctx's error. It closes conn
// before returning. The result's Durable position is where to resume.
//
// A refusal by the source is a *RefusedError (errors.Is matches
// ErrNotAuthorised and ErrTooManyConnections for theirs); a source of
// another protocol version, a *VersionError.
func Replicate(ctx context.Context, conn net.Conn, cfg ReplicaConfig) (ReplicaResult, error) {
	raw := plain(conn)
	defer raw.Close()
	switch {
	case cfg.Replica == nil || cfg.RelayLog == nil:
		return ReplicaResult{Durable: cfg.Start}, errors.New("transport: Replicate needs a replica and a relay log")
	case len(cfg.Token) > MaxToken:
		return ReplicaResult{Durable: cfg.Start}, fmt.Errorf("transport: token of %d bytes, at most %d", len(cfg.Token), MaxToken)
	}
	if cfg.TLSConfig != nil {
		if _, isTLS := conn.(*tls.Conn); !isTLS {
			conn = tls.Client(conn, cfg.TLSConfig)
		}
	}
	// Close the connection when ctx ends, and wait for that to finish
	// before returning, so no goroutine outlives the call.
	stopped := make(chan struct{})
	var streaming atomic.Bool // the source accepted: a COM_QUIT means leaving
	stop := context.AfterFunc(ctx, func() {
		defer close(stopped)
		if streaming.Load() {
			quit, _ := wire.AppendPacket(nil, wire.AckSeq, []byte{wire.ComQuit})
			conn.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
			conn.Write(quit)
		}
		raw.Close()
	})
	defer func() {
		if !stop() {
			<-stopped
		}
	}()

	as := &ackSender{c: conn}
	st, err := cfg.Replica.Open(cfg.Start, cfg.RelayLog, as)
	if err != nil {
		return ReplicaResult{Durable: cfg.Start}, err
	}
	defer st.Close()
	res, err := replicate(ctx, conn, cfg, st, as, &streaming)
	res.Durable, res.Stats = st.Durable(), st.Stats()
	if ctx.Err() != nil {
		err = ctx.Err()
	}
	return res, err
}

func replicate(ctx context.Context, conn net.Conn, cfg ReplicaConfig, st *replica.Stream, as *ackSender, streaming *atomic.Bool) (ReplicaResult, error) {
	var res ReplicaResult
	hsTimeout := cfg.HandshakeTimeout
	if hsTimeout <= 0 {
		hsTimeout = 10 * time.Second
	}
	conn.SetDeadline(time.Now().Add(hsTimeout))
	if tc, ok := conn.(*tls.Conn); ok {
		if err := tc.HandshakeContext(ctx); err != nil {
			return res, fmt.Errorf("transport: TLS handshake with the source: %w", err)
		}
	}
	helloBytes := appendHello(nil, hello{semisync: st.Enabled(), id: cfg.ID, start: cfg.Start})
	hs, _ := wire.AppendPacket(nil, 0, helloBytes)
	if _, err := conn.Write(hs); err != nil {
		return res, fmt.Errorf("transport: sending the hello: %w", err)
	}
	rd := &deadline.Reader{C: conn, D: deadline.Lazy{Timeout: hsTimeout}}
	pr := wire.NewPacketReader(bufio.NewReaderSize(rd, 64<<10), cfg.MaxPacket)
	// answer reads the source's answer, at sequence id 1.
	answer := func(what string) ([]byte, error) {
		seq, p, err := pr.ReadPacket()
		if err != nil {
			return nil, fmt.Errorf("transport: reading the source's %s: %w", what, err)
		}
		if seq != 1 {
			return nil, &wire.OrderError{Got: seq, Want: 1}
		}
		return p, nil
	}
	p, err := answer("challenge")
	if err != nil {
		return res, err
	}
	ch, err := parseChallenge(p)
	if err != nil {
		return res, err
	}
	if ch.secretRequired && len(cfg.Secret) == 0 {
		return res, ErrSecretRequired
	}
	r := response{token: cfg.Token}
	rand.Read(r.nonce[:])
	if len(cfg.Secret) > 0 {
		r.proof = replicaProof(cfg.Secret, &ch.nonce, &r.nonce, helloBytes, r.token)
	}
	hs, _ = wire.AppendPacket(hs[:0], 0, appendResponse(nil, r))
	if _, err := conn.Write(hs); err != nil {
		return res, fmt.Errorf("transport: sending the response: %w", err)
	}
	if p, err = answer("accept"); err != nil {
		return res, err
	}
	a, err := parseAccept(p)
	if err != nil {
		return res, err
	}
	if len(cfg.Secret) > 0 {
		if len(a.proof) == 0 {
			return res, fmt.Errorf("%w: its accept carries no proof", ErrSourceNotAuthenticated)
		}
		if !hmac.Equal(a.proof, sourceProof(cfg.Secret, &ch.nonce, &r.nonce, helloBytes, r.token, r.proof, a)) {
			return res, fmt.Errorf("%w: its proof is wrong", ErrSourceNotAuthenticated)
		}
	}
	granted, hbMillis := a.granted, a.heartbeatMillis
	st.SetNegotiated(granted)
	streaming.Store(true)
	res.Semisync = st.Semisync()
	timeout := cfg.PeerTimeout
	if timeout <= 0 {
		timeout = 3 * time.Duration(max(hbMillis, 1)) * time.Millisecond
	}
	// The read deadline is the source's liveness; each ACK sets its own
	// write deadline (ackSender), since a relay-log flush may take longer
	// than timeout and the ACK after it must not inherit a deadline that
	// passed meanwhile.
	now := time.Now()
	conn.SetDeadline(now.Add(timeout))
	as.d = deadline.Lazy{Timeout: timeout, Set: now}
	rd.D = deadline.Lazy{Timeout: timeout, Set: now}

	var nm names
	want := uint8(2)
	for {
		if !pr.Buffered() {
			// Everything that has arrived is queued: make it durable and
			// acknowledge it with one ACK before waiting for more.
			if err := st.Flush(); err != nil {
				return res, err
			}
			// A flush may have outlasted the deadline: move it before
			// waiting. While a packet arrives, each read moves it on.
			rd.Arm(time.Now())
		}
		seq, p, err := pr.ReadPacket()
		if err != nil {
			return res, err
		}
		if seq != want {
			return res, &wire.OrderError{Got: seq, Want: want}
		}
		ev, flag, err := st.Unwrap(p)
		if err != nil {
			return res, err
		}
		want = wire.SeqAfterEvent(pr.NextSeq(), flag && st.Semisync())
		kind, end, data, err := parseEnvelope(ev, &nm)
		if err != nil {
			return res, err
		}
		if kind == kindHeartbeat {
			st.Heartbeat(flag)
			continue
		}
		if err := st.Queue(data, end, flag); err != nil {
			return res, err
		}
	}
}

// ackSender writes ACK packets on the connection, each with one write
// that, once the source has accepted, may block for at least 7/8 of
// timeout: the write deadline moves on when an eighth of it has passed, so
// that most ACKs cost no deadline update.
type ackSender struct {
	c   net.Conn
	d   deadline.Lazy // zero timeout until the source has accepted
	buf []byte
}

func (a *ackSender) SendAck(_ semisync.Position, payload []byte) error {
	a.buf, _ = wire.AppendPacket(a.buf[:0], wire.AckSeq, payload)
	if a.d.Timeout > 0 {
		a.d.Move(time.Now(), a.c.SetWriteDeadline)
	}
	_, err := a.c.Write(a.buf)
	return err
}
