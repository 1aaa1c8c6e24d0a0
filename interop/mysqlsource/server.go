package mysqlsource

import (
	"bufio"
	"cmp"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
	gmserver "github.com/go-mysql-org/go-mysql/server"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/dump"
	"github.com/semisync-go/semisync/internal/accept"
	"github.com/semisync-go/semisync/source"
	"github.com/semisync-go/semisync/wire"
)

// Binlog is the host's binlog as the server reads it: MySQL binlog events,
// each with the position at which it ends (its file and log_pos).
type Binlog interface {
	// Open returns a cursor whose first event is the first that ends
	// after start. It must refuse a start the binlog does not hold
	// (beyond its end, inside an event, a file it does not have): the
	// source takes the start as the replica's acknowledgement.
	Open(start semisync.Position) (dump.Cursor, error)
	// FormatDescription returns the format description event that opens
	// file, as the file holds it. The server sends it first to a replica
	// that starts after the file's first event.
	FormatDescription(file string) ([]byte, error)
	// Files returns the names of the binlog's files, oldest first: a GTID
	// dump searches them from the oldest, and a dump with no file name
	// starts at the oldest.
	Files() ([]string, error)
}

// Options configure a Server.
type Options struct {
	// ServerID is the source's server_id; it must not be 0.
	ServerID uint32
	// ServerUUID is what SELECT @@GLOBAL.SERVER_UUID answers.
	ServerUUID string
	// Version is the version string of the handshake; default
	// DefaultVersion, or DefaultMySQLVersion for a source of MySQL's
	// flavor.
	Version string
	// GTIDMode is what SELECT @@GLOBAL.GTID_MODE answers a MySQL replica
	// (OFF, OFF_PERMISSIVE, ON_PERMISSIVE or ON; default OFF). A replica
	// with SOURCE_AUTO_POSITION=1 needs ON, and the binlog's transactions
	// must then open with MySQL GTID events; ON needs ServerUUID, which
	// must be the source id of the binlog's own GTIDs. A source of MariaDB's flavor
	// has no such variable (error 1193, which MySQL's replica takes as
	// OFF).
	GTIDMode string
	// User and Password are the replication account.
	User, Password string
	// AuthMethod is the accounts' authentication: mysql_native_password
	// (the default; every MariaDB and MySQL replica can use it) or
	// caching_sha2_password (MySQL 8's default; without TLS the server
	// makes an RSA key for it at NewServer).
	AuthMethod string
	// Admin and AdminPassword, if Admin is set, are the operator's
	// account: SHOW [GLOBAL] STATUS and VARIABLES, SET GLOBAL (package
	// vars), SHOW SLAVE HOSTS (SHOW REPLICAS), SHOW MASTER STATUS (SHOW
	// BINARY LOG STATUS) and KILL of any connection. The replication
	// account may KILL its own connections only.
	Admin, AdminPassword string
	// TLSConfig, if set, lets replicas connect with TLS (MASTER_SSL=1).
	TLSConfig *tls.Config
	// Checksum says that the binlog's events carry a CRC32 trailer
	// (binlog_checksum=CRC32); the server answers the replica's checksum
	// question with it and adds one to the events it makes up.
	Checksum bool
	// HeartbeatPeriod is used when the replica asks for none; default 1s.
	// PeerTimeout and WriteTimeout are package dump's.
	HeartbeatPeriod, PeerTimeout, WriteTimeout time.Duration
	// MaxConnections bounds the connections served at once; one more is
	// answered MySQL's error 1040 (Too many connections) and closed.
	// Default DefaultMaxConnections.
	MaxConnections int
	// Status and Variables, if set, add rows to SHOW STATUS and SHOW
	// VARIABLES (a binlog server's replica side and its own), those whose
	// names match pattern (MySQL's LIKE, as semisync.Like).
	Status, Variables func(pattern string) []semisync.Row
	// Statement, if set, is offered every statement before the server's
	// own operator statements, with whether the session is the operator's
	// (Admin). handled false passes it on. An error is sent to the client
	// with its code when it is a *vars.Error (1193, 1231, 1232, ...), as
	// 1227 when it wraps ErrAdminOnly, and as 1105 otherwise; cols and
	// rows are a result set when cols is not empty, and OK otherwise.
	Statement func(stmt string, admin bool) (cols []string, rows [][]string, handled bool, err error)
	// OnError, if set, is told why each connection ended (nil for a
	// replica that quit, or a client that said COM_QUIT). It is called on
	// the connection's goroutine and must not block: Close waits for it.
	OnError func(err error)
}

