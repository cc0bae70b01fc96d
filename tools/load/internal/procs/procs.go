// Package procs accounts the CPU time the stack's processes spend during a
// phase, from /proc (Linux): the apps do not expose pprof, but per-process
// CPU per request already says where a request's cost goes (the app, its
// sidecar, the gateway, the broker) and how much of the machine others used.
package procs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// tick is Linux's USER_HZ: /proc reports CPU time in 1/100 s everywhere
// Go runs on Linux.
const tick = 10 * time.Millisecond

// Stack is the launcher of a running stack and its children, by name:
// the app ("post"), its sidecar ("post.daprd"), and "stack" (the launcher,
// which embeds the NATS broker).
type Stack struct {
	Names map[int]string
}

// FindStack finds the stack whose gateway sidecar serves gRPC on port:
// the launcher is that daprd's parent, and the stack is the launcher and
// its children. Ports are unique, so another stack on the machine (tests
// run their own) is never mistaken for it.
func FindStack(port string) (Stack, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return Stack{}, fmt.Errorf("procs: %w", err)
	}
	type proc struct {
		pid, ppid int
		args      []string
	}
	var all []proc
	launcher := 0
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmd, err1 := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		stat, err2 := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err1 != nil || err2 != nil {
			continue // gone
		}
		st, err := ParseStat(string(stat))
		if err != nil {
			continue
		}
		args := strings.Split(strings.TrimRight(string(cmd), "\x00"), "\x00")
		all = append(all, proc{pid, st.PPID, args})
		if filepath.Base(args[0]) == "daprd" && flagValue(args, "--dapr-grpc-port") == port {
			launcher = st.PPID
		}
	}
	if launcher == 0 {
		return Stack{}, fmt.Errorf("procs: no daprd serves gRPC on port %s", port)
	}
	s := Stack{Names: map[int]string{}}
	for _, p := range all {
		switch {
		case p.pid == launcher:
			s.Names[p.pid] = "stack"
		case p.ppid == launcher:
			s.Names[p.pid] = Name(p.args)
		}
	}
	return s, nil
}

// Name names a process of the stack from its arguments.
func Name(args []string) string {
	if len(args) == 0 {
		return "?"
	}
	base := filepath.Base(args[0])
	if base == "daprd" {
		if id := flagValue(args, "--app-id"); id != "" {
			return id + ".daprd"
		}
	}
	return base
}

func flagValue(args []string, name string) string {
	for i, a := range args {
		if a == name && i+1 < len(args) {
			return args[i+1]
		}
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v
		}
	}
	return ""
}

// Stat is what the tool reads of /proc/<pid>/stat.
type Stat struct {
	PPID int
	// CPU is user plus system time.
	CPU time.Duration
}

// ParseStat reads a /proc/<pid>/stat line. The command name (field 2) is
// in parentheses and may hold spaces and parentheses, so fields are
// counted from the last ')'.
func ParseStat(s string) (Stat, error) {
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return Stat{}, errors.New("procs: stat without a command name")
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state); ppid is field 4, utime 14, stime 15.
	if len(f) < 13 {
		return Stat{}, fmt.Errorf("procs: short stat %q", s)
	}
	ppid, err := strconv.Atoi(f[1])
	if err != nil {
		return Stat{}, fmt.Errorf("procs: ppid: %w", err)
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return Stat{}, fmt.Errorf("procs: cpu times: %w", err)
	}
	return Stat{PPID: ppid, CPU: time.Duration(ut+st) * tick}, nil
}

// ParseMachine reads the first line of /proc/stat: the machine's busy and
// total CPU time over all cores.
func ParseMachine(s string) (busy, total time.Duration, err error) {
	line, _, _ := strings.Cut(s, "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0, 0, fmt.Errorf("procs: /proc/stat starts with %q", line)
	}
	var v [8]int64
	for i := range v {
		if v[i], err = strconv.ParseInt(f[i+1], 10, 64); err != nil {
			return 0, 0, fmt.Errorf("procs: /proc/stat: %w", err)
		}
	}
	// user nice system idle iowait irq softirq steal (guest time is
	// already counted in user).
	idle := v[3] + v[4]
	var all int64
	for _, x := range v {
		all += x
	}
	return time.Duration(all-idle) * tick, time.Duration(all) * tick, nil
}

