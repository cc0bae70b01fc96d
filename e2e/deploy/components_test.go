package deploy

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	componentsv1alpha1 "github.com/dapr/dapr/pkg/apis/components/v1alpha1"
	configurationv1alpha1 "github.com/dapr/dapr/pkg/apis/configuration/v1alpha1"
	resiliencyv1alpha1 "github.com/dapr/dapr/pkg/apis/resiliency/v1alpha1"
)

// profile is one folder of components/, decoded.
type profile struct {
	name        string
	components  map[string]*componentsv1alpha1.Component
	configs     []*configurationv1alpha1.Configuration
	resiliences []*resiliencyv1alpha1.Resiliency
}

// loadProfiles decodes every YAML file of every folder of components/ into
// Dapr's own API types; anything else there (another kind, an unknown
// field, a duplicate key or component) fails the test.
func loadProfiles(t *testing.T) map[string]*profile {
	t.Helper()
	repo := root(t)
	entries, err := os.ReadDir(filepath.Join(repo, "components"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*profile{}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		p := &profile{name: e.Name(), components: map[string]*componentsv1alpha1.Component{}}
		out[p.name] = p
		for _, o := range decodeDir(t, repo, filepath.Join("components", p.name)) {
			switch v := o.obj.(type) {
			case *componentsv1alpha1.Component:
				if _, dup := p.components[v.Name]; dup {
					t.Errorf("%s: component %q defined twice in profile %s", o.file, v.Name, p.name)
				}
				p.components[v.Name] = v
			case *configurationv1alpha1.Configuration:
				p.configs = append(p.configs, v)
			case *resiliencyv1alpha1.Resiliency:
				p.resiliences = append(p.resiliences, v)
			default:
				t.Errorf("%s: unexpected kind in a Dapr profile", o)
			}
		}
	}
	return out
}

func TestProfilesExist(t *testing.T) {
	got := loadProfiles(t)
	for name := range profiles {
		if _, ok := got[name]; !ok {
			t.Errorf("components/%s is missing", name)
		}
	}
	for name := range got {
		if _, ok := profiles[name]; !ok {
			t.Errorf("components/%s is not a known profile; add it to profiles in expect_test.go", name)
		}
	}
}

// TestProfileComponents: every profile defines the same five components,
// each of its family, version v1, scoped exactly to the apps that use it.
func TestProfileComponents(t *testing.T) {
	for name, p := range loadProfiles(t) {
		var names []string
		for n := range p.components {
			names = append(names, n)
		}
		want := []string{"pubsub", "cache", "images", "secrets", "mail"}
		if !sameSet(names, want) {
			t.Errorf("components/%s defines %v, want exactly %v", name, sorted(names), sorted(want))
		}
		for n, c := range p.components {
			family, known := componentFamily[n]
			if !known {
				continue
			}
			if !strings.HasPrefix(c.Spec.Type, family) {
				t.Errorf("components/%s: %s has type %q, want a %s* type", name, n, c.Spec.Type, family)
			}
			if c.Spec.Version != "v1" {
				t.Errorf("components/%s: %s has version %q, want v1", name, n, c.Spec.Version)
			}
			for _, s := range c.Scopes {
				if _, ok := appByID(s); !ok {
					t.Errorf("components/%s: %s is scoped to %q, which is no app id", name, n, s)
				}
			}
			if !sameSet(c.Scopes, componentScopes[n]) {
				t.Errorf("components/%s: %s scopes %v, want %v", name, n, sorted(c.Scopes), sorted(componentScopes[n]))
			}
			seen := map[string]bool{}
			for _, m := range c.Spec.Metadata {
				if seen[m.Name] {
					t.Errorf("components/%s: %s sets metadata %q twice", name, n, m.Name)
				}
				seen[m.Name] = true
			}
		}
	}
}

// TestPubsubConsumerPerApp: every pub/sub component names its consumer
// after the app ({appID}), so each app keeps its own position and messages
// published while it is down wait for it.
func TestPubsubConsumerPerApp(t *testing.T) {
	keys := map[string][]string{
		"pubsub.jetstream": {"durableName", "queueGroupName"},
		"pubsub.redis":     {"consumerID"},
		"pubsub.rabbitmq":  {"consumerID"},
		"pubsub.mqtt3":     {"consumerID"},
	}
	for name, p := range loadProfiles(t) {
		c := p.components["pubsub"]
		if c == nil {
			continue
		}
		want, ok := keys[c.Spec.Type]
		if !ok {
			t.Errorf("components/%s: pubsub type %q has no consumer naming rule here; add one", name, c.Spec.Type)
			continue
		}
		for _, k := range want {
			if v, _ := metadataValue(c, k); v != "{appID}" {
				t.Errorf("components/%s: pubsub %s = %q, want {appID}", name, k, v)
			}
		}
		if c.Spec.Type == "pubsub.rabbitmq" {
			for k, v := range map[string]string{"durable": "true", "deletedWhenUnused": "false", "enableDeadLetter": "true", "requeueInFailure": "false", "deliveryMode": "2"} {
				if got, _ := metadataValue(c, k); got != v {
					t.Errorf("components/%s: rabbitmq %s = %q, want %q", name, k, got, v)
				}
			}
		}
		if c.Spec.Type == "pubsub.mqtt3" {
			if got, _ := metadataValue(c, "qos"); got != "1" {
				t.Errorf("components/%s: mqtt qos = %q, want 1", name, got)
			}
		}
		if c.Spec.Type == "pubsub.jetstream" {
			if got, _ := metadataValue(c, "streamName"); got != "pixshare" {
				t.Errorf("components/%s: jetstream streamName = %q, want pixshare", name, got)
			}
		}
	}
}

// TestNatsProfileMatchesLocal: the nats profile is components/local's
// JetStream component pointed at an external server, nothing else.
func TestNatsProfileMatchesLocal(t *testing.T) {
	all := loadProfiles(t)
	if all["local"] == nil || all["nats"] == nil {
		t.Fatal("components/local or components/nats is missing")
	}
	local, nats := all["local"].components["pubsub"], all["nats"].components["pubsub"]
	if local == nil || nats == nil {
		t.Fatal("local or nats has no pubsub")
	}
	values := func(c *componentsv1alpha1.Component) map[string]string {
		out := map[string]string{"type": c.Spec.Type}
		for _, m := range c.Spec.Metadata {
			if m.Name != "natsURL" {
				out[m.Name] = m.Value.String()
			}
		}
		return out
	}
	l, n := values(local), values(nats)
	for k, v := range l {
		if n[k] != v {
			t.Errorf("components/nats: pubsub %s = %q, components/local has %q", k, n[k], v)
		}
	}
	for k, v := range n {
		if _, ok := l[k]; !ok {
			t.Errorf("components/nats: pubsub sets %s = %q, which components/local does not", k, v)
		}
	}
	if u, _ := metadataValue(nats, "natsURL"); u != "nats://127.0.0.1:4222" {
		t.Errorf("components/nats: natsURL = %q, want nats://127.0.0.1:4222 (an external server)", u)
	}
}

// TestCloudBlobBindingsDecodeBase64: platform/blob sends base64; a cloud
// binding that does not decode it would store the base64 text.
func TestCloudBlobBindingsDecodeBase64(t *testing.T) {
	for name, p := range loadProfiles(t) {
		c := p.components["images"]
		if c == nil {
			continue
		}
		switch c.Spec.Type {
		case "bindings.localstorage":
			if v, _ := metadataValue(c, "rootPath"); v == "" {
				t.Errorf("components/%s: images has no rootPath", name)
			}
		case "bindings.aws.s3", "bindings.azure.blobstorage", "bindings.gcp.bucket":
			if v, _ := metadataValue(c, "decodeBase64"); v != "true" {
				t.Errorf("components/%s: images (%s) must set decodeBase64: \"true\", got %q", name, c.Spec.Type, v)
			}
			if v, _ := metadataValue(c, "encodeBase64"); v == "true" {
				t.Errorf("components/%s: images must return raw bytes (encodeBase64 not true)", name)
			}
		default:
			t.Errorf("components/%s: images type %q is not a blob binding this test knows", name, c.Spec.Type)
		}
	}
}

// TestNameResolution: every profile's Configuration names its resolver,
// SQLite on loopback for launcher profiles, DNS templates elsewhere; and
// nothing anywhere uses mDNS.
func TestNameResolution(t *testing.T) {
	for name, p := range loadProfiles(t) {
		if len(p.configs) == 0 {
			t.Errorf("components/%s has no Configuration", name)
		}
		for _, cfg := range p.configs {
			nr := cfg.Spec.NameResolutionSpec
			if nr == nil || nr.Component == "" {
				t.Errorf("components/%s: Configuration %s does not name its name resolution", name, cfg.Name)
				continue
			}
			if want := profiles[name]; nr.Component != want {
				t.Errorf("components/%s: Configuration %s resolves names with %q, want %q", name, cfg.Name, nr.Component, want)
			}
			var conf map[string]any
			if nr.Configuration != nil && len(nr.Configuration.Raw) > 0 {
				if err := json.Unmarshal(nr.Configuration.Raw, &conf); err != nil {
					t.Errorf("components/%s: Configuration %s: name resolution configuration: %v", name, cfg.Name, err)
				}
			}
			switch {
			case nr.Component == "sqlite":
				if s, _ := conf["connectionString"].(string); s == "" {
					t.Errorf("components/%s: sqlite name resolution needs a connectionString", name)
				}
			case name == "compose":
				// No cluster: the resolver is only a DNS template, and the
				// app service (whose network namespace the sidecar shares)
				// is named after the app id.
				if s, _ := conf["template"].(string); s != "{{.ID}}:{{.Port}}" {
					t.Errorf("components/compose: name resolution template = %q, want {{.ID}}:{{.Port}}", s)
				}
			}
			if tr := cfg.Spec.TracingSpec; tr != nil {
				if r, err := strconv.ParseFloat(tr.SamplingRate, 64); err != nil || r < 0 || r > 1 {
					t.Errorf("components/%s: Configuration %s: samplingRate %q is not in [0,1]", name, cfg.Name, tr.SamplingRate)
				}
			}
		}
	}
}

var comment = regexp.MustCompile(`(?m)^\s*#.*$`)

func TestNoMDNS(t *testing.T) {
	repo := root(t)
	for name, p := range loadProfiles(t) {
		for _, c := range p.components {
			if strings.Contains(strings.ToLower(c.Spec.Type), "mdns") {
				t.Errorf("components/%s: %s is of type %s", name, c.Name, c.Spec.Type)
			}
		}
		for _, cfg := range p.configs {
			if nr := cfg.Spec.NameResolutionSpec; nr == nil || strings.EqualFold(nr.Component, "mdns") {
				t.Errorf("components/%s: Configuration %s resolves names with mDNS (the default when none is named)", name, cfg.Name)
			}
		}
	}
	// Also in the text, outside comments, of every operations file.
	var files []string
	for _, dir := range []string{"components", "deploy"} {
		_ = filepath.WalkDir(filepath.Join(repo, dir), func(path string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && (strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
				files = append(files, path)
			}
			return err
		})
	}
	files = append(files, filepath.Join(repo, "docker-compose.yml"), filepath.Join(repo, "dapr.yaml"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Error(err)
			continue
		}
		if strings.Contains(strings.ToLower(comment.ReplaceAllString(string(data), "")), "mdns") {
			t.Errorf("%s mentions mdns outside comments", f)
		}
	}
}

// TestResiliency: one Resiliency per profile whose targets all name
// defined policies, target real apps and components, and whose policies
// parse.
func TestResiliency(t *testing.T) {
	for name, p := range loadProfiles(t) {
		if len(p.resiliences) != 1 {
			t.Errorf("components/%s has %d Resiliency resources, want 1", name, len(p.resiliences))
			continue
		}
		r := p.resiliences[0]
		pol := r.Spec.Policies
		for k, v := range pol.Timeouts {
			if d, err := time.ParseDuration(v); err != nil || d <= 0 {
				t.Errorf("components/%s: timeout %s = %q is not a positive duration", name, k, v)
			}
		}
		for k, v := range pol.Retries {
			switch v.Policy {
			case "constant":
				if _, err := time.ParseDuration(v.Duration); err != nil {
					t.Errorf("components/%s: retry %s: duration %q: %v", name, k, v.Duration, err)
				}
			case "exponential":
				if _, err := time.ParseDuration(v.MaxInterval); err != nil {
					t.Errorf("components/%s: retry %s: maxInterval %q: %v", name, k, v.MaxInterval, err)
				}
			default:
				t.Errorf("components/%s: retry %s: policy %q is neither constant nor exponential", name, k, v.Policy)
			}
			if v.MaxRetries == nil || *v.MaxRetries < 0 {
				t.Errorf("components/%s: retry %s has no finite maxRetries", name, k)
			}
		}
		for k, v := range pol.CircuitBreakers {
			for _, d := range []string{v.Interval, v.Timeout} {
				if _, err := time.ParseDuration(d); err != nil {
					t.Errorf("components/%s: circuit breaker %s: %q: %v", name, k, d, err)
				}
			}
			if strings.TrimSpace(v.Trip) == "" {
				t.Errorf("components/%s: circuit breaker %s has no trip expression", name, k)
			}
		}
		check := func(where, timeout, retry, breaker string) {
			if _, ok := pol.Timeouts[timeout]; timeout != "" && !ok {
				t.Errorf("components/%s: %s uses undefined timeout policy %q", name, where, timeout)
			}
			if _, ok := pol.Retries[retry]; retry != "" && !ok {
				t.Errorf("components/%s: %s uses undefined retry policy %q", name, where, retry)
			}
			if _, ok := pol.CircuitBreakers[breaker]; breaker != "" && !ok {
				t.Errorf("components/%s: %s uses undefined circuit breaker %q", name, where, breaker)
			}
		}
		for id, tg := range r.Spec.Targets.Apps {
			if _, ok := appByID(id); !ok {
				t.Errorf("components/%s: resiliency targets app %q, which is no app id", name, id)
			}
			check("app "+id, tg.Timeout, tg.Retry, tg.CircuitBreaker)
		}
		for _, id := range []string{"user", "post"} {
			if _, ok := r.Spec.Targets.Apps[id]; !ok {
				t.Errorf("components/%s: resiliency has no target for calls to %s", name, id)
			}
		}
		for id, tg := range r.Spec.Targets.Components {
			if _, ok := p.components[id]; !ok {
				t.Errorf("components/%s: resiliency targets component %q, which the profile does not define", name, id)
			}
			check("component "+id+" inbound", tg.Inbound.Timeout, tg.Inbound.Retry, tg.Inbound.CircuitBreaker)
			check("component "+id+" outbound", tg.Outbound.Timeout, tg.Outbound.Retry, tg.Outbound.CircuitBreaker)
		}
		if tg, ok := r.Spec.Targets.Components["pubsub"]; !ok || tg.Inbound.Retry == "" || tg.Outbound.Retry == "" {
			t.Errorf("components/%s: resiliency must retry pubsub deliveries and publishes", name)
		}
		for id := range r.Spec.Targets.Actors {
			t.Errorf("components/%s: resiliency targets actor type %q; Pixshare has no actors", name, id)
		}
	}
}
