package tui

import (
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/internal/benchmem"
)

// talliedIdentities is manyIdentities with what the overview counts
// besides kinds and owners: removed and not-checked identities, change
// marks, and leavers holding identities as owner and as the source says,
// some of them not checked.
func talliedIdentities(n int) []audit.Identity {
	ids := manyIdentities(n)
	for i := range ids {
		id := &ids[i]
		switch i % 13 {
		case 1:
			id.Status = audit.StatusRemoved
		case 2:
			id.Status, id.StatusReason = audit.StatusNotChecked, "GET /x: forbidden"
		case 3:
			id.Change = audit.ChangeNew
		case 4:
			id.Change = audit.ChangeChanged
		case 5:
			id.Owner = ""
			id.Attributes = map[string]string{"added_by": fmt.Sprintf("leaver-%d", i%3)}
			id.Findings = append(id.Findings, audit.Finding{Rule: audit.RuleOrphaned, Severity: "high", OWASP: "NHI5",
				Message: fmt.Sprintf("leaver-%d, who holds it according to the source, left on 2026-10-31", i%3)})
		case 6:
			id.Owner = "leaver-0"
			id.Findings = append(id.Findings, audit.Finding{Rule: audit.RuleOrphaned, Severity: "high", OWASP: "NHI5", Message: "owner leaver-0 left on 2026-10-31"})
		case 7:
			id.Status, id.StatusReason = audit.StatusNotChecked, "GET /x: forbidden"
			id.Owner = "leaver-1"
			id.Findings = append(id.Findings, audit.Finding{Rule: audit.RuleOrphaned, Severity: "high", OWASP: "NHI5", Message: "owner leaver-1 left on 2026-10-31"})
		}
	}
	return ids
}

// recount is p's tally counted afresh, row by row.
func recount(p *population) *tally {
	t := newTally()
	for i := range int32(p.len()) {
		t.add(&p.t, p.row(i), 1)
	}
	return t
}

// TestTallyFollowsThePopulation: the overview's counts, kept as batches
// arrive and as owners change, are what counting every row gives; and the
// overview shows them.
func TestTallyFollowsThePopulation(t *testing.T) {
	ids := talliedIdentities(3000)
	// A file behind it, for what the overview reads besides the rows.
	m := New(testSnapshot(), nil, Options{Now: clock, Store: streamStore{Store: newEvidence(t).store, ids: ids}})
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 200})
	next, count := startLoading(t, m)
	send(t, m, count())
	press(t, m, ":", "overview", "enter")
	run(t, m, next, 0)
	if m.st.pop.len() != len(ids) {
		t.Fatalf("loaded %d of %d", m.st.pop.len(), len(ids))
	}
	check := func(when string) {
		t.Helper()
		if got, want := m.st.pop.tally, recount(m.st.pop); !reflect.DeepEqual(got, want) {
			t.Errorf("%s, the tally is %+v; counting every row gives %+v", when, got, want)
		}
	}
	check("after loading in batches")
	if m.st.pop.tally.removed == 0 || m.st.pop.tally.fresh == 0 {
		t.Errorf("the fixture should count removed and new identities: %+v", m.st.pop.tally)
	}
	v := m.View()
	for _, want := range []string{fmt.Sprintf("%d removed", m.st.pop.tally.removed), "without owner"} {
		if !strings.Contains(v, want) {
			t.Errorf("the overview lacks %q:\n%s", want, v)
		}
	}
	// An owner recorded on a leaver's identity, on a not-checked one of a
	// leaver's, and on an unowned one.
	updates := map[int32]*audit.Identity{}
	for _, i := range []int32{5, 6, 7, 8} {
		id := m.st.pop.identity(i)
		id.Owner, id.Findings = "carol", nil
		updates[i] = id
	}
	m.st.pop = m.st.pop.with(updates)
	check("after owners changed")
}

// TestOverviewIsCheapOnAMillion: with the overview open over a million
// identities, what redraws it (a key, a message in the message line)
// passes over no rows.
func TestOverviewIsCheapOnAMillion(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 1,000,000 identities")
	}
	m := onPopulation(millionPopulation())
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	press(t, m, ":", "overview", "enter")
	if !strings.Contains(m.View(), "Overview") {
		t.Fatalf("no overview:\n%s", m.View())
	}
	// CPU time, not wall time: what another process on a loaded
	// machine takes is not the keypress's (benchmem.CPUTime).
	runtime.GC()
	start := benchmem.CPUTime()
	for range 50 {
		press(t, m, "j")
		m.layout() // as a flash or a prompt does
		_ = m.View()
	}
	if per := (benchmem.CPUTime() - start) / 50; per > 16*time.Millisecond {
		t.Errorf("a keypress on the overview of 1,000,000 identities takes %v of CPU time", per)
	}
}
