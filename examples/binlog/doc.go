// Package binlog holds reference binlogs and relay logs for the examples
// and tests: simple, correct implementations of the host interfaces of
// packages transport and replica. The core packages never import it.
//
// Memory is an in-memory binlog in MySQL's shape: events in numbered files
// ("binlog.000001", ...), each event's position its end offset in the file,
// the first event of a file starting at offset 4 (after the magic bytes).
// An appended event stays invisible to readers until Publish, as MySQL's
// dump threads read only up to the binlog end position updated after the
// sync: a host calls source.Flushed between the two, so the source knows a
// group before any replica can be sent it. It implements transport.Binlog.
// Relay is an in-memory relay log that implements replica.RelayLog,
// replica.Syncer and replica.Discarder.
//
// File is a binlog kept on disk, in package relaylog's file format (each
// event with its end position and checksums) and with its crash recovery.
// Append buffers, Sync writes and fsyncs (one fsync per commit group with
// package waitpoint) and shows the group to cursors, which follow the file
// as it grows (relaylog.Follower) rather than keep events in memory;
// OpenFile checks an existing file and returns what recovery cut (a
// relaylog.Recovery the host must look at: for a source, a cut means lost
// events). Command relaylog (cmd/relaylog) inspects and repairs the file.
// For a file-backed relay log use package relaylog itself.
//
// # Usage
//
// A source host tells the source where the binlog ends before serving
// replicas, and again after each Rotate (source.Appended); then it appends
// each commit group, reports it, and publishes it:
//
//	_ = src.Appended(bl.Head()) // at startup, and after bl.Rotate()
//	end := bl.Append(event)
//	_ = src.Flushed(end) // before any replica can read it
//	bl.Publish()
//	res, _ := src.Wait(ctx, end)
//
// and serves replicas with transport.NewServer(src, bl, ...). A replica host
// passes a *Relay as the relay log and resumes from Relay.Last.
//
// With a File, the host's waitpoint.Steps append in Flush and call Sync in
// Sync, which waitpoint runs after source.Flushed (examples/cluster does
// this):
//
//	func (e *engine) Flush(_ context.Context, txs [][]byte, ends []semisync.Position) (err error) {
//		for i, tx := range txs {
//			if ends[i], err = e.bl.Append(tx); err != nil {
//				e.bl.Discard() // nothing of a failed group stays behind
//				return err
//			}
//		}
//		return nil
//	}
//	func (e *engine) Sync(context.Context, semisync.Position) error {
//		return e.bl.Sync() // durable, and readable by replicas
//	}
package binlog
