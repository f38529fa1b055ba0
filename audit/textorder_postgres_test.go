package audit

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/internal/pgtest"
)

// A database that sorts text by a language's rules (createdb's default
// on most servers) is refused before anything is read or written, saying
// how to make one that sorts in byte order and how evidence already in
// it moves there; nhi's reads in ID order failed in it part way, after
// a snapshot was written, saying "a text holds a separator of the packed
// read". Only an export, the way out, opens it.
func TestOpenRefusesADatabaseThatSortsByLanguage(t *testing.T) {
	ctx := context.Background()
	srv := pgtest.Shared(t)
	name := strings.ToLower(strings.ReplaceAll(t.Name(), "/", "_"))
	if err := srv.Exec(ctx, "postgres", `CREATE DATABASE `+name+` TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C'`); err != nil {
		// PostgreSQL before 15, or built without ICU: no such database
		// can be made here to test with.
		t.Skipf("this server cannot create a database with an ICU collation: %v", err)
	}
	t.Cleanup(func() { srv.Exec(ctx, "postgres", `DROP DATABASE `+name+` WITH (FORCE)`) })
	u := srv.URL(name)
	tables := func() int {
		t.Helper()
		var n int
		if err := pgtest.Connect(t, u).QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	_, err := Open(ctx, u, OpenOptions{Create: true})
	if !errors.Is(err, ErrTextOrder) {
		t.Fatalf("creating the evidence in a database sorting by en-US: %v; want ErrTextOrder", err)
	}
	for _, want := range []string{"byte order", "nothing was read or changed", "createdb --template=template0 --locale=C", "nhi db export", "nhi db import"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the refusal does not say %q: %v", want, err)
		}
	}
	if n := tables(); n != 0 {
		t.Fatalf("the refused open left %d tables in the database", n)
	}

	// Evidence an earlier nhi wrote there: refused too, and exported.
	st, err := Open(ctx, u, OpenOptions{Create: true, AnyTextOrder: true})
	if err != nil {
		t.Fatal(err)
	}
	// IDs that byte order and en-US sort apart.
	snapshot(t, st, nil, nil, obs("Northwind/b", KindGitHubDeployKey), obs("northwind-api/y", KindGitHubDeployKey), obs("northwind/.github/x", KindGitHubDeployKey))
	st.Close()
	if _, err := Open(ctx, u, OpenOptions{ReadOnly: true}); !errors.Is(err, ErrTextOrder) {
		t.Fatalf("opening the evidence there to read: %v; want ErrTextOrder", err)
	}
	st, err = Open(ctx, u, OpenOptions{ReadOnly: true, AnyTextOrder: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	file := filepath.Join(t.TempDir(), "moved.db")
	res, err := st.Export(ctx, file)
	if err != nil {
		t.Fatalf("exporting the evidence out of it: %v", err)
	}
	if res.Rows["identities"] != 3 {
		t.Errorf("the export holds %d identities; want the snapshot's 3 (%v)", res.Rows["identities"], res.Rows)
	}
}
