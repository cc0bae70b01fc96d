package deploy

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	componentsv1alpha1 "github.com/dapr/dapr/pkg/apis/components/v1alpha1"
	configurationv1alpha1 "github.com/dapr/dapr/pkg/apis/configuration/v1alpha1"
	resiliencyv1alpha1 "github.com/dapr/dapr/pkg/apis/resiliency/v1alpha1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"
)

// decoder turns a JSON document into the typed object its apiVersion and
// kind name: every Kubernetes built-in kind (client-go's scheme) and Dapr's
// Component, Configuration and Resiliency. It is strict: a field the type
// does not have is an error, not silently dropped.
var decoder = func() runtime.Decoder {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		clientgoscheme.AddToScheme,
		componentsv1alpha1.AddToScheme,
		configurationv1alpha1.AddToScheme,
		resiliencyv1alpha1.AddToScheme,
	} {
		if err := add(s); err != nil {
			panic(err)
		}
	}
	return serializer.NewCodecFactory(s, serializer.EnableStrict).UniversalDeserializer()
}()

// object is one decoded document and where it came from.
type object struct {
	file string // relative to the repository root
	obj  runtime.Object
}

func (o object) String() string {
	kind := o.obj.GetObjectKind().GroupVersionKind().Kind
	if m, ok := o.obj.(interface{ GetName() string }); ok {
		return fmt.Sprintf("%s %s/%s", o.file, kind, m.GetName())
	}
	return fmt.Sprintf("%s %s", o.file, kind)
}

// decodeFile decodes every document of a YAML file: YAML to JSON strictly
// (a duplicate key is an error), then JSON into the typed object strictly.
func decodeFile(repo, rel string) ([]object, error) {
	data, err := os.ReadFile(filepath.Join(repo, rel))
	if err != nil {
		return nil, err
	}
	var out []object
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for i := 1; ; i++ {
		raw, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", rel, i, err)
		}
		js, err := yaml.YAMLToJSONStrict(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", rel, i, err)
		}
		if s := strings.TrimSpace(string(js)); s == "null" || s == "" {
			continue // only comments
		}
		obj, _, err := decoder.Decode(js, nil, nil)
		if err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", rel, i, err)
		}
		out = append(out, object{file: rel, obj: obj})
	}
}

// decodeDir decodes every YAML file of a folder (not its subfolders),
// except kustomization.yaml and the files skip names.
func decodeDir(t *testing.T, repo, dir string, skip ...string) []object {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(repo, dir))
	if err != nil {
		t.Fatal(err)
	}
	var out []object
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !(strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml")) ||
			name == "kustomization.yaml" || contains(skip, name) {
			continue
		}
		objs, err := decodeFile(repo, filepath.Join(dir, name))
		if err != nil {
			t.Error(err)
			continue
		}
		out = append(out, objs...)
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// metadataValue returns a component metadata entry's plain value (the
// JSON string of its DynamicValue, unquoted) and whether it is set.
func metadataValue(c *componentsv1alpha1.Component, name string) (string, bool) {
	for _, m := range c.Spec.Metadata {
		if m.Name == name {
			return m.Value.String(), true
		}
	}
	return "", false
}
