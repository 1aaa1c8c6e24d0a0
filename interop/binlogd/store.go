package binlogd

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/dump"
	"github.com/semisync-go/semisync/interop/mysqlsource"
	"github.com/semisync-go/semisync/relaylog"
)

// segmentPrefix and segmentSuffix name a store's segment files:
// segment-000001.ssrl, and so on.
const (
	segmentPrefix = "segment-"
	segmentSuffix = ".ssrl"
)

// markLen is the length of relaylog's sync mark.
const markLen = 22

// DefaultSegmentBytes is StoreOptions.SegmentBytes's default.
const DefaultSegmentBytes = 64 << 20

// Errors of a Store.
var (
	// ErrDamaged is wrapped by OpenStore's error for a segment that is
	// not what the store wrote (no checkpoint first, a gap between
	// segments).
	ErrDamaged = errors.New("binlogd: damaged store")
	// ErrNotHeld is wrapped by Open's error for a start the store does
	// not hold (purged, never received, inside an event).
	ErrNotHeld = errors.New("binlogd: position not in the store")
	// ErrDiverged is wrapped by Write's error for an event the store
	// cannot take as a resend of what it holds nor as the next one: the
	// primary's binlog does not continue the store's (RESET MASTER,
	// another primary). Start the server on an empty directory.
	ErrDiverged = errors.New("binlogd: the primary's binlog does not continue the store's")
	// ErrStoreClosed is returned after Close.
	ErrStoreClosed = errors.New("binlogd: store closed")
	// ErrCannotStore is wrapped by Write's error for an event the store
	// cannot keep and follow: a GTID event of the other flavor's (the
	// store's is StoreOptions.MySQL), MySQL 8.3's tagged GTIDs, a
	// transaction number out of MySQL's range, a GTID set beyond
	// mysqlsource's limits. Replication stops there rather than keep a
	// position the store could not answer for.
	ErrCannotStore = errors.New("binlogd: an event the store cannot keep")
	// ErrWrongFlavor is wrapped by OpenStore's error for a store written
	// for the other kind of primary (StoreOptions.MySQL).
	ErrWrongFlavor = errors.New("binlogd: the store was written for another kind of primary")
)

// StoreOptions configure a Store.
type StoreOptions struct {
	// SegmentBytes is the size after which the store starts a new segment
	// file, at the next transaction boundary. Default DefaultSegmentBytes.
	SegmentBytes int64
	// RetainBytes and RetainAge, when set, let Purge remove the oldest
	// segments while the store holds more than RetainBytes, or while the
	// oldest segment was last written more than RetainAge ago. The
	// segment being written, and any segment a reader is in or will come
	// to, are never removed.
	RetainBytes int64
	RetainAge   time.Duration
	// MySQL says the primary is MySQL (either flavor): the store follows
	// MySQL's GTID sets and refuses MariaDB's GTID events; otherwise the
	// reverse. A store keeps the choice it was created with.
	MySQL bool
	// Start is the GTID position of the primary's binlog where an empty
	// store begins (MariaDB's domain-server-seq list, or a MySQL GTID
	// set): it goes into the first segment's checkpoint, and GTID answers
	// it until a transaction is stored. For MySQL, an empty store with no
	// Start offers no GTID checkpoint until it has held a file's previous
	// GTIDs: it does not know what came before it.
	Start string
	// OnFlush, if set, is called by Flush with the end of what it wrote,
	// when that moved on, before any reader can see it (a binlog server
	// tells its source.Source here: source.Source.Flushed).
	OnFlush func(end semisync.Position) error
}

// segment is one file of the store.
type segment struct {
	seq   uint64
	path  string
	f     *relaylog.File
	first semisync.Position // end of its checkpoint record: where it begins
	last  semisync.Position // end of its last fsynced record
	files []string          // the primary's binlog files it holds events of
	list  gtidPos           // the GTID position at first
	size  int64
	mod   time.Time
}

// checkpoint is the first record of each segment, a made-up event (type
// 0, no log position) whose body is this JSON: the GTID position where the
// segment begins, and the format description in force there.
type checkpoint struct {
	Version int    `json:"v"`
	GTID    string `json:"gtid"`
	MySQL   bool   `json:"mysql,omitempty"` // StoreOptions.MySQL
	Known   bool   `json:"known,omitempty"` // MySQL: GTID is every transaction before the segment
	File    string `json:"file,omitempty"`
	FD      []byte `json:"fd,omitempty"`
}

