package importer

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/nhi-audit/nhi/audit"
)

// readWith reads data with parse (parseJSON or parseFlatJSON) as Parse
// and Each do, returning what it recorded and what it refused.
func readWith(parse func([]byte, *builder) bool, data []byte) (ok bool, obs []audit.Observation, errs []Error) {
	c := &collector{errs: Errors{File: "in.json"}}
	b := &builder{source: "slack", account: "acme", c: c, keys: &keySet{}, kinds: map[string]kindOf{}, counts: map[audit.Kind]int{},
		emit: func(o audit.Observation) error { obs = append(obs, o); return nil }}
	ok = parse(data, b)
	return ok, obs, c.errs.List
}

// flatJSON reads data with parseFlatJSON as Parse does: a stream past a
// byte-order mark.
func flatJSON(data []byte, b *builder) (ok bool) {
	open := func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	stream(open, func(r *bufio.Reader) (err error) {
		ok, err = parseFlatJSON(r, b)
		return err
	})
	return ok
}

// The fast reader of JSON exports reads what encoding/json's reader
// reads, cell for cell and error for error, and hands anything else to
// it.
func TestFlatJSONReadsAsParseJSON(t *testing.T) {
	example, err := os.ReadFile(filepath.Join("..", "..", "testdata", "import", "identities.json"))
	if err != nil {
		t.Fatal(err)
	}
	flat := []string{
		string(example),
		"\xef\xbb\xbf[\r\n {\"key\": \"k1\"},\r\n\t{\"key\":\"k2\", \"Created At\": \"2026-11-30\"}\r\n]",
		`[{"key": "a\"b\\c\/d\u00e9\n", "name": "caf\u00e9", "scope": "\ud83d\ude00"}]`,
		"[{\"key\": \"bad\xffutf8\", \"team\": \"x\xc3\"}]",
		`[{"key": "n", "count": -0.5e+3, "zero": 0, "big": 12E2, "yes": true, "no": false, "gone": null, "name": null}]`,
		`[{"key": "p", "permissions": ["contents:write", "admin"]}, {"key": "q", "permissions": []}, {"key": "r", "permissions": "a:read b"}]`,
		`[{"key": "d", "name": "first", "name": "second", "team": "x", "team": ""}]`,
		`[{}, {"key": ""}, {"key": "k", "kind": "bad kind!"}, {"key": "k"}, {"key": "t", "expires_at": "01/02/2026"}]`,
		`[{"key": "tags", "tags": ["a"]}]`,
		`[{"key": "k"}] trailing words`,
		`[ ]`,
		`[{"key": "k"}, {"key": "l"}]`,
	}
	for _, in := range flat {
		ok, obs, errs := readWith(flatJSON, []byte(in))
		if !ok {
			t.Errorf("%q: the fast reader handed it on", in)
			continue
		}
		_, wantObs, wantErrs := readWith(func(d []byte, b *builder) bool { return parseJSON(d, b) == nil }, []byte(in))
		if !reflect.DeepEqual(obs, wantObs) || !reflect.DeepEqual(errs, wantErrs) {
			t.Errorf("%q:\n fast %+v %v\n json %+v %v", in, obs, errs, wantObs, wantErrs)
		}
	}
	// What only parseJSON's messages say.
	handed := []string{
		``, `   `, `{"key": "a"}`, `[{"key": "a"},`, `[{"key": "a"}`, `[{"key": "a"} {"key": "b"}]`,
		`["not an object"]`, `[{"key": "a", "extra": {"x": 1}}]`, `[{"key": "a", "permissions": [1]}]`,
		`[{"key": "a", "created_at": 46356}]`, `[{"key": "a", "token": "x"}]`, `[{"key": "a", "": "x"}]`,
		`[{"key": "a", "n": 01}]`, `[{"key": "a", "n": 1.}]`, `[{"key": "a", "n": -}]`, `[{"key": "a", "b": tru}]`,
		"[{\"key\": \"a\tb\"}]", `[{"key": "a",}]`, `[{"key" "a"}]`, `[{"key": "a"},]`, `[{key: "a"}]`,
		`,`, `:`, `]`, ` ,`, `[{"key": "a"}, {"key": "b", "x": {`, `[{"key": "a"}, {"key": "b", "p": [[`, `[{"key": "a"}, [[`,
	}
	for _, in := range handed {
		if ok, _, _ := readWith(flatJSON, []byte(in)); ok {
			t.Errorf("%q: the fast reader took it", in)
		}
		// And the reader it is handed to refuses it, saying why: a file
		// is recorded only as the fast reader reads it (Each).
		if refused(in) == 0 {
			t.Errorf("%q: encoding/json's reader takes it without a word", in)
		}
	}
}

// refused is how many errors parseJSON reports of data, panicking not.
func refused(data string) int {
	var jsonErr error
	_, _, errs := readWith(func(d []byte, b *builder) bool { jsonErr = parseJSON(d, b); return jsonErr == nil }, []byte(data))
	if jsonErr != nil {
		return len(errs) + 1
	}
	return len(errs)
}

// Whatever the fast reader takes, it reads as encoding/json's reader does:
// the same observations and the same refusals; whatever it hands on,
// encoding/json's reader refuses (go test -fuzz FuzzFlatJSON).
func FuzzFlatJSON(f *testing.F) {
	for _, s := range []string{
		`[{"key": "k1", "name": "a", "permissions": ["x:read"], "created_at": "2026-01-02"}]`,
		`[{"key": "a\"b\\c\/d\u00e9\n", "n": -0.5e+3, "yes": true, "gone": null}]`,
		`[{"key": "d", "name": "first", "name": "second"}, {}]`,
		`[{"key": "a", "n": 01}]`, `[{"key": "a",}]`, `[ ]`, "\xef\xbb\xbf[{\"key\":\"k\"}]",
		`,`, `[{"key": "a"}, {"key": "b", "x": {`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ok, obs, errs := readWith(flatJSON, data)
		if !ok {
			if refused(string(data)) == 0 {
				t.Fatalf("%q: handed on, and encoding/json's reader takes it without a word", data)
			}
			return
		}
		var jsonErr error
		_, wantObs, wantErrs := readWith(func(d []byte, b *builder) bool { jsonErr = parseJSON(d, b); return jsonErr == nil }, data)
		if jsonErr != nil {
			t.Fatalf("%q: the fast reader took what encoding/json refuses: %v", data, jsonErr)
		}
		if !reflect.DeepEqual(obs, wantObs) || !reflect.DeepEqual(errs, wantErrs) {
			t.Fatalf("%q:\n fast %+v %v\n json %+v %v", data, obs, errs, wantObs, wantErrs)
		}
	})
}
