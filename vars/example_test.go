package vars_test

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/vars"
)

// A client's SET statement changes the live values a source reads.
func Example() {
	reg, err := vars.NewRegistry(semisync.FlavorMySQL)
	if err != nil {
		panic(err)
	}
	err = reg.Exec("SET GLOBAL rpl_semi_sync_source_enabled = ON, rpl_semi_sync_source_timeout = 2000, " +
		"rpl_semi_sync_source_wait_for_replica_count = 2")
	if err != nil {
		panic(err)
	}
	cfg := reg.Config() // lock-free: fine on every commit
	fmt.Println(cfg.SourceEnabled, cfg.Timeout(), cfg.WaitForReplicaCount, cfg.WaitPoint)
	fmt.Println("version", reg.Version())
	// Output:
	// true 2s 2 AFTER_SYNC
	// version 1
}

// Errors carry MySQL's error numbers and match the package's sentinels.
func ExampleRegistry_Exec_errors() {
	reg, _ := vars.NewRegistry(semisync.FlavorMySQL)
	for _, stmt := range []string{
		"SET rpl_semi_sync_source_timeout = 100",
		"SET GLOBAL rpl_semi_sync_source_wait_for_replica_count = 0",
		"SET GLOBAL rpl_semi_sync_master_timeout = 100",
	} {
		err := reg.Exec(stmt)
		var e *vars.Error
		if errors.As(err, &e) {
			fmt.Println(e.Code, errors.Is(err, vars.ErrOutOfRange), err)
		}
	}
	// Output:
	// 1229 false vars: Variable 'rpl_semi_sync_source_timeout' is a GLOBAL variable and should be set with SET GLOBAL
	// 1231 true vars: Variable 'rpl_semi_sync_source_wait_for_replica_count' can't be set to the value of '0': allowed range is 1..65535
	// 1193 false vars: Unknown system variable 'rpl_semi_sync_master_timeout': it is the MySQL legacy (master/slave) and MariaDB name; this registry uses MySQL 8.0.26+ names: rpl_semi_sync_source_timeout
}

// An option file sets the values a server starts with; options that are not
// semisync variables are left to the host.
func ExampleRegistry_LoadOptionFile() {
	const myCnf = `
[client]
port = 3306

[mysqld]
server-id = 1
log-bin   = binlog
loose-rpl-semi-sync-master-enabled          # a no-op on MySQL 8.0.26+ names
rpl-semi-sync-source-enabled                # no value: ON
rpl_semi_sync_source_timeout = 5k           # 5 * 1024 milliseconds
skip-rpl-semi-sync-source-wait-no-replica   # OFF
rpl_semi_sync_source_wait_point = "after_commit"
`
	reg, _ := vars.NewRegistry(semisync.FlavorMySQL)
	if err := reg.LoadOptionFile(strings.NewReader(myCnf), "my.cnf"); err != nil {
		panic(err)
	}
	cfg := reg.Config()
	fmt.Println(cfg.SourceEnabled, cfg.TimeoutMillis, cfg.WaitNoReplica, cfg.WaitPoint)
	// Output:
	// true 5120 false AFTER_COMMIT
}

// A MariaDB-style my.cnf given to a MySQL 8.0.26+ registry: the [mariadb]
// group is not read and the loose- option names no variable of this
// flavor. Nothing is applied for either, and each comes back as a warning
// to print before starting.
func ExampleRegistry_LoadOptionFileWarnings() {
	const myCnf = `
[mariadb]
rpl_semi_sync_master_timeout = 700

[mysqld]
loose-rpl-semi-sync-master-enabled = ON
rpl_semi_sync_source_enabled = ON
`
	reg, _ := vars.NewRegistry(semisync.FlavorMySQL)
	warnings, err := reg.LoadOptionFileWarnings(strings.NewReader(myCnf), "my.cnf")
	if err != nil {
		panic(err)
	}
	for _, w := range warnings {
		fmt.Println(w)
	}
	cfg := reg.Config()
	fmt.Println(cfg.SourceEnabled, cfg.TimeoutMillis)
	// Output:
	// my.cnf:3: [Warning] option 'rpl_semi_sync_master_timeout=700' in group [mariadb] skipped: MySQL 8.0.26+ servers read only [mysqld] and [server]
	// my.cnf:6: [Warning] unknown variable 'loose-rpl-semi-sync-master-enabled=ON': it is the MySQL legacy (master/slave) and MariaDB name; this registry uses MySQL 8.0.26+ names: rpl_semi_sync_source_enabled
	// true 10000
}

// Show answers SHOW VARIABLES LIKE with MySQL's LIKE semantics.
func ExampleRegistry_Show() {
	reg, _ := vars.NewRegistry(semisync.FlavorMariaDB)
	_ = reg.Exec("SET GLOBAL rpl_semi_sync_master_enabled = 1")
	_ = semisync.WriteTable(os.Stdout, reg.Show("rpl_semi_sync_master%"))
	// Output:
	// +------------------------------------+--------------+
	// | Variable_name                      | Value        |
	// +------------------------------------+--------------+
	// | rpl_semi_sync_master_enabled       | ON           |
	// | rpl_semi_sync_master_timeout       | 10000        |
	// | rpl_semi_sync_master_trace_level   | 32           |
	// | rpl_semi_sync_master_wait_no_slave | ON           |
	// | rpl_semi_sync_master_wait_point    | AFTER_COMMIT |
	// +------------------------------------+--------------+
}

// OnChange forwards changes to a running component in order.
func ExampleRegistry_OnChange() {
	reg, _ := vars.NewRegistry(semisync.FlavorMySQLLegacy)
	cancel := reg.OnChange(func(prev, next vars.Config) {
		fmt.Printf("wait point %v -> %v\n", prev.WaitPoint, next.WaitPoint)
	})
	defer cancel()
	_ = reg.Exec("SET GLOBAL rpl_semi_sync_master_wait_point = AFTER_COMMIT")
	_ = reg.Exec("SET @@global.rpl_semi_sync_master_wait_point = 0")
	_ = reg.Exec("SET @@global.rpl_semi_sync_master_wait_point = 0") // no change, no call
	// Output:
	// wait point AFTER_SYNC -> AFTER_COMMIT
	// wait point AFTER_COMMIT -> AFTER_SYNC
}
