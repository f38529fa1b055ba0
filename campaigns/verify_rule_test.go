package campaigns_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
)

// TestVerifyAfterSnapshotByRule: a closed campaign whose only removals are
// the no-response rule's (on-no-response: decommission) is verified right
// after a snapshot, each item removed, still present or not checked, and
// listed as the rule's; a campaign whose rule keeps is not.
func TestVerifyAfterSnapshotByRule(t *testing.T) {
	f := newFixture(t)
	f.Snapshot(t, nil, population()...)
	create(t, f, campaigns.Spec{Name: "rule", Scope: "kind:deploy_key", Due: "2026-10-15", OnNoResponse: campaigns.OnNoResponseDecommission})
	create(t, f, campaigns.Spec{Name: "kept", Scope: "kind:deploy_key", Due: "2026-10-15", OnNoResponse: campaigns.OnNoResponseKeep})
	if _, err := campaigns.Decide(ctx, f.Store, "zoe", "rule", keyID("ops", "6"), campaigns.Keep, "runbook"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"rule", "kept"} {
		if _, err := campaigns.Close(ctx, f.Store, "lead", c); err != nil {
			t.Fatal(err)
		}
	}
	f.Clock.Set("2026-10-08T10:00:00Z")
	var obs []audit.Observation
	for _, o := range population() {
		if o.ID != keyID("api", "1") && !strings.HasPrefix(o.Scope, "acme/ops") {
			obs = append(obs, o)
		}
	}
	gap := audit.Gap{Endpoint: "GET /repos/acme/ops/keys", Kind: audit.KindGitHubDeployKey, Scope: "acme/ops", Status: 403, Reason: "needs admin"}
	snap := f.Snapshot(t, []audit.Gap{gap}, obs...)
	rs, err := campaigns.VerifyAfterSnapshot(ctx, f.Store, "nhi snapshot", snap.ID)
	if err != nil || len(rs) != 1 || rs[0].Campaign != "rule" {
		t.Fatalf("after snapshot: %+v %v", rs, err)
	}
	r := rs[0]
	if !slices.Contains(r.Removed, keyID("api", "1")) || !slices.Contains(r.StillPresent, keyID("api", "2")) || !slices.Contains(r.NotChecked, keyID("ops", "5")) {
		t.Errorf("remediation %+v", r)
	}
	if slices.Contains(r.ByRule, keyID("ops", "6")) || slices.Contains(r.NotChecked, keyID("ops", "6")) || len(r.ByRule) != len(r.Removed)+len(r.StillPresent)+len(r.NotChecked) {
		t.Errorf("by rule %v (the kept item must not be verified)", r.ByRule)
	}
	if it := item(t, get(t, f, "rule"), keyID("api", "1")); it.Verification != campaigns.Removed || it.Decision != campaigns.NoResponse {
		t.Errorf("api/1: %+v", it)
	}
	verifyOK(t, f)
}
