// Package transport is a ready Go-to-Go transport for semisynchronous
// replication over any net.Conn (TCP, Unix sockets, net.Pipe): a Server on
// the source that streams the host's binlog to replicas, and Replicate on
// the replica that writes it into the host's relay log and acknowledges.
// The decisions are the source and replica packages'; this package moves
// the bytes, in MySQL's framing and semisync wire format (package wire).
//
// # The protocol
//
// Every message is a MySQL protocol packet (3-byte length, sequence id).
// The replica opens with a hello carrying its ID, the position to start
// from and whether it wants semisync (its rpl_semi_sync_replica_enabled);
// the source accepts, saying whether semisync was granted and its
// heartbeat period, or refuses with a reason. Then the source streams
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
// Where this differs from MySQL's ACK receiver: an ACK with a wrong sequence
// id is counted as malformed and ignored, where MySQL's read fails and it
// stops reading that replica; an ACK for a position beyond what the
// connection has sent is ignored and counted (ServerStats.AcksAhead), since
// no replica can hold what it was never sent (MySQL takes it and may
// release commits no replica has). A replica that connects again under the
// same ID closes its older connection, as MySQL kills the older dump
// thread. An asynchronous replica is never asked to reply, so a dead one is
// found only when a write to it makes no progress for WriteTimeout or TCP
// keep-alive gives up.
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
//	srv, _ := transport.NewServer(src, binlog, transport.ServerOptions{})
//	go srv.Serve(listener)
//	defer srv.Close()
//
// On the replica:
//
//	conn, _ := net.Dial("tcp", addr)
//	res, err := transport.Replicate(ctx, conn, transport.ReplicaConfig{
//		Replica: rep, ID: 2, Start: relay.Last(), RelayLog: relay,
//	})
//
// The host's binlog must not let a reader see a commit group before
// Source.Flushed has been called for it (MySQL's dump threads read only up
// to the end position updated after the sync); otherwise the event may be
// sent without the flag and its commit waits for a solicited ACK.
//
// # Goroutines
//
// Serve runs on the caller's goroutine and starts one goroutine per
// connection; each connection starts one more, its ACK reader. Close closes
// every listener and connection and waits for all of them. Replicate runs
// on the caller's goroutine and starts none that outlives it.
package transport
