package mysqlsource

import (
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/dump"
)

// files is a binlog of several files held in memory, for locate and
// gtidFilter: each event ends where its file's offsets say.
type files struct {
	names  []string
	events []dump.Event
}

func (f *files) add(file string, ev []byte) {
	if len(f.names) == 0 || f.names[len(f.names)-1] != file {
		f.names = append(f.names, file)
	}
	off := uint64(4)
	if n := len(f.events); n > 0 && f.events[n-1].End.File() == file {
		off = f.events[n-1].End.Offset()
	}
	f.events = append(f.events, dump.Event{Data: ev, End: semisync.FilePos(file, off+uint64(len(ev)))})
}

func (f *files) Files() ([]string, error)                 { return f.names, nil }
func (f *files) FormatDescription(string) ([]byte, error) { return nil, errors.New("none") }
func (f *files) Open(start semisync.Position) (dump.Cursor, error) {
	for i, ev := range f.events {
		if start.Offset() == 4 && ev.End.File() == start.File() || i > 0 && f.events[i-1].End == start {
			return &sliceCursor{evs: f.events[i:]}, nil
		}
	}
	if n := len(f.events); n > 0 && f.events[n-1].End == start {
		return &sliceCursor{}, nil
	}
	return nil, fmt.Errorf("no position %v", start)
}

type sliceCursor struct{ evs []dump.Event }

func (c *sliceCursor) Next() (dump.Event, bool, error) {
	if len(c.evs) == 0 {
		return dump.Event{}, false, nil
	}
	ev := c.evs[0]
	c.evs = c.evs[1:]
	return ev, true, nil
}
func (c *sliceCursor) Wait() <-chan struct{} { return nil }
func (c *sliceCursor) Close() error          { return nil }

// ev is an event of type typ with body and no checksum.
func ev(typ byte, body []byte) []byte {
	b := make([]byte, HeaderLen, HeaderLen+len(body))
	b[4] = typ
	binary.LittleEndian.PutUint32(b[5:], 1)
	binary.LittleEndian.PutUint32(b[9:], uint32(HeaderLen+len(body)))
	return append(b, body...)
}

func mariaTx(f *files, file string, g GTID) semisync.Position {
	gt, _ := AppendMariaGTID(nil, Header{ServerID: g.ServerID}, g.Seq, g.Domain, 0, 0, false)
	f.add(file, gt)
	q, _ := AppendQuery(nil, Header{ServerID: 1}, "", "INSERT", false)
	f.add(file, q)
	f.add(file, AppendXID(nil, Header{ServerID: 1}, g.Seq, false))
	return f.events[len(f.events)-1].End
}

func mariaHead(f *files, file string, list ...GTID) {
	fde, _ := AppendFormatDescription(nil, Header{ServerID: 1}, FormatDescription{BinlogVersion: 4, PostHeaderLens: MariaDB1011PostHeaderLens()})
	f.add(file, fde)
	l, _ := AppendGTIDList(nil, Header{ServerID: 1}, list, 0, false)
	f.add(file, l)
}

// sent returns the GTIDs (MariaDB's as strings, MySQL's as "gno N") and
// "anonymous" of what the filter passes from start on.
func sent(t *testing.T, f *files, start semisync.Position, has func(eventGTID) bool) []string {
	t.Helper()
	cur, err := f.Open(start)
	require.NoError(t, err)
	fl := &gtidFilter{Cursor: cur, has: has}
	var out []string
	for {
		e, ok, err := fl.Next()
		require.NoError(t, err)
		if !ok {
			return out
		}
		if g, isGTID := gtidOf(e.Data); isGTID {
			if g.mysql {
				out = append(out, fmt.Sprintf("gno %d", g.gno))
			} else {
				out = append(out, g.maria.String())
			}
		} else if e.Data[4] == TypeMySQLAnonymousGTID {
			out = append(out, "anonymous")
		}
	}
}

