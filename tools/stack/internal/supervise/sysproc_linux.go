package supervise

import "syscall"

// sysProcAttr puts the child in a process group of its own, so a terminal's
// Ctrl-C reaches only the launcher (which then stops children in order) and
// a whole group, grandchildren included, can be signalled at once. Pdeathsig
// has the kernel kill the child when the launcher dies, even by SIGKILL.
//
// Pdeathsig fires when the forking OS thread exits, not the process; Go only
// retires threads whose goroutine exits while locked (runtime.LockOSThread),
// which nothing in the launcher does.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
