package binlogd

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-mysql-org/go-mysql/client"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/interop/mysqlreplica"
	"github.com/semisync-go/semisync/interop/mysqlsource"
	"github.com/semisync-go/semisync/relaylog"
	"github.com/semisync-go/semisync/replica"
	"github.com/semisync-go/semisync/source"
	"github.com/semisync-go/semisync/vars"
)

// AckMode says when the server acknowledges the primary.
type AckMode int32

const (
	// Local acknowledges the primary once the server's own store has
	// fsynced the transaction (Ripple's rule).
	Local AckMode = iota
	// Chained acknowledges the primary once the server's downstream
	// replicas have acknowledged it, as many as the server's own
	// rpl_semi_sync_master_wait_for_slave_count; when the server's source
	// times out waiting for them (rpl_semi_sync_master_timeout) or is OFF,
	// it acknowledges on its own fsync (local) and says so, and it is
	// chained again once its source is back ON.
	Chained
)

// String returns local or chained.
func (m AckMode) String() string {
	if m == Chained {
		return "chained"
	}
	return "local"
}

// ParseAckMode reads local or chained (any case).
func ParseAckMode(s string) (AckMode, error) {
	switch strings.ToLower(strings.Trim(strings.TrimSpace(s), `'"`)) {
	case "local":
		return Local, nil
	case "chained":
		return Chained, nil
	}
	return 0, fmt.Errorf("binlogd: ack mode %q, want local or chained", s)
}

// AckModeVariable is the server's system variable for its AckMode, which
// SHOW VARIABLES shows and SET GLOBAL sets.
const AckModeVariable = "binlogd_ack_mode"

// Upstream is the primary the server replicates from.
type Upstream struct {
	// Addr is the primary's host:port; User and Password a replication
	// account (REPLICATION SLAVE, and BINLOG MONITOR for the first start).
	Addr, User, Password string
	// ServerID is the server's server_id towards the primary; it must be
	// unique among the primary's replicas.
	ServerID uint32
	// StartGTID is where an empty store begins: a MariaDB GTID position
	// (domain-server-seq,...), or for a MySQL primary a GTID set
	// (uuid:1-100,...), the transactions the store is to take as held.
	// Empty: the primary's current position (its gtid_binlog_pos, or
	// with GTID_MODE ON its gtid_executed; by file and position when it
	// has no GTID).
	StartGTID string
	// HeartbeatPeriod, ReadTimeout and ConnectTimeout are mysqlreplica's.
	HeartbeatPeriod, ReadTimeout, ConnectTimeout time.Duration
	// RetryInterval is the pause before reconnecting after the connection
	// ended; default 1s.
	RetryInterval time.Duration
}

// Config configures a Server.
type Config struct {
	// Dir holds the store's segment files.
	Dir   string
	Store StoreOptions
	// Upstream is the primary.
	Upstream Upstream
	// Vars holds both levels' semisync variables: the server's upstream
	// replica's (rpl_semi_sync_slave_enabled) and its downstream source's
	// (rpl_semi_sync_master_enabled, _timeout, _wait_for_slave_count, ...).
	// Its flavor is the primary's and the replicas': MariaDB, or MySQL
	// (either naming). If nil, New makes one of MariaDB's flavor with both
	// sides ON.
	Vars *vars.Registry
	// AckMode is the AckMode at start; SET GLOBAL binlogd_ack_mode
	// changes it.
	AckMode AckMode
	// Downstream is the server replicas connect to; its ServerID must
	// differ from the primary's and from Upstream.ServerID (MariaDB
	// replicas refuse a source with their own id, and skip events of
	// their own). Checksum must match the primary's binlog_checksum.
	Downstream mysqlsource.Options
	// Logger receives state changes and errors; nil discards them.
	Logger *slog.Logger
}

