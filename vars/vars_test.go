package vars_test

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/vars"
)

func newReg(t testing.TB, f semisync.Flavor, opts ...vars.Option) *vars.Registry {
	t.Helper()
	r, err := vars.NewRegistry(f, opts...)
	require.NoError(t, err)
	return r
}

func rows(kv ...string) []semisync.Row {
	var out []semisync.Row
	for i := 0; i < len(kv); i += 2 {
		out = append(out, semisync.Row{Name: kv[i], Value: kv[i+1]})
	}
	return out
}

// Every variable of every flavor, with its default, in SHOW VARIABLES order
// (spec §1).
func TestDefaultsPerFlavor(t *testing.T) {
	tests := []struct {
		flavor semisync.Flavor
		want   []semisync.Row
	}{
		{semisync.FlavorMySQL, rows(
			"replication_optimize_for_static_plugin_config", "OFF",
			"replication_sender_observe_commit_only", "OFF",
			"rpl_semi_sync_replica_enabled", "OFF",
			"rpl_semi_sync_replica_trace_level", "32",
			"rpl_semi_sync_source_enabled", "OFF",
			"rpl_semi_sync_source_timeout", "10000",
			"rpl_semi_sync_source_trace_level", "32",
			"rpl_semi_sync_source_wait_for_replica_count", "1",
			"rpl_semi_sync_source_wait_no_replica", "ON",
			"rpl_semi_sync_source_wait_point", "AFTER_SYNC",
		)},
		{semisync.FlavorMySQLLegacy, rows(
			"replication_optimize_for_static_plugin_config", "OFF",
			"replication_sender_observe_commit_only", "OFF",
			"rpl_semi_sync_master_enabled", "OFF",
			"rpl_semi_sync_master_timeout", "10000",
			"rpl_semi_sync_master_trace_level", "32",
			"rpl_semi_sync_master_wait_for_slave_count", "1",
			"rpl_semi_sync_master_wait_no_slave", "ON",
			"rpl_semi_sync_master_wait_point", "AFTER_SYNC",
			"rpl_semi_sync_slave_enabled", "OFF",
			"rpl_semi_sync_slave_trace_level", "32",
		)},
		// As a MariaDB 10.11 server shows them (mariadb-on-loopback.md).
		{semisync.FlavorMariaDB, rows(
			"rpl_semi_sync_master_enabled", "OFF",
			"rpl_semi_sync_master_timeout", "10000",
			"rpl_semi_sync_master_trace_level", "32",
			"rpl_semi_sync_master_wait_no_slave", "ON",
			"rpl_semi_sync_master_wait_point", "AFTER_COMMIT",
			"rpl_semi_sync_slave_delay_master", "OFF",
			"rpl_semi_sync_slave_enabled", "OFF",
			"rpl_semi_sync_slave_kill_conn_timeout", "5",
			"rpl_semi_sync_slave_trace_level", "32",
		)},
	}
	for _, tt := range tests {
		t.Run(tt.flavor.String(), func(t *testing.T) {
			r := newReg(t, tt.flavor)
			require.Equal(t, tt.want, r.Show("%"))
			require.Equal(t, vars.Defaults(tt.flavor), r.Config())
			for _, v := range r.Vars() {
				name, ok := v.Name(tt.flavor)
				require.True(t, ok)
				got, err := r.Get(name)
				require.NoError(t, err)
				require.Equal(t, v.Default(), got, name)
			}
		})
	}
}

func TestDefaultsConfig(t *testing.T) {
	my := vars.Defaults(semisync.FlavorMySQL)
	require.Equal(t, vars.Config{
		TimeoutMillis: 10000, WaitForReplicaCount: 1, WaitNoReplica: true, WaitPoint: vars.AfterSync,
		SourceTraceLevel: 32, ReplicaTraceLevel: 32, ReplicaKillConnTimeout: 5,
	}, my)
	require.Equal(t, my, vars.Defaults(semisync.FlavorMySQLLegacy))
	maria := my
	maria.WaitPoint = vars.AfterCommit
	require.Equal(t, maria, vars.Defaults(semisync.FlavorMariaDB))
	require.Equal(t, my, vars.Defaults(semisync.Flavor(9)), "invalid flavor gets MySQL's defaults")
}

// The descriptor of every variable in every flavor.
func TestVarDescriptors(t *testing.T) {
	type desc struct {
		names    [3]string // MySQL, legacy, MariaDB
		kind     vars.Kind
		side     vars.Side
		unit     vars.Unit
		min      uint64
		max      [3]uint64
		defaults [3]string
	}
	const u32 = math.MaxUint32
	all := []desc{
		{[3]string{"rpl_semi_sync_source_enabled", "rpl_semi_sync_master_enabled", "rpl_semi_sync_master_enabled"},
			vars.KindBool, vars.SideSource, vars.UnitNone, 0, [3]uint64{1, 1, 1}, [3]string{"OFF", "OFF", "OFF"}},
		{[3]string{"rpl_semi_sync_source_timeout", "rpl_semi_sync_master_timeout", "rpl_semi_sync_master_timeout"},
			vars.KindUint, vars.SideSource, vars.UnitMilliseconds, 0, [3]uint64{u32, u32, math.MaxUint64}, [3]string{"10000", "10000", "10000"}},
		{[3]string{"rpl_semi_sync_source_wait_for_replica_count", "rpl_semi_sync_master_wait_for_slave_count", ""},
			vars.KindUint, vars.SideSource, vars.UnitNone, 1, [3]uint64{65535, 65535, 0}, [3]string{"1", "1", ""}},
		{[3]string{"rpl_semi_sync_source_wait_no_replica", "rpl_semi_sync_master_wait_no_slave", "rpl_semi_sync_master_wait_no_slave"},
			vars.KindBool, vars.SideSource, vars.UnitNone, 0, [3]uint64{1, 1, 1}, [3]string{"ON", "ON", "ON"}},
		{[3]string{"rpl_semi_sync_source_wait_point", "rpl_semi_sync_master_wait_point", "rpl_semi_sync_master_wait_point"},
			vars.KindEnum, vars.SideSource, vars.UnitNone, 0, [3]uint64{1, 1, 1}, [3]string{"AFTER_SYNC", "AFTER_SYNC", "AFTER_COMMIT"}},
		{[3]string{"rpl_semi_sync_source_trace_level", "rpl_semi_sync_master_trace_level", "rpl_semi_sync_master_trace_level"},
			vars.KindUint, vars.SideSource, vars.UnitNone, 0, [3]uint64{u32, u32, math.MaxUint64}, [3]string{"32", "32", "32"}},
		{[3]string{"rpl_semi_sync_replica_enabled", "rpl_semi_sync_slave_enabled", "rpl_semi_sync_slave_enabled"},
			vars.KindBool, vars.SideReplica, vars.UnitNone, 0, [3]uint64{1, 1, 1}, [3]string{"OFF", "OFF", "OFF"}},
		{[3]string{"rpl_semi_sync_replica_trace_level", "rpl_semi_sync_slave_trace_level", "rpl_semi_sync_slave_trace_level"},
			vars.KindUint, vars.SideReplica, vars.UnitNone, 0, [3]uint64{u32, u32, math.MaxUint64}, [3]string{"32", "32", "32"}},
		{[3]string{"", "", "rpl_semi_sync_slave_delay_master"},
			vars.KindBool, vars.SideReplica, vars.UnitNone, 0, [3]uint64{0, 0, 1}, [3]string{"", "", "OFF"}},
		{[3]string{"", "", "rpl_semi_sync_slave_kill_conn_timeout"},
			vars.KindUint, vars.SideReplica, vars.UnitSeconds, 0, [3]uint64{0, 0, u32}, [3]string{"", "", "5"}},
		{[3]string{"replication_sender_observe_commit_only", "replication_sender_observe_commit_only", ""},
			vars.KindBool, vars.SideServer, vars.UnitNone, 0, [3]uint64{1, 1, 0}, [3]string{"OFF", "OFF", ""}},
		{[3]string{"replication_optimize_for_static_plugin_config", "replication_optimize_for_static_plugin_config", ""},
			vars.KindBool, vars.SideServer, vars.UnitNone, 0, [3]uint64{1, 1, 0}, [3]string{"OFF", "OFF", ""}},
	}
	for _, f := range semisync.Flavors {
		r := newReg(t, f)
		count := 0
		for _, d := range all {
			if d.names[f] == "" {
				_, err := r.Lookup(otherName(d.names))
				require.ErrorIs(t, err, vars.ErrUnknownVariable)
				continue
			}
			count++
			t.Run(f.String()+"/"+d.names[f], func(t *testing.T) {
				v, err := r.Lookup(strings.ToUpper(d.names[f])) // names ignore case
				require.NoError(t, err)
				require.Equal(t, d.names[f], v.String())
				for g := range semisync.Flavors {
					name, ok := v.Name(semisync.Flavor(g))
					require.Equal(t, d.names[g], name)
					require.Equal(t, d.names[g] != "", ok)
				}
				_, ok := v.Name(semisync.Flavor(7))
				require.False(t, ok)
				require.Equal(t, d.kind, v.Kind())
				require.Equal(t, d.side, v.Side())
				require.Equal(t, d.unit, v.Unit())
				require.Equal(t, d.min, v.Min())
				require.Equal(t, d.max[f], v.Max())
				require.Equal(t, d.defaults[f], v.Default())
				require.True(t, v.Dynamic(), "every semisync variable is dynamic (spec §1)")
				require.NotEmpty(t, v.Doc())
				if d.kind == vars.KindEnum {
					require.Equal(t, []string{"AFTER_SYNC", "AFTER_COMMIT"}, v.EnumNames())
				} else {
					require.Nil(t, v.EnumNames())
				}
			})
		}
		require.Len(t, r.Vars(), count, "registry of %v has exactly its flavor's variables", f)
	}
}

