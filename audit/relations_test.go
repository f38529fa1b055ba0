package audit

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// relationsFixture is an organisation where ana (alias "ana-s", e-mail
// ana@acme.test) left: she added one key, holds a PAT and an SSO
// authorization, owns a secret by record, is the top suggestion of a
// webhook-less repository's key, and administered acme/api (so its
// secrets are rotation candidates). ben, still here, holds the rest.
func relationsFixture(t testing.TB) (*Store, *Directory) {
	t.Helper()
	s := openNew(t)
	if _, err := s.SetPeople(ctx, "root", PeopleImport{People: []Person{
		{Email: "ana@acme.test", Name: "Ana", GitHub: "ana-s", Status: PersonLeft, LeftAt: "2026-10-31", Manager: "cleo@acme.test"},
		{Email: "ben@acme.test", GitHub: "ben"},
		{Email: "cleo@acme.test", GitHub: "cleo"},
	}}, false); err != nil {
		t.Fatal(err)
	}
	w, err := s.BeginSnapshot(ctx, SnapshotInfo{Source: "github", Account: "acme", APIURL: "http://127.0.0.1/", ToolVersion: "test"})
	if err != nil {
		t.Fatal(err)
	}
	rec := func(kind Kind, key, scope string, attrs map[string]string) {
		if err := w.Record(Observation{ID: IdentityID("github", "acme", kind, key), Kind: kind, Name: key, Scope: scope,
			CreatedAt: ts("2024-01-02T03:04:05Z"), Attributes: attrs}); err != nil {
			t.Fatal(err)
		}
	}
	rec(KindGitHubDeployKey, "api/1", "acme/api", map[string]string{"added_by": "Ana-S"})
	rec(KindGitHubDeployKey, "web/2", "acme/web", map[string]string{"added_by": "ben"})
	rec(KindGitHubFineGrainedPAT, "7", "acme", map[string]string{"owner": "ana-s", "token_id": "70"})
	rec(KindGitHubCredentialAuthorization, "8", "acme", map[string]string{"owner": "ana-s"})
	rec(KindGitHubActionsSecret, "acme/api/prod/DB", "acme/api/prod", nil)
	rec(KindGitHubActionsSecret, "acme/web/NPM", "acme/web", nil)
	rec(KindGitHubWebhook, "ops/9", "acme/ops", nil)
	for _, p := range []Principal{
		{Type: PrincipalCollaborator, Scope: "acme/api", Login: "ana-s", Role: "admin"},
		{Type: PrincipalCollaborator, Scope: "acme/ops", Login: "ana-s", Role: "admin"},
		{Type: PrincipalCollaborator, Scope: "acme/web", Login: "ben", Role: "write"},
		{Type: PrincipalMember, Scope: "acme", Login: "cleo", Role: "admin"},
	} {
		if err := w.Principal(p); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Finish(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetOwner(ctx, "root", IdentityID("github", "acme", KindGitHubActionsSecret, "acme/web/NPM"), "ANA@acme.test"); err != nil {
		t.Fatal(err)
	}
	dir, err := s.People(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return s, dir
}

func TestPersonRelations(t *testing.T) {
	s, dir := relationsFixture(t)
	ana := dir.Lookup("@ana-s")
	got, err := s.PersonRelations(ctx, ana)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, r := range got {
		var kinds []string
		for _, rel := range r.Relations {
			kinds = append(kinds, rel.Kind+": "+rel.Detail)
		}
		lines = append(lines, strings.TrimPrefix(r.Identity.ID, "github:acme:")+" = "+strings.Join(kinds, "; "))
	}
	want := []string{
		"github_actions_secret:acme/api/prod/DB = suggested: top owner suggestion: admin of acme/api; could-read: admin of acme/api (ana-s, snapshot 1): rotate",
		"github_actions_secret:acme/web/NPM = owns: recorded owner ANA@acme.test",
		"github_credential_authorization:8 = holds: SSO credential authorization of ana-s",
		"github_deploy_key:api/1 = created: added it (added_by Ana-S); could-read: admin of acme/api (ana-s, snapshot 1): rotate",
		"github_fine_grained_pat:7 = holds: owns the token (ana-s)",
		// The webhook of acme/ops: she administered it (its top suggestion)
		// but a webhook's secret is not readable: not a rotation candidate.
		"github_webhook:ops/9 = suggested: top owner suggestion: admin of acme/ops",
	}
	if !slices.Equal(lines, want) {
		t.Errorf("relations of ana:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}

	// Nobody's identity is anybody's: cleo, an org owner, could read every
	// secret and key; ben added one key.
	cleo, err := s.PersonRelations(ctx, dir.Lookup("cleo"))
	if err != nil || len(cleo) != 4 {
		t.Errorf("cleo: %d related, %v: %+v", len(cleo), err, cleo)
	}
	// ben has write access to acme/web: he could push a workflow that
	// prints its secret, but a deploy key's private half is beyond him
	// (the key is his anyway: he added it).
	ben, err := s.PersonRelations(ctx, dir.Lookup("ben@acme.test"))
	if err != nil {
		t.Fatal(err)
	}
	var benLines []string
	for _, r := range ben {
		for _, rel := range r.Relations {
			benLines = append(benLines, strings.TrimPrefix(r.Identity.ID, "github:acme:")+" = "+rel.Kind+": "+rel.Detail)
		}
	}
	wantBen := []string{
		"github_actions_secret:acme/web/NPM = could-read: write access to acme/web, so a workflow they push can print it (ben, snapshot 1): rotate",
		"github_deploy_key:web/2 = created: added it (added_by ben)",
	}
	if !slices.Equal(benLines, wantBen) {
		t.Errorf("relations of ben:\n%s\nwant:\n%s", strings.Join(benLines, "\n"), strings.Join(wantBen, "\n"))
	}
}

// An identity related in several ways is grouped under its strongest
// relationship and tagged with every one.
func TestStrongestRelation(t *testing.T) {
	for _, c := range []struct {
		rels  []Relation
		group string
		tags  string
	}{
		{nil, "", ""},
		{[]Relation{{RelSuggested, ""}}, RelSuggested, "suggested"},
		{[]Relation{{RelSuggested, ""}, {RelCouldRead, ""}}, RelCouldRead, "could-read suggested"},
		{[]Relation{{RelCreated, ""}, {RelCouldRead, ""}}, RelCreated, "created could-read"},
		{[]Relation{{RelHolds, ""}, {RelCreated, ""}, {RelOwns, ""}}, RelOwns, "owns created holds"},
	} {
		if g, tags := Strongest(c.rels), strings.Join(RelationTags(c.rels), " "); g != c.group || tags != c.tags {
			t.Errorf("%v: group %q tags %q, want %q %q", c.rels, g, tags, c.group, c.tags)
		}
	}
	if RelationTitle(RelCouldRead) != "could read" || RelationTitle(RelSuggested) != "suggested owner" || RelationTitle(RelOwns) != "owns" {
		t.Error("titles")
	}
}

func TestLeavers(t *testing.T) {
	s, dir := relationsFixture(t)
	ids, err := s.Identities(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := Leavers(dir, ids)
	if len(got) != 1 {
		t.Fatalf("leavers: %+v", got)
	}
	l := got[0]
	// Owns the NPM secret, created the key, holds the PAT and the SSO
	// authorization; suggestions and could-read are not counted here.
	if l.Person.Email != "ana@acme.test" || l.Count != 4 || l.ByKind[RelOwns] != 1 || l.ByKind[RelCreated] != 1 || l.ByKind[RelHolds] != 2 ||
		!l.OldestAt.Equal(*ts("2024-01-02T03:04:05Z")) || l.OldestID == "" {
		t.Errorf("leaver: %+v", l)
	}
	// She is recorded as the owner of the key she added: it counts under
	// both, as her offboarding campaign lists it (owns and created), and
	// still once among her identities.
	key := IdentityID("github", "acme", KindGitHubDeployKey, "api/1")
	counts := func(owner string) Leaver {
		t.Helper()
		if _, err := s.SetOwner(ctx, "root", key, owner); err != nil {
			t.Fatal(err)
		}
		ids, err := s.Identities(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got := Leavers(dir, ids)
		if len(got) != 1 {
			t.Fatalf("leavers with the key's owner %s: %+v", owner, got)
		}
		return got[0]
	}
	if l := counts("@ana-s"); l.Count != 4 || l.ByKind[RelOwns] != 2 || l.ByKind[RelCreated] != 1 || l.ByKind[RelHolds] != 2 {
		t.Errorf("she owns the key she added: %d identities, %v; want 4, owns 2, created 1, holds 2", l.Count, l.ByKind)
	}
	// Handed over to ben (a transfer): it no longer counts.
	if l := counts("ben@acme.test"); l.Count != 3 || l.ByKind[RelOwns] != 1 || l.ByKind[RelCreated] != 0 || l.ByKind[RelHolds] != 2 {
		t.Errorf("the key handed over to ben: %d identities, %v; want 3, owns 1, created 0, holds 2", l.Count, l.ByKind)
	}
	// Once she is back (status active), nobody is pending.
	if _, err := s.SetPeople(ctx, "root", PeopleImport{People: []Person{{Email: "ana@acme.test", GitHub: "ana-s", Manager: "cleo@acme.test"}}}, false); err != nil {
		t.Fatal(err)
	}
	dir, _ = s.People(ctx)
	if got := Leavers(dir, ids); len(got) != 0 {
		t.Errorf("no leaver expected: %+v", got)
	}
}

// benchPopulation is n identities in 1,000 repositories, each added by
// one of people people (user0…), a tenth of them held as tokens.
func benchPopulation(n, people int) []Identity {
	ids := make([]Identity, n)
	created := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range ids {
		kind, attr := KindGitHubDeployKey, "added_by"
		if i%10 == 0 {
			kind, attr = KindGitHubFineGrainedPAT, "owner"
		}
		if i%3 == 0 {
			kind = KindGitHubActionsSecret
		}
		scope := fmt.Sprintf("acme/repo-%d", i%1000)
		c := created.Add(time.Duration(i) * time.Minute)
		ids[i] = Identity{Observation: Observation{ID: fmt.Sprintf("github:acme:%s:%d", kind, i), Kind: kind, Name: fmt.Sprint(i), Scope: scope,
			CreatedAt: &c, Attributes: map[string]string{attr: fmt.Sprintf("user%d", i%people)}}, Status: StatusActive,
			Suggestions: []OwnerSuggestion{{Owner: fmt.Sprintf("user%d", (i+1)%people), Source: "admin of " + scope}}}
		if i%7 == 0 {
			ids[i].Owner = fmt.Sprintf("User%d@acme.test", i%people)
		}
	}
	return ids
}

func benchDirectory(people int) *Directory {
	ps := make([]Person, people)
	for i := range ps {
		ps[i] = Person{Email: fmt.Sprintf("user%d@acme.test", i), GitHub: fmt.Sprintf("user%d", i), Status: PersonActive}
		if i%4 == 0 {
			ps[i].Status, ps[i].LeftAt = PersonLeft, "2026-10-31"
		}
	}
	return newDirectory(ps)
}

// BenchmarkPersonPopulation100k computes one person's population over
// 100,000 identities in memory (what Store.PersonRelations does once they
// are read): target ≤ 200 ms.
func BenchmarkPersonPopulation100k(b *testing.B) {
	ids := benchPopulation(100_000, 5_000)
	dir := benchDirectory(5_000)
	access := []Access{{Scope: "acme/repo-7", Role: "admin", Via: PrincipalCollaborator, Login: "user8"}}
	m := NewPersonMatcher(dir.Lookup("user8"), access)
	b.ReportAllocs()
	for b.Loop() {
		if got := RelatedIn(ids, m); len(got) == 0 {
			b.Fatal("nobody related")
		}
	}
}

// BenchmarkPendingLeavers computes `nhi offboard --pending` over 5,000
// people (1,250 of them leavers) and 100,000 identities: target ≤ 1 s.
func BenchmarkPendingLeavers(b *testing.B) {
	ids := benchPopulation(100_000, 5_000)
	dir := benchDirectory(5_000)
	b.ReportAllocs()
	for b.Loop() {
		if got := Leavers(dir, ids); len(got) != 1_250 {
			b.Fatalf("%d leavers", len(got))
		}
	}
}
