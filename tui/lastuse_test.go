package tui

import (
	"slices"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/audit"
)

// TestLastUseNotRead: an identity of a kind that reports last use, whose
// last use could not be read (last_used_unknown, an AWS call denied), is
// not shown or filtered as never used: the list and the detail say it
// was not read, and it is used:unknown, not used:never.
func TestLastUseNotRead(t *testing.T) {
	read := identity(audit.KindAWSAccessKey, "AKIAREADNEVERUSED001", "111111111111")
	read.CreatedAt = daysAgo(100)
	unread := identity(audit.KindAWSAccessKey, "AKIANOTREAD000000001", "111111111111")
	unread.CreatedAt = daysAgo(100)
	unread.Attributes = map[string]string{audit.AttrLastUseUnknown: "true"}
	m := newTestModel(t, testSnapshot(), []audit.Identity{read, unread}, 120, 24)
	for _, l := range strings.Split(m.View(), "\n") {
		if strings.Contains(l, "AKIANOTREAD") && (strings.Contains(l, "never") || !strings.Contains(l, "not read")) {
			t.Errorf("a key whose last use was not read shown as never used: %q", l)
		}
		if strings.Contains(l, "AKIAREADNEVERUSED") && !strings.Contains(l, "never") {
			t.Errorf("a key read as never used not shown so: %q", l)
		}
	}
	for q, want := range map[string]string{"used:never": "AKIAREADNEVERUSED001", "used:unknown": "AKIANOTREAD000000001"} {
		press(t, m, "/", q, "enter")
		v := m.View()
		if !strings.HasPrefix(title(v), "Identities 1 of 2") || !strings.Contains(v, want) {
			t.Errorf("%s: want %s alone:\n%s", q, want, v)
		}
		press(t, m, "/", "ctrl+u", "enter")
	}
	press(t, m, "/", "used:unknown", "enter", "enter")
	if d := detailText(t, m); !strings.Contains(d, "not read") || strings.Contains(d, "never") {
		t.Errorf("detail of a key whose last use was not read:\n%s", d)
	}
}

// TestTagsNotReadSuggestNothing: an identity whose tags were not read
// (tags_unknown: an AWS call denied) and no other suggestion has its
// detail say its tags were not read, where it said the source suggested
// no owner, which reads as a source with no owner tag.
func TestTagsNotReadSuggestNothing(t *testing.T) {
	read := identity(audit.KindAWSIAMRole, "tags-read", "111111111111")
	unread := identity(audit.KindAWSIAMRole, "tags-not-read", "111111111111")
	unread.Attributes = map[string]string{audit.AttrTagsUnknown: "true"}
	m := newTestModel(t, testSnapshot(), []audit.Identity{read, unread}, 120, 40)
	for name, want := range map[string]string{
		"tags-read":     "no suggestion from the source or its repository",
		"tags-not-read": "no suggestion: its tags were not read (tags_unknown",
	} {
		press(t, m, "/", "name:"+name, "enter", "enter")
		d := detailText(t, m)
		if !strings.Contains(d, want) {
			t.Errorf("detail of %s, want %q:\n%s", name, want, d)
		}
		press(t, m, "esc", "/", "ctrl+u", "enter")
	}
}

