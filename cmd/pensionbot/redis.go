package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

// redisOptions reads REDIS_URL: one redis:// (or rediss://) URL for a single
// server; or a comma-separated list of URLs or host:port addresses for a
// Cluster, or for Sentinels when masterName is set.
func redisOptions(raw, masterName string) (*redis.UniversalOptions, error) {
	parts := strings.Split(raw, ",")
	if len(parts) == 1 && masterName == "" {
		o, err := redis.ParseURL(raw)
		if err != nil {
			return nil, fmt.Errorf("cannot parse %q: %w", raw, err)
		}
		return &redis.UniversalOptions{
			Addrs: []string{o.Addr}, DB: o.DB, Username: o.Username, Password: o.Password,
			TLSConfig: o.TLSConfig, Protocol: o.Protocol,
		}, nil
	}
	u := &redis.UniversalOptions{MasterName: masterName}
	for _, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if strings.Contains(p, "://") {
			o, err := redis.ParseURL(p)
			if err != nil {
				return nil, fmt.Errorf("cannot parse %q: %w", p, err)
			}
			u.Addrs = append(u.Addrs, o.Addr)
			u.Username, u.Password, u.TLSConfig = o.Username, o.Password, o.TLSConfig
			u.DB = o.DB
			continue
		}
		u.Addrs = append(u.Addrs, p)
	}
	if len(u.Addrs) == 0 {
		return nil, errors.New("no address")
	}
	if masterName == "" && u.DB != 0 {
		return nil, errors.New("a cluster has only database 0")
	}
	return u, nil
}

// redisLog sends go-redis' own messages (reconnects, pool errors) to our
// logger instead of the standard log package.
type redisLog struct{ log *slog.Logger }

func (r redisLog) Printf(_ context.Context, format string, v ...any) {
	r.log.Warn("redis client", "msg", fmt.Sprintf(format, v...))
}

// tripCounter counts round trips to Redis: one per command, one per
// pipeline however many commands it carries. It is how the cost of an
// update is measured (see BenchmarkSideBySide), and a production signal.
type tripCounter struct{ trips prometheus.Counter }

func newTripCounter(reg prometheus.Registerer) (*tripCounter, error) {
	c := &tripCounter{trips: prometheus.NewCounter(prometheus.CounterOpts{
		Name: "pensionbot_redis_round_trips_total",
		Help: "Round trips to Redis: one per command, one per pipeline.",
	})}
	if err := reg.Register(c.trips); err != nil {
		return nil, fmt.Errorf("register redis metrics: %w", err)
	}
	return c, nil
}

func (c *tripCounter) DialHook(next redis.DialHook) redis.DialHook { return next }

func (c *tripCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.trips.Inc()
		return next(ctx, cmd)
	}
}

func (c *tripCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.trips.Inc()
		return next(ctx, cmds)
	}
}
