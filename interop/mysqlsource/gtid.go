package mysqlsource

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/dump"
)

// TypeMySQLGTID is MySQL's GTID_LOG_EVENT, which opens each transaction
// of a binlog with gtid_mode=ON.
const TypeMySQLGTID = 33

// ErrGTIDNotInBinlog is the cause of a GTID dump refused because the
// replica's position is a GTID the binlog does not hold (error 1236).
var ErrGTIDNotInBinlog = errors.New("mysqlsource: the replica's GTID is not in the binlog")

// MaxGTIDDomains bounds the domains of a GTID position ParseGTIDState
// accepts (MariaDB deployments use a handful).
const MaxGTIDDomains = 1024

// ParseGTIDState parses a MariaDB GTID position as @slave_connect_state
// and gtid_slave_pos hold it: comma-separated domain-server-seq triples,
// at most one per domain and MaxGTIDDomains in all, or the empty string.
func ParseGTIDState(s string) ([]GTID, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	var out []GTID
	seen := map[uint32]bool{}
	for part := range strings.SplitSeq(s, ",") {
		if len(out) == MaxGTIDDomains {
			return nil, fmt.Errorf("mysqlsource: GTID position of more than %d domains", MaxGTIDDomains)
		}
		f := strings.Split(strings.TrimSpace(part), "-")
		if len(f) != 3 {
			return nil, fmt.Errorf("mysqlsource: GTID position %q: %q is not domain-server-seq", s, part)
		}
		d, err1 := strconv.ParseUint(f[0], 10, 32)
		sv, err2 := strconv.ParseUint(f[1], 10, 32)
		n, err3 := strconv.ParseUint(f[2], 10, 64)
		if err := errors.Join(err1, err2, err3); err != nil {
			return nil, fmt.Errorf("mysqlsource: GTID position %q: %q: %w", s, part, err)
		}
		g := GTID{Domain: uint32(d), ServerID: uint32(sv), Seq: n}
		if seen[g.Domain] {
			return nil, fmt.Errorf("mysqlsource: GTID position %q names domain %d twice", s, g.Domain)
		}
		seen[g.Domain] = true
		out = append(out, g)
	}
	return out, nil
}

// eventGTID is what a GTID event says about the group it opens.
type eventGTID struct {
	maria GTID     // MariaDB's
	sid   [16]byte // MySQL's source id and transaction number
	gno   uint64
	mysql bool
}

// gtidOf decodes the GTID event ev (MariaDB's or MySQL's); ok is false for
// any other event, or one too short to be a GTID event.
func gtidOf(ev []byte) (g eventGTID, ok bool) {
	if len(ev) < HeaderLen {
		return g, false
	}
	b := ev[HeaderLen:]
	switch ev[4] {
	case TypeMariaGTID:
		if len(b) < 12 {
			return g, false
		}
		g.maria = GTID{Domain: binary.LittleEndian.Uint32(b[8:]), ServerID: binary.LittleEndian.Uint32(ev[5:]), Seq: binary.LittleEndian.Uint64(b)}
		return g, true
	case TypeMySQLGTID:
		if len(b) < 25 {
			return g, false
		}
		g.mysql = true
		copy(g.sid[:], b[1:17])
		g.gno = binary.LittleEndian.Uint64(b[17:])
		return g, true
	}
	return g, false
}

// MySQL's event types that open a transaction without a GTID
// (ANONYMOUS_GTID_LOG_EVENT, GTID_MODE OFF) and that give the GTIDs of
// every file before the one they open (PREVIOUS_GTIDS_LOG_EVENT).
const (
	TypeMySQLAnonymousGTID = 34
	TypeMySQLPreviousGTIDs = 35
)

// structural says whether an event of type typ belongs to the binlog
// file rather than to a transaction: a filter never drops it.
func structural(typ byte) bool {
	switch typ {
	case TypeRotate, TypeFormatDescription, TypeHeartbeat, TypeBinlogCheckpoint, TypeMariaGTIDList, TypeMySQLPreviousGTIDs:
		return true
	}
	return false
}

// maxHead bounds the leading events of a file a GTID dump sends first (a
// format description, a GTID list or previous GTIDs, a checkpoint or two).
const maxHead = 16

// gtidStart is where a GTID dump starts: the file it begins with, that
// file's leading events (its format description and the file events
// after it, up to its first transaction or start), and the position of
// the first transaction the replica lacks.
type gtidStart struct {
	file  string
	head  []dump.Event
	start semisync.Position
}

