package semisynctest

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/dump"
	"github.com/semisync-go/semisync/transport"
	"github.com/semisync-go/semisync/waitpoint"
)

// Tx is one transaction a schedule's Commit step commits: the N-th of the
// run (CommitRecord.N).
type Tx struct{ N int }

// Event is one event of a binlog or relay log: its bytes and where it
// ends.
type Event = dump.Event

// Host is a host's commit path on the source's side: its binlog and its
// storage engine, through the interfaces a host gives the library already
// (waitpoint.Steps for the commit, transport.Binlog for its binlog
// senders), plus what the simulation needs to judge and crash it.
//
// The simulation commits one transaction at a time as waitpoint.Pipeline
// would: Flush, then source.Flushed, then Sync (after which the binlog's
// cursors may return the transaction), then the engine's Commit after
// the wait returns (AFTER_SYNC) or before the wait begins (AFTER_COMMIT).
// A step's error stops the run (Run returns it), as does an end Flush
// returns that the source refuses (source.Flushed). Each replica
// connection reads the binlog through a cursor from Open, made before the
// source registers the replica (an error refuses it, as MySQL's 1236
// does, and it tries again later); the simulation calls Next after each
// Sync and when the connection opens, copies what it returns, and closes
// the cursor when the connection ends or the run does. Everything is
// called from Run's goroutine.
type Host interface {
	waitpoint.Steps[Tx]
	transport.Binlog
	// Visible reports whether a reader finds tx committed. The simulation
	// asks about each of the current source's commits until the answer is
	// true, whenever anything happens, and takes the first true as the time
	// the commit became visible (CommitRecord.Visible).
	Visible(tx Tx) bool
	// Crash is a power failure of the source's host and its restart: the
	// binlog keeps what Sync made durable and goes on in a new file (as
	// MySQL's does), and End then says where. Cursors opened before are
	// not used again.
	Crash() error
	// End is where the binlog's next event would begin: the source is
	// told it when it starts (source.Appended), and a replica with an
	// empty relay log starts from the first End.
	End() semisync.Position
}

// Binlog is the simulation's binlog, on the source's simulated disk: the
// events a Host's Flush writes, which its cursors return once Sync made
// them durable. Config.Host receives one, to keep (its Flush, Sync, Open,
// Crash and End are a Host's, so a host may embed it and add an engine)
// or to copy into a binlog of its own. Each event's bytes are its
// transaction's number, 8 bytes little-endian. Like the rest of the
// simulation it is not safe for concurrent use.
type Binlog struct {
	file      int
	name      string // binlogName(file)
	off       uint64
	events    []Event
	arena     []byte
	published int // cursors return events[:published]
	synced    int // events[:synced] are durable
	crashes   int
	wake      chan struct{} // closed when more is published; nil until a cursor waits
}

// eventSize is the size of each transaction in the simulated binlog.
const eventSize = 100

// newBinlog returns a binlog holding events (a promoted replica's relay
// log) and going on in file number file.
func newBinlog(events []Event, file int) *Binlog {
	b := &Binlog{file: file, name: binlogName(file), off: 4}
	for _, e := range events {
		b.add(e.Data, e.End)
	}
	b.published, b.synced = len(b.events), len(b.events)
	return b
}

func (b *Binlog) add(data []byte, end semisync.Position) {
	at := len(b.arena)
	b.arena = append(b.arena, data...)
	// A full slice expression: a later append never writes into an
	// event's bytes.
	b.events = append(b.events, Event{Data: b.arena[at:len(b.arena):len(b.arena)], End: end})
}

// Flush appends one event per transaction, its number as its bytes, and
// stores their ends. Cursors do not return them before Sync.
func (b *Binlog) Flush(_ context.Context, txs []Tx, ends []semisync.Position) error {
	for i, tx := range txs {
		b.off += eventSize
		ends[i] = semisync.FilePos(b.name, b.off)
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], uint64(tx.N))
		b.add(n[:], ends[i])
	}
	return nil
}

// Sync makes every event written durable (fsync) and lets cursors return
// them.
func (b *Binlog) Sync(context.Context, semisync.Position) error {
	b.synced = len(b.events)
	b.publish(len(b.events))
	return nil
}

func (b *Binlog) publish(n int) {
	if n > b.published {
		b.published = n
		if b.wake != nil {
			close(b.wake)
			b.wake = nil
		}
	}
}

// Commit does nothing: the binlog is no engine.
func (b *Binlog) Commit(context.Context, []Tx) error { return nil }

// Crash loses what was not synced and goes on in the next file. Cursors
// opened before return an error.
func (b *Binlog) Crash() error {
	b.crashes++
	b.events = b.events[:b.synced]
	b.published = b.synced
	if b.wake != nil {
		close(b.wake) // waiting cursors find the crash
		b.wake = nil
	}
	b.file++
	b.name = binlogName(b.file)
	b.off = 4
	return nil
}

// End is where the next event begins.
func (b *Binlog) End() semisync.Position { return semisync.FilePos(b.name, b.off) }

