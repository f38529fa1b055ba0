package tui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/nhi-audit/nhi/audit"
)

// The column the rows are sorted by is on screen whatever the width: at 80
// columns "sort age" stood above a table without AGE.
func TestSortedColumnStaysOnScreen(t *testing.T) {
	for _, w := range []int{120, 80, 60, 50} {
		m := newTestModel(t, testSnapshot(), testIdentities(), w, 24)
		for _, col := range sortable {
			press(t, m, "s")
			v := ansi.Strip(m.View())
			lines := strings.Split(v, "\n")
			if !strings.Contains(lines[1], "sort "+sortNames[col]) {
				t.Fatalf("%d columns: pressed s for %s, title %q", w, sortNames[col], lines[1])
			}
			if title := identityColumns[col].Title; !strings.Contains(lines[2], title) {
				t.Errorf("%d columns, sort %s: the header does not show %s:\n%s", w, sortNames[col], title, v)
			}
			checkFrame(t, m.View(), w, 24)
		}
	}
}

// An SSO credential with no recorded owner shows who the source says holds
// it, as nhi campaign show does, where the table said "—"; the detail says
// no owner is recorded and names the holder, known to the directory or not.
func TestOwnerCellNamesTheHolder(t *testing.T) {
	sso := identity(audit.KindGitHubCredentialAuthorization, "laptop", "acme")
	sso.Attributes = map[string]string{"owner": "aaron-w", "credential_type": "personal access token"}
	owned := identity(audit.KindGitHubCredentialAuthorization, "ci", "acme")
	owned.Attributes = map[string]string{"owner": "bea-lind"}
	owned.Owner = "platform-team"
	ids := []audit.Identity{sso, owned}

	for _, c := range []struct {
		w    int
		want string
	}{{80, "(aaron…"}, {200, "— held by aaron-w"}} {
		m := newTestModel(t, testSnapshot(), ids, c.w, 24)
		v := ansi.Strip(m.View())
		if !strings.Contains(selectedLine(t, m.View()), c.want) {
			t.Errorf("%d columns: the holder's row does not show %q:\n%s", c.w, c.want, v)
		}
		if strings.Contains(v, "bea-lind") {
			t.Errorf("%d columns: a recorded owner gives way to the holder:\n%s", c.w, v)
		}
	}
	m := newTestModel(t, testSnapshot(), ids, 80, 40)
	press(t, m, "enter")
	d := detailText(t, m)
	for _, want := range []string{"now: — (none recorded)", "holder, per the source: aaron-w"} {
		if !strings.Contains(d, want) {
			t.Errorf("the detail does not say %q:\n%s", want, d)
		}
	}
}

// A finding's policy number is read as days in the detail: "policy: 90"
// left the reader to guess what 90 counts.
func TestDetailPolicyInDays(t *testing.T) {
	key := identity(audit.KindGitHubDeployKey, "deploy-prod", "acme/api")
	key.Findings = []audit.Finding{{Rule: "stale", Severity: "high", OWASP: "NHI1", Message: "last used 2022-01-10, 1,756 days ago; policy: 90"}}
	m := newTestModel(t, testSnapshot(), []audit.Identity{key}, 80, 40)
	press(t, m, "enter")
	if d := detailText(t, m); !strings.Contains(d, "1,756 days ago; policy: 90 days") {
		t.Errorf("the detail does not say the policy's days:\n%s", d)
	}
}
