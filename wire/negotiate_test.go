package wire_test

import (
	"context"
	"errors"
	"io"
	"maps"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/wire"
)

// The statements real replicas send (spec §8.1; mariadb-on-loopback §5a,
// §6a).
const (
	selSource     = "SELECT @@global.rpl_semi_sync_source_enabled"
	selMaster     = "SELECT @@global.rpl_semi_sync_master_enabled"
	showMaster    = "SHOW VARIABLES LIKE 'rpl_semi_sync_master_enabled'"
	declareMySQL  = "SET @rpl_semi_sync_replica = 1, @rpl_semi_sync_slave = 1"
	declareSlave  = "SET @rpl_semi_sync_slave = 1"
	goMySQLProbe  = "SHOW VARIABLES WHERE Variable_name IN ('rpl_semi_sync_master_enabled', 'rpl_semi_sync_source_enabled')"
	goMySQLDecl   = "SET @rpl_semi_sync_slave = 1, @rpl_semi_sync_replica = 1;"
	masterEnabled = "rpl_semi_sync_master_enabled"
	sourceEnabled = "rpl_semi_sync_source_enabled"
)

// reply is a fake server's answer to one statement.
type reply struct {
	rows [][]string
	err  error
}

// fakeQuerier answers statements from a table and records those it was
// sent. Like a real client, it sends nothing once ctx is done. A statement
// missing from the table is a syntax error.
type fakeQuerier struct {
	replies  map[string]reply
	sent     []string
	cancelOn string // cancel the context while this statement runs
	cancel   context.CancelFunc
}

func (q *fakeQuerier) Query(ctx context.Context, stmt string) ([][]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	q.sent = append(q.sent, stmt)
	if stmt == q.cancelOn {
		q.cancel()
		return nil, ctx.Err()
	}
	r, ok := q.replies[stmt]
	if !ok {
		return nil, &wire.ServerError{Code: 1064, Message: "fake: unexpected statement"}
	}
	return r.rows, r.err
}

var errUnknownVar = &wire.ServerError{Code: wire.ErUnknownSystemVariable, Message: "Unknown system variable"}

var okReply = reply{}

// Sources as replies to every probe and declaration.
func newNamesSource() map[string]reply {
	return map[string]reply{
		selSource: {rows: [][]string{{"1"}}}, selMaster: {err: errUnknownVar}, showMaster: {},
		declareMySQL: okReply, declareSlave: okReply,
	}
}

func oldNamesSource() map[string]reply {
	return map[string]reply{
		selSource: {err: errUnknownVar}, selMaster: {rows: [][]string{{"1"}}},
		showMaster:   {rows: [][]string{{masterEnabled, "ON"}}},
		declareMySQL: okReply, declareSlave: okReply,
	}
}

func noSemisyncSource() map[string]reply {
	return map[string]reply{selSource: {err: errUnknownVar}, selMaster: {err: errUnknownVar}, showMaster: {}}
}

// with returns a copy of replies with stmt answered by r.
func with(replies map[string]reply, stmt string, r reply) map[string]reply {
	c := maps.Clone(replies)
	c[stmt] = r
	return c
}

