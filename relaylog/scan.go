package relaylog

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/semisync-go/semisync"
)

// CorruptError is the error Open, Read and Repair return for a damaged
// file: the record or sync mark at Offset is not whole, and the file
// proves that it was fsynced (an intact sync mark follows it), or, in a
// version 1 file, other data follows it. It wraps ErrCorrupt. The file is
// left as it is.
type CorruptError struct {
	// Offset is where the damaged record or sync mark starts, in bytes
	// from the start of the file.
	Offset int64
	// Reason says what is wrong with it, and why it is damage rather than
	// a torn write.
	Reason string
}

// Error names the offset and what is wrong there.
func (e *CorruptError) Error() string {
	return fmt.Sprintf("relaylog: file corrupt at byte %d: %s", e.Offset, e.Reason)
}

// Unwrap returns ErrCorrupt.
func (e *CorruptError) Unwrap() error { return ErrCorrupt }

// Recovery says what Open (or Repair) found in an existing file and what
// it cut. A host must look at it: Cut reports whether bytes were removed
// from the end of the file, and End is where replication resumes. The cut
// bytes lie past the last fsync the file proves (Proven): after a process
// crash they hold nothing a completed Sync covered; after a power failure
// they may hold the records of the last Sync before it, if those were
// damaged as well (the package doc says exactly when).
type Recovery struct {
	// Path is the file's path.
	Path string
	// Records is the number of records the file holds.
	Records int64
	// End is the end of the last record the file holds: where replication
	// resumes. It is the zero Position when the file holds no record.
	End semisync.Position
	// Proven is the offset of the last intact sync mark: every byte before
	// it was fsynced. It is 0 when the file holds no sync mark (a new file,
	// or one of format version 1).
	Proven int64
	// CutAt is the offset of the first byte cut. It is meaningful only when
	// CutBytes is not 0.
	CutAt int64
	// CutBytes is the number of bytes cut from the end of the file; 0 when
	// nothing was cut.
	CutBytes int64
	// Reason says why the bytes at CutAt are not a whole record ("zero
	// bytes" when all the cut bytes are zeros). Empty when nothing was cut.
	Reason string
	// Upgraded reports that the file was of format version 1 and was
	// rewritten as version 2, so that Sync writes sync marks in it.
	Upgraded bool
}

// Cut reports whether Open cut bytes from the end of the file.
func (r Recovery) Cut() bool { return r.CutBytes > 0 }

// String describes the recovery in one line, for a log.
func (r Recovery) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "relaylog: %s: ", r.Path)
	if r.Cut() {
		fmt.Fprintf(&b, "cut %d bytes from byte %d (%s), past the last fsync the file proves (byte %d); ", r.CutBytes, r.CutAt, r.Reason, r.Proven)
	}
	fmt.Fprintf(&b, "%d records, resuming after %v", r.Records, r.End)
	if r.Upgraded {
		b.WriteString("; upgraded from format version 1")
	}
	return b.String()
}

// Item is one whole record or sync mark of a file, as Check reports it.
type Item struct {
	// Offset is where the item starts, in bytes from the start of the
	// file.
	Offset int64
	// Len is the item's length in bytes, its header included.
	Len int64
	// Mark reports a sync mark: every byte before Offset had been fsynced
	// when it was written.
	Mark bool
	// Record is the record, the zero Record for a sync mark. Its Event is
	// valid only during the call.
	Record Record
}

// Report is what Check finds in a file.
type Report struct {
	// Version is the file's format version, 1 or 2.
	Version int
	// Size is the file's length in bytes.
	Size int64
	// Marks is the number of sync marks among the whole items.
	Marks int64
	// Recovery is what Open would do: its Records and End count the
	// records before any damage, and CutAt and CutBytes give the tail Open
	// (and Repair) would cut. Upgraded is true for a version 1 file.
	Recovery Recovery
	// Corrupt is the error Open would refuse the file with, nil if it
	// would open it. Recovery then cuts nothing.
	Corrupt *CorruptError
}

