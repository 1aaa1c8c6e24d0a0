package mysqlsource_test

import (
	"bytes"
	"fmt"
	"net"
	"os/exec"
	"testing"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/stretchr/testify/require"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/examples/binlog"
	"github.com/semisync-go/semisync/interop/internal/mariadbtest"
	"github.com/semisync-go/semisync/interop/mysqlsource"
	"github.com/semisync-go/semisync/source"
)

// cli runs the real mariadb command-line client against addr as user and
// returns its tab-separated output (--batch), or its error output.
func cli(t *testing.T, addr, user, password, stmt string) (string, error) {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	cmd := exec.Command(mariadbtest.Require(t).Client, "--no-defaults", "--protocol=TCP", "-h", host, "-P", port,
		"-u", user, "-p"+password, "--batch", "--connect-timeout=10", "-e", stmt)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return errOut.String(), fmt.Errorf("%s: %w: %s", stmt, err, errOut.String())
	}
	return out.String(), nil
}

// An operator with the real mariadb client: status and variables in the
// source's names, SET GLOBAL routed to the source's variables (MySQL's
// error codes for a bad one), SHOW SLAVE HOSTS from the registered
// replicas, SHOW MASTER STATUS from the binlog's end; the replication
// account may look but not SET, and KILL ends a connection.
func TestServerOperatorSQL(t *testing.T) {
	src, err := source.New(source.Options{Flavor: semisync.FlavorMariaDB})
	require.NoError(t, err)
	t.Cleanup(func() { src.Close() })
	bl := testBinlog{Memory: binlog.NewMemory("mysql-bin")}
	bl.Append(make([]byte, 40)) // not an event a replica would take; it never asks
	bl.Publish()
	require.NoError(t, src.Appended(bl.Head()))
	srv, err := mysqlsource.NewServer(src, bl, mysqlsource.Options{ServerID: 100, User: "repl", Password: "secret",
		Admin: "admin", AdminPassword: "s3cret"})
	require.NoError(t, err)
	ln := serve(t, srv)
	addr := ln.String()
	admin := func(stmt string) string {
		t.Helper()
		out, err := cli(t, addr, "admin", "s3cret", stmt)
		require.NoError(t, err)
		return out
	}

	require.Equal(t, "Variable_name\tValue\nRpl_semi_sync_master_status\tOFF\n", admin("SHOW GLOBAL STATUS LIKE 'Rpl_semi_sync_master_status'"))
	admin("SET GLOBAL rpl_semi_sync_master_enabled = ON, GLOBAL rpl_semi_sync_master_timeout = 2500")
	require.True(t, src.State().Enabled)
	require.Equal(t, "Variable_name\tValue\nrpl_semi_sync_master_enabled\tON\n", admin("SHOW VARIABLES LIKE 'rpl_semi_sync_master_enabled'"))
	require.Equal(t, "Variable_name\tValue\nrpl_semi_sync_master_timeout\t2500\nrpl_semi_sync_master_trace_level\t32\n",
		admin("SHOW GLOBAL VARIABLES LIKE 'rpl\\_semi\\_sync\\_master\\_t%'"))
	require.Equal(t, "Variable_name\tValue\nserver_id\t100\n", admin("show variables like 'server\\_id'"))
	status := admin("SHOW STATUS")
	require.Contains(t, status, "Rpl_semi_sync_master_status\tON\n")
	require.Contains(t, status, "Rpl_semi_sync_master_clients\t0\n")
	require.Equal(t, "File\tPosition\tBinlog_Do_DB\tBinlog_Ignore_DB\nmysql-bin.000001\t44\t\t\n", admin("SHOW MASTER STATUS"))

	// Bad values get MySQL's codes, and change nothing.
	out, err := cli(t, addr, "admin", "s3cret", "SET GLOBAL rpl_semi_sync_master_timeout = 'soon'")
	require.Error(t, err)
	require.Contains(t, out, "ERROR 1232")
	out, err = cli(t, addr, "admin", "s3cret", "SET GLOBAL rpl_semi_sync_no_such_thing = 1")
	require.Error(t, err)
	require.Contains(t, out, "ERROR 1193")
	require.Equal(t, "2500", must(src.Vars().Get("rpl_semi_sync_master_timeout")))

	// Not for the replication account.
	out, err = cli(t, addr, "repl", "secret", "SET GLOBAL rpl_semi_sync_master_enabled = OFF")
	require.Error(t, err)
	require.Contains(t, out, "ERROR 1227")
	require.True(t, src.State().Enabled)
	out, err = cli(t, addr, "repl", "secret", "SHOW GLOBAL VARIABLES LIKE 'binlog_checksum'")
	require.NoError(t, err, "SHOW is for any account, as in MySQL")
	require.Equal(t, "Variable_name\tValue\nbinlog_checksum\tNONE\n", out)

	// Two replicas registered (one by go-mysql's client, with its report
	// host and port); SHOW SLAVE HOSTS lists them, by server id.
	var conns []*client.Conn
	for _, r := range []mysqlsource.RegisterReplica{{ServerID: 7, Host: "replica-7", Port: 3307}, {ServerID: 3, Port: 3306}} {
		c, err := client.Connect(addr, "repl", "secret", "")
		require.NoError(t, err)
		defer c.Close()
		reg, err := mysqlsource.AppendRegisterReplica(nil, r)
		require.NoError(t, err)
		require.Equal(t, byte(0), command(t, c, reg)[0])
		conns = append(conns, c)
	}
	require.Equal(t, "Server_id\tHost\tPort\tMaster_id\n3\t\t3306\t100\n7\treplica-7\t3307\t100\n", admin("SHOW SLAVE HOSTS"))
	require.Equal(t, admin("SHOW SLAVE HOSTS"), admin("SHOW REPLICAS"))

	// KILL: the replication account may not kill the operator's
	// connection, the operator may kill any; an unknown id is 1094.
	id := conns[0].GetConnectionID()
	require.Empty(t, admin(fmt.Sprintf("KILL %d", id)))
	_, err = conns[0].Execute("SELECT UNIX_TIMESTAMP()")
	require.Error(t, err, "the killed connection is gone")
	require.Equal(t, "Server_id\tHost\tPort\tMaster_id\n3\t\t3306\t100\n", admin("SHOW SLAVE HOSTS"))
	out, err = cli(t, addr, "admin", "s3cret", "KILL 4000000000")
	require.Error(t, err)
	require.Contains(t, out, "ERROR 1094")
	adminConn, err := client.Connect(addr, "admin", "s3cret", "")
	require.NoError(t, err)
	defer adminConn.Close()
	_, err = adminConn.Execute("SELECT UNIX_TIMESTAMP()") // served: past the handshake on the server's side too
	require.NoError(t, err)
	var myErr *mysql.MyError
	_, err = conns[1].Execute(fmt.Sprintf("KILL %d", adminConn.GetConnectionID()))
	require.ErrorAs(t, err, &myErr)
	require.Equal(t, uint16(mysql.ER_KILL_DENIED_ERROR), myErr.Code)
	_, _ = conns[1].Execute(fmt.Sprintf("KILL CONNECTION %d", conns[1].GetConnectionID())) // its own: it may or may not see the answer
	require.Empty(t, admin("SHOW SLAVE HOSTS"), "both gone (an empty result prints nothing)")
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
