package transport_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/examples/binlog"
	"github.com/semisync-go/semisync/replica"
	"github.com/semisync-go/semisync/source"
	"github.com/semisync-go/semisync/status"
	"github.com/semisync-go/semisync/transport"
	"github.com/semisync-go/semisync/wire"
)

// rows turns SHOW STATUS rows into a map by name.
func rows(rs []semisync.Row) map[string]string {
	m := make(map[string]string, len(rs))
	for _, r := range rs {
		m[r.Name] = r.Value
	}
	return m
}

// TestStreamAcknowledgesEveryCommit: one semisync replica, 200 commits, each
// acknowledged; the relay log holds every event with its bytes and end
// position; the counters agree on both sides (MariaDB names).
func TestStreamAcknowledgesEveryCommit(t *testing.T) {
	forEachNet(t, func(t *testing.T, nw *network) {
		const n = 200
		f := semisync.FlavorMariaDB
		r := newRig(t, nw, rigConfig{flavor: f})
		rep := newReplica(t, f, true)
		relay := newRelayLog()
		run := r.startReplica(t, 2, rep, relay, r.bl.Head())
		r.events.take(t, "replica 2 joined", eventKind(source.EventReplicaJoined, 2))

		for i := range n {
			_, res := commit(t, r, eventData(i))
			require.Equal(t, source.Acknowledged, res.Outcome, "commit %d", i)
		}
		r.requireRelayHolds(t, relay)

		st := rows(r.src.Show("Rpl_semi_sync_master_%"))
		require.Equal(t, "200", st["Rpl_semi_sync_master_yes_tx"])
		require.Equal(t, "0", st["Rpl_semi_sync_master_no_tx"])
		require.Equal(t, "ON", st["Rpl_semi_sync_master_status"])
		require.Equal(t, "1", st["Rpl_semi_sync_master_clients"])
		rst := rep.Status()
		require.True(t, rst.Status)
		require.Equal(t, "ON", rows(rep.Show("Rpl_semi_sync_slave_status"))["Rpl_semi_sync_slave_status"])
		// Events that arrive together are acknowledged with one ACK.
		require.Positive(t, rst.SendAck)
		require.LessOrEqual(t, rst.SendAck, uint64(n))

		// The COM_QUIT follows every ACK on the connection, so once the
		// server has seen the replica go it has handled all of them.
		exit := run.stop(t)
		require.ErrorIs(t, exit.err, context.Canceled)
		require.True(t, exit.res.Semisync)
		require.Equal(t, relay.Last(), exit.res.Durable)
		end := r.ended.take(t, "the connection's end", nil)
		require.Equal(t, connEnd{2, nil}, end)
		sst := r.srv.Stats()
		require.Equal(t, exit.res.Stats.AcksSent, sst.Acks)
		require.Equal(t, r.src.Snapshot().GetAck, sst.Acks)
		require.Equal(t, rows(r.src.Show("Rpl_semi_sync_master_get_ack"))["Rpl_semi_sync_master_get_ack"],
			rows(rep.Show("Rpl_semi_sync_slave_send_ack"))["Rpl_semi_sync_slave_send_ack"])
		require.Equal(t, transport.ServerStats{Connections: 1, Semisync: 1, Acks: sst.Acks, Quits: 1,
			Heartbeats: sst.Heartbeats, Probes: sst.Probes}, sst)
	})
}

// TestLargeEvents: events around the 16 MiB protocol packet limit travel
// split into several packets and arrive whole.
func TestLargeEvents(t *testing.T) {
	forEachNet(t, func(t *testing.T, nw *network) {
		r := newRig(t, nw, rigConfig{})
		relay := newRelayLog()
		// This test is about framing, not liveness: the replica waits
		// failAfter for a byte rather than its default three heartbeat
		// periods, which a loaded machine (moving 16 MiB events under
		// -race) can overrun between the end of an event and the
		// heartbeat the source sends up to two periods later.
		run := replicate(t, r.dial(t), transport.ReplicaConfig{Replica: newReplica(t, semisync.FlavorMySQL, true),
			ID: 2, Start: r.bl.Head(), RelayLog: relay, PeerTimeout: failAfter})
		// A packet's payload is the semisync prefix, the envelope and the
		// event: the first size fills one packet to the last byte below
		// the limit, the second exactly reaches it (a full packet and an
		// empty one), the third needs two.
		overhead := wire.EventHeaderLen + 1 + 8 + 2 + len(r.bl.Head().File())
		for _, size := range []int{1, wire.MaxPacketLen - overhead - 1, wire.MaxPacketLen - overhead, wire.MaxPacketLen + 100} {
			data := make([]byte, size)
			for i := range data {
				data[i] = byte(i * 7)
			}
			end, err := r.write(data)
			require.NoError(t, err)
			res, err := waitBounded(r.src, end)
			if err != nil || res.Outcome != source.Acknowledged {
				// Say why: a commit fails here when the replica's
				// connection ended.
				select {
				case e := <-run.done:
					run.exit = &e
					t.Fatalf("event of %d bytes: %v (%v); the replica's connection ended: %v", size, res, err, e.err)
				default:
					t.Fatalf("event of %d bytes: %v (%v)", size, res, err)
				}
			}
		}
		r.requireRelayHolds(t, relay)
	})
}

