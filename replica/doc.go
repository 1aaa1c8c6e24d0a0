// Package replica is the replica side of semisynchronous replication: the
// logic of MySQL's rpl_semi_sync_replica plugin (and MariaDB's built-in
// replica side), with the host's relay log and connection plugged in. It
// acknowledges only what it holds.
//
// A Replica is one replication channel: its variables
// (rpl_semi_sync_replica_enabled), its status (Rpl_semi_sync_replica_status,
// MariaDB's Rpl_semi_sync_slave_send_ack) and the streams it opens. A Stream
// is one connection to the source, from connect to disconnect (MySQL's IO
// thread):
//
//   - it reads rpl_semi_sync_replica_enabled when it opens; enabling or
//     disabling later takes effect on the next connection (spec §9.3);
//   - it negotiates on its own connection (Stream.Negotiate, or
//     Stream.SetNegotiated for a transport with its own handshake), and that
//     connection's outcome alone decides whether event packets carry the
//     semisync header. MySQL keeps the flag process-wide, which breaks a
//     reconnect after a runtime change and multi-source replicas (spec §9.3
//     hazard); here it is never shared;
//   - for each event it strips the header, writes the event through the
//     host's RelayLog, and remembers whether the source asked for a reply;
//   - Stream.Flush makes what was written durable — flushed (MySQL's
//     meaning) or, with Durability Synced, also fsynced (stronger than
//     MySQL, whose ACK does not promise it: spec B5) — and only then sends
//     one ACK for the highest flagged position among what became durable
//     together, through the host's AckSender;
//   - an ACK that cannot be sent is counted and reported, never fatal to
//     the stream, as in MySQL (spec §9.2). A relay-log error is fatal, and
//     nothing it did not make durable is acknowledged.
//
// # Usage
//
// The host's duties, in order:
//
//  1. Create a Replica per channel with New; set rpl_semi_sync_replica_enabled
//     in its registry (OFF by default, as in MySQL).
//  2. Per connection: Replica.Open with the position the dump starts at,
//     then Stream.Negotiate on that connection before sending the dump
//     command (or SetNegotiated with the transport's answer).
//  3. Per packet received: Stream.Unwrap, work out the event's end position
//     in the source's binlog, then Stream.Queue (Stream.Heartbeat for a
//     heartbeat). Stop the stream on any error these return.
//  4. Whenever no further packet is already waiting, call Stream.Flush:
//     that is where events are made durable together and acknowledged with
//     one packet (group commit on the replica).
//  5. Close the stream when the connection ends, and resume the next one
//     from Stream.Durable.
//
// The transport package does all of this over a net.Conn.
//
// # Concurrency
//
// Replica's methods are safe for concurrent use. Its status
// (Rpl_semi_sync_replica_status) is ON while any open stream is enabled and
// not refused semisync, so overlapping connections (a reconnect, several
// sources) do not overwrite each other's status; send_ack restarts from 0
// when the first stream opens after none were open. A Stream belongs to the one
// goroutine that drives it; only Stats may be called from others. The
// package starts no goroutines.
//
// Not implemented: MariaDB's rpl_semi_sync_slave_delay_master (which defers
// the master-info update, not the ACK), rpl_semi_sync_slave_kill_conn_timeout
// (a transport concern) and the trace level; the registry still holds them.
package replica
