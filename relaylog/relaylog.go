package relaylog

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"sync"

	"github.com/semisync-go/semisync"
)

// version is the format version Open writes: 2, with sync marks.
// Version 1 files, without them, are read and upgraded by Open.
const version = 2

// magic opens every relay log file: "SSRL" and the format version.
var magic = [...]byte{'S', 'S', 'R', 'L', version}

// recordHeaderLen is the fixed part of a record, all little-endian: the
// event's length (u32), the length of the end's file name (u16), the end
// offset (u64), the CRC-32C of those 14 bytes (u32), and the CRC-32C of
// the name and the event that follow (u32). The header's own checksum
// tells a damaged length (corruption) from a record the file ends inside
// (a torn write). A sync mark is a header alone: both lengths 0, the
// offset its own, and the bitwise NOT of the header's checksum in place
// of the body's.
const (
	recordHeaderLen = 4 + 2 + 8 + 4 + 4
	headerSumAt     = 14
	bodySumAt       = 18
	markLen         = recordHeaderLen
)

// MaxEventLen is the largest event a record holds: MySQL's
// max_allowed_packet is at most 1 GiB, and so is any event a source can
// send.
const MaxEventLen = 1 << 30

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Errors of relay log files.
var (
	// ErrNotRelayLog means the file does not start with the relay log's
	// magic bytes (or has a format version other than 1 and 2).
	ErrNotRelayLog = errors.New("relaylog: not a relay log file")
	// ErrCorrupt means a record or sync mark of a relay log file is
	// damaged where the file proves it had been fsynced: it was damaged
	// after it was written, and nothing is truncated or overwritten.
	// Open, Read and Repair return it as a *CorruptError, which gives the
	// offset.
	ErrCorrupt = errors.New("relaylog: file corrupt")
	// ErrClosed means the file was closed.
	ErrClosed = errors.New("relaylog: file closed")
	// ErrFailed means an fsync of the file failed, or a failed write could
	// not be undone: what the file holds past its last good fsync is
	// unknown (after a failed fsync Linux may drop the pages and report
	// success on the next one), so it takes no more writes. Close it and
	// reopen it with Open, which checks every record.
	ErrFailed = errors.New("relaylog: file failed; reopen it")
	// ErrInvalidWrite is wrapped by Write's error for an event it cannot
	// hold (empty or longer than MaxEventLen), an end before the previous
	// record's, or an end whose file name is too long. Nothing is written.
	ErrInvalidWrite = errors.New("relaylog: invalid write")
)

// Record is one event of a relay log file and the position in the
// source's binlog at which it ends.
type Record struct {
	End   semisync.Position
	Event []byte
}

// File is a relay log in one file, appended to and fsynced by the
// replica: it implements replica.RelayLog, replica.Syncer and
// replica.Discarder. Each record holds one event, bytes the file does not
// interpret (for MySQL, the event as the source sent it: semisync prefix
// removed, its own checksum kept), with the source position it ends at and
// CRC-32Cs, so that after a crash Open finds the last complete record and
// the replica resumes exactly after it: nothing lost, nothing twice.
//
// Write buffers in memory, Flush writes the buffer to the file (the
// operating system has it: it survives a crash of the process), Sync
// fsyncs the file (it survives a power failure) and then appends a sync
// mark saying so. Its methods are safe for concurrent use; a replica calls
// them from one goroutine.
type File struct {
	mu       sync.Mutex
	file     *os.File
	path     string
	buf      []byte            // records written, not yet flushed
	pending  semisync.Position // end of the last record in buf
	size     int64             // bytes in the file, sync marks included
	written  semisync.Position // end of the last record in the file
	synced   semisync.Position // end of the last record covered by an fsync
	syncedN  int64             // bytes of the file covered by an fsync, and its sync mark
	records  int64             // records in the file
	syncedR  int64             // records covered by an fsync
	mark     [markLen]byte     // the sync mark Sync writes
	stats    Stats
	recovery Recovery
	closed   bool
	failed   error // why the file takes no more writes (ErrFailed)
	// grown is the channel Followers wait on at the durable end; Sync
	// closes it when a Follower took it (grownTaken), and so does Close.
	grown      chan struct{}
	grownTaken bool
}

