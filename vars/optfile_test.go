package vars_test

import (
	"errors"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/require"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/vars"
)

func TestLoadOptionFile(t *testing.T) {
	my, leg, mdb := semisync.FlavorMySQL, semisync.FlavorMySQLLegacy, semisync.FlavorMariaDB
	tests := []struct {
		name   string
		flavor semisync.Flavor
		file   string
		want   func(c *vars.Config) // edits the flavor's defaults into the expected Config
	}{
		{"empty", my, "", func(*vars.Config) {}},
		{"comments only", my, "# a\n; b\n\n   # c\n", func(*vars.Config) {}},
		{"every variable, mysql", my, `
[mysqld]
rpl_semi_sync_source_enabled = ON
rpl_semi_sync_source_timeout = 3000
rpl_semi_sync_source_wait_for_replica_count = 2
rpl_semi_sync_source_wait_no_replica = OFF
rpl_semi_sync_source_wait_point = AFTER_COMMIT
rpl_semi_sync_source_trace_level = 16
rpl_semi_sync_replica_enabled = 1
rpl_semi_sync_replica_trace_level = 64
replication_sender_observe_commit_only = TRUE
replication_optimize_for_static_plugin_config = on
`, func(c *vars.Config) {
			c.SourceEnabled, c.TimeoutMillis, c.WaitForReplicaCount, c.WaitNoReplica = true, 3000, 2, false
			c.WaitPoint, c.SourceTraceLevel, c.ReplicaEnabled, c.ReplicaTraceLevel = vars.AfterCommit, 16, true, 64
			c.SenderObserveCommitOnly, c.OptimizeForStaticPluginConfig = true, true
		}},
		{"every variable, legacy, dashes", leg, `
[mysqld]
rpl-semi-sync-master-enabled=1
rpl-semi-sync-master-timeout=3000
rpl-semi-sync-master-wait-for-slave-count=3
rpl-semi-sync-master-wait-no-slave=0
rpl-semi-sync-master-wait-point=after_commit
rpl-semi-sync-master-trace-level=1
rpl-semi-sync-slave-enabled=ON
rpl-semi-sync-slave-trace-level=0
replication-sender-observe-commit-only
replication-optimize-for-static-plugin-config=ON
`, func(c *vars.Config) {
			c.SourceEnabled, c.TimeoutMillis, c.WaitForReplicaCount, c.WaitNoReplica = true, 3000, 3, false
			c.WaitPoint, c.SourceTraceLevel, c.ReplicaEnabled, c.ReplicaTraceLevel = vars.AfterCommit, 1, true, 0
			c.SenderObserveCommitOnly, c.OptimizeForStaticPluginConfig = true, true
		}},
		{"every variable, mariadb, every group", mdb, `
[mariadb]
rpl_semi_sync_master_enabled
[mariadbd]
rpl_semi_sync_master_timeout = 18446744073709551615
rpl_semi_sync_master_wait_no_slave = OFF
[server]
rpl_semi_sync_master_wait_point = AFTER_SYNC
rpl_semi_sync_master_trace_level = 1
[client-server]
rpl_semi_sync_slave_enabled = ON
rpl_semi_sync_slave_trace_level = 16
[mysqld]
rpl_semi_sync_slave_delay_master = ON
rpl_semi_sync_slave_kill_conn_timeout = 1k
`, func(c *vars.Config) {
			c.SourceEnabled, c.TimeoutMillis, c.WaitNoReplica, c.WaitPoint = true, 1<<64-1, false, vars.AfterSync
			c.SourceTraceLevel, c.ReplicaEnabled, c.ReplicaTraceLevel = 1, true, 16
			c.ReplicaDelaySource, c.ReplicaKillConnTimeout = true, 1024
		}},
		{"other groups and other options are not ours", my, `
[client]
rpl_semi_sync_source_timeout = 1
[mysqld]
datadir = /var/lib/mysql
log-bin
server-id = 7
skip-name-resolve
loose-some-plugin-option = 3
plugin-load-add = semisync_source.so
rpl-semi-sync-source = FORCE_PLUS_PERMANENT
rpl_semi_sync_replica = ON
[mysqldump]
rpl_semi_sync_source_timeout = 2
[mariadb]
rpl_semi_sync_master_timeout = 3
[mysqld-8.0]
rpl_semi_sync_source_timeout = 4
`, func(*vars.Config) {}},
		{"group names ignore case and spaces", my, "[ MySQLd ]\nrpl_semi_sync_source_timeout=5\n[SERVER] # comment\nrpl_semi_sync_source_trace_level=6\n",
			func(c *vars.Config) { c.TimeoutMillis, c.SourceTraceLevel = 5, 6 }},
		{"later lines win", my, "[mysqld]\nrpl_semi_sync_source_timeout=1\n[server]\nrpl_semi_sync_source_timeout=2\n",
			func(c *vars.Config) { c.TimeoutMillis = 2 }},
		{"boolean prefixes", my, `[mysqld]
skip-rpl-semi-sync-source-wait-no-replica
enable-rpl-semi-sync-source-enabled
disable_rpl_semi_sync_replica_enabled
loose-enable-replication-sender-observe-commit-only
loose_skip_replication_optimize_for_static_plugin_config
`, func(c *vars.Config) { c.WaitNoReplica, c.SourceEnabled, c.SenderObserveCommitOnly = false, true, true }},
		{"prefix double negation", my, `[mysqld]
skip-rpl-semi-sync-source-enabled=0
disable-rpl-semi-sync-replica-enabled=0
enable-rpl-semi-sync-source-wait-no-replica=0
`, func(c *vars.Config) { c.SourceEnabled, c.ReplicaEnabled, c.WaitNoReplica = true, true, false }},
		{"prefix with a true value", my, "[mysqld]\nskip-rpl-semi-sync-source-wait-no-replica=1\nenable-rpl-semi-sync-source-enabled=OFF\n",
			func(c *vars.Config) { c.WaitNoReplica, c.SourceEnabled = false, true }},
		{"skip-loose ignores the skip, as my_getopt does", my, "[mysqld]\nskip-loose-rpl-semi-sync-source-enabled\n",
			func(c *vars.Config) { c.SourceEnabled = true }},
		{"suffixes", my, "[mysqld]\nrpl_semi_sync_source_timeout = 4m\nrpl_semi_sync_source_trace_level = 2G\nrpl_semi_sync_replica_trace_level = 0K\n",
			func(c *vars.Config) { c.TimeoutMillis, c.SourceTraceLevel, c.ReplicaTraceLevel = 4<<20, 2<<30, 0 }},
		{"mariadb suffixes up to E", mdb, "[mysqld]\nrpl_semi_sync_master_timeout = 15E\n",
			func(c *vars.Config) { c.TimeoutMillis = 15 << 60 }},
		{"uppercase names and BOM and CRLF", my, "\ufeff[mysqld]\r\nRPL_SEMI_SYNC_SOURCE_TIMEOUT = 9\r\n",
			func(c *vars.Config) { c.TimeoutMillis = 9 }},
		{"unknown loose options are ignored", mdb, `[mysqld]
loose-rpl-semi-sync-source-enabled = ON
loose_rpl_semi_sync_master_wait_for_slave_count = 4
loose-replication-sender-observe-commit-only
loose-rpl-semi-sync-master-enabled = ON
`, func(c *vars.Config) { c.SourceEnabled = true }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newReg(t, tt.flavor)
			want := vars.Defaults(tt.flavor)
			tt.want(&want)
			require.NoError(t, r.LoadOptionFile(strings.NewReader(tt.file), "my.cnf"))
			require.Equal(t, want, r.Config())
			require.NoError(t, r.Config().Validate(tt.flavor))
		})
	}
}

