package campaigns_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
)

func trail(t testing.TB, st *audit.Store, id string) string {
	t.Helper()
	entries, err := campaigns.Trail(ctx, st, id)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, e := range entries {
		line := "#" + strconv.FormatInt(e.Seq, 10) + " " + e.Actor + " " + e.Campaign + ": " + e.What
		if e.Reason != "" {
			line += " — " + e.Reason
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n")
}

// An identity's trail is every decision, confirmation, undo, close and
// removal check that names it, in log order, and nothing about others.
func TestTrail(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		f := newFixtureOn(t, eng)
		// #1 records the snapshot.
		f.Snapshot(t, nil, population()...)
		create(t, f, campaigns.Spec{Name: "q", Scope: "kind:deploy_key"}) // #2
		k1, k2 := keyID("api", "1"), keyID("api", "2")
		o, err := campaigns.Decide(ctx, f.Store, "rita", "q", k1, campaigns.Keep, "deploys api") // #3
		if err != nil {
			t.Fatal(err)
		}
		if _, err := campaigns.Undo(ctx, f.Store, "rita", "", o.Event.Seq); err != nil { // #4
			t.Fatal(err)
		}
		if _, err := campaigns.DecideMatching(ctx, f.Store, "sam", "q", "scope:acme/api", campaigns.Decommission, "api is retired", false); err != nil { // #5
			t.Fatal(err)
		}
		if _, err := campaigns.Decide(ctx, f.Store, "rita", "q", keyID("web", "3"), campaigns.Keep, "deploys web"); err != nil { // #6
			t.Fatal(err)
		}
		if _, err := campaigns.Close(ctx, f.Store, "lead", "q"); err != nil { // #7
			t.Fatal(err)
		}
		// A later snapshot without api/1: its removal is checked.
		f.Clock.Set("2026-11-05T12:00:00Z")
		var later []audit.Observation
		for _, o := range population() {
			if o.ID != k1 {
				later = append(later, o)
			}
		}
		// #8 records the snapshot.
		snap := f.Snapshot(t, nil, later...)
		if _, err := campaigns.VerifyAfterSnapshot(ctx, f.Store, "lead", snap.ID); err != nil { // #9
			t.Fatal(err)
		}

		want := "#3 rita q: keep — deploys api\n#4 rita q: undid #3\n#5 sam q: decommission (bulk, 2 items) — api is retired\n#9 lead q: checked: removed (snapshot 2)"
		if got := trail(t, f.Store, k1); got != want {
			t.Errorf("trail of api/1:\n%s\nwant\n%s", got, want)
		}
		want = "#5 sam q: decommission (bulk, 2 items) — api is retired\n#9 lead q: checked: still present (snapshot 2)"
		if got := trail(t, f.Store, k2); got != want {
			t.Errorf("trail of api/2:\n%s\nwant\n%s", got, want)
		}
		if got := trail(t, f.Store, keyID("ops", "5")); got != "#7 lead q: closed without a decision: no-response" {
			t.Errorf("trail of an item nobody decided: %q", got)
		}
		if got := trail(t, f.Store, audit.IdentityID("github", "acme", audit.KindGitHubActionsSecret, "api/NPM_TOKEN")); got != "" {
			t.Errorf("trail of an identity outside every campaign: %q", got)
		}
	})
}

