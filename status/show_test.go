package status_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/status"
)

// Expected names per flavor. MySQL's lists come from the MySQL 8.0/8.4
// "Server Status Variables" page and the plugins' status arrays; MariaDB's
// from the MariaDB KB "Semisynchronous Replication Status Variables" page.
var (
	mysqlSource = []string{
		"Rpl_semi_sync_source_clients",
		"Rpl_semi_sync_source_net_avg_wait_time",
		"Rpl_semi_sync_source_net_wait_time",
		"Rpl_semi_sync_source_net_waits",
		"Rpl_semi_sync_source_no_times",
		"Rpl_semi_sync_source_no_tx",
		"Rpl_semi_sync_source_status",
		"Rpl_semi_sync_source_timefunc_failures",
		"Rpl_semi_sync_source_tx_avg_wait_time",
		"Rpl_semi_sync_source_tx_wait_time",
		"Rpl_semi_sync_source_tx_waits",
		"Rpl_semi_sync_source_wait_pos_backtraverse",
		"Rpl_semi_sync_source_wait_sessions",
		"Rpl_semi_sync_source_yes_tx",
	}
	legacySource = []string{
		"Rpl_semi_sync_master_clients",
		"Rpl_semi_sync_master_net_avg_wait_time",
		"Rpl_semi_sync_master_net_wait_time",
		"Rpl_semi_sync_master_net_waits",
		"Rpl_semi_sync_master_no_times",
		"Rpl_semi_sync_master_no_tx",
		"Rpl_semi_sync_master_status",
		"Rpl_semi_sync_master_timefunc_failures",
		"Rpl_semi_sync_master_tx_avg_wait_time",
		"Rpl_semi_sync_master_tx_wait_time",
		"Rpl_semi_sync_master_tx_waits",
		"Rpl_semi_sync_master_wait_pos_backtraverse",
		"Rpl_semi_sync_master_wait_sessions",
		"Rpl_semi_sync_master_yes_tx",
	}
	mariaDBSource = []string{
		"Rpl_semi_sync_master_clients",
		"Rpl_semi_sync_master_get_ack",
		"Rpl_semi_sync_master_net_avg_wait_time",
		"Rpl_semi_sync_master_net_wait_time",
		"Rpl_semi_sync_master_net_waits",
		"Rpl_semi_sync_master_no_times",
		"Rpl_semi_sync_master_no_tx",
		"Rpl_semi_sync_master_request_ack",
		"Rpl_semi_sync_master_status",
		"Rpl_semi_sync_master_timefunc_failures",
		"Rpl_semi_sync_master_tx_avg_wait_time",
		"Rpl_semi_sync_master_tx_wait_time",
		"Rpl_semi_sync_master_tx_waits",
		"Rpl_semi_sync_master_wait_pos_backtraverse",
		"Rpl_semi_sync_master_wait_sessions",
		"Rpl_semi_sync_master_yes_tx",
	}
	mysqlReplica   = []string{"Rpl_semi_sync_replica_status"}
	legacyReplica  = []string{"Rpl_semi_sync_slave_status"}
	mariaDBReplica = []string{"Rpl_semi_sync_slave_send_ack", "Rpl_semi_sync_slave_status"}
)

func names(rows []semisync.Row) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.Name
	}
	return out
}

