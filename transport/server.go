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
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/dump"
	acceptloop "github.com/semisync-go/semisync/internal/accept"
	"github.com/semisync-go/semisync/source"
	"github.com/semisync-go/semisync/wire"
)

// Event is one event of the host's binlog as a Cursor returns it: Data,
// the event's bytes (not kept past the next call to Cursor.Next), and End,
// the position just after it. It is package dump's, which the server's
// sender is.
type Event = dump.Event

// Binlog is the host's binlog, as the source side of the transport reads
// it. Open is called from the goroutine serving a replica connection,
// concurrently for different connections.
type Binlog interface {
	// Open returns a cursor whose first event is the first one that ends
	// after start, the position the replica asked to start from. An error
	// refuses the replica. Open must refuse a start the binlog does not
	// hold (beyond its end, inside an event, purged), as MySQL does with
	// error 1236: the source takes the start as the replica's
	// acknowledgement (spec §7.1), so an unchecked start could release
	// commits the replica never received.
	Open(start semisync.Position) (Cursor, error)
}

// Cursor reads a Binlog forward for one replica connection; one goroutine
// uses it. Next returns the next event without blocking (ok false at the
// end of what is written so far), Wait a channel made ready when events
// may have been written since (a missed wake-up is not allowed), Close
// releases it. It is package dump's, which documents the contract.
type Cursor = dump.Cursor

