package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/audit/audittest"
	"github.com/nhi-audit/nhi/internal/benchmem"
)

// A bulk write by filter or pattern (owner set --filter, note add
// --filter, owner import) holds the IDs it matched, not the identities it
// read (issue 21: a million identities on a laptop; the population read
// whole was 2-3 KB an identity): every so often while it reads, the
// identities it was given and still holds are counted after a collection.
// The store's read cuts its identities' strings from a page of text
// (4,096 identities at most), and three pages circulate between its
// reader and its deriver while a fourth is handed over, so up to five
// pages' identities can be alive at once (20,480), whatever the command:
// the population is twice that, and read whole it is all alive.
func TestBulkWritesByFilterHoldTheStoresPagesNotThePopulation(t *testing.T) {
	const n = 40_000
	db := populatedFile(t, n)
	csvFile := filepath.Join(t.TempDir(), "owners.csv")
	if err := os.WriteFile(csvFile, []byte("id,owner\ngithub:acme:*,@acme/platform\ngithub:acme:github_deploy_key:repo-000001/*,bob@acme.test\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"owner", "set", "--filter", "id:*", "@acme/platform", "--dry-run"},
		{"note", "add", "--filter", "perm.contents:write", "rotate by Q3", "--dry-run"},
		{"owner", "import", csvFile, "--dry-run"},
	} {
		// Each identity's ID, as it was read; the store's pages (five of
		// 4,096) at most.
		checkBulkHeld(t, db, args, n, 5*4096, "identities read", func(held *benchmem.Held[byte]) {
			bulkMatchRead = func(id *audit.Identity) { benchmem.AddString(held, id.ID) }
		})
	}
}

// checkBulkHeld runs the bulk write args on db, with watch setting the
// hook that counts what it is given into held, and fails unless it was
// given n values (what they are) and held at most most of them at once.
func checkBulkHeld(t *testing.T, db string, args []string, n, most int, what string, watch func(held *benchmem.Held[byte])) {
	t.Helper()
	var held benchmem.Held[byte]
	watch(&held)
	var out, errb strings.Builder
	code := run(context.Background(), append(args, "--db", db, "--as", "lead"), strings.NewReader(""), &out, &errb)
	bulkMatchRead, bulkWriteGiven = nil, nil
	if code != 0 {
		t.Fatalf("%v: exit %d\n%s", args, code, errb.String())
	}
	if held.Given() != n {
		t.Fatalf("%v was given %d %s, not %d", args, held.Given(), what, n)
	}
	t.Logf("%v held at most %d of the %d %s", args, held.Most(), n, what)
	if held.Most() > most {
		t.Errorf("%v held %d of the %d %s at once; want %d at most", args, held.Most(), n, what, most)
	}
}

// A bulk write by filter (owner set --filter, note add --filter) holds,
// of the IDs it matched, the one it writes, not every one (issue 21: the
// IDs a filter of a million matched, held for the write with an
// assignment each, were 237 MB of heap): they wait on disk and are read
// back one at a time inside the write's transaction. Every so often as
// the write is given its IDs, those it was given and still holds are
// counted after a collection.
func TestBulkWritesByFilterHoldTheIDTheyWriteNotAllTheyMatched(t *testing.T) {
	const n = 20_000
	db := populatedFile(t, n)
	for _, args := range [][]string{
		{"owner", "set", "--filter", "id:*", "@acme/platform", "--yes"},
		{"note", "add", "--filter", "id:*", "rotate by Q3", "--yes"},
	} {
		// Each ID, as the write was given it: the few it is writing.
		checkBulkHeld(t, db, args, n, 100, "IDs written to", func(held *benchmem.Held[byte]) {
			bulkWriteGiven = func(id string) { benchmem.AddString(held, id) }
		})
	}
}

// BenchmarkOwnerSetFilterAll100k sets the owner of every identity of a
// population of 100,000 (owner set --filter 'id:*' --yes) in the process:
// heap-B/identity is the peak of the heap above where it started, an
// identity (the population read whole and every event kept were some
// 3 KB).
func BenchmarkOwnerSetFilterAll100k(b *testing.B) {
	const n = 100_000
	db := populatedFile(b, n)
	var peak float64
	for b.Loop() {
		runtime.GC()
		stop := benchmem.Start()
		var errb strings.Builder
		if code := run(context.Background(), []string{"owner", "set", "--filter", "id:*", "@acme/platform", "--yes", "--db", db, "--as", "lead"}, strings.NewReader(""), io.Discard, &errb); code != 0 {
			b.Fatalf("owner set: exit %d\n%s", code, errb.String())
		}
		u := stop()
		peak = max(peak, u.AboveBaseMB()*(1<<20))
	}
	b.ReportMetric(peak/n, "heap-B/identity")
}

// A bulk write by a filter with campaign terms writes to the identities
// nhi identities --filter lists for the same filter: the campaign's items
// are read beside the identities, in ID order (campaigns.OrderedReview),
// for both.
func TestBulkWritesByCampaignTermsWriteWhatIdentitiesLists(t *testing.T) {
	db := filepath.Join(t.TempDir(), "nhi.db")
	st, err := audit.Open(context.Background(), db, audit.OpenOptions{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	audittest.Population(t, st, 1_500)
	st.Close()
	ok(t, "campaign", "create", "all", "--scope", "id:*", "--due", "2099-12-31", "--reviewer", "rita", "--db", db, "--as", "lead")
	ok(t, "decide", "all", "--filter", "id:github:acme:github_deploy_key:repo-0001*", "keep", "--reason", "still deploys", "--yes", "--db", db, "--as", "rita")
	listed := ok(t, "identities", "--filter", "campaign:all decision:keep", "-o", "id", "--db", db).stdout
	if n := strings.Count(listed, "\n"); n != 500 {
		t.Fatalf("campaign:all decision:keep lists %d identities, want the 500 kept:\n%s", n, listed)
	}
	ok(t, "owner", "set", "--filter", "campaign:all decision:keep", "platform", "--yes", "--db", db, "--as", "lead")
	if owned := ok(t, "identities", "--filter", "owner:platform", "-o", "id", "--db", db).stdout; owned != listed {
		t.Errorf("owner set --filter 'campaign:all decision:keep' set the owner of\n%s\nwhere the filter lists\n%s", owned, listed)
	}
	pending := ok(t, "note", "add", "--filter", "campaign:all decision:pending", "ask the team", "--dry-run", "--db", db, "--as", "lead")
	if !strings.Contains(pending.stdout, "The note goes on 1000 identities") {
		t.Errorf("note add --filter 'campaign:all decision:pending' --dry-run does not name the 1,000 pending:\n%s%s", pending.stdout, pending.stderr)
	}
}
