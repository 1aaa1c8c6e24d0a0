// Package transport is a ready Go-to-Go transport for semisynchronous
// replication over any net.Conn (TCP, Unix sockets, net.Pipe): a Server on
// the source that streams the host's binlog to replicas, and Replicate on
// the replica that writes it into the host's relay log and acknowledges.
// The decisions are the source and replica packages'; this package moves
// the bytes, in MySQL's framing and semisync wire format (package wire).
//
// # The protocol
//
// Every message is a MySQL protocol packet (3-byte length, sequence id);
// frame.go documents the bytes (protocol version 2). The replica opens
// with a hello carrying its ID, the position to start from and whether it
// wants semisync (its rpl_semi_sync_replica_enabled); the source answers
// with a challenge (a fresh random nonce, and whether it requires the
// shared secret); the replica responds with its own nonce, its proof of
// the secret if it has one, and an optional token; the source accepts,
// saying whether semisync was granted and its heartbeat period, with its
// own proof of the secret, or refuses with a code and a reason
// (RefusedError). A source and a replica of different protocol versions
// refuse each other at once with a *VersionError. Then the source streams
// event packets exactly as MySQL's dump thread does — 0x00, and on a
// semisync connection 0xEF and the reply flag — whose body is a small
// envelope (kind, end position, event bytes); heartbeats are event packets
// of their own kind. The replica sends MySQL's ACK packets on the same
// connection, and COM_QUIT when it stops. Sequence ids follow MySQL's
// rules around flagged events (spec §8.4) and both sides check them.
//
// # Source side
//
// Server registers each semisync replica with the Source
// (Source.Register, which counts it in clients and takes its start
// position as an acknowledgement), asks Session.ReplyRequired for every
// event it sends, and reads ACKs on a separate goroutine per connection, so
// events and ACKs flow at once (MySQL 5.7's ACK receiver, spec §6.3).
// Malformed ACKs are counted and ignored; the connection stays. The sender
// pulls events from the host's Cursor only as fast as the connection takes
// them (backpressure), flushes the socket whenever it has caught up (so
// events written together leave in one write, where MySQL flushes after
// every flagged event, spec §7.2), and sends a heartbeat in every idle
// heartbeat period. When a semisync replica has been silent for a period,
// or the session solicits an ACK (Session.SolicitAck: a lost ACK), the
// heartbeat carries the reply flag (a probe); a replica that leaves a probe
// unanswered for PeerTimeout is dead, its connection closes and the source
// counts it out. A write that makes no progress for WriteTimeout ends the
// connection too.
//
// The start position in the hello counts as an acknowledgement, so it is
// checked twice before it can release anything: the host's Binlog must
// refuse to open a position it does not hold, and the source refuses a
// start beyond the binlog's end it was told of (source.ErrStartBeyondEnd).
// Either way the replica gets code 1236 (ErrStartRefused, MySQL's answer to
// a dump request its binlog cannot serve) and ServerStats.StartsRefused
// counts it.
//
// Where this differs from MySQL's ACK receiver: an ACK with a wrong sequence
// id is counted as malformed and ignored, where MySQL's read fails and it
// stops reading that replica; an ACK for a position beyond what the
// connection has sent is ignored and counted (ServerStats.AcksAhead), since
// no replica can hold what it was never sent (MySQL takes it and may
// release commits no replica has). A replica that connects again under the
// same ID closes its older connection, as MySQL kills the older dump
// thread (an Authenticate hook may refuse such takeovers). An asynchronous
// replica is never asked to reply, so a dead one is found only when a
// write to it makes no progress for WriteTimeout or TCP keep-alive gives
// up.
//
// # Replica side
//
// Replicate drives a replica.Stream over the connection: each packet is
// unwrapped and queued into the relay log; whenever no whole packet is
// waiting, the stream flushes (and syncs) the relay log and sends one ACK
// for everything flagged in that batch, so a slow disk coalesces ACKs
// instead of falling behind. A source silent for PeerTimeout (default three
// heartbeat periods) ends the call. It returns the relay log's last durable
// position: resume the next connection from there.
//
// # Usage
//
// On the source, after creating the source.Source and the host's Binlog:
//
//	srv, _ := transport.NewServer(src, binlog, transport.ServerOptions{
//		TLSConfig: serverTLS, Secret: secret,
//	})
//	go srv.Serve(listener)
//	defer srv.Close()
//
// On the replica:
//
//	conn, _ := net.Dial("tcp", addr)
//	res, err := transport.Replicate(ctx, conn, transport.ReplicaConfig{
//		Replica: rep, ID: 2, Start: relay.Last(), RelayLog: relay,
//		TLSConfig: replicaTLS, Secret: secret,
//	})
//
// The host's binlog must not let a reader see a commit group before
// Source.Flushed has been called for it (MySQL's dump threads read only up
// to the end position updated after the sync); otherwise the event may be
// sent without the flag and its commit waits for a solicited ACK.
//
// # Security
//
// Whoever the source accepts as a replica reads the whole binlog, and a
// semisync replica's ACKs release commits: a stranger that can connect
// to an unprotected server can read every transaction, take over a
// replica's ID (which closes that replica's connection, as a reconnect
// does) and acknowledge commits it never stored. Expose a server without
// protection only on a network where every host that can reach it is
// trusted.
//
// TLS (ServerOptions.TLSConfig and ReplicaConfig.TLSConfig, or a listener
// wrapped with tls.NewListener and a conn from tls.Dial) encrypts the
// stream and protects it against tampering, and lets the replica verify
// the source's certificate. With client certificates required (mutual
// TLS), the source knows which replica holds which certificate.
//
// The Authenticate hook decides for each replica, knowing its ID, start
// position, semisync wish, token, TLS state (the verified client
// certificate), address, and whether a connection under the same ID is
// being served (a hook can refuse takeovers). It runs once the hello and
// response are read and before the server opens the binlog, registers the
// replica with the source or closes an older connection; a refusal is code
// 5, "not authorised", with the hook's reason kept on the source unless
// the hook wraps it with Disclose.
//
// The shared secret (ServerOptions.Secret, ReplicaConfig.Secret) is a
// ready challenge and response: each side proves it knows the secret with
// an HMAC-SHA256 over both sides' fresh nonces and the replica's hello and
// token, compared in constant time, so the secret never crosses the
// network and a captured proof fails on any other connection. The replica
// refuses a source that cannot prove the secret
// (ErrSourceNotAuthenticated). Without TLS, the secret protects only the
// handshake: the stream after it is neither encrypted nor protected, so
// an eavesdropper reads the binlog, someone on the path can take over the
// TCP connection after the handshake and forge ACKs, and whoever captured
// a handshake can test guesses of the secret offline (use 32 random
// bytes). The recommended setup is TLS with the shared secret, or mutual
// TLS with a hook that ties the certificate to the replica's ID.
//
// Limits bound what connections can take, authenticated or not.
// MaxConnections (default 151, MySQL's max_connections) bounds the
// connections being served, handshakes included; MaxHandshakes (default
// 64) those still handshaking; HandshakeTimeout (default 5s) bounds a
// whole handshake, TLS included, whatever its pace. A connection beyond a
// limit is refused on the accepting goroutine: without TLS it gets a
// refusal with code 1040 (ErrTooManyConnections, MySQL's "Too many
// connections") written with a 50 ms deadline, then it is closed; no
// goroutine, cursor, session or buffer is made for it. Before refusing,
// a new connection evicts the handshake that has waited longest for its
// peer's bytes (the wait restarts at each step the peer completes: TLS,
// hello), closing it without a word. So clients that connect and say
// nothing hold at most MaxHandshakes goroutines, never longer than
// HandshakeTimeout, and cannot keep out a replica that reconnects: to
// evict a replica's handshake a flood must move MaxHandshakes handshakes
// past it (new connections, or steps completed on connections it holds)
// within one of the replica's round trips: for the default 64, at worst
// some 700 connections a second over a 30 ms round trip. Replicas already
// streaming are unaffected; a per-address limit is for the host's
// firewall. A stranger that passes authentication, or any stranger where
// there is none, is a replica like
// the others until MaxConnections, and each replica ID it registers stays
// in the source's ledger and acknowledgement marks (a small entry per ID,
// see source.Source.Register): limits are no substitute for
// authentication. ServerStats counts every refusal, bad proof and
// handshake timeout.
//
// Memory per connection on the source: during the handshake, one
// goroutine, a 4 KiB read buffer and at most 1,089 bytes of packet (the
// longest hello is 529 bytes, the longest response 1,089: a 32-byte nonce,
// a 32-byte proof and a token of at most MaxToken bytes); once streaming,
// a second goroutine, the 64 KiB write buffer, and an ACK buffer that grows
// with the packets received, up to MaxAckPacket (64 KiB; an ACK takes at
// most 520 bytes). Events are written from the Cursor's buffer without a
// copy, whatever their size. TLS adds its record buffers, about 16 KiB
// each way. Without TLS that is at most about 150 KiB per connection with
// the goroutine stacks, times MaxConnections.
//
// # Goroutines
//
// Serve runs on the caller's goroutine and starts one goroutine per
// connection it admits (none for one refused at a limit); each accepted
// connection starts one more, its ACK reader (package dump streams every
// accepted connection: the sender, heartbeats and ACK reader are dump's,
// shared with interop/mysqlsource). Close closes
// every listener and connection and waits for all of them. Replicate runs
// on the caller's goroutine and starts none that outlives it.
package transport
