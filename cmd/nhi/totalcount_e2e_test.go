package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/connectors/github/githubtest"
)

// TestSnapshotFewerThanTotalCount: nhi snapshot github, when GitHub's list
// of App installations holds fewer than its total_count, says so among
// what was not read, and the next listing of identities shows the
// installation that did not come as not checked, never removed.
func TestSnapshotFewerThanTotalCount(t *testing.T) {
	srv := githubtest.NewServer(githubtest.SampleOrg(3))
	defer srv.Close()
	db := filepath.Join(t.TempDir(), "nhi.db")
	env := []string{"GITHUB_TOKEN=" + srv.Token()}
	snap := func() result {
		t.Helper()
		r := nhi(t, env, "snapshot", "github", "--org", "northwind", "--api-url", srv.URL(), "--db", db)
		if r.code != 0 {
			t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		return r
	}
	snap()
	srv.ServeFewer("/orgs/northwind/installations", 1)
	r := snap()
	if !strings.Contains(r.stdout, "GET /orgs/northwind/installations: GitHub said the list holds ") || !strings.Contains(r.stdout, "(total_count)") {
		t.Errorf("the run does not say the installations were not read whole:\n%s", r.stdout)
	}
	r = nhi(t, nil, "identities", "--json", "--filter", "status:any kind:app_installation", "--db", db)
	var ids []struct{ ID, Status string }
	if err := json.Unmarshal([]byte(r.stdout), &ids); err != nil || len(ids) == 0 {
		t.Fatalf("identities: %v\n%s%s", err, r.stdout, r.stderr)
	}
	notChecked := 0
	for _, id := range ids {
		switch id.Status {
		case "removed":
			t.Errorf("%s is removed, though GitHub counted it", id.ID)
		case "not-checked":
			notChecked++
		}
	}
	if notChecked != 1 {
		t.Errorf("%d installations not checked; want the one that did not come: %+v", notChecked, ids)
	}
}

// TestSnapshotGraphQLFewerThanTotalCount: nhi snapshot github, when the
// environments GitHub's GraphQL API gives of a repository are fewer than
// their totalCount, says so among what was not read, and the secret of
// the environment that did not come is not checked, never removed.
func TestSnapshotGraphQLFewerThanTotalCount(t *testing.T) {
	o := githubtest.SampleOrg(3)
	repo := o.Repos[0]
	at := repo.CreatedAt
	repo.Environments = []githubtest.Environment{{ID: 9901, Name: "staging", CreatedAt: at, UpdatedAt: at,
		Secrets: []githubtest.Secret{{Name: "STAGING_DEPLOY_TOKEN", CreatedAt: at, UpdatedAt: at}}}}
	srv := githubtest.NewServer(o)
	defer srv.Close()
	db := filepath.Join(t.TempDir(), "nhi.db")
	env := []string{"GITHUB_TOKEN=" + srv.Token()}
	snap := func() result {
		t.Helper()
		r := nhi(t, env, "snapshot", "github", "--org", "northwind", "--api-url", srv.URL(), "--db", db)
		if r.code != 0 {
			t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		return r
	}
	snap()
	srv.ServeFewer("/repos/northwind/"+repo.Name+"/environments", 1)
	r := snap()
	if says := "POST /graphql: GitHub's GraphQL API said the environments of northwind/" + repo.Name + " number 1 (totalCount), but it gave 0"; !strings.Contains(r.stdout, says) {
		t.Errorf("the run does not say %q:\n%s", says, r.stdout)
	}
	r = nhi(t, nil, "identities", "--json", "--filter", "status:any kind:actions_secret", "--db", db)
	var ids []struct{ ID, Status string }
	if err := json.Unmarshal([]byte(r.stdout), &ids); err != nil || len(ids) == 0 {
		t.Fatalf("identities: %v\n%s%s", err, r.stdout, r.stderr)
	}
	found := false
	for _, id := range ids {
		if strings.HasSuffix(id.ID, "/"+repo.Name+"/staging/STAGING_DEPLOY_TOKEN") {
			found = true
			if id.Status != "not-checked" {
				t.Errorf("%s is %s; want not-checked: GitHub counted its environment and did not give it", id.ID, id.Status)
			}
		}
	}
	if !found {
		t.Errorf("no STAGING_DEPLOY_TOKEN among %+v", ids)
	}
}
