package campaigns_test

import (
	"fmt"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/filter"
)

// TestNamesReadNoProgress: what resolves a campaign's name or completes
// one (Names) and a filter's campaign terms (FilterReview,
// FilterReviewInOrder) read the campaigns' rows, not their progress,
// where each listed the campaigns with List and so counted every item of
// every campaign (issue 21: ten percent of the CPU of opening the TUI
// on a campaign of a million). List still counts each campaign's.
func TestNamesReadNoProgress(t *testing.T) {
	f := newFixture(t)
	f.Snapshot(t, nil, population()...)
	create(t, f, campaigns.Spec{Name: "q", Scope: "id:*"})
	create(t, f, campaigns.Spec{Name: "Other", Scope: "kind:deploy_key"})
	counted := 0
	restore := campaigns.ProgressRead(func(int64) { counted++ })
	defer restore()
	names, err := campaigns.Names(ctx, f.Store)
	if err != nil || fmt.Sprint(names) != "[q Other]" {
		t.Fatalf("names %v, %v; want [q Other], oldest first", names, err)
	}
	for _, expr := range []string{"campaign:Q", "campaign:other decision:pending", "campaign:nope"} {
		fl, err := filter.Parse(expr, audit.Vocabulary)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := campaigns.FilterReview(ctx, f.Store, "rita", "", fl); (err != nil) != (expr == "campaign:nope") {
			t.Errorf("%s: %v", expr, err)
		}
		r, err := campaigns.FilterReviewInOrder(ctx, f.Store, "rita", "", fl)
		if (err != nil) != (expr == "campaign:nope") {
			t.Errorf("%s in order: %v", expr, err)
		}
		if r != nil {
			r.Close()
		}
	}
	if counted != 0 {
		t.Errorf("the progress of %d campaigns counted to resolve names; want none", counted)
	}
	if _, err := campaigns.List(ctx, f.Store); err != nil || counted != 2 {
		t.Errorf("List counted the progress of %d campaigns (%v); want 2", counted, err)
	}
}