// Snapshot is the CPU time of each process and of the machine at a moment.
type Snapshot struct {
	At          time.Time
	ByName      map[string]time.Duration
	Self        time.Duration
	MachineBusy time.Duration
	MachineAll  time.Duration
}

// Take reads the CPU time of the stack's processes, of this process and of
// the machine.
func (s Stack) Take() Snapshot {
	snap := Snapshot{At: time.Now(), ByName: map[string]time.Duration{}}
	for pid, name := range s.Names {
		if b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat")); err == nil {
			if st, err := ParseStat(string(b)); err == nil {
				snap.ByName[name] += st.CPU
			}
		}
	}
	if b, err := os.ReadFile("/proc/self/stat"); err == nil {
		if st, err := ParseStat(string(b)); err == nil {
			snap.Self = st.CPU
		}
	}
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		snap.MachineBusy, snap.MachineAll, _ = ParseMachine(string(b))
	}
	return snap
}

// Usage is the CPU spent between two snapshots.
type Usage struct {
	WallS float64 `json:"wall_s"`
	// CoresBusy is the whole machine's busy CPU time over the wall time
	// (2.0 = both cores of a 2-core machine busy), everyone's work included.
	CoresBusy float64 `json:"machine_cores_busy"`
	// ByProcessS is CPU seconds per stack process, plus "load tool" (this
	// process) and "others" (the rest of the machine: other people's work).
	ByProcessS map[string]float64 `json:"cpu_s_by_process"`
	// PerRequestMs divides ByProcessS by the requests of the phase.
	PerRequestMs map[string]float64 `json:"cpu_ms_per_request,omitempty"`
	Requests     int                `json:"requests,omitempty"`
}

// Since returns the usage from before to after; requests > 0 adds the CPU
// per request.
func Since(before, after Snapshot, requests int) Usage {
	u := Usage{WallS: after.At.Sub(before.At).Seconds(), ByProcessS: map[string]float64{}, Requests: requests}
	var stack time.Duration
	for name, t := range after.ByName {
		d := t - before.ByName[name]
		stack += d
		u.ByProcessS[name] = d.Seconds()
	}
	self := after.Self - before.Self
	u.ByProcessS["load tool"] = self.Seconds()
	busy := after.MachineBusy - before.MachineBusy
	u.ByProcessS["others"] = max(0, (busy - stack - self).Seconds())
	if u.WallS > 0 {
		u.CoresBusy = busy.Seconds() / u.WallS
	}
	if requests > 0 {
		u.PerRequestMs = map[string]float64{}
		for name, s := range u.ByProcessS {
			u.PerRequestMs[name] = 1000 * s / float64(requests)
		}
	}
	return u
}

// Top returns the names of u's processes by CPU, most first.
func (u Usage) Top() []string {
	names := make([]string, 0, len(u.ByProcessS))
	for n := range u.ByProcessS {
		names = append(names, n)
	}
	slices.SortFunc(names, func(a, b string) int {
		if u.ByProcessS[a] != u.ByProcessS[b] {
			if u.ByProcessS[a] > u.ByProcessS[b] {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
	return names
}

// StackPerRequestMs is the CPU per request of the stack's processes alone
// (without the load tool and others).
func (u Usage) StackPerRequestMs() float64 {
	t := 0.0
	for name, v := range u.PerRequestMs {
		if name != "load tool" && name != "others" {
			t += v
		}
	}
	return t
}

// Add returns the usage of a and b together, as if measured in one phase
// as long as both (the rounds of one loop, measured between others).
func Add(a, b Usage) Usage {
	u := Usage{WallS: a.WallS + b.WallS, ByProcessS: map[string]float64{}, Requests: a.Requests + b.Requests}
	for name, s := range a.ByProcessS {
		u.ByProcessS[name] += s
	}
	for name, s := range b.ByProcessS {
		u.ByProcessS[name] += s
	}
	if u.WallS > 0 {
		u.CoresBusy = (a.CoresBusy*a.WallS + b.CoresBusy*b.WallS) / u.WallS
	}
	if u.Requests > 0 {
		u.PerRequestMs = map[string]float64{}
		for name, s := range u.ByProcessS {
			u.PerRequestMs[name] = 1000 * s / float64(u.Requests)
		}
	}
	return u
}
