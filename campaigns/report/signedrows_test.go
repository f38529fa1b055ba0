package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// unmarshalSignedRows is how signedRowsOf read report.json before it
// streamed: the whole file unmarshalled, every register row decoded. The
// streamed reader must give what it gives.
func unmarshalSignedRows(data []byte) (rows []signedRow, known bool) {
	var r struct {
		Register []signedRow `json:"decision_register"`
	}
	if json.Unmarshal(data, &r) != nil {
		return nil, false
	}
	for _, row := range r.Register {
		if row.SignedBy != "" {
			rows = append(rows, row)
		}
	}
	return rows, true
}

// signedReport is a report of n register rows, every third signed, with a
// decision history, exceptions and decommissions of n rows each, as a
// bundle's writer (WriteJSON) writes it.
func signedReport(t testing.TB, n int) []byte {
	t.Helper()
	r := &Report{Format: "nhi-campaign-report/1", Tool: "nhi test", Notes: []Note{{N: 1, ID: "x", Name: "n"}}}
	r.Attestation.Reviewers = []string{"alice", "bob"}
	for i := range n {
		row := Row{N: i + 1, ID: fmt.Sprintf("github:acme:deploy_key:repo/%d", i), Kind: "deploy_key", Name: fmt.Sprintf("key-%d", i),
			Decision: "keep", DecidedBy: "alice", Event: int64(100 + i), Via: "cli", Reason: "still deploys <&>",
			Findings: []Finding{{Rule: "stale", Severity: "high", Message: "not used"}}, Flags: []string{"short-reason"}}
		if i%3 == 0 {
			row.SignedBy = "SHA256:abc" + fmt.Sprint(i)
			row.Via = "ui"
		}
		r.Register = append(r.Register, row)
		r.Exceptions = append(r.Exceptions, row)
		r.Remediation.Rows = append(r.Remediation.Rows, row)
		r.History = append(r.History, HistoryEntry{N: i + 1, ID: row.ID, Event: row.Event, Type: "campaign.decided", Actor: "alice", Decision: "keep"})
	}
	var b bytes.Buffer
	if err := r.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestSignedRowsOfIsUnmarshal holds the streamed read of report.json's
// signed rows to the answer of unmarshalling it whole, on the bundle
// writer's output and on files a hand or a cut made.
func TestSignedRowsOfIsUnmarshal(t *testing.T) {
	real := signedReport(t, 10)
	cut := func(s []byte, n int) []byte { return s[:n] }
	replace := func(old, new string) []byte {
		if !bytes.Contains(real, []byte(old)) {
			t.Fatalf("report.json has no %q", old)
		}
		return bytes.Replace(real, []byte(old), []byte(new), 1)
	}
	row := `{"n":7,"id":"dup","kind":"","decision":"keep","decided_by":"carol","event":9,"via":"ui","justification":"j","signed_by":"SHA256:dup"}`
	cases := map[string][]byte{
		"bundle's":                   real,
		"no register":                replace(`"decision_register": `, `"not_the_register":`),
		"empty register":             []byte(`{"format":"x","decision_register":[],"decision_history":[]}`),
		"null register":              []byte(`{"decision_register":null}`),
		"register not a list":        []byte(`{"decision_register":{"n":1}}`),
		"register a string":          []byte(`{"decision_register":"rows"}`),
		"row not an object":          []byte(`{"decision_register":[1]}`),
		"row of the wrong type":      []byte(`{"decision_register":[{"n":"one","signed_by":"k"}]}`),
		"null row":                   []byte(`{"decision_register":[null,{"n":2,"signed_by":"k"}]}`),
		"invalid JSON at the end":    append(bytes.TrimRight(bytes.Clone(real), "}\n"), ']'),
		"garbage after the object":   append(bytes.Clone(real), "x"...),
		"a second object after it":   append(bytes.Clone(real), "{}"...),
		"white space after it":       append(bytes.Clone(real), " \n\t "...),
		"truncated":                  cut(real, len(real)/2),
		"truncated after register":   cut(real, bytes.Index(real, []byte(`"decision_history"`))),
		"empty file":                 nil,
		"null":                       []byte(`null`),
		"a list":                     []byte(`[{"decision_register":[]}]`),
		"a string":                   []byte(`"report"`),
		"extra unknown keys":         replace(`"format": `, `"zzz":{"a":[1,{"b":null}],"c":"d"},"yyy":[[1,2],[3]],"format":`),
		"nested objects before it":   replace(`"decision_register": `, `"deep":{"decision_register":[`+row+`],"x":{"y":{"z":[{"decision_register":1}]}}},"decision_register":`),
		"nested register after it":   replace(`"decision_history": `, `"later":{"decision_register":[`+row+`]},"decision_history":`),
		"key in another case":        replace(`"decision_register": `, `"Decision_REGISTER":`),
		"duplicate register":         replace(`"decision_history": `, `"decision_register":[`+row+`],"decision_history":`),
		"duplicate, then null":       replace(`"decision_history": `, `"decision_register":null,"decision_history":`),
		"duplicate of another case":  replace(`"decision_history": `, `"DECISION_register":[`+row+`,`+row+`],"decision_history":`),
		"bad duplicate":              replace(`"decision_history": `, `"decision_register":{},"decision_history":`),
		"invalid in a skipped value": replace(`"decision_history": [`, `"decision_history": [}`),
		"escaped key":                replace(`"decision_register": `, `"decision\u005fregister":`),
	}
	// What Unmarshal refuses (known false); every other case it reads.
	refused := map[string]bool{"register not a list": true, "register a string": true, "row not an object": true, "row of the wrong type": true,
		"invalid JSON at the end": true, "garbage after the object": true, "a second object after it": true, "truncated": true,
		"truncated after register": true, "empty file": true, "a list": true, "a string": true, "bad duplicate": true, "invalid in a skipped value": true}
	// What the fast reader reads (fastSignedRows); it gives the rest to
	// encoding/json's reader.
	fastTakes := map[string]bool{"bundle's": true, "no register": true, "empty register": true, "null register": true,
		"white space after it": true, "extra unknown keys": true, "nested objects before it": true, "nested register after it": true}
	dir := t.TempDir()
	m := &Manifest{Files: []FileHash{{Path: FileJSON}}}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			if err := os.WriteFile(filepath.Join(dir, FileJSON), data, 0o600); err != nil {
				t.Fatal(err)
			}
			want, wantKnown := unmarshalSignedRows(data)
			if wantKnown == refused[name] {
				t.Fatalf("Unmarshal reads it: %v, want %v", wantKnown, !refused[name])
			}
			got, known := signedRowsOf(dir, m)
			if known != wantKnown || !reflect.DeepEqual(got, want) {
				t.Errorf("streamed: %d rows, known %v %+v\nunmarshalled: %d rows, known %v %+v", len(got), known, got, len(want), wantKnown, want)
			}
			fast, err := fastSignedRows(bytes.NewReader(data))
			switch {
			case errors.Is(err, errNotFast):
				if fastTakes[name] {
					t.Error("the fast reader did not take it")
				}
			case !fastTakes[name]:
				t.Errorf("the fast reader took it (%v)", err)
			case err != nil || !wantKnown || !reflect.DeepEqual(fast, want):
				t.Errorf("fast: %d rows, %v %+v\nunmarshalled: %d rows, known %v %+v", len(fast), err, fast, len(want), wantKnown, want)
			}
		})
	}
	t.Run("bundle's has its signed rows", func(t *testing.T) {
		rows, known := unmarshalSignedRows(real)
		if !known || len(rows) != 4 || rows[1].SignedBy != "SHA256:abc3" || rows[1].N != 4 || rows[1].Via != "ui" {
			t.Fatalf("the reference reads %d rows (known %v) of the bundle's report.json, want rows 1, 4, 7, 10: %+v", len(rows), known, rows)
		}
	})
	t.Run("not in the manifest", func(t *testing.T) {
		if rows, known := signedRowsOf(dir, &Manifest{Files: []FileHash{{Path: FileMD}}}); known || rows != nil {
			t.Errorf("known %v, %d rows, without report.json in the manifest", known, len(rows))
		}
	})
	t.Run("missing", func(t *testing.T) {
		if rows, known := signedRowsOf(t.TempDir(), m); known || rows != nil {
			t.Errorf("known %v, %d rows, with report.json missing", known, len(rows))
		}
	})
}

