package mysqlsource_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/stretchr/testify/require"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/examples/binlog"
	"github.com/semisync-go/semisync/interop/internal/mariadbtest"
	"github.com/semisync-go/semisync/interop/mysqlsource"
	"github.com/semisync-go/semisync/source"
	"github.com/semisync-go/semisync/wire"
)

// testBinlog is a Memory binlog of a real server's events, with the
// format description that opens its file.
type testBinlog struct {
	*binlog.Memory
	fde []byte
}

func (b testBinlog) FormatDescription(file string) ([]byte, error) {
	if file != "mysql-bin.000001" {
		return nil, fmt.Errorf("no file %s", file)
	}
	return b.fde, nil
}

func (b testBinlog) Files() ([]string, error) { return []string{"mysql-bin.000001"}, nil }

// upstream is a dump connection to a real MariaDB primary, whose events
// the test hands to its own binlog as if the host had written them.
type upstream struct {
	c *client.Conn
}

// next returns the primary's next binlog event, skipping the made-up ones
// (the artificial rotate, heartbeats).
func (u upstream) next(t *testing.T) []byte {
	t.Helper()
	for {
		p, err := u.c.ReadPacket()
		require.NoError(t, err)
		require.Equal(t, byte(0), p[0])
		ev := append([]byte(nil), p[1:]...)
		if ev[4] == mysqlsource.TypeHeartbeat || ev[4] == mysqlsource.TypeRotate && binary.LittleEndian.Uint16(ev[17:])&mysqlsource.FlagArtificial != 0 {
			continue
		}
		return ev
	}
}

// until appends the primary's events to bl up to and including the
// first one of type typ, and returns the end of the last.
func (u upstream) until(t *testing.T, bl testBinlog, typ byte) semisync.Position {
	t.Helper()
	for {
		ev := u.next(t)
		end := bl.Append(ev)
		require.Equal(t, uint64(binary.LittleEndian.Uint32(ev[13:])), end.Offset(), "the event ends where the primary's log_pos says")
		if ev[4] == typ {
			return end
		}
	}
}

// A real MariaDB 10.11 replica replicates from the MySQL-protocol source:
// it negotiates semisync, applies the events the source serves (a real
// primary's, as a binlog server would hold them), and acknowledges a
// commit the source waits for.
func TestServerServesMariaDBReplica(t *testing.T) {
	primary := mariadbtest.Start(t, mariadbtest.Options{})
	primary.Exec(t, "CREATE DATABASE d")
	primary.Exec(t, "CREATE TABLE d.t (a INT PRIMARY KEY) ENGINE=InnoDB")
	primary.Exec(t, "INSERT INTO d.t VALUES (1), (2), (3)")

	up := dialUpstream(t, primary)

	bl := testBinlog{Memory: binlog.NewMemory("mysql-bin")}
	bl.fde = up.next(t)
	require.Equal(t, uint8(mysqlsource.TypeFormatDescription), bl.fde[4])
	require.Equal(t, uint64(256), bl.Append(bl.fde).Offset())
	up.until(t, bl, 16) // CREATE DATABASE, CREATE TABLE, and the INSERT, which an XID event ends
	bl.Publish()

	src, err := source.New(source.Options{Flavor: semisync.FlavorMariaDB})
	require.NoError(t, err)
	t.Cleanup(func() { src.Close() })
	require.NoError(t, src.Vars().Exec("SET GLOBAL rpl_semi_sync_master_enabled = ON"))
	require.NoError(t, src.Vars().Exec("SET GLOBAL rpl_semi_sync_master_timeout = 30000"))
	require.NoError(t, src.Appended(bl.Head()))
	ended := make(chan error, 8)
	srv, err := mysqlsource.NewServer(src, bl, mysqlsource.Options{ServerID: 100, User: "repl", Password: "secret", Checksum: true,
		OnError: func(err error) { ended <- err }})
	require.NoError(t, err)
	ln := serve(t, srv)

	replica := mariadbtest.Start(t, mariadbtest.Options{ServerID: 2, Args: []string{"--rpl-semi-sync-slave-enabled=1"}})
	replica.Exec(t, fmt.Sprintf("CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=%d, MASTER_USER='repl', MASTER_PASSWORD='secret', "+
		"MASTER_LOG_FILE='mysql-bin.000001', MASTER_LOG_POS=4, MASTER_USE_GTID=no", ln.Port))
	replica.StartSlave(t)
	rc := replica.Conn(t)
	rows := func() int64 { // -1 until the table exists
		r, err := rc.Execute("SELECT COUNT(*) FROM d.t")
		if err != nil {
			return -1
		}
		n, _ := r.GetInt(0, 0)
		return n
	}
	requireEventually(t, func() bool { return rows() == 3 }, func() string { return replica.ErrorLogTail(20) })
	require.Equal(t, "ON", replica.Status(t, "Rpl_semi_sync_slave_status"))
	require.Equal(t, 1, src.State().Clients)

	// A commit through the host: the primary's next transaction, appended,
	// reported, published; the replica's ACK releases the wait.
	primary.Exec(t, "INSERT INTO d.t VALUES (4)")
	end := up.until(t, bl, 16)
	require.NoError(t, src.Flushed(end))
	bl.Publish()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := src.Wait(ctx, end)
	require.NoError(t, err)
	require.Equal(t, source.Acknowledged, res.Outcome)
	requireEventually(t, func() bool { return rows() == 4 }, func() string { return replica.ErrorLogTail(20) })
	require.NotZero(t, srv.Stats().Acks)
	require.Equal(t, uint64(1), srv.Stats().Dumps)

	// The replica stops and starts again: it resumes after the file's
	// first event, so the source sends it the file's format description
	// first, and it acknowledges the next commit.
	replica.StopSlave(t)
	requireEventually(t, func() bool { return src.State().Clients == 0 }, nil)
	replica.StartSlave(t)
	requireEventually(t, func() bool { return src.State().Clients == 1 }, func() string { return replica.ErrorLogTail(20) })
	primary.Exec(t, "INSERT INTO d.t VALUES (5)")
	end = up.until(t, bl, 16)
	require.NoError(t, src.Flushed(end))
	bl.Publish()
	res, err = src.Wait(ctx, end)
	require.NoError(t, err)
	require.Equal(t, source.Acknowledged, res.Outcome)
	requireEventually(t, func() bool { return rows() == 5 }, func() string { return replica.ErrorLogTail(20) })
	require.Equal(t, "ON", replica.Status(t, "Rpl_semi_sync_slave_status"))
	require.Equal(t, uint64(2), srv.Stats().Dumps)
}

