package relaylog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"

	"github.com/semisync-go/semisync"
)

// ErrUnknownPosition is wrapped by the error Follow returns for a
// position the file does not hold as the end of a fsynced record: after
// the last fsynced record, or inside a record. A source refuses such a
// start (MySQL's error 1236), since it would take it as the replica's
// acknowledgement.
var ErrUnknownPosition = errors.New("relaylog: position not in the file")

// followWindow is how many bytes a Follower reads at a time, at least.
const followWindow = 64 << 10

// Follower reads a File's records in order, from a position on, as Syncs
// make them durable: it returns only records an fsync has covered (those
// before the File's last sync mark), so nothing it returns can be cut by a
// Rewind, nor by Open after a crash of the process; after a power failure,
// only as the package doc's "What a cut can and cannot mean" says (the
// last batch, if its mark was lost and its bytes damaged). It reads the
// file once, never going back to the start. When it has returned every
// fsynced record, Next reports the end and Wait gives a channel that is
// made ready by the next Sync that moves the durable end, by Close of the
// File, or by its failure.
//
// A Follower has a descriptor of its own on the file and reads it in
// windows of 64 KiB (more for a longer record, given back after it). It is
// used by one goroutine; any number of Followers may follow one File while
// it is written.
type Follower struct {
	f      *File
	rd     *os.File
	pos    int64             // offset of the next item in the file
	last   semisync.Position // end of the last record read
	name   string            // the binlog file name of the last record read
	win    []byte            // the file's bytes from winOff on
	winOff int64
	limit  int64 // how far the File's fsyncs reached when Next last asked
	wait   <-chan struct{}
	closed bool
	// from is the position Follow started at; while skip is true, Next
	// passes over records ending at or before it (records with the same
	// end fsynced after Follow).
	from semisync.Position
	skip bool
}

// Follow returns a Follower whose first record is the first one ending
// after from. from must be the zero Position (from the first record) or
// the end of a fsynced record (several records may end there; the
// Follower passes over all of them, those fsynced later too); otherwise
// Follow returns an error wrapping ErrUnknownPosition. From the end of the
// last fsynced record (a replica that is caught up) it starts at once;
// from an earlier one it reads the file's records from the start to find
// it, and damage it meets there is a *CorruptError. It opens the File's
// path again and refuses a file that is no longer the File's (renamed or
// replaced).
func (f *File) Follow(from semisync.Position) (*Follower, error) {
	rd, err := os.Open(f.path)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	closed, synced, syncedN := f.closed, f.synced, f.syncedN
	var same bool
	if !closed {
		same, err = sameFile(f.file, rd)
	}
	f.mu.Unlock()
	switch {
	case closed:
		rd.Close()
		return nil, ErrClosed
	case err != nil:
		rd.Close()
		return nil, err
	case !same:
		rd.Close()
		return nil, fmt.Errorf("relaylog: %s is no longer the file being written (renamed or replaced)", f.path)
	}
	fl := &Follower{f: f, rd: rd, pos: int64(len(magic)), from: from}
	switch {
	case from.IsZero():
		return fl, nil
	case from == synced:
		fl.pos, fl.last, fl.limit, fl.skip = syncedN, from, syncedN, true
		return fl, nil
	}
	for {
		at, prev := fl.pos, fl.last
		r, ok, err := fl.Next()
		switch {
		case err != nil:
			fl.Close()
			return nil, err
		case !ok && prev == from:
			fl.skip = true
			return fl, nil
		case !ok:
			fl.Close()
			return nil, fmt.Errorf("%w: %v: the file's fsynced records end at %v", ErrUnknownPosition, from, prev)
		case from.Less(r.End) && prev != from:
			fl.Close()
			return nil, fmt.Errorf("%w: %v: inside the record ending at %v", ErrUnknownPosition, from, r.End)
		case from.Less(r.End):
			fl.pos, fl.last = at, prev // read it again: it is in the window still
			return fl, nil
		}
	}
}

// sameFile reports whether a and b are the same file.
func sameFile(a, b *os.File) (bool, error) {
	ai, err := a.Stat()
	if err != nil {
		return false, err
	}
	bi, err := b.Stat()
	if err != nil {
		return false, err
	}
	return os.SameFile(ai, bi), nil
}

