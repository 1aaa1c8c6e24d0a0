// Package relaylog is a replica's relay log in one file: each event a
// source sent, kept with the position in the source's binlog at which it
// ends, appended, fsynced before it is acknowledged, and recovered after a
// crash to exactly the records that were whole. A File implements
// replica.RelayLog, replica.Syncer and replica.Discarder, so a replica
// with replica.Synced durability acknowledges only what the file has
// fsynced. The package knows nothing of MySQL's event format: an event is
// any 1 to MaxEventLen bytes (a MySQL replica stores each event as the
// source sent it, semisync prefix removed and its own checksum kept).
//
// # Record format
//
// The file starts with five magic bytes, "SSRL" and the format version 1.
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
// # Recovery
//
// Open checks an existing file record by record. A bad record — a header
// cut short, a checksum that does not match, a length that runs past the
// end of the file — is the write a crash interrupted when the file ends
// inside it or nothing but zero bytes follows from inside it (a file
// system may extend a file before the data reaches it). Open cuts that
// torn tail off (Stats.Truncated), fsyncs the file, and the last position
// is the end of the last whole record. A bad record followed by other data
// is damage, not a torn write: Open refuses it with ErrCorrupt and leaves
// the file untouched, since the records after it may already have been
// acknowledged to the source and must not be thrown away by a guess. A
// header whose checksum holds but whose lengths are impossible, and ends
// that go backwards, are refused the same way. A file that does not start
// with the magic bytes is ErrNotRelayLog. Read applies the same rules
// without changing the file.
//
// # Durability and failure
//
// Write only appends to a buffer in memory. Flush writes the buffer to the
// file: the operating system has it, and it survives a crash of the
// process (what MySQL's replica acknowledges, spec §9.2). Sync fsyncs the
// file: what was flushed survives a power failure (replica.Synced, spec
// B5). Last is the end of the last flushed record, Synced that of the last
// fsynced one; after Open both are the end of the file, which Open has
// fsynced.
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
// as well.
//
// # Rewind
//
// Rewind cuts the file back to its last fsynced record and returns that
// record's end. A semisync source takes the position a dump starts at as
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
//     recovers an existing one. Do not delete a file Open refused with
//     ErrCorrupt: it needs repair, and its later records may have been
//     acknowledged.
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
//	relay, err := relaylog.Open("relay.ssrl")
//	if err != nil { ... }
//	defer relay.Close()
//	start, err := relay.Rewind() // resume after the last fsynced record
//	if err != nil { ... }        // failed: Close, Open, try again
//	st, err := rep.Open(start, relay, acks)
//
// # Concurrency
//
// A File's methods are safe for concurrent use: a replica drives Write,
// Flush, Sync, Discard and Rewind from its one goroutine, and others may
// read Last, Synced, Stats and Err meanwhile. Read opens the path on its
// own and may run in another goroutine or process while a File appends;
// a record still being flushed looks torn to it and is left out. The
// package starts no goroutines.
//
// Not implemented: rotation and purging (the file only grows), and repair
// of a file refused with ErrCorrupt. After a power failure, a tail written
// after the last fsync may come back with holes; Open refuses such a file
// rather than guess.
package relaylog