// TestReplicaStopsAcking: a replica whose relay log stops flushing makes
// the next commit time out and the source switch off; commits return at
// once while it is off; once the relay log flushes again, the replica
// catches up and the source switches back on by itself (spec §4.5).
func TestReplicaStopsAcking(t *testing.T) {
	forEachNet(t, func(t *testing.T, nw *network) {
		r := newRig(t, nw, rigConfig{})
		relay := newRelayLog()
		r.startReplica(t, 2, newReplica(t, semisync.FlavorMySQL, true), relay, r.bl.Head())
		_, res := commit(t, r, eventData(0))
		require.Equal(t, source.Acknowledged, res.Outcome)

		relay.hold()
		r.setTimeout(t, 200*time.Millisecond)
		_, res = commit(t, r, eventData(1))
		require.Equal(t, source.TimedOut, res.Outcome)
		require.Equal(t, status.ReasonTimeout, res.Reason)
		off := r.events.take(t, "the switch-off", eventKind(source.EventSwitchedOff, 0))
		require.Equal(t, status.ReasonTimeout, off.Reason)

		r.setTimeout(t, longTimeout)
		for i := 2; i < 5; i++ {
			_, res = commit(t, r, eventData(i))
			require.Equal(t, source.Async, res.Outcome, "commit %d while off", i)
		}
		relay.release()
		on := r.events.take(t, "the switch-on", eventKind(source.EventSwitchedOn, 0))
		require.Equal(t, source.TriggerCatchUp, on.Trigger)
		for i := 5; i < 8; i++ {
			_, res = commit(t, r, eventData(i))
			require.Equal(t, source.Acknowledged, res.Outcome, "commit %d after the catch-up", i)
		}
		r.requireRelayHolds(t, relay)
		snap := r.src.Snapshot()
		require.Equal(t, uint64(4), snap.YesTx)
		require.Equal(t, uint64(4), snap.NoTx)
	})
}

// TestReplicaKilledMidStream: a replica whose connection dies while
// commits flow is counted out (with wait_no_replica OFF the source
// switches off); reconnecting from the relay log's last position loses
// and doubles nothing, and the source switches back on.
func TestReplicaKilledMidStream(t *testing.T) {
	forEachNet(t, func(t *testing.T, nw *network) {
		const n, killAt = 150, 50
		// The source reports a wait blocked for a millisecond (fake time
		// over net.Pipe): how the test sees commit killAt-1 waiting.
		r := newRig(t, nw, rigConfig{set: []string{"rpl_semi_sync_source_wait_no_replica = OFF"}, stall: time.Millisecond})
		rep := newReplica(t, semisync.FlavorMySQL, true)
		relay := newRelayLog()
		conn := r.dial(t)
		// The replica's own goroutine closes its connection abruptly right
		// after the relay log has made killAt events durable, before the
		// stream could acknowledge them; but only once the test has seen
		// the last of them, commit killAt-1, waiting in Wait. Otherwise
		// that commit may reach Wait only after the switch-off (Async) or
		// even after the reconnected replica caught up (Acknowledged).
		reached, kill := make(chan struct{}), make(chan struct{})
		killed := false // the replica's goroutine only
		relay.onFlush = func(l *relayLog) {
			if l.Len() >= killAt && !killed {
				killed = true
				close(reached)
				<-kill
				conn.Close()
			}
		}
		run := replicate(t, conn, transport.ReplicaConfig{Replica: rep, ID: 2, Start: r.bl.Head(), RelayLog: relay})
		var killOnce sync.Once
		release := func() { killOnce.Do(func() { close(kill) }) }
		t.Cleanup(release) // runs before replicate's cleanup waits for Replicate
		r.events.take(t, "replica 2 joined", eventKind(source.EventReplicaJoined, 2))
		// With wait_no_replica OFF the source waited for a replica to
		// switch on.
		on := r.events.take(t, "the first switch-on", eventKind(source.EventSwitchedOn, 0))
		require.Equal(t, source.TriggerCatchUp, on.Trigger)

		outcomes := make(chan source.Outcome, n)
		go func() {
			defer close(outcomes)
			// One bound for all the commits (see waitBounded).
			ctx, cancel := context.WithTimeout(context.Background(), failAfter)
			defer cancel()
			for i := range n {
				end, err := r.write(eventData(i))
				if err != nil {
					return
				}
				res, _ := r.src.Wait(ctx, end)
				outcomes <- res.Outcome
			}
		}()

		receive(t, "the relay log at the kill point", reached)
		last := r.binlogEvents()[killAt-1].End
		r.events.take(t, "commit killAt-1 waiting", func(e source.Event) bool {
			return e.Kind == source.EventWaitStalled && e.Position.Compare(last) == 0
		})
		release()
		r.events.take(t, "replica 2 left", eventKind(source.EventReplicaLeft, 2))
		off := r.events.take(t, "the switch-off", eventKind(source.EventSwitchedOff, 0))
		require.Equal(t, status.ReasonReplicaLoss, off.Reason)
		require.Zero(t, r.src.State().Clients)
		exit := run.wait(t)
		require.Error(t, exit.err)
		require.NotErrorIs(t, exit.err, context.Canceled)
		require.Equal(t, relay.Last(), exit.res.Durable)
		relay.onFlush = nil // safe: Replicate has returned, no flush runs

		// What a dead connection wrote but did not flush comes again.
		relay.Discard()
		r.startReplica(t, 2, rep, relay, relay.Last())
		r.events.take(t, "replica 2 joined again", eventKind(source.EventReplicaJoined, 2))

		// Every commit before the killed batch was acknowledged; the one in
		// it, waiting when the connection died, was released by the
		// switch-off; the rest either found the source off or came after
		// the catch-up.
		i := 0
		for o := range outcomes {
			switch {
			case i < killAt-1:
				require.Equal(t, source.Acknowledged, o, "commit %d", i)
			case i == killAt-1:
				require.Equal(t, source.SwitchedOff, o, "commit %d", i)
			default:
				require.Contains(t, []source.Outcome{source.Async, source.Acknowledged}, o, "commit %d", i)
			}
			i++
		}
		require.Equal(t, n, i)
		on = r.events.take(t, "the switch-on", eventKind(source.EventSwitchedOn, 0))
		require.Equal(t, source.TriggerCatchUp, on.Trigger)
		_, res := commit(t, r, eventData(n))
		require.Equal(t, source.Acknowledged, res.Outcome)
		r.requireRelayHolds(t, relay)
		require.Equal(t, 1, r.src.State().Clients)
	})
}

