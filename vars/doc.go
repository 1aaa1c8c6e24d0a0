// Package vars holds the semisync system variables: every variable of
// MySQL's rpl_semi_sync_source / rpl_semi_sync_replica plugins (8.0.26+
// names), of the legacy rpl_semi_sync_master / rpl_semi_sync_slave plugins,
// of MariaDB's built-in semisync, and the two server-level variables MySQL
// added for semisync performance (spec §1). Each is typed, with its default,
// range and documentation, and can be set the ways a server allows: SET
// GLOBAL statements, option files (my.cnf) and the rows of a live server's
// SHOW VARIABLES. [Registry.Show] answers SHOW VARIABLES LIKE.
//
// A running source or replica reads the live values from a [Registry] on its
// hot path without locking or allocating, and may subscribe to changes.
//
// # Names per flavor
//
// A [Registry] presents one naming flavor ([semisync.Flavor]); the others'
// names are unknown to it, with an error that says whose name it is.
// [Config] uses flavor-neutral field names. The variables' names, without
// their common prefix rpl_semi_sync_:
//
//	Config field            FlavorMySQL (8.0.26+)          FlavorMySQLLegacy            FlavorMariaDB
//	SourceEnabled           source_enabled                 master_enabled               master_enabled
//	TimeoutMillis           source_timeout                 master_timeout               master_timeout
//	WaitForReplicaCount     source_wait_for_replica_count  master_wait_for_slave_count  -
//	WaitNoReplica           source_wait_no_replica         master_wait_no_slave         master_wait_no_slave
//	WaitPoint               source_wait_point              master_wait_point            master_wait_point
//	SourceTraceLevel        source_trace_level             master_trace_level           master_trace_level
//	ReplicaEnabled          replica_enabled                slave_enabled                slave_enabled
//	ReplicaTraceLevel       replica_trace_level            slave_trace_level            slave_trace_level
//	ReplicaDelaySource      -                              -                            slave_delay_master
//	ReplicaKillConnTimeout  -                              -                            slave_kill_conn_timeout
//
// SenderObserveCommitOnly and OptimizeForStaticPluginConfig are the server
// variables replication_sender_observe_commit_only and
// replication_optimize_for_static_plugin_config of both MySQL flavors;
// MariaDB has neither.
//
// Flavors differ in defaults and ranges too: MariaDB's wait point defaults
// to AFTER_COMMIT (MySQL's to AFTER_SYNC), and its timeout and trace levels
// range up to 2^64-1 (MySQL's manual gives 4294967295).
//
// # The live-value model
//
// A Registry publishes its values as an immutable snapshot behind an atomic
// pointer. [Registry.Config] loads the pointer and copies the [Config]
// struct: no lock, no allocation, and every value of one change is seen
// together. Writers ([Registry.Apply] and the methods built on it: Exec,
// LoadOptionFile, ApplyRows) serialise on a mutex, validate everything,
// then swap the pointer once, so a statement or a file with one bad
// assignment changes nothing. [Registry.Version] counts the changes.
//
// [Registry.OnChange] functions run synchronously after each change, on
// the writer's goroutine and under its lock, in order, like MySQL's
// variable update functions. They must be quick and must not write to the
// same registry.
//
// # The host's duties
//
//  1. Create one Registry per server identity with [NewRegistry], in the
//     flavor the host's clients expect; load the host's option file with
//     [Registry.LoadOptionFile] before starting the source or replica, or
//     with [Registry.LoadOptionFileWarnings] and print the warnings: the
//     semisync options the file holds that were skipped (see below).
//  2. Route the SET statements (and SHOW VARIABLES queries) that clients
//     send about these variables to [Registry.Exec] (and [Registry.Show]),
//     and return the *[Error] to the client: its Code is MySQL's error
//     number.
//  3. Give the running source or replica the registry (it reads
//     [Registry.Config] per commit or per connection) or forward changes
//     from [Registry.OnChange].
//  4. Pin with [WithReadOnly] any variable the host cannot apply at
//     runtime.
//
// This package has no goroutines, no global mutable state and no I/O
// beyond the io.Reader it is given.
//
// # Deviations from MySQL
//
//   - Out-of-range integers are rejected with [ErrOutOfRange]; MySQL clips
//     them to the range with a warning (SET) or a warning at startup
//     (option files). Negative numbers are out of range. Unrecognised
//     booleans in option files are rejected; MySQL warns and uses OFF.
//   - SET value syntax follows MySQL: a quoted string or a word names a
//     boolean (ON, OFF) or an enum value (AFTER_SYNC), so '1', 'TRUE' and
//     `TRUE` are rejected with [ErrWrongValue]; integer literals (and
//     unquoted TRUE and FALSE, which are MySQL's literals 1 and 0) give a
//     boolean 0 or 1 or an enum ordinal; integers reject strings and words
//     with [ErrWrongType]. Two quirks of MySQL's plugin checks are not
//     copied: a unique prefix of a boolean name ('of' for OFF) and -1 for
//     a boolean are rejected here. Option files and [Registry.ApplyRows]
//     accept every spelling MySQL's option parser does (ON, OFF, TRUE,
//     FALSE, 1, 0, names or ordinals).
//   - Only literal values are accepted, not expressions (10*1000 is
//     [ErrUnsupported]). SET PERSIST applies the value as GLOBAL and
//     persists nothing (MariaDB has no SET PERSIST: [ErrSyntax] there);
//     SET PERSIST_ONLY is unsupported.
//   - [ErrReadOnly] arises only for variables the host pinned, and only
//     when an assignment would change the value.
//   - Option files: names ignore case (MySQL's option parser does not);
//     the skip-/disable-/enable- prefixes are accepted on booleans only;
//     an integer option needs a value; !include and !includedir are
//     unsupported; version-suffixed groups ([mysqld-8.0]) are not read.
//     As in the servers, the groups read depend on the flavor: [mysqld]
//     and [server], plus [mariadb], [mariadbd] and [client-server] for
//     MariaDB only (a MySQL server ignores [mariadb]).
//   - Option-file warnings: a semisync option (a variable of any flavor)
//     in a group the flavor does not read, which the servers skip in
//     silence, and a loose- option that looks like a semisync variable
//     but is not one of the flavor's, which the servers drop with
//     "[Warning] unknown variable", are both [Warning] values from
//     [Registry.ParseOptionFileWarnings] and
//     [Registry.LoadOptionFileWarnings]. Another flavor's name without
//     loose- in a group the flavor reads stays an error: in particular a
//     MySQL 8.0.26+ registry does not take rpl_semi_sync_master_* names,
//     because the rpl_semi_sync_source plugin does not define them (the
//     two plugin generations exclude each other; the old names are not
//     aliases, unlike renamed server variables), so the server would stop
//     with "unknown variable".
//
// # Usage
//
//	reg, err := vars.NewRegistry(semisync.FlavorMySQL)
//	if err != nil { ... }
//	if err := reg.LoadOptionFile(f, "my.cnf"); err != nil { ... }
//	reg.OnChange(func(prev, next vars.Config) {
//		if prev.WaitForReplicaCount != next.WaitForReplicaCount { ... }
//	})
//	err = reg.Exec("SET GLOBAL rpl_semi_sync_source_timeout = 2000")
//	timeout := reg.Config().Timeout() // on the hot path
package vars
