package tui

import (
	"fmt"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/audit"
)

// TestKindWhole: KIND is as wide as the widest kind of the rows the
// table holds, so every kind shows whole at every width the table is
// drawn at, down to 40 columns, where a Min of 14 cut a Kubernetes
// "service account" to "service accou…" and a "dependabot secret" to
// "dependabot se…". Rows of shorter kinds keep KIND that narrow (AWS's
// kinds; a filter for keys): the column does not grow past them, and the
// width goes to the columns that can use it.
func TestKindWhole(t *testing.T) {
	var ids []audit.Identity
	for _, k := range audit.Kinds {
		ids = append(ids, identity(k, "x", "acme"))
	}
	for _, w := range []int{40, 80, 100, 140} {
		m := newTestModel(t, testSnapshot(), ids, w, len(ids)+4)
		v := m.View()
		checkFrame(t, v, w, len(ids)+4)
		if got := m.ids.table.ColumnWidth(colKind); got != 17 {
			t.Errorf("%d columns: KIND %d cells, want 17 (\"dependabot secret\")", w, got)
		}
		for _, k := range audit.Kinds {
			if !strings.Contains(v, " "+k.Label()+" ") {
				t.Errorf("%d columns: %q is not whole:\n%s", w, k.Label(), v)
			}
		}
		if strings.Contains(v, "service accou…") {
			t.Errorf("%d columns: service account cut:\n%s", w, v)
		}
		if w == 80 {
			press(t, m, "/", "kind:*key", "enter")
			if v := m.View(); m.ids.table.ColumnWidth(colKind) != len("deploy key") || !strings.Contains(v, " access key ") {
				t.Errorf("80 columns, filtered to keys: KIND %d cells, want %d:\n%s", m.ids.table.ColumnWidth(colKind), len("deploy key"), v)
			}
		}
	}

	// AWS's kinds only: KIND is as wide as "OIDC provider", at 80
	// columns and at 140 alike.
	var aws []audit.Identity
	for _, k := range []audit.Kind{audit.KindAWSIAMUser, audit.KindAWSAccessKey, audit.KindAWSIAMRole, audit.KindAWSOIDCProvider} {
		aws = append(aws, identity(k, "x", "111111111111"))
	}
	for _, w := range []int{80, 140} {
		m := newTestModel(t, testSnapshot(), aws, w, 10)
		v := m.View()
		if got := m.ids.table.ColumnWidth(colKind); got != len("OIDC provider") {
			t.Errorf("%d columns, AWS kinds: KIND %d cells, want %d:\n%s", w, got, len("OIDC provider"), v)
		}
		if !strings.Contains(v, fmt.Sprintf(" %-13s ", "OIDC provider")) {
			t.Errorf("%d columns: OIDC provider not whole:\n%s", w, v)
		}
	}
}
