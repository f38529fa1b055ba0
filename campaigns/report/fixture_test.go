package report_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
)

var ctx = context.Background()

// generatedAt is the fixed generation time of the golden reports.
var generatedAt = campaignstest.Time("2026-11-10T09:00:00Z")

func id(kind audit.Kind, key string) string { return audit.IdentityID("github", "acme", kind, key) }

// Hostile values, as an API could send them.
const (
	formulaName = `=HYPERLINK("http://evil")`
	scriptScope = `acme/<script>alert(1)</script>`
	oscName     = "ops\x1b]0;pwned\x07-key"
	pipeName    = "PIPE|TICK`X`*b*"
)

// The identities of the fixture, by role.
var (
	idRenovate   = id(audit.KindGitHubAppInstallation, "12345")
	idDeployProd = id(audit.KindGitHubDeployKey, "api/101")
	idDana       = id(audit.KindGitHubDeployKey, "web/102")
	idOpsKey     = id(audit.KindGitHubDeployKey, "ops/103")
	idOldCI      = id(audit.KindGitHubDeployKey, "api/104")
	idRetired    = id(audit.KindGitHubDeployKey, "api/100")
	idFormula    = id(audit.KindGitHubActionsSecret, "api/FORMULA")
	idNPM        = id(audit.KindGitHubActionsSecret, "web/NPM_TOKEN")
	idSentry     = id(audit.KindGitHubActionsSecret, "script/SENTRY_DSN")
	idPAT        = id(audit.KindGitHubFineGrainedPAT, "9001")
	idHook       = id(audit.KindGitHubWebhook, "org/77")
	idRunner     = id(audit.KindGitHubRunner, "org/5")
	idPipe       = id(audit.KindGitHubCodespacesSecret, "web/PIPE")
)

