package tui

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/audit"
)

// person:alice in the identities view: her deploy key (added_by alice)
// and, as an owner of the organisation, every secret and key she could
// read; a name nobody goes by is an error at the prompt, never an empty
// table.
func TestPersonFilter(t *testing.T) {
	e := newEvidence(t)
	if _, err := e.store.SetPeople(context.Background(), testActor, audit.PeopleImport{People: []audit.Person{
		{Email: "alice@acme.test", GitHub: "alice", Status: audit.PersonLeft, LeftAt: "2026-10-31"},
		{Email: "bob@acme.test", GitHub: "bob"},
	}}, false); err != nil {
		t.Fatal(err)
	}
	m := e.model(t, 120, 30, Options{})
	v := m.ids
	send(t, m, v.setFilter("person:bob")())
	// bob installed the App; nothing else is his.
	if got := v.table.Len(); got != 1 || !strings.Contains(m.View(), "renovate") {
		t.Errorf("person:bob: %d rows\n%s", got, m.View())
	}
	if !strings.Contains(m.View(), "RELATIONS") || !strings.Contains(selectedLine(t, m.View()), "created") {
		t.Errorf("person:bob: the match is not tagged with how he relates to it:\n%s", m.View())
	}
	send(t, m, v.setFilter("person:ALICE kind:deploy_key")())
	if got := v.table.Len(); got != 1 || !strings.Contains(m.View(), "deploy-prod") {
		t.Errorf("person:alice kind:deploy_key: %d rows\n%s", got, m.View())
	}
	// She added the key, and as an owner of the organisation could read it.
	if row := selectedLine(t, m.View()); !strings.Contains(row, "created,could-read") {
		t.Errorf("deploy-prod is not tagged with both relationships: %q", row)
	}
	send(t, m, v.setFilter("person:alice")())
	// The key, the Dependabot secret and the 35 Actions secrets: alice
	// owns the organisation.
	if got := v.table.Len(); got != 37 {
		t.Errorf("person:alice: %d rows", got)
	}
	if cmd := v.setFilter("person:alise"); cmd != nil || v.filterErr == nil || !strings.Contains(v.filterErr.Msg, "did you mean") {
		t.Errorf("unknown person: %v", v.filterErr)
	}
	if got := v.table.Len(); got != 37 {
		t.Errorf("a refused filter changed the rows: %d", got)
	}
	send(t, m, v.setFilter("kind:deploy_key")())
	if strings.Contains(m.View(), "RELATIONS") {
		t.Errorf("RELATIONS without a person: term:\n%s", m.View())
	}
}

// The leavers of :offboard fit 80 columns: PERSON gives way, so the
// counts and the oldest identity are not cut ("HOLDS…").
func TestOffboardLeaversAt80Columns(t *testing.T) {
	e := newEvidence(t)
	if _, err := e.store.SetPeople(context.Background(), testActor, audit.PeopleImport{People: []audit.Person{
		{Email: "alice.longname-of-the-finance-department@acme.test", Name: "Alice Smith-Longname", GitHub: "alice", Status: audit.PersonLeft, LeftAt: "2026-10-31"},
	}}, false); err != nil {
		t.Fatal(err)
	}
	m := e.model(t, 80, 24, Options{})
	press(t, m, ":offboard", "enter")
	v := m.View()
	checkFrame(t, v, 80, 24)
	lines := strings.Split(v, "\n")
	if !strings.HasSuffix(strings.TrimRight(lines[2], " "), "HOLDS  OLDEST") {
		t.Errorf("the header is cut: %q\n%s", lines[2], v)
	}
	if row := selectedLine(t, v); !regexp.MustCompile(`Alice Smith-Lon… 2026-10-31 +\d+ +\d+ +\d+ +\d+  \d{4}-\d{2}-\d{2} \S`).MatchString(row) {
		t.Errorf("the leaver's row is cut: %q\n%s", row, v)
	}
}
