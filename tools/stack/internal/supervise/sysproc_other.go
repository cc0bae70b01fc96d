//go:build !linux

package supervise

import "syscall"

// sysProcAttr puts the child in a process group of its own. Outside Linux
// there is no parent-death signal: children outlive a launcher killed with
// SIGKILL, and the next start reports their ports as in use.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
