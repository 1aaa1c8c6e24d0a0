package mariadbtest

import "testing"

// RequireFrom is Require in an injected environment, without the
// process-wide cache: find locates executables, getenv reads environment
// variables, install installs MariaDB (or says why it cannot) and version
// runs `mariadbd --version`.
func RequireFrom(tb testing.TB, find func(string) (string, error), getenv func(string) string,
	install func() error, version func(string) (string, error)) *Install {
	tb.Helper()
	return requireFrom(tb, env{find: find, getenv: getenv, install: install, version: version})
}

// StartWithPorts is Start taking its ports from pickPort.
func StartWithPorts(tb testing.TB, opts Options, pickPort func() (int, error)) *Server {
	tb.Helper()
	return start(tb, opts, pickPort)
}

// MakeTemplate runs mariadb-install-db into a new directory, as the first
// Start of a process does, and returns the datadir.
func MakeTemplate(inst *Install) (string, error) { return makeTemplate(inst) }

// CopyDatadir copies a template datadir, as every Start does.
func CopyDatadir(dst, src string) error { return copyDatadir(dst, src) }