func TestShowNamesPerFlavor(t *testing.T) {
	src := &status.SourceSnapshot{}
	rep := &status.ReplicaStatusSnapshot{}
	tests := []struct {
		flavor          semisync.Flavor
		source, replica []string
		// replicaFirst: in the sorted union the replica's names come first
		// ("replica" < "source", but "master" < "slave").
		replicaFirst bool
	}{
		{semisync.FlavorMySQL, mysqlSource, mysqlReplica, true},
		{semisync.FlavorMySQLLegacy, legacySource, legacyReplica, false},
		{semisync.FlavorMariaDB, mariaDBSource, mariaDBReplica, false},
	}
	for _, tt := range tests {
		t.Run(tt.flavor.String(), func(t *testing.T) {
			require.Equal(t, tt.source, names(src.Rows(tt.flavor)))
			require.Equal(t, tt.replica, names(rep.Rows(tt.flavor)))
			require.Equal(t, tt.source, names(status.Show(tt.flavor, "%", src, nil)))
			require.Equal(t, tt.replica, names(status.Show(tt.flavor, "%", nil, rep)))

			var want []string
			if tt.replicaFirst {
				want = append(slices.Clone(tt.replica), tt.source...)
			} else {
				want = append(slices.Clone(tt.source), tt.replica...)
			}
			got := names(status.Show(tt.flavor, "%", src, rep))
			require.Equal(t, want, got)
			require.True(t, slices.IsSorted(got), "rows must be sorted by name")
			require.Empty(t, status.Show(tt.flavor, "%", nil, nil))
		})
	}
}

func TestShowUndefinedFlavor(t *testing.T) {
	src := &status.SourceSnapshot{}
	require.Nil(t, status.Show(semisync.Flavor(99), "%", src, &status.ReplicaStatusSnapshot{}))
	require.Nil(t, src.Rows(semisync.Flavor(99)))
}

func TestShowLike(t *testing.T) {
	src := &status.SourceSnapshot{}
	rep := &status.ReplicaStatusSnapshot{}
	tests := []struct {
		name    string
		flavor  semisync.Flavor
		pattern string
		want    []string
	}{
		{"tx substring", semisync.FlavorMySQL, "%tx%", []string{
			"Rpl_semi_sync_source_no_tx",
			"Rpl_semi_sync_source_tx_avg_wait_time",
			"Rpl_semi_sync_source_tx_wait_time",
			"Rpl_semi_sync_source_tx_waits",
			"Rpl_semi_sync_source_yes_tx",
		}},
		{"exact name, other case", semisync.FlavorMySQL, "RPL_SEMI_SYNC_SOURCE_STATUS", []string{
			"Rpl_semi_sync_source_status",
		}},
		{"status of both sides", semisync.FlavorMySQL, "rpl_semi_sync_%_status", []string{
			"Rpl_semi_sync_replica_status",
			"Rpl_semi_sync_source_status",
		}},
		{"underscore is one character", semisync.FlavorMariaDB, "Rpl_semi_sync_master_no_t_", []string{
			"Rpl_semi_sync_master_no_tx",
		}},
		{"underscore needs exactly one character", semisync.FlavorMySQL, "Rpl_semi_sync_source_no_tx_", nil},
		{"escaped underscore is literal", semisync.FlavorMySQL, `Rpl\_semi\_sync\_source\_net\_wait%`, []string{
			"Rpl_semi_sync_source_net_wait_time",
			"Rpl_semi_sync_source_net_waits",
		}},
		{"escaped underscore does not match a letter", semisync.FlavorMySQL, `%net\_waits`, []string{
			"Rpl_semi_sync_source_net_waits",
		}},
		{"unescaped underscore matches a letter", semisync.FlavorMySQL, `%net_wait_`, []string{
			"Rpl_semi_sync_source_net_waits",
		}},
		{"MariaDB extras", semisync.FlavorMariaDB, "%ack", []string{
			"Rpl_semi_sync_master_get_ack",
			"Rpl_semi_sync_master_request_ack",
			"Rpl_semi_sync_slave_send_ack",
		}},
		{"MariaDB extras absent in MySQL", semisync.FlavorMySQLLegacy, "%ack", nil},
		{"legacy prefix", semisync.FlavorMySQLLegacy, "Rpl_semi_sync_slave%", []string{
			"Rpl_semi_sync_slave_status",
		}},
		{"new names absent in legacy", semisync.FlavorMySQLLegacy, "%source%", nil},
		{"no match", semisync.FlavorMySQL, "Innodb%", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := status.Show(tt.flavor, tt.pattern, src, rep)
			require.Equal(t, tt.want, nilIfEmpty(names(got)))
		})
	}
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

