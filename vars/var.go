package vars

import (
	"math"
	"slices"
	"strconv"

	"github.com/semisync-go/semisync"
)

// Kind is the type of a variable's value.
type Kind uint8

const (
	// KindBool is a boolean, rendered ON or OFF.
	KindBool Kind = iota
	// KindUint is an unsigned integer with a range, rendered in decimal.
	KindUint
	// KindEnum is one of a fixed list of names, rendered by name.
	KindEnum
)

var kindNames = [...]string{"bool", "uint", "enum"}

// String returns "bool", "uint" or "enum".
func (k Kind) String() string {
	return enumName(kindNames[:], k, "Kind")
}

// Side says which part of the library a variable configures.
type Side uint8

const (
	// SideSource variables configure the source (primary).
	SideSource Side = iota
	// SideReplica variables configure the replica.
	SideReplica
	// SideServer variables are server-level, not plugin, variables that
	// affect semisync (spec §1.3).
	SideServer
)

var sideNames = [...]string{"source", "replica", "server"}

// String returns "source", "replica" or "server".
func (s Side) String() string {
	return enumName(sideNames[:], s, "Side")
}

// Unit is the unit of an integer variable.
type Unit uint8

const (
	// UnitNone: a count, a bitmask, or not an integer.
	UnitNone Unit = iota
	// UnitMilliseconds: the value is a duration in milliseconds.
	UnitMilliseconds
	// UnitSeconds: the value is a duration in seconds.
	UnitSeconds
)

var unitNames = [...]string{"", "milliseconds", "seconds"}

// String returns "", "milliseconds" or "seconds".
func (u Unit) String() string {
	return enumName(unitNames[:], u, "Unit")
}

// WaitPoint is where a source waits for acknowledgements in the commit
// (spec §5.1). The numeric values are the enum ordinals of MySQL's and
// MariaDB's wait_point variable, so SET ... wait_point = 0 means AFTER_SYNC
// in both servers.
type WaitPoint uint8

const (
	// AfterSync waits after the binlog sync and before the engine commit:
	// no other session sees the transaction before a replica has it
	// ("lossless"). MySQL's default.
	AfterSync WaitPoint = iota
	// AfterCommit waits after the engine commit: other sessions may see the
	// transaction before any replica has it. MariaDB's default, and the only
	// behaviour of MySQL before 5.7.2.
	AfterCommit
)

// waitPointNames is indexed by WaitPoint; it is also the enum's name list.
var waitPointNames = [...]string{"AFTER_SYNC", "AFTER_COMMIT"}

// String returns "AFTER_SYNC" or "AFTER_COMMIT", as MySQL shows the value.
func (w WaitPoint) String() string {
	return enumName(waitPointNames[:], w, "WaitPoint")
}

// Valid reports whether w is AfterSync or AfterCommit.
func (w WaitPoint) Valid() bool { return int(w) < len(waitPointNames) }

// enumName returns names[v], or typ(v) for a value without a name.
func enumName[T ~uint8](names []string, v T, typ string) string {
	if int(v) < len(names) {
		return names[v]
	}
	return typ + "(" + strconv.Itoa(int(v)) + ")"
}

// limits are the default and range of a variable, as raw values: 0/1 for a
// boolean, the ordinal for an enum.
type limits struct{ def, min, max uint64 }

// varDef describes one variable once for every flavor. names is indexed by
// semisync.Flavor; an empty name means the flavor has no such variable.
type varDef struct {
	names    [len(semisync.Flavors)]string
	kind     Kind
	side     Side
	unit     Unit
	lim      limits  // the MySQL flavors' default and range
	mariaLim *limits // MariaDB's, where they differ from MySQL's
	enum     []string
	doc      string
	// field returns a pointer to the variable's field in c: *bool,
	// *uint32, *uint64 or *WaitPoint.
	field func(c *Config) any
}

const maxUint32 = math.MaxUint32

var (
	boolOff = limits{0, 0, 1}
	boolOn  = limits{1, 0, 1}
	// MySQL's manual gives 4294967295 as the maximum of the timeout and
	// the trace levels (the plugin declares ~0UL, which is 2^64-1 on
	// 64-bit Linux but 2^32-1 on Windows); MariaDB documents 2^64-1.
	traceLevel = limits{32, 0, maxUint32}
	mariaTrace = limits{32, 0, math.MaxUint64}
)

