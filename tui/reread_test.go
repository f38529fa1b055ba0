package tui

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/nhi-audit/nhi/audit"
)

// TestCtrlRReadsTheTableAsAnOpen: ctrl+r reads the table again as an
// open reads it and swaps it in (reread.go): after a policy another
// process recorded, which names no rows, the table is a fresh open's row
// for row, read into a table of its own (not derived again row by row),
// the sort, the filter and the cursor where they were; an owner set
// while it reads is derived again into it. After a snapshot that adds an
// identity, the rows on screen are a fresh open's and the new one is
// said to show at the next open. On both engines.
func TestCtrlRReadsTheTableAsAnOpen(t *testing.T) {
	for _, eng := range []string{"sqlite", "postgres"} {
		t.Run(eng, func(t *testing.T) {
			ctrlRReads(t, evidenceOn(t, eng))
		})
	}
}

func ctrlRReads(t *testing.T, path string) {
	ctx := context.Background()
	past, _ := reviewOn(t, path)
	dir := t.TempDir()
	m := openReviewTable(t, path, dir)
	drain(t, m, func() tea.Msg { return watchTickMsg{} })
	same := func(what string) {
		t.Helper()
		if m.st.reloading || len(m.st.dirty) > 0 || m.st.touched != nil {
			t.Fatalf("after %s the rows are still being read: %d dirty", what, len(m.st.dirty))
		}
		fresh := openReviewTable(t, path, "")
		if got := changedRows(rowsByID(fresh), rowsByID(m)); len(got) > 0 {
			i, _ := m.st.pop.find(got[0])
			k, _ := fresh.st.pop.find(got[0])
			t.Fatalf("after %s the rows of %v are not what an open shows; the first:\n got %+v\nwant %+v", what, got, *m.st.pop.identity(i), *fresh.st.pop.identity(k))
		}
	}
	drain(t, m, func() tea.Msg { return applyFilterMsg{"kind:github_actions_secret"} })
	press(t, m, "s", "j", "j")
	drain(t, m, nil)
	key, _ := m.ids.table.SelectedKey()
	rows := append([]int32(nil), m.ids.table.Rows()...)

	p, err := audit.ParsePolicy([]byte("version: 1\nrules:\n  orphaned:\n    enabled: false\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := past.SetPolicy(ctx, testActor, p); err != nil {
		t.Fatal(err)
	}
	if len(changedRows(rowsByID(openReviewTable(t, path, "")), rowsByID(m))) == 0 {
		t.Fatal("the policy changes no row: the step shows nothing")
	}
	b := m.st.pop.b
	// ctrl+r, and an owner set here after the table was read, before it
	// is swapped in.
	msg := m.readTableAgain()()
	owned := m.st.pop.id(rows[0])
	if _, err := past.SetOwner(ctx, testActor, owned, "zoe"); err != nil {
		t.Fatal(err)
	}
	drain(t, m, tea.Batch(m.setOwnersLocally([]audit.OwnerSet{{Identity: owned, Owner: "zoe"}}), m.reload()))
	drain(t, m, func() tea.Msg { return msg })
	same("ctrl+r after a policy")
	if m.st.pop.b == b {
		t.Error("ctrl+r derived every row again rather than read the table as an open")
	}
	if got, _ := m.ids.table.SelectedKey(); got != key {
		t.Errorf("ctrl+r moved the cursor from %s to %s", key, got)
	}
	if !slices.Equal(m.ids.table.Rows(), rows) {
		t.Errorf("ctrl+r changed the rows shown (filter, sort): %d rows, were %d", len(m.ids.table.Rows()), len(rows))
	}
	if i, _ := m.st.pop.find(owned); m.st.pop.identity(i).Owner != "zoe" {
		t.Errorf("the owner set while ctrl+r read is %q", m.st.pop.identity(i).Owner)
	}

	// A snapshot with an identity more: the rows on screen follow.
	obs := fixtureObservations()
	w, err := past.BeginSnapshot(ctx, audit.SnapshotInfo{Source: "github", Account: "acme", APIURL: "https://api.github.com",
		ToolVersion: "test", StartedAt: testNow.Add(-time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	added := obs[36]
	added.ID, added.Name = added.ID+"-added", added.Name+"_ADDED"
	for _, o := range append(obs[:20:20], added) {
		if err := w.Record(o); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Finish(ctx, nil); err != nil {
		t.Fatal(err)
	}
	n := m.st.pop.len()
	drain(t, m, func() tea.Msg { return refreshMsg{} })
	if !strings.Contains(m.View(), "1 new identity shows when nhi opens again") {
		t.Errorf("ctrl+r after a snapshot does not say the new identity shows at the next open:\n%s", m.View())
	}
	if m.st.pop.len() != n {
		t.Fatalf("the table has %d rows after ctrl+r, had %d", m.st.pop.len(), n)
	}
	fresh := rowsByID(openReviewTable(t, path, ""))
	if _, ok := fresh[added.ID]; !ok {
		t.Fatal("the snapshot added no identity")
	}
	delete(fresh, added.ID)
	if got := changedRows(fresh, rowsByID(m)); len(got) > 0 {
		t.Errorf("after ctrl+r following a snapshot the rows of %v are not what an open shows", got)
	}
}
