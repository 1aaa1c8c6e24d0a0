package binlogd_test

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/dump"
	"github.com/semisync-go/semisync/interop/binlogd"
	"github.com/semisync-go/semisync/interop/mysqlsource"
)

// primary makes a MariaDB binlog as a primary writes it, in one file:
// each event with its log_pos and CRC32.
type primary struct {
	t    testing.TB
	file string
	pos  uint32
	seq  uint64
}

func newPrimary(t testing.TB) (*primary, [][2]any) {
	p := &primary{t: t, file: "mysql-bin.000001", pos: 4}
	h := mysqlsource.Header{Timestamp: 1700000000, ServerID: 1}
	fd, err := mysqlsource.AppendFormatDescription(nil, h, mysqlsource.FormatDescription{BinlogVersion: 4, ServerVersion: "10.11.0-log",
		PostHeaderLens: mysqlsource.MariaDB1011PostHeaderLens(), Checksum: mysqlsource.ChecksumCRC32})
	require.NoError(t, err)
	list, err := mysqlsource.AppendGTIDList(nil, h, nil, 0, true)
	require.NoError(t, err)
	return p, [][2]any{p.event(fd), p.event(list)}
}

// event places ev at the end of the binlog.
func (p *primary) event(ev []byte) [2]any {
	p.pos += uint32(len(ev))
	mysqlsource.SetLogPos(ev, p.pos, true)
	return [2]any{ev, semisync.FilePos(p.file, uint64(p.pos))}
}

// tx is one transaction of domain 0: GTID, BEGIN-less insert, XID.
func (p *primary) tx() [][2]any {
	p.seq++
	h := mysqlsource.Header{Timestamp: 1700000000, ServerID: 1}
	g, err := mysqlsource.AppendMariaGTID(nil, h, p.seq, 0, mysqlsource.GTIDTransactional, 0, true)
	require.NoError(p.t, err)
	q, err := mysqlsource.AppendQuery(nil, h, "d", "INSERT INTO t VALUES (1)", true)
	require.NoError(p.t, err)
	return [][2]any{p.event(g), p.event(q), p.event(mysqlsource.AppendXID(nil, h, p.seq, true))}
}

// raw places an event of type typ with body (and a CRC32) at the end of
// the binlog.
func (p *primary) raw(typ byte, body []byte) [2]any {
	e := make([]byte, mysqlsource.HeaderLen, mysqlsource.HeaderLen+len(body)+4)
	e[4] = typ
	e[9] = byte(cap(e))
	return p.event(append(append(e, body...), 0, 0, 0, 0))
}

func write(t testing.TB, s *binlogd.Store, evs ...[2]any) {
	for _, e := range evs {
		require.NoError(t, s.Write(e[0].([]byte), e[1].(semisync.Position)))
	}
	require.NoError(t, s.Flush())
	require.NoError(t, s.Sync())
}

// drain reads what a cursor has now.
func drain(t testing.TB, c dump.Cursor) []semisync.Position {
	var out []semisync.Position
	for {
		ev, ok, err := c.Next()
		require.NoError(t, err)
		if !ok {
			return out
		}
		out = append(out, ev.End)
	}
}

