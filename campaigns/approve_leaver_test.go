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

// An approver whose session is open — a TUI kept open — when the
// directory marks them left approves no exception: the directory is read
// in the approval's own transaction, as for a decision, and nothing is
// recorded in their name, not even a refusal (docs/people.md).
func TestLeaverApprovesNoException(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		e := exceptionsQ4(t, eng, "version: 1\nexception_approval: required\n")
		st := e.Store
		api1 := keyID("api", "1")
		if _, err := campaigns.Decide(ctx, st, "carol@acme.com", "Q4", api1, campaigns.Keep, "needed by CI"); err != nil {
			t.Fatal(err)
		}
		mia := audit.Person{Email: "mia@acme.com", Name: "Mia", GitHub: "mia", Status: audit.PersonLeft, LeftAt: "2026-09-30"}
		if _, err := st.SetPeople(ctx, "admin@acme.com", audit.PeopleImport{People: []audit.Person{mia}}, false); err != nil {
			t.Fatal(err)
		}
		_, err := campaigns.ApproveException(ctx, st, "mia@acme.com", "Q4", api1)
		if !errors.Is(err, campaigns.ErrActorLeft) || !strings.Contains(err.Error(), "left on 2026-09-30") || !strings.Contains(err.Error(), "nothing was written") {
			t.Errorf("approving after the directory marked her left: %v; want ErrActorLeft saying when, and that nothing was written", err)
		}
		var n int
		if err := st.QueryRow(ctx, `SELECT count(*) FROM events WHERE actor = 'mia@acme.com'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("a leaver's approval left %d events in her name", n)
		}
		xs, err := campaigns.Exceptions(ctx, st, "Q4", 0)
		if err != nil {
			t.Fatal(err)
		}
		if x := xs[api1]; x.State != campaigns.ExceptionAwaiting {
			t.Errorf("api/1 after a leaver's approval: %s; want still awaiting approval", x.State)
		}
	})
}

// A leaver's approval the log holds anyway (written around nhi: into the
// file, or by an nhi_admin on PostgreSQL) approves nothing, as a
// self-approval does, and every place the exception shows says why: who,
// when the directory said they left, and which event marked them so. The
// exception stays awaiting approval, lapses at the close, and the
// exception-expired finding says the leaver's approval was none. An
// approval of hers written before the directory marked her left counts.
// Before, the leaver's read as approved by her in Exceptions, the
// evidence report and the findings; only nhi verify failed it.
func TestALeaversApprovalApprovesNothing(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		e := exceptionsQ4(t, eng, "version: 1\nexception_approval: required\n")
		st := e.Store
		api1, api2 := keyID("api", "1"), keyID("api", "2")
		var keeps [2]int64
		for i, id := range []string{api1, api2} {
			o, err := campaigns.Decide(ctx, st, "carol@acme.com", "Q4", id, campaigns.Keep, "needed by CI")
			if err != nil {
				t.Fatal(err)
			}
			keeps[i] = o.Event.Seq
		}
		// Before she left, mia's approval of api/2 counts.
		mia := audit.Person{Email: "mia@acme.com", Name: "Mia", GitHub: "mia"}
		if _, err := st.SetPeople(ctx, "admin@acme.com", audit.PeopleImport{People: []audit.Person{mia}}, false); err != nil {
			t.Fatal(err)
		}
		if _, err := campaigns.ApproveException(ctx, st, "mia@acme.com", "Q4", api2); err != nil {
			t.Fatal(err)
		}
		mia.Status, mia.LeftAt = audit.PersonLeft, "2026-09-30"
		if _, err := st.SetPeople(ctx, "admin@acme.com", audit.PeopleImport{People: []audit.Person{mia}}, false); err != nil {
			t.Fatal(err)
		}
		head, err := st.LogHead(ctx)
		if err != nil {
			t.Fatal(err)
		}
		seq := writeApproval(t, st, "mia", "Q4", api1, keeps[0], "")
		why := fmt.Sprintf("event %d's approval by mia approves nothing: mia@acme.com left on 2026-09-30 (marked left by event %d, before it), and nhi refuses a leaver's approval", seq, head.Seq)
		xs, err := campaigns.Exceptions(ctx, st, "Q4", 0)
		if err != nil {
			t.Fatal(err)
		}
		if x := xs[api1]; x.State != campaigns.ExceptionAwaiting || x.ApprovedBy != "" || x.NotApproved == nil || x.NotApproved.String() != why {
			t.Errorf("api/1 approved by a leaver: %s by %q, not approved: %v; want awaiting approval, saying %q", x.State, x.ApprovedBy, x.NotApproved, why)
		}
		if x := xs[api2]; x.State != campaigns.ExceptionApproved || x.ApprovedBy != "mia@acme.com" || x.NotApproved != nil {
			t.Errorf("api/2 approved by mia before she left: %s by %q (%v); want approved", x.State, x.ApprovedBy, x.NotApproved)
		}
		if _, err := campaigns.Close(ctx, st, "admin@acme.com", "Q4"); err != nil {
			t.Fatal(err)
		}
		if xs, err = campaigns.Exceptions(ctx, st, "Q4", 0); err != nil {
			t.Fatal(err)
		}
		if x := xs[api1]; x.State != campaigns.ExceptionUnapproved || x.NotApproved == nil || x.NotApproved.String() != why {
			t.Errorf("api/1 after the close: %s (%v); want never approved, saying %q", x.State, x.NotApproved, why)
		}
		id, err := st.Identity(ctx, api1)
		if err != nil {
			t.Fatal(err)
		}
		if f, ok := hasFinding(&id, audit.RuleExceptionExpired); !ok || !strings.Contains(f.Message, "was never approved") || !strings.HasSuffix(f.Message, "; "+why) {
			t.Errorf("api/1's findings %+v; want exception-expired, never approved, saying %q", id.Findings, why)
		}
		id, err = st.Identity(ctx, api2)
		if err != nil {
			t.Fatal(err)
		}
		if f, ok := hasFinding(&id, audit.RuleExceptionExpired); ok {
			t.Errorf("api/2, approved before mia left: %+v; want no exception-expired", f)
		}
	})
}