// Store is a binlog server's copy of a primary's binlog: the primary's
// events, byte for byte and at the primary's positions, in segment files
// of package relaylog's format (checksummed records, sync marks, a torn
// tail cut on open), rotated by size, each beginning with a checkpoint of
// the GTID position. It is the relay log of the server's upstream
// replica (mysqlreplica.Relay) and the binlog of its downstream source
// (mysqlsource.Binlog, mysqlsource.GTIDIndex or mysqlsource.MySQLGTIDIndex
// by its flavor, mysqlsource.Ender).
//
// Writes come from one goroutine (the upstream replica); readers
// (cursors from Open) see only fsynced records. Its methods are safe for
// concurrent use.
type Store struct {
	dir string
	o   StoreOptions

	mu        sync.Mutex
	segs      []*segment
	next      uint64 // the next segment's number
	live      txnState
	synced    txnState
	pending   semisync.Position // end of the last record written
	syncPos   semisync.Position // end of the last record fsynced
	reported  semisync.Position // the last end given to OnFlush
	fds       map[string][]byte // each primary file's format description
	fromTop   map[string]bool   // files held from their first event on
	verified  string            // the file whose format description the stream resent as stored
	floor     semisync.Position // where the store holds every event from: the end of its last gap
	floorPrev semisync.Position // the end of the last record before that gap
	floorGTID gtidPos           // the GTID position at floor
	// gtidFloor is the end of the last previous GTIDs event that named
	// transactions the store did not hold, and gtidFloorPos the GTID set
	// there: no GTID checkpoint before it is offered.
	gtidFloor    semisync.Position
	gtidFloorPos gtidPos
	readers      map[*cursor]struct{}
	grown        chan struct{}
	closed       bool
	recovery     relaylog.Recovery
	stats        StoreStats
}

// StoreStats are a Store's figures.
type StoreStats struct {
	Segments int
	Bytes    int64
	// Resent counts events passed over because the store held them
	// already (a GTID reconnection resends a transaction held in part).
	Resent uint64
	// Purged counts segments Purge removed.
	Purged uint64
}

// OpenStore opens the store in dir, creating dir if needed. Every segment
// is checked (relaylog.Open: the newest one's torn tail is cut, and
// Recovery says what), and read once to rebuild the index: the files it
// holds, their format descriptions, the GTID position.
func OpenStore(dir string, o StoreOptions) (*Store, error) {
	if o.SegmentBytes <= 0 {
		o.SegmentBytes = DefaultSegmentBytes
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	s := &Store{dir: dir, o: o, next: 1, fds: map[string][]byte{}, fromTop: map[string]bool{},
		readers: map[*cursor]struct{}{}, grown: make(chan struct{})}
	start, err := parseGTIDPos(o.Start)
	if err != nil {
		return nil, fmt.Errorf("binlogd: the store's start position: %w", err)
	}
	s.live.pos = start
	s.live.known = o.Start != ""
	names, err := filepath.Glob(filepath.Join(dir, segmentPrefix+"*"+segmentSuffix))
	if err != nil {
		return nil, err
	}
	sort.Strings(names) // fixed-width numbers
	for i, name := range names {
		seq, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(filepath.Base(name), segmentPrefix), segmentSuffix), 10, 64)
		if err != nil || seq < s.next {
			s.closeAll()
			return nil, fmt.Errorf("%w: unexpected segment file %s", ErrDamaged, name)
		}
		f, rec, err := relaylog.Open(name)
		if err != nil {
			s.closeAll()
			return nil, fmt.Errorf("binlogd: opening %s: %w", name, err)
		}
		if i == len(names)-1 {
			s.recovery = rec
		} else if rec.CutBytes > markLen {
			// Only the last sync mark of an older segment may be torn
			// (written after its fsync, and not fsynced again before the
			// next segment began), by a power failure.
			f.Close()
			s.closeAll()
			return nil, fmt.Errorf("%w: %s, not the newest segment, had a torn tail (%v)", ErrDamaged, name, rec)
		}
		seg := &segment{seq: seq, path: name, f: f}
		s.next = seq + 1
		if f.Last().IsZero() && f.Stats().Records == 0 {
			// A segment whose checkpoint never became durable: it holds
			// nothing.
			f.Close()
			if i != len(names)-1 {
				s.closeAll()
				return nil, fmt.Errorf("%w: %s is empty", ErrDamaged, name)
			}
			if err := os.Remove(name); err != nil {
				s.closeAll()
				return nil, err
			}
			break
		}
		if err := s.load(seg); err != nil {
			f.Close()
			s.closeAll()
			return nil, err
		}
		s.segs = append(s.segs, seg)
	}
	s.synced = s.live.clone()
	s.syncPos = s.pending
	s.reported = s.pending
	if n := len(s.segs); n > 0 {
		s.segs[n-1].last = s.pending
	}
	return s, nil
}