// Values keep MySQL's option-file rules: quotes are stripped, '#' outside
// quotes starts a comment, ';' does not.
func TestOptionFileQuirks(t *testing.T) {
	r := newReg(t, semisync.FlavorMySQL)
	as, err := r.ParseOptionFile(strings.NewReader(`[mysqld]
rpl_semi_sync_source_wait_point = 'AFTER_COMMIT'   # comment
rpl_semi_sync_source_enabled="ON"#comment
rpl_semi_sync_source_timeout = "a#b" # the # in quotes stays
rpl_semi_sync_source_trace_level = 5 ; not a comment
rpl_semi_sync_replica_trace_level = 'a\sb\tc\\d\qe'
rpl_semi_sync_replica_enabled = 'unbalanced"
rpl_semi_sync_source_wait_for_replica_count =
`), "conf/my.cnf")
	require.NoError(t, err)
	type A = vars.Assignment
	at := func(line int, name, value string) A {
		return A{Name: name, Value: value, Form: vars.FormOption, File: "conf/my.cnf", Line: line}
	}
	require.Equal(t, []A{
		at(2, "rpl_semi_sync_source_wait_point", "AFTER_COMMIT"),
		at(3, "rpl_semi_sync_source_enabled", "ON"),
		at(4, "rpl_semi_sync_source_timeout", "a#b"),
		at(5, "rpl_semi_sync_source_trace_level", "5 ; not a comment"),
		at(6, "rpl_semi_sync_replica_trace_level", "a b\tc\\d\\qe"),
		at(7, "rpl_semi_sync_replica_enabled", `'unbalanced"`),
		at(8, "rpl_semi_sync_source_wait_for_replica_count", ""),
	}, as)
	// Applying them fails at the first bad value, naming the file and line.
	err = r.Apply(as...)
	var e *vars.Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, vars.ErrWrongValue, e.Kind)
	require.Equal(t, "conf/my.cnf", e.File)
	require.Equal(t, 4, e.Line)
	require.Equal(t, "vars: conf/my.cnf:4: Variable 'rpl_semi_sync_source_timeout' can't be set to the value of 'a#b': an unsigned integer is required", err.Error())
	require.Zero(t, r.Version())
}

