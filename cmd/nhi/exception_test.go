package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

// Exceptions through the binary: --until may shorten an exception and not
// lengthen it; the reviewer may not approve their own exception, their
// manager may; nhi exception list shows who kept it, until when, and who
// approved it.
func TestExceptionsEndToEnd(t *testing.T) {
	t.Parallel()
	db := campaignDB(t, 3)
	ok(t, "people", "import", writeFile(t, "people.csv", northwindPeople), "--db", db, "--as", "carol@northwind.example")
	ok(t, "policy", "set", writeFile(t, "policy.yaml", "version: 1\nexception_days: 30\nexception_approval: required\n"), "--db", db, "--as", "carol@northwind.example")
	ok(t, "campaign", "create", "Q4", "--scope", "id:*", "--due", due(20), "--reviewer", "dan@northwind.example", "--db", db, "--as", "alice-smith")
	item := keyID(1) // added by user1, unrotated: it has findings

	refused(t, 2, `--until "next week": use YYYY-MM-DD`, "decide", "Q4", item, "keep", "--reason", "CI", "--until", "next week", "--db", db, "--as", "dan@northwind.example")
	refused(t, 1, "allows an exception 30 days at most (exception_days), so choose "+due(30)+" or earlier",
		"decide", "Q4", item, "keep", "--reason", "CI", "--until", due(31), "--db", db, "--as", "dan@northwind.example")
	r := ok(t, "decide", "Q4", item, "keep", "--reason", "CI needs it until the migration", "--until", due(14), "--db", db, "--as", "dan@northwind.example")
	if !strings.Contains(r.stdout, "Exception: it has findings, so this keep holds until "+due(14)) ||
		!strings.Contains(r.stdout, "nhi exception approve Q4 "+item) {
		t.Errorf("decide keep:\n%s", r.stdout)
	}
	refused(t, 1, "may not approve the exception on "+item+" (rule approver: dan@northwind.example made the keep decision",
		"exception", "approve", "Q4", item, "--db", db, "--as", "dan@northwind.example")
	refused(t, 1, "rule creator", "exception", "approve", "Q4", item, "--db", db, "--as", "alice@northwind.example")
	refused(t, 1, "not an exception", "exception", "approve", "Q4", keyID(2), "--db", db, "--as", "carol@northwind.example")
	r = ok(t, "exception", "list", "Q4", "--db", db)
	if !strings.Contains(r.stdout, "awaiting-approval") {
		t.Errorf("list before approval:\n%s", r.stdout)
	}
	r = ok(t, "exception", "approve", "Q4", item, "--db", db, "--as", "carol@northwind.example")
	if !strings.Contains(r.stdout, "Approved the exception on "+item+" in Q4") || !strings.Contains(r.stdout, "until "+due(14)) {
		t.Errorf("approve:\n%s", r.stdout)
	}
	var list []struct {
		ID         string  `json:"id"`
		KeptBy     string  `json:"kept_by"`
		Expires    *string `json:"expires"`
		ApprovedBy *string `json:"approved_by"`
		State      string  `json:"state"`
		Expired    bool    `json:"expired"`
	}
	r = ok(t, "exception", "list", "Q4", "--json", "--db", db)
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil || len(list) != 1 {
		t.Fatalf("list --json: %v\n%s", err, r.stdout)
	}
	if x := list[0]; x.ID != item || x.KeptBy != "dan@northwind.example" || x.Expires == nil || *x.Expires != due(14) ||
		x.ApprovedBy == nil || *x.ApprovedBy != "carol@northwind.example" || x.State != "approved" || x.Expired {
		t.Errorf("list --json: %+v", x)
	}
	// The refused approvals are evidence, like refused decisions.
	r = ok(t, "campaign", "show", "Q4", "--db", db)
	if strings.Count(r.stdout, "rule approver") != 1 || !strings.Contains(r.stdout, "rule creator") {
		t.Errorf("show does not list the refused approvals:\n%s", r.stdout)
	}
	ok(t, "verify", "--db", db)
}

