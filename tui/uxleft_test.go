package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/nhi-audit/nhi/audit"
)

// The column the rows are sorted by is on screen whatever the width: at 80
// columns "sort age" stood above a table without AGE.
func TestSortedColumnStaysOnScreen(t *testing.T) {
	for _, w := range []int{120, 80, 60, 50} {
		m := newTestModel(t, testSnapshot(), testIdentities(), w, 24)
		for _, col := range sortable {
			press(t, m, "s")
			v := ansi.Strip(m.View())
			lines := strings.Split(v, "\n")
			if !strings.Contains(lines[1], "sort "+sortNames[col]) {
				t.Fatalf("%d columns: pressed s for %s, title %q", w, sortNames[col], lines[1])
			}
			if title := identityColumns[col].Title; !strings.Contains(lines[2], title) {
				t.Errorf("%d columns, sort %s: the header does not show %s:\n%s", w, sortNames[col], title, v)
			}
			checkFrame(t, m.View(), w, 24)
		}
	}
}

// An SSO credential with no recorded owner shows who the source says holds
// it, as nhi campaign show does, where the table said "—"; the detail says
// no owner is recorded and names the holder, known to the directory or not.
func TestOwnerCellNamesTheHolder(t *testing.T) {
	sso := identity(audit.KindGitHubCredentialAuthorization, "laptop", "acme")
	sso.Attributes = map[string]string{"owner": "aaron-w", "credential_type": "personal access token"}
	owned := identity(audit.KindGitHubCredentialAuthorization, "ci", "acme")
	owned.Attributes = map[string]string{"owner": "bea-lind"}
	owned.Owner = "platform-team"
	ids := []audit.Identity{sso, owned}

	for _, c := range []struct {
		w    int
		want string
	}{{80, "(aaron…"}, {200, "— held by aaron-w"}} {
		m := newTestModel(t, testSnapshot(), ids, c.w, 24)
		v := ansi.Strip(m.View())
		if !strings.Contains(selectedLine(t, m.View()), c.want) {
			t.Errorf("%d columns: the holder's row does not show %q:\n%s", c.w, c.want, v)
		}
		if strings.Contains(v, "bea-lind") {
			t.Errorf("%d columns: a recorded owner gives way to the holder:\n%s", c.w, v)
		}
	}
	m := newTestModel(t, testSnapshot(), ids, 80, 40)
	press(t, m, "enter")
	d := detailText(t, m)
	for _, want := range []string{"now: — (none recorded)", "holder, per the source: aaron-w"} {
		if !strings.Contains(d, want) {
			t.Errorf("the detail does not say %q:\n%s", want, d)
		}
	}
}

// A finding's policy number is read as days in the detail: "policy: 90"
// left the reader to guess what 90 counts.
func TestDetailPolicyInDays(t *testing.T) {
	key := identity(audit.KindGitHubDeployKey, "deploy-prod", "acme/api")
	key.Findings = []audit.Finding{{Rule: "stale", Severity: "high", OWASP: "NHI1", Message: "last used 2022-01-10, 1,756 days ago; policy: 90"}}
	m := newTestModel(t, testSnapshot(), []audit.Identity{key}, 80, 40)
	press(t, m, "enter")
	if d := detailText(t, m); !strings.Contains(d, "1,756 days ago; policy: 90 days") {
		t.Errorf("the detail does not say the policy's days:\n%s", d)
	}
}