// Whole reports whether every byte of the file belongs to a whole record
// or sync mark: Open would neither cut nor refuse anything.
func (r Report) Whole() bool { return r.Corrupt == nil && !r.Recovery.Cut() }

// scanner reads a file's records and sync marks in order and decides what
// the first bad one is: a tail past the last proven fsync (cut) or damage
// (refused). Its fields are the state reached so far, so that a read-only
// scan can resume where it stopped when the file changed under it.
type scanner struct {
	fn func(Item) error // called for every whole item, if not nil

	version byte
	good    int64             // end of the whole items: where the first bad one starts
	last    semisync.Position // end of the last whole record
	records int64
	marks   int64
	proven  int64 // offset of the last intact sync mark among the whole items
	marked  bool  // the last whole item is a sync mark, or there is none

	// The first bad item, once found (bad != "").
	bad    string
	badLen int64 // version 1: how far the bad record reaches, for the zero-tail rule
	always bool  // version 1: damage whatever follows it
	// What follows it.
	markAfter int64 // offset of the last intact sync mark after it, or -1
	zeros     bool  // every byte from it to the end is zero
	tail      bool  // the bad item and everything after it is a tail to cut
	corrupt   *CorruptError
}

// readHeader reads the magic and format version.
func (s *scanner) readHeader(rd io.ReaderAt) error {
	var m [len(magic)]byte
	if _, err := rd.ReadAt(m[:], 0); err != nil || !bytes.Equal(m[:4], magic[:4]) || (m[4] != 1 && m[4] != version) {
		return ErrNotRelayLog
	}
	s.version = m[4]
	s.good, s.marked = int64(len(magic)), true
	return nil
}

// run scans rd, a file of size bytes, from s.good on. It returns fn's
// error, or a read error; damage is not an error (s.corrupt).
func (s *scanner) run(rd io.ReaderAt, size int64) error {
	s.bad, s.badLen, s.always, s.markAfter, s.zeros, s.tail, s.corrupt = "", 0, false, -1, false, false, nil
	off := s.good
	br := bufio.NewReaderSize(io.NewSectionReader(rd, off, size-off), 64<<10)
	var hdr [recordHeaderLen]byte
	var body []byte
	for ; off < size; off = s.good {
		if size-off < recordHeaderLen {
			s.setBad("a short header", recordHeaderLen, false)
			break
		}
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			return err
		}
		sum := crc32.Checksum(hdr[:headerSumAt], castagnoli)
		if sum != binary.LittleEndian.Uint32(hdr[headerSumAt:]) {
			s.setBad("a header checksum mismatch", recordHeaderLen, false)
			break
		}
		evLen := int64(binary.LittleEndian.Uint32(hdr[0:]))
		nameLen := int64(binary.LittleEndian.Uint16(hdr[4:]))
		offset := binary.LittleEndian.Uint64(hdr[6:])
		if evLen == 0 && nameLen == 0 && s.version >= 2 {
			if offset != uint64(off) {
				s.setBad(fmt.Sprintf("a sync mark naming byte %d", offset), markLen, false)
				break
			}
			if binary.LittleEndian.Uint32(hdr[bodySumAt:]) != ^sum {
				s.setBad("a sync mark's second checksum mismatch", markLen, false)
				break
			}
			if s.fn != nil {
				if err := s.fn(Item{Offset: off, Len: markLen, Mark: true}); err != nil {
					return err
				}
			}
			s.good += markLen
			s.proven, s.marked = off, true
			s.marks++
			continue
		}
		if evLen < 1 || evLen > MaxEventLen || nameLen > semisync.MaxFileNameLen {
			s.setBad("impossible lengths", recordHeaderLen, true)
			break
		}
		recLen := recordHeaderLen + nameLen + evLen
		if size-off < recLen {
			s.setBad("a record longer than the file", recLen, false)
			break
		}
		if int64(cap(body)) < nameLen+evLen {
			body = make([]byte, nameLen+evLen)
		}
		body = body[:nameLen+evLen]
		if _, err := io.ReadFull(br, body); err != nil {
			return err
		}
		if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(hdr[bodySumAt:]) {
			s.setBad("a checksum mismatch", recLen, false)
			break
		}
		end := semisync.FilePos(string(body[:nameLen]), offset)
		if nameLen == 0 {
			end = semisync.LSN(offset)
		}
		if end.Less(s.last) {
			s.setBad(fmt.Sprintf("the record ends at %v, before %v", end, s.last), recLen, true)
			break
		}
		if s.fn != nil {
			if err := s.fn(Item{Offset: off, Len: recLen, Record: Record{End: end, Event: body[nameLen:]}}); err != nil {
				return err
			}
		}
		s.good += recLen
		s.last, s.marked = end, false
		s.records++
	}
	if s.bad == "" {
		return nil
	}
	return s.judge(rd, size)
}

