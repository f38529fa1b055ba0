package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/connectors/github/githubtest"
)

// TestSnapshotFailuresSayItOnce: each was reproduced in issue 15. A bad
// --api-url creates no file; an address nobody answers fails at once, with
// no snapshot (nor file) and no advice to resume; a 401 is said once, and says which
// snapshot the population still comes from, or that there is none.
func TestSnapshotFailuresSayItOnce(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "nhi.db")
	env := []string{"GITHUB_TOKEN=ghp_canary_not_a_token"}

	r := nhi(t, env, "snapshot", "github", "--org", "acme", "--api-url", "not a url", "--db", db)
	if r.code != 2 || !strings.Contains(r.stderr, `API URL "not a url" is not an http(s) URL`) {
		t.Errorf("--api-url 'not a url': exit %d\n%s", r.code, r.stderr)
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Errorf("a bad --api-url created %s (%v)", db, err)
	}

	// A port nothing listens on: connection refused on the first request.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	l.Close()
	r = nhi(t, env, "snapshot", "github", "--org", "acme", "--api-url", closed, "--db", db)
	if r.code != 1 || !strings.Contains(r.stderr, "cannot reach "+closed) || !strings.Contains(r.stderr, "connection refused") {
		t.Errorf("unreachable: exit %d\n%s", r.code, r.stderr)
	}
	for _, never := range []string{"retrying", "run the same command again", "continue"} {
		if strings.Contains(r.stderr+r.stdout, never) {
			t.Errorf("unreachable says %q:\n%s%s", never, r.stdout, r.stderr)
		}
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Errorf("an unreachable server created %s (%v)", db, err)
	}

	// A token revoked mid-run: 401 on one repository's hooks.
	srv := githubtest.NewServer(githubtest.SampleOrg(3))
	defer srv.Close()
	srv.Fail("/orgs/northwind/hooks", http.StatusUnauthorized)
	env = []string{"GITHUB_TOKEN=" + srv.Token()}
	snap := func() result {
		return nhi(t, env, "snapshot", "github", "--org", "northwind", "--api-url", srv.URL(), "--db", db)
	}
	// The status is counted in what the run said, less the file's path
	// and the server's address, whose random digits may hold "401".
	said401 := func(r result) int {
		out := strings.NewReplacer(dir, "DIR", strings.TrimSuffix(srv.URL(), "/"), "URL").Replace(r.stdout + r.stderr)
		return strings.Count(out, "401")
	}
	r = snap()
	if r.code != 1 || said401(r) != 1 || !strings.Contains(r.stderr, "github/northwind has no finished snapshot yet") ||
		strings.Contains(r.stdout+r.stderr, "last complete snapshot") {
		t.Errorf("401 on a first snapshot: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	srv.ClearFaults()
	if r := snap(); r.code != 0 {
		t.Fatalf("snapshot: exit %d\n%s", r.code, r.stderr)
	}
	srv.Fail("/orgs/northwind/hooks", http.StatusUnauthorized)
	r = snap()
	if r.code != 1 || said401(r) != 1 || !strings.Contains(r.stderr, "the population of github/northwind is still that of snapshot") {
		t.Errorf("401 after a complete snapshot: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// The endpoints a failed run did not read are not called a partial snapshot.
	// Nor is what it read before it failed called its identities.
	if !regexp.MustCompile(`: failed, \d+ identit(y|ies) read before it failed in `).MatchString(r.stdout) || strings.Contains(r.stdout, "partial") || !strings.Contains(r.stdout, "endpoints; before the run failed):") {
		t.Errorf("a failed snapshot's endpoints not read:\n%s", r.stdout)
	}
}

// TestSnapshotUnknownOrgRecordsNothing: a mistyped --org (GitHub answers
// 404) fails before a snapshot opens, saying the organisation was not
// found or the credential cannot see it. A new evidence file is not
// created; an existing one gains no snapshot and no event, and the run
// does not prepare the review table of a population it did not read.
func TestSnapshotUnknownOrgRecordsNothing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "nhi.db")
	srv := githubtest.NewServer(githubtest.SampleOrg(3))
	defer srv.Close()
	env := []string{"GITHUB_TOKEN=" + srv.Token()}
	typo := func() result {
		t.Helper()
		r := nhi(t, env, "snapshot", "github", "--org", "nortwind", "--api-url", srv.URL(), "--db", db)
		want := `nhi: no snapshot of github/nortwind was taken: github: organization "nortwind" not found at ` + srv.URL() +
			": GitHub answered 404 Not Found, as it does too for an organization the credential may not see; check --org"
		if r.code != 1 || !strings.Contains(r.stderr, want) || r.stdout != "" || strings.Contains(r.stderr, "Prepared") {
			t.Errorf("--org nortwind: exit %d\nstdout:\n%s\nstderr:\n%s\nwant %q", r.code, r.stdout, r.stderr, want)
		}
		return r
	}
	typo()
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Errorf("a mistyped --org created %s (%v)", db, err)
	}

	if r := nhi(t, env, "snapshot", "github", "--org", "northwind", "--api-url", srv.URL(), "--db", db); r.code != 0 {
		t.Fatalf("snapshot: exit %d\n%s", r.code, r.stderr)
	}
	before := ok(t, "snapshots", "--db", db).stdout
	head := ok(t, "log", "head", "--db", db).stdout
	typo()
	if after := ok(t, "snapshots", "--db", db).stdout; after != before {
		t.Errorf("a mistyped --org changed nhi snapshots:\n%s\nwas:\n%s", after, before)
	}
	if after := ok(t, "log", "head", "--db", db).stdout; after != head {
		t.Errorf("a mistyped --org wrote to the event log: head\n%s\nwas\n%s", after, head)
	}
}

