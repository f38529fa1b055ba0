package main

import (
	"testing"
	"time"

	"github.com/nhi-audit/nhi/audit"
)

// The LAST USED cell of nhi identities' table says what a reader checks
// at a glance: how long ago, in the unit that fits ("just now", minutes,
// hours, days, years and days: audit.Ago, the review UI's words), "never" only where the source reports use and it was read,
// "not read" where it reports use but it was not read (last_used_unknown),
// and "-" where the source does not report use.
func TestLastUsedCell(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { u := now.Add(-d); return &u }
	for _, tc := range []struct {
		kind  audit.Kind
		used  *time.Time
		attrs map[string]string
		want  string
	}{
		{audit.KindAWSAccessKey, at(30 * time.Second), nil, "just now"},
		{audit.KindAWSAccessKey, at(20 * time.Minute), nil, "20m ago"},
		{audit.KindAWSAccessKey, at(5 * time.Hour), nil, "5h ago"},
		{audit.KindAWSAccessKey, at(72 * time.Hour), nil, "3d ago"},
		{audit.KindAWSAccessKey, at(1424 * 24 * time.Hour), nil, "3y329d ago"}, // as the review UI says it
		{audit.KindAWSAccessKey, at(-time.Hour), nil, "in 1h"},
		{audit.KindAWSAccessKey, nil, nil, "never"},
		{audit.KindAWSAccessKey, nil, map[string]string{audit.AttrLastUseUnknown: "true"}, "not read"},
		{audit.KindGitHubActionsSecret, nil, nil, "-"},
	} {
		id := &audit.Identity{Observation: audit.Observation{Kind: tc.kind, LastUsedAt: tc.used, Attributes: tc.attrs}}
		if got := lastUsed(id, now); got != tc.want {
			t.Errorf("%s last used %v (attributes %v): %q, want %q", tc.kind, tc.used, tc.attrs, got, tc.want)
		}
	}
}
