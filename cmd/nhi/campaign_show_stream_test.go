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

// A campaign show of a large campaign holds a batch of its items at a
// time, not the campaign (issue 21: a million identities on a laptop;
// -o json held every item with its history, 7.5 KB an item): every so
// often while it prints, the items it was given and still holds are
// counted after a collection, in JSON, the table and one reviewer's. The
// table reads each item once: it read the campaign twice, for its widths
// then its rows, where it now keeps each row's cells on disk until the
// widths are known (printItemTable).
func TestCampaignShowHoldsABatchOfItemsAtOnce(t *testing.T) {
	const n = 6000
	t.Setenv("COLUMNS", "") // cut no name
	db := campaignDB(t, n)
	ok(t, "campaign", "create", "q", "--scope", "id:*", "--due", due(30), "--reviewer", "rita@acme.test", "--reviewer", "sam@acme.test", "--db", db, "--as", "lead")
	for _, args := range [][]string{
		{"-o", "json"},
		{},
		{"--wide"},
		{"--reviewer", "rita@acme.test", "-o", "json"},
	} {
		var held benchmem.Held[byte] // each item's ID, as it was read
		showHeld = func(it *campaigns.Item) { benchmem.AddString(&held, it.ID) }
		var out, errb strings.Builder
		code := run(context.Background(), append([]string{"campaign", "show", "q", "--db", db}, args...), strings.NewReader(""), &out, &errb)
		showHeld = nil
		if code != 0 {
			t.Fatalf("campaign show %v: exit %d\n%s", args, code, errb.String())
		}
		whole := len(args) == 0 || args[0] != "--reviewer"
		if held.Given() < n/3 || whole && !strings.Contains(out.String(), fmt.Sprintf("key-%d", n-1)) {
			t.Fatalf("campaign show %v: %d items given, the last not printed", args, held.Given())
		}
		if held.Most() > 2500 {
			t.Errorf("campaign show %v held %d of the %d items it was given at once; want a batch (2,048) at most", args, held.Most(), held.Given())
		}
		if whole && held.Given() != n {
			t.Errorf("campaign show %v read %d items of %d; want each once", args, held.Given(), n)
		}
	}
}

// A campaign show whose table cannot keep its rows in TMPDIR (no such
// directory, a full disk) reads the items again to print them, as it did
// before it kept them: the same table.
func TestCampaignShowPrintsItsTableWithNoTMPDIR(t *testing.T) {
	db := campaignDB(t, 30)
	ok(t, "campaign", "create", "q", "--scope", "id:*", "--due", due(30), "--reviewer", "rita@acme.test", "--db", db, "--as", "lead")
	show := func() (string, int) {
		t.Helper()
		var out, errb strings.Builder
		read := 0
		showHeld = func(*campaigns.Item) { read++ }
		defer func() { showHeld = nil }()
		if code := run(context.Background(), []string{"campaign", "show", "q", "--db", db}, strings.NewReader(""), &out, &errb); code != 0 {
			t.Fatalf("campaign show: exit %d\n%s", code, errb.String())
		}
		return out.String(), read
	}
	kept, once := show()
	t.Setenv("TMPDIR", filepath.Join(t.TempDir(), "gone"))
	again, twice := show()
	if again != kept || !strings.Contains(again, "key-29 ") {
		t.Fatalf("campaign show with no TMPDIR printed:\n%s\nwhere with one:\n%s", again, kept)
	}
	if once != 30 || twice != 60 {
		t.Errorf("campaign show read %d items with TMPDIR and %d without; want each once, then twice", once, twice)
	}
}

// campaign show -o id reads its items' keys alone (each one's ID,
// reviewer and decision: campaigns.EachItemKey), never an item whole
// through the item reader, and lists what the full read would: the IDs
// of the JSON's items, all or the pending ones (issue 21: a million
// items' IDs took 15 s, read whole).
func TestCampaignShowIDsReadTheKeysAlone(t *testing.T) {
	db := campaignDB(t, 300)
	ok(t, "campaign", "create", "q", "--scope", "id:*", "--due", due(30), "--reviewer", "rita@acme.test", "--db", db, "--as", "lead")
	ok(t, "decide", "q", keyID(7), "keep", "--reason", "still used", "--db", db, "--as", "rita@acme.test")
	var all, pending []string
	for _, it := range show(t, db, "q").Items {
		all = append(all, it.ID)
		if it.Decision == "pending" {
			pending = append(pending, it.ID)
		}
	}
	if len(pending) != len(all)-1 {
		t.Fatalf("%d items, %d pending: the decision was not recorded", len(all), len(pending))
	}
	read := 0
	showHeld = func(*campaigns.Item) { read++ }
	defer func() { showHeld = nil }()
	for _, c := range []struct {
		args []string
		want []string
	}{{nil, all}, {[]string{"--pending"}, pending}} {
		var out, errb strings.Builder
		if code := run(context.Background(), append([]string{"campaign", "show", "q", "-o", "id", "--db", db}, c.args...), strings.NewReader(""), &out, &errb); code != 0 {
			t.Fatalf("campaign show -o id %v: exit %d\n%s", c.args, code, errb.String())
		}
		got := strings.Fields(out.String())
		if strings.Join(got, " ") != strings.Join(c.want, " ") {
			t.Errorf("campaign show -o id %v lists %d IDs, want the JSON's %d:\n%q", c.args, len(got), len(c.want), got)
		}
	}
	if read > 0 {
		t.Errorf("campaign show -o id read %d items whole; want their keys alone", read)
	}
}

// BenchmarkCampaignShowJSON100k prints a campaign of 100,000 items as
// JSON in the process: heap-B/item is the peak of the heap above where
// it started, an item (the campaign read whole was some 7 KB an item).
func BenchmarkCampaignShowJSON100k(b *testing.B) { benchCampaignShow(b, 100_000, "-o", "json") }

// BenchmarkCampaignShowTable100k is the same for the table, its items
// read once, their cells kept on disk until the widths are known (2.6 KB
// an item held whole).
func BenchmarkCampaignShowTable100k(b *testing.B) { benchCampaignShow(b, 100_000) }

func benchCampaignShow(b *testing.B, n int, args ...string) {
	db := populatedFile(b, n)
	var errb strings.Builder
	if code := run(context.Background(), []string{"campaign", "create", "q", "--scope", "id:*", "--due", "2030-01-31", "--reviewer", "rita@acme.test", "--allow-partial", "--db", db, "--as", "lead"}, strings.NewReader(""), io.Discard, &errb); code != 0 {
		b.Fatalf("campaign create: exit %d\n%s", code, errb.String())
	}
	var peak float64
	for b.Loop() {
		runtime.GC()
		stop := benchmem.Start()
		if code := run(context.Background(), append([]string{"campaign", "show", "q", "--db", db}, args...), strings.NewReader(""), io.Discard, &errb); code != 0 {
			b.Fatalf("campaign show: exit %d\n%s", code, errb.String())
		}
		u := stop()
		peak = max(peak, u.AboveBaseMB()*(1<<20))
	}
	b.ReportMetric(peak/float64(n), "heap-B/item")
}
