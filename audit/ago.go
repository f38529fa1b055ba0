package audit

import (
	"strconv"
	"time"
)

// Span is a length of time as nhi's tables say it, in the unit that
// fits: minutes under an hour ("20m"), hours under two days ("47h"), days
// under two years ("729d": the unit of the policy's thresholds and of
// the findings, "unused for 90 days"), then years of 365 days and the
// days over ("3y329d", "5y"), as kubectl says ages: the magnitude at a
// glance, the day still exact. A negative d is said as its length.
func Span(d time.Duration) string {
	const day = 24 * time.Hour
	if d < 0 {
		d = -d
	}
	switch {
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + "m"
	case d < 2*day:
		return strconv.Itoa(int(d/time.Hour)) + "h"
	case d < 2*365*day:
		return strconv.Itoa(int(d/day)) + "d"
	}
	days := int(d / day)
	s := strconv.Itoa(days/365) + "y"
	if days%365 != 0 {
		s += strconv.Itoa(days%365) + "d"
	}
	return s
}

// Ago is how long before now t was, as the CLI's tables and the review
// UI both say a last use: "just now" under a minute, then Span and "ago"
// ("14d ago", "3y329d ago"); a time after now (a clock ahead) reads "in
// 3d". Where there is room the exact time goes beside it (the detail
// view, --json).
func Ago(t, now time.Time) string {
	d := now.Sub(t)
	if d < 0 {
		return "in " + Span(d)
	}
	if d < time.Minute {
		return "just now"
	}
	return Span(d) + " ago"
}
