package config

import (
	"errors"
	"strings"
	"testing"
	"time"
)

type sample struct {
	Addr    string        `env:"ADDR" envDefault:"127.0.0.1:8080"`
	Limit   int64         `env:"LIMIT" envDefault:"10"`
	Timeout time.Duration `env:"TIMEOUT" envDefault:"2s"`
}

func (s *sample) Validate() error {
	if s.Limit <= 0 {
		return errors.New("LIMIT must be positive")
	}
	return nil
}

func TestLoad(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		env     map[string]string
		want    sample
		wantErr string
	}{
		{name: "defaults", env: map[string]string{}, want: sample{"127.0.0.1:8080", 10, 2 * time.Second}},
		{name: "override", env: map[string]string{"LIMIT": "5", "TIMEOUT": "1m"}, want: sample{"127.0.0.1:8080", 5, time.Minute}},
		{name: "bad number names the variable", env: map[string]string{"LIMIT": "ten"}, wantErr: "LIMIT"},
		{name: "bad duration", env: map[string]string{"TIMEOUT": "soon"}, wantErr: "TIMEOUT"},
		{name: "validate", env: map[string]string{"LIMIT": "-1"}, wantErr: "LIMIT must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := LoadFrom[sample](tt.env)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("want error containing %q, got %v", tt.wantErr, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestMessageNamesVariable(t *testing.T) {
	t.Parallel()
	_, err := LoadFrom[sample](map[string]string{"TIMEOUT": "soon"})
	if err == nil || !strings.HasPrefix(strings.TrimPrefix(err.Error(), "invalid configuration: "), "TIMEOUT:") {
		t.Fatalf("want the message to start with the variable name, got %v", err)
	}
}
