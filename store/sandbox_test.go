package store

import (
	"context"
	"errors"
	"testing"
)

func TestClaimSandbox(t *testing.T) {
	ctx := context.Background()
	rdb := srv.Client(t, 30)
	// Empty: claimed and marked.
	if err := ClaimSandbox(ctx, rdb); err != nil {
		t.Fatal(err)
	}
	// The sandbox's own data from the last run: emptied.
	rdb.Set(ctx, "{u:1001}:state", "old", 0)
	if err := ClaimSandbox(ctx, rdb); err != nil {
		t.Fatal(err)
	}
	if n, _ := rdb.Exists(ctx, "{u:1001}:state").Result(); n != 0 {
		t.Error("last run's state kept")
	}
	// Anyone else's data: refused and left alone.
	other := srv.Client(t, 31)
	other.Set(ctx, "{u:42}:state", "a real bot's", 0)
	if err := ClaimSandbox(ctx, other); !errors.Is(err, ErrNotSandboxDB) {
		t.Fatalf("foreign database: %v", err)
	}
	if n, _ := other.DBSize(ctx).Result(); n != 1 {
		t.Errorf("foreign database touched: %d keys", n)
	}
}