// TestQuorumOfTwo: with rpl_semi_sync_source_wait_for_replica_count = 2
// and three replicas, one stalled replica does not stop commits; a second
// one does.
func TestQuorumOfTwo(t *testing.T) {
	forEachNet(t, func(t *testing.T, nw *network) {
		r := newRig(t, nw, rigConfig{set: []string{"rpl_semi_sync_source_wait_for_replica_count = 2"}})
		relays := map[semisync.ReplicaID]*relayLog{}
		for _, id := range []semisync.ReplicaID{2, 3, 4} {
			relays[id] = newRelayLog()
			r.startReplica(t, id, newReplica(t, semisync.FlavorMySQL, true), relays[id], r.bl.Head())
			r.events.take(t, "replica joined", eventKind(source.EventReplicaJoined, id))
		}
		relays[4].hold()
		for i := range 3 {
			_, res := commit(t, r, eventData(i))
			require.Equal(t, source.Acknowledged, res.Outcome, "commit %d with one replica stalled", i)
		}
		relays[3].hold()
		r.setTimeout(t, 200*time.Millisecond)
		end, res := commit(t, r, eventData(3))
		require.Equal(t, source.TimedOut, res.Outcome)
		// The one replica left holds the commit: a quorum of one is not
		// enough.
		relays[2].waitFor(t, end)
		r.requireRelayHolds(t, relays[2])
	})
}

// TestMalformedAcks: packets from a replica that are not well-formed ACKs
// are counted and ignored, and the connection stays (spec §6.3); COM_QUIT
// is a replica leaving, not an error.
func TestMalformedAcks(t *testing.T) {
	forEachNet(t, func(t *testing.T, nw *network) {
		r := newRig(t, nw, rigConfig{})
		fr := r.dialRaw(t, 2, r.bl.Head(), rawOptions{semisync: true})
		r.events.take(t, "replica 2 joined", eventKind(source.EventReplicaJoined, 2))
		end, wait := startCommit(t, r, eventData(0))
		p := fr.next(t, "the event")
		require.Equal(t, rawPacket{seq: 2, flagged: true, kind: transport.KindEvent, end: end, data: eventData(0), at: p.at}, p)

		good, err := wire.AppendAck(nil, end)
		require.NoError(t, err)
		longName := binary.LittleEndian.AppendUint64([]byte{wire.Magic}, end.Offset())
		longName = append(longName, strings.Repeat("b", semisync.MaxFileNameLen+1)...)
		bad := []struct {
			name    string
			seq     uint8
			payload []byte
		}{
			{"empty", wire.AckSeq, nil},
			{"bad magic", wire.AckSeq, append([]byte{0xEE}, good[1:]...)},
			{"short", wire.AckSeq, good[:wire.AckHeaderLen-1]},
			{"name of 512 bytes", wire.AckSeq, longName},
			{"wrong sequence id", wire.AckSeq + 1, good},
		}
		for _, b := range bad {
			fr.send(t, b.seq, b.payload)
		}
		// Packets are handled in order: when the good ACK has released the
		// commit, every bad one before it has been counted, and none of
		// them was taken for an acknowledgement.
		fr.send(t, wire.AckSeq, good)
		got := receive(t, "the commit", wait)
		require.NoError(t, got.err)
		require.Equal(t, source.Acknowledged, got.res.Outcome)
		st := r.srv.Stats()
		require.Equal(t, uint64(len(bad)), st.MalformedAcks)
		require.Equal(t, uint64(1), st.Acks)
		require.Equal(t, int64(1), st.Active)

		fr.send(t, 0, []byte{wire.ComQuit})
		r.events.take(t, "replica 2 left", eventKind(source.EventReplicaLeft, 2))
		require.Equal(t, connEnd{2, nil}, r.ended.take(t, "the connection's end", nil))
		st = r.srv.Stats()
		require.Equal(t, uint64(1), st.Quits)
		require.Zero(t, st.Active)
		_, ok := fr.packets.tryTake(t, "the end of the stream", func(rawPacket) bool { return false })
		require.False(t, ok)
	})
}

// TestDeadReplica: a semisync replica that reads but never answers is
// asked to reply and, silent for PeerTimeout, counted out (spec §4.4).
func TestDeadReplica(t *testing.T) {
	forEachNet(t, func(t *testing.T, nw *network) {
		period := time.Second
		if !nw.pipe {
			period = 20 * time.Millisecond // real time: the test wants the timeout
		}
		r := newRig(t, nw, rigConfig{server: transport.ServerOptions{HeartbeatPeriod: period, PeerTimeout: 3 * period}})
		fr := r.dialRaw(t, 2, r.bl.Head(), rawOptions{semisync: true})
		r.events.take(t, "replica 2 joined", eventKind(source.EventReplicaJoined, 2))
		start := time.Now()
		r.events.take(t, "replica 2 left", eventKind(source.EventReplicaLeft, 2))
		if nw.pipe {
			// Fake time: the first probe goes after one silent period, and
			// the replica then has PeerTimeout (three periods) to answer.
			require.GreaterOrEqual(t, time.Since(start), 3*period)
		}
		end := r.ended.take(t, "the connection's end", nil)
		require.Equal(t, semisync.ReplicaID(2), end.id)
		require.ErrorIs(t, end.err, os.ErrDeadlineExceeded)
		st := r.srv.Stats()
		require.Equal(t, uint64(1), st.DeadPeers)
		require.GreaterOrEqual(t, st.Probes, uint64(1))
		require.Zero(t, st.Active)
		require.Zero(t, r.src.State().Clients)
		// The replica saw flagged heartbeats, then the connection close.
		probes := 0
		for {
			p, ok := fr.packets.tryTake(t, "a heartbeat", nil)
			if !ok {
				break
			}
			require.True(t, p.heartbeat())
			if p.flagged {
				probes++
			}
		}
		require.Equal(t, int(st.Probes), probes)
	})
}