func (s *scanner) setBad(reason string, extent int64, always bool) {
	s.bad, s.badLen, s.always = reason, extent, always
}

// judge decides whether the bad item at s.good starts a tail to cut or is
// damage.
func (s *scanner) judge(rd io.ReaderAt, size int64) error {
	off := s.good
	if s.version == 1 {
		// Version 1 has no sync marks: a bad record is the torn last
		// write when the file ends inside it, or when nothing but zeros
		// follows from inside it (a file system may extend a file before
		// the data reaches it).
		last := lastNonZero(rd, size)
		s.zeros = last < off
		if !s.always && last < off+s.badLen {
			s.tail = true
			return nil
		}
		reason := s.bad
		if !s.always {
			reason += ", with data after it"
		}
		s.corrupt = &CorruptError{Offset: off, Reason: reason}
		return nil
	}
	var err error
	if s.markAfter, s.zeros, err = lastMark(rd, off+1, size); err != nil {
		return err
	}
	if s.markAfter > off {
		s.corrupt = &CorruptError{Offset: off, Reason: fmt.Sprintf("%s, before the sync mark at byte %d, which proves it was fsynced", s.bad, s.markAfter)}
		return nil
	}
	s.tail = true // past every intact sync mark: never proven fsynced
	return nil
}

// recovery returns the Recovery of the scanned file.
func (s *scanner) recovery(path string, size int64) Recovery {
	r := Recovery{Path: path, Records: s.records, End: s.last, Proven: max(s.proven, s.markAfter, 0), Upgraded: s.version == 1}
	if s.tail {
		r.CutAt, r.CutBytes, r.Reason = s.good, size-s.good, s.bad
		if s.zeros {
			r.Reason = "zero bytes"
		}
	}
	return r
}

// isMark reports whether b, 22 bytes at offset off of a file, is an intact
// sync mark.
func isMark(b []byte, off int64) bool {
	if binary.LittleEndian.Uint64(b[6:]) != uint64(off) || binary.LittleEndian.Uint32(b[0:]) != 0 || binary.LittleEndian.Uint16(b[4:]) != 0 {
		return false
	}
	sum := crc32.Checksum(b[:headerSumAt], castagnoli)
	return binary.LittleEndian.Uint32(b[headerSumAt:]) == sum && binary.LittleEndian.Uint32(b[bodySumAt:]) == ^sum
}

// putMark writes the sync mark for offset off into b.
func putMark(b *[markLen]byte, off int64) {
	clear(b[:6])
	binary.LittleEndian.PutUint64(b[6:], uint64(off))
	sum := crc32.Checksum(b[:headerSumAt], castagnoli)
	binary.LittleEndian.PutUint32(b[headerSumAt:], sum)
	binary.LittleEndian.PutUint32(b[bodySumAt:], ^sum)
}

