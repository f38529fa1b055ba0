package filter_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/filter"
)

var filterTestNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func filterDaysAgo(d float64) *time.Time {
	t := filterTestNow.Add(-time.Duration(d * float64(24*time.Hour)))
	return &t
}

// filterFixture is a small population covering every field the filter reads,
// by label.
func filterFixture() map[string]*audit.Identity {
	ids := map[string]*audit.Identity{
		"key": {
			Observation: audit.Observation{
				ID: "github:acme:github_deploy_key:acme/api/101", Kind: audit.KindGitHubDeployKey,
				Name: "ci deploy", Scope: "acme/api",
				CreatedAt: filterDaysAgo(400), LastUsedAt: filterDaysAgo(200),
				Permissions: map[string]string{"contents": "write"},
				Attributes:  map[string]string{"read_only": "false", "added_by": "bob"},
			},
			Findings: []audit.Finding{{Rule: "stale", Severity: "high"}, {Rule: "overprivileged", Severity: "medium"}},
		},
		"pat": {
			Observation: audit.Observation{
				ID: "github:acme:github_fine_grained_pat:55", Kind: audit.KindGitHubFineGrainedPAT,
				Name: "release-bot token", Scope: "acme",
				CreatedAt: filterDaysAgo(100), LastUsedAt: filterDaysAgo(2), ExpiresAt: filterDaysAgo(-10),
				Permissions: map[string]string{"contents": "read", "administration": "admin"},
			},
			Owner:    "Alice Smith",
			Findings: []audit.Finding{{Rule: "expiring", Severity: "low"}, {Rule: "human-credential", Severity: "medium"}, {Rule: "overprivileged", Severity: "high"}},
		},
		"app": {
			Observation: audit.Observation{
				ID: "github:acme:github_app_installation:9", Kind: audit.KindGitHubAppInstallation,
				Name: "renovate", Scope: "acme", CreatedAt: filterDaysAgo(800),
				Permissions: map[string]string{"contents": "write", "metadata": "read"},
				Attributes:  map[string]string{"suspended": "false", "repository_selection": "all"},
			},
			Owner:    "carol",
			Findings: []audit.Finding{{Rule: "third-party", Severity: "medium"}, {Rule: "broad-scope", Severity: "CRITICAL"}},
		},
		"secret": {
			Observation: audit.Observation{
				ID: "github:acme:github_actions_secret:acme/web/DEPLOY_TOKEN", Kind: audit.KindGitHubActionsSecret,
				Name: "DEPLOY_TOKEN", Scope: "acme/web", CreatedAt: filterDaysAgo(500), RotatedAt: filterDaysAgo(120),
			},
			Owner:    "dave",
			Status:   audit.StatusRemoved,
			Findings: []audit.Finding{{Rule: "unrotated", Severity: "medium"}},
		},
		"newkey": {
			Observation: audit.Observation{
				ID: "github:acme:github_deploy_key:acme/api-gateway/7", Kind: audit.KindGitHubDeployKey,
				Name: "Ops Key", Scope: "acme/api-gateway", CreatedAt: filterDaysAgo(45),
				Attributes: map[string]string{"read_only": "true"},
			},
		},
		"sso": {
			Observation: audit.Observation{
				ID: "github:acme:github_credential_authorization:777", Kind: audit.KindGitHubCredentialAuthorization,
				Name: `ann's "ci" PAT`, Scope: "acme",
				CreatedAt: filterDaysAgo(300), LastUsedAt: filterDaysAgo(90.5), ExpiresAt: filterDaysAgo(3),
				Attributes: map[string]string{"credential_type": "personal access token", "login": "ann"},
			},
			Owner:    "ann",
			Findings: []audit.Finding{{Rule: "expired", Severity: "high"}},
		},
		"hook": {
			Observation: audit.Observation{
				ID: "github:other:github_webhook:other/site/3", Kind: audit.KindGitHubWebhook,
				Name: "https://hooks.example.com/ci", Scope: "other/site",
				Attributes: map[string]string{"has_secret": "false"},
			},
			Owner:    "ÅSA",
			Findings: []audit.Finding{{Rule: "insecure-webhook", Severity: "high"}},
		},
	}
	for _, id := range ids {
		id.Source = "github"
		if id.Status == "" {
			id.Status = audit.StatusActive
		}
	}
	return ids
}

