package tui

import (
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/audit"
)

// unreadRoles are AWS roles of one account: one read whole and granted
// nothing, one whose policies, trust policy and last use were not read,
// and a token whose expiry was not read (expires_unknown).
func unreadRoles() []audit.Identity {
	bare := identity(audit.KindAWSIAMRole, "bare", "111111111111")
	bare.LastUsedAt = daysAgo(3)
	unread := identity(audit.KindAWSIAMRole, "unread", "111111111111")
	unread.Attributes = map[string]string{
		audit.AttrPoliciesUnknown: "true", audit.AttrTrustUnknown: "true", audit.AttrLastUseUnknown: "true",
		"policies_unreadable": "deploy (inline)",
	}
	token := identity(audit.KindGitHubFineGrainedPAT, "imported-token", "acme")
	token.LastUsedAt = daysAgo(3)
	token.Attributes = map[string]string{audit.AttrExpiryUnknown: "true"}
	return []audit.Identity{bare, unread, token}
}

// TestUnreadShownInWords: where an identity is shown, what its source did
// not tell nhi says "not read", where the table showed a dash for its
// last use and findings and the detail "none recorded" for its
// permissions and "no findings", which an auditor reads as none: the
// role read whole keeps its dash and "none recorded". The screens are
// kept in testdata/tui (read by eye: not_read_*).
func TestUnreadShownInWords(t *testing.T) {
	m := newTestModel(t, testSnapshot(), unreadRoles(), 100, 40)
	v := m.View()
	for _, l := range strings.Split(v, "\n") {
		switch {
		case strings.Contains(l, " unread "):
			if strings.Count(l, "not read") != 2 {
				t.Errorf("the unread role's LAST USED and FINDINGS say not read: %q", l)
			}
		case strings.Contains(l, " bare "):
			if strings.Contains(l, "not read") {
				t.Errorf("the role read whole says not read: %q", l)
			}
		}
	}
	checkGolden(t, "not_read_table_100x40.txt", v)

	press(t, m, "/", "name:unread", "enter", "enter")
	checkGolden(t, "not_read_detail_100x40.txt", m.View())
	d := detailText(t, m)
	for _, want := range []string{
		"Not read (3)",
		"Permissions not read (policies_unknown): the documents of its policies deploy (inline) are empty, do not parse or were not listed",
		"Trust not read (trust_unknown): who may assume it was not read",
		"Last use not read (last_used_unknown)",
		"to read them: give the credential what it lacks and snapshot again",
		"none found, which is not none",
		"not read (policies_unknown): none recorded is not none",
	} {
		if !strings.Contains(strings.Join(strings.Fields(d), " "), want) {
			t.Errorf("detail of the unread role lacks %q:\n%s", want, d)
		}
	}
	if strings.Contains(d, "no findings") || strings.Contains(d, "never") {
		t.Errorf("detail of the unread role reads as none:\n%s", d)
	}

	press(t, m, "esc", "/", "ctrl+u", "name:bare", "enter", "enter")
	d = detailText(t, m)
	if strings.Contains(d, "not read") || !strings.Contains(d, "no findings") || !strings.Contains(d, "Permissions (0)\n  none recorded") {
		t.Errorf("detail of the role read whole:\n%s", d)
	}

	press(t, m, "esc", "/", "ctrl+u", "name:imported-token", "enter", "enter")
	d = detailText(t, m)
	if !strings.Contains(d, "Expiry not read (expires_unknown)") {
		t.Errorf("detail of a token whose expiry was not read:\n%s", d)
	}
}
