package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/audit"
	ghconn "github.com/nhi-audit/nhi/connectors/github"
	"github.com/nhi-audit/nhi/connectors/github/githubtest"
)

// `nhi snapshot github` against the fake GitHub on loopback, through the
// built binary: what a user runs.

const (
	e2eAppID   = 777001
	e2eInstall = 31337
)

// e2eApp is a GitHub App the fake knows, and its key in a file.
func e2eApp(t *testing.T) (githubtest.Option, string, []byte) {
	t.Helper()
	key, pemBytes, err := githubtest.NewAppKey(2048)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "app.pem")
	if err := os.WriteFile(path, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	opt := githubtest.WithApp(githubtest.App{
		ID: e2eAppID, Slug: "nhi-e2e", Name: "nhi e2e", InstallationID: e2eInstall, PublicKey: &key.PublicKey,
		Permissions: map[string]string{"administration": "read", "organization_personal_access_tokens": "read"},
	})
	return opt, path, pemBytes
}

// ids is every identity ID in db with its status.
func ids(t *testing.T, db string) []string {
	t.Helper()
	r := nhi(t, nil, "identities", "--json", "--db", db)
	if r.code != 0 {
		t.Fatalf("identities: %s", r.stderr)
	}
	var list []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, i := range list {
		out = append(out, i["id"].(string)+" "+i["status"].(string))
	}
	sort.Strings(out)
	return out
}