func filterFixtureEnv(ids map[string]*audit.Identity) *filter.Env {
	// The campaign in view, q3, holds every identity but the hook: alice
	// (the filter's "me") reviews the key and the PAT, bob the rest, and
	// nobody could be assigned the SSO authorization. The older campaign
	// q2 held the app and the hook only.
	q3 := map[string]filter.Item{}
	for label, id := range ids {
		it := filter.Item{Reviewer: "bob@acme.example", Decision: "pending"}
		switch label {
		case "hook":
			continue
		case "key", "pat":
			it = filter.Item{Reviewer: "alice@acme.example", Mine: true, Decision: "pending"}
		case "sso":
			it.Reviewer = ""
		}
		q3[id.ID] = it
	}
	decide := func(label, d string) {
		it := q3[ids[label].ID]
		it.Decision = d
		q3[ids[label].ID] = it
	}
	decide("key", "decommission")
	decide("pat", "keep")
	decide("secret", "rotate")
	q2 := map[string]filter.Item{
		ids["app"].ID:  {Reviewer: "carol", Decision: "no-response"},
		ids["hook"].ID: {Reviewer: "carol", Decision: "keep"},
	}
	return &filter.Env{Now: filterTestNow, Review: &testReview{inView: "q3", items: map[string]map[string]filter.Item{"q3": q3, "q2": q2}}}
}

// testReview is a filter.Review over maps: campaign → identity ID → item.
// The filter passes campaign names in lower case.
type testReview struct {
	inView string
	items  map[string]map[string]filter.Item
}

func (r *testReview) Item(campaign, id string) (filter.Item, bool) {
	if campaign == "" {
		campaign = r.inView
	}
	it, ok := r.items[campaign][id]
	return it, ok
}

func filterMatching(t *testing.T, f *filter.Filter, ids map[string]*audit.Identity, env *filter.Env) []string {
	t.Helper()
	var out []string
	for label, id := range ids {
		if f.Match(id, env) {
			out = append(out, label)
		}
	}
	slices.Sort(out)
	return out
}