func TestNegotiate(t *testing.T) {
	errDenied := &wire.ServerError{Code: 1227, Message: "Access denied"}
	errRead := io.ErrUnexpectedEOF
	const before = "-" // cancelOn: the context is cancelled before Negotiate
	cases := []struct {
		name     string
		flavor   semisync.Flavor
		replies  map[string]reply
		cancelOn string
		sent     []string
		want     wire.Negotiation // Reason: a substring the reason must contain
		errStmt  string           // the *NegotiationError's statement, when one is expected
		errIs    error
	}{
		// MySQL 8.0.26+: source name, then master name.
		{name: "mysql/new names", flavor: semisync.FlavorMySQL, replies: newNamesSource(),
			sent: []string{selSource, declareMySQL}, want: wire.Negotiation{Semisync: true, Variable: sourceEnabled, SourceEnabled: "1"}},
		{name: "mysql/old names", flavor: semisync.FlavorMySQL, replies: oldNamesSource(),
			sent: []string{selSource, selMaster, declareMySQL}, want: wire.Negotiation{Semisync: true, Variable: masterEnabled, SourceEnabled: "1"}},
		{name: "mysql/no semisync", flavor: semisync.FlavorMySQL, replies: noSemisyncSource(),
			sent: []string{selSource, selMaster}, want: wire.Negotiation{Reason: "no semisync variable"}},
		{name: "mysql/other server error", flavor: semisync.FlavorMySQL, replies: with(newNamesSource(), selSource, reply{err: errDenied}),
			sent: []string{selSource}, errStmt: selSource, errIs: errDenied},
		{name: "mysql/read error", flavor: semisync.FlavorMySQL, replies: with(newNamesSource(), selSource, reply{err: errRead}),
			sent: []string{selSource}, errStmt: selSource, errIs: errRead},
		{name: "mysql/error on the fallback probe", flavor: semisync.FlavorMySQL, replies: with(oldNamesSource(), selMaster, reply{err: errDenied}),
			sent: []string{selSource, selMaster}, errStmt: selMaster, errIs: errDenied},
		{name: "mysql/empty select result", flavor: semisync.FlavorMySQL, replies: with(newNamesSource(), selSource, reply{}),
			sent: []string{selSource}, errStmt: selSource},
		{name: "mysql/declare fails", flavor: semisync.FlavorMySQL, replies: with(newNamesSource(), declareMySQL, reply{err: errDenied}),
			sent: []string{selSource, declareMySQL}, errStmt: declareMySQL, errIs: errDenied},
		{name: "mysql/source disabled", flavor: semisync.FlavorMySQL, replies: with(newNamesSource(), selSource, reply{rows: [][]string{{"0"}}}),
			sent: []string{selSource, declareMySQL}, want: wire.Negotiation{Semisync: true, Variable: sourceEnabled, SourceEnabled: "0"}},
		{name: "mysql/cancelled", flavor: semisync.FlavorMySQL, replies: newNamesSource(), cancelOn: before,
			sent: nil, errStmt: selSource, errIs: context.Canceled},
		{name: "mysql/cancelled while declaring", flavor: semisync.FlavorMySQL, replies: newNamesSource(), cancelOn: declareMySQL,
			sent: []string{selSource, declareMySQL}, errStmt: declareMySQL, errIs: context.Canceled},

		// MySQL before 8.0.26: master name only.
		{name: "legacy/new names", flavor: semisync.FlavorMySQLLegacy, replies: newNamesSource(),
			sent: []string{selMaster}, want: wire.Negotiation{Reason: "no semisync variable"}},
		{name: "legacy/old names", flavor: semisync.FlavorMySQLLegacy, replies: oldNamesSource(),
			sent: []string{selMaster, declareSlave}, want: wire.Negotiation{Semisync: true, Variable: masterEnabled, SourceEnabled: "1"}},
		{name: "legacy/no semisync", flavor: semisync.FlavorMySQLLegacy, replies: noSemisyncSource(),
			sent: []string{selMaster}, want: wire.Negotiation{Reason: "no semisync variable"}},
		{name: "legacy/other error", flavor: semisync.FlavorMySQLLegacy, replies: with(oldNamesSource(), selMaster, reply{err: errDenied}),
			sent: []string{selMaster}, errStmt: selMaster, errIs: errDenied},
		{name: "legacy/declare fails", flavor: semisync.FlavorMySQLLegacy, replies: with(oldNamesSource(), declareSlave, reply{err: errRead}),
			sent: []string{selMaster, declareSlave}, errStmt: declareSlave, errIs: errRead},
		{name: "legacy/source disabled", flavor: semisync.FlavorMySQLLegacy, replies: with(oldNamesSource(), selMaster, reply{rows: [][]string{{"0"}}}),
			sent: []string{selMaster, declareSlave}, want: wire.Negotiation{Semisync: true, Variable: masterEnabled, SourceEnabled: "0"}},
		{name: "legacy/cancelled", flavor: semisync.FlavorMySQLLegacy, replies: oldNamesSource(), cancelOn: before,
			sent: nil, errStmt: selMaster, errIs: context.Canceled},

		// MariaDB: SHOW VARIABLES LIKE; errors mean asynchronous (§6a rows 10, 11).
		{name: "mariadb/new names", flavor: semisync.FlavorMariaDB, replies: newNamesSource(),
			sent: []string{showMaster}, want: wire.Negotiation{Variable: masterEnabled, Reason: "does not support semisync"}},
		{name: "mariadb/old names", flavor: semisync.FlavorMariaDB, replies: oldNamesSource(),
			sent: []string{showMaster, declareSlave}, want: wire.Negotiation{Semisync: true, Variable: masterEnabled, SourceEnabled: "ON"}},
		{name: "mariadb/no semisync", flavor: semisync.FlavorMariaDB, replies: noSemisyncSource(),
			sent: []string{showMaster}, want: wire.Negotiation{Variable: masterEnabled, Reason: "does not support semisync"}},
		{name: "mariadb/other error", flavor: semisync.FlavorMariaDB, replies: with(oldNamesSource(), showMaster, reply{err: errDenied}),
			sent: []string{showMaster}, want: wire.Negotiation{Variable: masterEnabled, Reason: "asynchronously"}},
		{name: "mariadb/declare fails", flavor: semisync.FlavorMariaDB, replies: with(oldNamesSource(), declareSlave, reply{err: errDenied}),
			sent: []string{showMaster, declareSlave}, want: wire.Negotiation{Variable: masterEnabled, SourceEnabled: "ON", Reason: "Access denied"}},
		{name: "mariadb/source disabled", flavor: semisync.FlavorMariaDB, replies: with(oldNamesSource(), showMaster, reply{rows: [][]string{{masterEnabled, "OFF"}}}),
			sent: []string{showMaster, declareSlave}, want: wire.Negotiation{Semisync: true, Variable: masterEnabled, SourceEnabled: "OFF"}},
		{name: "mariadb/cancelled", flavor: semisync.FlavorMariaDB, replies: oldNamesSource(), cancelOn: before,
			sent: nil, errStmt: showMaster, errIs: context.Canceled},
		{name: "mariadb/cancelled while declaring", flavor: semisync.FlavorMariaDB, replies: oldNamesSource(), cancelOn: declareSlave,
			sent: []string{showMaster, declareSlave}, errStmt: declareSlave, errIs: context.Canceled},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			q := &fakeQuerier{replies: tc.replies, cancelOn: tc.cancelOn, cancel: cancel}
			if tc.cancelOn == before {
				cancel()
			}
			got, err := wire.Negotiate(ctx, tc.flavor, q)
			require.Equal(t, tc.sent, q.sent)
			if tc.errStmt != "" {
				var ne *wire.NegotiationError
				require.ErrorAs(t, err, &ne)
				require.Equal(t, tc.errStmt, ne.Stmt)
				if tc.errIs != nil {
					require.ErrorIs(t, err, tc.errIs)
				}
				require.Contains(t, err.Error(), tc.errStmt)
				require.Equal(t, wire.Negotiation{}, got)
				return
			}
			require.NoError(t, err)
			require.Contains(t, got.Reason, tc.want.Reason)
			require.Equal(t, got.Semisync, got.Reason == "", "a reason exactly when not semisync")
			got.Reason = ""
			tc.want.Reason = ""
			require.Equal(t, tc.want, got)
		})
	}
}

