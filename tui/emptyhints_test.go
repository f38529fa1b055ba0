package tui

import (
	"strings"
	"testing"
)

// A filter that matches nothing leaves nothing to open, select or give
// an owner: the hint bar offers what shows rows again (the filter, esc
// clearing it), and the keys of rows once there are rows again.
func TestEmptyTableOffersNoRowKeys(t *testing.T) {
	e := newEvidence(t)
	m := e.model(t, 100, 30, Options{Actor: testActor})
	press(t, m, "/", "name:nothing-is-called-so", "enter")
	v := m.View()
	checkFrame(t, v, 100, 30)
	bar := lastLine(v)
	for _, k := range []string{"enter details", "space select", "o owner", "c add a note"} {
		if strings.Contains(bar, k) {
			t.Errorf("an empty table's hint bar offers %q: %q", k, bar)
		}
	}
	if !strings.HasPrefix(bar, "/ filter • esc clear filter • ") {
		t.Errorf("an empty table's hint bar: %q", bar)
	}
	press(t, m, "esc")
	if bar := lastLine(m.View()); !strings.Contains(bar, "enter details • space select • o owner") {
		t.Errorf("the rows back, the hint bar: %q", bar)
	}
	// A campaign with no item of the user's: a shows everyone's.
	r := newFakeReviewer()
	r.members = []string{e.ids[0].ID}
	r.reviewers = map[string]string{e.ids[0].ID: "bob@acme.test"}
	m = e.model(t, 100, 30, Options{Actor: testActor, Reviewer: r})
	press(t, m, ":campaigns", "enter", "enter")
	bar = lastLine(m.View())
	if strings.Contains(bar, "enter details") || strings.Contains(bar, "o owner") || !strings.Contains(bar, "a everyone's items") {
		t.Errorf("a campaign with none of my items, the hint bar: %q", bar)
	}
	press(t, m, "a")
	if bar := lastLine(m.View()); !strings.Contains(bar, "enter details • space select • o owner") {
		t.Errorf("everyone's items, the hint bar: %q", bar)
	}
}

// :offboard with no leaver, and :campaigns with no campaign, offer no
// enter: there is nothing to open.
func TestEmptyListsOfferNoEnter(t *testing.T) {
	e := newEvidence(t)
	m := e.model(t, 80, 24, Options{Actor: testActor, Reviewer: campaignsReviewer{e.store}})
	press(t, m, ":offboard", "enter")
	v := m.View()
	checkFrame(t, v, 80, 24)
	if !strings.Contains(v, "0 leavers") {
		t.Fatalf(":offboard on a file without leavers:\n%s", v)
	}
	if bar := lastLine(v); strings.Contains(bar, "enter") || !strings.HasPrefix(bar, "esc/q back • ") {
		t.Errorf(":offboard with no leaver, the hint bar: %q", bar)
	}
	press(t, m, ":campaigns", "enter")
	v = m.View()
	if !strings.HasPrefix(title(v), "Campaigns 0") {
		t.Fatalf(":campaigns on a file without campaigns:\n%s", v)
	}
	if bar := lastLine(v); strings.Contains(bar, "enter") || !strings.HasPrefix(bar, "esc/q back • ") {
		t.Errorf(":campaigns with no campaign, the hint bar: %q", bar)
	}
}

// At the end of a detail the hint bar offers to scroll up, not down; a
// detail that fits offers neither.
func TestDetailHintFollowsTheScroll(t *testing.T) {
	m := newTestModel(t, testSnapshot(), testIdentities(), 80, 40)
	press(t, m, "enter")
	if v := m.View(); strings.Contains(v, "lines 1–") || strings.Contains(lastLine(v), "scroll") {
		t.Errorf("a detail that fits, the hint bar: %q\n%s", lastLine(v), v)
	}
	m = newTestModel(t, testSnapshot(), testIdentities(), 80, 12)
	press(t, m, "enter")
	if bar := lastLine(m.View()); !strings.HasPrefix(bar, "esc/q back • ↓/j scroll down • ") {
		t.Errorf("the top of a detail, the hint bar: %q", bar)
	}
	press(t, m, "G")
	v := m.View()
	if !strings.Contains(v, " of ") || strings.Contains(lastLine(v), "scroll down") || !strings.HasPrefix(lastLine(v), "esc/q back • ↑/k scroll up • ") {
		t.Errorf("the end of a detail, the hint bar: %q\n%s", lastLine(v), v)
	}
}
