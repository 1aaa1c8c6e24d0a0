package binlog

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/transport"
)

// FirstOffset is the offset of the first event in a binlog file: MySQL's
// files begin with 4 magic bytes.
const FirstOffset = 4

type entry struct {
	end   semisync.Position
	start int // index of the event's first byte in Memory.data
	file  int // the number of the file it is in
}

// Memory is an in-memory binlog. Its methods are safe for concurrent use:
// one writer appends while cursors read.
type Memory struct {
	base string

	mu      sync.Mutex
	file    int
	name    string // the current file's name
	off     uint64
	data    []byte
	entries []entry
	visible int // entries cursors may read
	waiters []chan struct{}
}

// NewMemory returns an empty binlog whose files are named base.000001,
// base.000002, ...
func NewMemory(base string) *Memory {
	return &Memory{base: base, file: 1, name: fileName(base, 1), off: FirstOffset}
}

// Head returns the end of the last event appended, or the start of the
// current file when it holds none.
func (m *Memory) Head() semisync.Position {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.head()
}

func (m *Memory) head() semisync.Position { return semisync.FilePos(m.name, m.off) }

// Append writes one event and returns its end position. The bytes are
// copied. The event stays invisible to cursors until Publish.
func (m *Memory) Append(event []byte) semisync.Position {
	m.mu.Lock()
	defer m.mu.Unlock()
	start := len(m.data)
	m.data = append(m.data, event...)
	m.off += uint64(len(event))
	end := m.head()
	m.entries = append(m.entries, entry{end: end, start: start, file: m.file})
	return end
}

// Publish makes every appended event visible to cursors (MySQL's update of
// the binlog end position after the sync) and wakes cursors waiting at
// the end. With several writers, Append, source.Flushed and Publish must
// run as one step under the host's binlog lock (waitpoint does this), or
// one writer's Publish shows another's event before its Flushed.
func (m *Memory) Publish() {
	m.mu.Lock()
	if m.visible == len(m.entries) {
		m.mu.Unlock()
		return
	}
	m.visible = len(m.entries)
	ws := m.waiters
	m.mu.Unlock()
	for _, w := range ws {
		select {
		case w <- struct{}{}:
		default:
		}
	}
}

// Rotate starts the next file and returns its first position.
func (m *Memory) Rotate() semisync.Position {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.file++
	m.name = fileName(m.base, m.file)
	m.off = FirstOffset
	return m.head()
}

// Len returns the number of events appended, published or not.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.entries)
}

func fileName(base string, n int) string { return fmt.Sprintf("%s.%06d", base, n) }

// isFileStart reports whether p is the first position of one of the files
// up to file number last.
func (m *Memory) isFileStart(p semisync.Position, last int) bool {
	n, ok := strings.CutPrefix(p.File(), m.base+".")
	k, err := strconv.Atoi(n)
	return ok && err == nil && p.Offset() == FirstOffset && k >= 1 && k <= last && p.File() == fileName(m.base, k)
}

// published returns the end of the binlog as cursors see it, and the number
// of the last file they may start in: the current file when every event
// is published, else the file of the first unpublished event, whose
// start is still before that event.
func (m *Memory) published() (semisync.Position, int) {
	if m.visible == len(m.entries) {
		return m.head(), m.file
	}
	e := m.entries[m.visible]
	if m.visible > 0 && m.entries[m.visible-1].file == e.file {
		return m.entries[m.visible-1].end, e.file
	}
	return semisync.FilePos(fileName(m.base, e.file), FirstOffset), e.file
}

// ErrClosed is returned by a closed cursor of a Memory. (A File's cursors
// return relaylog.ErrClosed, when closed or once the File is.)
var ErrClosed = errors.New("binlog: closed")

// ErrUnknownPosition is wrapped by the error Open returns for a start
// position the binlog does not have: past its end, in a file it never had,
// or inside an event. MySQL refuses such a dump request with error 1236
// ("position > file size", "impossible position"); serving it would let the
// source take the position as the replica's acknowledgement (spec §7.1) and
// release commits the replica never got.
var ErrUnknownPosition = errors.New("binlog: start position not in the binlog")