func TestNegotiateInvalidFlavor(t *testing.T) {
	q := &fakeQuerier{replies: newNamesSource()}
	_, err := wire.Negotiate(t.Context(), semisync.Flavor(9), q)
	require.Error(t, err)
	var ne *wire.NegotiationError
	require.False(t, errors.As(err, &ne))
	require.Empty(t, q.sent)
	require.Nil(t, wire.Probes(semisync.Flavor(9)))
	require.Empty(t, wire.DeclareStatement(semisync.Flavor(9)))
}

func TestProbesAndDeclare(t *testing.T) {
	want := map[semisync.Flavor]struct {
		stmts   []string
		declare string
	}{
		semisync.FlavorMySQL:       {[]string{selSource, selMaster}, declareMySQL},
		semisync.FlavorMySQLLegacy: {[]string{selMaster}, declareSlave},
		semisync.FlavorMariaDB:     {[]string{showMaster}, declareSlave},
	}
	for _, f := range semisync.Flavors {
		var stmts []string
		for _, p := range wire.Probes(f) {
			stmts = append(stmts, p.Stmt)
			require.Contains(t, p.Stmt, p.Variable)
			require.Equal(t, strings.HasPrefix(p.Stmt, "SHOW"), p.Show)
		}
		require.Equal(t, want[f].stmts, stmts, "%v", f)
		require.Equal(t, want[f].declare, wire.DeclareStatement(f), "%v", f)
	}
}

