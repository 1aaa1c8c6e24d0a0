package wire_test

// Regression tests from the independent review of issue 4: each scenario
// failed before its fix.

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/wire"
)

// TestReviewDeclaredSemisyncNumericForms (negotiate.go:245): MySQL reads the
// declaration with get_user_var_int, i.e. the value converted to an
// integer, so SET @rpl_semi_sync_slave = 1.0 (or 1e0) declares a semisync
// replica; ParseInt rejects those texts and the source would stream
// without the semisync header to a replica that expects it.
func TestReviewDeclaredSemisyncNumericForms(t *testing.T) {
	for _, stmt := range []string{"SET @rpl_semi_sync_slave = 1.0", "SET @rpl_semi_sync_slave = 1e0"} {
		vs, err := wire.ParseSetUserVars(stmt)
		require.NoError(t, err)
		vars := map[string]string{}
		for _, v := range vs {
			vars[v.Name] = v.Value
		}
		lookup := func(n string) (string, bool) { v, ok := vars[n]; return v, ok }
		require.True(t, wire.DeclaredSemisync(semisync.FlavorMariaDB, lookup), stmt)
	}
}