func TestLoadOptionFileErrors(t *testing.T) {
	my, mdb := semisync.FlavorMySQL, semisync.FlavorMariaDB
	tests := []struct {
		name    string
		flavor  semisync.Flavor
		file    string
		kind    vars.ErrorKind
		line    int
		varName string
		msg     string
	}{
		{"include", my, "[mysqld]\nrpl_semi_sync_source_enabled=1\n!include /etc/mysql/extra.cnf\n", vars.ErrUnsupported, 3, "", "!include is not supported"},
		{"includedir before any group", my, "!includedir /etc/mysql/conf.d/\n", vars.ErrUnsupported, 1, "", "!includedir is not supported"},
		{"include in an ignored group", my, "[client]\n!INCLUDE x.cnf\n", vars.ErrUnsupported, 2, "", "!include is not supported"},
		{"other directive", my, "!reload\n", vars.ErrSyntax, 1, "", "wrong '!' directive"},
		{"option before a group", my, "rpl_semi_sync_source_enabled=1\n", vars.ErrSyntax, 1, "", "option without preceding group"},
		{"bad group", my, "[mysqld\nx=1\n", vars.ErrSyntax, 1, "", "wrong group definition"},
		{"no name", my, "[mysqld]\n= 5\n", vars.ErrSyntax, 2, "", "option without a name"},
		{"unknown semisync name", my, "[mysqld]\nrpl_semi_sync_source_bogus = 1\n", vars.ErrUnknownVariable, 2, "rpl_semi_sync_source_bogus", "Unknown system variable"},
		{"other flavor's name", mdb, "[mysqld]\n\nrpl-semi-sync-source-enabled = ON\n", vars.ErrUnknownVariable, 3, "rpl-semi-sync-source-enabled",
			"my.cnf:3: Unknown system variable 'rpl-semi-sync-source-enabled': it is the MySQL 8.0.26+ name; this registry uses MariaDB names: rpl_semi_sync_master_enabled"},
		{"mariadb has no wait count", mdb, "[mariadb]\nrpl_semi_sync_master_wait_for_slave_count=2\n", vars.ErrUnknownVariable, 2, "rpl_semi_sync_master_wait_for_slave_count", "MariaDB has no such variable"},
		{"mariadb has no server vars", mdb, "[mysqld]\nreplication_sender_observe_commit_only=1\n", vars.ErrUnknownVariable, 2, "replication_sender_observe_commit_only", "MariaDB has no such variable"},
		{"mariadb plugin option", mdb, "[mysqld]\nrpl_semi_sync_master=ON\n", vars.ErrUnknownVariable, 2, "rpl_semi_sync_master", "Unknown system variable"},
		{"skip prefix on unknown", my, "[mysqld]\nskip-rpl-semi-sync-master-enabled\n", vars.ErrUnknownVariable, 2, "skip-rpl-semi-sync-master-enabled", "this registry uses MySQL 8.0.26+ names"},
		{"bad boolean", my, "[mysqld]\nrpl_semi_sync_source_enabled = yes\n", vars.ErrWrongValue, 2, "rpl_semi_sync_source_enabled", "can't be set to the value of 'yes'"},
		{"empty boolean", my, "[mysqld]\nrpl_semi_sync_source_enabled =\n", vars.ErrWrongValue, 2, "rpl_semi_sync_source_enabled", "value of ''"},
		{"bad enum", my, "[mysqld]\nrpl_semi_sync_source_wait_point = AFTER\n", vars.ErrWrongValue, 2, "rpl_semi_sync_source_wait_point", "want AFTER_SYNC or AFTER_COMMIT"},
		{"integer without value", my, "[mysqld]\nrpl_semi_sync_source_timeout\n", vars.ErrWrongValue, 2, "rpl_semi_sync_source_timeout", "option requires a value"},
		{"bad integer", my, "[mysqld]\nrpl_semi_sync_source_timeout = 10s\n", vars.ErrWrongValue, 2, "rpl_semi_sync_source_timeout", "an unsigned integer is required"},
		{"out of range", my, "[mysqld]\nrpl_semi_sync_source_wait_for_replica_count = 64k\n", vars.ErrOutOfRange, 2, "rpl_semi_sync_source_wait_for_replica_count", "allowed range is 1..65535"},
		{"suffix overflow", mdb, "[mysqld]\nrpl_semi_sync_master_timeout = 16E\n", vars.ErrOutOfRange, 2, "rpl_semi_sync_master_timeout", "can't be set to the value of '16E'"},
		{"negative", my, "[mysqld]\nrpl_semi_sync_source_timeout = -1\n", vars.ErrOutOfRange, 2, "rpl_semi_sync_source_timeout", "value of '-1'"},
		{"skip on integer", my, "[mysqld]\nskip-rpl-semi-sync-source-timeout\n", vars.ErrWrongType, 2, "rpl_semi_sync_source_timeout", "prefixes apply only to boolean options"},
		{"enable on enum", my, "[mysqld]\nenable-rpl-semi-sync-source-wait-point\n", vars.ErrWrongType, 2, "rpl_semi_sync_source_wait_point", "prefixes apply only to boolean options"},
		{"prefix with a non-boolean", my, "[mysqld]\nskip-rpl-semi-sync-source-enabled = maybe\n", vars.ErrWrongValue, 2, "rpl_semi_sync_source_enabled", "want ON, OFF"},
		{"maximum prefix", my, "[mysqld]\nmaximum-rpl-semi-sync-source-timeout = 5\n", vars.ErrUnsupported, 2, "rpl_semi_sync_source_timeout", "maximum- prefix"},
		{"loose does not excuse a bad value", my, "[mysqld]\nloose-rpl-semi-sync-source-timeout = x\n", vars.ErrWrongValue, 2, "rpl_semi_sync_source_timeout", "value of 'x'"},
		{"long line", my, "[mysqld]\n#" + strings.Repeat("x", 1<<20) + "\n", vars.ErrSyntax, 2, "", "line longer than 1 MiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newReg(t, tt.flavor)
			err := r.LoadOptionFile(strings.NewReader(tt.file), "my.cnf")
			require.ErrorIs(t, err, tt.kind)
			var e *vars.Error
			require.ErrorAs(t, err, &e)
			require.Equal(t, tt.kind.Code(), e.Code)
			require.Equal(t, "my.cnf", e.File)
			require.Equal(t, tt.line, e.Line)
			require.Equal(t, tt.varName, e.Var)
			require.Contains(t, err.Error(), tt.msg)
			require.True(t, strings.HasPrefix(err.Error(), "vars: my.cnf:"), err.Error())
			require.Equal(t, vars.Defaults(tt.flavor), r.Config(), "a failed load changes nothing")
			require.Zero(t, r.Version())
		})
	}
}

