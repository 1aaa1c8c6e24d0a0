package mysqlreplica

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/interop/mysqlsource"
	"github.com/semisync-go/semisync/relaylog"
	"github.com/semisync-go/semisync/replica"
	"github.com/semisync-go/semisync/wire"
)

// Config describes one replication connection to a MySQL or MariaDB source.
type Config struct {
	// Addr is the source's address, host:port.
	Addr string
	// User and Password authenticate; the user needs REPLICATION SLAVE.
	User, Password string
	// ServerID is this replica's server_id; it must be non-zero and
	// differ from the source's and every other replica's.
	ServerID uint32
	// Replica makes every semisync decision: whether to ask for semisync
	// (its rpl_semi_sync_replica_enabled when the connection opens), the
	// negotiation statements of its flavor, when to acknowledge and what.
	// Use replica.Synced durability for an ACK only after the fsync.
	Replica *replica.Replica
	// Relay receives the events: a relay log file (package relaylog's
	// *relaylog.File), or a store of the host's with the same methods.
	Relay Relay
	// Start is where to start when Relay holds no record. The zero
	// Position means the source's current binlog position (SHOW MASTER
	// STATUS). When Relay holds records, replication resumes after the
	// last one (the last fsynced one with replica.Synced) and Start is
	// ignored. A source takes the position a semisync dump starts at as an
	// acknowledgement up to it (spec §7.1), as MariaDB and MySQL do for
	// their own replicas: a first start at the head releases, as
	// acknowledged, any commit waiting there at that moment although this
	// replica never receives it. Give an earlier Start to receive them.
	Start semisync.Position
	// HeartbeatPeriod asks the source for a heartbeat after that much
	// idle time (MASTER_HEARTBEAT_PERIOD). Default 1s.
	HeartbeatPeriod time.Duration
	// ReadTimeout ends the connection when nothing arrives for that long
	// (slave_net_timeout). Default max(30s, 4 heartbeat periods).
	ReadTimeout time.Duration
	// ConnectTimeout bounds connecting, authenticating and everything
	// before the dump starts. Default 10s.
	ConnectTimeout time.Duration
	// MaxPacket bounds an event packet's payload; default 1 GiB, MySQL's
	// largest max_allowed_packet.
	MaxPacket int
	// Dial, if set, opens the connection (TLS tunnels, proxies, tests).
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// OnAck, if set, is called after each ACK has been written, with its
	// position, on the goroutine running Replicate. It must not block.
	OnAck func(pos semisync.Position)
	// BeforeAck, if set, is called on the goroutine running Replicate
	// before each ACK is written, once the relay made its events durable.
	// It may block: a binlog server that acknowledges only when its own
	// replicas have (chained semisync) waits there. Nothing is read from
	// the source while it blocks.
	BeforeAck func(pos semisync.Position)
	// GTID, if set, is asked before each dump for the replica's GTID
	// position: the transactions the relay holds whole and durable.
	// A non-empty answer makes the dump a GTID dump from it:
	//   - MariaDB: a position as gtid_slave_pos writes it (the last
	//     transaction of each domain), sent as @slave_connect_state, as a
	//     replica with MASTER_USE_GTID=slave_pos does;
	//   - MySQL (both flavors): a GTID set as gtid_executed writes it
	//     (mysqlsource.ParseGTIDSet), sent in COM_BINLOG_DUMP_GTID, as a
	//     replica with SOURCE_AUTO_POSITION=1 does, if the source's
	//     GTID_MODE is ON (else the dump is by file and position).
	// A GTID dump may resend events the relay already holds (those of a
	// transaction it holds in part, and the file's leading events): the
	// relay must pass over events ending at or before its last. An empty
	// answer means a dump by file and position, as without GTID.
	GTID func() (string, error)
}

// Relay is where Replicate writes the events: *relaylog.File, or a store
// of the host's (a binlog server's segmented files) with its methods.
type Relay interface {
	replica.RelayLog
	replica.Syncer
	replica.Discarder
	// Last and Synced return the end of the last record written and
	// fsynced.
	Last() semisync.Position
	Synced() semisync.Position
	// Rewind drops what was written since the last fsync and returns
	// where the relay ends then.
	Rewind() (semisync.Position, error)
	// Err returns why the relay takes no more writes, if it does not.
	Err() error
	// Recovery is what opening the relay found and cut.
	Recovery() relaylog.Recovery
}