// gtidWant is what a GTID dump's replica has: a MariaDB position (maria,
// whose GTIDs the binlog must hold) or a MySQL GTID set (mysql, with own,
// the source's server_uuid, whose transactions the replica must not have
// more of than the binlog).
type gtidWant struct {
	has    func(eventGTID) bool
	maria  []GTID
	mysql  bool
	set    []UUIDSet
	own    [16]byte
	hasOwn bool
}

// Errors of a GTID dump's start, each answered with error 1236.
var (
	// ErrGTIDPurged: the replica lacks transactions in files the binlog
	// no longer has.
	ErrGTIDPurged = errors.New("mysqlsource: the binlog no longer has transactions the replica lacks")
	// ErrReplicaAhead: a MySQL replica has transactions of this source
	// that the binlog does not hold.
	ErrReplicaAhead = errors.New("mysqlsource: the replica has more GTIDs of this source than its binlog")
)

// GTIDIndex is implemented by a Binlog that keeps checkpoints of MariaDB
// GTID positions (a binlog server's GTID index): a MariaDB GTID dump then
// reads the binlog from the checkpoint it returns rather than from the
// oldest file.
type GTIDIndex interface {
	// GTIDCheckpoint returns the newest checkpoint of the binlog that a
	// replica at state has everything before: a position at a transaction
	// boundary, and list, the binlog's GTID position there (the last
	// transaction of each domain before it), each of whose domains state
	// names with a sequence number not before list's. ok is false when
	// there is none (the binlog begins after the replica's position).
	GTIDCheckpoint(state []GTID) (pos semisync.Position, list []GTID, ok bool, err error)
}

// MySQLGTIDIndex is implemented by a Binlog that keeps checkpoints of
// MySQL GTID sets (a binlog server's GTID index): a MySQL GTID dump then
// reads the binlog from the checkpoint it returns rather than from the
// oldest file, and the checkpoint's set stands for the oldest file's
// previous GTIDs.
type MySQLGTIDIndex interface {
	// MySQLGTIDCheckpoint returns the newest checkpoint of the binlog
	// whose GTID set (every transaction before it, in the binlog or
	// before its oldest file) is contained in set, a replica's executed
	// and received set: a position at a transaction boundary, and that
	// GTID set. ok is false when there is none (the replica lacks
	// transactions the binlog no longer has, or never had).
	MySQLGTIDCheckpoint(set []UUIDSet) (pos semisync.Position, before []UUIDSet, ok bool, err error)
}

