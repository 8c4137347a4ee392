package main

import (
	"strings"
	"testing"
	"time"

	"pensionbot/secret"
)

func TestNotifyConfig(t *testing.T) {
	base := map[string]string{"TELEGRAM_BOT_TOKEN": goodToken, "DATA_KEY": secret.NewKey()}
	load := func(extra map[string]string) (Config, error) {
		return LoadConfig(func(k string) string {
			if v, ok := extra[k]; ok {
				return v
			}
			return base[k]
		})
	}
	c, err := load(nil)
	if err != nil {
		t.Fatal(err)
	}
	n := c.Notify
	if len(n.Schedule.Days) != 3 || n.Schedule.Start != 9*time.Hour || n.Schedule.End != 20*time.Hour ||
		n.Schedule.Loc.String() != "Asia/Shanghai" || n.Rate != 25 || n.Paid || n.ConfirmOver != 1000 ||
		n.AuditTTL != 400*24*time.Hour || n.totalRate() != 30 {
		t.Fatalf("defaults: %+v", n)
	}
	if c, err := load(map[string]string{"BROADCAST_PAID": "true", "BROADCAST_RATE": "1000"}); err != nil || c.Notify.totalRate() != 1000 {
		t.Fatalf("paid: %+v %v", c.Notify, err)
	}
	for env, want := range map[string]string{
		"BROADCAST_RATE=31":         "BROADCAST_RATE:",
		"BROADCAST_RATE=0":          "BROADCAST_RATE:",
		"REMINDER_DAYS=30,x":        "REMINDER_DAYS:",
		"REMINDER_DAYS=7,7":         "REMINDER_DAYS:",
		"QUIET_HOURS=20:00-09:00":   "QUIET_HOURS:",
		"QUIET_HOURS=9-20":          "QUIET_HOURS:",
		"TIME_ZONE=Mars/Olympus":    "TIME_ZONE:",
		"AUDIT_DAYS=0":              "AUDIT_DAYS:",
		"BROADCAST_CONFIRM_OVER=-1": "BROADCAST_CONFIRM_OVER:",
		"BROADCAST_PAID=maybe":      "BROADCAST_PAID:",
	} {
		k, v, _ := strings.Cut(env, "=")
		if _, err := load(map[string]string{k: v}); err == nil || !isConfigError(err) || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s: %v; want %q", env, err, want)
		}
	}
}