// load reads a segment's records into the index.
func (s *Store) load(seg *segment) error {
	first := true
	err := relaylog.Read(seg.path, func(r relaylog.Record) error {
		if first {
			first = false
			cp, ok := parseCheckpoint(r.Event)
			if !ok {
				return fmt.Errorf("%w: %s does not begin with a checkpoint", ErrDamaged, seg.path)
			}
			if len(s.segs) > 0 && r.End != s.pending {
				return fmt.Errorf("%w: %s begins at %v, its predecessor ends at %v", ErrDamaged, seg.path, r.End, s.pending)
			}
			if cp.MySQL != s.o.MySQL {
				return fmt.Errorf("%w: %s (MySQL: %v)", ErrWrongFlavor, seg.path, cp.MySQL)
			}
			list, err := parseGTIDPos(cp.GTID)
			if err != nil {
				return fmt.Errorf("%w: %s: %v", ErrDamaged, seg.path, err)
			}
			seg.first, seg.list = r.End, list
			if len(s.segs) == 0 {
				s.live = txnState{pos: list.clone(), boundary: r.End, known: cp.Known}
				if cp.FD != nil {
					s.live.apply(cp.FD, semisync.FilePos(cp.File, 4))
					s.noteFD(cp.FD, semisync.FilePos(cp.File, 4), false)
				}
			}
			s.pending = r.End
			return nil
		}
		s.note(seg, r.Event, r.End)
		return nil
	})
	if err != nil {
		return err
	}
	if first {
		return fmt.Errorf("%w: %s has no checkpoint", ErrDamaged, seg.path)
	}
	st, err := os.Stat(seg.path)
	if err != nil {
		return err
	}
	seg.size, seg.mod, seg.last = st.Size(), st.ModTime(), s.pending
	return nil
}

// note indexes one stored event (s.mu held, or before the store is shared).
func (s *Store) note(seg *segment, ev []byte, end semisync.Position) {
	h, ok := parseHeader(ev)
	if ok && !h.madeUp() && h.logPos >= h.size && !s.pending.IsZero() {
		// Events of a binlog follow each other: one that does not start
		// where the store ends leaves a gap (a first GTID dump skips the
		// file's transactions before its position). Nothing before the
		// gap's end is served by position.
		file := end.File()
		if h.typ == mysqlsource.TypeRotate {
			file = s.pending.File()
		}
		if start := semisync.FilePos(file, uint64(h.logPos-h.size)); start != s.pending {
			s.floor, s.floorPrev, s.floorGTID = start, s.pending, s.live.pos.clone()
		}
	}
	if s.live.apply(ev, end) {
		// Previous GTIDs naming transactions the store never held (it
		// began in this file, by file and position), or the first the
		// store has seen while its set was not known: they are before the
		// store, and no checkpoint before this event says so.
		s.gtidFloor, s.gtidFloorPos = end, s.live.pos.clone()
	}
	if ok && h.typ == mysqlsource.TypeFormatDescription {
		s.noteFD(ev, end, !h.madeUp() && h.logPos >= h.size && h.logPos-h.size == 4)
	}
	if n := len(seg.files); end.File() != "" && (n == 0 || seg.files[n-1] != end.File()) {
		seg.files = append(seg.files, end.File())
	}
	s.pending = end
}