func otherName(names [3]string) string {
	for _, n := range names {
		if n != "" {
			return n
		}
	}
	return ""
}

// setCase is one successful SET, checked through Get and Config.
type setCase struct {
	flavor semisync.Flavor
	stmt   string
	name   string // variable to read back with Get
	want   string
	check  func(c vars.Config) bool
}

// Every variable, set to typical, boundary and alternatively spelled values.
func TestSetEveryVariable(t *testing.T) {
	my, leg, mdb := semisync.FlavorMySQL, semisync.FlavorMySQLLegacy, semisync.FlavorMariaDB
	tests := []setCase{
		// source enabled: every boolean spelling.
		{my, "SET GLOBAL rpl_semi_sync_source_enabled = ON", "rpl_semi_sync_source_enabled", "ON", func(c vars.Config) bool { return c.SourceEnabled }},
		{my, "SET GLOBAL rpl_semi_sync_source_enabled = 1", "rpl_semi_sync_source_enabled", "ON", nil},
		{my, "SET GLOBAL rpl_semi_sync_source_enabled = true", "rpl_semi_sync_source_enabled", "ON", nil},
		{my, "SET GLOBAL rpl_semi_sync_source_enabled = 'on'", "rpl_semi_sync_source_enabled", "ON", nil},
		{my, `SET GLOBAL rpl_semi_sync_source_enabled = "on"`, "rpl_semi_sync_source_enabled", "ON", nil},
		{my, "SET GLOBAL rpl_semi_sync_source_enabled = 01", "rpl_semi_sync_source_enabled", "ON", nil},
		{my, "SET GLOBAL rpl_semi_sync_source_enabled = true", "rpl_semi_sync_source_enabled", "ON", nil},
		{my, "SET GLOBAL rpl_semi_sync_source_wait_point = 'after_commit'", "rpl_semi_sync_source_wait_point", "AFTER_COMMIT", nil},
		{my, "SET GLOBAL rpl_semi_sync_source_wait_point = TRUE", "rpl_semi_sync_source_wait_point", "AFTER_COMMIT", nil}, // TRUE is 1
		{my, "SET GLOBAL rpl_semi_sync_source_enabled = -0", "rpl_semi_sync_source_enabled", "OFF", nil},
		{my, "SET GLOBAL rpl_semi_sync_source_enabled = `ON`", "rpl_semi_sync_source_enabled", "ON", nil},
		{my, "SET GLOBAL rpl_semi_sync_source_enabled = OFF", "rpl_semi_sync_source_enabled", "OFF", func(c vars.Config) bool { return !c.SourceEnabled }},
		{my, "SET GLOBAL rpl_semi_sync_source_enabled = 0", "rpl_semi_sync_source_enabled", "OFF", nil},
		{my, "SET GLOBAL rpl_semi_sync_source_enabled = FALSE", "rpl_semi_sync_source_enabled", "OFF", nil},
		{leg, "SET GLOBAL rpl_semi_sync_master_enabled = 1", "rpl_semi_sync_master_enabled", "ON", func(c vars.Config) bool { return c.SourceEnabled }},
		{mdb, "SET GLOBAL rpl_semi_sync_master_enabled = 'ON'", "rpl_semi_sync_master_enabled", "ON", func(c vars.Config) bool { return c.SourceEnabled }},
		// timeout
		{my, "SET GLOBAL rpl_semi_sync_source_timeout = 0", "rpl_semi_sync_source_timeout", "0", func(c vars.Config) bool { return c.TimeoutMillis == 0 }},
		{my, "SET GLOBAL rpl_semi_sync_source_timeout = 4294967295", "rpl_semi_sync_source_timeout", "4294967295", func(c vars.Config) bool { return c.TimeoutMillis == math.MaxUint32 }},
		{my, "SET GLOBAL rpl_semi_sync_source_timeout = TRUE", "rpl_semi_sync_source_timeout", "1", nil}, // TRUE is the integer 1 in MySQL
		{my, "SET GLOBAL rpl_semi_sync_source_timeout = -0", "rpl_semi_sync_source_timeout", "0", nil},
		{leg, "SET GLOBAL rpl_semi_sync_master_timeout = 500", "rpl_semi_sync_master_timeout", "500", func(c vars.Config) bool { return c.TimeoutMillis == 500 }},
		{mdb, "SET GLOBAL rpl_semi_sync_master_timeout = 18446744073709551615", "rpl_semi_sync_master_timeout", "18446744073709551615", func(c vars.Config) bool { return c.TimeoutMillis == math.MaxUint64 }},
		// wait for replica count
		{my, "SET GLOBAL rpl_semi_sync_source_wait_for_replica_count = 1", "rpl_semi_sync_source_wait_for_replica_count", "1", nil},
		{my, "SET GLOBAL rpl_semi_sync_source_wait_for_replica_count = 65535", "rpl_semi_sync_source_wait_for_replica_count", "65535", func(c vars.Config) bool { return c.WaitForReplicaCount == 65535 }},
		{leg, "SET GLOBAL rpl_semi_sync_master_wait_for_slave_count = 3", "rpl_semi_sync_master_wait_for_slave_count", "3", func(c vars.Config) bool { return c.WaitForReplicaCount == 3 }},
		// wait no replica
		{my, "SET GLOBAL rpl_semi_sync_source_wait_no_replica = OFF", "rpl_semi_sync_source_wait_no_replica", "OFF", func(c vars.Config) bool { return !c.WaitNoReplica }},
		{leg, "SET GLOBAL rpl_semi_sync_master_wait_no_slave = 0", "rpl_semi_sync_master_wait_no_slave", "OFF", func(c vars.Config) bool { return !c.WaitNoReplica }},
		{mdb, "SET GLOBAL rpl_semi_sync_master_wait_no_slave = false", "rpl_semi_sync_master_wait_no_slave", "OFF", func(c vars.Config) bool { return !c.WaitNoReplica }},
		// wait point: names in any case, quoted or not, and ordinals (AFTER_SYNC=0, AFTER_COMMIT=1 in both servers)
		{my, "SET GLOBAL rpl_semi_sync_source_wait_point = AFTER_COMMIT", "rpl_semi_sync_source_wait_point", "AFTER_COMMIT", func(c vars.Config) bool { return c.WaitPoint == vars.AfterCommit }},
		{my, "SET GLOBAL rpl_semi_sync_source_wait_point = 'after_commit'", "rpl_semi_sync_source_wait_point", "AFTER_COMMIT", nil},
		{my, "SET GLOBAL rpl_semi_sync_source_wait_point = TRUE", "rpl_semi_sync_source_wait_point", "AFTER_COMMIT", nil}, // TRUE is 1
		{my, "SET GLOBAL rpl_semi_sync_source_enabled = -0", "rpl_semi_sync_source_enabled", "OFF", nil},
		{my, "SET GLOBAL rpl_semi_sync_source_wait_point = 1", "rpl_semi_sync_source_wait_point", "AFTER_COMMIT", nil},
		{mdb, "SET GLOBAL rpl_semi_sync_master_wait_point = 0", "rpl_semi_sync_master_wait_point", "AFTER_SYNC", func(c vars.Config) bool { return c.WaitPoint == vars.AfterSync }},
		{mdb, "SET GLOBAL rpl_semi_sync_master_wait_point = After_Sync", "rpl_semi_sync_master_wait_point", "AFTER_SYNC", nil},
		{leg, "SET GLOBAL rpl_semi_sync_master_wait_point = \"AFTER_COMMIT\"", "rpl_semi_sync_master_wait_point", "AFTER_COMMIT", nil},
		// trace levels
		{my, "SET GLOBAL rpl_semi_sync_source_trace_level = 64", "rpl_semi_sync_source_trace_level", "64", func(c vars.Config) bool { return c.SourceTraceLevel == 64 }},
		{my, "SET GLOBAL rpl_semi_sync_replica_trace_level = 0", "rpl_semi_sync_replica_trace_level", "0", func(c vars.Config) bool { return c.ReplicaTraceLevel == 0 }},
		{leg, "SET GLOBAL rpl_semi_sync_slave_trace_level = 4294967295", "rpl_semi_sync_slave_trace_level", "4294967295", nil},
		{mdb, "SET GLOBAL rpl_semi_sync_slave_trace_level = 18446744073709551615", "rpl_semi_sync_slave_trace_level", "18446744073709551615", func(c vars.Config) bool { return c.ReplicaTraceLevel == math.MaxUint64 }},
		{mdb, "SET GLOBAL rpl_semi_sync_master_trace_level = 1", "rpl_semi_sync_master_trace_level", "1", func(c vars.Config) bool { return c.SourceTraceLevel == 1 }},
		// replica enabled
		{my, "SET GLOBAL rpl_semi_sync_replica_enabled = ON", "rpl_semi_sync_replica_enabled", "ON", func(c vars.Config) bool { return c.ReplicaEnabled }},
		{leg, "SET GLOBAL rpl_semi_sync_slave_enabled = 1", "rpl_semi_sync_slave_enabled", "ON", func(c vars.Config) bool { return c.ReplicaEnabled }},
		{mdb, "SET GLOBAL rpl_semi_sync_slave_enabled = on", "rpl_semi_sync_slave_enabled", "ON", func(c vars.Config) bool { return c.ReplicaEnabled }},
		// MariaDB's replica extras
		{mdb, "SET GLOBAL rpl_semi_sync_slave_delay_master = ON", "rpl_semi_sync_slave_delay_master", "ON", func(c vars.Config) bool { return c.ReplicaDelaySource }},
		{mdb, "SET GLOBAL rpl_semi_sync_slave_kill_conn_timeout = 0", "rpl_semi_sync_slave_kill_conn_timeout", "0", func(c vars.Config) bool { return c.ReplicaKillConnTimeout == 0 }},
		{mdb, "SET GLOBAL rpl_semi_sync_slave_kill_conn_timeout = 4294967295", "rpl_semi_sync_slave_kill_conn_timeout", "4294967295", func(c vars.Config) bool { return c.ReplicaKillConnTimeout == math.MaxUint32 }},
		// server-level variables (MySQL flavors)
		{my, "SET GLOBAL replication_sender_observe_commit_only = ON", "replication_sender_observe_commit_only", "ON", func(c vars.Config) bool { return c.SenderObserveCommitOnly }},
		{leg, "SET GLOBAL replication_optimize_for_static_plugin_config = 1", "replication_optimize_for_static_plugin_config", "ON", func(c vars.Config) bool { return c.OptimizeForStaticPluginConfig }},
		// DEFAULT
		{my, "SET GLOBAL rpl_semi_sync_source_timeout = DEFAULT", "rpl_semi_sync_source_timeout", "10000", nil},
		{mdb, "SET GLOBAL rpl_semi_sync_master_wait_point = default", "rpl_semi_sync_master_wait_point", "AFTER_COMMIT", nil},
		{my, "SET GLOBAL rpl_semi_sync_source_wait_point = DEFAULT", "rpl_semi_sync_source_wait_point", "AFTER_SYNC", nil},
	}
	for _, tt := range tests {
		t.Run(tt.flavor.String()+"/"+tt.stmt, func(t *testing.T) {
			r := newReg(t, tt.flavor)
			// Start from non-default values so DEFAULT and no-ops are visible.
			require.NoError(t, r.Exec("SET GLOBAL "+tt.name+" = "+notDefault(t, r, tt.name)))
			require.NoError(t, r.Exec(tt.stmt))
			got, err := r.Get(tt.name)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
			if tt.check != nil {
				require.True(t, tt.check(r.Config()), "Config() = %+v", r.Config())
			}
			require.NoError(t, r.Config().Validate(tt.flavor))
		})
	}
}

