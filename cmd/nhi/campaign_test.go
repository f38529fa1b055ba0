package main

import (
	"bufio"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
)

// campaignDB writes an evidence file with one complete snapshot of n deploy
// keys of github/acme (deployKey), closed and checkpointed as a finished
// nhi run leaves it.
func campaignDB(t *testing.T, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "nhi.db")
	e := campaignstest.Open(t, path, true)
	defer e.Store.Close()
	obs := make([]audit.Observation, n)
	for i := range obs {
		obs[i] = deployKey(i)
	}
	e.Snapshot(t, nil, obs...)
	return path
}

// deployKey is key i of github/acme: in repo r<i%5>, added by user<i%7>.
func deployKey(i int) audit.Observation {
	created := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	return audit.Observation{
		ID: keyID(i), Kind: audit.KindGitHubDeployKey, Name: fmt.Sprintf("key-%d", i), Scope: fmt.Sprintf("acme/r%d", i%5),
		CreatedAt: &created, RotatedAt: &created, Permissions: map[string]string{"contents": "read"},
		Attributes: map[string]string{"added_by": fmt.Sprintf("user%d", i%7)},
	}
}

func keyID(i int) string {
	return audit.IdentityID("github", "acme", audit.KindGitHubDeployKey, fmt.Sprintf("r%d/%d", i%5, i))
}

func due(days int) string { return time.Now().UTC().AddDate(0, 0, days).Format("2006-01-02") }

