// Package dump is the sending side of one replica connection, shared by
// every protocol a source speaks: package transport's own, and MySQL's
// (interop/mysqlsource). Once a connection's handshake is over, Run
// streams the host's binlog to the replica from a Cursor, each event with
// the semisync header whose reply flag the replica's source.Session
// decides, and reads the replica's ACKs on a goroutine of its own, so that
// events and ACKs flow at the same time (MySQL 5.7's ACK receiver).
//
// What it does for every protocol alike:
//
//   - Framing: MySQL's packets (split at 16 MiB, the sequence ids reset
//     after a flagged event), a flagged event flushed once no further event
//     is ready to go after it, event bytes written without a copy. A Framer
//     makes what differs: what goes before an event's bytes, and a
//     heartbeat.
//   - ACKs: well-formed ones go to the session; malformed ones are counted
//     and ignored (MySQL keeps the connection); ACKs beyond what the
//     connection was sent are counted and ignored (no replica holds what it
//     was never sent); COM_QUIT ends the stream.
//   - Liveness: a heartbeat every HeartbeatPeriod without other traffic; a
//     probe (a heartbeat with the reply flag) when the replica has been
//     silent for a period or the session solicits an ACK (lost-ACK
//     recovery); a replica that leaves a probe unanswered for PeerTimeout is
//     dead. Writes fail only when no chunk of 64 KiB moves for about
//     WriteTimeout.
//
// # The host's duties
//
// Run the handshake (and authentication) first, open the Cursor at the
// position the replica asked for (refusing positions the binlog does not
// hold) and register the replica with the source; then call Run on the
// connection's goroutine, with Counters shared by the server's
// connections. Run starts one goroutine, the ACK reader, and waits for it
// before it returns; it closes Raw but not the Cursor or the Session.
// Done stops it when the server closes.
package dump
