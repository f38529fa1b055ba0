package report_test

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/campaigns/report"
)

// TestLargeCampaignPages: above the page size, the HTML and Markdown
// reports list the first rows of the register, say how many they leave
// out and where those are, while decisions.csv and report.json keep every
// row, and the bundle still verifies (docs/report.md, "Large campaigns").
func TestLargeCampaignPages(t *testing.T) {
	defer report.SetPageRowsForTest(3)()
	f := newFixture(t)
	dir, res := export(t, f, exportOptions())
	n := res.Report.Attestation.Summary.Items
	if n <= 3 {
		t.Fatalf("the fixture has %d items; the test needs more than 3", n)
	}

	html := string(readFile(t, filepath.Join(dir, "report.html")))
	register := html[strings.Index(html, `<section id="register">`):strings.Index(html, "<h3>Notes</h3>")]
	if rows := strings.Count(register, "<tr") - 1; rows != 3 { // less the header row
		t.Errorf("the HTML register lists %d rows, want 3", rows)
	}
	if want := fmt.Sprintf("This page lists the first 3 of the %d rows</b>, in identity order; the other %d are in <span class=\"mono\">decisions.csv</span>", n, n-3); !strings.Contains(register, want) {
		t.Errorf("the HTML register does not say what it leaves out; want %q in:\n%s", want, register[:min(len(register), 2000)])
	}
	for _, k := range []int{1, 3} {
		if !strings.Contains(register, fmt.Sprintf(`<td class="n">%d</td>`, k)) {
			t.Errorf("row %d is not listed", k)
		}
	}
	if strings.Contains(register, fmt.Sprintf(`<td class="n">%d</td>`, n)) {
		t.Errorf("the last row (%d) is listed beyond the page", n)
	}

	md := string(readFile(t, filepath.Join(dir, "report.md")))
	if want := fmt.Sprintf("**This report lists the first 3 of the %d rows**", n); !strings.Contains(md, want) {
		t.Errorf("the Markdown register does not say what it leaves out (%q)", want)
	}

	csv := readFile(t, filepath.Join(dir, "decisions.csv"))
	if lines := bytes.Count(csv, []byte("\n")); lines != n+1 {
		t.Errorf("decisions.csv has %d lines, want a header and %d rows", lines, n)
	}
	if got := strings.Count(string(readFile(t, filepath.Join(dir, "report.json"))), `{"n":`); got < n {
		t.Errorf("report.json has %d register rows, want %d", got, n)
	}

	v, err := report.VerifyBundle(ctx, dir, f.Store, report.VerifyOptions{Tool: "nhi test"})
	if err != nil || !v.OK() {
		t.Fatalf("the bundle does not verify: %+v %v", v.Problems(), err)
	}
}

// TestStreamedExportIsBuilt: the bundle Export writes, its long tables
// read back from spool files as they are written, holds the same bytes as
// the report Build assembles whole in memory, rendered; with a page of 3
// rows the tables, trails and exceptions all run past the page.
func TestStreamedExportIsBuilt(t *testing.T) {
	defer report.SetPageRowsForTest(3)()
	f := newFixture(t)
	dir, res := export(t, f, exportOptions())
	whole, err := report.Build(ctx, f.Store, "2026-Q4", exportOptions().Options)
	if err != nil {
		t.Fatal(err)
	}
	if len(whole.Register) != res.Report.Attestation.Summary.Items || len(whole.Register) <= 3 {
		t.Fatalf("Build holds %d rows of %d; the test needs more than 3", len(whole.Register), res.Report.Attestation.Summary.Items)
	}
	if len(res.Report.Register) != 3 {
		t.Errorf("the exported report keeps %d register rows in memory, want the page's 3", len(res.Report.Register))
	}
	// The CSV tables' hashes are filled in while a bundle is written.
	whole.Integrity.DataFiles = res.Report.Integrity.DataFiles
	files := map[string]func(*bytes.Buffer) error{
		"report.json": func(b *bytes.Buffer) error { return whole.WriteJSON(b) },
		"report.html": func(b *bytes.Buffer) error { return whole.WriteHTML(b) },
		"report.md":   func(b *bytes.Buffer) error { return whole.WriteMarkdown(b) },
	}
	for _, name := range report.CSVFiles {
		files[name] = func(b *bytes.Buffer) error { return whole.WriteCSV(name, b) }
	}
	for name, write := range files {
		var b bytes.Buffer
		if err := write(&b); err != nil {
			t.Fatal(err)
		}
		if got := readFile(t, filepath.Join(dir, name)); !bytes.Equal(got, b.Bytes()) {
			t.Errorf("%s: the exported file (%d bytes) differs from the built report's (%d bytes)", name, len(got), b.Len())
		}
	}
}