// TestHeartbeats: an idle connection gets one heartbeat per period; on a
// semisync connection it carries the reply flag only when the replica has
// been silent for a period (a probe).
func TestHeartbeats(t *testing.T) {
	const period = time.Second
	t.Run("async", func(t *testing.T) {
		pipeOnly(t, func(t *testing.T, nw *network) {
			r := newRig(t, nw, rigConfig{server: transport.ServerOptions{HeartbeatPeriod: period}})
			start := time.Now()
			fr := r.dialRaw(t, 2, r.bl.Head(), rawOptions{})
			for k := 1; k <= 5; k++ {
				p := fr.next(t, "a heartbeat")
				require.Equal(t, rawPacket{seq: uint8(k + 1), kind: transport.KindHeartbeat, end: r.bl.Head(), data: []byte{},
					at: start.Add(time.Duration(k) * period)}, p, "heartbeat %d", k)
			}
			st := r.srv.Stats()
			require.Equal(t, uint64(5), st.Heartbeats)
			require.Zero(t, st.Probes)
		})
	})
	t.Run("semisync", func(t *testing.T) {
		pipeOnly(t, func(t *testing.T, nw *network) {
			r := newRig(t, nw, rigConfig{server: transport.ServerOptions{HeartbeatPeriod: period}})
			start := time.Now()
			fr := r.dialRaw(t, 2, r.bl.Head(), rawOptions{semisync: true})
			ack, err := wire.AppendAck(nil, r.bl.Head())
			require.NoError(t, err)
			// Silent since it connected: the first heartbeat is a probe.
			p := fr.next(t, "heartbeat 1")
			require.Equal(t, rawPacket{seq: 2, flagged: true, kind: transport.KindHeartbeat, end: r.bl.Head(), data: []byte{},
				at: start.Add(period)}, p)
			// An ACK half a period later: the next heartbeat asks nothing.
			advance(period / 2)
			fr.send(t, wire.AckSeq, ack)
			p = fr.next(t, "heartbeat 2")
			require.Equal(t, rawPacket{seq: 1, kind: transport.KindHeartbeat, end: r.bl.Head(), data: []byte{},
				at: start.Add(2 * period)}, p)
			// Silent for one and a half periods: a probe again.
			p = fr.next(t, "heartbeat 3")
			require.Equal(t, rawPacket{seq: 2, flagged: true, kind: transport.KindHeartbeat, end: r.bl.Head(), data: []byte{},
				at: start.Add(3 * period)}, p)
			st := r.srv.Stats()
			require.Equal(t, uint64(3), st.Heartbeats)
			require.Equal(t, uint64(2), st.Probes)
			require.Zero(t, st.DeadPeers)
		})
	})
	t.Run("short peer timeout", func(t *testing.T) {
		// A replica that answers every probe at once stays connected
		// whatever PeerTimeout is, even less than two periods.
		pipeOnly(t, func(t *testing.T, nw *network) {
			r := newRig(t, nw, rigConfig{server: transport.ServerOptions{HeartbeatPeriod: period, PeerTimeout: period * 3 / 2}})
			fr := r.dialRaw(t, 2, r.bl.Head(), rawOptions{semisync: true, autoAck: true})
			for k := 1; k <= 10; k++ {
				p := fr.next(t, "a heartbeat")
				require.True(t, p.heartbeat(), "heartbeat %d", k)
			}
			st := r.srv.Stats()
			require.Zero(t, st.DeadPeers)
			require.Equal(t, int64(1), st.Active)
			require.Equal(t, 1, r.src.State().Clients)
		})
	})
}

// TestSlowCatchUp: a replica that catches up slowly on a long backlog —
// for longer than WriteTimeout and PeerTimeout together, though it never
// stops reading — keeps its connection: while the backlog streams, the
// server goes on extending its write deadline and probing the replica.
func TestSlowCatchUp(t *testing.T) {
	pipeOnly(t, func(t *testing.T, nw *network) {
		const period = time.Second
		// Disabled, the source flags nothing: only probes ask for replies.
		r := newRig(t, nw, rigConfig{set: []string{"rpl_semi_sync_source_enabled = OFF"},
			server: transport.ServerOptions{HeartbeatPeriod: period, WriteTimeout: 2 * period}})
		relay := newRelayLog()
		relay.writeDelay = 5 * time.Millisecond
		r.startReplica(t, 2, newReplica(t, semisync.FlavorMySQL, true), relay, r.bl.Head())
		r.events.take(t, "replica 2 joined", eventKind(source.EventReplicaJoined, 2))
		advance(5 * period / 2) // idle: probed and answering
		start, probes := time.Now(), r.srv.Stats().Probes
		data := make([]byte, 1000)
		var end semisync.Position
		for range 2000 {
			var err error
			end, err = r.write(data)
			require.NoError(t, err)
		}
		relay.waitFor(t, end)
		require.GreaterOrEqual(t, time.Since(start), 10*time.Second, "2000 writes of 5 ms")
		st := r.srv.Stats()
		require.Zero(t, st.DeadPeers)
		require.Equal(t, int64(1), st.Active)
		require.GreaterOrEqual(t, st.Probes, probes+3, "probes while the backlog streamed")
		r.requireRelayHolds(t, relay)
	})
}