// notDefault returns a valid value of the named variable other than its
// default.
func notDefault(t *testing.T, r *vars.Registry, name string) string {
	v, err := r.Lookup(name)
	require.NoError(t, err)
	switch v.Kind() {
	case vars.KindBool:
		if v.Default() == "ON" {
			return "OFF"
		}
		return "ON"
	case vars.KindEnum:
		if v.Default() == "AFTER_SYNC" {
			return "AFTER_COMMIT"
		}
		return "AFTER_SYNC"
	}
	if v.Default() == "2" {
		return "3"
	}
	return "2"
}

// errCase is one rejected input and the error it must produce.
type errCase struct {
	flavor  semisync.Flavor
	stmt    string
	kind    vars.ErrorKind
	code    uint16
	varName string
	value   string
	msg     string // substring of Error()
}

func TestExecErrors(t *testing.T) {
	my, leg, mdb := semisync.FlavorMySQL, semisync.FlavorMySQLLegacy, semisync.FlavorMariaDB
	tests := []errCase{
		// 1193 unknown, with hints for other flavors' names.
		{my, "SET GLOBAL no_such_var = 1", vars.ErrUnknownVariable, 1193, "no_such_var", "", "Unknown system variable 'no_such_var'"},
		{my, "SET GLOBAL RPL_SEMI_SYNC_FOO = 1", vars.ErrUnknownVariable, 1193, "RPL_SEMI_SYNC_FOO", "", "Unknown system variable 'RPL_SEMI_SYNC_FOO'"},
		{mdb, "SET GLOBAL rpl_semi_sync_source_timeout = 1", vars.ErrUnknownVariable, 1193, "rpl_semi_sync_source_timeout", "",
			"it is the MySQL 8.0.26+ name; this registry uses MariaDB names: rpl_semi_sync_master_timeout"},
		{mdb, "SET GLOBAL rpl_semi_sync_master_wait_for_slave_count = 2", vars.ErrUnknownVariable, 1193, "rpl_semi_sync_master_wait_for_slave_count", "",
			"it is the MySQL legacy (master/slave) name; MariaDB has no such variable"},
		{mdb, "SET GLOBAL replication_sender_observe_commit_only = ON", vars.ErrUnknownVariable, 1193, "replication_sender_observe_commit_only", "", "MariaDB has no such variable"},
		{my, "SET GLOBAL rpl_semi_sync_slave_delay_master = ON", vars.ErrUnknownVariable, 1193, "rpl_semi_sync_slave_delay_master", "",
			"it is the MariaDB name; MySQL 8.0.26+ has no such variable"},
		{leg, "SET GLOBAL rpl_semi_sync_source_enabled = ON", vars.ErrUnknownVariable, 1193, "rpl_semi_sync_source_enabled", "",
			"this registry uses MySQL legacy (master/slave) names: rpl_semi_sync_master_enabled"},
		// 1231 wrong value
		{my, "SET GLOBAL rpl_semi_sync_source_enabled = 2", vars.ErrWrongValue, 1231, "rpl_semi_sync_source_enabled", "2", "can't be set to the value of '2'"},
		{my, "SET GLOBAL rpl_semi_sync_source_enabled = 'yes'", vars.ErrWrongValue, 1231, "rpl_semi_sync_source_enabled", "yes", "can't be set to the value of 'yes'"},
		// MySQL looks quoted strings up by name only: 'True' and '1' are
		// not names of a boolean, '1' is not a name of an enum.
		{my, `SET GLOBAL rpl_semi_sync_source_enabled = "True"`, vars.ErrWrongValue, 1231, "rpl_semi_sync_source_enabled", "True", "want 'ON' or 'OFF'"},
		{my, "SET GLOBAL rpl_semi_sync_source_enabled = '1'", vars.ErrWrongValue, 1231, "rpl_semi_sync_source_enabled", "1", "want 'ON' or 'OFF'"},
		{my, "SET GLOBAL rpl_semi_sync_source_wait_point = '1'", vars.ErrWrongValue, 1231, "rpl_semi_sync_source_wait_point", "1", "want AFTER_SYNC or AFTER_COMMIT"},
		{my, "SET GLOBAL rpl_semi_sync_source_enabled = `TRUE`", vars.ErrWrongValue, 1231, "rpl_semi_sync_source_enabled", "TRUE", "want ON, OFF"},
		{my, "SET GLOBAL rpl_semi_sync_source_enabled = NULL", vars.ErrWrongValue, 1231, "rpl_semi_sync_source_enabled", "NULL", "'NULL'"},
		{my, "SET GLOBAL rpl_semi_sync_source_enabled = ''", vars.ErrWrongValue, 1231, "rpl_semi_sync_source_enabled", "", "value of ''"},
		{my, "SET GLOBAL rpl_semi_sync_source_wait_point = AFTER_FLUSH", vars.ErrWrongValue, 1231, "rpl_semi_sync_source_wait_point", "AFTER_FLUSH", "want AFTER_SYNC or AFTER_COMMIT"},
		{my, "SET GLOBAL rpl_semi_sync_source_wait_point = 2", vars.ErrWrongValue, 1231, "rpl_semi_sync_source_wait_point", "2", "value of '2'"},
		{mdb, "SET GLOBAL rpl_semi_sync_master_wait_point = -1", vars.ErrWrongValue, 1231, "rpl_semi_sync_master_wait_point", "-1", "value of '-1'"},
		{mdb, "SET GLOBAL rpl_semi_sync_slave_delay_master = 5", vars.ErrWrongValue, 1231, "rpl_semi_sync_slave_delay_master", "5", "value of '5'"},
		// out of range (MySQL clips with a warning; we reject)
		{my, "SET GLOBAL rpl_semi_sync_source_wait_for_replica_count = 0", vars.ErrOutOfRange, 1231, "rpl_semi_sync_source_wait_for_replica_count", "0", "allowed range is 1..65535"},
		{leg, "SET GLOBAL rpl_semi_sync_master_wait_for_slave_count = 65536", vars.ErrOutOfRange, 1231, "rpl_semi_sync_master_wait_for_slave_count", "65536", "allowed range is 1..65535"},
		{my, "SET GLOBAL rpl_semi_sync_source_timeout = 4294967296", vars.ErrOutOfRange, 1231, "rpl_semi_sync_source_timeout", "4294967296", "allowed range is 0..4294967295"},
		{my, "SET GLOBAL rpl_semi_sync_source_timeout = -1", vars.ErrOutOfRange, 1231, "rpl_semi_sync_source_timeout", "-1", "value of '-1'"},
		{my, "SET GLOBAL rpl_semi_sync_source_timeout = - 5", vars.ErrOutOfRange, 1231, "rpl_semi_sync_source_timeout", "-5", "value of '-5'"},
		{mdb, "SET GLOBAL rpl_semi_sync_master_timeout = 18446744073709551616", vars.ErrOutOfRange, 1231, "rpl_semi_sync_master_timeout", "18446744073709551616", "0..18446744073709551615"},
		{my, "SET GLOBAL rpl_semi_sync_source_trace_level = 4294967296", vars.ErrOutOfRange, 1231, "rpl_semi_sync_source_trace_level", "4294967296", "0..4294967295"},
		{my, "SET GLOBAL rpl_semi_sync_replica_trace_level = 99999999999999999999", vars.ErrOutOfRange, 1231, "rpl_semi_sync_replica_trace_level", "99999999999999999999", "0..4294967295"},
		{mdb, "SET GLOBAL rpl_semi_sync_slave_kill_conn_timeout = 4294967296", vars.ErrOutOfRange, 1231, "rpl_semi_sync_slave_kill_conn_timeout", "4294967296", "0..4294967295"},
		// 1232 wrong type
		{my, "SET GLOBAL rpl_semi_sync_source_timeout = '100'", vars.ErrWrongType, 1232, "rpl_semi_sync_source_timeout", "100", "Incorrect argument type to variable 'rpl_semi_sync_source_timeout': string '100' given"},
		{my, "SET GLOBAL rpl_semi_sync_source_timeout = ON", vars.ErrWrongType, 1232, "rpl_semi_sync_source_timeout", "ON", "word ON given"},
		{my, "SET GLOBAL rpl_semi_sync_source_timeout = 10K", vars.ErrWrongType, 1232, "rpl_semi_sync_source_timeout", "10K", "word 10K given"},
		{my, "SET GLOBAL rpl_semi_sync_source_timeout = 1.5", vars.ErrWrongType, 1232, "rpl_semi_sync_source_timeout", "1.5", "decimal 1.5 given"},
		{my, "SET GLOBAL rpl_semi_sync_source_timeout = 1e3", vars.ErrWrongType, 1232, "rpl_semi_sync_source_timeout", "1e3", "decimal 1e3"},
		{my, "SET GLOBAL rpl_semi_sync_source_enabled = 1.0", vars.ErrWrongType, 1232, "rpl_semi_sync_source_enabled", "1.0", "a boolean is required"},
		{my, "SET GLOBAL rpl_semi_sync_source_wait_point = .5", vars.ErrWrongType, 1232, "rpl_semi_sync_source_wait_point", ".5", "one of AFTER_SYNC, AFTER_COMMIT is required"},
		// 1229 global only
		{my, "SET rpl_semi_sync_source_timeout = 1", vars.ErrGlobalOnly, 1229, "rpl_semi_sync_source_timeout", "1", "is a GLOBAL variable and should be set with SET GLOBAL"},
		{my, "SET SESSION rpl_semi_sync_source_timeout = 1", vars.ErrGlobalOnly, 1229, "rpl_semi_sync_source_timeout", "1", "SET GLOBAL"},
		{my, "SET LOCAL rpl_semi_sync_source_timeout = 1", vars.ErrGlobalOnly, 1229, "rpl_semi_sync_source_timeout", "1", "SET GLOBAL"},
		{my, "SET @@session.rpl_semi_sync_source_timeout = 1", vars.ErrGlobalOnly, 1229, "rpl_semi_sync_source_timeout", "1", "SET GLOBAL"},
		{my, "SET @@local.rpl_semi_sync_source_timeout = 1", vars.ErrGlobalOnly, 1229, "rpl_semi_sync_source_timeout", "1", "SET GLOBAL"},
		{my, "SET @@rpl_semi_sync_source_timeout = 1", vars.ErrGlobalOnly, 1229, "rpl_semi_sync_source_timeout", "1", "SET GLOBAL"},
		{my, "SET GLOBAL rpl_semi_sync_source_timeout = 1, SESSION rpl_semi_sync_source_enabled = 1", vars.ErrGlobalOnly, 1229, "rpl_semi_sync_source_enabled", "1", "SET GLOBAL"},
		{my, "SET @@global.rpl_semi_sync_source_timeout = 1, rpl_semi_sync_source_enabled = 1", vars.ErrGlobalOnly, 1229, "rpl_semi_sync_source_enabled", "1", "SET GLOBAL"},
		// 1064 syntax
		{mdb, "SET PERSIST rpl_semi_sync_master_timeout = 5", vars.ErrSyntax, 1064, "rpl_semi_sync_master_timeout", "5", "MariaDB has no SET PERSIST"},
		{my, "", vars.ErrSyntax, 1064, "", "", "You have an error in your SQL syntax: expected SET"},
		{my, "SELECT 1", vars.ErrSyntax, 1064, "", "", "expected SET; near 'SELECT 1' at line 1"},
		{my, "SET", vars.ErrSyntax, 1064, "", "", "expected a variable name"},
		{my, "SET GLOBAL", vars.ErrSyntax, 1064, "", "", "expected a variable name after GLOBAL"},
		{my, "SET GLOBAL rpl_semi_sync_source_timeout", vars.ErrSyntax, 1064, "", "", "expected '=' or ':='"},
		{my, "SET GLOBAL rpl_semi_sync_source_timeout =", vars.ErrSyntax, 1064, "", "", "missing value"},
		{my, "SET GLOBAL rpl_semi_sync_source_timeout = 1,", vars.ErrSyntax, 1064, "", "", "expected a variable name"},
		{my, "SET GLOBAL rpl_semi_sync_source_timeout = 1 rpl_semi_sync_source_enabled = 1", vars.ErrSyntax, 1064, "", "", "near 'rpl_semi_sync_source_enabled = 1'"},
		{my, "SET GLOBAL rpl_semi_sync_source_timeout = 1; SET GLOBAL rpl_semi_sync_source_enabled = 1", vars.ErrSyntax, 1064, "", "", "only one statement"},
		{my, "SET GLOBAL rpl_semi_sync_source_timeout = 'abc", vars.ErrSyntax, 1064, "", "", "unterminated string"},
		{my, "SET GLOBAL `rpl_semi_sync_source_timeout = 1", vars.ErrSyntax, 1064, "", "", "unterminated quoted identifier"},
		{my, "SET GLOBAL /* comment rpl_semi_sync_source_timeout = 1", vars.ErrSyntax, 1064, "", "", "unterminated comment"},
		{my, "SET GLOBAL @@global.rpl_semi_sync_source_timeout = 1", vars.ErrSyntax, 1064, "", "", "expected a variable name after GLOBAL"},
		{my, "SET @@bogus.rpl_semi_sync_source_timeout = 1", vars.ErrSyntax, 1064, "", "", "unknown scope bogus"},
		{my, "SET GLOBAL a.b = 1", vars.ErrSyntax, 1064, "", "", "structured variable"},
		{my, "SET GLOBAL rpl_semi_sync_source_timeout = 1\n, ,", vars.ErrSyntax, 1064, "", "", "at line 2"},
		// 1235 unsupported
		{my, "SET GLOBAL rpl_semi_sync_source_timeout = 10*1000", vars.ErrUnsupported, 1235, "", "", "expressions are not supported"},
		{my, "SET GLOBAL rpl_semi_sync_source_timeout = 10 + 1", vars.ErrUnsupported, 1235, "", "", "expressions are not supported"},
		{my, "SET GLOBAL rpl_semi_sync_source_timeout = (1000)", vars.ErrUnsupported, 1235, "", "", "expressions are not supported"},
		{my, "SET GLOBAL rpl_semi_sync_source_timeout = 1 DIV 1", vars.ErrUnsupported, 1235, "", "", "expressions are not supported"},
		{my, "SET GLOBAL rpl_semi_sync_source_timeout = ABS(5)", vars.ErrUnsupported, 1235, "", "", "function calls are not supported"},
		{my, "SET GLOBAL rpl_semi_sync_source_timeout = @@global.rpl_semi_sync_source_timeout", vars.ErrUnsupported, 1235, "", "", "expressions are not supported"},
		{my, "SET GLOBAL rpl_semi_sync_source_timeout = 0x10", vars.ErrUnsupported, 1235, "", "", "hexadecimal and bit literals"},
		{my, "SET PERSIST_ONLY rpl_semi_sync_source_timeout = 1", vars.ErrUnsupported, 1235, "", "", "SET PERSIST_ONLY is not supported"},
		{my, "SET @@persist_only.rpl_semi_sync_source_timeout = 1", vars.ErrUnsupported, 1235, "", "", "@@persist_only is not supported"},
		{my, "SET @rpl_semi_sync_slave = 1", vars.ErrUnsupported, 1235, "", "", "user variables are not supported"},
		{my, "/*!80000 SET GLOBAL rpl_semi_sync_source_timeout = 1 */", vars.ErrUnsupported, 1235, "", "", "executable comments"},
	}
	for _, tt := range tests {
		t.Run(tt.flavor.String()+"/"+tt.stmt, func(t *testing.T) {
			r := newReg(t, tt.flavor)
			before := r.Config()
			err := r.Exec(tt.stmt)
			requireError(t, err, tt.kind, tt.code, tt.varName, tt.value, tt.msg)
			require.Equal(t, before, r.Config(), "a failed SET changes nothing")
			require.Zero(t, r.Version())
		})
	}
}

