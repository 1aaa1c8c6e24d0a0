package vars_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/vars"
)

// Every semisync option an option file skips comes back as a warning;
// nothing else does.
func TestOptionFileWarnings(t *testing.T) {
	my, mdb := semisync.FlavorMySQL, semisync.FlavorMariaDB
	const (
		myGroups  = "MySQL 8.0.26+ servers read only [mysqld] and [server]"
		mdbGroups = "MariaDB servers read only [mysqld], [server], [mariadb], [mariadbd] and [client-server]"
		versioned = "this package does not read version-suffixed groups (a server of that version would); "
		legacyHit = "it is the MySQL legacy (master/slave) and MariaDB name; this registry uses MySQL 8.0.26+ names: "
	)
	type W = vars.Warning
	notRead := func(line int, group, option, detail string) W {
		return W{Kind: vars.WarnGroupNotRead, File: "my.cnf", Line: line, Group: group, Option: option, Detail: detail}
	}
	loose := func(line int, group, option, detail string) W {
		return W{Kind: vars.WarnUnknownLoose, File: "my.cnf", Line: line, Group: group, Option: option, Detail: detail}
	}
	tests := []struct {
		name   string
		flavor semisync.Flavor
		file   string
		want   []W
		edit   func(c *vars.Config) // the Config expected, from the defaults
	}{
		{"a MariaDB group under MySQL", my, "[mariadb]\nrpl_semi_sync_master_timeout = 700\n",
			[]W{notRead(2, "mariadb", "rpl_semi_sync_master_timeout=700", myGroups)}, nil},
		{"the same group under MariaDB is read", mdb, "[mariadb]\nrpl_semi_sync_master_timeout = 700\n",
			nil, func(c *vars.Config) { c.TimeoutMillis = 700 }},
		{"any flavor's names, with prefixes and dashes", my, `[mariadbd]
loose-rpl-semi-sync-master-enabled
skip_rpl_semi_sync_master_wait_no_slave
rpl_semi_sync_source_timeout = '5' # this flavor's name, all the same
[client]
RPL_SEMI_SYNC_SLAVE_DELAY_MASTER=ON
`, []W{
			notRead(2, "mariadbd", "loose-rpl-semi-sync-master-enabled", myGroups),
			notRead(3, "mariadbd", "skip_rpl_semi_sync_master_wait_no_slave", myGroups),
			notRead(4, "mariadbd", "rpl_semi_sync_source_timeout=5", myGroups),
			notRead(6, "client", "RPL_SEMI_SYNC_SLAVE_DELAY_MASTER=ON", myGroups),
		}, nil},
		{"version-suffixed groups", mdb, "[mysqld-8.0]\nrpl_semi_sync_master_timeout=4\n[mariadb-10.11]\nrpl_semi_sync_master_timeout=5\n[client-8.0]\nrpl_semi_sync_master_timeout=6\n",
			[]W{
				notRead(2, "mysqld-8.0", "rpl_semi_sync_master_timeout=4", versioned+mdbGroups),
				notRead(4, "mariadb-10.11", "rpl_semi_sync_master_timeout=5", versioned+mdbGroups),
				notRead(6, "client-8.0", "rpl_semi_sync_master_timeout=6", mdbGroups),
			}, nil},
		{"other options in other groups are not ours", my, `[client]
port = 3306
= broken, but the server skips the line unread
[mariadb]
datadir = /var/lib/mysql
rpl_semi_sync_source = FORCE_PLUS_PERMANENT
rpl_semi_sync_source_bogus = 1
`, nil, nil},
		{"a loose name of another flavor", my, "[mysqld]\nloose-rpl_semi_sync_master_timeout=700\n",
			[]W{loose(2, "mysqld", "loose-rpl_semi_sync_master_timeout=700", legacyHit+"rpl_semi_sync_source_timeout")}, nil},
		{"a loose misspelt name", my, "[server]\nloose-rpl-semi-sync-source-timout = 5\n",
			[]W{loose(2, "server", "loose-rpl-semi-sync-source-timout=5", "")}, nil},
		{"loose names MariaDB lacks", mdb, `[mysqld]
loose-rpl-semi-sync-source-enabled = ON
loose_rpl_semi_sync_master_wait_for_slave_count = 4
loose-replication-sender-observe-commit-only
loose-rpl-semi-sync-master-enabled = ON
loose-rpl-semi-sync-source = ON
`, []W{
			loose(2, "mysqld", "loose-rpl-semi-sync-source-enabled=ON", "it is the MySQL 8.0.26+ name; this registry uses MariaDB names: rpl_semi_sync_master_enabled"),
			loose(3, "mysqld", "loose_rpl_semi_sync_master_wait_for_slave_count=4", "it is the MySQL legacy (master/slave) name; MariaDB has no such variable"),
			loose(4, "mysqld", "loose-replication-sender-observe-commit-only", "it is the MySQL 8.0.26+ and MySQL legacy (master/slave) name; MariaDB has no such variable"),
			loose(6, "mysqld", "loose-rpl-semi-sync-source=ON", ""),
		}, func(c *vars.Config) { c.SourceEnabled = true }},
		{"loose options that are known, or not semisync, or plugin options", my, `[mysqld]
loose-rpl-semi-sync-source-timeout = 5
loose-some-plugin-option = 3
loose-rpl-semi-sync-source = FORCE_PLUS_PERMANENT
skip-loose-rpl-semi-sync-source-enabled
`, nil, func(c *vars.Config) { c.TimeoutMillis, c.SourceEnabled = 5, true }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newReg(t, tt.flavor)
			as, ws, err := r.ParseOptionFileWarnings(strings.NewReader(tt.file), "my.cnf")
			require.NoError(t, err)
			require.Equal(t, tt.want, ws)
			plain, err := r.ParseOptionFile(strings.NewReader(tt.file), "my.cnf")
			require.NoError(t, err)
			require.Equal(t, plain, as, "ParseOptionFile returns the same assignments")

			ws, err = r.LoadOptionFileWarnings(strings.NewReader(tt.file), "my.cnf")
			require.NoError(t, err)
			require.Equal(t, tt.want, ws)
			want := vars.Defaults(tt.flavor)
			if tt.edit != nil {
				tt.edit(&want)
			}
			require.Equal(t, want, r.Config())
		})
	}
}

