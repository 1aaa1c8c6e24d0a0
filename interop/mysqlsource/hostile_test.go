package mysqlsource_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
	"github.com/stretchr/testify/require"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/interop/mysqlsource"
	"github.com/semisync-go/semisync/source"
	"github.com/semisync-go/semisync/wire"
)

// serve serves s's binlog with o (account repl/secret added) and returns
// the server and its address.
func (s *synth) serve(o mysqlsource.Options) (*mysqlsource.Server, string) {
	t := s.t
	o.ServerID, o.User, o.Password, o.Checksum = 1, "repl", "secret", true
	srv, err := mysqlsource.NewServer(s.src, s.bl, o)
	require.NoError(t, err)
	addr := serve(t, srv)
	return srv, addr.String()
}

// semisyncDump connects as a replica that declares semisync and takes
// CRC32, and sends a dump from start as server id.
func semisyncDump(t *testing.T, addr string, id uint32, start semisync.Position) *client.Conn {
	c, err := client.Connect(addr, "repl", "secret", "")
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	_, err = c.Execute("SET @master_binlog_checksum = 'CRC32', @rpl_semi_sync_slave = 1")
	require.NoError(t, err)
	d, err := mysqlsource.AppendDump(nil, mysqlsource.Dump{Start: start, ServerID: id})
	require.NoError(t, err)
	c.ResetSequence()
	require.NoError(t, c.WritePacket(append(make([]byte, 4), d...)))
	return c
}

// Clients that misbehave get MySQL's errors or lose their connection;
// none of it releases a commit, and a healthy replica is served
// throughout.
func TestServerHostileClients(t *testing.T) {
	s, _ := newSynth(t, semisync.FlavorMariaDB, "10.11.0-MariaDB-log")
	require.NoError(t, s.src.Vars().Exec("SET GLOBAL rpl_semi_sync_master_timeout = 200"))
	txEnd := s.put(query("INSERT INTO t VALUES (1)"))
	s.bl.Publish()
	require.NoError(t, s.src.Flushed(txEnd))
	ended := make(chan error, 16)
	srv, addr := s.serve(mysqlsource.Options{WriteTimeout: 300 * time.Millisecond, OnError: func(err error) { ended <- err }})

	// A healthy replica, go-mysql's, acknowledging throughout.
	host, port, _ := net.SplitHostPort(addr)
	require.Equal(t, "127.0.0.1", host)
	p, _ := net.LookupPort("tcp", port)
	st, err := syncer(t, mysql.MariaDBFlavor, uint16(p)).StartSync(mysql.Position{Name: "mysql-bin.000001", Pos: 4})
	require.NoError(t, err)
	require.Equal(t, uint32(txEnd.Offset()), next(t, st, replication.QUERY_EVENT).Header.LogPos)

	t.Run("garbage after the handshake", func(t *testing.T) {
		c, err := client.Connect(addr, "repl", "secret", "")
		require.NoError(t, err)
		defer c.Close()
		_, err = c.Conn.Conn.Write([]byte("\x05\x00\x00\x07garbage, not a packet in sequence"))
		require.NoError(t, err)
		require.NoError(t, c.SetReadDeadline(time.Now().Add(5*time.Second)))
		_, err = io.ReadAll(c.Conn.Conn)
		require.True(t, err == nil || errors.Is(err, syscall.ECONNRESET), "the server closed the connection: %v", err)
		require.Error(t, <-ended)
	})
	t.Run("a file the binlog does not have", func(t *testing.T) {
		c := semisyncDump(t, addr, 9, semisync.FilePos("mysql-bin.000007", 4))
		p, err := c.ReadPacket()
		require.NoError(t, err)
		requireErrPacket(t, p, mysql.ER_MASTER_FATAL_ERROR_READING_BINLOG)
		require.Error(t, <-ended)
	})
	t.Run("a position inside an event", func(t *testing.T) {
		c := semisyncDump(t, addr, 9, semisync.FilePos("mysql-bin.000001", txEnd.Offset()-3))
		p, err := c.ReadPacket()
		require.NoError(t, err)
		requireErrPacket(t, p, mysql.ER_MASTER_FATAL_ERROR_READING_BINLOG)
		require.Error(t, <-ended)
	})
	t.Run("an ACK for a position not sent", func(t *testing.T) {
		// A commit written and reported but not yet readable: a replica
		// that acknowledges it anyway is counted, and releases nothing.
		end := s.put(xid(7))
		require.NoError(t, s.src.Flushed(end))
		c := semisyncDump(t, addr, 9, txEnd)
		ack, err := wire.AppendAck(nil, end)
		require.NoError(t, err)
		out, _ := wire.AppendPacket(nil, wire.AckSeq, ack)
		ahead := srv.Stats().AcksAhead
		_, err = c.Conn.Conn.Write(out)
		require.NoError(t, err)
		requireEventually(t, func() bool { return srv.Stats().AcksAhead == ahead+1 }, nil)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		res, err := s.src.Wait(ctx, end)
		require.NoError(t, err)
		require.Equal(t, source.TimedOut, res.Outcome, "no forged acknowledgement")
		require.Equal(t, end, s.src.State().Written)
		require.True(t, s.src.State().Acknowledged.Compare(end) < 0)
		// The healthy replica, once the commit is readable, catches the
		// source up (ON again).
		s.bl.Publish()
		require.Equal(t, uint32(end.Offset()), next(t, st, replication.XID_EVENT).Header.LogPos)
		requireEventually(t, func() bool { return s.src.State().On }, nil)
		c.Close()
		require.Error(t, <-ended)
	})
	t.Run("a replica that never reads", func(t *testing.T) {
		// It asks for the whole binlog and reads nothing: once the socket
		// buffers are full, the write timeout ends it, while the healthy
		// replica reads everything and acknowledges the last commit.
		semisyncDump(t, addr, 11, semisync.FilePos("mysql-bin.000001", 4))
		big := strings.Repeat("x", 64<<10)
		var end semisync.Position
		for range 200 {
			end = s.put(query("INSERT INTO t VALUES ('" + big + "')"))
		}
		require.NoError(t, s.src.Vars().Exec("SET GLOBAL rpl_semi_sync_master_timeout = 60000"))
		require.Equal(t, source.Acknowledged, s.commit(end))
		err := <-ended
		var ne net.Error
		require.True(t, errors.As(err, &ne) && ne.Timeout(), "ended by the write timeout: %v", err)
		requireEventually(t, func() bool { return s.src.State().Clients == 1 }, nil)
	})
	t.Run("a second connection under the same server id", func(t *testing.T) {
		old := semisyncDump(t, addr, 12, txEnd)
		_, err := old.ReadPacket() // the rotate: its dump is running
		require.NoError(t, err)
		semisyncDump(t, addr, 12, txEnd)
		// Well within the peer timeout, which would end it too.
		require.NoError(t, old.SetReadDeadline(time.Now().Add(5*time.Second)))
		_, err = io.Copy(io.Discard, bufio.NewReader(old.Conn.Conn))
		require.NoError(t, err, "the older dump is closed, as MySQL kills a zombie dump thread")
		<-ended
	})
}

