package dump

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/internal/deadline"
	"github.com/semisync-go/semisync/source"
	"github.com/semisync-go/semisync/wire"
)

// Event is one event of the host's binlog as a Cursor returns it.
type Event struct {
	// Data is the event's bytes, sent to the replica as they are. The
	// sender does not keep it past the next call to Cursor.Next.
	Data []byte
	// End is the position just after the event: what a replica
	// acknowledges once it holds the event. Positions increase along the
	// binlog.
	End semisync.Position
	// Artificial marks an event made up for this connection rather than
	// read from the binlog (MySQL's first rotate, a format description
	// sent again): it never asks the replica for a reply.
	Artificial bool
}

// Cursor reads a binlog forward for one replica connection. One goroutine
// uses it.
type Cursor interface {
	// Next returns the next event if one has been written, without
	// blocking; ok is false at the end of what is written so far. An error
	// ends the connection.
	Next() (ev Event, ok bool, err error)
	// Wait returns a channel that becomes ready (receives a value, or is
	// closed) when events may have been written after Next last reported
	// the end. Spurious wake-ups are allowed; a missed one is not: a write
	// that happens after Next reported the end must make the channel ready.
	Wait() <-chan struct{}
	// Close releases the cursor.
	Close() error
}

// Framer makes the bytes of one protocol's event packets: what follows
// the semisync header (or, on an asynchronous connection, the 0x00 status
// byte) in the payload of each packet.
type Framer interface {
	// AppendEventHead appends what goes before the event's bytes (data,
	// written after it without a copy) in the payload: nothing for MySQL's
	// protocol, where the payload is the event; transport's envelope.
	AppendEventHead(dst []byte, end semisync.Position, data []byte) []byte
	// AppendHeartbeat appends a heartbeat's payload, for a replica that
	// has been sent everything up to last.
	AppendHeartbeat(dst []byte, last semisync.Position) []byte
}

// Counters are a server's counts of what its senders did, shared by all
// its connections.
type Counters struct {
	// Acks is the number of well-formed ACKs handed to sessions.
	Acks atomic.Uint64
	// Malformed is the number of packets from replicas that were not
	// well-formed ACKs, ignored.
	Malformed atomic.Uint64
	// Ahead is the number of ACKs for positions beyond what the
	// connection had sent, ignored.
	Ahead atomic.Uint64
	// Quits is the number of replicas that said COM_QUIT.
	Quits atomic.Uint64
	// DeadPeers is the number of connections ended because a probe went
	// unanswered for PeerTimeout.
	DeadPeers atomic.Uint64
	// Heartbeats is the number of heartbeats sent; Probes those that
	// asked for a reply.
	Heartbeats, Probes atomic.Uint64
}

// Conn is one replica connection, ready to stream after its handshake.
type Conn struct {
	// Conn carries the bytes (a TLS connection, if any).
	Conn net.Conn
	// Raw is the plain connection under Conn, closed when sending ends
	// (closing a TLS connection would first write an alert, and could block
	// behind a stuck write).
	Raw net.Conn
	// Reader is what the handshake read Conn with: bytes it buffered are
	// the first the ACK reader reads.
	Reader *bufio.Reader
	// Cursor reads the binlog from Start; Run does not close it.
	Cursor Cursor
	// Start is where the replica starts: the end of what it holds.
	Start semisync.Position
	// Session is the replica's semisync session, nil for an asynchronous
	// replica; Run does not close it.
	Session *source.Session
	// Framer makes the protocol's bytes.
	Framer Framer
	// Seq is the sequence id of the first packet sent.
	Seq uint8
	// Done, when it becomes ready, stops the sender (the server closes),
	// after the event it is sending, if any; nil never stops it.
	Done <-chan struct{}
}