// The store keeps the primary's events at the primary's positions,
// rotates segments on transaction boundaries, passes over events it
// holds (a GTID dump's resend), answers the GTID position of whole
// transactions only, serves cursors across segments with a wake-up for
// each new fsync, and recovers all of it on reopening after a torn tail.
func TestStore(t *testing.T) {
	dir := t.TempDir()
	s, err := binlogd.OpenStore(dir, binlogd.StoreOptions{SegmentBytes: 4096})
	require.NoError(t, err)
	p, head := newPrimary(t)
	// A made-up rotate first, as a dump sends it: not stored.
	rot := mysqlsource.AppendRotate(nil, mysqlsource.Header{ServerID: 1, Flags: mysqlsource.FlagArtificial}, p.file, 4, true)
	require.NoError(t, s.Write(rot, semisync.FilePos(p.file, 4)))
	write(t, s, head...)
	c, err := s.Open(semisync.FilePos(p.file, 4))
	require.NoError(t, err)
	defer c.Close()
	require.Len(t, drain(t, c), 2)
	wait := c.Wait()
	var all []semisync.Position
	for range 100 {
		tx := p.tx()
		write(t, s, tx...)
		for _, e := range tx {
			all = append(all, e[1].(semisync.Position))
		}
	}
	select {
	case <-wait:
	default:
		t.Fatal("no wake-up after new fsyncs")
	}
	require.Equal(t, all, drain(t, c), "every event, in order, across segments")
	st := s.Stats()
	require.Greater(t, st.Segments, 3)
	gtid, err := s.GTID()
	require.NoError(t, err)
	require.Equal(t, "0-1-100", gtid)

	// A resend (a GTID dump from 0-1-100 after the store got the first
	// event of 101) is passed over, after the file's format description
	// says it is the same file; without it, or with another file's, it
	// is refused: it would be acknowledged without being stored.
	resent := p.tx()
	write(t, s, resent[0]) // the GTID event of transaction 101, alone
	gtid, _ = s.GTID()
	require.Equal(t, "0-1-100", gtid, "a transaction held in part is not in the GTID position")
	require.ErrorIs(t, s.Write(resent[0][0].([]byte), resent[0][1].(semisync.Position)), binlogd.ErrDiverged)
	other := append([]byte(nil), head[0][0].([]byte)...)
	other[19+2]++ // another server version: another primary
	require.ErrorIs(t, s.Write(other, head[0][1].(semisync.Position)), binlogd.ErrDiverged)
	write(t, s, head[0], head[1], resent[0], resent[1], resent[2]) // resent from the file's start
	require.Equal(t, uint64(3), s.Stats().Resent)
	gtid, _ = s.GTID()
	require.Equal(t, "0-1-101", gtid)
	require.Len(t, drain(t, c), 3, "the transaction once")
	last := s.Synced()
	require.NoError(t, s.Close())

	// A torn tail: half a record after the last sync mark.
	segs, _ := filepath.Glob(filepath.Join(dir, "segment-*.ssrl"))
	f, err := os.OpenFile(segs[len(segs)-1], os.O_WRONLY|os.O_APPEND, 0)
	require.NoError(t, err)
	_, err = f.Write([]byte{40, 0, 0, 0, 1, 2, 3})
	require.NoError(t, err)
	require.NoError(t, f.Close())
	s, err = binlogd.OpenStore(dir, binlogd.StoreOptions{SegmentBytes: 4096})
	require.NoError(t, err)
	defer s.Close()
	require.True(t, s.Recovery().Cut())
	require.Equal(t, last, s.Synced())
	gtid, _ = s.GTID()
	require.Equal(t, "0-1-101", gtid)
	files, err := s.Files()
	require.NoError(t, err)
	require.Equal(t, []string{p.file}, files)
	fd, err := s.FormatDescription(p.file)
	require.NoError(t, err)
	require.Equal(t, head[0][0], fd)

	// GTID checkpoints: a caught-up replica starts at the end; one that
	// has none of domain 0 has nothing to start from in a store that
	// begins after 0-1-0... it begins at the empty position, so it may.
	pos, list, ok, err := s.GTIDCheckpoint([]mysqlsource.GTID{{Domain: 0, ServerID: 1, Seq: 101}})
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, last, pos)
	require.Equal(t, []mysqlsource.GTID{{Domain: 0, ServerID: 1, Seq: 101}}, list)
	pos, _, ok, _ = s.GTIDCheckpoint(nil)
	require.True(t, ok)
	require.Equal(t, semisync.FilePos(p.file, 4), pos)
	pos, list, ok, _ = s.GTIDCheckpoint([]mysqlsource.GTID{{Domain: 0, ServerID: 1, Seq: 50}})
	require.True(t, ok)
	require.True(t, pos.Less(last) && list[0].Seq <= 50, "a segment's start at or before 0-1-50: %v %v", pos, list)

	// Starts the store does not hold.
	_, err = s.Open(semisync.FilePos(p.file, 5))
	require.ErrorIs(t, err, binlogd.ErrNotHeld)
	_, err = s.Open(semisync.FilePos("mysql-bin.000009", 4))
	require.ErrorIs(t, err, binlogd.ErrNotHeld)
}

