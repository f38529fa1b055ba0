package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAnEmptyAsNamesNoOne: --as given empty, as a script passes an empty
// variable (nhi decide … --as "$REVIEWER"), is a usage error naming the
// flag (exit 2), and nothing is written, where nhi took it for --as left
// out and recorded git's user.email, someone else, as having decided; so
// is export's --signer given empty, where the actor attested the report.
// An empty NHI_REVIEWER is unset, as docs/people.md says: git's
// user.email acts.
func TestAnEmptyAsNamesNoOne(t *testing.T) {
	t.Parallel()
	db := campaignDB(t, 3)
	git := filepath.Join(t.TempDir(), "gitconfig")
	if err := os.WriteFile(git, []byte("[user]\n\temail = someone-else@acme.test\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"GIT_CONFIG_GLOBAL=" + git, "GIT_CONFIG_NOSYSTEM=1"}
	ok(t, "campaign", "create", "q", "--scope", "id:*", "--due", due(30), "--reviewer", "rita", "--db", db, "--as", "lead")
	head := logHead(t, db)
	for _, args := range [][]string{
		{"decide", "q", keyID(1), "keep", "--reason", "deploys", "--db", db, "--as", ""},
		{"decide", "q", keyID(1), "keep", "--reason", "deploys", "--db", db, "--as= "},
		{"--as", "", "decide", "q", keyID(1), "keep", "--reason", "deploys", "--db", db},
		{"note", "add", keyID(1), "checked", "--db", db, "--as", ""},
	} {
		r := nhi(t, env, args...)
		if r.code != 2 || !strings.Contains(r.stderr, `for "--as" flag: an empty name is no one, and nhi puts no one else in its place`) {
			t.Errorf("nhi %q: exit %d, want 2 naming --as\n%s%s", args, r.code, r.stdout, r.stderr)
		}
	}
	if got := logHead(t, db); got != head {
		t.Errorf("an empty --as wrote: head %s, was %s", got, head)
	}
	// Nor does an empty --signer have the actor attest the report.
	out := filepath.Join(t.TempDir(), "bundle")
	r := nhi(t, env, "export", "q", "--out", out, "--signer", "", "--db", db)
	if r.code != 2 || !strings.Contains(r.stderr, `for "--signer" flag: an empty name is no one, and nhi puts no one else in its place: name someone, or leave --signer out`) {
		t.Errorf("export --signer \"\": exit %d, want 2 naming --signer\n%s%s", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("export --signer \"\" wrote %s: %v", out, err)
	}
	r = nhi(t, append(env, "NHI_REVIEWER="), "note", "add", keyID(1), "checked", "--db", db)
	if r.code != 0 || !strings.Contains(r.stdout, "by someone-else@acme.test)") {
		t.Errorf("an empty NHI_REVIEWER, unset: exit %d, want git's user.email to act\n%s%s", r.code, r.stdout, r.stderr)
	}
}
