package mysqlreplica

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
)

// relayMagic opens every relay file: "SSRL" and the format version.
var relayMagic = [...]byte{'S', 'S', 'R', 'L', 1}

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

// maxEventLen bounds an event in a relay file: MySQL's max_allowed_packet
// is at most 1 GiB, and so is any event a source can send.
const maxEventLen = 1 << 30

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Errors of relay files.
var (
	// ErrNotRelayFile means the file does not start with the relay file's
	// magic bytes.
	ErrNotRelayFile = errors.New("mysqlreplica: not a relay file")
	// ErrCorrupt means a record in the middle of a relay file does not
	// match its checksum: the file was damaged after it was written, and
	// nothing is truncated or overwritten.
	ErrCorrupt = errors.New("mysqlreplica: relay file corrupt")
	// ErrRelayClosed means the relay file was closed.
	ErrRelayClosed = errors.New("mysqlreplica: relay file closed")
	// ErrRelayFailed means an fsync of the relay file failed, or a failed
	// write could not be undone: what the file holds past its last good
	// fsync is unknown (after a failed fsync Linux may drop the pages and
	// report success on the next one), so it takes no more writes. Close
	// it and reopen it with OpenRelayFile, which checks every record.
	ErrRelayFailed = errors.New("mysqlreplica: relay file failed; reopen it")
)

// Record is one event of a relay file and the position in the source's
// binlog at which it ends.
type Record struct {
	End   semisync.Position
	Event []byte
}

// RelayFile is a relay log in one file, appended to and fsynced by the
// replica: it implements replica.RelayLog, replica.Syncer and
// replica.Discarder. Each record holds one event as the source sent it
// (semisync prefix removed, its own checksum kept) with the source position
// it ends at and a CRC-32C, so that after a crash OpenRelayFile finds the
// last complete record and the replica resumes exactly after it: nothing
// lost, nothing twice.
//
// Write buffers in memory, Flush writes the buffer to the file (the
// operating system has it: it survives a crash of the process), Sync
// fsyncs the file (it survives a power failure). Its methods are safe for
// concurrent use; a replica calls them from one goroutine.
type RelayFile struct {
	mu      sync.Mutex
	f       *os.File
	path    string
	buf     []byte            // records written, not yet flushed
	pending semisync.Position // end of the last record in buf
	size    int64             // bytes in the file
	written semisync.Position // end of the last record in the file
	synced  semisync.Position // end of the last record covered by an fsync
	syncedN int64             // bytes of the file covered by an fsync
	records int64             // records in the file
	syncedR int64             // records covered by an fsync
	stats   RelayStats
	closed  bool
	failed  error // why the file takes no more writes (ErrRelayFailed)
}

// RelayStats counts what a RelayFile did.
type RelayStats struct {
	Records int64 // records in the file (flushed)
	Bytes   int64 // bytes in the file, magic included
	Flushes int64 // Flush calls that wrote something
	Syncs   int64 // fsyncs
	// Truncated is how many bytes of a torn last record OpenRelayFile cut
	// off.
	Truncated int64
}

// OpenRelayFile opens the relay file at path, creating it if it does not
// exist. An existing file is checked record by record: a last record that
// is incomplete or fails its checksum — the write a crash interrupted — is
// cut off, and the file's last position is the end of the last good record.
// A damaged record followed by more data is ErrCorrupt and the file is left
// as it is.
func OpenRelayFile(path string) (*RelayFile, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	r := &RelayFile{f: f, path: path}
	if err := r.recover(); err != nil {
		f.Close()
		return nil, err
	}
	return r, nil
}

// recover scans the file, cuts a torn tail and sets the positions.
func (r *RelayFile) recover() error {
	fi, err := r.f.Stat()
	if err != nil {
		return err
	}
	if fi.Size() == 0 {
		if _, err := r.f.WriteAt(relayMagic[:], 0); err != nil {
			return err
		}
		if err := r.syncDir(); err != nil {
			return err
		}
		r.size = int64(len(relayMagic))
		r.syncedN, r.stats.Bytes = r.size, r.size
		return nil
	}
	good, last, n, err := scan(io.NewSectionReader(r.f, 0, fi.Size()), fi.Size(), nil)
	if err != nil {
		return fmt.Errorf("%s: %w", r.path, err)
	}
	if good < fi.Size() {
		if err := r.f.Truncate(good); err != nil {
			return err
		}
		r.stats.Truncated = fi.Size() - good
	}
	// What a crashed process left may sit in the page cache only: make it
	// durable (and the cut) before resuming after it.
	if err := r.f.Sync(); err != nil {
		return err
	}
	r.size, r.syncedN, r.records, r.syncedR = good, good, n, n
	r.written, r.synced, r.pending = last, last, last
	r.stats.Bytes, r.stats.Records = good, n
	return nil
}

