package tui

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/nhi-audit/nhi/audit"
)

// suggestedEvidence is the fixture organisation read again with carol,
// of the directory of people, as the CODEOWNERS of acme/web: its
// NPM_TOKEN's top owner suggestion, which relates it to her and to
// nothing else.
func suggestedEvidence(t *testing.T) *evidence {
	t.Helper()
	e := newEvidence(t)
	ctx := context.Background()
	if _, err := e.store.SetPeople(ctx, testActor, audit.PeopleImport{People: []audit.Person{
		{Email: "carol@acme.test", Name: "Carol", GitHub: "carol"},
		{Email: testActor, Name: "Auditor"},
	}}, false); err != nil {
		t.Fatal(err)
	}
	w, err := e.store.BeginSnapshot(ctx, audit.SnapshotInfo{
		Source: "github", Account: "acme", APIURL: "https://api.github.com", Credential: "token of octocat (read:org)",
		ToolVersion: "test", StartedAt: testNow.Add(-time.Hour),
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []audit.Principal{
		{Type: audit.PrincipalMember, Scope: "acme", Login: "alice", Role: "admin"},
		{Type: audit.PrincipalTeam, Scope: "acme/api", Login: "acme/platform", Role: "admin"},
		{Type: audit.PrincipalCodeowner, Scope: "acme/web", Login: "carol"},
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
	return e.finish(t, w)
}

// position is where the identity named name is in m's population.
func position(t *testing.T, m *Model, name string) int32 {
	t.Helper()
	for i := range int32(m.st.pop.len()) {
		if m.st.identity(i).Name == name {
			return i
		}
	}
	t.Fatalf("no identity named %q", name)
	return -1
}

// TestSuggestionsComeAfterTheTable: an open shows the table before the
// owner suggestions are derived; until they come, the detail, the owner
// prompt, the person view and a person: filter say that they wait (never
// "none", never a count without them); once they come, each shows what
// an open that derived them with the table shows, and every identity is
// Identities' own.
func TestSuggestionsComeAfterTheTable(t *testing.T) {
	e := suggestedEvidence(t)
	m := New(e.snap, nil, Options{Store: e.store, Now: clock, Actor: testActor})
	m.sugg.hold = true // the suggestions come when the test lets them
	m.Update(tea.WindowSizeMsg{Width: 160, Height: 40})
	drain(t, m, m.Init())
	if m.loading || m.ids == nil || m.st.pop.len() != len(e.ids) {
		t.Fatalf("the table did not load: %d of %d rows", m.st.pop.len(), len(e.ids))
	}
	if m.st.pop.unsuggested != m.st.pop.len() {
		t.Fatalf("%d rows wait for suggestions, want all %d", m.st.pop.unsuggested, m.st.pop.len())
	}
	loading := "owner suggestions: loading…"
	screen := func() string { return ansi.Strip(m.View()) }

	// The detail of the deploy key, whose admin team is suggested.
	key := position(t, m, "deploy-prod")
	m.ids.table.setCursor(tableRowOf(t, m, key))
	press(t, m, "enter")
	if s := screen(); !strings.Contains(s, loading) || strings.Contains(s, "no suggestion") || strings.Contains(s, "@acme/platform") {
		t.Fatalf("the detail before the suggestions should say they load:\n%s", s)
	}
	press(t, m, "esc")

	// The owner prompt on it: the known owners, and that they load.
	m.ids.table.setCursor(tableRowOf(t, m, key))
	press(t, m, "o")
	if s := screen(); !strings.Contains(s, loading) || strings.Contains(s, "admin team of acme/api") || strings.Contains(s, "no suggestions") {
		t.Fatalf("the owner prompt before the suggestions should say they load:\n%s", s)
	}
	press(t, m, "esc")

	// A person: filter waits, and the table stays whole (as t in a
	// person view sets it; typed, it waits in the prompt alike).
	send(t, m, applyFilterMsg{"person:carol"})
	if s := screen(); !strings.Contains(s, "person: waits for the "+loading) {
		t.Fatalf("a person: filter before the suggestions should wait:\n%s", s)
	}
	if m.ids.table.Len() != len(e.ids) || m.ids.filterText != "" {
		t.Fatalf("the table shows %d rows under %q while the filter waits, want all %d", m.ids.table.Len(), m.ids.filterText, len(e.ids))
	}

	// Carol's person view: no count without the suggestion that
	// relates her.
	dir, err := e.store.People(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	carol := dir.Lookup("carol")
	m.setFlash("", false)
	pv := newPersonView(m.st, *carol)
	send(t, m, pushViewMsg{pv, pv.load()}) // as openPerson opens it
	if s := screen(); !strings.Contains(s, loading) || strings.Contains(s, "carol@acme.test> —") {
		t.Fatalf("the person view before the suggestions should say they load:\n%s", s)
	}

	// The suggestions come.
	m.sugg.hold = false
	drain(t, m, m.suggestNext(0))
	if m.st.pop.unsuggested != 0 || m.st.suggErr != nil {
		t.Fatalf("after the derive %d rows wait (%v)", m.st.pop.unsuggested, m.st.suggErr)
	}
	if s := screen(); !strings.Contains(s, "carol@acme.test> — 1 related identity: suggested owner 1") || !strings.Contains(s, "NPM_TOKEN") {
		t.Fatalf("the person view after the suggestions should list NPM_TOKEN:\n%s", s)
	}
	press(t, m, "esc")
	// The filter typed while they loaded applies now.
	if m.ids.filterText != "person:carol" || m.ids.table.Len() != 1 {
		t.Fatalf("the waiting filter: %q, %d rows; want person:carol, 1", m.ids.filterText, m.ids.table.Len())
	}
	if i, _ := m.ids.table.Selected(); m.st.identity(i).Name != "NPM_TOKEN" {
		t.Fatalf("person:carol shows %s", m.st.identity(i).Name)
	}
	press(t, m, "/", "ctrl+u", "enter")
	m.ids.table.setCursor(tableRowOf(t, m, key))
	press(t, m, "enter")
	if s := screen(); !strings.Contains(s, "suggested:") || !strings.Contains(s, "@acme/platform — admin team of acme/api") || strings.Contains(s, "loading") {
		t.Fatalf("the detail after the suggestions:\n%s", s)
	}
	press(t, m, "esc")
	m.ids.table.setCursor(tableRowOf(t, m, key))
	press(t, m, "o")
	if s := screen(); !strings.Contains(s, "admin team of acme/api") || strings.Contains(s, "loading") {
		t.Fatalf("the owner prompt after the suggestions:\n%s", s)
	}
	press(t, m, "esc")

	// Every identity is what Identities derives, suggestions included.
	for i := range int32(m.st.pop.len()) {
		got := m.st.identity(i)
		var want *audit.Identity
		for k := range e.ids {
			if e.ids[k].ID == got.ID {
				want = &e.ids[k]
			}
		}
		if want == nil || !reflect.DeepEqual(got.Suggestions, want.Suggestions) {
			t.Fatalf("%s: suggestions %v, want %v", got.Name, got.Suggestions, want)
		}
	}
}

// tableRowOf is the table's row showing the identity at position i.
func tableRowOf(t *testing.T, m *Model, i int32) int {
	t.Helper()
	for r, p := range m.ids.table.Rows() {
		if p == i {
			return r
		}
	}
	t.Fatalf("position %d is not in the table", i)
	return -1
}

// TestTableCacheWithAndWithoutSuggestions: a table cached before its
// owner suggestions came reads back with its rows waiting for them, and
// derives them after; one of the format before (4, written with every
// suggestion) reads back with them. Either way each identity is
// Identities' own once the table is ready.
func TestTableCacheWithAndWithoutSuggestions(t *testing.T) {
	e := suggestedEvidence(t)
	want := map[string]audit.Identity{}
	for _, id := range e.ids {
		want[id.ID] = id
	}
	open := func(dir string) *Model {
		st, err := audit.Open(context.Background(), e.path, audit.OpenOptions{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		m := New(nil, nil, Options{Store: st, Now: clock, ReadOnly: true, TableCache: dir})
		m.sugg.hold = true
		m.Update(tea.WindowSizeMsg{Width: 160, Height: 40})
		drain(t, m, m.Init())
		if m.loading || m.st.pop.len() != len(e.ids) {
			t.Fatalf("the table did not load: %d of %d rows", m.st.pop.len(), len(e.ids))
		}
		return m
	}
	same := func(m *Model) {
		t.Helper()
		for i := range int32(m.st.pop.len()) {
			got := m.st.identity(i)
			if w := want[got.ID]; !reflect.DeepEqual(*got, w) {
				t.Fatalf("row %d differs:\n got %+v\nwant %+v", i, *got, w)
			}
		}
	}
	derive := func(m *Model) {
		m.sugg.hold = false
		drain(t, m, m.suggestNext(0))
	}

	// Cached while the suggestions load.
	dir := t.TempDir()
	m := open(dir)
	if m.sugg.cacheAt == nil || len(cacheFiles(t, dir)) != 0 {
		t.Fatal("a table waiting for its suggestions should be cached once they are in")
	}
	m.writeCache(*m.sugg.cacheAt, nil)
	m.cache.writes.Wait()
	if m.cache.wrote != nil || len(cacheFiles(t, dir)) != 1 {
		t.Fatalf("writing the cache: %v", m.cache.wrote)
	}
	c := open(dir)
	if c.cache.read == nil || c.st.pop.unsuggested != len(e.ids) {
		t.Fatalf("the cache of a table waiting for suggestions: read %v, %d rows waiting, want all %d", c.cache.read != nil, c.st.pop.unsuggested, len(e.ids))
	}
	derive(c)
	same(c)

	// Format 4, every suggestion in it.
	dir = t.TempDir()
	defer func(v uint64) { tableCacheWrites = v }(tableCacheWrites)
	tableCacheWrites = 4
	first := open(dir)
	derive(first) // written once they are in
	first.cache.writes.Wait()
	tableCacheWrites = tableCacheVersion
	if files := cacheFiles(t, dir); len(files) != 1 {
		t.Fatalf("cache files: %v", files)
	}
	old := open(dir)
	if old.cache.read == nil || old.st.pop.unsuggested != 0 {
		t.Fatalf("the cache of format 4: read %v, %d rows waiting, want none", old.cache.read != nil, old.st.pop.unsuggested)
	}
	same(old)
}

// TestSuggestionsWaitThroughAnOwnerSet: a row whose owner is set while
// its batch of suggestions is derived is encoded again still waiting for
// them (not as having none), is not given the batch's (derived from the
// row as it was), and the next pass derives it: every row ends with
// Identities' suggestions, the owner set kept.
func TestSuggestionsWaitThroughAnOwnerSet(t *testing.T) {
	e := suggestedEvidence(t)
	m := New(e.snap, nil, Options{Store: e.store, Now: clock, Actor: testActor})
	m.sugg.hold = true
	m.Update(tea.WindowSizeMsg{Width: 160, Height: 40})
	drain(t, m, m.Init())
	m.sugg.hold = false
	derive := m.suggestNext(0)
	if derive == nil {
		t.Fatal("no row waits for its suggestions")
	}
	batch := derive() // derived, not yet merged
	key := position(t, m, "deploy-prod")
	m.ids.table.setCursor(tableRowOf(t, m, key))
	press(t, m, append(append([]string{"o"}, strings.Split("carol", "")...), "enter")...)
	if got := m.st.identity(key).Owner; got != "carol" {
		t.Fatalf("the owner set shows %q", got)
	}
	if m.st.pop.row(key).nSugg != suggPending {
		t.Fatal("a row whose owner was set before its suggestions came should still wait for them")
	}
	send(t, m, batch)
	if m.st.pop.unsuggested != 0 || m.sugg.running {
		t.Fatalf("%d rows still wait (running %v)", m.st.pop.unsuggested, m.sugg.running)
	}
	want, err := e.store.Identities(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range want {
		i, ok := m.st.pop.find(w.ID)
		if !ok {
			t.Fatalf("%s is not in the table", w.ID)
		}
		if got := m.st.identity(i); !reflect.DeepEqual(got.Suggestions, w.Suggestions) || got.Owner != w.Owner {
			t.Fatalf("%s: owner %q suggestions %v, want %q %v", w.Name, got.Owner, got.Suggestions, w.Owner, w.Suggestions)
		}
	}
}