// A client has handshakeTimeout for its handshake and commandTimeout for
// each command before its dump (a replica's set-up takes milliseconds);
// a packet before the dump has at most maxCommandLen bytes (a replica's
// are tens of bytes), and a session at most maxUserVars user variables
// (a replica sets about ten) of at most maxUserVarBytes in all.
const (
	handshakeTimeout = 5 * time.Second
	commandTimeout   = 30 * time.Second
	maxCommandLen    = 1 << 20
	maxUserVars      = 64
	maxUserVarBytes  = 64 << 10
)

// DefaultMaxConnections is Options.MaxConnections's default.
const DefaultMaxConnections = 256

// The heartbeat period a replica may ask for, as MySQL bounds
// MASTER_HEARTBEAT_PERIOD: at least a millisecond, at most 4294967 s.
const (
	minHeartbeatPeriod = time.Millisecond
	maxHeartbeatPeriod = 4294967 * time.Second
)

// DefaultVersion is the version string a Server announces by default: a
// MariaDB 10.11 with its binlog on, as MariaDB replicas expect.
const DefaultVersion = "10.11.0-MariaDB-semisync-log"

// DefaultMySQLVersion is the version string a Server of MySQL's flavor
// announces by default: a MySQL 8.0, which MySQL 8.4 replicas send
// untagged GTID sets (they send tagged ones to an 8.3 or later, and
// ParseGTIDDump refuses those).
const DefaultMySQLVersion = "8.0.40-semisync-log"

// Stats are a Server's counters.
type Stats struct {
	// Connections is the number of clients authenticated; Dumps those
	// that started a dump.
	Connections, Dumps uint64
	// Acks, MalformedAcks and AcksAhead are the senders' (package dump).
	Acks, MalformedAcks, AcksAhead uint64
}

// Server is a MySQL-protocol source: real MariaDB and MySQL replicas
// connect to it with CHANGE MASTER TO and START SLAVE.
type Server struct {
	src *source.Source
	log Binlog
	o   Options
	gm  *gmserver.Server
	// auth checks the accounts, for every connection (go-mysql's
	// handler is safe for concurrent use).
	auth *gmserver.InMemoryAuthenticationHandler

	mu       sync.Mutex
	closed   bool
	lns      map[net.Listener]struct{}
	conns    map[net.Conn]struct{}
	sessions map[uint32]*session // by connection id, once authenticated
	wg       sync.WaitGroup
	done     chan struct{}

	dc                 dump.Counters
	connections, dumps uint64
}

// ErrServerClosed is returned by Serve after Close.
var ErrServerClosed = errors.New("mysqlsource: server closed")

// NewServer returns a server that serves log to replicas on behalf of src.
// It does not own src or log: close them after the server.
func NewServer(src *source.Source, log Binlog, o Options) (*Server, error) {
	if src == nil || log == nil || o.ServerID == 0 || o.User == "" {
		return nil, errors.New("mysqlsource: NewServer needs a source, a binlog, a server id and a user")
	}
	if o.Admin == o.User {
		return nil, errors.New("mysqlsource: the operator's account must not be the replication account")
	}
	if o.Version == "" {
		o.Version = DefaultVersion
		if src.Vars().Flavor() == semisync.FlavorMySQL {
			o.Version = DefaultMySQLVersion
		}
	}
	switch o.GTIDMode {
	case "":
		o.GTIDMode = "OFF"
	case "OFF", "OFF_PERMISSIVE", "ON_PERMISSIVE":
	case "ON":
		// A GTID dump checks that a replica holds no more of this
		// source's transactions than the binlog: it needs the source's
		// id.
		if _, ok := parseUUID(o.ServerUUID); !ok {
			return nil, fmt.Errorf("mysqlsource: GTIDMode ON needs ServerUUID, the source id of the binlog's own GTIDs; got %q", o.ServerUUID)
		}
	default:
		return nil, fmt.Errorf("mysqlsource: GTIDMode %q, want OFF, OFF_PERMISSIVE, ON_PERMISSIVE or ON", o.GTIDMode)
	}
	if o.HeartbeatPeriod <= 0 {
		o.HeartbeatPeriod = time.Second
	}
	if o.MaxConnections <= 0 {
		o.MaxConnections = DefaultMaxConnections
	}
	var key *rsa.PrivateKey
	switch o.AuthMethod {
	case "":
		o.AuthMethod = mysql.AUTH_NATIVE_PASSWORD
	case mysql.AUTH_NATIVE_PASSWORD:
	case mysql.AUTH_CACHING_SHA2_PASSWORD:
		if o.TLSConfig == nil || len(o.TLSConfig.Certificates) == 0 {
			var err error
			if key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
				return nil, fmt.Errorf("mysqlsource: a key for caching_sha2_password: %w", err)
			}
		}
	default:
		return nil, fmt.Errorf("mysqlsource: AuthMethod %q, want %s or %s", o.AuthMethod, mysql.AUTH_NATIVE_PASSWORD, mysql.AUTH_CACHING_SHA2_PASSWORD)
	}
	gm := gmserver.NewServer(o.Version, mysql.DEFAULT_COLLATION_ID, o.AuthMethod, key, o.TLSConfig)
	auth := gmserver.NewInMemoryAuthenticationHandler(o.AuthMethod)
	if err := auth.AddUser(o.User, o.Password); err != nil {
		return nil, fmt.Errorf("mysqlsource: the replication account: %w", err)
	}
	if o.Admin != "" {
		if err := auth.AddUser(o.Admin, o.AdminPassword); err != nil {
			return nil, fmt.Errorf("mysqlsource: the operator's account: %w", err)
		}
	}
	return &Server{src: src, log: log, o: o, gm: gm, auth: auth, lns: map[net.Listener]struct{}{}, conns: map[net.Conn]struct{}{}, sessions: map[uint32]*session{}, done: make(chan struct{})}, nil
}

