package semisync

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// MaxFileNameLen is the longest binlog file name a [Position] can carry on
// MySQL's wire: the ACK packet has room for a name of at most 511 bytes
// (FN_REFLEN - 1). [ParsePosition] rejects longer names.
const MaxFileNameLen = 511

// ErrInvalidPosition is wrapped by every error [ParsePosition] and
// [Position.UnmarshalText] return; match it with [errors.Is].
var ErrInvalidPosition = errors.New("semisync: invalid position")

// Position is a point in the source's replication stream. It is totally
// ordered and comparable with ==, and comparing two positions never allocates.
//
// Two kinds of host use it:
//
//   - MySQL-style hosts name a binlog file and a byte offset in it
//     ([FilePos]). Positions order by file first, then by offset.
//   - Log-sequence-number hosts use a single number ([LSN]): a position with
//     an empty file name.
//
// Files order by their numeric suffix, not byte-wise: binlog.999999 comes
// before binlog.1000000. MySQL compares the names with strcmp, which orders
// those two the other way round once the suffix grows a digit (spec §4.2);
// [Position.CompareBytewise] reproduces MySQL's order for compatibility tests.
// More precisely, a file name splits into a stem and a trailing run of ASCII
// digits (the index); positions compare by stem (byte-wise), then index
// (numerically, of any length), then the whole name (byte-wise, which only
// separates names such as binlog.01 and binlog.1), then offset. All LSN
// positions come before all file positions; a host should not mix the two.
//
// The zero Position is LSN 0, the least position of all: "nothing yet".
type Position struct {
	file string
	off  uint64
}

// FilePos returns the position at byte offset off of the binlog file named
// file (its base name, as in SHOW BINARY LOG STATUS). An empty file name makes
// an LSN position. FilePos does not check the name's length; see
// [MaxFileNameLen].
func FilePos(file string, off uint64) Position { return Position{file: file, off: off} }

// LSN returns the position n of a host that numbers its stream with a single
// log sequence number.
func LSN(n uint64) Position { return Position{off: n} }

// splitIndex finds the trailing run of ASCII digits in name and returns where
// it starts and its value, saturated at MaxUint64.
func splitIndex(name string) (stem int, index uint64) {
	stem = stemLen(name)
	for i := stem; i < len(name); i++ {
		d := uint64(name[i] - '0')
		if index > (math.MaxUint64-d)/10 {
			return stem, math.MaxUint64
		}
		index = index*10 + d
	}
	return stem, index
}

// File returns the binlog file name, or "" for an LSN position.
func (p Position) File() string { return p.file }

// Offset returns the byte offset within the file, or the LSN.
func (p Position) Offset() uint64 { return p.off }

// FileIndex returns the numeric suffix of the file name (123 for
// "binlog.000123") and whether the name has one. A suffix too large for a
// uint64 reads as MaxUint64 (ordering does not depend on this value).
func (p Position) FileIndex() (uint64, bool) {
	stem, index := splitIndex(p.file)
	return index, stem < len(p.file)
}

// IsLSN reports whether p is an LSN position (it has no file name).
func (p Position) IsLSN() bool { return p.file == "" }

// IsZero reports whether p is the zero Position, the least of all.
func (p Position) IsZero() bool { return p == Position{} }

// Compare returns -1 if p is before q, +1 if p is after q, and 0 if they are
// the same position. It never allocates. Positions in the same file (the
// common case) compare by offset alone; only positions in different files
// look at the names' numeric suffixes.
func (p Position) Compare(q Position) int {
	if p.file != q.file {
		return compareFiles(p.file, q.file)
	}
	return compareUint(p.off, q.off)
}

