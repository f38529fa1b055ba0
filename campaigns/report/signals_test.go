package report_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
	"github.com/nhi-audit/nhi/campaigns/report"
)

// signalsCampaign is a closed campaign of identities with findings of four
// kinds: rev keeps most of them a second apart, one justification pasted
// on every kind, one a mere "OK", another used on three kinds only; ann
// decommissions the rest in bulk. With review thresholds when policy is
// not "".
func signalsCampaign(t *testing.T, policy string) *report.Report {
	t.Helper()
	f := &fixture{Evidence: campaignstest.New(t, "2026-10-01T06:00:00Z"), t: t}
	if policy != "" {
		p, err := audit.ParsePolicy([]byte(policy))
		if err != nil {
			t.Fatal(err)
		}
		f.must(f.Store.SetPolicy(ctx, "ciso", p))
	}
	old := campaignstest.TimeP("2024-01-02T03:04:05Z")
	kinds := []audit.Kind{audit.KindGitHubActionsSecret, audit.KindGitHubDependabotSecret, audit.KindGitHubCodespacesSecret, audit.KindGitHubDeployKey}
	var obs []audit.Observation
	for i := range 12 {
		k := kinds[i%len(kinds)]
		o := audit.Observation{ID: id(k, fmt.Sprintf("api/S%02d", i)), Kind: k, Name: fmt.Sprintf("S%02d", i), Scope: "acme/api", CreatedAt: old, RotatedAt: old}
		if k == audit.KindGitHubDeployKey {
			o.Permissions = map[string]string{"contents": "read"}
			o.Attributes = map[string]string{"read_only": "true"}
		}
		obs = append(obs, o)
	}
	f.Snapshot(t, nil, obs...)
	f.at("2026-10-01T09:00:00Z").must(campaigns.Create(ctx, f.Store, "lead", campaigns.Spec{Name: "q4", Scope: "id:*", Due: "2026-12-31", Reviewers: []string{"rev", "ann"}}))
	reasons := map[int]string{
		0: "still needed by the build", 1: "Still needed  by the BUILD", 2: "still needed by the build", 3: "still needed by the build", // four kinds
		4: " OK ",                                                                                      // short
		5: "vendor integration, SEC-9", 6: "vendor integration, SEC-9", 8: "vendor integration, SEC-9", // three kinds
	}
	for i := range 9 {
		if r, ok := reasons[i]; ok {
			f.decide(fmt.Sprintf("2026-10-02T09:00:%02dZ", i), "rev", "q4", obs[i].ID, campaigns.Keep, r)
		}
	}
	f.at("2026-10-03T10:00:00Z").must(campaigns.DecideMatching(ctx, f.Store, "ann", "q4", "name:S09 or name:S1*", campaigns.Decommission, "unused since the move to OIDC", false))
	f.at("2026-11-01T10:00:00Z").must(campaigns.Close(ctx, f.Store, "lead", "q4"))
	r, err := report.Build(ctx, f.Store, "q4", report.Options{GeneratedAt: generatedAt, Signer: "ciso", Tool: "nhi test"})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func exceptionFlags(r *report.Report) map[string][]string {
	out := map[string][]string{}
	for _, x := range r.Exceptions {
		var fs []string
		for _, f := range x.Flags {
			if f == report.FlagShortReason || f == report.FlagReusedReason {
				fs = append(fs, f)
			}
		}
		out[x.Name] = fs
	}
	return out
}

func marks(r *report.Report) map[string][]string {
	out := map[string][]string{}
	for _, s := range r.Reviewers.Rows {
		out[s.Reviewer] = s.Marks
	}
	return out
}

// TestReviewSignalsJudged: with the default thresholds, a justification of
// two letters is short-reason, one pasted on exceptions of four kinds is
// reused-reason (case and spacing aside) while one on three kinds is not;
// a reviewer deciding a second apart, nine in a minute, keeping every
// risky item is marked on those three signals, and one who decided only in
// bulk on bulk alone.
func TestReviewSignalsJudged(t *testing.T) {
	r := signalsCampaign(t, "")
	got := exceptionFlags(r)
	want := map[string][]string{
		"S00": {report.FlagReusedReason}, "S01": {report.FlagReusedReason}, "S02": {report.FlagReusedReason}, "S03": {report.FlagReusedReason},
		"S04": {report.FlagShortReason}, "S05": nil, "S06": nil, "S08": nil,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("exception flags\n got %v\nwant %v", got, want)
	}
	// The register and exceptions.csv carry the same flags.
	if x := row(t, r, id(audit.KindGitHubActionsSecret, "api/S04")); !slices.Contains(x.Flags, report.FlagShortReason) {
		t.Errorf("register row S04 flags %v", x.Flags)
	}
	m := marks(r)
	if fmt.Sprint(m["rev"]) != fmt.Sprint([]string{report.MarkMedianInterval, report.MarkKeptWithFindings, report.MarkPerMinute}) {
		t.Errorf("rev marked %v", m["rev"])
	}
	if fmt.Sprint(m["ann"]) != fmt.Sprint([]string{report.MarkBulk}) {
		t.Errorf("ann marked %v", m["ann"])
	}
	for _, s := range r.Reviewers.Rows {
		if s.Reviewer == "rev" && (s.PeakPerMinute != 8 || s.MedianSeconds != 1) {
			t.Errorf("rev: peak %d a minute, median %ds; want 8 and 1s", s.PeakPerMinute, s.MedianSeconds)
		}
	}
	if len(r.Reviewers.Thresholds) != 6 || r.Reviewers.Thresholds[0].Value != 10 {
		t.Errorf("thresholds %+v", r.Reviewers.Thresholds)
	}
}

// TestReviewSignalsFollowThePolicy: the campaign's policy sets the limits;
// looser ones mark nothing, and the report states them.
func TestReviewSignalsFollowThePolicy(t *testing.T) {
	r := signalsCampaign(t, `version: 1
review:
  min_reason_chars: 2
  max_reason_kinds: 4
  min_median_seconds: 1
  max_bulk_percent: 100
  max_kept_findings_percent: 100
  max_decisions_per_minute: 8
`)
	for name, fs := range exceptionFlags(r) {
		if len(fs) > 0 {
			t.Errorf("%s flagged %v under looser thresholds", name, fs)
		}
	}
	for who, ms := range marks(r) {
		if len(ms) > 0 {
			t.Errorf("%s marked %v under looser thresholds", who, ms)
		}
	}
	var values []int
	for _, th := range r.Reviewers.Thresholds {
		values = append(values, th.Value)
	}
	if fmt.Sprint(values) != "[2 4 1 100 100 8]" {
		t.Errorf("thresholds stated %v", values)
	}
}
