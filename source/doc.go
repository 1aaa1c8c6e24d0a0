// Package source is the source (primary) side of semisynchronous
// replication: the logic of MySQL's rpl_semi_sync_source plugin as a Go
// value that a host drives. It decides; the host moves bytes. It holds
//
//   - the state machine: enabled (rpl_semi_sync_source_enabled) versus
//     status ON/OFF (Rpl_semi_sync_source_status), every switch-off and
//     switch-on trigger of MySQL 8.0 (spec §4);
//   - the commit waiters: a commit blocks in Source.Wait until a quorum of
//     replicas acknowledges its position, its deadline passes (and the source
//     falls back to asynchronous mode), the source switches off, or its
//     context ends — and Wait says which (Outcome);
//   - the replica sessions: per event, whether to set the reply-required
//     flag (MySQL's updateSyncHeader), and the acknowledgements;
//   - every status counter of spec §2 (package status), kept as MySQL keeps
//     them, plus a wait-latency histogram, a per-replica ledger and
//     switch-offs by reason;
//   - events for an Observer, and the un-acknowledged tail for crash
//     recovery.
//
// # The host's duties, step by step
//
//  1. Create the source with New, giving it the host's vars.Registry (or let
//     it create one), and Close it at shutdown. Route SET GLOBAL statements to
//     the registry: the source follows the changes.
//  2. Before serving any replica, call Source.Appended with the end of the
//     binlog already on disk (its first position, such as binlog.000001:4,
//     if it is new); after each rotation, call it with the new file's first
//     position (and its end after the file's header events); after
//     ResetMaster, with the new binlog's first position. Call it in binlog
//     order with Flushed, under the binlog lock. Register refuses a start
//     position after that end (ErrStartBeyondEnd, MySQL's error 1236),
//     because a start counts as an acknowledgement; until the host reports
//     an end, only replicas starting from the zero Position are accepted.
//     The source knows only the newest end: the host's binlog must itself
//     refuse a start it does not hold, such as one inside an older file
//     beyond that file's end or inside an event (transport.Binlog.Open
//     does).
//  3. When a replica's dump request arrives on a connection that declared
//     itself semisync (wire package), call Source.Register with its server
//     ID and start position, whether or not the source is enabled. Close the
//     Session when the connection ends, for whatever reason.
//  4. For every event sent on that connection, in order, ask
//     Session.ReplyRequired(eventEnd) and put the answer in the event's
//     semisync header. Hand every well-formed ACK packet to Session.Ack.
//     Report events the replica is not sent because it does not need them
//     with Session.Skipped. When a heartbeat is due, ask Session.SolicitAck
//     and, if it says so, flag the heartbeat.
//  5. For every commit group, after writing it to the binlog and before the
//     replicas can see it, call Source.Flushed with the group's end position
//     (MySQL's after_flush), in binlog order.
//  6. At the wait point (package waitpoint runs this order for you), call
//     Source.Wait with the transaction's (or group's) end position and the
//     committing session's context. The commit has happened locally
//     whatever the outcome; tell the client what your policy says.
//  7. On RESET MASTER call Source.ResetMaster, then Source.Appended with
//     the new binlog's first position. When demoting or shutting down, read
//     Source.Unacknowledged to learn which transactions no quorum may hold,
//     including acknowledged ones put at risk by a replica that came back
//     without them (Tail.AtRisk).
//
// # Concurrency and cost
//
// Every method is safe for concurrent use. The source keeps one mutex; the
// already-acknowledged case of Wait takes no lock at all (under 10 ns, most
// of it the yes_tx counter). A blocked wait allocates nothing: waiters are pooled, kept
// in position order, and each is woken by its own one-slot channel, only
// when its outcome is known — never a broadcast to every waiter. Timeouts
// use one timer, armed for the earliest deadline and re-armed lazily, not a
// timer per wait. The source starts one goroutine for that timer and, with
// an Observer, one that delivers events; Close stops both.
//
// # Time as an input
//
// With Options.Clock the host owns time, as etcd's raft lets its host:
// the source reads the host's clock, starts no timer goroutine, and
// expires waits when the host calls Tick (NextDeadline says when one is
// due). WaitFunc begins a wait without blocking a goroutine and delivers
// its Result once, from the call that releases it. Together they let one
// goroutine drive a whole cluster deterministically (package
// semisynctest does). Waits are measured on the source's clock: one that
// goes backwards is counted in timefunc_failures, as MySQL counts a
// failed clock read, and not as a wait time.
//
// # Semantics
//
// The behaviour is MySQL 8.0's (spec §3–§7) in every flavor; the flavor
// only names the variables and counters, and MariaDB counts no_times on real
// ON→OFF transitions only. In particular:
//
//   - Register counts the start position as an acknowledgement; a caught-up
//     replica that reconnects releases commits and switches the source ON.
//     So a start after the binlog's end is refused (see below).
//   - A wait's deadline is computed once, when the wait begins
//     (rpl_semi_sync_source_timeout later); a timeout change applies to waits
//     that begin afterwards. The first wait to time out switches the source
//     OFF, which releases every other waiter (SwitchedOff, reason timeout).
//   - While OFF, commits return at once (Async) and the source keeps asking
//     replicas to acknowledge events at or after the newest write; when the
//     replicas connected now — under the quorum policy, so N of them with
//     wait_for_replica_count N (MDEV-37116) — acknowledge the newest write,
//     the source switches ON (catch-up).
//   - Setting wait_no_replica OFF→ON forces status ON without any check.
//     Enabling sets status ON when wait_no_replica is ON or the connected
//     replicas can satisfy the policy. Disabling switches off and releases
//     every waiter.
//   - Changing wait_for_replica_count re-evaluates the quorum at once, which
//     may release waiting commits.
//   - yes_tx, no_tx, tx_waits, tx_wait_time, wait_sessions,
//     wait_pos_backtraverse, net_waits, no_times, clients follow spec §2 and
//     §5.2 step by step.
//
// # Where this differs from MySQL, and why
//
//   - Replica loss. MySQL's documentation says that with wait_no_replica
//     OFF, status goes OFF as soon as the number of semisync replicas falls
//     below the wait count; its code checks clients == wait_count − 1 on a
//     disconnect only (so raising the wait count, or skipping past that
//     value, never switches off: spec §4.4, B22). Here the documented rule
//     holds as an invariant: whenever a replica leaves, the wait count or
//     policy changes, or wait_no_replica goes OFF, the source switches OFF
//     if the connected replicas cannot satisfy the policy. For the same
//     reason a catch-up never switches ON while they cannot.
//   - Precise release. MySQL wakes a waiter when an ACK reaches the end of
//     the waiter's group; an ACK in the middle of a group (a dump start
//     position, a skipped event) leaves it waiting. Here a waiter is
//     released as soon as the quorum position reaches its own position.
//   - Acknowledged stays acknowledged. MySQL forgets the acknowledged
//     position (reply_pos) when it switches off or is disabled; here the
//     quorum position is kept until ResetMaster, so a commit a quorum
//     already holds is never made to wait again.
//   - Skipped events count as acknowledged whether or not MySQL would have
//     flagged them (MDEV-38486), once the replica has acknowledged every
//     event it was sent with the flag (MySQL does not wait for that). Events
//     sent without the flag are, as in MySQL, taken as received once a
//     later acknowledgement covers them.
//   - Which commits wait. MySQL waits for a transaction if any group end
//     written while ON lies at or after its position (spec §5.2 step 1), so
//     a transaction written while OFF can wait after a forced switch-on.
//     Here a commit waits only if it was itself written while ON; the
//     others return Async (no_tx), as they would in MySQL had no later group
//     been written.
//   - RESET MASTER releases the commits still waiting (Outcome Reset), whose
//     old positions mean nothing in the new binlog; MySQL lets them wait on.
//   - The N-of-M quorum is exact (mysql-server PR #509; see package ackset),
//     and a disconnected replica's old acknowledgements stop counting.
//   - Cancellation. MySQL 8.0 does not abort a commit wait on KILL (B21);
//     here the context ends the wait (Cancelled, counted as no_tx, not in
//     tx_waits). Commit order is unaffected: the transaction is committed.
//   - Concurrent timeouts. When several waits reach their deadlines at the
//     same moment, each reports TimedOut and counts in wait_timeouts, but
//     the source switches off once (MySQL's count depends on thread
//     scheduling).
//   - The active list. MySQL 8.0 keeps its list of un-acknowledged group ends
//     across a switch-off; here, as in MySQL 5.5 and MariaDB, a switch-off
//     clears it, so after a forced switch-on (wait_no_replica OFF→ON) the
//     groups written before the switch-off are not flagged again; a later
//     flagged event or SolicitAck covers them. Which transactions were
//     written while ON is remembered for the last 64 ON stretches; a commit
//     from an older one that has still not waited is treated as written
//     while asynchronous.
//   - A binlog write out of order is rejected (ErrOutOfOrder) whether or not
//     the source is enabled.
//   - Fail-closed. Options.FailClosed never falls back: no timeouts, no
//     replica-loss switch-off; commits wait for a quorum or their context.
//   - Start positions are checked here too. MySQL's dump thread refuses a
//     start beyond the binlog file's size (error 1236) before semisync sees
//     it; here Register also refuses one after the end the host reported
//     (Flushed, Appended), typed (ErrStartBeyondEnd), counted
//     (starts_refused) and reported (EventStartRefused), so a peer that
//     guesses an offset cannot acknowledge commits it was never sent.
//   - Replicas that lost acknowledged events are reported. MySQL takes a
//     reconnecting replica's start as its acknowledgement whatever it is; a
//     replica that comes back below what it acknowledged (its relay log cut
//     by a power failure, relay_log_recovery, a restored backup) goes
//     unnoticed. Here the source remembers, per replica ID and across
//     sessions until ResetMaster, the highest position each acknowledged,
//     and such a registration is reported: EventReplicaRegressed, the
//     replica_regressions counter, the replica's ledger row, and, for what
//     a quorum had acknowledged, Tail.AtRisk in Unacknowledged until the
//     replicas connected now acknowledge it again. The replica is
//     registered as usual, and the quorum position does not move back:
//     released commits are not made to wait again.
//
// The package depends on ackset (quorum math), status (counters) and vars
// (variables); it does no I/O.
package source
