package report_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
	"github.com/nhi-audit/nhi/campaigns/report"
)

func row(t *testing.T, r *report.Report, id string) *report.Row {
	t.Helper()
	for i := range r.Register {
		if r.Register[i].ID == id {
			return &r.Register[i]
		}
	}
	t.Fatalf("%s is not in the register", id)
	return nil
}

// TestOverdueNeedsASnapshotAfterTheDueDate: overdue is a snapshot's word,
// not the generation time's. Before any snapshot taken after the due date
// checked them, decommissions past due are not-yet-checked; snapshot 3
// (after the due date) shows the old CI key still there: overdue; it could
// not read the ops key: not-yet-checked.
func TestOverdueNeedsASnapshotAfterTheDueDate(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		f := newFixtureOn(t, eng)
		cam, err := campaigns.Get(ctx, f.Store, "2026-Q4")
		if err != nil {
			t.Fatal(err)
		}
		opts := exportOptions().Options
		opts.AsOf = cam.CloseSeq // before the verification
		before, err := report.Build(ctx, f.Store, "2026-Q4", opts)
		if err != nil {
			t.Fatal(err)
		}
		if before.Attestation.Summary.Overdue != 0 || before.Remediation.Overdue != 0 {
			t.Errorf("overdue without a snapshot after the due date: %+v", before.Remediation)
		}
		for _, x := range before.Remediation.Rows {
			if !slices.Contains(x.Flags, report.FlagNotYetChecked) || x.Overdue {
				t.Errorf("row %d (%s) past due, unchecked: flags %v overdue %v", x.N, x.Verification, x.Flags, x.Overdue)
			}
		}

		after, err := report.Build(ctx, f.Store, "2026-Q4", exportOptions().Options)
		if err != nil {
			t.Fatal(err)
		}
		if x := row(t, after, idOldCI); !x.Overdue || !slices.Contains(x.Flags, report.FlagOverdue) || slices.Contains(x.Flags, report.FlagNotYetChecked) {
			t.Errorf("old-ci, still present on snapshot 3 after the due date: %+v", x)
		}
		if x := row(t, after, idOpsKey); x.Overdue || x.Verification != campaigns.NotChecked || !slices.Contains(x.Flags, report.FlagNotYetChecked) {
			t.Errorf("ops-key, not checked by snapshot 3: %+v", x)
		}
		if x := row(t, after, idDana); x.Verification != campaigns.Removed || len(x.Flags) > 0 && slices.Contains(x.Flags, report.FlagNotYetChecked) {
			t.Errorf("dana's key, removed: %+v", x)
		}
		if s := after.Attestation.Summary; s.Overdue != 1 || s.NotYetChecked != 1 || s.Late != 0 || s.ClosedBeforeDue {
			t.Errorf("summary: %+v", s)
		}
		// The snapshot behind those states is evidence too, with its gap.
		if v := after.Population.VerifyingSnapshots; len(v) != 1 || v[0].ID != 3 || v[0].Status != "partial" || v[0].Credential == "" ||
			v[0].Digest == "" || v[0].Total != 9 || len(v[0].Gaps) != 1 || v[0].Gaps[0].Status != 502 || v[0].Gaps[0].Scope != "acme/ops" {
			t.Errorf("verifying snapshots: %+v", v)
		}
		// No-response: no decision time, no decider; the close is shown apart.
		if x := row(t, after, idFormula); x.DecidedAt != "" || x.DecidedBy != "" || x.ClosedAt != after.Attestation.ClosedAt || x.ClosedAt == "" {
			t.Errorf("no-response row: decided %q by %q, closed %q", x.DecidedAt, x.DecidedBy, x.ClosedAt)
		}
	})
}

// TestLateAndEarly: a decision after the due date is flagged late; a
// campaign closed before its due date says so, with what it left
// without a response.
func TestLateAndEarly(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		f := newFixtureOn(t, eng)
		st := f.Store
		f.at("2026-11-05T13:00:00Z").must(campaigns.Create(ctx, st, "carol", campaigns.Spec{Name: "late", Scope: "kind:github_deploy_key", Due: "2026-11-06",
			Reviewers: []string{"alice", "bob"}, AllowPartial: true}))
		f.decide("2026-11-06T23:59:00Z", "bob", "late", idDeployProd, campaigns.Keep, "still deploys the API")
		f.decide("2026-11-07T00:00:00Z", "alice", "late", idOldCI, campaigns.Decommission, "")
		f.at("2026-11-07T09:00:00Z").must(campaigns.Close(ctx, st, "carol", "late"))
		f.at("2026-11-07T10:00:00Z").must(campaigns.Create(ctx, st, "carol", campaigns.Spec{Name: "early", Scope: "kind:github_deploy_key", Due: "2026-12-31",
			Reviewers: []string{"alice", "bob"}, AllowPartial: true}))
		f.decide("2026-11-08T09:00:00Z", "bob", "early", idDeployProd, campaigns.Keep, "still deploys the API")
		f.at("2026-11-09T09:00:00Z").must(campaigns.Close(ctx, st, "carol", "early"))

		late, err := report.Build(ctx, st, "late", exportOptions().Options)
		if err != nil {
			t.Fatal(err)
		}
		if x := row(t, late, idDeployProd); slices.Contains(x.Flags, report.FlagLate) {
			t.Errorf("decided on the due date, flagged late: %v", x.Flags)
		}
		if x := row(t, late, idOldCI); !slices.Contains(x.Flags, report.FlagLate) {
			t.Errorf("decided after the due date, not flagged late: %v", x.Flags)
		}
		if late.Attestation.Summary.Late != 1 || late.Attestation.Summary.ClosedBeforeDue {
			t.Errorf("late summary: %+v", late.Attestation.Summary)
		}
		if !slices.ContainsFunc(late.Criteria.Review, func(p report.Principle) bool { return p.Name == "Timeliness" && strings.Contains(p.Rule, "late") }) {
			t.Error("lateness is not a review rule of the report")
		}

		early, err := report.Build(ctx, st, "early", exportOptions().Options)
		if err != nil {
			t.Fatal(err)
		}
		s := early.Attestation.Summary
		if !s.ClosedBeforeDue || s.NoResponse != s.Items-1 || s.NoResponse == 0 {
			t.Errorf("early close: %+v", s)
		}
		var md strings.Builder
		if err := early.WriteMarkdown(&md); err != nil {
			t.Fatal(err)
		}
		if want := "before the due date (2026-12-31), leaving " + items(s.NoResponse) + " without a response"; !strings.Contains(md.String(), want) {
			t.Errorf("report.md does not say %q", want)
		}
	})
}

func items(n int) string {
	if n == 1 {
		return "1 item"
	}
	return strconv.Itoa(n) + " items"
}
