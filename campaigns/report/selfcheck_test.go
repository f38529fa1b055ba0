package report_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/campaigns/report"
)

// selfConsistent checks that the bundle in dir passes verification without
// the evidence file, its files checked against its report.json.
func selfConsistent(t *testing.T, dir string) {
	t.Helper()
	res := verify(t, dir, nil, report.VerifyOptions{Tool: "nhi test"})
	if !res.OK() || !res.SelfChecked {
		t.Fatalf("the bundle does not agree with itself (checked %v): %+v", res.SelfChecked, res.Problems())
	}
}

// editBundle edits one file of a copy of the bundle in dir, replacing old
// with new once, and redoes SHA256SUMS and manifest.json as a forger
// would; it returns the copy.
func editBundle(t *testing.T, dir, name, old, new string) string {
	t.Helper()
	d := copyDir(t, dir)
	b := readFile(t, filepath.Join(d, name))
	edited := bytes.Replace(b, []byte(old), []byte(new), 1)
	if bytes.Equal(b, edited) {
		t.Fatalf("%q is not in %s", old, name)
	}
	rehash(t, d, name, edited)
	return d
}

// The bug of docs/report.md, "With the bundle alone": a cell of a CSV
// table edited, the hashes redone, passed every check without the
// evidence file. Now the table must say what report.json says, and the
// failure names the row, the identity and the column.
func TestSelfCheckCatchesAnEditedCell(t *testing.T) {
	f := newFixture(t)
	dir, _ := export(t, f, exportOptions())
	for _, c := range []struct{ file, old, new, says string }{
		{"population.csv", ",'@acme/platform,", ",'@acme/security,",
			`row 4 (github:acme:github_app_installation:12345): owner is "'@acme/security", report.json says "'@acme/platform"`},
		{"exceptions.csv", "dependency updates; owned by @acme/platform", "approved by the CISO",
			`row 3 (github:acme:github_app_installation:12345): justification is "approved by the CISO", report.json says "dependency updates; owned by @acme/platform"`},
		{"history.csv", "2026-10-06T11:30:00Z,alice,decide,keep", "2026-10-06T11:30:00Z,mallory,decide,keep",
			`row 3 (github:acme:github_actions_secret:script/SENTRY_DSN): actor is "mallory", report.json says "alice"`},
		{"decisions.csv", ",decommission,alice,bob,2026-10-05T14:03:00Z,", ",keep,alice,bob,2026-10-05T14:03:00Z,",
			`row 7 (github:acme:github_deploy_key:api/104): decision is "keep", report.json says "decommission"`},
		{"report.html", "<td>unused CI keys</td>", "<td>still deploys</td>",
			`line 315 is …"026-10-05</span><wbr>T14:03:00Z</td><td>still deploys</td></tr>", but rendered from report.json it is …"026-10-05</span><wbr>T14:03:00Z</td><td>unused CI keys</td></tr>"`},
	} {
		t.Run(c.file, func(t *testing.T) {
			d := editBundle(t, dir, c.file, c.old, c.new)
			res := verify(t, d, nil, report.VerifyOptions{})
			failsNaming(t, res, c.file, c.says)
			if len(res.Problems()) != 1 || res.SelfChecked {
				t.Errorf("one edited file: want one problem, got %+v (self-checked %v)", res.Problems(), res.SelfChecked)
			}
			// Every file's hash still matches the manifest: the forger
			// redid them.
			for _, c := range res.Checks {
				if strings.Contains(c.Text, "manifest.json says") && !c.OK {
					t.Errorf("the hashes were redone, yet %s: %s", c.Subject, c.Text)
				}
			}
		})
	}
}

// A row taken out of a table, or added, is named too.
func TestSelfCheckCatchesAMissingOrAddedRow(t *testing.T) {
	f := newFixture(t)
	dir, _ := export(t, f, exportOptions())
	pop := string(readFile(t, filepath.Join(dir, "population.csv")))
	lines := strings.SplitAfter(pop, "\n")
	last := lines[len(lines)-2] // the last row (the split leaves "" after it)
	d := editBundle(t, dir, "population.csv", last, "")
	failsNaming(t, verify(t, d, nil, report.VerifyOptions{}), "population.csv", "ends after row 11, where report.json has more (row 12 (github:acme:github_webhook:org/77))")

	d = editBundle(t, dir, "notes.csv", "\n", "\n9,github:acme:x,x,99,2026-10-01T00:00:00Z,mallory,added\n")
	failsNaming(t, verify(t, d, nil, report.VerifyOptions{}), "notes.csv", `row 1 (github:acme:github_deploy_key:api/101): n is "9", report.json says "6"`)
}

// manifest.json says what report.json says: an edited signer (of an
// unsigned bundle, whose manifest no hash covers) fails, where the hashes
// alone pass it (TestTamperOneByte).
func TestSelfCheckCatchesAnEditedManifest(t *testing.T) {
	f := newFixture(t)
	dir, _ := export(t, f, exportOptions())
	d := copyDir(t, dir)
	m := readFile(t, filepath.Join(d, "manifest.json"))
	must(t, os.WriteFile(filepath.Join(d, "manifest.json"), bytes.Replace(m, []byte(`"signer": "carol@acme.test"`), []byte(`"signer": "ciso@acme.test"`), 1), 0o644))
	res := verify(t, d, nil, report.VerifyOptions{})
	failsNaming(t, res, "manifest.json", `line 5 is "  \"signer\": \"ciso@acme.test\",", but rendered from report.json it is "  \"signer\": \"carol@acme.test\","`)
}