// Stats returns the server's counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Stats{Connections: s.connections, Dumps: s.dumps,
		Acks: s.dc.Acks.Load(), MalformedAcks: s.dc.Malformed.Load(), AcksAhead: s.dc.Ahead.Load()}
}

// Serve accepts connections on ln and serves each on a goroutine of its
// own until Close, which closes ln; it returns ErrServerClosed then, or
// the listener's error.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrServerClosed
	}
	s.lns[ln] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.lns, ln)
		s.mu.Unlock()
		s.wg.Done()
	}()
	var backoff accept.Backoff
	for {
		conn, err := ln.Accept()
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if closed {
				return ErrServerClosed
			}
			if !accept.Transient(err) {
				return err
			}
			// Out of descriptors, or a connection aborted before it was
			// accepted: wait a little and go on.
			if !backoff.Wait(s.done) {
				return ErrServerClosed
			}
			continue
		}
		backoff.Reset()
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			conn.Close()
			return ErrServerClosed
		}
		if len(s.conns) >= s.o.MaxConnections {
			s.mu.Unlock()
			tooMany(conn)
			continue
		}
		s.conns[conn] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			err := s.serve(conn)
			conn.Close()
			s.mu.Lock()
			delete(s.conns, conn)
			s.mu.Unlock()
			if s.o.OnError != nil {
				s.o.OnError(err)
			}
		}()
	}
}

// tooMany answers a connection over MaxConnections with MySQL's error 1040
// instead of a handshake, as MySQL does, and closes it.
func tooMany(conn net.Conn) {
	conn.SetWriteDeadline(time.Now().Add(time.Second))
	payload := []byte{0xff}
	payload = binary.LittleEndian.AppendUint16(payload, mysql.ER_CON_COUNT_ERROR)
	payload = append(payload, "Too many connections"...)
	out, _ := wire.AppendPacket(nil, 0, payload)
	conn.Write(out)
	conn.Close()
}

// Close stops accepting, closes every connection and waits for their
// goroutines. It is idempotent.
func (s *Server) Close() error {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.done)
		for ln := range s.lns {
			ln.Close()
		}
		for c := range s.conns {
			c.Close()
		}
	}
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

// session is one client connection's state before its dump.
type session struct {
	s        *Server
	raw      net.Conn
	c        *gmserver.Conn
	userVars map[string]string
	// userVarBytes is the size of userVars' names and values.
	userVarBytes int

	// Set under s.mu by COM_REGISTER_SLAVE, for SHOW SLAVE HOSTS.
	register   RegisterReplica
	registered bool
	uuid       string // MySQL's replica's @slave_uuid
	dumping    bool   // its dump has started, for replica dumpID
	dumpID     uint32
}

