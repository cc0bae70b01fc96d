package deploy

import (
	"encoding/json"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// placeholder is what an uncommitted secret may hold in the repository.
var placeholder = regexp.MustCompile(`^(|<[^<>]*>|\$\{[A-Z0-9_]+(:?-[^}]*)?\}|(?i:replace[-_ ]?me|change[-_ ]?me|todo|example))$`)

// entropy is the Shannon entropy of s in bits per character.
func entropy(s string) float64 {
	counts := map[rune]float64{}
	for _, r := range s {
		counts[r]++
	}
	var h float64
	n := float64(len([]rune(s)))
	for _, c := range counts {
		p := c / n
		h -= p * math.Log2(p)
	}
	return h
}

// token is the alphabet of generated keys: base64, base64url, hex.
var token = regexp.MustCompile(`^[A-Za-z0-9+/_=-]{16,}$`)

// realLooking reports whether a value looks like a generated key or
// password: a long random-looking token (base64, hex, …) with letters and
// digits, or a PEM key. Host names, URLs and words are not.
func realLooking(v string) bool {
	if strings.Contains(v, "PRIVATE KEY-----") {
		return true
	}
	return token.MatchString(v) && strings.ContainsAny(v, "0123456789") &&
		strings.IndexFunc(v, func(r rune) bool { return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' }) >= 0 &&
		entropy(v) >= 3.5
}

// operationsFiles lists the YAML and JSON files under components/ and
// deploy/, and docker-compose.yml.
func operationsFiles(t *testing.T, repo string) []string {
	t.Helper()
	files := []string{"docker-compose.yml"}
	for _, dir := range []string{"components", "deploy"} {
		err := filepath.WalkDir(filepath.Join(repo, dir), func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			switch filepath.Ext(path) {
			case ".yaml", ".yml", ".json", ".pem", ".key", ".env":
				rel, _ := filepath.Rel(repo, path)
				files = append(files, rel)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return files
}

// TestNoRealSecrets: no Kubernetes Secret, secrets file, key file or
// compose variable in the repository holds a real-looking secret.
func TestNoRealSecrets(t *testing.T) {
	repo := root(t)
	for _, rel := range operationsFiles(t, repo) {
		switch ext := filepath.Ext(rel); ext {
		case ".pem", ".key", ".env":
			t.Errorf("%s: key and env files do not belong in the repository", rel)
			continue
		case ".json":
			data, err := os.ReadFile(filepath.Join(repo, rel))
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			if json.Unmarshal(data, &m) == nil {
				for k, v := range m {
					if s, ok := v.(string); ok && !placeholder.MatchString(s) {
						t.Errorf("%s: %q holds a value; secrets files are generated, never committed", rel, k)
					}
				}
			}
			continue
		}
		if rel == "docker-compose.yml" {
			continue // checked below, after interpolation
		}
		objs, err := decodeFile(repo, rel)
		if err != nil {
			continue // not Kubernetes YAML; other tests decode it
		}
		for _, o := range objs {
			s, ok := o.obj.(*corev1.Secret)
			if !ok {
				continue
			}
			for k, v := range s.StringData {
				if !placeholder.MatchString(v) || realLooking(v) {
					t.Errorf("%s: stringData %s holds a value; commit placeholders only", o, k)
				}
			}
			for k, v := range s.Data {
				if len(v) > 0 {
					t.Errorf("%s: data %s holds a value; commit placeholders only", o, k)
				}
			}
		}
	}
	p := loadCompose(t)
	for name, s := range p.Services {
		for k, v := range s.Environment {
			if v == nil {
				continue
			}
			if realLooking(*v) {
				t.Errorf("docker-compose.yml: %s sets %s to a real-looking secret", name, k)
			}
			if u, err := url.Parse(*v); err == nil && u.User != nil {
				if pw, ok := u.User.Password(); ok && realLooking(pw) {
					t.Errorf("docker-compose.yml: %s: %s embeds a real-looking password", name, k)
				}
			}
		}
	}
	for name, prof := range loadProfiles(t) {
		for _, c := range prof.components {
			for _, m := range c.Spec.Metadata {
				lower := strings.ToLower(m.Name)
				if strings.Contains(lower, "password") || strings.Contains(lower, "secret") || strings.Contains(lower, "accesskey") || strings.Contains(lower, "token") {
					if v := m.Value.String(); v != "" && v != `""` && realLooking(v) {
						t.Errorf("components/%s: %s metadata %s holds a real-looking secret; use secretKeyRef", name, c.Name, m.Name)
					}
				}
			}
		}
	}
}

func TestRealLooking(t *testing.T) {
	for v, want := range map[string]bool{
		"":         false,
		"pixshare": false,
		"guest":    false,
		"redis-master.pixshare.svc.cluster.local:6379": false,
		"q3Zt9vXk2mPp8sLr4YwB7nHc1dGf6jKe0aQu5iOo":     true,
		"0123456789abcdef0123456789abcdef":             true,
	} {
		if got := realLooking(v); got != want {
			t.Errorf("realLooking(%q) = %v, want %v", v, got, want)
		}
	}
}