// Stats counts what a File did.
type Stats struct {
	Records int64 // records in the file (flushed)
	Bytes   int64 // bytes in the file, magic and sync marks included
	Flushes int64 // Flush calls that wrote something
	Syncs   int64 // fsyncs
	// Truncated is how many bytes Open cut off the end of the file:
	// Recovery.CutBytes.
	Truncated int64
}

// Open opens the relay log file at path, creating it if it does not
// exist, and returns what it found and cut. An existing file is checked
// record by record (the package doc gives the rules): a tail past the
// last fsync the file proves — a write a crash interrupted, zeros, junk —
// is cut off, and the Recovery says so (Recovery.Cut); the host must look
// at it. A damaged record the file proves was fsynced is a *CorruptError
// (ErrCorrupt), and the file is left as it is. A file of format version 1
// is read with version 1's rules and upgraded to version 2. Open fsyncs
// what it keeps, so Last and Synced are both the end of the last record.
func Open(path string) (*File, Recovery, error) {
	return open(path, os.O_RDWR|os.O_CREATE)
}

// Repair opens the existing relay log file at path as Open does, cutting
// exactly the tail Open would cut (and upgrading a version 1 file), and
// closes it. It refuses damage as Open does, with a *CorruptError, and
// leaves the file as it is then. Unlike Open it never creates a file.
func Repair(path string) (Recovery, error) {
	f, rec, err := open(path, os.O_RDWR)
	if err != nil {
		return rec, err
	}
	return rec, f.Close()
}

func open(path string, flag int) (*File, Recovery, error) {
	osf, err := os.OpenFile(path, flag, 0o644)
	if err != nil {
		return nil, Recovery{}, err
	}
	f := &File{file: osf, path: path}
	if err := f.recover(); err != nil {
		osf.Close()
		return nil, Recovery{}, err
	}
	return f, f.recovery, nil
}

// recover scans the file, cuts a tail past the last proven fsync, upgrades
// a version 1 file, and sets the positions.
func (f *File) recover() error {
	f.recovery.Path = f.path
	fi, err := f.file.Stat()
	if err != nil {
		return err
	}
	if fi.Size() <= int64(len(magic)) && f.unfinishedMagic(fi.Size()) {
		// New, or created by a process that crashed before its first
		// fsync (its size may be durable and its bytes not: zeros), or
		// holding the magic alone: start it (again).
		if _, err := f.file.WriteAt(magic[:], 0); err != nil {
			return err
		}
		if err := f.file.Sync(); err != nil {
			return err
		}
		if err := f.syncDir(); err != nil {
			return err
		}
		f.size = int64(len(magic))
		f.syncedN, f.stats.Bytes = f.size, f.size
		return nil
	}
	s := &scanner{}
	if err := s.readHeader(f.file); err != nil {
		return fmt.Errorf("%s: %w", f.path, err)
	}
	if err := s.run(f.file, fi.Size()); err != nil {
		return fmt.Errorf("%s: %w", f.path, err)
	}
	if s.corrupt != nil {
		return fmt.Errorf("%s: %w", f.path, s.corrupt)
	}
	rec := s.recovery(f.path, fi.Size())
	size := s.good
	if rec.Cut() {
		if err := f.file.Truncate(size); err != nil {
			return err
		}
	}
	// What a crashed process left may sit in the page cache only: make it
	// durable (and the cut) before resuming after it.
	if err := f.file.Sync(); err != nil {
		return err
	}
	if rec.Upgraded {
		// A version 1 file never holds a sync mark: the new version byte
		// is durable before the first one.
		if _, err := f.file.WriteAt(magic[len(magic)-1:], int64(len(magic)-1)); err != nil {
			return err
		}
		if err := f.file.Sync(); err != nil {
			return err
		}
	}
	if !s.marked {
		// Everything kept is fsynced now: mark it, and make the mark
		// durable at once, so that damage to the last records (all of a
		// version 1 file's) is told from a torn write even if the power
		// fails before the next Sync.
		putMark(&f.mark, size)
		if _, err := f.file.WriteAt(f.mark[:], size); err != nil {
			return err
		}
		if err := f.file.Sync(); err != nil {
			return err
		}
		size += markLen
	}
	f.size, f.syncedN, f.records, f.syncedR = size, size, s.records, s.records
	f.written, f.synced, f.pending = s.last, s.last, s.last
	f.stats.Bytes, f.stats.Records, f.stats.Truncated = size, s.records, rec.CutBytes
	f.recovery = rec
	return nil
}

