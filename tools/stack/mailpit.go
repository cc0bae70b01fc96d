package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"pixshare/tools/stack/internal/console"
	"pixshare/tools/stack/internal/health"
	"pixshare/tools/stack/internal/preflight"
	"pixshare/tools/stack/internal/supervise"
)

// Mailpit is the SMTP server every launcher profile's mail binding points
// at (components/*/mail.yaml: 127.0.0.1:1025); its web inbox and API let a
// person, or a test, read what the mailer sent.

// runsMailpit reports whether the launcher starts Mailpit.
func (o options) runsMailpit() bool { return o.mailpitSMTPPort != 0 }

// locateMailpit finds the binary: -mailpit, else bin/mailpit next to the
// run file (tools/mailpit/ensure.sh builds it; `make run` calls it).
func (s *stack) locateMailpit() error {
	if !s.opts.runsMailpit() {
		return nil
	}
	path := s.opts.mailpit
	if path == "" {
		path = filepath.Join(s.runDir, "bin", "mailpit")
	}
	info, err := os.Stat(path)
	if err != nil || info.IsDir() || info.Mode()&0o111 == 0 {
		return fmt.Errorf("no Mailpit at %s: build it with tools/mailpit/ensure.sh (make run does), or pass -mailpit-smtp-port 0 to run without it", path)
	}
	s.mailpit = path
	return nil
}

// mailpitPorts are Mailpit's listening ports, for the port check.
func (s *stack) mailpitPorts() []preflight.Port {
	if !s.opts.runsMailpit() {
		return nil
	}
	return []preflight.Port{
		{Number: s.opts.mailpitSMTPPort, Kind: "mailpit SMTP"},
		{Number: s.opts.mailpitHTTPPort, Kind: "mailpit web/API"},
	}
}

// startMailpit runs Mailpit (stopped last, after the sidecars that send
// through it) and waits until it answers. Its mails are kept in the data
// directory, so the inbox survives a restart like the rest of the stack.
func (s *stack) startMailpit(ctx context.Context) error {
	if s.mailpit == "" {
		return nil
	}
	err := s.sup.Start(ctx, supervise.Spec{
		Name: "mailpit",
		Path: s.mailpit,
		Args: []string{
			"--smtp", "127.0.0.1:" + strconv.Itoa(s.opts.mailpitSMTPPort),
			"--listen", "127.0.0.1:" + strconv.Itoa(s.opts.mailpitHTTPPort),
			"--database", filepath.Join(s.dataDir, "mailpit.db"),
			// Loopback only: no release check over the network.
			"--disable-version-check",
		},
		Dir:   s.runDir,
		Env:   os.Environ(),
		Style: console.Style{Colour: len(s.apps) + 1, Dim: true},
		Wave:  2,
	})
	if err != nil {
		return err
	}
	if err := health.Wait(ctx, s.probe, s.mailpitURL()+"/readyz", health.Is2xx); err != nil {
		return errors.Join(errors.New("mailpit did not become ready"), err)
	}
	return nil
}

// mailpitURL is the inbox (and the API under /api/v1), "" without Mailpit.
func (s *stack) mailpitURL() string {
	if s.mailpit == "" {
		return ""
	}
	return "http://127.0.0.1:" + strconv.Itoa(s.opts.mailpitHTTPPort)
}