// serve runs one connection: the handshake (go-mysql), the commands until
// the dump, then the dump.
func (s *Server) serve(raw net.Conn) (err error) {
	raw.SetDeadline(time.Now().Add(handshakeTimeout))
	// Nothing the client sends after its dump command may be left in
	// go-mysql's buffer when the dump takes the connection over. With a
	// TLS configuration go-mysql reads without read-ahead; without one it
	// reads ahead, from a connection that hands it one packet at a time.
	var conn net.Conn = raw
	if s.o.TLSConfig == nil {
		conn = &onePacket{Conn: raw}
	}
	c, err := s.handshake(conn)
	if err != nil {
		return fmt.Errorf("mysqlsource: handshake with %v: %w", raw.RemoteAddr(), err)
	}
	ss := &session{s: s, raw: raw, c: c, userVars: map[string]string{}}
	id := c.ConnectionID()
	s.mu.Lock()
	s.connections++
	s.sessions[id] = ss
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.sessions, id)
		s.mu.Unlock()
	}()
	for {
		raw.SetDeadline(time.Now().Add(commandTimeout))
		p, err := c.ReadPacket()
		if err != nil {
			return err
		}
		if len(p) == 0 {
			return fmt.Errorf("%w: an empty command packet", ErrMalformedCommand)
		}
		var v any
		switch p[0] {
		case 0x01: // COM_QUIT
			return nil
		case 0x0e: // COM_PING
		case 0x03: // COM_QUERY
			v = ss.query(string(p[1:]))
		case ComRegisterSlave:
			r, err := ParseRegisterReplica(p)
			if err != nil {
				c.WriteValue(mysql.NewError(mysql.ER_MALFORMED_PACKET, err.Error()))
				return err
			}
			s.mu.Lock()
			ss.register, ss.registered = r, true
			ss.uuid = cmp.Or(ss.userVars["slave_uuid"], ss.userVars["replica_uuid"])
			s.mu.Unlock()
		case ComBinlogDump:
			d, err := ParseDump(p)
			if err != nil {
				c.WriteValue(mysql.NewError(mysql.ER_MALFORMED_PACKET, err.Error()))
				return err
			}
			r := request{flags: d.Flags, serverID: d.ServerID, start: d.Start}
			if state, ok := ss.userVars["slave_connect_state"]; ok {
				// A MariaDB replica with MASTER_USE_GTID: its GTID position
				// decides where the dump starts, not the file and position.
				if r.maria, err = ParseGTIDState(state); err != nil {
					c.WriteValue(mysql.NewError(mysql.ER_MASTER_FATAL_ERROR_READING_BINLOG, err.Error()))
					return err
				}
				r.gtid = true
			}
			raw.SetDeadline(time.Time{}) // package dump keeps its own
			return ss.dump(r)
		case ComBinlogDumpGTID:
			d, err := ParseGTIDDump(p)
			if err != nil {
				c.WriteValue(mysql.NewError(mysql.ER_MALFORMED_PACKET, err.Error()))
				return err
			}
			raw.SetDeadline(time.Time{})
			// MySQL takes a set in any order, a source named twice.
			return ss.dump(request{flags: d.Flags, serverID: d.ServerID, gtid: true, mysql: normalGTIDSet(d.GTIDs), mysqlDump: true})
		default:
			v = mysql.NewError(mysql.ER_UNKNOWN_COM_ERROR, "Unknown command")
		}
		if err := c.WriteValue(v); err != nil {
			return err
		}
		c.ResetSequence()
	}
}

// handshake runs go-mysql's handshake on conn. go-mysql's parser can panic
// on a hostile handshake response (before the password is checked): that
// is one connection's failure, not the process's.
func (s *Server) handshake(conn net.Conn) (c *gmserver.Conn, err error) {
	defer func() {
		if r := recover(); r != nil {
			c, err = nil, fmt.Errorf("panic in go-mysql's handshake: %v", r)
		}
	}()
	return s.gm.NewCustomizedConn(conn, s.auth, gmserver.EmptyHandler{})
}

// checksumName is the binlog's checksum as binlog_checksum names it.
func (s *Server) checksumName() string {
	if s.o.Checksum {
		return "CRC32"
	}
	return "NONE"
}