func requireError(t *testing.T, err error, kind vars.ErrorKind, code uint16, name, value, msg string) {
	t.Helper()
	require.Error(t, err)
	require.ErrorIs(t, err, kind)
	for _, other := range allKinds {
		if other != kind {
			require.NotErrorIs(t, err, other)
		}
	}
	var e *vars.Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, code, e.Code)
	require.Equal(t, kind.Code(), e.Code)
	require.Equal(t, name, e.Var)
	require.Equal(t, value, e.Value)
	require.True(t, strings.HasPrefix(err.Error(), "vars: "), err.Error())
	require.Contains(t, err.Error(), msg)
}

var allKinds = []vars.ErrorKind{
	vars.ErrUnknownVariable, vars.ErrWrongValue, vars.ErrWrongType, vars.ErrOutOfRange,
	vars.ErrReadOnly, vars.ErrGlobalOnly, vars.ErrSyntax, vars.ErrUnsupported,
}

func TestErrorKinds(t *testing.T) {
	codes := map[vars.ErrorKind]uint16{
		vars.ErrUnknownVariable: 1193, vars.ErrWrongValue: 1231, vars.ErrWrongType: 1232, vars.ErrOutOfRange: 1231,
		vars.ErrReadOnly: 1238, vars.ErrGlobalOnly: 1229, vars.ErrSyntax: 1064, vars.ErrUnsupported: 1235,
	}
	seen := map[string]bool{}
	for _, k := range allKinds {
		require.Equal(t, codes[k], k.Code(), k.Error())
		require.True(t, strings.HasPrefix(k.Error(), "vars: "))
		require.False(t, seen[k.Error()], "distinct texts")
		seen[k.Error()] = true
	}
	require.Zero(t, vars.ErrorKind(0).Code())
	require.Equal(t, "vars: ErrorKind(99)", vars.ErrorKind(99).Error())
	// An *Error is its own kind only.
	e := &vars.Error{Kind: vars.ErrReadOnly, Code: 1238, Var: "x", File: "f.cnf", Line: 3}
	require.ErrorIs(t, e, vars.ErrReadOnly)
	require.False(t, errors.Is(e, vars.ErrSyntax))
	require.Equal(t, "vars: f.cnf:3: Variable 'x' is a read only variable", e.Error())
}