// A MariaDB replica's start: after the transaction of its GTID in each
// domain, found across files, or where the oldest file begins by its GTID
// list; a GTID the binlog does not hold is refused; with several domains
// the start is the first transaction it lacks, and the filter leaves out
// the later ones it has.
func TestLocateMariaDB(t *testing.T) {
	f := &files{}
	mariaHead(f, "b.1")
	mariaTx(f, "b.1", GTID{0, 1, 1})
	tx2 := mariaTx(f, "b.1", GTID{1, 1, 1})
	mariaTx(f, "b.1", GTID{0, 1, 2})
	f.add("b.1", AppendRotate(nil, Header{ServerID: 1}, "b.2", 4, false))
	mariaHead(f, "b.2", GTID{0, 1, 2}, GTID{1, 1, 1})
	b2head := f.events[len(f.events)-1].End
	mariaTx(f, "b.2", GTID{1, 1, 2})
	mariaTx(f, "b.2", GTID{0, 1, 3})

	at := func(state string) (gtidStart, error) {
		s, err := ParseGTIDState(state)
		require.NoError(t, err)
		return locate(nil, f, gtidWant{has: mariaHas(s), maria: s})
	}
	got, err := at("0-1-1,1-1-1")
	require.NoError(t, err)
	require.Equal(t, "b.1", got.file)
	require.Len(t, got.head, 2, "the format description and the GTID list")
	require.Equal(t, tx2, got.start)
	got, err = at("0-1-3,1-1-1")
	require.NoError(t, err)
	require.Equal(t, "b.2", got.file, "the first transaction it lacks, 1-1-2, is in b.2")
	require.Len(t, got.head, 2)
	require.Equal(t, b2head, got.start)

	got, err = at("")
	require.NoError(t, err)
	require.Equal(t, []string{"0-1-1", "1-1-1", "0-1-2", "1-1-2", "0-1-3"}, sent(t, f, got.start, mariaHas(nil)))

	got, err = at("0-1-1,1-1-2")
	require.NoError(t, err)
	require.Equal(t, []string{"0-1-2", "0-1-3"}, sent(t, f, got.start, mariaHas([]GTID{{0, 1, 1}, {1, 1, 2}})),
		"1-1-1 and 1-1-2 left out: it has them")

	_, err = at("0-1-9")
	require.ErrorIs(t, err, ErrGTIDNotInBinlog)
	_, err = at("0-2-2")
	require.ErrorIs(t, err, ErrGTIDNotInBinlog, "the same number from another server is another transaction")

	// b.1 purged: a replica at 0-1-2 (where b.2 begins) goes on, one at
	// 0-1-1 cannot.
	purged := &files{}
	for _, e := range f.events {
		if e.End.File() == "b.2" {
			purged.add("b.2", e.Data)
		}
	}
	got, err = locate(nil, purged, gtidWant{has: mariaHas([]GTID{{0, 1, 2}, {1, 1, 1}}), maria: []GTID{{0, 1, 2}, {1, 1, 1}}})
	require.NoError(t, err)
	require.Equal(t, "b.2", got.file)
	require.Equal(t, []string{"1-1-2", "0-1-3"}, sent(t, purged, got.start, mariaHas([]GTID{{0, 1, 2}, {1, 1, 1}})))
	_, err = locate(nil, purged, gtidWant{has: mariaHas([]GTID{{0, 1, 1}, {1, 1, 1}}), maria: []GTID{{0, 1, 1}, {1, 1, 1}}})
	require.ErrorIs(t, err, ErrGTIDNotInBinlog, "0-1-1 is before the list's 0-1-2: purged")
	_, err = locate(nil, purged, gtidWant{has: mariaHas([]GTID{{0, 1, 2}}), maria: []GTID{{0, 1, 2}}})
	require.ErrorIs(t, err, ErrGTIDPurged, "no position in domain 1, whose first transaction is purged")
	_, err = locate(nil, purged, gtidWant{has: mariaHas(nil)})
	require.ErrorIs(t, err, ErrGTIDPurged, "an empty position against a purged binlog")

	// Only the last entry of a domain in the list is a position: a
	// replica at 0-1-5 where the list says 0-1-5 then 0-2-8 lacks 0-2-6..8.
	two := &files{}
	mariaHead(two, "b.5", GTID{0, 1, 5}, GTID{0, 2, 8})
	mariaTx(two, "b.5", GTID{0, 2, 9})
	_, err = locate(nil, two, gtidWant{has: mariaHas([]GTID{{0, 1, 5}}), maria: []GTID{{0, 1, 5}}})
	require.ErrorIs(t, err, ErrGTIDNotInBinlog)
	got, err = locate(nil, two, gtidWant{has: mariaHas([]GTID{{0, 2, 8}}), maria: []GTID{{0, 2, 8}}})
	require.NoError(t, err)
	require.Equal(t, []string{"0-2-9"}, sent(t, two, got.start, mariaHas([]GTID{{0, 2, 8}})))
}

