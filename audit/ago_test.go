package audit

import (
	"testing"
	"time"
)

// TestAgo: a last use reads in the unit that fits, the same in the CLI's
// table and the review UI's: days up to two years (the policy's unit),
// then years and days, so "1424d ago" (CLI) and "3y ago" (UI) are both
// "3y329d ago".
func TestAgo(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	const day = 24 * time.Hour
	for d, want := range map[time.Duration]string{
		30 * time.Second: "just now", 5 * time.Minute: "5m ago", 3 * time.Hour: "3h ago",
		47 * time.Hour: "47h ago", 14 * day: "14d ago", 150 * day: "150d ago", 729 * day: "729d ago",
		730 * day: "2y ago", 800 * day: "2y70d ago", 1424 * day: "3y329d ago", 3660 * day: "10y10d ago",
		-3 * day: "in 3d", -time.Hour: "in 1h",
	} {
		if got := Ago(now.Add(-d), now); got != want {
			t.Errorf("Ago(now - %v) = %q, want %q", d, got, want)
		}
	}
}