// Retention removes the oldest segments, but never one a reader is in.
func TestStorePurge(t *testing.T) {
	dir := t.TempDir()
	s, err := binlogd.OpenStore(dir, binlogd.StoreOptions{SegmentBytes: 4096, RetainBytes: 8192})
	require.NoError(t, err)
	defer s.Close()
	p, head := newPrimary(t)
	write(t, s, head...)
	c, err := s.Open(semisync.FilePos(p.file, 4))
	require.NoError(t, err)
	for range 100 {
		write(t, s, p.tx()...)
	}
	n, err := s.Purge(time.Now())
	require.NoError(t, err)
	require.Zero(t, n, "the reader is in the first segment")
	require.Len(t, drain(t, c), 302)
	require.NoError(t, c.Close())
	n, err = s.Purge(time.Now())
	require.NoError(t, err)
	require.Positive(t, n)
	require.LessOrEqual(t, s.Stats().Bytes, int64(8192+4096))
	_, err = s.Open(semisync.FilePos(p.file, 4))
	require.ErrorIs(t, err, binlogd.ErrNotHeld, "purged")
	_, _, ok, err := s.GTIDCheckpoint(nil)
	require.NoError(t, err)
	require.False(t, ok, "a replica with nothing cannot start after a purge")
	pos, _, ok, _ := s.GTIDCheckpoint([]mysqlsource.GTID{{Domain: 0, ServerID: 1, Seq: 100}})
	require.True(t, ok)
	require.Equal(t, s.Synced(), pos)
}