// A multi-item SET is atomic: one bad item anywhere changes nothing, and an
// unknown name is reported before any value error, as MySQL resolves every
// name first.
func TestExecAtomic(t *testing.T) {
	r := newReg(t, semisync.FlavorMySQL)
	before := r.Config()
	for _, stmt := range []string{
		"SET GLOBAL rpl_semi_sync_source_enabled = ON, rpl_semi_sync_source_timeout = 'x'",
		"SET GLOBAL rpl_semi_sync_source_timeout = 5, rpl_semi_sync_source_wait_point = NOPE, rpl_semi_sync_source_enabled = 1",
		"SET GLOBAL rpl_semi_sync_source_enabled = ON, SESSION rpl_semi_sync_source_timeout = 1",
	} {
		require.Error(t, r.Exec(stmt))
		require.Equal(t, before, r.Config(), stmt)
		require.Zero(t, r.Version())
	}
	err := r.Exec("SET GLOBAL rpl_semi_sync_source_timeout = 'x', bogus_variable = 1")
	require.ErrorIs(t, err, vars.ErrUnknownVariable)

	// Later assignments to the same variable win; the whole statement is one
	// change.
	require.NoError(t, r.Exec("SET GLOBAL rpl_semi_sync_source_timeout = 1, rpl_semi_sync_source_timeout = 2, rpl_semi_sync_source_enabled = ON"))
	require.Equal(t, uint64(2), r.Config().TimeoutMillis)
	require.True(t, r.Config().SourceEnabled)
	require.Equal(t, uint64(1), r.Version())
}