// defs is every semisync variable of every flavor (spec §1). The order is
// irrelevant: registries sort by their flavor's names.
var defs = [...]varDef{
	{
		names: [...]string{"rpl_semi_sync_source_enabled", "rpl_semi_sync_master_enabled", "rpl_semi_sync_master_enabled"},
		kind:  KindBool, side: SideSource, lim: boolOff,
		doc: "Whether the source machinery is on. Turning it off forces the " +
			"semisync status OFF and releases every waiting commit; turning it " +
			"on recomputes the status (spec §4.3).",
		field: func(c *Config) any { return &c.SourceEnabled },
	},
	{
		names: [...]string{"rpl_semi_sync_source_timeout", "rpl_semi_sync_master_timeout", "rpl_semi_sync_master_timeout"},
		kind:  KindUint, side: SideSource, unit: UnitMilliseconds,
		lim: limits{10000, 0, maxUint32}, mariaLim: &limits{10000, 0, math.MaxUint64},
		doc: "How long one commit waits for acknowledgements, in milliseconds, " +
			"before the source switches to asynchronous replication. A change " +
			"affects only waits that start afterwards (spec §1.1).",
		field: func(c *Config) any { return &c.TimeoutMillis },
	},
	{
		names: [...]string{"rpl_semi_sync_source_wait_for_replica_count", "rpl_semi_sync_master_wait_for_slave_count", ""},
		kind:  KindUint, side: SideSource, lim: limits{1, 1, 65535},
		doc: "How many distinct replicas must acknowledge a transaction before " +
			"its commit returns. Changing it may release waiting commits at once " +
			"(spec §1.1, §6.2). MariaDB has no such variable.",
		field: func(c *Config) any { return &c.WaitForReplicaCount },
	},
	{
		names: [...]string{"rpl_semi_sync_source_wait_no_replica", "rpl_semi_sync_master_wait_no_slave", "rpl_semi_sync_master_wait_no_slave"},
		kind:  KindBool, side: SideSource, lim: boolOn,
		doc: "ON: only the timeout switches the source to asynchronous " +
			"replication. OFF: losing semisync replicas below the wait count " +
			"does too (spec §4.4); switching OFF to ON forces the status ON " +
			"(spec §4.5).",
		field: func(c *Config) any { return &c.WaitNoReplica },
	},
	{
		names: [...]string{"rpl_semi_sync_source_wait_point", "rpl_semi_sync_master_wait_point", "rpl_semi_sync_master_wait_point"},
		kind:  KindEnum, side: SideSource, enum: waitPointNames[:],
		lim: limits{uint64(AfterSync), 0, 1}, mariaLim: &limits{uint64(AfterCommit), 0, 1},
		doc: "Where a commit waits: AFTER_SYNC (after the binlog sync, before " +
			"the engine commit; nobody sees the transaction before a replica " +
			"has it) or AFTER_COMMIT (after the engine commit) (spec §5.1).",
		field: func(c *Config) any { return &c.WaitPoint },
	},
	{
		names: [...]string{"rpl_semi_sync_source_trace_level", "rpl_semi_sync_master_trace_level", "rpl_semi_sync_master_trace_level"},
		kind:  KindUint, side: SideSource, lim: traceLevel, mariaLim: &mariaTrace,
		doc: "Tracing bitmask of the source: 1 general, 16 detail, 32 network " +
			"waits, 64 function entry and exit (spec §1.1).",
		field: func(c *Config) any { return &c.SourceTraceLevel },
	},
	{
		names: [...]string{"rpl_semi_sync_replica_enabled", "rpl_semi_sync_slave_enabled", "rpl_semi_sync_slave_enabled"},
		kind:  KindBool, side: SideReplica, lim: boolOff,
		doc: "Whether the replica negotiates semisync when it connects. A " +
			"change takes effect at the next connection, not on the running " +
			"one (spec §9.3).",
		field: func(c *Config) any { return &c.ReplicaEnabled },
	},
	{
		names: [...]string{"rpl_semi_sync_replica_trace_level", "rpl_semi_sync_slave_trace_level", "rpl_semi_sync_slave_trace_level"},
		kind:  KindUint, side: SideReplica, lim: traceLevel, mariaLim: &mariaTrace,
		doc:   "Tracing bitmask of the replica, with the source's bits (spec §1.2).",
		field: func(c *Config) any { return &c.ReplicaTraceLevel },
	},
	{
		names: [...]string{"", "", "rpl_semi_sync_slave_delay_master"},
		kind:  KindBool, side: SideReplica, lim: boolOff,
		doc: "MariaDB only: write the master info file only when an " +
			"acknowledgement is needed (spec §1.4).",
		field: func(c *Config) any { return &c.ReplicaDelaySource },
	},
	{
		names: [...]string{"", "", "rpl_semi_sync_slave_kill_conn_timeout"},
		kind:  KindUint, side: SideReplica, unit: UnitSeconds, lim: limits{5, 0, maxUint32},
		doc: "MariaDB only: timeout in seconds of the extra connection a " +
			"stopping replica opens to kill its own dump thread on the primary " +
			"(spec §1.4, §10).",
		field: func(c *Config) any { return &c.ReplicaKillConnTimeout },
	},
	{
		names: [...]string{"replication_sender_observe_commit_only", "replication_sender_observe_commit_only", ""},
		kind:  KindBool, side: SideServer, lim: boolOff,
		doc: "Server variable (MySQL 5.7.33/8.0.23+): run the dump thread's " +
			"semisync hooks only for events that can end a transaction. A " +
			"tuning knob; semisync semantics do not change (spec §1.3).",
		field: func(c *Config) any { return &c.SenderObserveCommitOnly },
	},
	{
		names: [...]string{"replication_optimize_for_static_plugin_config", "replication_optimize_for_static_plugin_config", ""},
		kind:  KindBool, side: SideServer, lim: boolOff,
		doc: "Server variable (MySQL 5.7.33/8.0.23+): replication observers " +
			"use shared locks and skip per-call plugin locking. A tuning knob; " +
			"semisync semantics do not change (spec §1.3).",
		field: func(c *Config) any { return &c.OptimizeForStaticPluginConfig },
	},
}

