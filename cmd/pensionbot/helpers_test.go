package main

import (
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"pensionbot/internal/redistest"
)

func redisClient(t testing.TB, db int) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: redisSrv.Addr, DB: db})
	t.Cleanup(func() { c.Close() })
	return c
}

func startOwnRedis(t *testing.T) *redistest.Server { return redistest.MustStart(t) }

// slowdown stretches the tests' waits: 1, or more under the race detector
// (race_test.go).
var slowdown = time.Duration(1)
