package mariadbtest

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/go-mysql-org/go-mysql/mysql"
)

// errStopped is returned for statements sent after Stop.
var errStopped = errors.New("server stopped")

// errNoVariable says that SHOW GLOBAL STATUS or VARIABLES has no such name.
var errNoVariable = errors.New("no such variable")

// Conn opens a new root connection to the server; tb.Cleanup closes it. Use
// it for statements that must run concurrently with others or that depend on
// session state.
func (s *Server) Conn(tb testing.TB) *client.Conn {
	tb.Helper()
	c, err := client.Connect(s.Addr, "root", "", "")
	if err != nil {
		tb.Fatalf("mariadbtest: connecting to %s: %v", s.Addr, err)
	}
	tb.Cleanup(func() { quit(c) })
	return c
}

// Exec runs one statement on the server's shared root connection and fails
// the test on error. The connection is opened on first use, reopened after a
// connection error, and closed by Stop; a mutex lets several goroutines call
// Exec, one statement at a time.
func (s *Server) Exec(tb testing.TB, query string) *mysql.Result {
	tb.Helper()
	r, err := s.exec(query)
	if err != nil {
		tb.Fatalf("mariadbtest: %s on %s: %v", query, s.Addr, err)
	}
	return r
}

// exec is Exec returning its error.
func (s *Server) exec(query string) (*mysql.Result, error) {
	s.connMu.Lock()
	defer s.connMu.Unlock()
	if s.stopped.Load() {
		return nil, errStopped
	}
	if s.conn == nil {
		c, err := client.Connect(s.Addr, "root", "", "")
		if err != nil {
			return nil, err
		}
		s.conn = c
	}
	r, err := s.conn.Execute(query)
	var serverErr *mysql.MyError
	if err != nil && !errors.As(err, &serverErr) {
		// Not an SQL error: the connection may be broken. Start afresh next
		// time.
		_ = s.conn.Close()
		s.conn = nil
	}
	return r, err
}

// closeConnLocked closes Exec's connection; s.connMu must be held.
func (s *Server) closeConnLocked() {
	if s.conn != nil {
		quit(s.conn)
		s.conn = nil
	}
}

// Query runs a statement with Exec and returns its rows as strings, NULL as
// "". A statement without a result set returns no rows.
func (s *Server) Query(tb testing.TB, query string) [][]string {
	tb.Helper()
	rows, err := s.query(query)
	if err != nil {
		tb.Fatalf("mariadbtest: %s on %s: %v", query, s.Addr, err)
	}
	return rows
}

// query is Query returning its error.
func (s *Server) query(query string) ([][]string, error) {
	r, err := s.exec(query)
	if err != nil || !r.HasResultset() {
		return nil, err
	}
	rows := make([][]string, r.RowNumber())
	for i := range rows {
		rows[i] = make([]string, r.ColumnNumber())
		for j := range rows[i] {
			if rows[i][j], err = r.GetString(i, j); err != nil {
				return nil, err
			}
		}
	}
	return rows, nil
}

// Status returns the value of the global status variable name, as SHOW
// GLOBAL STATUS prints it. It fails the test if there is no such variable.
func (s *Server) Status(tb testing.TB, name string) string {
	tb.Helper()
	return s.mustShow(tb, "STATUS", name)
}

// StatusInt is Status parsed as an int64.
func (s *Server) StatusInt(tb testing.TB, name string) int64 {
	tb.Helper()
	v := s.Status(tb, name)
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		tb.Fatalf("mariadbtest: status %s = %q on %s is not an integer", name, v, s.Addr)
	}
	return n
}

// Variable returns the value of the global system variable name, as SHOW
// GLOBAL VARIABLES prints it. It fails the test if there is no such variable.
func (s *Server) Variable(tb testing.TB, name string) string {
	tb.Helper()
	return s.mustShow(tb, "VARIABLES", name)
}

// mustShow is show failing the test on error.
func (s *Server) mustShow(tb testing.TB, kind, name string) string {
	tb.Helper()
	v, err := s.show(kind, name)
	if err != nil {
		tb.Fatalf("mariadbtest: SHOW GLOBAL %s %s on %s: %v", kind, name, s.Addr, err)
	}
	return v
}

// show runs SHOW GLOBAL <kind> LIKE 'name' and returns the value of the row
// whose name is name (LIKE's "_" matches any character, so it may return
// others too). Names are restricted to letters, digits and underscores, which
// is every server variable's name and keeps the statement free of quoting.
func (s *Server) show(kind, name string) (string, error) {
	if !isVariableName(name) {
		return "", fmt.Errorf("%w: %q is not a variable name", errNoVariable, name)
	}
	rows, err := s.query(fmt.Sprintf("SHOW GLOBAL %s LIKE '%s'", kind, name))
	if err != nil {
		return "", err
	}
	for _, row := range rows {
		if len(row) == 2 && strings.EqualFold(row[0], name) {
			return row[1], nil
		}
	}
	return "", fmt.Errorf("%w: %s", errNoVariable, name)
}

// isVariableName reports whether name is a non-empty run of ASCII letters,
// digits and underscores.
func isVariableName(name string) bool {
	if name == "" {
		return false
	}
	for _, c := range name {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// WaitStatus polls the global status variable name until its value is want.
// After timeout it fails the test with the last value seen and the error
// log's tail; it fails at once if there is no such variable or mariadbd has
// exited.
func (s *Server) WaitStatus(tb testing.TB, name, want string, timeout time.Duration) {
	tb.Helper()
	var last string
	var lastErr error
	ok := poll(timeout, func() bool {
		last, lastErr = s.show("STATUS", name)
		if errors.Is(lastErr, errNoVariable) || s.exited() {
			return true // give up now; reported below
		}
		return lastErr == nil && last == want
	})
	if ok && lastErr == nil && last == want {
		return
	}
	seen := fmt.Sprintf("%q", last)
	if lastErr != nil {
		seen = "error: " + lastErr.Error()
	}
	tb.Fatalf("mariadbtest: status %s on %s: want %q, last seen %s (waited up to %v)\nerror log, last lines:\n%s",
		name, s.Addr, want, seen, timeout, s.ErrorLogTail(tailLines))
}

// exited reports whether the mariadbd process has exited.
func (s *Server) exited() bool {
	select {
	case <-s.proc.done:
		return true
	default:
		return false
	}
}

// Eventually polls cond every 10 ms until it returns true; after timeout it
// fails the test with the formatted message.
func Eventually(tb testing.TB, timeout time.Duration, cond func() bool, msg string, args ...any) {
	tb.Helper()
	if !poll(timeout, cond) {
		tb.Fatalf("mariadbtest: not true within %v: %s", timeout, fmt.Sprintf(msg, args...))
	}
}

// poll calls cond at once and then on every tick until it returns true
// (poll returns true) or timeout passes (false).
func poll(timeout time.Duration, cond func() bool) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		if cond() {
			return true
		}
		select {
		case <-deadline.C:
			return cond() // one last look: the condition may have become true meanwhile
		case <-tick.C:
		}
	}
}