// Stats are a Server's figures.
type Stats struct {
	// Connected reports whether the upstream dump runs.
	Connected bool
	// Connects counts upstream connections that reached the dump;
	// LastError is why the last one ended.
	Connects  uint64
	LastError string
	// LocalAcks and ChainedAcks count ACKs to the primary by how they
	// were decided; Fallbacks counts the switches from chained to local
	// (a downstream timeout, or the server's source OFF), Reentries the
	// switches back.
	LocalAcks, ChainedAcks, Fallbacks, Reentries uint64
	// FellBack is true while a chained server acknowledges locally.
	FellBack bool
	// Upstream is the upstream stream's figures.
	Upstream replica.StreamStats
	// GTID is the store's GTID position.
	GTID  string
	Store StoreStats
}

// Server is a binlog server: a semisync replica of a primary that keeps
// its binlog (Store) and serves it to replicas as their semisync source.
type Server struct {
	cfg   Config
	log   *slog.Logger
	reg   *vars.Registry
	store *Store
	src   *source.Source
	rep   *replica.Replica
	srv   *mysqlsource.Server

	mode atomic.Int32

	mu      sync.Mutex
	stats   Stats
	started bool
	closed  bool
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// ErrConfig is wrapped by New's error for an invalid Config.
var ErrConfig = errors.New("binlogd: invalid configuration")

// New opens the store, builds the source and the replica, and checks the
// configuration. Start runs it.
func New(cfg Config) (*Server, error) {
	switch {
	case cfg.Dir == "":
		return nil, fmt.Errorf("%w: no data directory", ErrConfig)
	case cfg.Upstream.Addr == "":
		return nil, fmt.Errorf("%w: no upstream address", ErrConfig)
	case cfg.Upstream.ServerID == 0 || cfg.Downstream.ServerID == 0:
		return nil, fmt.Errorf("%w: the upstream and downstream server ids must not be 0", ErrConfig)
	case cfg.Downstream.User == "":
		return nil, fmt.Errorf("%w: no replication user for the downstream replicas", ErrConfig)
	case cfg.AckMode != Local && cfg.AckMode != Chained:
		return nil, fmt.Errorf("%w: ack mode %d", ErrConfig, cfg.AckMode)
	}
	reg := cfg.Vars
	if reg == nil {
		c := vars.Defaults(semisync.FlavorMariaDB)
		c.SourceEnabled, c.ReplicaEnabled = true, true
		var err error
		if reg, err = vars.NewRegistry(semisync.FlavorMariaDB, vars.WithConfig(c)); err != nil {
			return nil, err
		}
	}
	if cfg.Upstream.StartGTID != "" {
		var err error
		if reg.Flavor() == semisync.FlavorMariaDB {
			_, err = mysqlsource.ParseGTIDState(cfg.Upstream.StartGTID)
		} else {
			_, err = mysqlsource.ParseGTIDSet(cfg.Upstream.StartGTID)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: start GTID for flavor %v: %v", ErrConfig, reg.Flavor(), err)
		}
	}
	if reg.Flavor() != semisync.FlavorMariaDB && cfg.Downstream.GTIDMode == "" {
		// MySQL replicas connect with SOURCE_AUTO_POSITION=1.
		cfg.Downstream.GTIDMode = "ON"
	}
	lg := cfg.Logger
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, log: lg, reg: reg}
	s.mode.Store(int32(cfg.AckMode))
	var err error
	s.src, err = source.New(source.Options{Vars: reg, Observer: source.ObserverFunc(s.observe)})
	if err != nil {
		return nil, err
	}
	s.rep, err = replica.New(replica.Options{Vars: reg, Durability: replica.Synced})
	if err != nil {
		s.src.Close()
		return nil, err
	}
	so := cfg.Store
	so.Start = cfg.Upstream.StartGTID
	so.MySQL = reg.Flavor() != semisync.FlavorMariaDB
	so.OnFlush = s.src.Flushed
	if s.store, err = OpenStore(cfg.Dir, so); err != nil {
		s.src.Close()
		return nil, err
	}
	if rec := s.store.Recovery(); rec.Cut() {
		lg.Warn("binlogd: cut the store's torn tail", "recovery", rec.String())
	}
	if end := s.store.Synced(); !end.IsZero() {
		if err := s.src.Appended(end); err != nil {
			s.closeParts()
			return nil, err
		}
	}
	d := cfg.Downstream
	if d.ServerUUID == "" && reg.Flavor() != semisync.FlavorMariaDB {
		// MySQL replicas ask for it, and refuse a source with theirs.
		if d.ServerUUID, err = serverUUID(cfg.Dir); err != nil {
			s.closeParts()
			return nil, err
		}
	}
	d.Variables = s.variables
	d.Status = s.status
	d.Statement = s.statement
	if s.srv, err = mysqlsource.NewServer(s.src, s.store, d); err != nil {
		s.closeParts()
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	return s, nil
}

func (s *Server) closeParts() {
	s.src.Close()
	s.store.Close()
}

// uuidFile holds, in the data directory, the server_uuid a MySQL-flavor
// server made up at its first start (as MySQL keeps its own in auto.cnf).
const uuidFile = "server_uuid"

// serverUUID returns the server_uuid kept in dir, making one up and
// keeping it (fsynced) the first time.
func serverUUID(dir string) (string, error) {
	path := filepath.Join(dir, uuidFile)
	if b, err := os.ReadFile(path); err == nil {
		u := strings.TrimSpace(string(b))
		if set, err := mysqlsource.ParseGTIDSet(u + ":1"); err != nil || len(set) != 1 || !strings.EqualFold(mysqlsource.FormatGTIDSet(set), u+":1") {
			return "", fmt.Errorf("%w: %s holds no server UUID: %q", ErrDamaged, path, u)
		}
		return u, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	u := strings.Split(mysqlsource.FormatGTIDSet([]mysqlsource.UUIDSet{{SID: b, Intervals: []mysqlsource.Interval{{Start: 1, End: 2}}}}), ":")[0]
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return "", err
	}
	_, err = f.WriteString(u + "\n")
	if err = errors.Join(err, f.Sync(), f.Close()); err == nil {
		err = os.Rename(tmp, path)
	}
	if err = errors.Join(err, syncDir(dir)); err != nil {
		return "", fmt.Errorf("binlogd: keeping the server UUID: %w", err)
	}
	return u, nil
}

// Store returns the server's store.
func (s *Server) Store() *Store { return s.store }

// Source returns the server's downstream source.
func (s *Server) Source() *source.Source { return s.src }

// Replica returns the server's upstream replica.
func (s *Server) Replica() *replica.Replica { return s.rep }

// AckMode returns the ack mode in force.
func (s *Server) AckMode() AckMode { return AckMode(s.mode.Load()) }

// SetAckMode changes the ack mode; the next ACK follows it.
func (s *Server) SetAckMode(m AckMode) {
	if AckMode(s.mode.Swap(int32(m))) != m {
		s.log.Info("binlogd: ack mode changed", "mode", m.String())
	}
}

// Start serves downstream replicas on ln and starts replicating from the
// primary, each on a goroutine Close waits for.
func (s *Server) Start(ln net.Listener) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.started {
		return errors.New("binlogd: Start after Close, or twice")
	}
	s.started = true
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.wg.Add(3)
	go func() {
		defer s.wg.Done()
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, mysqlsource.ErrServerClosed) {
			s.log.Error("binlogd: serving replicas", "err", err)
		}
	}()
	go func() {
		defer s.wg.Done()
		s.upstream(ctx)
	}()
	go func() {
		defer s.wg.Done()
		s.purger(ctx)
	}()
	return nil
}

