package audit

import (
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/nhi-audit/nhi/internal/pgtest"
)

// A read-only open of a database whose tables are older than this nhi's
// changes nothing and says what is missing and what to run, as a
// read-only open of an older file does (TestRegisterMigrations); once
// the owner has opened it for writing, the read-only open works.
func TestReadOnlyOpenOfOlderDatabase(t *testing.T) {
	where := pgtest.URL(t)
	s := openAt(t, where)
	snapshot(t, s, nil, nil, obs("a", KindGitHubDeployKey))
	s.Close()
	setAuditVersion := func(v int) {
		t.Helper()
		pgtest.Exec(t, where, fmt.Sprintf(`UPDATE meta SET value = '%d' WHERE key = 'schema.audit'`, v))
	}
	auditVersion := func() string {
		t.Helper()
		s, err := Open(ctx, where, OpenOptions{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		var v string
		if err := s.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'schema.audit'`).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}

	// Audit's own tables a step behind.
	older := len(postgresMigrations) - 1
	setAuditVersion(older)
	_, err := Open(ctx, where, OpenOptions{ReadOnly: true})
	want := fmt.Sprintf("%s lacks audit's tables at schema version %d (it has %d), which this nhi keeps in the database; nothing was changed: run nhi db init as the tables' owner (the role that first ran it) to add them, then open it again",
		redactedURL(where), len(postgresMigrations), older)
	if !errors.Is(err, ErrReadOnly) || !strings.Contains(fmt.Sprint(err), want) {
		t.Errorf("read-only open of older tables:\n%v\nwant it to say\n%s", err, want)
	}
	setAuditVersion(len(postgresMigrations))
	if v := auditVersion(); v != strconv.Itoa(len(postgresMigrations)) {
		t.Fatalf("schema.audit is %s", v)
	}

	// A package's tables this database was made without.
	saved := registeredMigrations()
	defer func() { packageMigrations = saved }()
	RegisterMigrations("widgets", `CREATE TABLE widgets (id INTEGER PRIMARY KEY)`)
	RegisterPostgresMigrations("widgets", `CREATE TABLE widgets (id BIGINT PRIMARY KEY)`)
	_, err = Open(ctx, where, OpenOptions{ReadOnly: true})
	want = redactedURL(where) + " lacks the widgets tables, which this nhi keeps in the database; nothing was changed: run nhi db init as the tables' owner (the role that first ran it) to add them, then open it again"
	if !errors.Is(err, ErrReadOnly) || !strings.Contains(fmt.Sprint(err), want) {
		t.Errorf("read-only open of a database lacking a package's tables:\n%v\nwant it to say\n%s", err, want)
	}
	openAt(t, where).Close() // the owner (this test's superuser) opening it for writing adds them
	r, err := Open(ctx, where, OpenOptions{ReadOnly: true})
	if err != nil {
		t.Fatalf("read-only open after the upgrade: %v", err)
	}
	defer r.Close()
	var n int
	if err := r.db.QueryRowContext(ctx, `SELECT count(*) FROM widgets`).Scan(&n); err != nil {
		t.Errorf("the widgets table after the upgrade: %v", err)
	}
}

// The database's checks of who a write names (step 3) find a name's
// person as the directory does (Directory.Lookup, Directory.Same), from
// the keys each row of people keeps (step 5), which follow the record
// when it changes.
func TestPersonOfMatchesDirectory(t *testing.T) {
	s := openAt(t, pgtest.URL(t))
	people := []Person{
		{Email: "rita@acme.test", GitHub: "Rita-K", Aliases: []string{" RKim ", "@rk"}},
		{Email: "sam@acme.test", GitHub: "sam", Aliases: []string{"samuel@old.acme.test"}},
		{Email: "ana@acme.test", Aliases: []string{"Ana.Lopez"}},
	}
	if _, err := s.SetPeople(ctx, "hr", PeopleImport{People: people}, false); err != nil {
		t.Fatal(err)
	}
	names := []string{"rita@acme.test", "RITA@ACME.TEST", "rita-k", "@Rita-K", "rkim", "rk", "@rk", "sam", "Samuel@old.acme.test",
		"ana.lopez", "nobody", "", " ", "@"}
	compare := func(step string) {
		t.Helper()
		dir, err := s.People(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range names {
			want := ""
			if p := dir.Lookup(a); p != nil {
				want = p.Email
			}
			var got sql.NullString
			if err := s.db.QueryRowContext(ctx, `SELECT nhi_person_of($1)`, a).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got.String != want {
				t.Errorf("%s: the database finds %q as %q; the directory as %q", step, a, got.String, want)
			}
			for _, b := range names {
				var same bool
				if err := s.db.QueryRowContext(ctx, `SELECT nhi_same_person($1, $2)`, a, b).Scan(&same); err != nil {
					t.Fatal(err)
				}
				if want := dir.Same(a, b); same != want {
					t.Errorf("%s: the database says %q and %q are the same person: %v; the directory: %v", step, a, b, same, want)
				}
			}
		}
	}
	compare("imported")
	// rita drops an alias and sam takes it: the stored keys follow.
	people[0].Aliases = []string{"@rk"}
	people[1].Aliases = []string{"rkim"}
	if _, err := s.SetPeople(ctx, "hr", PeopleImport{People: people}, false); err != nil {
		t.Fatal(err)
	}
	compare("changed")
}

// The database's check of an event's actor (events_actor, step 6) lets a
// reviewer's role record an event in a name exactly when the directory
// says the name and the role are the same person (Directory.Same): the
// role itself, another name of the role's person (as --as compares
// them: trimmed, lower case, without a login's "@"), and not a name
// someone else goes by, nor any name for a role the directory does not
// know; an nhi_admin's role records in any name. A role whose person the
// directory marks left records in no name, saying so (step 12), exactly
// when Directory.RefuseLeaver refuses the actor: among them a name two
// people claim, whose person is the last by e-mail (Directory.Lookup),
// once the one who left and once the one who did not, and an nhi_admin
// who left, who still records in any name. Each insert is made as the
// role, through SET SESSION AUTHORIZATION, and rolled back.
func TestActorCheckMatchesDirectory(t *testing.T) {
	where := pgtest.URL(t)
	db := pgtest.DatabaseName(where)
	openAt(t, where).Close()
	// The tables as step 5 left them, upgraded by the owner's next open.
	pgtest.Exec(t, where, `UPDATE meta SET value = '5' WHERE key = 'schema.audit'`)
	s := openAt(t, where)
	if _, err := s.InitRoles(ctx); err != nil {
		t.Fatal(err)
	}
	// rex is a reviewer and an nhi_admin, and records in any name: a
	// check that asked a reviewer the directory first would have to ask
	// the catalog too when it says no (docs/team.md, "What makes reviewer
	// roles dearer").
	rita, sam, stranger, ada, rex := "rita_"+db, "sam_"+db, "stranger_"+db, "ada_"+db, "rex_"+db
	lee, pat, quinn := "lee_"+db, "pat_"+db, "quinn_"+db // lee left; pat and quinn are names two people claim
	roles := []string{rita, sam, stranger, ada, rex, lee, pat, quinn}
	for _, role := range roles {
		groups := []string{RoleReviewer}
		switch role {
		case ada:
			groups = []string{RoleAdmin}
		case rex:
			groups = []string{RoleReviewer, RoleAdmin}
		}
		pgtest.LoginRole(t, where, role, groups...)
	}
	if _, err := s.SetPeople(ctx, "hr", PeopleImport{People: []Person{
		{Email: "rita@acme.test", GitHub: "Rita-K", Aliases: []string{" RKim ", strings.ToUpper(rita)}},
		{Email: "sam@acme.test", GitHub: "sam", Aliases: []string{"@" + sam}},
		{Email: "ana@acme.test", Aliases: []string{"Ana.Lopez"}},
		{Email: "lee@acme.test", Aliases: []string{lee}, Status: PersonLeft, LeftAt: "2026-11-30"},
		{Email: "rex@acme.test", Aliases: []string{rex}, Status: PersonLeft},
		{Email: "pat-a@acme.test", Aliases: []string{"pat-a"}, Status: PersonLeft},
		{Email: "pat-b@acme.test", Aliases: []string{"pat-b"}},
		{Email: "quinn-a@acme.test", Aliases: []string{"quinn-a"}},
		{Email: "quinn-b@acme.test", Aliases: []string{"quinn-b"}, Status: PersonLeft},
	}}, false); err != nil {
		t.Fatal(err)
	}
	// Two people claiming one name is what nhi's import refuses; a
	// directory written otherwise (psql) may hold it.
	pgtest.Exec(t, where, `UPDATE people SET record = jsonb_set(record::jsonb, '{aliases}', (record::jsonb->'aliases') || to_jsonb(CASE WHEN email LIKE 'pat%' THEN '`+pat+`' ELSE '`+quinn+`' END))::text
		WHERE email LIKE 'pat-%' OR email LIKE 'quinn-%'`)
	dir, err := s.People(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c := pgtest.Connect(t, where)
	actors := []string{rita, " " + strings.ToUpper(rita), "rita@acme.test", "RITA-K", "@rita-k", "rkim", "sam", sam, "sam@acme.test",
		"ana.lopez", stranger, "nobody", "", " ", "@", lee, "lee@acme.test", pat, "pat-a", "pat-b@acme.test", quinn, "quinn-a", "quinn-b", rex}
	accepted, left := 0, 0
	for _, role := range roles {
		for i, actor := range actors {
			tx := pgtest.BeginAs(t, c, role)
			_, err := tx.Exec(ctx, `INSERT INTO events (seq, at, actor, type, payload, prev_hash, hash) VALUES ($1, '2026-12-02T00:00:00Z', $2, 'note.add', '{}', '', $3)`,
				int64(1_000_000+i), actor, fmt.Sprint("test-", i))
			tx.Rollback(ctx)
			var pe *pgconn.PgError
			leaver := errors.As(err, &pe) && pe.Code == "42501" && pe.ConstraintName == LeaverRefusal &&
				strings.Contains(pe.Message, "according to the directory of people, so nothing was recorded")
			refused := leaver || errors.As(err, &pe) && pe.Code == "42501" && strings.Contains(pe.Message, "may not record an event in the name of")
			if err != nil && !refused {
				t.Fatalf("as %s, an event in the name of %q: %v", role, actor, err)
			}
			anyName := role == ada || role == rex
			if want := anyName || dir.Same(actor, role) && dir.RefuseLeaver(actor, "record") == nil; !refused != want {
				t.Errorf("as %s, an event in the name of %q: accepted %v; the directory says the same person: %v, who left: %v",
					role, actor, !refused, dir.Same(actor, role), dir.RefuseLeaver(actor, "record"))
			}
			if want := !anyName && dir.Same(actor, role) && dir.RefuseLeaver(actor, "record") != nil; leaver != want {
				t.Errorf("as %s, an event in the name of %q: refused as a leaver %v; want %v (%v)", role, actor, leaver, want, err)
			}
			if leaver {
				left++
			}
			if !refused {
				accepted++
			}
		}
	}
	if accepted == 0 || left == 0 {
		t.Fatalf("%d actors accepted, %d refused as leavers: the check refused everything, or no leaver", accepted, left)
	}
}
