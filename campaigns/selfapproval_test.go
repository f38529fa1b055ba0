package campaigns_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
)

// writeApproval records actor's approval of the exception on item id of
// campaign, kept by event keep (with its last day, expires), around
// nhi's checks: the decision.approve event alone, unsigned, as nhi writes
// it — what anyone who writes an evidence file can do, and on PostgreSQL
// the approver with psql, the event being in her own name.
func writeApproval(t *testing.T, st *audit.Store, actor, campaign, id string, keep int64, expires string) int64 {
	t.Helper()
	k, err := st.EventAt(ctx, keep)
	if err != nil {
		t.Fatal(err)
	}
	var seq int64
	if err := st.Write(ctx, func(tx *audit.Tx) error {
		ev, err := tx.Append(ctx, actor, campaigns.EventApprove, campaigns.ApprovePayload{Campaign: campaign, Items: []string{id}, Action: "approve exception",
			Approves: keep, Expires: expires, Detail: fmt.Sprintf("approves the exception kept by %s (event %d)", k.Actor, keep)})
		seq = ev.Seq
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return seq
}

// An exception is approved by a second person (docs/campaigns.md,
// "Exceptions"): nhi refuses the keeper's own approval (rule approver).
// One written around nhi — a decision.approve event in the keeper's
// name, under another of her aliases: anyone who writes an evidence
// file can, and on PostgreSQL the keeper with psql, as the event is in
// her own name — approves nothing: the exception stays awaiting
// approval, and nhi verify names the event. Before, it read as approved
// by her, and verify passed.
func TestSelfApprovalApprovesNothing(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		e := exceptionsQ4(t, eng, "version: 1\nexception_approval: required\n")
		st := e.Store
		api1 := keyID("api", "1")
		o, err := campaigns.Decide(ctx, st, "carol@acme.com", "Q4", api1, campaigns.Keep, "needed by CI")
		if err != nil {
			t.Fatal(err)
		}
		seq := writeApproval(t, st, "Carol", "Q4", api1, o.Event.Seq, o.ExceptionExpires)
		xs, err := campaigns.Exceptions(ctx, st, "Q4", 0)
		if err != nil {
			t.Fatal(err)
		}
		if x := xs[api1]; x.State != campaigns.ExceptionAwaiting || x.ApprovedBy != "" {
			t.Errorf("api/1 approved by its keeper: %s by %q; want still awaiting approval", x.State, x.ApprovedBy)
		}
		// The exception says why it is still awaiting approval, where
		// it shows (the list, its JSON, the report), not only verify.
		wantWhy := fmt.Sprintf("event %d's approval by Carol approves nothing: it is by carol@acme.com, who kept it in event %d, the same person; nhi refuses such an approval (rule approver)", seq, o.Event.Seq)
		if n := xs[api1].NotApproved; n == nil || n.String() != wantWhy || n.Rule != campaigns.RuleApprover {
			t.Errorf("api/1's approval that approves nothing: %v; want %q", n, wantWhy)
		}
		problems, err := campaigns.Verify(ctx, st)
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("event %d (decision.approve by Carol) approves the exception on %s kept by carol@acme.com in event %d, and is by the same person", seq, api1, o.Event.Seq)
		if len(problems) != 1 || !strings.Contains(problems[0], want) {
			t.Errorf("verify after a self-approval: %q; want one problem saying %q", problems, want)
		}
	})
}

