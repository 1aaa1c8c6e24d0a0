package main

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/semisync-go/semisync/interop/internal/mariadbtest"
)

// The demo as a user runs it: a real MariaDB replica, given the CHANGE
// MASTER TO the demo prints, negotiates semisync, applies the demo's
// schema and rows, and acknowledges every commit; a second run on the same
// directory goes on from the last GTID, and the replica resumes by GTID.
func TestDemoWithMariaDBReplica(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	d, err := start(config{listen: "127.0.0.1:0", dir: dir, timeout: 30 * time.Second, password: "pw", adminPassword: "apw"}, &out)
	require.NoError(t, err)
	defer func() { d.close() }()

	replica := mariadbtest.Start(t, mariadbtest.Options{ServerID: 2, Args: []string{"--rpl-semi-sync-slave-enabled=1"}})
	replica.Exec(t, d.changeMaster())
	replica.StartSlave(t)
	rows := func() string {
		r, err := replica.Conn(t).Execute("SELECT COUNT(*) FROM demo.t")
		if err != nil {
			return "-1"
		}
		n, _ := r.GetString(0, 0)
		return n
	}
	mariadbtest.Eventually(t, 30*time.Second, func() bool { return rows() == "0" && d.src.State().Clients == 1 }, "the replica has the schema: %s", replica.ErrorLogTail(10))
	ctx := context.Background()
	const n = 320 // a binlog of more than 64 KiB: more than a cursor's window
	for range n {
		require.NoError(t, d.commit(ctx, &out))
	}
	require.Greater(t, d.bl.Head().Offset(), uint64(64<<10))
	require.Equal(t, n, strings.Count(out.String(), ": acknowledged after"), out.String())
	mariadbtest.Eventually(t, 30*time.Second, func() bool { return rows() == fmt.Sprint(n) }, "rows: %s", replica.ErrorLogTail(10))
	require.Equal(t, "ON", replica.Status(t, "Rpl_semi_sync_slave_status"))

	// The operator's view, with the real client.
	got := mariadbCLI(t, d, "SHOW SLAVE HOSTS")
	require.Contains(t, got, fmt.Sprintf("2\t\t%d\t1", replica.Port), "the replica, registered with its port")

	// A second run on the same binlog.
	d.close()
	out.Reset()
	d, err = start(config{listen: "127.0.0.1:0", dir: dir, timeout: 30 * time.Second, password: "pw", adminPassword: "apw"}, &out)
	require.NoError(t, err)
	require.Equal(t, uint64(2+n), d.seq, "two DDLs and the rows")
	require.Equal(t, byte(15), d.bl.fde[4], "the file's format description, kept")
	replica.StopSlave(t)
	replica.Exec(t, fmt.Sprintf("CHANGE MASTER TO MASTER_PORT=%d", d.addr.Port))
	replica.StartSlave(t)
	mariadbtest.Eventually(t, 30*time.Second, func() bool { return d.src.State().Clients == 1 }, "reconnected: %s", replica.ErrorLogTail(10))
	require.NoError(t, d.commit(ctx, &out))
	require.Contains(t, out.String(), fmt.Sprintf("commit 0-1-%d at mysql-bin.000001:", 3+n))
	require.Contains(t, out.String(), ": acknowledged after")
	mariadbtest.Eventually(t, 30*time.Second, func() bool { return rows() == fmt.Sprint(n+1) }, "rows: %s", replica.ErrorLogTail(10))
	want := fmt.Sprintf("0-1-%d", 3+n) // @@gtid_slave_pos may trail the row by a moment
	mariadbtest.Eventually(t, 30*time.Second, func() bool { return replica.Query(t, "SELECT @@gtid_slave_pos")[0][0] == want }, "gtid_slave_pos %s", want)

	// A replica that starts by file and position after the file's first
	// event gets the kept format description first.
	second := mariadbtest.Start(t, mariadbtest.Options{ServerID: 3, Args: []string{"--rpl-semi-sync-slave-enabled=1"}})
	second.Exec(t, "CREATE DATABASE demo")
	second.Exec(t, "CREATE TABLE demo.t (id BIGINT PRIMARY KEY, committed_at VARCHAR(40) NOT NULL) ENGINE=InnoDB")
	second.Exec(t, fmt.Sprintf("CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=%d, MASTER_USER='repl', MASTER_PASSWORD='pw', "+
		"MASTER_LOG_FILE='mysql-bin.000001', MASTER_LOG_POS=%d, MASTER_USE_GTID=no", d.addr.Port, d.bl.Head().Offset()))
	second.StartSlave(t)
	mariadbtest.Eventually(t, 30*time.Second, func() bool { return d.src.State().Clients == 2 }, "second replica: %s", second.ErrorLogTail(10))
	require.NoError(t, d.commit(ctx, &out))
	mariadbtest.Eventually(t, 30*time.Second, func() bool {
		r, err := second.Conn(t).Execute("SELECT COUNT(*) FROM demo.t")
		if err != nil {
			return false
		}
		c, _ := r.GetInt(0, 0)
		return c == 1
	}, "the second replica applies the next commit: %s", second.ErrorLogTail(10))
}

// Bad flags exit 2, before anything starts.
func TestDemoFlags(t *testing.T) {
	var out, errOut bytes.Buffer
	require.Equal(t, 2, run(context.Background(), []string{"-commits", "-1"}, &out, &errOut))
	require.Equal(t, 2, run(context.Background(), []string{"-no-such-flag"}, &out, &errOut))
	require.Equal(t, 2, run(context.Background(), []string{"extra"}, &out, &errOut))
	require.Empty(t, out.String())
}

// mariadbCLI runs the mariadb client as the demo's operator.
func mariadbCLI(t *testing.T, d *demo, stmt string) string {
	t.Helper()
	cmd := mariadbtest.Require(t).Client
	return runCmd(t, cmd, "--no-defaults", "--protocol=TCP", "-h", d.addr.IP.String(), "-P", fmt.Sprint(d.addr.Port), "-u", "admin", "-papw", "--batch", "-e", stmt)
}

func runCmd(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	require.NoError(t, err, "%s", out)
	return string(out)
}