// The server's limits: connections beyond MaxConnections get MySQL's 1040,
// a packet longer than any command ends its connection before go-mysql
// reserves its length, a session's user variables are bounded, and a dump
// the server does not do (BINLOG_DUMP_NON_BLOCK) is refused, not hung.
func TestServerLimits(t *testing.T) {
	s, _ := newSynth(t, semisync.FlavorMariaDB, "10.11.0-MariaDB-log")
	_, addr := s.serve(mysqlsource.Options{MaxConnections: 1})
	c, err := client.Connect(addr, "repl", "secret", "")
	require.NoError(t, err)
	defer c.Close()
	_, err = client.Connect(addr, "repl", "secret", "")
	var myErr *mysql.MyError
	require.ErrorAs(t, err, &myErr)
	require.Equal(t, uint16(mysql.ER_CON_COUNT_ERROR), myErr.Code)

	_, err = c.Execute("SET @master_binlog_checksum = 'CRC32'")
	require.NoError(t, err)
	for i := range 63 {
		_, err := c.Execute(fmt.Sprintf("SET @v%d = %d", i, i))
		require.NoError(t, err)
	}
	_, err = c.Execute("SET @v0 = 'again'")
	require.NoError(t, err, "an old one may change")
	_, err = c.Execute("SET @one_too_many = 1")
	require.ErrorAs(t, err, &myErr)
	require.Equal(t, uint16(mysql.ER_OUTOFMEMORY), myErr.Code)

	d, err := mysqlsource.AppendDump(nil, mysqlsource.Dump{Start: semisync.FilePos("mysql-bin.000001", 4), ServerID: 9, Flags: mysqlsource.DumpNonBlock})
	require.NoError(t, err)
	p := command(t, c, d)
	requireErrPacket(t, p, mysql.ER_NOT_SUPPORTED_YET)
	require.Contains(t, string(p), "--stop-never")
	c.Close()

	// The connection slot is free again once the server has seen it go.
	var c2 *client.Conn
	requireEventually(t, func() bool { c2, err = client.Connect(addr, "repl", "secret", ""); return err == nil }, nil)
	defer c2.Close()
	// 2 MiB announced: the connection ends, nothing reserved.
	_, err = c2.Conn.Conn.Write([]byte{0, 0, 0x20, 0})
	require.NoError(t, err)
	// Well within the command timeout, which would end it too.
	require.NoError(t, c2.SetReadDeadline(time.Now().Add(5*time.Second)))
	_, err = io.ReadAll(c2.Conn.Conn)
	require.True(t, err == nil || errors.Is(err, syscall.ECONNRESET), "closed: %v", err)
}

