package main

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestBulkWritesPreview: owner set, note add and decide --filter print the
// count and the first rows; --dry-run writes nothing; campaign close lists
// what becomes no-response and, without a terminal, needs --yes.
func TestBulkWritesPreview(t *testing.T) {
	t.Parallel()
	db := campaignDB(t, 14)
	ok(t, "campaign", "create", "q", "--scope", "id:*", "--due", due(30), "--reviewer", "rita", "--db", db, "--as", "lead")
	head := logHead(t, db)
	for _, c := range []struct {
		args     []string
		headline string
	}{
		{[]string{"owner", "set", "--filter", "kind:deploy_key", "@acme/platform"}, "The owner of 14 identities becomes @acme/platform:\n"},
		{[]string{"note", "add", "--filter", "kind:deploy_key", "asked", "in", "SEC-42"}, "The note goes on 14 identities:\n"},
		{[]string{"decide", "q", "--filter", "id:*", "keep", "--reason", "build keys"}, "Decide keep on 14 items of q:\n"},
		{[]string{"campaign", "close", "q"}, "Closing q makes its decisions final: 0 of 14 items decided, 14 become no-response:\n"},
	} {
		r := ok(t, append(c.args, "--dry-run", "--db", db, "--as", "rita")...)
		lines := strings.Split(r.stdout, "\n")
		if lines[0]+"\n" != c.headline || !strings.HasPrefix(lines[1], "KIND ") || lines[2+previewRows] != "… and 4 more" ||
			lines[3+previewRows] != "Dry run: nothing was written." {
			t.Errorf("%s --dry-run printed:\n%s", strings.Join(c.args, " "), r.stdout)
		}
		if got := logHead(t, db); got != head {
			t.Fatalf("%s --dry-run wrote events: head %s, was %s", strings.Join(c.args, " "), got, head)
		}
	}
	// No terminal: the bulk writes go on (scripts), close needs --yes.
	r := ok(t, "owner", "set", "--filter", "scope:acme/r1", "@acme/platform", "--db", db, "--as", "rita")
	if !strings.Contains(r.stdout, "The owner of 3 identities becomes @acme/platform:\n") || !strings.Contains(r.stdout, "Owner of 3 identities is now @acme/platform") {
		t.Errorf("owner set --filter:\n%s", r.stdout)
	}
	head = logHead(t, db)
	refused(t, 1, "pass --yes", "campaign", "close", "q", "--db", db, "--as", "lead")
	if got := logHead(t, db); got != head {
		t.Fatalf("close without --yes wrote events")
	}
	ok(t, "campaign", "close", "q", "--yes", "--db", db, "--as", "lead")
	// A filter that matches nothing says so in one sentence, the hint
	// after it ("matches no active (add status:any for every status)
	// identity" split it).
	refused(t, 1, `the filter "name:no-such-key" matches no active identity (add status:any to match every status); nothing was written`,
		"owner", "set", "--filter", "name:no-such-key", "@acme/platform", "--db", db, "--as", "rita")
	refused(t, 1, `the filter "name:no-such-key status:any" matches no identity; nothing was written`,
		"owner", "set", "--filter", "name:no-such-key status:any", "@acme/platform", "--db", db, "--as", "rita")
}

// TestBulkWritesAskAtATerminal: above the threshold a person at a terminal
// is asked; anything but y or yes writes nothing; --yes does not ask. The
// terminal is simulated: run reads the answer from its stdin.
func TestBulkWritesAskAtATerminal(t *testing.T) {
	db := campaignDB(t, 14)
	was := interactive
	interactive = func(*app) bool { return true }
	defer func() { interactive = was }()
	call := func(stdin string, args ...string) (int, string) {
		var out, errb bytes.Buffer
		code := run(context.Background(), append(args, "--db", db, "--as", "rita"), strings.NewReader(stdin), &out, &errb)
		return code, out.String() + errb.String()
	}
	set := []string{"owner", "set", "--filter", "kind:deploy_key", "@acme/platform"}
	for _, answer := range []string{"n\n", "\n", "", "yess\n"} {
		code, out := call(answer, set...)
		if code != 1 || !strings.Contains(out, "Set the owner of 14 identities? [y/N] ") || !strings.Contains(out, "not confirmed; nothing was written") {
			t.Errorf("answer %q: exit %d\n%s", answer, code, out)
		}
	}
	if code, out := call("y\n", set...); code != 0 || !strings.Contains(out, "Owner of 14 identities is now @acme/platform") {
		t.Errorf("answer y: exit %d\n%s", code, out)
	}
	if code, out := call("", append(set, "--yes")...); code != 0 || strings.Contains(out, "[y/N]") {
		t.Errorf("--yes: exit %d\n%s", code, out)
	}
	// At or under the threshold nothing is asked.
	if code, out := call("", "owner", "set", "--filter", "scope:acme/r1", "bob"); code != 0 || strings.Contains(out, "[y/N]") {
		t.Errorf("3 identities: exit %d\n%s", code, out)
	}
	ok(t, "campaign", "create", "q", "--scope", "id:*", "--due", due(30), "--reviewer", "sam", "--db", db, "--as", "lead")
	if code, out := call("yes\n", "campaign", "close", "q"); code != 0 || !strings.Contains(out, "Close q? [y/N] ") || !strings.Contains(out, fmt.Sprintf("%d no-response", 14)) {
		t.Errorf("close, answered yes: exit %d\n%s", code, out)
	}
}

// TestClosePreviewListsTheFirstUndecided: with some items decided, close
// --dry-run counts them apart and lists the first undecided items in ID
// order — the ones campaign show --pending lists first — and none decided.
func TestClosePreviewListsTheFirstUndecided(t *testing.T) {
	t.Parallel()
	db := campaignDB(t, 14)
	ok(t, "campaign", "create", "q", "--scope", "id:*", "--due", due(30), "--reviewer", "rita", "--db", db, "--as", "lead")
	ok(t, "decide", "q", "--filter", "scope:acme/r0", "keep", "--reason", "build keys", "--db", db, "--as", "rita")
	csv := ok(t, "campaign", "show", "q", "--pending", "-o", "csv", "--db", db, "--as", "lead").stdout
	var pending []string // names, in show's (ID) order
	for _, line := range strings.Split(strings.TrimSpace(csv), "\n")[1:] {
		pending = append(pending, strings.Split(line, ",")[2])
	}
	if len(pending) != 11 {
		t.Fatalf("show --pending listed %d items, want 11:\n%s", len(pending), csv)
	}
	r := ok(t, "campaign", "close", "q", "--dry-run", "--db", db, "--as", "lead")
	lines := strings.Split(r.stdout, "\n")
	if lines[0] != "Closing q makes its decisions final: 3 of 14 items decided, 11 become no-response:" ||
		!strings.HasPrefix(lines[1], "KIND ") || lines[2+previewRows] != "… and 1 more" {
		t.Fatalf("close --dry-run printed:\n%s", r.stdout)
	}
	for i, name := range pending[:previewRows] {
		if row := lines[2+i]; !slices.Contains(strings.Fields(row), name) || !slices.Contains(strings.Fields(row), "pending") {
			t.Errorf("row %d of the preview is %q, want %s (pending)", i, row, name)
		}
	}
	for _, decided := range []string{"key-0", "key-5", "key-10"} {
		if strings.Contains(r.stdout, " "+decided+" ") {
			t.Errorf("the preview lists %s, which is decided:\n%s", decided, r.stdout)
		}
	}
}