// serve serves srv on a loopback listener until the test ends, then
// closes it and checks that Serve returned ErrServerClosed.
func serve(tb testing.TB, srv *mysqlsource.Server) *net.TCPAddr {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(tb, err)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	tb.Cleanup(func() {
		require.NoError(tb, srv.Close())
		require.ErrorIs(tb, <-served, mysqlsource.ErrServerClosed)
	})
	return ln.Addr().(*net.TCPAddr)
}

// requireEventually polls cond, yielding 50 ms between tries (a real
// server's progress, no goroutine of ours to synchronise with), for at
// most 30 s.
func requireEventually(t *testing.T, cond func() bool, why func() string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			msg := "condition not met within 30 s"
			if why != nil {
				msg += ": " + why()
			}
			t.Fatal(msg)
		}
		tick := time.NewTimer(50 * time.Millisecond)
		<-tick.C
	}
}

// startServer serves an empty MariaDB-flavored binlog on loopback with
// account repl/secret (and CRC32 checksums with checksum), and returns its
// address.
func startServer(t *testing.T, checksum bool) (*mysqlsource.Server, string) {
	t.Helper()
	src, err := source.New(source.Options{Flavor: semisync.FlavorMariaDB})
	require.NoError(t, err)
	t.Cleanup(func() { src.Close() })
	bl := testBinlog{Memory: binlog.NewMemory("mysql-bin")}
	require.NoError(t, src.Appended(bl.Head()))
	srv, err := mysqlsource.NewServer(src, bl, mysqlsource.Options{ServerID: 100, User: "repl", Password: "secret", Checksum: checksum})
	require.NoError(t, err)
	ln := serve(t, srv)
	return srv, ln.String()
}

// command sends one command packet and returns the server's first
// answer packet.
func command(t *testing.T, c *client.Conn, payload []byte) []byte {
	t.Helper()
	c.ResetSequence()
	require.NoError(t, c.WritePacket(append(make([]byte, 4), payload...)))
	require.NoError(t, c.SetReadDeadline(time.Now().Add(30*time.Second)))
	p, err := c.ReadPacket()
	require.NoError(t, err)
	return p
}

// requireErrPacket requires p to be an error packet with code.
func requireErrPacket(t *testing.T, p []byte, code uint16) {
	t.Helper()
	require.NotEmpty(t, p)
	require.Equal(t, byte(0xff), p[0], "an error packet, not %q", p)
	require.Equal(t, code, binary.LittleEndian.Uint16(p[1:]), "%q", p)
}

