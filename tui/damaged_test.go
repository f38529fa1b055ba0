package tui

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/audit"
)

// TestDamagedReadSaysWhatToDo: a read that finds the evidence file
// damaged says so and what to do, in the words nhi's commands use
// (audit.DamagedAdvice), whole at 80 columns, in the flash of the table
// and in the campaigns view, rather than SQLite's bare words; another
// error keeps its own words.
func TestDamagedReadSaysWhatToDo(t *testing.T) {
	e := newEvidence(t)
	damaged := fmt.Errorf("%w: evidence.db cannot be read (SQLite: database disk image is malformed (11)); nothing was changed", audit.ErrDamaged)
	said := func(v string) string { return strings.Join(strings.Fields(v), " ") }
	for _, what := range []string{"Campaigns", "Decisions of 2025-Q2"} {
		advice := "The evidence file is damaged (" + what + " not read): " + audit.DamagedAdvice + "."
		m := e.model(t, 80, 24, Options{Actor: testActor})
		if what == "Campaigns" {
			m.Update(campaignsLoadedMsg{err: damaged})
		} else {
			m.Update(decisionsMsg{campaign: "2025-Q2", err: damaged})
		}
		if v := m.View(); !strings.Contains(said(v), advice) {
			t.Errorf("the table's flash on a damaged file (%s):\n%s", what, v)
		}
	}

	m := e.model(t, 80, 24, Options{Actor: testActor})
	press(t, m, ":campaigns", "enter")
	m.Update(campaignsLoadedMsg{err: damaged})
	advice := "The evidence file is damaged (Campaigns not read): " + audit.DamagedAdvice + "."
	if v := m.View(); !strings.Contains(said(v), advice) {
		t.Errorf("the campaigns view on a damaged file:\n%s", v)
	}

	m = e.model(t, 160, 30, Options{Actor: testActor})
	m.Update(campaignsLoadedMsg{err: errors.New("connection reset")})
	if v := m.View(); !strings.Contains(v, "Campaigns not read: connection reset") || strings.Contains(v, "damaged") {
		t.Errorf("another error:\n%s", v)
	}
}
