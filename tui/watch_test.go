package tui

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
)

// TestWatchRederivesWhatDecisionsChange: an open TUI follows what
// another process records (another reviewer, `nhi decide` in a shell)
// in the findings that depend on it, not only in the decisions: after
// each keep, decommission, undo, approval and close the next look at the
// log's head leaves every row as a fresh open shows it (a keep's lapsed
// exception, the exceptions a close ends), above patchMax too; a new
// policy, which names no rows, derives every row again.
// On both engines.
func TestWatchRederivesWhatDecisionsChange(t *testing.T) {
	for _, eng := range []string{"sqlite", "postgres"} {
		t.Run(eng, func(t *testing.T) {
			watchRederives(t, evidenceOn(t, eng))
		})
	}
}

func watchRederives(t *testing.T, path string) {
	ctx := context.Background()
	past, recent := reviewOn(t, path)
	const camp = reviewCampaign
	m := openReviewTable(t, path, "")
	look := func() { drain(t, m, func() tea.Msg { return watchTickMsg{} }) }
	look() // the first look at the log's head
	a, b, c, d, e := keptWithFindings(t, m)
	// follow looks at the head again, after what another process did: the
	// table is the one a fresh open shows, row for row.
	follow := func(what string) {
		t.Helper()
		look()
		if m.st.reloading || len(m.st.dirty) > 0 {
			t.Fatalf("after %s the rows are still being derived: %d dirty", what, len(m.st.dirty))
		}
		fresh := openReviewTable(t, path, "")
		if got := changedRows(rowsByID(fresh), rowsByID(m)); len(got) > 0 {
			i, _ := m.st.pop.find(got[0])
			k, _ := fresh.st.pop.find(got[0])
			t.Fatalf("after %s the rows of %v are not what an open shows; the first:\n got %+v\nwant %+v", what, got, *m.st.pop.identity(i), *fresh.st.pop.identity(k))
		}
	}

	if _, err := campaigns.Decide(ctx, past, testActor, camp, a, campaigns.Keep, "needed by the release job"); err != nil {
		t.Fatal(err)
	}
	follow("another process's keep")
	if f, ok := expiredOn(t, m, a); !ok || !strings.Contains(f.Message, "expired on") {
		t.Errorf("after the keep %s shows %+v (%v); want its lapsed exception", a, f, ok)
	}

	out, err := campaigns.DecideEach(ctx, past, testActor, camp, []string{a, b}, campaigns.Decommission, "")
	if err != nil {
		t.Fatal(err)
	}
	follow("two decommissions")
	if _, ok := expiredOn(t, m, a); ok {
		t.Errorf("%s decommissioned still shows its exception lapsed", a)
	}

	if _, err := campaigns.Undo(ctx, past, testActor, camp, out[0].Event.Seq); err != nil {
		t.Fatal(err)
	}
	follow("an undo")

	if _, err := campaigns.Decide(ctx, recent, testActor, camp, c, campaigns.Keep, "rotated by hand"); err != nil {
		t.Fatal(err)
	}
	if _, err := campaigns.ApproveException(ctx, recent, "approver@example.com", camp, a); err != nil {
		t.Fatal(err)
	}
	follow("a keep that runs on and an approval")

	// Above patchMax identities named: an open reads the table whole,
	// the watch still derives only the rows named.
	defer func(n int) { patchMax = n }(patchMax)
	patchMax = 1
	if _, err := campaigns.DecideEach(ctx, past, testActor, camp, []string{d, e}, campaigns.Keep, "both still used"); err != nil {
		t.Fatal(err)
	}
	follow("two keeps, patchMax 1")
	if _, ok := expiredOn(t, m, d); !ok {
		t.Errorf("after the keeps above patchMax %s does not show its lapsed exception", d)
	}
	patchMax = 10_000

	if _, err := campaigns.Close(ctx, recent, "closer@example.com", camp); err != nil {
		t.Fatal(err)
	}
	follow("the close")
	if f, ok := expiredOn(t, m, c); !ok || !strings.Contains(f.Message, "never approved") {
		t.Errorf("after the close %s shows %+v (%v); want its exception lapsed, never approved", c, f, ok)
	}

	// A policy names no rows: every row is derived again under it; in a
	// table of more than patchMax rows, at ctrl+r, the watch says so.
	policy := func(yaml string) {
		t.Helper()
		p, err := audit.ParsePolicy([]byte("version: 1\n" + yaml))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := past.SetPolicy(ctx, testActor, p); err != nil {
			t.Fatal(err)
		}
	}
	policy("rules:\n  orphaned:\n    enabled: false\n")
	follow("a policy that turns orphaned off")

	// An owner set beside it still shows.
	patchMax = m.st.pop.len() - 1
	policy("") // orphaned on again
	if _, err := past.SetOwner(ctx, testActor, e, "zoe"); err != nil {
		t.Fatal(err)
	}
	look()
	if !strings.Contains(m.View(), "ctrl+r updates owners and findings") {
		t.Errorf("a policy recorded beside a table of more than patchMax rows, and nothing says so:\n%s", m.View())
	}
	if len(m.st.dirty) > 0 || m.st.reloading {
		t.Error("a policy recorded beside a table of more than patchMax rows derives rows by itself")
	}
	if i, _ := m.st.pop.find(e); m.st.pop.identity(i).Owner != "zoe" {
		t.Errorf("the owner set beside a policy did not follow: %q", m.st.pop.identity(i).Owner)
	}
	if len(changedRows(rowsByID(openReviewTable(t, path, "")), rowsByID(m))) == 0 {
		t.Fatal("orphaned turned on again changes no row: the step shows nothing")
	}
	drain(t, m, func() tea.Msg { return refreshMsg{} })
	if got := changedRows(rowsByID(openReviewTable(t, path, "")), rowsByID(m)); len(got) > 0 {
		t.Errorf("after ctrl+r the rows of %v are not what an open shows", got)
	}
}