// locate scans the binlog from its oldest file for the first transaction
// the replica lacks, and checks the replica's position against the
// binlog: a MariaDB replica's GTIDs must be in it (or be where its oldest
// file begins, by that file's GTID list); a MySQL replica must hold every
// transaction of the files before the oldest (its previous GTIDs) and no
// transaction of this source the binlog does not hold. It stops at done.
func locate(done <-chan struct{}, log Binlog, w gtidWant) (gtidStart, error) {
	files, err := log.Files()
	if err != nil {
		return gtidStart{}, err
	}
	if len(files) == 0 {
		return gtidStart{}, errors.New("mysqlsource: the binlog has no file")
	}
	first := semisync.FilePos(files[0], 4)
	at := gtidStart{file: files[0], start: first}
	inHead := true // in the current file's leading events
	oldest := true // in the oldest file
	found := make([]bool, len(w.maria))
	var own []Interval // this source's transactions in the binlog, from the oldest file's previous GTIDs on
	ownSorted := true
	addOwn := func(iv Interval) {
		if n := len(own); n > 0 && own[n-1].End == iv.Start {
			own[n-1].End = iv.End
			return
		} else if n > 0 && own[n-1].End > iv.Start {
			ownSorted = false
		}
		own = append(own, iv)
	}
	// A binlog with checkpoints is scanned from the newest checkpoint the
	// replica's position covers, not from the oldest file.
	var pos semisync.Position
	var indexed bool
	if ix, ok := log.(GTIDIndex); ok && !w.mysql {
		var list []GTID
		pos, list, indexed, err = ix.GTIDCheckpoint(w.maria)
		if err != nil {
			return gtidStart{}, err
		}
		if !indexed {
			return gtidStart{}, fmt.Errorf("%w: the binlog begins after the replica's position %v", ErrGTIDPurged, w.maria)
		}
		for i, want := range w.maria {
			found[i] = slices.Contains(list, want)
		}
	} else if ix, ok := log.(MySQLGTIDIndex); ok && w.mysql {
		var before []UUIDSet
		pos, before, indexed, err = ix.MySQLGTIDCheckpoint(w.set)
		if err != nil {
			return gtidStart{}, err
		}
		if !indexed {
			return gtidStart{}, fmt.Errorf("%w: the replica lacks transactions from before the binlog's oldest checkpoint", ErrGTIDPurged)
		}
		for _, b := range before {
			if w.hasOwn && b.SID == w.own {
				for _, iv := range b.Intervals {
					addOwn(iv)
				}
			}
		}
	}
	if indexed {
		fd, err := log.FormatDescription(pos.File())
		if err != nil {
			return gtidStart{}, err
		}
		first, inHead, oldest = pos, false, false
		at = gtidStart{file: pos.File(), start: pos, head: []dump.Event{{Data: bytes.Clone(fd), End: pos}}}
	}
	cur, err := log.Open(first)
	if err != nil {
		return gtidStart{}, err
	}
	defer cur.Close()
	var located bool
	for n := 0; ; n++ {
		if n%1024 == 0 {
			select {
			case <-done:
				return gtidStart{}, ErrServerClosed
			default:
			}
		}
		ev, ok, err := cur.Next()
		if err != nil {
			return gtidStart{}, err
		}
		if !ok {
			break
		}
		if len(ev.Data) < HeaderLen {
			return gtidStart{}, fmt.Errorf("mysqlsource: an event of %d bytes in the binlog before %v", len(ev.Data), ev.End)
		}
		typ := ev.Data[4]
		if ev.End.File() != at.file && typ != TypeRotate {
			oldest = false
			if !located {
				at = gtidStart{file: ev.End.File(), start: semisync.FilePos(ev.End.File(), 4)}
				inHead = true
			}
		}
		if !structural(typ) {
			inHead = false
		}
		if oldest && inHead {
			if err := w.oldestList(ev.Data, typ, found, addOwn); err != nil {
				return gtidStart{}, err
			}
		}
		g, isGTID := gtidOf(ev.Data)
		if isGTID {
			for i, want := range w.maria {
				if !g.mysql && g.maria == want {
					found[i] = true
				}
			}
			if g.mysql && w.hasOwn && g.sid == w.own {
				addOwn(Interval{Start: g.gno, End: g.gno + 1})
			}
			if !located && !w.has(g) {
				located = true
			}
		} else if typ == TypeMySQLAnonymousGTID && !located {
			located = true // no GTID: no replica has it
		}
		if !located {
			if inHead && typ != TypeRotate {
				if len(at.head) == maxHead {
					return gtidStart{}, fmt.Errorf("mysqlsource: more than %d file events before the first transaction of %s", maxHead, at.file)
				}
				at.head = append(at.head, dump.Event{Data: bytes.Clone(ev.Data), End: ev.End})
			}
			if typ != TypeRotate { // a rotate is streamed: the replica learns the next file from it
				at.start = ev.End
			}
		}
		if located && !w.mysql && !slices.Contains(found, false) {
			break
		}
	}
	for i, want := range w.maria {
		if !found[i] {
			return gtidStart{}, fmt.Errorf("%w: connecting slave requested to start from GTID %v, which is not in the master's binlog", ErrGTIDNotInBinlog, want)
		}
	}
	if w.mysql && w.hasOwn {
		if !ownSorted {
			slices.SortFunc(own, func(a, b Interval) int { return cmp.Compare(a.Start, b.Start) })
			own = mergeIntervals(own)
		}
		for _, s := range w.set {
			if s.SID != w.own {
				continue
			}
			for _, iv := range s.Intervals {
				if !covered(own, iv) {
					return gtidStart{}, fmt.Errorf("%w: it has %d-%d of this source's transactions", ErrReplicaAhead, iv.Start, iv.End-1)
				}
			}
		}
	}
	return at, nil
}