func TestFilterMatch(t *testing.T) {
	ids := filterFixture()
	env := filterFixtureEnv(ids)
	all := "app hook key newkey pat secret sso"
	tests := []struct{ expr, want string }{
		{"", all},
		{"   ", all},

		// kind: full name, short suffix, case, globs on either form
		{"kind:github_deploy_key", "key newkey"},
		{"kind:deploy_key", "key newkey"},
		{"KIND:Deploy_Key", "key newkey"},
		{"kind:*secret", "secret"},
		{"kind:github_*", all},
		{"kind:fine*", "pat"},
		{"kind:*_?ey", "key newkey"},

		// finding, severity (this severity or above)
		{"finding:stale", "key"},
		{"finding:STALE", "key"},
		{"finding:any", "app hook key pat secret sso"},
		{"finding:none", "newkey"},
		{"finding:*privileged", "key pat"},
		{"severity:high", "app hook key pat sso"},
		{"severity:critical", "app"},
		{"severity:medium", "app hook key pat secret sso"},
		{"severity:low", "app hook key pat secret sso"},

		// owner: keywords, exact (case-insensitive), glob, quoting
		{"owner:none", "key newkey"},
		{"owner:any", "app hook pat secret sso"},
		{"owner:alice", ""},
		{`owner:"alice smith"`, "pat"},
		{`owner:alice\ SMITH`, "pat"},
		{"owner:alice*", "pat"},
		{"owner:CAROL", "app"},
		{"owner:åsa", "hook"},
		{`owner:"none"`, ""},
		{`owner:""`, "key newkey"},

		// scope, name, id, source, status
		{"scope:acme/api*", "key newkey"},
		{"scope:acme/api", "key"},
		{"scope:acme/???", "key secret"},
		{"scope:ACME", "app pat sso"},
		{"name:*token*", "pat secret"},
		{`name:"ops key"`, "newkey"},
		{"name:deploy_*", "secret"},
		{`name:"deploy_*"`, ""},
		{`name:deploy_\*`, ""},
		{"id:github:acme:*", "app key newkey pat secret sso"},
		{"id:*:777", "sso"},
		{"source:github", all},
		{"source:gitlab", ""},
		{"status:removed", "secret"},
		{"status:ACTIVE", "app hook key newkey pat sso"},
		{"status:any", all},

		// decision
		// decision, reviewer and campaign: the hook is outside the
		// campaign in view, so it has no decision, not even pending
		{"decision:pending", "app newkey sso"},
		{"decision:keep", "pat"},
		{"decision:decommission", "key"},
		{"decision:rotate", "secret"},
		{"decision:no-response", ""},
		{"-decision:keep", "app hook key newkey secret sso"},
		{"reviewer:me", "key pat"},
		{"reviewer:ME decision:pending", ""},
		{"reviewer:bob*", "app newkey secret"},
		{"reviewer:none", "sso"},
		{"reviewer:any", "app key newkey pat secret"},
		{"-reviewer:me", "app hook newkey secret sso"},
		{`reviewer:"me"`, ""},
		{"campaign:q3", "app key newkey pat secret sso"},
		{"campaign:Q2", "app hook"},
		{"campaign:q2 -campaign:q3", "hook"},
		{"campaign:q1", ""},

		// attributes (keys in lower case, values as globs) and permissions
		{"attr.suspended:false", "app"},
		{"attr.read_only:TRUE", "newkey"},
		{"attr.has_secret:any", "hook"},
		{"attr.has_secret:none", "app key newkey pat secret sso"},
		{`Attr.Credential_Type:"personal access token"`, "sso"},
		{"attr.credential_type:*token", "sso"},
		{"perm.contents:write", "app key"},
		{"perm.contents:read", "app key pat"},
		{"perm.contents:admin", ""},
		{"perm:admin", "pat"},
		{"perm:write", "app key pat"},
		{"perm:any", "app key pat"},
		{"perm:none", "hook newkey secret sso"},
		{"perm.administration:none", "app hook key newkey secret sso"},
		{"perm.administration:any", "pat"},

		// relative time, in whole units from filterTestNow
		{"unused>90d", "key"},             // sso: 90.5 days is 90 whole days
		{"unused>=90d", "key sso"},        // app, secret, hook: kind does not report use: unknown
		{"unused>30d", "key newkey sso"},  // newkey: never used, created 45 days ago
		{"unused<7d", "pat"},              //
		{"unused<=90d", "newkey pat sso"}, //
		{"-unused>90d", "newkey pat sso"}, // not the unknowns: app, hook, secret
		{"-unused>90d or used:unknown", "app hook newkey pat secret sso"},
		{"unused>12w", "key"}, // sso: 90.5 days is 12 whole weeks
		{"unused>=12w", "key sso"},
		{"unused>2160h", "key sso"},
		{"unused>6mo", ""},
		{"unused>0y", ""},
		{"expires<14d", "pat sso"}, // includes already expired
		{"expires<0d", "sso"},
		{"expires>5d", "app hook key newkey pat secret"}, // those that never expire: further than any span
		{"expires>=10d", "app hook key newkey pat secret"},
		{"expires>10d", "app hook key newkey secret"},
		{"-expires>10d", "pat sso"},
		{"expires:never", "app hook key newkey secret"},
		{"expired", "sso"},
		{"EXPIRED", "sso"},
		{"age>365d", "app key secret"},
		{"age<=45d", "newkey"},
		{"age>=1y", "app key secret"},
		{"rotated>90d", "secret"},
		{"rotated<90d", ""},
		{"rotated:never", "app hook key newkey pat sso"},
		{"used:never", "newkey"},
		{"used:unknown", "app hook secret"},

		// free text: ID, name, scope, owner; substring; case-insensitive
		{"deploy", "key newkey secret"},
		{"DEPLOY", "key newkey secret"},
		{`"ops key"`, "newkey"},
		{"api", "key newkey"},
		{"smith", "pat"},
		{"ANN", "sso"},
		{"hooks.example", "hook"},
		{"api*7", "newkey"},
		{`"\"ci\""`, "sso"},
		{`"expired"`, ""},
		{`"or"`, "sso"}, // authORization: quote keywords to search for them
		{`"-gateway"`, "newkey"},
		{`"github:other"`, "hook"},
		{`github\:other`, "hook"},
		{`""`, all},

		// boolean structure and precedence: or binds loosest
		{"kind:deploy_key or owner:carol status:removed", "key newkey"},
		{"(kind:deploy_key or owner:carol) status:active", "app key newkey"},
		{"owner:carol or finding:stale owner:none", "app key"},
		{"owner:carol or (finding:stale owner:none)", "app key"},
		{"(owner:carol or finding:stale) owner:none", "key"},
		{"owner:carol OR finding:stale AND owner:none", "app key"},
		{"kind:deploy_key and finding:any", "key"},
		{"-owner:none", "app hook pat secret sso"},
		{"not owner:none", "app hook pat secret sso"},
		{"NOT owner:none", "app hook pat secret sso"},
		{"--owner:none", "key newkey"},
		{"not -owner:none", "key newkey"},
		{"-(kind:deploy_key or status:removed)", "app hook pat sso"},
		{"not kind:deploy_key finding:any", "app hook pat secret sso"},
		{"-kind:deploy_key -status:removed -finding:none", "app hook pat sso"},
		{"((kind:deploy_key))", "key newkey"},
		{"kind:github_deploy_key or (finding:stale -owner:none) scope:acme/api*", "key newkey"},
	}
	for _, tt := range tests {
		f, err := filter.Parse(tt.expr, audit.Vocabulary)
		if err != nil {
			t.Errorf("filter.Parse(%q, audit.Vocabulary): %v", tt.expr, err)
			continue
		}
		got := strings.Join(filterMatching(t, f, ids, env), " ")
		if got != tt.want {
			t.Errorf("%q (canonical %q) matches [%s], want [%s]", tt.expr, f.String(), got, tt.want)
		}
		// The canonical form means the same thing.
		g, err := filter.Parse(f.String(), audit.Vocabulary)
		if err != nil {
			t.Errorf("filter.Parse(%q, audit.Vocabulary) (canonical of %q): %v", f.String(), tt.expr, err)
			continue
		}
		if got2 := strings.Join(filterMatching(t, g, ids, env), " "); got2 != got {
			t.Errorf("canonical %q of %q matches [%s], original [%s]", f.String(), tt.expr, got2, got)
		}
	}
}

