// Package mysqlsource is the source side of MySQL's replication protocol
// for a semisync.Source: what real MariaDB and MySQL replicas connect to
// with CHANGE MASTER TO and START SLAVE, so that a Go host (a replication
// proxy, a binlog server, a database of its own) can be their semisync
// source.
//
// It lives in the interop module, beside mysqlreplica, so that importing
// the semisync core never pulls in a MySQL library.
//
// # The server
//
// Server is a MySQL-protocol source on a listener. go-mysql's server package
// does the handshake and checks the accounts (mysql_native_password by
// default, caching_sha2_password with Options.AuthMethod, TLS when the host
// gives a configuration); then the server reads the commands itself:
//
//   - a replica's set-up, as captured from real MariaDB 10.11 replicas
//     and as MySQL 8's source code sends it: the clock, the server id and
//     UUID, GTID_MODE (Options.GTIDMode), the binlog checksum, the
//     heartbeat period, the replica's UUID and capability, the GTID
//     position (@slave_connect_state), binlog_gtid_pos, the semisync
//     probe and declaration; COM_PING, COM_REGISTER_SLAVE, KILL (a MariaDB
//     replica kills its previous connection when it reconnects);
//   - an operator's SQL, for the account Options.Admin: SHOW [GLOBAL]
//     STATUS and VARIABLES [LIKE] in the source's flavor, SET GLOBAL
//     through package vars (with its MySQL error codes), SHOW SLAVE HOSTS
//     (SHOW REPLICAS), SHOW MASTER STATUS (SHOW BINARY LOG STATUS), KILL.
//     Any account may SHOW, as in MySQL; only the operator may SET GLOBAL;
//     the replication account may KILL the connections of the replication
//     account (every replica's: the account is shared);
//   - the dump: COM_BINLOG_DUMP by file and position; COM_BINLOG_DUMP by
//     GTID for a MariaDB replica with MASTER_USE_GTID (its
//     @slave_connect_state); COM_BINLOG_DUMP_GTID for a MySQL replica with
//     SOURCE_AUTO_POSITION=1. A GTID dump's start is found by reading the
//     binlog from its oldest file (Binlog.Files) for the first transaction
//     the replica lacks; the file's leading events and, for MariaDB, a
//     made-up GTID list go first, as a real MariaDB sends them, and the
//     transactions the replica already has are left out. The replica's
//     position is checked as the real servers check it, each failure error
//     1236: a MariaDB GTID the binlog does not hold (where its oldest file
//     begins, by the last entry of the domain in that file's GTID list,
//     counts), or no position in a domain whose start is purged; a MySQL
//     replica that
//     lacks transactions of files before the oldest (its previous GTIDs),
//     or has more of this source's transactions (Options.ServerUUID) than
//     the binlog holds, which would let its ACKs cover a transaction it
//     does not have; a dump by GTID set while GTIDMode is not ON.
//
// Anything else gets a real MySQL error code, never a hang: 1047 for an
// unknown command, 1235 for a statement the server does not answer (and
// for BINLOG_DUMP_NON_BLOCK, mysqlbinlog without --stop-never), 1835 for a
// malformed command (the connection is closed), 1236 for a start the
// binlog does not hold or a replica that cannot take the binlog's
// checksums, 1227 for SET GLOBAL from the replication account, 1040 beyond
// Options.MaxConnections. The handshake has 5 s and each command before the
// dump 30 s; a packet before the dump has at most 1 MiB, a session at most
// 64 user variables of 64 KiB in all.
//
// The dump takes the connection over and streams through package dump,
// the sender the Go transport uses too: the made-up rotate (and the file's
// format description first when the replica starts after the file's first
// event), then the binlog's events, each with the semisync header and the
// session's reply flag (made-up events never ask for one), MariaDB's
// Annotate_rows only to a replica that asked for them, heartbeats at the
// replica's MASTER_HEARTBEAT_PERIOD (probing for a lost ACK when the
// session asks), an ACK reader that feeds the session, dead-peer detection
// and write deadlines. Nothing the replica sent after its dump command is
// left in a buffer at the hand-over: without TLS, go-mysql reads from a
// connection that stops at each packet's end; with TLS it reads without
// read-ahead. A dump under a server id that is still dumping closes the
// older connection, as MySQL kills a zombie dump thread.
//
// Real MariaDB 10.11 replicas replicate through it by file and position
// and by GTID, with Rpl_semi_sync_slave_status ON, survive STOP SLAVE,
// a kill -9 and a restart; go-mysql's BinlogSyncer replicates through it
// in both flavors. No MySQL server was at hand: a MySQL 8 replica's
// conversation is tested statement by statement as its source code sends
// it.
//
// Limits: with TLS, the 1 MiB bound on packets before the dump does not
// apply (go-mysql reads a TLS connection itself, and reserves the length a
// packet announces, up to 16 MiB, before authentication): bound
// MaxConnections accordingly. A GTID dump reads the binlog from its
// oldest file to find its start (a MySQL one to the end, to check the
// replica's set): keep the binlog's retention in proportion, or index it.
// Unauthenticated clients hold their connection slot for the handshake's
// 5 s at most.
//
// The events a source makes up rather than reads from its binlog, byte for
// byte as a real server sends them, with their CRC32 trailer when the
// binlog has checksums: the rotate that opens every dump
// (AppendRotate with FlagArtificial), the format description
// (AppendFormatDescription; MariaDB1011PostHeaderLens gives MariaDB
// 10.11's table), heartbeats (AppendHeartbeat), and the MariaDB events a
// binlog written by the host needs: GTID list, binlog checkpoint and GTID
// (AppendGTIDList, AppendBinlogCheckpoint, AppendMariaGTID), with the
// query and XID events of its transactions (AppendQuery, AppendXID) and
// SetLogPos for when it knows where an event goes. Their tests compare
// them with what a real MariaDB 10.11 sends, both live (the harness starts
// a server) and against captures kept in testdata, and parse them with
// go-mysql's parser. ParseGTIDState reads a MariaDB GTID position;
// ParseGTIDSet and FormatGTIDSet read and write a MySQL GTID set as
// gtid_executed shows it, and ParseGTIDSetEvent the one a previous GTIDs
// event carries.
//
// The replication commands a replica sends, decoded and encoded:
// COM_REGISTER_SLAVE (ParseRegisterReplica), COM_BINLOG_DUMP (ParseDump)
// and MySQL's COM_BINLOG_DUMP_GTID with its GTID set (ParseGTIDDump; MySQL
// 8.3's tagged sets are refused). The parsers check every length against
// the bytes that follow before they allocate, refuse anything else with
// ErrMalformedCommand, and are fuzzed: what they accept is exactly what
// the encoders make of it.
//
// A Binlog that keeps GTID checkpoints (GTIDIndex, MySQLGTIDIndex, as
// package binlogd's store does) spares a GTID dump the scan from the
// oldest file; a MySQL checkpoint's set stands for the oldest file's
// previous GTIDs. A
// host adds its own operator statements and SHOW rows with
// Options.Statement, Status and Variables (a binlog server shows both of
// its levels).
//
// Framer is MySQL's protocol for package dump: the event itself after the
// semisync header, and MariaDB's heartbeat event.
//
// # The host's duties
//
// Give the server the source and a Binlog whose events are MySQL binlog
// events ending at their positions (file and log_pos), that refuses starts
// it does not hold, knows each file's format description and lists its
// files; set Checksum when the events carry CRC32 trailers. Append, report
// (Source.Flushed) and make readable each group, in that order, as for
// package transport; tell the source where the binlog ends at startup and
// after each rotation (Source.Appended), and write a rotate event at the end
// of a file as MySQL does. Serve on a listener; Close stops accepting,
// closes every connection and waits for their goroutines (OnError must not
// block). For example:
//
//	srv, err := mysqlsource.NewServer(src, bl, mysqlsource.Options{
//		ServerID: 100, User: "repl", Password: secret, Checksum: true,
//		Admin: "admin", AdminPassword: adminSecret})
//	go srv.Serve(ln)
//	defer srv.Close()
//
// and on a MariaDB replica:
//
//	CHANGE MASTER TO MASTER_HOST='...', MASTER_PORT=..., MASTER_USER='repl',
//	  MASTER_PASSWORD='...', MASTER_USE_GTID=slave_pos;
//	START SLAVE;
//
// Program examples/mysqlsource in the interop module is a whole host: a
// binlog file of its own, a transaction every second, the CHANGE MASTER TO
// to paste into a replica.
//
// When building events, pass the Header fields as a server would set
// them: the source's server_id; Timestamp and LogPos 0 and FlagArtificial
// for the rotate that opens a dump; the last event's end as a heartbeat's
// LogPos; for a format description sent at a dump that starts after a
// file's first event, LogPos and Created 0. The event and command
// functions only append to the slice they are given and are safe for
// concurrent use.
package mysqlsource