// ServerOptions configure a Server. Zero values select the defaults.
type ServerOptions struct {
	// HeartbeatPeriod is how often an idle connection gets a heartbeat, and
	// how often the source asks a silent semisync replica to show it is
	// alive (a heartbeat with the reply flag) and considers
	// Session.SolicitAck. Default 1s.
	HeartbeatPeriod time.Duration
	// PeerTimeout is how long a semisync replica may stay silent after
	// being asked to reply before the source declares it dead, closes the
	// connection and so counts it out (spec §4.4). It is checked once per
	// heartbeat period, so a dead replica is found between PeerTimeout and
	// PeerTimeout plus one period after the first unanswered probe; any
	// value works, even one shorter than the period. A replica answers only
	// after its relay-log flush (or fsync) returns, so keep it well above
	// the longest disk stall you tolerate: MySQL never drops a replica for
	// a missing ACK (its commits time out instead). Default 30s, or three
	// heartbeat periods if that is longer.
	PeerTimeout time.Duration
	// WriteTimeout bounds how long a write to a replica may make no
	// progress (a replica that does not read): a big event that keeps
	// moving is never cut. Default 10s.
	WriteTimeout time.Duration
	// HandshakeTimeout bounds a connection's whole handshake, from the
	// moment the server takes it: the TLS handshake, the replica's hello and
	// response, the Authenticate hook and the answer. A connection still
	// handshaking then is closed and counted (ServerStats.HandshakeTimeouts).
	// Default 5s: a handshake takes four round trips with TLS 1.3, well
	// under a second even across continents, and a shorter timeout frees
	// the slots of MaxHandshakes that slow or silent clients hold sooner.
	HandshakeTimeout time.Duration
	// MaxAckPacket bounds a packet read from a replica after the handshake;
	// longer ones end the connection. Default 64 KiB (an ACK is at most 520
	// bytes). Packets of the handshake are bounded separately, to 1,089
	// bytes (the longest response).
	MaxAckPacket int

	// TLSConfig, if set, makes every connection a TLS connection: the
	// server wraps each with tls.Server and completes the TLS handshake
	// within HandshakeTimeout, as a handshake in flight (MaxHandshakes).
	// For mutual TLS, set ClientAuth to tls.RequireAndVerifyClientCert and
	// ClientCAs: a replica without a valid certificate then fails the TLS
	// handshake, and Authenticate sees the verified certificate in
	// Peer.TLS. A listener that already wraps its connections
	// (tls.NewListener) needs no TLSConfig: the server completes their TLS
	// handshake in the same way, and Peer.TLS is set just the same.
	TLSConfig *tls.Config
	// Secret, if not empty, is the shared secret every replica must prove
	// it knows (ReplicaConfig.Secret): the replica answers the server's
	// fresh challenge with an HMAC-SHA256 over both sides' nonces and its
	// hello, so neither the secret nor a replayable proof crosses the
	// network, and the server proves the secret in turn, so that the
	// replica can refuse a source that does not know it. A replica without
	// a valid proof is refused with code 5 before anything is opened,
	// registered or superseded (ServerStats.BadProofs). Use a long random
	// secret (32 bytes from crypto/rand): an eavesdropper who saw a
	// handshake can test guesses of a weak one offline. Without TLS the
	// stream after the handshake is neither encrypted nor protected against
	// tampering; see the package documentation.
	Secret []byte
	// Authenticate, if set, decides whether to accept a replica. It is
	// called once the replica's hello and response have been read (and its
	// proof checked, when Secret is set), and before the server opens the
	// binlog, registers the replica with the source or closes an older
	// connection under the same ID. A non-nil error refuses the replica
	// with code 5 (ServerStats.RefusedByHook); the replica is told only
	// "transport: not authorised" unless the error comes from Disclose.
	// OnError receives the error. ctx ends at the handshake's deadline
	// (HandshakeTimeout) or when the server closes. It is called
	// concurrently for different connections and must not call
	// Server.Close.
	Authenticate func(ctx context.Context, p Peer) error
	// MaxConnections bounds the connections being served, handshakes
	// included (ServerStats.Active). A connection that arrives with
	// MaxConnections served first evicts a handshake waiting for its peer,
	// as described under MaxHandshakes; if none is waiting, it is refused
	// at once: without TLS it gets a refusal with code 1040 ("too many
	// connections", MySQL's ER_CON_COUNT_ERROR for its max_connections),
	// written with a short deadline, then it is closed, with no goroutine,
	// cursor or session started for it (ServerStats.RefusedConnections).
	// Replicas already streaming are never evicted. Default 151, MySQL's
	// max_connections; negative means no limit.
	MaxConnections int
	// MaxHandshakes bounds the connections whose handshake (TLS, hello,
	// response, Authenticate) is not finished (ServerStats.Handshaking).
	// When a connection arrives with MaxHandshakes in flight (or
	// MaxConnections served), the handshake that has waited longest for
	// its peer's bytes is closed to make room for it
	// (ServerStats.HandshakesEvicted): a handshake's wait starts when it
	// is admitted and again when its TLS handshake is done and when its
	// hello is read. The evicted client sees its connection closed (end
	// of file or a reset) without a word, as after any dropped
	// connection, and a replica's host connects again. Only when every
	// handshake in flight is past waiting (the server checks the proof,
	// runs Authenticate, opens the binlog) is the new connection refused
	// at once (ServerStats.RefusedHandshakes). So clients that connect
	// and say nothing hold at most MaxHandshakes goroutines, each until
	// HandshakeTimeout or until MaxHandshakes newer handshakes came, and
	// cannot keep out a replica that answers promptly. To evict it, a
	// flood must move MaxHandshakes handshakes past it within one of its
	// steps (a round trip and the replica's own processing; two round
	// trips for TLS 1.2): new connections, or hellos and TLS handshakes
	// completed on connections the flood holds, up to three steps each
	// (with MaxConnections nearly full, as many as the connections still
	// free). For the default, at worst some 700 connections a second over
	// a 30 ms round trip, 20,000 over 1 ms. Against faster floods, raise
	// MaxHandshakes, or limit connections per address in front of the
	// server. Default 64; negative means no limit.
	MaxHandshakes int
	// OnError, if set, is told why each replica connection ended (nil for
	// a replica that quit or a server that closed). It must not call
	// Server.Close, which waits for the connection's goroutine. It is called on the
	// connection's goroutine, once everything about the connection is
	// over: the connection and its session are closed (the source has
	// counted the replica out) and Stats no longer counts it as active.
	// It must not block.
	OnError func(id semisync.ReplicaID, err error)
}

func (o *ServerOptions) defaults() {
	d := o.dumpOptions().WithDefaults() // the sender's defaults are the server's
	o.HeartbeatPeriod, o.PeerTimeout, o.WriteTimeout, o.MaxAckPacket = d.HeartbeatPeriod, d.PeerTimeout, d.WriteTimeout, d.MaxAckPacket
	if o.HandshakeTimeout <= 0 {
		o.HandshakeTimeout = 5 * time.Second
	}
	if o.MaxConnections == 0 {
		o.MaxConnections = DefaultMaxConnections
	}
	if o.MaxHandshakes == 0 {
		o.MaxHandshakes = DefaultMaxHandshakes
	}
}

