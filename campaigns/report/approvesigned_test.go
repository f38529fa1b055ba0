package report_test

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
	"github.com/nhi-audit/nhi/campaigns/report"
)

// The report of a campaign created with --require-signed says every
// decision had to be signed, and an exception's approval is one: an
// unsigned approval written around nhi (a decision.approve event in the
// approver's name: anyone who writes an evidence file, the approver with
// psql) is held to it as an unsigned decision is: the export writes
// nothing and says to run nhi verify. Before, the exception was exported
// as approved, unsigned, under criteria saying unsigned decisions were
// refused.
func TestExportRefusesAnUnsignedApprovalWhereSignaturesAreRequired(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		e := campaignstest.NewOn(t, eng, "2026-10-01T12:00:00Z")
		st := e.Store
		key, err := report.LoadSigningKey(genKey(t, "ed25519", ""), nil)
		must(t, err)
		_, err = st.SetPeople(ctx, "admin@acme.com", audit.PeopleImport{People: []audit.Person{
			{Email: "alice@acme.com", Name: "Alice", GitHub: "alice", Status: audit.PersonActive, SigningKey: key.Public.Authorized},
			{Email: "mia@acme.com", Name: "Mia", GitHub: "mia", Status: audit.PersonActive},
			{Email: "admin@acme.com", Name: "Admin", GitHub: "admin", Status: audit.PersonActive},
		}}, false)
		must(t, err)
		p, err := audit.ParsePolicy([]byte("version: 1\nexception_approval: required\n"))
		must(t, err)
		_, err = st.SetPolicy(ctx, "admin@acme.com", p)
		must(t, err)
		old := campaignstest.TimeP("2024-01-02T00:00:00Z")
		id := audit.IdentityID("github", "acme", audit.KindGitHubDeployKey, "api/1")
		e.Snapshot(t, nil, audit.Observation{ID: id, Kind: audit.KindGitHubDeployKey, Name: "key-1", Scope: "acme/api", CreatedAt: old, RotatedAt: old,
			Attributes: map[string]string{"added_by": "someone", "read_only": "true"}})
		_, err = campaigns.Create(ctx, st, "admin@acme.com", campaigns.Spec{Name: "signed", Scope: "id:*", Due: "2026-10-31",
			Reviewers: []string{"alice@acme.com"}, RequireSigned: true})
		must(t, err)
		o, err := campaigns.Decide(campaigns.SignWith(ctx, key, nil), st, "alice@acme.com", "signed", id, campaigns.Keep, "CI")
		must(t, err)
		var seq int64
		must(t, st.Write(ctx, func(tx *audit.Tx) error {
			ev, err := tx.Append(ctx, "mia@acme.com", campaigns.EventApprove, campaigns.ApprovePayload{Campaign: "signed", Items: []string{id}, Action: "approve exception",
				Approves: o.Event.Seq, Expires: o.ExceptionExpires, Detail: "approves the exception kept by alice@acme.com"})
			seq = ev.Seq
			return err
		}))
		dir := filepath.Join(t.TempDir(), "bundle")
		_, err = report.Export(ctx, st, "signed", dir, exportOptions())
		if !errors.Is(err, campaigns.ErrUnsignedDecision) {
			t.Fatalf("export of the campaign with an unsigned approval: %v; want ErrUnsignedDecision", err)
		}
		for _, want := range []string{"event " + strconv.FormatInt(seq, 10) + " (decision.approve by mia@acme.com) approves its exception, is not signed", "nothing is exported", "nhi verify"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%q does not say %q", err, want)
			}
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("the refused export left %s: %v", dir, err)
		}
	})
}
