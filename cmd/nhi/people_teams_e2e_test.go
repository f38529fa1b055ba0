package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/connectors/github/githubtest"
)

// TestTeamOwnerFromGitHub: the team-owner rule fires on what the GitHub
// connector read — the members of a repository's admin team, and of a
// team recorded as an owner — through the binary, against the fake GitHub.
func TestTeamOwnerFromGitHub(t *testing.T) {
	t.Parallel()
	at := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	org := &githubtest.Org{
		Login: "northwind", ID: 4242, Name: "Northwind", CreatedAt: at,
		Members: []string{"carol-d", "dan-w", "erin-p"}, Admins: []string{"carol-d"},
		Secrets: []githubtest.Secret{{Name: "PAYMENTS_API_KEY", Visibility: "private", CreatedAt: at, UpdatedAt: at}},
		Repos: []*githubtest.Repo{{
			ID: 1001, Name: "api", DefaultBranch: "main", CreatedAt: at, PushedAt: at,
			DeployKeys: []githubtest.DeployKey{{ID: 11, Title: "deploy", Key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGq9dpwQ7sT0xkVhJm4wVZ6k3b7o3PZzI7Jc0m7Yb3Fv", ReadOnly: true, CreatedAt: at, AddedBy: "carol-d"}},
			Teams:      []githubtest.TeamAccess{{ID: 1, Slug: "platform", Name: "Platform", Permission: "admin"}},
		}},
		Teams: []githubtest.Team{{Slug: "platform", Members: []string{"dan-w"}}, {Slug: "payments", Members: []string{"erin-p"}}},
	}
	srv := githubtest.NewServer(org)
	defer srv.Close()
	db := t.TempDir() + "/nhi.db"
	env := []string{"GITHUB_TOKEN=" + srv.Token()}
	snapshot := func() {
		t.Helper()
		if r := nhi(t, env, "snapshot", "github", "--org", "northwind", "--api-url", srv.URL(), "--db", db); r.code != 0 {
			t.Fatalf("snapshot: %s%s", r.stdout, r.stderr)
		}
	}
	snapshot()
	if n := srv.RequestsTo("/orgs/northwind/teams/payments/members"); n != 0 {
		t.Fatalf("payments owns nothing yet, but its members were read %d times", n)
	}
	ok(t, "people", "import", writeFile(t, "people.csv", "email,name,github\ncarol@northwind.example,Carol,carol-d\ndan@northwind.example,Dan,dan-w\nerin@northwind.example,Erin,erin-p\n"),
		"--db", db, "--as", "carol@northwind.example")
	var list []struct {
		ID   string `json:"id"`
		Kind string `json:"kind"`
	}
	if err := json.Unmarshal([]byte(ok(t, "identities", "--json", "--db", db).stdout), &list); err != nil {
		t.Fatal(err)
	}
	var key, secret string
	for _, i := range list {
		switch i.Kind {
		case "github_deploy_key":
			key = i.ID
		case "github_actions_secret":
			secret = i.ID
		}
	}
	if key == "" || secret == "" {
		t.Fatalf("identities: %+v", list)
	}
	as := []string{"--db", db, "--as", "carol@northwind.example"}
	ok(t, append([]string{"owner", "set", key, "@northwind/platform"}, as...)...)
	ok(t, append([]string{"owner", "set", secret, "@NorthWind/payments"}, as...)...)
	// The next snapshot reads the members of the team now an owner.
	snapshot()
	if n := srv.RequestsTo("/orgs/northwind/teams/payments/members"); n != 1 {
		t.Errorf("the owner team's members were read %d times, want once", n)
	}
	ok(t, append([]string{"campaign", "create", "q", "--scope", "id:*", "--due", due(30), "--reviewer", "dan-w", "--reviewer", "erin-p", "--allow-partial"}, as...)...)
	for _, tc := range []struct{ as, id, says string }{
		{"dan-w", key, "dan@northwind.example is a member of @northwind/platform"},
		{"erin-p", secret, "erin@northwind.example is a member of @NorthWind/payments"},
	} {
		r := nhi(t, nil, "decide", "q", tc.id, "keep", "--reason", "mine", "--db", db, "--as", tc.as)
		if r.code != 1 || !strings.Contains(r.stderr, "(rule team-owner: "+tc.says) {
			t.Errorf("%s deciding %s: exit %d\n%s%s", tc.as, tc.id, r.code, r.stdout, r.stderr)
		}
	}
	// Each may decide what the other's team owns.
	ok(t, "decide", "q", key, "keep", "--reason", "checked", "--db", db, "--as", "erin-p")
	ok(t, "decide", "q", secret, "keep", "--reason", "checked", "--db", db, "--as", "dan-w")
}
