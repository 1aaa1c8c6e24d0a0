package wire

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/semisync-go/semisync"
)

// ErUnknownSystemVariable is MySQL's error code for a SELECT of a variable
// the server does not have (ER_UNKNOWN_SYSTEM_VARIABLE): the answer that
// tells a replica's probe to try the next name (spec §8.1).
const ErUnknownSystemVariable uint16 = 1193

// ServerError is an error answer from the server to a statement, as a
// Querier reports it so that negotiation can tell "no such variable" from
// other failures. Hosts wrap their client library's error in it.
type ServerError struct {
	// Code is the MySQL error number, e.g. ErUnknownSystemVariable.
	Code uint16
	// Message is the server's text.
	Message string
}

// Error returns the code and the server's message.
func (e *ServerError) Error() string {
	return fmt.Sprintf("server error %d: %s", e.Code, e.Message)
}

// Querier runs one SQL statement on the connection that will carry the
// replica's dump and returns the result's rows, each as the text of its
// columns (a statement without a result set returns no rows). A server's
// error answer should be, or wrap, a *ServerError.
type Querier interface {
	Query(ctx context.Context, stmt string) ([][]string, error)
}

// Probe is one statement by which a replica asks whether its source has
// semisync (spec §8.1).
type Probe struct {
	// Stmt is the statement.
	Stmt string
	// Variable is the source variable it asks about.
	Variable string
	// Show is true for MariaDB's SHOW VARIABLES LIKE form, whose empty
	// result (rather than an error) means "no such variable".
	Show bool
}

var probes = [...][]Probe{
	semisync.FlavorMySQL: {
		{Stmt: "SELECT @@global.rpl_semi_sync_source_enabled", Variable: "rpl_semi_sync_source_enabled"},
		{Stmt: "SELECT @@global.rpl_semi_sync_master_enabled", Variable: "rpl_semi_sync_master_enabled"},
	},
	semisync.FlavorMySQLLegacy: {
		{Stmt: "SELECT @@global.rpl_semi_sync_master_enabled", Variable: "rpl_semi_sync_master_enabled"},
	},
	semisync.FlavorMariaDB: {
		{Stmt: "SHOW VARIABLES LIKE 'rpl_semi_sync_master_enabled'", Variable: "rpl_semi_sync_master_enabled", Show: true},
	},
}

var declares = [...]string{
	semisync.FlavorMySQL:       "SET @rpl_semi_sync_replica = 1, @rpl_semi_sync_slave = 1",
	semisync.FlavorMySQLLegacy: "SET @rpl_semi_sync_slave = 1",
	semisync.FlavorMariaDB:     "SET @rpl_semi_sync_slave = 1",
}

// Probes returns the statements a replica of flavor f sends, in order, to
// learn whether the source has semisync: MySQL 8.0.26+ asks for the
// source name and falls back to the master name; older MySQL asks for the
// master name; MariaDB uses SHOW VARIABLES LIKE. Nil for an undefined
// flavor. The caller must not modify the slice.
func Probes(f semisync.Flavor) []Probe {
	if !f.Valid() {
		return nil
	}
	return probes[f]
}

// DeclareStatement returns the statement by which a replica of flavor f
// declares itself semisync before its dump command (spec §8.1 step 2): it
// sets the user variables the source reads when the dump starts.
func DeclareStatement(f semisync.Flavor) string {
	if !f.Valid() {
		return ""
	}
	return declares[f]
}

// Verdict is what a replica concludes from the answer to one Probe.
type Verdict uint8

const (
	// TryNext: the source does not know this name; ask the next probe, or
	// conclude Unsupported after the last.
	TryNext Verdict = iota
	// Supported: the source has semisync; declare and expect headers.
	Supported
	// Unsupported: the source has no semisync; replicate asynchronously
	// (a warning, not an error, in MySQL).
	Unsupported
	// Failed: the probe failed otherwise; MySQL aborts the dump request.
	Failed
)

var verdictNames = [...]string{"try-next", "supported", "unsupported", "failed"}

// String returns the verdict's name.
func (v Verdict) String() string {
	if int(v) < len(verdictNames) {
		return verdictNames[v]
	}
	return fmt.Sprintf("Verdict(%d)", uint8(v))
}