func TestFilterCanonical(t *testing.T) {
	tests := []struct{ expr, want string }{
		{"", ""},
		{"kind:deploy_key", "kind:github_deploy_key"},
		{"Kind:Deploy_Key OR Owner:None", "kind:github_deploy_key or owner:none"},
		{"kind:*SECRET", "kind:*SECRET"},
		{"a and b", "a b"},
		{"a AND b and c", "a b c"},
		{"not a", "-a"},
		{"not not a", "--a"},
		{"a or (b or c)", "a or b or c"},
		{"(a b) c", "a b c"},
		{"(a or b) c", "(a or b) c"},
		{"a or b c", "a or b c"},
		{"(a or b c)", "a or b c"},
		{"-(a b)", "-(a b)"},
		{"not (a or b)", "-(a or b)"},
		{"-(a)", "-a"},
		{"a (b or c) -d", "a (b or c) -d"},
		{"(((a)))", "a"},
		{`owner:"Alice Smith"`, `owner:"Alice Smith"`},
		{`owner:Alice\ Smith`, `owner:"Alice Smith"`},
		{`owner:"none"`, `owner:"none"`},
		{`owner:NONE`, `owner:none`},
		{`owner:""`, `owner:""`},
		{`owner:no"ne"`, `owner:"none"`},
		{`scope:acme/api*`, `scope:acme/api*`},
		{`name:"a*"b*`, `name:"a*b"*`},
		{`name:a\*b?`, `name:"a*b"?`},
		{`name:"x(y)"`, `name:"x(y)"`},
		{`id:github:acme:*`, `id:github:acme:*`},
		{`"or"`, `"or"`},
		{`"AND"`, `"AND"`},
		{`"-x"`, `"-x"`},
		{`\-x`, `"-x"`},
		{`"a:b"`, `"a:b"`},
		{`own""er:x`, `"owner:x"`},
		{`""owner:x`, `"owner:x"`},
		{`owner:x""`, `owner:x`},
		{`a\:b`, `"a:b"`},
		{`"two words"`, `"two words"`},
		{`"say \"hi\""`, `"say \"hi\""`},
		{`"back\\slash"`, `"back\\slash"`},
		{`word`, `word`},
		{`wo*rd`, `wo*rd`},
		{`"wo*rd"`, `"wo*rd"`},
		{`""`, `""`},
		{`"expired"`, `"expired"`},
		{`EXPIRED`, `expired`},
		{`unused>090D`, `unused>90d`},
		{`unused>=2W`, `unused>=2w`},
		{`age<=1Y`, `age<=1y`},
		{`rotated<6MO`, `rotated<6mo`},
		{`expires:NEVER`, `expires:never`},
		{`rotated:Never`, `rotated:never`},
		{`severity:HIGH`, `severity:high`},
		{`status:Removed`, `status:removed`},
		{`decision:No-Response`, `decision:no-response`},
		{`finding:Stale`, `finding:stale`},
		{`finding:"any"`, `finding:any`},
		{`finding:no-*`, `finding:no-*`},
		{`used:NEVER`, `used:never`},
		{`attr.Suspended:TRUE`, `attr.suspended:TRUE`},
		{`attr.x:"any"`, `attr.x:"any"`},
		{`attr.x:ANY`, `attr.x:any`},
		{`perm.Contents:WRITE`, `perm.contents:write`},
		{`perm:"admin"`, `perm:admin`},
		{`perm:None`, `perm:none`},
		{"a\tb\nc", "a b c"},
	}
	for _, tt := range tests {
		f, err := filter.Parse(tt.expr, audit.Vocabulary)
		if err != nil {
			t.Errorf("filter.Parse(%q, audit.Vocabulary): %v", tt.expr, err)
			continue
		}
		got := f.String()
		if got != tt.want {
			t.Errorf("filter.Parse(%q, audit.Vocabulary).String() = %q, want %q", tt.expr, got, tt.want)
			continue
		}
		g, err := filter.Parse(got, audit.Vocabulary)
		if err != nil {
			t.Errorf("canonical %q does not parse: %v", got, err)
			continue
		}
		if g.String() != got {
			t.Errorf("canonical %q re-parses to %q", got, g.String())
		}
	}
}

