package database

import (
	"context"
	"errors"
	"time"

	"go.uber.org/zap"
	"gorm.io/gorm"
	gormlogger "gorm.io/gorm/logger"

	"pixshare/platform/logging"
)

// gormLogger sends GORM's few messages worth keeping (slow queries and
// errors other than "not found") to zap, with the request's fields.
type gormLogger struct {
	log  *zap.Logger
	slow time.Duration
}

func newGormLogger(l *zap.Logger, slow time.Duration) gormlogger.Interface {
	return &gormLogger{log: l.Named("gorm"), slow: slow}
}

// ParamsFilter keeps bound values out of logged SQL: they include password
// hashes, emails and captions, none of which belong in logs.
func (g *gormLogger) ParamsFilter(_ context.Context, sql string, _ ...any) (string, []any) {
	return sql, nil
}

func (g *gormLogger) LogMode(gormlogger.LogLevel) gormlogger.Interface { return g }

func (g *gormLogger) Info(ctx context.Context, msg string, _ ...any) {
	logging.FromContext(ctx, g.log).Debug(msg)
}

func (g *gormLogger) Warn(ctx context.Context, msg string, _ ...any) {
	logging.FromContext(ctx, g.log).Warn(msg)
}

func (g *gormLogger) Error(ctx context.Context, msg string, _ ...any) {
	logging.FromContext(ctx, g.log).Error(msg)
}

func (g *gormLogger) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	elapsed := time.Since(begin)
	switch {
	case err != nil && !errors.Is(err, gormlogger.ErrRecordNotFound) && !errors.Is(err, context.Canceled) &&
		!errors.Is(err, gorm.ErrDuplicatedKey):
		sql, rows := fc()
		logging.FromContext(ctx, g.log).Warn("query failed",
			zap.Error(err), zap.String("sql", sql), zap.Int64("rows", rows), zap.Duration("duration_ms", elapsed))
	case g.slow > 0 && elapsed > g.slow:
		sql, rows := fc()
		logging.FromContext(ctx, g.log).Warn("slow query",
			zap.String("sql", sql), zap.Int64("rows", rows), zap.Duration("duration_ms", elapsed))
	}
}
