// Package logging builds the one log format of every Pixshare service: zap
// JSON, one line per event, with the fields ts, level, service, msg and, for
// work done on behalf of a request, request_id, trace_id and user_id.
package logging

import (
	"context"
	"fmt"
	"io"
	"os"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Config is read from the environment.
type Config struct {
	// Level is debug, info, warn or error.
	Level string `env:"LOG_LEVEL" envDefault:"info"`
}

// New returns a JSON logger for service writing to stderr.
func New(service string, cfg Config) (*zap.Logger, error) {
	return NewWithWriter(service, cfg, os.Stderr)
}

// NewWithWriter is New writing to w (tests read what was logged).
func NewWithWriter(service string, cfg Config, w io.Writer) (*zap.Logger, error) {
	level, err := zapcore.ParseLevel(cfg.Level)
	if err != nil {
		return nil, fmt.Errorf("LOG_LEVEL: %w", err)
	}
	enc := zapcore.NewJSONEncoder(zapcore.EncoderConfig{
		TimeKey:        "ts",
		LevelKey:       "level",
		MessageKey:     "msg",
		NameKey:        "logger",
		CallerKey:      zapcore.OmitKey,
		StacktraceKey:  "stacktrace",
		LineEnding:     zapcore.DefaultLineEnding,
		EncodeLevel:    zapcore.LowercaseLevelEncoder,
		EncodeTime:     zapcore.ISO8601TimeEncoder,
		EncodeDuration: zapcore.MillisDurationEncoder,
	})
	core := zapcore.NewCore(enc, zapcore.Lock(zapcore.AddSync(w)), level)
	return zap.New(core, zap.AddStacktrace(zapcore.DPanicLevel)).With(zap.String("service", service)), nil
}

type ctxKey struct{}

// WithContext returns ctx carrying l; request handlers put a logger with the
// request's fields here so everything below logs them.
func WithContext(ctx context.Context, l *zap.Logger) context.Context {
	return context.WithValue(ctx, ctxKey{}, l)
}

// FromContext returns the request-scoped logger of ctx, or fallback.
func FromContext(ctx context.Context, fallback *zap.Logger) *zap.Logger {
	if l, ok := ctx.Value(ctxKey{}).(*zap.Logger); ok {
		return l
	}
	return fallback
}

// Field names shared by every service.
const (
	FieldRequestID = "request_id"
	FieldTraceID   = "trace_id"
	FieldUserID    = "user_id"
)
