package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/nhi-audit/nhi/connectors/github/githubtest"
)

// offboardOrg is the sample organisation served on loopback, whose former
// members added deploy keys and had write access to written, a repository
// with Actions secrets (so they could read them), read into a new
// evidence file db by snapshot, with the HR directory imported: current
// members active, former members left on 2026-10-31, all managed by
// manager; lead@northwind.example runs the audit.
type offboardOrg struct {
	org      *githubtest.Org
	srv      *githubtest.Server
	written  *githubtest.Repo
	db       string
	manager  string
	snapshot func()
}

func newOffboardOrg(t *testing.T) *offboardOrg {
	t.Helper()
	org := githubtest.SampleOrg(githubtest.DefaultSampleRepos)
	// Every former member had write access to one repository with
	// secrets: they could push a workflow that prints them (could-read).
	var written *githubtest.Repo
	for _, repo := range org.Repos {
		if len(repo.Secrets) > 0 {
			written = repo
			break
		}
	}
	if written == nil {
		t.Fatal("the sample has no repository with Actions secrets")
	}
	for _, m := range org.FormerMembers {
		written.Collaborators = append(written.Collaborators, githubtest.Collaborator{Login: m, RoleName: "write"})
	}
	srv := githubtest.NewServer(org)
	t.Cleanup(srv.Close)
	db := filepath.Join(t.TempDir(), "nhi.db")
	env := []string{"GITHUB_TOKEN=" + srv.Token()}
	snapshot := func() {
		t.Helper()
		if r := nhi(t, env, "snapshot", "github", "--org", "northwind", "--api-url", srv.URL(), "--db", db, "--as", "lead@northwind.example"); r.code != 0 {
			t.Fatalf("snapshot: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
	}
	snapshot()

	// The HR export: current members active, former members left, all
	// managed by the first engineer; the lead runs the audit.
	manager := org.Members[2]
	var b strings.Builder
	b.WriteString("email,name,github,status,left_at,manager\n")
	fmt.Fprintf(&b, "lead@northwind.example,Lead,,active,,\n")
	for _, m := range org.Members {
		mgr := manager + "@northwind.example"
		if m == manager {
			mgr = ""
		}
		fmt.Fprintf(&b, "%s@northwind.example,,%s,active,,%s\n", m, m, mgr)
	}
	for _, m := range org.FormerMembers {
		fmt.Fprintf(&b, "%s@northwind.example,,%s,left,2026-10-31,%s@northwind.example\n", m, m, manager)
	}
	ok(t, "people", "import", writeFile(t, "hr.csv", b.String()), "--db", db, "--as", "lead@northwind.example")
	return &offboardOrg{org: org, srv: srv, written: written, db: db, manager: manager, snapshot: snapshot}
}

// TestOffboardEndToEnd drives offboarding through the binary over the
// sample organisation, whose former members added deploy keys: the HR
// file marks them left, --pending names them, offboard freezes what the
// first one left behind, the manager transfers, rotates and decommissions,
// the organisation changes, the next snapshot proves it, and the evidence
// exports and verifies.
func TestOffboardEndToEnd(t *testing.T) {
	t.Parallel()
	o := newOffboardOrg(t)
	org, srv, written, db, manager, snapshot := o.org, o.srv, o.written, o.db, o.manager, o.snapshot

	var leavers []struct {
		Person struct {
			Email  string `json:"email"`
			GitHub string `json:"github"`
		} `json:"person"`
		Count    int    `json:"count"`
		OldestID string `json:"oldest_id"`
	}
	if err := json.Unmarshal([]byte(ok(t, "offboard", "--pending", "--json", "--db", db).stdout), &leavers); err != nil || len(leavers) == 0 {
		t.Fatalf("pending: %v %+v", err, leavers)
	}
	for i := 1; i < len(leavers); i++ {
		if leavers[i].Count > leavers[i-1].Count {
			t.Errorf("pending not by count: %+v", leavers)
		}
	}
	for _, l := range leavers {
		if !slices.Contains(org.FormerMembers, l.Person.GitHub) || l.Count == 0 || l.OldestID == "" {
			t.Errorf("pending lists %+v", l)
		}
	}
	text := ok(t, "offboard", "--pending", "--db", db).stdout
	leaver := leavers[0].Person
	head := counted(len(leavers), "leaver", "leavers") + " own, created or hold"
	if len(leavers) == 1 {
		head = "1 leaver owns, created or holds"
	}
	if !strings.Contains(text, head) || !strings.Contains(text, "Start with: nhi offboard "+leaver.Email) {
		t.Errorf("pending:\n%s", text)
	}

	// person: finds the same identities in any filter.
	var related []struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal([]byte(ok(t, "identities", "--filter", "person:"+leaver.Email+" status:active", "--json", "--db", db).stdout), &related); err != nil ||
		len(related) < leavers[0].Count {
		t.Errorf("identities --filter person:%s: %d (pending said %d), %v", leaver.Email, len(related), leavers[0].Count, err)
	}
	refused(t, 1, `person "nobody-here" is not in the directory of people`, "identities", "--filter", "person:nobody-here", "--db", db)
	// The table tags each match with how it relates to the person.
	if s := ok(t, "identities", "--filter", "person:"+leaver.Email+" kind:actions_secret", "--db", db).stdout; !strings.Contains(s, "RELATIONS") || !strings.Contains(s, "could-read") {
		t.Errorf("identities --filter person: is not tagged:\n%s", s)
	}

	// Bad input: nothing is written.
	refused(t, 1, "is not in the directory of people", "offboard", "nobody-here", "--db", db, "--as", "lead@northwind.example")
	refused(t, 2, "expected PERSON (or --scope EXPR, or --pending), got 2 arguments", "offboard", "nobody-here", "nor-here", "--db", db, "--as", "lead@northwind.example")
	refused(t, 2, "is after today", "offboard", leaver.GitHub, "--effective", time.Now().UTC().AddDate(0, 0, 2).Format("2006-01-02"), "--db", db, "--as", "lead@northwind.example")
	if s := ok(t, "campaign", "list", "--db", db).stdout; strings.Contains(s, "offboard-") {
		t.Fatalf("a refusal wrote a campaign:\n%s", s)
	}

	// A person who holds nothing: an empty campaign, said plainly.
	quiet := org.Members[len(org.Members)-1]
	r := ok(t, "offboard", "lead@northwind.example", "--reviewer", manager, "--allow-partial", "--db", db, "--as", quiet)
	if !strings.Contains(r.stdout, "Nothing to handle") {
		t.Errorf("empty offboarding:\n%s", r.stdout)
	}
	// --allow-partial took a snapshot that could not read everything:
	// "Nothing to handle" comes after what was not read, where it stood
	// alone as if the whole organisation had been seen.
	warn := regexp.MustCompile(`(?s)Warning: snapshot \d+ \(github/northwind\) is partial; 2 endpoints were not read, so what they left there may be incomplete:\n  GET \S+: .*Nothing to handle`)
	if !warn.MatchString(r.stdout) {
		t.Errorf("offboarding with --allow-partial does not say what was not read before its result:\n%s", r.stdout)
	}

	var created struct {
		Campaign  string   `json:"campaign"`
		Effective string   `json:"effective"`
		Reviewers []string `json:"reviewers"`
		Items     []struct {
			ID        string `json:"id"`
			Relations []struct {
				Kind string `json:"kind"`
			} `json:"relations"`
		} `json:"items"`
	}
	// The sample's snapshot could not read two endpoints: it says so.
	refused(t, 1, "could not read 2 endpoints, e.g.", "offboard", leaver.GitHub, "--db", db, "--as", "lead@northwind.example")
	r = ok(t, "offboard", "@"+strings.ToUpper(leaver.GitHub), "--allow-partial", "--json", "--db", db, "--as", "lead@northwind.example")
	if err := json.Unmarshal([]byte(r.stdout), &created); err != nil {
		t.Fatal(err, r.stdout)
	}
	name := "offboard-" + leaver.GitHub + "-2026-10-31"
	if created.Campaign != name || created.Effective != "2026-10-31" || !slices.Equal(created.Reviewers, []string{manager + "@northwind.example"}) ||
		len(created.Items) < leavers[0].Count {
		t.Fatalf("offboard: %+v (pending said %d)", created, leavers[0].Count)
	}
	// Their deploy keys, by repository.
	type keyRef struct {
		id   string
		repo *githubtest.Repo
		key  githubtest.DeployKey
	}
	var keys []keyRef
	for _, repo := range org.Repos {
		for _, k := range repo.DeployKeys {
			if k.AddedBy == leaver.GitHub {
				keys = append(keys, keyRef{fmt.Sprintf("github:northwind:github_deploy_key:%s/%d", repo.Name, k.ID), repo, k})
			}
		}
	}
	if len(keys) < 2 {
		t.Fatalf("the sample's top leaver added %d keys; the test needs two", len(keys))
	}
	for _, k := range keys {
		if !slices.ContainsFunc(created.Items, func(it struct {
			ID        string `json:"id"`
			Relations []struct {
				Kind string `json:"kind"`
			} `json:"relations"`
		}) bool {
			return it.ID == k.id && it.Relations[0].Kind == "created"
		}) {
			t.Errorf("%s (added by the leaver) is not in the campaign as created", k.id)
		}
	}

	// What she could read through her write access: the repository's
	// secrets, rotation candidates, but not its deploy keys.
	var couldRead []string
	for _, it := range created.Items {
		if slices.ContainsFunc(it.Relations, func(r struct {
			Kind string `json:"kind"`
		}) bool {
			return r.Kind == "could-read"
		}) {
			if !strings.Contains(it.ID, "_secret:") || !strings.Contains(it.ID, "/"+written.Name+"/") {
				t.Errorf("could-read %s: not a secret of %s", it.ID, written.Name)
			}
			couldRead = append(couldRead, it.ID)
		}
	}
	if len(couldRead) < len(written.Secrets) {
		t.Errorf("could-read: %v, want the %d secrets of %s at least", couldRead, len(written.Secrets), written.Name)
	}

	// campaign show lists them by relationship, each once, tagged.
	show := ok(t, "campaign", "show", name, "--db", db).stdout
	for _, want := range []string{"offboards   person " + leaver.Email + ", effective 2026-10-31", fmt.Sprintf("created (%d):", len(keys)),
		fmt.Sprintf("could read (%d):", len(couldRead)), "RELATIONS"} {
		if !strings.Contains(show, want) {
			t.Errorf("campaign show lacks %q:\n%s", want, show)
		}
	}
	if strings.Index(show, "created (") > strings.Index(show, "could read (") {
		t.Errorf("campaign show: could read before created:\n%s", show)
	}

	as := []string{"--db", db, "--as", manager}
	refused(t, 1, "is the person being offboarded", append([]string{"decide", name, keys[0].id, "transfer", "--to", leaver.Email}, as...)...)
	refused(t, 1, "left on 2026-10-31", append([]string{"decide", name, keys[0].id, "transfer", "--to", org.FormerMembers[len(org.FormerMembers)-1]}, as...)...)
	if leaver.GitHub == org.FormerMembers[len(org.FormerMembers)-1] {
		t.Fatal("the test needs another leaver to transfer to")
	}
	refused(t, 2, "--to PERSON goes with transfer", append([]string{"decide", name, keys[0].id, "transfer"}, as...)...)
	newOwner := org.Members[3]
	if r := ok(t, append([]string{"decide", name, keys[0].id, "transfer", "--to", newOwner}, as...)...); !strings.Contains(r.stdout, "owner recorded") {
		t.Errorf("transfer:\n%s", r.stdout)
	}
	// keys[1] is replaced by a key the reviewer names by its GitHub ID.
	refused(t, 2, "--replacement goes with rotate", append([]string{"decide", name, keys[1].id, "decommission", "--replacement", "99000001"}, as...)...)
	refused(t, 1, "only a deploy key is replaced", append([]string{"decide", name, couldRead[0], "rotate", "--replacement", "99000001", "--reason", "x"}, as...)...)
	if r := ok(t, append([]string{"decide", name, keys[1].id, "rotate", "--replacement", "99000001", "--reason", "the leaver had it"}, as...)...); !strings.Contains(r.stdout, "Replacement named: 99000001") {
		t.Errorf("rotate --replacement:\n%s", r.stdout)
	}
	var rest []string
	for _, it := range created.Items {
		switch {
		case it.ID == keys[0].id || it.ID == keys[1].id:
		case slices.Contains(couldRead, it.ID):
			ok(t, append([]string{"decide", name, it.ID, "rotate", "--reason", "she could push a workflow that prints it"}, as...)...)
		default:
			rest = append(rest, it.ID)
			ok(t, append([]string{"decide", name, it.ID, "decommission"}, as...)...)
		}
	}
	ok(t, "campaign", "close", name, "--yes", "--db", db, "--as", "lead@northwind.example")

	// The organisation acts: keys[1] replaced under the same title, the
	// rest deleted. The token's PAT lists stay unreadable (they need an
	// App), so whether the leaver's tokens are gone is not claimed.
	srv.Mutate(func(o *githubtest.Org) {
		for _, repo := range o.Repos {
			repo.DeployKeys = slices.DeleteFunc(repo.DeployKeys, func(k githubtest.DeployKey) bool {
				return k.AddedBy == leaver.GitHub && k.ID != keys[0].key.ID
			})
		}
		repo := o.Repo(keys[1].repo.Name)
		repl := keys[1].key
		repl.ID, repl.AddedBy, repl.CreatedAt = 99000001, manager, time.Now().UTC().Add(-time.Hour)
		repl.Key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBsIbpOgzEZjWRcssewgth8JVm1KU6lMQG3xkJFEOZo7"
		repo.DeployKeys = append(repo.DeployKeys, repl)
		// The secrets she could read are set anew.
		w := o.Repo(written.Name)
		for _, list := range [][]githubtest.Secret{w.Secrets, w.DependabotSecrets, w.CodespacesSecrets} {
			for i := range list {
				list[i].UpdatedAt = time.Now().UTC().Add(-time.Minute)
			}
		}
		for e := range w.Environments {
			for i := range w.Environments[e].Secrets {
				w.Environments[e].Secrets[i].UpdatedAt = time.Now().UTC().Add(-time.Minute)
			}
		}
	})
	snapshot()

	var vs []struct {
		Removed     []string          `json:"removed"`
		Rotated     []string          `json:"rotated"`
		Transferred []string          `json:"transferred"`
		NotChecked  []string          `json:"not_checked"`
		Detail      map[string]string `json:"detail"`
		Access      *string           `json:"access"`
	}
	r = ok(t, "campaign", "verify", name, "--json", "--db", db, "--as", "lead@northwind.example")
	if err := json.Unmarshal([]byte(r.stdout), &vs); err != nil || len(vs) != 1 {
		t.Fatal(err, r.stdout)
	}
	v := vs[0]
	slices.Sort(rest)
	rotated := append([]string{keys[1].id}, couldRead...)
	slices.Sort(rotated)
	if !slices.Equal(v.Transferred, []string{keys[0].id}) || !slices.Equal(v.Rotated, rotated) || !slices.Equal(v.Removed, rest) ||
		len(v.NotChecked) != 0 || v.Access == nil || *v.Access != "not-checked" ||
		!strings.Contains(v.Detail["access:github_fine_grained_pat"], "needs a GitHub App installation token") {
		t.Errorf("verify: %+v\nwant removed %v", v, rest)
	}
	if text := ok(t, "campaign", "verify", name, "--db", db, "--as", "lead@northwind.example").stdout; !strings.Contains(text, "Access not checked") ||
		!strings.Contains(text, "replaced by the named key github:northwind:github_deploy_key:"+keys[1].repo.Name+"/99000001") {
		t.Errorf("verify text:\n%s", text)
	}

	out := filepath.Join(t.TempDir(), "evidence")
	ok(t, "export", name, "--out", out, "--db", db)
	if _, err := os.Stat(filepath.Join(out, "manifest.json")); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(out, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"## Offboarding summary",
		"Offboards person " + leaver.Email + ", effective 2026-10-31",
		fmt.Sprintf("%d identities: %d done and proven, 0 remaining.", len(created.Items), len(created.Items)),
		fmt.Sprintf("Relationships found: created 2, could-read %d (%d identities).", len(couldRead), len(created.Items)),
		"Access seen: northwind/" + written.Name + " (write collaborator " + leaver.GitHub,
		"Access revoked: not-checked",
		"### created (2)", fmt.Sprintf("### could read (%d)", len(couldRead)),
		"| transfer to " + newOwner + "@northwind.example 20", "| transferred (snapshot 2) — owner " + newOwner + "@northwind.example since event ",
		"| rotate, replacement 99000001 20", "| rotated (snapshot 2) — replaced by the named key ",
	} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q:\n%s", want, md)
		}
	}
	var rep struct {
		Offboarding *struct {
			Person string `json:"person"`
			Items  []struct {
				Done bool `json:"done"`
			} `json:"items"`
		} `json:"offboarding"`
	}
	if b, err := os.ReadFile(filepath.Join(out, "report.json")); err != nil || json.Unmarshal(b, &rep) != nil || rep.Offboarding == nil ||
		rep.Offboarding.Person != leaver.Email || len(rep.Offboarding.Items) != len(created.Items) {
		t.Errorf("report.json offboarding: %+v %v", rep.Offboarding, err)
	}
	if r := ok(t, "verify", "--report", out, "--db", db); !strings.HasPrefix(r.stdout, "OK") {
		t.Errorf("verify --report:\n%s", r.stdout)
	}
	if r := ok(t, "verify", "--report", out); !strings.Contains(r.stdout, "every file agrees with report.json") {
		t.Errorf("verify --report without the evidence file:\n%s", r.stdout)
	}
	if r := ok(t, "verify", "--db", db); !strings.HasPrefix(r.stdout, "OK") {
		t.Errorf("verify:\n%s", r.stdout)
	}
	// Pending no longer names the leaver for what was removed; the key
	// transferred to newOwner is theirs now.
	if s := ok(t, "offboard", "--pending", "--json", "--db", db).stdout; strings.Contains(s, `"email":"`+leaver.Email+`"`) {
		t.Errorf("the leaver is still pending:\n%s", s)
	}
}