func TestDecide(t *testing.T) {
	sel := wire.Probes(semisync.FlavorMySQL)[0]
	show := wire.Probes(semisync.FlavorMariaDB)[0]
	wrapped := &wire.NegotiationError{Stmt: "x", Err: errUnknownVar}
	cases := []struct {
		name  string
		probe wire.Probe
		rows  [][]string
		err   error
		want  wire.Verdict
		value string
	}{
		{"select row", sel, [][]string{{"1"}}, nil, wire.Supported, "1"},
		{"select row disabled", sel, [][]string{{"0"}}, nil, wire.Supported, "0"},
		{"select unknown variable", sel, nil, errUnknownVar, wire.TryNext, ""},
		{"select unknown variable wrapped", sel, nil, wrapped, wire.TryNext, ""},
		{"select other server error", sel, nil, &wire.ServerError{Code: 1227}, wire.Failed, ""},
		{"select client error", sel, nil, io.EOF, wire.Failed, ""},
		{"select no row", sel, nil, nil, wire.Failed, ""},
		{"select empty row", sel, [][]string{{}}, nil, wire.Failed, ""},
		{"show row", show, [][]string{{masterEnabled, "ON"}}, nil, wire.Supported, "ON"},
		{"show row off", show, [][]string{{masterEnabled, "OFF"}}, nil, wire.Supported, "OFF"},
		{"show no row", show, nil, nil, wire.Unsupported, ""},
		{"show error", show, nil, &wire.ServerError{Code: 1227}, wire.Unsupported, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v, value := tc.probe.Decide(tc.rows, tc.err)
			require.Equal(t, tc.want, v)
			require.Equal(t, tc.value, value)
		})
	}
	require.Equal(t, []string{"try-next", "supported", "unsupported", "failed", "Verdict(7)"},
		[]string{wire.TryNext.String(), wire.Supported.String(), wire.Unsupported.String(), wire.Failed.String(), wire.Verdict(7).String()})
	require.Equal(t, "server error 1193: Unknown system variable", errUnknownVar.Error())
}

// probeSource is a Querier backed by AnswerProbe: a source of one flavor
// that answers probes and records SET statements of user variables, as a
// host built on this package would.
type probeSource struct {
	flavor  semisync.Flavor
	enabled bool
	vars    map[string]string
}

func (s *probeSource) Query(_ context.Context, stmt string) ([][]string, error) {
	if ans, ok := wire.AnswerProbe(s.flavor, stmt, s.enabled); ok {
		if ans.Err != nil {
			return nil, ans.Err
		}
		return ans.Rows, nil
	}
	vars, err := wire.ParseSetUserVars(stmt)
	if err != nil {
		return nil, &wire.ServerError{Code: 1064, Message: err.Error()}
	}
	for _, v := range vars {
		s.vars[v.Name] = v.Value
	}
	return nil, nil
}

