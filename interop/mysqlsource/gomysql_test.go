package mysqlsource_test

import (
	"context"
	"encoding/binary"
	"io"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
	"github.com/stretchr/testify/require"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/examples/binlog"
	"github.com/semisync-go/semisync/interop/mysqlsource"
	"github.com/semisync-go/semisync/source"
)

// synth is a host that writes its own binlog events (as a database built
// on the library would): a Memory binlog with CRC32 checksums, each event's
// log_pos its end.
type synth struct {
	t   *testing.T
	bl  testBinlog
	src *source.Source
}

// put appends ev with its log_pos set to its end and its CRC32 made again.
func (s *synth) put(ev []byte) semisync.Position {
	end := s.bl.Head().Offset() + uint64(len(ev))
	mysqlsource.SetLogPos(ev, uint32(end), true)
	got := s.bl.Append(ev)
	require.Equal(s.t, end, got.Offset())
	return got
}

// event is a checksummed event of type typ with body.
func event(typ byte, body []byte) []byte {
	ev := make([]byte, mysqlsource.HeaderLen, mysqlsource.HeaderLen+len(body)+4)
	binary.LittleEndian.PutUint32(ev, 1700000000)
	ev[4] = typ
	binary.LittleEndian.PutUint32(ev[5:], 1) // server_id
	binary.LittleEndian.PutUint32(ev[9:], uint32(cap(ev)))
	ev = append(ev, body...)
	return append(ev, 0, 0, 0, 0)
}

// query is a QUERY_EVENT of q, with no schema.
func query(q string) []byte {
	ev, err := mysqlsource.AppendQuery(nil, mysqlsource.Header{Timestamp: 1700000000, ServerID: 1}, "", q, true)
	if err != nil {
		panic(err)
	}
	return ev
}

// xid is an XID_EVENT.
func xid(n uint64) []byte {
	return mysqlsource.AppendXID(nil, mysqlsource.Header{Timestamp: 1700000000, ServerID: 1}, n, true)
}

// commit reports end to the source, shows it to cursors and waits for it.
func (s *synth) commit(end semisync.Position) source.Outcome {
	require.NoError(s.t, s.src.Flushed(end))
	s.bl.Publish()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := s.src.Wait(ctx, end)
	require.NoError(s.t, err)
	return res.Outcome
}

// newSynth starts a source of flavor f serving a binlog that begins with a
// format description of version, on loopback; it returns the host and the
// server's port.
func newSynth(t *testing.T, f semisync.Flavor, version string, opts ...func(*mysqlsource.Options)) (*synth, uint16) {
	src, err := source.New(source.Options{Flavor: f})
	require.NoError(t, err)
	t.Cleanup(func() { src.Close() })
	name := "rpl_semi_sync_master_"
	if f == semisync.FlavorMySQL {
		name = "rpl_semi_sync_source_"
	}
	require.NoError(t, src.Vars().Exec("SET GLOBAL "+name+"enabled = ON, GLOBAL "+name+"timeout = 30000"))
	s := &synth{t: t, bl: testBinlog{Memory: binlog.NewMemory("mysql-bin")}, src: src}
	fde, err := mysqlsource.AppendFormatDescription(nil, mysqlsource.Header{Timestamp: 1700000000, ServerID: 1}, mysqlsource.FormatDescription{
		BinlogVersion: 4, ServerVersion: version, PostHeaderLens: mysqlsource.MariaDB1011PostHeaderLens(), Checksum: mysqlsource.ChecksumCRC32})
	require.NoError(t, err)
	s.bl.fde = fde
	s.put(fde)
	s.bl.Publish()
	require.NoError(t, src.Appended(s.bl.Head()))
	o := mysqlsource.Options{ServerID: 1, ServerUUID: "3e11fa47-71ca-11e1-9e33-c80aa9429562",
		Version: version, User: "repl", Password: "secret", Checksum: true, HeartbeatPeriod: 100 * time.Millisecond}
	for _, f := range opts {
		f(&o)
	}
	srv, err := mysqlsource.NewServer(src, s.bl, o)
	require.NoError(t, err)
	addr := serve(t, srv)
	return s, uint16(addr.Port)
}