// A dump with no file name starts at the binlog's first file; after a
// rotate in the binlog, the heartbeats name the new file, where the
// replica now is.
func TestServerFirstFileAndRotate(t *testing.T) {
	s, _ := newSynth(t, semisync.FlavorMariaDB, "10.11.0-MariaDB-log")
	s.put(mysqlsource.AppendRotate(nil, mysqlsource.Header{Timestamp: 1700000000, ServerID: 1}, "mysql-bin.000002", 4, true))
	s.bl.Rotate()
	s.put(append([]byte(nil), s.bl.fde...))
	s.bl.Publish()
	require.NoError(t, s.src.Appended(s.bl.Head()))
	_, addr := s.serve(mysqlsource.Options{HeartbeatPeriod: 20 * time.Millisecond})
	c := semisyncDump(t, addr, 9, semisync.FilePos("", 4))
	require.NoError(t, c.SetReadDeadline(time.Now().Add(30*time.Second)))
	pr := wire.NewPacketReader(bufio.NewReader(c.Conn.Conn), 0)
	var rotates, heartbeats []string
	for len(heartbeats) == 0 {
		_, p, err := pr.ReadPacket()
		require.NoError(t, err)
		ev, _, err := wire.DecodeEvent(p)
		require.NoError(t, err)
		switch ev[4] {
		case mysqlsource.TypeRotate:
			rotates = append(rotates, string(ev[mysqlsource.HeaderLen+8:len(ev)-4]))
		case mysqlsource.TypeHeartbeat:
			heartbeats = append(heartbeats, string(ev[mysqlsource.HeaderLen:len(ev)-4]))
		}
	}
	require.Equal(t, []string{"mysql-bin.000001", "mysql-bin.000002"}, rotates, "the made-up rotate names the first file")
	require.Equal(t, "mysql-bin.000002", heartbeats[0])
}

// caching_sha2_password, MySQL 8's default: go-mysql's client (which asks
// for the server's RSA key without TLS) gets in with the password, twice
// (the second time the server may use its cache), and not without it.
func TestServerCachingSHA2(t *testing.T) {
	s, _ := newSynth(t, semisync.FlavorMySQL, "8.0.40-semisync-log")
	_, addr := s.serve(mysqlsource.Options{AuthMethod: mysql.AUTH_CACHING_SHA2_PASSWORD})
	for range 2 {
		c, err := client.Connect(addr, "repl", "secret", "")
		require.NoError(t, err)
		r, err := c.Execute("SELECT @@GLOBAL.SERVER_ID")
		require.NoError(t, err)
		id, _ := r.GetString(0, 0)
		require.Equal(t, "1", id)
		c.Close()
	}
	_, err := client.Connect(addr, "repl", "wrong", "")
	var myErr *mysql.MyError
	require.ErrorAs(t, err, &myErr)
	require.Equal(t, uint16(mysql.ER_ACCESS_DENIED_ERROR), myErr.Code)

	_, err = mysqlsource.NewServer(s.src, s.bl, mysqlsource.Options{ServerID: 1, User: "repl", AuthMethod: "mysql_old_password"})
	require.ErrorContains(t, err, "AuthMethod")
}

