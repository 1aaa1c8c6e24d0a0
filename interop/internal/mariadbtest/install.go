package mariadbtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Install is a MariaDB installation found (or installed) by [Require].
type Install struct {
	Mariadbd  string // path of mariadbd
	InstallDB string // path of mariadb-install-db
	Client    string // path of the mariadb command-line client
	Version   string // output of `mariadbd --version`, trimmed
}

// aptPackages are the smallest set that provides mariadbd, mariadb-install-db
// and the mariadb client: 7 packages, about 5 s including apt-get update,
// against 49 packages for mariadb-server (which also tries to start a system
// service on port 3306).
var aptPackages = []string{"mariadb-server-core", "mariadb-client-core"}

// fallbackDirs are searched when an executable is not on PATH: test runners
// often start with a PATH that lacks the sbin directories where Debian puts
// mariadbd.
var fallbackDirs = []string{"/usr/sbin", "/usr/bin"}

// aptTimeout bounds each apt-get run, so that a machine without network access
// fails in minutes rather than at the test binary's timeout.
const aptTimeout = 5 * time.Minute

// env is everything Require depends on, so that tests can drive each branch
// without uninstalling anything.
type env struct {
	find    func(name string) (string, error) // locate an executable
	getenv  func(key string) string
	install func() error                          // install MariaDB, or say why it cannot
	version func(mariadbd string) (string, error) // `mariadbd --version`
}

// systemInstall is the process-wide result of looking for (and perhaps
// installing) MariaDB: done at most once per test process because apt-get
// takes seconds and cannot run concurrently with itself. See the package
// documentation, "Process-wide state".
var systemInstall = sync.OnceValues(func() (*Install, error) {
	return resolve(systemEnv())
})

// Require returns the MariaDB installation, installing it first when it is
// missing.
//
// When mariadbd or mariadb-install-db is not found on PATH (nor in /usr/sbin
// or /usr/bin), the process runs as root and apt-get exists, it runs
// `apt-get update` and `apt-get install -y mariadb-server-core
// mariadb-client-core` with DEBIAN_FRONTEND=noninteractive, writing their
// output to a log file whose tail is quoted on failure. This happens at most
// once per test process; later calls return the same result.
//
// When MariaDB cannot be had, Require fails the test if the CI environment
// variable is set to anything but "false" or "0", and skips it otherwise.
func Require(tb testing.TB) *Install {
	tb.Helper()
	inst, err := systemInstall()
	return verdict(tb, inst, err, os.Getenv)
}

// requireFrom is Require in the given environment, without the process-wide
// cache.
func requireFrom(tb testing.TB, e env) *Install {
	tb.Helper()
	inst, err := resolve(e)
	return verdict(tb, inst, err, e.getenv)
}

// verdict turns resolve's result into a usable Install, a skip or a failure.
func verdict(tb testing.TB, inst *Install, err error, getenv func(string) string) *Install {
	tb.Helper()
	if err == nil {
		return inst
	}
	if ci := getenv("CI"); isCI(ci) {
		tb.Fatalf("mariadbtest: MariaDB not available and CI=%q: %v", ci, err)
	}
	tb.Skipf("mariadbtest: MariaDB not available (%v): set CI=true to make this a failure", err)
	return nil
}

// isCI reports whether the value of the CI environment variable asks for
// failures instead of skips.
func isCI(v string) bool {
	return v != "" && v != "0" && !strings.EqualFold(v, "false")
}

// resolve finds MariaDB, installing it once if a first look fails.
func resolve(e env) (*Install, error) {
	inst, err := locate(e)
	if err == nil {
		return inst, nil
	}
	if ierr := e.install(); ierr != nil {
		return nil, fmt.Errorf("%w; installing it failed: %w", err, ierr)
	}
	inst, err = locate(e)
	if err != nil {
		return nil, fmt.Errorf("after installing %s: %w", strings.Join(aptPackages, " "), err)
	}
	return inst, nil
}

// locate finds the three executables and asks mariadbd for its version.
func locate(e env) (*Install, error) {
	mariadbd, err1 := e.find("mariadbd")
	installDB, err2 := e.find("mariadb-install-db")
	client, err3 := e.find("mariadb")
	if err := errors.Join(err1, err2, err3); err != nil {
		return nil, err
	}
	v, err := e.version(mariadbd)
	if err != nil {
		return nil, err
	}
	return &Install{Mariadbd: mariadbd, InstallDB: installDB, Client: client, Version: v}, nil
}

// systemEnv is the real environment of the test process.
func systemEnv() env {
	return env{find: findExecutable, getenv: os.Getenv, install: aptInstall, version: mariadbdVersion}
}

// findExecutable looks for name on PATH, then in fallbackDirs.
func findExecutable(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range fallbackDirs {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found on PATH or in %s", name, strings.Join(fallbackDirs, ", "))
}

// mariadbdVersion runs `mariadbd --version`.
func mariadbdVersion(mariadbd string) (string, error) {
	out, err := exec.Command(mariadbd, "--version").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%s --version: %w: %s", mariadbd, err, bytes.TrimSpace(out))
	}
	return string(bytes.TrimSpace(out)), nil
}

// aptInstall installs aptPackages with apt-get when the process may: it must
// run as root and apt-get must exist. The log file is removed on success and
// kept on failure.
func aptInstall() error {
	if os.Geteuid() != 0 {
		return errors.New("cannot install it: not running as root")
	}
	aptGet, err := exec.LookPath("apt-get")
	if err != nil {
		return errors.New("cannot install it: apt-get not found")
	}
	// Test binaries of several packages may get here at once: one installs
	// while the others wait, then find what it installed.
	lock, err := os.OpenFile(filepath.Join(os.TempDir(), "mariadbtest-apt.lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	defer lock.Close() // releases the lock
	if err := lockFile(lock); err != nil {
		return err
	}
	if _, err := locate(systemEnv()); err == nil {
		return nil
	}
	log, err := os.CreateTemp("", "mariadbtest-apt-*.log")
	if err != nil {
		return err
	}
	defer log.Close()
	// Wait for another apt (a boot-time update, say) rather than fail.
	lockWait := []string{"-o", "DPkg::Lock::Timeout=120"}
	for _, args := range [][]string{append(lockWait, "update"), append(append(lockWait, "install", "-y"), aptPackages...)} {
		if err := runLogged(log, aptGet, args...); err != nil {
			return fmt.Errorf("apt-get %s: %w (log %s):\n%s", strings.Join(args, " "), err, log.Name(), tailFile(log.Name(), 30))
		}
	}
	return os.Remove(log.Name())
}

// runLogged runs one apt-get command, non-interactively, with its output
// appended to log.
func runLogged(log *os.File, name string, args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), aptTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	cmd.Stdout, cmd.Stderr = log, log
	return cmd.Run()
}