// lastMark returns the offset of the last intact sync mark starting at or
// after from in rd, a file of size bytes, at any offset (-1 if there is
// none), and whether every byte from from-1 on is zero. It reads the
// bytes from the end backwards.
func lastMark(rd io.ReaderAt, from, size int64) (at int64, zeros bool, err error) {
	at, zeros = -1, true
	const chunk = 64 << 10
	buf := make([]byte, chunk+markLen-1)
	// Each round reads [start, end) plus the markLen-1 bytes after it, so
	// that a mark starting in it is whole.
	for end := size; end > from-1; {
		start := max(from-1, end-chunk)
		n := min(size, end+markLen-1) - start
		if _, err := rd.ReadAt(buf[:n], start); err != nil {
			return -1, false, err
		}
		b := buf[:n]
		if zeros && !allZero(b[:end-start]) {
			zeros = false
		}
		for i := end - start - 1; i >= 0 && at < 0; i-- {
			if p := start + i; p >= from && i+markLen <= n && b[i] == 0 && isMark(b[i:i+markLen], p) {
				at = p
			}
		}
		if at >= 0 { // not all zeros either: a mark is not
			break
		}
		end = start
	}
	return at, zeros, nil
}

// allZero reports whether every byte of b is zero.
func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
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

// statReaderAt is a file a read-only scan reads: an *os.File.
type statReaderAt interface {
	io.ReaderAt
	Stat() (fs.FileInfo, error)
}

// readOnlyTries bounds how often a read-only scan resumes because the file
// changed under it.
const readOnlyTries = 3

// scanReadOnly scans f without changing it. A File may be appending to it
// meanwhile, and its Rewind may cut records the scan is reading and write
// others in their place: when the scan finds damage, or a file shorter
// than it was, and the file changed while it read, it resumes at the bad
// item with the file's new length (at most readOnlyTries times). The items
// before it were whole when read: only records past the last fsync can be
// cut by a Rewind (the package doc says so to appliers).
func scanReadOnly(f statReaderAt, s *scanner) (size int64, err error) {
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	if err := s.readHeader(f); err != nil {
		return 0, err
	}
	for try := 1; ; try++ {
		size = fi.Size()
		err := s.run(f, size)
		if err == nil && s.corrupt == nil {
			return size, nil
		}
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
			return size, err
		}
		now, serr := f.Stat()
		if serr != nil {
			return size, serr
		}
		changed := now.Size() != fi.Size() || !now.ModTime().Equal(fi.ModTime())
		if !changed || try == readOnlyTries {
			if err != nil {
				return size, err
			}
			return size, nil
		}
		fi = now
	}
}

// Read calls fn for every record of the relay log file at path, in order,
// and returns fn's first error. The event slice is valid only during the
// call. It applies Open's rules without changing the file: a tail past the
// last fsync the file proves, which Open would cut, is left out; damage
// before it is a *CorruptError (ErrCorrupt), returned after the records
// before the damage. Read may run while a File appends to the same file:
// it reports the records flushed before it reached them, and one still
// being written looks like a tail to it and is left out.
func Read(path string, fn func(Record) error) error {
	osf, err := os.Open(path)
	if err != nil {
		return err
	}
	defer osf.Close()
	s := &scanner{fn: func(it Item) error {
		if it.Mark {
			return nil
		}
		return fn(it.Record)
	}}
	if _, err := scanReadOnly(osf, s); err != nil {
		if errors.Is(err, ErrNotRelayLog) {
			err = fmt.Errorf("%s: %w", path, err)
		}
		return err
	}
	if s.corrupt != nil {
		return fmt.Errorf("%s: %w", path, s.corrupt)
	}
	return nil
}

// Check reads the relay log file at path without changing it, calls fn
// (if not nil) for every whole record and sync mark in order, and reports
// what Open would do with the file: the tail it would cut, or the damage
// it would refuse. Damage is not an error here: it is in the Report. The
// error is fn's, a read error, or ErrNotRelayLog. Command relaylog (in
// cmd/relaylog) prints a Check.
func Check(path string, fn func(Item) error) (Report, error) {
	osf, err := os.Open(path)
	if err != nil {
		return Report{}, err
	}
	defer osf.Close()
	s := &scanner{fn: fn}
	size, err := scanReadOnly(osf, s)
	if err != nil {
		if errors.Is(err, ErrNotRelayLog) {
			err = fmt.Errorf("%s: %w", path, err)
		}
		return Report{}, err
	}
	return Report{
		Version:  int(s.version),
		Size:     size,
		Marks:    s.marks,
		Recovery: s.recovery(path, size),
		Corrupt:  s.corrupt,
	}, nil
}
