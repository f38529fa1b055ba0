package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/internal/benchmem"
)

// A campaign remind of a large campaign holds a batch of its items at a
// time, not the campaign (issue 21: it held every item with its history,
// 3.2 KB an identity): every so often while it prints, the items it was
// given and still holds are counted after a collection, in the text and
// the CSV.
func TestCampaignRemindHoldsABatchOfItemsAtOnce(t *testing.T) {
	const n = 6000
	db := campaignDB(t, n)
	ok(t, "campaign", "create", "q", "--scope", "id:*", "--due", due(30), "--reviewer", "rita@acme.test", "--reviewer", "sam@acme.test", "--db", db, "--as", "lead")
	for _, args := range [][]string{{}, {"--csv"}} {
		var held benchmem.Held[byte] // each item's ID, as it was read
		remindHeld = func(it *campaigns.Item) { benchmem.AddString(&held, it.ID) }
		var out, errb strings.Builder
		code := run(context.Background(), append([]string{"campaign", "remind", "q", "--db", db}, args...), strings.NewReader(""), &out, &errb)
		remindHeld = nil
		if code != 0 {
			t.Fatalf("campaign remind %v: exit %d\n%s", args, code, errb.String())
		}
		if held.Given() != n || !strings.Contains(out.String(), keyID(n-1)) {
			t.Fatalf("campaign remind %v: %d items given, the last not printed", args, held.Given())
		}
		if held.Most() > 2500 {
			t.Errorf("campaign remind %v held %d of the %d items it was given at once; want a batch (2,048) at most", args, held.Most(), held.Given())
		}
	}
}

// writesCounted counts the calls to its Write.
type writesCounted struct {
	strings.Builder
	calls int
}

func (w *writesCounted) Write(p []byte) (int, error) {
	w.calls++
	return w.Builder.Write(p)
}

// Listings long enough to matter print in blocks, not a write a line or
// a cell: a campaign remind copied each item's record out of its spool on
// its own (a million pending items, a million write calls to the terminal
// or pipe; issue 21), and a sample and the directory went through a
// tabwriter, which writes each cell and its padding on its own (a
// directory of 3,000 people, 32,585 write calls).
func TestListingsWriteInBlocks(t *testing.T) {
	const n, persons = 2000, 500
	db := campaignDB(t, n)
	ok(t, "campaign", "create", "q", "--scope", "id:*", "--due", due(30), "--reviewer", "rita@acme.test", "--reviewer", "sam@acme.test", "--db", db, "--as", "lead")
	var people strings.Builder
	people.WriteString("email,name,github,status,left_at,manager,aliases,signing_key\n")
	for i := range persons {
		fmt.Fprintf(&people, "p%d@acme.test,Person %d,login%d,active,,,,\n", i, i, i)
	}
	dir := filepath.Join(t.TempDir(), "people.db")
	ok(t, "people", "import", writeFile(t, "people.csv", people.String()), "--db", dir, "--as", "p0@acme.test")
	for _, c := range []struct {
		args  []string
		lines string // what each line of the listing holds
		want  int
	}{
		{[]string{"campaign", "remind", "q", "--db", db}, "github:acme:", n},
		{[]string{"campaign", "remind", "q", "--csv", "--db", db}, "github:acme:", n},
		{[]string{"campaign", "sample", "q", "--size", "1000", "--seed", "s", "--db", db}, "github:acme:", 1000},
		{[]string{"people", "list", "--db", dir}, "@acme.test", persons},
	} {
		var out writesCounted
		var errb strings.Builder
		if code := run(context.Background(), c.args, strings.NewReader(""), &out, &errb); code != 0 {
			t.Fatalf("nhi %v: exit %d\n%s", c.args, code, errb.String())
		}
		if lines := strings.Count(out.String(), c.lines); lines != c.want {
			t.Fatalf("nhi %v printed %d lines; want %d", c.args, lines, c.want)
		}
		if out.calls > 20 {
			t.Errorf("nhi %v printed %d lines in %d writes; want them in blocks", c.args, c.want, out.calls)
		}
	}
}

