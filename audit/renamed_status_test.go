package audit

import (
	"strings"
	"testing"
)

// TestRenamedRepositoryUnreadNotRemoved: a repository renamed between two
// snapshots (its secret, linked by lineage, shows the new name), whose
// deploy keys the later snapshot could not read under its new name (a
// 403): the keys absent from the old name are not-checked, saying the
// repository continues under its new name, never removed because the old
// name is gone from the organisation's listing — in Identities, the
// table's read (field for field) and diff alike. A repository not renamed, read whole,
// still shows its removals.
func TestRenamedRepositoryUnreadNotRemoved(t *testing.T) {
	eachEngine(t, func(t *testing.T, eng testEngine) {
		s := openAt(t, eng.new(t))
		npm := func(repo string) Observation {
			o := at(obs(repo+"/NPM_TOKEN", KindGitHubActionsSecret), "acme/"+repo)
			o.Attributes = map[string]string{LineageAttribute: "repository:42/github_actions_secret/NPM_TOKEN"}
			return o
		}
		var (
			key1 = at(obs("api/1", KindGitHubDeployKey), "acme/api")
			key2 = at(obs("api/2", KindGitHubDeployKey), "acme/api")
			web  = at(obs("web/3", KindGitHubDeployKey), "acme/web")
			kept = at(obs("web/4", KindGitHubDeployKey), "acme/web")
		)
		keys := []Kind{KindGitHubDeployKey, KindGitHubActionsSecret}
		scoped(t, s, nil, []ScopeRead{{Scope: "acme", Children: true}, {Scope: "acme/api", Kinds: keys}, {Scope: "acme/web", Kinds: keys}},
			key1, key2, npm("api"), web, kept)
		second := scoped(t, s,
			[]Gap{{Endpoint: "GET /repos/acme/api-v2/keys", Kind: KindGitHubDeployKey, Scope: "acme/api-v2", Status: 403, Reason: "needs admin on the repository"}},
			[]ScopeRead{{Scope: "acme", Children: true}, {Scope: "acme/api-v2", Kinds: keys[1:]}, {Scope: "acme/web", Kinds: keys}},
			npm("api-v2"), kept)
		if a, _ := s.Aliases(ctx); a[npm("api").ID] != npm("api-v2").ID {
			t.Fatalf("the rename was not linked: %v", a)
		}

		want := map[string]string{key1.ID: StatusNotChecked, key2.ID: StatusNotChecked, web.ID: StatusRemoved, kept.ID: StatusActive, npm("api-v2").ID: StatusActive}
		check := func(what string, ids []Identity) {
			t.Helper()
			got := 0
			for _, it := range ids {
				w, ok := want[it.ID]
				if !ok {
					continue
				}
				got++
				if it.Status != w {
					t.Errorf("%s: %s is %s %q; want %s", what, it.ID, it.Status, it.StatusReason, w)
				}
				if w == StatusNotChecked && (!strings.Contains(it.StatusReason, "acme/api continues as acme/api-v2 (renamed)") || !strings.Contains(it.StatusReason, "needs admin on the repository")) {
					t.Errorf("%s: %s's reason %q; want it to say acme/api continues as acme/api-v2, unread", what, it.ID, it.StatusReason)
				}
			}
			if got != len(want) {
				t.Errorf("%s: %d of the %d identities", what, got, len(want))
			}
		}
		ids, err := s.Identities(ctx)
		if err != nil {
			t.Fatal(err)
		}
		check("Identities", ids)
		var table []Identity
		if err := s.EachTableIdentity(ctx, func(it *Identity) error { table = append(table, *it); return nil }); err != nil {
			t.Fatal(err)
		}
		check("EachTableIdentity", table)
		tableReadEquals(t, s, ids) // the table's read derives the status as Identities does
		for _, id := range []string{key1.ID, web.ID} {
			one, err := s.Identity(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if one.Status != want[id] {
				t.Errorf("Identity: %s is %s %q; want %s", id, one.Status, one.StatusReason, want[id])
			}
		}

		d, err := s.Diff(ctx, 1, second.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range d.Changes {
			switch c.ID {
			case key1.ID, key2.ID:
				if c.Change != ChangeNotSeen || len(c.Details) != 1 || !strings.Contains(c.Details[0], "acme/api continues as acme/api-v2 (renamed)") {
					t.Errorf("diff: %s %s %v; want not-seen, the repository continuing unread", c.ID, c.Change, c.Details)
				}
			case web.ID:
				if c.Change != ChangeRemoved {
					t.Errorf("diff: %s %s; want removed", c.ID, c.Change)
				}
			}
		}
		if d.Removed != 1 || d.NotSeen != 2 {
			t.Errorf("diff: %d removed, %d not seen; want 1 and 2: %+v", d.Removed, d.NotSeen, d.Changes)
		}
	})
}
