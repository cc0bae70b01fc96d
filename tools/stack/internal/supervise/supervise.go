// Package supervise runs the stack's child processes: each in its own process
// group, its output prefixed on the console, its exit reported, and all of
// them stopped in order, whole groups at a time, when the stack shuts down.
package supervise

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"sync"
	"time"

	"pixshare/tools/stack/internal/console"
)

// Spec describes one child process.
type Spec struct {
	Name  string // console prefix, e.g. "user" or "user.dapr"
	Path  string
	Args  []string
	Dir   string
	Env   []string
	Style console.Style
	// Wave orders shutdown: lower waves get SIGTERM first. Apps are wave 0 and
	// their sidecars wave 1, so an app can still use its sidecar while it
	// drains.
	Wave int
}

// Exit reports a child that ended while the stack was running.
type Exit struct {
	Name   string
	Status string // e.g. "exit status 1", "signal: killed"
	Lines  []string
}

// keepLines is how much of each child's output an error report shows.
const keepLines = 40

// Supervisor owns every child it starts; Stop must be called before the
// launcher exits.
type Supervisor struct {
	out      *console.Console
	mu       sync.Mutex
	children []*child
	exits    chan Exit
	stopping chan struct{}
	stopOnce sync.Once
	killed   []string
}

type child struct {
	spec    Spec
	cmd     *exec.Cmd
	pgid    int
	stream  *console.Stream
	done    chan struct{} // closed once the process has been reaped
	drained chan struct{} // closed once stdout and stderr reached EOF
}

// New returns a Supervisor printing to out.
func New(out *console.Console) *Supervisor {
	return &Supervisor{out: out, exits: make(chan Exit, 16), stopping: make(chan struct{})}
}

// Exits delivers children that end on their own (not through Stop).
func (s *Supervisor) Exits() <-chan Exit { return s.exits }

// Start launches a child. Its stdout and stderr are pipes owned by the
// launcher (not by os/exec) so that output a grandchild writes after its
// parent's exit is still read, and Wait never blocks on it.
func (s *Supervisor) Start(ctx context.Context, spec Spec) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("start %s: %w", spec.Name, err)
	}
	// Holding the lock from this check until the child is recorded means a
	// concurrent Stop either sees the child or makes this Start fail: no
	// child can slip past it.
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.stopping:
		return fmt.Errorf("start %s: stack is stopping", spec.Name)
	default:
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("start %s: %w", spec.Name, err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return fmt.Errorf("start %s: %w", spec.Name, err)
	}
	cmd := exec.Command(spec.Path, spec.Args...)
	cmd.Dir = spec.Dir
	cmd.Env = spec.Env
	cmd.Stdout = outW
	cmd.Stderr = errW
	cmd.SysProcAttr = sysProcAttr()
	err = cmd.Start()
	// The child has its own copies of the write ends now; ours must go so
	// that EOF arrives when the child (and any grandchild) is gone.
	outW.Close()
	errW.Close()
	if err != nil {
		outR.Close()
		errR.Close()
		return fmt.Errorf("start %s: %w", spec.Name, err)
	}

	c := &child{
		spec:    spec,
		cmd:     cmd,
		pgid:    cmd.Process.Pid, // Setpgid with Pgid 0: the group is named after the child
		stream:  s.out.Stream(spec.Name, spec.Style, keepLines),
		done:    make(chan struct{}),
		drained: make(chan struct{}),
	}
	s.children = append(s.children, c)

	var pumps sync.WaitGroup
	pumps.Add(2)
	for _, r := range []*os.File{outR, errR} {
		go func() {
			defer pumps.Done()
			defer r.Close()
			c.stream.Pump(r)
		}()
	}
	go func() {
		pumps.Wait()
		close(c.drained)
	}()
	go s.watch(c)
	return nil
}

// watch reaps the child and, unless the stack is stopping, reports the exit
// once its last output has been read (or shortly after, if a grandchild
// keeps the pipes open).
func (s *Supervisor) watch(c *child) {
	err := c.cmd.Wait()
	close(c.done)
	select {
	case <-c.drained:
	case <-time.After(500 * time.Millisecond):
	}
	status := "exit status 0"
	if c.cmd.ProcessState != nil {
		status = c.cmd.ProcessState.String()
	} else if err != nil {
		status = err.Error()
	}
	// Stop closes stopping before it signals anyone, so an exit it caused
	// is always seen here; a select alone would pick at random between the
	// two ready cases.
	select {
	case <-s.stopping:
		return
	default:
	}
	select {
	case <-s.stopping:
	case s.exits <- Exit{Name: c.spec.Name, Status: status, Lines: c.stream.Lines()}:
	}
}

// Lines returns the last lines printed by the named child.
func (s *Supervisor) Lines(name string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.children {
		if c.spec.Name == name {
			return c.stream.Lines()
		}
	}
	return nil
}

// Stop ends every child. Each wave gets SIGTERM in turn (all but the last
// wave get at most half of the remaining grace, so later waves are never
// starved); whatever is left when grace runs out is killed, and every
// process group is killed at the end regardless, so no grandchild survives.
// It returns the names of the children that had to be killed. Only the first
// call does anything; later ones return the same result.
func (s *Supervisor) Stop(grace time.Duration) []string {
	s.stopOnce.Do(func() {
		close(s.stopping)
		s.killed = s.stop(grace)
	})
	return s.killed
}

func (s *Supervisor) stop(grace time.Duration) []string {
	s.mu.Lock()
	children := slices.Clone(s.children)
	s.mu.Unlock()

	waves := map[int][]*child{}
	var order []int
	for _, c := range children {
		if _, ok := waves[c.spec.Wave]; !ok {
			order = append(order, c.spec.Wave)
		}
		waves[c.spec.Wave] = append(waves[c.spec.Wave], c)
	}
	slices.Sort(order)

	deadline := time.Now().Add(grace)
	for i, w := range order {
		for _, c := range waves[w] {
			signalGroup(c.pgid, sigTerm)
		}
		until := deadline
		if i < len(order)-1 {
			until = time.Now().Add(time.Until(deadline) / 2)
		}
		waitDone(waves[w], until)
	}

	var killed []string
	for _, c := range children {
		if !isDone(c) {
			killed = append(killed, c.spec.Name)
		}
		signalGroup(c.pgid, sigKill)
	}
	waitDone(children, time.Now().Add(5*time.Second))
	for _, c := range children {
		select {
		case <-c.drained:
		case <-time.After(time.Second):
		}
	}
	return killed
}

func waitDone(children []*child, until time.Time) {
	for _, c := range children {
		select {
		case <-c.done:
		case <-time.After(time.Until(until)):
			return
		}
	}
}

func isDone(c *child) bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}