// A binlog whose last event is a rotate (the next file not readable yet):
// a replica that has everything starts before the rotate, so it learns
// the next file from it.
func TestLocateBeforeRotate(t *testing.T) {
	f := &files{}
	mariaHead(f, "b.1")
	tx := mariaTx(f, "b.1", GTID{0, 1, 1})
	f.add("b.1", AppendRotate(nil, Header{ServerID: 1}, "b.2", 4, false))
	got, err := locate(nil, f, gtidWant{has: mariaHas([]GTID{{0, 1, 1}}), maria: []GTID{{0, 1, 1}}})
	require.NoError(t, err)
	require.Equal(t, tx, got.start)
}

func mysqlTx(f *files, file string, sid [16]byte, gno uint64) {
	body := append([]byte{1}, sid[:]...)
	f.add(file, ev(TypeMySQLGTID, binary.LittleEndian.AppendUint64(body, gno)))
	q, _ := AppendQuery(nil, Header{ServerID: 1}, "", "BEGIN", false)
	f.add(file, q)
	f.add(file, AppendXID(nil, Header{ServerID: 1}, gno, false))
}

// A MySQL replica's start: the first transaction not in its set; it must
// hold what the oldest file's previous GTIDs say was before it (else
// ErrGTIDPurged), and no transaction of this source the binlog does not
// hold (else ErrReplicaAhead: an ACK of what it was sent would cover a
// transaction it does not have); transactions of other sources are its
// business. An anonymous transaction after one left out is sent.
func TestLocateMySQL(t *testing.T) {
	own := [16]byte{0xaa, 1}
	other := [16]byte{0xbb, 2}
	f := &files{}
	fde, _ := AppendFormatDescription(nil, Header{ServerID: 1}, FormatDescription{BinlogVersion: 4, PostHeaderLens: MariaDB1011PostHeaderLens()})
	f.add("b.7", fde)
	prev, _ := AppendGTIDDump(nil, GTIDDump{GTIDs: []UUIDSet{{SID: own, Intervals: []Interval{{1, 3}}}}})
	f.add("b.7", ev(TypeMySQLPreviousGTIDs, prev[1+2+4+4+8+4:])) // the set alone
	for gno := uint64(3); gno <= 5; gno++ {
		mysqlTx(f, "b.7", own, gno)
	}
	f.add("b.7", ev(TypeMySQLAnonymousGTID, make([]byte, 25)))
	q, _ := AppendQuery(nil, Header{ServerID: 1}, "", "INSERT", false)
	f.add("b.7", q)
	mysqlTx(f, "b.7", own, 6)

	at := func(set ...UUIDSet) (gtidStart, error) {
		return locate(nil, f, gtidWant{has: mysqlHas(set), mysql: true, set: set, own: own, hasOwn: true})
	}
	got, err := at(UUIDSet{SID: own, Intervals: []Interval{{1, 4}}}, UUIDSet{SID: other, Intervals: []Interval{{1, 100}}})
	require.NoError(t, err)
	require.Len(t, got.head, 2, "the format description and the previous GTIDs")
	require.Equal(t, []string{"gno 4", "gno 5", "anonymous", "gno 6"}, sent(t, f, got.start, mysqlHas([]UUIDSet{{SID: own, Intervals: []Interval{{1, 4}}}})))
	require.Equal(t, []string{"anonymous", "gno 6"}, sent(t, f, got.start, mysqlHas([]UUIDSet{{SID: own, Intervals: []Interval{{1, 6}}}})),
		"an anonymous transaction after left-out ones is not left out")

	_, err = at(UUIDSet{SID: own, Intervals: []Interval{{1, 2}}})
	require.ErrorIs(t, err, ErrGTIDPurged, "it lacks 2, which was in a file before the oldest")
	_, err = at(UUIDSet{SID: own, Intervals: []Interval{{1, 8}}})
	require.ErrorIs(t, err, ErrReplicaAhead, "it has 7 of this source; the binlog ends at 6")
	got, err = at(UUIDSet{SID: own, Intervals: []Interval{{1, 7}}})
	require.NoError(t, err, "everything the binlog holds")
	require.Equal(t, []string{"anonymous"}, sent(t, f, got.start, mysqlHas([]UUIDSet{{SID: own, Intervals: []Interval{{1, 7}}}}))[:1],
		"it starts at the anonymous transaction, which no replica has")

	// Too many file events before the first transaction.
	long := &files{}
	long.add("b.1", fde)
	for range maxHead {
		long.add("b.1", AppendBinlogCheckpoint(nil, Header{ServerID: 1}, "b.1", false))
	}
	_, err = locate(nil, long, gtidWant{has: mariaHas(nil)})
	require.ErrorContains(t, err, "file events before the first transaction")

	// A closed server stops the scan.
	done := make(chan struct{})
	close(done)
	_, err = locate(done, f, gtidWant{has: mariaHas(nil)})
	require.ErrorIs(t, err, ErrServerClosed)
}

