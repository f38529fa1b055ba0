package audit

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/nhi-audit/nhi/internal/pgtest"
)

// A server limit that stops the open's read of the schema version is said
// as that limit, with what to do, not as a database of another
// application: a slow server is not a foreign one.
func TestOpenStoppedByStatementTimeoutSaysSo(t *testing.T) {
	where := pgtest.URL(t)
	s := openAt(t, where)
	snapshot(t, s, nil, nil, obs("a", KindGitHubDeployKey))
	s.Close()

	// Another session holds the meta table, so the open's read of it
	// waits until the server's statement_timeout ends it, however fast
	// or slow the machine is.
	holder := pgtest.Connect(t, where)
	tx, err := holder.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(context.Background(), `LOCK TABLE meta IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(where)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("statement_timeout", "200")
	u.RawQuery = q.Encode()

	_, err = Open(ctx, u.String(), OpenOptions{ReadOnly: true})
	if err == nil {
		t.Fatal("opened a database whose meta table another session holds, under a statement_timeout")
	}
	if errors.Is(err, ErrNotEvidence) {
		t.Errorf("the open calls a good database not nhi's: %v", err)
	}
	if advice := ServerAdvice(err); !strings.Contains(advice, "statement_timeout stopped the statement") {
		t.Errorf("no advice for the statement_timeout: %q (error %v)", advice, err)
	}
}

// TestNoConnectionLeftAdvice: a read or a write in a running session
// (the TUI's) refused a connection of the pool by the server's limit
// says what to do, as the open does (TestNoConnectionLeftSaysWhatToDo,
// cmd/nhi).
func TestNoConnectionLeftAdvice(t *testing.T) {
	err := fmt.Errorf("reading campaign items: %w", &pgconn.PgError{Severity: "FATAL", Code: "53300", Message: "too many connections for role \"rita\""})
	if got := ServerAdvice(err); !strings.Contains(got, "no connection left") || !strings.Contains(got, "max_connections") {
		t.Errorf("ServerAdvice(%v) = %q", err, got)
	}
}
