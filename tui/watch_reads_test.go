package tui

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/filter"
)

// countingReviewer counts what a TUI asks of the campaigns: the items
// read whole, the decisions read since an event, the campaigns read.
type countingReviewer struct {
	campaignsReviewer
	items, since, camps atomic.Int64
}

func (r *countingReviewer) Items(ctx context.Context, campaign, actor string) (map[string]filter.Item, error) {
	r.items.Add(1)
	return r.campaignsReviewer.Items(ctx, campaign, actor)
}

func (r *countingReviewer) EachItem(ctx context.Context, campaign, actor string, expect func(int), yield func(string, filter.Item)) error {
	r.items.Add(1)
	return r.campaignsReviewer.EachItem(ctx, campaign, actor, expect, yield)
}

func (r *countingReviewer) DecisionsSince(ctx context.Context, campaign string, asOf, upTo int64, types []string) (map[string]string, bool, error) {
	r.since.Add(1)
	return r.campaignsReviewer.DecisionsSince(ctx, campaign, asOf, upTo, types)
}

func (r *countingReviewer) Campaigns(ctx context.Context) ([]Campaign, error) {
	r.camps.Add(1)
	return r.campaignsReviewer.Campaigns(ctx)
}

// openReviewing opens the TUI on path as testActor, reviewing
// reviewCampaign, through r.
func openReviewing(t *testing.T, path string, r *countingReviewer) *Model {
	t.Helper()
	return openReviewingAs(t, path, r, func(st *audit.Store) Store { return st })
}

// openReviewingAs is openReviewing through the store wrap makes of the
// one it opens.
func openReviewingAs(t *testing.T, path string, r *countingReviewer, wrap func(*audit.Store) Store) *Model {
	t.Helper()
	m := openOn(t, path, r, wrap, reviewCampaign)
	if m.st.items == nil || m.st.campsState != loaded {
		t.Fatal("the campaign's items or the campaigns did not load")
	}
	return m
}

