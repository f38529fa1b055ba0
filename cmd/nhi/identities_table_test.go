package main

import (
	"context"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/internal/benchmem"
)

// nhi identities' table keeps its rows' text, not the stream's pages
// (issue 21: its cells, cut from each page's text, kept every page, 920
// B an identity): every so often while it reads, the names it was given
// and still holds are counted after a collection, at 80 columns, in a
// pipe and --wide.
func TestIdentitiesTableHoldsTheStreamsPagesNotThePopulation(t *testing.T) {
	const n = 40000
	db := campaignDB(t, n)
	for _, c := range []struct {
		columns string
		args    []string
	}{{"80", nil}, {"", nil}, {"", []string{"--wide"}}} {
		t.Setenv("COLUMNS", c.columns)
		var held benchmem.Held[byte] // each identity's name, as it was read
		identityTableHeld = func(id *audit.Identity) { benchmem.AddString(&held, id.Name) }
		var out, errb strings.Builder
		code := run(context.Background(), append([]string{"identities", "--db", db}, c.args...), strings.NewReader(""), &out, &errb)
		identityTableHeld = nil
		if code != 0 {
			t.Fatalf("identities %v: exit %d\n%s", c.args, code, errb.String())
		}
		if held.Given() != n || strings.Count(out.String(), "\n") != n+1 || !strings.Contains(out.String(), "key-39999") {
			t.Fatalf("identities %v at COLUMNS=%q: %d identities given, %d lines printed", c.args, c.columns, held.Given(), strings.Count(out.String(), "\n"))
		}
		t.Logf("identities %v at COLUMNS=%q held %d of %d at once", c.args, c.columns, held.Most(), held.Given())
		if held.Most() > n/2 {
			t.Errorf("identities %v at COLUMNS=%q held the names of %d of the %d identities it was given at once; want the stream's pages in flight (four of 4,096) at most", c.args, c.columns, held.Most(), held.Given())
		}
	}
}

// BenchmarkIdentitiesTable100k prints the table of 100,000 identities in
// the process, as in a pipe: heap-B/identity is the peak of the heap above
// where it started, an identity.
func BenchmarkIdentitiesTable100k(b *testing.B) {
	const n = 100_000
	db := populatedFile(b, n)
	b.Setenv("COLUMNS", "")
	var errb strings.Builder
	var peak float64
	for b.Loop() {
		runtime.GC()
		stop := benchmem.Start()
		if code := run(context.Background(), []string{"identities", "--db", db}, strings.NewReader(""), io.Discard, &errb); code != 0 {
			b.Fatalf("identities: exit %d\n%s", code, errb.String())
		}
		u := stop()
		peak = max(peak, u.AboveBaseMB()*(1<<20))
	}
	b.ReportMetric(peak/n, "heap-B/identity")
}
