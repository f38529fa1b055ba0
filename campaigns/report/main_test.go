package report_test

import (
	"os"
	"testing"

	"github.com/nhi-audit/nhi/internal/pgtest"
)

// The report's tests run on SQLite and on PostgreSQL; the server is one
// per test binary, stopped here.
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
