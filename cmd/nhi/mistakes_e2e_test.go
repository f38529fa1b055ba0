package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// logHead is the evidence file's head as nhi log head prints it (SEQ:HASH).
func logHead(t *testing.T, db string) string {
	t.Helper()
	return strings.TrimSpace(ok(t, "log", "head", "--db", db).stdout)
}

// TestSmallMistakesOfIssue15: each was reproduced in issue 15. A note's
// words need no quotes; a policy set twice is one event; a diff backwards
// is a usage error that changes nothing.
func TestSmallMistakesOfIssue15(t *testing.T) {
	t.Parallel()
	db := campaignDB(t, 3)

	ok(t, "note", "add", keyID(1), "asked", "bob", "too", "--db", db, "--as", "alice")
	if r := ok(t, "note", "list", keyID(1), "--db", db); !strings.Contains(r.stdout, "\n    asked bob too\n") {
		t.Errorf("the note is not the rest of the line:\n%s", r.stdout)
	}
	ok(t, "note", "add", "--filter", "scope:acme/r2", "rotate", "in", "Q1", "--db", db, "--as", "alice")
	if r := ok(t, "note", "list", keyID(2), "--db", db); !strings.Contains(r.stdout, "\n    rotate in Q1\n") {
		t.Errorf("the filtered note is not the rest of the line:\n%s", r.stdout)
	}

	f := filepath.Join(t.TempDir(), "policy.yaml")
	os.WriteFile(f, []byte(ok(t, "policy", "show", "--db", db).stdout), 0o600)
	ok(t, "policy", "set", f, "--db", db, "--as", "lead")
	head := logHead(t, db)
	if r := ok(t, "policy", "set", f, "--db", db, "--as", "lead"); !strings.Contains(r.stdout, "already in force; nothing was written") {
		t.Errorf("the same policy again says:\n%s", r.stdout)
	}
	if got := logHead(t, db); got != head {
		t.Errorf("the same policy again wrote an event: head %s, was %s", got, head)
	}

	refused(t, 2, "--from 2 is not older than --to 1", "diff", "--from", "2", "--to", "1", "--db", db)
	refused(t, 2, "--from 1 is not older than --to 1", "diff", "--from", "1", "--to", "1", "--db", db)

	// A missing argument names the arguments wanted, not only how many.
	refused(t, 2, "accepts 1 argument, received 0: the usage is nhi note list ID", "note", "list", "--db", db)
	refused(t, 2, "accepts 1 argument, received 0: the usage is nhi exception list CAMPAIGN", "exception", "list", "--db", db)
}

// TestDecideAgainAndUndoAgain: the same decision twice writes nothing and
// says when it was made; undoing an undone decision names the undo and who
// did it (issue 15: "a later decision (event 0,  by ) replaced it").
func TestDecideAgainAndUndoAgain(t *testing.T) {
	t.Parallel()
	db := campaignDB(t, 3)
	ok(t, "campaign", "create", "q", "--scope", "id:*", "--due", due(30), "--reviewer", "rita", "--db", db, "--as", "lead")
	rita := []string{"--db", db, "--as", "rita"}
	first := ok(t, append([]string{"decide", "q", keyID(1), "keep", "--reason", "deploys"}, rita...)...)
	head := logHead(t, db)
	r := ok(t, append([]string{"decide", "q", keyID(1), "keep"}, rita...)...)
	if !strings.Contains(r.stdout, "Nothing was written: "+keyID(1)+" is already decided keep by you at ") {
		t.Errorf("deciding again says:\n%s", r.stdout)
	}
	if got := logHead(t, db); got != head {
		t.Errorf("deciding again wrote an event (head %s, was %s)", got, head)
	}
	seq := strings.Fields(first.stdout[strings.Index(first.stdout, "(event "):])[1]
	seq = strings.TrimSuffix(seq, ",")
	u := ok(t, append([]string{"decide", "q", "--undo", seq}, rita...)...)
	undo := strings.Fields(u.stdout[strings.LastIndex(u.stdout, "(event "):])[1]
	refused(t, 1, `no such campaign "Q"; did you mean "q"?`, "campaign", "show", "Q", "--db", db)
	refused(t, 1, "it was already undone by event "+strings.TrimSuffix(undo, ",")+" (by rita at ", append([]string{"decide", "q", "--undo", seq}, rita...)...)
}