// Close stops replicating and serving, and closes the store. It is
// idempotent and waits for the goroutines Start began.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	cancel := s.cancel
	s.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	err := s.srv.Close()
	s.src.Close() // releases a chained ACK's wait
	s.wg.Wait()
	return errors.Join(err, s.store.Close())
}

// upstream replicates from the primary until ctx ends, reconnecting.
func (s *Server) upstream(ctx context.Context) {
	u := s.cfg.Upstream
	retry := u.RetryInterval
	if retry <= 0 {
		retry = time.Second
	}
	for ctx.Err() == nil {
		if err := s.store.Err(); errors.Is(err, relaylog.ErrFailed) {
			// A failed fsync: what the segment holds is unknown until it
			// is checked again, which a restart does (OpenStore).
			s.mu.Lock()
			s.stats.LastError = err.Error()
			s.mu.Unlock()
			s.log.Error("binlogd: the store failed; replication stopped until the server restarts", "err", err)
			return
		}
		err := s.connect(ctx)
		s.mu.Lock()
		s.stats.Connected = false
		if err != nil {
			s.stats.LastError = err.Error()
		}
		s.mu.Unlock()
		if ctx.Err() != nil {
			return
		}
		s.log.Warn("binlogd: upstream connection ended", "err", err)
		t := time.NewTimer(retry)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// connect runs one upstream connection.
func (s *Server) connect(ctx context.Context) error {
	u := s.cfg.Upstream
	cfg := mysqlreplica.Config{Addr: u.Addr, User: u.User, Password: u.Password, ServerID: u.ServerID,
		Replica: s.rep, Relay: s.store, HeartbeatPeriod: u.HeartbeatPeriod, ReadTimeout: u.ReadTimeout,
		ConnectTimeout: u.ConnectTimeout,
		// Asked just before the dump: the connection is up.
		GTID: func() (string, error) {
			s.noteConnected()
			g, err := s.store.GTID()
			if g != "" {
				s.log.Info("binlogd: dump from the primary by GTID", "gtid", g)
			} else if err == nil {
				s.log.Info("binlogd: dump from the primary by file and position", "pos", s.store.Last().String())
			}
			return g, err
		},
		BeforeAck: func(pos semisync.Position) { s.beforeAck(ctx, pos) },
		OnAck:     func(semisync.Position) { s.noteConnected() }}
	if s.store.Last().IsZero() && u.StartGTID == "" {
		// An empty store begins at the primary's current position and
		// the GTID position there: by GTID when that names a
		// transaction, else by file and position from exactly there.
		start, pos, known, err := s.primaryStart(ctx)
		if err != nil {
			return err
		}
		s.store.seed(pos, known)
		cfg.Start = start
	}
	res, err := mysqlreplica.Replicate(ctx, cfg)
	s.mu.Lock()
	s.stats.Upstream = res.Stats
	s.mu.Unlock()
	return err
}

// noteConnected marks the upstream dump running.
func (s *Server) noteConnected() {
	s.mu.Lock()
	if !s.stats.Connected {
		s.stats.Connected = true
		s.stats.Connects++
	}
	s.mu.Unlock()
}

// primaryStart asks the primary where an empty store begins: its
// binlog's end (SHOW MASTER STATUS) and the GTID position there, such that
// no commit falls between them. MariaDB's is BINLOG_GTID_POS of that end;
// a source that cannot say (a binlog server answers NULL) gives its
// current GTID position instead, and the dump is then by GTID from it,
// skipping nothing. A MySQL primary with GTID_MODE ON and transactions
// gives its Executed_Gtid_Set, and the dump is by that set; otherwise the
// store begins at the start of the primary's current file with its set
// not known (known false) until that file's previous GTIDs.
func (s *Server) primaryStart(ctx context.Context) (start semisync.Position, pos gtidPos, known bool, err error) {
	u := s.cfg.Upstream
	timeout := u.ConnectTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	d := &net.Dialer{}
	c, err := client.ConnectWithDialer(cctx, "tcp", u.Addr, u.User, u.Password, "", d.DialContext)
	if err != nil {
		return start, pos, false, fmt.Errorf("binlogd: connecting to the primary %s: %w", u.Addr, err)
	}
	defer c.Close()
	// query returns the only row of q's answer, NULL as null.
	query := func(q string) (row []string, null []bool, err error) {
		r, err := c.Execute(q)
		if err != nil {
			return nil, nil, fmt.Errorf("binlogd: asking the primary %s: %w", q, err)
		}
		defer r.Close()
		if r.Resultset == nil || r.RowNumber() != 1 {
			return nil, nil, fmt.Errorf("binlogd: asking the primary %s: not one row", q)
		}
		for j := range r.ColumnNumber() {
			v, err := r.GetString(0, j)
			isNull, err2 := r.IsNull(0, j)
			if err = errors.Join(err, err2); err != nil {
				return nil, nil, fmt.Errorf("binlogd: asking the primary %s: %w", q, err)
			}
			row, null = append(row, v), append(null, isNull)
		}
		return row, null, nil
	}
	row, _, err := query("SHOW MASTER STATUS")
	if err != nil {
		var err2 error
		if row, _, err2 = query("SHOW BINARY LOG STATUS"); err2 != nil { // MySQL 8.4
			return start, pos, false, errors.Join(err, err2)
		}
	}
	if len(row) < 2 {
		return start, pos, false, errors.New("binlogd: the primary's SHOW MASTER STATUS has no position")
	}
	file := row[0]
	off, err := strconv.ParseUint(row[1], 10, 64)
	if err != nil || file == "" || strings.ContainsAny(file, "'\\") {
		return start, pos, false, fmt.Errorf("binlogd: the primary's binlog position %q:%q", file, row[1])
	}
	start = semisync.FilePos(file, off)
	if s.reg.Flavor() != semisync.FlavorMariaDB {
		mode, _, err := query("SELECT @@GLOBAL.gtid_mode")
		if err == nil && len(mode) == 1 && strings.EqualFold(mode[0], "ON") && len(row) >= 5 {
			set, err := mysqlsource.ParseGTIDSet(row[4])
			if err != nil {
				return start, pos, false, fmt.Errorf("binlogd: the primary's Executed_Gtid_Set: %w", err)
			}
			if len(set) > 0 {
				// By GTID set: the dump sends whatever the set lacks, so
				// it need not be read together with the position.
				return start, gtidPos{mysql: set}, true, nil
			}
		}
		// By file and position. MySQL's SHOW MASTER STATUS does not read
		// its Executed_Gtid_Set together with its position (a transaction
		// joins the set after its events are in the binlog): start where
		// the file does, whose previous GTIDs are the set before it.
		return semisync.FilePos(file, 4), gtidPos{}, false, nil
	}
	at, null, err := query("SELECT BINLOG_GTID_POS('" + file + "', " + strconv.FormatUint(off, 10) + ")")
	if err == nil && len(at) == 1 && !null[0] {
		pos, err = parseGTIDPos(at[0])
		return start, pos, true, err
	}
	cur, _, err := query("SELECT @@GLOBAL.gtid_binlog_pos")
	if err != nil || len(cur) != 1 {
		return start, pos, false, errors.Join(err, errors.New("binlogd: the primary's GTID position: no answer"))
	}
	pos, err = parseGTIDPos(cur[0])
	return start, pos, true, err
}

// beforeAck decides when the ACK for pos goes to the primary: at once in
// local mode; in chained mode when the server's source has it
// acknowledged by its replicas, or gave up waiting (timed out, or OFF):
// then the ACK is local, and said so.
func (s *Server) beforeAck(ctx context.Context, pos semisync.Position) {
	if s.AckMode() != Chained {
		s.mu.Lock()
		s.stats.LocalAcks++
		s.mu.Unlock()
		return
	}
	r, err := s.src.Wait(ctx, pos)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil && r.Acknowledged() {
		s.stats.ChainedAcks++
		if s.stats.FellBack {
			s.stats.FellBack = false
			s.stats.Reentries++
			s.log.Info("binlogd: chained acknowledgement resumed: the downstream replicas acknowledged", "pos", pos.String())
		}
		return
	}
	s.stats.LocalAcks++
	if !s.stats.FellBack && ctx.Err() == nil {
		s.stats.FellBack = true
		s.stats.Fallbacks++
		s.log.Warn("binlogd: chained acknowledgement fell back to local: the downstream replicas did not acknowledge", "pos", pos.String(), "outcome", r.String())
	}
}

// observe logs the source's state changes, as MariaDB's error log does.
func (s *Server) observe(e source.Event) {
	switch e.Kind {
	case source.EventSwitchedOff:
		s.log.Warn("binlogd: Semi-sync replication switched OFF towards the replicas", "event", e.String())
	case source.EventSwitchedOn:
		s.log.Info("binlogd: Semi-sync replication switched ON towards the replicas", "event", e.String())
	}
}

// purger applies the store's retention once a second.
func (s *Server) purger(ctx context.Context) {
	if s.cfg.Store.RetainBytes <= 0 && s.cfg.Store.RetainAge <= 0 {
		return
	}
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if n, err := s.store.Purge(now); err != nil {
				s.log.Error("binlogd: purging segments", "err", err)
			} else if n > 0 {
				s.log.Info("binlogd: purged segments", "count", n)
			}
		}
	}
}