func observations() map[string]audit.Observation {
	old := campaignstest.TimeP("2024-01-02T03:04:05Z")
	return map[string]audit.Observation{
		idRenovate: {ID: idRenovate, Kind: audit.KindGitHubAppInstallation, Name: "renovate", Scope: "acme",
			CreatedAt: campaignstest.TimeP("2023-05-01T00:00:00Z"), Permissions: map[string]string{"contents": "write", "metadata": "read", "pull_requests": "write"},
			Attributes: map[string]string{"app_slug": "renovate", "repository_selection": "all"}},
		idDeployProd: {ID: idDeployProd, Kind: audit.KindGitHubDeployKey, Name: "deploy-prod", Scope: "acme/api", CreatedAt: old, RotatedAt: old,
			Permissions: map[string]string{"contents": "read"}, Attributes: map[string]string{"added_by": "alice", "read_only": "true"}},
		idDana: {ID: idDana, Kind: audit.KindGitHubDeployKey, Name: "dana-laptop", Scope: "acme/web", CreatedAt: old, RotatedAt: old,
			Permissions: map[string]string{"contents": "write"}, Attributes: map[string]string{"added_by": "dana", "read_only": "false"}},
		idOpsKey: {ID: idOpsKey, Kind: audit.KindGitHubDeployKey, Name: oscName, Scope: "acme/ops", CreatedAt: campaignstest.TimeP("2026-08-01T00:00:00Z"),
			LastUsedAt: campaignstest.TimeP("2026-09-28T00:00:00Z"), Permissions: map[string]string{"contents": "read"}, Attributes: map[string]string{"added_by": "bob", "read_only": "true"}},
		idOldCI: {ID: idOldCI, Kind: audit.KindGitHubDeployKey, Name: "old-ci", Scope: "acme/api", CreatedAt: old, RotatedAt: old,
			Permissions: map[string]string{"contents": "read"}, Attributes: map[string]string{"read_only": "true"}},
		idRetired: {ID: idRetired, Kind: audit.KindGitHubDeployKey, Name: "retired-key", Scope: "acme/api", CreatedAt: old, RotatedAt: old,
			Permissions: map[string]string{"contents": "read"}, Attributes: map[string]string{"added_by": "erin", "read_only": "true"}},
		idFormula: {ID: idFormula, Kind: audit.KindGitHubActionsSecret, Name: formulaName, Scope: "acme/api",
			CreatedAt: campaignstest.TimeP("2025-01-01T00:00:00Z"), RotatedAt: campaignstest.TimeP("2025-01-01T00:00:00Z")},
		idNPM: {ID: idNPM, Kind: audit.KindGitHubActionsSecret, Name: "NPM_TOKEN", Scope: "acme/web",
			CreatedAt: campaignstest.TimeP("2026-08-15T00:00:00Z"), RotatedAt: campaignstest.TimeP("2026-08-15T00:00:00Z")},
		idSentry: {ID: idSentry, Kind: audit.KindGitHubActionsSecret, Name: "SENTRY_DSN", Scope: scriptScope,
			CreatedAt: campaignstest.TimeP("2026-09-10T00:00:00Z"), RotatedAt: campaignstest.TimeP("2026-09-10T00:00:00Z")},
		idPAT: {ID: idPAT, Kind: audit.KindGitHubFineGrainedPAT, Name: "ci-token", Scope: "acme", CreatedAt: campaignstest.TimeP("2026-03-01T00:00:00Z"),
			LastUsedAt: campaignstest.TimeP("2026-09-20T00:00:00Z"), Permissions: map[string]string{"contents": "read", "metadata": "read"},
			Attributes: map[string]string{"owner": "bob", "repository_selection": "selected"}},
		idHook: {ID: idHook, Kind: audit.KindGitHubWebhook, Name: "https://hooks.example.com/deploy", Scope: "acme",
			CreatedAt: campaignstest.TimeP("2025-06-01T00:00:00Z"), Attributes: map[string]string{"has_secret": "false", "active": "true", "url": "https://hooks.example.com/deploy"}},
		idRunner: {ID: idRunner, Kind: audit.KindGitHubRunner, Name: "build-01", Scope: "acme",
			Attributes: map[string]string{"status": "offline", "labels": "self-hosted,linux"}},
		idPipe: {ID: idPipe, Kind: audit.KindGitHubCodespacesSecret, Name: pipeName, Scope: "acme/web",
			CreatedAt: campaignstest.TimeP("2026-09-15T00:00:00Z"), RotatedAt: campaignstest.TimeP("2026-09-15T00:00:00Z")},
	}
}

// fixture is the evidence file of the golden campaign, and the test or
// benchmark that builds it.
type fixture struct {
	*campaignstest.Evidence
	t testing.TB
}

// snapshot records the observations ids, and gaps, as a snapshot run at
// the time at.
func (f *fixture) snapshot(at string, gaps []audit.Gap, ids ...string) {
	f.t.Helper()
	f.Clock.Set(at)
	obs := observations()
	list := make([]audit.Observation, len(ids))
	for k, i := range ids {
		list[k] = obs[i]
	}
	f.Snapshot(f.t, gaps, list...)
}

func (f *fixture) at(s string) *fixture { f.Clock.Set(s); return f }

func (f *fixture) must(_ any, err error) {
	f.t.Helper()
	if err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) decide(at, actor, campaign, id string, d campaigns.Decision, reason string) {
	f.t.Helper()
	f.at(at).must(campaigns.Decide(ctx, f.Store, actor, campaign, id, d, reason))
}

// newFixture builds the golden campaign: a first campaign (2026-Q3) on
// snapshot 1, then 2026-Q4 on a partial snapshot 2 with carried, bulk,
// not-assignee, conflicting and missing decisions, closed, and verified
// against a partial snapshot 3. Every time comes from the fixed clock.
func newFixture(t testing.TB) *fixture { return buildFixture(t, false) }

// newFixtureOn is newFixture on engine eng.
func newFixtureOn(t testing.TB, eng campaignstest.Engine) *fixture {
	return buildFixtureOn(t, eng, false)
}