// query answers one statement of a replica's set-up.
func (ss *session) query(q string) any {
	s := ss.s
	stmt := strings.TrimSpace(strings.TrimRight(strings.TrimSpace(q), ";"))
	upper := strings.ToUpper(stmt)
	// The operator's SHOW VARIABLES LIKE 'rpl_semi_sync%' is not a
	// replica's semisync probe: it gets every variable.
	operator := s.o.Admin != "" && ss.c.GetUser() == s.o.Admin
	if ans, ok := wire.AnswerProbe(s.src.Vars().Flavor(), stmt, s.src.State().Enabled); ok && !operator {
		if ans.Err != nil {
			return mysql.NewError(ans.Err.Code, ans.Err.Message)
		}
		return result(ans.Columns, ans.Rows)
	}
	switch {
	case upper == "SELECT UNIX_TIMESTAMP()":
		return result([]string{"UNIX_TIMESTAMP()"}, [][]string{{strconv.FormatInt(time.Now().Unix(), 10)}})
	case upper == "SHOW VARIABLES LIKE 'SERVER_ID'":
		return result([]string{"Variable_name", "Value"}, [][]string{{"server_id", strconv.FormatUint(uint64(s.o.ServerID), 10)}})
	case upper == "SELECT @@GLOBAL.SERVER_ID" || upper == "SELECT @@SERVER_ID":
		return result([]string{stmt[len("SELECT "):]}, [][]string{{strconv.FormatUint(uint64(s.o.ServerID), 10)}})
	case upper == "SELECT @@GLOBAL.SERVER_UUID":
		return result([]string{"@@GLOBAL.SERVER_UUID"}, [][]string{{s.o.ServerUUID}})
	case upper == "SELECT @@GLOBAL.GTID_MODE":
		if s.src.Vars().Flavor() == semisync.FlavorMariaDB {
			return mysql.NewError(mysql.ER_UNKNOWN_SYSTEM_VARIABLE, "Unknown system variable 'GTID_MODE'")
		}
		return result([]string{"@@GLOBAL.GTID_MODE"}, [][]string{{s.o.GTIDMode}})
	case upper == "SELECT @@GLOBAL.GTID_DOMAIN_ID":
		return result([]string{"@@GLOBAL.gtid_domain_id"}, [][]string{{"0"}})
	case strings.HasPrefix(upper, "SELECT BINLOG_GTID_POS("):
		// MariaDB's replica asks which GTID position a file position is;
		// NULL is a source's answer when it does not know, and the
		// replica goes on by file and position.
		return resultNull(stmt[len("SELECT "):])
	case strings.HasPrefix(upper, "SELECT @") && !strings.HasPrefix(upper, "SELECT @@"):
		name := strings.ToLower(strings.TrimSpace(stmt[len("SELECT @"):]))
		v, ok := ss.userVars[name]
		if !ok {
			return resultNull("@" + name)
		}
		return result([]string{"@" + name}, [][]string{{v}})
	}
	// The replica's statements above, the operator's below: SHOW
	// VARIABLES LIKE 'SERVER_ID' is a replica's, SET GLOBAL an operator's.
	if v, ok := ss.operator(stmt); ok {
		return v
	}
	if strings.HasPrefix(upper, "SET ") {
		if vs, err := wire.ParseSetUserVars(stmt); err == nil {
			for _, v := range vs {
				name := strings.ToLower(v.Name)
				old, ok := ss.userVars[name]
				if !ok && len(ss.userVars) >= maxUserVars {
					return mysql.NewError(mysql.ER_OUTOFMEMORY, fmt.Sprintf("mysqlsource: more than %d user variables in one session", maxUserVars))
				}
				grown := ss.userVarBytes - len(old) + len(v.Value)
				if !ok {
					grown += len(name)
				}
				if grown > maxUserVarBytes {
					return mysql.NewError(mysql.ER_OUTOFMEMORY, fmt.Sprintf("mysqlsource: more than %d bytes of user variables in one session", maxUserVarBytes))
				}
				ss.userVars[name], ss.userVarBytes = v.Value, grown
			}
			return nil
		}
		if (strings.Contains(upper, "@MASTER_BINLOG_CHECKSUM") || strings.Contains(upper, "@SOURCE_BINLOG_CHECKSUM")) && strings.Contains(upper, "@@GLOBAL.BINLOG_CHECKSUM") {
			ss.userVars["master_binlog_checksum"] = s.checksumName()
			ss.userVars["source_binlog_checksum"] = s.checksumName()
		}
		return nil // SET NAMES and the like: nothing to keep
	}
	return mysql.NewError(mysql.ER_NOT_SUPPORTED_YET, "mysqlsource: statement not supported by this source: "+stmt)
}

// result is a text result set of strings.
func result(cols []string, rows [][]string) any {
	values := make([][]any, len(rows))
	for i, r := range rows {
		values[i] = make([]any, len(r))
		for j, v := range r {
			values[i][j] = []byte(v) // a string "" would be sent as NULL
		}
	}
	rs, err := mysql.BuildSimpleTextResultset(cols, values)
	if err != nil {
		return err
	}
	return &mysql.Result{Resultset: rs}
}

// resultNull is a one-row result set holding NULL.
func resultNull(col string) any {
	rs, err := mysql.BuildSimpleTextResultset([]string{col}, [][]any{{nil}})
	if err != nil {
		return err
	}
	return &mysql.Result{Resultset: rs}
}

// request is a dump command: by file and position, or by the replica's
// GTIDs (MariaDB's @slave_connect_state, or MySQL's GTID set).
type request struct {
	flags     uint16
	serverID  uint32
	start     semisync.Position // without gtid
	gtid      bool              // by GTID: maria, or mysql with mysqlDump
	maria     []GTID            // MariaDB's @slave_connect_state
	mysql     []UUIDSet         // COM_BINLOG_DUMP_GTID's set
	mysqlDump bool
}