// dumpOptions are the options of the server's senders.
func (o *ServerOptions) dumpOptions() dump.Options {
	return dump.Options{HeartbeatPeriod: o.HeartbeatPeriod, PeerTimeout: o.PeerTimeout, WriteTimeout: o.WriteTimeout, MaxAckPacket: o.MaxAckPacket}
}

// Defaults of ServerOptions.MaxConnections and MaxHandshakes.
const (
	DefaultMaxConnections = 151
	DefaultMaxHandshakes  = 64
)

// ServerStats are a Server's counters since it was created.
type ServerStats struct {
	// Connections is the number of replica connections accepted (hello
	// read and answered); Semisync those that were granted semisync.
	Connections, Semisync uint64
	// Active is the number of connections being served now, handshakes
	// included; Handshaking those whose handshake is not finished. An
	// evicted handshake stops counting in both when it is evicted, while
	// its goroutine, its connection closed, is still ending.
	Active, Handshaking int64
	// Acks is the number of well-formed ACKs handed to sessions.
	Acks uint64
	// MalformedAcks is the number of packets from replicas that were not
	// well-formed ACKs (bad magic, too short, name too long, wrong sequence
	// id, or anything from a replica that is not semisync). They are
	// ignored and the connection stays, as in MySQL (spec §6.3).
	MalformedAcks uint64
	// AcksAhead is the number of ACKs for positions beyond what the
	// connection had sent: ignored, since no replica can hold what it was
	// never sent (MySQL accepts them, and they release commits).
	AcksAhead uint64
	// Superseded is the number of connections closed because their replica
	// connected again under the same ID.
	Superseded uint64
	// Quits is the number of replicas that said COM_QUIT.
	Quits uint64
	// DeadPeers is the number of connections closed because the replica
	// did not answer within PeerTimeout.
	DeadPeers uint64
	// Heartbeats is the number of heartbeats sent; Probes those that
	// asked for a reply.
	Heartbeats, Probes uint64
	// RefusedConnections is the number of connections refused at once
	// because MaxConnections were being served and no handshake waiting
	// for its peer could be evicted; RefusedHandshakes those refused
	// because MaxHandshakes were handshaking, none of them evictable.
	RefusedConnections, RefusedHandshakes uint64
	// BadProofs is the number of replicas refused because Secret is set
	// and their response carried no proof or a wrong one; RefusedByHook
	// those that Authenticate refused.
	BadProofs, RefusedByHook uint64
	// HandshakeTimeouts is the number of connections closed because their
	// handshake took longer than HandshakeTimeout.
	HandshakeTimeouts uint64
	// BadHandshakes is the number of handshakes that failed otherwise on
	// the replica's side: a failed TLS handshake, a malformed hello or
	// response, another protocol version, a connection closed or reset.
	BadHandshakes uint64
	// StartsRefused is the number of replicas refused with code 1236
	// (ErrStartRefused): the binlog would not open at their start
	// position, or the source refused it as beyond the binlog's end
	// (source.ErrStartBeyondEnd, also counted in the source's
	// starts_refused).
	StartsRefused uint64
	// HandshakesEvicted is the number of handshakes closed to make room
	// for a newer connection when MaxHandshakes were in flight or
	// MaxConnections served: each was the one that had waited longest for
	// its peer's bytes.
	HandshakesEvicted uint64
}

// Server is the source side of the transport: it accepts replica
// connections, registers semisync replicas with the Source, streams the
// binlog to them with the semisync header and the session's flag decision,
// and reads their ACKs on a separate goroutine per connection, so events
// and ACKs flow at the same time (MySQL 5.7's ACK receiver, spec §6.3).
type Server struct {
	src *source.Source
	log Binlog
	o   ServerOptions

	mu     sync.Mutex
	closed bool
	lns    map[net.Listener]struct{}
	conns  map[net.Conn]struct{} // the plain connections, under any TLS
	hs     map[net.Conn]*hsSlot  // the handshakes in flight, by plain connection
	hsSeq  uint64                // admission order of handshakes
	byID   map[semisync.ReplicaID]*conn
	wg     sync.WaitGroup
	done   chan struct{}
	ctx    context.Context // ends at Close: the Authenticate hook's
	cancel context.CancelFunc

	dc                                                                                                         dump.Counters // the senders'
	connections, semisync, superseded                                                                          atomic.Uint64
	refusedConns, refusedHandshakes, badProofs, refusedByHook, handshakeTimeouts, badHandshakes, startsRefused atomic.Uint64
	evicted                                                                                                    atomic.Uint64
	active, handshaking                                                                                        atomic.Int64
}