// A file made by the build before campaigns owned its tables (audit
// schema v3, campaigns' tables created by audit) opens, migrates, verifies
// and reads as before.
func TestOpensSchemaV3File(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "schema-v3.db"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "nhi.db")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	// Read-only, it says what the file lacks and how to add it.
	want := fmt.Sprintf("nhi.db lacks audit's tables at schema version %d (it has 3), the campaigns tables and the offboarding tables, which this nhi keeps in the file; nothing was changed: open it once for writing", audit.SchemaVersion)
	if _, err := audit.Open(ctx, path, audit.OpenOptions{ReadOnly: true}); !errors.Is(err, audit.ErrReadOnly) || !strings.Contains(fmt.Sprint(err), want) {
		t.Errorf("read-only open of a file that needs migrating:\n%v\nwant it to say\n%s", err, want)
	}
	st, err := audit.Open(ctx, path, audit.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if r, err := st.Verify(ctx); err != nil || !r.OK() {
		t.Errorf("verify after migration: %+v %v", r, err)
	}
	if problems, err := campaigns.Verify(ctx, st); err != nil || len(problems) > 0 {
		t.Errorf("campaigns verify after migration: %q %v", problems, err)
	}
	d, err := campaigns.Decisions(ctx, st, "2026-Q4")
	if err != nil || d[keyID("api", "1")] != campaigns.Pending || d[keyID("web", "3")] != campaigns.Keep || len(d) != 6 {
		t.Errorf("decisions after migration: %v %v", d, err)
	}
	if got, want := trail(t, st, keyID("api", "1")), "#4 rita 2026-Q4: rotate — key in a CI log\n#5 rita 2026-Q4: undid #4"; got != want {
		t.Errorf("trail after migration:\n%s\nwant\n%s", got, want)
	}
	notes, err := st.Notes(ctx, keyID("api", "1"))
	if err != nil || len(notes) != 1 || notes[0].Text != "asked alice in SEC-7" {
		t.Errorf("notes after migration: %+v %v", notes, err)
	}
	// The file now records both schemas, and a new decision lands.
	var v int
	if err := st.QueryRow(ctx, `PRAGMA user_version`).Scan(&v); err != nil || v != audit.SchemaVersion {
		t.Errorf("user_version %d %v", v, err)
	}
	var cv string
	if err := st.QueryRow(ctx, `SELECT value FROM meta WHERE key = 'schema.campaigns'`).Scan(&cv); err != nil || cv != "3" {
		t.Errorf("campaigns schema version %q %v", cv, err)
	}
	if _, err := campaigns.Decide(ctx, st, "sam", "2026-Q4", keyID("api", "1"), campaigns.Decommission, ""); err != nil {
		t.Errorf("decide after migration: %v", err)
	}
	if problems, err := campaigns.Verify(ctx, st); err != nil || len(problems) > 0 {
		t.Errorf("campaigns verify after a new decision: %q %v", problems, err)
	}
}

// A rotation's check is in the identity's trail as campaign verify said
// it, with why: a secret not rotated since, and an SSO authorization whose
// source never says when it was rotated is not checked for that reason,
// not because "its endpoint was not read".
func TestTrailOfRotationChecks(t *testing.T) {
	f := newFixture(t)
	npm, sso := secret("api", "NPM_TOKEN"), ssoAuth("8", "alice")
	f.Snapshot(t, nil, npm, sso)
	create(t, f, campaigns.Spec{Name: "q", Scope: "id:*"})
	for _, id := range []string{npm.ID, sso.ID} {
		if _, err := campaigns.Decide(ctx, f.Store, "rita", "q", id, campaigns.Rotate, "alice could read it"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := campaigns.Close(ctx, f.Store, "boss", "q"); err != nil {
		t.Fatal(err)
	}
	f.Clock.Set("2026-11-05T12:00:00Z")
	f.Snapshot(t, nil, npm, sso)
	if _, err := campaigns.VerifyRemediation(ctx, f.Store, "lead", "q"); err != nil {
		t.Fatal(err)
	}
	if got := trail(t, f.Store, npm.ID); !strings.Contains(got, "lead q: checked: not rotated (snapshot 2) — last rotated 2026-09-01T00:00:00Z, not after") {
		t.Errorf("secret's trail:\n%s", got)
	}
	if got := trail(t, f.Store, sso.ID); !strings.Contains(got, "lead q: not checked (snapshot 2) — the source does not say when") || strings.Contains(got, "endpoint") {
		t.Errorf("SSO authorization's trail:\n%s", got)
	}
}