func TestConfigValidate(t *testing.T) {
	my, mdb := semisync.FlavorMySQL, semisync.FlavorMariaDB
	mod := func(f semisync.Flavor, edit func(*vars.Config)) vars.Config {
		c := vars.Defaults(f)
		edit(&c)
		return c
	}
	tests := []struct {
		name   string
		flavor semisync.Flavor
		cfg    vars.Config
		kind   vars.ErrorKind // 0: valid
		msg    string
	}{
		{"defaults", my, vars.Defaults(my), 0, ""},
		{"mariadb defaults", mdb, vars.Defaults(mdb), 0, ""},
		{"max count", my, mod(my, func(c *vars.Config) { c.WaitForReplicaCount = 65535 }), 0, ""},
		{"count 0", my, mod(my, func(c *vars.Config) { c.WaitForReplicaCount = 0 }), vars.ErrOutOfRange, "rpl_semi_sync_source_wait_for_replica_count"},
		{"count too big", my, mod(my, func(c *vars.Config) { c.WaitForReplicaCount = 70000 }), vars.ErrOutOfRange, "1..65535"},
		{"mysql timeout above 2^32-1", my, mod(my, func(c *vars.Config) { c.TimeoutMillis = 1 << 32 }), vars.ErrOutOfRange, "rpl_semi_sync_source_timeout"},
		{"mariadb timeout 2^64-1", mdb, mod(mdb, func(c *vars.Config) { c.TimeoutMillis = math.MaxUint64 }), 0, ""},
		{"bad wait point", my, mod(my, func(c *vars.Config) { c.WaitPoint = 2 }), vars.ErrWrongValue, "'2'"},
		{"mariadb has no count", mdb, mod(mdb, func(c *vars.Config) { c.WaitForReplicaCount = 2 }), vars.ErrUnsupported,
			"rpl_semi_sync_source_wait_for_replica_count"},
		{"mysql has no delay_master", my, mod(my, func(c *vars.Config) { c.ReplicaDelaySource = true }), vars.ErrUnsupported,
			"MySQL 8.0.26+ has no such variable; leave it at its default OFF"},
		{"mariadb has no server vars", mdb, mod(mdb, func(c *vars.Config) { c.SenderObserveCommitOnly = true }), vars.ErrUnsupported, "MariaDB has no such variable"},
		{"invalid flavor", semisync.Flavor(5), vars.Defaults(my), vars.ErrUnsupported, "invalid flavor"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			err := cfg.Validate(tt.flavor)
			require.Equal(t, tt.cfg, cfg, "Validate does not modify")
			if tt.kind == 0 {
				require.NoError(t, err)
				r, err := vars.NewRegistry(tt.flavor, vars.WithConfig(tt.cfg))
				require.NoError(t, err)
				require.Equal(t, tt.cfg, r.Config())
				return
			}
			require.ErrorIs(t, err, tt.kind)
			require.Contains(t, err.Error(), tt.msg)
			_, err = vars.NewRegistry(tt.flavor, vars.WithConfig(tt.cfg))
			require.ErrorIs(t, err, tt.kind)
		})
	}
}

