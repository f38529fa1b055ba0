package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/connectors/github/githubtest"
)

// `nhi people sync github` through the binary, against the fake GitHub on
// loopback: its REST member lists and its GraphQL answers.

func peopleOrg() *githubtest.Org {
	return &githubtest.Org{
		Login: "northwind", ID: 4242, Name: "Northwind",
		Members: []string{"alice-smith", "bob-jones", "carol", "dave"},
		Admins:  []string{"alice-smith"},
		SAML:    true,
		Profiles: []githubtest.Profile{
			{Login: "bob-jones", Name: "Bob Jones", VerifiedEmails: []string{"bob@northwind.example"}},
			{Login: "carol", Name: "Carol King", Email: "carol.king@mail.example"},
		},
		SAMLIdentities: []githubtest.SAMLIdentity{
			{NameID: "alice@northwind.example", Emails: []string{"alice@northwind.example", "a.smith@northwind.example"}, Login: "alice-smith"},
			{NameID: "bob@northwind.example", Emails: []string{"bob@northwind.example"}, Login: "bob-jones"},
			{NameID: "nobody@northwind.example"}, // provisioned, never linked to an account
		},
	}
}

type personOut struct {
	Email   string   `json:"email"`
	Name    string   `json:"name"`
	GitHub  string   `json:"github"`
	Status  string   `json:"status"`
	LeftAt  *string  `json:"left_at"`
	Aliases []string `json:"aliases"`
}

func peopleJSON(t *testing.T, db string) map[string]personOut {
	t.Helper()
	r := nhi(t, nil, "people", "list", "--json", "--db", db)
	if r.code != 0 {
		t.Fatalf("people list: %s", r.stderr)
	}
	var list []personOut
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil {
		t.Fatal(err)
	}
	out := map[string]personOut{}
	for _, p := range list {
		out[p.Email] = p
	}
	return out
}

