package tui

import (
	"strings"
	"testing"
)

// At 200 columns FINDINGS shows a list of four findings whole, where it
// was cut at 28 cells while NAME and SCOPE had room to spare, and it grows
// no wider than the widest list the rows have: the rest goes to NAME.
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
	head := lines[2]
	w := strings.Index(head, "STATUS") - strings.Index(head, "FINDINGS") - 1
	if w > len(four) {
		t.Errorf("FINDINGS is %d cells wide, wider than the widest list (%d): %q", w, len(four), head)
	}
}
