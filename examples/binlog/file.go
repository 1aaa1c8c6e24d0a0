package binlog

import (
	"fmt"
	"path/filepath"
	"sync"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/relaylog"
	"github.com/semisync-go/semisync/transport"
)

// File is a Memory binlog kept on disk: every event is also appended to
// the file dir/base.000001, in package relaylog's format (each event with
// its end position and CRC-32Cs, and a sync mark after each fsync), so it
// has relaylog's crash recovery: a tail past the last fsync the file
// proves is cut when the file is opened again (and reported), damage
// before it is refused, and a failed fsync fails the file. Positions are
// Memory's (base.000001, offsets counting event bytes from 4).
//
// Append buffers an event; Sync writes the buffer and fsyncs it, one fsync
// for every commit that arrived meanwhile (group commit with package
// waitpoint); Publish then shows the events to cursors, which read them
// from memory. It implements transport.Binlog. Its methods are safe for
// concurrent use; with several writers, Append, source.Flushed, Sync and
// Publish must run in that order under the host's binlog lock (waitpoint
// does this).
type File struct {
	mem *Memory
	log *relaylog.File
	rec relaylog.Recovery

	mu    sync.Mutex // orders appends to mem and log alike
	syncs int64
}

// OpenFile opens the binlog base.000001 in dir, creating it if needed,
// and returns what relaylog.Open found and cut. The events of an existing
// file are read back and published; relaylog.Open says what it does with
// a damaged file (a *relaylog.CorruptError, the file left as it is).
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
	mem := NewMemory(base)
	path := filepath.Join(dir, mem.name)
	log, rec, err := relaylog.Open(path)
	if err != nil {
		return nil, rec, err
	}
	err = relaylog.Read(path, func(r relaylog.Record) error {
		if end := mem.Append(r.Event); end != r.End {
			return fmt.Errorf("%w: %s: an event ends at %v, its record says %v", relaylog.ErrCorrupt, path, end, r.End)
		}
		return nil
	})
	if err != nil {
		log.Close()
		return nil, rec, err
	}
	mem.Publish()
	return &File{mem: mem, log: log, rec: rec}, rec, nil
}

// Recovery returns what OpenFile found and cut.
func (b *File) Recovery() relaylog.Recovery { return b.rec }

// Path returns the binlog file's path.
func (b *File) Path() string { return b.log.Path() }

// Append buffers one event and returns its end position. Nothing reaches
// the file before Sync, and cursors see it only after Publish. An error
// (the file closed or failed) appends nothing.
func (b *File) Append(event []byte) (semisync.Position, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.log.Err(); err != nil {
		return semisync.Position{}, err
	}
	end := b.mem.Head()
	end = semisync.FilePos(end.File(), end.Offset()+uint64(len(event)))
	if err := b.log.Write(event, end); err != nil {
		return semisync.Position{}, err
	}
	return b.mem.Append(event), nil
}

// Sync writes what was appended to the file and fsyncs it: MySQL's binlog
// flush and sync with sync_binlog=1. After a failed fsync the file takes
// nothing more (relaylog.ErrFailed): reopen it.
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

// Publish makes every appended event visible to cursors; call it after
// Sync.
func (b *File) Publish() { b.mem.Publish() }

// Head returns the end of the last event appended.
func (b *File) Head() semisync.Position { return b.mem.Head() }

// Len returns the number of events appended, published or not.
func (b *File) Len() int { return b.mem.Len() }

// Open returns a cursor from start, as Memory.Open does.
func (b *File) Open(start semisync.Position) (transport.Cursor, error) {
	return b.mem.Open(start)
}

// Close closes the file; events appended and not synced are lost, as they
// would be in a crash. It is idempotent.
func (b *File) Close() error { return b.log.Close() }
