//go:build !linux

package mariadbtest

import (
	"os"
	"syscall"
)

// sysProcAttr has nothing to add where there is no parent-death signal: a
// crashed test binary can leave mariadbd running there.
func sysProcAttr() *syscall.SysProcAttr { return nil }

// lockFile does nothing where apt-get does not exist anyway.
func lockFile(*os.File) error { return nil }
