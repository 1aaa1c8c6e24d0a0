package binlogd

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/interop/mysqlsource"
)

// typeUnknown is the type of the store's checkpoint records (UNKNOWN_EVENT:
// no server writes it).
const typeUnknown = 0

// header is what the store reads of an event's common header.
type header struct {
	typ    byte
	server uint32
	size   uint32
	logPos uint32
	flags  uint16
}

func parseHeader(ev []byte) (header, bool) {
	if len(ev) < mysqlsource.HeaderLen {
		return header{}, false
	}
	return header{typ: ev[4], server: binary.LittleEndian.Uint32(ev[5:]), size: binary.LittleEndian.Uint32(ev[9:]),
		logPos: binary.LittleEndian.Uint32(ev[13:]), flags: binary.LittleEndian.Uint16(ev[17:])}, true
}

// madeUp says whether an event is one a source makes up for a dump (or a
// binlog server for its own bookkeeping) rather than one of its binlog's:
// no log position, or the artificial flag, or a heartbeat.
func (h header) madeUp() bool {
	return h.logPos == 0 || h.flags&mysqlsource.FlagArtificial != 0 || h.typ == mysqlsource.TypeHeartbeat || h.typ == typeUnknown
}

// gtidPos is a GTID position of either flavor: MariaDB's, the last
// transaction of each domain (sorted by domain), or MySQL's GTID set. A
// store holds one kind; both empty is the position before any GTID.
type gtidPos struct {
	maria []mysqlsource.GTID
	mysql []mysqlsource.UUIDSet
}

func (p gtidPos) clone() gtidPos {
	p.maria = slices.Clone(p.maria)
	p.mysql = slices.Clone(p.mysql)
	for i := range p.mysql {
		p.mysql[i].Intervals = slices.Clone(p.mysql[i].Intervals)
	}
	return p
}

// String writes the position as its flavor does: a MySQL GTID set, or
// MariaDB's domain-server-seq list.
func (p gtidPos) String() string {
	if len(p.mysql) > 0 {
		return mysqlsource.FormatGTIDSet(p.mysql)
	}
	return formatGTIDs(p.maria)
}

// parseGTIDPos parses either flavor's position: a MySQL GTID set names
// server UUIDs followed by a colon, which a MariaDB position never has.
func parseGTIDPos(s string) (gtidPos, error) {
	if strings.Contains(s, ":") {
		set, err := mysqlsource.ParseGTIDSet(s)
		return gtidPos{mysql: set}, err
	}
	list, err := mysqlsource.ParseGTIDState(s)
	if err == nil {
		slices.SortFunc(list, func(a, b mysqlsource.GTID) int { return cmp.Compare(a.Domain, b.Domain) })
	}
	return gtidPos{maria: list}, err
}

// addMaria makes g the last transaction of its domain.
func (p *gtidPos) addMaria(g mysqlsource.GTID) {
	i, found := slices.BinarySearchFunc(p.maria, g.Domain, func(x mysqlsource.GTID, d uint32) int {
		return cmp.Compare(x.Domain, d)
	})
	if found {
		p.maria[i] = g
	} else {
		p.maria = slices.Insert(p.maria, i, g)
	}
}

// addMySQL adds the transactions iv of source sid to the set.
func (p *gtidPos) addMySQL(sid [16]byte, iv mysqlsource.Interval) {
	i, found := slices.BinarySearchFunc(p.mysql, sid, func(u mysqlsource.UUIDSet, sid [16]byte) int {
		return bytes.Compare(u.SID[:], sid[:])
	})
	if !found {
		p.mysql = slices.Insert(p.mysql, i, mysqlsource.UUIDSet{SID: sid})
	}
	ivs := p.mysql[i].Intervals
	// Transactions come in order: the new one usually extends the last
	// interval.
	if n := len(ivs); n > 0 && ivs[n-1].End == iv.Start {
		ivs[n-1].End = iv.End
		return
	}
	p.mysql[i].Intervals = mysqlsource.UnionIntervals(ivs, []mysqlsource.Interval{iv})
}

// size is the number of sources and of intervals of a MySQL set.
func (p gtidPos) size() (sources, intervals int) {
	for _, u := range p.mysql {
		intervals += len(u.Intervals)
	}
	return len(p.mysql), intervals
}

// txnState follows the transactions of the stored events: the GTID
// position of the transactions held whole, whether one is open, and the
// checksum and format description in force.
type txnState struct {
	pos        gtidPos          // the transactions held whole
	open       bool             // inside a transaction
	cur        mysqlsource.GTID // the open transaction's MariaDB GTID (hasGTID)
	curSID     [16]byte         // the open transaction's MySQL GTID (hasGTID, mysql)
	curGNO     uint64
	hasGTID    bool
	mysql      bool // the open transaction began with a MySQL (anonymous) GTID event
	first      bool // a MySQL transaction whose first statement is still to come
	standalone bool
	// known says a MySQL store's set is every transaction before its end
	// (it was seeded with the primary's set at its start, or it has held
	// a file's previous GTIDs since); until then no GTID checkpoint is
	// offered.
	known    bool
	boundary semisync.Position // end of the last event outside any transaction, or of a transaction's last
	checksum bool              // events carry a CRC32 (the last format description's)
	fdFile   string            // the file the last format description describes
	fd       []byte
}