// BenchmarkSignedRowsOf reads the signed rows of a 100,000-row
// report.json (its register, decision history, exceptions and
// decommissions 100,000 rows each), whole and unmarshalled as before, and
// streamed.
func BenchmarkSignedRowsOf(b *testing.B) {
	dir := b.TempDir()
	data := signedReport(b, 100_000)
	if err := os.WriteFile(filepath.Join(dir, FileJSON), data, 0o600); err != nil {
		b.Fatal(err)
	}
	m := &Manifest{Files: []FileHash{{Path: FileJSON}}}
	b.Logf("report.json: %.1f MB", float64(len(data))/1e6)
	b.Run("unmarshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			data, err := os.ReadFile(filepath.Join(dir, FileJSON))
			if err != nil {
				b.Fatal(err)
			}
			if rows, known := unmarshalSignedRows(data); !known || len(rows) != 33_334 {
				b.Fatalf("%d rows, known %v", len(rows), known)
			}
		}
	})
	b.Run("streamed", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if rows, known := signedRowsOf(dir, m); !known || len(rows) != 33_334 {
				b.Fatalf("%d rows, known %v", len(rows), known)
			}
		}
	})
}

// FuzzFastSignedRows: whatever report.json holds, the fast reader of its
// signed rows reads what unmarshalling it whole reads, or gives it up to
// encoding/json's reader.
func FuzzFastSignedRows(f *testing.F) {
	real := signedReport(f, 4)
	f.Add(real)
	f.Add(bytes.Replace(real, []byte(`"decision_history": `), []byte(`"x":{"y":[1,-2.5e3,true,null,"\u00e9\\"]},"decision_history":`), 1))
	f.Add(bytes.Replace(real, []byte(`"signed_by":"SHA256:abc3"`), []byte(`"signed_by":"SHA256:\u0061bc3"`), 1))
	f.Add([]byte(`{"decision_register":[{"n":1,"signed_by":"k"}],"a":"\ud800"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		fast, err := fastSignedRows(bytes.NewReader(data))
		if errors.Is(err, errNotFast) {
			return
		}
		want, known := unmarshalSignedRows(data)
		if err != nil || !known || !reflect.DeepEqual(fast, want) {
			t.Fatalf("fast: %d rows, %v %+v\nunmarshalled: %d rows, known %v %+v", len(fast), err, fast, len(want), known, want)
		}
	})
}
