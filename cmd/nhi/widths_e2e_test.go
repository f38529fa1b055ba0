package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

// TestListsFitTheTerminal: at an 80-column terminal campaign create,
// campaign list and offboard --pending print no line wider than 80, as
// gh and kubectl fit theirs: the columns that can give way are hidden and
// named under the table, the sentences wrap, and what a user copies into
// the next command (a campaign's name, a leaver's address) is never cut.
// In a pipe each table is whole (no cell cut, no column hidden), as
// kubectl's is, and -o json is as it was.
func TestListsFitTheTerminal(t *testing.T) {
	t.Parallel()
	db := demoCopy(t)
	name := "quarterly-deploy-key-review-2026-q4"
	at80 := []string{"COLUMNS=80"}
	fits := func(what, out string) {
		t.Helper()
		for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
			if n := ansi.StringWidth(l); n > 80 {
				t.Errorf("%s at 80 columns: a line of %d:\n%s", what, n, out)
				return
			}
		}
	}
	run := func(env []string, args ...string) string {
		t.Helper()
		r := nhi(t, env, append(args, "--db", db)...)
		if r.code != 0 {
			t.Fatalf("nhi %s: exit %d\n%s%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
		}
		return r.stdout
	}
	created := run(at80, "campaign", "create", name, "--scope", "kind:github_deploy_key", "--due", "2027-02-01",
		"--reviewer", "rita@northwind.test", "--allow-partial", "--as", "lead@northwind.test")
	fits("campaign create", created)
	if !strings.Contains(created, "Created campaign "+name+" ") || !strings.Contains(created, "  policy      sha256:") {
		t.Errorf("campaign create at 80:\n%s", created)
	}

	list := run(at80, "campaign", "list")
	fits("campaign list", list)
	if !strings.Contains(list, "\n"+name+"  ") || !strings.Contains(list, "hidden (") || !strings.Contains(list, "--wide shows them") {
		t.Errorf("campaign list at 80 cuts the name, or hides columns unsaid:\n%s", list)
	}
	for _, out := range []string{run(nil, "campaign", "list"), run(at80, "campaign", "list", "--wide")} {
		if !strings.HasPrefix(out, "NAME ") || !strings.Contains(out, "  CARRIED  NO-RESPONSE  CONFLICTS\n") || strings.Contains(out, "…") || strings.Contains(out, "hidden") {
			t.Errorf("campaign list in a pipe, or --wide, is not whole:\n%s", out)
		}
	}
	var js []map[string]any
	if err := json.Unmarshal([]byte(run(at80, "campaign", "list", "-o", "json")), &js); err != nil || len(js) != 2 || js[1]["name"] != name {
		t.Errorf("campaign list -o json: %v %v", err, js)
	}

	hr := filepath.Join(t.TempDir(), "hr.csv")
	if err := os.WriteFile(hr, []byte("email,name,github,status,left_at,manager\n"+
		"lead@northwind.test,Lee Adams,lee-adams,active,,\n"+
		"alice.longname@northwind.test,Alice Longname,alice-smith,left,2026-10-31,lead@northwind.test\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	run(nil, "people", "import", hr, "--as", "lead@northwind.test")
	pending := run(at80, "offboard", "--pending")
	fits("offboard --pending", pending)
	if !strings.Contains(pending, "\nAlice Longname <alice.longname@northwind.test>  ") || !strings.Contains(pending, "hidden (") {
		t.Errorf("offboard --pending at 80 cuts the person, or hides columns unsaid:\n%s", pending)
	}
	piped := run(nil, "offboard", "--pending")
	if !strings.Contains(piped, "  OWNS  CREATED  HOLDS  OLDEST\n") || strings.Contains(piped, "…") || strings.Contains(piped, "hidden") {
		t.Errorf("offboard --pending in a pipe is not whole:\n%s", piped)
	}
}
