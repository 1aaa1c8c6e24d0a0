//go:build linux

package mariadbtest

import (
	"os"
	"syscall"
)

// sysProcAttr makes the kernel SIGKILL mariadbd when the test process dies,
// so a crashed or killed test binary leaves no server behind. (Strictly, the
// signal comes when the OS thread that started mariadbd exits; Go keeps its
// threads for the life of the process unless a goroutine exits while locked
// to one, which this package never does.)
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// lockFile takes an exclusive lock on f, waiting for it: test binaries of
// several packages run at once and must not run apt-get at the same time.
func lockFile(f *os.File) error { return syscall.Flock(int(f.Fd()), syscall.LOCK_EX) }