// ParseGTIDState: MariaDB's syntax, one position per domain, bounded.
func TestParseGTIDState(t *testing.T) {
	got, err := ParseGTIDState(" 0-1-5, 2-7-900 ")
	require.NoError(t, err)
	require.Equal(t, []GTID{{0, 1, 5}, {2, 7, 900}}, got)
	for _, bad := range []string{"0-1", "0-1-x", "0-1-5,0-2-6", "-1-1-1", "0-1-5,"} {
		_, err := ParseGTIDState(bad)
		require.Error(t, err, bad)
	}
	many := ""
	for d := range MaxGTIDDomains + 1 {
		many += fmt.Sprintf("%d-1-1,", d)
	}
	_, err = ParseGTIDState(many[:len(many)-1])
	require.ErrorContains(t, err, "more than")
}

// The MySQL checks read only the oldest file's previous GTIDs (a later
// file's name what the replica may lack but the binlog holds), hold own
// transactions that come out of order, and find a replica ahead below the
// binlog's first own transaction as well as above its last.
func TestLocateMySQLFiles(t *testing.T) {
	own := [16]byte{0xaa, 1}
	other := [16]byte{0xbb, 2}
	fde, _ := AppendFormatDescription(nil, Header{ServerID: 1}, FormatDescription{BinlogVersion: 4, PostHeaderLens: MariaDB1011PostHeaderLens()})
	prevs := func(set ...UUIDSet) []byte {
		d, _ := AppendGTIDDump(nil, GTIDDump{GTIDs: set})
		return ev(TypeMySQLPreviousGTIDs, d[1+2+4+4+8+4:])
	}
	f := &files{}
	f.add("b.7", fde)
	f.add("b.7", prevs(UUIDSet{SID: own, Intervals: []Interval{{3, 5}}}))
	mysqlTx(f, "b.7", own, 7) // out of order: 7, then 5 and 6
	mysqlTx(f, "b.7", own, 5)
	mysqlTx(f, "b.7", own, 6)
	mysqlTx(f, "b.7", other, 1)
	f.add("b.7", AppendRotate(nil, Header{ServerID: 1}, "b.8", 4, false))
	f.add("b.8", fde)
	f.add("b.8", prevs(UUIDSet{SID: own, Intervals: []Interval{{3, 8}}}, UUIDSet{SID: other, Intervals: []Interval{{1, 2}}}))
	mysqlTx(f, "b.8", own, 8)

	at := func(set ...UUIDSet) (gtidStart, error) {
		return locate(nil, f, gtidWant{has: mysqlHas(set), mysql: true, set: set, own: own, hasOwn: true})
	}
	got, err := at(UUIDSet{SID: own, Intervals: []Interval{{3, 9}}})
	require.NoError(t, err, "it lacks other:1, named by b.8's previous GTIDs, but b.7 holds it; own 3-8 out of order are all in the binlog")
	require.Equal(t, []string{"gno 1"}, sent(t, f, got.start, mysqlHas([]UUIDSet{{SID: own, Intervals: []Interval{{3, 9}}}})))
	_, err = at(UUIDSet{SID: own, Intervals: []Interval{{1, 5}}})
	require.ErrorIs(t, err, ErrReplicaAhead, "own 1 and 2 were never this source's: not in the oldest previous GTIDs")
}

