package deploy

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	configurationv1alpha1 "github.com/dapr/dapr/pkg/apis/configuration/v1alpha1"
	"google.golang.org/grpc"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"

	postv1 "pixshare/proto/post/v1"
	userv1 "pixshare/proto/user/v1"
)

// kustomization is the part of a kustomization.yaml these tests follow.
type kustomization struct {
	Namespace string   `json:"namespace"`
	Resources []string `json:"resources"`
	Images    []struct {
		Name    string `json:"name"`
		NewName string `json:"newName"`
		NewTag  string `json:"newTag"`
		Digest  string `json:"digest"`
	} `json:"images"`
}

// manifests is what `kubectl apply -k deploy/k8s` applies, decoded.
type manifests struct {
	namespace string
	images    map[string]string // image name -> tag or digest set by kustomize
	objects   []object
	files     map[string]bool // every file applied, relative to the repo
}

func readKustomization(repo, dir string) (kustomization, error) {
	var k kustomization
	data, err := os.ReadFile(filepath.Join(repo, dir, "kustomization.yaml"))
	if err != nil {
		return k, err
	}
	return k, yaml.Unmarshal(data, &k)
}

func loadManifests(t *testing.T) *manifests {
	t.Helper()
	repo := root(t)
	m := &manifests{images: map[string]string{}, files: map[string]bool{}}
	var walk func(dir string, top bool)
	walk = func(dir string, top bool) {
		k, err := readKustomization(repo, dir)
		if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		if top {
			m.namespace = k.Namespace
			for _, img := range k.Images {
				m.images[img.Name] = img.NewTag + img.Digest
			}
		}
		for _, r := range k.Resources {
			rel := filepath.Clean(filepath.Join(dir, r))
			st, err := os.Stat(filepath.Join(repo, rel))
			if err != nil {
				t.Errorf("%s/kustomization.yaml: resource %s: %v", dir, r, err)
				continue
			}
			if st.IsDir() {
				walk(rel, false)
				continue
			}
			m.files[rel] = true
			objs, err := decodeFile(repo, rel)
			if err != nil {
				t.Error(err)
				continue
			}
			m.objects = append(m.objects, objs...)
		}
	}
	walk(filepath.Join("deploy", "k8s"), true)
	if m.namespace == "" {
		t.Fatal("deploy/k8s/kustomization.yaml sets no namespace")
	}
	return m
}

func (m *manifests) deployments() map[string]*appsv1.Deployment {
	out := map[string]*appsv1.Deployment{}
	for _, o := range m.objects {
		if d, ok := o.obj.(*appsv1.Deployment); ok {
			out[d.Spec.Template.Annotations["dapr.io/app-id"]] = d
		}
	}
	return out
}

func (m *manifests) configurations() map[string]*configurationv1alpha1.Configuration {
	out := map[string]*configurationv1alpha1.Configuration{}
	for _, o := range m.objects {
		if c, ok := o.obj.(*configurationv1alpha1.Configuration); ok {
			out[c.Name] = c
		}
	}
	return out
}

// TestK8sManifestsApplied: every manifest under deploy/k8s and
// components/k8s is applied by the kustomization (nothing forgotten), and
// decodes strictly into client-go's and Dapr's types.
func TestK8sManifestsApplied(t *testing.T) {
	repo := root(t)
	m := loadManifests(t)
	for _, dir := range []string{filepath.Join("deploy", "k8s"), filepath.Join("components", "k8s")} {
		entries, err := os.ReadDir(filepath.Join(repo, dir))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			name := e.Name()
			rel := filepath.Join(dir, name)
			if e.IsDir() || name == "kustomization.yaml" || !strings.HasSuffix(name, ".yaml") {
				continue
			}
			if strings.HasSuffix(name, ".example.yaml") {
				if m.files[rel] {
					t.Errorf("%s is an example and must not be applied", rel)
				}
				continue
			}
			if !m.files[rel] {
				t.Errorf("%s is not listed in a kustomization.yaml", rel)
			}
		}
	}
	var ns bool
	for _, o := range m.objects {
		if n, ok := o.obj.(*corev1.Namespace); ok && n.Name == m.namespace {
			ns = true
		}
	}
	if !ns {
		t.Errorf("no Namespace %q among the manifests", m.namespace)
	}
}

func appContainer(d *appsv1.Deployment, id string) *corev1.Container {
	for i := range d.Spec.Template.Spec.Containers {
		if c := &d.Spec.Template.Spec.Containers[i]; c.Name == id {
			return c
		}
	}
	return nil
}

