package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/connectors/github/githubtest"
)

// TestOwnerLeftOutOfOwnersList: GitHub's owners' list
// (GET /orgs/{org}/members?role=admin) left an owner out, as a page cut
// short or a list that changed while it was paged does. The snapshot
// does not record her as a member, who could read nothing of the
// organisation's secrets: it says the member list was not read whole,
// and offboarding her names that list among what the partial snapshot
// did not read.
// Read whole, the same owner could read the organisation's secret.
func TestOwnerLeftOutOfOwnersList(t *testing.T) {
	t.Parallel()
	at := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	org := &githubtest.Org{
		Login: "northwind", ID: 4242, Name: "Northwind", CreatedAt: at,
		Members: []string{"carol-d", "dan-w", "erin-p"}, Admins: []string{"dan-w", "carol-d"},
		Secrets: []githubtest.Secret{{Name: "PAYMENTS_API_KEY", Visibility: "private", CreatedAt: at, UpdatedAt: at}},
		Repos:   []*githubtest.Repo{{ID: 1001, Name: "api", DefaultBranch: "main", CreatedAt: at, PushedAt: at}},
	}
	srv := githubtest.NewServer(org)
	defer srv.Close()
	srv.ServeFewer("/orgs/northwind/members?role=admin", 1) // carol-d, the last owner
	db := t.TempDir() + "/nhi.db"
	env := []string{"GITHUB_TOKEN=" + srv.Token()}
	r := nhi(t, env, "snapshot", "github", "--org", "northwind", "--api-url", srv.URL(), "--db", db)
	if r.code != 0 {
		t.Fatalf("snapshot: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"partial",
		"Not read (4 endpoints; the snapshot is partial):\n  GET /orgs/northwind/members: GitHub's GraphQL API counts 3 members of northwind (organization.membersWithRole totalCount), but its owners' and members' lists (role=admin, role=member) gave 2, so they were not read whole"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("snapshot with the owners' list cut short does not say %q:\n%s", want, r.stdout)
		}
	}
	ok(t, "people", "import", writeFile(t, "people.csv", `email,name,github,status,left_at,manager
carol@northwind.example,Carol,carol-d,left,2026-01-30,dan@northwind.example
dan@northwind.example,Dan,dan-w,active,,
erin@northwind.example,Erin,erin-p,active,,
`), "--db", db, "--as", "dan@northwind.example")
	off := []string{"--reviewer", "erin@northwind.example", "--allow-partial", "--db", db, "--as", "dan@northwind.example"}
	out := ok(t, append([]string{"offboard", "carol-d", "--name", "cut"}, off...)...).stdout
	if want := "  GET /orgs/northwind/members: GitHub's GraphQL API counts 3 members of northwind"; !strings.Contains(out, want) {
		t.Errorf("offboarding an owner the owners' list left out does not say %q:\n%s", want, out)
	}

	// The lists read whole: she was an owner, so she could read the
	// organisation's secret.
	whole := githubtest.NewServer(org)
	defer whole.Close()
	env = []string{"GITHUB_TOKEN=" + whole.Token()}
	if r := nhi(t, env, "snapshot", "github", "--org", "northwind", "--api-url", whole.URL(), "--db", db); r.code != 0 || strings.Contains(r.stdout, "GET /orgs/northwind/members:") {
		t.Fatalf("snapshot of the whole lists: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	var created struct {
		Items []struct {
			ID        string `json:"id"`
			Relations []struct {
				Kind   string `json:"kind"`
				Detail string `json:"detail"`
			} `json:"relations"`
		} `json:"items"`
	}
	out = ok(t, append([]string{"offboard", "carol-d", "--name", "whole", "--json"}, off...)...).stdout
	if err := json.Unmarshal([]byte(out), &created); err != nil {
		t.Fatal(err, out)
	}
	found := false
	for _, it := range created.Items {
		for _, rel := range it.Relations {
			if rel.Kind == "could-read" && strings.HasPrefix(rel.Detail, "owner of the organisation northwind (carol-d") && strings.Contains(it.ID, "PAYMENTS_API_KEY") {
				found = true
			}
		}
	}
	if !found {
		t.Errorf("offboarding an owner read whole: the organisation's secret is not one she could read:\n%s", out)
	}
}