// TestWatchReadsAgainAfterAFailedRead: when the read of what the events
// since the last head changed fails (a connection lost), the next head
// seen reads from the head before them, so a keep whose read failed
// still shows its lapsed exception after a later note, which names no
// row of its own.
func TestWatchReadsAgainAfterAFailedRead(t *testing.T) {
	ctx := context.Background()
	path := evidenceOn(t, "sqlite")
	past, _ := reviewOn(t, path)
	m := openReviewTable(t, path, "")
	drain(t, m, func() tea.Msg { return watchTickMsg{} })
	a, _, _, _, _ := keptWithFindings(t, m)
	if _, err := campaigns.Decide(ctx, past, testActor, reviewCampaign, a, campaigns.Keep, "needed by the release job"); err != nil {
		t.Fatal(err)
	}
	// The look that sees the keep, its read of the rows failing.
	before := m.st.head
	h, err := past.LogHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	m.st.head = h.Seq
	send(t, m, rowsChangedMsg{from: before, err: errors.New("connection lost")})
	if _, ok := expiredOn(t, m, a); ok {
		t.Fatal("the keep showed though its read failed")
	}
	if _, err := past.AddNotes(ctx, testActor, []string{a}, "asked the team"); err != nil {
		t.Fatal(err)
	}
	drain(t, m, func() tea.Msg { return watchTickMsg{} })
	if f, ok := expiredOn(t, m, a); !ok || !strings.Contains(f.Message, "expired on") {
		t.Errorf("after the note %s shows %+v (%v); want the lapsed exception of the keep whose read failed", a, f, ok)
	}
	if m.watch.behind != 0 {
		t.Errorf("the watch is still behind from event %d", m.watch.behind)
	}
}

// Another process records a snapshot while a small table is on screen:
// its rows are derived again by themselves, and a line says that the
// snapshot's new identities and its coverage (the header's "not
// checked", "not read") show at the next open, where nothing said so and
// the header went on saying what the file no longer does, as if no
// snapshot had come.
func TestWatchSaysASnapshotCame(t *testing.T) {
	e := newEvidence(t)
	ctx := context.Background()
	m := e.model(t, 120, 30, Options{Actor: testActor})
	send(t, m, watchTickMsg{}) // the first look
	w, err := e.otherProcess(t).BeginSnapshot(ctx, audit.SnapshotInfo{Source: "github", Account: "acme", APIURL: "https://api.github.com",
		ToolVersion: "test", StartedAt: testNow.Add(-time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range fixtureObservations() {
		if err := w.Record(o); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Finish(ctx, nil); err != nil {
		t.Fatal(err)
	}
	send(t, m, watchTickMsg{})
	if says := strings.Join(strings.Fields(m.View()), " "); !strings.Contains(says, "Another process recorded a snapshot") ||
		!strings.Contains(says, "show when nhi opens again") {
		t.Errorf("the screen after another process's snapshot:\n%s", m.View())
	}
}
