package importer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/connectors"
)

func parse(t *testing.T, data, format string) (*Population, error) {
	t.Helper()
	return Parse([]byte(data), Options{Source: "slack", Account: "acme", Format: format, File: "in." + format})
}

func mustParse(t *testing.T, data, format string) *Population {
	t.Helper()
	p, err := parse(t, data, format)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// errorLines parses data expecting a refusal, and returns its errors as
// "line L, column C (field): message" strings.
func errorLines(t *testing.T, data, format string) []string {
	t.Helper()
	p, err := parse(t, data, format)
	var errs *Errors
	if !errors.As(err, &errs) {
		t.Fatalf("parsed %v, error %v; want *Errors", p, err)
	}
	var out []string
	for _, e := range errs.List {
		out = append(out, e.String())
	}
	return out
}

// observations reads p's identities as they are recorded.
func observations(t *testing.T, p *Population) []audit.Observation {
	t.Helper()
	var out []audit.Observation
	if err := p.Each(func(o audit.Observation) error {
		out = append(out, o)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func day(s string) *time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return &t
}

// The documented example files read as the same population, field by field.
func TestExampleFiles(t *testing.T) {
	var pops []*Population
	for _, f := range []string{"identities.csv", "identities.json"} {
		data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "import", f))
		if err != nil {
			t.Fatal(err)
		}
		p, err := Parse(data, Options{Source: "slack", Format: strings.TrimPrefix(filepath.Ext(f), "."), File: f})
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		pops = append(pops, p)
	}
	csv, js := pops[0], pops[1]
	csvObs, jsObs := observations(t, csv), observations(t, js)
	if csv.Delimiter != ',' || len(csvObs) != 4 || csv.Identities != 4 {
		t.Fatalf("csv: delimiter %q, %d identities", csv.Delimiter, len(csvObs))
	}
	first := csvObs[0]
	want := audit.Observation{
		ID: "slack:default:import_bot_token:B01HX2", Kind: "import_bot_token", Name: "deploy-bot", Scope: "#deploys",
		CreatedAt: day("2024-03-01T00:00:00Z"), LastUsedAt: day("2026-11-28T09:30:00Z"),
		Permissions: map[string]string{"chat": "write", "channels": "read"},
		// Its expiry is said (never); its rotation is not.
		Attributes: map[string]string{"owner": "alice@acme.com", "team": "platform", audit.AttrRotationUnknown: "true"},
	}
	if !reflect.DeepEqual(first, want) {
		t.Errorf("first row:\n got %+v\nwant %+v", first, want)
	}
	dd := csvObs[2] // Excel serial dates, a JSON array in a cell
	if dd.ID != "slack:default:import_api_key:A7781" || !dd.CreatedAt.Equal(*day("2024-01-01T00:00:00Z")) ||
		!dd.RotatedAt.Equal(*day("2025-01-01T00:00:00Z")) || dd.Permissions["metrics"] != "write" || dd.Permissions["logs"] != "write" {
		t.Errorf("third row: %+v", dd)
	}
	if !reflect.DeepEqual(csvObs, jsObs) {
		t.Errorf("CSV and JSON examples differ:\n csv %+v\njson %+v", csvObs, jsObs)
	}
}

func TestTimestamps(t *testing.T) {
	good := map[string]string{
		"2026-11-30T14:05:00Z":      "2026-11-30T14:05:00Z",
		"2026-11-30T15:05:00+01:00": "2026-11-30T14:05:00Z",
		"2026-11-30":                "2026-11-30T00:00:00Z",
		"2026-11-30 14:05":          "2026-11-30T14:05:00Z",
		"2026-11-30 14:05:09":       "2026-11-30T14:05:09Z",
		"2026-11-30T14:05":          "2026-11-30T14:05:00Z",
		"46356":                     "2026-11-30T00:00:00Z",
		"46356.5":                   "2026-11-30T12:00:00Z",
		" 2026-11-30 ":              "2026-11-30T00:00:00Z",
	}
	for in, want := range good {
		got, err := parseTimestamp(in)
		if err != nil || got.Format(time.RFC3339) != want {
			t.Errorf("%q: %v, %v; want %s", in, got, err, want)
		}
	}
	bad := map[string]string{
		"01/02/2026":  "could be day/month or month/day",
		"13/02/2026":  "could be day/month or month/day",
		"1.2.26":      "could be day/month or month/day",
		"02-01-2026":  "could be day/month or month/day",
		"2026":        "before 1970",
		"yesterday":   "not a timestamp nhi reads",
		"2026-13-01":  "not a timestamp nhi reads",
		"Nov 30 2026": "not a timestamp nhi reads",
	}
	for in, want := range bad {
		if _, err := parseTimestamp(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v; want one saying %q", in, err, want)
		}
	}
}

// Every problem is listed with its line and column, and nothing is kept.
func TestErrorsNameLineAndColumn(t *testing.T) {
	data := "key,kind,expires_at,name\n" +
		"a,bot,2026-01-02,ok\n" +
		"b,bot,01/02/2026,ambiguous\n" +
		",bot,,no key\n" +
		"a,bot,,duplicate\n" +
		"c,bad kind!,,bad kind\n" +
		"d,bot,\n" +
		"\"e\nf\",bot,yesterday,\"quoted\nnewline\"\n"
	got := errorLines(t, data, FormatCSV)
	want := []string{
		`line 3, column 7 (expires_at): "01/02/2026" could be day/month or month/day, and nhi never guesses: write it as YYYY-MM-DD (e.g. 2026-02-01)`,
		`line 4, column 1 (key): the key is empty; every identity needs a key that is unique within the source`,
		`line 5, column 1 (key): key "a" is also on line 2; keys are unique within the source`,
		`line 6, column 3 (kind): kind "bad kind!": use letters, digits and underscores (for example bot_token)`,
		`line 7: 3 cells, but the header names 4 columns; a value with a comma in it must be in double quotes`,
		`line 9, column 8 (expires_at): "yesterday" is not a timestamp nhi reads: use RFC 3339 (2026-11-30T14:05:00Z), 2026-11-30, 2026-11-30 14:05, or an Excel serial date`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	_, err := parse(t, data, FormatCSV)
	if !strings.Contains(err.Error(), "in.csv: 6 errors, so nothing was imported") {
		t.Errorf("message: %v", err)
	}
}

// A header's column is placed where it starts, in bytes, as a cell is:
// not by its number.
func TestHeaderErrorsAreWhereTheyAre(t *testing.T) {
	got := errorLines(t, "key,display name,,Display-Name,é,token\nk1,a,b,c,d,e\n", FormatCSV)
	want := []string{
		`line 1, column 18: a column has no name; name it in the header, or delete it`,
		`line 1, column 19 (display_name): the column appears twice`,
		`line 1, column 35 (token): the column ` + secretMsg,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// A file that is not UTF-8 text (a spreadsheet's .xlsx, UTF-16, a
// database) is named so, with what to import instead, where its first
// bytes were printed as a one-column header.
func TestBinaryFileIsNamedNotText(t *testing.T) {
	for name, data := range map[string]string{
		"xlsx":   "PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00[Content_Types].xml",
		"utf-16": "\xff\xfek\x00e\x00y\x00\n\x00a\x00\n\x00",
		"sqlite": "SQLite format 3\x00\x10\x00\x01\x01",
	} {
		got := errorLines(t, data, FormatCSV)
		want := []string{"line 1: the file is not UTF-8 text (it holds NUL bytes, as UTF-16 text, a spreadsheet's .xlsx, a database or an archive does): save or export the identities as CSV UTF-8 or JSON and import that (see docs/import.md)"}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: errors:\n%s\nwant:\n%s", name, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}

func TestAtMostFiftyErrors(t *testing.T) {
	var b strings.Builder
	b.WriteString("key,created_at\n")
	for i := range 80 {
		fmt.Fprintf(&b, "k%d,03/04/2025\n", i)
	}
	_, err := parse(t, b.String(), FormatCSV)
	var errs *Errors
	if !errors.As(err, &errs) || len(errs.List) != MaxErrors || !errs.More {
		t.Fatalf("%v; want %d errors and more", err, MaxErrors)
	}
	if !strings.Contains(err.Error(), "more than 50 errors") || !strings.Contains(err.Error(), "reading stopped after 50 errors") {
		t.Errorf("message: %v", err)
	}
}

// What spreadsheets export: a byte-order mark, CRLF, quoted newlines,
// semicolons or tabs, and empty rows.
func TestSpreadsheetQuirks(t *testing.T) {
	for name, data := range map[string]string{
		"bom crlf":      "\xef\xbb\xbfKey,Name,Created At\r\nk1,\"two\r\nlines\",2026-11-30\r\n,,\r\nk2,plain,\r\n",
		"semicolon":     "key;name;created_at\nk1;\"two\nlines\";2026-11-30\nk2;plain;\n",
		"tab":           "key\tname\tcreated_at\nk1\t\"two\nlines\"\t2026-11-30\nk2\tplain\t\n",
		"json with bom": "\xef\xbb\xbf[{\"key\":\"k1\",\"name\":\"two\\nlines\",\"created_at\":\"2026-11-30\"},{\"key\":\"k2\",\"name\":\"plain\"}]",
	} {
		format := FormatCSV
		if strings.HasPrefix(name, "json") {
			format = FormatJSON
		}
		p, err := parse(t, data, format)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		obs := observations(t, p)
		if len(obs) != 2 || obs[0].Name != "two\nlines" && obs[0].Name != "two\r\nlines" ||
			obs[0].ID != "slack:acme:import_identity:k1" || obs[1].Name != "plain" ||
			!obs[0].CreatedAt.Equal(*day("2026-11-30T00:00:00Z")) {
			t.Errorf("%s: %+v", name, obs)
		}
	}
	got := errorLines(t, "key|name\nk1|x\n", FormatCSV)
	if len(got) != 1 || !strings.Contains(got[0], `the header is one column "key|name": nhi reads comma-, semicolon- or tab-separated files`) {
		t.Errorf("pipe-separated file: %v", got)
	}
	got = errorLines(t, "key,name\nk1,\"never closed\nk2,x\n", FormatCSV)
	if len(got) != 1 || !strings.Contains(got[0], "a quoted value opened on line 2 is never closed") {
		t.Errorf("unclosed quote: %v", got)
	}
	// A quote inside a quoted value, and a file that ends inside one, are
	// not "a double quote inside a value that is not in quotes".
	for _, data := range []string{"key,name\nk1,\"say \"hi\" now\"\n", "key,name\nk1,x\n\"k2,y\n"} {
		got = errorLines(t, data, FormatCSV)
		if len(got) != 1 || !strings.Contains(got[0], "a quoted value is not closed as CSV wants") || strings.Contains(got[0], "not in quotes") {
			t.Errorf("%q: %v", data, got)
		}
	}
}

// A formula is text: stored as written, never evaluated (exports
// neutralise it like any other value).
func TestFormulaCellsAreText(t *testing.T) {
	p := mustParse(t, "key,name,team\nk1,\"=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\",+cmd|' /C calc'!A0\n", FormatCSV)
	o := observations(t, p)[0]
	if o.Name != `=HYPERLINK("http://evil","x")` || o.Attributes["team"] != "+cmd|' /C calc'!A0" {
		t.Errorf("formula cells: %+v", o)
	}
}

// A column that may hold a secret value refuses the whole file, and the
// message never repeats a value.
func TestSecretColumnsAreRefused(t *testing.T) {
	const canary = "xoxb-CANARY-5f1e2d3c4b5a"
	for _, col := range []string{"token", "Secret", "password", "value", "client_secret", "API Token"} {
		for _, format := range []string{FormatCSV, FormatJSON} {
			data := "key,name," + col + "\nk1,bot," + canary + "\n"
			if format == FormatJSON {
				data = `[{"key": "k1", "name": "bot", "` + col + `": "` + canary + `"}]`
			}
			p, err := parse(t, data, format)
			if err == nil || p != nil {
				t.Fatalf("%s column %q: imported", format, col)
			}
			if !strings.Contains(err.Error(), "nhi stores metadata only") || strings.Contains(err.Error(), canary) {
				t.Errorf("%s column %q: %v", format, col, err)
			}
		}
	}
	// Yes/no facts about a secret are metadata.
	p := mustParse(t, "key,has_secret,token_type\nk1,true,bot\n", FormatCSV)
	if o := observations(t, p)[0]; o.Attributes["has_secret"] != "true" || o.Attributes["token_type"] != "bot" {
		t.Errorf("metadata columns: %+v", o)
	}
}

func TestJSONErrors(t *testing.T) {
	data := `[
  {"key": "a", "created_at": 46356},
  {"key": "b", "last_used_at": "01/02/2026", "extra": {"x": 1}},
  "not an object",
  {"name": "no key"}
]`
	got := errorLines(t, data, FormatJSON)
	want := []string{
		`line 2, column 30 (created_at): a timestamp must be a string: "2026-11-30T14:05:00Z" or "2026-11-30"`,
		`line 3, column 32 (last_used_at): "01/02/2026" could be day/month or month/day, and nhi never guesses: write it as YYYY-MM-DD (e.g. 2026-02-01)`,
		`line 3, column 55 (extra): a nested object is not read; write the value as text`,
		`line 4, column 3: each element must be an object with the identity's fields`,
		`line 5, column 3 (key): the key is empty; every identity needs a key that is unique within the source`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	got = errorLines(t, `[{"key": "a"},`, FormatJSON)
	if len(got) != 1 || !strings.Contains(got[0], "line 1") {
		t.Errorf("truncated JSON: %v", got)
	}
	got = errorLines(t, `{"key": "a"}`, FormatJSON)
	if len(got) != 1 || !strings.Contains(got[0], "must be a JSON array of objects") {
		t.Errorf("an object: %v", got)
	}
	// A file cut off inside a nested value is refused, not taken for the
	// identities before it (the rest would be marked removed).
	for _, cut := range []string{"[{\"key\": \"a\"},\n {\"key\": \"b\", \"x\": {", "[{\"key\": \"a\"},\n {\"key\": \"b\", \"permissions\": [[", "[{\"key\": \"a\"},\n [["} {
		got = errorLines(t, cut, FormatJSON)
		if last := got[len(got)-1]; !strings.HasPrefix(last, "line 2, ") || !strings.Contains(last, "the JSON ends too early") {
			t.Errorf("%q: %v", cut, got)
		}
	}
	// A file that ends early right after a line end is said to end on its
	// last line, after its last character, as an editor shows it: not on
	// a line past it.
	for cut, want := range map[string]string{
		"[{\"key\": \"a\"},\n":                    "line 1, column 15: ",
		"[{\"key\": \"a\"},\r\n":                  "line 1, column 15: ",
		"[{\"key\": \"a\"},\n {\"key\": \"b\",\n": "line 2, column 14: ",
		"[{\"key\": \"a\"},\n\n":                  "line 2, column 1: ",
		"[\n  {\"key\": \"a\"}":                   "line 2, column 15: ",
	} {
		got = errorLines(t, cut, FormatJSON)
		if len(got) != 1 || got[0] != want+"the JSON ends too early: a ] or } is missing" {
			t.Errorf("%q: %v, want %q", cut, got, want)
		}
	}
	// A stray separator at the very start is a syntax error on line 1.
	for _, stray := range []string{",", ":", "]"} {
		got = errorLines(t, stray, FormatJSON)
		if len(got) != 1 || !strings.HasPrefix(got[0], "line 1, ") || !strings.Contains(got[0], "not valid JSON: invalid character '"+stray+"'") {
			t.Errorf("%q: %v", stray, got)
		}
	}
}

// A syntax error is placed at the byte it is at, in bytes (é is two),
// wherever encoding/json's offset points: at the file's last byte, in a
// line with a multi-byte character, after CRLF line ends, inside a string
// or literal on a later line, and at a , or : where the next token was
// looked for.
func TestJSONSyntaxErrorsAreWhereTheyAre(t *testing.T) {
	for data, want := range map[string]string{
		"[{\"key\": \"a\"}x":                           "line 1, column 14: not valid JSON: invalid character 'x' after array element",
		"[{\"key\":\"a\"}{\"key\":\"b\"}]":             "line 1, column 13: not valid JSON: invalid character '{' after array element",
		"[{\"name\":\"é\"\"key\":\"b\"}]":              "line 1, column 14: not valid JSON: invalid character '\"' after object key:value pair",
		"[{\"name\":\"é\",\"key\":tx}]":                "line 1, column 22: not valid JSON: invalid character 'x' in literal true (expecting 'r')",
		"[\r\n{\"key\": \"a\"}\r\n{\"key\": \"b\"}]":   "line 3, column 1: not valid JSON: invalid character '{' after array element",
		"[\r\n{\"key\": \"a\"},\r\n{\"key\": tx}]":     "line 3, column 10: not valid JSON: invalid character 'x' in literal true (expecting 'r')",
		"[\r\n{\"key\": \"a\"},\r\n{\"key\":: \"b\"}]": "line 3, column 8: not valid JSON: invalid character ':' looking for beginning of value",
		"[{\"key\": \"a\"},\n{\"key\": \"b\",,}]":      "line 2, column 13: not valid JSON: invalid character ',' looking for beginning of object key string",
		"[{\"key\": \"a\"},\n{\"key\": \"ab\\x\"}]":    "line 2, column 13: not valid JSON: invalid character 'x' in string escape code",
		"[{\"key\": \"a\"},\n{\"key\": \"é\x01\"}]":    "line 2, column 12: not valid JSON: invalid character '\\x01' in string literal",
	} {
		if got := errorLines(t, data, FormatJSON); len(got) != 1 || got[0] != want {
			t.Errorf("%q:\n got %q\nwant %q", data, got, want)
		}
	}
}

func TestOptions(t *testing.T) {
	for _, o := range []Options{
		{Format: FormatCSV},
		{Source: "github", Format: FormatCSV},
		{Source: "Has Space", Format: FormatCSV},
		{Source: "slack", Account: "a:b", Format: FormatCSV},
		{Source: "slack", Format: "xlsx"},
	} {
		if _, err := Parse([]byte("key\nk\n"), o); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
	if _, err := Parse([]byte("key\n"), Options{Source: "slack", Format: FormatCSV}); err == nil || !strings.Contains(err.Error(), "nothing to import") {
		t.Errorf("empty file: %v", err)
	}
}

// An import is a snapshot like any connector's: the next import of the
// same source and account without an identity removes it; an interrupted
// import is never resumed into the next one.
func TestImportIsASnapshot(t *testing.T) {
	ctx := context.Background()
	st, err := audit.Open(ctx, filepath.Join(t.TempDir(), "nhi.db"), audit.OpenOptions{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	run := func(data string) *audit.Snapshot {
		t.Helper()
		p := mustParse(t, data, FormatCSV)
		snap, err := connectors.Snapshot(ctx, st, NewConnector(p, "/tmp/in.csv"), "test")
		if err != nil {
			t.Fatal(err)
		}
		return snap
	}
	first := run("key,expires_at\nk1,2020-01-01\nk2,\n")
	if first.Status != audit.SnapshotComplete || first.Total() != 2 || first.Digest == "" ||
		!strings.HasPrefix(first.Credential, "import of in.csv (sha256 ") || first.APIURL != "file:/tmp/in.csv" {
		t.Fatalf("first import: %+v", first)
	}
	// A run killed half-way stays unfinished and is not resumed.
	w, err := st.BeginSnapshot(ctx, audit.SnapshotInfo{Source: "slack", Account: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	w.Record(audit.Observation{ID: "slack:acme:import_identity:ghost", Kind: "import_identity"})
	w.Suspend(ctx)

	second := run("key\nk1\n")
	if second.ID == w.ID() || second.Total() != 1 {
		t.Fatalf("second import: %+v (interrupted %d)", second, w.ID())
	}
	ids, err := st.Identities(ctx)
	if err != nil {
		t.Fatal(err)
	}
	status := map[string]string{}
	for _, id := range ids {
		status[id.ID] = id.Status
		if id.ID == "slack:acme:import_identity:k1" && id.ExpiresAt != nil {
			t.Errorf("k1 keeps an expiry the second file does not give: %v", id.ExpiresAt)
		}
	}
	want := map[string]string{"slack:acme:import_identity:k1": audit.StatusActive, "slack:acme:import_identity:k2": audit.StatusRemoved}
	if !reflect.DeepEqual(status, want) {
		t.Errorf("statuses %v; want %v", status, want)
	}
	d, err := st.Diff(ctx, first.ID, second.ID)
	if err != nil || d.Removed != 1 || d.Changed != 1 {
		t.Errorf("diff: %+v, %v; want k2 removed and k1 changed (its expiry)", d, err)
	}
}

// A row of one of nhi's own kinds that tracks last use (an AWS access
// key) with an empty last_used_at is "not reported", as for any imported
// kind (docs/import.md), never "never used": no stale finding says it was
// never used, and the review UI and `nhi identities` do not say "never".
func TestEmptyLastUseOfAKnownKindIsNotNever(t *testing.T) {
	ctx := context.Background()
	st, err := audit.Open(ctx, filepath.Join(t.TempDir(), "nhi.db"), audit.OpenOptions{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	p := mustParse(t, "key,kind,created_at,last_used_at\nAKIA1,aws_access_key,2020-01-01,\nAKIA2,aws_access_key,2020-01-01,2020-02-01\n", FormatCSV)
	if _, err := connectors.Snapshot(ctx, st, NewConnector(p, "/tmp/in.csv"), "test"); err != nil {
		t.Fatal(err)
	}
	ids, err := st.Identities(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 2 {
		t.Fatalf("%d identities; want 2", len(ids))
	}
	for _, id := range ids {
		stale := ""
		for _, f := range id.Findings {
			if f.Rule == audit.RuleStale {
				stale = f.Message
			}
		}
		switch id.Name {
		case "AKIA1":
			if strings.Contains(stale, "never used") {
				t.Errorf("AKIA1, whose file left last_used_at empty, is found %q", stale)
			}
			if audit.ReportsLastUse(id.Kind, id.Attributes[audit.AttrLastUseUnknown]) {
				t.Errorf("AKIA1's missing last use reads as never used (attributes %v)", id.Attributes)
			}
		case "AKIA2":
			if !strings.Contains(stale, "last used 2020-02-01") {
				t.Errorf("AKIA2, last used 2020-02-01, is found %q; want stale", stale)
			}
			if _, ok := id.Attributes[audit.AttrLastUseUnknown]; ok {
				t.Errorf("AKIA2, whose last use the file gives, is marked %s", audit.AttrLastUseUnknown)
			}
		}
	}
}

// TestNotReadOfAnImportSaysItsFileLeftItEmpty: an AWS access key whose row
// leaves last_used_at empty, and an IAM user whose row leaves permissions
// empty, are not read for those because the file left the cells empty
// (empty_in_file names them), where NotReadOf said "a gap of its
// snapshot", as of a connector's read that was denied. An imported kind
// says so as it did; a cell the file gives names nothing.
func TestNotReadOfAnImportSaysItsFileLeftItEmpty(t *testing.T) {
	ctx := context.Background()
	st, err := audit.Open(ctx, filepath.Join(t.TempDir(), "nhi.db"), audit.OpenOptions{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	p := mustParse(t, "key,kind,created_at,last_used_at,permissions,rotated_at,expires_at\n"+
		"AKIA1,aws_access_key,2020-01-01,,,never,never\n"+
		"AKIA2,aws_access_key,2020-01-01,2020-02-01,,never,never\n"+
		"ci-user,aws_iam_user,2020-01-01,2020-02-01,,never,never\n"+
		"B1,bot_token,2020-01-01,,,never,never\n", FormatCSV)
	if _, err := connectors.Snapshot(ctx, st, NewConnector(p, "/tmp/in.csv"), "test"); err != nil {
		t.Fatal(err)
	}
	ids, err := st.Identities(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct{ empty, notRead string }{
		"AKIA1":   {"last_used_at", "last_used: its source did not say when it was last used (an import's empty last_used_at)"},
		"AKIA2":   {"", ""},
		"ci-user": {"permissions", "permissions: its source did not say what it is granted (an import's empty or missing permissions)"},
		"B1": {"", "permissions: its source did not say what it is granted (an import's empty or missing permissions)" +
			" | last_used: its source did not say when it was last used (an import's empty last_used_at)"},
	}
	if len(ids) != len(want) {
		t.Fatalf("%d identities; want %d", len(ids), len(want))
	}
	for _, id := range ids {
		w := want[id.Name]
		if got := id.Attributes[audit.AttrEmptyInFile]; got != w.empty {
			t.Errorf("%s: %s %q; want %q", id.Name, audit.AttrEmptyInFile, got, w.empty)
		}
		var got []string
		for _, nr := range audit.NotReadOf(&id.Observation) {
			got = append(got, nr.What+": "+nr.Why)
			if strings.Contains(nr.Why, "gap of its snapshot") {
				t.Errorf("%s: %s not read for %q: its file left the cell empty", id.Name, nr.What, nr.Why)
			}
		}
		wants := strings.Split(w.notRead, " | ")
		if w.notRead == "" {
			wants = nil
		}
		if len(got) != len(wants) {
			t.Errorf("%s: not read %q; want %q", id.Name, got, wants)
			continue
		}
		for i := range wants {
			if !strings.HasPrefix(got[i], wants[i]) {
				t.Errorf("%s: not read %q; want %q", id.Name, got[i], wants[i])
			}
		}
	}
}
