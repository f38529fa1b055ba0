package audit

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/nhi-audit/nhi/internal/pgtest"
)

// people_keys (step 11), what the server's checks of who a write names
// read, holds every key of every person in the directory with their
// e-mail, and whether they left (step 12), however the directory changes: a database whose owner had
// granted nhi's roles before the step gets it filled and granted as
// people is, so an administrator still imports the directory; a person
// added, renamed or re-hired through nhi, or removed with SQL, and a
// TRUNCATE, are followed. A reviewer reads it and cannot write it, nor pass the
// checks with a temporary table of their own in its place.
func TestPeopleKeysFollowTheDirectory(t *testing.T) {
	where := pgtest.URL(t)
	db := pgtest.DatabaseName(where)
	s := openAt(t, where)
	if _, err := s.InitRoles(ctx); err != nil {
		t.Fatal(err)
	}
	rita, ada := "rita_"+db, "ada_"+db
	for role, group := range map[string]string{rita: RoleReviewer, ada: RoleAdmin} {
		pgtest.LoginRole(t, where, role, group)
	}
	people := []Person{
		{Email: "rita@acme.test", GitHub: "Rita-K", Aliases: []string{" RKim ", rita}},
		{Email: "sam@acme.test", Aliases: []string{"sam"}, Status: PersonLeft, LeftAt: "2026-11-30"},
	}
	if _, err := s.SetPeople(ctx, "hr", PeopleImport{People: people}, false); err != nil {
		t.Fatal(err)
	}
	// The tables as step 10 left them, upgraded by the owner's next open.
	pgtest.Exec(t, where, `DROP TABLE people_keys; DROP FUNCTION nhi_people_keys_follow() CASCADE;
		UPDATE meta SET value = '10' WHERE key = 'schema.audit'`)
	s.Close()
	s = openAt(t, where)

	c := pgtest.Connect(t, where)
	query := func(q string) []string {
		t.Helper()
		rows, err := c.Query(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		got, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(got)
		return got
	}
	follows := func(step string) {
		t.Helper()
		dir, err := s.People(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, p := range dir.People() {
			for _, n := range p.Names() {
				want = append(want, fmt.Sprint(AliasKey(n), " ", p.Email, " ", p.Status == PersonLeft))
			}
		}
		slices.Sort(want)
		want = slices.Compact(want)
		if got := query(`SELECT key || ' ' || email || ' ' || has_left FROM people_keys`); !slices.Equal(got, want) {
			t.Errorf("%s: people_keys holds\n%q\nthe directory's keys are\n%q", step, got, want)
		}
	}
	follows("upgraded")
	acl := `SELECT a.grantee::regrole || ' ' || a.privilege_type FROM pg_class c, aclexplode(c.relacl) a WHERE c.oid = '%s'::regclass`
	if got, want := query(fmt.Sprintf(acl, "people_keys")), query(fmt.Sprintf(acl, "people")); !slices.Equal(got, want) {
		t.Errorf("people_keys is granted\n%q\npeople\n%q", got, want)
	}

	admin, err := Open(ctx, pgtest.AsRole(t, where, ada), OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	people[0].Aliases = []string{"@rk", rita} // rita drops RKim for rk
	people[1].GitHub = "samg"
	people[1].Status, people[1].LeftAt = PersonActive, "" // sam is back
	people = append(people, Person{Email: "ana@acme.test", Aliases: []string{"RKim"}})
	if _, err := admin.SetPeople(ctx, "hr", PeopleImport{People: people}, false); err != nil {
		t.Fatalf("an administrator importing the directory: %v", err)
	}
	follows("changed by an administrator")
	if _, err := admin.db.ExecContext(ctx, `DELETE FROM people WHERE email = 'sam@acme.test'`); err != nil {
		t.Fatal(err)
	}
	follows("sam removed")

	// as runs q as role in a transaction it rolls back.
	as := func(role string, q ...string) error {
		t.Helper()
		tx := pgtest.BeginAs(t, c, role)
		defer tx.Rollback(ctx)
		for _, q := range q {
			if _, err := tx.Exec(ctx, q); err != nil {
				return err
			}
		}
		return nil
	}
	refused := func(err error, code, message string) bool {
		pe, ok := errors.AsType[*pgconn.PgError](err)
		return ok && pe.Code == code && strings.Contains(pe.Message, message)
	}
	event := func(actor string) string {
		return `INSERT INTO events (seq, at, actor, type, payload, prev_hash, hash) VALUES (1000000, '2026-12-02T00:00:00Z', '` + actor + `', 'note.add', '{}', '', 'test')`
	}
	if err := as(rita, `SELECT count(*) FROM people_keys`, event("@RK")); err != nil {
		t.Errorf("as %s, reading people_keys and recording an event in the name of her new alias: %v", rita, err)
	}
	if err := as(rita, event("rkim")); !refused(err, "42501", "may not record an event in the name of") {
		t.Errorf("as %s, an event in the name of the alias she dropped: %v; want it refused", rita, err)
	}
	for _, q := range []string{
		`INSERT INTO people_keys (key, email) VALUES ('samg', 'rita@acme.test')`,
		`UPDATE people_keys SET email = 'rita@acme.test'`,
		`DELETE FROM people_keys WHERE email = 'ana@acme.test'`,
		`TRUNCATE people_keys`,
	} {
		if err := as(rita, q); !refused(err, "42501", "permission denied") {
			t.Errorf("as %s, %s: %v; want permission denied", rita, q, err)
		}
	}
	if err := as(rita, `CREATE TEMPORARY TABLE people_keys (key text, email text)`,
		`INSERT INTO pg_temp.people_keys VALUES ('rkim', 'rita@acme.test'), ('`+rita+`', 'rita@acme.test')`, event("rkim")); !refused(err, "42501", "may not record an event in the name of") {
		t.Errorf("as %s, an event in ana's name with a people_keys of her own: %v; want it refused", rita, err)
	}

	if _, err := s.db.ExecContext(ctx, `TRUNCATE people`); err != nil {
		t.Fatal(err)
	}
	follows("truncated")
}