func value(t *testing.T, rows []semisync.Row, name string) string {
	t.Helper()
	for _, r := range rows {
		if r.Name == name {
			return r.Value
		}
	}
	t.Fatalf("no row %q in %v", name, rows)
	return ""
}

func TestShowValues(t *testing.T) {
	snap := &status.SourceSnapshot{
		Status:              true,
		Clients:             2,
		YesTx:               10,
		NoTx:                3,
		NoTimes:             1,
		TimefuncFailures:    4,
		WaitPosBacktraverse: 5,
		WaitSessions:        6,
		TxWaits:             3,
		TxWaitTime:          1000 * time.Microsecond, // 1000/3 = 333.33 → 333
		NetWaits:            7,
		RequestAck:          8,
		GetAck:              9,
		WaitTimeouts:        11,
		StartsRefused:       12,
		ReplicaRegressions:  13,
	}
	rows := snap.Rows(semisync.FlavorMariaDB)
	want := map[string]string{
		"clients": "2", "get_ack": "9", "net_avg_wait_time": "0", "net_wait_time": "0",
		"net_waits": "7", "no_times": "1", "no_tx": "3", "request_ack": "8", "status": "ON",
		"timefunc_failures": "4", "tx_avg_wait_time": "333", "tx_wait_time": "1000",
		"tx_waits": "3", "wait_pos_backtraverse": "5", "wait_sessions": "6", "yes_tx": "10",
	}
	require.Len(t, rows, len(want))
	for suffix, v := range want {
		require.Equal(t, v, value(t, rows, "Rpl_semi_sync_master_"+suffix), suffix)
	}
	for _, r := range rows {
		require.NotContains(t, r.Name, "wait_timeouts", "MySQL does not show wait_timeouts")
		require.NotContains(t, r.Name, "refused", "starts_refused is an extension, not shown")
		require.NotContains(t, r.Name, "regressions", "replica_regressions is an extension, not shown")
	}

	snap.Status = false
	require.Equal(t, "OFF", value(t, snap.Rows(semisync.FlavorMySQL), "Rpl_semi_sync_source_status"))

	rep := &status.ReplicaStatusSnapshot{Status: true, SendAck: 42, AckSendFailures: 3}
	rrows := rep.Rows(semisync.FlavorMariaDB)
	require.Equal(t, "ON", value(t, rrows, "Rpl_semi_sync_slave_status"))
	require.Equal(t, "42", value(t, rrows, "Rpl_semi_sync_slave_send_ack"))
}

func TestAverages(t *testing.T) {
	tests := []struct {
		name  string
		total time.Duration
		n     uint64
		want  time.Duration
		show  string
	}{
		{"no waits", 0, 0, 0, "0"},
		{"time without waits", 5 * time.Microsecond, 0, 0, "0"},
		{"exact", 300 * time.Microsecond, 3, 100 * time.Microsecond, "100"},
		{"truncated", 299 * time.Microsecond, 3, 99 * time.Microsecond, "99"},
		{"below one", 2 * time.Microsecond, 3, 0, "0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &status.SourceSnapshot{TxWaitTime: tt.total, TxWaits: tt.n, NetWaitTime: tt.total, NetWaits: tt.n}
			require.Equal(t, tt.want, s.TxAvgWaitTime())
			require.Equal(t, tt.want, s.NetAvgWaitTime())
			rows := status.Show(semisync.FlavorMySQL, "%avg%", s, nil)
			require.Len(t, rows, 2)
			for _, r := range rows {
				require.True(t, strings.HasSuffix(r.Name, "avg_wait_time"))
				require.Equal(t, tt.show, r.Value, r.Name)
			}
		})
	}
}
