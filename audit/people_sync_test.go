package audit

import (
	"strings"
	"testing"
)

// TestSyncMembers: members join the person who goes by any of their
// names; two people's names on one member, or no e-mail, are reported and
// change nothing; a leaver still a member is reported; a second sync of an
// unchanged organisation writes nothing; and the file verifies.
func TestSyncMembers(t *testing.T) {
	s := openNew(t)
	in, err := ReadPeopleCSV(strings.NewReader(peopleCSV), "people.csv")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetPeople(ctx, "root", *in, false); err != nil {
		t.Fatal(err)
	}
	sync := MemberSync{Source: "github northwind", Complete: true, Today: "2026-12-01", Members: []Member{
		{Login: "carol-d", Name: "C. Diaz", Emails: []string{"Carol@Northwind.example"}, Aliases: []string{"cdiaz"}},
		{Login: "bobj"}, // left, still a member
		{Login: "alice-smith", Emails: []string{"bob@northwind.example"}}, // names two people
		{Login: "nomail"},
		{Login: "dan-w", Name: "Dan Wu", Emails: []string{"dan@northwind.example", "dan.wu@mail.example"}},
	}}
	res, err := s.SyncMembers(ctx, "root", sync, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Added) != 1 || res.Added[0].Email != "dan@northwind.example" || res.Added[0].GitHub != "dan-w" ||
		strings.Join(res.Added[0].Aliases, " ") != "dan.wu@mail.example" {
		t.Errorf("added %+v", res.Added)
	}
	if len(res.Updated) != 1 || res.Updated[0].Email != "carol@northwind.example" {
		t.Fatalf("updated %+v", res.Updated)
	}
	if c := res.Updated[0]; c.Name != "Carol Diaz" || c.GitHub != "carol-d" || strings.Join(c.Aliases, " ") != "cdiaz" {
		t.Errorf("carol keeps HR's name and gains her login and alias: %+v", c)
	}
	if len(res.Conflicts) != 1 || !strings.Contains(res.Conflicts[0], "alice-smith: their names belong to Alice Smith <alice@northwind.example> and Bob Jones <bob@northwind.example>") {
		t.Errorf("conflicts %v", res.Conflicts)
	}
	if len(res.NoEmail) != 1 || res.NoEmail[0] != "nomail" {
		t.Errorf("no e-mail %v", res.NoEmail)
	}
	if len(res.LeftMembers) != 1 || res.LeftMembers[0].Email != "bob@northwind.example" || res.Unchanged != 1 {
		t.Errorf("left members %+v, unchanged %d", res.LeftMembers, res.Unchanged)
	}
	if len(res.Gone) != 0 {
		t.Errorf("gone %+v", res.Gone)
	}
	again, err := s.SyncMembers(ctx, "root", sync, false)
	if err != nil || len(again.Events) != 0 || again.Unchanged != 3 {
		t.Errorf("second sync: %+v %v", again, err)
	}
	// Dan leaves; a refused member list (not Complete) says nothing of it.
	sync.Members, sync.Complete = sync.Members[:4], false
	if res, err := s.SyncMembers(ctx, "root", sync, false); err != nil || len(res.Gone) != 0 {
		t.Errorf("incomplete list: gone %+v %v", res.Gone, err)
	}
	sync.Complete, sync.MarkLeavers = true, true
	res, err = s.SyncMembers(ctx, "root", sync, false)
	if err != nil || len(res.Gone) != 1 || len(res.Updated) != 1 || res.Updated[0].Status != PersonLeft || res.Updated[0].LeftAt != "2026-12-01" {
		t.Errorf("marked leaver: %+v %v", res, err)
	}
	if r, err := s.Verify(ctx); err != nil || !r.OK() {
		t.Errorf("verify: %+v %v", r, err)
	}
}

// A member's name that reads as another person's (a public e-mail on a
// lookalike domain is the member's own to set) leaves that member out,
// said, and the rest are synced; a name with an invisible character is
// not a name and is dropped.
func TestSyncMemberReadingAsAnother(t *testing.T) {
	s := openNew(t)
	if _, err := s.SetPeople(ctx, "root", PeopleImport{People: []Person{{Email: "rita@acme.test", GitHub: "rita"}}}, false); err != nil {
		t.Fatal(err)
	}
	res, err := s.SyncMembers(ctx, "root", MemberSync{Source: "github acme", Complete: true, Today: "2026-12-01", Members: []Member{
		{Login: "mallory", Emails: []string{"r\u0456ta@acme.test"}},
		{Login: "zed", Emails: []string{"zed\u200b@acme.test", "zed@acme.test"}},
	}}, false)
	if err != nil {
		t.Fatalf("one member's lookalike name refused the whole sync: %v", err)
	}
	if len(res.Conflicts) != 1 || !strings.Contains(res.Conflicts[0], `mallory: rіta@acme.test ("r\u0456ta@acme.test") reads as a name of rita@acme.test; left alone`) {
		t.Errorf("conflicts %q", res.Conflicts)
	}
	if len(res.Added) != 1 || res.Added[0].Email != "zed@acme.test" || len(res.Added[0].Aliases) != 0 {
		t.Errorf("added %+v", res.Added)
	}
}