// A MySQL binlog's transactions as the store follows them: the GTID set
// grows by a transaction only once it is whole (BEGIN ... XID, BEGIN ...
// COMMIT, a DDL statement alone, an XA transaction's first part up to its
// XA_PREPARE and its XA COMMIT alone, a compressed payload), anonymous
// transactions add nothing, previous GTIDs are taken as held, and the set
// survives reopening, in the segment's checkpoint.
func TestStoreMySQLTransactions(t *testing.T) {
	const uuid = "3e11fa47-71ca-11e1-9e33-c80aa9429562"
	set, err := mysqlsource.ParseGTIDSet(uuid + ":1")
	require.NoError(t, err)
	sid := set[0].SID
	p := &primary{t: t, file: "mysql-bin.000001", pos: 4}
	h := mysqlsource.Header{Timestamp: 1700000000, ServerID: 1}
	ev := p.raw
	gtid := func(typ byte, gno uint64) [2]any {
		body := append([]byte{1}, sid[:]...)
		return ev(typ, append(binary.LittleEndian.AppendUint64(body, gno), 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
	}
	q := func(stmt string) [2]any {
		e, err := mysqlsource.AppendQuery(nil, h, "d", stmt, true)
		require.NoError(t, err)
		return p.event(e)
	}
	fd, err := mysqlsource.AppendFormatDescription(nil, h, mysqlsource.FormatDescription{BinlogVersion: 4, ServerVersion: "8.0.40-log",
		PostHeaderLens: mysqlsource.MariaDB1011PostHeaderLens(), Checksum: mysqlsource.ChecksumCRC32})
	require.NoError(t, err)
	prev, err := mysqlsource.AppendGTIDDump(nil, mysqlsource.GTIDDump{GTIDs: []mysqlsource.UUIDSet{{SID: sid, Intervals: []mysqlsource.Interval{{Start: 1, End: 3}}}}})
	require.NoError(t, err)

	dir := t.TempDir()
	s, err := binlogd.OpenStore(dir, binlogd.StoreOptions{MySQL: true})
	require.NoError(t, err)
	steps := []struct {
		evs  [][2]any
		want string
	}{
		{[][2]any{p.event(fd), ev(35, prev[1+2+4+4+8+4:])}, uuid + ":1-2"},
		{[][2]any{gtid(33, 3), q("BEGIN"), q("INSERT INTO t VALUES (3)")}, uuid + ":1-2"},
		{[][2]any{p.event(mysqlsource.AppendXID(nil, h, 3, true))}, uuid + ":1-3"},
		{[][2]any{gtid(33, 4), q("CREATE TABLE a_rather_long_name (k INT PRIMARY KEY)")}, uuid + ":1-4"},
		{[][2]any{gtid(33, 5), q("BEGIN"), q("INSERT INTO t VALUES (5)")}, uuid + ":1-4"},
		{[][2]any{q("COMMIT")}, uuid + ":1-5"},
		{[][2]any{gtid(34, 0), q("BEGIN"), q("INSERT INTO t VALUES (0)"), p.event(mysqlsource.AppendXID(nil, h, 9, true))}, uuid + ":1-5"},
		{[][2]any{gtid(33, 7), q("XA START X'31',X'',1"), q("INSERT INTO t VALUES (7)"), q("XA END X'31',X'',1")}, uuid + ":1-5"},
		{[][2]any{ev(38, make([]byte, 13))}, uuid + ":1-5:7"},
		{[][2]any{gtid(33, 8), q("XA COMMIT X'31',X'',1")}, uuid + ":1-5:7-8"},
		{[][2]any{gtid(33, 6)}, uuid + ":1-5:7-8"},
		{[][2]any{ev(40, make([]byte, 32))}, uuid + ":1-8"},
		{[][2]any{gtid(33, 9), ev(14, make([]byte, 16)), q("CREATE TABLE x SELECT @v")}, uuid + ":1-9"}, // a user variable before a DDL alone
		{[][2]any{gtid(33, 10), ev(26, make([]byte, 8))}, uuid + ":1-10"},                               // an incident alone
	}
	for i, st := range steps {
		write(t, s, st.evs...)
		got, err := s.GTID()
		require.NoError(t, err)
		require.Equal(t, st.want, got, "step %d", i)
	}
	// What the store cannot keep and follow is refused, not stored.
	last := s.Last()
	maria, err := mysqlsource.AppendMariaGTID(nil, h, 1, 0, 0, 0, true)
	require.NoError(t, err)
	for name, e := range map[string][2]any{
		"transaction number 0":     gtid(33, 0),
		"transaction number 2^63":  gtid(33, 1<<63),
		"a tagged GTID":            ev(42, make([]byte, 60)),
		"MariaDB's GTID":           p.event(maria),
		"malformed previous GTIDs": ev(35, []byte{1, 0, 0, 0, 0, 0, 0, 0}),
	} {
		require.ErrorIs(t, s.Write(e[0].([]byte), e[1].(semisync.Position)), binlogd.ErrCannotStore, name)
	}
	require.Equal(t, last, s.Last())
	require.NoError(t, s.Close())
	_, err = binlogd.OpenStore(dir, binlogd.StoreOptions{})
	require.ErrorIs(t, err, binlogd.ErrWrongFlavor, "a MySQL primary's store opened for a MariaDB primary")
	s, err = binlogd.OpenStore(dir, binlogd.StoreOptions{MySQL: true})
	require.NoError(t, err)
	defer s.Close()
	got, err := s.GTID()
	require.NoError(t, err)
	require.Equal(t, uuid+":1-10", got)

	// The checkpoints a MySQL replica's set may start from.
	at, before, ok, err := s.MySQLGTIDCheckpoint(set)
	require.NoError(t, err)
	require.False(t, ok, "a replica with 1 only lacks 2, from before the store: %v %v", at, before)
	two, err := mysqlsource.ParseGTIDSet(uuid + ":1-2")
	require.NoError(t, err)
	at, before, ok, err = s.MySQLGTIDCheckpoint(two)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, steps[0].evs[1][1], at, "after the previous GTIDs that named 1-2, not the segment's start before them")
	require.Equal(t, two, before)
	all, err := mysqlsource.ParseGTIDSet(uuid + ":1-10")
	require.NoError(t, err)
	at, before, ok, err = s.MySQLGTIDCheckpoint(all)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, s.Synced(), at, "a replica with everything starts at the end")
	require.Equal(t, all, before)
}

