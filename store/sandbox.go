package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// sandboxMark names the key that marks a database as the sandbox's own.
const sandboxMark = "pensionbot:sandbox"

// ErrNotSandboxDB means the database holds data that the sandbox did not
// put there, which the sandbox refuses to erase.
var ErrNotSandboxDB = errors.New("the Redis database holds data that is not the sandbox's")

// ClaimSandbox empties a Redis database for the sandbox (`pensionbot
// sandbox`) and marks it as the sandbox's. The sandbox's simulated Telegram
// starts empty at every run, so the bot's states must too: a state that
// remembers messages the new simulation never sent would only confuse. A
// database is emptied only if it is empty or carries the mark, so a
// sandbox pointed at a real bot's database by mistake stops with
// ErrNotSandboxDB instead of erasing it.
func ClaimSandbox(ctx context.Context, rdb *redis.Client) error {
	n, err := rdb.DBSize(ctx).Result()
	if err != nil {
		return fmt.Errorf("claim the sandbox database: %w", err)
	}
	if n > 0 {
		marked, err := rdb.Exists(ctx, sandboxMark).Result()
		if err != nil {
			return fmt.Errorf("claim the sandbox database: %w", err)
		}
		if marked == 0 {
			return fmt.Errorf("claim the sandbox database: %w (%d keys)", ErrNotSandboxDB, n)
		}
	}
	if err := rdb.FlushDB(ctx).Err(); err != nil {
		return fmt.Errorf("empty the sandbox database: %w", err)
	}
	if err := rdb.Set(ctx, sandboxMark, "emptied at every start of pensionbot sandbox", 0).Err(); err != nil {
		return fmt.Errorf("mark the sandbox database: %w", err)
	}
	return nil
}
