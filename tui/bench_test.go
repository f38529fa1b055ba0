package tui

import (
	"fmt"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/nhi-audit/nhi/audit"
)

// manyIdentities is n identities of every kind, with findings and owners
// on some, as a large organisation would have.
func manyIdentities(n int) []audit.Identity {
	ids := make([]audit.Identity, n)
	for i := range ids {
		kind := audit.Kinds[i%len(audit.Kinds)]
		scope := fmt.Sprintf("acme/repo-%05d", i/10)
		id := identity(kind, fmt.Sprintf("identity-%06d", i), scope)
		id.CreatedAt = daysAgo(i % 1500)
		if i%3 == 0 {
			id.LastUsedAt = daysAgo(i % 400)
		}
		if i%4 == 0 {
			id.Owner = fmt.Sprintf("team-%03d", i%200)
		}
		if i%5 == 0 {
			id.Findings = []audit.Finding{{Rule: "stale", Severity: "high", OWASP: "NHI1", Message: "not used for 400 days"}}
		}
		ids[i] = id
	}
	return ids
}

// BenchmarkKeypress100k is one keypress on a table of 100,000 identities:
// Update(down) and the View that follows it, at 80x24.
func BenchmarkKeypress100k(b *testing.B) {
	m := New(testSnapshot(), manyIdentities(100_000), Options{Now: clock})
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	table := m.stack[0].(*identitiesView).table
	down, top := keyMsg("down"), keyMsg("g")
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if table.Cursor() == table.Len()-1 {
			m.Update(top)
		}
		m.Update(down)
		_ = m.View()
	}
}

// BenchmarkKeypress100kWide is the same on a 240x70 terminal.
func BenchmarkKeypress100kWide(b *testing.B) {
	m := New(testSnapshot(), manyIdentities(100_000), Options{Now: clock})
	m.Update(tea.WindowSizeMsg{Width: 240, Height: 70})
	down := keyMsg("down")
	b.ReportAllocs()
	for b.Loop() {
		m.Update(down)
		_ = m.View()
	}
}

// BenchmarkNew100k is opening the TUI on 100,000 identities.
func BenchmarkNew100k(b *testing.B) {
	ids := manyIdentities(100_000)
	b.ReportAllocs()
	for b.Loop() {
		m := New(testSnapshot(), ids, Options{Now: clock})
		m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
		_ = m.View()
	}
}

// TestKeypressCostIsIndependentOfRows guards the table's design: a
// keypress costs the same with 100,000 rows as with 100.
func TestKeypressCostIsIndependentOfRows(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 100,000 identities")
	}
	allocs := func(n int) float64 {
		m := New(testSnapshot(), manyIdentities(n), Options{Now: clock})
		m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
		press(t, m, "G", "g", "j", "j")
		down := keyMsg("down")
		return testing.AllocsPerRun(50, func() {
			m.Update(down)
			_ = m.View()
		})
	}
	small, large := allocs(100), allocs(100_000)
	if large > small*1.1+5 {
		t.Errorf("a keypress allocates %.0f times with 100,000 rows, %.0f with 100", large, small)
	}
	t.Logf("allocations per keypress: %.0f (100 rows), %.0f (100,000 rows)", small, large)

	// And it is fast: far below a 16 ms frame even under the race detector.
	m := New(testSnapshot(), manyIdentities(100_000), Options{Now: clock})
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	start := time.Now()
	for range 100 {
		press(t, m, "down")
		_ = m.View()
	}
	if per := time.Since(start) / 100; per > 16*time.Millisecond {
		t.Errorf("a keypress takes %v with 100,000 rows", per)
	}
}
