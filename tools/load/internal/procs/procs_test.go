package procs

import (
	"os"
	"slices"
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	t.Parallel()
	// A command name with a space and a parenthesis, as the kernel writes it.
	line := "21826 (we ird) name) S 21790 21826 21790 0 -1 4194560 5399 0 0 0 1234 567 0 0 20 0 9 0 1000 2000 300 18446744073709551615"
	st, err := ParseStat(line)
	if err != nil {
		t.Fatal(err)
	}
	if st.PPID != 21790 || st.CPU != 1801*10*time.Millisecond {
		t.Fatalf("got %+v", st)
	}
	for _, bad := range []string{"", "1 (x) S 2", "1 (x) S notanumber 1 1 0 -1 0 0 0 0 0 1 1"} {
		if _, err := ParseStat(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestParseMachine(t *testing.T) {
	t.Parallel()
	busy, all, err := ParseMachine("cpu  100 10 50 800 40 5 5 0 0 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n")
	if err != nil {
		t.Fatal(err)
	}
	if busy != 170*tick || all != 1010*tick {
		t.Fatalf("busy %v all %v", busy, all)
	}
	if _, _, err := ParseMachine("intr 1 2 3"); err == nil {
		t.Fatal("parsed a line that is not cpu")
	}
}

func TestName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"/work/main/bin/daprd", "--app-id", "post", "--app-port", "50102"}, "post.daprd"},
		{[]string{"/work/main/bin/daprd", "--app-id=user"}, "user.daprd"},
		{[]string{"/work/main/bin/post"}, "post"},
		{nil, "?"},
	}
	for _, tt := range tests {
		if got := Name(tt.args); got != tt.want {
			t.Errorf("Name(%v) = %s, want %s", tt.args, got, tt.want)
		}
	}
}

func TestSinceAccountsEveryone(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(0, 0)
	before := Snapshot{At: t0, ByName: map[string]time.Duration{"post": time.Second, "gateway": 0}, Self: 0, MachineBusy: 10 * time.Second}
	after := Snapshot{At: t0.Add(2 * time.Second), ByName: map[string]time.Duration{"post": 2 * time.Second, "gateway": 500 * time.Millisecond},
		Self: 300 * time.Millisecond, MachineBusy: 13 * time.Second}
	u := Since(before, after, 100)
	if u.ByProcessS["post"] != 1 || u.ByProcessS["gateway"] != 0.5 || u.ByProcessS["load tool"] != 0.3 {
		t.Fatalf("%+v", u.ByProcessS)
	}
	if o := u.ByProcessS["others"]; o < 1.199 || o > 1.201 {
		t.Fatalf("others %v, want 1.2", o)
	}
	if u.CoresBusy != 1.5 || u.PerRequestMs["post"] != 10 {
		t.Fatalf("%+v", u)
	}
	if got := u.StackPerRequestMs(); got != 15 { // post 10 + gateway 5
		t.Fatalf("stack per request %v, want 15", got)
	}
	if got := u.Top(); !slices.Equal(got[:2], []string{"others", "post"}) {
		t.Fatalf("top %v", got)
	}
}

// Rounds of one loop add up to what one phase as long would have measured.
func TestAddIsOnePhaseOfBoth(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(0, 0)
	at := func(s float64, post, self, busy time.Duration) Snapshot {
		return Snapshot{At: t0.Add(time.Duration(s * float64(time.Second))), ByName: map[string]time.Duration{"post": post}, Self: self, MachineBusy: busy}
	}
	// Two rounds with something else measured between them.
	a := Since(at(0, 0, 0, 0), at(1, 600*time.Millisecond, 100*time.Millisecond, 2*time.Second), 100)
	b := Since(at(5, time.Second, time.Second, 9*time.Second), at(8, 1300*time.Millisecond, 1100*time.Millisecond, 10*time.Second), 300)
	u := Add(a, b)
	if u.WallS != 4 || u.Requests != 400 {
		t.Fatalf("wall %v, requests %d", u.WallS, u.Requests)
	}
	if p := u.ByProcessS["post"]; p < 0.899 || p > 0.901 {
		t.Fatalf("post %v s, want 0.9", p)
	}
	if p := u.PerRequestMs["post"]; p < 2.249 || p > 2.251 {
		t.Fatalf("post %v ms per request, want 2.25", p)
	}
	if u.CoresBusy != 0.75 { // 2 s + 1 s busy over 4 s
		t.Fatalf("cores busy %v, want 0.75", u.CoresBusy)
	}
	if z := Add(Usage{}, a); z.PerRequestMs["post"] != a.PerRequestMs["post"] || z.CoresBusy != a.CoresBusy {
		t.Fatalf("adding nothing changed %+v into %+v", a, z)
	}
}

func TestTakeReadsThisMachine(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc here")
	}
	t.Parallel()
	s := Stack{Names: map[int]string{os.Getpid(): "me"}}
	snap := s.Take()
	if snap.MachineAll <= 0 {
		t.Fatalf("%+v", snap)
	}
	if _, ok := snap.ByName["me"]; !ok {
		t.Fatal("own process not read")
	}
}