// limitsFor returns d's default and range in flavor f.
func (d *varDef) limitsFor(f semisync.Flavor) limits {
	if f == semisync.FlavorMariaDB && d.mariaLim != nil {
		return *d.mariaLim
	}
	return d.lim
}

// get reads d's raw value from c.
func (d *varDef) get(c *Config) uint64 {
	switch p := d.field(c).(type) {
	case *bool:
		if *p {
			return 1
		}
		return 0
	case *uint32:
		return uint64(*p)
	case *uint64:
		return *p
	case *WaitPoint:
		return uint64(*p)
	}
	return 0
}

// set stores raw value v, already checked against d's range, into c.
func (d *varDef) set(c *Config, v uint64) {
	switch p := d.field(c).(type) {
	case *bool:
		*p = v != 0
	case *uint32:
		*p = uint32(v)
	case *uint64:
		*p = v
	case *WaitPoint:
		*p = WaitPoint(v)
	}
}

// render formats raw value v as MySQL's SHOW VARIABLES does.
func (d *varDef) render(v uint64) string {
	switch d.kind {
	case KindBool:
		return onOff(v != 0)
	case KindEnum:
		if v < uint64(len(d.enum)) {
			return d.enum[v]
		}
	}
	return strconv.FormatUint(v, 10)
}

// flavorDescriptions name each flavor's naming in error messages.
var flavorDescriptions = [...]string{"MySQL 8.0.26+", "MySQL legacy (master/slave)", "MariaDB"}

// Var describes one system variable as a [Registry] presents it: the name,
// default and range of the registry's flavor. A Var is immutable; read it
// through its methods.
type Var struct {
	def     *varDef
	flavor  semisync.Flavor
	lim     limits
	dynamic bool
}

// Name returns the variable's name in flavor f, and false if f has no such
// variable (MariaDB has no wait_for_slave_count, for example).
func (v *Var) Name(f semisync.Flavor) (string, bool) {
	if !f.Valid() || v.def.names[f] == "" {
		return "", false
	}
	return v.def.names[f], true
}

// String returns the name in the registry's flavor.
func (v *Var) String() string { return v.def.names[v.flavor] }

// Kind returns the type of the variable's value.
func (v *Var) Kind() Kind { return v.def.kind }

// Side says whether the variable configures the source, the replica, or the
// server.
func (v *Var) Side() Side { return v.def.side }

// Unit returns the unit of an integer variable.
func (v *Var) Unit() Unit { return v.def.unit }

// Doc describes what the variable does.
func (v *Var) Doc() string { return v.def.doc }

// Dynamic reports whether the variable can be changed at runtime. Every
// semisync variable is dynamic in MySQL and MariaDB (spec §1); Dynamic is
// false only for variables the host pinned with [WithReadOnly].
func (v *Var) Dynamic() bool { return v.dynamic }

// Default returns the default value in the registry's flavor, rendered as
// SHOW VARIABLES shows it ("OFF", "10000", "AFTER_SYNC").
func (v *Var) Default() string { return v.def.render(v.lim.def) }

// Min returns the least value: for an integer the lower bound of its range,
// for a boolean 0 (OFF) and for an enum 0 (the first name).
func (v *Var) Min() uint64 { return v.lim.min }

// Max returns the greatest value: for an integer the upper bound of its
// range, for a boolean 1 (ON) and for an enum the last ordinal.
func (v *Var) Max() uint64 { return v.lim.max }

// EnumNames returns the names of an enum's values in ordinal order, or nil
// for a variable that is not an enum. The slice is the caller's.
func (v *Var) EnumNames() []string { return slices.Clone(v.def.enum) }
