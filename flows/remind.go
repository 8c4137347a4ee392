package flows

import (
	"slices"
	"time"
)

// ReminderSchedule says when a certification's reminders go: Days before
// it falls due (30, 7 and 1 by default) and once when it has lapsed, each
// at the start of the day's sending window (QUIET_HOURS, in the time zone
// Loc) or, if the bot was stopped, as soon as the window allows. Only the
// latest reminder that fell due is sent: nobody gets three at once after
// an outage.
type ReminderSchedule struct {
	Days       []int
	Loc        *time.Location
	Start, End time.Duration // the sending window, from local midnight
}

// DefaultSchedule is 30, 7 and 1 days before, 09:00–20:00 Asia/Shanghai
// (China has one time zone and no daylight saving, so a fixed zone is
// exact).
func DefaultSchedule() ReminderSchedule {
	return ReminderSchedule{Days: []int{30, 7, 1}, Loc: time.FixedZone("CST", 8*3600), Start: 9 * time.Hour, End: 20 * time.Hour}
}

func (s ReminderSchedule) loc() *time.Location {
	if s.Loc == nil {
		return time.UTC
	}
	return s.Loc
}

// Stages are the moments of a record's reminders, in order: one per entry
// of Days (largest first), then the lapse.
func (s ReminderSchedule) Stages(due time.Time) []time.Time {
	days := slices.Clone(s.Days)
	slices.Sort(days)
	slices.Reverse(days)
	d := due.In(s.loc())
	at := func(offset int) time.Time {
		return time.Date(d.Year(), d.Month(), d.Day()+offset, 0, 0, 0, 0, s.loc()).Add(s.Start)
	}
	out := make([]time.Time, 0, len(days)+1)
	for _, n := range days {
		out = append(out, at(-n))
	}
	// Lapsed: the morning of the first day it is no longer valid.
	return append(out, at(1))
}

// StageDays is how many days before the due date stage i is; -1 for the
// lapse.
func (s ReminderSchedule) StageDays(i int) int {
	days := slices.Clone(s.Days)
	slices.Sort(days)
	slices.Reverse(days)
	if i < len(days) {
		return days[i]
	}
	return -1
}

// Next is the first stage after t, and false when none is left.
func (s ReminderSchedule) Next(due, t time.Time) (time.Time, bool) {
	for _, st := range s.Stages(due) {
		if st.After(t) {
			return st, true
		}
	}
	return time.Time{}, false
}

// Current is the latest stage at or before now and not before from (the
// stage the record waits for): the reminder to send now, if any.
func (s ReminderSchedule) Current(due, from, now time.Time) (int, bool) {
	idx := -1
	for i, st := range s.Stages(due) {
		if !st.After(now) && !st.Before(from) {
			idx = i
		}
	}
	return idx, idx >= 0
}

// InWindow reports whether t is inside the sending window.
func (s ReminderSchedule) InWindow(t time.Time) bool {
	l := t.In(s.loc())
	since := l.Sub(time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, s.loc()))
	return since >= s.Start && since < s.End
}