// An exception's approver may not be one the rules of who may not decide
// keep from the item either (docs/campaigns.md, "Exceptions"): nhi
// refuses its holder's approval (rule holder). One written around nhi —
// on PostgreSQL the holder with psql, as an approval writes only an event
// in her own name, which the database does not compare with the item —
// approves nothing, and nhi verify names the event. Before, the exception
// read as approved by her, and verify passed.
func TestVerifyFailsAnApprovalByTheItemsHolder(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		e := exceptionsQ4(t, eng, "version: 1\nexception_approval: required\n")
		st := e.Store
		api1 := keyID("api", "1") // added by alice
		o, err := campaigns.Decide(ctx, st, "carol@acme.com", "Q4", api1, campaigns.Keep, "needed by CI")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := campaigns.ApproveException(ctx, st, "alice-smith", "Q4", api1); !errors.Is(err, campaigns.ErrSelfReview) {
			t.Fatalf("the holder approving through nhi: %v; want refused (rule holder)", err)
		}
		// Before it, a second person's approval of another exception,
		// which approves.
		api2 := keyID("api", "2") // added by bob
		if _, err := campaigns.Decide(ctx, st, "carol@acme.com", "Q4", api2, campaigns.Keep, "needed by CI"); err != nil {
			t.Fatal(err)
		}
		if _, err := campaigns.ApproveException(ctx, st, "dave@acme.com", "Q4", api2); err != nil {
			t.Fatal(err)
		}
		seq := writeApproval(t, st, "alice-smith", "Q4", api1, o.Event.Seq, o.ExceptionExpires)
		xs, err := campaigns.Exceptions(ctx, st, "Q4", 0)
		if err != nil {
			t.Fatal(err)
		}
		if x := xs[api1]; x.State != campaigns.ExceptionAwaiting || x.ApprovedBy != "" {
			t.Errorf("api/1 approved by its holder: %s by %q; want still awaiting approval", x.State, x.ApprovedBy)
		}
		wantWhy := fmt.Sprintf("event %d's approval by alice-smith approves nothing: the item's holder according to the source is alice, the same person as alice-smith; nhi refuses such an approval (rule holder)", seq)
		if n := xs[api1].NotApproved; n == nil || n.String() != wantWhy {
			t.Errorf("api/1's approval that approves nothing: %v; want %q", n, wantWhy)
		}
		if x := xs[api2]; x.State != campaigns.ExceptionApproved || x.ApprovedBy != "dave@acme.com" || x.NotApproved != nil {
			t.Errorf("api/2 approved by dave: %s by %q (%v); want approved", x.State, x.ApprovedBy, x.NotApproved)
		}
		problems, err := campaigns.Verify(ctx, st)
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("event %d (decision.approve by alice-smith) approves the exception on %s in campaign Q4, whose holder according to the source is alice, the same person: nhi refuses such an approval (rule holder)", seq, api1)
		if len(problems) != 1 || !strings.Contains(problems[0], want) {
			t.Errorf("verify after the holder's approval: %q; want one problem saying %q", problems, want)
		}
	})
}

// A self-approval is judged with the directory of people as it stood
// when the approval was written, as a self-review is (deciders): what
// nhi would have refused then. An approval by a name the directory
// learns for the keeper only afterwards approves, and verify passes it:
// nhi could not have refused it. One by an alias of the keeper's then,
// taken out of her record afterwards, still approves nothing, and verify
// names it. Before, both were judged with the directory as it is now:
// the first read as a self-approval, the second as a second person's.
func TestSelfApprovalIsJudgedWithTheDirectoryThen(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		e := exceptionsQ4(t, eng, "version: 1\nexception_approval: required\n")
		st := e.Store
		carol := audit.Person{Email: "carol@acme.com", Name: "Carol", GitHub: "carol", Status: audit.PersonActive, Aliases: []string{"cg"}}
		if _, err := st.SetPeople(ctx, "admin@acme.com", audit.PeopleImport{People: []audit.Person{carol}}, false); err != nil {
			t.Fatal(err)
		}
		learned, dropped := keyID("api", "1"), keyID("web", "4")
		kept, approvals := map[string]int64{}, map[string]int64{}
		for id, by := range map[string]string{learned: "cgarcia", dropped: "cg"} {
			o, err := campaigns.Decide(ctx, st, "carol@acme.com", "Q4", id, campaigns.Keep, "needed by CI")
			if err != nil {
				t.Fatal(err)
			}
			if o.ExceptionExpires == "" {
				t.Fatalf("the keep of %s is no exception", id)
			}
			kept[id] = o.Event.Seq
			approvals[id] = writeApproval(t, st, by, "Q4", id, o.Event.Seq, o.ExceptionExpires)
		}
		// Afterwards: cgarcia becomes carol's alias, cg is no longer.
		carol.Aliases = []string{"cgarcia"}
		if _, err := st.SetPeople(ctx, "admin@acme.com", audit.PeopleImport{People: []audit.Person{carol}}, false); err != nil {
			t.Fatal(err)
		}
		xs, err := campaigns.Exceptions(ctx, st, "Q4", 0)
		if err != nil {
			t.Fatal(err)
		}
		if x := xs[learned]; x.State != campaigns.ExceptionApproved || x.ApprovedBy != "cgarcia" {
			t.Errorf("api/1, approved by a name the directory gave carol only afterwards: %s by %q; want approved by cgarcia", x.State, x.ApprovedBy)
		}
		if x := xs[dropped]; x.State != campaigns.ExceptionAwaiting || x.ApprovedBy != "" {
			t.Errorf("web/4, approved by carol's alias then: %s by %q; want still awaiting approval", x.State, x.ApprovedBy)
		}
		problems, err := campaigns.Verify(ctx, st)
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("event %d (decision.approve by cg) approves the exception on %s kept by carol@acme.com in event %d, and is by the same person", approvals[dropped], dropped, kept[dropped])
		if len(problems) != 1 || !strings.Contains(problems[0], want) {
			t.Errorf("verify: %q; want one problem saying %q", problems, want)
		}
	})
}
