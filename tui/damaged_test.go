package tui

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/audit"
)

// TestDamagedReadSaysWhatToDo: a read that finds the evidence file
// damaged says so and what to do, in the flash of the table and in the
// campaigns view, rather than SQLite's bare words; another error keeps
// its own words.
func TestDamagedReadSaysWhatToDo(t *testing.T) {
	e := newEvidence(t)
	damaged := fmt.Errorf("%w: evidence.db cannot be read (SQLite: database disk image is malformed (11)); nothing was changed", audit.ErrDamaged)
	const advice = "The evidence file is damaged (Campaigns not read): nhi does not repair it; quit, and work from a copy checked with nhi verify"

	m := e.model(t, 160, 30, Options{Actor: testActor})
	m.Update(campaignsLoadedMsg{err: damaged})
	if v := m.View(); !strings.Contains(v, advice) {
		t.Errorf("the table's flash on a damaged file:\n%s", v)
	}

	m = e.model(t, 160, 30, Options{Actor: testActor})
	press(t, m, ":campaigns", "enter")
	m.Update(campaignsLoadedMsg{err: damaged})
	if v := m.View(); !strings.Contains(v, advice) {
		t.Errorf("the campaigns view on a damaged file:\n%s", v)
	}

	m = e.model(t, 160, 30, Options{Actor: testActor})
	m.Update(campaignsLoadedMsg{err: errors.New("connection reset")})
	if v := m.View(); !strings.Contains(v, "Campaigns not read: connection reset") || strings.Contains(v, "damaged") {
		t.Errorf("another error:\n%s", v)
	}
}
