package semisync_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/semisync-go/semisync"
)

func TestLike(t *testing.T) {
	cases := []struct {
		s, pattern string
		want       bool
	}{
		{"rpl_semi_sync_source_enabled", "rpl_semi_sync%", true},
		{"rpl_semi_sync_source_enabled", "RPL_SEMI_SYNC%", true},
		{"Rpl_semi_sync_source_yes_tx", "%yes\\_tx", true},
		{"Rpl_semi_sync_source_yesXtx", "%yes\\_tx", false},
		{"Rpl_semi_sync_source_yesXtx", "%yes_tx", true},
		{"abc", "a_c", true},
		{"ac", "a_c", false},
		{"abc", "%", true},
		{"", "%", true},
		{"", "", true},
		{"a", "", false},
		{"", "_", false},
		{"abc", "abc%%", true},
		{"abc", "%b%", true},
		{"abc", "%d%", false},
		{"aaab", "%a%ab", true},
		{"mississippi", "m%iss%ppi", true},
		{"mississippi", "m%iss%ppix", false},
		{"100%", "100\\%", true},
		{"1000", "100\\%", false},
		{"a\\", "a\\", true}, // a trailing backslash is literal
		{"a\\b", "a\\\\b", true},
		{"é", "_", true}, // _ is one character, not one byte
		{"éx", "_x", true},
		{"x", "X", true},
	}
	for _, tc := range cases {
		require.Equal(t, tc.want, semisync.Like(tc.s, tc.pattern), "Like(%q, %q)", tc.s, tc.pattern)
	}
}

func TestLikeDoesNotAllocate(t *testing.T) {
	ok := true
	allocs := testing.AllocsPerRun(100, func() {
		ok = ok && semisync.Like("Rpl_semi_sync_source_wait_pos_backtraverse", "rpl\\_semi%wait%")
	})
	require.True(t, ok)
	require.Zero(t, allocs)
}

func TestWriteTable(t *testing.T) {
	var b strings.Builder
	require.NoError(t, semisync.WriteTable(&b, []semisync.Row{
		{"rpl_semi_sync_source_enabled", "ON"},
		{"rpl_semi_sync_source_wait_point", "AFTER_SYNC"},
	}))
	want := `+---------------------------------+------------+
| Variable_name                   | Value      |
+---------------------------------+------------+
| rpl_semi_sync_source_enabled    | ON         |
| rpl_semi_sync_source_wait_point | AFTER_SYNC |
+---------------------------------+------------+
`
	require.Equal(t, want, b.String())

	b.Reset()
	require.NoError(t, semisync.WriteTable(&b, nil))
	require.Equal(t, "+---------------+-------+\n| Variable_name | Value |\n+---------------+-------+\n+---------------+-------+\n", b.String())
}

func TestFlavor(t *testing.T) {
	for _, f := range semisync.Flavors {
		got, err := semisync.ParseFlavor(strings.ToUpper(f.String()))
		require.NoError(t, err)
		require.Equal(t, f, got)
		require.True(t, f.Valid())
	}
	_, err := semisync.ParseFlavor("postgres")
	require.ErrorContains(t, err, `unknown flavor "postgres"`)
	require.False(t, semisync.Flavor(9).Valid())
	require.Equal(t, "Flavor(9)", semisync.Flavor(9).String())
	require.Equal(t, "42", semisync.ReplicaID(42).String())
}
