package preflight

import (
	"errors"
	"fmt"
	"net"
	"strconv"

	"pixshare/tools/stack/internal/runfile"
)

// Port is one TCP port the stack will listen on and who will own it.
type Port struct {
	Number int
	App    string // "" for the broker
	Kind   string // appPort, daprHTTPPort, …, HTTP_ADDR, nats
}

// Owner names the port's user in messages, e.g. "user HTTP_ADDR".
func (p Port) Owner() string {
	if p.App == "" {
		return p.Kind
	}
	return p.App + " " + p.Kind
}

// sharable reports whether two planned uses of one port are really one
// listener: an HTTP app may serve its REST API and Dapr's callbacks on the
// same port, so its appPort and HTTP_ADDR may coincide.
func sharable(a, b Port) bool {
	kinds := map[string]bool{a.Kind: true, b.Kind: true}
	return a.App == b.App && kinds["appPort"] && kinds["HTTP_ADDR"]
}

// PlannedPorts lists every port the stack will listen on: each app's own and
// sidecar ports, the port of its HTTP_ADDR, and the NATS port (0 = none).
func PlannedPorts(apps []runfile.App, natsPort int) ([]Port, error) {
	var ports []Port
	add := func(n int, app, kind string) {
		if n > 0 {
			ports = append(ports, Port{Number: n, App: app, Kind: kind})
		}
	}
	for _, a := range apps {
		add(a.AppPort, a.AppID, "appPort")
		add(a.HTTPPort, a.AppID, "daprHTTPPort")
		add(a.GRPCPort, a.AppID, "daprGRPCPort")
		add(a.InternalGRPCPort, a.AppID, "daprInternalGRPCPort")
		add(a.MetricsPort, a.AppID, "metricsPort")
		if a.EnableProfiling {
			add(a.ProfilePort, a.AppID, "profilePort")
		}
		if addr, ok := a.Env["HTTP_ADDR"]; ok && addr != "" {
			n, err := AddrPort(addr)
			if err != nil {
				return nil, fmt.Errorf("%s HTTP_ADDR: %w", a.AppID, err)
			}
			add(n, a.AppID, "HTTP_ADDR")
		}
	}
	add(natsPort, "", "nats")
	return ports, nil
}

// AddrPort returns the port of a host:port address.
func AddrPort(addr string) (int, error) {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return 0, fmt.Errorf("parse %q: %w", addr, err)
	}
	n, err := strconv.Atoi(p)
	if err != nil || n < 0 || n > 65535 {
		return 0, fmt.Errorf("parse %q: bad port %q", addr, p)
	}
	return n, nil
}

// CheckPorts fails when two owners plan the same port or when a port is
// already taken. It listens on all interfaces: daprd's metrics and internal
// gRPC servers do, and a listener on any address blocks that.
func CheckPorts(ports []Port) error {
	byNumber := map[int]Port{}
	var errs []error
	for _, p := range ports {
		if other, dup := byNumber[p.Number]; dup {
			if !sharable(other, p) {
				errs = append(errs, fmt.Errorf("port %d is planned twice (%s and %s)", p.Number, other.Owner(), p.Owner()))
			}
			continue
		}
		byNumber[p.Number] = p
		ln, err := net.Listen("tcp", ":"+strconv.Itoa(p.Number))
		if err != nil {
			errs = append(errs, fmt.Errorf("port %d (%s) is already in use", p.Number, p.Owner()))
			continue
		}
		ln.Close()
	}
	return errors.Join(errs...)
}

// AssignFreePorts gives every sidecar port the run file leaves unset a free
// one, as the Dapr CLI does. All listeners stay open until every port is
// chosen so that no two choices collide.
func AssignFreePorts(apps []runfile.App) error {
	var held []net.Listener
	defer func() {
		for _, ln := range held {
			ln.Close()
		}
	}()
	pick := func(p *int) error {
		if *p > 0 {
			return nil
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return fmt.Errorf("find a free port: %w", err)
		}
		held = append(held, ln)
		*p = ln.Addr().(*net.TCPAddr).Port
		return nil
	}
	for i := range apps {
		a := &apps[i]
		for _, p := range []*int{&a.HTTPPort, &a.GRPCPort, &a.InternalGRPCPort, &a.MetricsPort} {
			if err := pick(p); err != nil {
				return err
			}
		}
	}
	return nil
}
