package mariadbtest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// templatePrefix names template directories in the temporary directory, so
// that a later test process can find and remove those of exited processes.
const templatePrefix = "mariadbtest-template-"

// ownerFile holds the PID of the process that owns a template directory.
const ownerFile = "owner.pid"

// template is the process-wide template datadir: made at most once per test
// process, because mariadb-install-db takes 0.5 to 1.5 s and copying its
// result about 0.13 s. See the package documentation,
// "Process-wide state".
var template struct {
	once sync.Once
	dir  string // the datadir to copy
	took time.Duration
	err  error
}

// templateDatadir returns the template datadir, making it on first use.
func templateDatadir(tb testing.TB, inst *Install) string {
	tb.Helper()
	first := false
	template.once.Do(func() {
		first = true
		began := time.Now()
		template.dir, template.err = makeTemplate(inst)
		template.took = time.Since(began)
	})
	if template.err != nil {
		tb.Fatalf("mariadbtest: template datadir: %v", template.err)
	}
	if first && testing.Verbose() {
		tb.Logf("mariadbtest: template datadir made by %s in %v", filepath.Base(inst.InstallDB), template.took.Round(time.Millisecond))
	}
	return template.dir
}

// makeTemplate runs mariadb-install-db into a new directory and returns the
// datadir it made.
func makeTemplate(inst *Install) (string, error) {
	removeStaleTemplates()
	base, err := os.MkdirTemp("", templatePrefix)
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(base, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return "", err
	}
	data, tmp := filepath.Join(base, "data"), filepath.Join(base, "tmp")
	if err := os.Mkdir(tmp, 0o700); err != nil {
		return "", err
	}
	logPath := filepath.Join(base, "install.log")
	log, err := os.Create(logPath)
	if err != nil {
		return "", err
	}
	defer log.Close()
	// --no-defaults must come first, or /etc/mysql/*.cnf is read. A private
	// --tmpdir avoids the intermittent failures of install-db runs sharing
	// /tmp. --auth-root-authentication-method=normal creates a password-less
	// root@127.0.0.1 (the default is unix_socket auth for root@localhost
	// only, which refuses TCP).
	args := append([]string{"--no-defaults"}, rootUser()...)
	args = append(args,
		"--skip-name-resolve",
		"--innodb-log-file-size=16M",
		"--datadir="+data,
		"--tmpdir="+tmp,
		"--auth-root-authentication-method=normal",
		"--skip-test-db",
	)
	cmd := exec.Command(inst.InstallDB, args...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s: %w (log %s):\n%s", filepath.Base(inst.InstallDB), err, logPath, tailFile(logPath, tailLines))
	}
	return data, nil
}

// removeStaleTemplates removes the template directories of test processes
// that have exited. A directory whose owner is unknown (not yet written) or
// may still run is left alone.
func removeStaleTemplates() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), templatePrefix+"*"))
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, ownerFile))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(string(b))
		if err != nil || pid <= 0 || pid == os.Getpid() {
			continue
		}
		if !processGone(pid) {
			continue
		}
		_ = os.RemoveAll(dir)
	}
}

// processGone reports whether no process has the given PID. Any doubt (for
// example a process of another user, which signal 0 may not probe) counts as
// "still there".
func processGone(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	err = p.Signal(syscall.Signal(0))
	return errors.Is(err, os.ErrProcessDone) || errors.Is(err, syscall.ESRCH)
}

// rootUser is --user=root when the process runs as root: mariadbd refuses to
// run as root without it.
func rootUser() []string {
	if os.Geteuid() == 0 {
		return []string{"--user=root"}
	}
	return nil
}
