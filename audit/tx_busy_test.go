package audit

import (
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
)

// isBusy goes by SQLite's result code, not by the message: a write that
// finds another connection holding the lock is busy, however it is
// wrapped; other errors, including ones that merely say so, are not.
func TestIsBusyReadsTheSQLiteCode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "busy.db")
	holder, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	conn, err := holder.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, q := range []string{"CREATE TABLE t (x)", "BEGIN IMMEDIATE"} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	defer conn.ExecContext(ctx, "ROLLBACK")

	other, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(0)")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	_, busy := other.ExecContext(ctx, "INSERT INTO t VALUES (1)")
	if busy == nil {
		t.Fatal("a second writer got in while the first held the lock")
	}
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{busy, true},
		{fmt.Errorf("recording: %w", busy), true},
		{nil, false},
		{errors.New("database is locked (SQLITE_BUSY)"), false},
		{sql.ErrNoRows, false},
	} {
		if got := isBusy(tc.err); got != tc.want {
			t.Errorf("isBusy(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
	_, syntax := other.ExecContext(ctx, "SELEKT 1")
	if syntax == nil || isBusy(syntax) {
		t.Errorf("a syntax error (%v) is not busy", syntax)
	}
}