// ErrServerClosed is returned by Serve and ServeConn after Close.
var ErrServerClosed = errors.New("transport: server closed")

// NewServer returns a server that streams log to replicas on behalf of
// src. The server does not own src or log: close them after the server.
func NewServer(src *source.Source, log Binlog, o ServerOptions) (*Server, error) {
	if src == nil || log == nil {
		return nil, errors.New("transport: NewServer needs a source and a binlog")
	}
	o.defaults()
	s := &Server{src: src, log: log, o: o, lns: map[net.Listener]struct{}{},
		conns: map[net.Conn]struct{}{}, hs: map[net.Conn]*hsSlot{}, byID: map[semisync.ReplicaID]*conn{}, done: make(chan struct{})}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s, nil
}

// Stats returns the server's counters.
func (s *Server) Stats() ServerStats {
	return ServerStats{
		Connections: s.connections.Load(), Semisync: s.semisync.Load(),
		Active: s.active.Load(), Handshaking: s.handshaking.Load(),
		Acks: s.dc.Acks.Load(), MalformedAcks: s.dc.Malformed.Load(), AcksAhead: s.dc.Ahead.Load(),
		Superseded: s.superseded.Load(), Quits: s.dc.Quits.Load(),
		DeadPeers: s.dc.DeadPeers.Load(), Heartbeats: s.dc.Heartbeats.Load(), Probes: s.dc.Probes.Load(),
		RefusedConnections: s.refusedConns.Load(), RefusedHandshakes: s.refusedHandshakes.Load(),
		BadProofs: s.badProofs.Load(), RefusedByHook: s.refusedByHook.Load(),
		HandshakeTimeouts: s.handshakeTimeouts.Load(), BadHandshakes: s.badHandshakes.Load(),
		StartsRefused: s.startsRefused.Load(), HandshakesEvicted: s.evicted.Load(),
	}
}

// Serve accepts connections on ln and serves each on a goroutine of its
// own until Close, which closes ln. It returns ErrServerClosed after
// Close, or the listener's error. Transient Accept errors (a timeout, out
// of descriptors, buffers or memory, an aborted connection) do not stop
// it: it backs off, from 5 ms up to 1 s, and accepts again. A connection
// beyond MaxConnections or MaxHandshakes, when no handshake waiting for
// its peer can be evicted, is refused on Serve's goroutine and closed at
// once.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrServerClosed
	}
	s.lns[ln] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.lns, ln)
		s.mu.Unlock()
	}()
	var backoff acceptloop.Backoff
	for {
		conn, err := ln.Accept()
		if err != nil {
			if s.isClosed() {
				return ErrServerClosed
			}
			if !acceptloop.Transient(err) {
				return err
			}
			// A transient failure (EMFILE, ECONNABORTED, ...): back off and
			// accept again rather than stop serving.
			if !backoff.Wait(s.done) {
				return ErrServerClosed
			}
			continue
		}
		backoff.Reset()
		slot, err := s.admit(conn)
		if err != nil {
			if errors.Is(err, ErrServerClosed) {
				return ErrServerClosed
			}
			continue
		}
		go func() {
			defer s.wg.Done()
			s.serve(conn, slot)
		}()
	}
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// admit takes conn to be served: it registers conn so that Close closes
// it, counts it as active and handshaking and in the wait group. At
// MaxConnections or MaxHandshakes it first evicts the handshake that has
// waited longest for its peer (evictOldest); with nothing to evict it
// refuses conn at once (refuseAtOnce) and returns an error wrapping
// ErrTooManyConnections. After Close it closes conn and returns
// ErrServerClosed. The checks and the counts are under the server's lock,
// so concurrent admits never overshoot a limit.
func (s *Server) admit(conn net.Conn) (*hsSlot, error) {
	s.mu.Lock()
	var err error
	var victim net.Conn
	switch {
	case s.closed:
		s.mu.Unlock()
		conn.Close()
		return nil, ErrServerClosed
	case s.o.MaxConnections > 0 && s.active.Load() >= int64(s.o.MaxConnections) && !s.evictOldest(&victim):
		s.refusedConns.Add(1)
		err = fmt.Errorf("%w: %d connections are being served (MaxConnections)", ErrTooManyConnections, s.o.MaxConnections)
	case s.o.MaxHandshakes > 0 && s.handshaking.Load() >= int64(s.o.MaxHandshakes) && !s.evictOldest(&victim):
		s.refusedHandshakes.Add(1)
		err = fmt.Errorf("%w: %d connections are handshaking (MaxHandshakes)", ErrTooManyConnections, s.o.MaxHandshakes)
	default:
		raw := plain(conn)
		s.conns[raw] = struct{}{}
		s.hsSeq++
		slot := &hsSlot{seq: s.hsSeq, waiting: true}
		s.hs[raw] = slot
		s.active.Add(1)
		s.handshaking.Add(1)
		s.wg.Add(1)
		s.mu.Unlock()
		closeVictim(victim)
		return slot, nil
	}
	s.mu.Unlock()
	closeVictim(victim) // nil here: a refusal evicted nothing
	s.refuseAtOnce(conn)
	return nil, err
}

