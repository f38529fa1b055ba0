package tui

import (
	"fmt"
	"strings"
	"testing"
)

// Once a campaign is picked, :identities shows every identity again: the
// title says "Identities", no longer the campaign's items, the keys of a
// decision go, and the help names the way while a campaign is picked.
func TestIdentitiesLeavesTheCampaign(t *testing.T) {
	e := newEvidence(t)
	r := newFakeReviewer()
	r.members = []string{e.ids[0].ID, e.ids[1].ID}
	m := e.model(t, 100, 30, Options{Actor: testActor, Reviewer: r})
	every := title(m.View())
	if !strings.HasPrefix(every, "Identities ") {
		t.Fatalf("title before a campaign: %q", every)
	}
	press(t, m, ":campaigns", "enter", "enter")
	if got := title(m.View()); !strings.HasPrefix(got, "My items 2 · campaign 2025-Q2") {
		t.Fatalf("title in the campaign: %q", got)
	}
	press(t, m, "?")
	if v := m.View(); !strings.Contains(v, ":id    every identity again") {
		t.Errorf("the help in a campaign does not say how to leave it:\n%s", v)
	}
	press(t, m, "esc", ":identities", "enter")
	v := m.View()
	checkFrame(t, v, 100, 30)
	if got := title(v); got != every {
		t.Errorf(":identities in a campaign shows %q, want every identity as before it: %q", got, every)
	}
	if !strings.Contains(m.flash, "out of campaign 2025-Q2 (:campaigns, then enter, picks it again)") {
		t.Errorf("leaving the campaign says: %q", m.flash)
	}
	if strings.Contains(v, "D decide") || strings.Contains(strings.Join(strings.Fields(v), " "), "D decommission") {
		t.Errorf("a decision is still offered out of the campaign:\n%s", v)
	}
	press(t, m, "?")
	if v := m.View(); strings.Contains(v, "every identity again") {
		t.Errorf("the help out of a campaign offers to leave one:\n%s", v)
	}
	press(t, m, "esc", "n")
	if !strings.Contains(m.flash, "Choose a campaign first") {
		t.Errorf("n out of the campaign: %q", m.flash)
	}
	// And back in, as before.
	press(t, m, ":campaigns", "enter", "enter")
	if got := title(m.View()); !strings.HasPrefix(got, fmt.Sprintf("My items %d · campaign 2025-Q2", len(r.members))) {
		t.Errorf("title back in the campaign: %q", got)
	}
}
