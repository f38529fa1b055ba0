package report_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/campaigns/report"
)

// fixtureJSON is the fixture's report.json, as Export writes it.
func fixtureJSON(t testing.TB) []byte {
	t.Helper()
	f := newFixture(t)
	dir := filepath.Join(t.TempDir(), "bundle")
	if _, err := report.Export(ctx, f.Store, "2026-Q4", dir, exportOptions()); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, report.FileJSON))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// readEdits are edits of the fixture's report.json: old replaced with new
// once. The fast ones are what the fast reader takes (values in the forms
// the writer writes, and JSON's other spellings of them); the others it
// hands to encoding/json's reader.
var readEdits = []struct {
	name, old, new string
	fast           bool
}{
	{"as written", "", "", true},
	{"escapes", `"name":"SENTRY_DSN"`, `"name":"a\"b\\c\/d\b\f\n\r\t\u00e9\u20AC\ud83d\ude00\u003c\u0000"`, true},
	{"lone surrogates", `"name":"SENTRY_DSN"`, `"name":"\ud800x\udc00\ud83d\u0041"`, true},
	{"utf-8", `"name":"SENTRY_DSN"`, `"name":"é€😀"`, true},
	{"invalid utf-8", `"name":"SENTRY_DSN"`, "\"name\":\"a\xff\xfeb\xed\xa0\x80\"", true},
	{"escaped key text", `"justification":"error reporting for \u003cweb\u003e"`, `"justification":"\\\"\\"`, true},
	{"negative zero", `"event":25,`, `"event":-0,`, true},
	{"largest", `"event":25,`, `"event":9223372036854775807,`, true},
	{"smallest", `"event":25,`, `"event":-9223372036854775808,`, true},
	{"history number", `"undoes":0,`, `"undoes":-12,`, true},
	{"no flags", `"flags":["not-assignee","conflict","changed"]`, `"flags":[]`, true},
	{"null flags", `"flags":["not-assignee","conflict","changed"]`, `"flags":null`, true},
	{"null findings", `"findings":[{"rule":"orphaned","severity":"high","owasp":"NHI1","message":"no owner recorded"}],"reviewer":"bob"`, `"findings":null,"reviewer":"bob"`, true},
	{"no findings", `"findings":[{"rule":"orphaned","severity":"high","owasp":"NHI1","message":"no owner recorded"}],"reviewer":"bob"`, `"findings":[ ],"reviewer":"bob"`, true},
	{"white space", `{"n":2,"id"`, "{ \"n\" :\t2 ,\r\n\"id\"", true},
	{"a field left out", `"holder":"",`, ``, true},
	{"fields swapped", `"owner":"","holder":""`, `"holder":"","owner":""`, true},
	{"overdue true", `"overdue":false`, `"overdue":true`, true},
	{"null list", `"exceptions": [`, `"exceptions": null, "x": [`, false},
	{"empty register", `"decision_register": [`, `"decision_register": [], "x": [`, false},

	{"exponent", `"event":25,`, `"event":2.5e1,`, false},
	{"fraction", `"event":25,`, `"event":25.0,`, false},
	{"too large", `"event":25,`, `"event":9223372036854775808,`, false},
	{"leading zero", `"event":25,`, `"event":025,`, false},
	{"minus alone", `"event":25,`, `"event":-,`, false},
	{"number as string", `"event":25,`, `"event":"25",`, false},
	{"string as number", `"name":"SENTRY_DSN"`, `"name":7`, false},
	{"null string", `"name":"SENTRY_DSN"`, `"name":null`, false},
	{"bool as string", `"overdue":false`, `"overdue":"false"`, false},
	{"unknown key", `{"n":2,`, `{"n":2,"extra":[1,{"a":null}],`, false},
	{"key in capitals", `"name":"SENTRY_DSN"`, `"NAME":"SENTRY_DSN"`, false},
	{"escaped key", `"name":"SENTRY_DSN"`, `"n\u0061me":"SENTRY_DSN"`, false},
	{"key twice", `"name":"SENTRY_DSN"`, `"name":"a","name":"SENTRY_DSN"`, false},
	{"flags twice", `"flags":["not-assignee","conflict","changed"]`, `"flags":["x"],"flags":["not-assignee"]`, false},
	{"control character", `"name":"SENTRY_DSN"`, "\"name\":\"SENTRY\tDSN\"", false},
	{"bad escape", `"name":"SENTRY_DSN"`, `"name":"SENTRY\xDSN"`, false},
	{"short \\u", `"name":"SENTRY_DSN"`, `"name":"\u12"`, false},
	{"unterminated", `"name":"SENTRY_DSN"`, `"name":"SENTRY_DSN`, false},
	{"missing comma", `"name":"SENTRY_DSN",`, `"name":"SENTRY_DSN" `, false},
	{"missing colon", `"name":"SENTRY_DSN"`, `"name" "SENTRY_DSN"`, false},
	{"trailing comma", `"flags":["not-assignee","conflict","changed"]`, `"flags":["not-assignee",]`, false},
	{"row not an object", `{"n":2,"id"`, `[2],{"n":2,"id"`, false},
	{"list not a list", `"decision_history": [`, `"decision_history": {}, "x": [`, false},
	{"register twice", `"exceptions": [`, `"decision_register": [], "exceptions": [`, false},
	{"top-level key twice", `"draft": false,`, `"draft": true, "draft": false,`, false},
	{"top-level unknown key", `"draft": false,`, `"draft": false, "drafts": [1, 2],`, false},
	{"top-level wrong type", `"draft": false,`, `"draft": "no",`, false},
	{"another format", `"nhi-evidence-report/1"`, `"nhi-evidence-report/2"`, true},
	{"not a time", `"generated_at": "2026-11-10T09:00:00Z"`, `"generated_at": "yesterday"`, true},
	{"byte-order mark", `{`, "\ufeff{", false},
	{"more after", "", "", false},
	{"cut short", "", "", false},
	{"nothing", "", "", false},
	{"null", "", "", false},
}

