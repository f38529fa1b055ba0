package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/connectors/github/githubtest"
)

// attack edits the file as someone with the sqlite3 shell would: the
// triggers that stop accidents dropped, foreign keys off (the default).
func attack(t *testing.T, db string, stmts ...string) {
	t.Helper()
	h, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	for _, trig := range []string{"events_no_update", "events_no_delete", "observations_no_update", "observations_no_delete", "snapshots_finished", "snapshots_no_delete", "principals_no_update"} {
		if _, err := h.Exec("DROP TRIGGER IF EXISTS " + trig); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range stmts {
		if _, err := h.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// rewriteChain edits event seq's payload and recomputes every hash from
// it on, and the head the file records: what someone who read how the
// chain is hashed (docs/verify.md) can do.
func rewriteChain(t *testing.T, db string, seq int64, from, to string) {
	t.Helper()
	attack(t, db, `UPDATE events SET payload = replace(payload, '`+from+`', '`+to+`') WHERE seq = `+itoa(seq))
	h, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	var n int
	if h.QueryRow(`SELECT count(*) FROM events WHERE seq = ? AND instr(payload, ?) > 0`, seq, to).Scan(&n); n != 1 {
		t.Fatalf("event %d holds no %q to rewrite", seq, from)
	}
	rows, err := h.Query(`SELECT seq, at, actor, type, payload FROM events WHERE seq >= ? ORDER BY seq`, seq)
	if err != nil {
		t.Fatal(err)
	}
	type ev struct {
		seq                     int64
		at, actor, typ, payload string
	}
	var evs []ev
	for rows.Next() {
		var e ev
		rows.Scan(&e.seq, &e.at, &e.actor, &e.typ, &e.payload)
		evs = append(evs, e)
	}
	rows.Close()
	var prev string
	if err := h.QueryRow(`SELECT prev_hash FROM events WHERE seq = ?`, seq).Scan(&prev); err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		var rec bytes.Buffer
		enc := json.NewEncoder(&rec)
		enc.SetEscapeHTML(false)
		enc.Encode([]any{e.seq, e.at, e.actor, e.typ, json.RawMessage(e.payload)})
		sum := sha256.Sum256(append([]byte(prev), rec.Bytes()...))
		hash := hex.EncodeToString(sum[:])
		if _, err := h.Exec(`UPDATE events SET prev_hash = ?, hash = ? WHERE seq = ?`, prev, hash, e.seq); err != nil {
			t.Fatal(err)
		}
		prev = hash
	}
	if _, err := h.Exec(`UPDATE meta SET value = ? WHERE key = 'log_head'`, prev); err != nil {
		t.Fatal(err)
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

// githubDB is an evidence file with one partial snapshot of the sample
// organisation read with a token (two endpoints not readable), and the
// server, still running, for more snapshots.
func githubDB(t *testing.T, repos int) (string, *githubtest.Server, []string) {
	t.Helper()
	srv := githubtest.NewServer(githubtest.SampleOrg(repos))
	t.Cleanup(srv.Close)
	db := filepath.Join(t.TempDir(), "nhi.db")
	env := []string{"GITHUB_TOKEN=" + srv.Token()}
	if r := nhi(t, env, "snapshot", "github", "--org", "northwind", "--api-url", srv.URL(), "--db", db); r.code != 0 {
		t.Fatalf("snapshot: %s%s", r.stdout, r.stderr)
	}
	return db, srv, env
}

func copyFile(t *testing.T, from string) string {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	to := filepath.Join(t.TempDir(), "copy.db")
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return to
}

// TestVerifyCatchesEvidenceEdits: each edit the issue found verify passing
// now fails it, naming what changed.
func TestVerifyCatchesEvidenceEdits(t *testing.T) {
	t.Parallel()
	base, _, _ := githubDB(t, 4)
	ok(t, "campaign", "create", "q4", "--scope", "kind:deploy_key", "--due", due(30), "--reviewer", "alice", "--allow-partial", "--db", base, "--as", "lead")
	if r := nhi(t, nil, "verify", "--db", base); r.code != 0 {
		t.Fatalf("verify before any edit: %s%s", r.stdout, r.stderr)
	}
	for _, c := range []struct {
		name  string
		stmts []string
		says  string
	}{
		{"partial made complete, gaps deleted", []string{`UPDATE snapshots SET status = 'complete'`, `DELETE FROM snapshot_gaps`}, `snapshot 1: its status is "complete" but its record says "partial"`},
		{"credential edited", []string{`UPDATE snapshots SET credential = 'someone else'`}, `snapshot 1: its credential is "someone else" but its record says "nhi-auditor`},
		{"API URL edited", []string{`UPDATE snapshots SET api_url = 'https://api.github.com/'`}, `snapshot 1: its API URL is "https://api.github.com/"`},
		{"times edited", []string{`UPDATE snapshots SET finished_at = '2020-01-01T00:00:00Z'`}, `snapshot 1: its finish time is "2020-01-01T00:00:00Z"`},
		{"snapshot deleted", []string{`DELETE FROM observations`, `DELETE FROM snapshot_gaps`, `DELETE FROM principals`, `DELETE FROM snapshots`}, "snapshot 1, recorded by event 1, is missing from the file: it was deleted"},
		{"identities deleted", []string{`DELETE FROM identities WHERE kind = 'github_actions_secret'`}, "identities the snapshots observed are missing from the table (rows were deleted)"},
		{"principals edited", []string{`UPDATE principals SET login = 'ghost' WHERE type = 'member' AND login = (SELECT min(login) FROM principals WHERE type = 'member')`}, "snapshot 1: its principals (members, teams, collaborators, CODEOWNERS)"},
		{"principals deleted", []string{`DELETE FROM principals WHERE type = 'member'`}, "snapshot 1: its principals (members, teams, collaborators, CODEOWNERS)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			db := copyFile(t, base)
			attack(t, db, c.stmts...)
			r := nhi(t, nil, "verify", "--db", db)
			if r.code != 1 || !strings.Contains(r.stdout, c.says) {
				t.Errorf("verify: exit %d; want 1 naming %q:\n%s%s", r.code, c.says, r.stdout, r.stderr)
			}
		})
	}
}

// TestTamperedCacheNeverRemovesAnIdentity: a request-cache entry edited to
// drop an identity is not replayed on the 304 it gets: the next snapshot
// still has the identity, and verify names the edited entry until then.
func TestTamperedCacheNeverRemovesAnIdentity(t *testing.T) {
	t.Parallel()
	db, srv, env := githubDB(t, 4)
	h, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	var key string
	var value []byte
	if err := h.QueryRow(`SELECT key, value FROM http_cache WHERE key LIKE '% org:actions-secrets'`).Scan(&key, &value); err != nil {
		t.Fatal(err)
	}
	h.Close()
	var bundle map[string]json.RawMessage
	var pages map[string]struct {
		ETag string `json:"etag"`
		Page struct {
			Obs []map[string]any `json:"obs"`
		} `json:"page"`
	}
	if err := json.Unmarshal(value, &bundle); err != nil {
		t.Fatal(err)
	}
	var rawPages map[string]map[string]json.RawMessage
	json.Unmarshal(bundle["pages"], &pages)
	json.Unmarshal(bundle["pages"], &rawPages)
	dropped := ""
	for u, p := range pages {
		if len(p.Page.Obs) > 0 {
			dropped = p.Page.Obs[0]["ID"].(string)
			var page map[string]json.RawMessage
			json.Unmarshal(rawPages[u]["page"], &page)
			obs, _ := json.Marshal(p.Page.Obs[1:])
			page["obs"] = obs
			rawPages[u]["page"], _ = json.Marshal(page)
			break
		}
	}
	if dropped == "" {
		t.Fatalf("no page with an identity in %s", key)
	}
	bundle["pages"], _ = json.Marshal(rawPages)
	edited, _ := json.Marshal(bundle)
	h, _ = sql.Open("sqlite", db)
	if _, err := h.Exec(`UPDATE http_cache SET value = ? WHERE key = ?`, edited, key); err != nil {
		t.Fatal(err)
	}
	h.Close()

	r := nhi(t, nil, "verify", "--db", db)
	if r.code != 1 || !strings.Contains(r.stdout, "request cache: the entry \""+key+"\" differs from what snapshot 1 recorded") {
		t.Errorf("verify of an edited cache: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := nhi(t, env, "snapshot", "github", "--org", "northwind", "--api-url", srv.URL(), "--db", db); r.code != 0 {
		t.Fatalf("second snapshot: %s%s", r.stdout, r.stderr)
	}
	found := false
	for _, line := range ids(t, db) {
		if line == dropped+" active" {
			found = true
		}
		if strings.HasSuffix(line, " removed") {
			t.Errorf("after the edited cache, %s", line)
		}
	}
	if !found {
		t.Errorf("%s is not active after the second snapshot", dropped)
	}
	if r := nhi(t, nil, "verify", "--db", db); r.code != 0 {
		t.Errorf("verify after the cache was read again: %s%s", r.stdout, r.stderr)
	}
}

// TestVerifyHeadCatchesAFullRewrite: an event edited and every hash after
// it recomputed passes plain verify (the chain is intact again), but not
// verify --head with a head recorded earlier, pasted or in a file.
func TestVerifyHeadCatchesAFullRewrite(t *testing.T) {
	t.Parallel()
	db, _, _ := githubDB(t, 2)
	id := strings.Fields(ids(t, db)[0])[0]
	ok(t, "owner", "set", id, "alice@acme.test", "--db", db, "--as", "lead")
	r := ok(t, "log", "head", "--db", db)
	head := strings.TrimSpace(r.stdout)
	if !strings.HasPrefix(head, "2:") || len(head) != 2+64 || !strings.Contains(r.stderr, "nhi verify --head "+head) {
		t.Fatalf("log head: %q %q", r.stdout, r.stderr)
	}
	headFile := filepath.Join(t.TempDir(), "head.txt")
	os.WriteFile(headFile, []byte(r.stdout), 0o600)
	ok(t, "owner", "set", id, "bob@acme.test", "--db", db, "--as", "lead")
	if r := ok(t, "verify", "--db", db, "--head", head); !strings.Contains(r.stdout, "OK the log still extends the head recorded earlier (") {
		t.Errorf("verify --head before the rewrite: %s", r.stdout)
	}

	rewriteChain(t, db, 2, "alice@acme.test", "mallory@evil.test")
	attack(t, db, `UPDATE owners SET owner = 'bob@acme.test'`) // the projection stays consistent
	if r := nhi(t, nil, "verify", "--db", db); r.code != 0 || !strings.Contains(r.stdout, "Not checked: a rewrite of the whole log") {
		t.Fatalf("plain verify of a rewritten chain: exit %d %s%s", r.code, r.stdout, r.stderr)
	}
	for _, args := range [][]string{{"--head", head}, {"--head-file", headFile}} {
		r := nhi(t, nil, append([]string{"verify", "--db", db}, args...)...)
		if r.code != 1 || !strings.Contains(r.stdout, "anchored head: event 2 (owner.set by lead at ") || !strings.Contains(r.stdout, "the log was rewritten at or before event 2") {
			t.Errorf("verify %s: exit %d\n%s%s", args[0], r.code, r.stdout, r.stderr)
		}
	}
	for _, bad := range []string{"nope", "0:" + strings.Repeat("a", 64)} {
		if r := nhi(t, nil, "verify", "--db", db, "--head", bad); r.code != 2 {
			t.Errorf("--head %q: exit %d %s", bad, r.code, r.stderr)
		}
	}
}

// TestVerifyOldFile: a file an earlier nhi wrote, without snapshot records,
// still verifies, and verify says which snapshots are in the old form.
func TestVerifyOldFile(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("..", "..", "campaigns", "testdata", "schema-v3.db"))
	if err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(t.TempDir(), "old.db")
	os.WriteFile(db, b, 0o600)
	st, err := audit.Open(context.Background(), db, audit.OpenOptions{}) // migrates, as any write does
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	r := ok(t, "verify", "--db", db)
	if !strings.Contains(r.stdout, "Old form: snapshot 1 finished before nhi recorded snapshots in the log") {
		t.Errorf("verify of an old file:\n%s", r.stdout)
	}
}

// TestVerifyReportCatchesAFullRewrite: the head an exported bundle
// carries catches a rewrite of the chain that plain verify cannot.
func TestVerifyReportCatchesAFullRewrite(t *testing.T) {
	t.Parallel()
	db := reportDB(t)
	out := filepath.Join(t.TempDir(), "evidence")
	ok(t, "export", "q", "--out", out, "--db", db, "--as", "lead")
	ok(t, "verify", "--report", out, "--db", db)
	rewriteChain(t, db, 3, "gone", "kept")
	// and the tables the event implies, so that they agree with it
	attack(t, db, `UPDATE campaign_items SET reason = replace(reason, 'gone', 'kept')`, `UPDATE campaign_decisions SET reason = replace(reason, 'gone', 'kept')`)
	if r := nhi(t, nil, "verify", "--db", db); r.code != 0 {
		t.Fatalf("plain verify of the rewritten chain: %s%s", r.stdout, r.stderr)
	}
	r := nhi(t, nil, "verify", "--report", out, "--db", db)
	if r.code != 1 || !strings.Contains(r.stdout, "FAIL evidence file: event ") || !strings.Contains(r.stdout, "but manifest.json says") {
		t.Errorf("verify --report of a rewritten chain: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := nhi(t, nil, "verify", "--db", db, "--head-file", filepath.Join(out, "manifest.json")); r.code != 1 || !strings.Contains(r.stdout, "anchored head: event ") {
		t.Errorf("verify --head-file manifest.json of a rewritten chain: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