// ParseGTIDSet: MySQL's text, normalised (sources by UUID, intervals
// sorted and merged), and written back by FormatGTIDSet on one line.
func TestParseGTIDSet(t *testing.T) {
	a := [16]byte{0x3e, 0x11, 0xfa, 0x47, 0x71, 0xca, 0x11, 0xe1, 0x9e, 0x33, 0xc8, 0x0a, 0xa9, 0x42, 0x95, 0x62}
	b := [16]byte{15: 1}
	got, err := ParseGTIDSet("3E11FA47-71CA-11E1-9E33-C80AA9429562:11:1-5,\n00000000-0000-0000-0000-000000000001:3, 3e11fa47-71ca-11e1-9e33-c80aa9429562:4-7")
	require.NoError(t, err)
	require.Equal(t, []UUIDSet{{SID: b, Intervals: []Interval{{3, 4}}}, {SID: a, Intervals: []Interval{{1, 8}, {11, 12}}}}, got)
	require.Equal(t, "00000000-0000-0000-0000-000000000001:3,3e11fa47-71ca-11e1-9e33-c80aa9429562:1-7:11", FormatGTIDSet(got))
	for _, bad := range []string{
		"3e11fa47-71ca-11e1-9e33-c80aa9429562",                     // no numbers
		"3e11fa47-71ca-11e1-9e33-c80aa9429562:0",                   // 0 is no transaction
		"3e11fa47-71ca-11e1-9e33-c80aa9429562:5-3",                 // backwards
		"3e11fa47-71ca-11e1-9e33-c80aa9429562:tag:1",               // MySQL 8.3's tags
		"3e11fa47-71ca-11e1-9e33-c80aa942956:1",                    // short
		"3e11fa47-71ca-11e1-9e33-c80aa9429562:1,",                  // empty part
		"3e11fa47-71ca-11e1-9e33-c80aa9429562:9223372036854775808", // past 2^63-1
	} {
		_, err := ParseGTIDSet(bad)
		require.Error(t, err, bad)
	}
	empty, err := ParseGTIDSet(" \n")
	require.NoError(t, err)
	require.Empty(t, empty)
}

// indexed is a binlog with one MySQL GTID checkpoint: locate starts there,
// takes its set for the previous GTIDs of what it does not read, and
// refuses a replica whose set does not contain it.
type indexed struct {
	*files
	pos    semisync.Position
	before []UUIDSet
}

func (x indexed) FormatDescription(file string) ([]byte, error) {
	return AppendFormatDescription(nil, Header{ServerID: 1}, FormatDescription{BinlogVersion: 4, PostHeaderLens: MariaDB1011PostHeaderLens()})
}

func (x indexed) MySQLGTIDCheckpoint(set []UUIDSet) (semisync.Position, []UUIDSet, bool, error) {
	for _, b := range x.before {
		for _, iv := range b.Intervals {
			if !mysqlHas(set)(eventGTID{mysql: true, sid: b.SID, gno: iv.Start}) || !mysqlHas(set)(eventGTID{mysql: true, sid: b.SID, gno: iv.End - 1}) {
				return semisync.Position{}, nil, false, nil
			}
		}
	}
	return x.pos, x.before, true, nil
}