func TestFilterErrors(t *testing.T) {
	tests := []struct {
		expr string
		pos  int
		msg  string
		hint string // substring of Hint; "" checks nothing
	}{
		{"ownr:alice", 0, `unknown field "ownr"`, `did you mean "owner"?`},
		{"kind:deploy_key sevrity:high", 16, `unknown field "sevrity"`, `did you mean "severity"?`},
		{"atr.suspended:true", 0, `unknown field "atr.suspended"`, `did you mean "attr.suspended"?`},
		{"github:acme", 0, `unknown field "github"`, `quote text containing ":"`},
		{"sev:high", 0, `unknown field "sev"`, `did you mean "severity"?`},
		{"owner>alice", 5, `bad operator ">" for owner`, "owner:alice"},
		{"kind>=x", 4, `bad operator ">=" for kind`, ""},
		{"owner=alice", 5, `bad operator "="`, ""},
		{"unused=90d", 6, `bad operator "="`, "unused>90d"},
		{"unused:90d", 6, `bad operator ":" for unused`, "unused>90d"},
		{"expires:soon", 7, `bad operator ":" for expires`, "expires:never"},
		{"unused>90x", 9, `unknown unit "x"`, "mo (30 days)"},
		{"unused>90days", 9, `unknown unit "days"`, "d (days)"},
		{"unused>90m", 9, `ambiguous unit "m"`, `"mo" for months`},
		{"unused>90", 7, `missing unit in "90"`, ""},
		{"unused>d", 7, `expected a duration after "unused>", got "d"`, ""},
		{"unused>-5d", 7, `expected a duration after "unused>", got "-5d"`, ""},
		{"unused>1.5d", 8, `durations are whole numbers, got "1.5d"`, ""},
		{"age>99999999999y", 4, `duration "99999999999y" is too long`, ""},
		{"age>99999999999999999999d", 4, `duration "99999999999999999999d" is too long`, ""},
		{"(kind:deploy_key", 0, `unclosed "("`, ""},
		{"a ((b) c", 2, `unclosed "("`, ""},
		{"(a", 0, `unclosed "("`, ""},
		{"(", 0, `unclosed "("`, ""},
		{"kind:deploy_key)", 15, `")" without matching "("`, ""},
		{") a", 0, `")" without matching "("`, ""},
		{"owner:none or", 11, `"or" needs a term on its right`, ""},
		{"(a or)", 3, `"or" needs a term on its right`, ""},
		{"or owner:none", 0, `"or" needs a term on its left`, ""},
		{"(OR a)", 1, `"or" needs a term on its left`, ""},
		{"a and or b", 2, `"and" needs a term on its right`, ""},
		{"a or or b", 2, `"or" needs a term on its right`, ""},
		{"a and", 2, `"and" needs a term on its right`, ""},
		{"()", 0, "empty parentheses", ""},
		{"a ( ) b", 2, "empty parentheses", ""},
		{"not", 0, `"not" needs a term after it`, ""},
		{"a not", 2, `"not" needs a term after it`, ""},
		{"not or a", 0, `"not" needs a term after it`, ""},
		{"(-a -)", 4, `"-" must be followed directly by a term`, ""},
		{"- a", 0, `"-" must be followed directly by a term`, ""},
		{"a -", 2, `"-" must be followed directly by a term`, ""},
		{`"abc`, 0, "unterminated quoted text", ""},
		{`owner:"abc\"`, 6, "unterminated quoted text", ""},
		{`abc\`, 3, "backslash at the end", ""},
		{"owner:", 6, `missing value after "owner:"`, ""},
		{"unused>", 7, `missing value after "unused>"`, ""},
		{"severity:hgih", 9, `unknown severity "hgih"`, `did you mean "high"?`},
		{"severity:urgent", 9, `unknown severity "urgent"`, "low, medium, high, critical"},
		{"kind:deploy_kye", 5, `unknown kind "deploy_kye"`, `did you mean "deploy_key"?`},
		{"kind:dploy", 5, `unknown kind "dploy"`, `did you mean "deploy_key"?`},
		{"kind:webhok", 5, `unknown kind "webhok"`, `did you mean "webhook"?`},
		{"kind:foo*", 5, `"foo*" matches no kind`, "deploy_key"},
		{`kind:"deploy*"`, 5, `unknown kind "deploy*"`, ""},
		// An import records the kind its file names under import_
		// (docs/import.md): the kind a user imported is named so.
		{"kind:bot_token", 5, `unknown kind "bot_token"`, "an imported kind has the prefix import_: kind:import_bot_token; kinds: app_installation"},
		{"kind:bot*", 5, `"bot*" matches no kind`, "an imported kind has the prefix import_: kind:import_bot*; kinds:"},
		{"finding:stael", 8, `unknown rule "stael"`, `did you mean "stale"?`},
		{"finding:x*", 8, `"x*" matches no rule`, ""},
		{"status:gone", 7, `unknown status "gone"`, "active, removed"},
		{"decision:approve", 9, `unknown decision "approve"`, "pending, decommission, keep, rotate, transfer, no-response"},
		{"decision:keeep", 9, `unknown decision "keeep"`, `did you mean "keep"?`},
		{"perm.contents:rw", 14, `unknown permission level "rw"`, "read, write, admin"},
		{"perm:wrte", 5, `unknown permission level "wrte"`, `did you mean "write"?`},
		{"used:yes", 5, `unknown used value "yes"`, "never, unknown"},
		{"!owner:none", 0, `"!" is not negation`, `"-"`},
		{"!foo", 0, `"!" is not negation`, ""},
		{":foo", 0, `missing field name before ":"`, ""},
		{">5d", 0, `missing field name before ">"`, ""},
		{"attr:x", 0, `"attr" needs an attribute name`, "attr.suspended:true"},
		{"attr.:x", 0, `"attr." needs an attribute name`, ""},
		{"perm.:x", 0, `"perm." needs a permission name`, ""},
		{"ab\xff", 2, "invalid UTF-8", ""},
		{strings.Repeat("(", 101) + "a" + strings.Repeat(")", 101), 100, "expression nests too deeply (limit 100)", ""},
		{strings.Repeat("-", 101) + "a", 100, "expression nests too deeply (limit 100)", ""},
		{"ÅSA ownr:x", 5, `unknown field "ownr"`, ""},
	}
	for _, tt := range tests {
		f, err := filter.Parse(tt.expr, audit.Vocabulary)
		if err == nil {
			t.Errorf("filter.Parse(%q, audit.Vocabulary) = %q, want an error", tt.expr, f.String())
			continue
		}
		var fe *filter.Error
		if !errors.As(err, &fe) {
			t.Errorf("filter.Parse(%q, audit.Vocabulary): %T is not a *filter.Error", tt.expr, err)
			continue
		}
		if fe.Pos != tt.pos || fe.Msg != tt.msg || !strings.Contains(fe.Hint, tt.hint) || fe.Expr != tt.expr {
			t.Errorf("filter.Parse(%q, audit.Vocabulary):\n got pos %d msg %q hint %q\nwant pos %d msg %q hint containing %q",
				tt.expr, fe.Pos, fe.Msg, fe.Hint, tt.pos, tt.msg, tt.hint)
		}
		if strings.ContainsAny(err.Error(), "\n\r") {
			t.Errorf("filter.Parse(%q, audit.Vocabulary): Error() is not one line: %q", tt.expr, err.Error())
		}
	}
}

func TestFilterErrorText(t *testing.T) {
	_, err := filter.Parse("ownr:alice", audit.Vocabulary)
	want := `filter: unknown field "ownr" at column 1 (did you mean "owner"? fields: kind, finding, severity, owner, ` +
		`scope, name, id, source, account, status, person, campaign, decision, reviewer, unused, expires, age, rotated, used, attr.KEY, perm, perm.NAME; ` +
		`quote text containing ":" to search for it)`
	if err.Error() != want {
		t.Errorf("Error() =\n%s\nwant\n%s", err, want)
	}

	_, err = filter.Parse("kind:deploy_key  (owner:none", audit.Vocabulary)
	fe := err.(*filter.Error)
	if got, want := fe.Caret(), "kind:deploy_key  (owner:none\n                 ^"; got != want {
		t.Errorf("Caret() =\n%s\nwant\n%s", got, want)
	}

	// Columns count characters; the caret line stays aligned, and
	// terminal controls in the expression never reach the terminal.
	_, err = filter.Parse("ÅSA\x1b[31m\tsevrity:x", audit.Vocabulary)
	fe = err.(*filter.Error)
	if fe.Pos != 10 || fe.Column() != 10 {
		t.Errorf("pos %d column %d, want 10, 10", fe.Pos, fe.Column())
	}
	if got, want := fe.Caret(), "ÅSA sevrity:x\n    ^"; got != want {
		t.Errorf("Caret() =\n%q\nwant\n%q", got, want)
	}
	if !strings.Contains(err.Error(), "at column 10") {
		t.Errorf("Error() = %q", err)
	}
}

func TestFilterNilAndEmpty(t *testing.T) {
	id := filterFixture()["key"]
	var nilFilter *filter.Filter
	if !nilFilter.Match(id, nil) || nilFilter.String() != "" {
		t.Error("a nil *filter.Filter must match everything and print as empty")
	}
	f, err := filter.Parse("", audit.Vocabulary)
	if err != nil || !f.Match(id, nil) || f.String() != "" {
		t.Errorf("empty filter: %v", err)
	}
	// No env: no campaign in view, so no identity has a decision, not
	// even pending, no reviewer and no campaign; and no time terms.
	for _, expr := range []string{"decision:pending kind:deploy_key", "reviewer:me", "reviewer:any", "campaign:q3"} {
		f, _ = filter.Parse(expr, audit.Vocabulary)
		if f.Match(id, nil) {
			t.Errorf("%s with a nil env must not match", expr)
		}
	}
}

// TestFilterActive: the lists show active identities unless the filter
// says which statuses it wants.
func TestFilterActive(t *testing.T) {
	ids := filterFixture()
	env := filterFixtureEnv(ids)
	for _, tt := range []struct{ expr, want string }{
		{"", "app hook key newkey pat sso"},
		{"owner:dave or owner:none", "key newkey"},
		{"status:removed", "secret"},
		{"status:any owner:dave", "secret"},
		{"-status:active", "secret"},
	} {
		f, err := filter.Parse(tt.expr, audit.Vocabulary)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(filterMatching(t, filter.Active(f, audit.Vocabulary), ids, env), " "); got != tt.want {
			t.Errorf("Active(%q) matches %q, want %q", tt.expr, got, tt.want)
		}
	}
	a, _ := filter.Parse("campaign:q3 reviewer:me", audit.Vocabulary)
	b, _ := filter.Parse("status:any campaign:Q3 campaign:q2", audit.Vocabulary)
	if f := filter.And(a, b); f.String() != "campaign:q3 reviewer:me status:any campaign:Q3 campaign:q2" ||
		!f.HasStatus() || !f.NeedsCampaign() || strings.Join(f.Campaigns(), " ") != "q3 q2" {
		t.Errorf("And = %q, campaigns %q", f, f.Campaigns())
	}
	if filter.And(nil, b) != b || filter.And(a, nil) != a {
		t.Error("And with nil must be the other filter")
	}
	if f := filter.Active(nil, audit.Vocabulary); f.String() != "status:active" || !f.HasStatus() {
		t.Errorf("Active(nil) = %q", f.String())
	}
}

// TestFilterCampaignNeeds: a caller learns which campaigns a filter names
// and whether it reads the campaign in view, to load those campaigns and
// refuse a filter it cannot answer.
func TestFilterCampaignNeeds(t *testing.T) {
	for _, tt := range []struct {
		expr      string
		campaigns string
		inView    bool
		decisions bool
	}{
		{"kind:deploy_key owner:none", "", false, false},
		{"decision:pending", "", true, true},
		{"reviewer:me or finding:stale", "", true, false},
		{"campaign:q3 -campaign:Q2 campaign:Q3", "q3 Q2", false, false},
		{`campaign:"Q3 review" decision:keep`, "Q3 review", true, true},
		{"reviewer:me (owner:none or -decision:keep)", "", true, true},
	} {
		f, err := filter.Parse(tt.expr, audit.Vocabulary)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(f.Campaigns(), " "); got != tt.campaigns || f.NeedsCampaign() != tt.inView || f.ReadsDecisions() != tt.decisions {
			t.Errorf("%s: Campaigns() %q NeedsCampaign() %v ReadsDecisions() %v, want %q %v %v", tt.expr, got, f.NeedsCampaign(), f.ReadsDecisions(), tt.campaigns, tt.inView, tt.decisions)
		}
		// As a view narrows it, the answers stay.
		scope, _ := filter.Parse("campaign:q1 reviewer:me", audit.Vocabulary)
		if and := filter.And(scope, f); and.ReadsDecisions() != tt.decisions {
			t.Errorf("And(campaign:q1 reviewer:me, %s).ReadsDecisions() = %v", tt.expr, and.ReadsDecisions())
		}
		if active := filter.Active(f, audit.Vocabulary); active.ReadsDecisions() != tt.decisions {
			t.Errorf("Active(%s).ReadsDecisions() = %v", tt.expr, active.ReadsDecisions())
		}
	}
	var none *filter.Filter
	if none.Campaigns() != nil || none.NeedsCampaign() || none.ReadsDecisions() {
		t.Error("a nil filter names no campaign")
	}
	if _, err := filter.Parse("campaign:", audit.Vocabulary); err == nil || !strings.Contains(err.Error(), `missing value after "campaign:"`) {
		t.Errorf("campaign: without a name: %v", err)
	}
}

func TestFilterTimeTermsNeedNow(t *testing.T) {
	id := filterFixture()["key"]
	for _, expr := range []string{"unused>90d", "expires<1d", "age>1y", "rotated>1d", "expired", "owner:x or expired"} {
		f, err := filter.Parse(expr, audit.Vocabulary)
		if err != nil {
			t.Fatal(err)
		}
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(r.(string), "filter.Env.Now") {
					t.Errorf("%q with a zero Now: recovered %v, want a panic naming filter.Env.Now", expr, r)
				}
			}()
			f.Match(id, &filter.Env{})
		}()
	}
}

// TestFilterDurationBoundaries pins the whole-unit rule: "unused>90d" is
// 91 days or more, as the stale rule counts whole days.
func TestFilterDurationBoundaries(t *testing.T) {
	tests := []struct {
		idle time.Duration
		expr string
		want bool
	}{
		{90 * 24 * time.Hour, "unused>90d", false},
		{91*24*time.Hour - time.Nanosecond, "unused>90d", false},
		{91 * 24 * time.Hour, "unused>90d", true},
		{90*24*time.Hour - time.Nanosecond, "unused>=90d", false},
		{90 * 24 * time.Hour, "unused>=90d", true},
		{90*24*time.Hour - time.Nanosecond, "unused<90d", true},
		{90 * 24 * time.Hour, "unused<90d", false},
		{91*24*time.Hour - time.Nanosecond, "unused<=90d", true},
		{91 * 24 * time.Hour, "unused<=90d", false},
		{-time.Hour, "unused<1h", true}, // used "in the future": clock skew counts as recent
		{0, "unused<1h", true},
		{time.Hour, "unused<1h", false},
	}
	for _, tt := range tests {
		used := filterTestNow.Add(-tt.idle)
		id := &audit.Identity{Observation: audit.Observation{ID: "x", Kind: audit.KindGitHubDeployKey, LastUsedAt: &used}}
		f, err := filter.Parse(tt.expr, audit.Vocabulary)
		if err != nil {
			t.Fatal(err)
		}
		if got := f.Match(id, &filter.Env{Now: filterTestNow}); got != tt.want {
			t.Errorf("idle %v: %q = %v, want %v", tt.idle, tt.expr, got, tt.want)
		}
	}
	// expires counts the time left the same way; the past is negative.
	for _, tt := range []struct {
		left time.Duration
		expr string
		want bool
	}{
		{14*24*time.Hour - time.Nanosecond, "expires<14d", true},
		{14 * 24 * time.Hour, "expires<14d", false},
		{-time.Nanosecond, "expires<0d", true},
		{0, "expires<0d", false},
		{0, "expired", false},
		{-time.Nanosecond, "expired", true},
		{31 * 24 * time.Hour, "expires>30d", true},
		{31*24*time.Hour - time.Nanosecond, "expires>30d", false},
	} {
		exp := filterTestNow.Add(tt.left)
		id := &audit.Identity{Observation: audit.Observation{ID: "x", Kind: audit.KindGitHubFineGrainedPAT, ExpiresAt: &exp}}
		f, err := filter.Parse(tt.expr, audit.Vocabulary)
		if err != nil {
			t.Fatal(err)
		}
		if got := f.Match(id, &filter.Env{Now: filterTestNow}); got != tt.want {
			t.Errorf("left %v: %q = %v, want %v", tt.left, tt.expr, got, tt.want)
		}
	}
}

func TestFilterMatchDoesNotAllocate(t *testing.T) {
	ids := filterFixture()
	env := filterFixtureEnv(ids)
	list := make([]*audit.Identity, 0, len(ids))
	for _, id := range ids {
		list = append(list, id)
	}
	for _, expr := range []string{
		"kind:github_deploy_key or (finding:stale -owner:none) scope:acme/api*",
		`deploy or "ops key" or api*7 or åsa`,
		"unused>90d or expires<14d or age>1y or rotated>90d or expired or used:never",
		"decision:pending severity:high perm:write attr.suspended:false perm.contents:any owner:alice* name:*token* id:*:7?7",
		"reviewer:me or reviewer:bob* or reviewer:none or campaign:q2 or campaign:Q3 -decision:keep",
	} {
		f, err := filter.Parse(expr, audit.Vocabulary)
		if err != nil {
			t.Fatal(err)
		}
		allocs := testing.AllocsPerRun(100, func() {
			for _, id := range list {
				f.Match(id, env)
			}
		})
		if allocs != 0 {
			t.Errorf("%q: %.1f allocations per pass, want 0", expr, allocs)
		}
	}
}
