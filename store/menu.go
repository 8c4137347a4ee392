package store

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/redis/go-redis/v9"
)

// staffMenuKey holds the staff members whose chats were given the staff
// command menu, so that a start after STAFF_IDS changed takes it away
// from those no longer listed.
const staffMenuKey = "{menu}:staff"

// SwapStaffMenu records staff as the chats with the staff command menu and
// returns those that had it and are no longer listed.
func SwapStaffMenu(ctx context.Context, rdb redis.UniversalClient, staff []int64) (former []int64, err error) {
	old, err := rdb.SMembers(ctx, staffMenuKey).Result()
	if err != nil {
		return nil, fmt.Errorf("read the chats with the staff menu: %w", err)
	}
	for _, s := range old {
		id, err := strconv.ParseInt(s, 10, 64)
		if err == nil && !slices.Contains(staff, id) {
			former = append(former, id)
		}
	}
	_, err = rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, staffMenuKey)
		for _, id := range staff {
			p.SAdd(ctx, staffMenuKey, strconv.FormatInt(id, 10))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("record the chats with the staff menu: %w", err)
	}
	return former, nil
}
