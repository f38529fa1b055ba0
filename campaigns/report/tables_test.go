package report_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/report"
)

// TestExportRefusesTablesTheLogDoesNotSay: the report reads a campaign's
// tables, which are projections of its event log. Someone with the file
// and sqlite3 turns alice's decommission of dana's laptop key into a keep
// "approved by the CISO", or the ops key nobody could check into a removed
// one. The export must not present either as evidence: it refuses, names
// the item and the column, and says to run nhi verify; nothing is written.
func TestExportRefusesTablesTheLogDoesNotSay(t *testing.T) {
	for _, c := range []struct {
		name, sql, id, want string
	}{
		{"decision", `UPDATE campaign_items SET decision = 'keep', reason = 'approved by the CISO' WHERE identity_id = ?`, idDana,
			`the decision is "keep" in the table, but event 11 (campaign.decide) decided "decommission"`},
		{"justification", `UPDATE campaign_items SET reason = 'approved by the CISO' WHERE identity_id = ?`, idDana,
			`the justification is "approved by the CISO" in the table, but event 11 (campaign.decide) recorded "personal laptop key with push access"`},
		{"decider", `UPDATE campaign_items SET decided_by = 'bob' WHERE identity_id = ?`, idDana,
			`the decider is "bob" in the table, but event 11 (campaign.decide) was recorded by "alice"`},
		{"verification", `UPDATE campaign_items SET verification = 'removed' WHERE identity_id = ?`, idOpsKey,
			`the verification is "removed" in the table, but campaign.verify event 30 recorded "not-checked"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			opts := report.Options{GeneratedAt: generatedAt, Signer: "carol"}
			if _, err := report.Build(ctx, f.Store, "2026-Q4", opts); err != nil {
				t.Fatalf("before the edit: %v", err)
			}
			f.Exec(t, c.sql+` AND campaign_id = (SELECT id FROM campaigns WHERE name = '2026-Q4')`, c.id)
			dir := filepath.Join(t.TempDir(), "bundle")
			_, err := report.Export(ctx, f.Store, "2026-Q4", dir, report.ExportOptions{Options: opts})
			if !errors.Is(err, campaigns.ErrTablesDisagree) || !strings.Contains(err.Error(), c.id) ||
				!strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "run `nhi verify`") {
				t.Fatalf("export of an edited table: %v\nwant %q", err, c.want)
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("the refused export left %s: %v", dir, err)
			}
		})
	}
}
