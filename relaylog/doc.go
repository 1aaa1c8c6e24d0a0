// Package relaylog is a replica's relay log in one file: each event a
// source sent, kept with the position in the source's binlog at which it
// ends, appended, fsynced before it is acknowledged, and recovered after a
// crash: damage to what the file proves was fsynced is refused, never cut,
// and a tail past that is cut and reported. A File implements
// replica.RelayLog, replica.Syncer and replica.Discarder, so a replica
// with replica.Synced durability acknowledges only what the file has
// fsynced. The package knows nothing of MySQL's event format: an event is
// any 1 to MaxEventLen bytes (a MySQL replica stores each event as the
// source sent it, semisync prefix removed and its own checksum kept).
//
// # Record format
//
// The file starts with five magic bytes, "SSRL" and the format version 2.
// Records follow, each a 22-byte header and a body, integers
// little-endian:
//
//	event length     u32   1 .. MaxEventLen
//	name length      u16   0 .. semisync.MaxFileNameLen
//	end offset       u64   offset in the binlog file, or the LSN
//	header CRC-32C   u32   of the 14 bytes above
//	body CRC-32C     u32   of the name and the event
//	name             the binlog file the event ends in; empty for an LSN
//	event            the event's bytes
//
// Records' ends never go backwards (several events may share one: a
// heartbeat, a source's made-up events). The header's own checksum tells a
// damaged length, which would misplace every later record, from a record
// the file merely ends inside.
//
// A sync mark is a header without a body: both lengths 0, the end offset
// field holding the mark's own offset in the file, the header CRC-32C as
// for a record, and in place of the body's checksum the bitwise NOT of the
// header's (a record's body checksum of an empty body would be 0). Sync
// appends one after each successful fsync: it says that every byte before
// it had been fsynced. An intact mark is recognised at any offset: six
// zero bytes, its own offset, and both checksums holding. (Event bytes
// that happen to form one at their own offset in the file, which a client
// of the source would have to aim at, can only turn a cut into a refusal,
// never a refusal into a cut.)
//
// # Recovery
//
// Open checks an existing file item by item, from the start. Where it
// finds the first bad one — a header cut short, a checksum that does not
// match, a length that runs past the end of the file, impossible lengths,
// an end before the previous one, a damaged sync mark — it searches the
// rest of the file for intact sync marks at any offset. P, the offset of
// the last intact mark anywhere in the file, is what the file proves was
// fsynced (Recovery.Proven).
//
//   - A bad item before P lies in bytes that were fsynced: it is damage,
//     not a torn write, and Open refuses it with a *CorruptError (which
//     wraps ErrCorrupt and gives the offset), leaving the file untouched.
//     The records after it may have been acknowledged to the source and
//     must not be thrown away by a guess.
//   - A bad item at or after P, and everything after it, lies past the
//     last fsync the file proves: whatever it is — the write a crash
//     interrupted, zeros or holes a file system left, stale bytes, junk,
//     whole records after junk — Open cuts it, fsyncs the file and
//     reports the cut in the Recovery it returns: from which byte, how
//     many bytes, why, and the end of the last record kept, where
//     replication resumes (Stats.Truncated is the same count).
//
// Open then appends a sync mark if its last record is not followed by one,
// so that what it kept counts as fsynced (it is: Open fsynced it). A file that does
// not start with the magic bytes and version 1 or 2 is ErrNotRelayLog.
// Read and Check apply the same rules without changing the file.
//
// # What a cut can and cannot mean
//
// After a crash of the process (kill -9, a panic, running out of memory)
// every byte the process wrote is in the operating system's page cache,
// including the mark of every Sync that returned. Nothing a completed Sync
// covered can then be cut: damage to it is refused. What can be cut is
// only what no Sync covered (a Flush the crash interrupted), which a
// replica with replica.Synced durability has not acknowledged.
//
// After a power failure or a crash of the operating system, the mark of
// the last Sync before it may be lost: it is written after that Sync's
// fsync and made durable only by the next one. The records of that last
// batch are fsynced but then not proven so, and if they are damaged as
// well they are cut like a torn write: the only case in which records a
// Sync covered (and a replica may have acknowledged) can be lost, and it
// is never silent. Recovery.Cut reports it, and the replica resumes from
// the shorter position, which the source takes as its new position (spec
// §7.1); the host should log the Recovery. Everything before the last
// surviving mark is either kept or refused.
//
// With replica.Flushed durability a replica acknowledges after Flush,
// before any fsync, and the file guarantees no more than that: its
// records survive a crash of the process, and a power failure may take
// any records written since the last Sync, acknowledged or not, without
// an error.
//
// # Format version 1
//
// Files of format version 1, which have no sync marks, are still read.
// Their rules are version 1's: a bad record is a torn tail when the file
// ends inside it or nothing but zero bytes follows from inside it;
// otherwise, and for impossible lengths or ends going backwards, it is
// refused. Open upgrades such a file in place (it rewrites the version
// byte and fsyncs) so that later Syncs write marks (Recovery.Upgraded).
// Read and Check never change it.
//
// # Inspecting and repairing a file
//
// Check lists a file's records and sync marks with their offsets and says
// what Open would do with it; Repair cuts exactly what Open would cut,
// without creating a file. Command relaylog (cmd/relaylog in this module)
// prints them for an operator, for relay logs and for the binlogs of
// examples/binlog alike:
//
//	go run ./cmd/relaylog check FILE
//	go run ./cmd/relaylog repair FILE
//
// check exits 0 when the file is whole and 1 when Open would cut or
// refuse something; repair refuses (exit 1, the file unchanged) damage
// before the last proven fsync.
//
// # Durability and failure
//
// Write only appends to a buffer in memory. Flush writes the buffer to the
// file: the operating system has it, and it survives a crash of the
// process (what MySQL's replica acknowledges, spec §9.2). Sync fsyncs the
// file: what was flushed survives a power failure (replica.Synced, spec
// B5); then it writes a sync mark, which reaches the page cache before
// Sync returns and so before the replica acknowledges. A Sync with nothing
// flushed since the last one does nothing. Last is the end of the last
// flushed record, Synced that of the last fsynced one; after Open both are
// the end of the last record, which Open has fsynced.
//
// A failed fsync makes the File failed: from then on Write, Flush, Sync
// and Rewind return ErrFailed (wrapped with the cause), and so does Err.
// After a failed fsync Linux may already have dropped the dirty pages and
// cleared the error, so a retried fsync can succeed while the data it
// should cover is gone; nothing written since the last good fsync can be
// trusted, and acknowledging it would be a lie. Only reopening, which reads
// and checks every record, tells what the file holds. A Flush whose write
// fails is undone (the file is cut back to its last whole record and the
// buffer kept for another try); if the cut fails too, the file is failed
// as well. A sync mark whose write fails after a good fsync is undone the
// same way and Sync returns the error without moving Synced, so nothing is
// acknowledged; the next Sync fsyncs again and writes the mark.
//
// # Rewind
//
// Rewind cuts the file back to its last fsynced record (and keeps the sync
// mark after it) and returns that record's end. A semisync source takes the position a dump starts at as
// an acknowledgement up to it (spec §7.1): a replica that resumed after a
// record it had flushed but never fsynced would acknowledge that record
// with its very first packet, although a power failure can still take it
// away. A replica with replica.Synced durability therefore resumes from
// Rewind's position, never from Last. One with replica.Flushed, MySQL's
// meaning, resumes from Last.
//
// # Usage
//
// The host's duties:
//
//  1. Open the file when the replica starts: it creates an empty file or
//     recovers an existing one. Look at the Recovery it returns: log it
//     when Recovery.Cut reports a cut (the replica resumes from a shorter
//     position). Do not delete a file Open refused with ErrCorrupt: its
//     later records may have been acknowledged; inspect it with command
//     relaylog and restore it (or the records) from another copy.
//  2. Before each connection, take the position the dump starts at from
//     Rewind (replica.Synced durability) or Last (replica.Flushed), and
//     refuse to connect while Err is not nil.
//  3. Pass the File as the stream's relay log (replica.Replica.Open); the
//     stream writes, flushes, fsyncs and discards through it.
//  4. After ErrFailed, Close the File and Open the path again before
//     resuming.
//  5. Read the records for an applier with Read. Records after Synced may
//     still be cut by a Rewind (and received again), so an applier that
//     must apply only what is durable stops at Synced.
//  6. Close the File when done; Close drops what was written but not
//     flushed.
//
// For example, with replica.Synced durability:
//
//	relay, rec, err := relaylog.Open("relay.ssrl")
//	if err != nil { ... }                 // *relaylog.CorruptError: inspect it, keep it
//	if rec.Cut() { log.Print(rec) }       // what was cut, where replication resumes
//	defer relay.Close()
//	start, err := relay.Rewind() // resume after the last fsynced record
//	if err != nil { ... }        // failed: Close, Open, try again
//	st, err := rep.Open(start, relay, acks)
//
// # Following a file as it grows
//
// File.Follow returns a Follower: a reader, with a descriptor of its own,
// that returns the file's records in order from a position on and waits
// for more, so that a source can serve replicas from a log still being
// written (package examples/binlog serves its binlog file this way). It
// returns only what an fsync covered, the records before the last sync
// mark, as a source's dump threads read a binlog only up to its last
// sync: neither a Rewind nor Open after a crash of the process takes back
// a record a Follower returned (after a power failure, only the last
// batch can be, as described above, and the cut is reported). Next reports the end of what is fsynced, and Wait
// gives a channel that the next Sync (or Close, or a failure) makes ready;
// the Follower then reads on from where it was, never from the start.
// The zero Position starts at the first record, the end of a fsynced
// record after it (at once from the last one; from an earlier one Follow
// reads the records from the start once to find it); any other position
// is refused (ErrUnknownPosition). Damage in
// fsynced bytes that a Follower meets is a *CorruptError, as for Open.
//
// # Concurrency
//
// A File's methods are safe for concurrent use: a replica drives Write,
// Flush, Sync, Discard and Rewind from its one goroutine, and others may
// read Last, Synced, Stats and Err meanwhile. Read opens the path on its
// own and may run in another goroutine or process while a File appends;
// a record still being flushed looks like a tail to it and is left out.
// When the file changes under it (a Rewind cuts what it was reading and
// other records take its place), Read resumes at the record it could not
// read. A Follower is used by one goroutine; any number of them may follow
// a File while it is written. The package starts no goroutines.
//
// Not implemented: rotation and purging (the file only grows), and repair
// of a file refused with ErrCorrupt (only an operator with another copy
// can restore fsynced records).
package relaylog