func (s *Store) noteFD(ev []byte, end semisync.Position, top bool) {
	if _, ok := s.fds[end.File()]; !ok || top {
		s.fds[end.File()] = slices.Clone(ev)
	}
	if top {
		s.fromTop[end.File()] = true
	}
}

func parseCheckpoint(ev []byte) (checkpoint, bool) {
	h, ok := parseHeader(ev)
	if !ok || h.typ != typeUnknown || h.logPos != 0 {
		return checkpoint{}, false
	}
	var cp checkpoint
	if err := json.Unmarshal(ev[mysqlsource.HeaderLen:], &cp); err != nil || cp.Version != 1 {
		return checkpoint{}, false
	}
	return cp, true
}

func appendCheckpoint(cp checkpoint) []byte {
	body, _ := json.Marshal(cp)
	ev := make([]byte, mysqlsource.HeaderLen, mysqlsource.HeaderLen+len(body))
	ev[4] = typeUnknown
	binary.LittleEndian.PutUint32(ev[9:], uint32(mysqlsource.HeaderLen+len(body)))
	binary.LittleEndian.PutUint16(ev[17:], mysqlsource.FlagArtificial)
	return append(ev, body...)
}

func (s *Store) closeAll() {
	for _, seg := range s.segs {
		seg.f.Close()
	}
	s.segs = nil
}

// cur returns the segment being written, or nil.
func (s *Store) cur() *segment {
	if n := len(s.segs); n > 0 {
		return s.segs[n-1]
	}
	return nil
}

// Write stores one event of the primary's stream ending at end, or passes
// over it: events a source makes up for a dump (its first rotate, a
// format description sent again, a made-up GTID list, heartbeats) are not
// stored, except the format description of a file the store has none of;
// an event ending at or before the last one stored is one it holds
// already (a GTID dump resends the file's first events and the
// transaction held in part). A new segment begins first when the current
// one has SegmentBytes, is fsynced whole and no transaction is open.
func (s *Store) Write(ev []byte, end semisync.Position) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrStoreClosed
	}
	h, ok := parseHeader(ev)
	if !ok {
		return fmt.Errorf("%w: a %d-byte event", relaylog.ErrInvalidWrite, len(ev))
	}
	if h.typ == mysqlsource.TypeFormatDescription {
		// A file's format description says which incarnation of the file
		// this is (its creation time, the server's version): a resend may
		// only be passed over in the file the store holds.
		if fd, have := s.fds[end.File()]; have {
			if !sameFD(fd, ev) {
				return fmt.Errorf("%w: the format description of %s differs from the one stored (RESET MASTER, or another primary)", ErrDiverged, end.File())
			}
			s.verified = end.File()
		}
	}
	if h.madeUp() {
		if _, have := s.fds[end.File()]; h.typ != mysqlsource.TypeFormatDescription || have || end.Less(s.pending) {
			return nil
		}
	} else if !s.pending.Less(end) && !s.pending.IsZero() {
		// Held already, if the stream is the stored file's: a GTID dump
		// resends a transaction held in part and the file's first events.
		// Anything else would be acknowledged without being stored.
		if h.typ != mysqlsource.TypeRotate && end.File() != s.verified {
			return fmt.Errorf("%w: an event ending at %v, at or before the store's end %v, in a file whose format description was not resent", ErrDiverged, end, s.pending)
		}
		s.stats.Resent++
		return nil
	}
	if err := s.live.admit(h, ev, s.o.MySQL); err != nil {
		return err
	}
	seg := s.cur()
	if seg == nil || (seg.size >= s.o.SegmentBytes && !s.live.open && s.syncPos == s.pending && seg.f.Synced() == seg.f.Last()) {
		start := s.pending
		if start.IsZero() {
			// The store's first event: it begins where the event does.
			start = end
			if !h.madeUp() && h.typ != mysqlsource.TypeRotate && h.logPos >= h.size {
				start = semisync.FilePos(end.File(), uint64(h.logPos-h.size))
			}
			if start == end && h.typ != mysqlsource.TypeRotate && !h.madeUp() {
				return fmt.Errorf("%w: an event of %d bytes that ends where it starts (%v)", relaylog.ErrInvalidWrite, len(ev), end)
			}
		}
		var err error
		if seg, err = s.newSegment(start); err != nil {
			return err
		}
	}
	if !h.madeUp() && !s.pending.IsZero() && end.File() != s.pending.File() && h.typ != mysqlsource.TypeRotate {
		// The stream moved to another file without the rotate that ends
		// the previous one (a GTID dump starting in the next file after
		// the primary restarted): a replica must learn of the new file,
		// so the store writes the rotate the primary would have.
		rot := appendRotate(h.server, s.pending, end.File(), s.live.checksum)
		rend := semisync.FilePos(end.File(), 4)
		if err := seg.f.Write(rot, rend); err != nil {
			return err
		}
		s.note(seg, rot, rend)
	}
	if err := seg.f.Write(ev, end); err != nil {
		return err
	}
	s.note(seg, ev, end)
	return nil
}

