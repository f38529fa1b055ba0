package github_test

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	ghconn "github.com/nhi-audit/nhi/connectors/github"
	"github.com/nhi-audit/nhi/connectors/github/githubtest"
)

// TestGHES: a GitHub Enterprise Server named as its users name it (the
// host alone) is read at /api/v3/; its version, from the header or from
// GET /meta, is recorded; the kinds it does not have are neither read nor
// gaps, said once; with an App's full permissions the snapshot is complete.
func TestGHES(t *testing.T) {
	for _, header := range []bool{true, false} {
		o := githubtest.SampleOrg(12)
		s := githubtest.NewServer(o, withApp(t), githubtest.WithGHES("3.19.0", header))
		opts := appOptions(t, s)
		// ghe.example.test is the server: every connection goes to it.
		addr := strings.TrimPrefix(strings.TrimSuffix(strings.TrimSuffix(s.URL(), "/api/v3/"), "/"), "http://")
		opts.APIURL = "http://ghe.example.test"
		opts.HTTPClient = &http.Client{Transport: &http.Transport{
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, network, addr)
			},
		}}
		st, _ := tempStore(t)
		snap, c, err := snapshot(t, context.Background(), st, githubtest.SampleLogin, opts)
		s.Close()
		if err != nil {
			t.Fatalf("header %v: %v", header, err)
		}
		if c.APIURL() != "http://ghe.example.test/api/v3/" {
			t.Errorf("API URL %s", c.APIURL())
		}
		want := o.Counts()
		delete(want, audit.KindGitHubCodespacesSecret)
		delete(want, audit.KindGitHubCredentialAuthorization)
		if snap.Status != audit.SnapshotComplete || len(snap.Gaps) != 0 || snap.Total() == 0 {
			t.Errorf("header %v: %s, gaps %+v", header, snap.Status, snap.Gaps)
		}
		for k, n := range want {
			if snap.Counts[k] != n {
				t.Errorf("header %v: %d %s; want %d", header, snap.Counts[k], k, n)
			}
		}
		if snap.ServerVersion != "3.19.0" || len(snap.Notes) != 2 || !strings.Contains(snap.Notes[0], "GitHub Enterprise Server 3.19.0 has no Codespaces secrets") {
			t.Errorf("header %v: server %q, notes %q", header, snap.ServerVersion, snap.Notes)
		}
		if n := s.RequestsTo("/orgs/" + githubtest.SampleLogin + "/codespaces/secrets"); n != 0 {
			t.Errorf("asked GHES for Codespaces secrets %d times", n)
		}
		if n := s.RequestsTo("/meta"); (n == 1) == header {
			t.Errorf("header %v: GET /meta %d times", header, n)
		}
		if got, err := st.Snapshots(context.Background()); err != nil || got[0].ServerVersion != "3.19.0" || len(got[0].Notes) != 2 {
			t.Errorf("stored: %+v %v", got, err)
		}
	}
}

func TestAPIURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://ghe.example.com":             "https://ghe.example.com/api/v3/",
		"https://ghe.example.com/":            "https://ghe.example.com/api/v3/",
		"https://ghe.example.com/api/v3":      "https://ghe.example.com/api/v3/",
		"https://github.com":                  "https://api.github.com/",
		"https://api.github.com":              "https://api.github.com/",
		"https://api.ghe.example.com/":        "https://api.ghe.example.com/",
		"http://127.0.0.1:8080/":              "http://127.0.0.1:8080/",
		"https://ghe.example.com/custom/api/": "https://ghe.example.com/custom/api/",
	} {
		c, err := ghconn.NewConnector("acme", ghconn.Options{APIURL: in})
		if err != nil {
			t.Fatal(err)
		}
		if got := c.APIURL(); got != want {
			t.Errorf("%s: %s; want %s", in, got, want)
		}
	}
}

// TestGapNamesRequirement: a gap says what GitHub's answer says the
// endpoint accepts, and otherwise the real requirement of its kind.
func TestGapNamesRequirement(t *testing.T) {
	s := githubtest.NewServer(smallOrg(), githubtest.WithScopes("repo"))
	defer s.Close()
	s.FailWith("/orgs/acme/dependabot/secrets", 403, `{"message":"Must have admin rights to Repository."}`)
	rec, err := run(t, s, "acme")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"GET /orgs/acme/personal-access-tokens": `GitHub does not show these to personal access tokens; GitHub's answer says it accepts the GitHub App or fine-grained token permission organization_personal_access_tokens: read`,
		"GET /orgs/acme/dependabot/secrets":     `GitHub App organization permission "Organization dependabot secrets: read"`,
	}
	for _, g := range rec.gaps {
		if w, ok := want[g.Endpoint]; ok {
			if !strings.Contains(g.Reason, w) {
				t.Errorf("%s: %q lacks %q", g.Endpoint, g.Reason, w)
			}
			delete(want, g.Endpoint)
		}
	}
	if len(want) > 0 {
		t.Errorf("no gap for %v: %+v", want, rec.gaps)
	}
}