// closeVictim closes the connection evictOldest chose, if any, once the
// server's lock is released: its goroutine's next read or write fails and
// it ends. One admit evicts at most one handshake: an eviction lowers both
// Active and Handshaking, so the second limit's check passes.
func closeVictim(victim net.Conn) {
	if victim != nil {
		victim.Close()
	}
}

// hsSlot is a connection's place among the handshakes in flight. Its
// fields are guarded by the server's lock.
type hsSlot struct {
	// seq orders the handshakes waiting for their peers: it is taken
	// from the server's counter at admission and again each time the
	// peer's bytes move the handshake on (progressed).
	seq uint64
	// waiting is true while the server waits for the peer's bytes (its
	// TLS handshake, hello and response): the slot may be evicted.
	waiting bool
	// evicted is set when admit closed the connection to make room; the
	// connection no longer counts in Active or Handshaking.
	evicted bool
}

// evictOldest makes room for a new connection, at MaxConnections or
// MaxHandshakes, by evicting the handshake that has waited longest for
// its peer's bytes (the lowest seq among those waiting): it stops
// counting it in Active and Handshaking and sets *victim to its plain
// connection, which the caller closes once it has released the lock. It
// reports false, evicting nothing, when no handshake is waiting for its
// peer (every handshake in flight is being checked by the server: the
// proof, the Authenticate hook, the binlog, the source). As a
// handshake's seq is renewed whenever its peer moves it on, a replica
// that answers at once can only be evicted by MaxHandshakes newer
// connections arriving within one of its round trips. Called with s.mu
// held.
func (s *Server) evictOldest(victim *net.Conn) bool {
	var oldest net.Conn
	var slot *hsSlot
	for raw, h := range s.hs {
		if h.waiting && (slot == nil || h.seq < slot.seq) {
			oldest, slot = raw, h
		}
	}
	if slot == nil {
		return false
	}
	slot.waiting, slot.evicted = false, true
	delete(s.hs, oldest)
	s.handshaking.Add(-1)
	s.active.Add(-1)
	s.evicted.Add(1)
	*victim = oldest
	return true
}

// progressed renews slot's place among the handshakes waiting for their
// peers, after the peer moved its handshake on (its TLS handshake done,
// its hello read), so that eviction takes the one silent for longest
// rather than the one that came first. It reports false if the slot was
// evicted already.
func (s *Server) progressed(slot *hsSlot) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hsSeq++
	slot.seq = s.hsSeq
	return !slot.evicted
}

// heard marks slot as past waiting for its peer (the response has been
// read, or the handshake failed), so that it can no longer be evicted. It
// reports false if it was evicted already.
func (s *Server) heard(slot *hsSlot) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	slot.waiting = false
	return !slot.evicted
}

// handshakeOver releases slot, the handshake slot of the plain
// connection raw, unless admit evicted it already.
func (s *Server) handshakeOver(raw net.Conn, slot *hsSlot) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !slot.evicted {
		slot.waiting = false
		delete(s.hs, raw)
		s.handshaking.Add(-1)
	}
}

// left stops counting slot's connection as active, unless admit did when
// it evicted it.
func (s *Server) left(slot *hsSlot) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !slot.evicted {
		s.active.Add(-1)
	}
}

// tooMany is the refusal a connection beyond a limit gets.
var tooMany, _ = wire.AppendPacket(nil, 1, appendRefuse(nil, codeTooMany, "transport: too many connections"))