func (t txnState) clone() txnState {
	t.pos = t.pos.clone()
	return t
}

// apply takes one stored event, ending at end. anchored reports a
// previous GTIDs event that named transactions the set lacked, or made it
// known: no GTID checkpoint before it stands for the set.
func (t *txnState) apply(ev []byte, end semisync.Position) (anchored bool) {
	h, ok := parseHeader(ev)
	if !ok {
		return false
	}
	body := ev[mysqlsource.HeaderLen:]
	switch h.typ {
	case mysqlsource.TypeFormatDescription:
		if len(ev) >= mysqlsource.HeaderLen+5 {
			t.checksum = ev[len(ev)-5] == 1
		}
		t.fdFile, t.fd = end.File(), bytes.Clone(ev)
	case mysqlsource.TypeMariaGTID:
		if len(body) >= 13 {
			t.open, t.hasGTID, t.mysql = true, true, false
			t.cur = mysqlsource.GTID{Domain: binary.LittleEndian.Uint32(body[8:]), ServerID: h.server, Seq: binary.LittleEndian.Uint64(body)}
			t.standalone = body[12]&mysqlsource.GTIDStandalone != 0
		}
	case mysqlsource.TypeMySQLGTID, mysqlsource.TypeMySQLAnonymousGTID:
		// MySQL's transaction: BEGIN ... XID (or COMMIT, or ROLLBACK), or
		// one statement (DDL) alone, or one compressed payload.
		if len(body) >= 25 {
			t.open, t.mysql, t.first, t.standalone = true, true, true, false
			t.hasGTID = h.typ == mysqlsource.TypeMySQLGTID
			copy(t.curSID[:], body[1:17])
			t.curGNO = binary.LittleEndian.Uint64(body[17:])
		}
	case mysqlsource.TypeMySQLPreviousGTIDs:
		// The transactions of the files before this one: a relay log
		// takes them as held, as MySQL's does.
		if prev, err := mysqlsource.ParseGTIDSetEvent(ev); err == nil {
			if !mysqlsource.ContainsGTIDSet(t.pos.mysql, prev) {
				t.pos.mysql = mysqlsource.UnionGTIDSets(t.pos.mysql, prev)
				anchored = true
			}
			if !t.known {
				t.known, anchored = true, true
			}
		}
	case typeMySQLTransactionPayload, typeMySQLXAPrepare:
		if t.open && t.mysql {
			t.commit()
		}
	case mysqlsource.TypeXID:
		if t.open {
			t.commit()
		}
	case mysqlsource.TypeQuery:
		if !t.open {
			break
		}
		q := strings.ToUpper(t.queryText(body))
		if t.mysql && t.first {
			t.first = false
			if q != "BEGIN" && !strings.HasPrefix(q, "XA START") {
				t.commit() // a statement alone: DDL, XA COMMIT, XA ROLLBACK
			}
			break
		}
		if t.standalone {
			t.commit()
			break
		}
		switch q {
		case "COMMIT", "ROLLBACK":
			t.commit()
		}
	case typeMySQLIncident:
		if t.open && t.mysql && t.first {
			t.commit() // an incident alone, after its GTID
		}
	case typeIntvar, typeRand, typeUserVar:
		// Before the statement they belong to, which may be a DDL alone.
	default:
		if t.mysql && !structural(h.typ) {
			t.first = false
		}
	}
	if !t.open {
		t.boundary = end
	}
	return anchored
}

