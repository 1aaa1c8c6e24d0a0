// Package ackset is the quorum math of semisynchronous replication: given
// the position each connected replica has acknowledged, it answers "what is
// the highest position acknowledged by the required quorum?". Every commit
// waiting at or before that position may be released.
//
// It is pure bookkeeping, like etcd's quorum package: no locks, no clock, no
// I/O, no goroutines. A [Set] is owned by one source, which serialises the
// calls (MySQL does this under LOCK_binlog_, spec §3). In steady state an
// acknowledgement allocates nothing.
//
// # Policies
//
//   - [Count] N: MySQL's rpl_semi_sync_source_wait_for_replica_count, any N
//     distinct connected replicas (spec §6.2).
//   - [AnyOf] N of a named set: PostgreSQL's ANY N (names).
//   - [FirstOf] N of a priority list: PostgreSQL's FIRST N (names); the N
//     highest-priority connected members must all acknowledge.
//   - [Spread] N spanning K groups: N acknowledging replicas covering at
//     least K distinct groups (zones), like MongoDB's tag-set write concerns.
//
// [Set.SetPolicy] changes the policy at runtime; a looser one may release
// positions at once, and the returned [Update] says so.
//
// # Acknowledgements
//
// [Set.Connect] starts a replica's session at the position it announces,
// which counts as an acknowledgement (spec §7.1). [Set.Ack] moves the
// replica forward; duplicate, stale and unknown-replica acknowledgements are
// classified ([AckResult]) and change nothing. [Set.Disconnect] ends the
// session: a disconnected replica's old acknowledgements no longer count
// towards later positions. The quorum position never moves backwards, except
// through [Set.Reset] (RESET MASTER).
//
// # Differences from MySQL
//
// MySQL's AckContainer (wait_for_replica_count > 1) keeps N-1 slots and,
// looking for the smallest slot below a new ACK, takes the last one by index
// instead: with N >= 3 it can release a position fewer than N replicas hold
// (mysql-server PR #509). Here the N-th highest position is found exactly.
// MySQL also keeps a departed replica's slot until it is cleared; here only
// connected replicas count, which never acknowledges more than MySQL would
// for a position that N connected replicas hold.
//
// # Usage
//
//	set, err := ackset.New(ackset.Count(2))
//	...
//	set.Connect(id, startPos)       // when a semisync replica's dump starts
//	u := set.Ack(id, pos)           // for every ACK packet
//	if u.Advanced {
//		releaseWaitersUpTo(u.Quorum)
//	}
//	set.Disconnect(id)              // when its connection ends
package ackset