// BenchmarkCampaignRemind100k, BenchmarkCampaignSample100k and
// BenchmarkExceptionList100k read a campaign of 100,000 items, every one
// pending, every other one kept where it had findings, in the process:
// heap-B/item is the peak of the heap above where it started, an item
// (the campaign read whole with its history was 2.5-3.2 KB an item).
func BenchmarkCampaignRemind100k(b *testing.B) {
	benchCampaignRead(b, 100_000, nil, "rita@acme.test", "campaign", "remind", "q", "--csv")
}

// BenchmarkCampaignRemind200Reviewers100k is BenchmarkCampaignRemind100k
// with the items dealt to 200 reviewers, each one's lying all over the
// campaign, which remind read again for each (issue 21): it reads the
// campaign once, whatever the reviewers.
func BenchmarkCampaignRemind200Reviewers100k(b *testing.B) {
	var rs []string
	for i := 1; i <= 200; i++ {
		rs = append(rs, fmt.Sprintf("r%03d@x.test", i))
	}
	benchCampaignRead(b, 100_000, nil, strings.Join(rs, ","), "campaign", "remind", "q", "--csv")
}

// BenchmarkCampaignRemind200ReviewersMostlyDecided100k is
// BenchmarkCampaignRemind200Reviewers100k near the due date: every item
// but the 5,000 of repositories 19,000 to 19,999 decommissioned (issue
// 21: remind read and decoded every decided item and the whole decision
// history, to pass over them). heap-B/item is over the campaign's
// 100,000 items.
func BenchmarkCampaignRemind200ReviewersMostlyDecided100k(b *testing.B) {
	var rs []string
	for i := 1; i <= 200; i++ {
		rs = append(rs, fmt.Sprintf("r%03d@x.test", i))
	}
	decide := []string{"--filter", "not scope:acme/repo-019*", "decommission", "--reason", "unused", "--all-reviewers", "--as", "r001@x.test"}
	benchCampaignRead(b, 100_000, decide, strings.Join(rs, ","), "campaign", "remind", "q", "--csv")
}

func BenchmarkCampaignSample100k(b *testing.B) {
	benchCampaignRead(b, 100_000, nil, "rita@acme.test", "campaign", "sample", "q", "--size", "25", "--seed", "s")
}

func BenchmarkExceptionList100k(b *testing.B) {
	benchCampaignRead(b, 100_000, []string{"--filter", "id:*", "keep", "--reason", "in use", "--as", "rita@acme.test"}, "rita@acme.test", "exception", "list", "q")
}

// benchCampaignRead measures args on a campaign q of n items dealt to
// reviewers, after `decide q` with decide and --yes (nil: every item
// pending).
func benchCampaignRead(b *testing.B, n int, decide []string, reviewers string, args ...string) {
	db := populatedFile(b, n)
	var errb strings.Builder
	steps := [][]string{{"campaign", "create", "q", "--scope", "id:*", "--due", "2030-01-31", "--reviewer", reviewers, "--allow-partial"}}
	if decide != nil {
		steps = append(steps, append([]string{"decide", "q", "--yes"}, decide...))
	}
	for _, s := range steps {
		if !strings.Contains(strings.Join(s, " "), "--as") {
			s = append(s, "--as", "lead")
		}
		if code := run(context.Background(), append(s, "--db", db), strings.NewReader(""), io.Discard, &errb); code != 0 {
			b.Fatalf("%s: exit %d\n%s", s[0], code, errb.String())
		}
	}
	var peak float64
	for b.Loop() {
		runtime.GC()
		stop := benchmem.Start()
		if code := run(context.Background(), append(args, "--db", db), strings.NewReader(""), io.Discard, &errb); code != 0 {
			b.Fatalf("%s: exit %d\n%s", args[0], code, errb.String())
		}
		u := stop()
		peak = max(peak, u.AboveBaseMB()*(1<<20))
	}
	b.ReportMetric(peak/float64(n), "heap-B/item")
}
