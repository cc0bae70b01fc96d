package refs

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	userv1 "pixshare/proto/user/v1"
	"pixshare/tools/load/internal/stats"
)

// ReadTokens reads a .data/tokens/<app>.env file of the launcher
// (KEY=value lines).
func ReadTokens(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read tokens: %w", err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if k, v, ok := strings.Cut(line, "="); ok {
			out[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read tokens %s: %w", path, err)
	}
	return out, nil
}

// GRPCConfig describes the sidecar reference.
type GRPCConfig struct {
	// UserAddr is the user app's own gRPC port; AppToken is its
	// APP_API_TOKEN (the app refuses calls without it).
	UserAddr, AppToken string
	// SidecarAddr is the gateway's sidecar; DaprToken is the gateway's
	// DAPR_API_TOKEN. The call goes gateway sidecar → user sidecar → user.
	SidecarAddr, DaprToken string
	UserID, OtherID        string
	Duration               time.Duration
}

// GRPC is user.v1.GraphService/IsBlocked called directly and through two
// sidecars, one call at a time, alternating, so drift of the machine's load
// hits both alike.
type GRPC struct {
	Method          string        `json:"method"`
	Calls           int           `json:"calls_each"`
	DirectMs        stats.Latency `json:"direct_ms"`
	SidecarsMs      stats.Latency `json:"through_two_sidecars_ms"`
	SidecarShareP50 float64       `json:"sidecar_share_of_p50"`
	Note            string        `json:"note"`
}

// RunGRPC measures the sidecars' cost on one small call.
func RunGRPC(ctx context.Context, cfg GRPCConfig) (GRPC, error) {
	out := GRPC{Method: userv1.GraphService_IsBlocked_FullMethodName,
		Note: "sequential unary calls from this process; direct = the user app's gRPC port with its APP_API_TOKEN; sidecars = the gateway's daprd with dapr-app-id: user (gRPC proxying to the user's daprd, then the app)"}
	direct, err := grpc.NewClient(cfg.UserAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return out, fmt.Errorf("grpc: dial %s: %w", cfg.UserAddr, err)
	}
	defer direct.Close()
	proxied, err := grpc.NewClient(cfg.SidecarAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return out, fmt.Errorf("grpc: dial %s: %w", cfg.SidecarAddr, err)
	}
	defer proxied.Close()
	dc, pc := userv1.NewGraphServiceClient(direct), userv1.NewGraphServiceClient(proxied)
	dctx := metadata.AppendToOutgoingContext(ctx, "dapr-api-token", cfg.AppToken)
	pctx := metadata.AppendToOutgoingContext(ctx, "dapr-app-id", "user", "dapr-api-token", cfg.DaprToken)
	req := &userv1.IsBlockedRequest{UserId: cfg.UserID, OtherUserId: cfg.OtherID}

	call := func(c userv1.GraphServiceClient, ctx context.Context) (time.Duration, error) {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		start := time.Now()
		_, err := c.IsBlocked(ctx, req)
		return time.Since(start), err
	}
	for range 50 { // connections, caches, the sidecars' own warm-up
		if _, err := call(dc, dctx); err != nil {
			return out, fmt.Errorf("grpc: direct call: %w", err)
		}
		if _, err := call(pc, pctx); err != nil {
			return out, fmt.Errorf("grpc: call through the sidecars: %w", err)
		}
	}
	var ds, ps []time.Duration
	for end := time.Now().Add(cfg.Duration); time.Now().Before(end); {
		d, err := call(dc, dctx)
		if err != nil {
			return out, fmt.Errorf("grpc: direct call: %w", err)
		}
		p, err := call(pc, pctx)
		if err != nil {
			return out, fmt.Errorf("grpc: call through the sidecars: %w", err)
		}
		ds, ps = append(ds, d), append(ps, p)
	}
	out.Calls = len(ds)
	out.DirectMs, out.SidecarsMs = stats.Distribution(ds), stats.Distribution(ps)
	if out.SidecarsMs.P50 > 0 {
		out.SidecarShareP50 = 1 - out.DirectMs.P50/out.SidecarsMs.P50
	}
	return out, nil
}
