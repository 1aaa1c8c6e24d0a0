package main

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// latencyLine matches the one line whose figures are real wait times.
var latencyLine = regexp.MustCompile(`wait latency: (\d+) waits, p50 \S+, p99 \S+, max \S+`)

// The demo's output is deterministic except for measured wait times, which
// it prints on one line; it is checked against a golden file per flavor
// (go test ./examples/demo -update rewrites them).
func TestDemoOutput(t *testing.T) {
	for _, flavor := range []string{"mysql", "mysql-legacy", "mariadb"} {
		t.Run(flavor, func(t *testing.T) {
			var out, errs strings.Builder
			code := run(&out, &errs, []string{"-flavor", flavor})
			require.Equal(t, 0, code, errs.String())
			require.Empty(t, errs.String())
			got := latencyLine.ReplaceAllString(out.String(), "wait latency: $1 waits, p50 *, p99 *, max *")
			golden := filepath.Join("testdata", flavor+".golden")
			if *update {
				require.NoError(t, os.WriteFile(golden, []byte(got), 0o644))
				return
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err)
			require.Equal(t, string(want), got)
		})
	}
}

func TestDemoChecks(t *testing.T) {
	var out, errs strings.Builder
	require.Equal(t, 0, run(&out, &errs, nil))
	s := out.String()
	require.Contains(t, s, "ERROR 1231:", "the bad SET is rejected with MySQL's error number")
	require.Contains(t, s, "(nothing changed: the timeout is still 2s)")
	require.Contains(t, s, "quorum binlog.000001:50 (MySQL's AckContainer says 100")
	require.Contains(t, s, "wait_for_replica_count = 2;\nquorum binlog.000001:100\n    commit at binlog.000001:100: acknowledged")
	require.Contains(t, s, "commit at binlog.000001:300: timed-out (timeout)")
	require.Contains(t, s, "commit at binlog.000001:400: async")
	require.Contains(t, s, "replica 2 acks binlog.000001:400 -> accepted, quorum binlog.000001:400 (caught up: status ON)")
	require.Contains(t, s, "| Rpl_semi_sync_source_yes_tx                | 4     |")
	require.Contains(t, s, "| Rpl_semi_sync_source_no_tx                 | 2     |")
	require.Contains(t, s, "switched-on trigger=catch-up")
}

func TestDemoBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-flavor", "postgres"}, {"-nope"}} {
		var out, errs strings.Builder
		require.Equal(t, 2, run(&out, &errs, args), args)
		require.NotEmpty(t, errs.String())
		require.Empty(t, out.String())
	}
}
