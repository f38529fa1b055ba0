package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// complete runs nhi __complete, what a shell's completion script runs,
// and returns the candidates it printed.
func complete(t *testing.T, db string, words ...string) []string {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run(context.Background(), append([]string{"__complete", "--db", db}, words...), strings.NewReader(""), &out, &errb); code != 0 {
		t.Fatalf("__complete %v: exit %d\n%s", words, code, errb.String())
	}
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if !strings.HasPrefix(l, ":") {
			got = append(got, l)
		}
	}
	return got
}

// TestCompletion: campaign names, the campaign's item IDs, decisions,
// identity IDs and people complete from the evidence file.
func TestCompletion(t *testing.T) {
	t.Parallel()
	db := campaignDB(t, 7)
	ok(t, "campaign", "create", "2026-Q4", "--scope", "scope:acme/r1", "--due", due(30), "--reviewer", "rita@acme.test", "--db", db, "--as", "lead")
	ok(t, "owner", "set", keyID(0), "alice@acme.test", "--db", db, "--as", "lead")
	for _, c := range []struct {
		words []string
		want  string
	}{
		{[]string{"campaign", "show", "2026"}, "2026-Q4"},
		{[]string{"decide", "2026-Q4", ""}, keyID(1) + " " + keyID(6)},
		{[]string{"decide", "2026-Q4", keyID(1), "d"}, "decommission"},
		{[]string{"note", "add", keyID(3)[:len(keyID(3))-1]}, keyID(3)},
		{[]string{"owner", "set", keyID(2), "al"}, "alice@acme.test"},
		{[]string{"campaign", "create", "q", "--reviewer", "a"}, "alice@acme.test"},
		{[]string{"campaign", "show", "2026-Q4", "--reviewer", ""}, "me rita@acme.test"},
		{[]string{"snapshots", "-o", ""}, "table json"},
		{[]string{"campaign", "show", "2026-Q4", "--output", ""}, "table wide id csv json"},
	} {
		if got := strings.Join(complete(t, db, c.words...), " "); got != c.want {
			t.Errorf("complete %q: %q, want %q", c.words, got, c.want)
		}
	}
}