func TestNewRegistryErrors(t *testing.T) {
	_, err := vars.NewRegistry(semisync.Flavor(3))
	require.ErrorIs(t, err, vars.ErrUnsupported)
	_, err = vars.NewRegistry(semisync.FlavorMariaDB, vars.WithReadOnly("rpl_semi_sync_source_wait_point"))
	require.ErrorIs(t, err, vars.ErrUnknownVariable)
	require.Contains(t, err.Error(), "rpl_semi_sync_master_wait_point")
	r, err := vars.NewRegistry(semisync.FlavorMySQL, nil) // a nil Option is ignored
	require.NoError(t, err)
	require.Equal(t, semisync.FlavorMySQL, r.Flavor())
}

func TestTimeoutSaturates(t *testing.T) {
	tests := []struct {
		ms   uint64
		want time.Duration
	}{
		{0, 0},
		{1, time.Millisecond},
		{10000, 10 * time.Second},
		{math.MaxUint32, math.MaxUint32 * time.Millisecond},
		{uint64(math.MaxInt64 / int64(time.Millisecond)), time.Duration(math.MaxInt64/int64(time.Millisecond)) * time.Millisecond},
		{uint64(math.MaxInt64/int64(time.Millisecond)) + 1, time.Duration(math.MaxInt64)},
		{math.MaxUint64, time.Duration(math.MaxInt64)},
	}
	for _, tt := range tests {
		got := vars.Config{TimeoutMillis: tt.ms}.Timeout()
		require.Equal(t, tt.want, got, "TimeoutMillis=%d", tt.ms)
		require.GreaterOrEqual(t, got, time.Duration(0))
	}
	require.Equal(t, 5*time.Second, vars.Defaults(semisync.FlavorMariaDB).KillConnTimeout())
	require.Equal(t, time.Duration(math.MaxUint32)*time.Second, vars.Config{ReplicaKillConnTimeout: math.MaxUint32}.KillConnTimeout())
}

func TestReadOnly(t *testing.T) {
	r := newReg(t, semisync.FlavorMySQL,
		vars.WithConfig(func() vars.Config {
			c := vars.Defaults(semisync.FlavorMySQL)
			c.WaitPoint = vars.AfterCommit
			return c
		}()),
		vars.WithReadOnly("RPL_SEMI_SYNC_SOURCE_WAIT_POINT"))
	v, err := r.Lookup("rpl_semi_sync_source_wait_point")
	require.NoError(t, err)
	require.False(t, v.Dynamic())
	other, err := r.Lookup("rpl_semi_sync_source_timeout")
	require.NoError(t, err)
	require.True(t, other.Dynamic())

	err = r.Exec("SET GLOBAL rpl_semi_sync_source_timeout = 5, rpl_semi_sync_source_wait_point = AFTER_SYNC")
	requireError(t, err, vars.ErrReadOnly, 1238, "rpl_semi_sync_source_wait_point", "AFTER_SYNC",
		"Variable 'rpl_semi_sync_source_wait_point' is a read only variable (cannot set it to 'AFTER_SYNC')")
	require.Equal(t, uint64(10000), r.Config().TimeoutMillis, "atomic")
	err = r.Exec("SET GLOBAL rpl_semi_sync_source_wait_point = DEFAULT")
	require.ErrorIs(t, err, vars.ErrReadOnly)

	// Assigning the pinned value is accepted.
	require.NoError(t, r.Exec("SET GLOBAL rpl_semi_sync_source_wait_point = 'AFTER_COMMIT', rpl_semi_sync_source_timeout = 5"))
	require.Equal(t, vars.AfterCommit, r.Config().WaitPoint)
	require.Equal(t, uint64(5), r.Config().TimeoutMillis)
}

func TestLookup(t *testing.T) {
	r := newReg(t, semisync.FlavorMySQL)
	for _, name := range []string{"rpl_semi_sync_source_timeout", "RPL_SEMI_SYNC_SOURCE_TIMEOUT", "Rpl_Semi_Sync_Source_Timeout"} {
		v, err := r.Lookup(name)
		require.NoError(t, err)
		require.Equal(t, "rpl_semi_sync_source_timeout", v.String())
	}
	_, err := r.Lookup("rpl-semi-sync-source-timeout")
	require.ErrorIs(t, err, vars.ErrUnknownVariable, "dashes are for option files only")
	_, err = r.Get("nope")
	require.ErrorIs(t, err, vars.ErrUnknownVariable)

	names := []string{}
	for _, v := range r.Vars() {
		names = append(names, v.String())
	}
	require.IsIncreasing(t, names)
}

func TestShow(t *testing.T) {
	r := newReg(t, semisync.FlavorMySQL)
	require.NoError(t, r.Exec("SET GLOBAL rpl_semi_sync_source_enabled = 1, rpl_semi_sync_source_wait_point = AFTER_COMMIT"))
	tests := []struct {
		pattern string
		want    []semisync.Row
	}{
		{"rpl_semi_sync_source_enabled", rows("rpl_semi_sync_source_enabled", "ON")},
		{"RPL_SEMI_SYNC_SOURCE_ENABLED", rows("rpl_semi_sync_source_enabled", "ON")},
		{"%wait_point", rows("rpl_semi_sync_source_wait_point", "AFTER_COMMIT")},
		{"rpl_semi_sync_replica%", rows("rpl_semi_sync_replica_enabled", "OFF", "rpl_semi_sync_replica_trace_level", "32")},
		{"%trace\\_level", rows("rpl_semi_sync_replica_trace_level", "32", "rpl_semi_sync_source_trace_level", "32")},
		{"replication%", rows("replication_optimize_for_static_plugin_config", "OFF", "replication_sender_observe_commit_only", "OFF")},
		{"rpl_semi_sync_master%", nil},
		{"", nil},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			require.Equal(t, tt.want, r.Show(tt.pattern))
		})
	}
	require.Len(t, r.Show("rpl_semi_sync%"), 8)
	require.Len(t, r.Show("%"), 10)
}

// A proxy mirrors a live server's SHOW VARIABLES output.
func TestApplyRows(t *testing.T) {
	r := newReg(t, semisync.FlavorMariaDB)
	server := rows(
		"rpl_semi_sync_master_enabled", "ON",
		"rpl_semi_sync_master_timeout", "2500",
		"rpl_semi_sync_master_trace_level", "32",
		"rpl_semi_sync_master_wait_no_slave", "OFF",
		"rpl_semi_sync_master_wait_point", "AFTER_SYNC",
		"rpl_semi_sync_slave_delay_master", "OFF",
		"rpl_semi_sync_slave_enabled", "ON",
		"rpl_semi_sync_slave_kill_conn_timeout", "7",
		"rpl_semi_sync_slave_trace_level", "16",
	)
	require.NoError(t, r.ApplyRows(server))
	require.Equal(t, server, r.Show("rpl_semi_sync%"), "the mirror shows what the server showed")
	require.Equal(t, uint64(1), r.Version())

	before := r.Config()
	err := r.ApplyRows(rows("rpl_semi_sync_master_timeout", "1", "rpl_semi_sync_source_enabled", "ON"))
	require.ErrorIs(t, err, vars.ErrUnknownVariable)
	err = r.ApplyRows(rows("rpl_semi_sync_master_timeout", "1", "rpl_semi_sync_master_enabled", "MAYBE"))
	require.ErrorIs(t, err, vars.ErrWrongValue)
	err = r.ApplyRows(rows("rpl_semi_sync_master_timeout", "1k"))
	require.ErrorIs(t, err, vars.ErrWrongValue, "suffixes are for option files")
	require.Equal(t, before, r.Config())
	require.NoError(t, r.ApplyRows(nil))
	require.Equal(t, uint64(1), r.Version())
}