// Clients that are not replicas, or bad ones, get MySQL's errors, never a
// hang: a wrong password (1045), an unknown command (1047, and the
// connection goes on), a statement the source does not answer (1235), a
// malformed dump command (1835), a dump from a position the binlog does
// not hold (1236).
func TestServerRefusals(t *testing.T) {
	srv, addr := startServer(t, false)
	_, err := client.Connect(addr, "repl", "wrong", "")
	var myErr *mysql.MyError
	require.ErrorAs(t, err, &myErr)
	require.Equal(t, uint16(mysql.ER_ACCESS_DENIED_ERROR), myErr.Code)

	c, err := client.Connect(addr, "repl", "secret", "")
	require.NoError(t, err)
	defer c.Close()
	requireErrPacket(t, command(t, c, []byte{0x99}), mysql.ER_UNKNOWN_COM_ERROR)
	require.Equal(t, byte(0), command(t, c, []byte{0x0e})[0], "COM_PING after it: OK")
	_, err = c.Execute("SELECT * FROM mysql.user")
	require.ErrorAs(t, err, &myErr)
	require.Equal(t, uint16(mysql.ER_NOT_SUPPORTED_YET), myErr.Code)
	r, err := c.Execute("SELECT UNIX_TIMESTAMP()")
	require.NoError(t, err)
	now, err := r.GetInt(0, 0)
	require.NoError(t, err)
	require.InDelta(t, time.Now().Unix(), now, 5)
	r, err = c.Execute("SHOW VARIABLES LIKE 'SERVER_ID'")
	require.NoError(t, err)
	id, err := r.GetString(0, 1)
	require.NoError(t, err)
	require.Equal(t, "100", id)

	beyond, _ := mysqlsource.AppendDump(nil, mysqlsource.Dump{Start: semisync.FilePos("mysql-bin.000001", 1000), ServerID: 9})
	requireErrPacket(t, command(t, c, beyond), mysql.ER_MASTER_FATAL_ERROR_READING_BINLOG)

	c2, err := client.Connect(addr, "repl", "secret", "")
	require.NoError(t, err)
	defer c2.Close()
	requireErrPacket(t, command(t, c2, []byte{mysqlsource.ComBinlogDump, 4, 0}), mysql.ER_MALFORMED_PACKET)
	require.Equal(t, uint64(2), srv.Stats().Connections, "authenticated ones")
	require.Zero(t, srv.Stats().Dumps)

	// A replica that did not say it takes checksums, from a binlog that
	// has them: MySQL's 1236.
	_, addr = startServer(t, true)
	c3, err := client.Connect(addr, "repl", "secret", "")
	require.NoError(t, err)
	defer c3.Close()
	start, _ := mysqlsource.AppendDump(nil, mysqlsource.Dump{Start: semisync.FilePos("mysql-bin.000001", 4), ServerID: 9})
	p := command(t, c3, start)
	requireErrPacket(t, p, mysql.ER_MASTER_FATAL_ERROR_READING_BINLOG)
	require.Contains(t, string(p), "checksum")
}

// Nothing the replica sends right after its dump command, in the same
// write, is lost in a buffer at the hand-over: the dump's ACK reader reads
// it (here, a packet that is no ACK: counted as malformed).
func TestServerHandOverLosesNothing(t *testing.T) {
	srv, addr := startServer(t, false)
	c, err := client.Connect(addr, "repl", "secret", "")
	require.NoError(t, err)
	defer c.Close()
	start, _ := mysqlsource.AppendDump(nil, mysqlsource.Dump{Start: semisync.FilePos("mysql-bin.000001", 4), ServerID: 9})
	out, _ := wire.AppendPacket(nil, 0, start)
	out, _ = wire.AppendPacket(out, 1, []byte("right behind the dump command"))
	_, err = c.Conn.Conn.Write(out) // both packets in one write
	require.NoError(t, err)
	require.NoError(t, c.SetReadDeadline(time.Now().Add(30*time.Second)))
	seq, p, err := wire.NewPacketReader(bufio.NewReader(c.Conn.Conn), 0).ReadPacket()
	require.NoError(t, err)
	require.Equal(t, uint8(1), seq)
	require.Equal(t, byte(0), p[0])
	require.Equal(t, byte(mysqlsource.TypeRotate), p[1+4], "the made-up rotate")
	requireEventually(t, func() bool { return srv.Stats().MalformedAcks == 1 }, nil)
	require.Equal(t, uint64(1), srv.Stats().Dumps)
}