// Decide judges the answer to probe p as MySQL's and MariaDB's replicas do
// (spec §8.1). For a SELECT: an unknown-variable error means TryNext, any
// other error Failed, and any row Supported — the value does not matter,
// only that the variable exists, so a source that is merely disabled still
// counts the replica (MySQL Bug #80122). For MariaDB's SHOW form: a row is
// Supported, no row is Unsupported, and an error is Unsupported too
// (MariaDB turns semisync off for the connection and carries on). It also
// returns the variable's value when the answer carried one.
func (p Probe) Decide(rows [][]string, err error) (Verdict, string) {
	if err != nil {
		var se *ServerError
		switch {
		case p.Show:
			return Unsupported, ""
		case errors.As(err, &se) && se.Code == ErUnknownSystemVariable:
			return TryNext, ""
		default:
			return Failed, ""
		}
	}
	if len(rows) == 0 || len(rows[0]) == 0 {
		if p.Show {
			return Unsupported, ""
		}
		// A SELECT always returns a row; an empty answer is not one MySQL
		// can give, so treat it like a failed query rather than guess.
		return Failed, ""
	}
	return Supported, rows[0][len(rows[0])-1]
}

// Negotiation is the outcome of a replica's semisync negotiation on one
// connection. Semisync decides whether the event packets on that connection
// carry the semisync header: never assume it for other connections (spec
// §9.3).
type Negotiation struct {
	// Semisync is true when the replica declared itself semisync, so every
	// event packet of the dump that follows carries the header.
	Semisync bool
	// Variable is the source variable whose existence decided, and
	// SourceEnabled its value as the source reported it ("ON", "1", ...),
	// when known. A source that has semisync but has it disabled sends
	// headers with the flag never set.
	Variable, SourceEnabled string
	// Reason says why Semisync is false.
	Reason string
}

// NegotiationError reports a failed statement that, in MySQL, aborts the
// dump request (the IO thread stops with an error).
type NegotiationError struct {
	// Stmt is the statement that failed.
	Stmt string
	// Err is its error (a *ServerError, a connection error, or the
	// context's error).
	Err error
}

// Error names the statement and its error.
func (e *NegotiationError) Error() string {
	return fmt.Sprintf("wire: semisync negotiation: %q: %v", e.Stmt, e.Err)
}

// Unwrap returns the statement's error.
func (e *NegotiationError) Unwrap() error { return e.Err }

// Negotiate runs a replica's negotiation for flavor f on the connection q
// will use for the dump (spec §8.1): the probes in order, then, when the
// source has semisync, the declaration. An error (a *NegotiationError)
// means the dump must not start, as in MySQL; a source without semisync is
// not an error but a Negotiation with Semisync false. A replica whose
// semisync is disabled must not call it at all.
func Negotiate(ctx context.Context, f semisync.Flavor, q Querier) (Negotiation, error) {
	if !f.Valid() {
		return Negotiation{}, fmt.Errorf("wire: negotiate: invalid flavor %v", f)
	}
	for _, p := range Probes(f) {
		if err := ctx.Err(); err != nil {
			return Negotiation{}, &NegotiationError{Stmt: p.Stmt, Err: err}
		}
		rows, err := q.Query(ctx, p.Stmt)
		if ctx.Err() != nil {
			return Negotiation{}, &NegotiationError{Stmt: p.Stmt, Err: ctx.Err()}
		}
		v, value := p.Decide(rows, err)
		switch v {
		case TryNext:
			continue
		case Failed:
			if err == nil {
				err = errors.New("empty result")
			}
			return Negotiation{}, &NegotiationError{Stmt: p.Stmt, Err: err}
		case Unsupported:
			reason := "source does not support semisync; replicating asynchronously"
			if err != nil {
				reason = fmt.Sprintf("probing the source failed (%v); replicating asynchronously", err)
			}
			return Negotiation{Variable: p.Variable, Reason: reason}, nil
		}
		stmt := DeclareStatement(f)
		if _, err := q.Query(ctx, stmt); err != nil {
			if f == semisync.FlavorMariaDB && ctx.Err() == nil {
				return Negotiation{Variable: p.Variable, SourceEnabled: value,
					Reason: fmt.Sprintf("declaring semisync failed (%v); replicating asynchronously", err)}, nil
			}
			return Negotiation{}, &NegotiationError{Stmt: stmt, Err: err}
		}
		return Negotiation{Semisync: true, Variable: p.Variable, SourceEnabled: value}, nil
	}
	return Negotiation{Reason: "source has no semisync variable; replicating asynchronously"}, nil
}

// ---- Source side ----

