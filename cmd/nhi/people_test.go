package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
)

// northwindPeople is a directory as HR would export it, BOM and all:
// user0..user6 are the GitHub logins campaignDB's deploy keys were added by.
const northwindPeople = "\ufeffemail,name,github,status,left_at,manager,aliases,signing_key\n" +
	"alice@northwind.example,Alice Smith,user0,active,,carol@northwind.example,alice-smith asmith@old.example,\n" +
	"bob@northwind.example,Bob Jones,user1,left,2026-10-31,carol@northwind.example,,\n" +
	"carol@northwind.example,Carol Diaz,user2,active,,,,\n" +
	"dan@northwind.example,Dan Wu,user3,active,,carol@northwind.example,,\n"

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPeopleDirectory(t *testing.T) {
	t.Parallel()
	db := campaignDB(t, 3)
	csv := writeFile(t, "people.csv", northwindPeople)

	r := ok(t, "people", "import", csv, "--dry-run", "--db", db, "--as", "carol@northwind.example")
	if !strings.Contains(r.stdout, "Would add 4, updated 0, unchanged 0 people from 4 rows (dry run: nothing written)") {
		t.Errorf("dry run:\n%s", r.stdout)
	}
	if r := ok(t, "people", "list", "--db", db); !strings.Contains(r.stdout, "The directory is empty") {
		t.Errorf("a dry run wrote people:\n%s", r.stdout)
	}
	r = ok(t, "people", "import", csv, "--db", db, "--as", "carol@northwind.example")
	if !strings.Contains(r.stdout, "Added 4, updated 0, unchanged 0 people from 4 rows (events 2–5, by carol@northwind.example)") {
		t.Errorf("import:\n%s", r.stdout)
	}
	if r := ok(t, "people", "import", csv, "--db", db, "--as", "carol@northwind.example"); !strings.Contains(r.stdout, "unchanged 4") {
		t.Errorf("re-import:\n%s", r.stdout)
	}

	// Found by any alias, whatever the case.
	for _, alias := range []string{"ALICE-SMITH", "@User0", "asmith@old.example", "Alice@Northwind.Example"} {
		r := ok(t, "people", "show", alias, "--db", db)
		if !strings.HasPrefix(r.stdout, "Alice Smith <alice@northwind.example>\n") || !strings.Contains(r.stdout, "manager:     carol@northwind.example") {
			t.Errorf("show %s:\n%s", alias, r.stdout)
		}
	}
	if r := ok(t, "people", "show", "bob@northwind.example", "--db", db); !strings.Contains(r.stdout, "status:      left on 2026-10-31") {
		t.Errorf("show bob:\n%s", r.stdout)
	}
	refused(t, 1, `"alise-smith" is not in the directory of people; did you mean Alice Smith <alice@northwind.example>?`, "people", "show", "alise-smith", "--db", db)

	var list []struct {
		Email   string   `json:"email"`
		Status  string   `json:"status"`
		LeftAt  *string  `json:"left_at"`
		Aliases []string `json:"aliases"`
	}
	r = ok(t, "people", "list", "--json", "--db", db)
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil || len(list) != 4 {
		t.Fatalf("list --json: %v\n%s", err, r.stdout)
	}
	if list[1].Email != "bob@northwind.example" || list[1].LeftAt == nil || *list[1].LeftAt != "2026-10-31" || list[0].LeftAt != nil ||
		strings.Join(list[0].Aliases, " ") != "user0 alice-smith asmith@old.example" {
		t.Errorf("list --json: %+v", list)
	}

	// All or nothing, every bad line named.
	bad := writeFile(t, "bad.csv", "email,name,github,status,left_at,manager,aliases,signing_key\n"+
		"erin@northwind.example,Erin,erin,active,,,,\n"+
		"fay@northwind.example,Fay,USER0,,,,,\n"+
		"gus@northwind.example,Gus,,retired,,,,\n")
	r = nhi(t, nil, "people", "import", bad, "--db", db, "--as", "carol@northwind.example")
	for _, want := range []string{"line 3: alias USER0 already belongs to alice@northwind.example", "line 4: status \"retired\": use active or left", "nothing was written"} {
		if r.code != 1 || !strings.Contains(r.stderr, want) {
			t.Errorf("bad import: exit %d, want %q in\n%s", r.code, want, r.stderr)
		}
	}
	refused(t, 1, `"erin" is not in the directory of people`, "people", "show", "erin", "--db", db)
	ok(t, "verify", "--db", db)
}