// refuseWriteTimeout bounds the write of the refusal to a connection beyond
// a limit. The refusal is a few dozen bytes into a fresh connection's
// empty send buffer, so it does not block unless the connection is not a
// socket (net.Pipe).
const refuseWriteTimeout = 50 * time.Millisecond

// refuseAtOnce sends a connection beyond a limit the refusal, best effort,
// and closes it. A TLS connection is closed without a word: the refusal
// would need a TLS handshake first.
func (s *Server) refuseAtOnce(conn net.Conn) {
	if _, isTLS := conn.(*tls.Conn); !isTLS && s.o.TLSConfig == nil {
		conn.SetWriteDeadline(time.Now().Add(refuseWriteTimeout))
		conn.Write(tooMany)
	}
	plain(conn).Close()
}

// plain returns the connection under a TLS connection, or conn itself:
// the server closes that one, since closing a TLS connection first writes
// an alert and could block behind a stuck write.
func plain(conn net.Conn) net.Conn {
	if tc, ok := conn.(*tls.Conn); ok {
		return tc.NetConn()
	}
	return conn
}

func (s *Server) untrack(conn net.Conn) {
	s.mu.Lock()
	delete(s.conns, conn)
	s.mu.Unlock()
}

// connected reports whether a connection under id has been accepted and
// is being served.
func (s *Server) connected(id semisync.ReplicaID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byID[id] != nil
}

// register makes c the connection of its replica ID, registering it with
// the source first when it asked for semisync, and closes an older
// connection under the same ID, as MySQL kills the dump thread of a
// server_id that connects again: otherwise a replica that reconnected
// before its old connection died would be streamed to twice and counted
// twice in clients. The new session exists before the old connection
// closes, so the old session is already superseded when it ends and its
// end is not a replica loss. Both happen under the server's lock, so that
// two handshakes under one ID agree on which is the newer in the source
// and here (the source never calls back into the server).
func (s *Server) register(c *conn, h hello) error {
	s.mu.Lock()
	if h.semisync {
		sess, err := s.src.Register(h.id, h.start)
		if err != nil {
			s.mu.Unlock()
			return err
		}
		c.sess = sess
	}
	old := s.byID[c.id]
	s.byID[c.id] = c
	s.mu.Unlock()
	if old != nil {
		old.raw.Close()
		s.superseded.Add(1)
	}
	return nil
}

// forget removes c as its replica's connection, unless a newer one took
// its place.
func (s *Server) forget(c *conn) {
	s.mu.Lock()
	if s.byID[c.id] == c {
		delete(s.byID, c.id)
	}
	s.mu.Unlock()
}

// ServeConn serves one replica connection on the calling goroutine until
// it ends, and closes it. It returns nil when the replica quit or the
// server closed, and otherwise why the connection ended. The limits apply
// as to Serve's connections: beyond them, with no handshake to evict,
// ServeConn refuses conn, closes it and returns an error wrapping
// ErrTooManyConnections.
func (s *Server) ServeConn(conn net.Conn) error {
	slot, err := s.admit(conn)
	if err != nil {
		return err
	}
	defer s.wg.Done()
	return s.serve(conn, slot)
}

// Close stops accepting, closes every connection (their sessions close and
// the source counts the replicas out), and waits for every goroutine the
// server started and every ServeConn call to return. It is idempotent.
func (s *Server) Close() error {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.done)
		s.cancel()
		for ln := range s.lns {
			ln.Close()
		}
		for c := range s.conns {
			c.Close()
		}
	}
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

// conn is one replica connection on the source.
type conn struct {
	s    *Server
	c    net.Conn // the connection the bytes go through (TLS, if any)
	raw  net.Conn // the plain connection under c: what closes it
	id   semisync.ReplicaID
	sess *source.Session // nil for an asynchronous replica
	slot *hsSlot         // its place among the handshakes in flight
}