// admit says whether the store can keep ev and follow it: its flavor's
// GTID events only (mysql: MySQL's), no tagged GTID, transaction numbers
// in MySQL's range, and a set within what mysqlsource.ParseGTIDSet reads
// back.
func (t *txnState) admit(h header, ev []byte, mysql bool) error {
	body := ev[mysqlsource.HeaderLen:]
	switch h.typ {
	case mysqlsource.TypeMariaGTID, mysqlsource.TypeMariaGTIDList:
		if mysql {
			return fmt.Errorf("%w: MariaDB's GTID event (type %d) from a MySQL primary", ErrCannotStore, h.typ)
		}
	case typeMySQLTaggedGTID:
		return fmt.Errorf("%w: a tagged GTID (MySQL 8.3+), which the store does not follow", ErrCannotStore)
	case mysqlsource.TypeMySQLGTID, mysqlsource.TypeMySQLAnonymousGTID, mysqlsource.TypeMySQLPreviousGTIDs:
		if !mysql {
			return fmt.Errorf("%w: MySQL's GTID event (type %d) from a MariaDB primary", ErrCannotStore, h.typ)
		}
		sources, intervals := t.pos.size()
		switch h.typ {
		case mysqlsource.TypeMySQLAnonymousGTID:
			if len(body) < 25 {
				return fmt.Errorf("%w: an anonymous GTID event of %d bytes", ErrCannotStore, len(ev))
			}
		case mysqlsource.TypeMySQLGTID:
			if len(body) < 25 {
				return fmt.Errorf("%w: a GTID event of %d bytes", ErrCannotStore, len(ev))
			}
			gno := binary.LittleEndian.Uint64(body[17:])
			if gno < 1 || gno > math.MaxInt64 {
				return fmt.Errorf("%w: transaction number %d, not within 1 and 2^63-1", ErrCannotStore, gno)
			}
			var sid [16]byte
			copy(sid[:], body[1:17])
			i, found := slices.BinarySearchFunc(t.pos.mysql, sid, func(u mysqlsource.UUIDSet, sid [16]byte) int { return bytes.Compare(u.SID[:], sid[:]) })
			switch {
			case !found:
				sources, intervals = sources+1, intervals+1
			case !touches(t.pos.mysql[i].Intervals, gno):
				intervals++
			}
		default:
			prev, err := mysqlsource.ParseGTIDSetEvent(ev)
			if err != nil {
				return fmt.Errorf("%w: %v", ErrCannotStore, err)
			}
			sources, intervals = gtidPos{mysql: mysqlsource.UnionGTIDSets(t.pos.mysql, prev)}.size()
		}
		if sources > mysqlsource.MaxGTIDSetSources || intervals > mysqlsource.MaxGTIDSetIntervals {
			return fmt.Errorf("%w: a GTID set of more than %d sources or %d intervals", ErrCannotStore, mysqlsource.MaxGTIDSetSources, mysqlsource.MaxGTIDSetIntervals)
		}
	}
	return nil
}

// touches says whether transaction gno is in one of ivs (sorted, merged)
// or next to one: adding it adds no interval.
func touches(ivs []mysqlsource.Interval, gno uint64) bool {
	j, _ := slices.BinarySearchFunc(ivs, gno, func(x mysqlsource.Interval, g uint64) int {
		if x.End < g {
			return -1
		}
		if x.Start > g+1 {
			return 1
		}
		return 0
	})
	return j < len(ivs) && ivs[j].Start <= gno+1 && gno <= ivs[j].End
}

// queryText returns a query event's statement, or its first 16 bytes
// when it is longer (empty if the event is too short): enough to know
// BEGIN, COMMIT, ROLLBACK and XA START.
func (t *txnState) queryText(body []byte) string {
	if t.checksum {
		if len(body) < 4 {
			return ""
		}
		body = body[:len(body)-4]
	}
	if len(body) < 13 {
		return ""
	}
	dbLen := int(body[8])
	statusLen := int(binary.LittleEndian.Uint16(body[11:]))
	at := 13 + statusLen + dbLen + 1
	if at > len(body) {
		return ""
	}
	q := body[at:]
	if len(q) > 16 {
		return string(q[:16]) + "…" // never equal to a short statement
	}
	return string(q)
}

func (t *txnState) commit() {
	t.open = false
	if !t.hasGTID {
		return
	}
	t.hasGTID = false
	if t.mysql {
		t.pos.addMySQL(t.curSID, mysqlsource.Interval{Start: t.curGNO, End: t.curGNO + 1})
	} else {
		t.pos.addMaria(t.cur)
	}
}

// MySQL's event types the store follows that mysqlsource does not name.
const (
	typeMySQLTransactionPayload = 40 // TRANSACTION_PAYLOAD_EVENT: a whole compressed transaction
	typeMySQLXAPrepare          = 38 // XA_PREPARE_LOG_EVENT: ends an XA transaction's first part
	typeMySQLTaggedGTID         = 42 // GTID_TAGGED_LOG_EVENT (MySQL 8.3+): not followed
	typeMySQLIncident           = 26 // INCIDENT_EVENT
	typeIntvar                  = 5
	typeRand                    = 13
	typeUserVar                 = 14
)

// structural says whether an event of type typ belongs to the binlog
// file rather than to a transaction.
func structural(typ byte) bool {
	switch typ {
	case mysqlsource.TypeRotate, mysqlsource.TypeFormatDescription, mysqlsource.TypeHeartbeat, mysqlsource.TypeMySQLPreviousGTIDs, typeUnknown:
		return true
	}
	return false
}

// formatGTIDs writes a GTID position as MariaDB does: domain-server-seq,
// comma-separated.
func formatGTIDs(gs []mysqlsource.GTID) string {
	var b strings.Builder
	for i, g := range gs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatUint(uint64(g.Domain), 10))
		b.WriteByte('-')
		b.WriteString(strconv.FormatUint(uint64(g.ServerID), 10))
		b.WriteByte('-')
		b.WriteString(strconv.FormatUint(g.Seq, 10))
	}
	return b.String()
}

// covers says whether a replica at state has every transaction before a
// point whose GTID position is list: state names each of list's domains,
// at or after list's sequence number.
func covers(state, list []mysqlsource.GTID) bool {
	for _, l := range list {
		i := slices.IndexFunc(state, func(g mysqlsource.GTID) bool { return g.Domain == l.Domain })
		if i < 0 || state[i].Seq < l.Seq {
			return false
		}
	}
	return true
}
