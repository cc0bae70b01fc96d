package main

import (
	"strings"

	"pixshare/tools/stack/internal/console"
	"pixshare/tools/stack/internal/runfile"
	"pixshare/tools/stack/internal/supervise"
)

// readyLine is the single line that announces a usable stack; scripts and
// the end-to-end tests wait for it. The gateway comes first because it is
// the one URL a person needs; Mailpit's inbox (where the mails the stack
// sends arrive) comes last.
func readyLine(apps []runfile.App, hasCommand func(runfile.App) bool, natsURL, mailpitURL string) string {
	var gateway, rest []string
	for _, a := range apps {
		addr := a.Env["HTTP_ADDR"]
		switch {
		case addr == "" || !hasCommand(a):
			rest = append(rest, a.Instance()+"(sidecar)="+sidecarURL(a))
		case a.AppID == "gateway":
			u := "http://" + dialAddr(addr)
			gateway = append(gateway, u+" (gateway, docs at "+u+"/docs)")
		default:
			rest = append(rest, a.Instance()+"=http://"+dialAddr(addr))
		}
	}
	parts := append(gateway, rest...)
	if natsURL != "" {
		parts = append(parts, "nats="+natsURL)
	}
	if mailpitURL != "" {
		parts = append(parts, "mailpit="+mailpitURL+" (inbox)")
	}
	return "ready: " + strings.Join(parts, " ")
}

// reportExit tells which child ended and what it said last.
func (s *stack) reportExit(e supervise.Exit) {
	s.out.Printf("%s exited (%s); last lines:", e.Name, e.Status)
	s.printLines(e.Name, e.Lines)
}

// reportNotReady lists the apps that missed the deadline, why their probe
// failed, and the last lines of both the app and its sidecar: the cause is
// usually in one of them.
func (s *stack) reportNotReady(missing []notReady) {
	ids := make([]string, len(missing))
	for i, m := range missing {
		ids[i] = m.id
	}
	s.out.Printf("not ready after %v: %s", s.opts.readyTimeout, strings.Join(ids, ", "))
	for _, m := range missing {
		s.out.Printf("%s: %s", m.id, m.reason)
		for _, name := range []string{m.id, m.id + ".dapr"} {
			s.out.Printf("last lines of %s:", name)
			s.printLines(name, s.sup.Lines(name))
		}
	}
}

func (s *stack) printLines(name string, lines []string) {
	if len(lines) == 0 {
		lines = []string{"(no output)"}
	}
	s.out.PrintLines(name, console.Style{}, lines)
}