// unfinishedMagic reports whether the file's first size bytes, no more
// than the magic, are a start of the magic or zeros: a file whose creation a
// crash interrupted.
func (f *File) unfinishedMagic(size int64) bool {
	b := make([]byte, size)
	if _, err := f.file.ReadAt(b, 0); err != nil {
		return false
	}
	return bytes.HasPrefix(magic[:], b) || bytes.Count(b, []byte{0}) == len(b)
}

// syncDir fsyncs the directory holding a newly created file, so the file
// itself survives a power failure.
func (f *File) syncDir() error {
	d, err := os.Open(filepath.Dir(f.path))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Recovery returns what Open found and cut when it opened the file.
func (f *File) Recovery() Recovery {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.recovery
}

// Path returns the file's path.
func (f *File) Path() string { return f.path }

// Last returns the end of the last record in the file: where replication
// resumes. It is the zero position when the file holds no record.
func (f *File) Last() semisync.Position {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.written
}

// Synced returns the end of the last record an fsync has covered.
func (f *File) Synced() semisync.Position {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.synced
}

// Stats returns the file's counters.
func (f *File) Stats() Stats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stats
}

// Write appends a record for event, ending at end, to the buffer. event
// must hold 1 to MaxEventLen bytes, and end must not come before the
// previous record's end nor name a file longer than
// semisync.MaxFileNameLen.
func (f *File) Write(event []byte, end semisync.Position) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.usable(); err != nil {
		return err
	}
	if len(event) < 1 || len(event) > MaxEventLen {
		return fmt.Errorf("%w: a %d-byte event (1 to %d bytes)", ErrInvalidWrite, len(event), MaxEventLen)
	}
	if end.Less(f.pending) {
		return fmt.Errorf("%w: ending at %v, before %v", ErrInvalidWrite, end, f.pending)
	}
	name := end.File()
	if len(name) > semisync.MaxFileNameLen {
		return fmt.Errorf("%w: ending in a file name of %d bytes (at most %d)", ErrInvalidWrite, len(name), semisync.MaxFileNameLen)
	}
	start := len(f.buf)
	f.buf = binary.LittleEndian.AppendUint32(f.buf, uint32(len(event)))
	f.buf = binary.LittleEndian.AppendUint16(f.buf, uint16(len(name)))
	f.buf = binary.LittleEndian.AppendUint64(f.buf, end.Offset())
	f.buf = binary.LittleEndian.AppendUint32(f.buf, crc32.Checksum(f.buf[start:], castagnoli))
	f.buf = append(f.buf, 0, 0, 0, 0) // the body's checksum, below
	f.buf = append(f.buf, name...)
	f.buf = append(f.buf, event...)
	binary.LittleEndian.PutUint32(f.buf[start+bodySumAt:], crc32.Checksum(f.buf[start+recordHeaderLen:], castagnoli))
	f.pending = end
	return nil
}

// Flush writes the buffered records to the file. On error the file is cut
// back to its last complete record and the buffer kept, so a later Flush
// may try again; if the cut fails too the file is failed (ErrFailed).
func (f *File) Flush() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.usable(); err != nil {
		return err
	}
	if len(f.buf) == 0 {
		return nil
	}
	if _, err := f.file.WriteAt(f.buf, f.size); err != nil {
		// Undo a partial write so the file holds whole records only.
		if terr := f.file.Truncate(f.size); terr != nil {
			f.failed = fmt.Errorf("%w: a failed write (%v) could not be undone: %v", ErrFailed, err, terr)
			f.wake() // Followers at the end learn of it
		}
		return err
	}
	f.size += int64(len(f.buf))
	f.records += f.countBuffered()
	f.buf = f.buf[:0]
	f.written = f.pending
	f.stats.Flushes++
	f.stats.Bytes, f.stats.Records = f.size, f.records
	return nil
}