func TestPeopleSyncGitHub(t *testing.T) {
	t.Parallel()
	srv := githubtest.NewServer(peopleOrg())
	defer srv.Close()
	dir := t.TempDir()
	db := filepath.Join(dir, "nhi.db")
	// HR knows Alice by her e-mail only, and the auditor.
	csv := filepath.Join(dir, "people.csv")
	if err := os.WriteFile(csv, []byte("email,name,github\nalice@northwind.example,Alice Smith,\nauditor@northwind.example,Ann Auditor,\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := nhi(t, nil, "people", "import", csv, "--db", db, "--as", "auditor@northwind.example"); r.code != 0 {
		t.Fatalf("import: %s%s", r.stdout, r.stderr)
	}
	env := []string{"GITHUB_TOKEN=" + srv.Token(), "NHI_REVIEWER=auditor@northwind.example"}
	sync := func(extra ...string) result {
		t.Helper()
		r := nhi(t, env, append([]string{"people", "sync", "github", "--org", "NorthWind", "--api-url", srv.URL(), "--db", db}, extra...)...)
		if r.code != 0 {
			t.Fatalf("sync %v: exit %d\n%s%s", extra, r.code, r.stdout, r.stderr)
		}
		return r
	}

	dry := sync("--dry-run")
	for _, want := range []string{
		"~ Alice Smith <alice@northwind.example> (github alice-smith)",
		"+ Bob Jones <bob@northwind.example> (github bob-jones)",
		"+ Carol King <carol.king@mail.example> (github carol)",
		"Would add 2, updated 1, unchanged 0 people from 4 members of northwind (dry run: nothing written)",
		"SAML identities: 2 of 4 members linked",
		"1 member not added, GitHub shows no e-mail for them: dave; add them with nhi people import",
	} {
		if !strings.Contains(dry.stdout, want) {
			t.Errorf("dry run: want %q in\n%s", want, dry.stdout)
		}
	}
	if got := peopleJSON(t, db); len(got) != 2 || got["alice@northwind.example"].GitHub != "" {
		t.Fatalf("the dry run wrote: %+v", got)
	}

	r := sync()
	if !strings.Contains(r.stdout, "Added 2, updated 1, unchanged 0 people from 4 members of northwind (events 3–5, by auditor@northwind.example)") {
		t.Errorf("sync:\n%s", r.stdout)
	}
	if strings.Contains(r.stdout, "Not read") {
		t.Errorf("everything was readable, yet:\n%s", r.stdout)
	}
	people := peopleJSON(t, db)
	alice := people["alice@northwind.example"]
	if alice.GitHub != "alice-smith" || alice.Name != "Alice Smith" || strings.Join(alice.Aliases, " ") != "alice-smith a.smith@northwind.example" {
		t.Errorf("alice: %+v", alice)
	}
	if bob := people["bob@northwind.example"]; bob.Name != "Bob Jones" || bob.GitHub != "bob-jones" || bob.Status != "active" {
		t.Errorf("bob: %+v", bob)
	}
	if _, ok := people["nobody@northwind.example"]; ok {
		t.Error("a SAML identity linked to no account became a person")
	}
	// Found by any alias: the login, the SAML e-mail.
	for _, name := range []string{"@Alice-Smith", "a.smith@northwind.example"} {
		if s := nhi(t, nil, "people", "show", name, "--db", db); s.code != 0 || !strings.Contains(s.stdout, "Alice Smith <alice@northwind.example>") {
			t.Errorf("people show %s: %s%s", name, s.stdout, s.stderr)
		}
	}
	// The events say where they came from; the file verifies.
	st, err := audit.Open(context.Background(), db, audit.OpenOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := st.QueryRow(context.Background(), `SELECT count(*) FROM events WHERE type = 'person.set' AND actor = 'auditor@northwind.example'
		AND json_extract(payload, '$.source') = 'github northwind'`).Scan(&n); err != nil || n != 3 {
		t.Errorf("%d person.set events from github northwind (%v), want 3", n, err)
	}
	st.Close()
	if v := nhi(t, nil, "verify", "--db", db); v.code != 0 {
		t.Errorf("verify: %s%s", v.stdout, v.stderr)
	}
	// A second sync changes nothing.
	if again := sync(); !strings.Contains(again.stdout, "Added 0, updated 0, unchanged 3 people from 4 members of northwind (nothing to write)") {
		t.Errorf("second sync:\n%s", again.stdout)
	}

	// Bob leaves the organisation: reported, never silently changed.
	srv.Mutate(func(o *githubtest.Org) { o.Members = []string{"alice-smith", "carol", "dave"} })
	r = sync()
	if !strings.Contains(r.stdout, "1 person no longer a member of northwind: bob-jones (bob@northwind.example); mark them leavers with --mark-leavers") {
		t.Errorf("leaver not reported:\n%s", r.stdout)
	}
	if bob := peopleJSON(t, db)["bob@northwind.example"]; bob.Status != "active" {
		t.Errorf("bob changed without --mark-leavers: %+v", bob)
	}
	r = sync("--mark-leavers")
	if !strings.Contains(r.stdout, "~ Bob Jones <bob@northwind.example>") || !strings.Contains(r.stdout, "marked left") {
		t.Errorf("--mark-leavers:\n%s", r.stdout)
	}
	people = peopleJSON(t, db)
	today := time.Now().UTC().Format(time.DateOnly)
	if bob := people["bob@northwind.example"]; bob.Status != "left" || bob.LeftAt == nil || *bob.LeftAt != today {
		t.Errorf("bob after --mark-leavers: %+v", bob)
	}
	if len(people) != 4 {
		t.Errorf("%d people, want 4: nobody is ever deleted", len(people))
	}
	// Ann, imported from HR and never synced, is no member and is not reported.
	if strings.Contains(r.stdout, "(auditor@northwind.example)") {
		t.Errorf("a person no sync recorded was reported:\n%s", r.stdout)
	}
}

// TestPeopleSyncGitHubWithoutSAML: an organisation without SAML, a
// refused GraphQL API and a refused member list each say what was not
// read, and the members are synced with what could be.
func TestPeopleSyncGitHubWithoutSAML(t *testing.T) {
	t.Parallel()
	org := peopleOrg()
	org.SAML = false
	srv := githubtest.NewServer(org)
	defer srv.Close()
	db := filepath.Join(t.TempDir(), "nhi.db")
	env := []string{"GITHUB_TOKEN=" + srv.Token(), "NHI_REVIEWER=auditor@northwind.example"}
	args := []string{"people", "sync", "github", "--org", "northwind", "--api-url", srv.URL(), "--db", db}
	r := nhi(t, env, args...)
	if r.code != 0 {
		t.Fatalf("exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	if n := strings.Count(r.stdout, "Not read: SAML identities: the organisation has no SAML single sign-on"); n != 1 {
		t.Errorf("the missing SAML said %d times, want once:\n%s", n, r.stdout)
	}
	// Bob by his verified-domain e-mail, Carol by her public one.
	if !strings.Contains(r.stdout, "Added 2, updated 0, unchanged 0 people from 4 members of northwind") {
		t.Errorf("without SAML:\n%s", r.stdout)
	}

	// GraphQL refused: members are synced as the REST lists show them.
	srv.Fail("/graphql", http.StatusForbidden)
	r = nhi(t, append(env, "NHI_REVIEWER=bob@northwind.example"), append(args, "--dry-run")...)
	if r.code != 0 {
		t.Fatalf("exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{
		"Not read: members' roles, names and e-mails: not read: GitHub answered 403",
		"Not read: SAML identities: not read: GitHub answered 403",
		"Would add 0, updated 0, unchanged 2 people from 4 members",
		"2 members not added, GitHub shows no e-mail for them: alice-smith, dave",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("GraphQL refused: want %q in\n%s", want, r.stdout)
		}
	}

	// The member list refused: nobody is said to have left.
	srv.ClearFaults()
	srv.Fail("/orgs/northwind/members", http.StatusForbidden)
	r = nhi(t, append(env, "NHI_REVIEWER=bob@northwind.example"), args...)
	if r.code != 0 {
		t.Fatalf("exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{
		"Not read: GET /orgs/northwind/members: needs an organization member's token",
		"The member list was not read in full, so nobody is said to have left northwind",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("members refused: want %q in\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "no longer") {
		t.Errorf("a refused list was read as nobody:\n%s", r.stdout)
	}
	if got := peopleJSON(t, db); len(got) != 2 || got["bob@northwind.example"].Status != "active" {
		t.Errorf("people after a refused list: %+v", got)
	}
}

// TestPeopleSyncGitHubListCutShort: a member list that ends with fewer
// members than GitHub's GraphQL API counts (its Link chain whole) is not
// read as whole: with --mark-leavers, the member it left out is not said
// to have left nor marked left, and the output says what GitHub counted
// and what it gave.
func TestPeopleSyncGitHubListCutShort(t *testing.T) {
	t.Parallel()
	srv := githubtest.NewServer(peopleOrg())
	defer srv.Close()
	db := filepath.Join(t.TempDir(), "nhi.db")
	env := []string{"GITHUB_TOKEN=" + srv.Token(), "NHI_REVIEWER=alice@northwind.example"}
	args := []string{"people", "sync", "github", "--org", "northwind", "--api-url", srv.URL(), "--db", db, "--mark-leavers"}
	if r := nhi(t, env, args...); r.code != 0 || !strings.Contains(r.stdout, "Added 3, updated 0, unchanged 0 people from 4 members of northwind") {
		t.Fatalf("first sync: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// Bob is still a member; the list GitHub sends ends before him.
	srv.Mutate(func(o *githubtest.Org) { o.Members = []string{"alice-smith", "carol", "dave", "bob-jones"} })
	srv.ServeFewer("/orgs/northwind/members", 1)
	r := nhi(t, env, args...)
	if r.code != 0 {
		t.Fatalf("exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{
		"Not read: GET /orgs/northwind/members: GitHub's GraphQL API counts 4 members (organization.membersWithRole totalCount), but the member list gave 3, so it was not read whole; run again",
		"The member list was not read in full, so nobody is said to have left northwind",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("want %q in\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "no longer") || strings.Contains(r.stdout, "marked left") {
		t.Errorf("a member the list left out was said to have left:\n%s", r.stdout)
	}
	if bob := peopleJSON(t, db)["bob@northwind.example"]; bob.Status != "active" || bob.LeftAt != nil {
		t.Errorf("bob after a list cut short: %+v", bob)
	}

	// Read whole again, he is a member still; once he is gone, he leaves.
	srv.ClearFaults()
	if r := nhi(t, env, args...); r.code != 0 || strings.Contains(r.stdout, "no longer") || strings.Contains(r.stdout, "Not read: GET") {
		t.Errorf("the list read whole: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	srv.Mutate(func(o *githubtest.Org) { o.Members = []string{"alice-smith", "carol", "dave"} })
	if r := nhi(t, env, args...); r.code != 0 || !strings.Contains(r.stdout, "1 person no longer a member of northwind: bob-jones (bob@northwind.example); marked left") {
		t.Errorf("bob gone: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestPeopleSyncGitHubListUncounted: a member list GitHub's GraphQL API
// could not count (its query refused) is not checked, and the sync says
// so; with --mark-leavers, a person it does not list is named, not said
// to have left nor marked left, and the output says how to proceed; with
// --accept-uncounted the list is taken as whole and they are.
func TestPeopleSyncGitHubListUncounted(t *testing.T) {
	t.Parallel()
	srv := githubtest.NewServer(peopleOrg())
	defer srv.Close()
	db := filepath.Join(t.TempDir(), "nhi.db")
	env := []string{"GITHUB_TOKEN=" + srv.Token(), "NHI_REVIEWER=alice@northwind.example"}
	args := []string{"people", "sync", "github", "--org", "northwind", "--api-url", srv.URL(), "--db", db, "--mark-leavers"}
	if r := nhi(t, env, args...); r.code != 0 || strings.Contains(r.stdout, "Not checked") {
		t.Fatalf("first sync: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// Bob is gone from the list GitHub sends, and nothing can count it.
	srv.Mutate(func(o *githubtest.Org) { o.Members = []string{"alice-smith", "carol", "dave"} })
	srv.Fail("/graphql", http.StatusForbidden)
	const notChecked = "Not checked: whether the member list (GET /orgs/northwind/members) is whole: GitHub sends it without a count, and GitHub's GraphQL API, which counts the members (organization.membersWithRole totalCount), did not answer (see Not read: members' roles, names and e-mails), so a list cut short would look whole; "
	for _, dry := range []bool{true, false} {
		a := args
		if dry {
			a = append(a[:len(a):len(a)], "--dry-run")
		}
		r := nhi(t, env, a...)
		if r.code != 0 {
			t.Fatalf("exit %d: %s%s", r.code, r.stdout, r.stderr)
		}
		for _, want := range []string{
			notChecked + "nobody it does not list is said to have left; give a token GitHub's GraphQL API answers, or pass --accept-uncounted to take the list as whole",
			"1 person not in the member list of northwind, which nobody could count: bob-jones (bob@northwind.example); not marked left, the list being uncounted: check whether they have left, then run again with --accept-uncounted",
		} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("dry run %v: want %q in\n%s", dry, want, r.stdout)
			}
		}
		if strings.Contains(r.stdout, "no longer") || strings.Contains(r.stdout, "marked left\n") || strings.Contains(r.stdout, "would be marked left") {
			t.Errorf("dry run %v: a list nobody counted said who left:\n%s", dry, r.stdout)
		}
		if bob := peopleJSON(t, db)["bob@northwind.example"]; bob.Status != "active" || bob.LeftAt != nil {
			t.Errorf("dry run %v: bob after an uncounted list: %+v", dry, bob)
		}
	}

	// Without --mark-leavers the line says how to mark them.
	if r := nhi(t, env, args[:len(args)-1]...); r.code != 0 || !strings.Contains(r.stdout, "bob-jones (bob@northwind.example); not said to have left: check whether they have, then pass --accept-uncounted with --mark-leavers to mark them left") {
		t.Errorf("without --mark-leavers: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// The user has checked: --accept-uncounted takes the list as whole.
	r := nhi(t, env, append(args, "--accept-uncounted")...)
	if r.code != 0 {
		t.Fatalf("exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{
		notChecked + "taken as whole, as --accept-uncounted asks",
		"1 person no longer a member of northwind: bob-jones (bob@northwind.example); marked left",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("--accept-uncounted: want %q in\n%s", want, r.stdout)
		}
	}
	if bob := peopleJSON(t, db)["bob@northwind.example"]; bob.Status != "left" || bob.LeftAt == nil {
		t.Errorf("bob after --accept-uncounted: %+v", bob)
	}
}
