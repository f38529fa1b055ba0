package campaigns_test

import (
	"slices"
	"testing"

	"github.com/nhi-audit/nhi/campaigns"
)

// Overdue is a snapshot's word, as in the report: verify run after the
// due date against a snapshot taken before it does not call a key still
// present then overdue (it may have gone on the due day); a snapshot
// taken after the due date that still shows it does.
func TestOverdueOnASnapshotsWord(t *testing.T) {
	f := newFixture(t)
	f.Snapshot(t, nil, population()...)
	create(t, f, campaigns.Spec{Name: "q", Scope: "kind:deploy_key", Due: "2026-10-31"})
	k := keyID("api", "1")
	if _, err := campaigns.Decide(ctx, f.Store, "rita", "q", k, campaigns.Decommission, "unused"); err != nil {
		t.Fatal(err)
	}
	if _, err := campaigns.Close(ctx, f.Store, "lead", "q"); err != nil {
		t.Fatal(err)
	}
	f.Clock.Set("2026-10-20T12:00:00Z")
	f.Snapshot(t, nil, population()...) // still there, before the due date
	f.Clock.Set("2026-11-05T12:00:00Z") // verified after it
	rs, err := campaigns.VerifyRemediation(ctx, f.Store, "lead", "q")
	if err != nil || len(rs) != 1 {
		t.Fatal(rs, err)
	}
	if r := rs[0]; !slices.Equal(r.StillPresent, []string{k}) || len(r.Overdue) != 0 {
		t.Errorf("snapshot of 2026-10-20: still present %v, overdue %v; want it still present, not overdue", r.StillPresent, r.Overdue)
	}
	f.Snapshot(t, nil, population()...) // 2026-11-05: still there after the due date
	rs, err = campaigns.VerifyRemediation(ctx, f.Store, "lead", "q")
	if err != nil || len(rs) != 1 {
		t.Fatal(rs, err)
	}
	if r := rs[0]; !slices.Equal(r.Overdue, []string{k}) {
		t.Errorf("snapshot of 2026-11-05: overdue %v; want %s", r.Overdue, k)
	}
}