// Next returns the next fsynced record, if there is one; ok is false when
// every record fsynced so far has been returned. The Record's Event is
// valid until the next call. Damage in what the file proves fsynced is a
// *CorruptError (ErrCorrupt). Once the File is closed or has failed, Next
// returns ErrClosed, or the failure, when it has read the records it knew
// to be fsynced.
func (fl *Follower) Next() (r Record, ok bool, err error) {
	if fl.closed {
		return Record{}, false, ErrClosed
	}
	for {
		if fl.pos >= fl.limit { // ask the File only at the end of what it said
			limit, wait, failed, err := fl.f.durable(fl.pos)
			if err != nil {
				return Record{}, false, err
			}
			fl.limit = limit
			if fl.pos >= limit {
				if failed != nil {
					return Record{}, false, failed
				}
				fl.wait = wait
				return Record{}, false, nil
			}
		}
		limit := fl.limit
		at := fl.pos
		hdr, err := fl.read(at, recordHeaderLen, limit)
		if err != nil {
			return Record{}, false, err
		}
		sum := crc32.Checksum(hdr[:headerSumAt], castagnoli)
		if sum != binary.LittleEndian.Uint32(hdr[headerSumAt:]) {
			return Record{}, false, fl.corrupt(at, "a header checksum mismatch")
		}
		evLen := int64(binary.LittleEndian.Uint32(hdr[0:]))
		nameLen := int64(binary.LittleEndian.Uint16(hdr[4:]))
		offset := binary.LittleEndian.Uint64(hdr[6:])
		bodySum := binary.LittleEndian.Uint32(hdr[bodySumAt:])
		if evLen == 0 && nameLen == 0 {
			if offset != uint64(at) || bodySum != ^sum {
				return Record{}, false, fl.corrupt(at, "a damaged sync mark")
			}
			fl.pos += markLen
			continue
		}
		if evLen < 1 || evLen > MaxEventLen || nameLen > semisync.MaxFileNameLen {
			return Record{}, false, fl.corrupt(at, "impossible lengths")
		}
		recLen := recordHeaderLen + nameLen + evLen
		if limit-at < recLen {
			return Record{}, false, fl.corrupt(at, "a record running past the last fsync")
		}
		rec, err := fl.read(at, recLen, limit)
		if err != nil {
			return Record{}, false, err
		}
		body := rec[recordHeaderLen:]
		if crc32.Checksum(body, castagnoli) != bodySum {
			return Record{}, false, fl.corrupt(at, "a checksum mismatch")
		}
		end := semisync.LSN(offset)
		if nameLen > 0 {
			if string(body[:nameLen]) != fl.name { // compared without a copy
				fl.name = string(body[:nameLen])
			}
			end = semisync.FilePos(fl.name, offset)
		}
		if end.Less(fl.last) {
			return Record{}, false, fl.corrupt(at, fmt.Sprintf("the record ends at %v, before %v", end, fl.last))
		}
		fl.pos += recLen
		fl.last = end
		if fl.skip {
			if !fl.from.Less(end) {
				continue // another record ending at from
			}
			fl.skip = false
		}
		return Record{End: end, Event: body[nameLen:]}, true, nil
	}
}

// corrupt is the error for damage at offset at, which lies before the
// last fsync the File made.
func (fl *Follower) corrupt(at int64, reason string) error {
	return fmt.Errorf("%s: %w", fl.f.path, &CorruptError{Offset: at, Reason: reason + " in bytes the file had fsynced"})
}

// read returns the file's n bytes at off, which end at or before limit,
// from the window, reading a new window from off if they are not all in
// it. The bytes are valid until the next read.
func (fl *Follower) read(off, n, limit int64) ([]byte, error) {
	if off+n > limit {
		return nil, fl.corrupt(off, "a record header running past the last fsync")
	}
	if off >= fl.winOff && off+n <= fl.winOff+int64(len(fl.win)) {
		return fl.win[off-fl.winOff : off-fl.winOff+n], nil
	}
	want := min(max(n, followWindow), limit-off)
	if int64(cap(fl.win)) < want || (cap(fl.win) > 4*followWindow && want <= followWindow) {
		fl.win = make([]byte, want) // larger, or small again after a long record
	}
	fl.win = fl.win[:want]
	if _, err := fl.rd.ReadAt(fl.win, off); err != nil {
		fl.win = fl.win[:0]
		return nil, fmt.Errorf("relaylog: reading %s at byte %d: %w", fl.f.path, off, err)
	}
	fl.winOff = off
	return fl.win[:n], nil
}

// Wait returns a channel that becomes ready (it is closed) when the File
// may have fsynced records after the end Next last reported, was closed,
// or failed. Spurious wake-ups are allowed; a missed one is not. Before
// Next has reported an end it returns a ready channel.
func (fl *Follower) Wait() <-chan struct{} {
	if fl.wait == nil {
		return closedChan
	}
	return fl.wait
}

// closedChan is a channel that is always ready.
var closedChan = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// Last returns the end of the last record Next returned (or Follow
// skipped): the zero Position before the first.
func (fl *Follower) Last() semisync.Position { return fl.last }

// Close releases the Follower's descriptor. It is idempotent.
func (fl *Follower) Close() error {
	if fl.closed {
		return nil
	}
	fl.closed = true
	fl.win = nil
	return fl.rd.Close()
}

// durable returns how many bytes of the file fsyncs cover (its last sync
// mark included) and why the file failed, if it did; ErrClosed after
// Close. For a Follower at pos that has read all of them, it also returns
// the channel that the next Sync that moves the limit, Close or a failure
// makes ready.
func (f *File) durable(pos int64) (limit int64, wait <-chan struct{}, failed, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return 0, nil, nil, ErrClosed
	}
	if pos >= f.syncedN {
		if f.grown == nil {
			f.grown = make(chan struct{})
		}
		f.grownTaken = true
		wait = f.grown
	}
	return f.syncedN, wait, f.failed, nil
}

// wake makes ready the channel Followers wait on, if one of them took it,
// and starts another. Called with f.mu held.
func (f *File) wake() {
	if f.grownTaken {
		close(f.grown)
		f.grown, f.grownTaken = nil, false
	}
}
