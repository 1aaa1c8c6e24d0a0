package binlog

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/relaylog"
	"github.com/semisync-go/semisync/transport"
)

// File is a binlog kept on disk: every event is appended to the file
// dir/base.000001, in package relaylog's format (each event with its end
// position and CRC-32Cs, and a sync mark after each fsync), so it has
// relaylog's crash recovery: a tail past the last fsync the file proves is
// cut when the file is opened again (and reported), damage before it is
// refused, and a failed fsync fails the file. Positions are Memory's
// (base.000001, offsets counting event bytes from 4).
//
// Append buffers an event; Sync writes the buffer and fsyncs it, one fsync
// for every commit that arrived meanwhile (group commit with package
// waitpoint), and shows the events to cursors: a cursor is a
// relaylog.Follower that reads the file from its start position on and
// waits for the next Sync, as MySQL's dump threads read the binlog up to
// its last sync. Events are not kept in memory. It implements
// transport.Binlog. Its methods are safe for concurrent use; with several
// writers, Append, source.Flushed and Sync must run in that order under
// the host's binlog lock (waitpoint does this), so that the source knows
// a group before any replica can read it.
type File struct {
	log  *relaylog.File
	rec  relaylog.Recovery
	name string // the file's name: base.000001

	mu    sync.Mutex // orders appends
	head  semisync.Position
	n     int
	syncs int64
}

// OpenFile opens the binlog base.000001 in dir, creating it if needed,
// and returns what relaylog.Open found and cut. The records of an existing
// file are read once and checked to be a binlog's (each event ending where
// the previous one ended plus its length, from offset 4); relaylog.Open
// says what it does with a damaged file (a *relaylog.CorruptError, the
// file left as it is).
//
// The host must look at the Recovery: for a source's binlog, a cut
// (Recovery.Cut) means the binlog lost its last events, and the source's
// head goes back to Recovery.End. After a crash of the process only events
// no Sync had covered can be cut: commits that never returned. After a
// power failure the last group a Sync covered can be cut too, if its
// bytes were damaged as well (relaylog's package doc says when): commits
// that may have been reported, and that replicas may hold. Say so to the
// operator; a replica whose relay log is ahead of the source's head then
// needs attention.
func OpenFile(dir, base string) (*File, relaylog.Recovery, error) {
	name := fileName(base, 1)
	path := filepath.Join(dir, name)
	log, rec, err := relaylog.Open(path)
	if err != nil {
		return nil, rec, err
	}
	b := &File{log: log, rec: rec, name: name, head: semisync.FilePos(name, FirstOffset)}
	err = relaylog.Read(path, func(r relaylog.Record) error {
		if end := semisync.FilePos(name, b.head.Offset()+uint64(len(r.Event))); end != r.End {
			return fmt.Errorf("%w: %s: an event ends at %v, its record says %v", relaylog.ErrCorrupt, path, end, r.End)
		}
		b.head = r.End
		b.n++
		return nil
	})
	if err != nil {
		log.Close()
		return nil, rec, err
	}
	return b, rec, nil
}

// Recovery returns what OpenFile found and cut.
func (b *File) Recovery() relaylog.Recovery { return b.rec }

// Path returns the binlog file's path.
func (b *File) Path() string { return b.log.Path() }

// Append buffers one event and returns its end position. Nothing reaches
// the file, nor cursors, before Sync. An error (the file closed or failed,
// an empty event) appends nothing.
func (b *File) Append(event []byte) (semisync.Position, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.log.Err(); err != nil {
		return semisync.Position{}, err
	}
	end := semisync.FilePos(b.name, b.head.Offset()+uint64(len(event)))
	if err := b.log.Write(event, end); err != nil {
		return semisync.Position{}, err
	}
	b.head = end
	b.n++
	return end, nil
}

// Discard drops the events appended since the last Sync, as a binlog
// drops a commit group whose write failed: Head and Len go back to what
// the file holds.
func (b *File) Discard() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.log.Discard()
	b.head, b.n = semisync.FilePos(b.name, FirstOffset), int(b.log.Stats().Records)
	if last := b.log.Last(); !last.IsZero() {
		b.head = last
	}
}

// Sync writes what was appended to the file and fsyncs it (MySQL's binlog
// flush and sync with sync_binlog=1); then cursors may read it. After a
// failed fsync the file takes nothing more (relaylog.ErrFailed): reopen
// it.
func (b *File) Sync() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.log.Flush(); err != nil {
		return err
	}
	if err := b.log.Sync(); err != nil {
		return err
	}
	b.syncs++
	return nil
}

// Syncs returns the number of Sync calls that succeeded: with group
// commit, fewer than the commits.
func (b *File) Syncs() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.syncs
}

// Head returns the end of the last event appended, or the file's first
// position when it holds none.
func (b *File) Head() semisync.Position {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.head
}

// Len returns the number of events appended, synced or not.
func (b *File) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.n
}

// Open returns a cursor whose first event is the first ending after
// start, reading the file as it grows (relaylog.File.Follow). start must
// be the zero Position or the file's first position (the beginning), or
// the end of an event a Sync covered; otherwise Open returns an error
// wrapping ErrUnknownPosition (and relaylog.ErrUnknownPosition). A
// cursor's Next returns relaylog.ErrClosed once the File is closed.
func (b *File) Open(start semisync.Position) (transport.Cursor, error) {
	from := start
	if start == semisync.FilePos(b.name, FirstOffset) {
		from = semisync.Position{}
	}
	fl, err := b.log.Follow(from)
	if errors.Is(err, relaylog.ErrUnknownPosition) {
		return nil, fmt.Errorf("%w: %w", ErrUnknownPosition, err)
	}
	if err != nil {
		return nil, err
	}
	return fileCursor{fl}, nil
}

// fileCursor is a cursor of a File: a relaylog.Follower.
type fileCursor struct{ fl *relaylog.Follower }

func (c fileCursor) Next() (transport.Event, bool, error) {
	r, ok, err := c.fl.Next()
	return transport.Event{Data: r.Event, End: r.End}, ok, err
}

func (c fileCursor) Wait() <-chan struct{} { return c.fl.Wait() }

func (c fileCursor) Close() error { return c.fl.Close() }

// Close closes the file; events appended and not synced are lost, as they
// would be in a crash. Cursors end with relaylog.ErrClosed. It is
// idempotent.
func (b *File) Close() error { return b.log.Close() }
