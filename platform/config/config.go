// Package config reads service configuration from environment variables.
//
// Every setting has a default that runs the stack locally, so `make run`
// needs no configuration; a value that does not parse, or fails a struct's
// own Validate, stops the service at start-up with a message that names the
// variable.
package config

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/caarlos0/env/v11"
)

// Validator is implemented by config structs with rules beyond parsing.
type Validator interface {
	Validate() error
}

// Load parses the environment into a new T (a struct with `env` and
// `envDefault` tags) and validates it.
func Load[T any]() (T, error) {
	return LoadFrom[T](nil)
}

// LoadFrom is Load reading from environ instead of the process environment
// (nil means the process environment); tests use it.
func LoadFrom[T any](environ map[string]string) (T, error) {
	opts := env.Options{}
	if environ != nil {
		opts.Environment = environ
	}
	cfg, err := env.ParseAsWithOptions[T](opts)
	if err != nil {
		return cfg, fmt.Errorf("invalid configuration: %w", explain(err, envKeys(reflect.TypeOf(cfg), "")))
	}
	if v, ok := any(&cfg).(Validator); ok {
		if err := v.Validate(); err != nil {
			return cfg, fmt.Errorf("invalid configuration: %w", err)
		}
	}
	return cfg, nil
}

// explain turns env's aggregate error into one line per variable, named by
// its environment key (env itself names the Go field, which operators never
// see).
func explain(err error, keys map[string]string) error {
	var agg env.AggregateError
	if !errors.As(err, &agg) {
		return err
	}
	out := make([]error, 0, len(agg.Errors))
	for _, e := range agg.Errors {
		var pe env.ParseError
		if errors.As(e, &pe) {
			if key, ok := keys[pe.Name]; ok {
				out = append(out, fmt.Errorf("%s: cannot parse as %s: %w", key, pe.Type, errors.Unwrap(pe.Err)))
				continue
			}
		}
		out = append(out, e)
	}
	return errors.Join(out...)
}

// envKeys maps Go field names to their environment keys, following nested
// structs and their envPrefix.
func envKeys(t reflect.Type, prefix string) map[string]string {
	keys := map[string]string{}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return keys
	}
	for i := range t.NumField() {
		f := t.Field(i)
		if key := f.Tag.Get("env"); key != "" {
			keys[f.Name] = prefix + strings.Split(key, ",")[0]
			continue
		}
		if f.Type.Kind() == reflect.Struct {
			for name, key := range envKeys(f.Type, prefix+f.Tag.Get("envPrefix")) {
				keys[name] = key
			}
		}
	}
	return keys
}
