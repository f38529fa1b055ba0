package campaigns_test

import (
	"errors"
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