// TestSnapshotsListAnAccountNotRead: an account whose only snapshot failed
// (a 401 from the loopback organisation contoso) has no population; nhi
// snapshots lists it among the current snapshots all the same, with "—"
// for its snapshot and counts, and says why, as the review UI's overview
// does. Alone in a file it is said too.
func TestSnapshotsListAnAccountNotRead(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := githubtest.NewServer(githubtest.SampleOrg(3))
	defer good.Close()
	org := githubtest.SampleOrg(3)
	org.Login = "contoso"
	bad := githubtest.NewServer(org)
	defer bad.Close()
	bad.Fail("/orgs/contoso/hooks", http.StatusUnauthorized)
	why := "the newest, snapshot %d, failed: github: GET /orgs/contoso/hooks: the token was rejected (GitHub answered 401 Bad credentials): it may be mistyped, expired or revoked (nhi snapshots show %d)"

	db := filepath.Join(dir, "two.db")
	if r := nhi(t, []string{"GITHUB_TOKEN=" + good.Token()}, "snapshot", "github", "--org", "northwind", "--api-url", good.URL(), "--db", db); r.code != 0 {
		t.Fatalf("snapshot: exit %d\n%s", r.code, r.stderr)
	}
	if r := nhi(t, []string{"GITHUB_TOKEN=" + bad.Token()}, "snapshot", "github", "--org", "contoso", "--api-url", bad.URL(), "--db", db); r.code != 1 {
		t.Fatalf("the 401 did not fail: exit %d\n%s", r.code, r.stderr)
	}
	out := ok(t, "snapshots", "--db", db).stdout
	var row string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "github/contoso ") && row == "" {
			row = strings.Join(strings.Fields(l), " ") // the first: the current snapshots
		}
	}
	if !strings.HasPrefix(row, "github/contoso — ") || !strings.HasSuffix(row, " failed — —") {
		t.Errorf("the current snapshots list github/contoso as %q:\n%s", row, out)
	}
	if want := "github/contoso has no finished snapshot, so no population: " + fmt.Sprintf(why, 2, 2); !strings.Contains(out, want) {
		t.Errorf("nhi snapshots does not say %q:\n%s", want, out)
	}

	// northwind, read once, then a run of it that fails: its population
	// is the older read, and nhi snapshots says a newer run failed.
	badNorthwind := githubtest.NewServer(githubtest.SampleOrg(3))
	defer badNorthwind.Close()
	badNorthwind.Fail("/orgs/northwind/hooks", http.StatusUnauthorized)
	if r := nhi(t, []string{"GITHUB_TOKEN=" + badNorthwind.Token()}, "snapshot", "github", "--org", "northwind", "--api-url", badNorthwind.URL(), "--db", db); r.code != 1 {
		t.Fatalf("the 401 did not fail: exit %d\n%s", r.code, r.stderr)
	}
	out = ok(t, "snapshots", "--db", db).stdout
	// Its row gives no count beside the populations of the finished
	// runs: what it read before it failed is not one, and snapshots show
	// says it so.
	if !regexp.MustCompile(`(?m)^3 +github/northwind +\S+ \S+ +failed +— `).MatchString(out) ||
		!strings.Contains(out, "A failed snapshot has no population (—); nhi snapshots show 3 says what it read before it failed") {
		t.Errorf("nhi snapshots lists the failed run with a count:\n%s", out)
	}
	if show := ok(t, "snapshots", "show", "3", "--db", db).stdout; !regexp.MustCompile(`(?m)^Identities: \d+ identit(y|ies) read before it failed \(not a population`).MatchString(show) {
		t.Errorf("nhi snapshots show of the failed run:\n%s", show)
	}
	if want := "github/northwind: a newer run, snapshot 3, failed: github: GET /orgs/northwind/hooks: the token was rejected (GitHub answered 401 Bad credentials): it may be mistyped, expired or revoked; the population is still snapshot 1's, taken "; !strings.Contains(out, want) {
		t.Errorf("nhi snapshots does not say %q:\n%s", want, out)
	}

	db = filepath.Join(dir, "one.db")
	nhi(t, []string{"GITHUB_TOKEN=" + bad.Token()}, "snapshot", "github", "--org", "contoso", "--api-url", bad.URL(), "--db", db)
	if out := ok(t, "snapshots", "--db", db).stdout; !strings.Contains(out, fmt.Sprintf(why, 1, 1)) {
		t.Errorf("nhi snapshots of the account alone does not say why it has no population:\n%s", out)
	}
}