// Open returns a cursor whose first event is the first ending after start.
// start must be the zero Position (the beginning), the first position of
// one of the binlog's files, or the end of an event, and it must not lie
// after the published events: an event appended but not yet published is
// not in the binlog as replicas see it (the source may not know of it yet).
// Otherwise Open returns an error wrapping ErrUnknownPosition.
func (m *Memory) Open(start semisync.Position) (transport.Cursor, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	i := 0
	for i < m.visible && m.entries[i].end.Compare(start) <= 0 {
		i++
	}
	end, last := m.published()
	if !start.IsZero() && !m.isFileStart(start, last) && (i == 0 || m.entries[i-1].end != start) {
		return nil, fmt.Errorf("%w: %v (the published binlog ends at %v)", ErrUnknownPosition, start, end)
	}
	c := &cursor{m: m, next: i, wake: make(chan struct{}, 1)}
	m.waiters = append(m.waiters[:len(m.waiters):len(m.waiters)], c.wake)
	return c, nil
}

type cursor struct {
	m      *Memory
	next   int
	wake   chan struct{}
	closed bool
}

func (c *cursor) Next() (transport.Event, bool, error) {
	if c.closed {
		return transport.Event{}, false, ErrClosed
	}
	m := c.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if c.next >= m.visible {
		return transport.Event{}, false, nil
	}
	e := m.entries[c.next]
	stop := len(m.data)
	if c.next+1 < len(m.entries) {
		stop = m.entries[c.next+1].start
	}
	c.next++
	// The slice stays valid: data is only ever appended to, and a
	// reallocation leaves the old array intact for readers holding it.
	return transport.Event{Data: m.data[e.start:stop:stop], End: e.end}, true, nil
}

func (c *cursor) Wait() <-chan struct{} { return c.wake }

func (c *cursor) Close() error {
	if c.closed {
		return nil
	}
	c.closed = true
	m := c.m
	m.mu.Lock()
	defer m.mu.Unlock()
	// Copy on write: Append wakes a snapshot of the slice outside the lock.
	ws := make([]chan struct{}, 0, len(m.waiters))
	for _, w := range m.waiters {
		if w != c.wake {
			ws = append(ws, w)
		}
	}
	m.waiters = ws
	return nil
}

// Relay is an in-memory relay log: it implements replica.RelayLog and
// replica.Syncer, keeping every event written with its end position.
// Writes become visible to Events only when flushed. Safe for concurrent
// use.
type Relay struct {
	mu      sync.Mutex
	pending []RelayEvent
	events  []RelayEvent
	flushes int
	syncs   int
}

// RelayEvent is one event held by a Relay.
type RelayEvent struct {
	// Data is the event's bytes.
	Data []byte
	// End is its end position in the source's binlog.
	End semisync.Position
}

// Write copies the event into the relay log's unflushed buffer.
func (r *Relay) Write(event []byte, end semisync.Position) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pending = append(r.pending, RelayEvent{Data: append([]byte(nil), event...), End: end})
	return nil
}

// Flush makes the written events visible.
func (r *Relay) Flush() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, r.pending...)
	r.pending = r.pending[:0]
	r.flushes++
	return nil
}

// Discard drops the events written since the last Flush (replica.Discarder).
// A connection that ends between a Write and the Flush after it leaves them
// behind, and the next connection, resuming from Last, receives them again;
// replica.Stream.Close calls Discard, as a relay log file is cut back to
// what was flushed.
func (r *Relay) Discard() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pending = r.pending[:0]
}

// Sync counts a sync; memory has nothing more to do.
func (r *Relay) Sync() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.syncs++
	return nil
}

// Events returns a copy of the flushed events.
func (r *Relay) Events() []RelayEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]RelayEvent(nil), r.events...)
}

// Len returns the number of flushed events.
func (r *Relay) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events)
}

// Last returns the end of the last flushed event, or the zero position.
func (r *Relay) Last() semisync.Position {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.events) == 0 {
		return semisync.Position{}
	}
	return r.events[len(r.events)-1].End
}

// Counts returns the number of Flush and Sync calls.
func (r *Relay) Counts() (flushes, syncs int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.flushes, r.syncs
}