// serve serves a connection admit took.
func (s *Server) serve(nc net.Conn, slot *hsSlot) (err error) {
	c := &conn{s: s, c: nc, raw: plain(nc), slot: slot}
	if _, isTLS := nc.(*tls.Conn); !isTLS && s.o.TLSConfig != nil {
		c.c = tls.Server(nc, s.o.TLSConfig)
	}
	// Deferred first, so it runs last: OnError learns of the end once the
	// connection is closed, the session too and Active counts it no more.
	defer func() {
		if s.isClosed() && !errors.Is(err, ErrProtocol) {
			err = nil
		}
		if s.o.OnError != nil {
			s.o.OnError(c.id, err)
		}
	}()
	defer s.untrack(c.raw)
	defer c.raw.Close()
	defer s.left(slot)

	defer s.forget(c)
	h, cur, br, err := c.handshake()
	s.handshakeOver(c.raw, slot)
	if err != nil {
		return err
	}
	defer cur.Close()
	if c.sess != nil {
		defer c.sess.Close()
		s.semisync.Add(1)
	}
	s.connections.Add(1)
	res, err := dump.Run(dump.Conn{Conn: c.c, Raw: c.raw, Reader: br, Cursor: cur, Start: h.start, Session: c.sess,
		Framer: envelope{}, Seq: 2, Done: s.done},
		s.o.dumpOptions(), &s.dc)
	switch {
	case res.Quit:
		return nil
	case res.Dead:
		return fmt.Errorf("transport: replica %v silent for %v: %w", c.id, s.o.PeerTimeout, os.ErrDeadlineExceeded)
	case err == nil || errors.Is(err, net.ErrClosed):
		if res.ReadErr != nil && !errors.Is(res.ReadErr, net.ErrClosed) {
			return res.ReadErr
		}
	}
	if err != nil {
		return fmt.Errorf("transport: streaming to replica %v: %w", c.id, err)
	}
	return nil
}