// usable returns why the file takes no writes, if it does not.
func (f *File) usable() error {
	if f.closed {
		return ErrClosed
	}
	return f.failed
}

// Err returns ErrFailed (wrapped with its cause) once the file has failed,
// and nil before.
func (f *File) Err() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.failed
}

// Rewind cuts the file back to its last fsynced record, dropping records
// flushed since (and the unflushed buffer), and returns that record's end:
// where a replica that acknowledges only fsynced events resumes. A source
// takes the position a semisync dump starts at as an acknowledgement up to
// it (spec §7.1), so resuming from a record that was flushed but never
// fsynced would acknowledge what a power failure can still take away.
// It fails on a failed or closed file.
func (f *File) Rewind() (semisync.Position, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.usable(); err != nil {
		return f.synced, err
	}
	f.buf = f.buf[:0]
	f.pending = f.synced
	if f.size == f.syncedN {
		return f.synced, nil
	}
	if err := f.file.Truncate(f.syncedN); err != nil {
		f.failed = fmt.Errorf("%w: cutting back to the last fsync: %v", ErrFailed, err)
		f.wake() // Followers at the end learn of it
		return f.synced, f.failed
	}
	f.size, f.records, f.written = f.syncedN, f.syncedR, f.synced
	f.stats.Bytes, f.stats.Records = f.size, f.records
	return f.synced, nil
}

// countBuffered counts the records in the buffer.
func (f *File) countBuffered() int64 {
	var n int64
	for b := f.buf; len(b) >= recordHeaderLen; n++ {
		l := recordHeaderLen + int(binary.LittleEndian.Uint16(b[4:])) + int(binary.LittleEndian.Uint32(b[0:]))
		b = b[l:]
	}
	return n
}

// Sync fsyncs the file: every flushed record survives a power failure.
// After the fsync it appends a sync mark (not fsynced itself: the next
// Sync's fsync covers it), which tells a later Open that every byte
// before it was fsynced. Sync does nothing when nothing was flushed since
// the last one. A failed fsync makes the file failed (ErrFailed). A failed
// write of the mark is undone and returned, and Synced does not move, so
// nothing is acknowledged and the next Sync tries again; if the undo fails
// too, the file is failed.
func (f *File) Sync() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.usable(); err != nil {
		return err
	}
	if f.syncedN == f.size {
		return nil // nothing written since the last fsync
	}
	if err := f.file.Sync(); err != nil {
		f.failed = fmt.Errorf("%w: fsync: %v", ErrFailed, err)
		f.wake() // Followers at the end learn of it
		return f.failed
	}
	f.stats.Syncs++
	putMark(&f.mark, f.size)
	if _, err := f.file.WriteAt(f.mark[:], f.size); err != nil {
		if terr := f.file.Truncate(f.size); terr != nil {
			f.failed = fmt.Errorf("%w: a failed sync mark write (%v) could not be undone: %v", ErrFailed, err, terr)
			f.wake() // Followers at the end learn of it
			return f.failed
		}
		return fmt.Errorf("relaylog: writing the sync mark: %w", err)
	}
	f.size += markLen
	f.synced, f.syncedN, f.syncedR = f.written, f.size, f.records
	f.stats.Bytes = f.size
	f.wake()
	return nil
}

// Discard drops the records written since the last Flush.
func (f *File) Discard() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.buf = f.buf[:0]
	f.pending = f.written
}

// Close discards unflushed records and closes the file. It is idempotent.
func (f *File) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil
	}
	f.closed = true
	f.buf = nil
	f.wake()
	return f.file.Close()
}
