package report_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
	"github.com/nhi-audit/nhi/campaigns/report"
)

// The report of a campaign created with --require-signed says every
// decision had to be signed. An unsigned decision written around nhi
// (the event, the item and its history row, as nhi writes them: anyone
// who writes an evidence file, a reviewer with psql on her own items)
// is held to that: the export writes nothing and says to run nhi verify,
// where before its register showed the decision, unsigned, under
// criteria saying unsigned decisions were refused.
func TestExportRefusesAnUnsignedDecisionWhereSignaturesAreRequired(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		f := newFixtureOn(t, eng)
		f.snapshot("2026-11-01T08:00:00Z", nil, idRenovate, idDeployProd)
		f.at("2026-11-01T09:00:00Z").must(campaigns.Create(ctx, f.Store, "carol", campaigns.Spec{Name: "signed", Scope: "id:*", Due: "2026-11-30",
			Reviewers: []string{"alice", "bob"}, RequireSigned: true}))
		q, err := campaigns.Get(ctx, f.Store, "signed")
		must(t, err)
		it := q.Items[0]
		_, err = campaignstest.WriteAround(ctx, f.Store, it.Reviewer, campaigns.DecidePayload{Campaign: "signed", Items: []string{it.ID}, Decision: campaigns.Decommission})
		must(t, err)
		dir := filepath.Join(t.TempDir(), "bundle")
		_, err = report.Export(ctx, f.Store, "signed", dir, exportOptions())
		if !errors.Is(err, campaigns.ErrUnsignedDecision) || !strings.Contains(err.Error(), "nhi verify") {
			t.Fatalf("export of the campaign with an unsigned decision: %v; want ErrUnsignedDecision, saying to run nhi verify", err)
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("the refused export left %s: %v", dir, err)
		}
	})
}
