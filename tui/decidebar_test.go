package tui

import (
	"strings"
	"testing"
)

// In a campaign, on an open item of the reviewer's, the hint bar says how
// to decide: "D/K/R decide", where it said "o owner" (or, at 80 columns
// from :campaigns, no action at all) and D, K and R were in ? alone. Out
// of the campaign (:identities) it offers o again.
func TestHintBarOffersDecisions(t *testing.T) {
	e := newEvidence(t)
	e.campaign(t, "kind:deploy_key")
	m := e.model(t, 80, 24, Options{Actor: testActor, Reviewer: campaignsReviewer{e.store}})
	press(t, m, ":campaigns", "enter", "enter")
	// At 80 columns, after esc's way back, what a reviewer needs first:
	// the details and the decision keys.
	if bar, want := lastLine(m.View()), "esc back to campaigns • enter details • D/K/R decide • ? help • q quit"; bar != want {
		t.Errorf("a campaign's open item of mine, the hint bar:\n%q\nwant\n%q", bar, want)
	}
	press(t, m, ":identities", "enter")
	if bar := lastLine(m.View()); strings.Contains(bar, "decide") || !strings.Contains(bar, "o owner") {
		t.Errorf("out of the campaign, the hint bar: %q", bar)
	}
}
