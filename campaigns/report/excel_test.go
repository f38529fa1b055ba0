package report_test

import (
	"bytes"
	"encoding/csv"
	"path/filepath"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
	"github.com/nhi-audit/nhi/campaigns/report"
)

// TestExcelBOM: with Excel set, every CSV table starts with a UTF-8 byte
// order mark (Excel then reads UTF-8, not the system code page), the names
// that are not ASCII come back unchanged, the manifest says so, and the
// bundle still verifies by rebuilding.
func TestExcelBOM(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		f := newFixtureOn(t, eng)
		names := []string{"Überprüfung-Schlüssel", "clé-déploiement", "部署キー"}
		var obs []audit.Observation
		for i, n := range names {
			key := []string{"api/900", "api/901", "api/902"}[i]
			obs = append(obs, audit.Observation{ID: id(audit.KindGitHubDeployKey, key), Kind: audit.KindGitHubDeployKey, Name: n, Scope: "acme/api",
				Permissions: map[string]string{"contents": "read"}, Attributes: map[string]string{"added_by": "zoë", "read_only": "true"}})
		}
		f.Clock.Set("2026-11-06T06:00:00Z")
		f.Snapshot(t, nil, obs...)
		f.at("2026-11-06T09:00:00Z").must(campaigns.Create(ctx, f.Store, "carol", campaigns.Spec{Name: "intl", Scope: "name:*-* or name:部署*", Due: "2026-12-31",
			Reviewers: []string{"alice", "bob"}}))

		dir := filepath.Join(t.TempDir(), "bundle")
		opts := exportOptions()
		opts.Excel = true
		res, err := report.Export(ctx, f.Store, "intl", dir, opts)
		if err != nil {
			t.Fatal(err)
		}
		if !res.Manifest.CSVBOM {
			t.Error("manifest.json does not say the CSV tables carry a byte order mark")
		}
		for _, name := range report.CSVFiles {
			b := readFile(t, filepath.Join(dir, name))
			if !bytes.HasPrefix(b, []byte("\xef\xbb\xbf")) {
				t.Errorf("%s does not start with a UTF-8 byte order mark", name)
			}
		}
		recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(readFile(t, filepath.Join(dir, report.FileDecisions)), []byte("\xef\xbb\xbf")))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		for _, r := range recs[1:] {
			got[r[3]] = true
		}
		for _, n := range names {
			if !got[n] {
				t.Errorf("%q did not survive into decisions.csv: %v", n, got)
			}
		}
		v, err := report.VerifyBundle(ctx, dir, f.Store, report.VerifyOptions{Tool: "nhi test"})
		if err != nil || !v.OK() {
			t.Fatalf("an --excel bundle does not verify: %+v %v", v.Problems(), err)
		}

		// Without it, no byte order mark: scripts reading CSV get plain UTF-8.
		plain, _ := export(t, f, exportOptions())
		if b := readFile(t, filepath.Join(plain, report.FileDecisions)); bytes.HasPrefix(b, []byte("\xef\xbb\xbf")) {
			t.Error("a byte order mark without --excel")
		}
	})
}