// sameFD says whether two format descriptions describe the same file:
// the same binlog version, server version and creation time (the bytes
// after the header up to the post-header lengths; log_pos, flags and
// checksum may differ between a file's and a dump's copy).
func sameFD(a, b []byte) bool {
	const at, created = mysqlsource.HeaderLen, mysqlsource.HeaderLen + 2 + mysqlsource.ServerVersionLen
	if len(a) < created+4 || len(b) < created+4 {
		return false
	}
	// A file's creation time is 0 in every file but the first after a
	// server starts, and in some copies a dump sends: 0 matches any.
	ca, cb := binary.LittleEndian.Uint32(a[created:]), binary.LittleEndian.Uint32(b[created:])
	return string(a[at:created]) == string(b[at:created]) && (ca == cb || ca == 0 || cb == 0)
}

// appendRotate makes the rotate event a primary writes at the end of a
// file, after an event ending at prev, to file.
func appendRotate(server uint32, prev semisync.Position, file string, checksum bool) []byte {
	ev := mysqlsource.AppendRotate(nil, mysqlsource.Header{ServerID: server}, file, 4, checksum)
	mysqlsource.SetLogPos(ev, uint32(prev.Offset())+uint32(len(ev)), checksum)
	return ev
}

// newSegment starts a segment whose checkpoint ends at start, makes it
// durable (file, record, directory) and purges what retention allows.
func (s *Store) newSegment(start semisync.Position) (*segment, error) {
	path := filepath.Join(s.dir, fmt.Sprintf("%s%06d%s", segmentPrefix, s.next, segmentSuffix))
	f, _, err := relaylog.Open(path)
	if err != nil {
		return nil, err
	}
	cp := checkpoint{Version: 1, GTID: s.live.pos.String(), MySQL: s.o.MySQL, Known: s.o.MySQL && s.live.known, File: s.live.fdFile, FD: s.live.fd}
	if err := f.Write(appendCheckpoint(cp), start); err != nil {
		f.Close()
		return nil, err
	}
	if err := errors.Join(f.Flush(), f.Sync(), syncDir(s.dir)); err != nil {
		return nil, errors.Join(err, f.Close(), os.Remove(path))
	}
	seg := &segment{seq: s.next, path: path, f: f, first: start, last: start, list: s.live.pos.clone(), mod: time.Now(), size: f.Stats().Bytes}
	s.next++
	s.segs = append(s.segs, seg)
	if s.pending.IsZero() {
		s.pending, s.syncPos = start, start
		s.live.boundary = start
		s.synced = s.live.clone()
	}
	s.wakeLocked()
	return seg, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Flush writes what was written to the segment file and tells OnFlush
// where it ends.
func (s *Store) Flush() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	seg := s.cur()
	if seg == nil {
		return nil
	}
	if err := seg.f.Flush(); err != nil {
		return err
	}
	seg.size = seg.f.Stats().Bytes
	if s.o.OnFlush != nil && s.reported.Less(s.pending) {
		if err := s.o.OnFlush(s.pending); err != nil {
			return err
		}
		s.reported = s.pending
	}
	return nil
}