func envValue(c *corev1.Container, key string) (string, bool) {
	for _, e := range c.Env {
		if e.Name == key {
			return e.Value, e.ValueFrom == nil
		}
	}
	return "", false
}

// TestK8sDeployments: one Deployment and Service per app, with the Dapr
// annotations matching the container (app id, APP_PORT, gRPC), probes on
// the health endpoints and pinned images.
func TestK8sDeployments(t *testing.T) {
	m := loadManifests(t)
	deps := m.deployments()
	configs := m.configurations()
	var services []*corev1.Service
	for _, o := range m.objects {
		if s, ok := o.obj.(*corev1.Service); ok {
			services = append(services, s)
		}
	}
	for id := range deps {
		if _, ok := appByID(id); !ok {
			t.Errorf("a Deployment has dapr.io/app-id %q, which is no app id", id)
		}
	}
	for _, a := range apps {
		d, ok := deps[a.id]
		if !ok {
			t.Errorf("no Deployment with dapr.io/app-id %s", a.id)
			continue
		}
		ann := d.Spec.Template.Annotations
		c := appContainer(d, a.id)
		if c == nil {
			t.Errorf("Deployment %s has no container named %s", d.Name, a.id)
			continue
		}
		appPort, literal := envValue(c, "APP_PORT")
		if !literal || appPort != strconv.Itoa(a.appPort) {
			t.Errorf("%s: APP_PORT = %q, want %d as a literal value", a.id, appPort, a.appPort)
		}
		for k, want := range map[string]string{
			"dapr.io/enabled":      "true",
			"dapr.io/app-id":       a.id,
			"dapr.io/app-port":     appPort,
			"dapr.io/app-protocol": "grpc",
			"dapr.io/log-as-json":  "true",
		} {
			if ann[k] != want {
				t.Errorf("%s: annotation %s = %q, want %q", a.id, k, ann[k], want)
			}
		}
		if q, err := resource.ParseQuantity(ann["dapr.io/max-body-size"]); err != nil || q.Value() <= 22085632 {
			t.Errorf("%s: dapr.io/max-body-size %q must exceed the upload limit", a.id, ann["dapr.io/max-body-size"])
		}
		if _, ok := configs[ann["dapr.io/config"]]; !ok {
			t.Errorf("%s: dapr.io/config %q names no Configuration of the manifests", a.id, ann["dapr.io/config"])
		}
		if host, _ := envValue(c, "APP_HOST"); host != "127.0.0.1" {
			t.Errorf("%s: APP_HOST = %q, want 127.0.0.1 (the app port must stay private to the pod)", a.id, host)
		}
		for _, p := range c.Ports {
			if int(p.ContainerPort) == a.appPort {
				t.Errorf("%s: declares the app's gRPC port %d, which only the sidecar reaches", a.id, a.appPort)
			}
		}
		addr, _ := envValue(c, "HTTP_ADDR")
		if host, p, err := net.SplitHostPort(addr); err != nil || host != "0.0.0.0" || p != strconv.Itoa(a.httpPort) {
			t.Errorf("%s: HTTP_ADDR = %q, want 0.0.0.0:%d", a.id, addr, a.httpPort)
		}
		httpPort := false
		for _, p := range c.Ports {
			if p.Name == "http" && int(p.ContainerPort) == a.httpPort {
				httpPort = true
			}
		}
		if !httpPort {
			t.Errorf("%s: no container port named http = %d", a.id, a.httpPort)
		}
		for probe, path := range map[*corev1.Probe]string{c.LivenessProbe: "/healthz", c.ReadinessProbe: "/readyz"} {
			if probe == nil || probe.HTTPGet == nil || probe.HTTPGet.Path != path {
				t.Errorf("%s: needs an HTTP probe on %s", a.id, path)
			}
		}
		if !pinnedK8s(c.Image, m.images) {
			t.Errorf("%s: image %q is not pinned (by its tag or by the kustomization's images)", a.id, c.Image)
		}
		pod := d.Spec.Template.Spec.SecurityContext
		if pod == nil || pod.RunAsNonRoot == nil || !*pod.RunAsNonRoot {
			t.Errorf("%s: the pod must run as non-root", a.id)
		}
		var svc *corev1.Service
		for _, s := range services {
			if len(s.Spec.Selector) > 0 && labels.SelectorFromSet(s.Spec.Selector).Matches(labels.Set(d.Spec.Template.Labels)) {
				svc = s
			}
		}
		if svc == nil {
			t.Errorf("%s: no Service selects its pods", a.id)
			continue
		}
		if svc.Name != a.id {
			t.Errorf("%s: Service is named %q, want %q (the gateway's URLs use it)", a.id, svc.Name, a.id)
		}
		if len(svc.Spec.Ports) != 1 || int(svc.Spec.Ports[0].Port) != a.httpPort {
			t.Errorf("%s: Service must expose the HTTP port %d only, got %+v", a.id, a.httpPort, svc.Spec.Ports)
		}
	}
}

