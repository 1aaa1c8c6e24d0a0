// Package status stores and renders the counters of semisynchronous
// replication: every status variable MySQL and MariaDB show for semisync
// (spec §2), in each naming flavor, as typed, consistent snapshots; plus
// what neither server offers — a commit-wait latency histogram, switch-off
// counts by reason, and a per-replica acknowledgement ledger with lag.
//
// This package only counts. The source and replica packages decide when
// each counter changes; the comment on each [Counter] constant says exactly
// when MySQL changes it and in which unit, and they follow those rules.
//
// # Counter model
//
// A [Source] (one per source instance, never global) holds the source-side
// counters as atomics. Any goroutine may record at any time without
// allocating: [Source.Add] for one counter is a single atomic operation that
// never waits; [Source.Update] groups several counters that belong together
// (TxWaits and TxWaitTime in [Source.RecordTxWait], the status flag with
// NoTimes in [Source.SwitchOff]) under the shared side of a reader/writer
// lock, so grouped updates never wait for each other. [Source.Snapshot]
// takes the exclusive side for the moment it copies, so every group is
// either entirely in a [SourceSnapshot] or entirely absent, and a snapshot
// always finishes however busy the recorders are (a waiting exclusive
// locker goes ahead of new shared ones). [Source.ResetMaster] does the same,
// so it never lands inside a group. Grouped updates wait only while a
// snapshot or reset is pending or copying; they must stay short and never
// block. The histogram and the ledger are lock-free.
//
// Gauges (Clients, WaitSessions) never go below zero. As in MySQL this
// matters because RESET MASTER ([Source.ResetMaster]) may zero wait_sessions
// while sessions still wait; each of them decrements it later.
//
// [Replica] does the same for the replica side. [Histogram] and [Ledger] are
// separate, each lock-free for its writers; their snapshots are consistent
// on their own but are not part of the counters' cut.
//
// # Host duties
//
//  1. Create one [Source] per source instance and one [Replica] per replica
//     side (a multi-source host may keep one per channel); do not copy them
//     after use.
//  2. Let the source and replica packages record; a host normally only
//     reads.
//  3. Read with Snapshot (or SnapshotInto, which reuses memory) from any
//     goroutine, as often as you like; render with [Show] or
//     [SourceSnapshot.Rows], or export the typed fields.
//  4. For the ledger, serialise the writers of each replica's entry (Join,
//     Leave, RecordAck) and the calls to SetHead; see [Ledger].
//
// The package starts no goroutines and reads no clock: times are passed in.
//
// # Status variables
//
// Source side. MySQL 8.0.26+ (FlavorMySQL) names them Rpl_semi_sync_source_*;
// the old plugins (FlavorMySQLLegacy) and MariaDB (FlavorMariaDB) name them
// Rpl_semi_sync_master_*. Times are in microseconds.
//
//	suffix                 flavors        meaning
//	clients                all            connected semisync replicas (gauge)
//	get_ack                MariaDB        ACK packets received
//	net_avg_wait_time      all            net_wait_time / net_waits; 0 since 5.7
//	net_wait_time          all            dump-thread ACK read time; 0 since 5.7
//	net_waits              all            events sent with the reply-required flag
//	no_times               all            switch-offs to asynchronous mode
//	no_tx                  all            commits not acknowledged by a replica
//	request_ack            MariaDB        transactions added to the wait list while ON
//	status                 all            ON while semisynchronous, else OFF
//	timefunc_failures      all            wakeups with a negative elapsed time
//	tx_avg_wait_time       all            tx_wait_time / tx_waits, truncated
//	tx_wait_time           all            total wait time of successful wakeups
//	tx_waits               all            successful wakeups of commit waits
//	wait_pos_backtraverse  all            waiters arriving for a position ≤ the
//	                                      smallest one already waited for
//	wait_sessions          all            sessions waiting right now (gauge)
//	yes_tx                 all            commits acknowledged by a replica
//
// Replica side: Rpl_semi_sync_replica_status (FlavorMySQL) or
// Rpl_semi_sync_slave_status (the others) — ON while the receiver thread runs
// with semisync — and, in MariaDB only, Rpl_semi_sync_slave_send_ack, the ACKs
// sent since the receiver thread started.
//
// MySQL also counts commit-wait timeouts without showing them; they are
// [SourceSnapshot.WaitTimeouts] here and appear in no SHOW output.
//
// # Beyond MySQL
//
//   - [Source.WaitLatency], a [Histogram] of commit-wait durations with
//     log-scale buckets (8 per power of two, from 1 ns to about 73 minutes),
//     p50/p90/p99/max from a snapshot, and bucket bounds for exporters.
//   - [SourceSnapshot.SwitchOffs], switch-offs by [SwitchOffReason].
//   - [Source.Replicas], a [Ledger] of each replica's last acknowledged
//     position, ACK counts, last ACK time and lag behind the newest write,
//     and how often (and, for the latest time, from where to where) the
//     replica came back below what it had acknowledged
//     ([LedgerEntry.RecordRegression]).
//   - [SourceSnapshot.StartsRefused], registrations refused because the
//     start position lay beyond the binlog's end (MySQL's error 1236), and
//     [SourceSnapshot.ReplicaRegressions], replicas that came back below
//     what they had acknowledged. Like WaitTimeouts they appear in no SHOW
//     output and RESET MASTER does not zero them.
//   - [ReplicaStatusSnapshot.AckSendFailures] on the replica side.
//
// # Usage
//
// Recording, on the source side:
//
//	var st status.Source
//	st.Add(status.Clients, 1)                 // a semisync dump session starts
//	st.Add(status.WaitSessions, 1)            // before the timed wait
//	st.Add(status.WaitSessions, -1)           // after it
//	st.RecordTxWait(time.Since(waitStart))    // tx_waits and tx_wait_time together
//	st.Add(status.YesTx, 1)                   // at the end of the commit wait
//	st.WaitLatency.Record(time.Since(waitStart))
//	st.SwitchOff(status.ReasonTimeout)        // status OFF, no_times +1
//
// Reading, on the host side:
//
//	snap := st.Snapshot()
//	rows := status.Show(semisync.FlavorMySQL, "Rpl_semi_sync%", &snap, nil)
//	_ = semisync.WriteTable(os.Stdout, rows)
//	fmt.Println(snap.WaitLatency.P99(), snap.SwitchOffs[status.ReasonTimeout])
package status
