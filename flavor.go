package semisync

import (
	"fmt"
	"strings"
)

// Flavor selects which server's names the library presents: variable names
// in [vars], status names in [status], negotiation statements on the wire.
// The behaviour behind the names is the same unless a package says otherwise.
type Flavor uint8

const (
	// FlavorMySQL is MySQL 8.0.26 and later with the rpl_semi_sync_source /
	// rpl_semi_sync_replica plugins: rpl_semi_sync_source_*,
	// Rpl_semi_sync_source_* and Rpl_semi_sync_replica_status.
	FlavorMySQL Flavor = iota
	// FlavorMySQLLegacy is MySQL with the old rpl_semi_sync_master /
	// rpl_semi_sync_slave plugins (all of 5.5–8.0.25, deprecated after):
	// rpl_semi_sync_master_*, Rpl_semi_sync_master_*, Rpl_semi_sync_slave_status.
	FlavorMySQLLegacy
	// FlavorMariaDB is MariaDB 10.3.3 and later, where semisync is built in:
	// master/slave names, a few variables and counters of its own, no
	// wait_for_slave_count, and AFTER_COMMIT as the default wait point.
	FlavorMariaDB
)

// Flavors lists every flavor, in declaration order.
var Flavors = [...]Flavor{FlavorMySQL, FlavorMySQLLegacy, FlavorMariaDB}

var flavorNames = [...]string{"mysql", "mysql-legacy", "mariadb"}

// String returns "mysql", "mysql-legacy" or "mariadb".
func (f Flavor) String() string {
	if int(f) < len(flavorNames) {
		return flavorNames[f]
	}
	return fmt.Sprintf("Flavor(%d)", uint8(f))
}

// Valid reports whether f is one of the defined flavors.
func (f Flavor) Valid() bool { return int(f) < len(flavorNames) }

// ParseFlavor reads a flavor name as [Flavor.String] writes it, ignoring case.
func ParseFlavor(s string) (Flavor, error) {
	for i, n := range flavorNames {
		if strings.EqualFold(s, n) {
			return Flavor(i), nil
		}
	}
	return 0, fmt.Errorf("semisync: unknown flavor %q (want one of %s)", s, strings.Join(flavorNames[:], ", "))
}