// compareFiles orders two different file names by stem, then numeric
// index, then byte-wise (see [Position]). Indexes compare as numbers of any
// length: without their leading zeros, a longer run of digits is larger,
// and runs of equal length compare byte-wise.
func compareFiles(a, b string) int {
	sa, sb := stemLen(a), stemLen(b)
	if c := strings.Compare(a[:sa], b[:sb]); c != 0 {
		return c
	}
	da, db := strings.TrimLeft(a[sa:], "0"), strings.TrimLeft(b[sb:], "0")
	if c := compareUint(uint64(len(da)), uint64(len(db))); c != 0 {
		return c
	}
	if c := strings.Compare(da, db); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}

// stemLen returns the length of name without its trailing ASCII digits.
func stemLen(name string) int {
	i := len(name)
	for i > 0 && name[i-1] >= '0' && name[i-1] <= '9' {
		i--
	}
	return i
}

// Less reports whether p is before q.
func (p Position) Less(q Position) bool { return p.Compare(q) < 0 }

// CompareBytewise orders positions exactly as MySQL's semisync plugin does:
// file names by strcmp, then offsets. It differs from [Position.Compare] only
// when file suffixes have different widths (binlog.999999 vs binlog.1000000).
// Use it to reproduce MySQL's behaviour in compatibility tests.
func (p Position) CompareBytewise(q Position) int {
	if c := strings.Compare(p.file, q.file); c != 0 {
		return c
	}
	return compareUint(p.off, q.off)
}

func compareUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Max returns the later of p and q.
func Max(p, q Position) Position {
	if p.Compare(q) >= 0 {
		return p
	}
	return q
}

// String formats p as "file:offset", or as the bare number for an LSN
// position. [ParsePosition] reads it back.
func (p Position) String() string {
	if p.file == "" {
		return strconv.FormatUint(p.off, 10)
	}
	return p.file + ":" + strconv.FormatUint(p.off, 10)
}

// ParsePosition parses "file:offset" (the file name is everything before the
// last colon and must not be empty) or a bare decimal number (an LSN). The
// offset is a decimal uint64. Errors wrap [ErrInvalidPosition].
func ParsePosition(s string) (Position, error) {
	file, num := "", s
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		file, num = s[:i], s[i+1:]
		if file == "" {
			return Position{}, fmt.Errorf("%w %q: empty file name before ':'", ErrInvalidPosition, s)
		}
		if err := checkFileName(file); err != nil {
			return Position{}, err
		}
	}
	if num == "" || num[0] == '+' || num[0] == '-' {
		return Position{}, fmt.Errorf("%w %q: want file:offset or a decimal number", ErrInvalidPosition, s)
	}
	off, err := strconv.ParseUint(num, 10, 64)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return Position{}, fmt.Errorf("%w %q: offset overflows 64 bits", ErrInvalidPosition, s)
		}
		return Position{}, fmt.Errorf("%w %q: offset %q is not a decimal number", ErrInvalidPosition, s, num)
	}
	return FilePos(file, off), nil
}

// checkFileName rejects names MySQL's ACK packet cannot carry.
func checkFileName(file string) error {
	if len(file) > MaxFileNameLen {
		return fmt.Errorf("%w: file name of %d bytes is longer than %d", ErrInvalidPosition, len(file), MaxFileNameLen)
	}
	if strings.IndexByte(file, 0) >= 0 {
		return fmt.Errorf("%w %q: file name contains a NUL byte", ErrInvalidPosition, file)
	}
	return nil
}

// MarshalText implements [encoding.TextMarshaler] with [Position.String].
// It fails, wrapping [ErrInvalidPosition], for a file name that
// [ParsePosition] would not read back: longer than [MaxFileNameLen] or
// containing a NUL byte.
func (p Position) MarshalText() ([]byte, error) {
	if err := checkFileName(p.file); err != nil {
		return nil, err
	}
	return []byte(p.String()), nil
}

// UnmarshalText implements [encoding.TextUnmarshaler] with [ParsePosition].
// On error *p is unchanged.
func (p *Position) UnmarshalText(b []byte) error {
	q, err := ParsePosition(string(b))
	if err != nil {
		return err
	}
	*p = q
	return nil
}
