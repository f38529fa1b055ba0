package tui

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
)

// testActor is who acts in the tests that write.
const testActor = "auditor@example.com"

// evidence is an evidence file made through the audit API, like the one
// `nhi demo` writes: a small organisation in one snapshot, with members
// and teams for owner suggestions.
type evidence struct {
	store *audit.Store
	snap  *audit.Snapshot
	ids   []audit.Identity
	path  string
}

func fixtureObservations() []audit.Observation {
	o := func(kind audit.Kind, name, scope string) audit.Observation {
		return audit.Observation{
			ID: audit.IdentityID("github", "acme", kind, scope+"/"+name), Kind: kind, Name: name, Scope: scope,
			CreatedAt: daysAgo(400),
		}
	}
	app := o(audit.KindGitHubAppInstallation, "renovate", "acme")
	app.Permissions = map[string]string{"contents": "write", "pull_requests": "write", "metadata": "read"}
	app.Attributes = map[string]string{"repository_selection": "all", "app_owner": "mend", "installed_by": "bob"}
	pat := o(audit.KindGitHubFineGrainedPAT, "release-bot", "acme")
	pat.Attributes = map[string]string{"owner": "octocat"}
	pat.LastUsedAt = daysAgo(14)
	pat.ExpiresAt = daysAgo(-30)
	key := o(audit.KindGitHubDeployKey, "deploy-prod", "acme/api")
	key.CreatedAt = daysAgo(800)
	key.Attributes = map[string]string{"read_only": "false", "added_by": "alice"}
	secret := o(audit.KindGitHubDependabotSecret, "NPM_TOKEN", "acme/web")
	secret.RotatedAt = daysAgo(200)
	hook := o(audit.KindGitHubWebhook, "https://hooks.example.com/ci", "acme/api")
	hook.Attributes = map[string]string{"has_secret": "false", "active": "true"}
	obs := []audit.Observation{app, pat, key, secret, hook}
	for i := len(obs); i < 40; i++ {
		s := o(audit.KindGitHubActionsSecret, fmt.Sprintf("SECRET_%02d", i), "acme/repo-"+fmt.Sprint(i%7))
		s.CreatedAt = daysAgo(i * 9)
		obs = append(obs, s)
	}
	return obs
}

// newEvidence writes the fixture organisation to a new file.
func newEvidence(t testing.TB) *evidence {
	t.Helper()
	return newEvidenceIn(t, filepath.Join(t.TempDir(), "nhi.db"))
}

// newEvidenceIn writes the fixture organisation to a new store at path: a
// file, or a PostgreSQL database's URL (pgtest.URL).
func newEvidenceIn(t testing.TB, path string) *evidence {
	t.Helper()
	ctx := context.Background()
	st, err := audit.Open(ctx, path, audit.OpenOptions{Create: true, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	w, err := st.BeginSnapshot(ctx, audit.SnapshotInfo{
		Source: "github", Account: "acme", APIURL: "https://api.github.com", Credential: "token of octocat (read:org)",
		ToolVersion: "test", StartedAt: testNow.Add(-2 * time.Hour),
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []audit.Principal{
		{Type: audit.PrincipalMember, Scope: "acme", Login: "alice", Role: "admin"},
		{Type: audit.PrincipalMember, Scope: "acme", Login: "bob", Role: "member"},
		{Type: audit.PrincipalMember, Scope: "acme", Login: "octocat", Role: "member"},
		{Type: audit.PrincipalTeam, Scope: "acme/api", Login: "acme/platform", Role: "admin"},
	} {
		if err := w.Principal(p); err != nil {
			t.Fatal(err)
		}
	}
	for _, o := range fixtureObservations() {
		if err := w.Record(o); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Gap(audit.Gap{Endpoint: "GET /orgs/acme/personal-access-tokens", Status: 403, Reason: "needs a GitHub App token"}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Finish(ctx, nil); err != nil {
		t.Fatal(err)
	}
	snap, err := st.LatestSnapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := st.Identities(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The fixture's order, not the file's (by ID): the hand-made first.
	rank := map[string]int{}
	for i, o := range fixtureObservations() {
		rank[o.ID] = i
	}
	slices.SortFunc(ids, func(a, b audit.Identity) int { return rank[a.ID] - rank[b.ID] })
	return &evidence{store: st, snap: snap, ids: ids, path: path}
}

// finish finishes the snapshot w writes to e's store and reads it and
// the identities again into e, in the file's order (by ID).
func (e *evidence) finish(t testing.TB, w *audit.SnapshotWriter) *evidence {
	t.Helper()
	ctx := context.Background()
	if _, err := w.Finish(ctx, nil); err != nil {
		t.Fatal(err)
	}
	var err error
	if e.snap, err = e.store.LatestSnapshot(ctx); err != nil {
		t.Fatal(err)
	}
	if e.ids, err = e.store.Identities(ctx); err != nil {
		t.Fatal(err)
	}
	return e
}

// model opens the TUI on the evidence, sized w×h.
func (e *evidence) model(t testing.TB, w, h int, opts Options) *Model {
	t.Helper()
	opts.Now = clock
	if opts.Store == nil {
		opts.Store = e.store
	}
	m := New(e.snap, e.ids, opts)
	m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	return m
}

// owner is the owner the file records for the identity named name.
func (e *evidence) owner(t testing.TB, name string) string {
	t.Helper()
	return e.byName(t, name).Owner
}

// byName is the identity named name, as the file has it.
func (e *evidence) byName(t testing.TB, name string) audit.Identity {
	t.Helper()
	ids, err := e.store.Identities(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if id.Name == name {
			return id
		}
	}
	t.Fatalf("no identity %q", name)
	return audit.Identity{}
}

// ownerEvents is the number of owner.set events in the log.
func (e *evidence) ownerEvents(t testing.TB) int {
	t.Helper()
	evs, err := e.store.Events(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, ev := range evs {
		if ev.Type == audit.EventOwnerSet {
			n++
		}
	}
	return n
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// campaign creates the review campaign 2025-Q2 of the identities scope
// selects, due in two weeks, created by lead@example.com and reviewed by
// the test's auditor.
func (e *evidence) campaign(t testing.TB, scope string) {
	t.Helper()
	if _, err := campaigns.Create(context.Background(), e.store, "lead@example.com", campaigns.Spec{
		Name: "2025-Q2", Scope: scope, Due: testNow.AddDate(0, 0, 14).Format("2006-01-02"),
		Reviewers: []string{testActor}, AllowPartial: true,
	}); err != nil {
		t.Fatal(err)
	}
}

// otherProcess is another connection to the evidence file, as another
// process (a reviewer's nhi decide, the lead's close) would open it;
// closed when the test ends.
func (e *evidence) otherProcess(t testing.TB) *audit.Store {
	t.Helper()
	st, err := audit.Open(context.Background(), e.path, audit.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}
