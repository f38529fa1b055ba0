package github

import (
	"reflect"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/audit"
)

func TestFingerprint(t *testing.T) {
	// Public keys and fingerprints as `ssh-keygen -lf` prints them.
	for _, tc := range []struct{ key, typ, fp string }{
		{"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBsIbpOgzEZjWRcssewgth8JVm1KU6lMQG3xkJFEOZo7 test", "ssh-ed25519", "SHA256:FN8cmYzr4Xt4uUB/ukkAHGHDELAhr4VYBgFbPTAAh8c"},
		{"ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDh6SWqpHwcwrFWh9XOmkYqQ7M+awWPy0hay/eY6YvjNo1qQI1X7XpkYlUOTQSc93u57/Jpe3zvyGKvMKAHvUYV8NdQZb9Mauar/goLCin3dDnvC9sSkX8Ti0qJp4FRB7RIHZryzH3C53cyRSkRsFXi1BWwuCq3tBSckBplmKrT+LTOWBHYHg0MK2UABvne+zPkteF4JOp6bloMETTZ1DaCttSfde20/4islw+bixU7PiYMGiSKz+M/1MLKg7hw9rLrTLbtKXK2InTmdXNyojuD+YtTsCv5oze7No/JCU4gdaT5qhaDU0TwfAFBkAVk0tv5fMKKpj47DIZGZ6eH6XQx", "ssh-rsa", "SHA256:8/+Bp5R+CKcgaNFjWmqTEGwK2vfAxd6tul5uguLCU/s"},
	} {
		typ, fp, ok := fingerprint(tc.key)
		if !ok || typ != tc.typ || fp != tc.fp {
			t.Errorf("fingerprint(%.30s...) = %q %q %v, want %q %q", tc.key, typ, fp, ok, tc.typ, tc.fp)
		}
	}
	for _, bad := range []string{"", "ssh-rsa", "ssh-rsa !!!", "ssh-rsa ="} {
		if _, _, ok := fingerprint(bad); ok {
			t.Errorf("fingerprint(%q) ok", bad)
		}
	}
}

func TestParseCodeOwners(t *testing.T) {
	c := &Connector{org: "acme"}
	got := c.parseCodeOwners("api", `# comment line
*                @acme/early-default
/docs/           @acme/Docs   # trailing comment
*.go             dev@acme.example @Gopher
\#not-a-comment  @hash-owner
/build/ # no owners: unowned
*                @acme/platform @Ann
`)
	want := []audit.Principal{
		{Type: "codeowner", Scope: "acme/api", Login: "acme/early-default", Role: "path"},
		{Type: "codeowner", Scope: "acme/api", Login: "acme/docs", Role: "path"},
		{Type: "codeowner", Scope: "acme/api", Login: "dev@acme.example", Role: "path"},
		{Type: "codeowner", Scope: "acme/api", Login: "gopher", Role: "path"},
		{Type: "codeowner", Scope: "acme/api", Login: "hash-owner", Role: "path"},
		{Type: "codeowner", Scope: "acme/api", Login: "acme/platform", Role: "default"},
		{Type: "codeowner", Scope: "acme/api", Login: "ann", Role: "default"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	if got := c.parseCodeOwners("api", "# nothing\n\n"); len(got) != 0 {
		t.Errorf("empty file: %+v", got)
	}
}

func TestRelative(t *testing.T) {
	for _, tc := range []struct{ base, link, want, err string }{
		{"https://api.github.com/", "https://api.github.com/orgs/a/hooks?page=2&per_page=100", "orgs/a/hooks?page=2&per_page=100", ""},
		{"https://ghe.example.com/api/v3/", "https://ghe.example.com/api/v3/repos/a/b/keys?page=3", "repos/a/b/keys?page=3", ""},
		{"https://api.github.com/", "https://evil.example/orgs/a/hooks?page=2", "", "leaves the API"},
		{"https://api.github.com/", "http://api.github.com/orgs/a/hooks?page=2", "", "leaves the API"},
		{"https://ghe.example.com/api/v3/", "https://ghe.example.com/other/x", "", "leaves the API"},
	} {
		c, err := NewConnector("a", Options{APIURL: tc.base})
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.relative(tc.link)
		if got != tc.want || (tc.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("relative(%q) on %s = %q, %v", tc.link, tc.base, got, err)
		}
	}
}

func TestPageAfter(t *testing.T) {
	for in, want := range map[string]string{
		"orgs/a/hooks?per_page=100":        "orgs/a/hooks?page=2&per_page=100",
		"orgs/a/hooks?page=3&per_page=100": "orgs/a/hooks?page=4&per_page=100",
		"orgs/a/hooks?page=x":              "",
	} {
		if got := pageAfter(in); got != want {
			t.Errorf("pageAfter(%q) = %q, want %q", in, got, want)
		}
	}
}
