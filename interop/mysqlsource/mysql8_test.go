package mysqlsource_test

import (
	"bufio"
	"encoding/binary"
	"hash/crc32"
	"strconv"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/stretchr/testify/require"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/interop/mysqlsource"
	"github.com/semisync-go/semisync/source"
	"github.com/semisync-go/semisync/wire"
)

// The conversation of a MySQL 8.4 replica's IO thread with
// SOURCE_AUTO_POSITION=1, statement by statement as its source code sends
// them (rpl_replica.cc: get_master_version_and_clock, get_master_uuid,
// io_thread_init_commands, register_slave_on_master, request_dump; the
// semisync plugin's has_source_semisync), with the answers it needs: no
// real MySQL server is installable here, so this is the stand-in for one.
func TestServerMySQL8ReplicaConversation(t *testing.T) {
	s, port := newSynth(t, semisync.FlavorMySQL, "8.0.40-semisync-log", func(o *mysqlsource.Options) {
		o.Version, o.GTIDMode, o.Admin, o.AdminPassword = "", "ON", "admin", "apw"
	})
	s.put(event(35, make([]byte, 8))) // PREVIOUS_GTIDS_LOG_EVENT: none
	sid := [16]byte{0x3e, 0x11, 0xfa, 0x47, 0x71, 0xca, 0x11, 0xe1, 0x9e, 0x33, 0xc8, 0x0a, 0xa9, 0x42, 0x95, 0x62}
	tx := func(gno uint64) semisync.Position {
		body := append([]byte{1}, sid[:]...)
		body = binary.LittleEndian.AppendUint64(body, gno)
		s.put(event(mysqlsource.TypeMySQLGTID, body))
		s.put(query("BEGIN"))
		return s.put(xid(gno))
	}
	for gno := uint64(1); gno <= 4; gno++ {
		require.NoError(t, s.src.Flushed(tx(gno)))
	}
	s.bl.Publish()
	addr := "127.0.0.1:" + strconv.Itoa(int(port))
	c, err := client.Connect(addr, "repl", "secret", "")
	require.NoError(t, err)
	defer c.Close()

	// The version: a digit first and a major version of 5 or more; below
	// 8.3, so that an 8.4 replica sends an untagged GTID set.
	require.Equal(t, mysqlsource.DefaultMySQLVersion, c.GetServerVersion())
	one := func(q string) string {
		t.Helper()
		r, err := c.Execute(q)
		require.NoError(t, err, q)
		require.Equal(t, 1, r.RowNumber(), q)
		v, err := r.GetString(0, 0)
		require.NoError(t, err)
		return v
	}
	ok := func(q string) {
		t.Helper()
		_, err := c.Execute(q)
		require.NoError(t, err, q)
	}
	_, err = strconv.ParseUint(one("SELECT UNIX_TIMESTAMP()"), 10, 64)
	require.NoError(t, err)
	require.Equal(t, "1", one("SELECT @@GLOBAL.SERVER_ID"))
	ok("SET @master_heartbeat_period = 30000000000, @source_heartbeat_period = 30000000000")
	ok("SET @master_binlog_checksum = @@global.binlog_checksum, @source_binlog_checksum = @@global.binlog_checksum")
	require.Equal(t, "CRC32", one("SELECT @source_binlog_checksum"))
	require.Equal(t, "ON", one("SELECT @@GLOBAL.GTID_MODE"), "exactly one of MySQL's four names")
	require.Equal(t, "3e11fa47-71ca-11e1-9e33-c80aa9429562", one("SELECT @@GLOBAL.SERVER_UUID"))
	ok("SET @slave_uuid = 'b5d3e1c2-0000-11ef-8000-000000000050', @replica_uuid = 'b5d3e1c2-0000-11ef-8000-000000000050'")
	reg, err := mysqlsource.AppendRegisterReplica(nil, mysqlsource.RegisterReplica{ServerID: 50, Port: 3306})
	require.NoError(t, err)
	require.Equal(t, byte(0), command(t, c, reg)[0])
	require.Equal(t, "1", one("SELECT @@global.rpl_semi_sync_source_enabled"))
	ok("SET @rpl_semi_sync_replica = 1, @rpl_semi_sync_slave = 1")

	// SHOW REPLICAS, as the operator sees it: MySQL's columns, the
	// replica's UUID.
	admin, err := client.Connect(addr, "admin", "apw", "")
	require.NoError(t, err)
	defer admin.Close()
	r, err := admin.Execute("SHOW REPLICAS")
	require.NoError(t, err)
	require.Equal(t, "Replica_UUID", string(r.Fields[4].Name))
	uuid, _ := r.GetString(0, 4)
	require.Equal(t, "b5d3e1c2-0000-11ef-8000-000000000050", uuid)

	// COM_BINLOG_DUMP_GTID with USE_HEARTBEAT_EVENT_V2 and the replica's
	// set: the made-up rotate (with a CRC32, as the replica's checksum is
	// CRC32), the format description, the previous GTIDs, then the
	// transactions it lacks, each event behind the semisync header.
	d, err := mysqlsource.AppendGTIDDump(nil, mysqlsource.GTIDDump{Flags: 0x02, ServerID: 50, Pos: 4,
		GTIDs: []mysqlsource.UUIDSet{{SID: sid, Intervals: []mysqlsource.Interval{{Start: 1, End: 3}}}}})
	require.NoError(t, err)
	c.ResetSequence()
	require.NoError(t, c.WritePacket(append(make([]byte, 4), d...)))
	require.NoError(t, c.SetReadDeadline(time.Now().Add(30*time.Second)))
	pr := wire.NewPacketReader(bufio.NewReader(c.Conn.Conn), 0)
	read := func() (ev []byte, reply bool) {
		t.Helper()
		_, p, err := pr.ReadPacket()
		require.NoError(t, err)
		ev, reply, err = wire.DecodeEvent(p)
		require.NoError(t, err)
		require.Equal(t, crc32.ChecksumIEEE(ev[:len(ev)-4]), binary.LittleEndian.Uint32(ev[len(ev)-4:]), "type %d", ev[4])
		return ev, reply
	}
	var types []byte
	var gnos []uint64
	for len(gnos) < 2 {
		ev, _ := read()
		types = append(types, ev[4])
		if ev[4] == mysqlsource.TypeMySQLGTID {
			gnos = append(gnos, binary.LittleEndian.Uint64(ev[mysqlsource.HeaderLen+17:]))
		}
	}
	require.Equal(t, []byte{mysqlsource.TypeRotate, mysqlsource.TypeFormatDescription, 35, mysqlsource.TypeMySQLGTID}, types[:4])
	require.Equal(t, []uint64{3, 4}, gnos, "1 and 2 are in the replica's set")
	requireEventually(t, func() bool { return s.src.State().Clients == 1 }, nil)

	// A commit: the last event of each transaction reported to the source
	// asks for a reply (the 4th's, then the new one's), and the replica's
	// ACK of the new one releases the wait.
	end := tx(5)
	done := make(chan source.Outcome, 1)
	go func() { done <- s.commit(end) }()
	var flagged []uint32
	for len(flagged) == 0 || flagged[len(flagged)-1] != uint32(end.Offset()) {
		ev, reply := read()
		if !reply {
			continue
		}
		logPos := binary.LittleEndian.Uint32(ev[13:])
		flagged = append(flagged, logPos)
		ack, err := wire.AppendAck(nil, semisync.FilePos("mysql-bin.000001", uint64(logPos)))
		require.NoError(t, err)
		out, _ := wire.AppendPacket(nil, wire.AckSeq, ack)
		_, err = c.Conn.Conn.Write(out)
		require.NoError(t, err)
	}
	require.Len(t, flagged, 2, "the 4th transaction's end, then the 5th's")
	require.Equal(t, source.Acknowledged, <-done)
}