// Sync fsyncs what Flush wrote; readers see it from then on. The fsync
// runs without the store's lock (the upstream replica is the only
// writer), so readers go on meanwhile.
func (s *Store) Sync() error {
	s.mu.Lock()
	seg := s.cur()
	s.mu.Unlock()
	if seg == nil {
		return nil
	}
	err := seg.f.Sync()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.wakeLocked() // readers at the end learn of the failure
		return err
	}
	seg.size, seg.mod = seg.f.Stats().Bytes, time.Now()
	seg.last = seg.f.Synced()
	if s.syncPos != seg.last {
		s.syncPos = seg.last
		s.synced = s.live.clone()
		s.wakeLocked()
	}
	return nil
}

// Discard drops what was written since the last Sync (the upstream
// replica flushes and fsyncs together: what is not fsynced is not
// flushed either).
func (s *Store) Discard() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if seg := s.cur(); seg != nil {
		seg.f.Discard()
	}
	s.live, s.pending = s.synced.clone(), s.syncPos
}

// Rewind cuts what was written since the last fsync and returns where the
// store ends then.
func (s *Store) Rewind() (semisync.Position, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return s.syncPos, ErrStoreClosed
	}
	if seg := s.cur(); seg != nil {
		if _, err := seg.f.Rewind(); err != nil {
			return s.syncPos, err
		}
		seg.size = seg.f.Stats().Bytes
	}
	s.live, s.pending = s.synced.clone(), s.syncPos
	return s.syncPos, nil
}

// Last returns the end of the last event written.
func (s *Store) Last() semisync.Position {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pending
}

// Synced returns the end of the last event fsynced.
func (s *Store) Synced() semisync.Position {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.syncPos
}

// Head is where the fsynced binlog ends (mysqlsource.Ender: SHOW MASTER
// STATUS).
func (s *Store) Head() semisync.Position { return s.Synced() }

// Err returns why the segment being written takes no more writes.
func (s *Store) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrStoreClosed
	}
	if seg := s.cur(); seg != nil {
		return seg.f.Err()
	}
	return nil
}

// Recovery is what OpenStore found and cut in the newest segment.
func (s *Store) Recovery() relaylog.Recovery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.recovery
}

// seed sets the GTID position an empty store begins at; it does nothing
// once the store holds an event.
func (s *Store) seed(pos gtidPos, known bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.segs) == 0 && s.pending.IsZero() {
		s.live.pos, s.live.known = pos.clone(), known
		s.synced = s.live.clone()
	}
}

// GTID returns the GTID position of the transactions the store holds
// whole and fsynced, as its flavor writes it (MariaDB's domain-server-seq
// list, or a MySQL GTID set): where an upstream GTID dump resumes
// (mysqlreplica.Config.GTID).
func (s *Store) GTID() (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gtidLocked(), nil
}

// gtidLocked is GTID with s.mu held: empty for a MySQL store whose set is
// not known (an upstream dump is then by file and position).
func (s *Store) gtidLocked() string {
	if s.o.MySQL && !s.synced.known {
		return ""
	}
	return s.synced.pos.String()
}

// boundary returns the end of the last whole transaction fsynced and the
// GTID position there, together.
func (s *Store) boundary() (semisync.Position, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.synced.boundary, s.gtidLocked()
}

// Files lists the primary's binlog files the store holds events of,
// oldest first (mysqlsource.Binlog).
func (s *Store) Files() ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, seg := range s.segs {
		for _, f := range seg.files {
			if n := len(out); n == 0 || out[n-1] != f {
				out = append(out, f)
			}
		}
	}
	return out, nil
}

// FormatDescription returns the format description of a primary's file.
func (s *Store) FormatDescription(file string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fd, ok := s.fds[file]
	if !ok {
		return nil, fmt.Errorf("%w: no format description of %s", ErrNotHeld, file)
	}
	return slices.Clone(fd), nil
}

// GTIDCheckpoint returns the newest checkpoint a MariaDB replica at state
// has everything before (mysqlsource.GTIDIndex): the end of the last
// whole transaction fsynced, the start of a segment, or the end of a gap.
func (s *Store) GTIDCheckpoint(state []mysqlsource.GTID) (semisync.Position, []mysqlsource.GTID, bool, error) {
	pos, at, ok, err := s.checkpoint(func(p gtidPos) bool { return covers(state, p.maria) })
	if s.o.MySQL {
		ok = false
	}
	return pos, at.maria, ok, err
}