// A manifest whose formats leave json out, while it lists report.json,
// would skip the check: it fails instead.
func TestSelfCheckCatchesFormatsWithoutJSON(t *testing.T) {
	f := newFixture(t)
	dir, _ := export(t, f, exportOptions())
	d := copyDir(t, dir)
	m := readFile(t, filepath.Join(d, "manifest.json"))
	edited := bytes.Replace(m, []byte("\"html\",\n    \"json\",\n"), []byte("\"html\",\n"), 1)
	if bytes.Equal(m, edited) {
		t.Fatalf("no json format in:\n%s", m)
	}
	must(t, os.WriteFile(filepath.Join(d, "manifest.json"), edited, 0o644))
	failsNaming(t, verify(t, d, nil, report.VerifyOptions{}), "manifest.json", "lists report.json, but not json among its formats (csv,html,md)")
}

// SHA256SUMS lists what manifest.json lists: a forger who redoes the
// manifest but not SHA256SUMS's lines (so sha256sum -c fails, but nhi
// checked only the manifest) is caught.
func TestSelfCheckCatchesSumsThatDisagree(t *testing.T) {
	f := newFixture(t)
	dir, _ := export(t, f, exportOptions())
	d := copyDir(t, dir)
	sums := readFile(t, filepath.Join(d, "SHA256SUMS"))
	i := bytes.Index(sums, []byte("  population.csv"))
	edited := bytes.Clone(sums)
	copy(edited[i-64:i], bytes.Repeat([]byte("0"), 64))
	rehash(t, d, "SHA256SUMS", edited)
	failsNaming(t, verify(t, d, nil, report.VerifyOptions{}), "SHA256SUMS", `but manifest.json lists`)
}

// report.json must read back as nhi writes it; a row edited in it (the
// hashes redone) is named in every file that says otherwise, and in its
// own list of the CSV tables' hashes.
func TestSelfCheckCatchesAnEditedReportJSON(t *testing.T) {
	f := newFixture(t)
	dir, _ := export(t, f, exportOptions())
	d := editBundle(t, dir, "report.json", `"draft": false,`, `"draft":false,`)
	failsNaming(t, verify(t, d, nil, report.VerifyOptions{}), "report.json", `line 5 is "  \"draft\":false,", but read and written again by nhi it is "  \"draft\": false,"`)

	d = editBundle(t, dir, "report.json", `"owner":"@acme/platform"`, `"owner":"@acme/security"`)
	res := verify(t, d, nil, report.VerifyOptions{})
	failsNaming(t, res, "population.csv", `row 4 (github:acme:github_app_installation:12345): owner is "'@acme/platform", report.json says "'@acme/security"`)
	failsNaming(t, res, "decisions.csv", "row 4")
	failsNaming(t, res, "report.md", "@acme/security")
	failsNaming(t, res, "report.json", "lists population.csv with SHA-256")
}

// An untouched bundle agrees with itself, whatever it holds: long tables
// beyond the page the HTML and Markdown list (their trails too), a
// byte order mark, a signature, some formats only. Without report.json
// the files cannot be checked against each other (and nhi verify says so).
func TestSelfCheckPassesUntouchedBundles(t *testing.T) {
	f := newFixture(t)
	key, err := report.LoadSigningKey(genKey(t, "ed25519", ""), nil)
	must(t, err)
	signed := exportOptions()
	signed.Key = key
	excel := exportOptions()
	excel.Excel = true
	for _, c := range []struct {
		name    string
		opts    report.ExportOptions
		formats []string
	}{
		{"all", exportOptions(), nil},
		{"signed", signed, nil},
		{"excel", excel, nil},
		{"json and md", exportOptions(), []string{"json", "md"}},
		{"csv and json", exportOptions(), []string{"csv", "json"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.opts.Formats = c.formats
			dir, _ := export(t, f, c.opts)
			selfConsistent(t, dir)
		})
	}
	t.Run("long tables", func(t *testing.T) {
		defer report.SetPageRowsForTest(2)()
		dir, _ := export(t, f, exportOptions())
		selfConsistent(t, dir)
	})
	t.Run("other", func(t *testing.T) {
		dir, _ := export(t, otherFixture(t), exportOptions())
		selfConsistent(t, dir)
	})
	t.Run("no report.json", func(t *testing.T) {
		opts := exportOptions()
		opts.Formats = []string{"csv", "html", "md"}
		dir, _ := export(t, f, opts)
		res := verify(t, dir, nil, report.VerifyOptions{})
		if !res.OK() || res.SelfChecked {
			t.Fatalf("ok %v, self-checked %v: %+v", res.OK(), res.SelfChecked, res.Problems())
		}
		for _, c := range res.Checks {
			if c.Subject == "consistency" {
				t.Errorf("a bundle without report.json checked for consistency: %+v", c)
			}
		}
	})
}

// A signed bundle still passes; a cell edited in it, the hashes redone,
// fails twice: the signature no longer verifies the manifest, and the
// table no longer says what report.json says.
func TestSelfCheckSignedBundle(t *testing.T) {
	f := newFixture(t)
	key, err := report.LoadSigningKey(genKey(t, "ed25519", ""), nil)
	must(t, err)
	opts := exportOptions()
	opts.Key = key
	dir, _ := export(t, f, opts)
	res := verify(t, dir, nil, report.VerifyOptions{})
	if !res.OK() || !res.SelfChecked || res.SignedBy == nil {
		t.Fatalf("signed bundle: ok %v, self-checked %v, signed by %v: %+v", res.OK(), res.SelfChecked, res.SignedBy, res.Problems())
	}
	d := editBundle(t, dir, "population.csv", ",'@acme/platform,", ",'@acme/security,")
	res = verify(t, d, nil, report.VerifyOptions{})
	failsNaming(t, res, report.FileSignature, "does not verify manifest.json")
	failsNaming(t, res, "population.csv", "row 4 (github:acme:github_app_installation:12345): owner is")
}