// separationDB is a snapshot of seven deploy keys, key i added by user<i>,
// with user3 (dan) a member of the team acme/platform, and the northwind
// directory imported by carol.
func separationDB(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "nhi.db")
	e := campaignstest.Open(t, path, true)
	obs := make([]audit.Observation, 7)
	for i := range obs {
		obs[i] = deployKey(i)
	}
	e.Principals = []audit.Principal{
		{Type: audit.PrincipalTeamMember, Scope: "acme/platform", Login: "user3", Role: "member"},
		{Type: audit.PrincipalTeamMember, Scope: "acme/platform", Login: "user5", Role: "maintainer"},
	}
	e.Snapshot(t, nil, obs...)
	e.Store.Close()
	ok(t, "people", "import", writeFile(t, "people.csv", northwindPeople), "--db", path, "--as", "carol@northwind.example")
	return path
}

func TestTheActorIsAPerson(t *testing.T) {
	t.Parallel()
	db := separationDB(t)

	// Unknown actors write nothing, whichever way they named themselves.
	refused(t, 1, `you are acting as "mallory" (from --as), who is not in the directory of people (4 people), so nothing was written`,
		"owner", "set", keyID(1), "alice-smith", "--db", db, "--as", "mallory")
	r := nhi(t, []string{"NHI_REVIEWER=alise-smith"}, "note", "add", keyID(1), "hello", "--db", db)
	if r.code != 1 || !strings.Contains(r.stderr, `"alise-smith" (from NHI_REVIEWER)`) || !strings.Contains(r.stderr, "did you mean Alice Smith <alice@northwind.example>?") {
		t.Errorf("unknown NHI_REVIEWER: exit %d\n%s", r.code, r.stderr)
	}

	// Known actors act as the person, whatever alias they typed.
	r = ok(t, "owner", "set", keyID(1), "ALICE-SMITH", "--db", db, "--as", "@user2")
	if !strings.Contains(r.stdout, "Owner of "+keyID(1)+" is now ALICE-SMITH (event 6, by carol@northwind.example)") {
		t.Errorf("owner set:\n%s", r.stdout)
	}
	// An owner nobody knows is recorded, with a warning and suggestions.
	r = ok(t, "owner", "set", keyID(6), "dann", "--db", db, "--as", "carol@northwind.example")
	if !strings.Contains(r.stderr, `warning: owner "dann" is not in the directory of people; did you mean Dan Wu <dan@northwind.example>?`) {
		t.Errorf("owner set to an unknown name: %s", r.stderr)
	}
	if r := ok(t, "people", "show", "alice-smith", "--db", db); !strings.Contains(r.stdout, "owns:        1 identity\n    "+keyID(1)) {
		t.Errorf("alice owns key 1 under her alias:\n%s", r.stdout)
	}
	ok(t, "verify", "--db", db)
	var person string
	sqlite(t, db, `SELECT person FROM owners WHERE identity_id = ?`, keyID(1)).Scan(&person)
	if person != "alice@northwind.example" {
		t.Errorf("owners.person = %q", person)
	}
}

