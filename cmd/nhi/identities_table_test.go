package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"slices"
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

// A row arena gives back every row as added, in order: past a block
// (a megabyte), past the values a column keeps once (4,096), with empty
// cells, long ones and ones of a few values.
func TestRowArenaGivesBackTheRowsAdded(t *testing.T) {
	const n = 30_000
	row := func(i int) []string {
		return []string{fmt.Sprintf("name-%d", i), []string{"active", "new", "changed"}[i%3], "", fmt.Sprint(i, strings.Repeat("é", i%200)), fmt.Sprintf("%d", i%5000)}
	}
	var a rowArena
	for i := range n {
		a.add(row(i))
	}
	if len(a.blocks) == 0 {
		t.Fatalf("%d rows in one block; want more than one", n)
	}
	i := 0
	err := a.each(5, func(cells []string) error {
		if want := row(i); !slices.Equal(cells, want) {
			t.Fatalf("row %d is %q, want %q", i, cells, want)
		}
		i++
		return nil
	})
	if err != nil || i != n {
		t.Fatalf("each gave %d rows of %d (%v)", i, n, err)
	}
}