// TestAckAfterLongFlush: a relay-log flush that takes longer than the
// replica's PeerTimeout does not cost the ACK that follows it.
func TestAckAfterLongFlush(t *testing.T) {
	pipeOnly(t, func(t *testing.T, nw *network) {
		const period = time.Second
		r := newRig(t, nw, rigConfig{server: transport.ServerOptions{HeartbeatPeriod: period,
			PeerTimeout: time.Minute, WriteTimeout: time.Minute}})
		rep := newReplica(t, semisync.FlavorMySQL, true)
		relay := newRelayLog()
		r.startReplica(t, 2, rep, relay, r.bl.Head()) // PeerTimeout: 3 periods
		_, res := commit(t, r, eventData(0))
		require.Equal(t, source.Acknowledged, res.Outcome)
		relay.hold()
		_, wait := startCommit(t, r, eventData(1))
		advance(10 * period)
		relay.release()
		got := receive(t, "the commit", wait)
		require.Equal(t, source.Acknowledged, got.res.Outcome)
		require.Zero(t, rep.Status().AckSendFailures)
		r.requireRelayHolds(t, relay)
	})
}

// TestSilentSource: a source that accepts and then sends nothing ends
// Replicate with a timeout after PeerTimeout: by default three of the
// heartbeat periods the source announced.
func TestSilentSource(t *testing.T) {
	forEachNet(t, func(t *testing.T, nw *network) {
		conn := nw.fakeSource(t, func(c net.Conn, _ []byte) error {
			accept, _ := wire.AppendPacket(nil, 1, transport.AppendAccept(nil, true, 1000))
			if _, err := c.Write(accept); err != nil {
				return err
			}
			return drain(c)
		})
		cfg := transport.ReplicaConfig{Replica: newReplica(t, semisync.FlavorMySQL, true), ID: 2, RelayLog: newRelayLog()}
		if !nw.pipe {
			cfg.PeerTimeout = 100 * time.Millisecond // real time: the test wants the timeout
		}
		start := time.Now()
		res, err := transport.Replicate(boundedCtx(t), conn, cfg)
		require.ErrorIs(t, err, os.ErrDeadlineExceeded)
		require.True(t, res.Semisync)
		if nw.pipe {
			require.GreaterOrEqual(t, time.Since(start), 3*time.Second)
		}
	})
}

// failingBinlog refuses every start position.
type failingBinlog struct{}

var errPurged = errors.New("start position purged")

func (failingBinlog) Open(semisync.Position) (transport.Cursor, error) { return nil, errPurged }

// laxBinlog opens any start position at an empty cursor: a host binlog
// that leaves the check to the source.
type laxBinlog struct{}

func (laxBinlog) Open(semisync.Position) (transport.Cursor, error) { return laxCursor{}, nil }

type laxCursor struct{}

func (laxCursor) Next() (transport.Event, bool, error) { return transport.Event{}, false, nil }
func (laxCursor) Wait() <-chan struct{}                { return nil }
func (laxCursor) Close() error                         { return nil }