// oldestList takes the oldest file's GTID list (MariaDB) or previous GTIDs
// (MySQL): a MariaDB replica whose position is where the file begins has
// what it needs; a MySQL replica must have all of the previous GTIDs.
func (w gtidWant) oldestList(ev []byte, typ byte, found []bool, addOwn func(Interval)) error {
	body := ev[HeaderLen:]
	switch typ {
	case TypeMariaGTIDList:
		if w.mysql || len(body) < 4 {
			return nil
		}
		// One entry per (domain, server), grouped by domain: the last of
		// a domain is the last transaction of that domain before the
		// file, the only position in it a replica can start from.
		n := binary.LittleEndian.Uint32(body) & (1<<28 - 1)
		body = body[4:]
		last := map[uint32]GTID{}
		var domains []uint32
		for range n {
			if len(body) < 16 {
				break
			}
			g := GTID{Domain: binary.LittleEndian.Uint32(body), ServerID: binary.LittleEndian.Uint32(body[4:]), Seq: binary.LittleEndian.Uint64(body[8:])}
			body = body[16:]
			if _, ok := last[g.Domain]; !ok {
				domains = append(domains, g.Domain)
			}
			last[g.Domain] = g
		}
		for _, d := range domains {
			i := slices.IndexFunc(w.maria, func(g GTID) bool { return g.Domain == d })
			if i < 0 {
				// Transactions of a domain the replica has none of are in
				// files the binlog no longer has.
				return fmt.Errorf("%w: the replica has no position in domain %d, whose transactions up to %v are in files before the oldest", ErrGTIDPurged, d, last[d])
			}
			if w.maria[i] == last[d] {
				found[i] = true
			}
		}
	case TypeMySQLPreviousGTIDs:
		if !w.mysql {
			return nil
		}
		prev, err := ParseGTIDSetEvent(ev)
		if err != nil {
			return fmt.Errorf("mysqlsource: the oldest file's previous GTIDs: %w", err)
		}
		for _, p := range prev {
			for _, iv := range p.Intervals {
				if w.hasOwn && p.SID == w.own {
					addOwn(iv)
				}
				var mine []Interval
				for _, s := range w.set {
					if s.SID == p.SID {
						mine = s.Intervals
					}
				}
				if !covered(mine, iv) {
					return fmt.Errorf("%w: transactions %d-%d of one source are in files before the oldest", ErrGTIDPurged, iv.Start, iv.End-1)
				}
			}
		}
	}
	return nil
}

// covered says whether iv lies within one of ivs (sorted, merged).
func covered(ivs []Interval, iv Interval) bool {
	i, _ := slices.BinarySearchFunc(ivs, iv.Start, func(x Interval, start uint64) int {
		if x.End <= start {
			return -1
		}
		if x.Start > start {
			return 1
		}
		return 0
	})
	return i < len(ivs) && ivs[i].Start <= iv.Start && iv.End <= ivs[i].End
}

// mergeIntervals merges sorted intervals that overlap or touch.
func mergeIntervals(ivs []Interval) []Interval {
	out := ivs[:0]
	for _, iv := range ivs {
		if n := len(out); n > 0 && iv.Start <= out[n-1].End {
			out[n-1].End = max(out[n-1].End, iv.End)
			continue
		}
		out = append(out, iv)
	}
	return out
}

// gtidFilter leaves out the transactions a GTID replica already has:
// every event from a GTID event has says yes to up to the next event that
// opens a transaction (a GTID or anonymous GTID event) or belongs to the
// file (rotate, format description, ...), which are never left out.
type gtidFilter struct {
	dump.Cursor
	has      func(eventGTID) bool
	skipping bool
}

func (f *gtidFilter) Next() (dump.Event, bool, error) {
	for {
		ev, ok, err := f.Cursor.Next()
		if !ok || err != nil || len(ev.Data) < HeaderLen {
			return ev, ok, err
		}
		if g, isGTID := gtidOf(ev.Data); isGTID {
			f.skipping = f.has(g)
		} else if typ := ev.Data[4]; typ == TypeMySQLAnonymousGTID || structural(typ) {
			f.skipping = false
		}
		if !f.skipping {
			return ev, ok, err
		}
	}
}

// mariaHas says whether a MariaDB replica at state holds the transaction
// g opens: one of a domain the state names, with a sequence number not
// after the state's.
func mariaHas(state []GTID) func(eventGTID) bool {
	return func(g eventGTID) bool {
		if g.mysql {
			return false
		}
		for _, s := range state {
			if s.Domain == g.maria.Domain {
				return g.maria.Seq <= s.Seq
			}
		}
		return false
	}
}

// mysqlHas says whether a MySQL replica whose GTID set is set holds the
// transaction g opens.
func mysqlHas(set []UUIDSet) func(eventGTID) bool {
	return func(g eventGTID) bool {
		if !g.mysql {
			return false
		}
		for _, s := range set {
			if s.SID != g.sid {
				continue
			}
			for _, iv := range s.Intervals {
				if g.gno >= iv.Start && g.gno < iv.End {
					return true
				}
			}
		}
		return false
	}
}