// DeclaredSemisync reports whether a replica's session declared itself
// semisync, as a source of flavor f checks when the dump command arrives
// (spec §7.1): MySQL 8.0.26+ reads @rpl_semi_sync_replica and, when it is
// 0 or absent, @rpl_semi_sync_slave; older MySQL and MariaDB read only
// @rpl_semi_sync_slave. Any non-zero integer counts. userVar looks up a
// session user variable by name (without the @), as set by the session's
// SET statements (see ParseSetUserVars).
func DeclaredSemisync(f semisync.Flavor, userVar func(name string) (string, bool)) bool {
	names := []string{"rpl_semi_sync_slave"}
	if f == semisync.FlavorMySQL {
		names = []string{"rpl_semi_sync_replica", "rpl_semi_sync_slave"}
	}
	for _, n := range names {
		if v, ok := userVar(n); ok {
			v = strings.TrimSpace(v)
			if i, err := strconv.ParseInt(v, 10, 64); err == nil {
				if i != 0 {
					return true
				}
				continue
			}
			// MySQL converts a decimal or float value to an integer by
			// rounding: 1.0, 1e0 and 0.5 are 1, 0.4 is 0.
			if f, err := strconv.ParseFloat(v, 64); err == nil && math.Round(f) != 0 {
				return true
			}
		}
	}
	return false
}

// UserVar is one assignment of a SET statement to a session user variable.
type UserVar struct {
	// Name is the variable's name without the @, lower-cased (MySQL's user
	// variable names are case-insensitive).
	Name string
	// Value is the assigned value's text: a number as written, a quoted
	// string's contents with MySQL's escape sequences decoded, or 1 and 0
	// for TRUE and FALSE.
	Value string
}

var (
	setPrefix = regexp.MustCompile(`(?is)^\s*SET\s+`)
	// A value is a literal only: a quoted string, a decimal number, TRUE
	// or FALSE. Anything else (@@global.binlog_checksum, @other, a column
	// name, NULL) is an expression the caller must evaluate itself.
	userAssign = regexp.MustCompile(`(?s)^\s*@([A-Za-z0-9_$.]+|` + "`[^`]*`" + `)\s*:?=\s*` +
		`('(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.|"")*"|[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|(?i:TRUE|FALSE))\s*`)
)

// ErrNotUserSet is returned by ParseSetUserVars for a statement that is not
// a SET of session user variables only.
var ErrNotUserSet = errors.New("wire: not a SET of user variables")

// ParseSetUserVars parses a SET statement that assigns session user
// variables, such as the replica's declaration ("SET @rpl_semi_sync_slave =
// 1") or its other settings ("SET @master_binlog_checksum='NONE',
// @source_binlog_checksum='NONE'"), and returns the assignments in order.
// Only literal values are accepted; a statement that assigns anything else
// (a system variable, an expression such as @@global.binlog_checksum or
// NULL) is ErrNotUserSet, so a source can answer it another way.
func ParseSetUserVars(stmt string) ([]UserVar, error) {
	loc := setPrefix.FindStringIndex(stmt)
	if loc == nil {
		return nil, ErrNotUserSet
	}
	rest := strings.TrimRight(strings.TrimSpace(stmt[loc[1]:]), ";")
	var out []UserVar
	for {
		m := userAssign.FindStringSubmatchIndex(rest)
		if m == nil {
			return nil, fmt.Errorf("%w: %q", ErrNotUserSet, stmt)
		}
		name := strings.ToLower(strings.Trim(rest[m[2]:m[3]], "`"))
		out = append(out, UserVar{Name: name, Value: unquote(rest[m[4]:m[5]])})
		rest = rest[m[1]:]
		if rest == "" {
			return out, nil
		}
		if rest[0] != ',' {
			return nil, fmt.Errorf("%w: %q", ErrNotUserSet, stmt)
		}
		rest = rest[1:]
	}
}

