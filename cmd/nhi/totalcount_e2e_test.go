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
