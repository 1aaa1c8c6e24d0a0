package status

import (
	"cmp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/semisync-go/semisync"
)

// Ledger records, per replica, what the source knows about its
// acknowledgements: the last position it acknowledged, how many ACKs it
// sent, when, and how far it is behind the source's newest write. MySQL and
// MariaDB show none of this.
//
// Entries are keyed by [semisync.ReplicaID]. An entry survives its
// replica's disconnect (shown with Connected false) and is reused, without
// allocating, when the same ID joins again; [Ledger.Forget] drops it.
//
// The zero value is ready to use; a Ledger must not be copied after first
// use. Membership changes (Join, Forget) take a small mutex and publish a
// new sorted slice; lookups, snapshots and [LedgerEntry.RecordAck] are
// lock-free, and RecordAck does not allocate.
//
// Writers of one entry — Join and Leave for that ID and RecordAck on the
// entry — must not run concurrently with each other: the caller serialises
// them, as the source does under its lock or on the replica's single ACK
// goroutine. Writers of different entries, and any number of readers, may
// run concurrently. The same holds for SetHead calls among themselves.
type Ledger struct {
	mu      sync.Mutex                     // serialises membership changes
	entries atomic.Pointer[[]*LedgerEntry] // sorted by ID; replaced, never mutated
	headSeq singleSeq
	head    posAtoms
}

// LedgerEntry is one replica's record in a [Ledger]. Obtain it from
// [Ledger.Join]; the pointer stays valid (and recordable) even after
// [Ledger.Forget], though a forgotten entry no longer appears in snapshots.
type LedgerEntry struct {
	id  semisync.ReplicaID
	seq singleSeq

	// Written under seq by the entry's (serialised) writers, read by anyone.
	active   atomic.Int64 // open sessions: Join − Leave, floored at 0
	sessions atomic.Uint64
	since    atomic.Int64 // unix ns of the last Join
	left     atomic.Int64 // unix ns of the last Leave
	start    posAtoms
	acked    posAtoms
	acks     atomic.Uint64
	stale    atomic.Uint64
	lastAck  atomic.Int64 // unix ns
	// The latest regression (RecordRegression) and how many there were.
	regressions atomic.Uint64
	regFrom     posAtoms
	regTo       posAtoms
	regAt       atomic.Int64 // unix ns

	// cur is the acknowledged position as a Position, used only by the
	// writers (which the caller serialises) to compare without rebuilding
	// it from the atomics.
	cur semisync.Position
}

// posAtoms stores a Position as atomics, guarded by an enclosing sequence
// lock. The file name is published through a pointer replaced only when the
// name changes (binlog rotation), so steady-state stores do not allocate.
type posAtoms struct {
	file atomic.Pointer[string] // nil means ""
	off  atomic.Uint64
}

func (p *posAtoms) fileName() string {
	if f := p.file.Load(); f != nil {
		return *f
	}
	return ""
}

// store sets the position; when the name differs from the current one it
// reuses share's pointer if that already holds the name, else allocates.
func (p *posAtoms) store(pos semisync.Position, share *posAtoms) {
	if name := pos.File(); p.fileName() != name {
		switch {
		case name == "":
			p.file.Store(nil)
		case share != nil && share.fileName() == name:
			p.file.Store(share.file.Load())
		default:
			f := new(string)
			*f = name
			p.file.Store(f)
		}
	}
	p.off.Store(pos.Offset())
}

// rawPos is a position as loaded inside a read section; build it after the
// section is validated.
type rawPos struct {
	file *string
	off  uint64
}

func (p *posAtoms) load() rawPos { return rawPos{p.file.Load(), p.off.Load()} }

func (r rawPos) position() semisync.Position {
	if r.file == nil {
		return semisync.LSN(r.off)
	}
	return semisync.FilePos(*r.file, r.off)
}

func (l *Ledger) list() []*LedgerEntry {
	if p := l.entries.Load(); p != nil {
		return *p
	}
	return nil
}

func search(list []*LedgerEntry, id semisync.ReplicaID) (int, bool) {
	return slices.BinarySearchFunc(list, id, func(e *LedgerEntry, id semisync.ReplicaID) int {
		return cmp.Compare(e.id, id)
	})
}

// Join records that replica id started a semisync dump session at start,
// the position it asked to receive from, and returns its entry. MySQL
// treats the start position as an ACK from that replica (spec §7.1), so it
// becomes the entry's acknowledged position — even if it is before the
// previous one, because a reconnecting replica restarts from what it
// announces (the source records a start below what the replica had
// acknowledged with [LedgerEntry.RecordRegression]) — but it is not
// counted in Acks. Sessions is incremented and ConnectedSince set to now.
//
// A known ID reuses its entry and does not allocate (unless start names a
// file the entry has not seen); a new ID allocates the entry and a new
// membership slice. Sessions of one ID may overlap (a reconnect seen before
// the old session's Leave): the entry is connected while any is open.
func (l *Ledger) Join(id semisync.ReplicaID, start semisync.Position, now time.Time) *LedgerEntry {
	l.mu.Lock()
	defer l.mu.Unlock()
	list := l.list()
	i, found := search(list, id)
	if found {
		list[i].join(start, now)
		return list[i]
	}
	e := &LedgerEntry{id: id}
	e.join(start, now)
	next := make([]*LedgerEntry, 0, len(list)+1)
	next = append(append(append(next, list[:i]...), e), list[i:]...)
	l.entries.Store(&next)
	return e
}

