package report_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
	"github.com/nhi-audit/nhi/campaigns/report"
)

var update = flag.Bool("update", false, "rewrite the golden reports in testdata/report")

const goldenDir = "../../testdata/report"

func exportOptions() report.ExportOptions {
	return report.ExportOptions{Options: report.Options{GeneratedAt: generatedAt, Signer: "carol@acme.test", Tool: "nhi test"}}
}

func export(t *testing.T, f *fixture, opts report.ExportOptions) (string, *report.Exported) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "bundle")
	res, err := report.Export(ctx, f.Store, "2026-Q4", dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	// Every bundle a test exports agrees with itself (selfcheck.go).
	if slices.Contains(res.Manifest.Formats, report.FormatJSON) {
		selfConsistent(t, dir)
	}
	return dir, res
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestGoldenReports compares every file of the bundle with its golden
// copy; go test -run TestGoldenReports -update rewrites them.
func TestGoldenReports(t *testing.T) {
	goldenReports(t, newFixture(t))
}

// The same story on PostgreSQL gives the same bundle, byte for byte: the
// engines store and read the same evidence (docs/team.md).
func TestGoldenReportsOnPostgres(t *testing.T) {
	if *update {
		t.Skip("-update writes the golden files from SQLite")
	}
	goldenReports(t, newFixtureOn(t, campaignstest.Postgres))
}

func goldenReports(t *testing.T, f *fixture) {
	t.Helper()
	dir, res := export(t, f, exportOptions())
	if *update {
		if err := os.MkdirAll(goldenDir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, fh := range res.Files {
		got := readFile(t, filepath.Join(dir, fh.Path))
		golden := filepath.Join(goldenDir, fh.Path)
		if *update {
			if err := os.WriteFile(golden, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test ./campaigns/report -run TestGoldenReports -update)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from %s at byte %d; if the change is intended, run with -update and read the diff",
				fh.Path, golden, firstDiff(got, want))
		}
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// The same evidence file and inputs give the same bytes, and so does the
// report rebuilt later, after more events, as of the same event.
func TestDeterministic(t *testing.T) {
	f := newFixture(t)
	dir1, res1 := export(t, f, exportOptions())
	dir2, _ := export(t, f, exportOptions())
	for _, fh := range res1.Files {
		if !bytes.Equal(readFile(t, filepath.Join(dir1, fh.Path)), readFile(t, filepath.Join(dir2, fh.Path))) {
			t.Errorf("%s differs between two exports of the same file", fh.Path)
		}
	}

	// Later: a new snapshot removes the old CI key and a verification
	// rewrites the remediation states; an owner changes.
	f.snapshot("2026-11-20T06:00:00Z", nil, idRenovate, idDeployProd, idFormula, idNPM, idSentry, idPAT, idRunner, idPipe)
	f.at("2026-11-20T12:00:00Z").must(campaigns.VerifyRemediation(ctx, f.Store, "carol", "2026-Q4"))
	f.at("2026-11-21T12:00:00Z").must(f.Store.SetOwner(ctx, "carol", idPAT, "platform-team"))

	r, err := report.VerifyBundle(ctx, dir1, f.Store, report.VerifyOptions{Tool: "nhi test"})
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK() {
		t.Fatalf("a bundle rebuilt after later events does not match: %+v", r.Problems())
	}
	// Dated before the events it would reflect, a report is refused.
	if _, err := report.Build(ctx, f.Store, "2026-Q4", exportOptions().Options); err == nil ||
		!strings.Contains(err.Error(), "is before event 33") || !strings.Contains(err.Error(), "--generated-at") {
		t.Errorf("a generation time before the head event: %v", err)
	}
	opts := exportOptions().Options
	opts.GeneratedAt = campaignstest.Time("2026-11-22T09:00:00Z")
	now, err := report.Build(ctx, f.Store, "2026-Q4", opts)
	if err != nil {
		t.Fatal(err)
	}
	if now.Remediation.Removed != 4 || now.Remediation.Overdue != 0 {
		t.Errorf("a report as of now should see the later verification: %+v", now.Remediation)
	}
}

// Names and scopes from the API carry markup, spreadsheet formulas and
// terminal control sequences; none may come through live.
func TestHostileInput(t *testing.T) {
	f := newFixture(t)
	dir, res := export(t, f, exportOptions())
	for _, fh := range res.Files {
		b := readFile(t, filepath.Join(dir, fh.Path))
		if bytes.ContainsAny(b, "\x1b\x07") || bytes.Contains(b, []byte("\u009d")) {
			t.Errorf("%s holds a terminal control character", fh.Path)
		}
		if bytes.Contains(b, []byte("pwned")) {
			t.Errorf("%s: the OSC sequence was not removed whole", fh.Path)
		}
	}

	html := string(readFile(t, filepath.Join(dir, "report.html")))
	if strings.Contains(html, "<script") || !strings.Contains(html, "acme/<wbr>&lt;script&gt;alert(1)&lt;/<wbr>script&gt;") {
		t.Error("report.html: the <script> scope is not escaped")
	}
	for _, bad := range []string{"http://", "https://", "src=", "@import", "url(", "<link", "<img", "<iframe", "<object"} {
		// The only URLs are text: the API URL and the webhook's name.
		for _, line := range strings.Split(html, "\n") {
			if strings.Contains(line, bad) && !strings.Contains(line, "api.github.com") && !strings.Contains(line, "hooks.example.com") && !strings.Contains(line, "HYPERLINK") {
				t.Errorf("report.html loads or links something (%q): %s", bad, line)
			}
		}
	}
	if strings.Contains(html, "<a href=\"http") {
		t.Error("report.html links outside itself")
	}

	md := string(readFile(t, filepath.Join(dir, "report.md")))
	if !strings.Contains(md, `PIPE\|TICK\`+"`X\\`"+`\*b\*`) {
		t.Errorf("report.md: pipes, backticks and emphasis in a name are not escaped")
	}
	if strings.Contains(md, "<script") || !strings.Contains(md, "acme/&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("report.md: the <script> scope is not escaped")
	}

	for _, name := range report.CSVFiles {
		recs, err := csv.NewReader(bytes.NewReader(readFile(t, filepath.Join(dir, name)))).ReadAll()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, rec := range recs {
			for _, cell := range rec {
				if c := strings.TrimLeft(cell, " "); c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
					t.Errorf("%s: cell %q would run as a formula", name, cell)
				}
			}
		}
	}
	dec := string(readFile(t, filepath.Join(dir, "decisions.csv")))
	if !strings.Contains(dec, `"'=HYPERLINK(""http://evil"")"`) || !strings.Contains(dec, "'=1+1 stays for now") {
		t.Errorf("decisions.csv: formulas are not neutralised with a leading apostrophe:\n%s", dec)
	}
	if j := string(readFile(t, filepath.Join(dir, "report.json"))); strings.Contains(j, "<script") {
		t.Error("report.json: < is not escaped")
	}
}

// The printable form of every hostile value is what the report shows.
func TestPrintableEverywhere(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		f := newFixtureOn(t, eng)
		r, err := report.Build(ctx, f.Store, "2026-Q4", exportOptions().Options)
		if err != nil {
			t.Fatal(err)
		}
		for _, row := range r.Register {
			if row.ID == idOpsKey && row.Name != audit.Printable(oscName) {
				t.Errorf("name %q, want %q", row.Name, audit.Printable(oscName))
			}
		}
	})
}

// report.json is valid JSON that reads back into the same report.
func TestJSONRoundTrip(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		f := newFixtureOn(t, eng)
		dir, res := export(t, f, exportOptions())
		var back report.Report
		if err := json.Unmarshal(readFile(t, filepath.Join(dir, "report.json")), &back); err != nil {
			t.Fatal(err)
		}
		// Compared through their exported fields (what report.json holds).
		got, err := json.Marshal(&back)
		if err != nil {
			t.Fatal(err)
		}
		want, err := json.Marshal(res.Report)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("report.json does not read back into the report it was written from")
		}
	})
}

// The register rows and history entries are written without reflection;
// they must be what encoding/json writes, escapes included.
func TestRowJSON(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		f := newFixtureOn(t, eng)
		r, err := report.Build(ctx, f.Store, "2026-Q4", exportOptions().Options)
		if err != nil {
			t.Fatal(err)
		}
		odd := report.Row{N: 7, ID: "a\"b\\c\n\t\r\b\f\x01<>&\u2028\u2029é\xff", CurrentID: "now\"<renamed>", Findings: []report.Finding{{Rule: "x", Message: "<&>"}},
			Flags: []string{"a", "b"}, Event: -3, Overdue: true}
		rows := append(r.Register, odd, report.Row{})
		for i := range rows {
			want, err := json.Marshal(&rows[i])
			if err != nil {
				t.Fatal(err)
			}
			if got := report.AppendRowForTest(nil, &rows[i]); !bytes.Equal(got, want) {
				t.Errorf("row %d:\n got %s\nwant %s", i, got, want)
			}
		}
		if len(r.History) < 3 {
			t.Fatalf("the fixture's history has %d entries", len(r.History))
		}
		hist := append(r.History, report.HistoryEntry{N: 7, ID: odd.ID, Event: -3, Reason: "<&>\u2028", Other: true, Undoes: 9, By: -1}, report.HistoryEntry{})
		for i := range hist {
			want, err := json.Marshal(&hist[i])
			if err != nil {
				t.Fatal(err)
			}
			if got := report.AppendHistoryForTest(nil, &hist[i]); !bytes.Equal(got, want) {
				t.Errorf("history entry %d:\n got %s\nwant %s", i, got, want)
			}
		}
	})
}

// The reviewers' notes on the population's identities are in the report,
// in log order, up to the event it reflects; a note on an identity outside
// the population is not.
func TestNotesInTheReport(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		f := newFixtureOn(t, eng)
		dir, _ := export(t, f, exportOptions())
		r, err := report.Build(ctx, f.Store, "2026-Q4", exportOptions().Options)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Notes) != 2 || r.Notes[0].ID != idDeployProd || r.Notes[1].ID != idFormula || r.Notes[0].Event > r.Notes[1].Event {
			t.Fatalf("notes: %+v", r.Notes)
		}
		for _, n := range r.Notes {
			if n.ID == idRetired {
				t.Error("a note on an identity outside the population is in the report")
			}
			if row := r.Register[n.N-1]; row.ID != n.ID || n.Name != row.Name {
				t.Errorf("note %d points at register row %d (%s), not its identity", n.Event, n.N, row.ID)
			}
		}
		if want := "asked @acme/platform in SEC-42; OIDC pilot in January"; r.Notes[0].Actor != "bob" || r.Notes[0].Text != want {
			t.Errorf("first note: %+v", r.Notes[0])
		}

		// A note written after the export is in a new report, and the old
		// bundle still verifies: it reflects the log up to its own head.
		f.at("2026-11-12T09:00:00Z").must(f.Store.AddNotes(ctx, "carol", []string{idPAT}, "GitHub App token live since 2026-11-11"))
		res, err := report.VerifyBundle(ctx, dir, f.Store, report.VerifyOptions{Tool: "nhi test"})
		if err != nil || !res.OK() {
			t.Fatalf("the bundle no longer verifies after a later note: %+v %v", res.Problems(), err)
		}
		opts := exportOptions().Options
		opts.GeneratedAt = campaignstest.Time("2026-11-12T10:00:00Z")
		later, err := report.Build(ctx, f.Store, "2026-Q4", opts)
		if err != nil {
			t.Fatal(err)
		}
		if len(later.Notes) != 3 || later.Notes[2].Actor != "carol" {
			t.Errorf("notes after a later note: %+v", later.Notes)
		}
	})
}

// The review rules say what "Decided by" proves: a name nhi acted as, not
// authenticated on an evidence file; the role the database authenticated
// on PostgreSQL; a signature proving it either way. A report does not
// know which store a decision was made in (evidence moves between them),
// so it says both, and the bundle stays the same on either engine.
func TestReportSaysWhatDecidedByProves(t *testing.T) {
	r, err := report.Build(ctx, newFixture(t).Store, "2026-Q4", exportOptions().Options)
	if err != nil {
		t.Fatal(err)
	}
	var rule string
	for _, p := range r.Criteria.Review {
		if p.Name == "Who decided" {
			rule = p.Rule
		}
	}
	for _, want := range []string{"--as", "not authenticated", "PostgreSQL", "the role the database authenticated", "nhi db import", "signed"} {
		if !strings.Contains(rule, want) {
			t.Errorf("the review rules' Who decided %q lacks %q", rule, want)
		}
	}
}

// The criteria say when orphaned fires as the rule judges it: an owner,
// or a holder the source names, whom the directory of people marks as
// left orphans the identity, on every source. The row said only "no
// owner", or "no longer an organisation member", so an auditor reading
// the criteria could not tell that a leaver's identities are flagged.
func TestCriteriaOrphanedNamesLeavers(t *testing.T) {
	dir, _ := export(t, newFixture(t), exportOptions())
	md := string(readFile(t, filepath.Join(dir, "report.md")))
	var row string
	for _, l := range strings.Split(md, "\n") {
		if strings.HasPrefix(l, "| orphaned |") {
			row = l
		}
	}
	if !strings.Contains(row, "the owner, or the holder the source names, is a person the directory of people marks as left") {
		t.Errorf("the criteria's orphaned row: %q", row)
	}
}

// TestCriteriaExceptionsNamesWhatTheSectionLists: the criteria's rule
// for exceptions names every decision the Exceptions section lists, so
// a reader who counts by the rule comes to the section's count. It named
// only a keep while the section listed the rotates of identities with
// findings too.
func TestCriteriaExceptionsNamesWhatTheSectionLists(t *testing.T) {
	dir, _ := export(t, newFixture(t), exportOptions())
	md := string(readFile(t, filepath.Join(dir, "report.md")))
	var rule string
	listed := map[string]bool{}
	in := false
	for _, l := range strings.Split(md, "\n") {
		switch {
		case strings.HasPrefix(l, "| Exceptions |"):
			rule = l
		case strings.HasPrefix(l, "## "):
			in = l == "## 5. Exceptions"
		case in && strings.HasPrefix(l, "| ") && !strings.HasPrefix(l, "| # |"):
			if cells := strings.Split(l, " | "); len(cells) > 5 {
				listed[cells[5]] = true
			}
		}
	}
	if len(listed) < 2 {
		t.Fatalf("the fixture's Exceptions section lists decisions %v; the test needs a keep and a rotate", listed)
	}
	for d := range listed {
		if !strings.Contains(strings.ToLower(rule), "a "+d+" ") {
			t.Errorf("the Exceptions section lists a %s, but the criteria's rule does not name it: %q", d, rule)
		}
	}
}
