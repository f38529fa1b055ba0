package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

// TestTableFitsItsWidth: the widest shrinkable column gives way first, no
// column goes under its least width, a cut cell ends in "…", and an
// optional column nobody fills is left out.
func TestTableFitsItsWidth(t *testing.T) {
	tb := newTable(40, column{Title: "KIND"}, column{Title: "NAME", Min: 6}, column{Title: "OWNER", Min: 8}, column{Title: "FLAGS", Optional: true})
	tb.Row("deploy key", "a-very-long-deploy-key-title", "alice@acme.test", "-")
	tb.Row("runner", "ci", "-", "")
	var b bytes.Buffer
	if err := tb.Flush(&b); err != nil {
		t.Fatal(err)
	}
	want := "KIND        NAME           OWNER\n" +
		"deploy key  a-very-long-…  alice@acme.t…\n" +
		"runner      ci             -\n"
	if b.String() != want {
		t.Errorf("table:\n%s\nwant:\n%s", b.String(), want)
	}
	for _, line := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
		if w := ansi.StringWidth(line); w > 40 {
			t.Errorf("%q is %d wide, more than 40", line, w)
		}
	}
	// Width 0 (--wide) cuts nothing.
	tb.width = 0
	b.Reset()
	tb.Flush(&b)
	if !strings.Contains(b.String(), "a-very-long-deploy-key-title") {
		t.Errorf("a wide table cut a cell:\n%s", b.String())
	}
}

// TestTableScopesKeepTheirEnd: a column that keeps its end (SCOPE) cuts
// at the start, so webhooks of one organisation's repositories read apart
// by the repository, where an end cut read "northwind/api…" for both; a
// wide character the cut would straddle is left out whole.
func TestTableScopesKeepTheirEnd(t *testing.T) {
	tb := newTable(20, column{Title: "NAME"}, column{Title: "SCOPE", Min: 12, KeepEnd: true})
	tb.Row("hook", "northwind/api-gateway")
	tb.Row("hook", "northwind/api-catalog")
	tb.Row("hook", "northwind/web")
	tb.Row("hook", "northwind/部署キー-service")
	var b bytes.Buffer
	if err := tb.Flush(&b); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	want := []string{"NAME  SCOPE", "hook  …d/api-gateway", "hook  …d/api-catalog", "hook  northwind/web", "hook  …キー-service"}
	if len(lines) != len(want) {
		t.Fatalf("table:\n%s", b.String())
	}
	for i, l := range lines {
		if strings.TrimRight(l, " ") != want[i] {
			t.Errorf("line %d = %q, want %q", i, l, want[i])
		}
		if w := ansi.StringWidth(l); w > 20 {
			t.Errorf("%q is %d wide, more than 20", l, w)
		}
	}
}

// TestCSVCellsAreNotFormulas: a name a spreadsheet would run is text.
func TestCSVCellsAreNotFormulas(t *testing.T) {
	var b bytes.Buffer
	tb, _ := newCSVTable(&b, "name")
	tb.Row(`=HYPERLINK("http://evil.test")`)
	tb.Row("plain")
	tb.Flush()
	if want := "name\n\"'=HYPERLINK(\"\"http://evil.test\"\")\"\nplain\n"; b.String() != want {
		t.Errorf("csv:\n%s\nwant:\n%s", b.String(), want)
	}
}

