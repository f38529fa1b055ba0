package tui

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/nhi-audit/nhi/audit"
)

// wholeRead is a store that offers no read in parts: the TUI reads it
// whole, through Identities (the reference audit's
// TestEachTableIdentityMatchesIdentities holds EachTableIdentity to).
type wholeRead struct{ Store }

// variedEvidence is the fixture organisation (newEvidenceIn) grown into
// what the table must show right: a second snapshot that removes some
// identities, changes one, adds one and cannot read a place (not
// checked), owners (one who is no member), and a second source.
func variedEvidence(t *testing.T, where string) *audit.Store {
	t.Helper()
	ctx := context.Background()
	e := newEvidenceIn(t, where)
	st := e.store
	for i, owner := range []string{"alice", "mallory", "@acme/platform"} {
		if _, err := st.SetOwner(ctx, testActor, e.ids[i].ID, owner); err != nil {
			t.Fatal(err)
		}
	}
	obs := fixtureObservations()
	w, err := st.BeginSnapshot(ctx, audit.SnapshotInfo{Source: "github", Account: "acme", APIURL: "https://api.github.com",
		ToolVersion: "test", StartedAt: testNow.Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	next := append([]audit.Observation(nil), obs[:30]...)
	next[1].Permissions = map[string]string{"contents": "admin"}
	fresh := obs[35]
	fresh.ID, fresh.Name = fresh.ID+"-new", fresh.Name+"_NEW"
	next = append(next, fresh)
	for _, o := range next {
		if err := w.Record(o); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Gap(audit.Gap{Endpoint: "GET /repos/" + obs[31].Scope + "/actions/secrets", Kind: obs[31].Kind, Scope: obs[31].Scope, Status: 403, Reason: "forbidden"}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Finish(ctx, nil); err != nil {
		t.Fatal(err)
	}
	w, err = st.BeginSnapshot(ctx, audit.SnapshotInfo{Source: "aws", Account: "123456789012", APIURL: "https://iam.amazonaws.com", ToolVersion: "test", StartedAt: testNow})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range []audit.Observation{
		{ID: "aws:123456789012:aws_iam_role:deployer", Kind: audit.KindAWSIAMRole, Name: "deployer", Scope: "123456789012",
			Attributes: map[string]string{"tag.Owner": "alice", "trust_principals": "*"}, Permissions: map[string]string{"s3": "admin"}},
		{ID: "aws:123456789012:aws_access_key:AKIA1", Kind: audit.KindAWSAccessKey, Name: "AKIA1", Scope: "123456789012",
			CreatedAt: daysAgo(900), Attributes: map[string]string{"user": "ci", "status": "Active"}},
	} {
		if err := w.Record(o); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Finish(ctx, nil); err != nil {
		t.Fatal(err)
	}
	return st
}

// TestTableReadMatchesWholeRead: the table the TUI builds from
// EachTableIdentity is the one it builds from Identities — every
// identity whole (columns, statuses, marks, findings, suggestions), the
// screen, and what filters and marks select — on both engines.
func TestTableReadMatchesWholeRead(t *testing.T) {
	for _, eng := range []string{"sqlite", "postgres"} {
		t.Run(eng, func(t *testing.T) {
			st := variedEvidence(t, evidenceOn(t, eng))
			load := func(s Store) *Model {
				m := New(nil, nil, Options{Store: s, Now: clock, ReadOnly: true})
				m.Update(tea.WindowSizeMsg{Width: 200, Height: 60})
				drain(t, m, m.Init())
				if m.loading || m.ids == nil {
					t.Fatal("the population did not load")
				}
				return m
			}
			old, cur := load(wholeRead{st}), load(st)
			po, pc := old.st.pop, cur.st.pop
			if po.len() != pc.len() || po.len() < 40 {
				t.Fatalf("the table read loaded %d identities, Identities %d", pc.len(), po.len())
			}
			statuses := map[string]int{}
			for i := range int32(po.len()) {
				a, b := po.t.identity(po.row(i)), pc.t.identity(pc.row(i))
				if !reflect.DeepEqual(a, b) {
					t.Fatalf("row %d differs:\ntable read %+v\nIdentities %+v", i, *b, *a)
				}
				statuses[a.Status+"/"+a.Change]++
				statuses[a.Source]++
			}
			for k, n := range map[string]int{"removed/": 4, "not-checked/": 1, "active/new": 1, "active/changed": 1, "aws": 2} {
				if statuses[k] < n {
					t.Errorf("the fixture should have %d %q; it has %v", n, k, statuses)
				}
			}
			if a, b := old.View(), cur.View(); a != b {
				t.Errorf("the screens differ:\nIdentities:\n%s\ntable read:\n%s", a, b)
			}
			for _, keys := range []string{"/status:removed", "/owner:none finding:stale", "/attr.added_by:alice", "/change:new or change:changed", "/source:aws", "sss"} {
				for _, m := range []*Model{old, cur} {
					if strings.HasPrefix(keys, "/") {
						press(t, m, "/")
						press(t, m, strings.Split(keys[1:], "")...)
						press(t, m, "enter")
					} else {
						press(t, m, strings.Split(keys, "")...)
					}
				}
				if a, b := old.View(), cur.View(); a != b {
					t.Errorf("after %q the screens differ:\nIdentities:\n%s\ntable read:\n%s", keys, a, b)
				}
				for _, m := range []*Model{old, cur} {
					press(t, m, "esc")
				}
			}
		})
	}
}
