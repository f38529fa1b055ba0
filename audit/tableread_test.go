package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// variedPopulation records, on s, a population with what a table read
// must get right: every source's kinds, several accounts and snapshots,
// identities removed and not checked (a gap), new and changed ones, a
// rename, owners (one a person who left), owner suggestions from the
// directory and from principals, a policy changed between snapshots, and
// attributes that need JSON's escapes. It returns how many identities
// Identities lists.
func variedPopulation(t *testing.T, s *Store) {
	t.Helper()
	if _, err := s.SetPeople(ctx, "root", PeopleImport{People: []Person{
		{Email: "sam@acme.example", Name: "Sam Rivera", Status: PersonActive, GitHub: "sam"},
		{Email: "dana@acme.example", Name: "Dana Fox", Status: PersonLeft, LeftAt: "2026-10-31", Aliases: []string{"dana"}},
	}}, false); err != nil {
		t.Fatal(err)
	}
	first := make([]Observation, 300)
	for i := range first {
		o := obs(fmt.Sprintf("item-%05d", i), Kinds[i%len(Kinds)])
		switch i % 6 {
		case 0:
			o.LastUsedAt = ts("2024-03-01T00:00:00Z")
			o.ExpiresAt = ts("2024-02-01T00:00:00Z")
		case 1:
			o.Attributes = map[string]string{"repository_selection": "all", "added_by": "dana"}
		case 2:
			o.Attributes = map[string]string{"has_secret": "false", "url": "http://hooks.example/\"x\"\t<y>"}
		case 3:
			o.Attributes, o.Permissions = nil, nil
		case 4:
			o.Attributes = map[string]string{"tag.Owner": "sam@acme.example", "user": "dana"}
		}
		first[i] = o
	}
	first = append(first, renamed("old"))
	w, err := s.BeginSnapshot(ctx, SnapshotInfo{Source: "github", Account: "acme", APIURL: "http://127.0.0.1/", ToolVersion: "test"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []Principal{
		{Type: PrincipalMember, Scope: "acme", Login: "alice", Role: "admin"},
		{Type: PrincipalCodeowner, Scope: "acme/item-00007", Login: "@acme/owners", Role: ""},
		{Type: PrincipalTeam, Scope: "acme/item-00008", Login: "acme/admins", Role: "admin"},
	} {
		if err := w.Principal(p); err != nil {
			t.Fatal(err)
		}
	}
	for _, o := range first {
		if err := w.Record(o); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Finish(ctx, nil); err != nil {
		t.Fatal(err)
	}
	for i, owner := range map[int]string{20: "carol", 21: "dana", 22: "sam@acme.example", 5: "gone-owner"} {
		if _, err := s.SetOwner(ctx, "auditor@acme.test", first[i].ID, owner); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.SetOwner(ctx, "auditor@acme.test", renamed("old").ID, "erin"); err != nil {
		t.Fatal(err)
	}
	p := DefaultPolicy()
	r := p.Rules[RuleStale]
	r.NeverUsedDays = 7
	p.Rules[RuleStale] = r
	p.FirstPartyApps = []string{"item-00000"}
	if _, err := s.SetPolicy(ctx, "root", p); err != nil {
		t.Fatal(err)
	}
	// The second snapshot removes 10 (one of them where a gap kept it from
	// looking: not checked), changes one, adds one, renames one.
	second := append([]Observation(nil), first[10:300]...)
	second[0].Permissions = map[string]string{"contents": "admin"}
	second = append(second, obs("item-new", KindGitHubDeployKey), renamed("new"))
	gap := Gap{Endpoint: "GET /repos/acme/item-00003/keys", Kind: first[3].Kind, Scope: first[3].Scope, Status: 403, Reason: "forbidden"}
	snapshot(t, s, nil, []Gap{gap}, second...)
	// Other sources and accounts, whose IDs sort among each other.
	snapshotOf(t, s, "aws", "123456789012", nil,
		Observation{ID: "aws:123456789012:aws_iam_user:dana", Kind: KindAWSIAMUser, Name: "dana", Scope: "123456789012",
			Attributes: map[string]string{"tag.Owner": "arn:aws:iam::1:user/dana"}},
		Observation{ID: "aws:123456789012:aws_access_key:AKIA1", Kind: KindAWSAccessKey, Name: "AKIA1", Scope: "123456789012",
			CreatedAt: ts("2020-01-01T00:00:00Z"), Attributes: map[string]string{"user": "dana", "status": "Active"}})
	snapshotOf(t, s, "k8s", "prod", nil,
		Observation{ID: "k8s:prod:k8s_service_account:default/ci", Kind: KindK8sServiceAccount, Name: "ci", Scope: "default",
			Attributes: map[string]string{"label.team": "platform"}, Permissions: map[string]string{"secrets": "get,list"}})
	snapshotOf(t, s, "x509", "certs", nil,
		Observation{ID: "x509:certs:x509_certificate:ab12", Kind: KindX509Certificate, Name: "www.acme.example", Scope: "/etc/ssl/a.pem",
			ExpiresAt: ts("2024-01-01T00:00:00Z"), Attributes: map[string]string{"key_bits": "1024", "self_signed": "true"}})
	snapshotOf(t, s, "hr", "idp", nil,
		Observation{ID: "hr:idp:import_sso_app:payroll", Kind: "import_sso_app", Name: "payroll", Scope: "idp", LastUsedAt: ts("2023-01-01T00:00:00Z")})
}

// TestEachTableIdentityMatchesIdentities: the table's read gives every
// identity Identities lists, field for field, in the same order, on both
// engines, across batches and pages that mix snapshots.
func TestEachTableIdentityMatchesIdentities(t *testing.T) {
	eachEngine(t, func(t *testing.T, eng testEngine) {
		defer func(n, c int) { eachBatch, deriveChunk = n, c }(eachBatch, deriveChunk)
		eachBatch, deriveChunk = 64, 7 // chunks that end inside pages
		defer func(n int) { keyedPrincipals = n }(keyedPrincipals)
		s := openAt(t, eng.new(t))
		variedPopulation(t, s)
		want, err := s.Identities(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// The principals read whole, by key for every identity, and by
		// key for the first pages and then whole.
		for _, keyed := range []int{0, 1 << 30, 100} {
			keyedPrincipals = keyed
			tableReadEquals(t, s, want)
		}
		seen := map[string]int{}
		for i := range want {
			seen[want[i].Status+"/"+want[i].Change]++
			seen[want[i].Source]++
			if want[i].Owner != "" {
				seen["owned"]++
			}
			if len(want[i].Suggestions) > 0 {
				seen["suggested"]++
			}
			for _, f := range want[i].Findings {
				seen[f.Rule]++
			}
		}
		// The fixture has what it claims, so the comparison covers it.
		for k, n := range map[string]int{"removed/": 9, "not-checked/": 1, "active/new": 1, "active/changed": 2,
			"aws": 2, "k8s": 1, "x509": 1, "hr": 1, "owned": 5, RuleOrphaned: 1, RuleStale: 1, RuleExpired: 1, RuleBroadScope: 1} {
			if seen[k] < n {
				t.Errorf("the fixture should have at least %d %q; it has %d (%v)", n, k, seen[k], seen)
			}
		}
		if seen["suggested"] == 0 {
			t.Errorf("no identity has owner suggestions: %v", seen)
		}
	})
}

// tableReadEquals fails t unless s's table read, and its read for an
// output (StreamIdentities), give want, identity for identity, and so do
// the read without suggestions and a Suggester after it.
func tableReadEquals(t *testing.T, s *Store, want []Identity) {
	t.Helper()
	tableReadsEqual(t, s, want)
	suggestedLaterEquals(t, s, want)
}

// tableReadsEqual is tableReadEquals without the suggestions derived
// after the read.
func tableReadsEqual(t *testing.T, s *Store, want []Identity) {
	t.Helper()
	for _, read := range []struct {
		name string
		each func(context.Context, func(*Identity) error) error
	}{{"EachTableIdentity", s.EachTableIdentity}, {"StreamIdentities", s.StreamIdentities}} {
		var got []Identity
		if err := read.each(ctx, func(id *Identity) error {
			c := keptCopy(id)
			got = append(got, c)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("%s gave %d identities, Identities %d", read.name, len(got), len(want))
		}
		for i := range want {
			if !reflect.DeepEqual(got[i], want[i]) {
				t.Fatalf("identity %d differs:\n%s %+v\nIdentities %+v", i, read.name, got[i], want[i])
			}
		}
	}
}

// suggestedLaterEquals fails t unless the table read without suggestions
// gives want with none, and a Suggester then gives each identity want's,
// in batches of a few, with a snapshot's principals read by key and then
// whole (wholePrincipalsAfter).
func suggestedLaterEquals(t *testing.T, s *Store, want []Identity) {
	t.Helper()
	defer func(n int) { wholePrincipalsAfter = n }(wholePrincipalsAfter)
	for _, whole := range []int{1, 3, 1 << 30} {
		wholePrincipalsAfter = whole
		var got []Identity
		if err := s.EachTableIdentityWithoutSuggestions(ctx, func(id *Identity) error {
			if id.Suggestions != nil {
				t.Fatalf("%s has suggestions: %v", id.ID, id.Suggestions)
			}
			got = append(got, keptCopy(id))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("EachTableIdentityWithoutSuggestions gave %d identities, Identities %d", len(got), len(want))
		}
		g, err := s.Suggester(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// Given only the attributes suggestions read
		// (SuggestionAttribute), as the TUI gives them.
		some := make([]Identity, len(got))
		for i := range got {
			some[i] = got[i]
			some[i].Attributes = maps.Clone(got[i].Attributes)
			maps.DeleteFunc(some[i].Attributes, func(k, _ string) bool { return !SuggestionAttribute(k) })
		}
		for start := 0; start < len(some); start += 5 {
			if err := g.Suggest(ctx, some[start:min(start+5, len(some))]); err != nil {
				t.Fatal(err)
			}
		}
		for i := range got {
			got[i].Suggestions = some[i].Suggestions
		}
		g.Close()
		for i := range want {
			if !reflect.DeepEqual(got[i], want[i]) {
				t.Fatalf("identity %d differs (whole after %d):\nsuggested after the read %+v\nIdentities %+v", i, whole, got[i], want[i])
			}
		}
	}
}

// keptCopy is what a caller of the table read keeps of id: its maps,
// findings and times are reused for the identities after it.
func keptCopy(id *Identity) Identity {
	c := *id
	c.Attributes, c.Permissions = maps.Clone(id.Attributes), maps.Clone(id.Permissions)
	c.Findings = slices.Clone(id.Findings)
	for _, t := range []**time.Time{&c.CreatedAt, &c.LastUsedAt, &c.RotatedAt, &c.ExpiresAt} {
		if *t != nil {
			v := **t
			*t = &v
		}
	}
	return c
}

// TestEachTableIdentityReadOnly: the table read reads a file opened
// read-only the same, with the last writes still in the write-ahead log
// of a writer that has it open, and through an immutable connection
// (readableOn, read-only media).
func TestEachTableIdentityReadOnly(t *testing.T) {
	defer func(n int) { eachBatch = n }(eachBatch)
	eachBatch = 64
	path := testEngine{"sqlite"}.new(t)
	w := openAt(t, path)
	variedPopulation(t, w)
	want, err := w.Identities(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path + "-wal"); err != nil || fi.Size() == 0 {
		t.Fatalf("the writes should still be in the write-ahead log: %v", err)
	}
	t.Run("wal", func(t *testing.T) {
		r, err := Open(ctx, path, OpenOptions{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		tableReadEquals(t, r, want)
	})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	t.Run("immutable", func(t *testing.T) {
		r, err := Open(ctx, path, OpenOptions{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		// As readableOn opens a file it cannot read otherwise.
		r.db.Close()
		if r.db, err = sql.Open("sqlite", immutableDSN(path)); err != nil {
			t.Fatal(err)
		}
		tableReadEquals(t, r, want)
	})
}

// TestEachTableIdentityUnpackable: a name, scope or ID holding the
// packed read's separator of columns (packSep) or of rows (rowSep) is
// read whole: its page is read again column by column, the pages around
// it packed.
func TestEachTableIdentityUnpackable(t *testing.T) {
	defer func(n int) { eachBatch = n }(eachBatch)
	eachBatch = 2
	s := openAt(t, testEngine{"sqlite"}.new(t))
	var o []Observation
	for i := range 16 {
		o = append(o, obs(fmt.Sprintf("item-%02d", i), KindGitHubDeployKey))
	}
	o[4].Name = "deploy" + packSep + "key"
	o[6].Scope = "acme/" + packSep
	o[7].Attributes = map[string]string{"note": "a" + packSep + "b"}
	o[9].Name = "deploy" + rowSep + "key"
	o[11].Scope = "acme/" + rowSep
	o[12].Attributes = map[string]string{"note": "a" + rowSep + "b"}
	// IDs, which the identities' rows hold too.
	o[14].ID += rowSep + "x"
	o[15].ID += packSep + "x"
	snapshot(t, s, nil, nil, o...)
	// An owner, the last column of its row, that reads as the end of
	// one row and a row of its own.
	if _, err := s.SetOwner(ctx, "lead", o[2].ID, "bob"+rowSep+o[3].ID+packSep+"mallory"); err != nil {
		t.Fatal(err)
	}
	want, err := s.Identities(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tableReadEquals(t, s, want)
	if want[3].Owner != "" {
		t.Fatalf("%s is owned by %q", want[3].ID, want[3].Owner)
	}
	texts := 0
	for _, id := range want {
		if strings.ContainsAny(id.ID+id.Name+id.Scope+id.Attributes["note"], packSep+rowSep) {
			texts++
		}
	}
	if texts != 8 {
		t.Fatalf("the store kept %d of the 8 texts with a separator", texts)
	}
}

// TestPrincipalsHoldingASeparator: principals whose texts hold a
// separator of the packed read are read again column by column, as a
// page of identities is, and suggested whole, by every read: whole and
// by the keys of the first identities' scopes, and in pages whose
// separators stand first, last and after the first page's key.
func TestPrincipalsHoldingASeparator(t *testing.T) {
	s := openAt(t, testEngine{"sqlite"}.new(t))
	w, err := s.BeginSnapshot(ctx, SnapshotInfo{Source: "github", Account: "acme", APIURL: "http://127.0.0.1/", ToolVersion: "test"})
	if err != nil {
		t.Fatal(err)
	}
	// In suggestOwners' order: CODEOWNERS, then admins.
	logins := []string{"ann" + packSep + "bo", "eve", "cy" + rowSep + "di"}
	for _, p := range []Principal{
		// First in the key's order, clean: the first page of one.
		{PrincipalCodeowner, "acme/aaa", "al", "codeowner"},
		{PrincipalCodeowner, "acme/api", logins[0], "codeowner"},
		{PrincipalCodeowner, "acme/api", logins[1], "codeowner"},
		{PrincipalCollaborator, "acme/api", logins[2], "admin"},
		{PrincipalCodeowner, "acme/web", "wes", "codeowner"},
	} {
		if err := w.Principal(p); err != nil {
			t.Fatal(err)
		}
	}
	for _, scope := range []string{"acme/api", "acme/web"} {
		if err := w.Record(Observation{ID: IdentityID("github", "acme", KindGitHubActionsSecret, scope+"/TOKEN"), Kind: KindGitHubActionsSecret, Name: "TOKEN", Scope: scope}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Finish(ctx, nil); err != nil {
		t.Fatal(err)
	}
	want, err := s.Identities(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var owners []string
	for _, sg := range want[0].Suggestions {
		owners = append(owners, sg.Owner)
	}
	if want[0].Scope != "acme/api" || !reflect.DeepEqual(owners, logins) {
		t.Fatalf("%s is suggested %q, want %q", want[0].ID, owners, logins)
	}
	defer func(n, p int) { keyedPrincipals, principalPage = n, p }(keyedPrincipals, principalPage)
	for _, page := range []int{1, 2, 3, 4096} {
		principalPage = page
		for _, keyed := range []int{0, 1 << 30} {
			keyedPrincipals = keyed
			tableReadEquals(t, s, want)
		}
	}
}

// TestEachTableIdentityPageTooBig: a page whose rows make a text longer
// than SQLite makes one is read again column by column, not failed.
func TestEachTableIdentityPageTooBig(t *testing.T) {
	defer func(n int) { eachBatch = n }(eachBatch)
	eachBatch = 64
	s := openAt(t, testEngine{"sqlite"}.new(t))
	var o []Observation
	for i := range 100 {
		o = append(o, obs(fmt.Sprintf("item-%03d", i), KindGitHubDeployKey))
	}
	snapshot(t, s, nil, nil, o...)
	want, err := s.Identities(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Connections whose texts stop at 2,000 bytes, a row's fit, a page's
	// do not, left idle in the pool for the read to take.
	s.db.SetMaxIdleConns(8)
	var conns []*sql.Conn
	for range 8 {
		conn, err := s.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sqlite.Limit(conn, sqlite3.SQLITE_LIMIT_LENGTH, 2000); err != nil {
			t.Fatal(err)
		}
		conns = append(conns, conn)
	}
	var long string
	err = conns[0].QueryRowContext(ctx, `SELECT group_concat(id) FROM identities`).Scan(&long)
	if !errors.Is(tooBig(err), errUnpackable) {
		t.Fatalf("the identities' IDs in one text: %v, want SQLITE_TOOBIG", err)
	}
	for _, c := range conns {
		c.Close()
	}
	tableReadEquals(t, s, want)
}

// TestEachTableIdentityStops: fn's error ends the read and is returned as
// it is; a context ended part way is the read's error, never a short
// population presented as whole.
func TestEachTableIdentityStops(t *testing.T) {
	eachEngine(t, func(t *testing.T, eng testEngine) {
		defer func(n int) { eachBatch = n }(eachBatch)
		eachBatch = 64
		s := openAt(t, eng.new(t))
		all := make([]Observation, 600)
		for i := range all {
			all[i] = obs(fmt.Sprintf("item-%05d", i), KindGitHubDeployKey)
		}
		snapshot(t, s, nil, nil, all...)
		stop := errors.New("stop")
		calls := 0
		if err := s.EachTableIdentity(ctx, func(*Identity) error { calls++; return stop }); !errors.Is(err, stop) || calls != 1 {
			t.Errorf("EachTableIdentity = %v after %d calls, want the callback's error after 1", err, calls)
		}
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		calls = 0
		err := s.EachTableIdentity(cctx, func(*Identity) error {
			if calls++; calls == 100 {
				cancel()
			}
			return nil
		})
		if !errors.Is(err, context.Canceled) || calls >= len(all) {
			t.Errorf("cancelled after 100 identities: %v after %d calls, want context.Canceled before all %d", err, calls, len(all))
		}
	})
}

// The suggestions fill shares between identities of a snapshot and scope
// (and leaves out where the scope has none to give) are what
// suggestOwners gives each identity by itself: for repository scopes
// with CODEOWNERS, teams and admins and without, environment scopes
// under a repository, the organisation's own scope, Kubernetes
// namespaces, and identities whose attributes or names point to their
// own owners, in both reads.
func TestSharedSuggestionsAreEachIdentitys(t *testing.T) {
	eachEngine(t, testSharedSuggestions)
}

func testSharedSuggestions(t *testing.T, eng testEngine) {
	defer func(n, p int) { eachBatch, principalPage = n, p }(eachBatch, principalPage)
	eachBatch = 16
	principalPage = 2 // a snapshot's principals read whole, in pages
	s := openAt(t, eng.new(t))
	if _, err := s.SetPeople(ctx, "root", PeopleImport{People: []Person{
		{Email: "dana@acme.example", Name: "Dana Fox", Status: PersonActive, Aliases: []string{"dana"}},
	}}, false); err != nil {
		t.Fatal(err)
	}
	w, err := s.BeginSnapshot(ctx, SnapshotInfo{Source: "github", Account: "acme", APIURL: "http://127.0.0.1/", ToolVersion: "test"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []Principal{
		{PrincipalCodeowner, "acme/api", "@acme/payments", "codeowner"},
		{PrincipalTeam, "acme/api", "acme/platform", "admin"},
		{PrincipalCollaborator, "acme/web", "erin", "admin"},
		{PrincipalMember, "acme", "olive", "admin"},
		// Dave as an admin, whom an identity's own added_by names too:
		// suggested once, as what its attributes say.
		{PrincipalCollaborator, "acme/web", "Dave", "admin"},
		// Principals that suggest no one (principalsOf leaves them out):
		// acme/docs has only these.
		{PrincipalCollaborator, "acme/docs", "wendy", "write"},
		{PrincipalTeam, "acme/docs", "acme/readers", "read"},
		{PrincipalMember, "acme", "mark", "member"},
		{PrincipalTeamMember, "acme/platform", "tess", "member"},
		// Scopes a collation other than the bytes' (PostgreSQL's) may
		// order otherwise: principals.in searches in the bytes' order.
		{PrincipalCodeowner, "acme/Zeta", "zoe", "codeowner"},
		{PrincipalCodeowner, "acme/alpha", "al", "codeowner"},
		{PrincipalCodeowner, "acme/Beta", "bo", "codeowner"},
	} {
		if err := w.Principal(p); err != nil {
			t.Fatal(err)
		}
	}
	var all []Observation
	for i, scope := range []string{"acme/api", "acme/api/production", "acme/web", "acme/docs", "acme", "acme/docs/staging", "acme/Zeta", "acme/alpha", "acme/Beta"} {
		for j, kind := range []Kind{KindGitHubDeployKey, KindGitHubActionsSecret, KindGitHubWebhook} {
			o := Observation{ID: IdentityID("github", "acme", kind, fmt.Sprintf("%s/%d", scope, j)), Kind: kind, Name: fmt.Sprint(j), Scope: scope}
			if (i+j)%4 == 0 {
				o.Attributes = map[string]string{"added_by": "dave"}
			}
			all = append(all, o)
		}
	}
	for _, o := range all {
		if err := w.Record(o); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Finish(ctx, nil); err != nil {
		t.Fatal(err)
	}
	snapshotOf(t, s, "aws", "123456789012", nil,
		Observation{ID: "aws:123456789012:aws_iam_user:dana", Kind: KindAWSIAMUser, Name: "dana", Scope: "123456789012"},
		Observation{ID: "aws:123456789012:aws_iam_role:ci", Kind: KindAWSIAMRole, Name: "ci", Scope: "123456789012"})
	snapshotOf(t, s, "k8s", "prod", nil,
		Observation{ID: "k8s:prod:k8s_service_account:ci/a", Kind: KindK8sServiceAccount, Name: "a", Scope: "ci",
			Attributes: map[string]string{"namespace": "ci", "namespace_label.team": "platform"}},
		Observation{ID: "k8s:prod:k8s_service_account:ci/b", Kind: KindK8sServiceAccount, Name: "b", Scope: "ci",
			Attributes: map[string]string{"namespace": "ci", "namespace_label.team": "platform", "label.owner": "sam"}},
		Observation{ID: "k8s:prod:k8s_service_account:web/c", Kind: KindK8sServiceAccount, Name: "c", Scope: "web",
			Attributes: map[string]string{"namespace": "web"}})

	people, err := s.People(ctx)
	if err != nil {
		t.Fatal(err)
	}
	snaps := map[int64]bool{}
	got, err := s.Identities(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := range got {
		snaps[got[i].SnapshotID] = true
	}
	idx, err := s.principalsOf(ctx, snaps)
	if err != nil {
		t.Fatal(err)
	}
	// Every principal, as principalsOf read them before it left out
	// those that suggest no one.
	every := principalIndex{}
	for sn := range snaps {
		rows, err := s.db.QueryContext(ctx, `SELECT type, scope, login, role FROM principals WHERE snapshot_id = ? ORDER BY type, scope, login`, sn)
		if err != nil {
			t.Fatal(err)
		}
		var pt principalText
		for rows.Next() {
			var p Principal
			if err := rows.Scan(&p.Type, &p.Scope, &p.Login, &p.Role); err != nil {
				t.Fatal(err)
			}
			pt.add(p.Type, p.Scope, p.Login, p.Role)
		}
		rows.Close()
		every[sn] = pt.index()
	}
	suggested := 0
	check := func(read string, id *Identity) {
		want := idx.suggestOwners(id, people)
		if len(want) > 0 {
			suggested++
		}
		if !reflect.DeepEqual(id.Suggestions, want) {
			t.Errorf("%s: %s (scope %s) is suggested %v; by itself, %v", read, id.ID, id.Scope, id.Suggestions, want)
		}
		if all := every.suggestOwners(id, people); !reflect.DeepEqual(want, all) {
			t.Errorf("%s: %s (scope %s) is suggested %v; with every principal, %v", read, id.ID, id.Scope, want, all)
		}
	}
	for i := range got {
		check("Identities", &got[i])
	}
	defer func(n int) { keyedPrincipals = n }(keyedPrincipals)
	for _, keyed := range []int{0, 1 << 30, 10} { // as in TestEachTableIdentityMatchesIdentities
		keyedPrincipals = keyed
		read := fmt.Sprintf("EachTableIdentity (the first %d by key)", keyed)
		if err := s.EachTableIdentity(ctx, func(id *Identity) error { check(read, id); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	// Each chunk's principals by key, the lists of scopes dropped with it
	// (chunks of 3 end inside a scope's run of identities).
	defer func(n int) { deriveChunk = n }(deriveChunk)
	deriveChunk = 3
	if err := s.StreamIdentities(ctx, func(id *Identity) error { check("StreamIdentities", id); return nil }); err != nil {
		t.Fatal(err)
	}
	// A webhook of acme/web that names its own owner: its own first,
	// then its repository's, Dave not twice.
	webhook := IdentityID("github", "acme", KindGitHubWebhook, "acme/web/2")
	for i := range got {
		if got[i].ID != webhook {
			continue
		}
		want := []OwnerSuggestion{{Owner: "dave", Source: "added the key"}, {Owner: "erin", Source: "admin of acme/web"}}
		if !reflect.DeepEqual(got[i].Suggestions, want) {
			t.Errorf("%s is suggested %v, want %v", webhook, got[i].Suggestions, want)
		}
	}
	for i := range got {
		switch got[i].Scope {
		case "acme/Zeta", "acme/alpha", "acme/Beta":
			if sg := got[i].Suggestions; len(sg) == 0 || sg[len(sg)-1].Source != "CODEOWNERS of "+got[i].Scope {
				t.Errorf("%s is suggested %v, want its scope's CODEOWNERS last", got[i].ID, sg)
			}
		}
	}
	if n := len(all) + 5; len(got) != n || suggested < n {
		t.Errorf("%d identities, %d suggested anyone; the fixture has %d, most with suggestions", len(got), suggested, n)
	}
	// The same suggestions derived after a read without them.
	suggestedLaterEquals(t, s, got)
}

// TestFirstIdentitiesDoNotWaitForPrincipals: a read in batches hands over
// its first identities while the read of their snapshot's principals
// (half a million in a large organisation) is still held back, and with
// the owners their scopes' principals suggest: here a first identity's
// repository, acme/zz, whose team sorts after every other principal of
// the snapshot, and the organisation's admin for an identity of its own
// scope. The identities after them wait for the whole read and are
// suggested what Identities suggests.
func TestFirstIdentitiesDoNotWaitForPrincipals(t *testing.T) {
	eachEngine(t, func(t *testing.T, eng testEngine) {
		defer func(n, c, k int) { eachBatch, deriveChunk, keyedPrincipals = n, c, k }(eachBatch, deriveChunk, keyedPrincipals)
		defer func(f func(context.Context, *Store, int64) (principals, error)) { wholePrincipals = f }(wholePrincipals)
		eachBatch, deriveChunk, keyedPrincipals = 16, 4, 16
		s := openAt(t, eng.new(t))
		w, err := s.BeginSnapshot(ctx, SnapshotInfo{Source: "github", Account: "acme", APIURL: "http://127.0.0.1/", ToolVersion: "test"})
		if err != nil {
			t.Fatal(err)
		}
		ps := []Principal{
			{PrincipalMember, "acme", "olive", "admin"},
			{PrincipalTeam, "acme/zz", "acme/platform", "admin"},
		}
		var all []Observation
		for i := range 60 {
			repo := fmt.Sprintf("acme/r-%03d", i)
			ps = append(ps, Principal{PrincipalCodeowner, repo, fmt.Sprintf("@acme/team-%03d", i), "codeowner"})
			all = append(all, Observation{ID: IdentityID("github", "acme", KindGitHubDeployKey, repo+"/key"),
				Kind: KindGitHubDeployKey, Name: "key", Scope: repo})
		}
		// Actions secrets come before deploy keys in ID order: the first page.
		all = append(all,
			Observation{ID: IdentityID("github", "acme", KindGitHubActionsSecret, "acme/zz/TOKEN"), Kind: KindGitHubActionsSecret, Name: "TOKEN", Scope: "acme/zz"},
			Observation{ID: IdentityID("github", "acme", KindGitHubActionsSecret, "acme/ORG_TOKEN"), Kind: KindGitHubActionsSecret, Name: "ORG_TOKEN", Scope: "acme"})
		for _, p := range ps {
			if err := w.Principal(p); err != nil {
				t.Fatal(err)
			}
		}
		for _, o := range all {
			if err := w.Record(o); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := w.Finish(ctx, nil); err != nil {
			t.Fatal(err)
		}
		want, err := s.Identities(ctx)
		if err != nil {
			t.Fatal(err)
		}
		suggested := map[string]string{}
		for i := range want {
			if sg := want[i].Suggestions; len(sg) > 0 {
				suggested[want[i].ID] = sg[0].Owner
			}
		}
		for id, owner := range map[string]string{all[60].ID: "@acme/platform", all[61].ID: "olive", all[59].ID: "@acme/team-059"} {
			if suggested[id] != owner {
				t.Fatalf("Identities suggests %q for %s, want %q: the fixture is not what the test needs", suggested[id], id, owner)
			}
		}
		release := make(chan struct{})
		wholePrincipals = func(ctx context.Context, s *Store, sn int64) (principals, error) {
			select {
			case <-release:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			return s.principalsOfSnapshot(ctx, sn, nil)
		}
		tctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		var got []Identity
		err = s.EachTableIdentity(tctx, func(id *Identity) error {
			if got = append(got, keptCopy(id)); len(got) == keyedPrincipals {
				close(release) // the first identities are in: the principals may come
			}
			return nil
		})
		if err != nil {
			t.Fatalf("the read ended with %v after %d identities: the first %d should not wait for the principals read whole", err, len(got), keyedPrincipals)
		}
		if len(got) != len(want) {
			t.Fatalf("the table read gave %d identities, Identities %d", len(got), len(want))
		}
		for i := range want {
			if !reflect.DeepEqual(got[i], want[i]) {
				t.Fatalf("identity %d differs:\ntable read %+v\nIdentities %+v", i, got[i], want[i])
			}
		}
	})
}

// TestFewIdentitiesOfASnapshotReadItsPrincipalsByKey: the identities an
// older snapshot still holds (removed since) are few, and its principals
// are read for them by key, not whole (half a million in a large
// organisation, read for a handful); the snapshot that holds many is
// read whole. Either way each identity is suggested what Identities
// suggests.
func TestFewIdentitiesOfASnapshotReadItsPrincipalsByKey(t *testing.T) {
	eachEngine(t, func(t *testing.T, eng testEngine) {
		defer func(n, c, k, w int) { eachBatch, deriveChunk, keyedPrincipals, wholePrincipalsAfter = n, c, k, w }(eachBatch, deriveChunk, keyedPrincipals, wholePrincipalsAfter)
		defer func(f func(context.Context, *Store, int64) (principals, error)) { wholePrincipals = f }(wholePrincipals)
		eachBatch, deriveChunk, keyedPrincipals, wholePrincipalsAfter = 16, 4, 16, 8
		s := openAt(t, eng.new(t))
		record := func(repos int, removed ...string) int64 {
			w, err := s.BeginSnapshot(ctx, SnapshotInfo{Source: "github", Account: "acme", APIURL: "http://127.0.0.1/", ToolVersion: "test"})
			if err != nil {
				t.Fatal(err)
			}
			scopes := removed
			for i := range repos {
				scopes = append(scopes, fmt.Sprintf("acme/r-%03d", i))
			}
			for _, repo := range scopes {
				if err := w.Principal(Principal{PrincipalCodeowner, repo, "@acme/owners-of-" + repo[len("acme/"):], "codeowner"}); err != nil {
					t.Fatal(err)
				}
				if err := w.Record(Observation{ID: IdentityID("github", "acme", KindGitHubDeployKey, repo+"/key"),
					Kind: KindGitHubDeployKey, Name: "key", Scope: repo}); err != nil {
					t.Fatal(err)
				}
			}
			sn, err := w.Finish(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			return sn.ID
		}
		older := record(40, "acme/gone-1", "acme/gone-2")
		newer := record(40)
		want, err := s.Identities(ctx)
		if err != nil {
			t.Fatal(err)
		}
		olderHeld := 0
		for i := range want {
			if want[i].SnapshotID != older {
				continue
			}
			olderHeld++
			if sg := want[i].Suggestions; len(sg) == 0 || sg[0].Owner != "@acme/owners-of-"+want[i].Scope[len("acme/"):] {
				t.Fatalf("Identities suggests %v for %s: the fixture is not what the test needs", sg, want[i].ID)
			}
		}
		if olderHeld != 2 {
			t.Fatalf("%d identities last seen in the older snapshot, want 2", olderHeld)
		}
		var mu sync.Mutex
		whole := map[int64]int{}
		wholePrincipals = func(ctx context.Context, s *Store, sn int64) (principals, error) {
			mu.Lock()
			whole[sn]++
			mu.Unlock()
			return s.principalsOfSnapshot(ctx, sn, nil)
		}
		tableReadsEqual(t, s, want)
		if !reflect.DeepEqual(whole, map[int64]int{newer: 1}) {
			t.Errorf("principals read whole, by snapshot: %v; want the newer's (%d) once, not the older's (%d), which holds 2 identities", whole, newer, older)
		}
		// A Suggester after a read without suggestions reads them so too.
		clear(whole)
		var got []Identity
		if err := s.EachTableIdentityWithoutSuggestions(ctx, func(id *Identity) error {
			got = append(got, keptCopy(id))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		g, err := s.Suggester(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for start := 0; start < len(got); start += 16 {
			if err := g.Suggest(ctx, got[start:min(start+16, len(got))]); err != nil {
				t.Fatal(err)
			}
		}
		g.Close()
		if !reflect.DeepEqual(got, want) {
			t.Error("the suggestions derived after the read differ from Identities'")
		}
		if !reflect.DeepEqual(whole, map[int64]int{newer: 1}) {
			t.Errorf("the Suggester read principals whole, by snapshot: %v; want the newer's (%d) once, not the older's (%d)", whole, newer, older)
		}
	})
}

// TestIsOwnerAttribute: the filter before the map of owner attributes
// lets every owner attribute through and tells others without it.
func TestIsOwnerAttribute(t *testing.T) {
	for k := range ownerAttributes {
		if !isOwnerAttribute(k) {
			t.Errorf("%q is an owner attribute, but isOwnerAttribute says not", k)
		}
	}
	for _, k := range []string{"", "lineage", "fingerprint", "repository_id", "owners", "tag.Team", "label.owner2", "user", strings.Repeat("o", 70)} {
		if isOwnerAttribute(k) {
			t.Errorf("%q is no owner attribute, but isOwnerAttribute says it is", k)
		}
	}
}
