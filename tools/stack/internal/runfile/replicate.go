package runfile

import (
	"fmt"
	"maps"
	"net"
	"strconv"
	"strings"
)

// Replicate adds replicas of the apps named in counts (app id → how many
// instances in all). Each replica is its app with its own free ports (app,
// sidecar and HTTP_ADDR), the same app id, and the name "<id>-<n>". Every
// environment value naming an app's HTTP URL (the gateway's upstreams)
// then names its replicas too, comma-separated. A replica's ports are
// never ports the run file plans, nor reserved ones (the launcher's own:
// broker, Mailpit): those are free now only because nothing started yet.
func Replicate(apps []App, counts map[string]int, reserved ...int) ([]App, error) {
	out := append([]App(nil), apps...)
	known := map[string]bool{}
	planned := map[int]bool{}
	for _, p := range reserved {
		planned[p] = true
	}
	for _, a := range apps {
		known[a.AppID] = true
		for _, p := range []int{a.AppPort, a.HTTPPort, a.GRPCPort, a.InternalGRPCPort, a.MetricsPort, a.ProfilePort} {
			planned[p] = true
		}
		if _, port, err := net.SplitHostPort(a.Env["HTTP_ADDR"]); err == nil {
			if n, err := strconv.Atoi(port); err == nil {
				planned[n] = true
			}
		}
	}
	urls := map[string][]string{} // "http://<addr of the first>" → the replicas'
	for id, n := range counts {
		if !known[id] {
			return nil, fmt.Errorf("-replicas: unknown app id %q", id)
		}
		if n < 1 {
			return nil, fmt.Errorf("-replicas: %s=%d: need at least one instance", id, n)
		}
	}
	for _, a := range apps {
		for k := 2; k <= counts[a.AppID]; k++ {
			r := a
			r.Name = a.AppID + "-" + strconv.Itoa(k)
			r.Env = maps.Clone(a.Env)
			ports, err := freePorts(6, planned)
			if err != nil {
				return nil, err
			}
			r.AppPort, r.HTTPPort, r.GRPCPort, r.InternalGRPCPort, r.MetricsPort = ports[0], ports[1], ports[2], ports[3], ports[4]
			r.ProfilePort = 0
			if addr := a.Env["HTTP_ADDR"]; addr != "" {
				host, _, err := net.SplitHostPort(addr)
				if err != nil {
					return nil, fmt.Errorf("%s HTTP_ADDR: %w", a.AppID, err)
				}
				r.Env["HTTP_ADDR"] = net.JoinHostPort(host, strconv.Itoa(ports[5]))
				first := "http://" + addr
				urls[first] = append(urls[first], "http://"+r.Env["HTTP_ADDR"])
			}
			out = append(out, r)
		}
	}
	for i := range out {
		for k, v := range out[i].Env {
			if more, ok := urls[v]; ok {
				out[i].Env[k] = strings.Join(append([]string{v}, more...), ",")
			}
		}
	}
	return out, nil
}

// freePorts reserves n distinct free loopback ports outside planned,
// adds them to planned and releases them.
func freePorts(n int, planned map[int]bool) ([]int, error) {
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	ports := make([]int, 0, n)
	for len(ports) < n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		lns = append(lns, ln) // held until the end, so none comes back twice
		if p := ln.Addr().(*net.TCPAddr).Port; !planned[p] {
			planned[p] = true
			ports = append(ports, p)
		}
	}
	return ports, nil
}
