package report_test

import (
	"strings"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
	"github.com/nhi-audit/nhi/campaigns/report"
)

// TestReportNamesTheIDACarriedKeepWasDecidedUnder: a keep carried to an
// identity whose repository was renamed since the earlier campaign froze
// it is carried from that campaign's item under its old ID, and the
// report's history says so, on the carried entry and on its
// confirmation: "carried from campaign q3 as OLD-ID". On both engines,
// as of the head and as of the creation (the replay's read).
func TestReportNamesTheIDACarriedKeepWasDecidedUnder(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		e := campaignstest.NewOn(t, eng, "2026-10-01T12:00:00Z")
		key := func(repo string) audit.Observation {
			return audit.Observation{ID: audit.IdentityID("github", "acme", audit.KindGitHubDeployKey, repo+"/7"), Kind: audit.KindGitHubDeployKey,
				Name: "deploy", Scope: "acme/" + repo, Permissions: map[string]string{"contents": "read"},
				Attributes: map[string]string{"added_by": "bob", audit.LineageAttribute: "repository:42/github_deploy_key/7"}}
		}
		old, cur := key("api").ID, key("api-v2").ID
		e.Snapshot(t, nil, key("api"))
		spec := campaigns.Spec{Name: "q3", Scope: "id:*", Due: "2026-10-31", Reviewers: []string{"rita"}}
		if _, err := campaigns.Create(ctx, e.Store, "lead@acme.test", spec); err != nil {
			t.Fatal(err)
		}
		if _, err := campaigns.Decide(ctx, e.Store, "rita", "q3", old, campaigns.Keep, "deploys production"); err != nil {
			t.Fatal(err)
		}
		if _, err := campaigns.Close(ctx, e.Store, "lead@acme.test", "q3"); err != nil {
			t.Fatal(err)
		}
		e.Clock.Add(24 * time.Hour)
		e.Snapshot(t, nil, key("api-v2"))
		spec.Name, spec.CarryForward, spec.Due = "q4", "q3", "2026-11-30"
		if res, err := campaigns.Create(ctx, e.Store, "lead@acme.test", spec); err != nil || res.Carried != 1 {
			t.Fatalf("create q4: %+v %v", res, err)
		}
		head, err := e.Store.LogHead(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := campaigns.ConfirmCarried(ctx, e.Store, "rita", "q4", "", "unchanged since q3"); err != nil {
			t.Fatal(err)
		}
		want := "carried from campaign q3 as " + old
		for _, at := range []int64{0, head.Seq} {
			opts := report.Options{GeneratedAt: e.Clock.Now(), Signer: "auditor", Tool: "nhi test", AsOf: at}
			if at == 0 {
				now, err := e.Store.LogHead(ctx)
				if err != nil {
					t.Fatal(err)
				}
				opts.AsOf = now.Seq
			}
			r, err := report.Build(ctx, e.Store, "q4", opts)
			if err != nil {
				t.Fatal(err)
			}
			h := trail(r, cur)
			if len(h) == 0 || h[0].Action != report.ActionCarried || !strings.HasPrefix(h[0].Detail, want) {
				t.Fatalf("as of event %d, the trail of %s: %+v; want a carried entry saying %q", opts.AsOf, cur, h, want)
			}
			if at == 0 && (len(h) != 2 || h[1].Detail != "confirms the decision carried from q3 as "+old) {
				t.Errorf("the confirmation: %+v", h)
			}
		}
	})
}
