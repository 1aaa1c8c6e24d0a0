package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Every scene, check and printed line works in each flavor: the program
// shows and sets that flavor's names only, and every check passes. A
// MariaDB source waits for one replica, so it falls back to asynchronous
// replication only once no replica is left (-replicas 2).
func TestClusterFlavors(t *testing.T) {
	for _, tc := range []struct {
		flavor, replicas      string
		vars, status, waiting string // the SHOW patterns and scene 1's wait count
		other                 *regexp.Regexp
		fallback              bool // scene 3 times out
	}{
		{"mysql", "3", "rpl_semi_sync_source", "Rpl_semi_sync_source_", "wait_for_replica_count=2", regexp.MustCompile(`(?i)rpl_semi_sync_(master|slave)`), true},
		{"mysql-legacy", "3", "rpl_semi_sync_master", "Rpl_semi_sync_master_", "wait_for_slave_count=2", regexp.MustCompile(`(?i)rpl_semi_sync_(source|replica)`), true},
		{"mariadb", "3", "rpl_semi_sync_master", "Rpl_semi_sync_master_", "one acknowledgement needed (MariaDB has no wait count)", regexp.MustCompile(`(?i)rpl_semi_sync_(source|replica)|wait_for`), false},
		{"mariadb", "2", "rpl_semi_sync_master", "Rpl_semi_sync_master_", "one acknowledgement needed (MariaDB has no wait count)", regexp.MustCompile(`(?i)rpl_semi_sync_(source|replica)|wait_for`), true},
	} {
		t.Run(tc.flavor+"-"+tc.replicas, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(context.Background(), &out, &errOut, []string{"-flavor", tc.flavor, "-replicas", tc.replicas,
				"-duration", "200ms", "-timeout", "500ms", "-committers", "2"})
			require.Equal(t, 0, code, "stderr: %s\nstdout: %s", errOut.String(), out.String())
			s := out.String()
			require.Contains(t, s, "mysql> SHOW VARIABLES LIKE '"+tc.vars+"%';\n")
			require.Contains(t, s, "| "+tc.vars+"_timeout ")
			require.Contains(t, s, "== 1. All "+tc.replicas+" replicas healthy, "+tc.waiting+", AFTER_SYNC\n")
			require.Equal(t, 4, strings.Count(s, "mysql> SHOW STATUS LIKE '"+tc.status+"%';"), s)
			require.Equal(t, 4, strings.Count(s, "| "+tc.status+"status "), s)
			require.Equal(t, 6, strings.Count(s, "check ok\n"), s)
			require.Contains(t, s, "the source re-entered semisync after")
			require.Regexp(t, `failover check: [1-9]\d* acknowledged commits, each in at least \d of `+tc.replicas+` relay logs: OK`, s)
			require.Nil(t, tc.other.FindStringIndex(s), "another flavor's names in the output")
			if tc.fallback {
				require.Regexp(t, `== 3\.[^=]*timed-out [1-9]`, s, "scene 3 times out")
			} else {
				require.NotContains(t, s, "timed-out")
			}
			require.Empty(t, errOut.String())
		})
	}
}

// showVariables returns the SHOW VARIABLES table the program printed
// first.
func showVariables(t *testing.T, out string) string {
	t.Helper()
	_, after, ok := strings.Cut(out, "mysql> SHOW VARIABLES")
	require.True(t, ok, out)
	table, _, ok := strings.Cut(after, "\n\n")
	require.True(t, ok, out)
	return "mysql> SHOW VARIABLES" + table + "\n"
}

// A MariaDB-style my.cnf given to -config: under -flavor mysql its
// [mariadb] group is skipped and its loose- option names no variable of
// MySQL 8.0.26+, and the program says so before it runs, with the defaults
// (it used to skip them without a word); under -flavor mariadb the timeout
// of 700 ms applies and SHOW VARIABLES shows it.
func TestClusterMariaDBConfigFile(t *testing.T) {
	dir := t.TempDir()
	cnf := filepath.Join(dir, "my.cnf")
	require.NoError(t, os.WriteFile(cnf, []byte(`[client]
port = 3306
[mariadb]
rpl_semi_sync_master_timeout = 700
[mysqld]
server-id = 1
loose-rpl-semi-sync-master-wait-point = AFTER_COMMIT
`), 0o644))
	args := []string{"-duration", "100ms", "-committers", "2", "-config", cnf}

	var out, errOut bytes.Buffer
	code := run(context.Background(), &out, &errOut, append([]string{"-flavor", "mysql"}, args...))
	require.Equal(t, 0, code, "stderr: %s\nstdout: %s", errOut.String(), out.String())
	require.Equal(t, `cluster: my.cnf:4: [Warning] option 'rpl_semi_sync_master_timeout=700' in group [mariadb] skipped: MySQL 8.0.26+ servers read only [mysqld] and [server]
cluster: my.cnf:7: [Warning] unknown variable 'loose-rpl-semi-sync-master-wait-point=AFTER_COMMIT': it is the MySQL legacy (master/slave) and MariaDB name; this registry uses MySQL 8.0.26+ names: rpl_semi_sync_source_wait_point
`, strings.ReplaceAll(errOut.String(), cnf, "my.cnf"))
	require.Equal(t, `mysql> SHOW VARIABLES LIKE 'rpl_semi_sync_source%';
+---------------------------------------------+------------+
| Variable_name                               | Value      |
+---------------------------------------------+------------+
| rpl_semi_sync_source_enabled                | ON         |
| rpl_semi_sync_source_timeout                | 1000       |
| rpl_semi_sync_source_trace_level            | 32         |
| rpl_semi_sync_source_wait_for_replica_count | 2          |
| rpl_semi_sync_source_wait_no_replica        | ON         |
| rpl_semi_sync_source_wait_point             | AFTER_SYNC |
+---------------------------------------------+------------+
`, showVariables(t, out.String()))

	out.Reset()
	errOut.Reset()
	code = run(context.Background(), &out, &errOut, append([]string{"-flavor", "mariadb"}, args...))
	require.Equal(t, 0, code, "stderr: %s\nstdout: %s", errOut.String(), out.String())
	require.Empty(t, errOut.String())
	require.Equal(t, `mysql> SHOW VARIABLES LIKE 'rpl_semi_sync_master%';
+------------------------------------+--------------+
| Variable_name                      | Value        |
+------------------------------------+--------------+
| rpl_semi_sync_master_enabled       | ON           |
| rpl_semi_sync_master_timeout       | 700          |
| rpl_semi_sync_master_trace_level   | 32           |
| rpl_semi_sync_master_wait_no_slave | ON           |
| rpl_semi_sync_master_wait_point    | AFTER_COMMIT |
+------------------------------------+--------------+
`, showVariables(t, out.String()))
}
