package audit_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"unicode/utf8"

	"github.com/nhi-audit/nhi/audit"
)

// jsonCases are every control character, DEL, the HTML-sensitive bytes,
// the JavaScript line separators, multi-byte runes and invalid UTF-8.
func jsonCases() []string {
	cases := []string{"", "plain", `"quoted" \back\slash`, "<script>&amp;</script>", "\u2028\u2029", "é€😀",
		"\xff", "a\xc3", "\xe2\x82", "\xed\xa0\x80", "\xf4\x90\x80\x80", "ok\xffok\u2028ok"}
	for c := 0; c < 0x20; c++ {
		cases = append(cases, string(rune(c)), "a"+string(rune(c))+"b")
	}
	return append(cases, "\x7f", "\u0085", "\ufeff")
}

// marshal is encoding/json's string form, with or without HTML escaping.
func marshal(t testing.TB, s string, html bool) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(html)
	if err := enc.Encode(s); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// storedForm is encoding/json without HTML escaping, but \b and \f as the
// evidence file has always stored them (see audit.AppendJSONString).
func storedForm(b []byte) []byte {
	b = bytes.ReplaceAll(b, []byte(`\\`), []byte{0})
	b = bytes.ReplaceAll(b, []byte(`\b`), []byte(`\u0008`))
	b = bytes.ReplaceAll(b, []byte(`\f`), []byte(`\u000c`))
	return bytes.ReplaceAll(b, []byte{0}, []byte(`\\`))
}

func checkJSONString(t *testing.T, s string) {
	t.Helper()
	if got, want := audit.AppendJSONString(nil, s, true), marshal(t, s, true); !bytes.Equal(got, want) {
		t.Errorf("html %q:\n got %s\nwant %s (json.Marshal)", s, got, want)
	}
	got, want := audit.AppendJSONString([]byte("x"), s, false), append([]byte("x"), storedForm(marshal(t, s, false))...)
	if !bytes.Equal(got, want) {
		t.Errorf("stored %q:\n got %s\nwant %s", s, got, want)
	}
	var back string
	if err := json.Unmarshal(got[1:], &back); err != nil || utf8.ValidString(s) && back != s {
		t.Errorf("stored %q reads back as %q (%v)", s, back, err)
	}
}

// AppendJSONString with html writes what json.Marshal writes; without, what
// an Encoder with SetEscapeHTML(false) writes, except \b and \f.
func TestAppendJSONStringIsEncodingJSON(t *testing.T) {
	for _, s := range jsonCases() {
		checkJSONString(t, s)
	}
	if got := string(audit.AppendJSONString(nil, "\b\f<", false)); got != `"\u0008\u000c<"` {
		t.Errorf("stored form of \\b\\f< = %s", got)
	}
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range jsonCases() {
		f.Add(s)
	}
	f.Fuzz(checkJSONString)
}