func (s *probeSource) userVar(name string) (string, bool) {
	v, ok := s.vars[name]
	return v, ok
}

// TestAnswerProbeNegotiate runs every replica flavor's negotiation against
// every source flavor answered by AnswerProbe, then checks the declaration
// as the source would when the dump starts.
func TestAnswerProbeNegotiate(t *testing.T) {
	type outcome struct {
		variable string // "" when the replica falls back to asynchronous
		values   [2]string
	}
	selectValues, showValues := [2]string{"0", "1"}, [2]string{"OFF", "ON"}
	// want[source][replica]
	want := map[semisync.Flavor]map[semisync.Flavor]outcome{
		semisync.FlavorMySQL: {
			semisync.FlavorMySQL: {sourceEnabled, selectValues},
			// A MySQL 8.0.26+ source has no master name: a legacy replica
			// gets unknown-variable and a MariaDB one no row, so both
			// replicate asynchronously, as against the real server.
			semisync.FlavorMySQLLegacy: {},
			semisync.FlavorMariaDB:     {},
		},
		semisync.FlavorMySQLLegacy: {
			// The MySQL replica falls back to the master name.
			semisync.FlavorMySQL:       {masterEnabled, selectValues},
			semisync.FlavorMySQLLegacy: {masterEnabled, selectValues},
			semisync.FlavorMariaDB:     {masterEnabled, showValues},
		},
		semisync.FlavorMariaDB: {
			semisync.FlavorMySQL:       {masterEnabled, selectValues},
			semisync.FlavorMySQLLegacy: {masterEnabled, selectValues},
			semisync.FlavorMariaDB:     {masterEnabled, showValues},
		},
	}
	for _, sf := range semisync.Flavors {
		for _, rf := range semisync.Flavors {
			for _, enabled := range []bool{false, true} {
				w := want[sf][rf]
				src := &probeSource{flavor: sf, enabled: enabled, vars: map[string]string{}}
				n, err := wire.Negotiate(t.Context(), rf, src)
				require.NoError(t, err, "source %v, replica %v", sf, rf)
				require.Equal(t, w.variable != "", n.Semisync, "source %v, replica %v", sf, rf)
				require.Equal(t, n.Semisync, wire.DeclaredSemisync(sf, src.userVar), "source %v, replica %v", sf, rf)
				if n.Semisync {
					require.Equal(t, w.variable, n.Variable)
					idx := 0
					if enabled {
						idx = 1
					}
					require.Equal(t, w.values[idx], n.SourceEnabled, "source %v, replica %v, enabled %v", sf, rf, enabled)
				} else {
					require.Empty(t, src.vars, "no declaration without semisync")
				}
			}
		}
	}
}

// TestAnswerProbeGoMySQL: go-mysql v1.16 asks with one SHOW ... IN and
// requires the value ON in row 0, column 1 (mariadb-on-loopback §5a).
func TestAnswerProbeGoMySQL(t *testing.T) {
	for _, sf := range semisync.Flavors {
		name := masterEnabled
		if sf == semisync.FlavorMySQL {
			name = sourceEnabled
		}
		for _, enabled := range []bool{false, true} {
			ans, ok := wire.AnswerProbe(sf, goMySQLProbe, enabled)
			require.True(t, ok)
			require.Nil(t, ans.Err)
			require.Equal(t, []string{"Variable_name", "Value"}, ans.Columns)
			require.Len(t, ans.Rows, 1)
			require.Equal(t, name, ans.Rows[0][0])
			require.Equal(t, enabled, ans.Rows[0][1] == "ON", "%v", sf)
		}
		src := &probeSource{flavor: sf, enabled: true, vars: map[string]string{}}
		_, err := src.Query(t.Context(), goMySQLDecl)
		require.NoError(t, err)
		require.True(t, wire.DeclaredSemisync(sf, src.userVar), "%v", sf)
	}
}

