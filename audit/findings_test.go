package audit

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/filter"
)

var evalNow = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

func daysAgo(n int) *time.Time {
	t := evalNow.AddDate(0, 0, -n)
	return &t
}

func TestFindingRules(t *testing.T) {
	ev := NewEvaluator(DefaultPolicy(), evalNow)
	ev.SetMembers("acme", []string{"alice", "Bob"})
	cases := []struct {
		name string
		id   Identity
		want map[string]string // rule -> part of the message; rules absent must not fire
	}{
		{"stale deploy key", Identity{Owner: "alice", Observation: Observation{Kind: KindGitHubDeployKey, Name: "deploy",
			CreatedAt: daysAgo(30), LastUsedAt: ptr(time.Date(2022, 1, 10, 0, 0, 0, 0, time.UTC)), Permissions: map[string]string{"contents": "read"}}},
			map[string]string{RuleStale: "last used 2022-01-10, 1,756 days ago; policy: 90"}},
		{"recently used key", Identity{Owner: "alice", Observation: Observation{Kind: KindGitHubDeployKey, CreatedAt: daysAgo(20), LastUsedAt: daysAgo(89)}},
			map[string]string{}},
		{"never used key", Identity{Owner: "alice", Observation: Observation{Kind: KindGitHubDeployKey, CreatedAt: daysAgo(31)}},
			map[string]string{RuleStale: "never used since it was created 2026-10-01, 31 days ago; policy: 30"}},
		{"secret without last use is not stale", Identity{Owner: "alice", Observation: Observation{Kind: KindGitHubActionsSecret, Name: "NPM_TOKEN", CreatedAt: daysAgo(10), RotatedAt: daysAgo(10)}},
			map[string]string{}},
		{"unrotated secret", Identity{Owner: "alice", Observation: Observation{Kind: KindGitHubActionsSecret, Name: "AWS_KEY", CreatedAt: daysAgo(400), RotatedAt: daysAgo(91)}},
			map[string]string{RuleUnrotated: "value last changed 2026-08-02, 91 days ago; policy: 90"}},
		{"old deploy key is unrotated and can push", Identity{Owner: "alice", Observation: Observation{Kind: KindGitHubDeployKey, CreatedAt: daysAgo(1000), LastUsedAt: daysAgo(1),
			Permissions: map[string]string{"contents": "write"}}},
			map[string]string{RuleUnrotated: "key created 2024-02-05, 1,000 days ago, never replaced", RuleOverprivileged: "key can push"}},
		{"fine-grained PAT without expiry", Identity{Observation: Observation{Kind: KindGitHubFineGrainedPAT, Name: "release", CreatedAt: daysAgo(5), LastUsedAt: daysAgo(1),
			Permissions: map[string]string{"repository.contents": "read", "organization.members": "admin"}, Attributes: map[string]string{"owner": "alice", "repository_selection": "all"}}},
			map[string]string{RuleNoExpiry: "never expires", RuleOverprivileged: "admin: organization.members", RuleBroadScope: "all repositories", RuleHumanCredential: "a person's token (alice)"}},
		{"expired PAT", Identity{Observation: Observation{Kind: KindGitHubFineGrainedPAT, CreatedAt: daysAgo(100), LastUsedAt: daysAgo(60), ExpiresAt: daysAgo(53),
			Attributes: map[string]string{"owner": "bob"}}},
			map[string]string{RuleExpired: "expired 2026-09-09, 53 days ago, but still present", RuleHumanCredential: "bob"}},
		{"expiring PAT", Identity{Observation: Observation{Kind: KindGitHubFineGrainedPAT, CreatedAt: daysAgo(100), LastUsedAt: daysAgo(1), ExpiresAt: daysAgo(-7),
			Attributes: map[string]string{"owner": "bob"}}},
			map[string]string{RuleExpiring: "expires 2026-11-08, in 7 days; policy: 14", RuleHumanCredential: "bob"}},
		{"PAT of someone who left", Identity{Observation: Observation{Kind: KindGitHubFineGrainedPAT, CreatedAt: daysAgo(10), LastUsedAt: daysAgo(1), ExpiresAt: daysAgo(-60),
			Attributes: map[string]string{"owner": "mallory"}}},
			map[string]string{RuleOrphaned: "mallory, who holds it according to the source, is no longer a member of acme", RuleHumanCredential: "mallory"}},
		{"recorded owner who left", Identity{Owner: "@carol", Observation: Observation{Kind: KindGitHubActionsSecret, RotatedAt: daysAgo(1)}},
			map[string]string{RuleOrphaned: "owner carol is no longer a member of acme"}},
		{"email owner is not checked for membership", Identity{Owner: "carol@acme.com", Observation: Observation{Kind: KindGitHubActionsSecret, RotatedAt: daysAgo(1)}},
			map[string]string{}},
		{"nobody owns it", Identity{Observation: Observation{Kind: KindGitHubActionsSecret, RotatedAt: daysAgo(1)}},
			map[string]string{RuleOrphaned: "no owner recorded"}},
		{"org secret visible to all repos", Identity{Owner: "alice", Observation: Observation{Kind: KindGitHubActionsSecret, RotatedAt: daysAgo(1), Attributes: map[string]string{"visibility": "all"}}},
			map[string]string{RuleBroadScope: "visible to all repositories"}},
		{"runner of a group open to every repository", Identity{Owner: "alice", Observation: Observation{Kind: KindGitHubRunner,
			Attributes: map[string]string{"status": "online", "runner_group": "Default", "runner_group_visibility": "all"}}},
			map[string]string{RuleBroadScope: "runs jobs of all repositories (runner group Default)"}},
		{"App that bypasses a ruleset", Identity{Owner: "alice", Observation: Observation{Kind: KindGitHubAppInstallation, Name: "deployer",
			Permissions: map[string]string{"metadata": "read"},
			Attributes:  map[string]string{"app_slug": "deployer", "repository_selection": "selected", "suspended": "false", "bypasses_rulesets": "protect-main"}}},
			map[string]string{RuleThirdParty: "App deployer", RuleOverprivileged: "bypasses rulesets: protect-main"}},
		{"read-only deploy key that bypasses a ruleset", Identity{Owner: "alice", Observation: Observation{Kind: KindGitHubDeployKey, CreatedAt: daysAgo(10), LastUsedAt: daysAgo(1),
			Permissions: map[string]string{"contents": "read"}, Attributes: map[string]string{"bypasses_rulesets": "protect-main"}}},
			map[string]string{RuleOverprivileged: "bypasses rulesets: protect-main"}},
		{"PAT-like secret name", Identity{Owner: "alice", Observation: Observation{Kind: KindGitHubActionsSecret, Name: "GH_ADMIN_PAT", RotatedAt: daysAgo(1)}},
			map[string]string{RuleHumanCredential: "secret GH_ADMIN_PAT looks like a personal access token"}},
		{"third-party app on all repos", Identity{Owner: "alice", Observation: Observation{Kind: KindGitHubAppInstallation, Name: "renovate",
			Permissions: map[string]string{"contents": "write", "metadata": "read", "administration": "admin"},
			Attributes:  map[string]string{"app_slug": "renovate", "repository_selection": "all", "suspended": "false"}}},
			map[string]string{RuleThirdParty: "App renovate is not one of the organisation's own Apps", RuleOverprivileged: "admin: administration; write: contents", RuleBroadScope: "all repositories"}},
		{"insecure webhook", Identity{Owner: "alice", Observation: Observation{Kind: KindGitHubWebhook,
			Attributes: map[string]string{"has_secret": "false", "insecure_ssl": "1", "url": "http://ci.example.com/hook", "active": "true"}}},
			map[string]string{RuleInsecureWebhook: "no secret, so receivers cannot verify deliveries; TLS certificate verification is off; delivers over plain HTTP"}},
		{"healthy webhook", Identity{Owner: "alice", Observation: Observation{Kind: KindGitHubWebhook,
			Attributes: map[string]string{"has_secret": "true", "insecure_ssl": "0", "url": "https://ci.example.com/hook", "active": "true"}}},
			map[string]string{}},
		{"inactive webhook, offline runner", Identity{Owner: "alice", Observation: Observation{Kind: KindGitHubWebhook,
			Attributes: map[string]string{"has_secret": "true", "insecure_ssl": "0", "url": "https://x", "active": "false"}}},
			map[string]string{RuleStale: "webhook is inactive"}},
		{"personal key as deploy key", Identity{Owner: "alice", Observation: Observation{Kind: KindGitHubDeployKey, Name: "dana-laptop", CreatedAt: daysAgo(3), LastUsedAt: daysAgo(1)}},
			map[string]string{RuleHumanCredential: `deploy key "dana-laptop" is named like a person's own machine`}},
		{"offline runner", Identity{Owner: "alice", Observation: Observation{Kind: KindGitHubRunner, Attributes: map[string]string{"status": "offline"}}},
			map[string]string{RuleStale: "runner is offline"}},
		{"classic PAT via SSO", Identity{Observation: Observation{Kind: KindGitHubCredentialAuthorization, CreatedAt: daysAgo(3), LastUsedAt: daysAgo(1),
			Attributes: map[string]string{"login": "bob", "credential_type": "personal access token", "scopes": "repo, read:org, admin:org"}}},
			map[string]string{RuleNoExpiry: "never expires", RuleOverprivileged: "scopes: repo, admin:org", RuleHumanCredential: "personal access token of bob"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := map[string]Finding{}
			for _, f := range ev.Evaluate(&c.id, "acme") {
				got[f.Rule] = f
			}
			for rule, msg := range c.want {
				f, ok := got[rule]
				if !ok {
					t.Errorf("%s did not fire (got %v)", rule, got)
					continue
				}
				if !strings.Contains(f.Message, msg) {
					t.Errorf("%s: message %q does not say %q", rule, f.Message, msg)
				}
				if f.Severity != DefaultPolicy().Rules[rule].Severity || f.OWASP != OWASPNHI[rule] {
					t.Errorf("%s: severity %s owasp %s", rule, f.Severity, f.OWASP)
				}
			}
			for rule := range got {
				if _, ok := c.want[rule]; !ok {
					t.Errorf("%s fired unexpectedly: %s", rule, got[rule].Message)
				}
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// TestEveryRuleFitsEvaluateRoom guards evaluate's stack buffer: an
// identity can fire every rule, and each finding must have a place.
func TestEveryRuleFitsEvaluateRoom(t *testing.T) {
	if len(Rules) > evaluateRoom {
		t.Fatalf("%d rules, but evaluate gathers at most %d findings: raise evaluateRoom", len(Rules), evaluateRoom)
	}
}

func TestPolicyChangesFindings(t *testing.T) {
	id := Identity{Owner: "alice", Observation: Observation{Kind: KindGitHubActionsSecret, RotatedAt: daysAgo(100),
		Attributes: map[string]string{"visibility": "all"}}}
	p, err := ParsePolicy([]byte(`
rules:
  unrotated: {days: 120, severity: high}
  broad-scope: {enabled: false}
`))
	if err != nil {
		t.Fatal(err)
	}
	if fs := NewEvaluator(p, evalNow).Evaluate(&id, "acme"); len(fs) != 0 {
		t.Errorf("with unrotated at 120 days and broad-scope off: %v", fs)
	}
	id.RotatedAt = daysAgo(121)
	fs := NewEvaluator(p, evalNow).Evaluate(&id, "acme")
	if len(fs) != 1 || fs[0].Severity != "high" || !strings.Contains(fs[0].Message, "policy: 120") {
		t.Errorf("findings %v", fs)
	}
	// Rules the file leaves out keep their defaults.
	if p.Rules[RuleStale].UnusedDays != 90 || p.Rules[RuleExpiring].Days != 14 {
		t.Errorf("defaults lost: %+v", p.Rules)
	}
}

func TestParsePolicyRefusesMistakes(t *testing.T) {
	for in, says := range map[string]string{
		"rules:\n  stael: {days: 3}\n":          `unknown rule "stael"; did you mean "stale"?`,
		"rules:\n  stale: {unused_dayz: 3}\n":   `line 2: unknown key "unused_dayz" in a rule; did you mean "unused_days"? (keys: enabled, severity, days, unused_days, never_used_days; nhi help policy)`,
		"rule:\n  stale: {days: 3}\n":           `line 1: unknown key "rule" at the top of the file; did you mean "rules"?`,
		"rules:\n  stale: {severity: urgent}\n": `severity "urgent"`,
		"version: 2\n":                          "version 2 is not supported",
		"rules:\n  unrotated: {days: -1}\n":     "cannot be negative",
		"first_party_apps: notalist\n":          `line 1: the text "notalist" is not a list of names`,
		"rules: [\n":                            "policy:",
		// 0 is taken as written, never as "the default": refused while the
		// rule is on, accepted for a rule turned off.
		"rules:\n  expiring: {days: 0, enabled: true}":      "rule expiring needs days greater than 0",
		"rules:\n  stale: {never_used_days: 0}":             "rule stale needs never_used_days greater than 0",
		"rules:\n  expiring: {days: 0, enabled: false}":     "",
		"rules:\n  unrotated: {days: 1.5}\n":                `line 2: "1.5" is not a whole number`,
		"rules:\n  unrotated: {days: \"30\"}\n":             `"30" is not a whole number`,
		"version: 1.0\n":                                    `"1.0" is not a whole number`,
		"rules:\n  unrotated: {days: 30}\n---\nrules: {}\n": "more than one YAML document",
		"": "the file is empty",
		// The exception fields (docs/policy.md, "Exceptions"): a typo in a
		// key or a value is refused, never ignored.
		"exception_day: 30\n":            `unknown key "exception_day" at the top of the file; did you mean "exception_days"?`,
		"exception_approval: requried\n": `exception_approval "requried" is not one of required, none`,
		"exception_days: 0\n":            "exception_days needs a number greater than 0",
		"exception_days: -5\n":           "exception_days cannot be negative",
		"exception_days: 1.5\n":          `"1.5" is not a whole number`,
		"exceptions:\n  days: 30\n":      `(keys: version, first_party_apps, rules, review, exception_days, exception_approval; nhi help policy)`,
		"exception_approval: required\n": "",
		// A value of the wrong shape names what the file wanted in its
		// own words, never the Go type behind it.
		"- a\n- b\n":                        "line 1: a list is not a policy: it is key: value lines (keys: version, first_party_apps, rules, review, exception_days, exception_approval; nhi help policy)",
		"hello\n":                           `line 1: the text "hello" is not a policy`,
		"rules:\n  stale: 5\n":              "line 2: the number 5 is not a rule: it is key: value lines (keys: enabled, severity, days,",
		"rules: [stale]\n":                  "line 1: a list is not the rules: they are a rule's name, then its keys indented under it (rules: automount-with-permissions,",
		"review: 5\n":                       "line 1: the number 5 is not the review section: it is key: value lines (keys: min_reason_chars,",
		"rules:\n  stale: {enabled: maybe}": `line 2: the text "maybe" is not true or false`,
		"exception_approval: [a]\n":         "line 1: a list is not a single value",
		"version: [1]\n":                    "line 1: a list is not a whole number",
		"exception_days: 30\nrules: {}\n":   "",
	} {
		_, err := ParsePolicy([]byte(in))
		if says == "" {
			if err != nil {
				t.Errorf("%q: %v", in, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), says) {
			t.Errorf("%q: error %v; want it to say %q", in, err, says)
		}
		if err != nil && strings.Contains(err.Error(), "audit.") {
			t.Errorf("%q: the error names a Go type: %v", in, err)
		}
	}
}

func TestPolicyYAMLRoundTrip(t *testing.T) {
	p := DefaultPolicy()
	p.FirstPartyApps = []string{"northwind-deployer"}
	off := false
	r := p.Rules[RuleThirdParty]
	r.Enabled = &off
	p.Rules[RuleThirdParty] = r
	back, err := ParsePolicy([]byte(p.YAML()))
	if err != nil {
		t.Fatalf("%v\n%s", err, p.YAML())
	}
	if back.Digest() != p.Digest() {
		t.Errorf("YAML round trip changed the policy:\n%s", p.YAML())
	}
}

// The exception fields round-trip through nhi policy show, and a policy
// that leaves them out keeps the digest it had before they existed.
func TestPolicyExceptionFields(t *testing.T) {
	p, err := ParsePolicy([]byte("version: 1\nexception_days: 30\nexception_approval: required\n"))
	if err != nil {
		t.Fatal(err)
	}
	if p.ExceptionDays() != 30 || !p.ApprovalRequired() {
		t.Errorf("parsed: %+v", p.ExceptionPolicy)
	}
	back, err := ParsePolicy([]byte(p.YAML()))
	if err != nil || back.Digest() != p.Digest() {
		t.Errorf("round trip: %v\n%s", err, p.YAML())
	}
	d := DefaultPolicy()
	if d.ExceptionDays() != 90 || d.ApprovalRequired() {
		t.Errorf("defaults: %d days, approval %v", d.ExceptionDays(), d.ApprovalRequired())
	}
	if body, _ := d.canonical(); strings.Contains(body, "exception_") {
		t.Errorf("unset exception fields are in the canonical form: %s", body)
	}
	if back, err := ParsePolicy([]byte(d.YAML())); err != nil || back.Digest() != d.Digest() {
		t.Errorf("the default's round trip: %v\n%s", err, d.YAML())
	}
}

func TestSetPolicyIsAnEventAndAppliesToNewSnapshots(t *testing.T) {
	eachEngine(t, func(t *testing.T, eng testEngine) {
		s := openAt(t, eng.new(t))
		secret := Observation{ID: "github:acme:github_actions_secret:acme/X", Kind: KindGitHubActionsSecret, Name: "X", Scope: "acme", RotatedAt: ptr(time.Now().AddDate(0, 0, -100))}
		first := snapshot(t, s, nil, nil, secret)
		p := DefaultPolicy()
		r := p.Rules[RuleUnrotated]
		r.Days = 365
		p.Rules[RuleUnrotated] = r
		ev, err := s.SetPolicy(ctx, "auditor@acme.test", p)
		if err != nil || ev.Type != EventPolicySet {
			t.Fatalf("SetPolicy: %+v %v", ev, err)
		}
		got, _, _ := s.Policy(ctx)
		if got.Digest() != p.Digest() {
			t.Error("policy in force is not the one set")
		}
		// Live findings follow the new policy at once...
		id, _ := s.Identity(ctx, secret.ID)
		for _, f := range id.Findings {
			if f.Rule == RuleUnrotated {
				t.Errorf("unrotated still fires under a 365-day policy: %s", f.Message)
			}
		}
		// ...while the first snapshot keeps the findings it was taken with.
		frozen, _ := s.SnapshotFindings(ctx, first.ID)
		if fs := frozen[secret.ID]; len(fs) == 0 || fs[0].Rule != RuleUnrotated {
			t.Errorf("first snapshot's frozen findings: %v", fs)
		}
		second := snapshot(t, s, nil, nil, secret)
		if frozen, _ := s.SnapshotFindings(ctx, second.ID); len(frozen[secret.ID]) != 0 {
			t.Errorf("second snapshot under the new policy: %v", frozen[secret.ID])
		}
		if r, err := s.Verify(ctx); err != nil || !r.OK() {
			t.Fatalf("verify: %+v %v", r, err)
		}
		tamper(t, s, `UPDATE meta SET value = '1' WHERE key = 'policy_id'`)
		if r, _ := s.Verify(ctx); r.OK() || !strings.Contains(r.Problems[0], "policy in force") {
			t.Errorf("a policy switched behind nhi's back was not detected: %v", r.Problems)
		}
	})
}

// BenchmarkFindings100k recomputes every finding of 100,000 identities, as
// a policy change does. Target: ≤ 1 s.
func BenchmarkFindings100k(b *testing.B) {
	ids := make([]Identity, 100_000)
	for i := range ids {
		o := obs("x", Kinds[i%len(Kinds)])
		o.LastUsedAt = daysAgo(i % 400)
		o.ExpiresAt = daysAgo(i%60 - 30)
		if i%3 == 0 {
			o.Attributes = map[string]string{"owner": "alice", "visibility": "all", "has_secret": "false", "repository_selection": "all"}
		}
		ids[i] = Identity{Observation: o}
		if i%2 == 0 {
			ids[i].Owner = "bob"
		}
	}
	ev := NewEvaluator(DefaultPolicy(), evalNow)
	ev.SetMembers("acme", []string{"alice"})
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		for i := range ids {
			n += len(ev.Evaluate(&ids[i], "acme"))
		}
	}
	b.ReportMetric(float64(n)/float64(b.N)/float64(len(ids)), "findings/identity")
}

// The filter's unused>90d and the stale rule count days the same way, so
// a scope of "unused>90d" selects exactly what the stale rule flags.
func TestUnusedFilterAgreesWithStaleRule(t *testing.T) {
	f, err := filter.Parse("unused>90d", Vocabulary)
	if err != nil {
		t.Fatal(err)
	}
	stale, _ := filter.Parse("finding:stale", Vocabulary)
	ev := NewEvaluator(DefaultPolicy(), evalNow)
	for days := 85; days <= 95; days++ {
		id := Identity{Owner: "alice", Observation: Observation{Kind: KindGitHubDeployKey, CreatedAt: daysAgo(days), LastUsedAt: daysAgo(days)}}
		id.Findings = ev.Evaluate(&id, "acme")
		env := &filter.Env{Now: evalNow}
		if f.Match(&id, env) != stale.Match(&id, env) {
			t.Errorf("last used %d days ago: unused>90d=%v, stale=%v", days, f.Match(&id, env), stale.Match(&id, env))
		}
		if want := days > 90; stale.Match(&id, env) != want {
			t.Errorf("last used %d days ago: stale=%v, want %v", days, !want, want)
		}
	}
}

// TestPolicyReviewThresholds: the review section's thresholds take their
// defaults when left out (and a policy setting none keeps its digest),
// round-trip through the file, and refuse what cannot work.
func TestPolicyReviewThresholds(t *testing.T) {
	def := DefaultPolicy()
	if got := def.ReviewThresholds(); got != DefaultReview() || got.MinReasonChars != 10 {
		t.Errorf("default thresholds %+v", got)
	}
	if body, _ := def.canonical(); strings.Contains(body, "review") {
		t.Errorf("a policy that sets no review threshold records one: %s", body)
	}
	// The default, as `nhi policy show` prints it, is the default again.
	back, err := ParsePolicy([]byte(def.YAML()))
	if err != nil {
		t.Fatal(err)
	}
	if back.Digest() != def.Digest() {
		t.Errorf("the default policy's YAML parses to another digest:\n%s", def.YAML())
	}
	p, err := ParsePolicy([]byte("version: 1\nreview:\n  min_reason_chars: 20\n  max_bulk_percent: 90\n"))
	if err != nil {
		t.Fatal(err)
	}
	got := p.ReviewThresholds()
	if got.MinReasonChars != 20 || got.MaxBulkPercent != 90 || got.MaxReasonKinds != 3 || got.MaxDecisionsPerMinute != 6 {
		t.Errorf("thresholds %+v", got)
	}
	if p.Digest() == def.Digest() {
		t.Error("a policy with its own thresholds has the default's digest")
	}
	if back, err := ParsePolicy([]byte(p.YAML())); err != nil || back.Digest() != p.Digest() {
		t.Errorf("round trip: %v\n%s", err, p.YAML())
	}
	for in, says := range map[string]string{
		"version: 1\nreview:\n  min_reason_chars: 0\n":           "min_reason_chars must be 1 or more",
		"version: 1\nreview:\n  max_bulk_percent: 120\n":         "over 100",
		"version: 1\nreview:\n  max_decisions_per_minute: 2.5\n": "not a whole number",
		"version: 1\nreview:\n  min_reason_length: 5\n":          "min_reason_length",
		"version: 1\nreview:\n  max_kept_findings_percent: -1\n": "1 or more",
	} {
		if _, err := ParsePolicy([]byte(in)); err == nil || !strings.Contains(err.Error(), says) {
			t.Errorf("%q: error %v; want it to say %q", in, err, says)
		}
	}
}

// The plain scans that stand in for personalKey and patName on ASCII
// names say what the expressions say, and non-ASCII names still go to the
// expressions (their case folding matches ſ and K).
func TestNameScansAgreeWithExpressions(t *testing.T) {
	names := []string{
		"", "key-1", "deploy", "Alice's Laptop", "MacBook Pro", "ci desktop", "WORKSTATION 3", "personal", "impersonal key",
		"alice's key", "ALICE'S KEY", "my key", "My Key", "mykey", "my keys", "xmy key", "my key_", "_my key", "(my key)", "my-key", "my my key",
		"GH_PAT", "gh_pat", "PAT", "pat", "MY_PAT", "PAT_X", "PATTERN", "SPAT", "X_PAT_Y", "PERSONAL_ACCESS_TOKEN", "OLD_GH_TOKEN_2",
		"GITHUB_TOKEN", "GITHUB_TOKENS", "_PAT_", "PAT_", "__PAT", "GH__PAT", "A_GH_TOKEN", "GH_TOKENX", "pat_pat",
		"ſ's key", "LAPTOP\u212a", "naïve laptop", "PAT\u00e9", "\u212aEY", "my \u212aey", "PAtoken", "xx_gh_pat",
	}
	for _, n := range names {
		if got, want := personalKeyName(n), personalKey.MatchString(n); got != want {
			t.Errorf("personalKeyName(%q) = %v, the expression says %v", n, got, want)
		}
		if got, want := patSecretName(n), patName.MatchString(n); got != want {
			t.Errorf("patSecretName(%q) = %v, the expression says %v", n, got, want)
		}
	}
}

func TestDayIsTheLayoutsDate(t *testing.T) {
	for _, tm := range []time.Time{evalNow, time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(999, 12, 31, 23, 0, 0, 0, time.UTC),
		time.Date(2026, 3, 9, 23, 59, 59, 0, time.FixedZone("x", -5*3600)), time.Date(12000, 5, 6, 0, 0, 0, 0, time.UTC), time.Date(-3, 5, 6, 0, 0, 0, 0, time.UTC)} {
		if got, want := day(&tm), tm.UTC().Format("2006-01-02"); got != want {
			t.Errorf("day(%v) = %q, want %q", tm, got, want)
		}
	}
}

func TestFormatTimeIsTheLayouts(t *testing.T) {
	for _, tm := range []time.Time{evalNow, time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(999, 12, 31, 23, 59, 58, 999, time.UTC),
		time.Date(2026, 3, 9, 23, 59, 59, 0, time.FixedZone("x", -5*3600)), time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(12000, 5, 6, 7, 8, 9, 0, time.UTC), time.Date(-3, 5, 6, 0, 0, 0, 0, time.UTC)} {
		if got, want := formatTime(tm), tm.UTC().Format(TimeLayout); got != want {
			t.Errorf("formatTime(%v) = %q, want %q", tm, got, want)
		}
	}
}

// evaluate checks, per kind, only the rules canFire says can fire for it:
// for every kind (and an imported one), in variants that set off every
// rule somewhere, with and without an owner, under the default policy
// and one with rules turned off, it finds exactly what checking every
// rule that is on finds.
func TestEvaluateChecksOnlyRulesThatCanFire(t *testing.T) {
	more := []func(o *Observation){
		func(o *Observation) { o.LastUsedAt, o.RotatedAt = nil, nil },
		func(o *Observation) {
			o.CreatedAt, o.LastUsedAt, o.RotatedAt, o.ExpiresAt = nil, nil, nil, nil
			o.Permissions, o.Attributes = nil, nil
		},
		func(o *Observation) {
			for k, v := range map[string]string{"managed_by": "aws", "invalid_since": "2026-01-01", "insecure_ssl": "1", "visibility": "all",
				"last_used_service": "signin", "runner_group_visibility": "all", CertIsCA: "true"} {
				o.Attributes[k] = v
			}
			o.Name, o.Permissions = "my key", map[string]string{"contents": "write"}
		},
	}
	off := DefaultPolicy()
	for _, rule := range []string{RuleStale, RuleHumanCredential, RuleOrphaned} {
		r := off.Rules[rule]
		r.Enabled = ptr(false)
		off.Rules[rule] = r
	}
	fired := map[string]bool{}
	for _, p := range []Policy{DefaultPolicy(), off} {
		ev := NewEvaluator(p, evalNow)
		ev.SetMembers("acme", []string{"alice"})
		ev.SetExceptions(map[string]Exception{"x": {Until: evalNow.AddDate(0, 0, -1), Lapsed: "kept in q3 until 2026-10-31"}})
		for _, o := range riskyObservations(more) {
			for _, owner := range []string{"", "mallory", "alice"} {
				id := Identity{Owner: owner, Observation: o}
				got, want := ev.Evaluate(&id, "acme"), everyRuleFindings(ev, &id, "acme", true)
				if !slices.Equal(got, want) {
					t.Errorf("%s (owner %q): Evaluate found %v, every rule finds %v", o.Kind, owner, got, want)
				}
				for _, f := range got {
					fired[f.Rule] = true
				}
			}
			got, want := ev.EvaluateObservation(&o), everyRuleFindings(ev, &Identity{Observation: o}, "", false)
			if !slices.Equal(got, want) {
				t.Errorf("%s: EvaluateObservation found %v, every rule finds %v", o.Kind, got, want)
			}
		}
	}
	for _, rule := range Rules {
		if !fired[rule] {
			t.Errorf("nothing here sets off %s, so a kind it was skipped for would go unseen", rule)
		}
	}
}

// everyRuleFindings is what evaluate finds when it checks every rule that
// is on, whatever the kind.
func everyRuleFindings(e *Evaluator, id *Identity, account string, withOwners bool) []Finding {
	var out []Finding
	for i, rule := range Rules {
		r := e.rules[i]
		if !r.On() || !withOwners && OwnerDependent(rule) {
			continue
		}
		if msg := e.check(rule, &r, id, &id.Observation, account); msg != "" {
			out = append(out, Finding{Rule: rule, Severity: r.Severity, OWASP: OWASPNHI[rule], Message: msg})
		}
	}
	return out
}

// Findings kept in a slab are each identity's own: appending to one's
// leaves the next one's as it was, across the slab's blocks.
func TestFindingSlabKeepsEachIdentitysOwn(t *testing.T) {
	var slab findingSlab
	var kept [][]Finding
	for i := range 700 { // more than a block
		kept = append(kept, slab.keep([]Finding{{Rule: RuleStale, Message: fmt.Sprint(i)}, {Rule: RuleOrphaned, Message: fmt.Sprint(i)}}))
	}
	for i := range kept {
		grown := append(kept[i], Finding{Rule: RuleExpired, Message: "added"})
		if len(grown) != 3 || grown[2].Message != "added" {
			t.Fatalf("identity %d: %v", i, grown)
		}
	}
	for i, fs := range kept {
		if len(fs) != 2 || fs[0].Message != fmt.Sprint(i) || fs[1].Message != fmt.Sprint(i) {
			t.Fatalf("identity %d's findings changed: %v", i, fs)
		}
	}
}

// TestMembersAreTheNewestFinishedSnapshots: the orphaned rule reads, per
// account, the members that the newest finished snapshot which read any
// recorded: not an older snapshot's, nor a running one's; an account
// whose snapshots read none is absent (membership unknown).
func TestMembersAreTheNewestFinishedSnapshots(t *testing.T) {
	eachEngine(t, func(t *testing.T, eng testEngine) {
		s := openAt(t, eng.new(t))
		withMembers := func(account string, finish bool, logins ...string) {
			t.Helper()
			w, err := s.BeginSnapshot(ctx, SnapshotInfo{Source: "github", Account: account, APIURL: "http://127.0.0.1/", ToolVersion: "test"})
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range logins {
				if err := w.Principal(Principal{Type: PrincipalMember, Scope: account, Login: l, Role: "member"}); err != nil {
					t.Fatal(err)
				}
			}
			if finish {
				if _, err := w.Finish(ctx, nil); err != nil {
					t.Fatal(err)
				}
			}
		}
		withMembers("acme", true, "old", "alice")
		withMembers("acme", true, "alice", "Bob")
		withMembers("acme", true) // read no members: the one before stands
		withMembers("beta", true)
		withMembers("gamma", false, "carl")
		got, err := members(ctx, s.db)
		if err != nil {
			t.Fatal(err)
		}
		for _, logins := range got {
			slices.Sort(logins)
		}
		if want := map[string][]string{"acme": {"Bob", "alice"}}; !reflect.DeepEqual(got, want) {
			t.Errorf("members %v, want %v", got, want)
		}
	})
}
