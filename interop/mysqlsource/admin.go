package mysqlsource

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/vars"
)

// The operator statements, as MySQL's parser takes them (keywords in any
// case, any run of spaces between them).
var (
	reShow         = regexp.MustCompile(`(?is)^SHOW\s+(?:(?:GLOBAL|SESSION|LOCAL)\s+)?(STATUS|VARIABLES)(?:\s+LIKE\s+'((?:[^'\\]|\\.|'')*)')?$`)
	reSetGlobal    = regexp.MustCompile(`(?is)^SET\s+(?:GLOBAL\s|@@GLOBAL\.)`)
	reKill         = regexp.MustCompile(`(?is)^KILL\s+(?:(CONNECTION|QUERY)\s+)?(\d+)$`)
	reReplicaHosts = regexp.MustCompile(`(?is)^SHOW\s+(?:SLAVE\s+HOSTS|REPLICAS)$`)
	reMasterStatus = regexp.MustCompile(`(?is)^SHOW\s+(?:MASTER\s+STATUS|BINARY\s+LOG\s+STATUS)$`)
)

// ErrAdminOnly is what Options.Statement returns for a statement only the
// operator may run: the client gets MySQL's error 1227.
var ErrAdminOnly = errors.New("mysqlsource: only the operator's account may run this statement")

// errAdminOnly is MySQL's answer to a statement the account may not run.
func errAdminOnly(what string) *mysql.MyError {
	return mysql.NewError(mysql.ER_SPECIFIC_ACCESS_DENIED_ERROR, "Access denied; you need (at least one of) the SUPER privilege(s) for this operation: "+what)
}

// operator answers the statements of an operator's client; ok is false
// for a statement that is not one of them.
func (ss *session) operator(stmt string) (v any, ok bool) {
	s := ss.s
	admin := s.o.Admin != "" && ss.c.GetUser() == s.o.Admin
	if m := reKill.FindStringSubmatch(stmt); m != nil {
		// A MariaDB replica kills its previous connection when it
		// reconnects (STOP SLAVE, START SLAVE): its own, under the
		// replication account. KILL QUERY is KILL here: a dump is the only
		// query that runs long.
		id, err := strconv.ParseUint(m[2], 10, 32)
		if err != nil {
			return mysql.NewError(mysql.ER_NO_SUCH_THREAD, "Unknown thread id: "+m[2]), true
		}
		return s.kill(uint32(id), ss.c.GetUser(), admin), true
	}
	if s.o.Statement != nil {
		if cols, rows, handled, err := s.o.Statement(stmt, admin); handled {
			var ve *vars.Error
			switch {
			case errors.As(err, &ve):
				return mysql.NewError(ve.Code, err.Error()), true
			case errors.Is(err, ErrAdminOnly):
				return errAdminOnly(stmt), true
			case err != nil:
				return mysql.NewError(mysql.ER_UNKNOWN_ERROR, err.Error()), true
			case len(cols) > 0:
				return result(cols, rows), true
			}
			return nil, true
		}
	}
	if strings.EqualFold(stmt, "SELECT @@version_comment LIMIT 1") { // the mariadb and mysql clients' first question
		return result([]string{"@@version_comment"}, [][]string{{"semisync mysqlsource"}}), true
	}
	var what string
	switch {
	case reShow.MatchString(stmt):
		what = "SHOW"
	case reSetGlobal.MatchString(stmt):
		what = "SET GLOBAL"
	case reReplicaHosts.MatchString(stmt):
		what = "SHOW REPLICAS"
	case reMasterStatus.MatchString(stmt):
		what = "SHOW MASTER STATUS"
	default:
		return nil, false
	}
	if what == "SET GLOBAL" && !admin {
		return errAdminOnly(what), true
	}
	switch what {
	case "SHOW":
		m := reShow.FindStringSubmatchIndex(stmt)
		pattern := "%" // no LIKE: everything
		if m[4] >= 0 {
			pattern = strings.ReplaceAll(stmt[m[4]:m[5]], "''", "'")
		}
		var rows []semisync.Row
		if strings.EqualFold(stmt[m[2]:m[3]], "STATUS") {
			rows = s.src.Show(pattern)
			if s.o.Status != nil {
				rows = append(rows, s.o.Status(pattern)...)
				slices.SortFunc(rows, func(a, b semisync.Row) int { return strings.Compare(a.Name, b.Name) })
			}
		} else {
			rows = append(s.src.Vars().Show(pattern), s.serverVars(pattern)...)
			if s.o.Variables != nil {
				rows = append(rows, s.o.Variables(pattern)...)
			}
			slices.SortFunc(rows, func(a, b semisync.Row) int { return strings.Compare(a.Name, b.Name) })
		}
		out := make([][]string, len(rows))
		for i, r := range rows {
			out[i] = []string{r.Name, r.Value}
		}
		return result([]string{"Variable_name", "Value"}, out), true
	case "SET GLOBAL":
		if err := s.src.Vars().Exec(stmt); err != nil {
			var ve *vars.Error
			if errors.As(err, &ve) {
				return mysql.NewError(ve.Code, err.Error()), true
			}
			return mysql.NewError(mysql.ER_WRONG_VALUE_FOR_VAR, err.Error()), true
		}
		return nil, true
	case "SHOW REPLICAS":
		return s.replicaHosts(), true
	default:
		return s.masterStatus(), true
	}
}

