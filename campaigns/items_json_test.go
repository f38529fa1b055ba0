package campaigns

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/nhi-audit/nhi/audit"
)

// The frozen columns and the canonical row are appended by hand; their
// bytes are what encoding/json wrote before, which existing row hashes
// and population digests cover.
func TestFrozenJSONIsEncodingJSONs(t *testing.T) {
	texts := []string{"", "plain", `quo"te\back`, "<b>&amp;</b>", "tab\tnew\nline\rcr", "\b\f bell\x07 esc\x1b nul\x00",
		"line\u2028para\u2029", "bad \xff\xfe utf8", "ünïcødé ✓ 😀", "\x7f del"}
	for _, s := range texts {
		fs := []audit.Finding{{Rule: s, Severity: "high", OWASP: s, Message: s + " msg"}, {Rule: "unrotated", Message: s}}
		want, _ := json.Marshal(fs)
		if got := appendFindingsJSON(nil, fs); !bytes.Equal(got, want) {
			t.Errorf("findings of %q:\n got %s\nwant %s", s, got, want)
		}
		perms := map[string]string{s: s, "contents": "write", "z" + s: "admin"}
		want, _ = json.Marshal(perms)
		if got := appendPermissionsJSON(nil, perms); !bytes.Equal(got, want) {
			t.Errorf("permissions of %q:\n got %s\nwant %s", s, got, want)
		}
		f := frozen{id: s, kind: "k", name: s + s, scope: "acme/" + s, owner: s, naturalOwner: "n", findings: string(want),
			permissions: `{"a":"<b>"}`, reviewer: s, carried: "keep", carriedReason: s}
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		_ = enc.Encode([]string{f.id, f.kind, f.name, f.scope, f.owner, f.naturalOwner, f.findings, f.permissions, f.reviewer, f.carried, f.carriedReason})
		if got, want := f.canonical(), bytes.TrimSuffix(b.Bytes(), []byte("\n")); !bytes.Equal(got, want) {
			t.Errorf("canonical row of %q:\n got %s\nwant %s", s, got, want)
		}
	}
	for _, none := range []struct {
		got  []byte
		want string
	}{{appendFindingsJSON(nil, nil), "[]"}, {appendPermissionsJSON(nil, nil), "{}"}} {
		if string(none.got) != none.want {
			t.Errorf("none gives %s, want %s", none.got, none.want)
		}
	}
}
