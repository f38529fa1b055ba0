package audit

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestEachIdentityInSnapshots streams a snapshot's population larger than
// one batch, some of it removed since, and expects what
// IdentitiesInSnapshot returns (less change marks and owner suggestions,
// which it does not derive); over two accounts whose IDs interleave
// ("123" and "1234": "github:1234:…" sorts before "github:123:…"), one
// sequence in ID order.
func TestEachIdentityInSnapshots(t *testing.T) {
	eachEngine(t, func(t *testing.T, eng testEngine) {
		defer func(n int) { eachBatch = n }(eachBatch)
		eachBatch = 64
		s := openAt(t, eng.new(t))
		first := make([]Observation, 300)
		for i := range first {
			first[i] = obs(fmt.Sprintf("item-%05d", i), Kinds[i%len(Kinds)])
			// Maps that differ from row to row: the read reuses them
			// from page to page.
			first[i].Attributes = map[string]string{"added_by": "alice", "n": fmt.Sprint(i)}
		}
		one := snapshot(t, s, nil, nil, first...)
		snapshot(t, s, nil, nil, first[10:]...)
		if _, err := s.SetOwner(ctx, "auditor@acme.test", first[20].ID, "carol"); err != nil {
			t.Fatal(err)
		}
		want, err := s.IdentitiesInSnapshot(ctx, one.ID)
		if err != nil {
			t.Fatal(err)
		}
		var got []Identity
		if err := s.EachIdentityInSnapshots(ctx, []int64{one.ID}, func(id *Identity) error {
			it := *id // kept past the call: its maps copied
			it.Permissions, it.Attributes = maps.Clone(it.Permissions), maps.Clone(it.Attributes)
			got = append(got, it)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("streamed %d identities, IdentitiesInSnapshot returned %d", len(got), len(want))
		}
		statuses := map[string]int{}
		for i := range want {
			want[i].Change, want[i].Suggestions = "", nil
			if !reflect.DeepEqual(got[i], want[i]) {
				t.Fatalf("identity %d differs:\nstreamed %+v\nlisted   %+v", i, got[i], want[i])
			}
			statuses[got[i].Status]++
			if got[i].Owner == "carol" && len(got[i].Findings) == len(want[i].Findings) {
				statuses["owned"]++
			}
		}
		if statuses[StatusRemoved] != 10 || statuses[StatusActive] != 290 || statuses["owned"] != 1 {
			t.Errorf("want 10 removed, 290 active, 1 owned by carol; got %v", statuses)
		}

		a := snapshotOf(t, s, "github", "123", nil, Observation{ID: IdentityID("github", "123", KindGitHubDeployKey, "x"), Kind: KindGitHubDeployKey, Name: "x"})
		b := snapshotOf(t, s, "github", "1234", nil, Observation{ID: IdentityID("github", "1234", KindGitHubDeployKey, "y"), Kind: KindGitHubDeployKey, Name: "y"})
		var ids []string
		if err := s.EachIdentityInSnapshots(ctx, []int64{a.ID, b.ID}, func(id *Identity) error {
			ids = append(ids, id.ID)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(ids) != "[github:1234:github_deploy_key:y github:123:github_deploy_key:x]" {
			t.Errorf("two accounts streamed as %v, want both in ID order", ids)
		}

		// Two accounts whose IDs have another's many between them: the
		// page's range of identities stops short (identityRangeSlack) and
		// the rest are read by key.
		lo := snapshotOf(t, s, "github", "k1", nil, Observation{ID: IdentityID("github", "k1", KindGitHubDeployKey, "lo"), Kind: KindGitHubDeployKey, Name: "lo"})
		var between []Observation
		for i := range 40 {
			between = append(between, Observation{ID: IdentityID("github", "k2", KindGitHubDeployKey, fmt.Sprint(i)), Kind: KindGitHubDeployKey, Name: fmt.Sprint(i)})
		}
		snapshotOf(t, s, "github", "k2", nil, between...)
		hi := snapshotOf(t, s, "github", "k3", nil, Observation{ID: IdentityID("github", "k3", KindGitHubDeployKey, "hi"), Kind: KindGitHubDeployKey, Name: "hi"})
		var sparse []string
		if err := s.EachIdentityInSnapshots(ctx, []int64{lo.ID, hi.ID}, func(id *Identity) error {
			sparse = append(sparse, fmt.Sprintf("%s %s/%s #%d %s", id.ID, id.Source, id.Account, id.SnapshotID, id.Status))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		want2 := fmt.Sprintf("[github:k1:github_deploy_key:lo github/k1 #%d active github:k3:github_deploy_key:hi github/k3 #%d active]", lo.ID, hi.ID)
		if fmt.Sprint(sparse) != want2 {
			t.Errorf("two accounts apart streamed as\n%v, want\n%v", sparse, want2)
		}
	})
}

// TestEachIdentityInSnapshotsMerges: the snapshots' observations, each
// read through a cursor of its own and merged (snapshotObservations),
// come as one query that sorts them gives them, across pages; a text
// holding the packed read's separator (an ID, a name, a scope, an
// attribute, an owner) is read whole.
func TestEachIdentityInSnapshotsMerges(t *testing.T) {
	eachEngine(t, func(t *testing.T, eng testEngine) {
		defer func(n int) { eachBatch = n }(eachBatch)
		eachBatch = 16
		s := openAt(t, eng.new(t))
		var snaps []int64
		var want []Identity
		// Snapshots taken in another order than their identities'.
		for _, account := range []string{"zz", "a", "m"} {
			var o []Observation
			for i := range 40 {
				o = append(o, Observation{ID: IdentityID("github", account, KindGitHubDeployKey, fmt.Sprintf("k%02d", i)), Kind: KindGitHubDeployKey,
					Name: fmt.Sprint(i), Scope: "acme/r" + fmt.Sprint(i%3), Attributes: map[string]string{"n": fmt.Sprint(i)}})
			}
			if account == "a" {
				o[3].Name = "deploy" + packSep + "key"
				o[5].Scope = "acme/" + packSep
				o[7].Attributes = map[string]string{"note": "a" + packSep + "b"}
				o[9].ID += packSep + "x"
			}
			sn := snapshotOf(t, s, "github", account, nil, o...)
			snaps = append(snaps, sn.ID)
		}
		if _, err := s.SetOwner(ctx, "auditor@acme.test", IdentityID("github", "m", KindGitHubDeployKey, "k11"), "carol"+packSep+"dave"); err != nil {
			t.Fatal(err)
		}
		for _, sn := range snaps {
			ids, err := s.IdentitiesInSnapshot(ctx, sn)
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, ids...)
		}
		slices.SortFunc(want, func(a, b Identity) int { return strings.Compare(a.ID, b.ID) })
		for i := range want {
			want[i].Change, want[i].Suggestions = "", nil
		}
		read := func() []Identity {
			var got []Identity
			if err := s.EachIdentityInSnapshots(ctx, snaps, func(id *Identity) error {
				it := *id
				it.Permissions, it.Attributes = maps.Clone(it.Permissions), maps.Clone(it.Attributes)
				got = append(got, it)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			return got
		}
		check := func(how string, got []Identity) {
			t.Helper()
			if len(got) != len(want) {
				t.Fatalf("%s: streamed %d identities, want %d", how, len(got), len(want))
			}
			for i := range want {
				if !reflect.DeepEqual(got[i], want[i]) {
					t.Fatalf("%s: identity %d differs:\nstreamed %+v\nlisted   %+v", how, i, got[i], want[i])
				}
			}
		}
		merged := read()
		check("merged", merged)
		defer func(n int) { maxSnapshotCursors = n }(maxSnapshotCursors)
		maxSnapshotCursors = 0
		check("sorted", read())
		seps := 0
		for _, id := range merged {
			if strings.Contains(id.ID+id.Name+id.Scope+id.Attributes["note"]+id.Owner, packSep) {
				seps++
			}
		}
		if seps != 5 {
			t.Errorf("the read kept %d of the 5 texts with the separator", seps)
		}
	})
}