// TestCampaignCreateNamesTheFlagItLacks: a campaign create without
// --scope, --due or --reviewer, which its usage line asks for, is a
// usage error (exit 2) naming the flag, where a missing --due said
// `bad due date ""` and a missing --scope or --reviewer exited 1.
func TestCampaignCreateNamesTheFlagItLacks(t *testing.T) {
	t.Parallel()
	db := campaignDB(t, 3)
	head := logHead(t, db)
	for _, c := range []struct {
		args []string
		says string
	}{
		{[]string{"--due", due(30), "--reviewer", "rita"}, "nhi: --scope is required: say which identities to review"},
		{[]string{"--scope", " ", "--due", due(30), "--reviewer", "rita"}, "nhi: --scope is required"},
		{[]string{"--scope", "id:*", "--reviewer", "rita"}, "nhi: --due is required: the day the review is due, YYYY-MM-DD\nRun 'nhi campaign create --help' for usage.\n"},
		{[]string{"--scope", "id:*", "--due", due(30)}, "nhi: --reviewer is required: name at least one"},
	} {
		refused(t, 2, c.says, append([]string{"campaign", "create", "q", "--db", db, "--as", "lead"}, c.args...)...)
	}
	if got := logHead(t, db); got != head {
		t.Errorf("a refused create wrote: head %s, was %s", got, head)
	}
}

// TestAWordACommandDoesNotTake: a word after a command that takes no
// arguments is named as one it does not take, where cobra called it an
// "unknown command" of a command that has none; a filter typed without
// --filter is shown with it.
func TestAWordACommandDoesNotTake(t *testing.T) {
	t.Parallel()
	db := campaignDB(t, 3)
	refused(t, 2, `nhi: nhi identities takes no arguments, and was given "kind:deploy_key"; to select identities, pass the filter as --filter 'kind:deploy_key owner:none'`+"\nRun 'nhi identities --help' for usage.\n",
		"identities", "kind:deploy_key", "owner:none", "--db", db)
	refused(t, 2, `nhi: nhi log head takes no arguments, and was given "now"`+"\n", "log", "head", "now", "--db", db)
	// A command with subcommands still names the word an unknown command.
	refused(t, 2, `nhi: unknown command "shw" for "nhi snapshots"; did you mean show?`, "snapshots", "shw", "--db", db)
}

// TestUnreadablePostgresURL: a --db URL nhi cannot read is a mistake in
// the call (exit 2), said in nhi's words: what is wrong with it and what a
// URL looks like, never a piece of its password, where it exited 1 with
// the driver's error, which quoted the part of the URL after a / in the
// password ("ss@ho st/db" of p/ss).
func TestUnreadablePostgresURL(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ url, why string }{
		{"postgres://bad url", "it holds a space"},
		{"postgres://bob:hun/ter2secret@ho st/db", "it holds a space"},
		{"postgres://bob:hunter2secret@db.example:99999999/nhi", "its port is not a number from 1 to 65535"},
		{"postgres://bob:hunter2secret%zz@db.example/nhi", "a % in it starts no percent-encoded character"},
		{"postgres://bob:hunter2secret@db.example/nhi?sslmode=bogus", "its sslmode is none of"},
	} {
		r := nhi(t, nil, "identities", "--db", c.url)
		want := "nhi: the PostgreSQL URL cannot be read: " + c.why
		if r.code != 2 || !strings.HasPrefix(r.stderr, want) || !strings.Contains(r.stderr, "a URL looks like postgres://ROLE:PASSWORD@HOST:PORT/DATABASE") {
			t.Errorf("--db %q: exit %d, want 2 saying %q and what a URL looks like:\n%s", c.url, r.code, want, r.stderr)
		}
		for _, secret := range []string{"hunter2", "ter2", "secret", "ho st"} {
			if strings.Contains(r.stdout+r.stderr, secret) {
				t.Errorf("--db %q: the output holds %q of the URL:\n%s", c.url, secret, r.stderr)
			}
		}
	}
}
