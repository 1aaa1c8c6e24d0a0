package main

import (
	"strconv"
	"strings"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/vars"
)

// names gives the demo's variable and status names in one flavor (the
// -flavor flag). The demo is written with MySQL 8.0.26+ names; names
// translates them with the vars package's own tables.
type names struct {
	flavor semisync.Flavor
	mysql  *vars.Registry // the MySQL 8.0.26+ names, to translate from
}

func newNames(f semisync.Flavor) (names, error) {
	my, err := vars.NewRegistry(semisync.FlavorMySQL)
	return names{flavor: f, mysql: my}, err
}

// v returns the flavor's name of the MySQL 8.0.26+ variable mysqlName, and
// false when the flavor has no such variable (MariaDB has no
// wait_for_replica_count: a MariaDB source waits for one replica).
func (n names) v(mysqlName string) (string, bool) {
	v, err := n.mysql.Lookup(mysqlName)
	if err != nil {
		return "", false
	}
	return v.Name(n.flavor)
}

// must is v for the variables every flavor has.
func (n names) must(mysqlName string) string {
	name, ok := n.v(mysqlName)
	if !ok {
		panic("cluster: " + n.flavor.String() + " has no variable for " + mysqlName)
	}
	return name
}

// sourcePrefix is the prefix of the source's variables:
// rpl_semi_sync_source_ or rpl_semi_sync_master_.
func (n names) sourcePrefix() string {
	return strings.TrimSuffix(n.must("rpl_semi_sync_source_enabled"), "enabled")
}

// waitCountSetting describes the wait count for a scene title, such as
// "wait_for_replica_count=2"; MariaDB has no such variable.
func (n names) waitCountSetting(w int) string {
	name, ok := n.v("rpl_semi_sync_source_wait_for_replica_count")
	if !ok {
		return "one acknowledgement needed (MariaDB has no wait count)"
	}
	return strings.TrimPrefix(name, n.sourcePrefix()) + "=" + strconv.Itoa(w)
}

// statusPrefix is the prefix of a source's status variables in flavor f:
// Rpl_semi_sync_source_ or Rpl_semi_sync_master_.
func statusPrefix(f semisync.Flavor) string {
	if f == semisync.FlavorMySQL {
		return "Rpl_semi_sync_source_"
	}
	return "Rpl_semi_sync_master_"
}
