package supervise

import "syscall"

const (
	sigTerm = syscall.SIGTERM
	sigKill = syscall.SIGKILL
)

// signalGroup signals every process in the group. The only expected failure
// is ESRCH (the group is already empty, normal late in a shutdown), so the
// result is deliberately ignored.
func signalGroup(pgid int, sig syscall.Signal) {
	if pgid <= 0 {
		return // -0 and -(-1) would hit our own group or every process
	}
	_ = syscall.Kill(-pgid, sig)
}