func TestSeparationOfDuties(t *testing.T) {
	t.Parallel()
	db := separationDB(t)
	carol := []string{"--db", db, "--as", "carol@northwind.example"}
	ok(t, append([]string{"owner", "set", keyID(1), "alice-smith"}, carol...)...)
	ok(t, append([]string{"owner", "set", keyID(2), "@acme/platform"}, carol...)...)

	// Reviewers are people; the creator is not one of them.
	refused(t, 1, `reviewer "zed" is not in the directory of people`,
		append([]string{"campaign", "create", "q", "--scope", "id:*", "--due", due(30), "--reviewer", "zed"}, carol...)...)
	refused(t, 1, "separation of duties: carol@northwind.example creates this campaign and is also a reviewer of it",
		append([]string{"campaign", "create", "q", "--scope", "id:*", "--due", due(30), "--reviewer", "alice-smith", "--reviewer", "user2"}, carol...)...)
	ok(t, append([]string{"campaign", "create", "q", "--scope", "id:*", "--due", due(30), "--reviewer", "alice-smith", "--reviewer", "user3"}, carol...)...)
	c := show(t, db, "q")
	if got := c.raw["reviewers"]; fmt.Sprint(got) != "[alice@northwind.example dan@northwind.example]" || c.raw["allow_admin_review"] != false {
		t.Errorf("reviewers %v, allow_admin_review %v", got, c.raw["allow_admin_review"])
	}

	decide := func(as, id, d string) result {
		return nhi(t, nil, "decide", "q", id, d, "--reason", "checked", "--db", db, "--as", as)
	}
	for _, tc := range []struct{ as, id, rule, says string }{
		{"asmith@old.example", keyID(1), "owner", "alice-smith, the recorded owner when the campaign was created, is an alias of alice@northwind.example"},
		{"Alice@Northwind.example", keyID(1), "owner", "is an alias of alice@northwind.example"},
		{"alice-smith", keyID(0), "holder", "user0, the holder according to the source"},
		{"user3", keyID(2), "team-owner", "dan@northwind.example is a member of @acme/platform"},
		{"carol@northwind.example", keyID(4), "creator", "carol@northwind.example created the campaign"},
	} {
		r := decide(tc.as, tc.id, "keep")
		if r.code != 1 || !strings.Contains(r.stderr, "(rule "+tc.rule+": ") || !strings.Contains(r.stderr, tc.says) || !strings.Contains(r.stderr, "the attempt is recorded (event") {
			t.Errorf("%s deciding %s: exit %d, want rule %s saying %q\n%s%s", tc.as, tc.id, r.code, tc.rule, tc.says, r.stdout, r.stderr)
		}
	}
	// Allowed: dan on alice's key, alice on dan's.
	if r := decide("user3", keyID(1), "decommission"); r.code != 0 || !strings.Contains(r.stdout, "by dan@northwind.example") {
		t.Errorf("dan on key 1: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := decide("alice-smith", keyID(3), "keep"); r.code != 0 {
		t.Errorf("alice on key 3: %d\n%s", r.code, r.stderr)
	}
	// Bulk: dan's own (holder of key 3 is decided already) and his team's key are skipped, and the skips recorded.
	// With --all-reviewers too, the separation rules hold.
	r := ok(t, "decide", "q", "--filter", "id:*", "keep", "--reason", "reviewed in bulk", "--all-reviewers", "--db", db, "--as", "dan@northwind.example")
	if !strings.Contains(r.stdout, "Skipped 1 item you own") || !strings.Contains(r.stdout, keyID(2)) {
		t.Errorf("bulk:\n%s", r.stdout)
	}
	// Whoever decided may not close; carol, who did not, may.
	refused(t, 1, "separation of duties: dan@northwind.example may not close campaign q (rule closer: dan@northwind.example decided 5 items of it;",
		"campaign", "close", "q", "--yes", "--db", db, "--as", "user3")
	ok(t, append([]string{"campaign", "close", "q", "--yes"}, carol...)...)

	c = show(t, db, "q")
	var rules []string
	for _, r := range c.raw["refused"].([]any) {
		rules = append(rules, r.(map[string]any)["rule"].(string))
	}
	if strings.Join(rules, " ") != "owner owner holder team-owner creator team-owner closer" {
		t.Errorf("refused attempts in the log: %v", rules)
	}
	if it := c.item(t, keyID(1)); it.DecidedBy == nil || *it.DecidedBy != "dan@northwind.example" {
		t.Errorf("key 1 decided by %v", it.DecidedBy)
	}
	r = ok(t, "campaign", "show", "q", "--db", db)
	if !strings.Contains(r.stdout, "Refused attempts (7), the separation-of-duties rules at work:") ||
		!strings.Contains(r.stdout, "dan@northwind.example: keep "+keyID(2)+" refused by rule team-owner") {
		t.Errorf("show:\n%s", r.stdout)
	}
	ok(t, "verify", "--db", db)

	// With --allow-admin-review the creator may review, and close.
	ok(t, append([]string{"campaign", "create", "q2", "--scope", "id:*", "--due", due(30), "--reviewer", "carol@northwind.example", "--allow-admin-review"}, carol...)...)
	if r := nhi(t, nil, append([]string{"decide", "q2", keyID(4), "keep", "--reason", "checked"}, carol...)...); r.code != 0 {
		t.Errorf("carol with --allow-admin-review: %d\n%s", r.code, r.stderr)
	}
	ok(t, append([]string{"campaign", "close", "q2", "--yes"}, carol...)...)
}

// sqlite reads one row of the evidence file directly, as an auditor's
// sqlite3 shell would.
func sqlite(t *testing.T, db, q string, args ...any) *sql.Row {
	t.Helper()
	conn, err := sql.Open("sqlite", "file:"+db+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn.QueryRow(q, args...)
}

func TestLeaversMayNotAct(t *testing.T) {
	t.Parallel()
	db := separationDB(t)
	refused(t, 1, `you are acting as "user1" (from --as), and bob@northwind.example left on 2026-10-31 according to the directory of people`,
		"owner", "set", keyID(1), "alice-smith", "--db", db, "--as", "user1")
	refused(t, 1, "reviewer user1 (bob@northwind.example) left on 2026-10-31; name someone still here",
		"campaign", "create", "q", "--scope", "id:*", "--due", due(30), "--reviewer", "user1", "--db", db, "--as", "carol@northwind.example")
}

func TestLeaversOrphanTheirIdentities(t *testing.T) {
	t.Parallel()
	db := separationDB(t)
	ok(t, "owner", "set", keyID(4), "Bob@Northwind.example", "--db", db, "--as", "carol@northwind.example")
	r := ok(t, "identities", "--json", "--db", db)
	var ids []struct {
		ID       string `json:"id"`
		Findings []struct {
			Rule, Message string
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &ids); err != nil {
		t.Fatal(err)
	}
	orphaned := map[string]string{}
	for _, id := range ids {
		for _, f := range id.Findings {
			if f.Rule == "orphaned" {
				orphaned[id.ID] = f.Message
			}
		}
	}
	want := map[string]string{
		keyID(1): "user1, who holds it according to the source, left on 2026-10-31", // bob added it
		keyID(4): "owner Bob@Northwind.example left on 2026-10-31",
	}
	for id, msg := range want {
		if orphaned[id] != msg {
			t.Errorf("%s: orphaned %q, want %q", id, orphaned[id], msg)
		}
	}
	if _, ok := orphaned[keyID(0)]; ok {
		t.Errorf("alice's key is orphaned: %q", orphaned[keyID(0)])
	}
}

// TestVerifyNamesTeamAndCreatorDecisionsWrittenAroundNhi: the team-owner
// and creator rules refuse dan's decision on his team's key and carol's
// in the campaign she created; written around nhi (plain SQL on the
// evidence file), nhi verify names both events, by rule, and exits 1.
// Carol's decision in q2, created with --allow-admin-review, is no
// problem. Before, verify passed both.
func TestVerifyNamesTeamAndCreatorDecisionsWrittenAroundNhi(t *testing.T) {
	t.Parallel()
	db := separationDB(t)
	carol := []string{"--db", db, "--as", "carol@northwind.example"}
	ok(t, append([]string{"owner", "set", keyID(2), "@acme/platform"}, carol...)...)
	ok(t, append([]string{"campaign", "create", "q", "--scope", "id:*", "--due", due(30), "--reviewer", "alice-smith", "--reviewer", "user3"}, carol...)...)
	ok(t, append([]string{"campaign", "create", "q2", "--scope", "id:*", "--due", due(30), "--reviewer", "carol@northwind.example", "--allow-admin-review"}, carol...)...)
	ok(t, "verify", "--db", db)

	e := campaignstest.Open(t, db, false)
	var team, creator int64
	for _, w := range []struct {
		seq      *int64
		actor    string
		campaign string
		id       string
	}{{&team, "dan@northwind.example", "q", keyID(2)}, {&creator, "user2", "q", keyID(4)}, {new(int64), "user2", "q2", keyID(4)}} {
		seq, err := campaignstest.WriteAround(context.Background(), e.Store, w.actor, campaigns.DecidePayload{Campaign: w.campaign, Items: []string{w.id}, Decision: campaigns.Keep, Reason: "checked"})
		if err != nil {
			t.Fatal(err)
		}
		*w.seq = seq
	}
	e.Store.Close()

	r := nhi(t, nil, "verify", "--db", db)
	for _, says := range []string{
		fmt.Sprintf("event %d (campaign.decide by dan@northwind.example) decides %s in campaign q, whose recorded owner when the campaign was created is @acme/platform, a team whose members in the campaign's snapshot include user3, a name of dan@northwind.example then: nhi refuses such a decision (rule team-owner)", team, keyID(2)),
		fmt.Sprintf("event %d (campaign.decide by user2) decides %s in campaign q, whose creator is carol@northwind.example (event ", creator, keyID(4)),
		"), the same person, and which was created without --allow-admin-review: nhi refuses such a decision (rule creator)",
	} {
		if r.code != 1 || !strings.Contains(r.stdout, says) {
			t.Errorf("verify: exit %d, want 1 saying %q\n%s%s", r.code, says, r.stdout, r.stderr)
		}
	}
	if n := strings.Count(r.stdout, "nhi refuses such a decision"); n != 2 {
		t.Errorf("verify names %d decisions; want 2 (not carol's in q2, created with --allow-admin-review)\n%s", n, r.stdout)
	}
}