// Warnings print like MySQL's option warnings, after the file and line.
func TestWarningString(t *testing.T) {
	r := newReg(t, semisync.FlavorMySQL)
	ws, err := r.LoadOptionFileWarnings(strings.NewReader("[mariadb]\nrpl_semi_sync_master_timeout=700\n[mysqld]\nloose-rpl-semi-sync-master-timeout = 700\n"), "etc/my.cnf")
	require.NoError(t, err)
	var lines []string
	for _, w := range ws {
		lines = append(lines, w.String())
	}
	require.Equal(t, []string{
		"etc/my.cnf:2: [Warning] option 'rpl_semi_sync_master_timeout=700' in group [mariadb] skipped: MySQL 8.0.26+ servers read only [mysqld] and [server]",
		"etc/my.cnf:4: [Warning] unknown variable 'loose-rpl-semi-sync-master-timeout=700': it is the MySQL legacy (master/slave) and MariaDB name; this registry uses MySQL 8.0.26+ names: rpl_semi_sync_source_timeout",
	}, lines)
	require.Equal(t, "[Warning] unknown variable 'x'", vars.Warning{Kind: vars.WarnUnknownLoose, Option: "x"}.String())
	require.Equal(t, "group-not-read", vars.WarnGroupNotRead.String())
	require.Equal(t, "unknown-loose", vars.WarnUnknownLoose.String())
	require.Equal(t, "WarningKind(9)", vars.WarningKind(9).String())
	require.Equal(t, "f: [Warning] WarningKind(9) 'x'", vars.Warning{Kind: 9, File: "f", Option: "x"}.String())
}

// Without loose-, another flavor's name in a group the flavor reads is an
// error, as it stops the server: a MySQL 8.0.26+ server runs the
// rpl_semi_sync_source plugin, which has no rpl_semi_sync_master_*
// variables. The warnings of the lines before the error come back with it,
// and nothing is applied.
func TestOptionFileWarningsWithError(t *testing.T) {
	r := newReg(t, semisync.FlavorMySQL)
	file := "[mariadb]\nrpl_semi_sync_master_enabled=ON\n[mysqld]\nrpl_semi_sync_source_timeout=5\nrpl_semi_sync_master_timeout=700\n"
	ws, err := r.LoadOptionFileWarnings(strings.NewReader(file), "my.cnf")
	require.ErrorIs(t, err, vars.ErrUnknownVariable)
	require.EqualError(t, err, "vars: my.cnf:5: Unknown system variable 'rpl_semi_sync_master_timeout': "+
		"it is the MySQL legacy (master/slave) and MariaDB name; this registry uses MySQL 8.0.26+ names: rpl_semi_sync_source_timeout")
	require.Len(t, ws, 1)
	require.Equal(t, vars.WarnGroupNotRead, ws[0].Kind)
	require.Equal(t, 2, ws[0].Line)
	require.Equal(t, vars.Defaults(semisync.FlavorMySQL), r.Config())
	require.Zero(t, r.Version())
}
