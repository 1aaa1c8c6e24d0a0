package mysqlsource

import (
	"bytes"
	"cmp"
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// MaxGTIDSetSources bounds the source ids of a GTID set ParseGTIDSet
// accepts, and MaxGTIDSetIntervals the intervals in all.
const (
	MaxGTIDSetSources   = 1024
	MaxGTIDSetIntervals = 1 << 16
)

// ParseGTIDSet parses a MySQL GTID set as gtid_executed and
// gtid_purged hold it: comma-separated source parts, each a server UUID
// followed by colon-separated transaction numbers or inclusive ranges
// (3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5:11, whitespace and newlines
// allowed between parts), or the empty string. As MySQL does, it accepts
// a source named more than once and ranges out of order, and returns the
// set in its normal form: sources in increasing order of their UUID,
// each one's intervals in increasing order, merged where they overlap or
// touch. MySQL 8.3's tagged GTIDs (uuid:tag:n) are refused.
func ParseGTIDSet(s string) ([]UUIDSet, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	var set []UUIDSet
	n := 0
	for part := range strings.SplitSeq(s, ",") {
		f := strings.Split(strings.TrimSpace(part), ":")
		f[0] = strings.TrimSpace(f[0])
		sid, ok := parseUUID(f[0])
		if !ok || len(f[0]) != 36 && len(f[0]) != 32 {
			return nil, fmt.Errorf("mysqlsource: GTID set %.64q: %q is not a server UUID", s, f[0])
		}
		if len(f) < 2 {
			return nil, fmt.Errorf("mysqlsource: GTID set %.64q: %q has no transaction numbers", s, part)
		}
		i, found := slices.BinarySearchFunc(set, sid, func(u UUIDSet, sid [16]byte) int { return bytes.Compare(u.SID[:], sid[:]) })
		if !found {
			if len(set) == MaxGTIDSetSources {
				return nil, fmt.Errorf("mysqlsource: GTID set of more than %d sources", MaxGTIDSetSources)
			}
			set = slices.Insert(set, i, UUIDSet{SID: sid})
		}
		for _, r := range f[1:] {
			if n++; n > MaxGTIDSetIntervals {
				return nil, fmt.Errorf("mysqlsource: GTID set of more than %d intervals", MaxGTIDSetIntervals)
			}
			lo, hi, isRange := strings.Cut(strings.TrimSpace(r), "-")
			start, err := strconv.ParseUint(lo, 10, 64)
			end := start
			if err == nil && isRange {
				end, err = strconv.ParseUint(hi, 10, 64)
			}
			if err != nil || start == 0 || end < start || end > math.MaxInt64 {
				return nil, fmt.Errorf("mysqlsource: GTID set %.64q: %q is not a transaction number or range (1 to 2^63-1)", s, r)
			}
			set[i].Intervals = append(set[i].Intervals, Interval{Start: start, End: end + 1})
		}
	}
	for i := range set {
		ivs := set[i].Intervals
		slices.SortFunc(ivs, func(a, b Interval) int { return cmp.Compare(a.Start, b.Start) })
		set[i].Intervals = mergeIntervals(ivs)
	}
	return set, nil
}

// FormatGTIDSet writes a GTID set as MySQL does (on one line): each
// source's UUID, lower case, and its intervals, n or first-last.
func FormatGTIDSet(set []UUIDSet) string {
	var b strings.Builder
	for i, u := range set {
		if i > 0 {
			b.WriteByte(',')
		}
		h := hex.EncodeToString(u.SID[:])
		b.WriteString(h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:])
		for _, iv := range u.Intervals {
			b.WriteByte(':')
			b.WriteString(strconv.FormatUint(iv.Start, 10))
			if iv.End-1 != iv.Start {
				b.WriteByte('-')
				b.WriteString(strconv.FormatUint(iv.End-1, 10))
			}
		}
	}
	return b.String()
}

