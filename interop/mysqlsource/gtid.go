package mysqlsource

import (
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

// ParseGTIDState parses a MariaDB GTID position as @slave_connect_state
// and gtid_slave_pos hold it: comma-separated domain-server-seq triples,
// at most one per domain, or the empty string.
func ParseGTIDState(s string) ([]GTID, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	var out []GTID
	for part := range strings.SplitSeq(s, ",") {
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
		if slices.ContainsFunc(out, func(o GTID) bool { return o.Domain == g.Domain }) {
			return nil, fmt.Errorf("mysqlsource: GTID position %q names domain %d twice", s, g.Domain)
		}
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

// structural says whether an event of type typ belongs to the binlog
// file rather than to a transaction: a filter never drops it.
func structural(typ byte) bool {
	switch typ {
	case TypeRotate, TypeFormatDescription, TypeHeartbeat, TypeBinlogCheckpoint, TypeMariaGTIDList, 35 /* PREVIOUS_GTIDS_LOG_EVENT */ :
		return true
	}
	return false
}

// gtidStart is where a GTID dump starts: the file it begins with, that
// file's leading events (its format description and what follows it up
// to its first transaction, or up to start), and the position of the
// first transaction the replica lacks.
type gtidStart struct {
	file  string
	head  []dump.Event
	start semisync.Position
}

// locate scans the binlog from its oldest file for the first transaction
// whose GTID has is false for; missing, if set, is called at the end of
// the scan with the GTIDs seen, to refuse a replica position that is not
// in the binlog.
func locate(log Binlog, has func(eventGTID) bool, need []GTID) (gtidStart, error) {
	files, err := log.Files()
	if err != nil {
		return gtidStart{}, err
	}
	if len(files) == 0 {
		return gtidStart{}, errors.New("mysqlsource: the binlog has no file")
	}
	first := semisync.FilePos(files[0], 4)
	cur, err := log.Open(first)
	if err != nil {
		return gtidStart{}, err
	}
	defer cur.Close()
	found := make([]bool, len(need))
	at := gtidStart{file: files[0], start: first}
	var located bool
	inHead := true // before the current file's first transaction
	for {
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
		if !located && ev.End.File() != at.file {
			at = gtidStart{file: ev.End.File(), start: semisync.FilePos(ev.End.File(), 4)}
			inHead = true
		}
		g, isGTID := gtidOf(ev.Data)
		if isGTID {
			inHead = false
			for i, n := range need {
				if !g.mysql && g.maria == n {
					found[i] = true
				}
			}
			if !located && !has(g) {
				located = true
			}
		}
		if !located {
			if inHead && typ != TypeRotate {
				at.head = append(at.head, dump.Event{Data: append([]byte(nil), ev.Data...), End: ev.End})
			}
			at.start = ev.End
		}
		if located && !slices.Contains(found, false) {
			break
		}
	}
	for i, n := range need {
		if !found[i] {
			return gtidStart{}, fmt.Errorf("%w: connecting slave requested to start from GTID %v, which is not in the master's binlog", ErrGTIDNotInBinlog, n)
		}
	}
	return at, nil
}

// gtidFilter leaves out the transactions a GTID replica already has:
// every event from a GTID event has says yes to up to the next GTID event,
// except the file's own events (rotate, format description, ...).
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
		} else if structural(ev.Data[4]) {
			return ev, ok, err
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
