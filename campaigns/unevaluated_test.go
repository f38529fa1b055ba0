package campaigns_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
)

// roles are AWS roles of account 111111111111: one granted s3 read, one
// granted nothing, one whose policies were not read (policies_unknown)
// and one whose last use was not read (last_used_unknown).
func roles() []audit.Observation {
	role := func(name string, perms, attrs map[string]string) audit.Observation {
		return audit.Observation{
			ID: audit.IdentityID("aws", "111111111111", audit.KindAWSIAMRole, name), Kind: audit.KindAWSIAMRole,
			Name: name, Scope: "111111111111", CreatedAt: campaignstest.TimeP("2026-09-01T00:00:00Z"),
			LastUsedAt:  campaignstest.TimeP("2026-09-30T00:00:00Z"),
			Permissions: perms, Attributes: attrs,
		}
	}
	lastUse := role("last-use-not-read", nil, map[string]string{audit.AttrLastUseUnknown: "true"})
	lastUse.LastUsedAt = nil
	return []audit.Observation{
		role("reader", map[string]string{"s3": "read"}, nil),
		role("bare", nil, nil),
		role("policies-not-read", nil, map[string]string{audit.AttrPoliciesUnknown: "true"}),
		lastUse,
	}
}

// itemNames are the names of the roles among ids, sorted.
func itemNames(ids []string) []string {
	var out []string
	for _, id := range ids {
		out = append(out, id[len(audit.IdentityID("aws", "111111111111", audit.KindAWSIAMRole, "")):])
	}
	slices.Sort(out)
	return out
}

// TestScopeNegationLeavesUnreadOut: a campaign scope or an offboarding's
// -perm:any, -perm:admin or -unused>30d is not a claim nhi can make of a
// role whose policies, or last use, were not read, so neither freezes it,
// where the negation of a term that had answered no for it did: a
// campaign "roles without permissions" held a role whose permissions
// nobody read.
func TestScopeNegationLeavesUnreadOut(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		f := newFixtureOn(t, eng)
		f.Source.Source, f.Source.Account = "aws", "111111111111"
		f.Snapshot(t, nil, roles()...)
		for i, tc := range []struct {
			scope string
			want  []string
		}{
			{"-perm:any", []string{"bare", "last-use-not-read"}},
			{"-perm:admin", []string{"bare", "last-use-not-read", "reader"}},
			{"-unused>30d", []string{"bare", "policies-not-read", "reader"}},
			{"-unused>30d or used:unknown", []string{"bare", "last-use-not-read", "policies-not-read", "reader"}},
			{"-(perm:any or kind:github_app_installation)", []string{"bare", "last-use-not-read"}},
		} {
			scope, want := tc.scope, tc.want
			c := create(t, f, campaigns.Spec{Name: fmt.Sprintf("c%d", i), Scope: scope})
			var ids []string
			for _, it := range get(t, f, c.Campaign.Name).Items {
				ids = append(ids, it.ID)
			}
			if got := itemNames(ids); !slices.Equal(got, want) {
				t.Errorf("campaign --scope %q froze %v, want %v", scope, got, want)
			}
			ob, err := campaigns.CreateOffboarding(ctx, f.Store, "lead@acme.test", campaigns.OffboardSpec{
				Scope: "kind:aws_iam_role " + scope, Name: "o" + c.Campaign.Name, Reviewers: []string{"rita"}})
			if err != nil {
				t.Fatal(err)
			}
			ids = ids[:0]
			for _, it := range ob.Offboarding.Items {
				ids = append(ids, it.ID)
			}
			if got := itemNames(ids); !slices.Equal(got, want) {
				t.Errorf("offboard --scope %q froze %v, want %v", scope, got, want)
			}
		}
	})
}

// TestCreateCountsWhatTheScopeCouldNotJudge: a scope that asks what was
// not read of some identities (finding:overprivileged of a role whose
// policies, or last use, were not read) leaves them out, as it must, and
// says how many, where it left them out in silence: Created.Unevaluated,
// the campaign.create event's unevaluated and the campaign read back
// count them, for a campaign and a system's offboarding alike; a scope
// that judged every identity records the event it always did.
func TestCreateCountsWhatTheScopeCouldNotJudge(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		f := newFixtureOn(t, eng)
		f.Source.Source, f.Source.Account = "aws", "111111111111"
		f.Snapshot(t, nil, roles()...)
		for _, tc := range []struct {
			name, scope string
			want        int
		}{
			{"risky", "finding:overprivileged or kind:iam_role name:reader", 2},
			{"roles", "kind:iam_role", 0},
		} {
			res := create(t, f, campaigns.Spec{Name: tc.name, Scope: tc.scope})
			if res.Unevaluated != tc.want {
				t.Errorf("%s: Created.Unevaluated %d, want %d", tc.name, res.Unevaluated, tc.want)
			}
			if got := unevaluatedIn(t, f, res.Event.Seq); got != tc.want {
				t.Errorf("%s: campaign.create's unevaluated %d, want %d", tc.name, got, tc.want)
			}
			if c := get(t, f, tc.name); c.Unevaluated != tc.want {
				t.Errorf("%s: read back %d, want %d", tc.name, c.Unevaluated, tc.want)
			}
			ob, err := campaigns.CreateOffboarding(ctx, f.Store, "lead@acme.test", campaigns.OffboardSpec{
				Scope: tc.scope, Name: "offboard-" + tc.name, Reviewers: []string{"rita"}})
			if err != nil {
				t.Fatal(err)
			}
			if ob.Unevaluated != tc.want || unevaluatedIn(t, f, ob.Event.Seq) != tc.want || get(t, f, "offboard-"+tc.name).Unevaluated != tc.want {
				t.Errorf("offboard %s: %d, event %d, want %d", tc.name, ob.Unevaluated, unevaluatedIn(t, f, ob.Event.Seq), tc.want)
			}
		}
		verifyOK(t, f)
	})
}

// unevaluatedIn is the event seq's unevaluated, failing when a zero is
// written rather than left out.
func unevaluatedIn(t *testing.T, f *fixture, seq int64) int {
	t.Helper()
	ev, err := f.Store.EventAt(ctx, seq)
	if err != nil {
		t.Fatal(err)
	}
	var p map[string]json.RawMessage
	if err := json.Unmarshal(ev.Payload, &p); err != nil {
		t.Fatal(err)
	}
	raw, ok := p["unevaluated"]
	if !ok {
		return 0
	}
	var n int
	if err := json.Unmarshal(raw, &n); err != nil || n == 0 {
		t.Fatalf("unevaluated %s in %s", raw, ev.Payload)
	}
	return n
}
