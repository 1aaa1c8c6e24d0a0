package binlogd_test

import (
	"bytes"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/semisync-go/semisync/interop/binlogd"
	"github.com/semisync-go/semisync/interop/internal/mariadbtest"
)

// cli runs the real mariadb client against 127.0.0.1:port as the binlog
// server's operator and returns its --batch output.
func cli(t *testing.T, port int, stmt string) string {
	t.Helper()
	cmd := exec.Command(mariadbtest.Require(t).Client, "--no-defaults", "--protocol=TCP", "-h", "127.0.0.1", "-P", strconv.Itoa(port),
		"-u", "admin", "-padminpw", "--batch", "--connect-timeout=10", "-e", stmt)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	require.NoError(t, cmd.Run(), "%s: %s", stmt, errOut.String())
	return out.String()
}

// value reads one Variable_name/Value row of SHOW output.
func value(out, name string) string {
	for line := range strings.SplitSeq(out, "\n") {
		if k, v, ok := strings.Cut(line, "\t"); ok && k == name {
			return v
		}
	}
	return ""
}

// Chained acknowledgement, end to end: the primary's commit is
// acknowledged only when the binlog server's replicas have it. With both
// replicas stopped, the primary's commit times out (no_tx + 1, status
// OFF) while the binlog server still waits for its replicas (its timeout
// is longer); it then falls back to local, says so, and the primary is
// back ON. In local mode the same situation acknowledges a commit at
// once. When the replicas return, the server is chained again. The
// operator watches and steers it all with the real mariadb client.
func TestBinlogServerChained(t *testing.T) {
	primary := startPrimary(t, 2*time.Second)
	srv, port := startBinlogd(t, config(t, t.TempDir(), primary, binlogd.Chained, 4*time.Second), primary, 0)
	r2, r3 := startReplica(t, 2, port), startReplica(t, 3, port)
	mariadbtest.Eventually(t, 30*time.Second, func() bool { return srv.Source().State().Clients == 2 }, "replicas never registered")
	createTable(t, primary)
	c := primary.Conn(t)
	for i := range 20 {
		mixed(t, c, i)
	}
	st := srv.Stats()
	require.GreaterOrEqual(t, st.ChainedAcks, uint64(20), "%+v", st)
	require.Zero(t, st.Fallbacks)
	require.Equal(t, "ON", primary.Status(t, "Rpl_semi_sync_master_status"))

	// The operator's view: both levels' variables, the upstream
	// connection, the downstream ledger.
	vs := cli(t, port, "SHOW VARIABLES LIKE 'rpl_semi_sync%'")
	require.Equal(t, "ON", value(vs, "rpl_semi_sync_master_enabled"))
	require.Equal(t, "ON", value(vs, "rpl_semi_sync_slave_enabled"), vs)
	require.Equal(t, "chained", value(cli(t, port, "SHOW VARIABLES LIKE 'binlogd%'"), "binlogd_ack_mode"))
	ss := cli(t, port, "SHOW STATUS")
	require.Equal(t, "ON", value(ss, "Rpl_semi_sync_slave_status"))
	require.Equal(t, "ON", value(ss, "Rpl_semi_sync_master_status"))
	require.Equal(t, "2", value(ss, "Rpl_semi_sync_master_clients"))
	require.Equal(t, "chained", value(ss, "Binlogd_ack_mode"))
	require.Contains(t, cli(t, port, "SHOW SLAVE STATUS"), "Waiting for master to send event")
	ledger := cli(t, port, "SHOW SEMISYNC REPLICAS")
	require.Contains(t, ledger, "\n2\tON\t")
	require.Contains(t, ledger, "\n3\tON\t")

	// Both replicas stop: the primary's commit times out.
	r2.StopSlave(t)
	r3.StopSlave(t)
	no0, yes0 := primary.StatusInt(t, "Rpl_semi_sync_master_no_tx"), primary.StatusInt(t, "Rpl_semi_sync_master_yes_tx")
	mixed(t, c, 20)
	require.Equal(t, no0+1, primary.StatusInt(t, "Rpl_semi_sync_master_no_tx"))
	require.Equal(t, "OFF", primary.Status(t, "Rpl_semi_sync_master_status"))
	// The server falls back to local when its own wait times out; its ACK
	// brings the primary back ON.
	mariadbtest.Eventually(t, 20*time.Second, func() bool { return srv.Stats().Fallbacks == 1 }, "no fallback: %v", stats{srv})
	mariadbtest.Eventually(t, 20*time.Second, func() bool { return primary.Status(t, "Rpl_semi_sync_master_status") == "ON" }, "primary not back ON")
	require.Equal(t, "local (chained fell back)", value(cli(t, port, "SHOW STATUS LIKE 'Binlogd_ack_mode'"), "Binlogd_ack_mode"))
	require.Equal(t, yes0, primary.StatusInt(t, "Rpl_semi_sync_master_yes_tx"))

	// In local mode, the same commit is acknowledged at once.
	cli(t, port, "SET GLOBAL binlogd_ack_mode = 'local'")
	require.Equal(t, binlogd.Local, srv.AckMode())
	mixed(t, c, 21)
	require.Equal(t, yes0+1, primary.StatusInt(t, "Rpl_semi_sync_master_yes_tx"))
	require.Equal(t, no0+1, primary.StatusInt(t, "Rpl_semi_sync_master_no_tx"))

	// Chained again, the replicas back: the server's source returns ON
	// once they catch up, and its ACKs are chained again.
	cli(t, port, "SET GLOBAL binlogd_ack_mode = 'chained'")
	r2.StartSlave(t)
	r3.StartSlave(t)
	mariadbtest.Eventually(t, 30*time.Second, func() bool { return srv.Source().State().Clients == 2 }, "replicas never came back")
	converge(t, primary, r2, r3)
	chained := srv.Stats().ChainedAcks
	mariadbtest.Eventually(t, 30*time.Second, func() bool {
		mixed(t, c, 22+int(srv.Stats().ChainedAcks-chained)*4) // an insert each time: new rows
		return srv.Stats().Reentries == 1
	}, "never chained again: %v", stats{srv})
	require.Equal(t, "ON", primary.Status(t, "Rpl_semi_sync_master_status"))
	require.Equal(t, "chained", value(cli(t, port, "SHOW STATUS LIKE 'Binlogd_ack_mode'"), "Binlogd_ack_mode"))
	converge(t, primary, r2, r3)
}