// Stats returns the server's figures.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	st := s.stats
	s.mu.Unlock()
	st.GTID, _ = s.store.GTID()
	st.Store = s.store.Stats()
	return st
}

// variables are the server's own variables for SHOW VARIABLES (the
// registry's, both levels', the source server shows itself).
func (s *Server) variables(pattern string) []semisync.Row {
	return like(pattern, []semisync.Row{
		{Name: AckModeVariable, Value: s.AckMode().String()},
		{Name: "binlogd_upstream", Value: s.cfg.Upstream.Addr},
	})
}

// status is the upstream replica's status and the server's own, for SHOW
// STATUS.
func (s *Server) status(pattern string) []semisync.Row {
	st := s.Stats()
	rows := like(pattern, []semisync.Row{
		{Name: "Binlogd_ack_mode", Value: s.effectiveMode(st)},
		{Name: "Binlogd_chained_acks", Value: strconv.FormatUint(st.ChainedAcks, 10)},
		{Name: "Binlogd_local_acks", Value: strconv.FormatUint(st.LocalAcks, 10)},
		{Name: "Binlogd_chained_fallbacks", Value: strconv.FormatUint(st.Fallbacks, 10)},
		{Name: "Binlogd_chained_reentries", Value: strconv.FormatUint(st.Reentries, 10)},
		{Name: "Binlogd_upstream_connected", Value: onOff(st.Connected)},
		{Name: "Binlogd_gtid_pos", Value: st.GTID},
		{Name: "Binlogd_segments", Value: strconv.Itoa(st.Store.Segments)},
		{Name: "Binlogd_store_bytes", Value: strconv.FormatInt(st.Store.Bytes, 10)},
		{Name: "Binlogd_purged_segments", Value: strconv.FormatUint(st.Store.Purged, 10)},
	})
	return append(rows, s.rep.Show(pattern)...)
}