// ParseGTIDSetEvent parses the GTID set a PREVIOUS_GTIDS_LOG_EVENT
// carries (ev is the whole event; a trailing CRC32 is allowed): the
// transactions of every file before the event's, in normal form.
func ParseGTIDSetEvent(ev []byte) ([]UUIDSet, error) {
	const what = "PREVIOUS_GTIDS_LOG_EVENT"
	if len(ev) < HeaderLen || ev[4] != TypeMySQLPreviousGTIDs {
		return nil, malformed(what, "not the event")
	}
	body := ev[HeaderLen:]
	set, err := parseGTIDSet(body, what)
	if err != nil && len(body) >= ChecksumLen {
		set, err = parseGTIDSet(body[:len(body)-ChecksumLen], what)
	}
	return normalGTIDSet(set), err
}

// normalGTIDSet puts a set each of whose intervals lists is in order (as
// UUIDSet.check requires) into normal form: sources sorted by UUID, a
// source named more than once merged. A set in normal form is returned
// as it is.
func normalGTIDSet(set []UUIDSet) []UUIDSet {
	bySID := func(a, b UUIDSet) int { return bytes.Compare(a.SID[:], b.SID[:]) }
	normal := slices.IsSortedFunc(set, bySID)
	for i := 1; normal && i < len(set); i++ {
		normal = set[i-1].SID != set[i].SID
	}
	if normal {
		return set
	}
	sorted := slices.Clone(set)
	slices.SortStableFunc(sorted, bySID)
	out := sorted[:0]
	for _, u := range sorted {
		if n := len(out); n > 0 && out[n-1].SID == u.SID {
			out[n-1].Intervals = UnionIntervals(out[n-1].Intervals, u.Intervals)
			continue
		}
		out = append(out, u)
	}
	return out
}

// ContainsGTIDSet says whether set holds every transaction of sub (both in
// the normal form ParseGTIDSet returns: sources sorted by UUID, each
// one's intervals sorted and merged).
func ContainsGTIDSet(set, sub []UUIDSet) bool {
	for _, u := range sub {
		i, found := slices.BinarySearchFunc(set, u.SID, func(x UUIDSet, sid [16]byte) int { return bytes.Compare(x.SID[:], sid[:]) })
		for _, iv := range u.Intervals {
			if !found || !covered(set[i].Intervals, iv) {
				return false
			}
		}
	}
	return true
}

// UnionGTIDSets returns the union of two sets in normal form, in normal
// form (newly allocated: neither argument is changed).
func UnionGTIDSets(a, b []UUIDSet) []UUIDSet {
	out := make([]UUIDSet, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		var c int
		switch {
		case i == len(a):
			c = 1
		case j == len(b):
			c = -1
		default:
			c = bytes.Compare(a[i].SID[:], b[j].SID[:])
		}
		switch {
		case c < 0:
			out = append(out, UUIDSet{SID: a[i].SID, Intervals: slices.Clone(a[i].Intervals)})
			i++
		case c > 0:
			out = append(out, UUIDSet{SID: b[j].SID, Intervals: slices.Clone(b[j].Intervals)})
			j++
		default:
			out = append(out, UUIDSet{SID: a[i].SID, Intervals: UnionIntervals(a[i].Intervals, b[j].Intervals)})
			i, j = i+1, j+1
		}
	}
	return out
}

// UnionIntervals merges two sorted, merged interval lists into a new one.
func UnionIntervals(a, b []Interval) []Interval {
	out := make([]Interval, 0, len(a)+len(b))
	for len(a) > 0 || len(b) > 0 {
		var x Interval
		if len(b) == 0 || len(a) > 0 && a[0].Start <= b[0].Start {
			x, a = a[0], a[1:]
		} else {
			x, b = b[0], b[1:]
		}
		if n := len(out); n > 0 && x.Start <= out[n-1].End {
			out[n-1].End = max(out[n-1].End, x.End)
			continue
		}
		out = append(out, x)
	}
	return out
}