// TestUnreadIsNotNone: an AWS role whose policies were not read
// (policies_unknown) and one whose tags were not (tags_unknown) are not
// matched by perm:none, perm.NAME:none or attr.tag.NAME:none, which claim
// the permission or tag absent, where their empty maps matched; roles
// read without any still are.
func TestUnreadIsNotNone(t *testing.T) {
	bare := identity(audit.KindAWSIAMRole, "bare", "111111111111")
	policies := identity(audit.KindAWSIAMRole, "policies-not-read", "111111111111")
	policies.Attributes = map[string]string{audit.AttrPoliciesUnknown: "true"}
	tags := identity(audit.KindAWSIAMRole, "tags-not-read", "111111111111")
	tags.Attributes = map[string]string{audit.AttrTagsUnknown: "true"}
	m := newTestModel(t, testSnapshot(), []audit.Identity{bare, policies, tags}, 120, 24)
	for q, want := range map[string][]string{
		"perm:none":                       {"bare", "tags-not-read"},
		"perm.AdministratorAccess:none":   {"bare", "tags-not-read"},
		"attr.tag.owner:none":             {"bare", "policies-not-read"},
		"perm:none attr.tag.owner:none":   {"bare"},
		"attr.tag.owner:none or perm:any": {"bare", "policies-not-read"},
	} {
		press(t, m, "/", q, "enter")
		v := m.View()
		for _, name := range []string{"bare", "policies-not-read", "tags-not-read"} {
			if shown := strings.Contains(v, name); shown != slices.Contains(want, name) {
				t.Errorf("%s: %s shown %v, want %v:\n%s", q, name, shown, !shown, v)
			}
		}
		press(t, m, "/", "ctrl+u", "enter")
	}
}

// TestNegatedUnreadIsNotShown: the review UI's filter answers a negated
// term over what was not read as its command line does (audit
// TestUnknownStaysUnknown): -perm:any, -perm:admin and
// -attr.tag.owner:any do not list a role whose policies, or tags, were
// not read, where they listed it as having none; -unused>90d does not
// list a role whose last use was not read.
func TestNegatedUnreadIsNotShown(t *testing.T) {
	bare := identity(audit.KindAWSIAMRole, "bare", "111111111111")
	bare.LastUsedAt = daysAgo(3)
	policies := identity(audit.KindAWSIAMRole, "policies-not-read", "111111111111")
	policies.LastUsedAt = daysAgo(3)
	policies.Attributes = map[string]string{audit.AttrPoliciesUnknown: "true"}
	tags := identity(audit.KindAWSIAMRole, "tags-not-read", "111111111111")
	tags.LastUsedAt = daysAgo(3)
	tags.Attributes = map[string]string{audit.AttrTagsUnknown: "true"}
	lastUse := identity(audit.KindAWSIAMRole, "last-use-not-read", "111111111111")
	lastUse.Attributes = map[string]string{audit.AttrLastUseUnknown: "true"}
	m := newTestModel(t, testSnapshot(), []audit.Identity{bare, policies, tags, lastUse}, 120, 24)
	names := []string{"bare", "policies-not-read", "tags-not-read", "last-use-not-read"}
	for q, want := range map[string][]string{
		"-perm:any":                    {"bare", "tags-not-read", "last-use-not-read"},
		"-perm:admin":                  {"bare", "tags-not-read", "last-use-not-read"},
		"-attr.tag.owner:any":          {"bare", "policies-not-read", "last-use-not-read"},
		"-unused>90d":                  {"bare", "policies-not-read", "tags-not-read"},
		"-unused>90d or used:unknown":  names,
		"-perm:any or kind:iam_role":   names,
		"-(perm:any or kind:iam_user)": {"bare", "tags-not-read", "last-use-not-read"},
	} {
		press(t, m, "/", q, "enter")
		v := m.View()
		for _, name := range names {
			if shown := strings.Contains(v, name); shown != slices.Contains(want, name) {
				t.Errorf("%s: %s shown %v, want %v:\n%s", q, name, shown, !shown, v)
			}
		}
		press(t, m, "/", "ctrl+u", "enter")
	}
}

