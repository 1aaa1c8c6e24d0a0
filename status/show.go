package status

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/semisync-go/semisync"
)

// statusVar is one status variable: the name's suffix after the flavor's
// prefix, whether only MariaDB has it, and how its value renders.
type statusVar[S any] struct {
	suffix      string
	mariaDBOnly bool
	value       func(*S) string
}

// Name prefixes per flavor, indexed by semisync.Flavor.
var (
	sourcePrefix = [len(semisync.Flavors)]string{
		semisync.FlavorMySQL:       "Rpl_semi_sync_source_",
		semisync.FlavorMySQLLegacy: "Rpl_semi_sync_master_",
		semisync.FlavorMariaDB:     "Rpl_semi_sync_master_",
	}
	replicaPrefix = [len(semisync.Flavors)]string{
		semisync.FlavorMySQL:       "Rpl_semi_sync_replica_",
		semisync.FlavorMySQLLegacy: "Rpl_semi_sync_slave_",
		semisync.FlavorMariaDB:     "Rpl_semi_sync_slave_",
	}
)

// sourceVars lists the source's status variables (spec §2; MySQL 8.0
// "Server Status Variables", MariaDB KB "Semisynchronous Replication Status
// Variables"). WaitTimeouts and the extensions are deliberately absent.
var sourceVars = [...]statusVar[SourceSnapshot]{
	{"clients", false, func(s *SourceSnapshot) string { return num(s.Clients) }},
	{"get_ack", true, func(s *SourceSnapshot) string { return num(s.GetAck) }},
	{"net_avg_wait_time", false, func(s *SourceSnapshot) string { return micros(s.NetAvgWaitTime()) }},
	{"net_wait_time", false, func(s *SourceSnapshot) string { return micros(s.NetWaitTime) }},
	{"net_waits", false, func(s *SourceSnapshot) string { return num(s.NetWaits) }},
	{"no_times", false, func(s *SourceSnapshot) string { return num(s.NoTimes) }},
	{"no_tx", false, func(s *SourceSnapshot) string { return num(s.NoTx) }},
	{"request_ack", true, func(s *SourceSnapshot) string { return num(s.RequestAck) }},
	{"status", false, func(s *SourceSnapshot) string { return onOff(s.Status) }},
	{"timefunc_failures", false, func(s *SourceSnapshot) string { return num(s.TimefuncFailures) }},
	{"tx_avg_wait_time", false, func(s *SourceSnapshot) string { return micros(s.TxAvgWaitTime()) }},
	{"tx_wait_time", false, func(s *SourceSnapshot) string { return micros(s.TxWaitTime) }},
	{"tx_waits", false, func(s *SourceSnapshot) string { return num(s.TxWaits) }},
	{"wait_pos_backtraverse", false, func(s *SourceSnapshot) string { return num(s.WaitPosBacktraverse) }},
	{"wait_sessions", false, func(s *SourceSnapshot) string { return num(s.WaitSessions) }},
	{"yes_tx", false, func(s *SourceSnapshot) string { return num(s.YesTx) }},
}

// replicaVars lists the replica's status variables.
var replicaVars = [...]statusVar[ReplicaStatusSnapshot]{
	{"send_ack", true, func(r *ReplicaStatusSnapshot) string { return num(r.SendAck) }},
	{"status", false, func(r *ReplicaStatusSnapshot) string { return onOff(r.Status) }},
}

func num(v uint64) string { return strconv.FormatUint(v, 10) }

func micros(d time.Duration) string { return strconv.FormatInt(d.Microseconds(), 10) }

func onOff(b bool) string {
	if b {
		return "ON"
	}
	return "OFF"
}

// appendVars appends the variables of one side whose names match pattern.
func appendVars[S any](rows []semisync.Row, f semisync.Flavor, pattern, prefix string, vars []statusVar[S], s *S) []semisync.Row {
	for _, v := range vars {
		if v.mariaDBOnly && f != semisync.FlavorMariaDB {
			continue
		}
		if name := prefix + v.suffix; semisync.Like(name, pattern) {
			rows = append(rows, semisync.Row{Name: name, Value: v.value(s)})
		}
	}
	return rows
}

// sortRows orders rows as MySQL and MariaDB order SHOW STATUS: by strcmp of
// the names.
func sortRows(rows []semisync.Row) []semisync.Row {
	slices.SortFunc(rows, func(a, b semisync.Row) int { return strings.Compare(a.Name, b.Name) })
	return rows
}

// Rows returns every source status variable of flavor f with its value,
// sorted by name: 14 for MySQL (both naming flavors) and 16 for MariaDB,
// which adds request_ack and get_ack. An undefined flavor yields nil.
func (s *SourceSnapshot) Rows(f semisync.Flavor) []semisync.Row {
	return Show(f, "%", s, nil)
}

// Rows returns every replica status variable of flavor f with its value,
// sorted by name: the status flag, plus send_ack for MariaDB. An undefined
// flavor yields nil.
func (r *ReplicaStatusSnapshot) Rows(f semisync.Flavor) []semisync.Row {
	return Show(f, "%", nil, r)
}

// Show returns what SHOW [GLOBAL] STATUS LIKE 'pattern' prints, in flavor
// f, for a server running the source side (src non-nil) and/or the replica
// side (rep non-nil): the matching semisync variables, sorted by name as
// the servers sort them. The pattern has MySQL LIKE semantics
// ([semisync.Like]: % and _ wildcards, backslash escapes, case-insensitive);
// "%" matches everything. An undefined flavor yields nil.
//
// Values render as the servers render them: ON/OFF for the status flags,
// decimal integers elsewhere, times in whole microseconds, averages
// truncated and 0 when nothing was counted.
func Show(f semisync.Flavor, pattern string, src *SourceSnapshot, rep *ReplicaStatusSnapshot) []semisync.Row {
	if !f.Valid() {
		return nil
	}
	var rows []semisync.Row
	if src != nil {
		rows = appendVars(rows, f, pattern, sourcePrefix[f], sourceVars[:], src)
	}
	if rep != nil {
		rows = appendVars(rows, f, pattern, replicaPrefix[f], replicaVars[:], rep)
	}
	return sortRows(rows)
}