// A file is loaded atomically: one bad line anywhere changes nothing.
func TestLoadOptionFileAtomic(t *testing.T) {
	r := newReg(t, semisync.FlavorMySQL)
	const good = "[mysqld]\nrpl_semi_sync_source_enabled = ON\nrpl_semi_sync_source_timeout = 50\n"
	for _, bad := range []string{
		good + "rpl_semi_sync_source_wait_point = SOMETIMES\n",
		good + "!include other.cnf\n",
		good + "rpl_semi_sync_source_bogus = 1\n",
	} {
		require.Error(t, r.LoadOptionFile(strings.NewReader(bad), "my.cnf"))
		require.Equal(t, vars.Defaults(semisync.FlavorMySQL), r.Config())
	}
	require.NoError(t, r.LoadOptionFile(strings.NewReader(good), "my.cnf"))
	require.Equal(t, uint64(1), r.Version(), "one file, one change")
}

func TestLoadOptionFileReadError(t *testing.T) {
	r := newReg(t, semisync.FlavorMySQL)
	boom := errors.New("disk on fire")
	err := r.LoadOptionFile(iotest.ErrReader(boom), "my.cnf")
	require.ErrorIs(t, err, boom)
	require.Equal(t, "vars: reading my.cnf: disk on fire", err.Error())
}

// A read-only variable accepts an option file that agrees with it.
func TestLoadOptionFileReadOnly(t *testing.T) {
	r := newReg(t, semisync.FlavorMySQL, vars.WithReadOnly("rpl_semi_sync_source_wait_point"))
	require.NoError(t, r.LoadOptionFile(strings.NewReader("[mysqld]\nrpl_semi_sync_source_wait_point=AFTER_SYNC\n"), "a.cnf"))
	err := r.LoadOptionFile(strings.NewReader("[mysqld]\n\nrpl_semi_sync_source_wait_point=AFTER_COMMIT\n"), "b.cnf")
	require.ErrorIs(t, err, vars.ErrReadOnly)
	require.Equal(t, "vars: b.cnf:3: Variable 'rpl_semi_sync_source_wait_point' is a read only variable (cannot set it to 'AFTER_COMMIT')", err.Error())
}