// ok runs nhi and fails the test unless it exits 0.
func ok(t *testing.T, args ...string) result {
	t.Helper()
	r := nhi(t, nil, args...)
	if r.code != 0 {
		t.Fatalf("nhi %s: exit %d\n%s%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

// refused runs nhi and checks it exits with code, saying says.
func refused(t *testing.T, code int, says string, args ...string) {
	t.Helper()
	r := nhi(t, nil, args...)
	if r.code != code || !strings.Contains(r.stderr, says) {
		t.Errorf("nhi %s: exit %d, want %d saying %q\n%s%s", strings.Join(args, " "), r.code, code, says, r.stdout, r.stderr)
	}
}

type shownItem struct {
	ID           string  `json:"id"`
	Reviewer     *string `json:"reviewer"`
	Decision     string  `json:"decision"`
	Reason       string  `json:"reason"`
	DecidedBy    *string `json:"decided_by"`
	DecidedAt    *string `json:"decided_at"`
	Verification *string `json:"verification"`
	Conflict     bool    `json:"conflict"`
	Assigned     bool    `json:"assigned"`
	Carried      *string `json:"carried"`
	History      []struct {
		Seq      int64  `json:"seq"`
		Decision string `json:"decision"`
		Actor    string `json:"actor"`
		Via      string `json:"via"`
	} `json:"history"`
}

type shown struct {
	Name   string      `json:"name"`
	Status string      `json:"status"`
	Due    string      `json:"due"`
	Items  []shownItem `json:"items"`
	raw    map[string]any
}

func show(t *testing.T, db, name string) shown {
	t.Helper()
	r := ok(t, "campaign", "show", name, "--json", "--db", db)
	var s shown
	if err := json.Unmarshal([]byte(r.stdout), &s); err != nil {
		t.Fatalf("show --json: %v\n%s", err, r.stdout)
	}
	json.Unmarshal([]byte(r.stdout), &s.raw)
	return s
}

func (s shown) item(t *testing.T, id string) shownItem {
	t.Helper()
	for _, it := range s.Items {
		if it.ID == id {
			return it
		}
	}
	t.Fatalf("campaign %s has no item %s", s.Name, id)
	return shownItem{}
}

func TestCampaignLifecycle(t *testing.T) {
	t.Parallel()
	db := campaignDB(t, 10)
	dir := t.TempDir()
	rmap := filepath.Join(dir, "owners.csv")
	os.WriteFile(rmap, []byte("owner,reviewer\nuser0,rita@acme.test\n"), 0o600)
	lead := []string{"--db", db, "--as", "lead@acme.test"}
	dueDate := due(30)

	// Refusals first: nothing is created by any of them.
	refused(t, 2, "^", append([]string{"campaign", "create", "q", "--scope", "ownr:x", "--due", dueDate, "--reviewer", "rita"}, lead...)...)
	refused(t, 2, "--scope is required", append([]string{"campaign", "create", "q", "--due", dueDate, "--reviewer", "rita"}, lead...)...)
	refused(t, 1, "matches none", append([]string{"campaign", "create", "q", "--scope", "kind:runner", "--due", dueDate, "--reviewer", "rita"}, lead...)...)
	refused(t, 2, "YYYY-MM-DD", append([]string{"campaign", "create", "q", "--scope", "id:*", "--due", "next week", "--reviewer", "rita"}, lead...)...)
	refused(t, 2, "before today", append([]string{"campaign", "create", "q", "--scope", "id:*", "--due", "2020-01-01", "--reviewer", "rita"}, lead...)...)
	refused(t, 2, "--reviewer is required", append([]string{"campaign", "create", "q", "--scope", "id:*", "--due", dueDate}, lead...)...)
	if r := ok(t, "campaign", "list", "--db", db); !strings.Contains(r.stdout, "No campaigns yet") {
		t.Fatalf("refusals created a campaign:\n%s", r.stdout)
	}

	r := ok(t, append([]string{"campaign", "create", "q", "--scope", "kind:deploy_key", "--due", dueDate,
		"--reviewer", "sam@acme.test,tom@acme.test", "--reviewer-map", rmap}, lead...)...)
	if !strings.Contains(r.stdout, "Created campaign q") || !strings.Contains(r.stdout, "10 identities") || !strings.Contains(r.stdout, "population  sha256:") {
		t.Fatalf("create said:\n%s", r.stdout)
	}
	refused(t, 1, "already exists", append([]string{"campaign", "create", "q", "--scope", "id:*", "--due", dueDate, "--reviewer", "x"}, lead...)...)

	s := show(t, db, "q")
	if s.Name != "q" || s.Status != "open" || s.Due != dueDate || len(s.Items) != 10 {
		t.Fatalf("show --json: %+v", s)
	}
	for _, field := range []string{"name", "status", "due", "items", "population_digest", "policy_digest", "reviewer_progress", "overdue"} {
		if _, ok := s.raw[field]; !ok {
			t.Errorf("show --json lacks %q", field)
		}
	}
	for _, raw := range s.raw["items"].([]any) {
		for _, field := range []string{"id", "reviewer", "decision", "reason", "decided_by", "decided_at", "verification", "conflict", "history"} {
			if _, ok := raw.(map[string]any)[field]; !ok {
				t.Fatalf("item lacks %q: %v", field, raw)
			}
		}
	}
	if it := s.item(t, keyID(0)); *it.Reviewer != "rita@acme.test" || it.Decision != "pending" || it.DecidedBy != nil || it.Verification != nil {
		t.Errorf("mapped item %+v", it)
	}

	// Decisions: self-review, justification, usage errors.
	k1, k2, k3 := keyID(1), keyID(2), keyID(3)
	refused(t, 1, "may not decide an identity they own", "decide", "q", k1, "decommission", "--db", db, "--as", "@USER1")
	refused(t, 1, "needs --reason", "decide", "q", k1, "keep", "--db", db, "--as", "sam@acme.test")
	refused(t, 2, "decommission, keep or rotate", "decide", "q", k1, "approve", "--db", db, "--as", "sam@acme.test")
	refused(t, 1, "not in the population", "decide", "q", "github:acme:nope", "keep", "--db", db, "--as", "sam@acme.test")
	refused(t, 1, "no such campaign", "decide", "nope", k1, "keep", "--db", db, "--as", "sam@acme.test")
	refused(t, 2, "expected CAMPAIGN ID DECISION, got 2 arguments", "decide", "q", k1, "--db", db, "--as", "sam@acme.test")

	assigned := *s.item(t, k1).Reviewer
	ok(t, "decide", "q", k1, "decommission", "--db", db, "--as", assigned)
	r = ok(t, "decide", "q", k1, "keep", "--reason", "CI needs it", "--db", db, "--as", "vic@acme.test")
	if !strings.Contains(r.stdout, "outside the assignment") || !strings.Contains(r.stdout, "conflict") {
		t.Errorf("override said:\n%s", r.stdout)
	}
	// sam decides items of other reviewers: only with --all-reviewers.
	r = ok(t, "decide", "q", "--filter", "scope:acme/r2", "decommission", "--reason", "repo archived", "--all-reviewers", "--db", db, "--as", "sam@acme.test")
	if !strings.Contains(r.stdout, "Decided decommission on 2 items") {
		t.Errorf("bulk said:\n%s", r.stdout)
	}
	refused(t, 2, "^", "decide", "q", "--filter", "scope:", "keep", "--reason", "x", "--db", db, "--as", "sam@acme.test")
	ok(t, "decide", "q", k3, "rotate", "--reason", "shared with vendor", "--db", db, "--as", "sam@acme.test")
	undone := show(t, db, "q").item(t, k3).History[0].Seq
	r = ok(t, "decide", "q", "--undo", fmt.Sprint(undone), "--db", db, "--as", "sam@acme.test")
	if !strings.Contains(r.stdout, "back to pending") {
		t.Errorf("undo said:\n%s", r.stdout)
	}

	s = show(t, db, "q")
	it := s.item(t, k1)
	if it.Decision != "keep" || *it.DecidedBy != "vic@acme.test" || !it.Conflict || it.Assigned || len(it.History) != 2 || it.Reason != "CI needs it" {
		t.Errorf("overridden item %+v", it)
	}
	if it := s.item(t, k2); it.Decision != "decommission" || it.History[0].Via != "bulk" {
		t.Errorf("bulk item %+v", it)
	}
	if it := s.item(t, k3); it.Decision != "pending" || len(it.History) != 2 || it.History[1].Via != "undo" {
		t.Errorf("undone item %+v", it)
	}
	r = ok(t, "campaign", "show", "q", "--db", db)
	for _, want := range []string{"Progress: 3/10 decided", "not-assignee,conflict", "REVIEWER", "rita@acme.test"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("show does not say %q:\n%s", want, r.stdout)
		}
	}

	// Sample: the same for the same seed, from the binary and by hand.
	a1 := ok(t, "campaign", "sample", "q", "--size", "4", "--seed", "ext-audit", "--db", db, "--json")
	a2 := ok(t, "campaign", "sample", "q", "--size", "4", "--seed", "ext-audit", "--db", db, "--json")
	b := ok(t, "campaign", "sample", "q", "--size", "4", "--seed", "other", "--db", db, "--json")
	if a1.stdout != a2.stdout || a1.stdout == b.stdout {
		t.Errorf("sample not reproducible:\n%s\n%s", a1.stdout, b.stdout)
	}
	refused(t, 2, "--seed", "campaign", "sample", "q", "--size", "4", "--db", db)

	r = ok(t, "campaign", "close", "q", "--yes", "--db", db, "--as", "lead@acme.test")
	if !strings.Contains(r.stdout, "3 decided, 7 no-response") {
		t.Errorf("close said:\n%s", r.stdout)
	}
	refused(t, 1, "closed", "decide", "q", k3, "decommission", "--db", db, "--as", "sam@acme.test")
	if it := show(t, db, "q").item(t, k3); it.Decision != "no-response" {
		t.Errorf("undecided at close: %+v", it)
	}
	if r = ok(t, "campaign", "list", "--db", db); !strings.Contains(r.stdout, "closed") {
		t.Errorf("list:\n%s", r.stdout)
	}

	// Next quarter, carried forward: k1 (keep, unchanged) is carried.
	ok(t, append([]string{"campaign", "create", "q2", "--scope", "id:*", "--due", due(60), "--reviewer", "sam@acme.test", "--carry-forward", "q"}, lead...)...)
	if it := show(t, db, "q2").item(t, k1); it.Decision != "carried" || *it.Carried != "keep" {
		t.Errorf("carried item %+v", it)
	}
	refused(t, 1, "needs --reason", "decide", "q2", "--confirm-carried", "--db", db, "--as", "sam@acme.test")
	r = ok(t, "decide", "q2", "--confirm-carried", "--reason", "unchanged", "--db", db, "--as", "sam@acme.test")
	if !strings.Contains(r.stdout, "Confirmed 1 carried") {
		t.Errorf("confirm said:\n%s", r.stdout)
	}

	if r = ok(t, "verify", "--db", db); !strings.Contains(r.stdout, "campaigns match the log") {
		t.Errorf("verify:\n%s", r.stdout)
	}
	// Someone turns vic's keep into a decommission with the sqlite3 shell.
	tamper(t, db, `UPDATE campaign_items SET decision = 'decommission' WHERE identity_id = ? AND campaign_id = 1`, k1)
	r = nhi(t, nil, "verify", "--db", db)
	if r.code != 1 || !strings.Contains(r.stderr, "campaign q: item "+k1) || !strings.Contains(r.stderr, `decision is "decommission" in the table but "keep"`) {
		t.Errorf("verify of an edited decision: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	tamper(t, db, `UPDATE campaign_items SET decision = 'keep' WHERE identity_id = ? AND campaign_id = 1`, k1)
	tamper(t, db, `UPDATE campaign_items SET reviewer = 'mallory' WHERE identity_id = ? AND campaign_id = 2`, k2)
	r = nhi(t, nil, "verify", "--db", db)
	if r.code != 1 || !strings.Contains(r.stderr, "campaign q2: item "+k2+" was edited after creation") {
		t.Errorf("verify of an edited item: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func tamper(t *testing.T, db, q string, args ...any) {
	t.Helper()
	h, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if _, err := h.Exec(q, args...); err != nil {
		t.Fatal(err)
	}
}

// Four reviewers decide 100 items each at the same time from four
// processes on one file, and all four also decide one shared item.
func TestConcurrentReviewersLoseNothing(t *testing.T) {
	t.Parallel()
	const procs, each = 4, 100
	db := campaignDB(t, procs*each+1)
	ok(t, "campaign", "create", "q", "--scope", "id:*", "--due", due(30), "--reviewer", "r0,r1,r2,r3", "--db", db, "--as", "lead")
	shared := keyID(0)
	var wg sync.WaitGroup
	outs := make([]result, procs)
	for p := range procs {
		var in strings.Builder
		for i := 1 + p*each; i <= (p+1)*each; i++ {
			fmt.Fprintf(&in, "%s,decommission\n", keyID(i))
		}
		fmt.Fprintf(&in, "%s,keep,seen by r%d\n", shared, p)
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(nhiBinary(t), "decide", "q", "--batch", "-", "--db", db, "--as", fmt.Sprintf("r%d", p))
			cmd.Env = append(os.Environ(), "NHI_DB=", "NHI_REVIEWER=")
			cmd.Stdin = strings.NewReader(in.String())
			var stdout, stderr strings.Builder
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			outs[p] = result{stdout.String(), stderr.String(), cmd.ProcessState.ExitCode()}
			if err != nil {
				outs[p].code = -1
			}
		}()
	}
	wg.Wait()
	seqs := map[string]bool{}
	for p, r := range outs {
		if r.code != 0 || strings.Contains(r.stderr, "locked") || strings.Contains(r.stderr, "busy") {
			t.Fatalf("reviewer %d: exit %d\n%s", p, r.code, r.stderr)
		}
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		if len(lines) != each+1 {
			t.Errorf("reviewer %d: %d ok lines, want %d", p, len(lines), each+1)
		}
		for _, l := range lines {
			seqs[strings.Fields(l)[1]] = true
		}
	}
	if len(seqs) != procs*(each+1) {
		t.Errorf("%d distinct events reported, want %d", len(seqs), procs*(each+1))
	}
	s := show(t, db, "q")
	decided := 0
	for _, it := range s.Items {
		for _, h := range it.History {
			if !seqs[fmt.Sprint(h.Seq)] {
				t.Errorf("%s: event %d in the history was never reported", it.ID, h.Seq)
			}
			delete(seqs, fmt.Sprint(h.Seq))
		}
		if it.Decision != "pending" {
			decided++
		}
	}
	if len(seqs) != 0 {
		t.Errorf("%d reported decisions are missing from the histories", len(seqs))
	}
	if decided != procs*each+1 {
		t.Errorf("%d items decided, want %d", decided, procs*each+1)
	}
	if it := s.item(t, shared); len(it.History) != procs || !it.Conflict {
		t.Errorf("the shared item: %d decisions, conflict %v", len(it.History), it.Conflict)
	}
	if r := ok(t, "verify", "--db", db); !strings.HasPrefix(r.stdout, "OK") {
		t.Errorf("verify:\n%s", r.stdout)
	}
}

// A reviewer's batch is killed with SIGKILL mid-stream: every decision it
// reported as recorded is in the file, and the file verifies.
func TestDecisionsSurviveKill9(t *testing.T) {
	const n = 300
	db := campaignDB(t, n)
	ok(t, "campaign", "create", "q", "--scope", "id:*", "--due", due(30), "--reviewer", "rita", "--db", db, "--as", "lead")
	cmd := exec.Command(nhiBinary(t), "decide", "q", "--batch", "-", "--db", db, "--as", "rita")
	cmd.Env = append(os.Environ(), "NHI_DB=", "NHI_REVIEWER=")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		for i := range n {
			if _, err := fmt.Fprintf(stdin, "%s,decommission\n", keyID(i)); err != nil {
				return // killed
			}
		}
		// stdin stays open: the child waits for more until it is killed.
	}()
	reported := map[string]string{} // id -> seq
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 4 && f[0] == "ok" {
			reported[f[2]] = f[1]
		}
		if len(reported) == 60 {
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	// What the child printed before it died counts too.
	rest, _ := io.ReadAll(stdout)
	for _, l := range strings.Split(string(rest), "\n") {
		if f := strings.Fields(l); len(f) == 4 && f[0] == "ok" {
			reported[f[2]] = f[1]
		}
	}
	cmd.Wait()
	stdin.Close()
	if st := cmd.ProcessState.Sys().(syscall.WaitStatus); !st.Signaled() || st.Signal() != syscall.SIGKILL {
		t.Fatalf("child was not killed mid-stream: %v", cmd.ProcessState)
	}
	if len(reported) >= n {
		t.Fatalf("the child finished all %d before the kill", n)
	}
	s := show(t, db, "q")
	decided := 0
	for _, it := range s.Items {
		if seq, ok := reported[it.ID]; ok {
			if it.Decision != "decommission" || len(it.History) != 1 || fmt.Sprint(it.History[0].Seq) != seq {
				t.Errorf("%s was reported recorded (event %s) but reads %+v", it.ID, seq, it)
			}
		}
		if it.Decision != "pending" {
			decided++
		}
	}
	if decided < len(reported) {
		t.Errorf("%d decided, %d reported", decided, len(reported))
	}
	if r := ok(t, "verify", "--db", db); !strings.HasPrefix(r.stdout, "OK") {
		t.Errorf("verify after kill -9:\n%s", r.stdout)
	}
	// The same file takes the rest: nothing is stuck.
	ok(t, "decide", "q", keyID(n-1), "decommission", "--db", db, "--as", "rita")
}