// TestRefusals: the source refuses a replica whose start its binlog cannot
// serve, and a hello that is not one.
func TestRefusals(t *testing.T) {
	forEachNet(t, func(t *testing.T, nw *network) {
		r := newRig(t, nw, rigConfig{binlog: failingBinlog{}})
		res, err := transport.Replicate(boundedCtx(t), r.dial(t), transport.ReplicaConfig{
			Replica: newReplica(t, semisync.FlavorMySQL, true), ID: 2, Start: semisync.FilePos("binlog.000001", 4), RelayLog: newRelayLog()})
		var refused *transport.RefusedError
		require.ErrorAs(t, err, &refused)
		require.Equal(t, uint16(transport.CodeBinlog), refused.Code)
		require.Contains(t, refused.Message, errPurged.Error())
		require.Equal(t, semisync.FilePos("binlog.000001", 4), res.Durable)
		end := r.ended.take(t, "the refused connection's end", nil)
		require.ErrorIs(t, end.err, errPurged)

		// A source that cannot register the replica refuses it, rather
		// than granting semisync and hanging up.
		closed := newRig(t, nw, rigConfig{})
		require.NoError(t, closed.src.Close())
		_, err = transport.Replicate(boundedCtx(t), closed.dial(t), transport.ReplicaConfig{
			Replica: newReplica(t, semisync.FlavorMySQL, true), ID: 2, RelayLog: newRelayLog()})
		require.ErrorAs(t, err, &refused)
		require.Equal(t, uint16(transport.CodeSource), refused.Code)
		require.ErrorIs(t, closed.ended.take(t, "the refused connection's end", nil).err, source.ErrClosed)

		// A replica that claims more than the binlog has is refused before
		// the source could take its start for an acknowledgement.
		ahead := newRig(t, nw, rigConfig{})
		_, err = transport.Replicate(boundedCtx(t), ahead.dial(t), transport.ReplicaConfig{
			Replica: newReplica(t, semisync.FlavorMySQL, true), ID: 2, Start: semisync.FilePos("binlog.000001", 1000), RelayLog: newRelayLog()})
		require.ErrorAs(t, err, &refused)
		require.Equal(t, uint16(transport.CodeBinlog), refused.Code)
		require.ErrorIs(t, err, transport.ErrStartRefused)
		require.ErrorIs(t, ahead.ended.take(t, "the refused connection's end", nil).err, binlog.ErrUnknownPosition)
		require.Equal(t, source.State{Enabled: true, On: true, Policy: ahead.src.State().Policy}, ahead.src.State())
		require.Equal(t, uint64(1), ahead.srv.Stats().StartsRefused)

		// A host binlog that does not check the start: the source refuses
		// a start beyond the end it was told of, with the same code, and
		// the commit waiting stays waiting.
		lax := newRig(t, nw, rigConfig{binlog: laxBinlog{}})
		lax.setTimeout(t, time.Hour)
		head := lax.writeGroup(t, []byte("commit"))
		waited := make(chan source.Outcome, 1)
		ctx, cancel := context.WithCancel(boundedCtx(t))
		go func() { res, _ := lax.src.Wait(ctx, head); waited <- res.Outcome }()
		forged := semisync.FilePos(head.File(), head.Offset()+100)
		_, err = transport.Replicate(boundedCtx(t), lax.dial(t), transport.ReplicaConfig{
			Replica: newReplica(t, semisync.FlavorMySQL, true), ID: 2, Start: forged, RelayLog: newRelayLog()})
		require.ErrorAs(t, err, &refused)
		require.Equal(t, uint16(transport.CodeBinlog), refused.Code)
		require.ErrorIs(t, err, transport.ErrStartRefused)
		laxEnd := lax.ended.take(t, "the forged start's end", nil).err
		require.ErrorIs(t, laxEnd, source.ErrStartBeyondEnd)
		var se *source.StartError
		require.ErrorAs(t, laxEnd, &se)
		require.Equal(t, source.StartError{Replica: 2, Start: forged, End: head}, *se)
		require.Equal(t, uint64(1), lax.srv.Stats().StartsRefused)
		require.Equal(t, uint64(1), lax.src.Snapshot().StartsRefused)
		require.Equal(t, semisync.Position{}, lax.src.State().Acknowledged, "a forged start released nothing")
		cancel()
		require.Equal(t, source.Cancelled, <-waited, "the commit was still waiting")

		hello := transport.AppendHello(nil, true, 3, semisync.FilePos("binlog.000001", 4))
		garbage := []struct {
			name  string
			hello []byte
		}{
			{"empty", nil},
			{"not a hello", []byte("GET / HTTP/1.1")},
			{"short", hello[:10]},
			{"other version", append(append([]byte("SSGO"), 9), hello[5:]...)},
			{"file name of 512 bytes", append(slices.Clone(hello[:18]), strings.Repeat("b", semisync.MaxFileNameLen+1)...)},
		}
		for _, g := range garbage {
			c := r.dial(t)
			buf, _ := wire.AppendPacket(nil, 0, g.hello)
			_, err := c.Write(buf)
			require.NoError(t, err, g.name)
			seq, p, err := wire.NewPacketReader(bufio.NewReader(c), 0).ReadPacket()
			require.NoError(t, err, g.name)
			require.Equal(t, uint8(1), seq, g.name)
			_, _, err = transport.ParseAccept(p)
			require.ErrorAs(t, err, &refused, g.name)
			require.Equal(t, uint16(transport.CodeBadHello), refused.Code, g.name)
			c.Close()
			end := r.ended.take(t, "the connection's end", nil)
			require.ErrorIs(t, end.err, transport.ErrProtocol, g.name)
		}
		require.Zero(t, r.srv.Stats().Connections)
	})
}

// TestAsyncReplica: a replica with semisync disabled gets an asynchronous
// stream: no header, no ACKs, not counted in clients, no help for commits.
// Enabling it takes effect on its next connection only (spec §9.3).
func TestAsyncReplica(t *testing.T) {
	forEachNet(t, func(t *testing.T, nw *network) {
		r := newRig(t, nw, rigConfig{})
		rep := newReplica(t, semisync.FlavorMySQL, false)
		relay := newRelayLog()
		run := r.startReplica(t, 2, rep, relay, r.bl.Head())
		end, err := r.write(eventData(0))
		require.NoError(t, err)
		relay.waitFor(t, end)
		require.Zero(t, r.src.State().Clients)
		require.False(t, rep.Status().Status)

		// Nobody acknowledges: with wait_no_replica ON the commit waits
		// until its timeout.
		r.setTimeout(t, 200*time.Millisecond)
		res, err := waitBounded(r.src, end)
		require.NoError(t, err)
		require.Equal(t, source.TimedOut, res.Outcome)
		r.setTimeout(t, longTimeout)

		require.NoError(t, rep.Vars().Exec("SET GLOBAL rpl_semi_sync_replica_enabled = ON"))
		end, res = commit(t, r, eventData(1))
		require.Equal(t, source.Async, res.Outcome)
		relay.waitFor(t, end)
		require.Zero(t, r.src.State().Clients, "enabling applies to the next connection")
		require.False(t, rep.Status().Status)
		exit := run.stop(t)
		require.ErrorIs(t, exit.err, context.Canceled)
		require.False(t, exit.res.Semisync)
		require.Zero(t, exit.res.Stats.AcksSent)
		require.Equal(t, connEnd{2, nil}, r.ended.take(t, "the async connection's end", nil))
		st := r.srv.Stats()
		require.Equal(t, uint64(1), st.Connections)
		require.Zero(t, st.Semisync)
		require.Zero(t, st.Acks)

		// The next connection is semisync; having everything, the replica
		// switches the source back on at once.
		r.startReplica(t, 2, rep, relay, relay.Last())
		r.events.take(t, "replica 2 joined", eventKind(source.EventReplicaJoined, 2))
		on := r.events.take(t, "the switch-on", eventKind(source.EventSwitchedOn, 0))
		require.Equal(t, source.TriggerCatchUp, on.Trigger)
		_, res = commit(t, r, eventData(2))
		require.Equal(t, source.Acknowledged, res.Outcome)
		require.True(t, rep.Status().Status)
		r.requireRelayHolds(t, relay)
	})
}