// effectiveMode is the mode the last ACK followed.
func (s *Server) effectiveMode(st Stats) string {
	if s.AckMode() == Chained && st.FellBack {
		return "local (chained fell back)"
	}
	return s.AckMode().String()
}

func like(pattern string, rows []semisync.Row) []semisync.Row {
	var out []semisync.Row
	for _, r := range rows {
		if semisync.Like(r.Name, pattern) {
			out = append(out, r)
		}
	}
	return out
}

func onOff(b bool) string {
	if b {
		return "ON"
	}
	return "OFF"
}

// statement answers the server's own statements: SET GLOBAL
// binlogd_ack_mode, SHOW SLAVE STATUS (the upstream connection), SHOW
// SEMISYNC REPLICAS (the downstream ledger).
func (s *Server) statement(stmt string, admin bool) ([]string, [][]string, bool, error) {
	stmt = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(stmt), ";"))
	if m := reSetMode.FindStringSubmatch(stmt); m != nil {
		if !admin {
			return nil, nil, true, mysqlsource.ErrAdminOnly
		}
		mode, err := ParseAckMode(m[1])
		if err != nil {
			return nil, nil, true, &vars.Error{Kind: vars.ErrWrongValue, Var: AckModeVariable, Value: m[1], Code: 1231, Detail: err.Error()}
		}
		s.SetAckMode(mode)
		return nil, nil, true, nil
	}
	switch {
	case reGTIDExecuted.MatchString(stmt) && strings.EqualFold(reGTIDExecuted.FindStringSubmatch(stmt)[1], "gtid_executed") == (s.reg.Flavor() != semisync.FlavorMariaDB):
		// A binlog server behind this one asks where the store is, by
		// GTID, before its first dump.
		g, err := s.store.GTID()
		name := stmt[strings.Index(stmt, "@"):]
		return []string{name}, [][]string{{g}}, true, err
	case reMasterStatus.MatchString(stmt) && s.reg.Flavor() != semisync.FlavorMariaDB:
		// With the GTID set at that position, as MySQL shows it: what a
		// binlog server behind this one begins from.
		end, gtid := s.store.boundary()
		cols := []string{"File", "Position", "Binlog_Do_DB", "Binlog_Ignore_DB", "Executed_Gtid_Set"}
		if end.IsZero() {
			return cols, nil, true, nil
		}
		return cols, [][]string{{end.File(), strconv.FormatUint(end.Offset(), 10), "", "", gtid}}, true, nil
	case reSlaveStatus.MatchString(stmt):
		cols, row := s.slaveStatus()
		return cols, [][]string{row}, true, nil
	case reSemisyncReplicas.MatchString(stmt):
		cols := []string{"Server_id", "Connected", "Sessions", "Acked_file", "Acked_pos", "Acks", "Stale_acks", "Last_ack"}
		var rows [][]string
		for _, r := range s.src.Snapshot().Replicas {
			last := ""
			if !r.LastAck.IsZero() {
				last = r.LastAck.UTC().Format(time.RFC3339Nano)
			}
			rows = append(rows, []string{strconv.FormatUint(uint64(r.ID), 10), onOff(r.Connected), strconv.FormatUint(r.Sessions, 10),
				r.Acked.File(), strconv.FormatUint(r.Acked.Offset(), 10), strconv.FormatUint(r.Acks, 10), strconv.FormatUint(r.StaleAcks, 10), last})
		}
		return cols, rows, true, nil
	}
	return nil, nil, false, nil
}