// At 80 columns :campaigns shows long campaign names whole where it can and
// tells them apart where it cannot: DECISIONS gives way first, then a name
// is cut in the middle, keeping the end that differs ("…-11-30"); the
// reviewers line names the selected campaign in full. The name lost its
// end at 14 cells while DECISIONS took the spare width.
func TestCampaignNamesAtEightyColumns(t *testing.T) {
	e := newEvidence(t)
	r := newFakeReviewer()
	due := testNow.Add(30 * 24 * time.Hour)
	r.extra = []Campaign{
		{Name: "offboard-alice-smith-2026-10-31", Status: "open", Due: due, Total: 12, Counts: map[string]int{"keep": 1},
			Reviewers: []ReviewerProgress{{Reviewer: "dan@acme.com", Assigned: 12, Decided: 1}}},
		{Name: "offboard-alice-smith-2026-11-30", Status: "open", Due: due, Total: 3},
		{Name: "2026-q4-access-review-platform-engineering", Status: "open", Due: due, Total: 40},
		{Name: "2026-q4-access-review-security-engineering", Status: "open", Due: due, Total: 40,
			Reviewers: []ReviewerProgress{{Reviewer: "alice@acme.com", Assigned: 40}}},
		// Its PROGRESS, "5 decided · 70 no-response", leaves NAME 33 cells.
		{Name: "2024-Q4", Status: "closed", Due: testNow.Add(-150 * 24 * time.Hour), Total: 75,
			Counts: map[string]int{"keep": 3, "rotate": 2, "no-response": 70}},
	}
	m := e.model(t, 80, 24, Options{Actor: testActor, Reviewer: r})
	press(t, m, ":campaigns", "enter")
	v := ansi.Strip(m.View())
	checkFrame(t, m.View(), 80, 24)
	for _, want := range []string{"offboard-alice-smith-2026-10-31 ", "offboard-alice-smith-2026-11-30 ",
		"2026-q4-access-r…form-engineering ", "2026-q4-access-r…rity-engineering "} {
		if !strings.Contains(v, want) {
			t.Errorf("at 80 columns :campaigns does not show %q:\n%s", want, v)
		}
	}
	// The cut name in full, under the table, when it is selected.
	press(t, m, "g")
	for range 8 {
		if strings.Contains(selectedLine(t, m.View()), "rity-engineering") {
			break
		}
		press(t, m, "j")
	}
	if got := ansi.Strip(m.View()); !strings.Contains(got, "2026-q4-access-review-security-engineering · Reviewers: alice@acme.com 0/40") {
		t.Errorf("the reviewers line does not name the selected campaign in full:\n%s", got)
	}
}

func TestTruncateMiddle(t *testing.T) {
	for _, c := range []struct {
		in   string
		w    int
		want string
	}{
		{"offboard-alice-smith-2026-10-31", 40, "offboard-alice-smith-2026-10-31"},
		{"offboard-alice-smith-2026-10-31", 20, "offboard-…2026-10-31"},
		{"2026-q4-access-review-security-engineering", 33, "2026-q4-access-r…rity-engineering"},
		{"日本語の名前のキャンペーン", 9, "日本…ーン"},
	} {
		got := truncateMiddle(c.in, c.w)
		if got != c.want || textWidth(got) > c.w {
			t.Errorf("truncateMiddle(%q, %d) = %q (%d cells), want %q", c.in, c.w, got, textWidth(got), c.want)
		}
	}
}

// Two identities whose names differ only at the end ("AKIAPRODLEGACY000001"
// and "…000002", access keys of one user) stay told apart in the table
// when NAME is too narrow for them: it is cut in the middle, keeping the
// end, where the cut at the end showed "AKIAPRODLE…" twice and left the
// reviewer to open each to know which one D would decommission.
func TestNamesCutKeepTheirEnds(t *testing.T) {
	a := identity(audit.KindAWSAccessKey, "AKIAPRODLEGACY000001", "222222222222")
	b := identity(audit.KindAWSAccessKey, "AKIAPRODLEGACY000002", "222222222222")
	for _, w := range []int{60, 80} {
		m := newTestModel(t, testSnapshot(), []audit.Identity{a, b}, w, 24)
		v := ansi.Strip(m.View())
		checkFrame(t, m.View(), w, 24)
		var rows []string
		for _, l := range strings.Split(v, "\n") {
			if strings.Contains(l, "AKIA") {
				rows = append(rows, l)
			}
		}
		if len(rows) != 2 {
			t.Fatalf("%d columns: want the two keys' rows, got %d:\n%s", w, len(rows), v)
		}
		if strings.Contains(rows[0], "AKIAPRODLEGACY000001") {
			t.Fatalf("%d columns: NAME shows the whole name; the test wants it cut:\n%s", w, v)
		}
		for i, end := range []string{"01 ", "02 "} {
			if !strings.Contains(rows[i], end) {
				t.Errorf("%d columns: the row of %s does not show its end %q:\n%s", w, []string{a.Name, b.Name}[i], end, v)
			}
		}
	}
}