// handshake runs the server's side of the handshake under one deadline,
// HandshakeTimeout from now: the TLS handshake, if any; the hello; the
// challenge; the response, whose proof it checks when Secret is set; the
// Authenticate hook; then it opens the binlog, registers a semisync
// replica with the source (c.sess) and accepts. The session exists before
// the accept is sent, so that a source that cannot take the replica
// refuses it with a reason rather than granting semisync and hanging up.
// Nothing is opened, registered or superseded before the credentials and
// the hook have passed. It returns the buffered reader the ACK reader
// goes on with.
func (c *conn) handshake() (hello, Cursor, *bufio.Reader, error) {
	s := c.s
	deadline := time.Now().Add(s.o.HandshakeTimeout)
	c.c.SetDeadline(deadline)
	// failed counts a handshake that broke on the replica's side.
	// A handshake that failed waits for its peer no more: it is not
	// evicted (nor counted as evicted) while it ends.
	failed := func(what string, err error) (hello, Cursor, *bufio.Reader, error) {
		if !s.heard(c.slot) {
			return hello{}, nil, nil, fmt.Errorf("transport: %s: closed to make room for a newer connection (MaxHandshakes %d, MaxConnections %d): %w",
				what, s.o.MaxHandshakes, s.o.MaxConnections, ErrTooManyConnections)
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			s.handshakeTimeouts.Add(1)
			err = fmt.Errorf("%w (HandshakeTimeout %v)", err, s.o.HandshakeTimeout)
		} else if !s.isClosed() {
			s.badHandshakes.Add(1)
		}
		return hello{}, nil, nil, fmt.Errorf("transport: %s: %w", what, err)
	}
	var tlsState *tls.ConnectionState
	if tc, ok := c.c.(*tls.Conn); ok {
		if err := tc.Handshake(); err != nil {
			return failed("TLS handshake", err)
		}
		st := tc.ConnectionState()
		tlsState = &st
		if !s.progressed(c.slot) {
			return failed("after the TLS handshake", net.ErrClosed)
		}
	}
	br := bufio.NewReaderSize(c.c, 4096)
	pr := wire.NewPacketReader(br, maxHandshakePacket)
	refuse := func(code uint16, msg string, err error) (hello, Cursor, *bufio.Reader, error) {
		s.heard(c.slot)
		out, _ := wire.AppendPacket(nil, 1, appendRefuse(nil, code, msg))
		c.c.Write(out)
		return hello{}, nil, nil, err
	}
	malformed := func(err error) (hello, Cursor, *bufio.Reader, error) {
		s.badHandshakes.Add(1)
		return refuse(codeBadHello, err.Error(), err)
	}

	seq, p, err := pr.ReadPacket()
	if err != nil {
		return failed("reading the replica's hello", err)
	}
	if seq != 0 {
		return malformed(fmt.Errorf("%w: hello with sequence id %d, want 0", ErrProtocol, seq))
	}
	h, err := parseHello(p)
	if err != nil {
		return malformed(err)
	}
	c.id = h.id
	if !s.progressed(c.slot) {
		return failed("after the replica's hello", net.ErrClosed)
	}
	helloBytes := slices.Clone(p) // the proofs cover it; p is reused
	ch := challenge{secretRequired: len(s.o.Secret) > 0}
	rand.Read(ch.nonce[:])
	out, _ := wire.AppendPacket(nil, 1, appendChallenge(nil, ch))
	if _, err := c.c.Write(out); err != nil {
		return failed("sending the challenge", err)
	}
	seq, p, err = pr.ReadPacket()
	if err != nil {
		return failed("reading the replica's response", err)
	}
	if seq != 0 {
		return malformed(fmt.Errorf("%w: response with sequence id %d, want 0", ErrProtocol, seq))
	}
	r, err := parseResponse(p)
	if err != nil {
		return malformed(err)
	}
	if len(s.o.Secret) > 0 {
		want := replicaProof(s.o.Secret, &ch.nonce, &r.nonce, helloBytes, r.token)
		if !hmac.Equal(r.proof, want) { // false for an empty proof
			s.badProofs.Add(1)
			what := "a wrong proof of the shared secret"
			if len(r.proof) == 0 {
				what = "no proof of the shared secret"
			}
			return refuse(codeNotAuthorised, ErrNotAuthorised.Error(), fmt.Errorf("%w: replica %v sent %s", ErrNotAuthorised, h.id, what))
		}
	}
	if s.isClosed() {
		return refuse(codeShuttingOff, ErrServerClosed.Error(), ErrServerClosed)
	}
	if !s.heard(c.slot) {
		return failed("checking the replica", net.ErrClosed)
	}
	if s.o.Authenticate != nil {
		ctx, cancel := context.WithDeadline(s.ctx, deadline)
		err := s.o.Authenticate(ctx, Peer{ID: h.id, Start: h.start, Semisync: h.semisync, Token: r.token,
			TLS: tlsState, RemoteAddr: c.raw.RemoteAddr(), Connected: s.connected(h.id)})
		cancel()
		if err != nil {
			s.refusedByHook.Add(1)
			msg := ErrNotAuthorised.Error()
			var d *disclosed
			if errors.As(err, &d) {
				msg = d.Error()
			}
			return refuse(codeNotAuthorised, msg, fmt.Errorf("%w: replica %v: %w", ErrNotAuthorised, h.id, err))
		}
	}
	cur, err := s.log.Open(h.start)
	if err != nil {
		s.startsRefused.Add(1)
		err = fmt.Errorf("transport: opening the binlog at %v: %w", h.start, err)
		return refuse(codeBinlog, err.Error(), err)
	}
	if err := s.register(c, h); err != nil {
		cur.Close()
		code := uint16(codeSource)
		if errors.Is(err, source.ErrStartBeyondEnd) {
			// The binlog opened a position the source has not been told
			// of (a host binlog that does not check, or an end not
			// reported with Appended): refused all the same.
			code = codeBinlog
			s.startsRefused.Add(1)
		}
		err = fmt.Errorf("transport: registering replica %v with the source: %w", h.id, err)
		return refuse(code, err.Error(), err)
	}
	a := accept{granted: h.semisync, heartbeatMillis: uint32(s.o.HeartbeatPeriod / time.Millisecond)}
	if len(s.o.Secret) > 0 {
		a.proof = sourceProof(s.o.Secret, &ch.nonce, &r.nonce, helloBytes, r.token, r.proof, a)
	}
	out, _ = wire.AppendPacket(out[:0], 1, appendAccept(nil, a))
	if _, err := c.c.Write(out); err != nil {
		if c.sess != nil {
			c.sess.Close()
			c.sess = nil
		}
		cur.Close()
		return failed("sending the accept", err)
	}
	c.c.SetDeadline(time.Time{})
	return h, cur, br, nil
}

// envelope is the transport's Framer: each event and heartbeat in its
// envelope (kind, end position, then the event's bytes).
type envelope struct{}

func (envelope) AppendEventHead(dst []byte, end semisync.Position, _ []byte) []byte {
	return appendEnvelope(dst, kindEvent, end, nil)
}

func (envelope) AppendHeartbeat(dst []byte, last semisync.Position) []byte {
	return appendEnvelope(dst, kindHeartbeat, last, nil)
}
