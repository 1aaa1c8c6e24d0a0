// Package semisync is the root of an embeddable, pure-Go implementation of
// semisynchronous replication: the logic of MySQL's rpl_semi_sync_source and
// rpl_semi_sync_replica plugins and of MariaDB's built-in semisync, as
// packages that any host plugs its own binlog and transport into.
//
// A semisync source holds each commit until enough replicas acknowledge that
// they have received it, so a failover to one of them loses no transaction a
// client was told had committed. It waits at a chosen point of the commit
// (after the binlog sync or after the engine commit), falls back to
// asynchronous replication when acknowledgements do not come in time, and
// turns semisync back on by itself when replicas catch up. A semisync replica
// acknowledges only what it holds durably.
//
// This package holds the few types every other package shares: [Position], a
// totally ordered point in the replication stream (a binlog file and offset,
// or a single log sequence number); [ReplicaID]; [Flavor], which selects
// MySQL's or MariaDB's names; and [Row], [Like] and [WriteTable] for SHOW
// output.
//
// # Packages
//
//   - ackset: the quorum math. Per-replica acknowledged positions in, the
//     highest position acknowledged by the required quorum out (MySQL's N
//     replicas, ANY N of a set, FIRST N by priority, N spanning K groups).
//     Pure: no locks, no time, no I/O.
//   - vars: every semisync system variable, typed, with MySQL's value syntax,
//     SET statements, option files and SHOW VARIABLES; live values a running
//     source or replica reads without locking.
//   - status: every semisync status variable with MySQL's meaning, in every
//     naming flavor, plus wait-latency histograms, switch-off counts by
//     reason and a per-replica acknowledgement ledger.
//   - source: the semisync state machine of a source. Commit waits with
//     typed outcomes, MySQL's fallback to asynchronous mode and re-entry,
//     replica sessions (the reply-required flag, acknowledgements), every
//     counter, events, and the un-acknowledged tail for crash recovery.
//   - waitpoint: the commit order as code (flush, sync, wait if AFTER_SYNC,
//     engine commit, wait if AFTER_COMMIT) with group commit, around the
//     host's own binlog and engine.
//   - replica: the replica side. Negotiation decided per connection, events
//     written through the host's relay log, and one acknowledgement for
//     everything that became durable (flushed, or fsynced) together.
//   - relaylog: a relay log in one file: CRC-framed records with their end
//     positions, fsync before ACK, recovery that cuts a torn tail and
//     refuses damage, Rewind to the last fsync, and a Follower that reads
//     the fsynced records as the file grows. It implements replica's relay
//     log interfaces.
//   - wire: MySQL's semisync bytes: the event header, the ACK packet,
//     COM_QUIT, the sequence-id rules, packet framing, and the negotiation
//     statements for both sides. Fuzzed.
//   - dump: the sending side of one replica connection, for every
//     protocol a source speaks: events with the session's reply flag, a
//     separate ACK reader, heartbeats and probes, dead-peer detection.
//   - transport: a ready Go-to-Go transport over any net.Conn, in MySQL's
//     framing, with authentication, connection limits and a clean Close;
//     its connections stream through package dump.
//   - examples/binlog: in-memory binlogs and relay logs for examples and
//     tests, and a file-backed binlog with group commit; examples/cluster
//     runs a source and replicas over TCP on them.
//   - interop/mysqlreplica (its own module, so the core never depends on a
//     MySQL client): a semisync replica of a real MySQL or MariaDB source,
//     writing its events to a relaylog file fsynced before each ACK,
//     tested against a real MariaDB server.
//   - interop/mysqlsource (same module): a source that real MariaDB and
//     MySQL replicas connect to with CHANGE MASTER TO, by file and position
//     or by GTID, with operator SQL on the same port. A proxy author
//     embeds a source.Source, stores or writes the binlog, and serves it
//     with mysqlsource.NewServer; the replicas' ACKs release the commits.
//
// # The host's duties
//
// The library decides; the host does the I/O. A host that embeds a source:
//
//  1. writes and syncs its own binlog, and reports each flushed group's end
//     position before any replica can read it, and where the binlog ends
//     when that is not a group's end: at startup (the end of the binlog on
//     disk), after each rotation (the new file's first position) and after
//     RESET MASTER (source.Source.Appended), since the source refuses a
//     replica that asks to start beyond that end;
//  2. streams its binlog to replicas, asking the library per event whether
//     to request an acknowledgement, and hands every acknowledgement back;
//  3. waits for its commit's position at the wait point, and tells its client
//     what the typed outcome means;
//  4. feeds runtime variable changes (vars) to the running source and exports
//     the counters (status) however it likes.
//
// A host that embeds a replica writes received events to its relay log and
// sends an acknowledgement only when the library says the event is as
// durable as configured.
//
// # Usage
//
// A source in eleven lines (errors elided; see package source for the rest):
//
//	src, _ := source.New(source.Options{})           // MySQL names, defaults
//	_ = src.Vars().Exec("SET GLOBAL rpl_semi_sync_source_enabled = ON")
//	_ = src.Appended(semisync.FilePos("binlog.000001", 4)) // the binlog's end
//	r1, _ := src.Register(1, semisync.FilePos("binlog.000001", 4))
//	end := semisync.FilePos("binlog.000001", 900)
//	_ = src.Flushed(end)                             // after writing the group
//	flag := r1.ReplyRequired(end)                    // when sending it: true
//	r1.Ack(end)                                      // the replica's ACK
//	res, _ := src.Wait(ctx, end)                     // at the wait point
//	// res.Outcome is source.Acknowledged.
//
// The quorum math and the variables can also be used on their own:
//
//	set, _ := ackset.New(ackset.Count(2))
//	set.Connect(1, semisync.FilePos("binlog.000001", 4))
//	set.Connect(2, semisync.FilePos("binlog.000001", 4))
//	set.Ack(1, semisync.FilePos("binlog.000001", 900))
//	u := set.Ack(2, semisync.FilePos("binlog.000001", 700))
//	// u.Quorum is binlog.000001:700: both replicas hold everything up to it.
//
//	reg, _ := vars.NewRegistry(semisync.FlavorMySQL)
//	err := reg.Exec("SET GLOBAL rpl_semi_sync_source_wait_for_replica_count = 2")
//	cfg := reg.Config() // no lock, no allocation
package semisync