// Options bound and pace a sender. Zero values (and negative ones) select
// the defaults, the same as package transport's.
type Options struct {
	// HeartbeatPeriod is how often the sender sends a heartbeat when it
	// has sent nothing else, and checks the replica's silence. Default 1s.
	HeartbeatPeriod time.Duration
	// PeerTimeout is how long a probe may go unanswered before the
	// replica is declared dead. Default the larger of 30s and three
	// heartbeat periods.
	PeerTimeout time.Duration
	// WriteTimeout bounds how long a write may make no progress. Default
	// 10s.
	WriteTimeout time.Duration
	// MaxAckPacket bounds the packets the ACK reader accepts. Default
	// 64 KiB.
	MaxAckPacket int
}

// WithDefaults returns o with its zero (and negative) values replaced by
// the defaults.
func (o Options) WithDefaults() Options {
	o.defaults()
	return o
}

// defaults fills in the zero values.
func (o *Options) defaults() {
	if o.HeartbeatPeriod <= 0 {
		o.HeartbeatPeriod = time.Second
	}
	if o.PeerTimeout <= 0 {
		o.PeerTimeout = max(30*time.Second, 3*o.HeartbeatPeriod)
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 10 * time.Second
	}
	if o.MaxAckPacket <= 0 {
		o.MaxAckPacket = 64 << 10
	}
}

// Result says how a connection's stream ended besides Run's error.
type Result struct {
	// Quit reports a replica that said COM_QUIT.
	Quit bool
	// Dead reports a replica that left a probe unanswered for PeerTimeout.
	Dead bool
	// ReadErr is why the ACK reader stopped, if not at COM_QUIT.
	ReadErr error
}

// ErrPeerSilent ends a stream whose replica left a probe unanswered for
// PeerTimeout.
var ErrPeerSilent = errors.New("dump: replica silent")

// Run streams the binlog to one replica until the cursor fails, the
// connection fails, the replica quits or goes silent, or Done: it starts
// the ACK reader on a goroutine of its own, sends events (flagged as the
// session decides) and heartbeats on the calling goroutine, closes Raw
// when sending ends and waits for the reader before it returns. Counters
// are added to cnt.
func Run(c Conn, o Options, cnt *Counters) (Result, error) {
	o.defaults()
	r := &runner{c: c, o: o, cnt: cnt, born: time.Now(), sentTo: c.Start}
	r.heard.Store(r.since(time.Now()))
	pr := wire.NewPacketReader(c.Reader, o.MaxAckPacket)
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		r.readAcks(pr)
	}()
	err := r.send(readerDone)
	c.Raw.Close()
	<-readerDone
	return Result{Quit: r.quit.Load(), Dead: r.dead, ReadErr: r.readEr}, err
}

// runner is the state of one Run.
type runner struct {
	c    Conn
	o    Options
	cnt  *Counters
	born time.Time // the clock's origin for heard and probed (monotonic)

	heard  atomic.Int64 // nanoseconds from born to the last packet from the replica
	quit   atomic.Bool
	readEr error // why readAcks stopped; read after it has

	sentMu sync.Mutex
	sentTo semisync.Position // the end of the last event handed to the connection

	// The sending goroutine's own state.
	probed int64 // nanoseconds from born to the oldest unanswered probe; 0 if none
	dead   bool  // a probe stayed unanswered for PeerTimeout
}

// readAcks is the ACK receiver of one connection: it reads until the
// connection fails, hands well-formed ACKs to the session, counts and
// ignores malformed ones and ACKs beyond what was sent, and stops at
// COM_QUIT.
func (r *runner) readAcks(pr *wire.PacketReader) {
	var nm names
	for {
		seq, p, err := pr.ReadPacket()
		if err != nil {
			r.readEr = err
			r.c.Conn.Close()
			return
		}
		r.heard.Store(r.since(time.Now()))
		if wire.IsQuit(p) {
			r.quit.Store(true)
			r.cnt.Quits.Add(1)
			r.c.Conn.Close()
			return
		}
		name, off, err := wire.ParseAck(p)
		if err != nil || seq != wire.AckSeq || r.c.Session == nil {
			r.cnt.Malformed.Add(1)
			continue
		}
		pos := semisync.FilePos(nm.intern(name), off)
		r.sentMu.Lock()
		ahead := pos.Compare(r.sentTo) > 0
		r.sentMu.Unlock()
		if ahead {
			r.cnt.Ahead.Add(1)
			continue
		}
		// Counted first, so that whoever sees the commits this ACK
		// releases also sees it in the counters.
		r.cnt.Acks.Add(1)
		r.c.Session.Ack(pos)
	}
}