// TestOffboardWhyIsReadWhole: nhi offboard PERSON's WHY column says why
// each item is there, and is read whole: at 120 columns and at 80 its
// sentence wraps under the column where it was cut, at 80 the columns a
// reader can do without are hidden first and named under the table, and
// --wide, as a pipe, prints each on one line, hiding nothing.
func TestOffboardWhyIsReadWhole(t *testing.T) {
	t.Parallel()
	o := newOffboardOrg(t)
	leaver := o.org.FormerMembers[0]
	offboard := func(env []string, name string, extra ...string) string {
		t.Helper()
		r := nhi(t, env, append([]string{"offboard", leaver, "--name", name, "--allow-partial", "--db", o.db, "--as", "lead@northwind.example"}, extra...)...)
		if r.code != 0 {
			t.Fatalf("offboard: exit %d\n%s", r.code, r.stderr)
		}
		return r.stdout
	}
	var created struct {
		Items []struct {
			Relations []struct {
				Kind   string `json:"kind"`
				Detail string `json:"detail"`
			} `json:"relations"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(offboard(nil, "as-json", "--json")), &created); err != nil {
		t.Fatal(err)
	}
	var whys []string
	long := 0
	for _, it := range created.Items {
		for _, r := range it.Relations {
			if r.Kind == "could-read" {
				whys = append(whys, r.Detail)
				long = max(long, len(r.Detail))
			}
		}
	}
	if len(whys) == 0 || long < 60 {
		t.Fatalf("the test needs could-read items with a long WHY; got %d, the longest %d", len(whys), long)
	}
	words := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	for _, c := range []struct {
		name  string
		env   []string
		width int
	}{{"at-120", []string{"COLUMNS=120"}, 120}, {"at-80", []string{"COLUMNS=80"}, 80}} {
		out := offboard(c.env, c.name)
		for _, l := range strings.Split(out, "\n") {
			if ansi.StringWidth(l) > c.width {
				t.Errorf("%s: a line is %d cells wide: %q", c.name, ansi.StringWidth(l), l)
			}
		}
		for _, why := range whys {
			if !strings.Contains(words(out), words(why)) {
				t.Errorf("%s: WHY %q is not whole:\n%s", c.name, why, out)
			}
		}
		if hidden := strings.Contains(words(out), "2 columns hidden (SCOPE, LAST USED); --wide shows them"); hidden != (c.width == 80) {
			t.Errorf("%s: the columns hidden are named %v, want %v:\n%s", c.name, hidden, c.width == 80, out)
		}
	}
	for _, c := range []struct {
		name string
		env  []string
		args []string
	}{{"--wide", []string{"COLUMNS=80"}, []string{"--wide"}}, {"piped", nil, nil}} {
		wide := offboard(c.env, strings.TrimPrefix(c.name, "--"), c.args...)
		for _, why := range whys {
			if !slices.ContainsFunc(strings.Split(wide, "\n"), func(l string) bool { return strings.HasSuffix(l, "  "+why) }) {
				t.Errorf("%s: WHY %q is not on its row's line:\n%s", c.name, why, wide)
			}
		}
		if strings.Contains(wide, "hidden") || strings.Contains(wide, "…") {
			t.Errorf("%s hid columns or cut cells:\n%s", c.name, wide)
		}
	}
}
