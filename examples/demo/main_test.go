package main

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// The demo's whole output is deterministic; it is checked against a golden
// file per flavor (go test ./examples/demo -update rewrites them).
func TestDemoOutput(t *testing.T) {
	for _, flavor := range []string{"mysql", "mysql-legacy", "mariadb"} {
		t.Run(flavor, func(t *testing.T) {
			var out, errs strings.Builder
			code := run(&out, &errs, []string{"-flavor", flavor})
			require.Equal(t, 0, code, errs.String())
			require.Empty(t, errs.String())
			golden := filepath.Join("testdata", flavor+".golden")
			if *update {
				require.NoError(t, os.WriteFile(golden, []byte(out.String()), 0o644))
				return
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err)
			require.Equal(t, string(want), out.String())
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
	require.Contains(t, s, "wait count 3 -> 2: quorum binlog.000001:100")
	require.Contains(t, s, "| Rpl_semi_sync_source_yes_tx                | 3     |")
}

func TestDemoBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-flavor", "postgres"}, {"-nope"}} {
		var out, errs strings.Builder
		require.Equal(t, 2, run(&out, &errs, args), args)
		require.NotEmpty(t, errs.String())
		require.Empty(t, out.String())
	}
}