// serverVars are the server's own variables an operator may look at,
// those whose names match pattern.
func (s *Server) serverVars(pattern string) []semisync.Row {
	all := []semisync.Row{
		{Name: "binlog_checksum", Value: s.checksumName()},
		{Name: "log_bin", Value: "ON"},
		{Name: "server_id", Value: strconv.FormatUint(uint64(s.o.ServerID), 10)},
		{Name: "server_uuid", Value: s.o.ServerUUID},
		{Name: "version", Value: s.o.Version},
	}
	var out []semisync.Row
	for _, r := range all {
		if semisync.Like(r.Name, pattern) {
			out = append(out, r)
		}
	}
	return out
}

// replicaHosts is SHOW SLAVE HOSTS (MariaDB) or SHOW REPLICAS (MySQL): the
// replicas connected now that registered with COM_REGISTER_SLAVE.
func (s *Server) replicaHosts() any {
	s.mu.Lock()
	var rows [][]string
	for _, ss := range s.sessions {
		if !ss.registered {
			continue
		}
		r := ss.register
		row := []string{strconv.FormatUint(uint64(r.ServerID), 10), r.Host, strconv.FormatUint(uint64(r.Port), 10), strconv.FormatUint(uint64(s.o.ServerID), 10)}
		if s.src.Vars().Flavor() == semisync.FlavorMySQL {
			row = append(row, ss.uuid)
		}
		rows = append(rows, row)
	}
	s.mu.Unlock()
	slices.SortFunc(rows, func(a, b []string) int {
		x, _ := strconv.ParseUint(a[0], 10, 32)
		y, _ := strconv.ParseUint(b[0], 10, 32)
		return int(x) - int(y)
	})
	if s.src.Vars().Flavor() == semisync.FlavorMySQL {
		return result([]string{"Server_Id", "Host", "Port", "Source_Id", "Replica_UUID"}, rows)
	}
	return result([]string{"Server_id", "Host", "Port", "Master_id"}, rows)
}

// Ender is implemented by a Binlog that knows where it ends (as
// examples/binlog's do): SHOW MASTER STATUS shows it. Without it, SHOW
// MASTER STATUS shows the newest position the host reported to the
// source (source.Source.Flushed).
type Ender interface {
	// Head returns the position after the binlog's last event.
	Head() semisync.Position
}

// masterStatus is SHOW MASTER STATUS: where the binlog ends.
func (s *Server) masterStatus() any {
	end := s.src.State().Written
	if h, ok := s.log.(Ender); ok {
		end = h.Head()
	}
	cols := []string{"File", "Position", "Binlog_Do_DB", "Binlog_Ignore_DB"}
	if s.src.Vars().Flavor() == semisync.FlavorMySQL {
		cols = append(cols, "Executed_Gtid_Set")
	}
	if end.IsZero() {
		return result(cols, nil)
	}
	row := []string{end.File(), strconv.FormatUint(end.Offset(), 10), "", ""}
	if len(cols) == 5 {
		row = append(row, "")
	}
	return result(cols, [][]string{row})
}

// kill is KILL id from user: it ends connection id (its dump included) if
// it was opened with user's account (the replication account is shared by
// every replica: any of them may end another's connection, as in MySQL
// with a shared account), or user is the operator.
func (s *Server) kill(id uint32, user string, admin bool) any {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, ok := s.sessions[id]
	if !ok {
		return mysql.NewError(mysql.ER_NO_SUCH_THREAD, fmt.Sprintf("Unknown thread id: %d", id))
	}
	if !admin && ss.c.GetUser() != user {
		return mysql.NewError(mysql.ER_KILL_DENIED_ERROR, fmt.Sprintf("You are not owner of thread %d", id))
	}
	ss.raw.Close()
	delete(s.sessions, id) // gone from SHOW SLAVE HOSTS now, not when its goroutine sees it
	return nil
}
