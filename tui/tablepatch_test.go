package tui

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
)

// rowsByID is every identity of m's table, by ID.
func rowsByID(m *Model) map[string]audit.Identity {
	out := make(map[string]audit.Identity, m.st.pop.len())
	for i := range int32(m.st.pop.len()) {
		id := m.st.pop.identity(i)
		out[id.ID] = *id
	}
	return out
}

// changedRows is the IDs whose identity differs between a and b, sorted.
func changedRows(a, b map[string]audit.Identity) []string {
	var out []string
	for id, x := range b {
		if y, ok := a[id]; !ok || !reflect.DeepEqual(x, y) {
			out = append(out, id)
		}
	}
	for id := range a {
		if _, ok := b[id]; !ok {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

func findingOf(id audit.Identity, rule string) (audit.Finding, bool) {
	i := slices.IndexFunc(id.Findings, func(f audit.Finding) bool { return f.Rule == rule })
	if i < 0 {
		return audit.Finding{}, false
	}
	return id.Findings[i], true
}

// TestTableCachePatchesDecisions: after a cached open, each decision,
// undo, approval and close of a review re-derives the rows of the
// identities it can change, and no more: the patched table is the one a
// full read shows, row for row and screen for screen; the row a decision
// changes is that identity's (its exception lapsed, or no longer), the
// others are as they were; the patched table is written as the cache of
// the head it matches, which the next open reads with no patch. Above
// patchMax identities named, the table is read whole. On both engines.
func TestTableCachePatchesDecisions(t *testing.T) {
	for _, eng := range []string{"sqlite", "postgres"} {
		t.Run(eng, func(t *testing.T) {
			path := evidenceOn(t, eng)
			patchesDecisions(t, path)
		})
	}
}

// reviewOn is the evidence at path (variedEvidence) under a policy whose
// exceptions need an approval, with campaign Q1 over its Actions secrets,
// and two stores on it that decide as of two times: past, 200 days
// before the snapshots (an exception of 90 days from then has lapsed at
// them), and recent, ten days before (one has not). Each is a process of
// its own to a TUI opened on path.
func reviewOn(t *testing.T, path string) (past, recent *audit.Store) {
	t.Helper()
	ctx := context.Background()
	variedEvidence(t, path)
	at := func(t0 time.Time) *audit.Store {
		st, err := audit.Open(ctx, path, audit.OpenOptions{Now: func() time.Time { return t0 }})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	past, recent = at(testNow.AddDate(0, 0, -200)), at(testNow.AddDate(0, 0, -10))
	p, err := audit.ParsePolicy([]byte("version: 1\nexception_approval: required\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := past.SetPolicy(ctx, testActor, p); err != nil {
		t.Fatal(err)
	}
	if _, err := campaigns.Create(ctx, past, "lead@example.com", campaigns.Spec{
		Name: reviewCampaign, Scope: "kind:github_actions_secret", Due: testNow.AddDate(0, 0, -100).Format("2006-01-02"),
		Reviewers: []string{testActor}, AllowPartial: true,
	}); err != nil {
		t.Fatal(err)
	}
	return past, recent
}

// reviewCampaign is reviewOn's campaign.
const reviewCampaign = "Q1"

// keptWithFindings is five secrets of m's table with findings at the
// campaign's creation and no owner: a keep of one is an exception.
func keptWithFindings(t *testing.T, m *Model) (a, b, c, d, e string) {
	t.Helper()
	var ids []string
	for i := range int32(m.st.pop.len()) {
		id := m.st.pop.identity(i)
		if id.Kind == audit.KindGitHubActionsSecret && id.Status == audit.StatusActive && len(id.Findings) > 0 && id.Owner == "" {
			ids = append(ids, id.ID)
		}
	}
	if len(ids) < 5 {
		t.Fatalf("want 5 secrets with findings, have %d", len(ids))
	}
	return ids[0], ids[1], ids[2], ids[3], ids[4]
}

// expiredOn is id's exception-expired finding in m's table.
func expiredOn(t *testing.T, m *Model, id string) (audit.Finding, bool) {
	t.Helper()
	i, ok := m.st.pop.find(id)
	if !ok {
		t.Fatalf("%s is gone", id)
	}
	return findingOf(*m.st.pop.identity(i), audit.RuleExceptionExpired)
}

func patchesDecisions(t *testing.T, path string) {
	ctx := context.Background()
	// Decisions taken long before the snapshots (the snapshots' start is
	// when findings are evaluated): an exception of 90 days from then has
	// lapsed at the snapshots; one taken ten days before them has not.
	past, recent := reviewOn(t, path)
	const camp = reviewCampaign
	dir := t.TempDir()
	before := openReviewTable(t, path, dir) // writes the cache
	if before.cache.read != nil {
		t.Fatal("the first open read a cache there was none of")
	}
	a, b, c, d, e := keptWithFindings(t, before)

	rows := rowsByID(before)
	// step opens after what was done: the cached table is patched, shows
	// what a full read shows, differs from the table before in the rows
	// of want only, and is cached for the next open.
	step := func(what string, want ...string) *Model {
		t.Helper()
		m := openReviewTable(t, path, dir)
		if m.cache.read == nil || !m.cache.patched {
			t.Fatalf("after %s the cached table should be patched: read %v, patched %v", what, m.cache.read, m.cache.patched)
		}
		now := rowsByID(m)
		if got := changedRows(rows, now); !slices.Equal(got, want) {
			t.Errorf("after %s the rows of %v changed, want those of %v", what, got, want)
		}
		rows = now
		sameTable(t, openReviewTable(t, path, ""), m)
		head, ok := logPointOf(ctx, m.st.store.(tableCacheStore))
		if !ok {
			t.Fatal("no log")
		}
		next := openReviewTable(t, path, dir)
		if next.cache.read == nil || *next.cache.read != head || next.cache.patched {
			t.Fatalf("after %s the patched table should have been cached at event %d: the next open read %v, patched %v", what, head.seq, next.cache.read, next.cache.patched)
		}
		if n := len(cacheFiles(t, dir)); n > tableCacheKeep {
			t.Errorf("after %s: %d cache files, want at most %d", what, n, tableCacheKeep)
		}
		return m
	}
	expired := func(m *Model, id string) (audit.Finding, bool) { return expiredOn(t, m, id) }

	// A keep of a with findings, 90 days from 200 days ago: lapsed.
	if _, err := campaigns.Decide(ctx, past, testActor, camp, a, campaigns.Keep, "needed by the release job"); err != nil {
		t.Fatal(err)
	}
	m := step("a keep", a)
	if f, ok := expired(m, a); !ok || !strings.Contains(f.Message, "expired on") {
		t.Errorf("after the keep %s shows %+v (%v); want its lapsed exception", a, f, ok)
	}

	// Decommissioned: the exception ends; b's decommission changes no row.
	out, err := campaigns.DecideEach(ctx, past, testActor, camp, []string{a, b}, campaigns.Decommission, "")
	if err != nil {
		t.Fatal(err)
	}
	if m = step("two decommissions", a); func() bool { _, ok := expired(m, a); return ok }() {
		t.Errorf("%s decommissioned still shows its exception lapsed", a)
	}

	// Undone: a is kept again, lapsed again.
	if _, err := campaigns.Undo(ctx, past, testActor, camp, out[0].Event.Seq); err != nil {
		t.Fatal(err)
	}
	if m = step("an undo", a); func() bool { _, ok := expired(m, a); return ok }() == false {
		t.Errorf("%s, kept again by the undo, does not show its exception lapsed", a)
	}

	// A keep of c ten days ago (its exception runs 80 more days, awaiting
	// approval) and the approval of a's: no row changes.
	if _, err := campaigns.Decide(ctx, recent, testActor, camp, c, campaigns.Keep, "rotated by hand"); err != nil {
		t.Fatal(err)
	}
	if _, err := campaigns.ApproveException(ctx, recent, "approver@example.com", camp, a); err != nil {
		t.Fatal(err)
	}
	step("a keep that runs on and an approval")

	// Above patchMax identities named: a full read, cached in turn.
	defer func(n int) { patchMax = n }(patchMax)
	patchMax = 1
	if _, err := campaigns.DecideEach(ctx, recent, testActor, camp, []string{d, e}, campaigns.Decommission, ""); err != nil {
		t.Fatal(err)
	}
	if m := openReviewTable(t, path, dir); m.cache.read != nil {
		t.Errorf("two identities decided, patchMax 1: the table should be read whole, not patched from event %d", m.cache.read.seq)
	} else {
		sameTable(t, openReviewTable(t, path, ""), m)
		rows = rowsByID(m)
	}
	if m := openReviewTable(t, path, dir); m.cache.read == nil || m.cache.patched {
		t.Errorf("the full read was not cached: read %v patched %v", m.cache.read, m.cache.patched)
	}
	patchMax = 10_000

	// The close: c's exception, never approved, lapses at the close; a's,
	// approved, stays as it was. Without a Reviewer to list the
	// campaign's exceptions, a close is a full read.
	if _, err := campaigns.Close(ctx, recent, "closer@example.com", camp); err != nil {
		t.Fatal(err)
	}
	st := before.st.store.(tableCacheStore)
	head, _ := logPointOf(ctx, st)
	if cachedTable(ctx, dir, st, head) != nil {
		t.Error("a close since the cached head, and nothing to list its exceptions: the cache should not serve")
	}
	m = step("the close", c)
	if f, ok := expired(m, c); !ok || !strings.Contains(f.Message, "never approved") {
		t.Errorf("after the close %s shows %+v (%v); want its exception lapsed, never approved", c, f, ok)
	}
}