// send streams the binlog to the replica until the cursor fails, the
// connection fails, the reader stops or Done.
func (r *runner) send(readerDone <-chan struct{}) error {
	w := bufio.NewWriterSize(&deadline.Writer{C: r.c.Conn, D: deadline.Lazy{Timeout: r.o.WriteTimeout}}, deadline.Chunk)
	tick := time.NewTicker(r.o.HeartbeatPeriod)
	defer tick.Stop()
	sw := sender{w: w, fr: r.c.Framer, seq: r.c.Seq, semisync: r.c.Session != nil, last: r.c.Start}
	for {
		ev, ok, err := r.c.Cursor.Next()
		if err != nil {
			return fmt.Errorf("dump: reading the binlog: %w", err)
		}
		if ok {
			if len(ev.End.File()) > semisync.MaxFileNameLen {
				return fmt.Errorf("dump: binlog event ends in a file named with %d bytes, at most %d can be sent", len(ev.End.File()), semisync.MaxFileNameLen)
			}
			r.sentMu.Lock()
			r.sentTo = ev.End
			r.sentMu.Unlock()
			flag := r.c.Session != nil && !ev.Artificial && r.c.Session.ReplyRequired(ev.End)
			if err := sw.event(ev.End, ev.Data, flag); err != nil {
				return err
			}
			select {
			case now := <-tick.C:
				if err := r.tick(&sw, now); err != nil {
					return err
				}
			case <-r.c.Done:
				return nil
			default:
			}
			continue
		}
		// Caught up: send what is buffered. MySQL flushes after every
		// flagged event (spec §7.2); here a flagged event waits in the
		// buffer only while further events are ready to go after it, so
		// events written together leave in one write, and the replica can
		// acknowledge them with one ACK.
		if err := w.Flush(); err != nil {
			return err
		}
		select {
		case <-r.c.Cursor.Wait():
		case <-readerDone:
			return nil
		case <-r.c.Done:
			return nil
		case now := <-tick.C:
			if err := r.tick(&sw, now); err != nil {
				return err
			}
		}
	}
}

// tick runs once per heartbeat period: it declares a semisync replica dead
// when a probe has gone unanswered for PeerTimeout, and sends a heartbeat
// if nothing was sent since the last tick, or a heartbeat with the reply
// flag (a probe) if the replica has been silent for a period or the
// session solicits an ACK.
//
// The sender decides deadness rather than a read deadline on the ACK
// reader: only the sender could move such a deadline, once per period, so a
// replica that answered a probe at once would still run into a deadline set
// before its answer whenever PeerTimeout is shorter than two periods.
func (r *runner) tick(sw *sender, now time.Time) error {
	probe, hb := false, !sw.sent
	if s := r.c.Session; s != nil {
		heard := r.heard.Load()
		switch {
		case r.probed == 0:
		case heard >= r.probed: // any packet after the probe answers it
			r.probed = 0
		case r.since(now)-r.probed >= int64(r.o.PeerTimeout):
			r.dead = true
			r.cnt.DeadPeers.Add(1)
			return ErrPeerSilent
		}
		probe = s.SolicitAck() || time.Duration(r.since(now)-heard) >= r.o.HeartbeatPeriod
	}
	sw.sent = false
	if !probe && !hb {
		return nil
	}
	if err := sw.heartbeat(probe); err != nil {
		return err
	}
	r.cnt.Heartbeats.Add(1)
	if probe {
		r.cnt.Probes.Add(1)
		if r.probed == 0 {
			r.probed = max(r.since(now), 1)
		}
	}
	return sw.w.Flush()
}