// otherFixture is the same story with one more event at the start: every
// event after it has another sequence number and hash.
func otherFixture(t testing.TB) *fixture { return buildFixture(t, true) }

func buildFixture(t testing.TB, other bool) *fixture {
	t.Helper()
	return buildFixtureOn(t, campaignstest.SQLite, other)
}

func buildFixtureOn(t testing.TB, eng campaignstest.Engine, other bool) *fixture {
	t.Helper()
	f := &fixture{Evidence: campaignstest.NewOn(t, eng, "2026-08-20T10:00:00Z"), t: t}
	f.Source = audit.SnapshotInfo{Source: "github", Account: "acme", APIURL: "https://api.github.com/",
		Credential: "token of audit-bot (scopes: admin:org, read:org, repo)", ToolVersion: "nhi test"}
	f.Takes = 3 * time.Minute
	// As the GitHub connector says it (connectors/github's lists, shortened).
	f.Reach = &audit.Reach{Unit: "repositories", Read: 4, Requests: 61,
		NotRead:      []string{"2 of 6 repositories are not visible to this credential"},
		NotCollected: []string{"Actions variables (configuration, not secrets)"},
		CannotSee:    []string{"OAuth apps and personal access tokens authorized outside SAML single sign-on", "secret values: never read (metadata only)"}}
	st := f.Store

	p := audit.DefaultPolicy()
	p.FirstPartyApps = []string{"acme-deployer"}
	rule := p.Rules[audit.RuleStale]
	rule.Severity = "high"
	p.Rules[audit.RuleStale] = rule
	f.must(st.SetPolicy(ctx, "carol", p))
	if other {
		f.must(st.SetPolicy(ctx, "mallory", p))
	}

	// 2026-Q3 on snapshot 1.
	f.snapshot("2026-09-01T08:00:00Z", nil, idRenovate, idDeployProd, idDana, idRetired, idNPM, idHook, idRunner)
	f.at("2026-09-01T09:00:00Z").must(campaigns.Create(ctx, st, "carol", campaigns.Spec{Name: "2026-Q3", Scope: "id:*", Due: "2026-09-30",
		Reviewers: []string{"alice", "bob"}, AllowAdminReview: true}))
	f.decide("2026-09-10T10:00:00Z", "carol", "2026-Q3", idNPM, campaigns.Keep, "publishes the web packages")
	f.decide("2026-09-10T10:05:00Z", "carol", "2026-Q3", idRetired, campaigns.Decommission, "")
	// A note on an identity that is gone by 2026-Q4: not in its report.
	f.at("2026-09-20T08:00:00Z").must(st.AddNotes(ctx, "carol", []string{idRetired}, "removal ticket OPS-7"))
	f.at("2026-09-30T17:00:00Z").must(campaigns.Close(ctx, st, "carol", "2026-Q3"))

	// The owner of the App, recorded before 2026-Q4.
	f.at("2026-09-30T18:00:00Z").must(st.SetOwner(ctx, "carol", idRenovate, "@acme/platform"))

	// 2026-Q4 on snapshot 2, which could not read acme/legacy's keys.
	f.snapshot("2026-10-01T06:00:00Z", []audit.Gap{{Endpoint: "GET /repos/acme/legacy/keys", Kind: audit.KindGitHubDeployKey, Scope: "acme/legacy",
		Status: 403, Reason: "Resource not accessible by integration: needs administration:read on acme/legacy"}},
		idRenovate, idDeployProd, idDana, idOpsKey, idOldCI, idFormula, idNPM, idSentry, idPAT, idHook, idRunner, idPipe)
	f.at("2026-10-01T09:00:00Z").must(campaigns.Create(ctx, st, "carol", campaigns.Spec{Name: "2026-Q4", Scope: "id:*", Due: "2026-10-31",
		Reviewers: []string{"alice", "bob"}, AllowPartial: true, CarryForward: "2026-Q3", AllowAdminReview: true}))

	f.decide("2026-10-02T09:00:00Z", "alice", "2026-Q4", idDana, campaigns.Decommission, "personal laptop key with push access")
	f.decide("2026-10-02T09:04:30Z", "alice", "2026-Q4", idOpsKey, campaigns.Decommission, "")
	f.decide("2026-10-02T09:06:00Z", "alice", "2026-Q4", idHook, campaigns.Decommission, "no secret; endpoint retired")
	// alice decommissions the runner, thinks better of it and undoes that.
	f.decide("2026-10-02T09:15:00Z", "alice", "2026-Q4", idRunner, campaigns.Decommission, "offline for months")
	head, err := st.LogHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	f.at("2026-10-02T09:18:00Z").must(campaigns.Undo(ctx, st, "alice", "2026-Q4", head.Seq))
	f.decide("2026-10-02T09:20:00Z", "alice", "2026-Q4", idRunner, campaigns.Keep, "release capacity; bring back online")
	// alice added the prod deploy key: the self-review rule refuses her, on record.
	if _, err := campaigns.Decide(ctx, st, "alice", "2026-Q4", idDeployProd, campaigns.Keep, "still needed"); !errors.Is(err, campaigns.ErrSelfReview) {
		t.Fatalf("alice deciding the key she added: %v", err)
	}
	f.decide("2026-10-05T14:00:00Z", "bob", "2026-Q4", idRenovate, campaigns.Keep, "dependency updates; owned by @acme/platform")
	f.decide("2026-10-05T14:02:00Z", "bob", "2026-Q4", idDeployProd, campaigns.Rotate, "replace with OIDC deploys by 2027-Q1")
	f.at("2026-10-05T14:02:30Z").must(st.AddNotes(ctx, "bob", []string{idDeployProd}, "asked @acme/platform in SEC-42; OIDC pilot in January"))
	f.at("2026-10-05T14:03:00Z").must(campaigns.DecideMatching(ctx, st, "bob", "2026-Q4", "name:old-*", campaigns.Decommission, "unused CI keys", false))
	f.at("2026-10-05T14:05:00Z").must(campaigns.ConfirmCarried(ctx, st, "bob", "2026-Q4", "", "unchanged since 2026-Q3, re-attested"))
	f.decide("2026-10-05T14:07:00Z", "bob", "2026-Q4", idPipe, campaigns.Keep, "=1+1 stays for now")
	// carol covers for alice, then alice decides again: a conflict.
	f.decide("2026-10-06T11:00:00Z", "carol", "2026-Q4", idSentry, campaigns.Decommission, "")
	f.decide("2026-10-06T11:30:00Z", "alice", "2026-Q4", idSentry, campaigns.Keep, "error reporting for <web>")
	f.decide("2026-10-06T11:31:00Z", "carol", "2026-Q4", idPAT, campaigns.Rotate, "move CI to a GitHub App token")
	// A note with markup, a formula and a terminal escape in it.
	f.at("2026-10-20T16:00:00Z").must(st.AddNotes(ctx, "alice", []string{idFormula}, "=cmd|' /C calc'!A0 <b>who set this?</b> \x1b[31mred\x1b[0m"))
	// The formula secret is never decided: no-response at close.
	f.at("2026-11-02T10:00:00Z").must(campaigns.Close(ctx, st, "carol", "2026-Q4"))

	// Snapshot 3 could not read acme/ops's keys: the ops key is not checked.
	f.snapshot("2026-11-05T06:00:00Z", []audit.Gap{{Endpoint: "GET /repos/acme/ops/keys", Kind: audit.KindGitHubDeployKey, Scope: "acme/ops",
		Status: 502, Reason: "Bad Gateway after 3 retries"}},
		idRenovate, idDeployProd, idOldCI, idFormula, idNPM, idSentry, idPAT, idRunner, idPipe)
	f.at("2026-11-05T12:00:00Z").must(campaigns.VerifyRemediation(ctx, st, "carol", "2026-Q4"))
	return f
}
