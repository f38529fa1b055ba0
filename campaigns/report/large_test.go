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
	n := len(res.Report.Register)
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