// MySQLGTIDCheckpoint returns the newest checkpoint whose GTID set a MySQL
// replica's set contains (mysqlsource.MySQLGTIDIndex): the end of the
// last whole transaction fsynced, the start of a segment, or the end of a
// gap.
func (s *Store) MySQLGTIDCheckpoint(set []mysqlsource.UUIDSet) (semisync.Position, []mysqlsource.UUIDSet, bool, error) {
	pos, at, ok, err := s.checkpoint(func(p gtidPos) bool { return mysqlsource.ContainsGTIDSet(set, p.mysql) })
	if !s.o.MySQL {
		ok = false
	}
	return pos, at.mysql, ok, err
}

// checkpoint returns the newest checkpoint whose GTID position has says a
// replica has everything before.
func (s *Store) checkpoint(has func(gtidPos) bool) (semisync.Position, gtidPos, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return semisync.Position{}, gtidPos{}, false, ErrStoreClosed
	}
	if s.o.MySQL && !s.synced.known {
		return semisync.Position{}, gtidPos{}, false, nil
	}
	floor := s.floor
	if floor.Less(s.gtidFloor) {
		floor = s.gtidFloor
	}
	if !s.synced.boundary.IsZero() && !s.synced.boundary.Less(floor) && has(s.synced.pos) {
		return s.synced.boundary, s.synced.pos.clone(), true, nil
	}
	for i := len(s.segs) - 1; i >= 0; i-- {
		if !s.segs[i].first.Less(floor) && has(s.segs[i].list) {
			return s.segs[i].first, s.segs[i].list.clone(), true, nil
		}
	}
	if !s.gtidFloor.IsZero() && floor == s.gtidFloor && !s.gtidFloor.Less(s.firstLocked()) && !s.syncPos.Less(s.gtidFloor) && has(s.gtidFloorPos) {
		return s.gtidFloor, s.gtidFloorPos.clone(), true, nil
	}
	if !s.floor.IsZero() && floor == s.floor && !s.floorPrev.Less(s.firstLocked()) && has(s.floorGTID) {
		return s.floor, s.floorGTID.clone(), true, nil
	}
	return semisync.Position{}, gtidPos{}, false, nil
}

// Stats returns the store's figures.
func (s *Store) Stats() StoreStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Segments = len(s.segs)
	for _, seg := range s.segs {
		st.Bytes += seg.size
	}
	return st
}

// Purge removes the oldest segments retention lets go (StoreOptions),
// never the one being written nor one a reader still needs, and returns
// how many it removed.
func (s *Store) Purge(now time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.o.RetainBytes <= 0 && s.o.RetainAge <= 0 {
		return 0, nil
	}
	var total int64
	for _, seg := range s.segs {
		total += seg.size
	}
	n := 0
	for len(s.segs) > 1 {
		old := s.segs[0]
		over := s.o.RetainBytes > 0 && total > s.o.RetainBytes
		// A segment's age is the time of its last write.
		aged := s.o.RetainAge > 0 && now.Sub(old.mod) > s.o.RetainAge
		if !over && !aged {
			break
		}
		for c := range s.readers {
			if c.seq <= old.seq {
				return n, nil
			}
		}
		if err := os.Remove(old.path); err != nil {
			return n, err
		}
		old.f.Close() // removed: its descriptor no longer matters
		total -= old.size
		s.segs = s.segs[1:]
		s.stats.Purged++
		n++
	}
	if n > 0 {
		// What the removed segments held alone is gone from the index.
		keep := map[string]bool{}
		for _, seg := range s.segs {
			keep[seg.first.File()] = true // a checkpoint's start needs its file's format description
			for _, f := range seg.files {
				keep[f] = true
			}
		}
		for f := range s.fds {
			if !keep[f] {
				delete(s.fds, f)
				delete(s.fromTop, f)
			}
		}
		if first := s.segs[0]; len(first.files) > 0 {
			delete(s.fromTop, first.files[0]) // it may begin inside the file
		}
		return n, syncDir(s.dir)
	}
	return 0, nil
}

// Close closes the segment files and wakes the readers, which end. It is
// idempotent.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	var errs []error
	for _, seg := range s.segs {
		errs = append(errs, seg.f.Close())
	}
	s.wakeLocked()
	return errors.Join(errs...)
}

