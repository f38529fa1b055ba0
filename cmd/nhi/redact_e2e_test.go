package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/connectors/github/githubtest"
)

// TestSnapshotStoresNoCredential: webhook URLs carrying a secret in every
// form the issue found stored verbatim, and a server that echoes the
// Authorization header in its error messages, through the binary: no
// canary reaches the evidence file, stdout or stderr.
func TestSnapshotStoresNoCredential(t *testing.T) {
	t.Parallel()
	org := githubtest.SampleOrg(3)
	canaries := map[string]string{
		"https://hooks.example.com/hook/eyJhbGciOiJIUzI1NiJ9.eyJjYW5hcnkiOjF9.c2lnbmF0dXJl/github": "eyJhbGciOiJIUzI1NiJ9",
		"https://hooks.example.com/webhook/Q0FOQVJZ+c2VjcmV0/dG9rZW4=":                             "Q0FOQVJZ",
		"https://hooks.example.com/api/%63%61%6E%61%72%79%2Dsecret":                                "%63%61%6E%61%72%79",
		"https://hooks.example.com/hooks;token=canarysemicolon/github":                             "canarysemicolon",
		"https://hooks.example.com/hooks/QwErTyCaNaRyZxCv":                                         "QwErTyCaNaRyZxCv",
		"https://hooks.example.com/hooks/k9q":                                                      "/k9q",
	}
	id := int64(990000)
	for u := range canaries {
		id++
		org.Hooks = append(org.Hooks, githubtest.Hook{ID: id, Active: true, Events: []string{"push"}, URL: u, ContentType: "json", InsecureSSL: "0",
			CreatedAt: githubtest.Reference, UpdatedAt: githubtest.Reference})
	}
	// The server echoes the credential it was sent in its refusals, which
	// become gaps: their text is stored and printed.
	srv := githubtest.NewServer(org, githubtest.WithFault(func(r *http.Request) (int, string, bool) {
		auth := r.Header.Get("Authorization")
		switch {
		case strings.HasSuffix(r.URL.Path, "/actions/runners"):
			return http.StatusForbidden, `{"message":"Must have admin rights; you sent ` + auth + ` and ghp_ANOTHERcanary0000000000000000000000"}`, true
		case strings.HasSuffix(r.URL.Path, "/keys"):
			return http.StatusUnprocessableEntity, `{"message":"cannot handle ` + auth + `"}`, true
		}
		return 0, "", false
	}))
	defer srv.Close()
	db := filepath.Join(t.TempDir(), "nhi.db")
	r := nhi(t, []string{"GITHUB_TOKEN=" + srv.Token()}, "snapshot", "github", "--org", "northwind", "--api-url", srv.URL(), "--db", db, "--concurrency", "1")
	if r.code != 0 || !strings.Contains(r.stdout, "(422 cannot handle REDACTED)") || !strings.Contains(r.stdout, "you sent REDACTED and REDACTED") {
		t.Errorf("the server's messages are not shown redacted: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	raw, _ := os.ReadFile(db)
	wal, _ := os.ReadFile(db + "-wal")
	all := r.stdout + r.stderr + string(raw) + string(wal)
	if strings.Contains(all, srv.Token()) || strings.Contains(all, "ANOTHERcanary") {
		t.Errorf("the token the server echoed was printed or stored:\n%s%s", r.stdout, r.stderr)
	}

	gaps := nhi(t, nil, "snapshots", "--db", db, "--json")
	hooks := nhi(t, nil, "identities", "--db", db, "--json", "--filter", "kind:webhook")
	all = gaps.stdout + hooks.stdout
	for u, canary := range canaries {
		if strings.Contains(all, canary) {
			t.Errorf("%s: %q is in the output", u, canary)
		}
	}
	if !strings.Contains(hooks.stdout, "hooks.example.com/hooks/REDACTED") {
		t.Errorf("the canary hooks are not listed, redacted:\n%s", hooks.stdout)
	}
}