// TestTableOutputs: the table a user reads fits the terminal (COLUMNS
// here, 120), names and scopes the identities without the ID; in a pipe
// it is whole, cutting no cell, as kubectl's is; --wide adds the ID; -o
// id, -o csv and --json list the same identities.
func TestTableOutputs(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "demo.db")
	ok(t, "demo", "--no-tui", "--repos", "6", "--db", db)
	var ids []struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal([]byte(ok(t, "identities", "--json", "--db", db).stdout), &ids); err != nil {
		t.Fatal(err)
	}
	r := nhi(t, []string{"COLUMNS=120"}, "identities", "--db", db)
	table := r.stdout
	lines := strings.Split(strings.TrimSuffix(table, "\n"), "\n")
	if r.code != 0 || !strings.HasPrefix(lines[0], "KIND ") || !strings.Contains(lines[0], " NAME ") || !strings.Contains(lines[0], " SCOPE ") || strings.Contains(lines[0], "ID") {
		t.Errorf("table header %q: want KIND, NAME, SCOPE and no ID", lines[0])
	}
	if len(lines) != len(ids)+1 {
		t.Errorf("table has %d rows, --json %d identities", len(lines)-1, len(ids))
	}
	for _, l := range lines {
		if w := ansi.StringWidth(l); w > 120 {
			t.Errorf("a line is %d columns wide: %q", w, l)
		}
	}
	if !strings.Contains(table, "…") {
		t.Errorf("nothing was cut to fit 120 columns, so this test shows nothing:\n%s", table)
	}
	piped := ok(t, "identities", "--db", db).stdout
	if p := strings.Split(strings.TrimSuffix(piped, "\n"), "\n"); strings.Contains(piped, "…") || len(p) != len(lines) || strings.Fields(p[0])[0] != "KIND" {
		t.Errorf("in a pipe the table is not whole:\n%.600s", piped)
	}
	if wide := ok(t, "identities", "--wide", "--db", db).stdout; !strings.HasPrefix(wide, "ID ") || !strings.Contains(wide, ids[0].ID+" ") {
		t.Errorf("--wide lacks the ID:\n%.400s", wide)
	}
	if got := strings.Fields(ok(t, "identities", "-o", "id", "--db", db).stdout); len(got) != len(ids) || got[0] != ids[0].ID {
		t.Errorf("-o id: %d lines, first %q; want %d, first %q", len(got), got[0], len(ids), ids[0].ID)
	}
	recs, err := csv.NewReader(strings.NewReader(ok(t, "identities", "-o", "csv", "--db", db).stdout)).ReadAll()
	if err != nil || len(recs) != len(ids)+1 || strings.Join(recs[0], ",") != strings.Join(identityCSVHeader, ",") || recs[1][0] != ids[0].ID {
		t.Errorf("-o csv: %d records (want %d), header %v, err %v", len(recs), len(ids)+1, recs[0], err)
	}
	refused(t, 2, `unknown output format "yaml"`, "identities", "-o", "yaml", "--db", db)

	// nhi snapshots: who read it in a few words; the whole credential in
	// nhi snapshots show N.
	snaps := ok(t, "snapshots", "--db", db).stdout
	if !strings.Contains(snaps, "  GitHub App nhi-audit-demo\n") || strings.Contains(snaps, "permissions:") {
		t.Errorf("READ BY is not one short phrase:\n%s", snaps)
	}
	var list []struct {
		ID         int64  `json:"id"`
		Source     string `json:"source"`
		Credential string `json:"credential"`
	}
	json.Unmarshal([]byte(ok(t, "snapshots", "--json", "--db", db).stdout), &list)
	for _, s := range list {
		if s.Source == "github" {
			full := ok(t, "snapshots", "show", fmt.Sprint(s.ID), "--db", db).stdout
			if !strings.Contains(full, "read by      "+s.Credential+"\n") {
				t.Errorf("snapshots show %d lacks the whole credential %q:\n%s", s.ID, s.Credential, full)
			}
		}
	}
	refused(t, 1, "no snapshot 99", "snapshots", "show", "99", "--db", db)
	refused(t, 2, "--json and -o csv say different things", "identities", "-o", "csv", "--json", "--db", db)
}

// TestTableHidesBeforeItCuts: narrower than its columns' least widths
// (a Want column's Want), a table hides its Hide columns, the highest
// first, rather than cut a Want column under its Want, and names them on
// a line of its own, wrapped at the table's width; wide enough, or at
// width 0, it hides none.
func TestTableHidesBeforeItCuts(t *testing.T) {
	cols := []column{{Title: "NAME", Min: 6, Want: 12}, {Title: "OWNER", Min: 8, Hide: 1}, {Title: "BY", Min: 8, Hide: 2}, {Title: "DECISION"}}
	flush := func(width int) string {
		tb := newTable(width, cols...)
		tb.Row("a-long-deploy-key-title", "alice@acme.test", "bob@acme.test", "decommission")
		var b bytes.Buffer
		if err := tb.Flush(&b); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	// Least widths 6+8+8+12 and separators: 40. At 36 BY goes; NAME
	// keeps its Want of 12 beside OWNER's Min of 8.
	cases := []struct {
		width int
		want  []string
	}{
		// The line naming the hidden columns wraps at the table's width.
		{36, []string{"NAME          OWNER     DECISION", "a-long-depl…  alice@a…  decommission", "1 column hidden (BY); --wide shows", "  it"}},
		// At 34 OWNER goes too, or NAME would be cut under 12.
		{34, []string{"NAME                  DECISION", "a-long-deploy-key-t…  decommission", "2 columns hidden (OWNER, BY);", "  --wide shows them"}},
	}
	for _, c := range cases {
		if got := flush(c.width); got != strings.Join(c.want, "\n")+"\n" {
			t.Errorf("at %d:\n%s\nwant:\n%s", c.width, got, strings.Join(c.want, "\n"))
		}
	}
	// At 40 the Mins fit, but NAME would be cut under its Want: BY goes.
	if got := flush(40); !strings.Contains(got, "1 column hidden (BY); --wide shows it\n") || !strings.Contains(got, "a-long-depl…  alice@acme.…  decommission") {
		t.Errorf("at 40:\n%s", got)
	}
	if got := flush(46); strings.Contains(got, "hidden") || !strings.Contains(got, " BY ") {
		t.Errorf("at 46, the least widths fit, yet:\n%s", got)
	}
	if got := flush(0); strings.Contains(got, "hidden") || !strings.Contains(got, "a-long-deploy-key-title  alice@acme.test") {
		t.Errorf("at width 0:\n%s", got)
	}
}