// Result says how far one connection got.
type Result struct {
	// ServerVersion is the source's version string.
	ServerVersion string
	// Negotiation is the semisync negotiation's outcome (Semisync false
	// when the replica's semisync was disabled).
	Negotiation wire.Negotiation
	// Start is the position the dump started at (for a GTID dump, where
	// the relay ended).
	Start semisync.Position
	// GTID is the GTID position a GTID dump started from, or empty.
	GTID string
	// Durable is the end of the last event the relay made as durable as
	// the replica's durability requires (before the dump starts, what the
	// relay had synced).
	Durable semisync.Position
	// Recovery is what relaylog.Open found and cut when it opened the
	// relay file (Relay.Recovery()), set before connecting. When it cut
	// something (Recovery.Cut), the dump resumes from the shorter position
	// Recovery.End, which the source takes as this replica's position: a
	// power failure may have cut records this replica had acknowledged
	// (relaylog's package doc says when), so log it.
	Recovery relaylog.Recovery
	// Stats are the stream's figures.
	Stats replica.StreamStats
}

// ErrConfig means a Config lacks something it needs.
var ErrConfig = errors.New("mysqlreplica: invalid config")

// ErrSameServerID means the source has the replica's server_id, which
// MySQL refuses too (the replica would skip its own events).
var ErrSameServerID = errors.New("mysqlreplica: the source has this replica's server_id")

// ErrDumpEnded means the source ended the dump with an EOF packet.
var ErrDumpEnded = errors.New("mysqlreplica: the source ended the dump")

const (
	comRegisterSlave = 0x15
	comBinlogDump    = 0x12
	// dumpSendAnnotateRows is MariaDB's BINLOG_SEND_ANNOTATE_ROWS_EVENT
	// dump flag.
	dumpSendAnnotateRows = 2
)

