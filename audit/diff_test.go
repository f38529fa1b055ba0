package audit

import (
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/internal/benchmem"
)

func TestDiffAndChangeMarks(t *testing.T) {
	clock := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	s, err := Open(ctx, t.TempDir()+"/nhi.db", OpenOptions{Create: true, Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	keep, widen, gone, rotate := obs("keep", KindGitHubDeployKey), obs("widen", KindGitHubAppInstallation), obs("gone", KindGitHubWebhook), obs("rot", KindGitHubActionsSecret)
	widen.Permissions = map[string]string{"contents": "read", "issues": "write"}
	widen.Attributes = map[string]string{"repository_selection": "selected", "app_slug": "ci"}
	if _, err := s.Diff(ctx, 0, 0); !errors.Is(err, ErrNoSnapshot) {
		t.Errorf("diff of an empty file: %v", err)
	}
	snapshot(t, s, nil, nil, keep, widen, gone, rotate)
	if _, err := s.Diff(ctx, 0, 0); !errors.Is(err, ErrNoSnapshot) || !strings.Contains(err.Error(), "github/acme has only one finished snapshot; take another") {
		t.Errorf("diff with one snapshot: %v", err)
	}

	clock = clock.AddDate(0, 0, 7)
	if _, err := s.SetOwner(ctx, "auditor", keep.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	clock = clock.AddDate(0, 0, 7)
	widen.Permissions = map[string]string{"contents": "write", "administration": "admin"}
	widen.Attributes = map[string]string{"repository_selection": "all", "app_slug": "ci"}
	rotate.RotatedAt = ptr(time.Date(2026, 10, 10, 0, 0, 0, 0, time.UTC))
	added := obs("added", KindGitHubRunner)
	snapshot(t, s, nil, nil, keep, widen, rotate, added)

	d, err := s.Diff(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if d.FromID != 1 || d.ToID != 2 || d.New != 1 || d.Removed != 1 || d.Changed != 3 || d.Unchanged != 0 {
		t.Errorf("diff counts: %+v", d)
	}
	byID := map[string]IdentityChange{}
	for _, c := range d.Changes {
		byID[c.ID] = c
	}
	if byID[added.ID].Change != ChangeNew || byID[gone.ID].Change != ChangeRemoved {
		t.Errorf("new/removed: %+v", d.Changes)
	}
	wantWiden := []string{
		"permission administration widened: none → admin",
		"permission contents widened: read → write",
		"permission issues narrowed: write → none",
		"repository_selection changed: selected → all",
		"new finding: broad-scope",
	}
	if got := byID[widen.ID].Details; !reflect.DeepEqual(got, wantWiden) {
		t.Errorf("widen details:\n got %q\nwant %q", got, wantWiden)
	}
	if got := byID[rotate.ID].Details; len(got) != 1 || got[0] != "rotated: 2024-06-01 → 2026-10-10" {
		t.Errorf("rotate details: %q", got)
	}
	if got := byID[keep.ID].Details; len(got) != 1 || got[0] != "owner changed: none → alice" {
		t.Errorf("keep details: %q", got)
	}
	if d.Changes[0].Change != ChangeNew || d.Changes[len(d.Changes)-1].Change != ChangeRemoved {
		t.Errorf("order: new first, removed last: %+v", d.Changes)
	}

	ids, _ := s.Identities(ctx)
	marks := map[string]string{}
	for _, id := range ids {
		marks[id.ID] = id.Change
	}
	want := map[string]string{added.ID: "new", widen.ID: "changed", rotate.ID: "changed", keep.ID: "", gone.ID: ""}
	if !reflect.DeepEqual(marks, want) {
		t.Errorf("change marks %v; want %v", marks, want)
	}

	if _, err := s.Diff(ctx, 2, 1); err != nil {
		t.Errorf("explicit from/to: %v", err)
	}
	if _, err := s.Diff(ctx, 9, 2); !errors.Is(err, ErrNoSnapshot) {
		t.Errorf("unknown snapshot: %v", err)
	}
}

// A diff without snapshot IDs compares the newest pair of one account:
// a cluster read once after an organisation was read twice does not hide
// the organisation's changes, and the diff names what it passed over.
func TestDiffPicksTheNewestAccountSnapshottedTwice(t *testing.T) {
	s := openNew(t)
	if _, err := s.Diff(ctx, 0, 0); !errors.Is(err, ErrNoSnapshot) || !strings.Contains(err.Error(), "take one with `nhi demo`") {
		t.Errorf("empty file: %v", err)
	}
	key := obs("key", KindGitHubDeployKey)
	sa := Observation{ID: IdentityID("k8s", "prod", KindK8sServiceAccount, "ci/deployer"), Kind: KindK8sServiceAccount, Name: "deployer", Scope: "prod/ci"}
	gh1 := snapshot(t, s, nil, nil, key)
	snapshotOf(t, s, "k8s", "prod", nil, sa)
	if _, err := s.Diff(ctx, 0, 0); !errors.Is(err, ErrNoSnapshot) || !strings.Contains(err.Error(), "no source/account has two finished snapshots yet (k8s/prod, github/acme have one each)") {
		t.Errorf("two accounts with one snapshot each: %v", err)
	}
	added := obs("added", KindGitHubDeployKey)
	gh2 := snapshot(t, s, nil, nil, key, added)
	snapshotOf(t, s, "k8s", "edge", nil)

	d, err := s.Diff(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if d.FromID != gh1.ID || d.ToID != gh2.ID || d.New != 1 || d.Changes[0].ID != added.ID {
		t.Errorf("diff %d → %d, %d new; want github/acme's %d → %d with %s new", d.FromID, d.ToID, d.New, gh1.ID, gh2.ID, added.ID)
	}
	if !reflect.DeepEqual(d.Single, []string{"k8s/edge"}) {
		t.Errorf("passed over %q, want k8s/edge only (k8s/prod's snapshot is older than the pair)", d.Single)
	}
	// Explicit IDs are taken as given.
	if _, err := s.Diff(ctx, 0, 4); !errors.Is(err, ErrNoSnapshot) || !strings.Contains(err.Error(), "snapshot 4 is the first of k8s/edge") {
		t.Errorf("--to 4: %v", err)
	}

	// One account's own newest pair, whatever was read since.
	if _, err := s.DiffAccount(ctx, "k8s", "prod"); !errors.Is(err, ErrNoSnapshot) || !strings.Contains(err.Error(), "k8s/prod has only one finished snapshot") {
		t.Errorf("DiffAccount k8s/prod: %v", err)
	}
	snapshotOf(t, s, "k8s", "prod", nil)
	if d, err := s.DiffAccount(ctx, "github", "acme"); err != nil || d.FromID != gh1.ID || d.ToID != gh2.ID {
		t.Errorf("DiffAccount github/acme: %+v %v", d, err)
	}
	// Now k8s/prod is the newest account snapshotted twice: its
	// deployer is removed (the second snapshot saw none), nothing passed over.
	if d, err := s.Diff(ctx, 0, 0); err != nil || d.To.Account != "prod" || d.Removed != 1 || len(d.Single) != 0 {
		t.Errorf("diff after k8s/prod's second snapshot: %+v %v", d, err)
	}
}

func TestOwnerSuggestions(t *testing.T) {
	eachEngine(t, func(t *testing.T, eng testEngine) {
		s := openAt(t, eng.new(t))
		w, _ := s.BeginSnapshot(ctx, SnapshotInfo{Source: "github", Account: "acme"})
		key := Observation{ID: "github:acme:github_deploy_key:acme/api/1", Kind: KindGitHubDeployKey, Name: "k", Scope: "acme/api",
			Attributes: map[string]string{"added_by": "dave"}}
		secret := Observation{ID: "github:acme:github_actions_secret:acme/api/production/X", Kind: KindGitHubActionsSecret, Name: "X", Scope: "acme/api/production"}
		orgSecret := Observation{ID: "github:acme:github_actions_secret:acme/Y", Kind: KindGitHubActionsSecret, Name: "Y", Scope: "acme"}
		for _, o := range []Observation{key, secret, orgSecret} {
			w.Record(o)
		}
		for _, p := range []Principal{
			{PrincipalCodeowner, "acme/api", "@acme/payments", "codeowner"},
			{PrincipalTeam, "acme/api", "acme/platform", "admin"},
			{PrincipalTeam, "acme/api", "acme/readers", "pull"},
			{PrincipalCollaborator, "acme/api", "erin", "admin"},
			{PrincipalMember, "acme", "olive", "admin"},
			{PrincipalMember, "acme", "dave", "member"},
		} {
			w.Principal(p)
		}
		w.Finish(ctx, nil)
		want := []OwnerSuggestion{
			{"dave", "added the key"},
			{"@acme/payments", "CODEOWNERS of acme/api"},
			{"@acme/platform", "admin team of acme/api"},
			{"erin", "admin of acme/api"},
		}
		if got := suggestions(t, s, key.ID); !reflect.DeepEqual(got, want) {
			t.Errorf("deploy key suggestions:\n got %v\nwant %v", got, want)
		}
		if got := suggestions(t, s, secret.ID); len(got) != 3 || got[0].Owner != "@acme/payments" {
			t.Errorf("environment secret suggestions: %v", got)
		}
		if got := suggestions(t, s, orgSecret.ID); !reflect.DeepEqual(got, []OwnerSuggestion{{"olive", "owner of the organisation acme"}}) {
			t.Errorf("org secret suggestions: %v", got)
		}
		// dave is a member: his key is not orphaned; a key by someone who left is.
		i, _ := s.Identity(ctx, key.ID)
		for _, f := range i.Findings {
			if f.Rule == RuleOrphaned {
				t.Errorf("key added by a member is orphaned: %s", f.Message)
			}
		}
	})
}

// AWS owner tags and names point to people of the directory: a tag value
// (an e-mail, an alias, an IAM ARN) the directory knows is suggested as
// that person, and so is a person whose alias is the IAM user's or role's
// name; a value it does not know stays as written.
func TestOwnerSuggestionsFromTheDirectory(t *testing.T) {
	eachEngine(t, func(t *testing.T, eng testEngine) {
		s := openAt(t, eng.new(t))
		if _, err := s.SetPeople(ctx, "root", PeopleImport{People: []Person{
			{Email: "sam@northwind.example", Name: "Sam Rivera", Status: PersonActive, Aliases: []string{"sre@northwind.example"}},
			{Email: "dana@northwind.example", Name: "Dana Fox", Status: PersonLeft, LeftAt: "2026-10-31", Aliases: []string{"dana"}},
		}}, false); err != nil {
			t.Fatal(err)
		}
		w, _ := s.BeginSnapshot(ctx, SnapshotInfo{Source: "aws", Account: "222222222222"})
		tagged := Observation{ID: "aws:222222222222:aws_iam_user:metrics-shipper", Kind: KindAWSIAMUser, Name: "metrics-shipper", Scope: "222222222222",
			Attributes: map[string]string{"tag.Owner": "sre@northwind.example", "tag.CreatedBy": "arn:aws:iam::111111111111:user/dana", "tag.team": "observability"}}
		named := Observation{ID: "aws:222222222222:aws_access_key:AKIADANA", Kind: KindAWSAccessKey, Name: "AKIADANA", Scope: "222222222222",
			Attributes: map[string]string{"user": "dana"}}
		for _, o := range []Observation{tagged, named} {
			w.Record(o)
		}
		if _, err := w.Finish(ctx, nil); err != nil {
			t.Fatal(err)
		}
		want := []OwnerSuggestion{
			{"sam@northwind.example", "tag Owner (sre@northwind.example): Sam Rivera <sam@northwind.example> in the directory of people"},
			{"observability", "tag team"},
			{"dana@northwind.example", "tag CreatedBy (arn:aws:iam::111111111111:user/dana): Dana Fox <dana@northwind.example> in the directory of people, who left on 2026-10-31"},
		}
		if got := suggestions(t, s, tagged.ID); !reflect.DeepEqual(got, want) {
			t.Errorf("tagged user:\n got %v\nwant %v", got, want)
		}
		want = []OwnerSuggestion{{"dana@northwind.example", "its IAM user dana: Dana Fox <dana@northwind.example> in the directory of people, who left on 2026-10-31"}}
		if got := suggestions(t, s, named.ID); !reflect.DeepEqual(got, want) {
			t.Errorf("key of user dana:\n got %v\nwant %v", got, want)
		}
	})
}

// suggestions is who the store suggests as id's owner.
func suggestions(t *testing.T, s *Store, id string) []OwnerSuggestion {
	t.Helper()
	i, err := s.Identity(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return i.Suggestions
}

// A diff of two large snapshots holds an observation of each at a time,
// not the snapshots (issue 21: a million identities on a laptop): every
// so often while it reads, the observations it decoded and still holds
// are counted after a collection.
func TestDiffHoldsOneObservationOfEachSnapshotAtOnce(t *testing.T) {
	s := openNew(t)
	const n = 3000
	first := make([]Observation, n)
	for i := range first {
		first[i] = obs(fmt.Sprintf("repo-%04d/key-%d", i/10, i), KindGitHubDeployKey)
	}
	snapshot(t, s, nil, nil, first...)
	second := slices.Clone(first[n/3:]) // a third removed
	for i := range second[:n/3] {       // a third widened
		second[i].Permissions = map[string]string{"contents": "admin"}
	}
	snapshot(t, s, nil, nil, second...)

	var held benchmem.Held[observation] // each observation decoded
	diffHeld = held.Add
	t.Cleanup(func() { diffHeld = nil })
	d, err := s.Diff(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if d.Removed != n/3 || d.Changed != n/3 || d.Unchanged != n-2*n/3 || held.Given() != n+len(second) {
		t.Fatalf("diff: %d removed, %d changed, %d unchanged, %d observations read", d.Removed, d.Changed, d.Unchanged, held.Given())
	}
	if held.Most() > 4 {
		t.Errorf("the diff held %d of the %d observations it read at once; want an observation or two of each snapshot", held.Most(), held.Given())
	}
}

// BenchmarkDiff100k compares two snapshots of 100,000 identities, a tenth
// of them changed: heap-B/identity is the peak of the heap above where
// it started, an identity (the snapshots held whole were some 4 KB).
func BenchmarkDiff100k(b *testing.B) {
	const n = 100_000
	s := openNew(b)
	o := make([]Observation, n)
	for i := range o {
		o[i] = obs(fmt.Sprintf("repo-%05d/item-%d", i/5, i), Kinds[i%len(Kinds)])
	}
	snapshot(b, s, nil, nil, o...)
	for i := 0; i < n; i += 10 {
		o[i].Permissions = map[string]string{"contents": "admin"}
	}
	snapshot(b, s, nil, nil, o...)
	var peak float64
	for b.Loop() {
		runtime.GC()
		stop := benchmem.Start()
		d, err := s.Diff(ctx, 0, 0)
		u := stop()
		if err != nil || d.Changed != n/10 {
			b.Fatal(d.Changed, err)
		}
		peak = max(peak, u.AboveBaseMB()*(1<<20)/n)
	}
	b.ReportMetric(peak, "heap-B/identity")
}
