package vars

import (
	"math"
	"strconv"
	"time"

	"github.com/semisync-go/semisync"
)

// Config holds one value for every semisync variable, under flavor-neutral
// names. It is a plain value: copy it freely. [Registry.Config] returns the
// live values; [Defaults] returns a flavor's defaults.
//
// A flavor that lacks a variable (MariaDB has no wait_for_slave_count and no
// server-level variables; MySQL has neither of MariaDB's replica extras)
// keeps the field at its default, and a registry of that flavor never shows
// it and rejects any other value for it.
type Config struct {
	// SourceEnabled is rpl_semi_sync_source_enabled
	// (rpl_semi_sync_master_enabled). Default false.
	SourceEnabled bool
	// TimeoutMillis is rpl_semi_sync_source_timeout
	// (rpl_semi_sync_master_timeout), in milliseconds. Default 10000; range
	// 0..4294967295 in MySQL, 0..2^64-1 in MariaDB. Use [Config.Timeout]
	// for a time.Duration.
	TimeoutMillis uint64
	// WaitForReplicaCount is rpl_semi_sync_source_wait_for_replica_count
	// (rpl_semi_sync_master_wait_for_slave_count): how many replicas must
	// acknowledge. Default 1, range 1..65535. MariaDB: always 1.
	WaitForReplicaCount uint32
	// WaitNoReplica is rpl_semi_sync_source_wait_no_replica
	// (rpl_semi_sync_master_wait_no_slave). Default true.
	WaitNoReplica bool
	// WaitPoint is rpl_semi_sync_source_wait_point
	// (rpl_semi_sync_master_wait_point). Default AfterSync in MySQL,
	// AfterCommit in MariaDB.
	WaitPoint WaitPoint
	// SourceTraceLevel is rpl_semi_sync_source_trace_level
	// (rpl_semi_sync_master_trace_level), a bitmask. Default 32.
	SourceTraceLevel uint64
	// ReplicaEnabled is rpl_semi_sync_replica_enabled
	// (rpl_semi_sync_slave_enabled). Default false. A running replica
	// connection keeps what it negotiated; a change applies from the next
	// connection (spec §9.3).
	ReplicaEnabled bool
	// ReplicaTraceLevel is rpl_semi_sync_replica_trace_level
	// (rpl_semi_sync_slave_trace_level), a bitmask. Default 32.
	ReplicaTraceLevel uint64
	// ReplicaDelaySource is MariaDB's rpl_semi_sync_slave_delay_master.
	// Default false.
	ReplicaDelaySource bool
	// ReplicaKillConnTimeout is MariaDB's
	// rpl_semi_sync_slave_kill_conn_timeout, in seconds. Default 5.
	ReplicaKillConnTimeout uint32
	// SenderObserveCommitOnly is MySQL's server variable
	// replication_sender_observe_commit_only. Default false.
	SenderObserveCommitOnly bool
	// OptimizeForStaticPluginConfig is MySQL's server variable
	// replication_optimize_for_static_plugin_config. Default false.
	OptimizeForStaticPluginConfig bool
}

// Defaults returns the defaults of flavor f (spec §1). An invalid flavor
// gets MySQL's defaults.
func Defaults(f semisync.Flavor) Config {
	var c Config
	for i := range defs {
		d := &defs[i]
		d.set(&c, d.limitsFor(f).def)
	}
	return c
}

// maxDuration is the longest time.Duration.
const maxDuration = time.Duration(math.MaxInt64)

// Timeout returns TimeoutMillis as a time.Duration. Timeouts too long for a
// Duration (about 292 years) saturate at the longest Duration instead of
// overflowing into a short or negative one; MySQL Bug #80651 was about the
// arithmetic of such huge timeouts.
func (c Config) Timeout() time.Duration {
	if c.TimeoutMillis > uint64(maxDuration/time.Millisecond) {
		return maxDuration
	}
	return time.Duration(c.TimeoutMillis) * time.Millisecond
}

// KillConnTimeout returns ReplicaKillConnTimeout as a time.Duration.
func (c Config) KillConnTimeout() time.Duration {
	return time.Duration(c.ReplicaKillConnTimeout) * time.Second
}

// Validate checks c against flavor f: every variable of f within its range,
// and every variable f lacks at its default. It does not modify c. Errors
// are *[Error] values naming the variable (in f's names where it has one).
func (c Config) Validate(f semisync.Flavor) error {
	if !f.Valid() {
		return newError(ErrUnsupported, "", "", "invalid flavor "+f.String())
	}
	for i := range defs {
		d := &defs[i]
		lim, v := d.limitsFor(f), d.get(&c)
		if name := d.names[f]; name != "" {
			if err := checkRange(d, name, lim, v, d.render(v)); err != nil {
				return err
			}
			continue
		}
		if v != lim.def {
			return newError(ErrUnsupported, otherName(d), d.render(v),
				flavorDescriptions[f]+" has no such variable; leave it at its default "+d.render(lim.def))
		}
	}
	return nil
}

// checkRange checks raw value v against lim; written is v as the user wrote
// it, for the error.
func checkRange(d *varDef, name string, lim limits, v uint64, written string) error {
	if v >= lim.min && v <= lim.max {
		return nil
	}
	if d.kind != KindUint {
		return newError(ErrWrongValue, name, written, "")
	}
	return rangeError(name, lim, written)
}

// rangeError is the error for an integer outside lim.
func rangeError(name string, lim limits, written string) *Error {
	return newError(ErrOutOfRange, name, written,
		"allowed range is "+strconv.FormatUint(lim.min, 10)+".."+strconv.FormatUint(lim.max, 10))
}

// otherName returns the first name d has in any flavor.
func otherName(d *varDef) string {
	for _, n := range d.names {
		if n != "" {
			return n
		}
	}
	return ""
}