// Apply of assignments a host builds: FormText values, global scope.
func TestApplyForms(t *testing.T) {
	tests := []struct {
		a    vars.Assignment
		want string
		kind vars.ErrorKind
	}{
		{vars.Assignment{Name: "rpl_semi_sync_source_timeout", Value: "42"}, "42", 0},
		{vars.Assignment{Name: "rpl_semi_sync_source_timeout", Value: "+42"}, "", vars.ErrWrongValue},
		{vars.Assignment{Name: "rpl_semi_sync_source_timeout", Value: " 42"}, "", vars.ErrWrongValue},
		{vars.Assignment{Name: "rpl_semi_sync_source_timeout", Value: "-"}, "", vars.ErrWrongValue},
		{vars.Assignment{Name: "rpl_semi_sync_source_timeout", Value: "2k", Form: vars.FormOption}, "2048", 0},
		{vars.Assignment{Name: "rpl_semi_sync_source_timeout", Value: "4M", Form: vars.FormOption}, "4194304", 0},
		{vars.Assignment{Name: "rpl_semi_sync_source_timeout", Value: "3G", Form: vars.FormOption}, "3221225472", 0},
		{vars.Assignment{Name: "rpl_semi_sync_source_timeout", Value: "4G", Form: vars.FormOption}, "", vars.ErrOutOfRange},
		{vars.Assignment{Name: "rpl_semi_sync_source_timeout", Value: "k", Form: vars.FormOption}, "", vars.ErrWrongValue},
		{vars.Assignment{Name: "rpl_semi_sync_source_timeout", Value: "2x", Form: vars.FormOption}, "", vars.ErrWrongValue},
		{vars.Assignment{Name: "rpl_semi_sync_source_timeout", Value: "2kk", Form: vars.FormOption}, "", vars.ErrWrongValue},
		{vars.Assignment{Name: "rpl_semi_sync_source_timeout", Value: "-1k", Form: vars.FormOption}, "", vars.ErrOutOfRange},
		{vars.Assignment{Name: "rpl_semi_sync_source_timeout", Value: "7", Default: true}, "10000", 0},
		{vars.Assignment{Name: "rpl_semi_sync_source_timeout", Value: "7", Scope: vars.ScopePersist}, "7", 0},
		{vars.Assignment{Name: "rpl_semi_sync_source_timeout", Value: "7", Scope: vars.ScopeSession}, "", vars.ErrGlobalOnly},
		{vars.Assignment{Name: "rpl_semi_sync_source_wait_point", Value: "1"}, "AFTER_COMMIT", 0},
		{vars.Assignment{Name: "rpl_semi_sync_source_wait_point", Value: "1", Form: vars.FormInt}, "AFTER_COMMIT", 0},
		{vars.Assignment{Name: "rpl_semi_sync_source_wait_point", Value: "after_commit", Form: vars.FormDecimal}, "", vars.ErrWrongType},
		{vars.Assignment{Name: "rpl_semi_sync_source_enabled", Value: "TRUE", Form: vars.FormString}, "", vars.ErrWrongValue},
		{vars.Assignment{Name: "rpl_semi_sync_source_enabled", Value: "on", Form: vars.FormString}, "ON", 0},
		{vars.Assignment{Name: "rpl_semi_sync_source_enabled", Value: "TRUE", Form: vars.FormWord}, "", vars.ErrWrongValue},
		{vars.Assignment{Name: "rpl_semi_sync_source_enabled", Value: "ON", Form: vars.Form(9)}, "", vars.ErrUnsupported},
		{vars.Assignment{Name: "rpl_semi_sync_source_enabled", Value: "-0", Form: vars.FormInt}, "OFF", 0},
		{vars.Assignment{Name: "rpl_semi_sync_source_enabled", Value: "TRUE"}, "ON", 0},
		{vars.Assignment{Name: "rpl_semi_sync_source_enabled", Value: "1", Form: vars.FormInt}, "ON", 0},
		{vars.Assignment{Name: "rpl_semi_sync_source_enabled", Value: "1", Form: vars.FormString}, "", vars.ErrWrongValue},
		{vars.Assignment{Name: "rpl_semi_sync_source_wait_point", Value: "1", Form: vars.FormString}, "", vars.ErrWrongValue},
		{vars.Assignment{Name: "rpl_semi_sync_source_wait_point", Value: "AFTER_SYNC", Form: vars.FormInt}, "", vars.ErrWrongValue},
	}
	for _, tt := range tests {
		t.Run(tt.a.Form.String()+"/"+tt.a.Value, func(t *testing.T) {
			r := newReg(t, semisync.FlavorMySQL)
			err := r.Apply(tt.a)
			if tt.kind != 0 {
				require.ErrorIs(t, err, tt.kind)
				require.Equal(t, vars.Defaults(semisync.FlavorMySQL), r.Config())
				return
			}
			require.NoError(t, err)
			got, err := r.Get(tt.a.Name)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestStringers(t *testing.T) {
	require.Equal(t, "AFTER_SYNC", vars.AfterSync.String())
	require.Equal(t, "AFTER_COMMIT", vars.AfterCommit.String())
	require.Equal(t, "WaitPoint(2)", vars.WaitPoint(2).String())
	require.True(t, vars.AfterCommit.Valid())
	require.False(t, vars.WaitPoint(2).Valid())
	require.Equal(t, []string{"bool", "uint", "enum", "Kind(3)"},
		[]string{vars.KindBool.String(), vars.KindUint.String(), vars.KindEnum.String(), vars.Kind(3).String()})
	require.Equal(t, []string{"source", "replica", "server", "Side(3)"},
		[]string{vars.SideSource.String(), vars.SideReplica.String(), vars.SideServer.String(), vars.Side(3).String()})
	require.Equal(t, []string{"", "milliseconds", "seconds", "Unit(3)"},
		[]string{vars.UnitNone.String(), vars.UnitMilliseconds.String(), vars.UnitSeconds.String(), vars.Unit(3).String()})
	require.Equal(t, []string{"GLOBAL", "PERSIST", "SESSION", "Scope(3)"},
		[]string{vars.ScopeGlobal.String(), vars.ScopePersist.String(), vars.ScopeSession.String(), vars.Scope(3).String()})
	require.Equal(t, []string{"text", "option", "word", "string", "integer", "decimal", "Form(6)"},
		[]string{vars.FormText.String(), vars.FormOption.String(), vars.FormWord.String(), vars.FormString.String(),
			vars.FormInt.String(), vars.FormDecimal.String(), vars.Form(6).String()})
}