// openOn opens the TUI on path as testActor, read-only, through r and
// the store wrap makes of the one it opens, on campaign ("": none
// picked).
func openOn(t *testing.T, path string, r *countingReviewer, wrap func(*audit.Store) Store, campaign string) *Model {
	t.Helper()
	st, err := audit.Open(context.Background(), path, audit.OpenOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	r.st = st
	m := New(nil, nil, Options{Store: wrap(st), Now: clock, ReadOnly: true, Reviewer: r, Actor: testActor, Campaign: campaign, TableCache: t.TempDir()})
	m.Update(tea.WindowSizeMsg{Width: 200, Height: 60})
	drain(t, m, m.Init())
	if m.loading {
		t.Fatal("the table did not load")
	}
	return m
}

// itemsAsRead fails unless the TUI's items of the campaign are what a
// read of them now answers.
func itemsAsRead(t *testing.T, m *Model, st *audit.Store, when string) {
	t.Helper()
	want, err := campaignsReviewer{st}.Items(context.Background(), reviewCampaign, testActor)
	if err != nil {
		t.Fatal(err)
	}
	for id, it := range want {
		if got, _ := m.st.items.item(id); got != it {
			t.Fatalf("after %s the TUI shows %s as %+v; a read now: %+v", when, id, got, it)
		}
	}
	if m.st.items.len() != len(want) {
		t.Fatalf("after %s the TUI has %d items; a read now: %d", when, m.st.items.len(), len(want))
	}
}

// TestWatchReadsTheDecisionsSince: when other reviewers decide, an open
// TUI reads only the decisions since it last read the campaign's items,
// not every item again, and what it shows is what a read of every item
// shows; after an event that is not a decision (a close) it reads them
// whole. The campaigns' progress is read again only while a view shows
// it, and when one that shows it comes back on top. Before, every look
// that saw the log grow read every item and every campaign's progress:
// forty TUIs open on a campaign of 10,000 items doubled what a decision
// cost the server (BenchmarkConcurrentDecisions/postgres-reviewers-tuis,
// campaigns). On both engines.
func TestWatchReadsTheDecisionsSince(t *testing.T) {
	for _, eng := range []string{"sqlite", "postgres"} {
		t.Run(eng, func(t *testing.T) {
			ctx := context.Background()
			path := evidenceOn(t, eng)
			past, recent := reviewOn(t, path)
			r := &countingReviewer{}
			m := openReviewing(t, path, r)
			look := func() { drain(t, m, func() tea.Msg { return watchTickMsg{} }) }
			look() // the first look at the log's head
			a, b, c, _, _ := keptWithFindings(t, m)
			whole, camps := r.items.Load(), r.camps.Load()
			if whole != 1 {
				t.Fatalf("the open read the items %d times, want 1", whole)
			}

			if _, err := campaigns.Decide(ctx, past, testActor, reviewCampaign, a, campaigns.Keep, "needed by the release job"); err != nil {
				t.Fatal(err)
			}
			out, err := campaigns.DecideEach(ctx, past, testActor, reviewCampaign, []string{b, c}, campaigns.Decommission, "")
			if err != nil {
				t.Fatal(err)
			}
			look()
			itemsAsRead(t, m, past, "a keep and two decommissions")
			if _, err := campaigns.Undo(ctx, past, testActor, reviewCampaign, out[0].Event.Seq); err != nil {
				t.Fatal(err)
			}
			look()
			itemsAsRead(t, m, past, "an undo")
			if n := r.items.Load(); n != whole {
				t.Errorf("the TUI read every item %d times after decisions and an undo, want none", n-whole)
			}
			if r.since.Load() < 2 {
				t.Errorf("the TUI read the decisions since %d times, want 2", r.since.Load())
			}
			if n := r.camps.Load(); n != camps {
				t.Errorf("with the table on top, decisions read the campaigns %d times, want none", n-camps)
			}
			if !m.st.campsStale {
				t.Error("the campaigns' progress is behind and nothing says so")
			}

			// The campaigns view reads them when it opens, and after each
			// decision while it is on top.
			m.st.pushView(newCampaignsView(m.st), m.loadCampaigns())
			drain(t, m, pushed(m))
			camps = r.camps.Load()
			if _, err := campaigns.Decide(ctx, past, testActor, reviewCampaign, b, campaigns.Decommission, ""); err != nil {
				t.Fatal(err)
			}
			look()
			if n := r.camps.Load(); n != camps+1 {
				t.Errorf("with the campaigns on screen, a decision read them %d times, want 1", n-camps)
			}
			// A view above them: not read; esc back to them: read.
			openDetail(m.st, 0)
			drain(t, m, pushed(m))
			camps = r.camps.Load()
			if _, err := campaigns.Decide(ctx, past, testActor, reviewCampaign, c, campaigns.Keep, "still used"); err != nil {
				t.Fatal(err)
			}
			look()
			if n := r.camps.Load(); n != camps {
				t.Errorf("under the detail, a decision read the campaigns %d times, want none", n-camps)
			}
			drain(t, m, popView)
			if n := r.camps.Load(); n != camps+1 || m.st.campsStale {
				t.Errorf("back on the campaigns, they were read %d times (behind: %v), want 1", n-camps, m.st.campsStale)
			}

			// A close is no decision: the items are read whole, and the
			// campaigns (now closed), whatever is on top.
			drain(t, m, popView)
			whole, camps = r.items.Load(), r.camps.Load()
			if _, err := campaigns.Close(ctx, recent, "closer@example.com", reviewCampaign); err != nil {
				t.Fatal(err)
			}
			look()
			itemsAsRead(t, m, past, "the close")
			if r.items.Load() != whole+1 || r.camps.Load() != camps+1 {
				t.Errorf("after the close the items were read whole %d times and the campaigns %d, want 1 and 1", r.items.Load()-whole, r.camps.Load()-camps)
			}
			if c := m.st.activeCampaign(); c == nil || c.Status != campaignClosed {
				t.Errorf("after the close the TUI has the campaign as %+v", c)
			}
		})
	}
}

// TestWatchReadsOneAtATime: while the reads after the log grew are on
// their way, the log growing again starts none; once they answer, one
// more read covers everything since the head they began from. Before,
// each look that saw the log grow started its reads at once: forty TUIs
// whose reads took longer than the gap between notices piled reads on
// the server, each on a connection of its own, until it refused
// connections (BenchmarkConcurrentDecisions/postgres-reviewers-tuis).
func TestWatchReadsOneAtATime(t *testing.T) {
	ctx := context.Background()
	path := evidenceOn(t, "sqlite")
	past, _ := reviewOn(t, path)
	r := &countingReviewer{}
	m := openReviewing(t, path, r)
	drain(t, m, func() tea.Msg { return watchTickMsg{} }) // the first look
	ids := make([]string, 0, 3)
	read, err := campaignsReviewer{past}.Items(ctx, reviewCampaign, testActor)
	if err != nil {
		t.Fatal(err)
	}
	for id := range read {
		if len(ids) < 3 {
			ids = append(ids, id)
		}
	}
	decide := func(id string) int64 {
		t.Helper()
		if _, err := campaigns.Decide(ctx, past, testActor, reviewCampaign, id, campaigns.Decommission, ""); err != nil {
			t.Fatal(err)
		}
		h, err := past.LogHead(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return h.Seq
	}
	start := m.st.head
	_, reads := m.Update(headMsg{seq: decide(ids[0])})
	if reads == nil || !m.watch.reading {
		t.Fatal("the log grew and nothing is read again")
	}
	second := m.st.head
	for _, id := range ids[1:] {
		if _, cmd := m.Update(headMsg{seq: decide(id)}); cmd != nil {
			t.Fatalf("the log grew while the reads were on their way, and more began: %T", cmd())
		}
	}
	if m.watch.again != second {
		t.Errorf("the read to follow begins after event %d, want %d (the first head its reads may not cover)", m.watch.again, second)
	}
	if second == start {
		t.Fatal("the first decision did not move the head")
	}
	drain(t, m, reads)
	if m.watch.reading || m.watch.again != 0 {
		t.Errorf("after the reads answered: reading %v, again after %d", m.watch.reading, m.watch.again)
	}
	itemsAsRead(t, m, past, "three decisions seen while reading")
}

// writingStore is a store that runs then (once) right after its next
// look at the log's kinds of event since a head has answered: another
// process writing between the watch's look and the reads that follow it.
type writingStore struct {
	*audit.Store
	mu   sync.Mutex
	then func()
}

func (s *writingStore) EventTypesTo(ctx context.Context, seq int64) ([]string, int64, error) {
	types, head, err := s.Store.EventTypesTo(ctx, seq)
	s.mu.Lock()
	then := s.then
	s.then = nil
	s.mu.Unlock()
	if then != nil {
		then()
	}
	return types, head, err
}

// TestWatchReadsToTheHeadItLooked: after a notice the TUI looks once at
// what kinds of event came and up to which head, and reads the decisions
// and the rows they change up to that head only; what lands after the
// look — here a keep and the campaign's close — is read at the next
// notice, not lost. Each read looked at the kinds of event again, up to
// whatever head it met: three looks a read where one does; a read that
// took the kinds from the first look and the head from a later one
// would apply a close as if it were decisions, and one that counted
// itself read up to a later head would never read what came between.
// On both engines.
func TestWatchReadsToTheHeadItLooked(t *testing.T) {
	for _, eng := range []string{"sqlite", "postgres"} {
		t.Run(eng, func(t *testing.T) {
			ctx := context.Background()
			path := evidenceOn(t, eng)
			past, recent := reviewOn(t, path)
			r := &countingReviewer{}
			var ws *writingStore
			m := openReviewingAs(t, path, r, func(st *audit.Store) Store {
				ws = &writingStore{Store: st}
				return ws
			})
			look := func() { drain(t, m, func() tea.Msg { return watchTickMsg{} }) }
			look() // the first look at the log's head
			a, b, _, _, _ := keptWithFindings(t, m)
			whole := r.items.Load()

			if _, err := campaigns.Decide(ctx, past, testActor, reviewCampaign, a, campaigns.Decommission, ""); err != nil {
				t.Fatal(err)
			}
			ws.mu.Lock()
			ws.then = func() {
				if _, err := campaigns.Decide(ctx, past, testActor, reviewCampaign, b, campaigns.Keep, "needed by the release job"); err != nil {
					t.Error(err)
				}
				if _, err := campaigns.Close(ctx, recent, "closer@example.com", reviewCampaign); err != nil {
					t.Error(err)
				}
			}
			ws.mu.Unlock()
			look()
			if got := m.st.decision(a); got != string(campaigns.Decommission) {
				t.Errorf("after a decommission the TUI shows %s as %q", a, got)
			}
			if got := m.st.decision(b); got != DecisionPending || r.items.Load() != whole {
				t.Errorf("the read went past the head it looked at: %s shows %q, the items read whole %d times", b, got, r.items.Load()-whole)
			}

			look() // what came after that head
			itemsAsRead(t, m, past, "a keep and a close after the look")
			if c := m.st.activeCampaign(); c == nil || c.Status != campaignClosed {
				t.Errorf("after the close the TUI has the campaign as %+v", c)
			}
			if m.st.reloading || len(m.st.dirty) > 0 {
				t.Fatalf("the rows are still being derived: %d dirty", len(m.st.dirty))
			}
			fresh := openReviewTable(t, path, "")
			if got := changedRows(rowsByID(fresh), rowsByID(m)); len(got) > 0 {
				i, _ := m.st.pop.find(got[0])
				k, _ := fresh.st.pop.find(got[0])
				t.Fatalf("the rows of %v are not what an open shows; the first:\n got %+v\nwant %+v", got, *m.st.pop.identity(i), *fresh.st.pop.identity(k))
			}
			if _, ok := expiredOn(t, m, b); !ok {
				t.Errorf("%s, kept and its campaign closed unapproved, does not show its exception lapsed", b)
			}
		})
	}
}

// pushed is the view an opener just asked for (state.pushView), as the
// message the root opens it on, for drain.
func pushed(m *Model) tea.Cmd {
	p := m.st.pushes[0]
	m.st.pushes = m.st.pushes[1:]
	return func() tea.Msg { return p }
}
