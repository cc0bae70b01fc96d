package preflight

import (
	"net"
	"strconv"
	"strings"
	"testing"

	"pixshare/tools/stack/internal/runfile"
)

func TestCheckPortsDetectsPortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	busy := ln.Addr().(*net.TCPAddr).Port

	apps := []runfile.App{{
		AppID:  "user",
		Shared: runfile.Shared{Env: map[string]string{"HTTP_ADDR": "127.0.0.1:" + itoa(busy)}},
	}}
	ports, err := PlannedPorts(apps, 0)
	if err != nil {
		t.Fatal(err)
	}
	err = CheckPorts(ports)
	want := "port " + itoa(busy) + " (user HTTP_ADDR) is already in use"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %q", err, want)
	}

	ln.Close()
	if err := CheckPorts(ports); err != nil {
		t.Fatalf("after close: %v", err)
	}
}

func TestPlannedPortsAndDuplicates(t *testing.T) {
	apps := []runfile.App{
		{AppID: "user", AppPort: 50101, HTTPPort: 3501, GRPCPort: 50011, InternalGRPCPort: 50021, MetricsPort: 9091,
			Shared: runfile.Shared{Env: map[string]string{"HTTP_ADDR": ":8081"}}},
		{AppID: "gateway", HTTPPort: 3501},
	}
	ports, err := PlannedPorts(apps, 4223)
	if err != nil {
		t.Fatal(err)
	}
	var owners []string
	for _, p := range ports {
		owners = append(owners, itoa(p.Number)+"="+p.Owner())
	}
	want := "50101=user appPort,3501=user daprHTTPPort,50011=user daprGRPCPort,50021=user daprInternalGRPCPort," +
		"9091=user metricsPort,8081=user HTTP_ADDR,3501=gateway daprHTTPPort,4223=nats"
	if got := strings.Join(owners, ","); got != want {
		t.Errorf("planned\n got %s\nwant %s", got, want)
	}
	err = CheckPorts(ports)
	if err == nil || !strings.Contains(err.Error(), "port 3501 is planned twice (user daprHTTPPort and gateway daprHTTPPort)") {
		t.Errorf("duplicate not reported: %v", err)
	}

	// One app serving REST and Dapr callbacks on one port is fine; another
	// app's HTTP_ADDR on that port is not.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	free := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	addr := ":" + itoa(free)
	shared := []runfile.App{
		{AppID: "web", AppPort: free, Shared: runfile.Shared{Env: map[string]string{"HTTP_ADDR": addr}}},
	}
	if ports, _ := PlannedPorts(shared, 0); CheckPorts(ports) != nil {
		t.Errorf("appPort = HTTP_ADDR of one app rejected: %v", CheckPorts(ports))
	}
	shared = append(shared, runfile.App{AppID: "other", Shared: runfile.Shared{Env: map[string]string{"HTTP_ADDR": addr}}})
	if ports, _ := PlannedPorts(shared, 0); CheckPorts(ports) == nil {
		t.Error("two apps on one port accepted")
	}

	if _, err := PlannedPorts([]runfile.App{{AppID: "x", Shared: runfile.Shared{Env: map[string]string{"HTTP_ADDR": "8081"}}}}, 0); err == nil {
		t.Error("HTTP_ADDR without a port accepted")
	}
}

func TestAssignFreePorts(t *testing.T) {
	apps := []runfile.App{{AppID: "a", HTTPPort: 3599}, {AppID: "b"}}
	if err := AssignFreePorts(apps); err != nil {
		t.Fatal(err)
	}
	if apps[0].HTTPPort != 3599 {
		t.Errorf("set port changed to %d", apps[0].HTTPPort)
	}
	seen := map[int]bool{}
	for _, a := range apps {
		for _, p := range []int{a.HTTPPort, a.GRPCPort, a.InternalGRPCPort, a.MetricsPort} {
			if p <= 0 || seen[p] {
				t.Errorf("port %d zero or reused", p)
			}
			seen[p] = true
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
