// Package wire is MySQL's semisynchronous replication wire format, byte for
// byte as MySQL and MariaDB send it (spec §8), with no I/O of its own.
//
//   - Event packets. On a dump connection that negotiated semisync, the
//     payload of every packet the source sends is 0x00 (StatusOK), 0xEF
//     (Magic), a flag byte (0x01 = reply required), then the binlog event:
//     AppendEvent and DecodeEvent. Heartbeats carry the prefix too.
//   - ACK packets, replica to source on the same connection: 0xEF, the
//     position as 8 little-endian bytes, then the binlog file name without
//     terminator, at most 511 bytes: AppendAck, ParseAck and DecodeAck. The
//     source answers nothing. A 1-byte COM_QUIT on that connection is a
//     replica leaving (IsQuit), not a malformed ACK.
//   - Sequence ids. Every protocol packet carries one; around flagged events
//     both sides reset them (SeqAfterEvent, AckSeq). PacketReader and
//     AppendPacket do MySQL's framing, including payloads split at 16 MiB,
//     with a limit on what a peer can make the reader allocate.
//   - Negotiation, before the dump command. A replica probes whether the
//     source has semisync (Probes, Probe.Decide) and declares itself
//     (DeclareStatement); Negotiate runs the whole exchange over the host's
//     Querier. A source answers the probes (AnswerProbe), records the
//     session's user variables (ParseSetUserVars) and, when the dump starts,
//     checks the declaration (DeclaredSemisync).
//
// # The host's duties
//
// Run the negotiation on the very connection that will carry the dump, and
// keep its result with that connection: whether event packets carry the
// semisync prefix is a property of the connection, never of the process
// (spec §9.3). Treat a decoding error of an event packet as fatal for the
// stream (MySQL's replica stops its IO thread: "Missing magic number"), and
// a malformed ACK as something to count and ignore (MySQL's source logs it
// and keeps the connection, spec §6.3).
//
// # Usage
//
// A source writing a flagged event and a replica reading it:
//
//	payload := wire.AppendEvent(nil, true, event)
//	buf, next := wire.AppendPacket(nil, seq, payload)
//	seq = wire.SeqAfterEvent(next, true) // 1: the counters reset
//	...
//	event, reply, err := wire.DecodeEvent(payload)
//	ack, _ := wire.AppendAck(nil, semisync.FilePos("binlog.000001", end))
//	buf, _ = wire.AppendPacket(nil, wire.AckSeq, ack)
//
// Every function is safe for concurrent use; a PacketReader belongs to one
// goroutine. Decoders never panic on any input. A PacketReader's memory
// follows the bytes actually received, growing in steps of at most 64 KiB,
// never a length a peer merely announces.
package wire
