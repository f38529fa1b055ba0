package main

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

// TestDecideAndCloseWrapTheirProse: nhi decide's and nhi campaign close's
// sentences wrap at their words at the terminal's width (COLUMNS here),
// as campaign show's do, and stay whole, one line each, in a pipe.
func TestDecideAndCloseWrapTheirProse(t *testing.T) {
	t.Parallel()
	const width = 80
	db := campaignDB(t, 5)
	name := "a-campaign-with-a-rather-long-name"
	ok(t, "campaign", "create", name, "--scope", "id:*", "--due", due(30), "--reviewer", "rita@acme.test", "--db", db, "--as", "lead")
	pipe := copyFile(t, db)
	words := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	for _, args := range [][]string{
		{"decide", name, keyID(0), "keep", "--reason", "still used by the nightly deploy", "--as", "sam@acme.test"},
		{"campaign", "close", name, "--yes", "--as", "lead"},
	} {
		term := nhi(t, []string{"COLUMNS=80"}, append(args, "--db", db)...)
		piped := nhi(t, nil, append(args, "--db", pipe)...)
		if term.code != 0 || piped.code != 0 {
			t.Fatalf("nhi %s: exit %d, %d\n%s%s", strings.Join(args, " "), term.code, piped.code, term.stderr, piped.stderr)
		}
		for _, l := range strings.Split(strings.TrimSuffix(term.stdout, "\n"), "\n") {
			if ansi.StringWidth(l) > width {
				t.Errorf("nhi %s at %d columns: a line is %d cells wide: %q", args[0], width, ansi.StringWidth(l), l)
			}
		}
		long := 0
		for _, l := range strings.Split(piped.stdout, "\n") {
			if !strings.HasPrefix(l, "Decided ") && !strings.HasPrefix(l, "Note: ") && !strings.HasPrefix(l, "Closing ") && !strings.HasPrefix(l, "Closed ") {
				continue // a table's row, cut at its own width
			}
			if ansi.StringWidth(l) > width {
				long++
			}
			if !strings.Contains(words(term.stdout), words(l)) {
				t.Errorf("nhi %s at %d columns does not say %q:\n%s", args[0], width, l, term.stdout)
			}
		}
		if long == 0 {
			t.Errorf("nhi %s in a pipe: no sentence is longer than %d cells, whole on its line:\n%s", args[0], width, piped.stdout)
		}
	}
}
