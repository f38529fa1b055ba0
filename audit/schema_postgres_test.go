package audit

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/internal/pgtest"
)

// A read-only open of a database whose tables are older than this nhi's
// changes nothing and says what is missing and what to run, as a
// read-only open of an older file does (TestRegisterMigrations); once
// the owner has opened it for writing, the read-only open works.
func TestReadOnlyOpenOfOlderDatabase(t *testing.T) {
	srv := pgtest.Shared(t)
	where := pgtest.URL(t)
	db := pgtest.DatabaseName(where)
	s := openAt(t, where)
	snapshot(t, s, nil, nil, obs("a", KindGitHubDeployKey))
	s.Close()
	setAuditVersion := func(v int) {
		t.Helper()
		if err := srv.Exec(ctx, db, fmt.Sprintf(`UPDATE meta SET value = '%d' WHERE key = 'schema.audit'`, v)); err != nil {
			t.Fatal(err)
		}
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