func TestSnapshotGitHubToken(t *testing.T) {
	t.Parallel()
	srv := githubtest.NewServer(githubtest.SampleOrg(30))
	defer srv.Close()
	db := filepath.Join(t.TempDir(), "nhi.db")
	env := []string{"GITHUB_TOKEN=" + srv.Token()}
	r := nhi(t, env, "snapshot", "github", "--org", "NorthWind", "--api-url", srv.URL(), "--db", db, "--concurrency", "3")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{
		"Snapshot 1 of github/northwind: partial",
		"Read with: nhi-auditor (classic token, scopes: admin:org, repo, read:user)",
		"Not read (2 endpoints; the snapshot is partial):",
		"GET /orgs/northwind/personal-access-tokens: needs a GitHub App installation token",
		"github_credential_authorization",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	for _, want := range []string{"Reading github/northwind from " + srv.URL(), "repositories 30/30 (100%)", "rate limit"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	raw, _ := os.ReadFile(db)
	if all := r.stdout + r.stderr + string(raw); strings.Contains(all, srv.Token()) || strings.Contains(all, "CANARY") {
		t.Error("the token or a webhook secret was printed or stored")
	}

	// Again: the answers are reused (304), the snapshot is the same.
	srv.ResetCounters()
	if r := nhi(t, env, "snapshot", "github", "--org", "northwind", "--api-url", srv.URL(), "--db", db); r.code != 0 {
		t.Fatal(r.stderr)
	}
	if share := float64(srv.NotModified()) / float64(srv.Requests()); share < 0.9 {
		t.Errorf("second run: %d of %d answered 304", srv.NotModified(), srv.Requests())
	}
	if r := nhi(t, nil, "verify", "--db", db); r.code != 0 {
		t.Errorf("verify: %s%s", r.stdout, r.stderr)
	}
}

func TestSnapshotGitHubApp(t *testing.T) {
	t.Parallel()
	opt, keyFile, pemBytes := e2eApp(t)
	srv := githubtest.NewServer(githubtest.SampleOrg(20), opt)
	defer srv.Close()
	db := filepath.Join(t.TempDir(), "nhi.db")
	r := nhi(t, nil, "snapshot", "github", "--org", "northwind", "--api-url", srv.URL(), "--db", db, "--app-id", "777001", "--app-key", keyFile)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"complete", "Read with: GitHub App nhi-e2e (app 777001, installation 31337)", "github_fine_grained_pat", "github_pat_request"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	body := string(pemBytes[40:90])
	raw, _ := os.ReadFile(db)
	if all := r.stdout + r.stderr + string(raw); strings.Contains(all, body) || strings.Contains(all, "ghs_") {
		t.Error("the App key or an installation token was printed or stored")
	}
}

// TestSnapshotGitHubNewFileChecksOnce: the check before a new evidence
// file is created is the run's own check: the first snapshot into a new
// file sends as many requests as one into an existing file (the
// credential, the App's installation and token, and GET /orgs/{org} are
// asked once), and what the check read is the file's cache all the same:
// the next run asks for it conditionally and is answered 304.
func TestSnapshotGitHubNewFileChecksOnce(t *testing.T) {
	t.Parallel()
	opt, keyFile, _ := e2eApp(t)
	srv := githubtest.NewServer(githubtest.SampleOrg(20), opt)
	defer srv.Close()
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		env  []string
		args []string
	}{
		{"token", []string{"GITHUB_TOKEN=" + srv.Token()}, nil},
		{"app", nil, []string{"--app-id", "777001", "--app-key", keyFile}},
	} {
		db := filepath.Join(dir, tc.name+".db")
		args := append([]string{"snapshot", "github", "--org", "northwind", "--api-url", srv.URL(), "--db", db}, tc.args...)
		var requests []int
		for range 2 {
			srv.ResetCounters()
			if r := nhi(t, tc.env, args...); r.code != 0 {
				t.Fatalf("%s: exit %d\n%s%s", tc.name, r.code, r.stdout, r.stderr)
			}
			requests = append(requests, srv.Requests())
		}
		if requests[0] != requests[1] {
			t.Errorf("%s: %d requests into a new file, %d into an existing one, want alike", tc.name, requests[0], requests[1])
		}
		switch tc.name {
		case "token":
			// An App's ETags die with its installation token (see Run).
			for _, p := range []string{"/user", "/orgs/northwind"} {
				if n := srv.NotModifiedTo(p); n != 1 {
					t.Errorf("the second run was answered 304 %d times for %s, want 1", n, p)
				}
			}
		case "app":
			for _, p := range []string{"/app", "/orgs/northwind/installation", "/app/installations/31337/access_tokens", "/orgs/northwind"} {
				if n := srv.RequestsTo(p); n != 1 {
					t.Errorf("the second run asked %s %d times, want 1", p, n)
				}
			}
		}
	}
}

func TestSnapshotGitHubRefused(t *testing.T) {
	t.Parallel()
	srv := githubtest.NewServer(githubtest.SampleOrg(3))
	defer srv.Close()
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		env  []string
		args []string
		code int
		says string
	}{
		{"bad token", []string{"GITHUB_TOKEN=ghp_nope"}, []string{"--org", "northwind"}, 1, "the token was rejected"},
		{"unknown org", []string{"GITHUB_TOKEN=" + srv.Token()}, []string{"--org", "nope"}, 1, `organization "nope" not found at ` + srv.URL()},
		{"key without app", nil, []string{"--org", "northwind", "--app-key", "x.pem"}, 2, "--app-key needs --app-id"},
		{"app without key", nil, []string{"--org", "northwind", "--app-id", "12"}, 2, "--app-id needs --app-key"},
		{"missing key file", nil, []string{"--org", "northwind", "--app-id", "12", "--app-key", filepath.Join(dir, "none.pem")}, 2, "--app-key: " + filepath.Join(dir, "none.pem") + " does not exist"},
		{"bad concurrency", []string{"GITHUB_TOKEN=x"}, []string{"--org", "northwind", "--concurrency", "0"}, 2, "--concurrency must be between 1 and 64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"snapshot", "github", "--api-url", srv.URL(), "--db", filepath.Join(dir, tc.name+".db")}, tc.args...)
			r := nhi(t, append(tc.env, "PATH="+filepath.Dir(mustGo(t))), args...)
			// Progress lines may come first; the error is the "nhi: " line.
			i := strings.Index(r.stderr, "nhi: ")
			if r.code != tc.code || i < 0 || !strings.Contains(strings.SplitN(r.stderr[i:], "\n", 2)[0], tc.says) {
				t.Errorf("exit %d, want %d; the error does not say %q:\n%s", r.code, tc.code, tc.says, r.stderr)
			}
			if strings.Contains(r.stdout+r.stderr, "ghp_nope") {
				t.Error("the token was printed")
			}
		})
	}
}

