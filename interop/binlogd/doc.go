// Package binlogd is a semisync binlog server: a semisync replica of a real
// MariaDB or MySQL primary that keeps the primary's binlog durably in
// files of its own and serves it to any number of real replicas of the
// same kind as their semisync source. The registry's flavor (Config.Vars)
// says which kind. Command semisync-binlogd (interop/cmd/semisync-binlogd)
// is a thin program over it; a replication proxy embeds the same Server.
//
// # The parts
//
//   - Upstream: mysqlreplica.Replicate with a replica.Replica of Synced
//     durability, reconnecting in a loop. The dump is a GTID dump from the
//     store's GTID position, the transactions it holds whole and fsynced:
//     for MariaDB the last transaction of each domain (@slave_connect_state),
//     for MySQL a GTID set (COM_BINLOG_DUMP_GTID). An empty store begins
//     at the primary's current position and its GTID position there, or
//     at Upstream.StartGTID; by file and position when that position names
//     no transaction, or the primary's GTID_MODE is not ON. Each batch of
//     events is written to the store, fsynced, and acknowledged.
//   - Store: the primary's events byte for byte, at the primary's own file
//     names and positions, in segment files of package relaylog's format
//     (CRC-32C records, sync marks, a torn tail cut on open), rotated at
//     StoreOptions.SegmentBytes on a transaction boundary. Each segment
//     begins with a checkpoint: the GTID position and format description
//     where it begins. The store follows transactions to know their
//     boundaries: MariaDB's GTID events (standalone or not), MySQL's GTID
//     and anonymous GTID events with BEGIN ... XID/COMMIT/ROLLBACK, a DDL
//     statement alone, XA's two parts, a compressed payload; MySQL's
//     previous GTIDs are taken as held, as MySQL's relay log does. Events
//     it could not follow are refused (ErrCannotStore): the other
//     flavor's GTIDs, tagged GTIDs, transaction numbers out of range. Events the primary makes up for each dump are not
//     kept (but a file's format description is), and events ending at or
//     before the store's end are passed over: a GTID dump resends the
//     file's first events and a transaction the store holds in part, and
//     positions say which ones it holds.
//   - Downstream: mysqlsource.Server over the store with a source.Source.
//     Replicas see only fsynced events; positions are the primary's, so a
//     replica by file and position can move between the primary and the
//     server with the same coordinates. A replica's GTID dump starts from
//     the newest checkpoint its position covers (a MariaDB gtid_slave_pos:
//     GTIDCheckpoint; a MySQL GTID set that contains the checkpoint's:
//     MySQLGTIDCheckpoint): the end of the last whole transaction, a
//     segment's start, or the end of a gap, so a MariaDB replica's start
//     is found by reading at most one segment (a MySQL replica's reads on
//     to the store's end, checking that the replica has no transaction of
//     the server's own the store lacks). A replica lacking transactions
//     from before the store's start is refused (1236), never served
//     around the hole: a MariaDB store begins at the primary's binlog
//     position and BINLOG_GTID_POS of it; a MySQL store by the primary's
//     Executed_Gtid_Set, or else at the start of the primary's current
//     file, offering no checkpoint (and no set to resume by) until it has
//     held that file's previous GTIDs.
//     MySQL replicas see Downstream.GTIDMode (ON unless set: set it to the
//     primary's) and the server's own server_uuid (Downstream.ServerUUID,
//     else one made up at the first start and kept in the data
//     directory).
//   - Retention: StoreOptions.RetainBytes and RetainAge let the oldest
//     segments go (Server checks once a second), never the one being
//     written nor one an open reader is in or will come to.
//
// # Acknowledgement modes
//
// Local (Ripple's rule): the primary gets the ACK once the store has
// fsynced the transaction. Chained: the ACK waits (Source.Wait, the
// library's tested wait) until the server's own replicas have acknowledged
// it — as many as its rpl_semi_sync_master_wait_for_slave_count, within its
// rpl_semi_sync_master_timeout. When that wait times out, or the server's
// source is OFF, the ACK goes out on the local fsync: the server has
// fallen back to local, and says so (Stats.Fallbacks, a log line,
// SHOW STATUS Binlogd_ack_mode). When its replicas catch up its source
// switches ON again and the next ACK is chained (Stats.Reentries): the
// source's state machine, one level up. The upstream stream waits while a
// chained ACK waits: events that arrive meanwhile are stored and
// acknowledged together in the next batch.
//
// A primary's commit acknowledged in chained mode (and not after a
// fallback) is on at least one of the server's replicas; in local mode it
// is on the server's disk. Set the server's timeout below the primary's
// if a downstream failure should cost the primary nothing (the server
// falls back first), above it to keep the primary's commits waiting for a
// replica (the primary times out and goes asynchronous on its own).
//
// # Operator SQL
//
// On the server's port, besides what mysqlsource answers (SHOW STATUS,
// SHOW VARIABLES, SET GLOBAL, SHOW SLAVE HOSTS, SHOW MASTER STATUS, KILL):
// both levels' variables (rpl_semi_sync_master_* for the downstream,
// rpl_semi_sync_slave_* for the upstream, or the flavor's names) and
// binlogd_ack_mode, settable by
// the operator with SET GLOBAL binlogd_ack_mode = 'chained'; status rows of
// both levels (Rpl_semi_sync_master_*, Rpl_semi_sync_slave_status) and the
// server's own (Binlogd_*); SHOW SLAVE STATUS for the upstream connection;
// SHOW SEMISYNC REPLICAS for the downstream ledger; and the store's GTID
// position as SELECT @@GLOBAL.gtid_binlog_pos (MariaDB) or
// @@GLOBAL.gtid_executed (MySQL), which a binlog server behind this one
// asks before its first dump.
//
// # Restart
//
// After kill -9 (or a power failure) OpenStore checks every segment: the
// newest one's tail past its last fsync is cut (relaylog's rules: damage
// to what was fsynced is refused, not cut); a segment left with only a
// half-written checkpoint is removed. The GTID position is rebuilt from
// the records; the upstream dump resumes from it, and events the store
// already has are passed over. Replicas reconnect and resume from their
// own positions.
//
// # The host's duties
//
// Give the server a data directory of its own, server ids unique in the
// topology (Upstream.ServerID towards the primary, Downstream.ServerID
// towards the replicas), the primary's binlog_checksum
// (Downstream.Checksum), and a replication account on the primary with
// REPLICATION SLAVE and BINLOG MONITOR (MySQL: REPLICATION CLIENT). Call Start with a listener and
// Close when done: Close stops the upstream connection, the downstream
// server and the purger, waits for their goroutines, and closes the store.
//
// # Not implemented
//
// Pointing the server at a different primary after a failover whose binlog positions do not
// continue the store's (start it on an empty data directory with
// --start-gtid instead); a persistent index (OpenStore reads every segment
// once to rebuild it, which bounds restart time by the retained bytes);
// SHOW BINARY LOGS and PURGE BINARY LOGS; MySQL 8.3's tagged GTIDs; the
// check that a MySQL replica has no more of the primary's transactions
// than the store (mysqlsource checks its own server_uuid's, and the
// server's is its own). The MySQL side is tested against a MySQL 8
// stand-in built on mysqlsource and with go-mysql's MySQL replica, as no
// MySQL server is installable where it was written; MariaDB's, against
// real MariaDB servers.
package binlogd
