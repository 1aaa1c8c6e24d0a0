// Package mysqlreplica replicates from a real MySQL or MariaDB source as a
// semisynchronous replica, writing a relay file that is fsynced before each
// ACK: what a replication proxy, a change-data-capture tool or a standby
// written in Go needs to count as one of the source's semisync replicas
// without ever acknowledging a transaction it could lose, from the position
// it first starts at on.
//
// It lives in its own module, so that importing the semisync core never
// pulls in a MySQL client. go-mysql's client is used for the connection,
// the handshake, authentication and running statements, and nothing else.
// Every semisync decision is the core's: the replica package decides
// whether to ask for semisync, negotiates in the flavor's names (MariaDB's
// rpl_semi_sync_master_enabled; MySQL 8.0.26+'s source names falling back
// to the master names), strips each event's semisync header, and sends one
// ACK per batch only after the relay file has made the batch durable; the
// wire package frames the packets and encodes the ACK. (go-mysql's own
// BinlogSyncer acknowledges before the application has stored the event,
// and switches semisync off for good when the source's variable is not ON
// at connect time; neither happens here.)
//
// # What Replicate does
//
// One call is one connection, MySQL's IO thread from connect to
// disconnect:
//
//  1. Connect and authenticate (go-mysql), with a deadline for everything
//     before the dump.
//  2. SET @master_binlog_checksum = @@global.binlog_checksum, so the source
//     sends events with the checksum it writes; SELECT it back to know
//     whether the events before the first format description carry one.
//  3. SET @master_heartbeat_period (nanoseconds), and for MariaDB
//     @mariadb_slave_capability = 4.
//  4. Refuse a source with this replica's server_id; COM_REGISTER_SLAVE.
//  5. Negotiate semisync on this connection (replica.Stream.Negotiate)
//     when the replica's rpl_semi_sync_replica_enabled is ON.
//  6. COM_BINLOG_DUMP from the relay file's last record — with
//     replica.Synced its last fsynced one, the rest cut off, since the
//     source takes the dump's start as an acknowledgement up to it — or,
//     for an empty relay, Config.Start or the source's current position.
//     With Config.GTID answering a position, a GTID dump instead: for
//     MariaDB, SET @slave_connect_state and COM_BINLOG_DUMP from no file;
//     for MySQL, COM_BINLOG_DUMP_GTID with the GTID set. The source picks
//     the file, and the relay passes over what it resends.
//  7. Read packets with the core's wire.PacketReader on the raw
//     connection, checking sequence ids (reset after each flagged event,
//     as MySQL does); decode each event's header, verify its CRC32 and work
//     out where it ends in the source's binlog (Decoder); queue it.
//     Whenever no further packet has arrived, the stream flushes the relay
//     file, fsyncs it (replica.Synced) and sends one ACK for the highest
//     flagged position among what became durable.
//
// Reconnecting is the caller's loop: call Replicate again with the same
// relay log file (or one reopened with relaylog.Open after a crash); it
// resumes after the last record, so no event is lost or written twice.
//
// # The relay file
//
// The relay log is a relaylog.File, from the core module's package
// relaylog, which describes its format, its crash recovery and its fsync
// rules. Replicate writes each event there exactly as the source sent it
// (its checksum kept, the semisync header removed), with the position in
// the source's binlog at which it ends (Decoder). relaylog.Open cuts off a
// tail past the last fsync the file proves (a write a crash tore, zeros or
// junk a power failure left) and returns what it cut in a
// relaylog.Recovery, which Result.Recovery repeats; it refuses
// (relaylog.ErrCorrupt) damage to what the file proves was fsynced. After
// a cut the dump resumes from the shorter position, and the source takes
// that as this replica's position. After a failed fsync the file takes no
// more writes (relaylog.ErrFailed) until it is reopened. relaylog.Read reads it
// back for an applier: each record is one binlog event, whose header
// ParseHeader reads. Events the source makes up for each dump (the first
// rotate and the repeated format description) are kept too, as MySQL keeps
// them in its relay log; Decoded.Advances tells them apart.
//
// # Host duties
//
//   - Give each replica a unique ServerID, and the replication user
//     REPLICATION SLAVE, plus what SHOW MASTER STATUS needs when no start
//     position is given (MariaDB: BINLOG MONITOR; MySQL: REPLICATION
//     CLIENT).
//   - Choose the first start position knowing that a semisync dump's
//     start acknowledges everything before it (Config.Start).
//   - Create the replica.Replica with semisync enabled in its registry and
//     replica.Synced durability for ACK-after-fsync.
//   - Read from the relay file while Replicate appends to it only through
//     relaylog.Read on records already flushed (Last).
//
// # Concurrency
//
// Replicate runs on the caller's goroutine and starts one helper that
// closes the connection when ctx ends; it waits for that helper before
// returning. A relaylog.File's methods are safe for concurrent use.
//
// # Not implemented
//
// Relay-file rotation and
// purging in relaylog.File (Config.Relay may be a store of the host's
// that rotates, as package binlogd's does), the compressed
// protocol and TLS (MySQL negotiates TLS inside its handshake, so wrapping
// the connection in Dial does not give it). A relay file relaylog.Open
// refuses (relaylog.ErrCorrupt) is the operator's to inspect: the core
// module's cmd/relaylog prints its records and the damage.
// The source's semisync status and counters are not read: they are the
// source's.
package mysqlreplica
