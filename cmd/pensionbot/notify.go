package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"pensionbot/flows"
)

// NotifyConfig is the configuration of reminders and broadcasts.
type NotifyConfig struct {
	// Schedule: REMINDER_DAYS, QUIET_HOURS (the hours reminders may be
	// sent), TIME_ZONE.
	Schedule flows.ReminderSchedule
	// ConfirmOver is BROADCAST_CONFIRM_OVER: larger audiences need a
	// second staff member.
	ConfirmOver int
	// Rate is BROADCAST_RATE, messages a second; Paid is BROADCAST_PAID.
	Rate float64
	Paid bool
	// AuditTTL is AUDIT_DAYS.
	AuditTTL time.Duration
}

// loadNotify reads the reminder and broadcast settings; loc is TIME_ZONE,
// read once with the rest of the configuration.
func loadNotify(get func(name, def string) string, loc *time.Location) (NotifyConfig, error) {
	var n NotifyConfig
	for _, part := range strings.Split(get("REMINDER_DAYS", "30,7,1"), ",") {
		d, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil || d < 1 || d > 180 || slices.Contains(n.Schedule.Days, d) {
			return n, &configError{"REMINDER_DAYS", "must be different whole numbers of days between 1 and 180, separated by commas, such as 30,7,1"}
		}
		n.Schedule.Days = append(n.Schedule.Days, d)
	}
	n.Schedule.Loc = loc
	var err error
	from, to, ok := strings.Cut(get("QUIET_HOURS", "09:00-20:00"), "-")
	start, err1 := clockTime(from)
	end, err2 := clockTime(to)
	if !ok || err1 != nil || err2 != nil || start >= end {
		return n, &configError{"QUIET_HOURS", "must be the hours reminders may be sent, as HH:MM-HH:MM in TIME_ZONE, such as 09:00-20:00"}
	}
	n.Schedule.Start, n.Schedule.End = start, end
	if n.ConfirmOver, err = strconv.Atoi(get("BROADCAST_CONFIRM_OVER", "1000")); err != nil || n.ConfirmOver < 0 {
		return n, &configError{"BROADCAST_CONFIRM_OVER", "must be a whole number of recipients (0: always a second staff member)"}
	}
	switch get("BROADCAST_PAID", "false") {
	case "true", "1", "yes":
		n.Paid = true
	case "false", "0", "no":
	default:
		return n, &configError{"BROADCAST_PAID", "use true or false"}
	}
	limit := 30.0
	if n.Paid {
		limit = 1000
	}
	if n.Rate, err = strconv.ParseFloat(get("BROADCAST_RATE", "25"), 64); err != nil || n.Rate <= 0 || n.Rate > limit {
		return n, &configError{"BROADCAST_RATE", fmt.Sprintf("must be messages a second, above 0 and at most %.0f (Telegram's limit; up to 1000 with BROADCAST_PAID=true, paid in Stars)", limit)}
	}
	days, err := strconv.Atoi(get("AUDIT_DAYS", "400"))
	if err != nil || days < 1 || days > 3650 {
		return n, &configError{"AUDIT_DAYS", "must be a whole number of days between 1 and 3650"}
	}
	n.AuditTTL = time.Duration(days) * 24 * time.Hour
	return n, nil
}

func clockTime(s string) (time.Duration, error) {
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil {
		if strings.TrimSpace(s) == "24:00" {
			return 24 * time.Hour, nil
		}
		return 0, err
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}

// totalRate is what the bot may send in all, messages a second: Telegram's
// 30 to different chats, or the paid broadcast rate with room for replies
// beside it.
func (n NotifyConfig) totalRate() float64 {
	if n.Paid {
		return min(1000, n.Rate+30)
	}
	return 30
}