// TestSourceSequenceIDs: the source numbers packets as MySQL does (spec
// §8.4): the first event after the accept has id 2, each packet one more,
// wrapping at 256, and the packet after a flagged event id 1.
func TestSourceSequenceIDs(t *testing.T) {
	opts := transport.ServerOptions{HeartbeatPeriod: time.Hour} // no heartbeat between the events
	t.Run("semisync", func(t *testing.T) {
		forEachNet(t, func(t *testing.T, nw *network) {
			r := newRig(t, nw, rigConfig{server: opts})
			fr := r.dialRaw(t, 2, r.bl.Head(), rawOptions{semisync: true, autoAck: true})
			r.events.take(t, "replica 2 joined", eventKind(source.EventReplicaJoined, 2))
			// Groups of three events: only a group's last event is flagged.
			for g := range 3 {
				end := r.writeGroup(t, eventData(3*g), eventData(3*g+1), eventData(3*g+2))
				res, err := waitBounded(r.src, end)
				require.NoError(t, err)
				require.Equal(t, source.Acknowledged, res.Outcome)
			}
			var seqs []uint8
			var flags []bool
			for range 9 {
				p := fr.next(t, "an event")
				seqs, flags = append(seqs, p.seq), append(flags, p.flagged)
			}
			require.Equal(t, []uint8{2, 3, 4, 1, 2, 3, 1, 2, 3}, seqs)
			require.Equal(t, []bool{false, false, true, false, false, true, false, false, true}, flags)
		})
	})
	t.Run("async", func(t *testing.T) {
		forEachNet(t, func(t *testing.T, nw *network) {
			r := newRig(t, nw, rigConfig{server: opts})
			fr := r.dialRaw(t, 2, r.bl.Head(), rawOptions{})
			relay := newRelayLog()
			r.startReplica(t, 3, newReplica(t, semisync.FlavorMySQL, false), relay, r.bl.Head())
			var end semisync.Position
			for i := range 300 {
				var err error
				end, err = r.write(eventData(i))
				require.NoError(t, err)
			}
			for i := range 300 {
				p := fr.next(t, "an event")
				require.Equal(t, uint8(2+i), p.seq, "event %d", i)
			}
			// Replicate checks the ids too, across the wrap.
			relay.waitFor(t, end)
			r.requireRelayHolds(t, relay)
		})
	})
}

// TestReplicaChecksSequenceIDs: a source that numbers packets wrongly
// ends Replicate with a *wire.OrderError.
func TestReplicaChecksSequenceIDs(t *testing.T) {
	at := func(off uint64) semisync.Position { return semisync.FilePos("binlog.000001", off) }
	event := func(off uint64, flagged bool) []byte {
		return wire.AppendEvent(nil, flagged, transport.AppendEnvelope(nil, transport.KindEvent, at(off), []byte("ev")))
	}
	type packet struct {
		seq     uint8
		payload []byte
	}
	accept := transport.AppendAccept(nil, true, 1000)
	cases := []struct {
		name      string
		packets   []packet
		got, want uint8
	}{
		{"accept with id 2", []packet{{2, accept}}, 2, 1},
		{"first event with id 3", []packet{{1, accept}, {3, event(10, false)}}, 3, 2},
		{"no reset after a flagged event", []packet{{1, accept}, {2, event(10, true)}, {3, event(20, false)}}, 3, 1},
		{"reset after an unflagged event", []packet{{1, accept}, {2, event(10, false)}, {1, event(20, false)}}, 1, 3},
		{"a gap", []packet{{1, accept}, {2, event(10, false)}, {3, event(20, false)}, {5, event(30, false)}}, 5, 4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			forEachNet(t, func(t *testing.T, nw *network) {
				conn := nw.fakeSource(t, func(c net.Conn, _ []byte) error {
					var buf []byte
					for _, p := range tc.packets {
						buf, _ = wire.AppendPacket(buf, p.seq, p.payload)
					}
					if _, err := c.Write(buf); err != nil {
						return err
					}
					return drain(c)
				})
				_, err := transport.Replicate(boundedCtx(t), conn, transport.ReplicaConfig{
					Replica: newReplica(t, semisync.FlavorMySQL, true), ID: 2, RelayLog: newRelayLog()})
				var oe *wire.OrderError
				require.ErrorAs(t, err, &oe)
				require.Equal(t, wire.OrderError{Got: tc.got, Want: tc.want}, *oe)
			})
		})
	}
}

