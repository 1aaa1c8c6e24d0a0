// Package waitpoint is the commit order of a semisync source as code:
//
//	flush → Flushed → sync → [wait if AFTER_SYNC] → engine commit → [wait if AFTER_COMMIT] → return
//
// with group commit. A host gives a Pipeline its binlog and storage engine
// (Steps) and a source (package source); every committing session calls
// Pipeline.Commit, and the pipeline runs the host's steps around the
// source's wait in MySQL's order, so that a host cannot get the order
// wrong. It is MySQL's ordered_commit (spec §5.1) reduced to what semisync
// needs.
//
// # Usage
//
// The host's duties, step by step:
//
//  1. Create the source (source.New) and, around it, one Pipeline with
//     New, giving it the host's Steps. T is whatever the host calls a
//     transaction.
//  2. Implement Steps. Flush appends a group of transactions to the binlog
//     and returns each one's end position; Sync makes the binlog durable (or
//     not, as MySQL with sync_binlog != 1, spec §11 B4) and is where the
//     host lets its binlog senders read the group; Commit makes the group
//     visible in the storage engine. Nothing of a transaction may be
//     visible to other sessions, nor readable by replicas, before the step
//     that says so: the pipeline reports the group to the source
//     (Source.Flushed, MySQL's after_flush) between Flush and Sync, and the
//     source must know a group before a replica can acknowledge it.
//  3. When a client commits, prepare the transaction in the engine, then
//     call Commit with the session's context and a T that carries all the
//     steps need: they may run on another session's goroutine, the group's
//     leader. The steps must not wait for anything a session holds while it
//     is in Commit (a lock it took before calling it, say), or the group
//     deadlocks.
//  4. Read the error: nil means committed, a *StepError says at which stage
//     the commit stopped (StageQueue, StageFlush: nothing was written, roll
//     back; later stages: the group is in the binlog), any other error is
//     the wait's (committed; the context ended, or the source closed). Result.Wait.Outcome says whether a quorum of replicas
//     holds the transaction; tell the client what your policy says. MySQL
//     says success whatever happened (spec §4.5).
//  5. Change the wait point with SET GLOBAL rpl_semi_sync_source_wait_point
//     through the source's registry (vars). A change applies to the commits
//     that call Commit after it (see "Wait point changes").
//  6. To shut down, stop calling Commit and let the running calls return;
//     close the source last. The pipeline has nothing to close.
//
// # Group commit
//
// Commits form groups as in MySQL's ordered commit. A commit joins a queue.
// Whenever the flush stage is free (at once if it is; otherwise when the
// group in it moves on) every commit queued at that moment, up to
// Options.MaxGroup, forms the next group and enters the flush stage. The
// group's first commit is its leader; the others are followers, which block
// until the leader hands them their result. So while one group is in the
// flush stage the next one gathers, and a busy pipeline forms larger groups
// by itself.
//
// The leader, on its own goroutine, runs the group: Flush (all of the
// group's transactions), Source.Flushed (once, with the group's end),
// Sync (once, to the group's end); then, holding the commit stage,
// [AFTER_SYNC: one Source.Wait for the group's end, with the leader's
// context], Commit (all of them, in order). Under AFTER_COMMIT each member
// then waits for its own end position with its own context.
//
// The two stages are held hand over hand: the leader takes the commit stage
// before it leaves the flush stage. So while group k waits for its
// acknowledgement under AFTER_SYNC, group k+1 can be flushed, reported and
// synced (and its acknowledgement can arrive meanwhile), but it cannot be
// committed before group k: engine commits stay in binlog order. As in
// MySQL, AFTER_SYNC stalls every later group's engine commit behind the
// acknowledgement of the group before it (spec §5.1).
//
// # AFTER_SYNC and AFTER_COMMIT
//
// Under AFTER_SYNC (MySQL's default, "lossless"), the group waits after the
// binlog is synced and before the engine commit: no other session can read
// a transaction before a quorum of replicas has it, so a failover to one
// of them loses nothing anyone has seen. The cost is that the commit stage
// is held during the wait. One wait serves the whole group, for its end
// position, because MySQL calls its after_sync hook once per group with the
// last position (spec §5.1(2)): each member's Result.Wait is the group's,
// and yes_tx/no_tx count once per group, as in MySQL. A group of one waits
// with its member's context. A larger group waits as MySQL does, without a
// context: it ends with an acknowledgement, the timeout or a switch-off
// (disable, Close), never because one member's context ended, since that
// would commit every other member's transaction without its ACK. Under
// Options.FailClosed of package source, only an acknowledgement, disabling
// or closing the source ends such a wait. No member can abandon the wait:
// the engine commit of the group, and of every group after it, must happen
// in order. A transaction that is in the binlog but not acknowledged when the
// source crashes is committed by the host's crash recovery without any
// replica having it (spec §11 B2): see source.Source.Unacknowledged.
//
// Under AFTER_COMMIT (MariaDB's default), the engine commits first and
// each transaction then waits for its own end position, as MySQL's
// after_commit hook does per transaction (spec §5.1(3)), with its own
// context. Other sessions can read the transaction before any replica has
// it: after a failover they may find that data they read is gone (a
// "phantom read", spec §11 B3), and up to one transaction per concurrent
// committer may be missing on the new source. Only the committing client is
// delayed.
//
// Whatever the outcome of the wait (acknowledged, timed out, asynchronous,
// cancelled), the transaction is committed locally: semisync never rolls a
// transaction back.
//
// # Wait point changes
//
// The wait point is read from the source (Source.WaitPoint) once per group,
// by its leader, after the group is formed and before anything of it is
// written. A commit that calls Commit after a change has been made (the SET
// statement has returned) therefore uses the new wait point; commits
// already queued or in a group at that moment may use either. A group
// waits exactly once, at one point.
//
// # Differences from MySQL
//
//   - MySQL reads the wait point at each hook, so a change between a
//     transaction's after_sync and after_commit can make it wait twice or
//     not at all; here it is read once per group.
//   - MySQL's stages are queues: a flush group that finds the sync or
//     commit stage busy joins the group already waiting there, so several
//     flush groups can share one fsync and one after_sync wait. Here a group
//     keeps its members from flush to commit (one Flush, one Sync, one wait,
//     one Commit); a synced group waits for the commit stage holding the
//     flush stage, while the next group gathers in the queue.
//   - A commit whose context ends while it is queued leaves the queue
//     without being written, and one whose context ends during its wait
//     stops waiting (package source); MySQL 8.0 does not end a commit wait
//     on KILL (spec §11 B21).
//
// # Errors
//
// A step's error stops the group at that stage, and every member gets the
// same *StepError: after a Flush error nothing was written; after a
// Flushed, Sync or Commit error the group is in the binlog but its engine
// commit did not happen (or failed), and the host must repair its binlog or
// stop, as MySQL does on a binlog error (binlog_error_action). Flushed's
// source.ErrOutOfOrder (the binlog went backwards) is a host bug and stops
// the group; source.ErrClosed does not: a closed source holds nothing back,
// the group commits, and its wait reports ErrClosed. A commit whose context
// ends while it is still queued leaves the queue (StageQueue); once its
// group is formed it cannot leave. Every caller gets exactly one result,
// and a failed group releases both stages, so later groups carry on.
//
// # Concurrency and cost
//
// A Pipeline is safe for concurrent use and owns no goroutine: a group's
// leader is one of the callers, and the steps run on its goroutine. There
// is nothing to close; a Pipeline that no one calls is idle. The queue and
// the two stages share one mutex, held only to change who is where, never
// while a step or the source runs; a stage is handed from leader to leader
// directly. A commit allocates nothing in steady state: queue entries are
// pooled, and each waiting commit is woken by its own one-slot channel,
// never by a broadcast.
package waitpoint
