package audit

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// hostileText is every byte JSON must escape or may not carry as is:
// all C0 controls, DEL, ", \, <>&, U+2028/U+2029 and invalid UTF-8.
func hostileText() string {
	b := []byte{}
	for c := 0; c < 0x20; c++ {
		b = append(b, byte(c))
	}
	b = append(b, 0x7f, '"', '\\', '<', '>', '&', '/')
	b = append(b, "\u2028\u2029é€😀"...)
	b = append(b, 0xff, 0xc3, 'x', 0xe2, 0x82, 0xed, 0xa0, 0x80)
	return string(b)
}

// The snapshot digest covers the stored JSON of permissions, attributes
// and findings byte for byte. A digest an older nhi wrote must verify with
// every later one, so these bytes never change, whatever encoding/json
// does: the value below was computed by nhi before the JSON appenders were
// merged, and must stay.
func TestSnapshotDigestIsStable(t *testing.T) {
	now := time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC)
	s, err := Open(ctx, filepath.Join(t.TempDir(), "nhi.db"), OpenOptions{Create: true, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	odd := hostileText()
	a := obs("api/1", KindGitHubDeployKey)
	a.Name = "key " + odd
	a.Scope = "acme/" + odd
	a.Permissions = map[string]string{"contents": "write", odd: odd, "\b\f": "\b\f"}
	a.Attributes = map[string]string{"added_by": odd, "read_only": "false", "title": "<b>&amp;</b>"}
	b := obs("web/2", KindGitHubActionsSecret)
	b.Permissions, b.Attributes = nil, nil
	c := obs("org/3", KindGitHubWebhook)
	c.Attributes = map[string]string{"has_secret": "false", "active": "true", "url": "http://x/?a=1&b=<2>"}
	snap := snapshot(t, s, nil, nil, c, a, b)
	const want = "879bce9d093d4c966756eb6d23acaf90537286db9f8e0400016e0fbfbb3d9322"
	if snap.Digest != want {
		t.Errorf("snapshot digest %s, want %s: the stored form of observations changed, and every existing evidence file would fail verification", snap.Digest, want)
	}
}

// The stored form writes \b and \f as \u0008 and \u000c, as encoding/json
// did before Go 1.22: the digests above cover it.
func TestStoredJSONForm(t *testing.T) {
	for _, tc := range []struct {
		in   map[string]string
		want string
	}{
		{nil, `{}`},
		{map[string]string{"b": "2", "a": "1"}, `{"a":"1","b":"2"}`},
		{map[string]string{"\b": "\f"}, `{"\u0008":"\u000c"}`},
		{map[string]string{"<a>": "&\u2028\xff\n\t\r\x00\"\\"}, `{"<a>":"&\u2028\ufffd\n\t\r\u0000\"\\"}`},
	} {
		if got := mapJSON(tc.in); got != tc.want {
			t.Errorf("mapJSON(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
	fs := []Finding{{Rule: "r<1>", Severity: "high", OWASP: "NHI1", Message: "a\bb\fc&"}}
	if got, _ := findingsJSON(fs); got != `[{"rule":"r<1>","severity":"high","owasp":"NHI1","message":"a\u0008b\u000cc&"}]` {
		t.Errorf("findingsJSON = %s", got)
	}
}

func TestStoredJSONMatchesEncodingJSON(t *testing.T) {
	for _, m := range []map[string]string{
		{"b": "2", "a": "1"},
		{"quote\"back\\slash": "tab\tnew\nline\x01ctl", "html": "<a href='x'>&</a>", "utf": "日本 \u2028 \u2029", "bad": "\xff\xfe"},
	} {
		b, _ := json.Marshal(m)
		var back map[string]string
		if err := json.Unmarshal([]byte(mapJSON(m)), &back); err != nil {
			t.Fatalf("mapJSON(%q) is not JSON: %v", m, err)
		}
		var want map[string]string
		json.Unmarshal(b, &want)
		if fmt.Sprint(back) != fmt.Sprint(want) {
			t.Errorf("mapJSON(%q) reads back as %q; encoding/json gives %q", m, back, want)
		}
	}
	fs := []Finding{{Rule: "stale", Severity: "high", OWASP: "NHI1", Message: "name \"x\"\n\x1b[31m </script>"}}
	js, _ := findingsJSON(fs)
	var back []Finding
	if err := json.Unmarshal([]byte(js), &back); err != nil || back[0] != fs[0] {
		t.Errorf("findingsJSON round trip: %q -> %+v, %v", js, back, err)
	}
}

func TestStoredFormsReadBack(t *testing.T) {
	for _, m := range []map[string]string{
		{"a": "1", "b": "two words", "c": ""},
		{"esc\"aped": "back\\slash", "uni": "日本"},
		{"x": "{\"nested\":1}", "y": "a,b:c"},
	} {
		var back map[string]string
		if err := unmarshalMap(mapJSON(m), &back); err != nil || fmt.Sprint(back) != fmt.Sprint(m) {
			t.Errorf("map %q read back as %q (%v)", m, back, err)
		}
	}
	for _, s := range []string{"2026-11-23T18:41:30Z", "1999-01-01T00:00:00Z", "2024-02-29T23:59:59Z"} {
		got, err := parseTime(s)
		want, _ := time.Parse(TimeLayout, s)
		if err != nil || !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("parseTime(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	if _, err := parseTime("2026-13-01T00:00:00Z"); err == nil {
		t.Error("month 13 parsed")
	}
}