// Replicate runs one replication connection to the source until ctx ends,
// the source goes away or something fails; it always returns an error
// saying which (ctx's error when ctx ended). The steps are MySQL's IO
// thread's: connect and authenticate (go-mysql's client); declare checksum
// awareness and the heartbeat period; check server ids; register; let
// cfg.Replica negotiate semisync on this connection; send COM_BINLOG_DUMP
// from the relay's last record (its last fsynced one with replica.Synced,
// cutting off the rest: relaylog.File.Rewind); then read events, write
// them to the relay, and whenever no further packet has arrived flush (and
// fsync, with replica.Synced) and send one ACK for the flagged events
// among them. When ctx ends it tells the source with COM_QUIT.
// Reconnecting is the caller's: call Replicate again with the same relay.
// A failed relay file (relaylog.ErrFailed) is refused before connecting:
// reopen it first.
func Replicate(ctx context.Context, cfg Config) (Result, error) {
	var res Result
	if cfg.Replica == nil || cfg.Relay == nil || cfg.ServerID == 0 || cfg.Addr == "" {
		return res, fmt.Errorf("%w: Addr, ServerID, Replica and Relay are required", ErrConfig)
	}
	// Resume after the relay's last record, and with Synced durability
	// after its last fsynced one: the source takes the start of a
	// semisync dump as an acknowledgement up to it (spec §7.1).
	start := cfg.Relay.Last()
	if err := cfg.Relay.Err(); err != nil {
		return res, err
	}
	if cfg.Replica.Durability() == replica.Synced {
		var err error
		if start, err = cfg.Relay.Rewind(); err != nil {
			return res, err
		}
	}
	res.Durable = cfg.Relay.Synced()
	res.Recovery = cfg.Relay.Recovery()
	hb := cfg.HeartbeatPeriod
	if hb <= 0 {
		hb = time.Second
	}
	readTimeout := cfg.ReadTimeout
	if readTimeout <= 0 {
		readTimeout = max(30*time.Second, 4*hb)
	}
	connectTimeout := cfg.ConnectTimeout
	if connectTimeout <= 0 {
		connectTimeout = 10 * time.Second
	}
	dial := cfg.Dial
	if dial == nil {
		d := &net.Dialer{Timeout: connectTimeout}
		dial = d.DialContext
	}
	// Close the connection when ctx ends, also while connecting (go-mysql
	// heeds ctx only while dialing), after a COM_QUIT once the dump runs;
	// wait for that before returning: no goroutine outlives the call.
	w := &connWatch{}
	stopped := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(stopped)
		w.cancel()
	})
	defer func() {
		if !stop() {
			<-stopped
		}
	}()
	dialer := func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		c.SetDeadline(time.Now().Add(connectTimeout))
		if !w.set(c) {
			c.Close()
			return nil, ctx.Err()
		}
		return c, nil
	}
	conn, err := client.ConnectWithDialer(ctx, "tcp", cfg.Addr, cfg.User, cfg.Password, "", dialer)
	if err != nil {
		return res, ctxErr(ctx, fmt.Errorf("mysqlreplica: connecting to %s: %w", cfg.Addr, unwrapServerError(err)))
	}
	defer conn.Close()
	nc := w.conn()
	res.ServerVersion = conn.GetServerVersion()

	q := querier{conn}
	alg, err := prepare(ctx, q, cfg, hb)
	if err != nil {
		return res, ctxErr(ctx, err)
	}
	if start.IsZero() {
		start = cfg.Start
	}
	if start.IsZero() {
		if start, err = sourceHead(ctx, q); err != nil {
			return res, ctxErr(ctx, err)
		}
	}
	if start.IsLSN() || start.Offset() > math.MaxUint32 {
		return res, fmt.Errorf("%w: cannot dump from %v", ErrConfig, start)
	}
	var gtidPos string
	if cfg.GTID != nil {
		if gtidPos, err = cfg.GTID(); err != nil {
			return res, err
		}
	}
	var mysqlSet []mysqlsource.UUIDSet
	if gtidPos != "" && cfg.Replica.Flavor() != semisync.FlavorMariaDB {
		if mysqlSet, err = mysqlsource.ParseGTIDSet(gtidPos); err != nil {
			return res, fmt.Errorf("%w: %v", ErrConfig, err)
		}
		if len(mysqlSet) > 0 {
			// A source whose GTID_MODE is not ON refuses a dump by GTID
			// set: go by file and position, from the relay's end.
			rows, err := q.Query(ctx, "SELECT @@GLOBAL.gtid_mode")
			if err != nil && !isServerError(err, wire.ErUnknownSystemVariable) {
				return res, ctxErr(ctx, fmt.Errorf("mysqlreplica: reading the source's GTID_MODE: %w", err))
			}
			if !strings.EqualFold(cell(rows), "ON") {
				mysqlSet = nil
			}
		}
		if len(mysqlSet) == 0 {
			gtidPos = "" // no transaction, or no GTIDs: by file and position
		}
	}
	res.Start = start
	streamStart := start
	if len(mysqlSet) > 0 {
		// The source finds the first file holding a transaction not in the
		// set; the stream starts with that file's name (a made-up rotate).
		res.GTID = gtidPos
		streamStart = semisync.Position{}
	} else if gtidPos != "" && cfg.Replica.Flavor() == semisync.FlavorMariaDB {
		// The source finds the start from the GTID position; the stream
		// starts with the file it names (its first, made-up rotate).
		if strings.ContainsAny(gtidPos, "'\\") {
			return res, fmt.Errorf("%w: GTID position %q", ErrConfig, gtidPos)
		}
		for _, stmt := range []string{"SET @slave_connect_state = '" + gtidPos + "'", "SET @slave_gtid_strict_mode = 1", "SET @slave_gtid_ignore_duplicates = 0"} {
			if _, err := q.Query(ctx, stmt); err != nil {
				return res, ctxErr(ctx, fmt.Errorf("mysqlreplica: %s: %w", stmt, err))
			}
		}
		res.GTID = gtidPos
		streamStart = semisync.Position{}
		start = semisync.FilePos("", 4)
	}

	st, err := cfg.Replica.Open(streamStart, cfg.Relay, &ackSender{c: nc, timeout: readTimeout, onAck: cfg.OnAck, before: cfg.BeforeAck})
	if err != nil {
		return res, err
	}
	defer st.Close()
	if st.Enabled() {
		if res.Negotiation, err = st.Negotiate(ctx, q); err != nil {
			return res, ctxErr(ctx, err)
		}
	}
	var flags uint16
	if cfg.Replica.Flavor() == semisync.FlavorMariaDB {
		// Ask for the Annotate_rows events too (as MariaDB's replica does
		// with replicate_annotate_row_events ON, its default), so that the
		// relay holds every event of the source's binlog.
		flags |= dumpSendAnnotateRows
	}
	cmd := dumpCommand(start, flags, cfg.ServerID)
	if len(mysqlSet) > 0 {
		if cmd, err = mysqlsource.AppendGTIDDump(nil, mysqlsource.GTIDDump{ServerID: cfg.ServerID, Pos: 4, GTIDs: mysqlSet}); err != nil {
			return res, fmt.Errorf("%w: %v", ErrConfig, err)
		}
	}
	if err := writeCommand(conn, cmd); err != nil {
		return res, ctxErr(ctx, err)
	}
	w.startDump()
	err = stream(nc, st, NewDecoder(streamStart, alg), readTimeout, cfg.MaxPacket)
	res.Durable, res.Stats = st.Durable(), st.Stats()
	return res, ctxErr(ctx, err)
}