// dump takes the connection over for COM_BINLOG_DUMP and
// COM_BINLOG_DUMP_GTID: it finds the start, registers a replica that
// declared semisync with the source, and streams through package dump, the
// made-up rotate (and the format description, after a file's first event)
// first.
func (ss *session) dump(r request) error {
	s := ss.s
	refuse := func(code uint16, err error) error {
		ss.c.WriteValue(mysql.NewError(code, err.Error()))
		return err
	}
	declared := cmp.Or(ss.userVars["master_binlog_checksum"], ss.userVars["source_binlog_checksum"])
	// The binlog's events go out as they are; the events the server makes
	// up after the format description follow the binlog's checksum, the
	// rotate before it the replica's declared one (MySQL's rule: a client
	// that says NONE, as go-mysql's does, gets the first rotate without a
	// CRC32).
	rotateSum := strings.EqualFold(declared, "CRC32")
	if s.o.Checksum && declared == "" {
		// MySQL's answer to a replica that cannot take the checksums the
		// binlog's events carry.
		return refuse(mysql.ER_MASTER_FATAL_ERROR_READING_BINLOG, errors.New("mysqlsource: Slave can not handle replication events with the checksum that master is configured to log"))
	}
	if r.flags&DumpNonBlock != 0 {
		// mysqlbinlog without --stop-never: it wants the binlog up to its
		// end and an EOF packet, which this server does not send.
		return refuse(mysql.ER_NOT_SUPPORTED_YET, errors.New("mysqlsource: a dump that ends at the binlog's end (BINLOG_DUMP_NON_BLOCK) is not supported; with mysqlbinlog, use --stop-never"))
	}
	h := Header{ServerID: s.o.ServerID, Flags: FlagArtificial}
	var (
		start semisync.Position
		pre   []dump.Event
		cur   dump.Cursor
		err   error
	)
	if r.gtid {
		w := gtidWant{has: mariaHas(r.maria), maria: r.maria}
		if r.mysqlDump {
			if s.o.GTIDMode != "ON" {
				// MySQL's answer to SOURCE_AUTO_POSITION=1 when the source
				// has no GTIDs.
				return refuse(mysql.ER_MASTER_FATAL_ERROR_READING_BINLOG, fmt.Errorf("mysqlsource: a dump by GTID (SOURCE_AUTO_POSITION=1) from a source whose @@GLOBAL.GTID_MODE is %s", s.o.GTIDMode))
			}
			w = gtidWant{has: mysqlHas(r.mysql), mysql: true, set: r.mysql}
			w.own, w.hasOwn = parseUUID(s.o.ServerUUID)
		}
		at, err := locate(s.done, s.log, w)
		if errors.Is(err, ErrServerClosed) {
			return refuse(mysql.ER_SERVER_SHUTDOWN, err)
		}
		if err != nil {
			return refuse(mysql.ER_MASTER_FATAL_ERROR_READING_BINLOG, fmt.Errorf("mysqlsource: finding the replica's GTID position: %w", err))
		}
		start = at.start
		if cur, err = s.log.Open(start); err != nil {
			return refuse(mysql.ER_MASTER_FATAL_ERROR_READING_BINLOG, fmt.Errorf("mysqlsource: opening the binlog at %v: %w", start, err))
		}
		cur = &gtidFilter{Cursor: cur, has: w.has}
		// As MariaDB's source: the file from its start up to its first
		// transaction, then (for a MariaDB replica with a position) a
		// made-up GTID list of that position, at the start.
		pre = append(pre, dump.Event{Data: AppendRotate(nil, h, at.file, 4, rotateSum), End: start, Artificial: true})
		for _, ev := range at.head {
			if ev.Data[4] == TypeFormatDescription {
				ev.Data = clearInUse(ev.Data, s.o.Checksum)
			}
			pre = append(pre, dump.Event{Data: ev.Data, End: start, Artificial: true})
		}
		if len(r.maria) > 0 {
			hl := h
			hl.LogPos = uint32(start.Offset())
			list, err := AppendGTIDList(nil, hl, r.maria, 0, s.o.Checksum)
			if err != nil {
				return refuse(mysql.ER_MASTER_FATAL_ERROR_READING_BINLOG, err)
			}
			pre = append(pre, dump.Event{Data: list, End: start, Artificial: true})
		}
	} else {
		start = r.start
		if start.File() == "" {
			// A replica that knows no file: from the binlog's first, as
			// MySQL's source does.
			files, err := s.log.Files()
			if err == nil && len(files) == 0 {
				err = errors.New("the binlog has no file")
			}
			if err != nil {
				return refuse(mysql.ER_MASTER_FATAL_ERROR_READING_BINLOG, fmt.Errorf("mysqlsource: the binlog's first file: %w", err))
			}
			start = semisync.FilePos(files[0], start.Offset())
		}
		if start.Offset() < 4 {
			start = semisync.FilePos(start.File(), 4)
		}
		var fde []byte
		if start.Offset() > 4 {
			if fde, err = s.log.FormatDescription(start.File()); err != nil {
				return refuse(mysql.ER_MASTER_FATAL_ERROR_READING_BINLOG, fmt.Errorf("mysqlsource: the format description of %s: %w", start.File(), err))
			}
			fde = startedLater(fde, s.o.Checksum)
		}
		if cur, err = s.log.Open(start); err != nil {
			return refuse(mysql.ER_MASTER_FATAL_ERROR_READING_BINLOG, fmt.Errorf("mysqlsource: opening the binlog at %v: %w", start, err))
		}
		pre = append(pre, dump.Event{Data: AppendRotate(nil, h, start.File(), start.Offset(), rotateSum), End: start, Artificial: true})
		if fde != nil {
			pre = append(pre, dump.Event{Data: fde, End: start, Artificial: true})
		}
	}
	defer cur.Close()
	// A replica with this server id that is still dumping is a zombie of
	// this one (it reconnected before the old connection was seen to
	// die): MySQL kills its dump thread, and so do we.
	s.mu.Lock()
	for _, o := range s.sessions {
		if o != ss && o.dumping && o.dumpID == r.serverID {
			o.raw.Close()
		}
	}
	ss.dumping, ss.dumpID = true, r.serverID
	s.mu.Unlock()
	// Registered only once the binlog holds the start: the source takes
	// it as an acknowledgement.
	id := semisync.ReplicaID(r.serverID)
	var sess *source.Session
	if wire.DeclaredSemisync(s.src.Vars().Flavor(), func(name string) (string, bool) { v, ok := ss.userVars[name]; return v, ok }) {
		if sess, err = s.src.Register(id, start); err != nil {
			code := uint16(mysql.ER_MASTER_FATAL_ERROR_READING_BINLOG) // a start beyond the binlog's end
			if errors.Is(err, source.ErrClosed) {
				code = mysql.ER_SERVER_SHUTDOWN // the replica retries
			}
			return refuse(code, fmt.Errorf("mysqlsource: registering replica %v: %w", id, err))
		}
		defer sess.Close()
	}
	period := s.o.HeartbeatPeriod
	if ns, err := strconv.ParseInt(cmp.Or(ss.userVars["master_heartbeat_period"], ss.userVars["source_heartbeat_period"]), 10, 64); err == nil && ns > 0 {
		period = min(max(time.Duration(ns), minHeartbeatPeriod), maxHeartbeatPeriod)
	}
	s.mu.Lock()
	s.dumps++
	s.mu.Unlock()
	netConn := ss.c.Conn.Conn // TLS, if the replica asked for it
	if op, ok := netConn.(*onePacket); ok {
		netConn = op.Conn // between two packets: nothing held back
	}
	res, err := dump.Run(dump.Conn{Conn: netConn, Raw: ss.raw, Reader: bufio.NewReader(netConn),
		Cursor: &prefixed{pre: pre, Cursor: cur, skipAnnotate: r.flags&DumpSendAnnotateRows == 0, checksum: s.o.Checksum, h: h},
		Start:  start, Session: sess, Framer: Framer{ServerID: s.o.ServerID, Checksum: s.o.Checksum}, Seq: 1, Done: s.done},
		dump.Options{HeartbeatPeriod: period, PeerTimeout: s.o.PeerTimeout, WriteTimeout: s.o.WriteTimeout}, &s.dc)
	if res.Quit {
		return nil
	}
	if err == nil && res.ReadErr != nil && !errors.Is(res.ReadErr, net.ErrClosed) {
		return res.ReadErr
	}
	return err
}