// TestLastUseYearsWhole: a last use and a creation years ago read in
// years and days, as nhi identities says them (audit.Ago), where the UI
// said "3y ago" and the CLI "1424d ago"; LAST USED widens to show it
// whole at 80 columns, AGE giving way as it does to SOURCE; AGE says its
// span the same way ("4y40d", where it said "4y" beside "3y329d ago"),
// the detail view the date.
func TestLastUseYearsWhole(t *testing.T) {
	old := identity(audit.KindAWSAccessKey, "AKIAOLD", "111111111111")
	old.LastUsedAt, old.CreatedAt = daysAgo(1424), daysAgo(1500)
	recent := identity(audit.KindAWSAccessKey, "AKIARECENT", "111111111111")
	recent.LastUsedAt, recent.CreatedAt = daysAgo(14), daysAgo(20)
	for _, width := range []int{80, 120} {
		m := newTestModel(t, testSnapshot(), []audit.Identity{old, recent}, width, 24)
		v := m.View()
		if !strings.Contains(v, "3y329d ago") || !strings.Contains(v, "14d ago") {
			t.Errorf("at %d columns, want 3y329d ago and 14d ago whole:\n%s", width, v)
		}
		if width == 120 && (!strings.Contains(v, " 4y40d ") || strings.Contains(v, " 4y ")) {
			t.Errorf("at %d columns, want AGE 4y40d, as LAST USED says a span:\n%s", width, v)
		}
	}
}

// TestUnsaidExpiryIsNotNever: a fine-grained PAT imported with an empty
// expires_at (expires_unknown) is not listed by expires:never in the
// review UI, nor by its negation, and its detail says its expiry was not
// reported, where one GitHub reports without an expiry is listed.
func TestUnsaidExpiryIsNotNever(t *testing.T) {
	never := identity(audit.KindGitHubFineGrainedPAT, "never-expires", "acme")
	unsaid := identity(audit.KindGitHubFineGrainedPAT, "expiry-unsaid", "acme")
	unsaid.Attributes = map[string]string{audit.AttrExpiryUnknown: "true"}
	m := newTestModel(t, testSnapshot(), []audit.Identity{never, unsaid}, 120, 40)
	for q, want := range map[string][]string{
		"expires:never":  {"never-expires"},
		"-expires:never": {},
		"-expired":       {"never-expires"},
	} {
		press(t, m, "/", q, "enter")
		v := m.View()
		for _, name := range []string{"never-expires", "expiry-unsaid"} {
			if shown := strings.Contains(v, name); shown != slices.Contains(want, name) {
				t.Errorf("%s: %s shown %v, want %v:\n%s", q, name, shown, !shown, v)
			}
		}
		press(t, m, "/", "ctrl+u", "enter")
	}
	press(t, m, "/", "name:expiry-unsaid", "enter", "enter")
	if d := detailText(t, m); !strings.Contains(d, "not reported by the source: expires_unknown") {
		t.Errorf("detail of a PAT whose expiry was not reported:\n%s", d)
	}
}

// TestImportedLastUseNotReported: an imported kind's row whose file left
// last_used_at empty (the importer marks it last_used_unknown) says "not
// read" in LAST USED and "not reported by the source" in the detail, where
// the cell was a dash beside a row of the same kind whose file gave it,
// which reads as a source that keeps no last use.
func TestImportedLastUseNotReported(t *testing.T) {
	given := identity("import_bot_token", "bot-with-use", "acme")
	given.CreatedAt, given.LastUsedAt = daysAgo(100), daysAgo(3)
	unsaid := identity("import_bot_token", "bot-unsaid", "acme")
	unsaid.CreatedAt = daysAgo(100)
	unsaid.Attributes = map[string]string{audit.AttrLastUseUnknown: "true"}
	m := newTestModel(t, testSnapshot(), []audit.Identity{given, unsaid}, 120, 24)
	seen := 0
	for _, l := range strings.Split(m.View(), "\n") {
		if strings.Contains(l, "bot-unsaid") {
			seen++
			// LAST USED and FINDINGS (stale could not be judged) both.
			if strings.Count(l, "not read") != 2 || strings.Contains(l, "never") {
				t.Errorf("an imported bot whose file left last_used_at empty: %q, want LAST USED and FINDINGS not read", l)
			}
		}
	}
	if seen != 1 {
		t.Fatalf("bot-unsaid not listed:\n%s", m.View())
	}
	press(t, m, "/", "name:bot-unsaid", "enter", "enter")
	if d := detailText(t, m); !strings.Contains(d, "not reported by the source: last_used_unknown") {
		t.Errorf("detail of bot-unsaid, want its last use not reported:\n%s", d)
	}
}