func (s *Store) wakeLocked() {
	close(s.grown)
	s.grown = make(chan struct{})
}

// Open returns a cursor whose first event is the first stored after start
// (mysqlsource.Binlog). start must be the end of a stored event, where the
// store begins, or the start (offset 4) of a file it holds from its first
// event; otherwise the error wraps ErrNotHeld. The cursor returns the
// primary's events only, never the store's checkpoints nor made-up events.
func (s *Store) Open(start semisync.Position) (dump.Cursor, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, ErrStoreClosed
	}
	var seg *segment
	from := start
	skipTo := semisync.Position{}
	switch {
	case !s.floor.IsZero() && start == s.floor:
		// The end of a gap: from the record before it.
		from = s.floorPrev
	case start.Less(s.floor):
		s.mu.Unlock()
		return nil, fmt.Errorf("%w: %v is before %v, where the store holds every event from", ErrNotHeld, start, s.floor)
	}
	for _, g := range s.segs {
		if !from.Less(g.first) && !g.last.Less(from) {
			seg = g
			break
		}
	}
	if seg == nil && start.Offset() == 4 && s.fromTop[start.File()] {
		for _, g := range s.segs {
			if slices.Contains(g.files, start.File()) {
				seg, from, skipTo = g, semisync.Position{}, start
				break
			}
		}
	}
	if seg == nil {
		s.mu.Unlock()
		return nil, fmt.Errorf("%w: %v (the store holds %v to %v)", ErrNotHeld, start, s.firstLocked(), s.syncPos)
	}
	c := &cursor{s: s, seq: seg.seq, skipTo: skipTo}
	s.readers[c] = struct{}{}
	f := seg.f
	s.mu.Unlock()
	fl, err := f.Follow(from)
	if err != nil {
		c.Close()
		if errors.Is(err, relaylog.ErrUnknownPosition) {
			err = fmt.Errorf("%w: %w", ErrNotHeld, err)
		}
		return nil, err
	}
	c.fl = fl
	return c, nil
}

func (s *Store) firstLocked() semisync.Position {
	if len(s.segs) == 0 {
		return semisync.Position{}
	}
	return s.segs[0].first
}

// cursor reads the store's segments in order.
type cursor struct {
	s      *Store
	seq    uint64
	fl     *relaylog.Follower
	skipTo semisync.Position // pass over records ending at or before it
	wait   <-chan struct{}
	closed bool
}

// after returns the segment after seq, if there is one, and the channel
// the next Sync or new segment closes.
func (s *Store) after(seq uint64) (*segment, <-chan struct{}, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, nil, ErrStoreClosed
	}
	for _, g := range s.segs {
		if g.seq > seq {
			return g, s.grown, nil
		}
	}
	return nil, s.grown, nil
}

func (c *cursor) Next() (dump.Event, bool, error) {
	for {
		// Look for the next segment first: if there is one, this one was
		// fsynced whole before it began, and an end now is its end.
		next, grown, err := c.s.after(c.seq)
		if err != nil {
			return dump.Event{}, false, err
		}
		r, ok, err := c.fl.Next()
		if err != nil {
			return dump.Event{}, false, err
		}
		if ok {
			if h, hok := parseHeader(r.Event); !hok || h.madeUp() || !c.skipTo.Less(r.End) && !c.skipTo.IsZero() {
				continue
			}
			c.skipTo = semisync.Position{}
			return dump.Event{Data: r.Event, End: r.End}, true, nil
		}
		if next == nil {
			c.wait = grown
			return dump.Event{}, false, nil
		}
		fl, err := next.f.Follow(semisync.Position{})
		if err != nil {
			return dump.Event{}, false, err
		}
		c.fl.Close()
		c.s.mu.Lock()
		c.fl, c.seq = fl, next.seq
		c.s.mu.Unlock()
	}
}

func (c *cursor) Wait() <-chan struct{} {
	if c.wait == nil {
		ch := make(chan struct{})
		close(ch)
		return ch
	}
	return c.wait
}

func (c *cursor) Close() error {
	if c.closed {
		return nil
	}
	c.closed = true
	c.s.mu.Lock()
	delete(c.s.readers, c)
	c.s.mu.Unlock()
	if c.fl != nil {
		return c.fl.Close()
	}
	return nil
}