// connWatch holds the connection for the goroutine that closes it when the
// context ends.
type connWatch struct {
	mu       sync.Mutex
	c        net.Conn
	dumping  bool // the dump command went out: leave with COM_QUIT
	canceled bool
}

// set records c, or reports false if the context has already ended.
func (w *connWatch) set(c net.Conn) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.canceled {
		return false
	}
	w.c = c
	return true
}

func (w *connWatch) conn() net.Conn {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.c
}

func (w *connWatch) startDump() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.dumping = true
}

// cancel closes the connection, telling the source first with COM_QUIT
// when the dump runs.
func (w *connWatch) cancel() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.canceled = true
	if w.c == nil {
		return
	}
	if w.dumping {
		p, _ := wire.AppendPacket(nil, wire.AckSeq, []byte{wire.ComQuit})
		w.c.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
		w.c.Write(p)
	}
	w.c.Close()
}

// prepare runs what MySQL's IO thread runs before registering, and
// registers. It returns the checksum algorithm events will carry until the
// first format description.
func prepare(ctx context.Context, q querier, cfg Config, hb time.Duration) (uint8, error) {
	// Declare checksum awareness: the source then sends events with the
	// checksum it writes (refusing otherwise), as MySQL's replica does.
	if _, err := q.Query(ctx, "SET @master_binlog_checksum = @@global.binlog_checksum, @source_binlog_checksum = @@global.binlog_checksum"); err != nil && !isServerError(err, wire.ErUnknownSystemVariable) {
		return 0, fmt.Errorf("mysqlreplica: declaring checksum awareness: %w", err)
	}
	rows, err := q.Query(ctx, "SELECT @master_binlog_checksum")
	if err != nil {
		return 0, fmt.Errorf("mysqlreplica: reading the binlog checksum: %w", err)
	}
	alg, err := ParseChecksumName(cell(rows))
	if err != nil {
		return 0, err
	}
	ns := strconv.FormatInt(hb.Nanoseconds(), 10)
	if _, err := q.Query(ctx, "SET @master_heartbeat_period = "+ns+", @source_heartbeat_period = "+ns); err != nil {
		return 0, fmt.Errorf("mysqlreplica: setting the heartbeat period: %w", err)
	}
	if cfg.Replica.Flavor() == semisync.FlavorMariaDB {
		// Capability 4 (MARIA_SLAVE_CAPABILITY_GTID): send MariaDB's GTID
		// events as they are rather than rewritten for old replicas.
		if _, err := q.Query(ctx, "SET @mariadb_slave_capability = 4"); err != nil {
			return 0, fmt.Errorf("mysqlreplica: declaring MariaDB capabilities: %w", err)
		}
	}
	rows, err = q.Query(ctx, "SELECT @@server_id")
	if err != nil {
		return 0, fmt.Errorf("mysqlreplica: reading the source's server_id: %w", err)
	}
	if cell(rows) == strconv.FormatUint(uint64(cfg.ServerID), 10) {
		return 0, fmt.Errorf("%w (%d)", ErrSameServerID, cfg.ServerID)
	}
	if err := writeCommand(q.c, registerCommand(cfg.ServerID)); err != nil {
		return 0, err
	}
	if _, err := q.c.ReadOKPacket(); err != nil {
		return 0, fmt.Errorf("mysqlreplica: registering: %w", unwrapServerError(err))
	}
	return alg, nil
}