// since returns the monotonic time from the connection's start to t, in
// nanoseconds: immune to steps of the wall clock.
func (r *runner) since(t time.Time) int64 { return int64(t.Sub(r.born)) }

// sender frames events for one connection.
type sender struct {
	w        *bufio.Writer
	fr       Framer
	seq      uint8
	semisync bool
	last     semisync.Position // end of the last event sent
	sent     bool              // an event was sent since the last tick
	scratch  []byte            // the packet header, prefix and head of the event being framed
	hdr      [wire.PacketHeaderLen]byte
}

// event frames one event.
func (sw *sender) event(end semisync.Position, data []byte, flag bool) error {
	head := sw.prefix(flag)
	head = sw.fr.AppendEventHead(head, end, data)
	err := sw.write(head, data, flag)
	sw.last, sw.sent = end, true
	return err
}

// heartbeat frames a heartbeat for the last event sent; with probe, it
// asks for a reply.
func (sw *sender) heartbeat(probe bool) error {
	head := sw.prefix(probe)
	head = sw.fr.AppendHeartbeat(head, sw.last)
	return sw.write(head, nil, probe)
}

// prefix starts the scratch buffer with room for the packet header and the
// semisync header (or the status byte).
func (sw *sender) prefix(flag bool) []byte {
	h := append(sw.scratch[:0], 0, 0, 0, 0)
	if sw.semisync {
		return wire.AppendEventHeader(h, flag)
	}
	return append(h, wire.StatusOK)
}

// write writes the packet whose payload is head[PacketHeaderLen:] and
// data into the buffered writer, split at 16 MiB as MySQL does, writing
// data in place so that no copy of a big event is made or kept.
func (sw *sender) write(head, data []byte, flag bool) error {
	sw.scratch = head
	n := len(head) - wire.PacketHeaderLen + len(data)
	var err error
	if n < wire.MaxPacketLen {
		head[0], head[1], head[2], head[3] = byte(n), byte(n>>8), byte(n>>16), sw.seq
		if _, err = sw.w.Write(head); err == nil {
			_, err = sw.w.Write(data)
		}
		sw.seq++
	} else {
		err = sw.writeSplit(head[wire.PacketHeaderLen:], data)
	}
	sw.seq = wire.SeqAfterEvent(sw.seq, flag && sw.semisync)
	return err
}

// writeSplit writes the payload head+data as protocol packets of
// wire.MaxPacketLen bytes, ended by a shorter (possibly empty) one, as
// wire.AppendPacket frames it, without joining head and data.
func (sw *sender) writeSplit(head, data []byte) error {
	left := len(head) + len(data)
	for {
		n := min(left, wire.MaxPacketLen)
		sw.hdr = [wire.PacketHeaderLen]byte{byte(n), byte(n >> 8), byte(n >> 16), sw.seq}
		sw.seq++
		if _, err := sw.w.Write(sw.hdr[:]); err != nil {
			return err
		}
		k := min(n, len(head))
		if _, err := sw.w.Write(head[:k]); err != nil {
			return err
		}
		head = head[k:]
		if _, err := sw.w.Write(data[:n-k]); err != nil {
			return err
		}
		data = data[n-k:]
		left -= n
		if n < wire.MaxPacketLen {
			return nil
		}
	}
}

// names interns binlog file names so that reading ACKs for one file does
// not allocate a string per ACK.
type names struct{ last string }

func (n *names) intern(b []byte) string {
	if string(b) != n.last { // the conversion in a comparison does not allocate
		n.last = string(b)
	}
	return n.last
}
