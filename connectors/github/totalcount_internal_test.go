package github

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/audit"
)

// countsSeen is every value encoding/json hands a field named
// total_count, in order: how encoding/json reads the key, whatever the
// value.
type countsSeen []json.RawMessage

func (c *countsSeen) UnmarshalJSON(b []byte) error {
	*c = append(*c, bytes.Clone(b))
	return nil
}

// jsonTotalCount is what totalCount should say of body, by encoding/json:
// the value of the last top-level key it reads as total_count, which must
// be a whole number of items, none at all for an answer that is no object
// or has no such key; bad says the count is there and is not a count.
func jsonTotalCount(body []byte) (n *int, bad bool) {
	var w struct {
		Seen countsSeen `json:"total_count"`
	}
	if t := bytes.TrimLeft(body, " \t\r\n"); len(t) == 0 || t[0] != '{' || json.Unmarshal(body, &w) != nil {
		return nil, false
	}
	for _, v := range w.Seen {
		var i int64
		if string(v) == "null" || json.Unmarshal(v, &i) != nil || i < 0 {
			return nil, true
		}
		k := int(i)
		n = &k
	}
	return n, false
}

// oddCounts are answers whose total_count is anywhere, written any way.
var oddCounts = []string{
	`{"total_count": 2, "secrets": [{"name": "A"}, {"name": "B"}]}`,
	`{"secrets":[{"name":"A","total_count":9}],"total_count":1}`,
	` {"note": "say \"total_count\": 7", "nested": {"total_count": 8}, "total_count" : 3 }`,
	`{"a\\":"total_count","total_count":4}`,
	`{"secrets": []}`,
	`[{"total_count": 5}]`,
	`{"total_count": null, "secrets": []}`,
	`{"total_count": "6"}`,
	``,
	`{}`,
	`{"secrets": [], "total_count": 10}`,            // keys in another order
	`{"inner": {"total_count": 11}, "secrets": []}`, // only nested: no count
	`{"total\u005fcount": 12, "secrets": []}`,       // an escaped key
	`{"TOTAL_COUNT": 13}`,                           // encoding/json folds case
	`{"total_count": 1e2}`,                          // an exponent: not a count
	`{"total_count": 100.0}`,                        // a fraction
	`{"total_count": -1}`,                           // negative
	`{"total_count": -0}`,                           // zero, written oddly
	`{"total_count": 9223372036854775808}`,          // beyond int64
	`{"total_count": true}`,
	`{"total_count": {"n": 1}}`,
	`{"total_count": [1]}`,
	`{"total_count": 3, "secrets": [], "total_count": 5}`, // twice: the last
	`{"total_count": 3, "total_count": null}`,             // twice, the last null
	`{"total_count": "3", "total_count": 3}`,              // twice, the first bad
	`{"total_countx": 3, "xtotal_count": 4}`,
	`{"a": [[[{"total_count": 1}]]], "total_count": 0}`,
	"{\"total_count\"\n:\t14\r}",
}

// TestTotalCount: total_count is read where encoding/json reads it (at
// the top level of an object, whatever the strings and nested objects
// around it say, its name escaped or in capitals, the last of two), and
// a value that is not a count (null, a string, 1e2, 100.0, -1, beyond
// int64) is an error: never a count of zero, never no count.
func TestTotalCount(t *testing.T) {
	for _, body := range oddCounts {
		checkTotalCount(t, []byte(body))
	}
}

func checkTotalCount(t *testing.T, body []byte) {
	t.Helper()
	want, bad := jsonTotalCount(body)
	got, err := totalCount(body)
	switch {
	case bad && err == nil:
		t.Errorf("%s: %v, want an error (encoding/json reads a total_count that is not a count)", body, deref(got))
	case !bad && err != nil:
		t.Errorf("%s: %v, want %v", body, err, deref(want))
	case err == nil && ((got == nil) != (want == nil) || got != nil && *got != *want):
		t.Errorf("%s: %v, want %v", body, deref(got), deref(want))
	case err != nil && got != nil:
		t.Errorf("%s: %v with the error %v", body, *got, err)
	}
}

// FuzzTotalCount: on any JSON, totalCount reads total_count as
// encoding/json does (TestTotalCount); on anything else it does not fail.
func FuzzTotalCount(f *testing.F) {
	for _, b := range oddCounts {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if !json.Valid(body) {
			totalCount(body)
			return
		}
		checkTotalCount(t, body)
	})
}

func deref(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

// secretsPage is a page of 100 organisation secrets as GitHub writes
// them, total_count first, or last as githubtest writes it (its keys
// sorted).
func secretsPage(countLast bool) []byte {
	var b strings.Builder
	b.WriteString(`{`)
	if !countLast {
		b.WriteString(`"total_count":250,`)
	}
	b.WriteString(`"secrets":[`)
	for i := range 100 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"name":"SECRET_%03d","created_at":"2024-01-0%dT10:00:00Z","updated_at":"2025-02-0%dT11:30:00Z","visibility":"selected","selected_repositories_url":"https://api.github.com/orgs/acme/actions/secrets/SECRET_%03d/repositories"}`, i, i%9+1, i%9+1, i)
	}
	b.WriteString("]")
	if countLast {
		b.WriteString(`,"total_count":250`)
	}
	b.WriteString("}")
	return []byte(b.String())
}

// BenchmarkTotalCount reads the total_count of a page of 100 secrets, in
// either order; BenchmarkParseSecrets parses the same page, which is what
// it is measured against. The whole page is read either way: the last
// total_count is the one encoding/json reads.
func BenchmarkTotalCount(b *testing.B) {
	for _, last := range []bool{false, true} {
		body := secretsPage(last)
		b.Run(map[bool]string{false: "first", true: "last"}[last], func(b *testing.B) {
			for b.Loop() {
				if n, err := totalCount(body); err != nil || n == nil || *n != 250 {
					b.Fatal(n, err)
				}
			}
		})
	}
}

func BenchmarkParseSecrets(b *testing.B) {
	body := secretsPage(false)
	c := &Connector{org: "acme"}
	parse := c.parseSecrets(audit.KindGitHubActionsSecret, "acme", nil)
	for b.Loop() {
		var pd pageData
		if n, err := parse(body, &pd); err != nil || n != 100 {
			b.Fatal(n, err)
		}
	}
}
