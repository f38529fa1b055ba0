package audit

import (
	"errors"
	"net"
	"net/url"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/internal/pgtest"
)

// A connection refused says what it is (the server could not be reached,
// at the URL without its password), why (the server's words, or the
// network's), and what to do: a wrong password, a database that is not
// there, no server at the port. The message never shows the password, and
// never begins "no evidence file", as it did: the store may well be there.
func TestConnectRefusalSaysWhatToDo(t *testing.T) {
	good := pgtest.TCPURL(t) // over TCP: the server asks for a password there
	u, err := url.Parse(good)
	if err != nil {
		t.Fatal(err)
	}
	with := func(f func(u *url.URL)) string {
		c := *u
		f(&c)
		return c.String()
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	for _, tc := range []struct {
		name, url, why, want string
	}{
		{"wrong password", with(func(u *url.URL) { u.User = url.UserPassword("postgres", "not-the-password") }),
			`: the server said: password authentication failed for user "postgres" (SQLSTATE 28P01)`,
			"The server refused the login of role postgres: check the role's name and its password (PGPASSWORD, ~/.pgpass, or the URL's password)"},
		{"no such database", with(func(u *url.URL) { u.Path = "/no_such_db" }),
			`: the server said: database "no_such_db" does not exist (SQLSTATE 3D000)`,
			"The server has no database no_such_db: check its name in the URL, or have its owner create it (createdb no_such_db, then nhi db init"},
		{"no server", with(func(u *url.URL) { u.Host = closed }), ": connection refused\n",
			"No PostgreSQL server answered at 127.0.0.1 port "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Open(ctx, tc.url, OpenOptions{ReadOnly: true})
			p, _ := url.Parse(tc.url)
			shown := p.Redacted() // the URL, its password xxxxx
			if err == nil || !errors.Is(err, ErrNoConnection) || errors.Is(err, ErrNotExist) ||
				!strings.HasPrefix(err.Error(), "cannot connect to the PostgreSQL server at "+shown+tc.why) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("open: %v\nwant it to begin %q, and say %q", err, "cannot connect to the PostgreSQL server at "+shown+tc.why, tc.want)
			}
			if strings.Contains(err.Error(), "not-the-password") {
				t.Errorf("the message shows the password: %v", err)
			}
		})
	}
}

// A login role granted none of nhi's roles is told which to ask for, not
// that the database is "not an nhi evidence file".
func TestRoleWithoutGrantsIsToldWhatToAskFor(t *testing.T) {
	where := pgtest.URL(t)
	s := openAt(t, where)
	snapshot(t, s, nil, nil, obs("a", KindGitHubDeployKey))
	s.Close()
	role := "nobody_" + pgtest.DatabaseName(where)
	_, err := Open(ctx, pgtest.LoginRole(t, where, role), OpenOptions{ReadOnly: true})
	want := "database role " + role + " may not read nhi's tables in "
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "GRANT nhi_auditor TO "+role+" to read") ||
		errors.Is(err, ErrNotEvidence) {
		t.Fatalf("open as a role with no grants: %v\nwant %q and the grant to ask for", err, want)
	}
}