func (e *LedgerEntry) join(start semisync.Position, now time.Time) {
	e.seq.begin()
	e.active.Add(1)
	e.sessions.Add(1)
	e.since.Store(unixNano(now))
	e.start.store(start, &e.acked)
	e.acked.store(start, &e.start)
	e.cur = start
	e.seq.end()
}

// Leave records that one session of e's replica ended at now. The entry
// stays in the ledger, shown disconnected once no session is open. A nil e
// is ignored; extra calls do not make the session count negative.
func (l *Ledger) Leave(e *LedgerEntry, now time.Time) {
	if e == nil {
		return
	}
	e.seq.begin()
	if n := e.active.Load(); n > 0 {
		e.active.Store(n - 1)
	}
	e.left.Store(unixNano(now))
	e.seq.end()
}

// Forget removes replica id's entry and reports whether there was one. A
// later Join of the same ID starts a fresh entry.
func (l *Ledger) Forget(id semisync.ReplicaID) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	list := l.list()
	i, found := search(list, id)
	if !found {
		return false
	}
	next := make([]*LedgerEntry, 0, len(list)-1)
	next = append(append(next, list[:i]...), list[i+1:]...)
	l.entries.Store(&next)
	return true
}

// Lookup returns replica id's entry, lock-free and without allocating.
func (l *Ledger) Lookup(id semisync.ReplicaID) (*LedgerEntry, bool) {
	list := l.list()
	if i, found := search(list, id); found {
		return list[i], true
	}
	return nil, false
}

// Len returns the number of entries.
func (l *Ledger) Len() int { return len(l.list()) }

// SetHead records the source's newest written position (MySQL's commit_pos,
// the largest transaction end written to the binlog, spec §3), against which
// snapshots measure each replica's lag. Calls must not run concurrently with
// each other; the source makes them under its lock. It allocates only when
// the file name changes.
func (l *Ledger) SetHead(p semisync.Position) {
	l.headSeq.begin()
	l.head.store(p, nil)
	l.headSeq.end()
}

// Head returns the position last given to SetHead (the zero Position if
// none).
func (l *Ledger) Head() semisync.Position {
	var r rawPos
	readConsistent(&l.headSeq, func() { r = l.head.load() })
	return r.position()
}

// ID returns the entry's replica ID.
func (e *LedgerEntry) ID() semisync.ReplicaID { return e.id }

// RecordAck records an ACK for pos received at now: Acks +1 and LastAck :=
// now. If pos is after the acknowledged position it becomes the new one;
// otherwise (an older or repeated ACK) StaleAcks is incremented and the
// position does not move back. It never allocates, except once per binlog
// file name change. A nil e is ignored. See [Ledger] for the rule on
// concurrent writers.
func (e *LedgerEntry) RecordAck(pos semisync.Position, now time.Time) {
	if e == nil {
		return
	}
	e.seq.begin()
	e.acks.Add(1)
	e.lastAck.Store(unixNano(now))
	if pos.Compare(e.cur) > 0 {
		e.cur = pos
		e.acked.store(pos, nil)
	} else {
		e.stale.Add(1)
	}
	e.seq.end()
}

// RecordRegression records that e's replica came back below what it had
// acknowledged: it registered at start, before from, the highest position
// it had acknowledged to the source (the source's EventReplicaRegressed).
// Regressions +1, and the latest regression's positions and time are
// replaced. The acknowledged position is whatever the latest Join set; call
// it after that Join. It never allocates, except when a position names a
// file the entry's other positions do not. A nil e is ignored. See
// [Ledger] for the rule on concurrent writers.
func (e *LedgerEntry) RecordRegression(from, start semisync.Position, now time.Time) {
	if e == nil {
		return
	}
	e.seq.begin()
	e.regressions.Add(1)
	e.regFrom.store(from, &e.start)
	e.regTo.store(start, &e.start)
	e.regAt.Store(unixNano(now))
	e.seq.end()
}

// Acked returns the entry's acknowledged position, lock-free.
func (e *LedgerEntry) Acked() semisync.Position {
	var r rawPos
	readConsistent(&e.seq, func() { r = e.acked.load() })
	return r.position()
}