func pinnedK8s(image string, overrides map[string]string) bool {
	name := image
	if i := strings.LastIndex(image, ":"); i > strings.LastIndex(image, "/") {
		name = image[:i]
	}
	if tag, ok := overrides[name]; ok {
		return tag != "" && tag != "latest"
	}
	return pinned(image)
}

// TestK8sReferences: every ConfigMap key, ServiceAccount and Secret the
// manifests and components use exists, or is one of the Secrets created
// outside them (by kubectl as in deploy/README.md, the shape of which
// secrets.example.yaml shows, or by the charts and operators it installs).
func TestK8sReferences(t *testing.T) {
	repo := root(t)
	m := loadManifests(t)
	known := map[string]bool{
		// Created by the Bitnami Redis chart and ECK (deploy/README.md).
		"redis/redis-password":             true,
		"pixshare-es-elastic-user/elastic": true,
	}
	examples, err := decodeFile(repo, filepath.Join("deploy", "k8s", "secrets.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range examples {
		s, ok := o.obj.(*corev1.Secret)
		if !ok {
			t.Errorf("%s: only Secrets belong in the example", o)
			continue
		}
		for k := range s.StringData {
			known[s.Name+"/"+k] = true
		}
		for k := range s.Data {
			known[s.Name+"/"+k] = true
		}
	}
	configMaps := map[string]map[string]string{}
	accounts := map[string]bool{"default": true}
	for _, o := range m.objects {
		switch v := o.obj.(type) {
		case *corev1.ConfigMap:
			configMaps[v.Name] = v.Data
		case *corev1.ServiceAccount:
			accounts[v.Name] = true
		}
	}
	secret := func(where, name, key string) {
		if !known[name+"/"+key] {
			t.Errorf("%s: Secret %s key %s is neither in secrets.example.yaml nor created by a documented chart", where, name, key)
		}
	}
	for id, d := range m.deployments() {
		spec := d.Spec.Template.Spec
		if sa := spec.ServiceAccountName; sa != "" && !accounts[sa] {
			t.Errorf("%s: service account %q is not defined", id, sa)
		}
		for _, k := range []string{"dapr.io/app-token-secret", "dapr.io/api-token-secret"} {
			if n := d.Spec.Template.Annotations[k]; n != "" {
				secret(id+" "+k, n, "token")
			}
		}
		for _, c := range spec.Containers {
			for _, e := range c.Env {
				switch {
				case e.ValueFrom == nil:
				case e.ValueFrom.ConfigMapKeyRef != nil:
					r := e.ValueFrom.ConfigMapKeyRef
					if _, ok := configMaps[r.Name][r.Key]; !ok {
						t.Errorf("%s: %s reads ConfigMap %s key %s, which does not exist", id, e.Name, r.Name, r.Key)
					}
				case e.ValueFrom.SecretKeyRef != nil:
					secret(id+" "+e.Name, e.ValueFrom.SecretKeyRef.Name, e.ValueFrom.SecretKeyRef.Key)
				}
			}
		}
	}
	for _, c := range loadProfiles(t)["k8s"].components {
		for _, md := range c.Spec.Metadata {
			if md.SecretKeyRef.Name != "" {
				secret("component "+c.Name+" "+md.Name, md.SecretKeyRef.Name, md.SecretKeyRef.Key)
			}
		}
	}
	for _, o := range m.objects {
		if rb, ok := o.obj.(*rbacv1.RoleBinding); ok {
			for _, s := range rb.Subjects {
				if s.Kind == "ServiceAccount" && (!accounts[s.Name] || s.Namespace != m.namespace) {
					t.Errorf("%s: binds service account %s/%s, which is not defined", o, s.Namespace, s.Name)
				}
			}
		}
	}
}

// methods lists the gRPC methods each app serves, from the generated code.
var methods = map[string][]string{
	"user": methodNames(userv1.AuthService_ServiceDesc, userv1.GraphService_ServiceDesc,
		userv1.ProfileService_ServiceDesc, userv1.AvatarService_ServiceDesc),
	"post": methodNames(postv1.PostService_ServiceDesc),
}

func methodNames(descs ...grpc.ServiceDesc) []string {
	var out []string
	for _, d := range descs {
		for _, m := range d.Methods {
			out = append(out, "/"+d.ServiceName+"/"+m.MethodName)
		}
		for _, s := range d.Streams {
			out = append(out, "/"+d.ServiceName+"/"+s.StreamName)
		}
	}
	return out
}

// matches reports whether an access-control operation pattern matches a
// full gRPC method name, as Dapr's trie does: segments separated by "/",
// "*" for one segment, "**" for the rest. (Case-sensitive: the apps use
// the gRPC app protocol.)
func matches(pattern, method string) bool {
	ps := strings.Split(strings.TrimPrefix(pattern, "/"), "/")
	ms := strings.Split(strings.TrimPrefix(method, "/"), "/")
	for i, p := range ps {
		if p == "**" {
			return true
		}
		if i >= len(ms) || (p != "*" && p != ms[i]) {
			return false
		}
	}
	return len(ps) == len(ms)
}

// expand turns calls into the concrete (caller callee method) triples
// they allow.
func expand(t *testing.T, calls []call) []string {
	var out []string
	for _, c := range calls {
		n := 0
		for _, m := range methods[c.callee] {
			if matches(c.method, m) {
				out = append(out, fmt.Sprintf("%s -> %s %s", c.caller, c.callee, m))
				n++
			}
		}
		if n == 0 {
			t.Errorf("%s -> %s: %s matches no method %s serves", c.caller, c.callee, c.method, c.callee)
		}
	}
	sort.Strings(out)
	return out
}

// TestK8sAccessControl: every app's Configuration denies by default, and
// all policies together allow exactly allowedCalls, to callers identified
// by mTLS in this namespace and trust domain.
func TestK8sAccessControl(t *testing.T) {
	m := loadManifests(t)
	configs := m.configurations()
	var granted []call
	for _, a := range apps {
		d := m.deployments()[a.id]
		if d == nil {
			continue // reported by TestK8sDeployments
		}
		name := d.Spec.Template.Annotations["dapr.io/config"]
		cfg := configs[name]
		if cfg == nil {
			t.Errorf("%s: Configuration %q not found", a.id, name)
			continue
		}
		if mt := cfg.Spec.MTLSSpec; mt == nil || mt.Enabled == nil || !*mt.Enabled {
			t.Errorf("Configuration %s: mtls must be enabled (access control identifies callers by mTLS)", name)
		}
		if cfg.Spec.TracingSpec == nil || cfg.Spec.TracingSpec.SamplingRate == "" {
			t.Errorf("Configuration %s: no tracing", name)
		}
		ac := cfg.Spec.AccessControlSpec
		if ac == nil || ac.DefaultAction != "deny" {
			t.Errorf("Configuration %s (app %s): accessControl.defaultAction must be deny", name, a.id)
			continue
		}
		if ac.TrustDomain != "public" {
			t.Errorf("Configuration %s: trustDomain %q, want public", name, ac.TrustDomain)
		}
		for _, p := range ac.AppPolicies {
			if _, ok := appByID(p.AppName); !ok {
				t.Errorf("Configuration %s: policy for %q, which is no app id", name, p.AppName)
			}
			if p.DefaultAction != "deny" {
				t.Errorf("Configuration %s: policy for %s: defaultAction %q, want deny", name, p.AppName, p.DefaultAction)
			}
			if p.TrustDomain != "public" || p.Namespace != m.namespace {
				t.Errorf("Configuration %s: policy for %s must name trustDomain public and namespace %s (got %q, %q)",
					name, p.AppName, m.namespace, p.TrustDomain, p.Namespace)
			}
			for _, op := range p.AppOperationActions {
				if op.Action != "allow" || len(op.HTTPVerb) > 0 {
					t.Errorf("Configuration %s: %s may %s %s %v: operations only allow, without HTTP verbs (gRPC)", name, p.AppName, op.Action, op.Operation, op.HTTPVerb)
					continue
				}
				granted = append(granted, call{caller: p.AppName, callee: a.id, method: op.Operation})
			}
		}
	}
	got, want := expand(t, granted), expand(t, allowedCalls)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("access control allows:\n  %s\nwant exactly:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}
