package relaylog

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/semisync-go/semisync"
)

// magic opens every relay log file: "SSRL" and the format version.
var magic = [...]byte{'S', 'S', 'R', 'L', 1}

// recordHeaderLen is the fixed part of a record, all little-endian: the
// event's length (u32), the length of the end's file name (u16), the end
// offset (u64), the CRC-32C of those 14 bytes (u32), and the CRC-32C of
// the name and the event that follow (u32). The header's own checksum
// tells a damaged length (corruption) from a record the file ends inside
// (a torn write).
const (
	recordHeaderLen = 4 + 2 + 8 + 4 + 4
	headerSumAt     = 14
	bodySumAt       = 18
)

// MaxEventLen is the largest event a record holds: MySQL's
// max_allowed_packet is at most 1 GiB, and so is any event a source can
// send.
const MaxEventLen = 1 << 30

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Errors of relay log files.
var (
	// ErrNotRelayLog means the file does not start with the relay log's
	// magic bytes (or has another format version).
	ErrNotRelayLog = errors.New("relaylog: not a relay log file")
	// ErrCorrupt means a record in the middle of a relay log file does
	// not match its checksum: the file was damaged after it was written,
	// and nothing is truncated or overwritten.
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
// fsyncs the file (it survives a power failure). Its methods are safe for
// concurrent use; a replica calls them from one goroutine.
type File struct {
	mu      sync.Mutex
	file    *os.File
	path    string
	buf     []byte            // records written, not yet flushed
	pending semisync.Position // end of the last record in buf
	size    int64             // bytes in the file
	written semisync.Position // end of the last record in the file
	synced  semisync.Position // end of the last record covered by an fsync
	syncedN int64             // bytes of the file covered by an fsync
	records int64             // records in the file
	syncedR int64             // records covered by an fsync
	stats   Stats
	closed  bool
	failed  error // why the file takes no more writes (ErrFailed)
}

// Stats counts what a File did.
type Stats struct {
	Records int64 // records in the file (flushed)
	Bytes   int64 // bytes in the file, magic included
	Flushes int64 // Flush calls that wrote something
	Syncs   int64 // fsyncs
	// Truncated is how many bytes of a torn last record Open cut off.
	Truncated int64
}

// Open opens the relay log file at path, creating it if it does not
// exist. An existing file is checked record by record: a last record that
// is incomplete or fails its checksum — the write a crash interrupted — is
// cut off, and the file's last position is the end of the last good record.
// A damaged record followed by more data is ErrCorrupt and the file is left
// as it is.
func Open(path string) (*File, error) {
	osf, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	f := &File{file: osf, path: path}
	if err := f.recover(); err != nil {
		osf.Close()
		return nil, err
	}
	return f, nil
}

// recover scans the file, cuts a torn tail and sets the positions.
func (f *File) recover() error {
	fi, err := f.file.Stat()
	if err != nil {
		return err
	}
	if fi.Size() < int64(len(magic)) && f.unfinishedMagic(fi.Size()) {
		// New, or created by a process that crashed before its first
		// fsync: start it (again).
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
	good, last, n, err := scan(io.NewSectionReader(f.file, 0, fi.Size()), fi.Size(), nil)
	if err != nil {
		return fmt.Errorf("%s: %w", f.path, err)
	}
	if good < fi.Size() {
		if err := f.file.Truncate(good); err != nil {
			return err
		}
		f.stats.Truncated = fi.Size() - good
	}
	// What a crashed process left may sit in the page cache only: make it
	// durable (and the cut) before resuming after it.
	if err := f.file.Sync(); err != nil {
		return err
	}
	f.size, f.syncedN, f.records, f.syncedR = good, good, n, n
	f.written, f.synced, f.pending = last, last, last
	f.stats.Bytes, f.stats.Records = good, n
	return nil
}

// unfinishedMagic reports whether the file's first size bytes, fewer than
// the magic, are a start of the magic or zeros: a file whose creation a
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

// scan reads records from rd, a file of size bytes, calling fn (if not nil)
// for each good one. It returns the length of the good prefix, the end
// position of its last record and the number of records. A bad record is
// a torn tail (not an error) when it reaches the end of the file or only
// zero bytes follow its start; otherwise it is ErrCorrupt.
func scan(rd io.ReaderAt, size int64, fn func(Record) error) (good int64, last semisync.Position, n int64, err error) {
	var m [len(magic)]byte
	if _, err := rd.ReadAt(m[:], 0); err != nil || m != magic {
		return 0, last, 0, ErrNotRelayLog
	}
	off := int64(len(magic))
	br := bufio.NewReaderSize(io.NewSectionReader(rd, off, size-off), 64<<10)
	var hdr [recordHeaderLen]byte
	var body []byte
	lastData := int64(-1) // offset of the file's last non-zero byte, once needed
	for off < size {
		// A bad record is the torn last write when the file ends inside
		// it, or when nothing but zero bytes follows from inside it: a
		// file system may extend a file before the data reaches it. A bad
		// record with data after it is damage.
		bad := func(what string, extent int64) (int64, semisync.Position, int64, error) {
			if lastData < 0 {
				lastData = lastNonZero(rd, size)
			}
			if lastData < off+extent {
				return off, last, n, nil
			}
			return off, last, n, fmt.Errorf("%w: %s in the record at byte %d", ErrCorrupt, what, off)
		}
		if size-off < recordHeaderLen {
			return bad("a short header", recordHeaderLen)
		}
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			return off, last, n, err
		}
		if crc32.Checksum(hdr[:headerSumAt], castagnoli) != binary.LittleEndian.Uint32(hdr[headerSumAt:]) {
			return bad("a header checksum mismatch", recordHeaderLen)
		}
		evLen := int64(binary.LittleEndian.Uint32(hdr[0:]))
		nameLen := int64(binary.LittleEndian.Uint16(hdr[4:]))
		if evLen < 1 || evLen > MaxEventLen || nameLen > semisync.MaxFileNameLen {
			return off, last, n, fmt.Errorf("%w: impossible lengths in the record at byte %d", ErrCorrupt, off)
		}
		recLen := recordHeaderLen + nameLen + evLen
		if size-off < recLen {
			return bad("a record longer than the file", recLen)
		}
		if int64(cap(body)) < nameLen+evLen {
			body = make([]byte, nameLen+evLen)
		}
		body = body[:nameLen+evLen]
		if _, err := io.ReadFull(br, body); err != nil {
			return off, last, n, err
		}
		if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(hdr[bodySumAt:]) {
			return bad("a checksum mismatch", recLen)
		}
		offset := binary.LittleEndian.Uint64(hdr[6:])
		end := semisync.FilePos(string(body[:nameLen]), offset)
		if nameLen == 0 {
			end = semisync.LSN(offset)
		}
		if end.Less(last) {
			return off, last, n, fmt.Errorf("%w: the record at byte %d ends at %v, before %v", ErrCorrupt, off, end, last)
		}
		if fn != nil {
			if err := fn(Record{End: end, Event: body[nameLen:]}); err != nil {
				return off, last, n, err
			}
		}
		off += recLen
		last = end
		n++
	}
	return off, last, n, nil
}

// lastNonZero returns the offset of the last non-zero byte of rd, a file
// of size bytes, or -1 if there is none. A read error counts as data at
// the end, so nothing is cut on its account.
func lastNonZero(rd io.ReaderAt, size int64) int64 {
	buf := make([]byte, 32<<10)
	for end := size; end > 0; {
		start := max(0, end-int64(len(buf)))
		k, _ := rd.ReadAt(buf[:end-start], start)
		for i := k - 1; i >= 0; i-- {
			if buf[i] != 0 {
				return start + int64(i)
			}
		}
		if k < int(end-start) {
			return size
		}
		end = start
	}
	return -1
}

// Read calls fn for every record of the relay log file at path, in order,
// and returns fn's first error. The event slice is valid only during the
// call. A torn last record is not reported (Open would cut it); a damaged
// one in the middle is ErrCorrupt. Read changes nothing, so an applier may
// call it while a File appends to the same file: it reports the records
// flushed before it reached them, and one still being written looks torn
// to it and is left out.
func Read(path string, fn func(Record) error) error {
	osf, err := os.Open(path)
	if err != nil {
		return err
	}
	defer osf.Close()
	fi, err := osf.Stat()
	if err != nil {
		return err
	}
	_, _, _, err = scan(osf, fi.Size(), fn)
	return err
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
// A failed fsync makes the file failed (ErrFailed).
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
		return f.failed
	}
	f.synced, f.syncedN, f.syncedR = f.written, f.size, f.records
	f.stats.Syncs++
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
	return f.file.Close()
}
