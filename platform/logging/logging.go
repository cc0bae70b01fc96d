// Package logging builds the one log format of every Pixshare service: zap
// JSON, one line per event, with the fields ts, level, service, msg and, for
// work done on behalf of a request, request_id, trace_id and user_id.
package logging

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Config is read from the environment.
type Config struct {
	// Level is debug, info, warn or error.
	Level string `env:"LOG_LEVEL" envDefault:"info"`
}

// Buffering of a service's log: lines are written at most flushEvery
// after they were logged, or once bufferSize bytes wait, instead of one
// write per line (a request logs a line in the gateway and in the service
// behind it, and a write to a pipe is a system call and a wake-up of its
// reader). A warning or an error is written at once, with everything
// before it, and Sync (the app's stop) writes what is left.
const (
	flushEvery = 100 * time.Millisecond
	bufferSize = 256 << 10
)

// New returns a JSON logger for service writing to stderr, buffered.
func New(service string, cfg Config) (*zap.Logger, error) {
	return newLogger(service, cfg, buffered(os.Stderr, flushEvery))
}

func buffered(w io.Writer, every time.Duration) *zapcore.BufferedWriteSyncer {
	return &zapcore.BufferedWriteSyncer{WS: zapcore.AddSync(w), Size: bufferSize, FlushInterval: every}
}

// NewWithWriter is New writing every line to w as it is logged (tests read
// what was logged).
func NewWithWriter(service string, cfg Config, w io.Writer) (*zap.Logger, error) {
	return newLogger(service, cfg, zapcore.Lock(zapcore.AddSync(w)))
}

func newLogger(service string, cfg Config, out zapcore.WriteSyncer) (*zap.Logger, error) {
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
	var core zapcore.Core = zapcore.NewCore(enc, out, level)
	if b, ok := out.(*zapcore.BufferedWriteSyncer); ok {
		core = urgentCore{Core: core, out: b}
	}
	return zap.New(core, zap.AddStacktrace(zapcore.DPanicLevel)).With(zap.String("service", service)), nil
}

// urgentCore writes out its buffer after every entry of level warn or
// above: what goes wrong is seen at once, and after what led to it.
type urgentCore struct {
	zapcore.Core
	out *zapcore.BufferedWriteSyncer
}

func (c urgentCore) With(fields []zapcore.Field) zapcore.Core {
	return urgentCore{Core: c.Core.With(fields), out: c.out}
}

func (c urgentCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(e.Level) {
		return ce.AddCore(e, c)
	}
	return ce
}

func (c urgentCore) Write(e zapcore.Entry, fields []zapcore.Field) error {
	err := c.Core.Write(e, fields)
	if e.Level >= zapcore.WarnLevel {
		if serr := c.out.Sync(); err == nil {
			err = serr
		}
	}
	return err
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