// sourceHead returns the source's current binlog position.
func sourceHead(ctx context.Context, q querier) (semisync.Position, error) {
	rows, err := q.Query(ctx, "SHOW MASTER STATUS")
	if err != nil {
		// MySQL 8.4 knows it only as SHOW BINARY LOG STATUS.
		var err2 error
		if rows, err2 = q.Query(ctx, "SHOW BINARY LOG STATUS"); err2 == nil {
			err = nil
		} else {
			err = errors.Join(err, err2)
		}
	}
	if err != nil {
		return semisync.Position{}, fmt.Errorf("mysqlreplica: reading the source's binlog position: %w", err)
	}
	if len(rows) == 0 || len(rows[0]) < 2 {
		return semisync.Position{}, errors.New("mysqlreplica: the source has no binary log (log_bin is OFF)")
	}
	off, err := strconv.ParseUint(rows[0][1], 10, 64)
	if err != nil {
		return semisync.Position{}, fmt.Errorf("mysqlreplica: the source's binlog position %q: %w", rows[0][1], err)
	}
	return semisync.FilePos(rows[0][0], off), nil
}

// stream reads the dump until it fails.
func stream(nc net.Conn, st *replica.Stream, dec *Decoder, timeout time.Duration, maxPacket int) error {
	if maxPacket <= 0 {
		maxPacket = relaylog.MaxEventLen
	}
	nc.SetWriteDeadline(time.Time{})
	pr := wire.NewPacketReader(bufio.NewReaderSize(deadlineReader{nc, timeout}, 64<<10), maxPacket)
	want := uint8(1) // the dump command went out as packet 0
	for {
		if !pr.Buffered() {
			// Everything that has arrived is queued: make it durable and
			// acknowledge it with one ACK before waiting for more.
			if err := st.Flush(); err != nil {
				return err
			}
		}
		seq, p, err := pr.ReadPacket()
		if err != nil {
			return err
		}
		// An error or EOF packet ends the dump whatever its sequence id.
		if len(p) > 0 && p[0] == 0xff {
			return fmt.Errorf("mysqlreplica: the source ended the dump: %w", parseErrPacket(p))
		}
		if len(p) > 0 && p[0] == 0xfe && len(p) < 9 {
			return ErrDumpEnded
		}
		if seq != want {
			return &wire.OrderError{Got: seq, Want: want}
		}
		ev, flag, err := st.Unwrap(p)
		if err != nil {
			return err
		}
		want = wire.SeqAfterEvent(pr.NextSeq(), flag && st.Semisync())
		d, err := dec.Decode(ev)
		if err != nil {
			return err
		}
		if d.Header.Type == TypeHeartbeat {
			st.Heartbeat(flag)
			continue
		}
		if err := st.Queue(ev, d.End, flag); err != nil {
			return err
		}
	}
}

// deadlineReader moves the read deadline on before every read: the
// connection ends when nothing arrives for the timeout, and a big event
// that keeps arriving is never cut.
type deadlineReader struct {
	c       net.Conn
	timeout time.Duration
}

func (r deadlineReader) Read(p []byte) (int, error) {
	r.c.SetReadDeadline(time.Now().Add(r.timeout))
	return r.c.Read(p)
}

