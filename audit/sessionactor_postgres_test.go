package audit

import (
	"errors"
	"testing"

	"github.com/nhi-audit/nhi/internal/pgtest"
)

// --as may only narrow the session's role to the role itself or another
// of its person's aliases (docs/team.md): "Sam Lee <ada@acme.test>", as
// nhi prints a person and the directory finds ada by, names ada only in
// its brackets and prints as Sam Lee, so it is refused, naming both,
// where before it was taken and recorded as written as the actor of a
// snapshot (which the database lets the owner and nhi_admin record in
// any name).
func TestSessionActorNarrowsToAliasesOnly(t *testing.T) {
	s := openAt(t, pgtest.URL(t))
	var role string
	if err := s.QueryRow(ctx, `SELECT session_user`).Scan(&role); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetPeople(ctx, role, PeopleImport{People: []Person{
		{Email: "ada@acme.test", Aliases: []string{role, "ada"}},
		{Email: "sam@acme.test", Name: "Sam Lee", Aliases: []string{"sam"}},
	}}, false); err != nil {
		t.Fatal(err)
	}
	for _, narrow := range []string{"", role, "ADA", "@ada", "ada@acme.test"} {
		if got, ok, err := s.SessionActor(ctx, narrow); err != nil || !ok || (narrow != "" && got != narrow) || (narrow == "" && got != role) {
			t.Errorf("--as %q: %q %v %v; want it taken", narrow, got, ok, err)
		}
	}
	for _, narrow := range []string{"Sam Lee <ada@acme.test>", "sam", "ada@acme.test>"} {
		if got, _, err := s.SessionActor(ctx, narrow); !errors.Is(err, ErrActorMismatch) {
			t.Errorf("--as %q: %q %v; want ErrActorMismatch", narrow, got, err)
		}
	}
}