// prefixed is a cursor that returns pre's events first, and leaves out
// MariaDB's Annotate_rows events for a replica that did not ask for them,
// as MariaDB's source does. When the binlog goes on in another file
// without a rotate at the end of the previous one (the server crashed
// there), it sends a made-up rotate to the new file first, as MySQL's and
// MariaDB's sources do when their dump moves to the next file.
type prefixed struct {
	pre []dump.Event
	dump.Cursor
	skipAnnotate bool
	checksum     bool   // the binlog's events end in a CRC32
	h            Header // for the made-up rotate
	file         string // the file the replica knows it is in
	held         *dump.Event
}

// typeAnnotateRows is MariaDB's ANNOTATE_ROWS_EVENT.
const typeAnnotateRows = 160

func (p *prefixed) Next() (dump.Event, bool, error) {
	if len(p.pre) > 0 {
		ev := p.pre[0]
		p.pre = p.pre[1:]
		if ev.Data[4] == TypeRotate {
			p.file = ev.End.File()
		}
		return ev, true, nil
	}
	if p.held != nil {
		ev := *p.held
		p.held = nil
		return ev, true, nil
	}
	for {
		ev, ok, err := p.Cursor.Next()
		if ok && p.skipAnnotate && len(ev.Data) > 4 && ev.Data[4] == typeAnnotateRows {
			continue
		}
		if !ok || err != nil {
			return ev, ok, err
		}
		rotate := len(ev.Data) > 4 && ev.Data[4] == TypeRotate
		if min := HeaderLen + 8 + 1; rotate && (len(ev.Data) >= min+ChecksumLen || !p.checksum && len(ev.Data) >= min) {
			// The binlog goes on in another file: from here on, the
			// replica's position (and a heartbeat's) is there.
			name := ev.Data[HeaderLen+8:]
			if p.checksum {
				name = name[:len(name)-ChecksumLen]
			}
			if len(name) > 0 && len(name) <= semisync.MaxFileNameLen {
				ev.End = semisync.FilePos(string(name), binary.LittleEndian.Uint64(ev.Data[HeaderLen:]))
				p.file = string(name)
			}
		}
		if len(ev.Data) > HeaderLen && ev.Data[4] == TypeFormatDescription && ev.Data[17]&flagInUse != 0 {
			// A file's own format description, sent as MariaDB's source
			// sends it: without LOG_EVENT_BINLOG_IN_USE_F.
			ev.Data = clearInUse(ev.Data, p.checksum)
		}
		if !rotate && p.file != "" && ev.End.File() != "" && ev.End.File() != p.file {
			// A new file with no rotate before it.
			p.file = ev.End.File()
			p.held = &ev
			return dump.Event{Data: AppendRotate(nil, p.h, p.file, 4, p.checksum), End: semisync.FilePos(p.file, 4), Artificial: true}, true, nil
		}
		return ev, true, nil
	}
}