// syncer is go-mysql's BinlogSyncer for the server on port, semisync on.
func syncer(t *testing.T, flavor string, port uint16) *replication.BinlogSyncer {
	b := replication.NewBinlogSyncer(replication.BinlogSyncerConfig{ServerID: 50, Flavor: flavor, Host: "127.0.0.1", Port: port,
		User: "repl", Password: "secret", SemiSyncEnabled: true, MaxReconnectAttempts: 1,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	t.Cleanup(b.Close)
	return b
}

// next returns the streamer's next event of one of types, skipping others.
func next(t *testing.T, st *replication.BinlogStreamer, types ...replication.EventType) *replication.BinlogEvent {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		ev, err := st.GetEvent(ctx)
		require.NoError(t, err)
		for _, typ := range types {
			if ev.Header.EventType == typ {
				return ev
			}
		}
	}
}

// go-mysql's BinlogSyncer, MariaDB flavor, by file and position: it
// negotiates semisync with the server, parses every event (checksums
// included), and its ACKs release the source's waits.
func TestServerGoMySQLMariaDBFilePos(t *testing.T) {
	s, port := newSynth(t, semisync.FlavorMariaDB, "10.11.0-MariaDB-log")
	list, err := mysqlsource.AppendGTIDList(nil, mysqlsource.Header{Timestamp: 1700000000, ServerID: 1}, nil, 0, true)
	require.NoError(t, err)
	s.put(list)
	s.bl.Publish()
	st, err := syncer(t, mysql.MariaDBFlavor, port).StartSync(mysql.Position{Name: "mysql-bin.000001", Pos: 4})
	require.NoError(t, err)
	require.Equal(t, replication.FORMAT_DESCRIPTION_EVENT, next(t, st, replication.FORMAT_DESCRIPTION_EVENT).Header.EventType)
	require.Eventually(t, func() bool { return s.src.State().Clients == 1 }, 30*time.Second, time.Millisecond, "the syncer registered as a semisync replica")

	for seq := uint64(1); seq <= 5; seq++ {
		g, err := mysqlsource.AppendMariaGTID(nil, mysqlsource.Header{Timestamp: 1700000000, ServerID: 1}, seq, 0, 0, 0, true)
		require.NoError(t, err)
		s.put(g)
		s.put(query("BEGIN"))
		s.put(query("INSERT INTO t VALUES (" + strconv.FormatUint(seq, 10) + ")"))
		end := s.put(xid(seq))
		require.Equal(t, source.Acknowledged, s.commit(end), "transaction %d", seq)

		ev := next(t, st, replication.MARIADB_GTID_EVENT)
		require.Equal(t, seq, ev.Event.(*replication.MariadbGTIDEvent).GTID.SequenceNumber)
		require.Equal(t, "BEGIN", string(next(t, st, replication.QUERY_EVENT).Event.(*replication.QueryEvent).Query))
		require.Equal(t, "INSERT INTO t VALUES ("+strconv.FormatUint(seq, 10)+")", string(next(t, st, replication.QUERY_EVENT).Event.(*replication.QueryEvent).Query))
		require.Equal(t, uint32(end.Offset()), next(t, st, replication.XID_EVENT).Header.LogPos)
	}
	require.Equal(t, uint64(5), s.src.Snapshot().YesTx)
}

// go-mysql's BinlogSyncer, MySQL flavor, by GTID set
// (COM_BINLOG_DUMP_GTID): the transactions in its set are left out, the
// rest arrive, and its semisync ACKs release the source's waits.
func TestServerGoMySQLMySQLGTID(t *testing.T) {
	s, port := newSynth(t, semisync.FlavorMySQL, "8.0.36-semisync", func(o *mysqlsource.Options) { o.GTIDMode = "ON" })
	s.put(event(35, make([]byte, 8))) // PREVIOUS_GTIDS_LOG_EVENT: none
	sid := [16]byte{0x3e, 0x11, 0xfa, 0x47, 0x71, 0xca, 0x11, 0xe1, 0x9e, 0x33, 0xc8, 0x0a, 0xa9, 0x42, 0x95, 0x62}
	gtid := func(gno uint64) []byte {
		body := append([]byte{1}, sid[:]...)
		body = binary.LittleEndian.AppendUint64(body, gno)
		body = append(body, 2) // logical timestamps follow
		body = binary.LittleEndian.AppendUint64(body, gno-1)
		body = binary.LittleEndian.AppendUint64(body, gno)
		return event(mysqlsource.TypeMySQLGTID, body)
	}
	tx := func(gno uint64) semisync.Position {
		s.put(gtid(gno))
		s.put(query("BEGIN"))
		return s.put(xid(gno))
	}
	for gno := uint64(1); gno <= 5; gno++ {
		require.NoError(t, s.src.Flushed(tx(gno)))
	}
	s.bl.Publish()

	set, err := mysql.ParseMysqlGTIDSet("3e11fa47-71ca-11e1-9e33-c80aa9429562:1-3")
	require.NoError(t, err)
	st, err := syncer(t, mysql.MySQLFlavor, port).StartSyncGTID(set)
	require.NoError(t, err)
	for _, want := range []int64{4, 5} {
		require.Equal(t, want, next(t, st, replication.GTID_EVENT).Event.(*replication.GTIDEvent).GNO, "1 to 3 are in the replica's set")
	}
	require.Eventually(t, func() bool { return s.src.State().Clients == 1 }, 30*time.Second, time.Millisecond)
	end := tx(6)
	require.Equal(t, source.Acknowledged, s.commit(end))
	require.Equal(t, int64(6), next(t, st, replication.GTID_EVENT).Event.(*replication.GTIDEvent).GNO)
	require.Equal(t, uint32(end.Offset()), next(t, st, replication.XID_EVENT).Header.LogPos)
}

// A binlog that goes on in a new file without a rotate at the end of the
// old one (the host crashed there): the server sends a made-up rotate to
// the new file before its events, as MySQL's source does when its dump
// moves to the next file, so a replica's position follows.
func TestServerRotateAfterCrash(t *testing.T) {
	s, port := newSynth(t, semisync.FlavorMySQL, "8.0.36-semisync")
	s.put(query("BEGIN"))
	s.put(xid(1))
	s.bl.Rotate()
	s.put(s.bl.fde)
	s.put(query("BEGIN"))
	end := s.put(xid(2))
	require.NoError(t, s.src.Flushed(end))
	s.bl.Publish()

	st, err := syncer(t, mysql.MySQLFlavor, port).StartSync(mysql.Position{Name: "mysql-bin.000001", Pos: 4})
	require.NoError(t, err)
	require.Equal(t, "mysql-bin.000001", string(next(t, st, replication.ROTATE_EVENT).Event.(*replication.RotateEvent).NextLogName), "the dump's first, made-up rotate")
	require.Equal(t, uint64(1), next(t, st, replication.XID_EVENT).Event.(*replication.XIDEvent).XID, "first file")
	rot := next(t, st, replication.ROTATE_EVENT)
	require.Equal(t, "mysql-bin.000002", string(rot.Event.(*replication.RotateEvent).NextLogName))
	require.Equal(t, uint64(4), rot.Event.(*replication.RotateEvent).Position)
	x := next(t, st, replication.XID_EVENT)
	require.Equal(t, uint64(2), x.Event.(*replication.XIDEvent).XID)
	require.Equal(t, uint32(end.Offset()), x.Header.LogPos)
}
