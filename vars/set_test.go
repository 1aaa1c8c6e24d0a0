package vars_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/vars"
)

// ParseSet returns the items as written, with their scope and form.
func TestParseSet(t *testing.T) {
	type A = vars.Assignment
	const g, p, s = vars.ScopeGlobal, vars.ScopePersist, vars.ScopeSession
	tests := []struct {
		stmt string
		want []A
	}{
		{"SET GLOBAL x = 1", []A{{Name: "x", Value: "1", Form: vars.FormInt, Scope: g}}},
		{"set global X=on", []A{{Name: "X", Value: "on", Form: vars.FormWord, Scope: g}}},
		{"SET GLOBAL x := 'AFTER_SYNC';", []A{{Name: "x", Value: "AFTER_SYNC", Form: vars.FormString, Scope: g}}},
		{`SET GLOBAL x = "a""b", y = 'it''s', z = 'a\tb\\c\'d'`, []A{
			{Name: "x", Value: `a"b`, Form: vars.FormString, Scope: g},
			{Name: "y", Value: "it's", Form: vars.FormString, Scope: g},
			{Name: "z", Value: "a\tb\\c'd", Form: vars.FormString, Scope: g},
		}},
		{"SET GLOBAL x = 'AFTER' '_SYNC'", []A{{Name: "x", Value: "AFTER_SYNC", Form: vars.FormString, Scope: g}}},
		// A scope keyword carries over to later items without one.
		{"SET GLOBAL a=1, b=2, SESSION c=3, d=4, PERSIST e=5, f=6", []A{
			{Name: "a", Value: "1", Form: vars.FormInt, Scope: g},
			{Name: "b", Value: "2", Form: vars.FormInt, Scope: g},
			{Name: "c", Value: "3", Form: vars.FormInt, Scope: s},
			{Name: "d", Value: "4", Form: vars.FormInt, Scope: s},
			{Name: "e", Value: "5", Form: vars.FormInt, Scope: p},
			{Name: "f", Value: "6", Form: vars.FormInt, Scope: p},
		}},
		{"SET a=1, LOCAL b=2", []A{
			{Name: "a", Value: "1", Form: vars.FormInt, Scope: s},
			{Name: "b", Value: "2", Form: vars.FormInt, Scope: s},
		}},
		// @@scope. qualifies its own item only; @@name is SESSION.
		{"SET @@global.a=1, @@GLOBAL.b=2, @@persist.c=3, @@session.d=4, @@local.e=5, @@f=6, g=7", []A{
			{Name: "a", Value: "1", Form: vars.FormInt, Scope: g},
			{Name: "b", Value: "2", Form: vars.FormInt, Scope: g},
			{Name: "c", Value: "3", Form: vars.FormInt, Scope: p},
			{Name: "d", Value: "4", Form: vars.FormInt, Scope: s},
			{Name: "e", Value: "5", Form: vars.FormInt, Scope: s},
			{Name: "f", Value: "6", Form: vars.FormInt, Scope: s},
			{Name: "g", Value: "7", Form: vars.FormInt, Scope: s},
		}},
		{"SET GLOBAL a=1, @@b=2", []A{
			{Name: "a", Value: "1", Form: vars.FormInt, Scope: g},
			{Name: "b", Value: "2", Form: vars.FormInt, Scope: s},
		}},
		{"SET GLOBAL `rpl_semi_sync``x` = `ON`, @@global.`y` = DEFAULT", []A{
			{Name: "rpl_semi_sync`x", Value: "ON", Form: vars.FormWord, Scope: g},
			{Name: "y", Default: true, Scope: g},
		}},
		{"  /* hi */ SET /* there */ GLOBAL\n\tx # comment\n = -- comment\n 5 ; -- done", []A{
			{Name: "x", Value: "5", Form: vars.FormInt, Scope: g},
		}},
		{"SET GLOBAL x = -5, y = + 7, z = -1.5, w = 1.5e3, v = 10K, u = TRUE, t = false, q = `TRUE`", []A{
			{Name: "x", Value: "-5", Form: vars.FormInt, Scope: g},
			{Name: "y", Value: "7", Form: vars.FormInt, Scope: g},
			{Name: "z", Value: "-1.5", Form: vars.FormDecimal, Scope: g},
			{Name: "w", Value: "1.5e3", Form: vars.FormDecimal, Scope: g},
			{Name: "v", Value: "10K", Form: vars.FormWord, Scope: g},
			{Name: "u", Value: "1", Form: vars.FormInt, Scope: g}, // MySQL's literal
			{Name: "t", Value: "0", Form: vars.FormInt, Scope: g},
			{Name: "q", Value: "TRUE", Form: vars.FormWord, Scope: g}, // a name, not the literal
		}},
		// Scope keywords used as variable names.
		{"SET global = 1", []A{{Name: "global", Value: "1", Form: vars.FormInt, Scope: s}}},
		{"SET GLOBAL session := 1", []A{{Name: "session", Value: "1", Form: vars.FormInt, Scope: g}}},
	}
	r := newReg(t, semisync.FlavorMySQL)
	for _, tt := range tests {
		t.Run(tt.stmt, func(t *testing.T) {
			got, err := r.ParseSet(tt.stmt)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

// Every accepted spelling applies as GLOBAL.
func TestExecSpellings(t *testing.T) {
	for _, stmt := range []string{
		"SET GLOBAL rpl_semi_sync_source_timeout = 7",
		"SET GLOBAL rpl_semi_sync_source_timeout := 7",
		"set global rpl_semi_sync_source_timeout=7;",
		"SET PERSIST rpl_semi_sync_source_timeout = 7",
		"SET @@global.rpl_semi_sync_source_timeout = 7",
		"SET @@GLOBAL.RPL_SEMI_SYNC_SOURCE_TIMEOUT = 7",
		"SET @@persist.rpl_semi_sync_source_timeout = 7",
		"SET GLOBAL `rpl_semi_sync_source_timeout` = 7",
		"SET @@global.`rpl_semi_sync_source_timeout` = 7",
		"SET GLOBAL rpl_semi_sync_source_enabled = 0, GLOBAL rpl_semi_sync_source_timeout = 7",
		"\n/* a */SET/* b */GLOBAL/* c */rpl_semi_sync_source_timeout/* d */=/* e */7/* f */;/* g */\n",
		"SET GLOBAL rpl_semi_sync_source_timeout = 7 # trailing comment",
	} {
		t.Run(stmt, func(t *testing.T) {
			r := newReg(t, semisync.FlavorMySQL)
			require.NoError(t, r.Exec(stmt))
			require.Equal(t, uint64(7), r.Config().TimeoutMillis)
		})
	}
	// A statement that also sets a variable that is not ours fails as a
	// whole: the host must split such statements.
	r := newReg(t, semisync.FlavorMySQL)
	err := r.Exec("SET SESSION sql_log_bin = 0, GLOBAL rpl_semi_sync_source_timeout = 7")
	require.ErrorIs(t, err, vars.ErrUnknownVariable)
	require.Equal(t, uint64(10000), r.Config().TimeoutMillis)
}