func TestLocateMySQLIndexed(t *testing.T) {
	own := [16]byte{0xaa, 1}
	f := &files{}
	mysqlTx(f, "b.3", own, 40) // no format description, no previous GTIDs: a binlog server's store begun mid-file
	mysqlTx(f, "b.3", own, 41)
	x := indexed{files: f, pos: f.events[2].End, before: []UUIDSet{{SID: own, Intervals: []Interval{{1, 41}}}}}
	at := func(set ...UUIDSet) (gtidStart, error) {
		return locate(nil, x, gtidWant{has: mysqlHas(set), mysql: true, set: set, own: own, hasOwn: true})
	}
	got, err := at(UUIDSet{SID: own, Intervals: []Interval{{1, 41}}})
	require.NoError(t, err)
	require.Equal(t, x.pos, got.start)
	require.Len(t, got.head, 1, "the file's format description")
	require.Equal(t, []string{"gno 41"}, sent(t, f, got.start, mysqlHas([]UUIDSet{{SID: own, Intervals: []Interval{{1, 41}}}})))
	_, err = at(UUIDSet{SID: own, Intervals: []Interval{{1, 40}}})
	require.ErrorIs(t, err, ErrGTIDPurged, "40 is before the checkpoint, which the replica's set does not contain")
	_, err = at(UUIDSet{SID: own, Intervals: []Interval{{1, 43}}})
	require.ErrorIs(t, err, ErrReplicaAhead, "42 is in neither the checkpoint's set nor the binlog")
	_, err = at(UUIDSet{SID: own, Intervals: []Interval{{1, 42}}})
	require.NoError(t, err, "the checkpoint's set and the binlog's 41")
}

// The set operations against a model: a set is the map of its
// transactions (few sources, small numbers).
func TestGTIDSetOperations(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		genSet := func(label string) ([]UUIDSet, map[[2]uint64]bool) {
			model := map[[2]uint64]bool{}
			var text []string
			for src := range rapid.IntRange(0, 3).Draw(t, label+" sources") {
				for _, g := range rapid.SliceOfN(rapid.Uint64Range(1, 40), 1, 12).Draw(t, fmt.Sprintf("%s %d", label, src)) {
					model[[2]uint64{uint64(src), g}] = true
					text = append(text, fmt.Sprintf("00000000-0000-0000-0000-%012d:%d", src, g))
				}
			}
			set, err := ParseGTIDSet(strings.Join(text, ","))
			if err != nil {
				t.Fatal(err)
			}
			return set, model
		}
		a, ma := genSet("a")
		b, mb := genSet("b")
		u := UnionGTIDSets(a, b)
		again, err := ParseGTIDSet(FormatGTIDSet(u))
		if err != nil || !reflect.DeepEqual(normal(again), normal(u)) {
			t.Fatalf("the union is not in normal form: %v", FormatGTIDSet(u))
		}
		contains := true
		for k := range mb {
			if !ma[k] {
				contains = false
			}
		}
		if ContainsGTIDSet(a, b) != contains {
			t.Fatalf("ContainsGTIDSet(%s, %s) = %v", FormatGTIDSet(a), FormatGTIDSet(b), !contains)
		}
		if !ContainsGTIDSet(u, a) || !ContainsGTIDSet(u, b) {
			t.Fatalf("the union %s does not contain its parts", FormatGTIDSet(u))
		}
		n := 0
		for _, s := range u {
			for _, iv := range s.Intervals {
				n += int(iv.End - iv.Start)
			}
		}
		all := map[[2]uint64]bool{}
		for k := range ma {
			all[k] = true
		}
		for k := range mb {
			all[k] = true
		}
		if n != len(all) {
			t.Fatalf("the union %s holds %d transactions, want %d", FormatGTIDSet(u), n, len(all))
		}
	})
}

// normal treats nil and empty interval lists alike.
func normal(set []UUIDSet) []UUIDSet {
	if len(set) == 0 {
		return nil
	}
	return set
}

// A replica's set in any order, a source named twice (MySQL takes both):
// put in normal form before it is compared with a binlog's.
func TestNormalGTIDSet(t *testing.T) {
	a, b := [16]byte{1}, [16]byte{2}
	got := normalGTIDSet([]UUIDSet{
		{SID: b, Intervals: []Interval{{1, 3}}},
		{SID: a, Intervals: []Interval{{5, 6}}},
		{SID: b, Intervals: []Interval{{3, 4}, {9, 10}}},
	})
	require.Equal(t, []UUIDSet{{SID: a, Intervals: []Interval{{5, 6}}}, {SID: b, Intervals: []Interval{{1, 4}, {9, 10}}}}, got)
	normal := []UUIDSet{{SID: a, Intervals: []Interval{{1, 2}}}, {SID: b, Intervals: []Interval{{1, 2}}}}
	require.Equal(t, normal, normalGTIDSet(normal))
	require.True(t, ContainsGTIDSet(got, []UUIDSet{{SID: b, Intervals: []Interval{{2, 4}}}}))
}
