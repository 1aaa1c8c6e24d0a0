package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"
)

// The README's main command with small settings: every check passes, the
// failover line reports acknowledged commits found in enough relay logs,
// and the files stay in -dir.
func TestClusterRuns(t *testing.T) {
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	code := run(context.Background(), &out, &errOut, []string{"-duration", "300ms", "-timeout", "1s", "-committers", "4", "-dir", dir})
	require.Equal(t, 0, code, "stderr: %s\nstdout: %s", errOut.String(), out.String())
	require.Regexp(t, regexp.MustCompile(`failover check: [1-9]\d* acknowledged commits, each in at least 2 of 3 relay logs: OK`), out.String())
	require.Equal(t, 6, bytes.Count(out.Bytes(), []byte("check ok\n")), out.String())
	require.Contains(t, out.String(), "the source re-entered semisync after")
	require.Regexp(t, `== 3\.[^=]*timed-out [1-9]`, out.String(), "scene 3 times out")
	for _, f := range []string{"source/binlog.000001", "replica1/relay.log", "replica2/relay.log", "replica3/relay.log"} {
		fi, err := os.Stat(filepath.Join(dir, f))
		require.NoError(t, err)
		require.Positive(t, fi.Size())
	}
}

// A my.cnf sets the wait count to 1: with one replica left, scene 3 stays
// semisynchronous, and the program expects it to.
func TestClusterConfigFile(t *testing.T) {
	cnf := filepath.Join(t.TempDir(), "my.cnf")
	require.NoError(t, os.WriteFile(cnf, []byte("[mysqld]\nrpl_semi_sync_source_wait_for_replica_count = 1\nrpl_semi_sync_source_wait_point = AFTER_COMMIT\n"), 0o644))
	var out, errOut bytes.Buffer
	code := run(context.Background(), &out, &errOut, []string{"-duration", "200ms", "-committers", "2", "-config", cnf})
	require.Equal(t, 0, code, "stderr: %s\nstdout: %s", errOut.String(), out.String())
	require.Contains(t, out.String(), "wait_for_replica_count=1, AFTER_COMMIT")
	require.NotContains(t, out.String(), "timed-out")
	require.Regexp(t, `each in at least 1 of 3 relay logs: OK`, out.String())
}

// Bad flags and configuration: a clear message and exit code 2, before
// anything starts.
func TestClusterBadInput(t *testing.T) {
	badCnf := filepath.Join(t.TempDir(), "bad.cnf")
	require.NoError(t, os.WriteFile(badCnf, []byte("[mysqld]\nrpl_semi_sync_source_timeout = soon\n"), 0o644))
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"-replicas", "1"}, "-replicas 1"},
		{[]string{"-wait-count", "4"}, "more than the 3 replicas"},
		{[]string{"-wait-count", "0"}, "-wait-count"},
		{[]string{"-wait-point", "AFTER_LUNCH"}, "-wait-point"},
		{[]string{"-timeout", "1500us"}, "whole number of milliseconds"},
		{[]string{"-duration", "0s"}, "-duration"},
		{[]string{"-committers", "0"}, "-committers"},
		{[]string{"-config", filepath.Join(t.TempDir(), "missing.cnf")}, "-config"},
		{[]string{"-config", badCnf}, "rpl_semi_sync_source_timeout"},
		{[]string{"-flavor", "oracle"}, `-flavor "oracle": want mysql, mysql-legacy or mariadb`},
		{[]string{"-flavor", "mariadb", "-wait-count", "2"}, "-wait-count: mariadb has no wait count: its source waits for one replica"},
		{[]string{"-flavor", "mysql-legacy", "-wait-count", "4"}, "rpl_semi_sync_master_wait_for_slave_count 4 is more than the 3 replicas"},
		{[]string{"-no-such-flag"}, "flag provided but not defined"},
		{[]string{"extra"}, `unexpected argument "extra"`},
	} {
		var out, errOut bytes.Buffer
		require.Equal(t, 2, run(context.Background(), &out, &errOut, tc.args), "%v", tc.args)
		require.Contains(t, errOut.String(), tc.msg, "%v", tc.args)
		require.Empty(t, out.String(), "%v", tc.args)
	}
}
