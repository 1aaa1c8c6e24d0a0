package transport

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"time"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/replica"
	"github.com/semisync-go/semisync/wire"
)

// ReplicaConfig configures the replica side of one connection.
type ReplicaConfig struct {
	// Replica is the replica channel: its variables decide whether this
	// connection asks for semisync, its status counts the ACKs.
	Replica *replica.Replica
	// ID identifies the replica to the source (its server_id).
	ID semisync.ReplicaID
	// Start is the position to stream from: the relay log's last durable
	// position when resuming.
	Start semisync.Position
	// RelayLog receives the events.
	RelayLog replica.RelayLog
	// PeerTimeout is how long the replica waits for any byte (of an event
	// or heartbeat) before declaring the source dead; a big event that
	// keeps arriving is never cut. Default: three of the
	// source's heartbeat periods, as announced in its accept.
	PeerTimeout time.Duration
	// MaxPacket bounds an event packet; default wire.DefaultMaxPayload.
	MaxPacket int
	// HandshakeTimeout bounds sending the hello and reading the source's
	// answer. Default 10s.
	HandshakeTimeout time.Duration
}

// ReplicaResult says how far a connection got.
type ReplicaResult struct {
	// Semisync reports whether the connection negotiated semisync.
	Semisync bool
	// Durable is the end of the last event the relay log made durable:
	// where the next connection should start.
	Durable semisync.Position
	// Stats are the stream's final figures.
	Stats replica.StreamStats
}

// Replicate runs the replica side of one connection until ctx ends, the
// source goes away or something fails: it sends the hello (asking for
// semisync when the replica's rpl_semi_sync_replica_enabled is ON when it
// starts), reads events into the relay log, flushes them (and syncs, with
// replica.Synced) whenever no further packet is waiting, and acknowledges
// flagged events after that, one ACK for each such batch. When ctx ends it
// tells the source with COM_QUIT and returns ctx's error. It closes conn
// before returning. The result's Durable position is where to resume.
func Replicate(ctx context.Context, conn net.Conn, cfg ReplicaConfig) (ReplicaResult, error) {
	defer conn.Close()
	if cfg.Replica == nil || cfg.RelayLog == nil {
		return ReplicaResult{Durable: cfg.Start}, errors.New("transport: Replicate needs a replica and a relay log")
	}
	// Close the connection when ctx ends, and wait for that to finish
	// before returning, so no goroutine outlives the call.
	stopped := make(chan struct{})
	var streaming atomic.Bool // the source accepted: a COM_QUIT means leaving
	stop := context.AfterFunc(ctx, func() {
		defer close(stopped)
		if streaming.Load() {
			quit, _ := wire.AppendPacket(nil, wire.AckSeq, []byte{wire.ComQuit})
			conn.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
			conn.Write(quit)
		}
		conn.Close()
	})
	defer func() {
		if !stop() {
			<-stopped
		}
	}()

	as := &ackSender{c: conn}
	st, err := cfg.Replica.Open(cfg.Start, cfg.RelayLog, as)
	if err != nil {
		return ReplicaResult{Durable: cfg.Start}, err
	}
	defer st.Close()
	res, err := replicate(ctx, conn, cfg, st, as, &streaming)
	res.Durable, res.Stats = st.Durable(), st.Stats()
	if ctx.Err() != nil {
		err = ctx.Err()
	}
	return res, err
}

func replicate(ctx context.Context, conn net.Conn, cfg ReplicaConfig, st *replica.Stream, as *ackSender, streaming *atomic.Bool) (ReplicaResult, error) {
	var res ReplicaResult
	hs, _ := wire.AppendPacket(nil, 0, appendHello(nil, hello{semisync: st.Enabled(), id: cfg.ID, start: cfg.Start}))
	hsTimeout := cfg.HandshakeTimeout
	if hsTimeout <= 0 {
		hsTimeout = 10 * time.Second
	}
	conn.SetDeadline(time.Now().Add(hsTimeout))
	if _, err := conn.Write(hs); err != nil {
		return res, fmt.Errorf("transport: sending the hello: %w", err)
	}
	rd := &progressReader{c: conn, d: lazyDeadline{timeout: hsTimeout}}
	pr := wire.NewPacketReader(bufio.NewReaderSize(rd, 64<<10), cfg.MaxPacket)
	seq, p, err := pr.ReadPacket()
	if err != nil {
		return res, fmt.Errorf("transport: reading the source's answer: %w", err)
	}
	if seq != 1 {
		return res, &wire.OrderError{Got: seq, Want: 1}
	}
	granted, hbMillis, err := parseAccept(p)
	if err != nil {
		return res, err
	}
	st.SetNegotiated(granted)
	streaming.Store(true)
	res.Semisync = st.Semisync()
	timeout := cfg.PeerTimeout
	if timeout <= 0 {
		timeout = 3 * time.Duration(max(hbMillis, 1)) * time.Millisecond
	}
	// The read deadline is the source's liveness; each ACK sets its own
	// write deadline (ackSender), since a relay-log flush may take longer
	// than timeout and the ACK after it must not inherit a deadline that
	// passed meanwhile.
	now := time.Now()
	conn.SetDeadline(now.Add(timeout))
	as.d = lazyDeadline{timeout: timeout, set: now}
	rd.d = lazyDeadline{timeout: timeout, set: now}

	var nm names
	want := uint8(2)
	for {
		if !pr.Buffered() {
			// Everything that has arrived is queued: make it durable and
			// acknowledge it with one ACK before waiting for more.
			if err := st.Flush(); err != nil {
				return res, err
			}
			// A flush may have outlasted the deadline: move it before
			// waiting. While a packet arrives, each read moves it on.
			rd.arm(time.Now())
		}
		seq, p, err := pr.ReadPacket()
		if err != nil {
			return res, err
		}
		if seq != want {
			return res, &wire.OrderError{Got: seq, Want: want}
		}
		ev, flag, err := st.Unwrap(p)
		if err != nil {
			return res, err
		}
		want = wire.SeqAfterEvent(pr.NextSeq(), flag && st.Semisync())
		kind, end, data, err := parseEnvelope(ev, &nm)
		if err != nil {
			return res, err
		}
		if kind == kindHeartbeat {
			st.Heartbeat(flag)
			continue
		}
		if err := st.Queue(data, end, flag); err != nil {
			return res, err
		}
	}
}

// ackSender writes ACK packets on the connection, each with one write
// that, once the source has accepted, may block for at least 7/8 of
// timeout: the write deadline moves on when an eighth of it has passed, so
// that most ACKs cost no deadline update.
type ackSender struct {
	c   net.Conn
	d   lazyDeadline // zero timeout until the source has accepted
	buf []byte
}

func (a *ackSender) SendAck(_ semisync.Position, payload []byte) error {
	a.buf, _ = wire.AppendPacket(a.buf[:0], wire.AckSeq, payload)
	if a.d.timeout > 0 {
		a.d.move(time.Now(), a.c.SetWriteDeadline)
	}
	_, err := a.c.Write(a.buf)
	return err
}