// TestServerClose: Close ends every connection while replicas stream and
// commits wait, waits for them, and is idempotent; the server refuses to
// serve afterwards.
func TestServerClose(t *testing.T) {
	forEachNet(t, func(t *testing.T, nw *network) {
		r := newRig(t, nw, rigConfig{set: []string{"rpl_semi_sync_source_wait_no_replica = OFF"}, stall: time.Millisecond})
		var runs []*replicaRun
		var relays []*relayLog
		for _, id := range []semisync.ReplicaID{2, 3} {
			relay := newRelayLog()
			runs, relays = append(runs, r.startReplica(t, id, newReplica(t, semisync.FlavorMySQL, true), relay, r.bl.Head())), append(relays, relay)
			r.events.take(t, "replica joined", eventKind(source.EventReplicaJoined, id))
		}
		_, res := commit(t, r, eventData(0))
		require.Equal(t, source.Acknowledged, res.Outcome)
		for _, l := range relays {
			l.hold()
		}
		end, wait := startCommit(t, r, eventData(1))
		r.events.take(t, "the commit waiting", func(e source.Event) bool {
			return e.Kind == source.EventWaitStalled && e.Position == end
		})

		require.NoError(t, r.srv.Close())
		require.Zero(t, r.src.State().Clients)
		got := receive(t, "the waiting commit", wait)
		require.Equal(t, source.SwitchedOff, got.res.Outcome)
		require.Equal(t, status.ReasonReplicaLoss, got.res.Reason)
		for _, id := range []semisync.ReplicaID{2, 3} {
			r.events.take(t, "replica left", eventKind(source.EventReplicaLeft, id))
			require.Equal(t, connEnd{id, nil}, r.ended.take(t, "a connection's end", func(e connEnd) bool { return e.id == id }))
		}
		require.Zero(t, r.srv.Stats().Active)
		require.NoError(t, r.srv.Close(), "a second Close")
		if !nw.pipe {
			require.ErrorIs(t, receive(t, "Serve to return", r.served), transport.ErrServerClosed)
			r.served <- transport.ErrServerClosed // for the rig's cleanup
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			require.ErrorIs(t, r.srv.Serve(ln), transport.ErrServerClosed)
			ln.Close()
		}
		a, b := net.Pipe()
		require.ErrorIs(t, r.srv.ServeConn(a), transport.ErrServerClosed)
		_, err := b.Write([]byte{0})
		require.ErrorIs(t, err, io.ErrClosedPipe, "ServeConn closes the connection it refuses")

		// The replicas' connections are gone: once their relay logs flush
		// again, Replicate returns.
		for i, l := range relays {
			l.release()
			exit := runs[i].wait(t)
			require.Error(t, exit.err)
			if !l.Last().IsZero() { // nothing flushed: Durable is the start
				require.Equal(t, l.Last(), exit.res.Durable)
			}
		}
	})
}

// TestCancelReplicate: cancelling Replicate's context tells the source
// with COM_QUIT and returns context.Canceled.
func TestCancelReplicate(t *testing.T) {
	forEachNet(t, func(t *testing.T, nw *network) {
		r := newRig(t, nw, rigConfig{})
		relay := newRelayLog()
		run := r.startReplica(t, 2, newReplica(t, semisync.FlavorMySQL, true), relay, r.bl.Head())
		_, res := commit(t, r, eventData(0))
		require.Equal(t, source.Acknowledged, res.Outcome)
		exit := run.stop(t)
		require.ErrorIs(t, exit.err, context.Canceled)
		require.Equal(t, relay.Last(), exit.res.Durable)
		require.Equal(t, connEnd{2, nil}, r.ended.take(t, "the connection's end", nil))
		r.events.take(t, "replica 2 left", eventKind(source.EventReplicaLeft, 2))
		st := r.srv.Stats()
		require.Equal(t, uint64(1), st.Quits)
		require.Zero(t, st.Active)
	})
}

// TestRotation: after the binlog rotates, events carry the new file's
// name, ACKs in the new file release commits, and a replica resumes there.
func TestRotation(t *testing.T) {
	forEachNet(t, func(t *testing.T, nw *network) {
		r := newRig(t, nw, rigConfig{})
		rep := newReplica(t, semisync.FlavorMySQL, true)
		relay := newRelayLog()
		run := r.startReplica(t, 2, rep, relay, r.bl.Head())
		for i := range 3 {
			_, res := commit(t, r, eventData(i))
			require.Equal(t, source.Acknowledged, res.Outcome)
		}
		require.Equal(t, semisync.FilePos("binlog.000002", 4), r.bl.Rotate())
		require.NoError(t, r.src.Appended(r.bl.Head()))
		for i := 3; i < 6; i++ {
			end, res := commit(t, r, eventData(i))
			require.Equal(t, source.Acknowledged, res.Outcome)
			require.Equal(t, "binlog.000002", end.File())
		}
		require.Equal(t, "binlog.000002", r.src.State().Acknowledged.File())
		r.requireRelayHolds(t, relay)
		files := []string{}
		for _, e := range relay.Events() {
			files = append(files, e.End.File())
		}
		require.Equal(t, []string{"binlog.000001", "binlog.000001", "binlog.000001", "binlog.000002", "binlog.000002", "binlog.000002"}, files)

		run.stop(t)
		r.startReplica(t, 2, rep, relay, relay.Last())
		_, res := commit(t, r, eventData(6))
		require.Equal(t, source.Acknowledged, res.Outcome)
		r.requireRelayHolds(t, relay)
	})
}

// TestReplicateNeedsReplicaAndRelayLog: a config without a replica or a
// relay log is an error, and the connection is closed.
func TestReplicateNeedsReplicaAndRelayLog(t *testing.T) {
	rep := newReplica(t, semisync.FlavorMySQL, true)
	for _, cfg := range []transport.ReplicaConfig{{RelayLog: newRelayLog()}, {Replica: rep}} {
		a, b := net.Pipe()
		_, err := transport.Replicate(boundedCtx(t), a, cfg)
		require.Error(t, err)
		_, err = b.Write([]byte{0})
		require.ErrorIs(t, err, io.ErrClosedPipe)
	}
	_, err := transport.NewServer(nil, nil, transport.ServerOptions{})
	require.Error(t, err)
}

var _ replica.RelayLog = (*relayLog)(nil)
