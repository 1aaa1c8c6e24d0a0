package binlogd

import (
	"bytes"
	"cmp"
	"encoding/binary"
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

// txnState follows the transactions of the stored events: the GTID
// position of the transactions held whole, whether one is open, and the
// checksum and format description in force.
type txnState struct {
	gtids      []mysqlsource.GTID // the last whole transaction of each domain, by domain
	open       bool               // inside a transaction
	cur        mysqlsource.GTID   // the open transaction's GTID (hasGTID)
	hasGTID    bool
	standalone bool
	boundary   semisync.Position // end of the last event outside any transaction, or of a transaction's last
	checksum   bool              // events carry a CRC32 (the last format description's)
	fdFile     string            // the file the last format description describes
	fd         []byte
}

func (t txnState) clone() txnState {
	t.gtids = slices.Clone(t.gtids)
	return t
}

// apply takes one stored event, ending at end.
func (t *txnState) apply(ev []byte, end semisync.Position) {
	h, ok := parseHeader(ev)
	if !ok {
		return
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
			t.open, t.hasGTID = true, true
			t.cur = mysqlsource.GTID{Domain: binary.LittleEndian.Uint32(body[8:]), ServerID: h.server, Seq: binary.LittleEndian.Uint64(body)}
			t.standalone = body[12]&mysqlsource.GTIDStandalone != 0
		}
	case mysqlsource.TypeXID:
		if t.open {
			t.commit()
		}
	case mysqlsource.TypeQuery:
		if !t.open {
			break
		}
		if t.standalone {
			t.commit()
			break
		}
		switch strings.ToUpper(t.queryText(body)) {
		case "COMMIT", "ROLLBACK":
			t.commit()
		}
	}
	if !t.open {
		t.boundary = end
	}
}

// queryText returns a query event's statement (empty if it is too short).
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
	if at > len(body) || len(body)-at > 16 {
		return "" // only short statements matter: COMMIT, ROLLBACK
	}
	return string(body[at:])
}

func (t *txnState) commit() {
	t.open = false
	if !t.hasGTID {
		return
	}
	t.hasGTID = false
	i, found := slices.BinarySearchFunc(t.gtids, t.cur.Domain, func(g mysqlsource.GTID, d uint32) int {
		return cmp.Compare(g.Domain, d)
	})
	if found {
		t.gtids[i] = t.cur
	} else {
		t.gtids = slices.Insert(t.gtids, i, t.cur)
	}
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
