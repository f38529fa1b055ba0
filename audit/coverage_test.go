package audit

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

// scoped records a snapshot of o that read reads (and had gaps).
func scoped(t *testing.T, s *Store, gaps []Gap, reads []ScopeRead, o ...Observation) *Snapshot {
	t.Helper()
	return recordSnapshot(t, s, snapshotSpec{gaps: gaps, reads: reads}, o...)
}

func at(o Observation, scope string) Observation { o.Scope = scope; return o }

// TestRemovalOnlyWhereLooked: an identity absent from a later snapshot is
// removed only where that snapshot read its place; elsewhere not-checked,
// with the reason, in identity status, diff and Coverage alike; the same
// whether the status judge reads a snapshot's scope rows by key, whole,
// or by key and then whole.
func TestRemovalOnlyWhereLooked(t *testing.T) {
	for _, c := range []struct {
		name  string
		byKey int
	}{{"by key", coverageByKey}, {"whole", 0}, {"by key then whole", 2}} {
		t.Run(c.name, func(t *testing.T) {
			defer func(n int) { coverageByKey = n }(coverageByKey)
			coverageByKey = c.byKey
			removalOnlyWhereLooked(t)
		})
	}
}

func removalOnlyWhereLooked(t *testing.T) {
	eachEngine(t, func(t *testing.T, eng testEngine) {
		s := openAt(t, eng.new(t))
		var (
			keyAPI    = at(obs("k1", KindGitHubDeployKey), "acme/api")
			hookAPI   = at(obs("h1", KindGitHubWebhook), "acme/api")
			envSecret = at(obs("s1", KindGitHubActionsSecret), "acme/api/prod")
			keyHidden = at(obs("k2", KindGitHubDeployKey), "acme/hidden")
			keyGone   = at(obs("k3", KindGitHubDeployKey), "acme/gone")
			orgSecret = at(obs("s2", KindGitHubActionsSecret), "acme")
			keep      = at(obs("k4", KindGitHubDeployKey), "acme/web")
		)
		scoped(t, s, nil, []ScopeRead{{Scope: "acme", Kinds: []Kind{KindGitHubActionsSecret}, Children: true}},
			keyAPI, hookAPI, envSecret, keyHidden, keyGone, orgSecret, keep)

		// The second snapshot sees 2 of the org's repositories (api, web) and
		// cannot read api's webhooks; the org's secrets were read.
		coverage := Gap{Endpoint: "GET /orgs/acme/repos", Scope: "acme", Reason: "2 of 4 repositories are not visible to this credential"}
		hooks := Gap{Endpoint: "GET /repos/acme/api/hooks", Kind: KindGitHubWebhook, Scope: "acme/api", Status: 403, Reason: "needs admin"}
		second := scoped(t, s, []Gap{coverage, hooks}, []ScopeRead{
			{Scope: "acme", Kinds: []Kind{KindGitHubActionsSecret}},
			{Scope: "acme/api", Kinds: []Kind{KindGitHubDeployKey, KindGitHubActionsSecret}, Children: true},
			{Scope: "acme/web", Kinds: []Kind{KindGitHubDeployKey}, Children: true},
		}, keep)

		want := map[string]struct{ status, why string }{
			keyAPI.ID:    {StatusRemoved, ""},
			envSecret.ID: {StatusRemoved, ""}, // its environment is gone: api's environments were listed
			orgSecret.ID: {StatusRemoved, ""},
			hookAPI.ID:   {StatusNotChecked, "GET /repos/acme/api/hooks: needs admin"},
			keyHidden.ID: {StatusNotChecked, "GET /orgs/acme/repos: 2 of 4 repositories are not visible to this credential"},
			keyGone.ID:   {StatusNotChecked, "GET /orgs/acme/repos: 2 of 4 repositories are not visible to this credential"},
			keep.ID:      {StatusActive, ""},
		}
		ids, err := s.Identities(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range ids {
			if w := want[it.ID]; it.Status != w.status || it.StatusReason != w.why {
				t.Errorf("%s: %s %q; want %s %q", it.Scope+" "+it.Name, it.Status, it.StatusReason, w.status, w.why)
			}
		}
		// IdentitiesInSnapshot says the same of the first snapshot's population.
		in, err := s.IdentitiesInSnapshot(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range in {
			if w := want[it.ID]; it.Status != w.status || it.StatusReason != w.why {
				t.Errorf("in snapshot 1, %s: %s %q; want %s", it.Name, it.Status, it.StatusReason, w.status)
			}
		}

		d, err := s.Diff(ctx, 1, second.ID)
		if err != nil {
			t.Fatal(err)
		}
		if d.Removed != 3 || d.NotSeen != 3 {
			t.Errorf("diff: %d removed, %d not seen; want 3 and 3: %+v", d.Removed, d.NotSeen, d.Changes)
		}
		for _, c := range d.Changes {
			w := want[c.ID]
			switch {
			case c.Change == ChangeRemoved && w.status != StatusRemoved,
				c.Change == ChangeNotSeen && (w.status != StatusNotChecked || len(c.Details) != 1 || c.Details[0] != w.why):
				t.Errorf("diff: %s %s %v; want %s", c.ID, c.Change, c.Details, w.status)
			}
		}

		// A third snapshot that demonstrably sees the whole organisation
		// settles what the second could not: gone is gone; hidden shows up.
		scoped(t, s, nil, []ScopeRead{
			{Scope: "acme", Kinds: []Kind{KindGitHubActionsSecret}, Children: true},
			{Scope: "acme/web", Kinds: []Kind{KindGitHubDeployKey}, Children: true},
			{Scope: "acme/hidden", Kinds: []Kind{KindGitHubDeployKey}, Children: true},
			{Scope: "acme/api", Kinds: []Kind{KindGitHubActionsSecret}, Children: true},
		}, keep, keyHidden)
		st := statuses(t, s)
		for id, w := range map[string]string{keyGone.ID: StatusRemoved, keyHidden.ID: StatusActive, hookAPI.ID: StatusNotChecked, keyAPI.ID: StatusRemoved} {
			if st[id] != w {
				t.Errorf("after the third snapshot %s is %s; want %s", id, st[id], w)
			}
		}
		if it, _ := s.Identity(ctx, hookAPI.ID); !strings.Contains(it.StatusReason, "snapshot 3 did not read the webhooks of acme/api") {
			t.Errorf("hook's reason after the third snapshot: %q", it.StatusReason)
		}

		// What a snapshot read is evidence: deleting it fails verify.
		if r, err := s.Verify(ctx); err != nil || !r.OK() {
			t.Fatalf("verify before the edit: %+v %v", r, err)
		}
		if _, err := s.db.Exec(`DELETE FROM snapshot_scopes WHERE snapshot_id = 2 AND scope = 'acme/api' AND kind = 'github_deploy_key'`); err != nil {
			t.Fatal(err)
		}
		r, err := s.Verify(ctx)
		if err != nil || r.OK() || !strings.Contains(strings.Join(r.Problems, "\n"), "snapshot 2: its observations no longer match its digest") {
			t.Errorf("verify after deleting a scope row: %+v %v", r, err)
		}
	})
}

// TestGapBelowReadChildren: a snapshot that listed a repository's
// environments (api: *) but could not read one environment's secrets (a
// 403, or a 5xx through every retry) did not look where they live: the
// gap names the environment, so it exists, and its secrets are
// not-checked, never removed. An environment the snapshot did not list,
// and of which no gap speaks, is gone.
func TestGapBelowReadChildren(t *testing.T) {
	eachEngine(t, func(t *testing.T, eng testEngine) {
		s := openAt(t, eng.new(t))
		var (
			prod    = at(obs("s1", KindGitHubActionsSecret), "acme/api/prod")
			staging = at(obs("s2", KindGitHubActionsSecret), "acme/api/staging")
			gone    = at(obs("s3", KindGitHubActionsSecret), "acme/api/gone")
		)
		scoped(t, s, nil, []ScopeRead{{Scope: "acme", Children: true}, {Scope: "acme/api", Children: true}}, prod, staging, gone)
		secrets := Gap{Endpoint: "GET /repos/acme/api/environments/prod/secrets", Kind: KindGitHubActionsSecret, Scope: "acme/api/prod", Status: 403, Reason: "needs Secrets: read"}
		other := Gap{Endpoint: "GET /repos/acme/api/environments/staging/variables", Kind: KindGitHubWebhook, Scope: "acme/api/staging", Status: 502, Reason: "GitHub answered 502"}
		second := scoped(t, s, []Gap{secrets, other}, []ScopeRead{{Scope: "acme", Children: true}, {Scope: "acme/api", Children: true}})

		want := map[string]struct{ status, why string }{
			prod.ID:    {StatusNotChecked, "GET /repos/acme/api/environments/prod/secrets: needs Secrets: read"},
			staging.ID: {StatusNotChecked, "snapshot 2 could not read acme/api/staging"},
			gone.ID:    {StatusRemoved, ""},
		}
		ids, err := s.Identities(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range ids {
			if w := want[it.ID]; it.Status != w.status || it.StatusReason != w.why {
				t.Errorf("%s: %s %q; want %s %q", it.Scope, it.Status, it.StatusReason, w.status, w.why)
			}
		}
		d, err := s.Diff(ctx, 1, second.ID)
		if err != nil {
			t.Fatal(err)
		}
		if d.Removed != 1 || d.NotSeen != 2 {
			t.Errorf("diff: %d removed, %d not seen; want 1 and 2: %+v", d.Removed, d.NotSeen, d.Changes)
		}
	})
}

// TestRootFolderCoversBelow: the x509 connector's --path / reads the root
// folder in full and names what is below it /a.pem and /certs/b.pem
// (connectors/x509, below). A certificate gone from / itself, or with a
// folder directly below it, is removed, as one gone from /etc is; when
// something below / could not be read, the connector claims no more than
// the folders read in full, and what was in / or in a folder gone from it
// is not-checked.
func TestRootFolderCoversBelow(t *testing.T) {
	for _, c := range []struct {
		name  string
		reads []ScopeRead
		gaps  []Gap
		want  map[string]string
	}{
		{"read in full", []ScopeRead{{Scope: "/", Children: true}, {Scope: "/etc", Children: true}}, nil,
			map[string]string{"/a.pem": StatusRemoved, "/certs/b.pem": StatusRemoved, "/etc/c.pem": StatusRemoved, "/etc/keep.pem": StatusActive}},
		{"a failure below", []ScopeRead{{Scope: "/etc", Children: true}},
			[]Gap{{Endpoint: "file:/lost+found", Kind: KindX509Certificate, Scope: "/lost+found", Reason: "permission denied"}},
			map[string]string{"/a.pem": StatusNotChecked, "/certs/b.pem": StatusNotChecked, "/etc/c.pem": StatusRemoved, "/etc/keep.pem": StatusActive}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := openAt(t, testEngine{"sqlite"}.new(t))
			var all []Observation
			for _, scope := range []string{"/a.pem", "/certs/b.pem", "/etc/c.pem", "/etc/keep.pem"} {
				o := at(obs(scope, KindX509Certificate), scope)
				o.ID = IdentityID("x509", "files", KindX509Certificate, scope)
				all = append(all, o)
			}
			spec := snapshotSpec{source: "x509", account: "files", apiURL: "file:", reads: []ScopeRead{{Scope: "/", Children: true}, {Scope: "/certs", Children: true}, {Scope: "/etc", Children: true}}}
			recordSnapshot(t, s, spec, all...)
			spec.reads, spec.gaps = c.reads, c.gaps
			recordSnapshot(t, s, spec, all[3])
			ids, err := s.Identities(ctx)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, it := range ids {
				got[it.Scope] = it.Status
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("statuses %v; want %v", got, c.want)
			}
		})
	}
}

// A judge finds an account's finished snapshots through the account it
// judged last (finishedOf) as the map gives them, however the identities
// switch between sources and accounts, and where a source and an account
// joined would read as another pair's.
func TestFinishedOfIsTheMaps(t *testing.T) {
	j := &statusJudge{finished: map[string][]int64{
		"github\x00acme":  {1, 4},
		"github\x00acme2": {2},
		"aws\x00acme":     {3},
		"github\x00":      {5},
	}}
	pairs := [][2]string{{"github", "acme"}, {"github", "acme"}, {"github", "acme2"}, {"aws", "acme"},
		{"github", "acme"}, {"github", ""}, {"github\x00acme", ""}, {"github", "acme"}, {"x509", "acme"}, {"", ""}, {"github", "acme2"}}
	for _, p := range pairs {
		got, want := j.finishedOf(p[0], p[1]), j.finished[p[0]+"\x00"+p[1]]
		if !slices.Equal(got, want) {
			t.Errorf("%q %q: finishedOf %v, the map %v", p[0], p[1], got, want)
		}
	}
}
