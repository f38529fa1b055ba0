package tui

import (
	"strings"
	"testing"
)

// At 200 columns FINDINGS shows a list of four findings whole, where it
// was cut at 28 cells while NAME and SCOPE had room to spare, and it grows
// no wider than the widest list of the rows the table holds: the rest
// goes to NAME.
func TestFindingsWholeOnWideTerminals(t *testing.T) {
	e := newEvidence(t)
	m := e.model(t, 200, 50, Options{})
	const four = "orphaned,overprivileged,broad-scope,third-party"
	v := m.View()
	checkFrame(t, v, 200, 50)
	lines := strings.Split(v, "\n")
	found := false
	for _, l := range lines {
		if strings.Contains(l, "orphaned,overprivileged,broad-") {
			found = true
			if !strings.Contains(l, four+" ") {
				t.Errorf("four findings cut at 200 columns: %q", l)
			}
		}
	}
	if !found {
		t.Fatalf("no row with four findings:\n%s", v)
	}
	if w := findingsColumn(t, v, nil); w > len(four) {
		t.Errorf("FINDINGS is %d cells wide, wider than the widest list (%d):\n%s", w, len(four), v)
	}
	// A filter whose rows have shorter lists: FINDINGS as wide as theirs.
	press(t, m, "/", "kind:deploy_key", "enter")
	v = m.View()
	widest := 0
	findingsColumn(t, v, func(cell string) { widest = max(widest, len(cell)) })
	if w := findingsColumn(t, v, nil); widest == 0 || w != max(widest, len("FINDINGS")) {
		t.Errorf("FINDINGS is %d cells wide for lists of %d at most:\n%s", w, widest, v)
	}
}

// findingsColumn is the width of FINDINGS in a 200-column view of the
// table, and gives each row's FINDINGS cell, trimmed, to each.
func findingsColumn(t *testing.T, v string, each func(cell string)) int {
	t.Helper()
	lines := strings.Split(v, "\n")
	head := lines[2] // ASCII: its byte offsets are cells
	from, to := strings.Index(head, "FINDINGS"), strings.Index(head, "STATUS")
	if from < 0 || to < from {
		t.Fatalf("no FINDINGS then STATUS in %q", head)
	}
	for _, l := range lines[3:] {
		if r := []rune(l); each != nil && len(r) >= to && strings.HasSuffix(strings.TrimSpace(l), "active") {
			each(strings.TrimSpace(string(r[from:to])))
		}
	}
	return to - from - 1
}
