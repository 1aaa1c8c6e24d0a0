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
	for range 3 {
		require.NoError(t, d.commit(ctx, &out))
	}
	require.Equal(t, 3, strings.Count(out.String(), ": acknowledged after"), out.String())
	mariadbtest.Eventually(t, 30*time.Second, func() bool { return rows() == "3" }, "rows: %s", replica.ErrorLogTail(10))
	require.Equal(t, "ON", replica.Status(t, "Rpl_semi_sync_slave_status"))

	// The operator's view, with the real client.
	got := mariadbCLI(t, d, "SHOW SLAVE HOSTS")
	require.Contains(t, got, fmt.Sprintf("2\t\t%d\t1", replica.Port), "the replica, registered with its port")

	// A second run on the same binlog.
	d.close()
	out.Reset()
	d, err = start(config{listen: "127.0.0.1:0", dir: dir, timeout: 30 * time.Second, password: "pw", adminPassword: "apw"}, &out)
	require.NoError(t, err)
	require.Equal(t, uint64(5), d.seq, "two DDLs and three rows")
	replica.StopSlave(t)
	replica.Exec(t, fmt.Sprintf("CHANGE MASTER TO MASTER_PORT=%d", d.addr.Port))
	replica.StartSlave(t)
	mariadbtest.Eventually(t, 30*time.Second, func() bool { return d.src.State().Clients == 1 }, "reconnected: %s", replica.ErrorLogTail(10))
	require.NoError(t, d.commit(ctx, &out))
	require.Contains(t, out.String(), "commit 0-1-6 at mysql-bin.000001:")
	require.Contains(t, out.String(), ": acknowledged after")
	mariadbtest.Eventually(t, 30*time.Second, func() bool { return rows() == "4" }, "rows: %s", replica.ErrorLogTail(10))
	require.Equal(t, [][]string{{"0-1-6"}}, replica.Query(t, "SELECT @@gtid_slave_pos"))
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