// With the host's TLS: a replica on TLS replicates, and nothing it sent
// in the same TLS write as its dump command is lost at the hand-over.
func TestServerTLSHandOver(t *testing.T) {
	s, _ := newSynth(t, semisync.FlavorMariaDB, "10.11.0-MariaDB-log")
	srv, addr := s.serve(mysqlsource.Options{TLSConfig: &tls.Config{Certificates: []tls.Certificate{selfSigned(t)}}})
	before := s.src.State().Clients
	c, err := client.Connect(addr, "repl", "secret", "", func(c *client.Conn) error {
		c.SetTLSConfig(&tls.Config{InsecureSkipVerify: true}) // the test's own certificate
		return nil
	})
	require.NoError(t, err)
	defer c.Close()
	_, isTLS := c.Conn.Conn.(*tls.Conn)
	require.True(t, isTLS, "the connection is on TLS")
	_, err = c.Execute("SET @master_binlog_checksum = 'CRC32', @rpl_semi_sync_slave = 1")
	require.NoError(t, err)
	start, _ := mysqlsource.AppendDump(nil, mysqlsource.Dump{Start: semisync.FilePos("mysql-bin.000001", 4), ServerID: 9})
	out, _ := wire.AppendPacket(nil, 0, start)
	out, _ = wire.AppendPacket(out, 1, []byte("right behind the dump command"))
	_, err = c.Conn.Conn.Write(out) // one TLS record
	require.NoError(t, err)
	require.NoError(t, c.SetReadDeadline(time.Now().Add(30*time.Second)))
	pr := wire.NewPacketReader(bufio.NewReader(c.Conn.Conn), 0)
	read := func() []byte {
		_, p, err := pr.ReadPacket()
		require.NoError(t, err)
		ev, _, err := wire.DecodeEvent(p)
		require.NoError(t, err)
		return ev
	}
	require.Equal(t, byte(mysqlsource.TypeRotate), read()[4])
	requireEventually(t, func() bool { return s.src.State().Clients == before+1 }, nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	end := s.put(xid(1))
	require.NoError(t, s.src.Flushed(end))
	s.bl.Publish()
	for read()[4] != 16 { // up to the commit's XID
	}
	ack, _ := wire.AppendAck(nil, end)
	// The packet behind the dump command is read (and counted as
	// malformed) before this ACK, which releases the commit.
	pkt, _ := wire.AppendPacket(nil, wire.AckSeq, ack)
	_, err = c.Conn.Conn.Write(pkt)
	require.NoError(t, err)
	res, err := s.src.Wait(ctx, end)
	require.NoError(t, err)
	require.Equal(t, source.Acknowledged, res.Outcome)
	require.Equal(t, uint64(1), srv.Stats().MalformedAcks, "the packet behind the dump command reached the ACK reader")
}

// selfSigned is a throw-away certificate for 127.0.0.1.
func selfSigned(t *testing.T) tls.Certificate {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// Source closed under a replica's dump: 1053, which a replica retries;
// GTID_MODE under MariaDB's flavor: 1193, which MySQL's replica takes as
// OFF.
func TestServerShutdownAndUnknownVariable(t *testing.T) {
	s, _ := newSynth(t, semisync.FlavorMariaDB, "10.11.0-MariaDB-log")
	_, addr := s.serve(mysqlsource.Options{})
	c, err := client.Connect(addr, "repl", "secret", "")
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Execute("SELECT @@GLOBAL.GTID_MODE")
	var myErr *mysql.MyError
	require.ErrorAs(t, err, &myErr)
	require.Equal(t, uint16(mysql.ER_UNKNOWN_SYSTEM_VARIABLE), myErr.Code)
	require.NoError(t, s.src.Close())
	c2 := semisyncDump(t, addr, 9, semisync.FilePos("mysql-bin.000001", 4))
	p, err := c2.ReadPacket()
	require.NoError(t, err)
	requireErrPacket(t, p, mysql.ER_SERVER_SHUTDOWN)
}

// MariaDB's Annotate_rows events go only to a replica that asked for
// them (BINLOG_SEND_ANNOTATE_ROWS_EVENT), as MariaDB's source does.
func TestServerAnnotateRows(t *testing.T) {
	s, _ := newSynth(t, semisync.FlavorMariaDB, "10.11.0-MariaDB-log")
	annotate := event(160, []byte("INSERT INTO t VALUES (1)"))
	s.put(annotate)
	end := s.put(xid(1))
	s.bl.Publish()
	require.NoError(t, s.src.Flushed(end))
	_, addr := s.serve(mysqlsource.Options{})
	for _, flags := range []uint16{0, mysqlsource.DumpSendAnnotateRows} {
		c, err := client.Connect(addr, "repl", "secret", "")
		require.NoError(t, err)
		_, err = c.Execute("SET @master_binlog_checksum = 'CRC32'")
		require.NoError(t, err)
		d, _ := mysqlsource.AppendDump(nil, mysqlsource.Dump{Start: semisync.FilePos("mysql-bin.000001", 4), ServerID: 9, Flags: flags})
		c.ResetSequence()
		require.NoError(t, c.WritePacket(append(make([]byte, 4), d...)))
		require.NoError(t, c.SetReadDeadline(time.Now().Add(30*time.Second)))
		var types []byte
		for {
			p, err := c.ReadPacket()
			require.NoError(t, err)
			types = append(types, p[1+4])
			if p[1+4] == 16 {
				break
			}
		}
		require.Equal(t, flags != 0, bytes.Contains(types, []byte{160}), "flags %#x: %v", flags, types)
		c.Close()
	}
}
