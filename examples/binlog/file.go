package binlog

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/transport"
)

// fileMagic opens a binlog file, as MySQL's "\xfebin" does, so the first
// event starts at FirstOffset.
var fileMagic = [FirstOffset]byte{0xfe, 'b', 'i', 'n'}

// frameLen is what File writes before each event: its length and the
// CRC-32C of its bytes, both little-endian uint32.
const frameLen = 8

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrCorrupt is wrapped by OpenFile's error for a binlog file damaged
// before its last event (a torn last event is cut off instead).
var ErrCorrupt = errors.New("binlog: file corrupt")

// File is a binlog on disk: one file, dir/base.000001, that starts with
// MySQL's 4 magic bytes and holds each event after an 8-byte frame (its
// length and CRC-32C). An event's position is its end offset in the file,
// frame included, so positions are file offsets as in MySQL.
//
// Append writes an event to a buffer, Sync writes the buffer to the file
// and fsyncs it: with group commit, one fsync for every commit that
// arrived meanwhile. Cursors read from memory (the File keeps its events
// there too, in a Memory) and see an event only after Publish. It
// implements transport.Binlog. Its methods are safe for concurrent use;
// with several writers, Append, source.Flushed, Sync and Publish must run
// in that order under the host's binlog lock (waitpoint does this).
type File struct {
	mem  *Memory
	path string

	mu     sync.Mutex
	f      *os.File
	buf    []byte // framed events not yet written
	size   int64  // bytes in the file
	syncs  int64
	closed bool
}

// OpenFile opens the binlog base.000001 in dir, creating it if needed.
// The events of an existing file are read back (and published); a torn
// last event, left by a crash during a write, is cut off. A damaged event
// before the last is an error wrapping ErrCorrupt.
func OpenFile(dir, base string) (*File, error) {
	mem := NewMemory(base)
	path := filepath.Join(dir, mem.name)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	b := &File{mem: mem, path: path, f: f}
	if err := b.load(); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	mem.Publish()
	return b, nil
}

// load reads the file's events into memory and cuts a torn tail.
func (b *File) load() error {
	fi, err := b.f.Stat()
	if err != nil {
		return err
	}
	size := fi.Size()
	if size == 0 {
		if _, err := b.f.WriteAt(fileMagic[:], 0); err != nil {
			return err
		}
		b.size = FirstOffset
		return b.f.Sync()
	}
	var magic [FirstOffset]byte
	if _, err := b.f.ReadAt(magic[:], 0); err != nil || magic != fileMagic {
		return fmt.Errorf("%w: no binlog magic", ErrCorrupt)
	}
	r := bufio.NewReader(io.NewSectionReader(b.f, FirstOffset, size-FirstOffset))
	off := int64(FirstOffset)
	var frame [frameLen]byte
	for off < size {
		if _, err := io.ReadFull(r, frame[:]); err != nil {
			break // a torn frame
		}
		n := int64(binary.LittleEndian.Uint32(frame[:]))
		if off+frameLen+n > size {
			break // a torn event
		}
		ev := make([]byte, n)
		if _, err := io.ReadFull(r, ev); err != nil {
			return err
		}
		if crc32.Checksum(ev, castagnoli) != binary.LittleEndian.Uint32(frame[4:]) {
			if off+frameLen+n == size {
				break // the last event, torn
			}
			return fmt.Errorf("%w: checksum mismatch in the event at offset %d", ErrCorrupt, off)
		}
		b.mem.append(ev, uint64(frameLen+n))
		off += frameLen + n
	}
	if off < size {
		if err := b.f.Truncate(off); err != nil {
			return err
		}
		if err := b.f.Sync(); err != nil {
			return err
		}
	}
	b.size = off
	return nil
}

// Path returns the binlog file's path.
func (b *File) Path() string { return b.path }

// Append buffers one event and returns its end position. Nothing is
// written to the file before Sync, and cursors see it only after Publish.
func (b *File) Append(event []byte) semisync.Position {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = binary.LittleEndian.AppendUint32(b.buf, uint32(len(event)))
	b.buf = binary.LittleEndian.AppendUint32(b.buf, crc32.Checksum(event, castagnoli))
	b.buf = append(b.buf, event...)
	return b.mem.append(event, uint64(frameLen+len(event)))
}

// Sync writes what was appended to the file and fsyncs it: MySQL's binlog
// flush and sync with sync_binlog=1. After an error the binlog must not be
// used further (what reached the disk is unknown); reopen it.
func (b *File) Sync() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return ErrClosed
	}
	if len(b.buf) > 0 {
		if _, err := b.f.WriteAt(b.buf, b.size); err != nil {
			return err
		}
		b.size += int64(len(b.buf))
		b.buf = b.buf[:0]
	}
	if err := b.f.Sync(); err != nil {
		return err
	}
	b.syncs++
	return nil
}

// Syncs returns the number of fsyncs Sync made: with group commit, fewer
// than the commits.
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

// Close closes the file; buffered events not synced are lost, as they
// would be in a crash. It is idempotent.
func (b *File) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil
	}
	b.closed = true
	return b.f.Close()
}
