package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/filter"
	"github.com/nhi-audit/nhi/internal/benchmem"
)

// populationIDs makes a file of n identities and returns it and their
// IDs, in ID order.
func populationIDs(t *testing.T, n int) (string, []string) {
	t.Helper()
	db := populatedFile(t, n)
	var out, errb strings.Builder
	if code := run(context.Background(), []string{"identities", "-o", "id", "--filter", "status:any", "--db", db}, strings.NewReader(""), &out, &errb); code != 0 {
		t.Fatalf("identities: exit %d\n%s", code, errb.String())
	}
	ids := strings.Fields(out.String())
	if len(ids) != n {
		t.Fatalf("%d identities listed of %d", len(ids), n)
	}
	return db, ids
}

// A CMDB's file names each identity on a row of its own (issue 21: a
// million rows). owner import keeps no compiled filter of a row that
// names one ID: it looks those up in a map, where it kept a filter a row
// and matched each against each identity (rows × identities). Every so
// often while it compiles the rows' filters, those it still holds are
// counted after a collection: the two patterns' at most, and the one
// being compiled.
func TestOwnerImportKeepsNoFilterOfARowNamingOneID(t *testing.T) {
	const n = 6_000 // the old import's rows × identities: 36 million matches
	db, ids := populationIDs(t, n)
	var csv strings.Builder
	csv.WriteString("id,owner\n")
	for i, id := range ids {
		fmt.Fprintf(&csv, "%s,owner-%d@acme.test\n", id, i%7)
		if i == n/2 {
			csv.WriteString("github:acme:github_deploy_key:repo-000001/*,@acme/platform\n")
		}
	}
	csv.WriteString("*deploy_key:repo-00000?/*,@acme/sre\n")
	file := filepath.Join(t.TempDir(), "owners.csv")
	if err := os.WriteFile(file, []byte(csv.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	var held benchmem.Held[filter.Filter]
	ownerRowCompiled = func(f *filter.Filter) { held.Add(f) }
	var out, errb strings.Builder
	code := run(context.Background(), []string{"owner", "import", file, "--dry-run", "--db", db, "--as", "lead"}, strings.NewReader(""), &out, &errb)
	ownerRowCompiled = nil
	if code != 0 {
		t.Fatalf("owner import: exit %d\n%s", code, errb.String())
	}
	if want := fmt.Sprintf("Would have set the owner of %d identities and cleared it of 0, from %d rows", n, n+2); !strings.Contains(out.String(), want) {
		t.Fatalf("want %q in the output, got its end:\n%s", want, out.String()[max(0, out.Len()-300):])
	}
	if held.Given() != n+2 {
		t.Fatalf("compiled %d filters of %d rows", held.Given(), n+2)
	}
	t.Logf("held at most %d of the %d filters compiled", held.Most(), n+2)
	if held.Most() > 3 {
		t.Errorf("held %d of the %d rows' filters at once; want the two patterns' and the one being compiled at most", held.Most(), n+2)
	}
}

// owner import's map of the rows naming one ID gives what matching every
// row's filter against every identity gave: the owner of the last row
// matching an identity, the identities in the order of the first row
// matching each, then of ID, a row naming an ID in other case matching it,
// and every row that matches nothing named, by line.
func TestOwnerImportMatchesAsEveryRowsFilterDid(t *testing.T) {
	db, ids := populationIDs(t, 300)
	rnd := rand.New(rand.NewPCG(1, 2))
	type row struct{ pattern, owner string }
	var rows []row
	for i, j := range rnd.Perm(len(ids)) {
		if i%3 == 0 {
			continue // left to the patterns, or to nobody
		}
		id := ids[j]
		if i%5 == 0 {
			id = strings.ToUpper(id)
		}
		rows = append(rows, row{id, fmt.Sprintf("owner-%d", i%4)})
		if i%17 == 0 {
			rows = append(rows, row{"*repo-00000" + fmt.Sprint(i%10) + "/*", "@acme/team-" + fmt.Sprint(i%3)})
		}
		if i%29 == 0 {
			rows = append(rows, row{ids[rnd.IntN(len(ids))], ""})
		}
	}
	// What every row's filter matched against every identity gives.
	var want []string
	first := map[int][]string{}
	filters := make([]*filter.Filter, len(rows))
	for r, row := range rows {
		f, err := filter.Parse("id:"+escapeFilterWord(row.pattern), audit.Vocabulary)
		if err != nil {
			t.Fatal(err)
		}
		filters[r] = f
	}
	for _, id := range ids {
		firstRow, owner := -1, ""
		for r, row := range rows {
			if filters[r].Match(&audit.Identity{Observation: audit.Observation{ID: id}}, nil) {
				if firstRow < 0 {
					firstRow = r
				}
				owner = row.owner
			}
		}
		if firstRow >= 0 {
			if owner == "" {
				owner = "(cleared)"
			}
			first[firstRow] = append(first[firstRow], id+"\t"+owner)
		}
	}
	for r := range rows {
		want = append(want, first[r]...)
	}
	var csv strings.Builder
	for _, row := range rows {
		fmt.Fprintf(&csv, "%s,%s\n", row.pattern, row.owner)
	}
	file := filepath.Join(t.TempDir(), "owners.csv")
	os.WriteFile(file, []byte(csv.String()), 0o600)
	r := ok(t, "owner", "import", file, "--dry-run", "--db", db, "--as", "lead")
	got := strings.Split(strings.TrimSpace(r.stdout), "\n")
	got = got[:len(got)-1] // the sum
	if !slices.Equal(got, want) {
		t.Errorf("got %d assignments, want %d:\n%s\nwant\n%s", len(got), len(want), strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	bad := filepath.Join(t.TempDir(), "bad.csv")
	os.WriteFile(bad, []byte(csv.String()+"NO:SUCH:ID,alice\n"+strings.ToUpper(ids[7])+",bob\n*nothing*,carol\n"), 0o600)
	refused(t, 1, fmt.Sprintf("2 rows match no identity, so nothing was written: line %d (NO:SUCH:ID), line %d (*nothing*)", len(rows)+1, len(rows)+3),
		"owner", "import", bad, "--db", db, "--as", "lead")
}