// ackSender writes ACK packets with sequence id 0 on the dump connection.
type ackSender struct {
	c       net.Conn
	timeout time.Duration
	onAck   func(semisync.Position)
	before  func(semisync.Position)
	buf     []byte
}

func (a *ackSender) SendAck(pos semisync.Position, payload []byte) error {
	if a.before != nil {
		a.before(pos)
	}
	a.buf, _ = wire.AppendPacket(a.buf[:0], wire.AckSeq, payload)
	a.c.SetWriteDeadline(time.Now().Add(a.timeout))
	if _, err := a.c.Write(a.buf); err != nil {
		return err
	}
	if a.onAck != nil {
		a.onAck(pos)
	}
	return nil
}

// registerCommand is COM_REGISTER_SLAVE: the replica's server id, empty
// report host, user and password, port 0, rank 0 and master id 0.
func registerCommand(serverID uint32) []byte {
	b := []byte{comRegisterSlave}
	b = binary.LittleEndian.AppendUint32(b, serverID)
	b = append(b, 0, 0, 0)    // report_host, report_user, report_password: empty
	b = append(b, 0, 0)       // report_port
	b = append(b, 0, 0, 0, 0) // replication rank
	b = append(b, 0, 0, 0, 0) // master id
	return b
}

// dumpCommand is COM_BINLOG_DUMP from start: offset (4 bytes), flags
// (never BINLOG_DUMP_NON_BLOCK: wait at the binlog's end), server id, file
// name.
func dumpCommand(start semisync.Position, flags uint16, serverID uint32) []byte {
	b := []byte{comBinlogDump}
	b = binary.LittleEndian.AppendUint32(b, uint32(start.Offset()))
	b = binary.LittleEndian.AppendUint16(b, flags)
	b = binary.LittleEndian.AppendUint32(b, serverID)
	return append(b, start.File()...)
}

// writeCommand sends a command packet with sequence id 0 through the
// client's connection.
func writeCommand(c *client.Conn, cmd []byte) error {
	c.ResetSequence()
	p := make([]byte, 4, 4+len(cmd))
	if err := c.WritePacket(append(p, cmd...)); err != nil {
		return fmt.Errorf("mysqlreplica: sending command 0x%02x: %w", cmd[0], err)
	}
	return nil
}

// parseErrPacket decodes an error packet: 0xff, code, '#', SQL state,
// message.
func parseErrPacket(p []byte) *wire.ServerError {
	if len(p) < 3 {
		return &wire.ServerError{Message: "malformed error packet"}
	}
	e := &wire.ServerError{Code: binary.LittleEndian.Uint16(p[1:])}
	msg := p[3:]
	if len(msg) >= 6 && msg[0] == '#' {
		msg = msg[6:]
	}
	e.Message = string(msg)
	return e
}

// querier runs negotiation statements through go-mysql's client.
type querier struct{ c *client.Conn }

func (q querier) Query(_ context.Context, stmt string) ([][]string, error) {
	r, err := q.c.Execute(stmt)
	if err != nil {
		return nil, unwrapServerError(err)
	}
	defer r.Close()
	if r.Resultset == nil {
		return nil, nil
	}
	rows := make([][]string, r.RowNumber())
	for i := range rows {
		rows[i] = make([]string, r.ColumnNumber())
		for j := range rows[i] {
			rows[i][j], _ = r.GetString(i, j)
		}
	}
	return rows, nil
}

// unwrapServerError turns go-mysql's error answer into a wire.ServerError,
// so that negotiation can tell an unknown variable from other failures.
func unwrapServerError(err error) error {
	var me *mysql.MyError
	if errors.As(err, &me) {
		return &wire.ServerError{Code: me.Code, Message: me.Message}
	}
	return err
}

func isServerError(err error, code uint16) bool {
	var se *wire.ServerError
	return errors.As(err, &se) && se.Code == code
}

// cell returns the first column of the first row, or "".
func cell(rows [][]string) string {
	if len(rows) == 0 || len(rows[0]) == 0 {
		return ""
	}
	return strings.TrimSpace(rows[0][0])
}

// ctxErr returns ctx's error when ctx has ended (the connection was closed
// because of it), err otherwise.
func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}
