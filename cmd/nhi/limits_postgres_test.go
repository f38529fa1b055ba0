package main

import (
	"context"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/internal/pgtest"
)

// Limits a server's owner sets on a reviewer's role stop nhi's writes
// with a message that names the setting, says nothing was written and
// what to do, and nothing is written: a read-only session (as on a
// standby), and a lock_timeout or a statement_timeout that ends the
// wait for the write lock another session holds.
func TestServerLimitsSayWhatToDo(t *testing.T) {
	owner, rita, role := demoOnPostgres(t)
	id := "github:northwind:github_deploy_key:api-gateway/80000240"
	events := eventCounter(t, owner)
	// The write lock, held by another session for the two timeouts.
	holder := pgtest.Connect(t, owner)
	for _, l := range []struct {
		setting string
		lock    bool
		want    []string
	}{
		{"default_transaction_read_only = on", false, []string{"read-only transaction", "took the session as read-only", "nothing was written", "ALTER ROLE <role> RESET default_transaction_read_only"}},
		{"lock_timeout = '20ms'", true, []string{"lock timeout", "lock_timeout ended the wait", "nothing was written", "PGOPTIONS='-c lock_timeout=0'"}},
		{"statement_timeout = '20ms'", true, []string{"statement timeout", "statement_timeout stopped the statement", "nothing it was writing was recorded", "PGOPTIONS='-c statement_timeout=0'"}},
	} {
		setting := strings.Fields(l.setting)[0]
		pgtest.Exec(t, owner, `ALTER ROLE `+role+` SET `+l.setting)
		if l.lock {
			if _, err := holder.Exec(context.Background(), `SELECT pg_advisory_lock($1)`, int64(audit.ApplicationID)); err != nil {
				t.Fatal(err)
			}
		}
		before := events()
		r := nhi(t, nil, "--db", rita, "note", "add", id, "asked the gateway team")
		if r.code != 1 {
			t.Errorf("%s: exit %d; want 1\n%s%s", setting, r.code, r.stdout, r.stderr)
		}
		for _, w := range l.want {
			if !strings.Contains(r.stderr, w) {
				t.Errorf("%s: the error does not say %q:\n%s", setting, w, r.stderr)
			}
		}
		if n := events(); n != before {
			t.Errorf("%s: the log went from %d events to %d; want nothing written", setting, before, n)
		}
		if l.lock {
			if _, err := holder.Exec(context.Background(), `SELECT pg_advisory_unlock($1)`, int64(audit.ApplicationID)); err != nil {
				t.Fatal(err)
			}
		}
		pgtest.Exec(t, owner, `ALTER ROLE `+role+` RESET `+setting)
	}
	// PGOPTIONS, which the advice offers, reaches the server: here it
	// sets what the role's setting did.
	before := events()
	r := nhi(t, []string{"PGOPTIONS=-c default_transaction_read_only=on"}, "--db", rita, "note", "add", id, "asked the gateway team")
	if r.code != 1 || !strings.Contains(r.stderr, "took the session as read-only") || events() != before {
		t.Errorf("PGOPTIONS read-only: exit %d\n%s", r.code, r.stderr)
	}
}

// TestNoConnectionLeftSaysWhatToDo: when the server has no connection
// left for the role (here its CONNECTION LIMIT, as max_connections would
// do for every role), nhi says so and what to do, where it gave only
// PostgreSQL's words ("too many connections for role"); nothing is
// written.
func TestNoConnectionLeftSaysWhatToDo(t *testing.T) {
	owner, rita, role := demoOnPostgres(t)
	id := "github:northwind:github_deploy_key:api-gateway/80000240"
	events := eventCounter(t, owner)
	pgtest.Exec(t, owner, `ALTER ROLE `+role+` CONNECTION LIMIT 1`)
	defer pgtest.Exec(t, owner, `ALTER ROLE `+role+` CONNECTION LIMIT -1`)
	held := pgtest.Connect(t, rita) // the role's one connection
	defer held.Close(context.Background())
	before := events()
	r := nhi(t, nil, "--db", rita, "note", "add", id, "asked the gateway team")
	if r.code != 1 {
		t.Errorf("exit %d; want 1\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, w := range []string{"too many connections", "no connection left", "CONNECTION LIMIT", "max_connections", "docs/team.md"} {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("the error does not say %q:\n%s", w, r.stderr)
		}
	}
	if n := events(); n != before {
		t.Errorf("the log went from %d events to %d; want nothing written", before, n)
	}
}

// eventCounter counts the events of the database at u, as its owner reads
// them, each time it is called.
func eventCounter(t *testing.T, u string) func() int {
	c := pgtest.Connect(t, u)
	return func() (n int) {
		t.Helper()
		if err := c.QueryRow(context.Background(), `SELECT count(*) FROM events`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
}