// TestSnapshotKilledAndResumed: `nhi snapshot` killed with SIGKILL in the
// middle of the repositories leaves nothing current; the same command
// then says it resumes, reads only what is left, and ends with the
// population an uninterrupted run finds.
func TestSnapshotKilledAndResumed(t *testing.T) {
	opt, keyFile, _ := e2eApp(t)
	org := githubtest.SampleOrg(80)
	var (
		mu      sync.Mutex
		seen    = map[string]bool{}
		stalled = make(chan struct{})
		release = make(chan struct{})
		once    sync.Once
		armed   = true
	)
	srv := githubtest.NewServer(org, opt, githubtest.WithFault(func(r *http.Request) (int, string, bool) {
		parts := strings.Split(r.URL.Path, "/")
		if len(parts) < 4 || parts[1] != "repos" {
			return 0, "", false
		}
		mu.Lock()
		seen[parts[3]] = true
		stall := armed && len(seen) > 40
		mu.Unlock()
		if stall {
			once.Do(func() { close(stalled) })
			<-release // hold the request until the process is dead
			return http.StatusServiceUnavailable, `{"message":"gone"}`, true
		}
		return 0, "", false
	}))
	defer srv.Close()
	defer func() { // never leave a handler waiting
		select {
		case <-release:
		default:
			close(release)
		}
	}()
	dir := t.TempDir()
	db := filepath.Join(dir, "nhi.db")
	args := []string{"snapshot", "github", "--org", "northwind", "--api-url", srv.URL(), "--db", db, "--app-id", "777001", "--app-key", keyFile}

	cmd := exec.Command(nhiBinary(t), args...)
	cmd.Env = append(os.Environ(), "NHI_DB=", "GITHUB_TOKEN=", "GH_TOKEN=")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-stalled:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("the run never reached the middle:\n%s", stderr.String())
	}
	// 41 repositories were asked for and at most DefaultConcurrency are
	// still being read: the others are complete and get checkpointed.
	waitForCheckpoints(t, db, 41-ghconn.DefaultConcurrency)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	mu.Lock()
	armed = false
	mu.Unlock()
	close(release)

	st, err := audit.Open(context.Background(), db, audit.OpenOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	latest, err := st.LatestSnapshot(context.Background())
	st.Close()
	if err != nil || latest != nil {
		t.Fatalf("a killed run left a current snapshot: %+v %v", latest, err)
	}

	srv.ResetCounters()
	r := nhi(t, nil, args...)
	if r.code != 0 {
		t.Fatalf("resumed run: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, "Resuming snapshot 1: ") || !strings.Contains(r.stderr, "units already read") {
		t.Errorf("the resumed run does not say so:\n%s", r.stderr)
	}
	if !strings.Contains(r.stdout, "Snapshot 1 of github/northwind: complete") {
		t.Errorf("stdout:\n%s", r.stdout)
	}
	resumedRequests := srv.Requests()

	// The same organisation read in one go.
	fresh := filepath.Join(dir, "fresh.db")
	srv.ResetCounters()
	if r := nhi(t, nil, "snapshot", "github", "--org", "northwind", "--api-url", srv.URL(), "--db", fresh, "--app-id", "777001", "--app-key", keyFile); r.code != 0 {
		t.Fatal(r.stderr)
	}
	if resumedRequests >= srv.Requests() {
		t.Errorf("the resumed run sent %d requests, a whole run %d", resumedRequests, srv.Requests())
	}
	got, want := ids(t, db), ids(t, fresh)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("resumed: %d identities, fresh: %d", len(got), len(want))
	}
	if r := nhi(t, nil, "verify", "--db", db); r.code != 0 {
		t.Errorf("verify after a kill and a resume: %s%s", r.stdout, r.stderr)
	}
}

// waitForCheckpoints reads the evidence file a running snapshot writes
// until at least n repositories are checkpointed in it.
func waitForCheckpoints(t *testing.T, db string, n int) {
	t.Helper()
	conn, err := sql.Open("sqlite", "file:"+db+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const tries = 600
	got := 0
	for try := 0; try < tries; try++ {
		err = conn.QueryRow(`SELECT count(*) FROM snapshot_checkpoints WHERE unit LIKE 'repo:%'`).Scan(&got)
		if err == nil && got >= n {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s: %d repositories checkpointed after %d reads, want at least %d (last error: %v)", db, got, tries, n, err)
}

// TestSnapshotNoWait: with --no-wait a spent rate limit stops the run,
// resumably; after the reset the same command finishes it.
func TestSnapshotNoWait(t *testing.T) {
	clock := githubtest.NewFakeClock(time.Now())
	srv := githubtest.NewServer(githubtest.SampleOrg(20), githubtest.WithClock(clock.Now), githubtest.WithRateLimit(100, true))
	defer srv.Close()
	db := filepath.Join(t.TempDir(), "nhi.db")
	env := []string{"GITHUB_TOKEN=" + srv.Token()}
	args := []string{"snapshot", "github", "--org", "northwind", "--api-url", srv.URL(), "--db", db, "--no-wait", "--concurrency", "2"}
	r := nhi(t, env, args...)
	if r.code != 1 || !strings.Contains(r.stderr, "rate limit is exhausted") || !strings.Contains(r.stderr, "run the same command again to continue") {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	// A run stopped on purpose is kept, not failed, and says what to do once.
	if !strings.Contains(r.stderr, "nhi: snapshot of northwind stopped: what was read is kept (snapshot 1): ") || strings.Contains(r.stderr, "failed") ||
		strings.Count(r.stderr, "run the same command again") != 1 {
		t.Errorf("--no-wait's stop:\n%s", r.stderr)
	}
	for i := 0; i < 10; i++ {
		_ = clock.Sleep(context.Background(), time.Hour)
		r = nhi(t, env, args...)
		if r.code == 0 {
			break
		}
	}
	if r.code != 0 || !strings.Contains(r.stdout, "Snapshot 1 of github/northwind: partial") || !strings.Contains(r.stderr, "Resuming snapshot 1") {
		t.Fatalf("after the resets: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