// startedLater is a file's format description as a source sends it to a
// replica that starts after the file's first event: log_pos and the
// creation time 0 (so the replica does not take the file as new), and its
// CRC32 made again when the binlog has checksums.
func startedLater(fde []byte, checksum bool) []byte {
	ev := append([]byte(nil), fde...)
	if len(ev) < HeaderLen+2+ServerVersionLen+4+1 {
		return ev
	}
	binary.LittleEndian.PutUint32(ev[13:], 0)                           // log_pos
	binary.LittleEndian.PutUint32(ev[HeaderLen+2+ServerVersionLen:], 0) // created
	return clearInUse(ev, checksum)
}

// flagInUse is LOG_EVENT_BINLOG_IN_USE_F, set in the format description
// of a binlog file still being written; a source never sends it.
const flagInUse = 0x01

// clearInUse returns a copy of the format description fde without
// flagInUse, its CRC32 made again when the binlog has checksums.
func clearInUse(fde []byte, checksum bool) []byte {
	ev := append([]byte(nil), fde...)
	ev[17] &^= flagInUse
	if checksum && len(ev) > HeaderLen+ChecksumLen {
		binary.LittleEndian.PutUint32(ev[len(ev)-ChecksumLen:], crc32.ChecksumIEEE(ev[:len(ev)-ChecksumLen]))
	}
	return ev
}

// parseUUID parses a server UUID as MySQL writes it (32 hex digits, with
// or without dashes).
func parseUUID(s string) (sid [16]byte, ok bool) {
	b, err := hex.DecodeString(strings.ReplaceAll(s, "-", ""))
	if err != nil || len(b) != len(sid) {
		return sid, false
	}
	copy(sid[:], b)
	return sid, true
}

// onePacket is a connection whose reads never go past the end of the
// MySQL packet they are in: a reader that reads ahead holds at most the
// rest of the packet it is reading, never the next one. It refuses a
// packet longer than maxCommandLen.
type onePacket struct {
	net.Conn
	hdr  [wire.PacketHeaderLen]byte
	hdrN int // bytes of hdr not yet returned, at its end
	left int // payload bytes of the current packet not yet read
}

func (p *onePacket) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	if p.hdrN == 0 && p.left == 0 { // between packets: read the next header
		if _, err := io.ReadFull(p.Conn, p.hdr[:]); err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				err = io.EOF // a header cut short: the reader sees the end
			}
			return 0, err
		}
		p.hdrN = len(p.hdr)
		p.left = int(p.hdr[0]) | int(p.hdr[1])<<8 | int(p.hdr[2])<<16
		if p.left > maxCommandLen {
			// go-mysql would reserve the announced length before reading.
			return 0, fmt.Errorf("%w: a packet of %d bytes before the dump, at most %d", ErrMalformedCommand, p.left, maxCommandLen)
		}
	}
	if p.hdrN > 0 {
		n := copy(b, p.hdr[len(p.hdr)-p.hdrN:])
		p.hdrN -= n
		return n, nil
	}
	if len(b) > p.left {
		b = b[:p.left]
	}
	n, err := p.Conn.Read(b)
	p.left -= n
	return n, err
}