// TestExceptionListNamesRenamedItems: an exception kept on a deploy key
// whose repository the demo's week renames after the campaign froze it
// is listed under the ID the key has now, "NEW (was OLD)", as nhi decide
// names it; --json keeps the frozen ID as id and gives the one now as
// current_id.
func TestExceptionListNamesRenamedItems(t *testing.T) {
	t.Parallel()
	db := demoCopy(t, "--repos", "6")
	var demo struct {
		Snapshot int64 `json:"snapshot"`
		Items    []struct {
			ID        string     `json:"id"`
			CurrentID string     `json:"current_id"`
			Findings  []struct{} `json:"findings"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(ok(t, "campaign", "show", "demo-deploy-keys", "--db", db, "--json").stdout), &demo); err != nil {
		t.Fatal(err)
	}
	var old, cur string
	for _, it := range demo.Items {
		if it.CurrentID != "" && len(it.Findings) > 0 {
			old, cur = it.ID, it.CurrentID
			break
		}
	}
	if old == "" {
		t.Fatalf("the demo renames no deploy key with findings:\n%+v", demo.Items)
	}
	lead := []string{"--db", db, "--as", "lead@northwind.test"}
	ok(t, append([]string{"campaign", "create", "q3", "--scope", "id:" + old, "--snapshot", fmt.Sprint(demo.Snapshot),
		"--due", "2027-01-31", "--reviewer", "rita@northwind.test"}, lead...)...)
	r := ok(t, "decide", "q3", cur, "keep", "--reason", "applies plans", "--db", db, "--as", "rita@northwind.test")
	if !strings.Contains(r.stdout, cur+" (was "+old+")") {
		t.Fatalf("decide keep:\n%s", r.stdout)
	}
	r = ok(t, "exception", "list", "q3", "--wide", "--db", db)
	if lines := strings.Split(r.stdout, "\n"); len(lines) < 2 || !strings.HasPrefix(lines[1], cur+" (was "+old+")  ") || !strings.Contains(lines[1], "rita@northwind.test") {
		t.Errorf("exception list --wide:\n%s\nwant its row to begin %q and name who kept it", r.stdout, cur+" (was "+old+")")
	}
	// The table fits the terminal, as campaign show's do: columns hidden,
	// and named, before the ID is cut; at 120 the ID it has now, the one
	// exception approve takes, is whole; in a pipe nothing is cut or
	// hidden, as with -o wide.
	for _, at := range []struct {
		env   []string
		width int
		whole bool
	}{{[]string{"COLUMNS=120"}, 120, true}, {[]string{"COLUMNS=80"}, 80, false}} {
		r := nhi(t, at.env, "exception", "list", "q3", "--db", db)
		if r.code != 0 {
			t.Fatalf("exception list %v: %s%s", at.env, r.stdout, r.stderr)
		}
		lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
		for _, l := range lines {
			if n := ansi.StringWidth(l); n > at.width {
				t.Errorf("exception list %v: a line of %d columns, over %d:\n%s", at.env, n, at.width, r.stdout)
				break
			}
		}
		if len(lines) < 3 || !strings.HasPrefix(lines[0], "IDENTITY  ") || !strings.HasPrefix(lines[1], cur[:20]) ||
			!strings.Contains(lines[0], "  STATE") || !strings.Contains(lines[len(lines)-1], "hidden (") || !strings.HasSuffix(lines[len(lines)-1], "--wide shows them") {
			t.Errorf("exception list %v:\n%s\nwant the row, and a line naming the hidden columns", at.env, r.stdout)
		}
		if got := strings.HasPrefix(lines[1], cur+" "); got != at.whole {
			t.Errorf("exception list %v:\n%s\nthe ID %s whole: %v, want %v", at.env, r.stdout, cur, got, at.whole)
		}
	}
	for _, o := range []string{"json", "wide", "table"} {
		r := ok(t, "exception", "list", "q3", "-o", o, "--db", db)
		if strings.Contains(r.stdout, "…") || strings.Contains(r.stdout, "hidden") {
			t.Errorf("exception list -o %s cuts or hides:\n%s", o, r.stdout)
		}
	}
	var list []struct {
		ID        string `json:"id"`
		CurrentID string `json:"current_id"`
	}
	r = ok(t, "exception", "list", "q3", "--json", "--db", db)
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil || len(list) != 1 || list[0].ID != old || list[0].CurrentID != cur {
		t.Errorf("exception list --json: %v\n%s\nwant id %s, current_id %s", err, r.stdout, old, cur)
	}
}