// A MySQL store begun by file and position, with no GTID set to start
// from, does not know what came before it: it offers no GTID checkpoint
// (a replica would be served around whatever it lacks) until it holds a
// file's previous GTIDs.
func TestStoreMySQLUnknownStart(t *testing.T) {
	const uuid = "3e11fa47-71ca-11e1-9e33-c80aa9429562"
	sets := func(s string) []mysqlsource.UUIDSet {
		set, err := mysqlsource.ParseGTIDSet(s)
		require.NoError(t, err)
		return set
	}
	sid := sets(uuid + ":1")[0].SID
	p := &primary{t: t, file: "mysql-bin.000001", pos: 5000}
	h := mysqlsource.Header{Timestamp: 1700000000, ServerID: 1}
	ev := p.raw
	tx := func(gno uint64) [][2]any {
		body := append([]byte{1}, sid[:]...)
		g := ev(33, append(binary.LittleEndian.AppendUint64(body, gno), make([]byte, 17)...))
		begin, err := mysqlsource.AppendQuery(nil, h, "d", "BEGIN", true)
		require.NoError(t, err)
		return [][2]any{g, p.event(begin), p.event(mysqlsource.AppendXID(nil, h, gno, true))}
	}
	s, err := binlogd.OpenStore(t.TempDir(), binlogd.StoreOptions{MySQL: true})
	require.NoError(t, err)
	defer s.Close()
	write(t, s, tx(50)...)
	for _, set := range []string{"", uuid + ":50", uuid + ":1-50"} {
		_, _, ok, err := s.MySQLGTIDCheckpoint(sets(set))
		require.NoError(t, err)
		require.False(t, ok, "the store does not know what was before transaction 50; replica at %q", set)
	}
	// The next file: the primary's rotate, format description, previous GTIDs.
	rot := p.event(mysqlsource.AppendRotate(nil, h, "mysql-bin.000002", 4, true))
	p.file, p.pos = "mysql-bin.000002", 4
	write(t, s, [2]any{rot[0], semisync.FilePos(p.file, 4)}) // a rotate ends where the next file begins
	fd, err := mysqlsource.AppendFormatDescription(nil, h, mysqlsource.FormatDescription{BinlogVersion: 4, ServerVersion: "8.0.40-log",
		PostHeaderLens: mysqlsource.MariaDB1011PostHeaderLens(), Checksum: mysqlsource.ChecksumCRC32})
	require.NoError(t, err)
	prev, err := mysqlsource.AppendGTIDDump(nil, mysqlsource.GTIDDump{GTIDs: sets(uuid + ":1-50")})
	require.NoError(t, err)
	fdEv := p.event(fd)
	prevEv := ev(35, prev[1+2+4+4+8+4:])
	write(t, s, fdEv, prevEv)
	write(t, s, tx(51)...)
	_, _, ok, err := s.MySQLGTIDCheckpoint(sets(uuid + ":1-49"))
	require.NoError(t, err)
	require.False(t, ok, "it lacks 49")
	at, before, ok, err := s.MySQLGTIDCheckpoint(sets(uuid + ":1-50"))
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, prevEv[1], at, "from the previous GTIDs on")
	require.Equal(t, sets(uuid+":1-50"), before)
	got, err := s.GTID()
	require.NoError(t, err)
	require.Equal(t, uuid+":1-51", got)
}

// At mysqlsource's limits, a transaction that grows the set no further
// (next to an interval it has) is kept; one that would pass them is
// refused.
func TestStoreMySQLSetLimits(t *testing.T) {
	var parts []string
	for i := range mysqlsource.MaxGTIDSetSources {
		parts = append(parts, fmt.Sprintf("00000000-0000-0000-0000-%012d:1-10", i))
	}
	s, err := binlogd.OpenStore(t.TempDir(), binlogd.StoreOptions{MySQL: true, Start: strings.Join(parts, ",")})
	require.NoError(t, err)
	defer s.Close()
	p := &primary{t: t, file: "mysql-bin.000001", pos: 4}
	gtid := func(src int, gno uint64) [2]any {
		set, err := mysqlsource.ParseGTIDSet(fmt.Sprintf("00000000-0000-0000-0000-%012d:1", src))
		require.NoError(t, err)
		body := append([]byte{1}, set[0].SID[:]...)
		return p.raw(33, append(binary.LittleEndian.AppendUint64(body, gno), make([]byte, 17)...))
	}
	begin, err := mysqlsource.AppendQuery(nil, mysqlsource.Header{ServerID: 1}, "d", "BEGIN", true)
	require.NoError(t, err)
	write(t, s, gtid(7, 11), p.event(begin), p.event(mysqlsource.AppendXID(nil, mysqlsource.Header{ServerID: 1}, 1, true)))
	e := gtid(mysqlsource.MaxGTIDSetSources, 1)
	require.ErrorIs(t, s.Write(e[0].([]byte), e[1].(semisync.Position)), binlogd.ErrCannotStore, "a source more")
	g, err := s.GTID()
	require.NoError(t, err)
	require.Contains(t, g, "00000000-0000-0000-0000-000000000007:1-11")
}
