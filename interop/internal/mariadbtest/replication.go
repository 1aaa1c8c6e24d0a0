package mariadbtest

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// replicaConnectTimeout bounds ReplicateFrom's wait for both replication
// threads to run.
const replicaConnectTimeout = 30 * time.Second

// StartReplica starts a real MariaDB replica of src: a server with
// --rpl-semi-sync-slave-enabled=1 before opts.Args (which may add, e.g.,
// "--sync-relay-log=1"), replicating from src with [Server.ReplicateFrom].
// An opts.ServerID of 0 means src's ID plus one.
func StartReplica(tb testing.TB, src *Server, opts Options) *Server {
	tb.Helper()
	if opts.ServerID == 0 {
		opts.ServerID = src.ServerID + 1
	}
	opts.Args = append([]string{"--rpl-semi-sync-slave-enabled=1"}, opts.Args...)
	rep := Start(tb, opts)
	rep.ReplicateFrom(tb, src)
	return rep
}

// ReplicateFrom makes s a replica of src: CHANGE MASTER TO src's port as
// [ReplUser] with MASTER_USE_GTID=slave_pos, then START SLAVE. It returns
// once SHOW SLAVE STATUS says both threads run (the I/O thread is connected);
// src counts s in Rpl_semi_sync_master_clients a moment later, if s was
// started with --rpl-semi-sync-slave-enabled=1 and src has semisync on.
func (s *Server) ReplicateFrom(tb testing.TB, src *Server) {
	tb.Helper()
	if s.ServerID == src.ServerID {
		tb.Fatalf("mariadbtest: replica %s and source %s both have server_id %d", s.Addr, src.Addr, s.ServerID)
	}
	s.Exec(tb, fmt.Sprintf("CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=%d, "+
		"MASTER_USER='%s', MASTER_PASSWORD='%s', MASTER_USE_GTID=slave_pos", src.Port, ReplUser, ReplPassword))
	s.StartSlave(tb)
	var state map[string]string
	poll(replicaConnectTimeout, func() bool {
		state = s.slaveStatus(tb)
		// "No" after START SLAVE returned means a thread stopped on an error:
		// no use waiting for it.
		return state["Slave_IO_Running"] == "No" || state["Slave_SQL_Running"] == "No" ||
			state["Slave_IO_Running"] == "Yes" && state["Slave_SQL_Running"] == "Yes"
	})
	if state["Slave_IO_Running"] != "Yes" || state["Slave_SQL_Running"] != "Yes" {
		var b strings.Builder
		for _, k := range []string{"Slave_IO_Running", "Slave_SQL_Running", "Last_IO_Error", "Last_SQL_Error"} {
			fmt.Fprintf(&b, "\n  %s: %s", k, state[k])
		}
		tb.Fatalf("mariadbtest: replica %s not replicating from %s (waited up to %v):%s\nreplica error log, last lines:\n%s",
			s.Addr, src.Addr, replicaConnectTimeout, b.String(), s.ErrorLogTail(tailLines))
	}
}

// slaveStatus returns SHOW SLAVE STATUS as column name -> value (empty when
// s is not a replica).
func (s *Server) slaveStatus(tb testing.TB) map[string]string {
	tb.Helper()
	r := s.Exec(tb, "SHOW SLAVE STATUS")
	m := make(map[string]string)
	if !r.HasResultset() || r.RowNumber() == 0 {
		return m
	}
	for i, f := range r.Fields {
		v, err := r.GetString(0, i)
		if err != nil {
			tb.Fatalf("mariadbtest: SHOW SLAVE STATUS on %s: column %s: %v", s.Addr, f.Name, err)
		}
		m[string(f.Name)] = v
	}
	return m
}

// StopSlave runs STOP SLAVE on s.
func (s *Server) StopSlave(tb testing.TB) {
	tb.Helper()
	s.Exec(tb, "STOP SLAVE")
}

// StartSlave runs START SLAVE on s.
func (s *Server) StartSlave(tb testing.TB) {
	tb.Helper()
	s.Exec(tb, "START SLAVE")
}

// WaitCaughtUp waits until s, a replica of src, has applied everything src
// had binlogged when it was called: MASTER_GTID_WAIT on s for src's
// gtid_binlog_pos, which waits in the server, for at most timeout (rounded
// up to whole seconds). A replica that fsyncs each event
// (--sync-relay-log=1) and was stopped for a while can be thousands of
// events behind when it reconnects, and a semisync commit made then waits
// until it has caught up, or for the source's timeout. It fails the test
// after timeout, with s's replication state and error log.
func (s *Server) WaitCaughtUp(tb testing.TB, src *Server, timeout time.Duration) {
	tb.Helper()
	rows := src.Query(tb, "SELECT @@GLOBAL.gtid_binlog_pos")
	if len(rows) != 1 || len(rows[0]) != 1 {
		tb.Fatalf("mariadbtest: SELECT @@GLOBAL.gtid_binlog_pos on %s: %v", src.Addr, rows)
	}
	pos := rows[0][0]
	if pos == "" {
		return // nothing binlogged yet
	}
	secs := int64((timeout + time.Second - 1) / time.Second)
	got := s.Query(tb, fmt.Sprintf("SELECT MASTER_GTID_WAIT('%s', %d)", pos, secs))
	if len(got) == 1 && len(got[0]) == 1 && got[0][0] == "0" {
		return
	}
	state := s.slaveStatus(tb)
	var b strings.Builder
	for _, k := range []string{"Slave_IO_Running", "Slave_SQL_Running", "Gtid_IO_Pos", "Read_Master_Log_Pos", "Exec_Master_Log_Pos", "Last_IO_Error", "Last_SQL_Error"} {
		fmt.Fprintf(&b, "\n  %s: %s", k, state[k])
	}
	tb.Fatalf("mariadbtest: replica %s did not reach %s's GTID position %s within %v (MASTER_GTID_WAIT returned %v):%s\nreplica error log, last lines:\n%s",
		s.Addr, src.Addr, pos, timeout, got, b.String(), s.ErrorLogTail(tailLines))
}
