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
// The events a source makes up rather than reads from its binlog, byte for
// byte as a real server sends them, with their CRC32 trailer when the
// binlog has checksums: the rotate that opens every dump
// (AppendRotate with FlagArtificial), the format description
// (AppendFormatDescription; MariaDB1011PostHeaderLens gives MariaDB
// 10.11's table), heartbeats (AppendHeartbeat), and the MariaDB events a binlog
// written by the host needs: GTID list, binlog checkpoint and GTID
// (AppendGTIDList, AppendBinlogCheckpoint, AppendMariaGTID). Their tests
// compare them with what a real MariaDB 10.11 sends, both live (the
// harness starts a server) and against captures kept in testdata.
//
// The replication commands a replica sends, decoded and encoded:
// COM_REGISTER_SLAVE (ParseRegisterReplica), COM_BINLOG_DUMP (ParseDump)
// and MySQL's COM_BINLOG_DUMP_GTID with its GTID set (ParseGTIDDump; MySQL
// 8.3's tagged sets are refused). The
// parsers check every length against the bytes that follow before they
// allocate, refuse anything else with ErrMalformedCommand, and are fuzzed:
// what they accept is exactly what the encoders make of it.
//
// Framer is MySQL's protocol for package dump, the sender every source
// protocol shares: the event itself after the semisync header, and
// MariaDB's heartbeat event.
//
// The server itself — the handshake and accounts, the replica's setup
// statements, taking the connection over for the dump, operator SQL — is
// being built on these (the issue tracker has the plan); until then a
// real replica cannot connect.
//
// # The host's duties
//
// Pass the Header fields as the server would set them: the source's
// server_id; Timestamp and LogPos 0 and FlagArtificial for the rotate that
// opens a dump; the last event's end as a heartbeat's LogPos; for a format
// description sent at a dump that starts after a file's first event,
// LogPos and Created 0. Every function only appends to the slice it is
// given and is safe for concurrent use.
package mysqlsource
