package tui

import (
	"context"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"

	"github.com/nhi-audit/nhi/campaigns"
)

// TestGoldenReviewerPath walks a reviewer's session in a real Bubble Tea
// program (teatest) at 100x30 on a real evidence file, through the real
// campaigns package, as issue 15 describes it: start on a campaign
// (nhi --campaign), my queue, filter, open the detail, keep with a
// reason, undo, next undecided; then other processes write to the same
// file — another reviewer decides, the lead closes the campaign — and the
// screen follows by itself (the watch polls the log's head), down to the
// honest progress of the closed campaign and decision keys refused. Every
// screen on the way is a golden file in testdata/tui (review_*).
func TestGoldenReviewerPath(t *testing.T) {
	ctx := context.Background()
	e := newEvidence(t)
	const other = "bob@example.com"
	if _, err := campaigns.Create(ctx, e.store, "lead@example.com", campaigns.Spec{
		Name: "2025-Q2", Scope: "kind:deploy_key or kind:webhook or kind:actions_secret", Due: testNow.AddDate(0, 0, 14).Format("2006-01-02"),
		Reviewers: []string{testActor, other}, AllowPartial: true,
	}); err != nil {
		t.Fatal(err)
	}
	r := &recorder{m: New(e.snap, e.ids, Options{Now: clock, Store: e.store, Actor: testActor, Reviewer: campaignsReviewer{e.store},
		Campaign: "2025-Q2", Poll: 20 * time.Millisecond})}
	tm := teatest.NewTestModel(t, r, teatest.WithInitialTermSize(100, 30))
	key := func(k tea.KeyType) { tm.Send(tea.KeyMsg{Type: k}) }
	typed := func(s string) { tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)}) }

	// My queue: the campaign's items assigned to me, worst first.
	checkGolden(t, "review_1_queue_100x30.txt", r.waitFor(t, "My items ", "campaign 2025-Q2", "pending"))

	tm.Type("/")
	typed("scope:acme/api")
	key(tea.KeyEnter)
	checkGolden(t, "review_2_filter_100x30.txt", r.waitFor(t, "filter scope:acme/api", "> "))

	key(tea.KeyEnter)
	// The detail settles once its trail and changes are read: the golden
	// is that settled screen, 45 lines.
	detail := r.waitFor(t, "esc/q back", "Kind ", "of 45")
	checkGolden(t, "review_3_detail_100x30.txt", detail)
	name := detailName(t, detail)

	tm.Type("K")
	r.waitFor(t, "Why keep "+name+"? █")
	typed("CI deploys; rotated in SEC-42")
	checkGolden(t, "review_4_reason_100x30.txt", r.waitFor(t, "Why keep "+name+"? CI deploys; rotated in SEC-42█"))
	key(tea.KeyEnter)
	// Settled once the detail is read again after the decision: 45 lines.
	checkGolden(t, "review_5_kept_100x30.txt", r.waitFor(t, "Decided keep for "+name+" in 2025-Q2", "u undoes", "of 45"))

	tm.Type("u")
	r.waitFor(t, "[y/N]")
	tm.Type("y")
	// Settled once the detail is read again after the undo (46 lines) and
	// the decisions too (pending again).
	checkGolden(t, "review_6_undone_100x30.txt", r.waitFor(t, "Undone: decision keep for "+name+" in 2025-Q2", "of 46", "pending in 2025-Q2"))

	key(tea.KeyEsc) // back to my queue
	r.waitFor(t, "filter scope:acme/api", "My items ")
	key(tea.KeyEsc) // the filter goes
	r.waitFor(t, "My items ")
	r.waitFor(t, "My items 19 ", "1/19")
	tm.Type("n") // the webhook is pending again: n goes to the next one
	// Settled once the watch has derived the webhook's row again after
	// the keep and the undo (its findings "…" meanwhile).
	checkGolden(t, "review_7_next_100x30.txt", r.waitFor(t, "My items 19 ", "2/19", "> actions secret SECRET_06", "400d   orphaned,inse… pending"))

	// Another reviewer decides one of theirs, in another process's
	// connection to the file; the campaigns list follows by itself.
	typed(":campaigns")
	key(tea.KeyEnter)
	r.waitFor(t, "Campaigns 1", "0/37 0%")
	st2 := e.otherProcess(t)
	c, err := campaigns.Get(ctx, st2, "2025-Q2")
	if err != nil {
		t.Fatal(err)
	}
	var bobs string
	for _, it := range c.Items {
		if it.Reviewer == other {
			bobs = it.ID
			break
		}
	}
	if _, err := campaigns.DecideEach(ctx, st2, other, "2025-Q2", []string{bobs}, campaigns.Decommission, "unused"); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "review_8_live_100x30.txt", r.waitFor(t, "1/37 2%", "bob@example.com 1/18"))

	// The lead closes the campaign: the rest is no-response, and the
	// progress says so instead of 100%.
	if _, err := campaigns.Close(ctx, st2, "lead@example.com", "2025-Q2"); err != nil {
		t.Fatal(err)
	}
	closed := r.waitFor(t, "closed", "no-response")
	checkGolden(t, "review_9_closed_100x30.txt", closed)
	if strings.Contains(closed, "100%") {
		t.Errorf("a closed campaign with items nobody decided shows 100%%:\n%s", closed)
	}
	key(tea.KeyEsc)
	r.waitFor(t, "My items ")
	tm.Type("K")
	r.waitFor(t, "Campaign 2025-Q2 is closed: its decisions can no longer change")

	tm.Type("q")
	tm.WaitFinished(t) // however long a loaded machine takes: no time limit decides
	d, err := campaigns.Decisions(ctx, st2, "2025-Q2")
	if err != nil {
		t.Fatal(err)
	}
	if d[bobs] != campaigns.Decommission {
		t.Errorf("bob's decision: %s", d[bobs])
	}
	if problems, err := campaigns.Verify(ctx, st2); err != nil || len(problems) != 0 {
		t.Errorf("campaign verification: %v %v", problems, err)
	}
}

// detailName is the Name line of a detail screen.
func detailName(t *testing.T, screen string) string {
	t.Helper()
	for _, l := range strings.Split(screen, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(l), "Name "); ok {
			return strings.TrimSpace(rest)
		}
	}
	t.Fatalf("no Name line in the detail:\n%s", screen)
	return ""
}