// Events returns what the binlog holds, durable or not, in order; the
// slice and the bytes are the caller's.
func (b *Binlog) Events() []Event { return copyEvents(b.events) }

// Holds reports whether the binlog holds the event of tx (durable or
// not), in the simulation's own format (its number as its bytes). It
// reads every event: it is for a host's crash recovery.
func (b *Binlog) Holds(tx Tx) bool {
	for _, e := range b.events {
		if len(e.Data) == 8 && binary.LittleEndian.Uint64(e.Data) == uint64(tx.N) {
			return true
		}
	}
	return false
}

// ErrUnknownStart is wrapped by the error of Open for a start the binlog
// does not hold.
var ErrUnknownStart = errors.New("semisynctest: the binlog does not hold the start")

// Open returns a cursor whose first event is the first one ending after
// start. It refuses a start that is neither the first position of one of
// its files nor the end of an event it holds (a lost tail, say), as
// transport.Binlog requires: the source takes the start as the replica's
// acknowledgement.
func (b *Binlog) Open(start semisync.Position) (dump.Cursor, error) {
	i := sort.Search(len(b.events), func(i int) bool { return b.events[i].End.Compare(start) >= 0 })
	held := i < len(b.events) && b.events[i].End == start
	if !held && start.Offset() == 4 {
		for f := 1; f <= b.file && !held; f++ {
			held = start.File() == binlogName(f)
		}
	}
	if !held {
		return nil, fmt.Errorf("%w: %s", ErrUnknownStart, start)
	}
	if i < len(b.events) && b.events[i].End == start {
		i++
	}
	return &binlogCursor{b: b, next: i, crashes: b.crashes}, nil
}

// errBinlogCrashed ends a cursor opened before the binlog's crash.
var errBinlogCrashed = errors.New("semisynctest: the binlog crashed")

type binlogCursor struct {
	b       *Binlog
	next    int
	crashes int
}

func (c *binlogCursor) Next() (Event, bool, error) {
	if c.crashes != c.b.crashes {
		return Event{}, false, errBinlogCrashed
	}
	if c.next >= c.b.published {
		return Event{}, false, nil
	}
	c.next++
	return c.b.events[c.next-1], true, nil
}

func (c *binlogCursor) Wait() <-chan struct{} {
	if c.next < c.b.published || c.crashes != c.b.crashes {
		ch := make(chan struct{})
		close(ch)
		return ch
	}
	if c.b.wake == nil {
		c.b.wake = make(chan struct{})
	}
	return c.b.wake
}

func (c *binlogCursor) Close() error { return nil }

// copyEvents copies events and their bytes into one new arena.
func copyEvents(events []Event) []Event {
	n := 0
	for _, e := range events {
		n += len(e.Data)
	}
	arena := make([]byte, 0, n)
	out := make([]Event, len(events))
	for i, e := range events {
		at := len(arena)
		arena = append(arena, e.Data...)
		out[i] = Event{Data: arena[at:len(arena):len(arena)], End: e.End, Artificial: e.Artificial}
	}
	return out
}

// simHost is the simulation's own host (Config.Host nil): the simulation's
// Binlog and an engine that shows transactions in order, with the broken
// variants Config.PublishBeforeSync and Config.VisibleAtCommit.
type simHost struct {
	*Binlog
	c       *cluster
	visible int // the engine shows transactions up to this number
}

func (h *simHost) Flush(ctx context.Context, txs []Tx, ends []semisync.Position) error {
	h.Binlog.Flush(ctx, txs, ends)
	if h.c.cfg.PublishBeforeSync {
		h.publish(len(h.events)) // senders read it now; the fsync comes later
	}
	if h.c.cfg.VisibleAtCommit {
		h.visible = txs[len(txs)-1].N // an engine commit at write
	}
	return nil
}

func (h *simHost) Sync(ctx context.Context, end semisync.Position) error {
	if !h.c.cfg.PublishBeforeSync {
		return h.Binlog.Sync(ctx, end)
	}
	n, crashes := len(h.events), h.crashes
	h.c.at(h.c.cfg.BinlogSync, func() {
		if h.crashes == crashes {
			h.synced = max(h.synced, n)
		}
	})
	return nil
}

func (h *simHost) Commit(_ context.Context, txs []Tx) error {
	h.visible = max(h.visible, txs[len(txs)-1].N)
	return nil
}

func (h *simHost) Visible(tx Tx) bool { return tx.N <= h.visible }

// AckContainer is quorum arithmetic outside the library's (Config.Acks):
// a host's own, or a known-broken one such as MySQL's AckContainer before
// mysql-server PR #509. The simulation gives it every ACK the source
// receives, and each replica's start position when it connects (MySQL
// takes that as an ACK), and releases the commits up to what it reports.
// It hears of the wait count only with each ACK: a container that
// reports when the count changes (MySQL's resize) cannot say so before
// the next ACK.
type AckContainer interface {
	// Ack takes replica id's ACK of pos (replica i has ID i+1) while the
	// wait count is count, and returns the position the quorum now holds,
	// if that moved.
	Ack(id semisync.ReplicaID, pos semisync.Position, count int) (semisync.Position, bool)
}