// ReplicaSnapshot is one [Ledger] entry at one instant.
type ReplicaSnapshot struct {
	// ID is the replica's ID (its server_id for MySQL hosts).
	ID semisync.ReplicaID
	// Connected reports whether at least one session of the replica is open.
	Connected bool
	// Sessions is the number of Join calls for this replica since the entry
	// was created.
	Sessions uint64
	// ConnectedSince is the time of the latest Join.
	ConnectedSince time.Time
	// Disconnected is the time of the latest Leave, or zero if none.
	Disconnected time.Time
	// Start is the position the replica asked for at its latest Join.
	Start semisync.Position
	// Acked is the last acknowledged position: the latest Join's start or
	// a later ACK, whichever is greater since that Join.
	Acked semisync.Position
	// Acks is the number of ACKs received (RecordAck calls), stale ones
	// included; the start position of a Join is not counted.
	Acks uint64
	// StaleAcks is the number of ACKs that did not advance Acked (older
	// than or equal to it).
	StaleAcks uint64
	// LastAck is when the latest ACK was received, or zero if none.
	LastAck time.Time
	// Lag is how far Acked is behind the ledger's head ([Ledger.SetHead]).
	Lag Lag
	// Regressions is the number of times the replica came back below a
	// position it had acknowledged ([LedgerEntry.RecordRegression]): it
	// lost events it had acknowledged. Not reset by RESET MASTER.
	Regressions uint64
	// RegressedFrom is, for the latest regression, the highest position the
	// replica had acknowledged before it; zero if there was none.
	RegressedFrom semisync.Position
	// RegressedTo is the start position the replica came back at in the
	// latest regression; zero if there was none (or it started from the
	// beginning).
	RegressedTo semisync.Position
	// RegressedAt is when the latest regression was seen, or zero if none.
	RegressedAt time.Time
}

// Snapshot returns every entry, sorted by ID, with lag measured against
// Head. It is lock-free and allocates only the returned slice.
func (l *Ledger) Snapshot() []ReplicaSnapshot { return l.SnapshotInto(nil) }

// SnapshotInto appends the snapshot to dst and returns the extended slice;
// it does not allocate when dst has room. Pass dst[:0] to reuse a slice.
func (l *Ledger) SnapshotInto(dst []ReplicaSnapshot) []ReplicaSnapshot {
	head := l.Head()
	for _, e := range l.list() {
		dst = append(dst, e.snapshot(head))
	}
	return dst
}

func (e *LedgerEntry) snapshot(head semisync.Position) ReplicaSnapshot {
	var (
		active                      int64
		sessions, acks, stale, regs uint64
		since, left, last, regAt    int64
		start, acked, from, to      rawPos
	)
	readConsistent(&e.seq, func() {
		active = e.active.Load()
		sessions = e.sessions.Load()
		since, left = e.since.Load(), e.left.Load()
		start, acked = e.start.load(), e.acked.load()
		acks, stale = e.acks.Load(), e.stale.Load()
		last = e.lastAck.Load()
		regs, regAt = e.regressions.Load(), e.regAt.Load()
		from, to = e.regFrom.load(), e.regTo.load()
	})
	ap := acked.position()
	return ReplicaSnapshot{
		ID:             e.id,
		Connected:      active > 0,
		Sessions:       sessions,
		ConnectedSince: fromUnixNano(since),
		Disconnected:   fromUnixNano(left),
		Start:          start.position(),
		Acked:          ap,
		Acks:           acks,
		StaleAcks:      stale,
		LastAck:        fromUnixNano(last),
		Lag:            LagOf(ap, head),
		Regressions:    regs,
		RegressedFrom:  from.position(),
		RegressedTo:    to.position(),
		RegressedAt:    fromUnixNano(regAt),
	}
}

// Lag is how far an acknowledged position is behind a head position.
//
//   - Same binlog file, or both LSNs: BytesKnown is true and Bytes is the
//     offset difference (LSN units for LSN hosts).
//   - Different files of one binlog (same name stem, numeric suffixes):
//     Files is the difference of the file indexes and BytesKnown is false,
//     since the sizes of the files in between are unknown here.
//   - At or after the head, or the head is the zero Position (nothing
//     written yet): zero lag, BytesKnown true.
//   - Otherwise (different stems, an LSN against a file position) the
//     positions cannot be compared: Files is 0 and BytesKnown false.
type Lag struct {
	// Bytes is the byte (or LSN) distance; meaningful when BytesKnown.
	Bytes uint64
	// Files is how many binlog files behind the acknowledged position is.
	Files uint64
	// BytesKnown reports whether Bytes is exact.
	BytesKnown bool
}

// LagOf returns how far acked is behind head; see [Lag].
func LagOf(acked, head semisync.Position) Lag {
	if acked.File() == head.File() {
		return Lag{Bytes: head.Offset() - min(acked.Offset(), head.Offset()), BytesKnown: true}
	}
	if head.IsZero() {
		return Lag{BytesKnown: true}
	}
	ai, aok := acked.FileIndex()
	hi, hok := head.FileIndex()
	if !aok || !hok || stem(acked.File()) != stem(head.File()) {
		return Lag{}
	}
	switch {
	case ai > hi:
		return Lag{BytesKnown: true}
	case ai < hi:
		return Lag{Files: hi - ai}
	}
	return Lag{} // same index spelled differently, such as binlog.01 and binlog.1
}

// stem returns name without its trailing digits.
func stem(name string) string { return strings.TrimRight(name, "0123456789") }
