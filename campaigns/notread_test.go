package campaigns_test

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
)

// failedRun records a run of source/account that failed with why.
func failedRun(t *testing.T, f *fixture, source, account, why string) *audit.Snapshot {
	t.Helper()
	w, err := f.Store.BeginSnapshot(ctx, audit.SnapshotInfo{Source: source, Account: account, APIURL: "http://127.0.0.1/", ToolVersion: "test"})
	if err != nil {
		t.Fatal(err)
	}
	snap, err := w.Finish(ctx, errors.New(why))
	if err != nil || snap.Status != audit.SnapshotFailed {
		t.Fatalf("a failed run: %+v %v", snap, err)
	}
	return snap
}

// notReadIn is the not_read of the event seq.
func notReadIn(t *testing.T, f *fixture, seq int64) []campaigns.AccountNotRead {
	t.Helper()
	ev, err := f.Store.EventAt(ctx, seq)
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		NotRead []campaigns.AccountNotRead `json:"not_read"`
	}
	if err := json.Unmarshal(ev.Payload, &p); err != nil {
		t.Fatal(err)
	}
	return p.NotRead
}

// TestCreateRecordsAccountsNotRead: github/acme's newest run failed after
// the snapshot the campaign holds, and aws/123456789012 was never read.
// Create names both (Created.NotRead), its campaign.create event records
// them (not_read: the run, its status and reason, the older snapshot
// held), and the campaign read back carries them, where they were left
// out in silence: the reviewers reviewed a population smaller than the
// estate and nothing in the evidence said so. --source and --snapshot
// leave out what they leave out.
func TestCreateRecordsAccountsNotRead(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		f := newFixtureOn(t, eng)
		held := f.Snapshot(t, nil, population()...)
		ghRun := failedRun(t, f, "github", "acme", "GET /orgs/acme/repos: 401 Bad credentials; run nhi snapshot github again")
		awsRun := failedRun(t, f, "aws", "123456789012", "sts:AssumeRole: AccessDenied")
		want := []campaigns.AccountNotRead{
			{Source: "aws", Account: "123456789012", Attempt: awsRun.ID, Started: "2026-10-01T12:00:00Z", Status: "failed", Reason: "sts:AssumeRole: AccessDenied"},
			{Source: "github", Account: "acme", Attempt: ghRun.ID, Started: "2026-10-01T12:00:00Z", Status: "failed", Reason: "GET /orgs/acme/repos: 401 Bad credentials", Snapshot: held.ID},
		}
		for _, tc := range []struct {
			spec campaigns.Spec
			want []campaigns.AccountNotRead
		}{
			{campaigns.Spec{Name: "all", Scope: "id:*"}, want},
			{campaigns.Spec{Name: "github", Scope: "id:*", Sources: []string{"GitHub"}}, want[1:]},
			{campaigns.Spec{Name: "named", Scope: "id:*", SnapshotIDs: []int64{held.ID}}, want[1:]},
		} {
			res := create(t, f, tc.spec)
			var got []campaigns.AccountNotRead
			for _, n := range res.NotRead {
				got = append(got, n.Record())
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("%s: Created.NotRead %+v\nwant %+v", tc.spec.Name, got, tc.want)
			}
			if ev := notReadIn(t, f, res.Event.Seq); !slices.Equal(ev, tc.want) {
				t.Errorf("%s: campaign.create's not_read %+v\nwant %+v", tc.spec.Name, ev, tc.want)
			}
			c, err := campaigns.Get(ctx, f.Store, tc.spec.Name)
			if err != nil || !slices.Equal(c.NotRead, tc.want) {
				t.Errorf("%s: read back %+v %v", tc.spec.Name, c.NotRead, err)
			}
		}
		// Every account read: the event is what it always was.
		f.Snapshot(t, nil, population()...)
		f.Source.Source, f.Source.Account = "aws", "123456789012"
		f.Snapshot(t, nil)
		res := create(t, f, campaigns.Spec{Name: "read", Scope: "id:*"})
		ev, err := f.Store.EventAt(ctx, res.Event.Seq)
		if err != nil || len(res.NotRead) != 0 || containsKey(ev.Payload, "not_read") {
			t.Errorf("every account read: %+v, event %s %v", res.NotRead, ev.Payload, err)
		}
		if problems, err := campaigns.Verify(ctx, f.Store); err != nil || len(problems) > 0 {
			t.Fatalf("verify: %v %v", problems, err)
		}
	})
}

func containsKey(payload []byte, key string) bool {
	var m map[string]json.RawMessage
	if json.Unmarshal(payload, &m) != nil {
		return false
	}
	_, ok := m[key]
	return ok
}

// TestOffboardCreateRecordsAccountsNotRead: the offboard.create event
// records the accounts whose newest run had not finished, as nhi offboard
// warns of them, where only the warning said so and the evidence kept
// nothing of it; its campaign.create event records them too, for the
// report's population section.
func TestOffboardCreateRecordsAccountsNotRead(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		f := newFixtureOn(t, eng)
		if _, err := f.Store.SetPeople(ctx, "hr", audit.PeopleImport{People: []audit.Person{
			{Email: "alice@acme.test", GitHub: "alice", Status: audit.PersonLeft, LeftAt: "2026-09-30", Manager: "carol@acme.test"},
			{Email: "carol@acme.test", GitHub: "carol"},
			{Email: "lead@acme.test", GitHub: "lead"},
		}}, false); err != nil {
			t.Fatal(err)
		}
		held := f.Snapshot(t, nil, population()...)
		ghRun := failedRun(t, f, "github", "acme", "connection refused")
		awsRun := failedRun(t, f, "aws", "123456789012", "sts:AssumeRole: AccessDenied")
		res, err := campaigns.CreateOffboarding(ctx, f.Store, "lead@acme.test", campaigns.OffboardSpec{Person: "alice"})
		if err != nil {
			t.Fatal(err)
		}
		want := []campaigns.AccountNotRead{
			{Source: "aws", Account: "123456789012", Attempt: awsRun.ID, Started: "2026-10-01T12:00:00Z", Status: "failed", Reason: "sts:AssumeRole: AccessDenied"},
			{Source: "github", Account: "acme", Attempt: ghRun.ID, Started: "2026-10-01T12:00:00Z", Status: "failed", Reason: "connection refused", Snapshot: held.ID},
		}
		if got := notReadIn(t, f, res.Offboarding.Seq); !slices.Equal(got, want) {
			t.Errorf("offboard.create's not_read %+v\nwant %+v", got, want)
		}
		if got := notReadIn(t, f, res.Event.Seq); !slices.Equal(got, want) {
			t.Errorf("campaign.create's not_read %+v\nwant %+v", got, want)
		}
		if problems, err := campaigns.Verify(ctx, f.Store); err != nil || len(problems) > 0 {
			t.Fatalf("verify: %v %v", problems, err)
		}
	})
}
