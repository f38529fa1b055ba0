package main

import (
	"fmt"
	"strings"
	"testing"
)

// TestBulkDecideMineOnly, through the binary: a reviewer's --filter
// decides only the items assigned to them, and the preview and the
// result say how many of other reviewers it left out; --all-reviewers
// decides those too (flagged), and still never an item the caller owns.
func TestBulkDecideMineOnly(t *testing.T) {
	t.Parallel()
	db := campaignDB(t, 10)
	ok(t, "campaign", "create", "q", "--scope", "id:*", "--due", due(30), "--reviewer", "rita@acme.test", "--reviewer", "sam@acme.test", "--db", db, "--as", "lead")
	reviewerOf := map[string]string{}
	var sams []string
	for _, it := range show(t, db, "q").Items {
		reviewerOf[it.ID] = *it.Reviewer
		if *it.Reviewer == "sam@acme.test" {
			sams = append(sams, it.ID)
		}
	}
	rita := len(reviewerOf) - len(sams)
	if rita == 0 || len(sams) < 2 {
		t.Fatalf("rita has %d items, sam %d: the test needs both", rita, len(sams))
	}
	note := fmt.Sprintf("%d items of other reviewers not decided; use --all-reviewers", len(sams))

	r := ok(t, "decide", "q", "--filter", "id:*", "keep", "--reason", "in use", "--dry-run", "--db", db, "--as", "rita@acme.test")
	if !strings.Contains(r.stdout, note) || !strings.Contains(r.stdout, fmt.Sprintf("Decide keep on %d items of q", rita)) {
		t.Errorf("preview does not say what it leaves out (%q):\n%s", note, r.stdout)
	}
	r = ok(t, "decide", "q", "--filter", "id:*", "keep", "--reason", "in use", "--yes", "--db", db, "--as", "rita@acme.test")
	if !strings.Contains(r.stdout, fmt.Sprintf("Decided keep on %d items", rita)) ||
		!strings.Contains(r.stdout, fmt.Sprintf("Left alone: %d items of other reviewers not decided (--all-reviewers decides them).", len(sams))) {
		t.Errorf("decide --filter:\n%s", r.stdout)
	}
	for _, it := range show(t, db, "q").Items {
		decided := it.Decision != "pending"
		if mine := reviewerOf[it.ID] == "rita@acme.test"; decided != mine {
			t.Errorf("%s of %s is %s after rita's bulk decision", it.ID, reviewerOf[it.ID], it.Decision)
		}
	}
	// Nothing of hers left: the refusal says why, and what decides the rest.
	refused(t, 1, fmt.Sprintf("%d assigned to other reviewers or to nobody (--all-reviewers decides them)", len(sams)),
		"decide", "q", "--filter", "id:*", "keep", "--reason", "in use", "--yes", "--db", db, "--as", "rita@acme.test")

	// --all-reviewers: sam's items too, but not one rita owns.
	ok(t, "owner", "set", sams[0], "rita@acme.test", "--db", db, "--as", "lead")
	r = ok(t, "decide", "q", "--filter", "id:*", "decommission", "--reason", "unused", "--all-reviewers", "--yes", "--db", db, "--as", "rita@acme.test")
	if !strings.Contains(r.stdout, fmt.Sprintf("Decided decommission on %d items", len(sams)-1)) ||
		!strings.Contains(r.stdout, fmt.Sprintf("Note: %d of them are assigned to another reviewer", len(sams)-1)) ||
		!strings.Contains(r.stdout, "Skipped 1 item you own") || !strings.Contains(r.stdout, sams[0]) {
		t.Errorf("decide --all-reviewers:\n%s", r.stdout)
	}
	for _, it := range show(t, db, "q").Items {
		if it.ID == sams[0] && it.Decision != "pending" {
			t.Errorf("rita decided %s, which she owns: %s", it.ID, it.Decision)
		}
	}
}