// slaveStatus is SHOW SLAVE STATUS's columns an operator reads most.
func (s *Server) slaveStatus() ([]string, []string) {
	st := s.Stats()
	host, port, _ := net.SplitHostPort(s.cfg.Upstream.Addr)
	state := "Reconnecting after a failed master event read"
	if st.Connected {
		state = "Waiting for master to send event"
	}
	cols := []string{"Slave_IO_State", "Master_Host", "Master_User", "Master_Port", "Master_Log_File", "Read_Master_Log_Pos",
		"Slave_IO_Running", "Last_IO_Error", "Using_Gtid", "Gtid_IO_Pos", "Rpl_semi_sync_slave_status", "Binlogd_ack_mode"}
	semi := "OFF"
	// Rpl_semi_sync_slave_status or Rpl_semi_sync_replica_status, by flavor.
	if rows := s.rep.Show("Rpl_semi_sync_%_status"); len(rows) == 1 {
		semi = rows[0].Value
	}
	using := "Slave_Pos" // MariaDB's MASTER_USE_GTID
	switch {
	case st.GTID == "":
		using = "No"
	case s.reg.Flavor() != semisync.FlavorMariaDB:
		using = "Auto_Position" // MySQL's SOURCE_AUTO_POSITION=1
	}
	running := "Connecting"
	if st.Connected {
		running = "Yes"
	}
	w := st.Upstream.Durable
	if w.IsZero() {
		w = s.store.Synced()
	}
	return cols, []string{state, host, s.cfg.Upstream.User, port, w.File(), strconv.FormatUint(w.Offset(), 10),
		running, st.LastError, using, st.GTID, semi, s.effectiveMode(st)}
}

// The server's own statements.
var (
	reSetMode          = regexp.MustCompile(`(?is)^SET\s+(?:GLOBAL\s+|@@GLOBAL\.)` + AckModeVariable + `\s*=\s*(\S+)$`)
	reSlaveStatus      = regexp.MustCompile(`(?is)^SHOW\s+(?:SLAVE|REPLICA)\s+STATUS$`)
	reSemisyncReplicas = regexp.MustCompile(`(?is)^SHOW\s+SEMISYNC\s+REPLICAS$`)
	reMasterStatus     = regexp.MustCompile(`(?is)^SHOW\s+(?:MASTER\s+STATUS|BINARY\s+LOG\s+STATUS)$`)
	reGTIDExecuted     = regexp.MustCompile(`(?is)^SELECT\s+@@(?:GLOBAL\.)?(gtid_executed|gtid_binlog_pos|gtid_current_pos)$`)
)