// unquote returns a value's text: a quoted string's contents with MySQL's
// escape sequences decoded (a doubled quote is one quote; \% and \_ keep
// their backslash, as outside a LIKE pattern), TRUE and FALSE as 1 and 0
// (MySQL's values for them), and a number as written.
func unquote(v string) string {
	switch {
	case strings.EqualFold(v, "TRUE"):
		return "1"
	case strings.EqualFold(v, "FALSE"):
		return "0"
	case len(v) < 2 || (v[0] != '\'' && v[0] != '"'):
		return v
	}
	q := v[0]
	v = v[1 : len(v)-1]
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '\\' && i+1 < len(v):
			i++
			switch e := v[i]; e {
			case '%', '_':
				b.WriteByte('\\')
				b.WriteByte(e)
			default:
				b.WriteByte(mysqlEscapes[e])
			}
		case c == q && i+1 < len(v) && v[i+1] == q:
			i++
			b.WriteByte(q)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// mysqlEscapes maps the byte after a backslash in a quoted string to the
// byte it stands for; a byte with no special meaning stands for itself.
var mysqlEscapes = func() (t [256]byte) {
	for i := range t {
		t[i] = byte(i)
	}
	t['0'], t['b'], t['n'], t['r'], t['t'], t['Z'] = 0, '\b', '\n', '\r', '\t', 0x1A
	return t
}()

// The source's enabled variable under its two names.
const (
	masterEnabled = "rpl_semi_sync_master_enabled"
	sourceEnabled = "rpl_semi_sync_source_enabled"
)

// isEnabledVar reports whether v (lower case) names the source's enabled
// variable under either name.
func isEnabledVar(v string) bool { return v == masterEnabled || v == sourceEnabled }

// ProbeAnswer is how a source answers a replica's probe statement.
type ProbeAnswer struct {
	// Columns names the result's columns; Rows holds its rows.
	Columns []string
	Rows    [][]string
	// Err, when not nil, is the error to answer instead of a result.
	Err *ServerError
}

var (
	selectVar = regexp.MustCompile(`(?is)^\s*SELECT\s+(@@(?:global\.)?([A-Za-z0-9_]+))\s*;?\s*$`)
	showLike  = regexp.MustCompile(`(?is)^\s*SHOW\s+(?:GLOBAL\s+|SESSION\s+)?VARIABLES\s+LIKE\s+'([^']*)'\s*;?\s*$`)
	showIn    = regexp.MustCompile(`(?is)^\s*SHOW\s+(?:GLOBAL\s+|SESSION\s+)?VARIABLES\s+WHERE\s+Variable_name\s+IN\s*\(([^)]*)\)\s*;?\s*$`)
)

// AnswerProbe answers a replica's semisync probe as a source of flavor f
// whose semisync is (or is not) enabled would, and reports whether stmt was
// such a probe. It knows the forms real replicas send: MySQL's
// "SELECT @@global.<name>", MariaDB's "SHOW VARIABLES LIKE '<pattern>'"
// and go-mysql's "SHOW VARIABLES WHERE Variable_name IN (...)". The source
// has one enabled variable: rpl_semi_sync_source_enabled for FlavorMySQL,
// rpl_semi_sync_master_enabled otherwise; a SELECT of the other name is an
// unknown-variable error, so a replica falls back as it would against the
// real server. Only the enabled variable is answered; for other variables
// ok is false.
func AnswerProbe(f semisync.Flavor, stmt string, enabled bool) (ans ProbeAnswer, ok bool) {
	name := masterEnabled
	if f == semisync.FlavorMySQL {
		name = sourceEnabled
	}
	onOff, oneZero := "OFF", "0"
	if enabled {
		onOff, oneZero = "ON", "1"
	}
	if m := selectVar.FindStringSubmatch(stmt); m != nil {
		// MySQL names the column after the expression as written.
		v := strings.ToLower(m[2])
		switch {
		case v == name:
			return ProbeAnswer{Columns: []string{m[1]},
				Rows: [][]string{{oneZero}}}, true
		case isEnabledVar(v):
			return ProbeAnswer{Err: &ServerError{Code: ErUnknownSystemVariable, Message: "Unknown system variable '" + m[2] + "'"}}, true
		}
		return ProbeAnswer{}, false
	}
	cols := []string{"Variable_name", "Value"}
	if m := showLike.FindStringSubmatch(stmt); m != nil {
		if !semisync.Like(name, m[1]) {
			if semisync.Like(masterEnabled, m[1]) || semisync.Like(sourceEnabled, m[1]) {
				return ProbeAnswer{Columns: cols}, true
			}
			return ProbeAnswer{}, false
		}
		return ProbeAnswer{Columns: cols, Rows: [][]string{{name, onOff}}}, true
	}
	if m := showIn.FindStringSubmatch(stmt); m != nil {
		found, asked := false, false
		for _, item := range strings.Split(m[1], ",") {
			v := strings.ToLower(strings.Trim(strings.TrimSpace(item), `'"`))
			found = found || v == name
			asked = asked || isEnabledVar(v)
		}
		if !asked {
			return ProbeAnswer{}, false
		}
		ans := ProbeAnswer{Columns: cols}
		if found {
			ans.Rows = [][]string{{name, onOff}}
		}
		return ans, true
	}
	return ProbeAnswer{}, false
}
