package report_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
	"github.com/nhi-audit/nhi/campaigns/report"
)

// buildAtHead is campaign name's report as of the log's head.
func buildAtHead(t *testing.T, e *campaignstest.Evidence, name string) *report.Report {
	t.Helper()
	head, err := e.Store.LogHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r, err := report.Build(ctx, e.Store, name, report.Options{GeneratedAt: e.Clock.Now(), Signer: "auditor", Tool: "nhi test", AsOf: head.Seq})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// The campaign's rules in the report: an exception's expiry and approver
// in the exceptions section, the no-response rule in the criteria, an
// escalated item flagged with whom it went to (and the manager who then
// decided it not flagged not-assignee), and what the rule made of each
// item nobody decided.
func TestReportStatesTheCampaignRules(t *testing.T) {
	e := campaignstest.New(t, "2026-10-01T12:00:00Z")
	st := e.Store
	in, err := audit.ReadPeopleCSV(strings.NewReader("email,name,github,status,left_at,manager,aliases,signing_key\n"+
		"mia@acme.com,Mia,mia,active,,,,\nalice@acme.com,Alice,alice,active,,mia@acme.com,,\nadmin@acme.com,Admin,admin,active,,,,\n"), "people.csv")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.SetPeople(ctx, "admin@acme.com", *in, false); err != nil {
		t.Fatal(err)
	}
	p, err := audit.ParsePolicy([]byte("version: 1\nexception_days: 60\nexception_approval: required\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.SetPolicy(ctx, "admin@acme.com", p); err != nil {
		t.Fatal(err)
	}
	old := campaignstest.TimeP("2024-01-02T00:00:00Z")
	var obs []audit.Observation
	for _, n := range []string{"1", "2", "3"} {
		obs = append(obs, audit.Observation{ID: audit.IdentityID("github", "acme", audit.KindGitHubDeployKey, "api/"+n), Kind: audit.KindGitHubDeployKey,
			Name: "key-" + n, Scope: "acme/api", CreatedAt: old, RotatedAt: old, Attributes: map[string]string{"added_by": "someone", "read_only": "true"}})
	}
	e.Snapshot(t, nil, obs...)
	if _, err := campaigns.Create(ctx, st, "admin@acme.com", campaigns.Spec{Name: "Q4", Scope: "id:*", Due: "2026-10-31",
		Reviewers: []string{"alice@acme.com"}, OnNoResponse: campaigns.OnNoResponseEscalate, EscalateAfter: 5}); err != nil {
		t.Fatal(err)
	}
	id1, id2, id3 := obs[0].ID, obs[1].ID, obs[2].ID
	if _, err := campaigns.Decide(ctx, st, "alice@acme.com", "Q4", id1, campaigns.Keep, "CI"); err != nil {
		t.Fatal(err)
	}
	if _, err := campaigns.ApproveException(ctx, st, "mia@acme.com", "Q4", id1); err != nil {
		t.Fatal(err)
	}
	e.Clock.Add(6 * 24 * time.Hour)
	if _, err := campaigns.Escalate(ctx, st, "admin@acme.com", "Q4"); err != nil {
		t.Fatal(err)
	}
	if _, err := campaigns.Decide(ctx, st, "mia@acme.com", "Q4", id2, campaigns.Decommission, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := campaigns.Close(ctx, st, "admin@acme.com", "Q4"); err != nil {
		t.Fatal(err)
	}
	r := buildAtHead(t, e, "Q4")
	if x := row(t, r, id1); x.ExceptionExpires != "2026-11-30" || x.ExceptionApprovedBy != "mia@acme.com" || x.ExceptionState != campaigns.ExceptionApproved {
		t.Errorf("exception row: %+v", x)
	}
	if len(r.Exceptions) != 1 || r.Exceptions[0].ID != id1 {
		t.Errorf("exceptions: %+v", r.Exceptions)
	}
	if x := row(t, r, id2); x.EscalatedTo != "mia@acme.com" || !slices.Contains(x.Flags, report.FlagEscalated) || slices.Contains(x.Flags, report.FlagNotAssignee) {
		t.Errorf("escalated, then decided by the manager: %+v", x)
	}
	if x := row(t, r, id3); x.Decision != "no-response" || !slices.Contains(x.Flags, report.FlagEscalated) {
		t.Errorf("escalated and never decided: %+v", x)
	}
	var nr, ex string
	for _, p := range r.Criteria.Review {
		switch p.Name {
		case "Non-response":
			nr = p.Rule
		case "Exceptions":
			ex = p.Rule
		}
	}
	if !strings.Contains(nr, "pending 5 days after creation are reassigned to their reviewer's manager") {
		t.Errorf("non-response principle: %q", nr)
	}
	if !strings.Contains(ex, "expires 60 days after the decision") || !strings.Contains(ex, "exception_approval: required") {
		t.Errorf("exceptions principle: %q", ex)
	}
}

// The criteria list the rules that can fire on the sources the campaign
// covers, and name the policy's others: a review of an AWS account and a
// Kubernetes cluster lists broad-trust and reuse, not GitHub's webhook or
// certificate rules.
func TestCriteriaListTheRulesOfTheCampaignsSources(t *testing.T) {
	e := campaignstest.New(t, "2026-10-01T12:00:00Z")
	st := e.Store
	e.Source = audit.SnapshotInfo{Source: "aws", Account: "111111111111", APIURL: "http://127.0.0.1/", ToolVersion: "test"}
	e.Snapshot(t, nil, audit.Observation{ID: audit.IdentityID("aws", "111111111111", audit.KindAWSIAMRole, "deployer"), Kind: audit.KindAWSIAMRole, Name: "deployer", Scope: "111111111111"})
	e.Source = audit.SnapshotInfo{Source: "k8s", Account: "prod", APIURL: "https://127.0.0.1:6443", ToolVersion: "test"}
	e.Snapshot(t, nil, audit.Observation{ID: audit.IdentityID("k8s", "prod", audit.KindK8sServiceAccount, "ci/deployer"), Kind: audit.KindK8sServiceAccount, Name: "deployer", Scope: "prod/ci"})
	if _, err := campaigns.Create(ctx, st, "admin@acme.com", campaigns.Spec{Name: "Q4", Scope: "id:*", Due: "2026-10-31", Reviewers: []string{"alice@acme.com"}}); err != nil {
		t.Fatal(err)
	}
	r := buildAtHead(t, e, "Q4")
	c := r.Criteria
	var listed []string
	for _, x := range c.Rules {
		listed = append(listed, x.Rule)
	}
	for _, want := range []string{audit.RuleBroadTrust, audit.RuleReuse, audit.RuleDefaultSA, audit.RuleStale, audit.RuleOrphaned, audit.RuleExceptionExpired} {
		if !slices.Contains(listed, want) {
			t.Errorf("criteria lack %s: %v", want, listed)
		}
	}
	for _, not := range []string{audit.RuleInsecureWebhook, audit.RuleWeakKey, audit.RuleExpired, audit.RuleBroadScope} {
		if slices.Contains(listed, not) || !slices.Contains(c.OtherRules, not) {
			t.Errorf("%s is listed (%v) or not named among the others (%v)", not, listed, c.OtherRules)
		}
	}
	if !slices.Equal(c.Sources, []string{"aws", "k8s"}) || len(listed)+len(c.OtherRules) != len(audit.Rules) {
		t.Errorf("sources %v; %d rules listed and %d others of %d", c.Sources, len(listed), len(c.OtherRules), len(audit.Rules))
	}
	var md strings.Builder
	if err := r.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "The rules that can fire on identities of the sources the campaign covers (aws, k8s); the policy's other rules (") {
		t.Errorf("report.md does not say which rules it lists:\n%s", md.String())
	}
}

// An item nobody decided in a campaign whose on-no-response rule is
// decommission is in the remediation table with the rule as its decider
// and who set it (the campaign's creator, in its campaign.create event),
// in remediation.csv as in the Markdown and HTML: decided_by was empty.
func TestRemediationNamesTheRuleThatDecided(t *testing.T) {
	e := campaignstest.New(t, "2026-10-01T12:00:00Z")
	st := e.Store
	var obs []audit.Observation
	for _, n := range []string{"1", "2"} {
		obs = append(obs, audit.Observation{ID: audit.IdentityID("github", "acme", audit.KindGitHubDeployKey, "api/"+n), Kind: audit.KindGitHubDeployKey,
			Name: "key-" + n, Scope: "acme/api"})
	}
	e.Snapshot(t, nil, obs...)
	res, err := campaigns.Create(ctx, st, "admin@acme.com", campaigns.Spec{Name: "Q4", Scope: "id:*", Due: "2026-10-31",
		Reviewers: []string{"alice@acme.com"}, OnNoResponse: campaigns.OnNoResponseDecommission})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := campaigns.Decide(ctx, st, "alice@acme.com", "Q4", obs[0].ID, campaigns.Decommission, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := campaigns.Close(ctx, st, "admin@acme.com", "Q4"); err != nil {
		t.Fatal(err)
	}
	r := buildAtHead(t, e, "Q4")
	byRule := fmt.Sprintf("no reviewer: on-no-response rule set by admin@acme.com (event %d)", res.Campaign.CreateSeq)
	var csv strings.Builder
	if err := r.WriteCSV(report.FileRemediation, &csv); err != nil {
		t.Fatal(err)
	}
	deciders := map[string]string{}
	lines := strings.Split(strings.TrimSpace(csv.String()), "\n")
	for _, l := range lines[1:] {
		cells := strings.Split(l, ",")
		deciders[cells[1]] = cells[5]
	}
	if !strings.HasPrefix(lines[0], "n,identity_id,kind,name,scope,decided_by,") || len(deciders) != 2 ||
		deciders[obs[0].ID] != "alice@acme.com" || deciders[obs[1].ID] != byRule {
		t.Errorf("remediation.csv: decided_by of the reviewer's and the rule's decommissions: %q\n%s", deciders, csv.String())
	}
	var md strings.Builder
	if err := r.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "| 2 | deploy key | key-2 | acme/api | "+byRule+" |") {
		t.Errorf("the Markdown remediation table does not name the rule and who set it:\n%s", md.String())
	}
}
