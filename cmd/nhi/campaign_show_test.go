package main

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

// TestCampaignShowReviewer: --reviewer lists one reviewer's items with
// that reviewer's progress line; me is who the caller is; a name that is
// no reviewer is a usage error (exit 2) that says whom it may have meant.
func TestCampaignShowReviewer(t *testing.T) {
	db := campaignDB(t, 10)
	ok(t, "campaign", "create", "q", "--scope", "id:*", "--due", due(30), "--reviewer", "rita@acme.test", "--reviewer", "sam@acme.test", "--db", db, "--as", "lead")
	all := show(t, db, "q")
	var rita []string
	for _, it := range all.Items {
		if it.Reviewer != nil && *it.Reviewer == "rita@acme.test" {
			rita = append(rita, it.ID)
		}
	}
	if len(rita) == 0 || len(rita) == len(all.Items) {
		t.Fatalf("rita has %d of %d items: the test needs both reviewers to have some", len(rita), len(all.Items))
	}
	ok(t, "decide", "q", rita[0], "decommission", "--db", db, "--as", "rita@acme.test")

	r := ok(t, "campaign", "show", "q", "--reviewer", "rita@acme.test", "--db", db)
	want := "Progress of rita@acme.test: 1/" + strconv.Itoa(len(rita)) + " assigned decided"
	if !strings.Contains(r.stdout, want) {
		t.Errorf("no progress line %q:\n%s", want, r.stdout)
	}
	if strings.Contains(r.stdout, "sam@acme.test") {
		t.Errorf("sam's items or progress in rita's view:\n%s", r.stdout)
	}
	ids := strings.Fields(ok(t, "campaign", "show", "q", "--reviewer", "RITA@acme.test", "-o", "id", "--db", db).stdout)
	if strings.Join(ids, " ") != strings.Join(rita, " ") {
		t.Errorf("-o id lists %q, want rita's %q", ids, rita)
	}
	mine := strings.Fields(ok(t, "campaign", "show", "q", "--reviewer", "me", "--pending", "-o", "id", "--db", db, "--as", "rita@acme.test").stdout)
	if strings.Join(mine, " ") != strings.Join(rita[1:], " ") {
		t.Errorf("--reviewer me --pending lists %q, want %q", mine, rita[1:])
	}
	var j struct {
		Items []shownItem `json:"items"`
	}
	r = ok(t, "campaign", "show", "q", "--reviewer", "sam@acme.test", "--json", "--db", db)
	if err := json.Unmarshal([]byte(r.stdout), &j); err != nil || len(j.Items) != len(all.Items)-len(rita) {
		t.Errorf("--json: %d items (%v), want sam's %d", len(j.Items), err, len(all.Items)-len(rita))
	}

	refused(t, 2, `"ritta@acme.test" is no reviewer of q; did you mean rita@acme.test?`, "campaign", "show", "q", "--reviewer", "ritta@acme.test", "--db", db)
	refused(t, 2, `"rta" is no reviewer of q; did you mean rita@acme.test?`, "campaign", "show", "q", "--reviewer", "rta", "--db", db)
	refused(t, 2, "you (lead) have no items in q; its reviewers are rita@acme.test, sam@acme.test", "campaign", "show", "q", "--reviewer", "me", "--db", db, "--as", "lead")
}

// TestItemTableFits120: with every optional column filled (BY, FLAGS,
// VERIFIED) and long cells everywhere, campaign show's item table fits
// 120 columns; --wide cuts nothing.
func TestItemTableFits120(t *testing.T) {
	long := strings.Repeat("x", 60)
	tb := newTable(tableWidth, itemColumns(false)...)
	for range 3 {
		tb.Row("fine-grained token", long, "acme/"+long, "@acme/"+long, "stale,unrotated,orphaned,overprivileged", "reviewer-"+long+"@acme.test",
			"decommission", "someone-"+long+"@acme.test", "not-assignee,conflict,OVERDUE,escalated:"+long, "still-present")
	}
	var b strings.Builder
	if err := tb.Flush(&b); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if !strings.Contains(lines[0], "VERIFIED") || !strings.Contains(lines[0], "FLAGS") || !strings.Contains(lines[0], " BY ") {
		t.Fatalf("an optional column is missing: %q", lines[0])
	}
	for _, l := range lines {
		if w := len([]rune(l)); w > tableWidth {
			t.Errorf("%d columns, more than %d: %q", w, tableWidth, l)
		}
		if !strings.Contains(l, "decommission") && !strings.HasPrefix(l, "KIND") {
			t.Errorf("DECISION was cut: %q", l)
		}
	}
}
