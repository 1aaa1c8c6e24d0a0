package mariadbtest_test

import (
	"strings"
	"testing"
	"time"

	"github.com/semisync-go/semisync/interop/internal/mariadbtest"
)

// This is the body of a test that checks semisync against a real MariaDB
// source and replica. Every helper needs the test's *testing.T, which an
// example does not have, so the examples of this package are compiled but
// not run; TestReplicateFrom runs the same steps.
func Example() {
	var t *testing.T // in a real test: the test's *testing.T

	src := mariadbtest.Start(t, mariadbtest.Options{Args: []string{
		"--rpl-semi-sync-master-enabled=1",
		"--rpl-semi-sync-master-timeout=2000", // ms; the default is 10 s
	}})
	rep := mariadbtest.StartReplica(t, src, mariadbtest.Options{Args: []string{"--sync-relay-log=1"}})
	src.WaitStatus(t, "Rpl_semi_sync_master_clients", "1", 10*time.Second)

	yes := src.StatusInt(t, "Rpl_semi_sync_master_yes_tx")
	src.Exec(t, "CREATE DATABASE d")
	if got := src.StatusInt(t, "Rpl_semi_sync_master_yes_tx"); got != yes+1 {
		t.Fatalf("yes_tx = %d, want %d", got, yes+1)
	}

	// Without its replica the source waits for the timeout, then switches
	// semisync off.
	rep.StopSlave(t)
	src.WaitStatus(t, "Rpl_semi_sync_master_clients", "0", 10*time.Second)
	src.Exec(t, "CREATE DATABASE e")
	src.WaitStatus(t, "Rpl_semi_sync_master_status", "OFF", 10*time.Second)
}

// A test can assert what the server logged while it acted.
func ExampleServer_ErrorLogSince() {
	var t *testing.T // in a real test: the test's *testing.T

	src := mariadbtest.Start(t, mariadbtest.Options{Args: []string{
		"--rpl-semi-sync-master-enabled=1",
		"--rpl-semi-sync-master-timeout=100",
	}})
	off := src.ErrorLogSize()
	src.Exec(t, "CREATE DATABASE d") // no replica: waits 100 ms
	mariadbtest.Eventually(t, 10*time.Second, func() bool {
		return strings.Contains(src.ErrorLogSince(off), "Semi-sync replication switched OFF")
	}, "switch-off logged; log since: %s", src.ErrorLogSince(off))
}