func TestAnswerProbe(t *testing.T) {
	unknown := func(name string) wire.ProbeAnswer {
		return wire.ProbeAnswer{Err: &wire.ServerError{Code: wire.ErUnknownSystemVariable, Message: "Unknown system variable '" + name + "'"}}
	}
	cols := []string{"Variable_name", "Value"}
	cases := []struct {
		name    string
		flavor  semisync.Flavor
		stmt    string
		enabled bool
		ok      bool
		want    wire.ProbeAnswer
	}{
		{"mysql select", semisync.FlavorMySQL, selSource, true, true,
			wire.ProbeAnswer{Columns: []string{"@@global.rpl_semi_sync_source_enabled"}, Rows: [][]string{{"1"}}}},
		{"mysql select disabled", semisync.FlavorMySQL, selSource, false, true,
			wire.ProbeAnswer{Columns: []string{"@@global.rpl_semi_sync_source_enabled"}, Rows: [][]string{{"0"}}}},
		{"mysql select spacing and case", semisync.FlavorMySQL, "  select\t @@RPL_SEMI_SYNC_SOURCE_ENABLED ; ", true, true,
			wire.ProbeAnswer{Columns: []string{"@@RPL_SEMI_SYNC_SOURCE_ENABLED"}, Rows: [][]string{{"1"}}}},
		{"mysql select master", semisync.FlavorMySQL, selMaster, true, true, unknown(masterEnabled)},
		{"mariadb select source", semisync.FlavorMariaDB, selSource, true, true, unknown(sourceEnabled)},
		{"legacy select master", semisync.FlavorMySQLLegacy, selMaster, true, true,
			wire.ProbeAnswer{Columns: []string{"@@global.rpl_semi_sync_master_enabled"}, Rows: [][]string{{"1"}}}},
		{"mariadb show", semisync.FlavorMariaDB, showMaster, true, true,
			wire.ProbeAnswer{Columns: cols, Rows: [][]string{{masterEnabled, "ON"}}}},
		{"mariadb show global pattern", semisync.FlavorMariaDB, "SHOW GLOBAL VARIABLES LIKE 'rpl_semi_sync_%_enabled';", false, true,
			wire.ProbeAnswer{Columns: cols, Rows: [][]string{{masterEnabled, "OFF"}}}},
		{"mysql show master", semisync.FlavorMySQL, showMaster, true, true, wire.ProbeAnswer{Columns: cols}},
		{"mysql show source", semisync.FlavorMySQL, "show variables like 'RPL_SEMI_SYNC_SOURCE_ENABLED'", true, true,
			wire.ProbeAnswer{Columns: cols, Rows: [][]string{{sourceEnabled, "ON"}}}},
		{"old go-mysql probe on mysql", semisync.FlavorMySQL, "SHOW VARIABLES LIKE 'rpl_semi_sync_master_enabled';", true, true, wire.ProbeAnswer{Columns: cols}},
		{"show in, other name only", semisync.FlavorMySQL, "SHOW VARIABLES WHERE Variable_name IN ('rpl_semi_sync_master_enabled')", true, true, wire.ProbeAnswer{Columns: cols}},
		{"unrelated select", semisync.FlavorMySQL, "SELECT 1", true, false, wire.ProbeAnswer{}},
		{"unrelated variable", semisync.FlavorMySQL, "SELECT @@global.server_id", true, false, wire.ProbeAnswer{}},
		{"session variable", semisync.FlavorMySQL, "SELECT @@session.rpl_semi_sync_source_enabled", true, false, wire.ProbeAnswer{}},
		{"unrelated show", semisync.FlavorMariaDB, "SHOW VARIABLES LIKE 'SERVER_ID'", true, false, wire.ProbeAnswer{}},
		{"unrelated show in", semisync.FlavorMariaDB, "SHOW VARIABLES WHERE Variable_name IN ('server_id')", true, false, wire.ProbeAnswer{}},
		{"set", semisync.FlavorMariaDB, declareSlave, true, false, wire.ProbeAnswer{}},
		{"empty", semisync.FlavorMariaDB, "", true, false, wire.ProbeAnswer{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := wire.AnswerProbe(tc.flavor, tc.stmt, tc.enabled)
			require.Equal(t, tc.ok, ok)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestParseSetUserVars(t *testing.T) {
	type v = wire.UserVar
	cases := []struct {
		stmt string
		want []wire.UserVar
	}{
		// go-mysql (mariadb-on-loopback §5a).
		{`SET @master_binlog_checksum='NONE', @source_binlog_checksum='NONE'`,
			[]v{{"master_binlog_checksum", "NONE"}, {"source_binlog_checksum", "NONE"}}},
		{goMySQLDecl, []v{{"rpl_semi_sync_slave", "1"}, {"rpl_semi_sync_replica", "1"}}},
		{`SET @master_heartbeat_period = 30000001024, @source_heartbeat_period = 30000001024`,
			[]v{{"master_heartbeat_period", "30000001024"}, {"source_heartbeat_period", "30000001024"}}},
		{`SET @slave_uuid = '8730aa32-0c5e-4b0e-9d1a-2f7c2d8a1b11', @replica_uuid = '8730aa32-0c5e-4b0e-9d1a-2f7c2d8a1b11'`,
			[]v{{"slave_uuid", "8730aa32-0c5e-4b0e-9d1a-2f7c2d8a1b11"}, {"replica_uuid", "8730aa32-0c5e-4b0e-9d1a-2f7c2d8a1b11"}}},
		{`SET @slave_connect_state='0-1-6008'`, []v{{"slave_connect_state", "0-1-6008"}}},
		// A MariaDB 10.11 replica (§6a).
		{`SET @master_heartbeat_period= 30000001024`, []v{{"master_heartbeat_period", "30000001024"}}},
		{`SET @mariadb_slave_capability=4`, []v{{"mariadb_slave_capability", "4"}}},
		{`SET @slave_connect_state='0-1-4005'`, []v{{"slave_connect_state", "0-1-4005"}}},
		{`SET @slave_gtid_strict_mode=0`, []v{{"slave_gtid_strict_mode", "0"}}},
		{`SET @rpl_semi_sync_slave= 1`, []v{{"rpl_semi_sync_slave", "1"}}},
		// MySQL (spec §8.1) and this package's declarations.
		{declareMySQL, []v{{"rpl_semi_sync_replica", "1"}, {"rpl_semi_sync_slave", "1"}}},
		{declareSlave, []v{{"rpl_semi_sync_slave", "1"}}},
		// Syntax.
		{"set @Rpl_Semi_Sync_Slave := 1 ;", []v{{"rpl_semi_sync_slave", "1"}}},
		{"SET\n\t@a=1,@b=2;", []v{{"a", "1"}, {"b", "2"}}},
		{"SET @`Odd Name` = -1.5e3, @x.y$ = .5", []v{{"odd name", "-1.5e3"}, {"x.y$", ".5"}}},
		{"SET @t = TRUE, @f = false", []v{{"t", "1"}, {"f", "0"}}},
		{"SET @e = ''", []v{{"e", ""}}},
		// Quoted strings and MySQL's escapes.
		{`SET @a = 'it''s', @b = "say ""hi""", @c = 'say "hi"', @d = "it's"`,
			[]v{{"a", "it's"}, {"b", `say "hi"`}, {"c", `say "hi"`}, {"d", "it's"}}},
		{`SET @a = 'it\'s', @b = "\"q\"", @c = 'a\\b', @d = '\x\y'`,
			[]v{{"a", "it's"}, {"b", `"q"`}, {"c", `a\b`}, {"d", "xy"}}},
		{`SET @a = 'tab\there\nnl\rcr', @b = 'nul\0', @c = '\Z\b'`,
			[]v{{"a", "tab\there\nnl\rcr"}, {"b", "nul\x00"}, {"c", "\x1a\b"}}},
		{`SET @a = '100\%', @b = 'a\_b'`, []v{{"a", `100\%`}, {"b", `a\_b`}}},
		{`SET @a = 'x, @b = y', @c = ';'`, []v{{"a", "x, @b = y"}, {"c", ";"}}},
	}
	for _, tc := range cases {
		t.Run(tc.stmt, func(t *testing.T) {
			got, err := wire.ParseSetUserVars(tc.stmt)
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestParseSetUserVarsRejects(t *testing.T) {
	for _, stmt := range []string{
		"",
		"SELECT 1",
		"SET",
		"SET @a",
		"SET @a =",
		"SET GLOBAL x=1",
		"SET @@global.rpl_semi_sync_source_enabled = 1",
		"SET NAMES utf8mb4",
		"SET @a = 1 + 2",
		"SET @a = 1 garbage",
		"SET @a = 1abc",
		"SET @a = 1,",
		"SET @a = 1, GLOBAL b = 2",
		"SET @a = 1; SET @b = 2",
		"SET @a = 'unterminated",
		"SET @a = 'x' 'y'",
		"SET @a = @b",
		"SET @a = NULL",
		"SET @a = ON",
		// A MariaDB replica's (§6a row 4): the value is a system variable's,
		// for the source to evaluate, not a literal to store.
		"SET @master_binlog_checksum= @@global.binlog_checksum",
		"SETTING @a = 1",
	} {
		t.Run(stmt, func(t *testing.T) {
			got, err := wire.ParseSetUserVars(stmt)
			require.ErrorIs(t, err, wire.ErrNotUserSet)
			require.Nil(t, got)
		})
	}
}

func TestDeclaredSemisync(t *testing.T) {
	const replica, slave = "rpl_semi_sync_replica", "rpl_semi_sync_slave"
	cases := []struct {
		name string
		vars map[string]string
		want [3]bool // FlavorMySQL, FlavorMySQLLegacy, FlavorMariaDB
	}{
		{"replica 1", map[string]string{replica: "1"}, [3]bool{true, false, false}},
		{"slave 1", map[string]string{slave: "1"}, [3]bool{true, true, true}},
		{"replica 0, slave 1", map[string]string{replica: "0", slave: "1"}, [3]bool{true, true, true}},
		{"replica 1, slave 0", map[string]string{replica: "1", slave: "0"}, [3]bool{true, false, false}},
		{"both 0", map[string]string{replica: "0", slave: "0"}, [3]bool{}},
		{"not a number", map[string]string{replica: "abc", slave: "abc"}, [3]bool{}},
		{"other non-zero", map[string]string{slave: "-2"}, [3]bool{true, true, true}},
		{"spaces", map[string]string{slave: " 1 "}, [3]bool{true, true, true}},
		{"absent", map[string]string{"rpl_semi_sync_source": "1"}, [3]bool{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for i, f := range semisync.Flavors {
				got := wire.DeclaredSemisync(f, func(name string) (string, bool) {
					v, ok := tc.vars[name]
					return v, ok
				})
				require.Equal(t, tc.want[i], got, "%v", f)
			}
		})
	}
}

// TestDeclaredSemisyncOrder: MySQL 8.0.26+ reads @rpl_semi_sync_replica,
// then @rpl_semi_sync_slave; the others read only @rpl_semi_sync_slave
// (spec §7.1).
func TestDeclaredSemisyncOrder(t *testing.T) {
	want := map[semisync.Flavor][]string{
		semisync.FlavorMySQL:       {"rpl_semi_sync_replica", "rpl_semi_sync_slave"},
		semisync.FlavorMySQLLegacy: {"rpl_semi_sync_slave"},
		semisync.FlavorMariaDB:     {"rpl_semi_sync_slave"},
	}
	for _, f := range semisync.Flavors {
		var asked []string
		require.False(t, wire.DeclaredSemisync(f, func(name string) (string, bool) {
			asked = append(asked, name)
			return "", false
		}))
		require.Equal(t, want[f], asked, "%v", f)
	}
}
