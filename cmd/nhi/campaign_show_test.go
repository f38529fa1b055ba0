package main

import (
	"encoding/json"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

// TestCampaignShowReviewer: --reviewer lists one reviewer's items with
// that reviewer's progress line; me is who the caller is; a name that is
// no reviewer is a usage error (exit 2) that says whom it may have meant.
func TestCampaignShowReviewer(t *testing.T) {
	t.Parallel()
	db := campaignDB(t, 10)
	ok(t, "campaign", "create", "q", "--scope", "id:*", "--due", due(30), "--reviewer", "rita@acme.test", "--reviewer", "sam@acme.test", "--db", db, "--as", "lead")
	all := show(t, db, "q")
	var rita []string
	for _, it := range all.Items {
		if it.Reviewer != nil && *it.Reviewer == "rita@acme.test" {
			rita = append(rita, it.ID)
		}
	}
	if len(rita) == 0 || len(rita) == len(all.Items) {
		t.Fatalf("rita has %d of %d items: the test needs both reviewers to have some", len(rita), len(all.Items))
	}
	ok(t, "decide", "q", rita[0], "decommission", "--db", db, "--as", "rita@acme.test")

	r := ok(t, "campaign", "show", "q", "--reviewer", "rita@acme.test", "--db", db)
	want := "Progress of rita@acme.test: 1/" + strconv.Itoa(len(rita)) + " assigned decided"
	if !strings.Contains(r.stdout, want) {
		t.Errorf("no progress line %q:\n%s", want, r.stdout)
	}
	if strings.Contains(r.stdout, "sam@acme.test") {
		t.Errorf("sam's items or progress in rita's view:\n%s", r.stdout)
	}
	ids := strings.Fields(ok(t, "campaign", "show", "q", "--reviewer", "RITA@acme.test", "-o", "id", "--db", db).stdout)
	if strings.Join(ids, " ") != strings.Join(rita, " ") {
		t.Errorf("-o id lists %q, want rita's %q", ids, rita)
	}
	mine := strings.Fields(ok(t, "campaign", "show", "q", "--reviewer", "me", "--pending", "-o", "id", "--db", db, "--as", "rita@acme.test").stdout)
	if strings.Join(mine, " ") != strings.Join(rita[1:], " ") {
		t.Errorf("--reviewer me --pending lists %q, want %q", mine, rita[1:])
	}
	var j struct {
		Items []shownItem `json:"items"`
	}
	r = ok(t, "campaign", "show", "q", "--reviewer", "sam@acme.test", "--json", "--db", db)
	if err := json.Unmarshal([]byte(r.stdout), &j); err != nil || len(j.Items) != len(all.Items)-len(rita) {
		t.Errorf("--json: %d items (%v), want sam's %d", len(j.Items), err, len(all.Items)-len(rita))
	}

	refused(t, 2, `"ritta@acme.test" is no reviewer of q; did you mean rita@acme.test?`, "campaign", "show", "q", "--reviewer", "ritta@acme.test", "--db", db)
	refused(t, 2, `"rta" is no reviewer of q; did you mean rita@acme.test?`, "campaign", "show", "q", "--reviewer", "rta", "--db", db)
	refused(t, 2, "you (lead) have no items in q; its reviewers are rita@acme.test, sam@acme.test", "campaign", "show", "q", "--reviewer", "me", "--db", db, "--as", "lead")
}

// TestItemTableFits120: with every optional column filled (BY, FLAGS,
// VERIFIED) and long cells everywhere, campaign show's item table fits
// 120 columns; --wide cuts nothing.
func TestItemTableFits120(t *testing.T) {
	long := strings.Repeat("x", 60)
	tb := newTable(120, itemColumns(false)...)
	for range 3 {
		tb.Row("fine-grained token", long, "acme/"+long, "@acme/"+long, "stale,unrotated,orphaned,overprivileged", "reviewer-"+long+"@acme.test",
			"decommission", "someone-"+long+"@acme.test", "not-assignee,conflict,OVERDUE,escalated:"+long, "still-present")
	}
	var b strings.Builder
	if err := tb.Flush(&b); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if !strings.Contains(lines[0], "VERIFIED") || !strings.Contains(lines[0], "FLAGS") || !strings.Contains(lines[0], " BY ") {
		t.Fatalf("an optional column is missing: %q", lines[0])
	}
	for _, l := range lines {
		if w := len([]rune(l)); w > 120 {
			t.Errorf("%d columns, more than 120: %q", w, l)
		}
		if !strings.Contains(l, "decommission") && !strings.HasPrefix(l, "KIND") {
			t.Errorf("DECISION was cut: %q", l)
		}
	}
}

// TestCampaignShowFits80: in an 80-column terminal no line of campaign
// show is wider than 80 cells; the item table keeps KIND, NAME, SCOPE,
// REVIEWER and DECISION, tells every item apart by its name and scope,
// and names the columns it hid with how to see them; the header's digests
// are cut to 12 hex digits and "…", whole in -o json and with --wide,
// which shows every column.
func TestCampaignShowFits80(t *testing.T) {
	t.Parallel()
	db := demoCopy(t, "--repos", "6")
	var j struct {
		Name             string `json:"name"`
		PolicyDigest     string `json:"policy_digest"`
		PopulationDigest string `json:"population_digest"`
		Items            []struct {
			Name  string `json:"name"`
			Scope string `json:"scope"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(ok(t, "campaign", "show", "demo-deploy-keys", "--json", "--db", db).stdout), &j); err != nil || len(j.Items) < 2 || len(j.PolicyDigest) != 64 {
		t.Fatalf("--json: %v, %d items, policy digest %q", err, len(j.Items), j.PolicyDigest)
	}
	r := nhi(t, []string{"COLUMNS=80"}, "campaign", "show", j.Name, "--db", db)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	for _, l := range lines {
		if w := ansi.StringWidth(l); w > 80 {
			t.Errorf("a line is %d cells wide at 80 columns: %q", w, l)
		}
	}
	for _, d := range []string{j.PolicyDigest, j.PopulationDigest} {
		if !strings.Contains(r.stdout, "sha256:"+d[:12]+"…\n") || strings.Contains(r.stdout, d) {
			t.Errorf("digest %s not shortened to %s…:\n%s", d, d[:12], r.stdout)
		}
	}
	head := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, "KIND ") })
	if head < 0 {
		t.Fatalf("no item table:\n%s", r.stdout)
	}
	for _, c := range []string{"KIND", "NAME", "SCOPE", "REVIEWER", "DECISION"} {
		if !slices.Contains(strings.Fields(lines[head]), c) {
			t.Errorf("header %q lacks %s", lines[head], c)
		}
	}
	rows := lines[head+1 : head+1+len(j.Items)]
	// The sentence under the table (wrapped where it is wider than 80).
	if hint := strings.Join(strings.Fields(strings.Join(lines[head+1+len(j.Items):], " ")), " "); !regexp.MustCompile(`^\d+ columns hidden \([^)]*VERIFIED[^)]*\); --wide shows them( |$)`).MatchString(hint) {
		t.Errorf("no sentence under the table names the hidden columns: %q", hint)
	}
	// Each item's row: its name and scope, cut or whole, and no other
	// item's pair of them fits the same row.
	nameAt, scopeAt := strings.Index(lines[head], "NAME"), strings.Index(lines[head], "SCOPE")
	cell := func(row string, at int) string {
		return strings.TrimSuffix(strings.Fields(string([]rune(row)[at:]))[0], "…")
	}
	// SCOPE keeps its end: "…/payments-api".
	scopeIs := func(row, scope string) bool {
		if c, cut := strings.CutPrefix(strings.Fields(string([]rune(row)[scopeAt:]))[0], "…"); cut {
			return strings.HasSuffix(scope, c)
		}
		return strings.HasPrefix(scope, cell(row, scopeAt))
	}
	for i, row := range rows {
		matches := 0
		for _, it := range j.Items {
			if strings.HasPrefix(it.Name, cell(row, nameAt)) && scopeIs(row, it.Scope) {
				matches++
			}
		}
		if matches != 1 || !strings.HasPrefix(j.Items[i].Name, cell(row, nameAt)) {
			t.Errorf("row %q tells %d items apart from the others, want its own (%s in %s) alone", row, matches, j.Items[i].Name, j.Items[i].Scope)
		}
	}

	wide := nhi(t, []string{"COLUMNS=80"}, "campaign", "show", j.Name, "--wide", "--db", db).stdout
	if !strings.Contains(wide, j.PolicyDigest) || !strings.Contains(wide, j.PopulationDigest) || !strings.Contains(wide, " VERIFIED") || strings.Contains(wide, "hidden") {
		t.Errorf("--wide at 80 columns cut a digest or hid a column:\n%s", wide)
	}
}

// TestCampaignShowReviewersFit50: in a 50-column terminal the reviewer
// table of campaign show is no wider than 50 cells: it keeps REVIEWER,
// ASSIGNED, DECIDED and PENDING, hides what others decided and names
// those columns under it; at 80 it hides nothing, and --wide shows
// every column at 50.
func TestCampaignShowReviewersFit50(t *testing.T) {
	t.Parallel()
	db := demoCopy(t, "--repos", "6")
	// reviewers is the reviewer table's block: its header to the blank
	// line after it.
	reviewers := func(env []string, args ...string) []string {
		t.Helper()
		r := nhi(t, env, append([]string{"campaign", "show", "demo-deploy-keys", "--db", db}, args...)...)
		if r.code != 0 {
			t.Fatalf("campaign show %v %v: exit %d: %s", env, args, r.code, r.stderr)
		}
		lines := strings.Split(r.stdout, "\n")
		head := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, "REVIEWER ") })
		if head < 0 {
			t.Fatalf("campaign show %v %v: no reviewer table:\n%s", env, args, r.stdout)
		}
		end := slices.Index(lines[head:], "")
		if end < 2 {
			t.Fatalf("campaign show %v %v: no reviewer in the table:\n%s", env, args, r.stdout)
		}
		return lines[head : head+end]
	}
	at50 := reviewers([]string{"COLUMNS=50"})
	for _, l := range at50 {
		if w := ansi.StringWidth(l); w > 50 {
			t.Errorf("a line of the reviewer table is %d cells wide at 50 columns: %q", w, l)
		}
	}
	if got := strings.Fields(at50[0]); !slices.Equal(got, []string{"REVIEWER", "ASSIGNED", "DECIDED", "PENDING"}) {
		t.Errorf("the reviewer table's header at 50 columns: %q", at50[0])
	}
	if !strings.HasPrefix(at50[1], "rita@northwind.test ") {
		t.Errorf("the reviewer's row at 50 columns: %q", at50[1])
	}
	if hint := strings.Join(strings.Fields(strings.Join(at50[2:], " ")), " "); hint != "2 columns hidden (BY OTHERS, FOR OTHERS); --wide shows them" {
		t.Errorf("under the reviewer table at 50 columns: %q, want the hidden columns named", hint)
	}
	for _, c := range []struct {
		env  []string
		args []string
		last string
	}{{[]string{"COLUMNS=80"}, nil, "FOR OTHERS"}, {[]string{"COLUMNS=50"}, []string{"--wide"}, "DECIDED FOR OTHERS"}} {
		b := reviewers(c.env, c.args...)
		if !strings.HasSuffix(b[0], c.last) || len(b) != 2 {
			t.Errorf("campaign show %v %v: the reviewer table\n%s\nwant every column, %s last, and nothing hidden", c.env, c.args, strings.Join(b, "\n"), c.last)
		}
	}
}
