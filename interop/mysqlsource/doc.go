// Package mysqlsource is the source side of MySQL's replication protocol
// for a semisync.Source: what real MariaDB and MySQL replicas connect to
// with CHANGE MASTER TO and START SLAVE, so that a Go host (a replication
// proxy, a binlog server, a database of its own) can be their semisync
// source.
//
// It lives in the interop module, beside mysqlreplica, so that importing
// the semisync core never pulls in a MySQL library.
//
// # What is here so far
//
// Server, a first version: go-mysql's server package does the handshake
// and checks the replication account (mysql_native_password, TLS when the
// host gives a configuration); then the server reads the commands itself.
// It answers a MariaDB replica's set-up statements as captured from a real
// MariaDB 10.11 replica (the checksum, the heartbeat period, the
// capability, the server id and clock, binlog_gtid_pos, the semisync
// probe and declaration), COM_PING and COM_REGISTER_SLAVE, and refuses
// anything else with a real MySQL error code (1047 for an unknown command,
// 1235 for a statement it does not answer, 1835 for a malformed command),
// never a hang: the handshake has 5 s and each command before the dump
// 30 s. COM_BINLOG_DUMP takes the connection over: the server registers a
// replica that declared semisync with the source, opens the host's binlog
// (a start it does not hold is error 1236, as is a replica that cannot
// take the binlog's checksums), and streams through package dump, the
// sender the Go transport uses too: the made-up rotate, the file's format
// description first when the replica starts after the file's first event,
// then the binlog's events (MariaDB's Annotate_rows only to a replica that
// asked for them), each with the semisync header and the session's reply
// flag, heartbeats at the replica's MASTER_HEARTBEAT_PERIOD, probes, an
// ACK reader. go-mysql reads the connection without read-ahead (the
// server always gives it a TLS configuration, which makes it do so), so
// nothing the replica sent after its dump command is left in a buffer at
// the hand-over. A real MariaDB 10.11 replica replicates through it with
// Rpl_semi_sync_slave_status ON, acknowledges the commits the source
// waits for, and resumes after STOP SLAVE / START SLAVE.
//
// Not yet for untrusted networks: packet lengths, session variables and
// connections are not bounded yet, and go-mysql's handshake can panic on a
// hostile response (the server recovers, per connection). Not yet: GTID dumps (MariaDB's @slave_connect_state, MySQL's
// COM_BINLOG_DUMP_GTID, which is already decoded), MySQL 8 replicas'
// set-up, operator SQL (SHOW STATUS, SET GLOBAL, SHOW REPLICAS), a second
// connection under the same server_id closing the first, connection
// limits, caching_sha2_password.
//
// The events a source makes up rather than reads from its binlog, byte for
// byte as a real server sends them, with their CRC32 trailer when the
// binlog has checksums: the rotate that opens every dump
// (AppendRotate with FlagArtificial), the format description
// (AppendFormatDescription; MariaDB1011PostHeaderLens gives MariaDB
// 10.11's table), heartbeats (AppendHeartbeat), and the MariaDB events a
// binlog written by the host needs: GTID list, binlog checkpoint and GTID
// (AppendGTIDList, AppendBinlogCheckpoint, AppendMariaGTID). Their tests
// compare them with what a real MariaDB 10.11 sends, both live (the
// harness starts a server) and against captures kept in testdata.
//
// The replication commands a replica sends, decoded and encoded:
// COM_REGISTER_SLAVE (ParseRegisterReplica), COM_BINLOG_DUMP (ParseDump)
// and MySQL's COM_BINLOG_DUMP_GTID with its GTID set (ParseGTIDDump; MySQL
// 8.3's tagged sets are refused). The parsers check every length against
// the bytes that follow before they allocate, refuse anything else with
// ErrMalformedCommand, and are fuzzed: what they accept is exactly what
// the encoders make of it.
//
// Framer is MySQL's protocol for package dump: the event itself after the
// semisync header, and MariaDB's heartbeat event.
//
// # The host's duties
//
// Give the server the source and a Binlog whose events are MySQL binlog
// events ending at their positions (file and log_pos), that refuses starts
// it does not hold and knows each file's format description; set Checksum
// when the events carry CRC32 trailers. Append, report (Source.Flushed)
// and publish each group before any replica can read it, as for package
// transport; tell the source where the binlog ends at startup
// (Source.Appended). Serve on a listener; Close stops accepting, closes
// every connection and waits for their goroutines. For example:
//
//	srv, err := mysqlsource.NewServer(src, bl, mysqlsource.Options{
//		ServerID: 100, User: "repl", Password: secret, Checksum: true})
//	go srv.Serve(ln)
//	defer srv.Close()
//
// and on a MariaDB replica:
//
//	CHANGE MASTER TO MASTER_HOST='...', MASTER_PORT=..., MASTER_USER='repl',
//	  MASTER_PASSWORD='...', MASTER_LOG_FILE='mysql-bin.000001',
//	  MASTER_LOG_POS=4, MASTER_USE_GTID=no;
//	START SLAVE;
//
// When building events, pass the Header fields as a server would set
// them: the source's server_id; Timestamp and LogPos 0 and FlagArtificial
// for the rotate that opens a dump; the last event's end as a heartbeat's
// LogPos; for a format description sent at a dump that starts after a
// file's first event, LogPos and Created 0. The event and command
// functions only append to the slice they are given and are safe for
// concurrent use.
package mysqlsource