// edit applies readEdits[i] to data.
func edit(t testing.TB, data []byte, i int) []byte {
	t.Helper()
	e := readEdits[i]
	switch e.name {
	case "more after":
		return append(bytes.Clone(data), "{}"...)
	case "cut short":
		return data[:len(data)*2/3]
	case "nothing":
		return nil
	case "null":
		return []byte("null")
	}
	if e.old == "" {
		return data
	}
	out := bytes.Replace(data, []byte(e.old), []byte(e.new), 1)
	if bytes.Equal(out, data) {
		t.Fatalf("%s: %q is not in report.json", e.name, e.old)
	}
	return out
}

// readAs reads data as report.json with how (ReadReportForTest).
func readAs(t testing.TB, data []byte, how string) (*report.ReadForTest, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), report.FileJSON)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return report.ReadReportForTest(path, how)
}

// sameRead says how two reads of report.json differ, "" when they do not.
func sameRead(a *report.ReadForTest, aErr error, b *report.ReadForTest, bErr error) string {
	if fmt.Sprint(aErr) != fmt.Sprint(bErr) {
		return fmt.Sprintf("error %v, not %v", aErr, bErr)
	}
	if aErr != nil {
		return ""
	}
	var diff []string
	if !reflect.DeepEqual(a.Report, b.Report) {
		va, vb := reflect.ValueOf(a.Report), reflect.ValueOf(b.Report)
		for i := 0; i < va.NumField(); i++ {
			if va.Type().Field(i).IsExported() && !reflect.DeepEqual(va.Field(i).Interface(), vb.Field(i).Interface()) {
				diff = append(diff, va.Type().Field(i).Name)
			}
		}
		if len(diff) == 0 {
			diff = append(diff, "the report's unexported fields")
		}
	}
	if !reflect.DeepEqual(a.Tables, b.Tables) {
		diff = append(diff, "the long tables' rows")
	}
	if !reflect.DeepEqual(a.History, b.History) {
		diff = append(diff, "the history's entries")
	}
	if len(diff) > 0 {
		return "they differ in " + strings.Join(diff, ", ")
	}
	return ""
}

// The fast reader of report.json reads what encoding/json's reader reads,
// row for row, and hands anything else to it: readReport accepts and
// refuses what encoding/json's reader does, in its words.
func TestFastReadReadsAsDecode(t *testing.T) {
	data := fixtureJSON(t)
	for i, e := range readEdits {
		t.Run(e.name, func(t *testing.T) {
			in := edit(t, data, i)
			want, wantErr := readAs(t, in, "decode")
			got, err := readAs(t, in, "auto")
			if d := sameRead(got, err, want, wantErr); d != "" {
				t.Fatalf("readReport and encoding/json's reader read it differently: %s", d)
			}
			fast, fastErr := readAs(t, in, "fast")
			switch {
			case e.fast && errors.Is(fastErr, report.ErrNotFastForTest):
				t.Fatal("the fast reader did not take it")
			case !e.fast && !errors.Is(fastErr, report.ErrNotFastForTest):
				t.Fatalf("the fast reader took it (%v)", fastErr)
			case e.fast:
				if d := sameRead(fast, fastErr, want, wantErr); d != "" {
					t.Fatalf("the fast reader and encoding/json's read it differently: %s", d)
				}
			}
		})
	}
}

// FuzzFastRead: whatever report.json holds, the fast reader reads what
// encoding/json's reader reads, or gives it up to it.
func FuzzFastRead(f *testing.F) {
	data := fixtureJSON(f)
	for i := range readEdits {
		f.Add(edit(f, data, i))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		want, wantErr := readAs(t, in, "decode")
		fast, err := readAs(t, in, "fast")
		if errors.Is(err, report.ErrNotFastForTest) {
			return
		}
		if d := sameRead(fast, err, want, wantErr); d != "" {
			t.Fatalf("the fast reader and encoding/json's read it differently: %s", d)
		}
	})
}