// syncDir fsyncs the directory holding a newly created file, so the file
// itself survives a power failure.
func (r *RelayFile) syncDir() error {
	d, err := os.Open(filepath.Dir(r.path))
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
	var magic [len(relayMagic)]byte
	if _, err := rd.ReadAt(magic[:], 0); err != nil || magic != relayMagic {
		return 0, last, 0, ErrNotRelayFile
	}
	off := int64(len(relayMagic))
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
		if evLen < HeaderLen || evLen > maxEventLen || nameLen > semisync.MaxFileNameLen {
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

// ReadRelayFile calls fn for every record of the relay file at path, in
// order. The event slice is valid only during the call. A torn last record
// is not reported (OpenRelayFile would cut it); a damaged one in the middle
// is ErrCorrupt.
func ReadRelayFile(path string, fn func(Record) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	_, _, _, err = scan(f, fi.Size(), fn)
	return err
}

// Path returns the file's path.
func (r *RelayFile) Path() string { return r.path }

// Last returns the end of the last record in the file: where replication
// resumes. It is the zero position when the file holds no record.
func (r *RelayFile) Last() semisync.Position {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.written
}

// Synced returns the end of the last record an fsync has covered.
func (r *RelayFile) Synced() semisync.Position {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.synced
}

// Stats returns the file's counters.
func (r *RelayFile) Stats() RelayStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stats
}

// Write appends a record for event, ending at end, to the buffer. end must
// not come before the previous record's end.
func (r *RelayFile) Write(event []byte, end semisync.Position) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.usable(); err != nil {
		return err
	}
	if len(event) < HeaderLen || len(event) > maxEventLen {
		return fmt.Errorf("mysqlreplica: relay write of a %d-byte event", len(event))
	}
	if end.Less(r.pending) {
		return fmt.Errorf("mysqlreplica: relay write ending at %v, before %v", end, r.pending)
	}
	name := end.File()
	if len(name) > semisync.MaxFileNameLen {
		return fmt.Errorf("mysqlreplica: relay write ending in a file name of %d bytes (at most %d)", len(name), semisync.MaxFileNameLen)
	}
	start := len(r.buf)
	r.buf = binary.LittleEndian.AppendUint32(r.buf, uint32(len(event)))
	r.buf = binary.LittleEndian.AppendUint16(r.buf, uint16(len(name)))
	r.buf = binary.LittleEndian.AppendUint64(r.buf, end.Offset())
	r.buf = binary.LittleEndian.AppendUint32(r.buf, crc32.Checksum(r.buf[start:], castagnoli))
	r.buf = append(r.buf, 0, 0, 0, 0) // the body's checksum, below
	r.buf = append(r.buf, name...)
	r.buf = append(r.buf, event...)
	binary.LittleEndian.PutUint32(r.buf[start+bodySumAt:], crc32.Checksum(r.buf[start+recordHeaderLen:], castagnoli))
	r.pending = end
	return nil
}

// Flush writes the buffered records to the file. On error the file is cut
// back to its last complete record and the buffer kept, so a later Flush
// may try again; if the cut fails too the file is failed (ErrRelayFailed).
func (r *RelayFile) Flush() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.usable(); err != nil {
		return err
	}
	if len(r.buf) == 0 {
		return nil
	}
	if _, err := r.f.WriteAt(r.buf, r.size); err != nil {
		// Undo a partial write so the file holds whole records only.
		if terr := r.f.Truncate(r.size); terr != nil {
			r.failed = fmt.Errorf("%w: a failed write (%v) could not be undone: %v", ErrRelayFailed, err, terr)
		}
		return err
	}
	r.size += int64(len(r.buf))
	r.records += r.countBuffered()
	r.buf = r.buf[:0]
	r.written = r.pending
	r.stats.Flushes++
	r.stats.Bytes, r.stats.Records = r.size, r.records
	return nil
}

// usable returns why the file takes no writes, if it does not.
func (r *RelayFile) usable() error {
	if r.closed {
		return ErrRelayClosed
	}
	return r.failed
}

// Err returns ErrRelayFailed (wrapped with its cause) once the file has
// failed, and nil before.
func (r *RelayFile) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failed
}

// Rewind cuts the file back to its last fsynced record, dropping records
// flushed since (and the unflushed buffer), and returns that record's end:
// where a replica that acknowledges only fsynced events resumes. A source
// takes the position a semisync dump starts at as an acknowledgement up to
// it (spec §7.1), so resuming from a record that was flushed but never
// fsynced would acknowledge what a power failure can still take away.
// It fails on a failed or closed file.
func (r *RelayFile) Rewind() (semisync.Position, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.usable(); err != nil {
		return r.synced, err
	}
	r.buf = r.buf[:0]
	r.pending = r.synced
	if r.size == r.syncedN {
		return r.synced, nil
	}
	if err := r.f.Truncate(r.syncedN); err != nil {
		r.failed = fmt.Errorf("%w: cutting back to the last fsync: %v", ErrRelayFailed, err)
		return r.synced, r.failed
	}
	r.size, r.records, r.written = r.syncedN, r.syncedR, r.synced
	r.stats.Bytes, r.stats.Records = r.size, r.records
	return r.synced, nil
}

// countBuffered counts the records in the buffer.
func (r *RelayFile) countBuffered() int64 {
	var n int64
	for b := r.buf; len(b) >= recordHeaderLen; n++ {
		l := recordHeaderLen + int(binary.LittleEndian.Uint16(b[4:])) + int(binary.LittleEndian.Uint32(b[0:]))
		b = b[l:]
	}
	return n
}

// Sync fsyncs the file: every flushed record survives a power failure.
func (r *RelayFile) Sync() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.usable(); err != nil {
		return err
	}
	if r.syncedN == r.size {
		return nil // nothing written since the last fsync
	}
	if err := r.f.Sync(); err != nil {
		r.failed = fmt.Errorf("%w: fsync: %v", ErrRelayFailed, err)
		return r.failed
	}
	r.synced, r.syncedN, r.syncedR = r.written, r.size, r.records
	r.stats.Syncs++
	return nil
}

// Discard drops the records written since the last Flush.
func (r *RelayFile) Discard() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.buf = r.buf[:0]
	r.pending = r.written
}

// Close discards unflushed records and closes the file. It is idempotent.
func (r *RelayFile) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	r.buf = nil
	return r.f.Close()
}
