package main

import (
	"bytes"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/nhi-audit/nhi/internal/pgtest"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// nhiBinary builds cmd/nhi once per test run: the end-to-end tests drive
// the real binary, exit codes and all.
func nhiBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "nhi-e2e-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "nhi")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = errors.New(string(out))
		}
	})
	if buildErr != nil {
		t.Fatalf("building nhi: %v", buildErr)
	}
	return binPath
}

func TestMain(m *testing.M) {
	// The commands that record a population prepare the UI's table cache
	// (prepare.go): in a folder of the tests', never the user's. A test
	// of where it goes sets NHI_CACHE_DIR itself.
	cache, err := os.MkdirTemp("", "nhi-tables-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv("NHI_CACHE_DIR", cache)
	code := pgtest.Main(m) // stops the PostgreSQL server, if a test started one
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	if demos.dir != "" {
		os.RemoveAll(demos.dir)
	}
	os.RemoveAll(cache)
	os.Exit(code)
}

type result struct {
	stdout, stderr string
	code           int
}

// nhi runs the binary with args in a folder of the test's own. Tests that
// only do that, on files in their own folders, run in parallel
// (t.Parallel): they share nothing but the binary. Those that hold locks,
// send signals, set limits or use the PostgreSQL server's roles run alone.
func nhi(t *testing.T, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(nhiBinary(t), args...)
	cmd.Env = append(os.Environ(), "NHI_DB=", "NHI_REVIEWER=", "GITHUB_TOKEN=", "GH_TOKEN=")
	cmd.Env = append(cmd.Env, env...)
	cmd.Dir = t.TempDir()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{out.String(), errb.String(), code}
}

// TestDemoHistory: nhi demo, on a new file, decides a campaign and takes a
// second snapshot after a week's changes; diff shows the removal, the
// rotation, the rename as a change and the identities of the repository
// the App no longer sees as not seen, never removed; identities says
// not-checked, with the reason; the campaign's decommissioned keys are one
// removed, one still present (renamed), one not checked.
func TestDemoHistory(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "demo.db")
	r := nhi(t, nil, "demo", "--no-tui", "--db", db)
	if r.code != 0 || !strings.Contains(r.stdout, " of github/northwind: partial") ||
		!strings.Contains(r.stdout, "Coverage: 1 of 40 repositories is not visible to this credential") ||
		!strings.Contains(r.stdout, "Campaign demo-deploy-keys: of its identities of github/northwind approved for decommissioning, 1 removed, 1 still present, 1 not checked") {
		t.Fatalf("demo exit %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
	// The cluster, read last, has one snapshot: a bare diff passes it
	// over, says so, and compares the organisation's two.
	r = nhi(t, nil, "diff", "--db", db)
	if r.code != 0 || !strings.HasPrefix(r.stdout, "Snapshot 4 → 5 of github/northwind: 0 new, 1 removed,") ||
		!strings.Contains(r.stderr, "Comparing github/northwind, the newest source/account with two snapshots; passed over, with a single snapshot: k8s/demo-cluster") {
		t.Errorf("diff: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = nhi(t, nil, "diff", "--db", db, "--json")
	var d struct {
		Removed int `json:"removed"`
		Changes []struct {
			ID, Change string
			Details    []string
		} `json:"changes"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &d); err != nil {
		t.Fatalf("diff --json: %v\n%s", err, r.stdout)
	}
	renamed, rotated, notSeen := 0, 0, 0
	for _, c := range d.Changes {
		switch {
		case c.Change == "not-seen":
			notSeen++
		case len(c.Details) > 0 && strings.HasPrefix(c.Details[0], "renamed: was "):
			renamed++
		case len(c.Details) > 0 && strings.HasPrefix(c.Details[0], "rotated: "):
			rotated++
		}
	}
	if d.Removed != 1 || renamed == 0 || rotated != 1 || notSeen == 0 {
		t.Errorf("diff: %d removed, %d renamed, %d rotated, %d not seen:\n%s", d.Removed, renamed, rotated, notSeen, r.stdout)
	}
	r = nhi(t, nil, "identities", "--db", db, "--filter", "status:not-checked", "--json")
	var ids []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &ids); err != nil || len(ids) != notSeen {
		t.Fatalf("%d not-checked identities (%v); want %d\n%s%s", len(ids), err, notSeen, r.stdout, r.stderr)
	}
	if why, _ := ids[0]["status_reason"].(string); !strings.Contains(why, "not visible to this credential") {
		t.Errorf("status_reason %q", why)
	}
}

func TestDemoEndToEnd(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "demo.db")

	// One snapshot (no week of changes): every identity is active.
	r := nhi(t, nil, "demo", "--history=false", "--no-tui", "--db", db)
	if r.code != 0 {
		t.Fatalf("demo exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "complete") || !strings.Contains(r.stdout, db) {
		t.Errorf("demo summary does not say the snapshot completed into %s:\n%s", db, r.stdout)
	}
	// The cluster is a recorded world, and the demo and its snapshot say
	// so: no API server answered.
	if !strings.Contains(r.stderr, "Reading the sample Kubernetes cluster from a recorded world, not a live API server") ||
		!strings.Contains(r.stdout, "Snapshot 5 of k8s/demo-cluster: complete, 8 identities") ||
		!strings.Contains(r.stdout, "Note: a recorded world answered, not a live API server") {
		t.Errorf("the demo does not say its cluster is a recorded world:\n%s%s", r.stdout, r.stderr)
	}
	if r := nhi(t, nil, "snapshots", "show", "5", "--db", db); !strings.Contains(r.stdout, "a recorded world answered") {
		t.Errorf("snapshots show 5 does not say the cluster was a recorded world:\n%s%s", r.stdout, r.stderr)
	}
	if fi, err := os.Stat(db); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("evidence file: %v, %v; want mode 0600", fi.Mode(), err)
	}

	r = nhi(t, nil, "identities", "--db", db, "--json")
	if r.code != 0 {
		t.Fatalf("identities exit %d: %s", r.code, r.stderr)
	}
	var ids []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &ids); err != nil {
		t.Fatalf("identities --json is not a JSON array: %v\n%s", err, r.stdout)
	}
	if len(ids) < 50 {
		t.Fatalf("only %d identities in the demo org", len(ids))
	}
	kinds := map[string]int{}
	for _, id := range ids {
		for _, field := range []string{"id", "kind", "source", "name", "scope", "owner", "created_at", "last_used_at", "rotated_at", "expires_at", "permissions", "findings", "status", "first_seen", "last_seen"} {
			if _, ok := id[field]; !ok {
				t.Fatalf("identity %v has no %q field", id["id"], field)
			}
		}
		kinds[id["kind"].(string)]++
		if src := id["source"]; id["status"] != "active" || src != "github" && src != "aws" && src != "k8s" {
			t.Errorf("identity %v: status %v source %v", id["id"], id["status"], id["source"])
		}
	}
	for _, k := range []string{"github_app_installation", "github_deploy_key", "github_actions_secret", "github_webhook", "aws_iam_role", "aws_access_key", "aws_iam_user", "aws_oidc_provider", "k8s_service_account", "k8s_sa_token"} {
		if kinds[k] == 0 {
			t.Errorf("demo has no %s (kinds: %v)", k, kinds)
		}
	}

	target := ids[0]["id"].(string)
	r = nhi(t, []string{"NHI_REVIEWER=auditor@northwind.test"}, "owner", "set", "--db", db, target, "alice@northwind.test")
	if r.code != 0 || !strings.Contains(r.stdout, "alice@northwind.test") {
		t.Fatalf("owner set exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	r = nhi(t, nil, "identities", "--db", db, "--json")
	json.Unmarshal([]byte(r.stdout), &ids)
	if ids[0]["owner"] != "alice@northwind.test" {
		t.Errorf("owner after owner set: %v", ids[0]["owner"])
	}
	r = nhi(t, nil, "identities", "--db", db)
	if !strings.Contains(r.stdout, "alice@northwind.test") || !strings.Contains(r.stdout, "OWNER") {
		t.Errorf("identities table lacks the owner:\n%s", r.stdout)
	}

	r = nhi(t, nil, "verify", "--db", db)
	if r.code != 0 || !strings.HasPrefix(r.stdout, "OK") {
		t.Fatalf("verify of an untouched file: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// A second demo run is a second snapshot of the same org: nothing new,
	// nothing removed, the owner kept.
	if r = nhi(t, nil, "demo", "--no-tui", "--db", db); r.code != 0 {
		t.Fatalf("second demo: %s", r.stderr)
	}
	r = nhi(t, nil, "identities", "--db", db, "--json")
	var again []map[string]any
	json.Unmarshal([]byte(r.stdout), &again)
	if len(again) != len(ids) || again[0]["owner"] != "alice@northwind.test" {
		t.Errorf("after a second snapshot: %d identities (want %d), owner %v", len(again), len(ids), again[0]["owner"])
	}

	// Someone edits the owner with the sqlite3 shell.
	tamper, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tamper.Exec(`UPDATE owners SET owner = 'mallory@evil.test'`); err != nil {
		t.Fatal(err)
	}
	tamper.Close()
	r = nhi(t, nil, "verify", "--db", db)
	if r.code != 1 {
		t.Fatalf("verify of a tampered file: exit %d, want 1\n%s", r.code, r.stdout)
	}
	if !strings.Contains(r.stderr, target) || !strings.Contains(r.stderr, "mallory@evil.test") {
		t.Errorf("verify does not name the broken record:\n%s", r.stderr)
	}
}

func TestBadInputIsRefusedClearly(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	foreign := filepath.Join(dir, "foreign.db")
	os.WriteFile(foreign, bytes.Repeat([]byte("not a database "), 20), 0o600)
	readOnly := demoCopy(t, "--repos", "2")
	os.Chmod(readOnly, 0o400)
	good := demoCopy(t, "--repos", "2")

	cases := []struct {
		name string
		args []string
		code int
		says string
		file string // must be byte-for-byte unchanged
	}{
		{"missing file", []string{"identities", "--db", filepath.Join(dir, "absent.db")}, 1, "no evidence file", ""},
		{"directory", []string{"identities", "--db", dir}, 1, "is a directory", ""},
		// A script's empty variable: a mistake in the call, as an empty --as.
		{"empty --db", []string{"identities", "--db", ""}, 2, "an empty --db names no evidence", ""},
		{"empty --db=", []string{"--db=", "verify"}, 2, "an empty --db names no evidence", ""},
		{"foreign file", []string{"owner", "set", "--db", foreign, "x", "y", "--as", "a"}, 1, "not an SQLite database", foreign},
		{"read-only file", []string{"owner", "set", "--db", readOnly, "x", "y", "--as", "a"}, 1, "not writable", readOnly},
		{"unknown identity", []string{"owner", "set", "--db", good, "github:nope:github_deploy_key:1", "alice", "--as", "a"}, 1, "unknown identity", good},
		{"missing argument", []string{"owner", "set", "--db", good, "only-one"}, 2, "accepts 2 arguments, received 1: the usage is nhi owner set", good},
		{"unknown flag", []string{"identities", "--db", good, "--colour"}, 2, "unknown flag", good},
		{"unknown command", []string{"frobnicate"}, 2, "unknown command", ""},
		{"misspelt command", []string{"identites"}, 2, "did you mean identities?", ""},
		{"misspelt subcommand", []string{"campaign", "shwo"}, 2, "did you mean show?", ""},
		{"misspelt flag", []string{"identities", "--db", good, "--jsn"}, 2, "unknown flag: --jsn; did you mean --json?", good},
		{"no terminal for the UI", []string{"--db", good}, 1, "needs a terminal", good},
		{"no token", []string{"snapshot", "github", "--org", "acme", "--db", filepath.Join(dir, "s.db")}, 1, "GITHUB_TOKEN", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var before [32]byte
			if c.file != "" {
				b, _ := os.ReadFile(c.file)
				before = sha256.Sum256(b)
			}
			r := nhi(t, []string{"PATH=" + filepath.Dir(mustGo(t))}, c.args...)
			if r.code != c.code {
				t.Errorf("exit %d, want %d\n%s", r.code, c.code, r.stderr)
			}
			first := strings.SplitN(r.stderr, "\n", 2)[0]
			if !strings.HasPrefix(first, "nhi: ") || !strings.Contains(first, c.says) {
				t.Errorf("first line of stderr %q does not say %q", first, c.says)
			}
			if c.file != "" {
				b, _ := os.ReadFile(c.file)
				if sha256.Sum256(b) != before {
					t.Errorf("%s changed", filepath.Base(c.file))
				}
			}
		})
	}
}

// mustGo finds the go tool; the bad-input tests run with a PATH that has no
// gh, so `gh auth token` cannot find a real token on a developer's machine.
func mustGo(t *testing.T) string {
	p, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool")
	}
	return p
}

func TestVersionAndHelp(t *testing.T) {
	t.Parallel()
	r := nhi(t, nil, "version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "nhi ") {
		t.Errorf("version: %d %q", r.code, r.stdout)
	}
	if strings.Contains(r.stdout, "dev") {
		t.Errorf("version says dev: %q", r.stdout)
	}
	if v := nhi(t, nil, "--version"); v.code != 0 || v.stdout != r.stdout {
		t.Errorf("--version: %d %q, want what nhi version says: %q", v.code, v.stdout, r.stdout)
	}
	r = nhi(t, nil, "--help")
	for _, sub := range []string{"demo", "snapshot", "identities", "owner", "verify"} {
		if !strings.Contains(r.stdout, sub) {
			t.Errorf("--help does not list %s", sub)
		}
	}
}

func TestFilterAndBulkOwners(t *testing.T) {
	t.Parallel()
	db := demoCopy(t, "--history=false")
	count := func(filter string) int {
		t.Helper()
		r := nhi(t, nil, "identities", "--db", db, "--json", "--filter", filter)
		if r.code != 0 {
			t.Fatalf("--filter %q: %s", filter, r.stderr)
		}
		var ids []map[string]any
		if err := json.Unmarshal([]byte(r.stdout), &ids); err != nil {
			t.Fatal(err)
		}
		return len(ids)
	}
	all, keys := count(""), count("kind:deploy_key")
	if keys == 0 || keys >= all {
		t.Fatalf("kind:deploy_key matched %d of %d", keys, all)
	}

	r := nhi(t, nil, "identities", "--db", db, "--filter", "kind:deploy_key (owner:none")
	if r.code != 2 || !strings.Contains(r.stderr, "column") || !strings.Contains(r.stderr, "^") {
		t.Errorf("malformed filter: exit %d\n%s", r.code, r.stderr)
	}

	r = nhi(t, []string{"NHI_REVIEWER=auditor@northwind.test"}, "owner", "set", "--db", db, "--filter", "kind:deploy_key", "@northwind/platform")
	if r.code != 0 || !strings.Contains(r.stdout, fmt.Sprintf("Owner of %d identities", keys)) {
		t.Fatalf("bulk owner set: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if n := count("kind:deploy_key owner:@northwind/platform"); n != keys {
		t.Errorf("%d of %d deploy keys have the bulk owner", n, keys)
	}

	csvPath := filepath.Join(t.TempDir(), "owners.csv")
	os.WriteFile(csvPath, []byte("id,owner\n# webhooks belong to the platform team\ngithub:northwind:github_webhook:*,@northwind/sre\n"), 0o600)
	r = nhi(t, []string{"NHI_REVIEWER=auditor@northwind.test"}, "owner", "import", "--db", db, csvPath)
	if r.code != 0 {
		t.Fatalf("owner import: %s%s", r.stdout, r.stderr)
	}
	if hooks := count("kind:webhook"); hooks == 0 || count("kind:webhook owner:@northwind/sre") != hooks {
		t.Errorf("import did not set every webhook's owner")
	}

	bad := filepath.Join(t.TempDir(), "bad.csv")
	os.WriteFile(bad, []byte("github:northwind:github_runner:*,@northwind/ci\nno-such-identity,alice\n"), 0o600)
	before := count("owner:@northwind/ci")
	r = nhi(t, []string{"NHI_REVIEWER=a"}, "owner", "import", "--db", db, bad)
	if r.code != 1 || !strings.Contains(r.stderr, "line 2 (no-such-identity)") {
		t.Errorf("import with an unmatched row: exit %d\n%s", r.code, r.stderr)
	}
	if count("owner:@northwind/ci") != before {
		t.Error("a failed import wrote some owners")
	}
	if r := nhi(t, nil, "verify", "--db", db); r.code != 0 {
		t.Errorf("verify after bulk assignments: %s", r.stdout)
	}
}

// TestNotesEndToEnd: notes added through the binary, one and by filter,
// read back in order with their author; refusals write nothing; the log
// still verifies.
func TestNotesEndToEnd(t *testing.T) {
	t.Parallel()
	db := demoCopy(t, "--history=false")
	r := nhi(t, nil, "identities", "--db", db, "--json", "--filter", "kind:runner")
	var runners []struct{ ID string }
	if err := json.Unmarshal([]byte(r.stdout), &runners); err != nil || len(runners) < 2 {
		t.Fatalf("runners: %v %s", err, r.stderr)
	}
	id := runners[0].ID
	// Event 1 is the demo's policy, then one record event per snapshot:
	// the sample AWS organisation's three accounts, the GitHub one and,
	// last, the Kubernetes cluster.
	const before = 1 + 3 + 1 + 1
	alice, bob := []string{"NHI_REVIEWER=alice@northwind.test"}, []string{"NHI_REVIEWER=bob@northwind.test"}
	if r := nhi(t, alice, "note", "add", "--db", db, id, "asked @northwind/ci in SEC-42"); r.code != 0 || !strings.Contains(r.stdout, fmt.Sprintf("(event %d, by alice@northwind.test)", before+1)) {
		t.Fatalf("note add: exit %d %s%s", r.code, r.stdout, r.stderr)
	}
	r = nhi(t, bob, "note", "add", "--db", db, "--filter", "kind:runner", "runners move to ephemeral ARC")
	if r.code != 0 || !strings.Contains(r.stdout, fmt.Sprintf("Noted on %d identities (events %d–%d", len(runners), before+2, len(runners)+before+1)) {
		t.Fatalf("note add --filter: exit %d %s%s", r.code, r.stdout, r.stderr)
	}
	for _, bad := range [][]string{
		{"note", "add", "--db", db, "github:northwind:nope", "x"},
		{"note", "add", "--db", db, id, "   "},
		{"note", "add", "--db", db, "--filter", "kind:nothing_like_this", "x"},
	} {
		if r := nhi(t, alice, bad...); r.code == 0 || r.stderr == "" {
			t.Errorf("%q: exit %d", bad, r.code)
		}
	}
	r = nhi(t, nil, "note", "list", "--db", db, "--json", id)
	var notes []struct {
		Seq   int64
		Actor string
		Text  string
	}
	if err := json.Unmarshal([]byte(r.stdout), &notes); err != nil {
		t.Fatal(err, r.stderr)
	}
	if len(notes) != 2 || notes[0].Actor != "alice@northwind.test" || notes[0].Text != "asked @northwind/ci in SEC-42" || notes[1].Seq != before+2 {
		t.Errorf("notes: %+v", notes)
	}
	if r := nhi(t, nil, "verify", "--db", db); r.code != 0 || !strings.Contains(r.stdout, fmt.Sprintf("%d events", len(runners)+before+1)) {
		t.Errorf("verify: exit %d %s%s", r.code, r.stdout, r.stderr)
	}
}

// TestDemoCampaignShowsRenamedItems: the demo's campaign froze the deploy
// keys of a repository its week renames; nhi campaign show flags them
// renamed and names each under its ID now ("was" the frozen one), and
// --json and -o csv give that ID as current_id, the item's ID unchanged.
func TestDemoCampaignShowsRenamedItems(t *testing.T) {
	t.Parallel()
	db := demoCopy(t)
	r := nhi(t, nil, "campaign", "show", "demo-deploy-keys", "--db", db)
	if r.code != 0 || !strings.Contains(r.stdout, " renamed ") ||
		!regexp.MustCompile(`Renamed since the campaign froze them \(\d+; nhi decide takes either ID\):\n  github:northwind:github_deploy_key:[a-z-]+-legacy/\d+ \(was github:northwind:github_deploy_key:[a-z-]+/\d+\)\n`).MatchString(r.stdout) {
		t.Errorf("campaign show: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = nhi(t, nil, "campaign", "show", "demo-deploy-keys", "--db", db, "--json")
	var show struct {
		Items []struct {
			ID        string `json:"id"`
			CurrentID string `json:"current_id"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &show); err != nil {
		t.Fatalf("campaign show --json: %v\n%s", err, r.stdout)
	}
	renamed := 0
	for _, it := range show.Items {
		if it.CurrentID != "" {
			renamed++
			if it.CurrentID == it.ID || !strings.Contains(it.CurrentID, "-legacy/") {
				t.Errorf("item %s: current_id %s", it.ID, it.CurrentID)
			}
		}
	}
	if renamed == 0 {
		t.Errorf("no item has a current_id:\n%s", r.stdout)
	}
	r = nhi(t, nil, "campaign", "show", "demo-deploy-keys", "--db", db, "-o", "csv")
	if lines := strings.Split(r.stdout, "\n"); !strings.HasSuffix(lines[0], ",current_id,carried_as,not_read") || strings.Count(r.stdout, "-legacy/") != renamed {
		t.Errorf("campaign show -o csv: %d renamed in the CSV, want %d:\n%s", strings.Count(r.stdout, "-legacy/"), renamed, r.stdout)
	}
	// The evidence bundle: the register flags them renamed; report.json
	// and the HTML name the ID now.
	out := filepath.Join(t.TempDir(), "bundle")
	if r := nhi(t, nil, "export", "demo-deploy-keys", "--out", out, "--db", db, "--as", "lead@northwind.test"); r.code != 0 {
		t.Fatalf("export: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	js, err := os.ReadFile(filepath.Join(out, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Register []struct {
			ID        string   `json:"id"`
			CurrentID string   `json:"current_id"`
			Flags     []string `json:"flags"`
		} `json:"decision_register"`
	}
	if err := json.Unmarshal(js, &rep); err != nil {
		t.Fatal(err)
	}
	inReport := 0
	for _, x := range rep.Register {
		if x.CurrentID != "" && slices.Contains(x.Flags, "renamed") && strings.Contains(x.CurrentID, "-legacy/") {
			inReport++
		}
	}
	html, err := os.ReadFile(filepath.Join(out, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	// In the register, and again among the decommissions (one of them).
	if inReport != renamed || strings.Count(string(html), "renamed: now ") != renamed+1 {
		t.Errorf("the bundle names %d renamed items in report.json and %d in report.html; want %d", inReport, strings.Count(string(html), "renamed: now "), renamed)
	}
}
