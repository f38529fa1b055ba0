package audit

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"slices"
	"strings"
	"time"
)

// ResolveActor says who is acting: the --as flag, else NHI_REVIEWER, else
// git's user.email, else the OS user. The name is taken as given; once the
// evidence file has a directory of people, the command line resolves it to
// a person and refuses names the directory does not know (docs/people.md).
func ResolveActor(flag string) string {
	a, _ := ResolveActorSource(flag)
	return a
}

// ResolveActorSource is ResolveActor, also saying where the name came
// from ("--as", "NHI_REVIEWER", "git user.email", "the OS user"), for
// messages that must tell a reviewer how to change it. An empty flag is
// one not given: the command line refuses --as given empty before it
// comes here (cmd/nhi's actorFlag). An empty NHI_REVIEWER is unset.
func ResolveActorSource(flag string) (actor, source string) {
	if a := strings.TrimSpace(flag); a != "" {
		return a, "--as"
	}
	if a := strings.TrimSpace(os.Getenv("NHI_REVIEWER")); a != "" {
		return a, "NHI_REVIEWER"
	}
	if a := gitEmail(); a != "" {
		return a, "git user.email"
	}
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username, "the OS user"
	}
	return "", ""
}

func gitEmail() string {
	if _, err := exec.LookPath("git"); err != nil {
		return ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "git", "config", "--get", "user.email").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// ErrActorMismatch is --as naming someone other than the database
// session's role.
var ErrActorMismatch = errors.New("--as names someone other than the database session's role")

// SessionActor is who acts on a PostgreSQL store: the role the database
// authenticated (session_user), not a name the command line gives
// (docs/team.md). narrow, a name given with --as or NHI_REVIEWER, may
// only narrow it: the role itself or another alias of the person the
// directory of people says the role is, and is then the name returned;
// anyone else is refused, naming both. On an evidence file it returns
// narrow unchanged and ok false: the file has no session to authenticate.
func (s *Store) SessionActor(ctx context.Context, narrow string) (actor string, ok bool, err error) {
	if s.engine != enginePostgres {
		return narrow, false, nil
	}
	var role string
	if err := s.db.QueryRowContext(ctx, `SELECT session_user`).Scan(&role); err != nil {
		return "", true, fmt.Errorf("asking the database who is connected: %w", err)
	}
	if narrow == "" {
		return role, true, nil
	}
	dir, err := s.People(ctx)
	if err != nil {
		return "", true, err
	}
	// One of the role's person's names, by key, as the database's check
	// of an event's actor compares them: not Directory.Same, whose
	// Lookup also takes "Name <address>" by its brackets, a form that
	// prints as someone else.
	same := AliasKey(narrow) == AliasKey(role)
	if p := dir.Lookup(role); !same && p != nil {
		same = slices.ContainsFunc(p.Names(), func(n string) bool { return AliasKey(n) == AliasKey(narrow) })
	}
	if !same {
		return "", true, fmt.Errorf("%w: you are connected as database role %q and act as %q, whom the directory of people does not know as the same person, so nothing was written; connect as your own role, drop --as, or add %q to your aliases (docs/team.md)",
			ErrActorMismatch, role, Printable(narrow), role)
	}
	return narrow, true, nil
}
