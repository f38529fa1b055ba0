package campaigns_test

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
)

// readCalls is how many read calls this process has made (syscr in
// /proc/self/io: read and pread alike), or false off Linux.
func readCalls(t *testing.T) (int, bool) {
	t.Helper()
	return procIO(t, "syscr")
}

// writeCalls is how many write calls this process has made (syscw in
// /proc/self/io: write and pwrite alike), or false off Linux.
func writeCalls(t *testing.T) (int, bool) {
	t.Helper()
	return procIO(t, "syscw")
}

// procIO is the field of /proc/self/io named, or false off Linux.
func procIO(t *testing.T, field string) (int, bool) {
	t.Helper()
	f, err := os.Open("/proc/self/io")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+": "); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				t.Fatal(err)
			}
			return n, true
		}
	}
	return 0, false
}

// twoAccountCampaign is a file of two GitHub accounts' snapshots of
// perAccount identities each (each observation as mark leaves it, when
// not nil) and a campaign q over both, opened to read as the only store
// of the process, as nhi export and campaign show read it: the page
// cache is the process's, and the writer's connections would give it
// room.
func twoAccountCampaign(t *testing.T, perAccount int, mark func(i int, o *audit.Observation)) *audit.Store {
	t.Helper()
	f := newFixture(t)
	for _, account := range []string{"acme", "globex"} {
		f.Source.Account = account
		obs := make([]audit.Observation, perAccount)
		for i := range obs {
			o := key(fmt.Sprintf("repo-%04d", i/5), fmt.Sprint(i), "user1")
			o.ID = audit.IdentityID("github", account, o.Kind, fmt.Sprintf("repo-%04d/%d", i/5, i))
			if mark != nil {
				mark(i, &o)
			}
			obs[i] = o
		}
		f.Snapshot(t, nil, obs...)
	}
	if _, err := campaigns.Create(ctx, f.Store, "lead", campaigns.Spec{Name: "q", Scope: "id:*", Due: "2026-12-31", Reviewers: []string{"r1", "r2"}}); err != nil {
		t.Fatal(err)
	}
	path := f.Store.Path()
	if err := f.Store.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := audit.Open(ctx, path, audit.OpenOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestEachAsOfReadsItsPagesOnceBesideOtherReads: a campaign over two
// accounts is read with each item's identity joined for its account, a
// seek a row, while the report reads whole tables on other connections
// (its begin). SQLite's page cache is one for the process, and a whole
// table read beside the cursor left it full, so every page the join
// released was freed and read from the file again: 18,100 read calls
// for these 20,000 items, where reading each page once took 874
// (audit.Store.ReleasePageCache).
func TestEachAsOfReadsItsPagesOnceBesideOtherReads(t *testing.T) {
	if _, ok := readCalls(t); !ok {
		t.Skip("counts read calls through /proc/self/io (Linux)")
	}
	const perAccount = 10_000
	st := twoAccountCampaign(t, perAccount, nil)
	head, err := st.LogHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	begin := func(*campaigns.Campaign) error {
		// What a report's begin does beside the open cursor: read a
		// table through, on another connection.
		for _, q := range []string{`SELECT count(*) FROM identities`, `SELECT count(*) FROM observations`} {
			var n int
			if err := st.QueryRow(ctx, q).Scan(&n); err != nil {
				return err
			}
		}
		return nil
	}
	items, accounts := 0, map[int64]int{}
	before, _ := readCalls(t)
	err = campaigns.EachAsOf(ctx, st, "q", head.Seq, begin, func(b *campaigns.Batch) error {
		items += len(b.Items)
		for _, sn := range b.Snapshots {
			accounts[sn]++
		}
		return nil
	})
	after, _ := readCalls(t)
	if err != nil {
		t.Fatal(err)
	}
	if items != 2*perAccount || len(accounts) != 2 {
		t.Fatalf("read %d items of %d snapshots; want %d of 2", items, len(accounts), 2*perAccount)
	}
	for sn, n := range accounts {
		if n != perAccount {
			t.Errorf("snapshot %d has %d items; want %d", sn, n, perAccount)
		}
	}
	// Each page read once is under a thousand calls; a page read again
	// for every item, one or two an item.
	if calls := after - before; calls > items/4 {
		t.Errorf("reading %d items made %d read calls: the join's pages are read again for each item", items, calls)
	}
}

// TestVerifyRemediationReadsAndWritesEachPageOnce: verifying a closed
// campaign records each item's state in the transaction that appends the
// campaign.verify event. Made one update an item in a map's order, each
// went to a page of campaign_items of its own, which the transaction's
// cache (a few dozen pages) had let go: the page was read back from the
// WAL, and the look-up's IN list built its temporary index from keys in
// no order (a campaign of 100,631 items, 263,000 read calls; in the
// key's order 38,000). And each such update wrote the page it changed to
// SQLite's statement journal (campaign_items' foreign keys make each
// statement one that may have to be undone), two write calls an item:
// 100,631 items wrote 3.4 GB to that temporary file in 208,000 calls.
// One update per state, over its items' IDs in order, reads and
// journals each page once (docs/performance.md, "One page cache for the
// process").
func TestVerifyRemediationReadsAndWritesEachPageOnce(t *testing.T) {
	if _, ok := writeCalls(t); !ok {
		t.Skip("counts read and write calls through /proc/self/io (Linux)")
	}
	const items = 20_000
	f := newFixture(t)
	obs := keys(items, "user1")
	f.Snapshot(t, nil, obs...)
	spec := campaigns.Spec{Name: "q", Scope: "id:*", Due: "2026-12-31", Reviewers: []string{"r1", "r2"}, OnNoResponse: campaigns.OnNoResponseDecommission}
	if _, err := campaigns.Create(ctx, f.Store, "lead", spec); err != nil {
		t.Fatal(err)
	}
	if _, err := campaigns.Close(ctx, f.Store, "lead", "q"); err != nil {
		t.Fatal(err)
	}
	f.Clock.Set("2026-10-10T00:00:00Z")
	f.Snapshot(t, nil, obs[:items/2]...) // half removed, half still present
	before, _ := writeCalls(t)
	beforeR, _ := readCalls(t)
	rs, err := campaigns.VerifyRemediation(ctx, f.Store, "lead", "q")
	afterR, _ := readCalls(t)
	after, _ := writeCalls(t)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 || !rs[0].Recorded || len(rs[0].Removed) != items/2 || len(rs[0].StillPresent) != items/2 {
		t.Fatalf("verified %+v; want %d removed and %d still present, recorded", rs, items/2, items/2)
	}
	// The pages changed, each written to the WAL and journaled a few
	// times at most, are a few thousand calls; a page journaled for each
	// item, two calls an item.
	calls := after - before
	t.Logf("verifying %d items: %d write calls", items, calls)
	if calls > items/4 {
		t.Errorf("verifying %d items made %d write calls: a page is journaled for each item", items, calls)
	}
	// Each page read once or twice is a few thousand calls; a page read
	// back for each item, two or three an item.
	reads := afterR - beforeR
	t.Logf("verifying %d items: %d read calls", items, reads)
	if reads > items/4 {
		t.Errorf("verifying %d items made %d read calls: their pages are read back for each item", items, reads)
	}
	var verified int
	if err := f.Store.QueryRow(ctx, `SELECT count(*) FROM campaign_items WHERE verify_seq = ? AND verified_snapshot = ?`, rs[0].Event.Seq, rs[0].Snapshot.ID).Scan(&verified); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		state string
		want  int
	}{{campaigns.Removed, items / 2}, {campaigns.StillPresent, items / 2}} {
		var n int
		if err := f.Store.QueryRow(ctx, `SELECT count(*) FROM campaign_items WHERE verification = ?`, c.state).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != c.want {
			t.Errorf("%d items recorded %s; want %d", n, c.state, c.want)
		}
	}
	if verified != items {
		t.Errorf("%d items recorded with the event and snapshot; want %d", verified, items)
	}
}

// TestItemReaderReadsItsPagesOnceBesideWhatWasNotRead: nhi campaign show
// reads a campaign over two accounts with each item's identity joined for
// its account, a seek a row, and for each batch reads, on another
// connection, the batch's observations for what their snapshot did not
// read. That read left the process's page cache full, so every page the
// join released was freed and read from the file again: at a million
// items, 1,409,000 read calls where 62,000 with the cache given back
// after each batch (audit.Store.ReleasePageCache).
func TestItemReaderReadsItsPagesOnceBesideWhatWasNotRead(t *testing.T) {
	if _, ok := readCalls(t); !ok {
		t.Skip("counts read calls through /proc/self/io (Linux)")
	}
	const perAccount = 10_000
	st := twoAccountCampaign(t, perAccount, func(i int, o *audit.Observation) {
		if i%1000 == 7 {
			o.Attributes[audit.AttrLastUseUnknown] = "true" // what show says was not read
		}
	})
	c, err := campaigns.Show(ctx, st, "q")
	if err != nil {
		t.Fatal(err)
	}
	r, err := campaigns.NewItemReader(ctx, st, c)
	if err != nil {
		t.Fatal(err)
	}
	items, notRead := 0, 0
	before, _ := readCalls(t)
	err = r.Each(ctx, st, func(it *campaigns.Item) error {
		items++
		if len(it.NotRead) > 0 {
			notRead++
		}
		return nil
	})
	after, _ := readCalls(t)
	if err != nil {
		t.Fatal(err)
	}
	if items != 2*perAccount || notRead != 2*perAccount/1000 {
		t.Fatalf("read %d items, %d with what was not read; want %d and %d", items, notRead, 2*perAccount, 2*perAccount/1000)
	}
	// Each page read once is under a thousand calls; a page read again
	// for every item, one or two an item.
	calls := after - before
	t.Logf("%d items, %d read calls", items, calls)
	if calls > items/4 {
		t.Errorf("reading %d items made %d read calls: the join's pages are read again for each item", items, calls)
	}
}
