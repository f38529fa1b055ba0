package tui

import (
	"context"
	"errors"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/nhi-audit/nhi/audit"
)

// Other reviewers write to the same evidence. The TUI notices: about
// once a second (Options.Poll) it reads the head of the event log off the
// event loop, and when the log grew it reads again what it shows of the
// campaigns, the chosen campaign's items and the open detail's history,
// in place: the cursor and the filter stay. The rows the events since the
// last head seen may have changed are derived again (owners, and the
// findings that follow them and the review: orphaned, exception-expired),
// the same rows an open from a cache of that head patches (rowsSince,
// tablepatch.go): the identities whose owner changed, those the
// decisions, undos and approvals name, and the exceptions of a campaign
// closed, however many (an open patches at most patchMax, then reads the
// table whole; here every row derived again is the only other way).
// When the events do not name the rows they change (a snapshot, the
// policy, the directory of people) every row is derived again in a table
// of at most patchMax rows; a larger one says so and leaves it to ctrl+r,
// which reads the table again as an open does (reread.go): an open's
// CPU, too much to spend in every open TUI each time a connector records
// a snapshot (row by row it was 115 CPU-seconds at a million,
// BenchmarkWatchFile1M, loaded). A snapshot's new identities show at the
// next open.
//
// On PostgreSQL it listens instead (audit.Store.WatchEvents, LISTEN on a
// connection of its own): each append is notified with the new head, and
// the poll stops while the listening connection is up. When that
// connection is lost the poll takes over until it is back; the notices
// are taken at most one per liveGap, so a burst of decisions by forty
// reviewers is a few re-reads, not one per decision, and the connection
// stops listening for as long after each notification, so the server
// does not wake it for every decision either (docs/team.md, "Live").

// watchTickMsg is time to look at the log's head again.
type watchTickMsg struct{}

// headMsg is the log's head as read.
type headMsg struct {
	seq  int64
	err  error
	poll bool // read by the poll, which schedules the next read
}

// rowsChangedMsg is the identities whose rows the events after event
// from may have changed (rowsSince); all says they are not all named
// (ids are then the owners changed), and every row is derived again.
type rowsChangedMsg struct {
	from int64
	ids  []string
	all  bool
	err  error
}

// readRowsSince reads, off the event loop, whose rows the events after
// event look.from, up to the head the look read to, may have changed
// (with the kinds of event it read; with none, up to the head now).
func (m *Model) readRowsSince(look sinceMsg) tea.Cmd {
	s, ok := m.st.store.(tableCacheStore)
	if !ok {
		return nil
	}
	x, _ := m.st.reviewer.(ExceptionLister)
	ctx, most := m.st.ctx, max(m.st.pop.len(), 1)
	seq, to, types := look.from, look.to, look.types
	return func() tea.Msg {
		if to == 0 {
			h, err := s.LogHead(ctx)
			if err != nil {
				return rowsChangedMsg{from: seq, err: err}
			}
			to = h.Seq
		}
		ids, err := rowsSince(ctx, s, x, seq, to, types, most)
		if errors.Is(err, errNotNamed) {
			// A table too large to derive whole still follows its owners.
			ids, err = s.OwnersChangedSince(ctx, seq, to)
			return rowsChangedMsg{from: seq, ids: ids, all: true, err: err}
		}
		return rowsChangedMsg{from: seq, ids: ids, err: err}
	}
}

// notFollowed says that another process changed what a large table's
// rows are not derived again for by themselves.
const notFollowed = "Another process recorded a snapshot, the policy or people: ctrl+r updates owners and findings; new identities show when nhi opens again"

// followed says the same of a table whose rows were derived again: what
// a snapshot brought besides (its identities, its coverage in the header
// and the overview) still shows at the next open only.
const followed = "Another process recorded a snapshot, the policy or people: owners and findings follow; a snapshot's new identities and its coverage show when nhi opens again"

// refreshMsg is ctrl+r.
type refreshMsg struct{}

// watchState is how the TUI learns of other processes' writes.
type watchState struct {
	live    bool // the store notifies appends: no poll
	polling bool // a poll is scheduled or under way (watchTick … headMsg)
	// behind is the head after which a read of the rows changed failed:
	// the next head seen reads them from there (0: none failed).
	behind int64
	// reading says the reads after the head last moved are under way;
	// again, that it moved since, after head again (0: it did not).
	// One such read at a time: a TUI that read again at every notice
	// while its reads took longer than liveGap (forty reviewers deciding
	// at once on one server) piled reads on the server, each on a
	// connection of its own, until it refused connections
	// (BenchmarkConcurrentDecisions/postgres-reviewers-tuis).
	reading bool
	again   int64
}

// liveGap is the least time between two notices taken: those that come
// meanwhile merge into one (audit.WatchEvents, which stops listening for
// as long after each notice).
const liveGap = audit.WatchGap

// eventsWatcher is a Store that notifies appends to the log
// (audit.Store on PostgreSQL; on an evidence file WatchEvents says it
// cannot, and the TUI polls).
type eventsWatcher interface {
	WatchEvents(ctx context.Context) (<-chan audit.LogNotice, error)
}

var _ eventsWatcher = (*audit.Store)(nil)

// noticeMsg is a notice of the store's watch, and the command that takes
// the next one.
type noticeMsg struct {
	notice audit.LogNotice
	next   tea.Cmd
}

// startWatch starts what tells the TUI of other processes' writes: the
// poll, at once, and where the store notifies appends, the listener, which
// stops the poll once it listens.
func (m *Model) startWatch() tea.Cmd {
	if m.opts.Poll <= 0 || m.st.store == nil {
		return nil
	}
	m.watch.polling = true
	cmds := []tea.Cmd{m.readHead(true)}
	if w, ok := m.st.store.(eventsWatcher); ok {
		ctx := m.st.ctx
		cmds = append(cmds, func() tea.Msg {
			ch, err := w.WatchEvents(ctx)
			if err != nil {
				return nil // an evidence file: the poll goes on
			}
			return takeNotice(ctx, ch, 0)()
		})
	}
	return tea.Batch(cmds...)
}

// takeNotice waits gap, then for the next notice on ch.
func takeNotice(ctx context.Context, ch <-chan audit.LogNotice, gap time.Duration) tea.Cmd {
	return func() tea.Msg {
		select {
		case <-time.After(gap):
		case <-ctx.Done():
			return nil
		}
		select {
		case n, ok := <-ch:
			if !ok {
				return nil // the session or the store ended
			}
			return noticeMsg{notice: n, next: takeNotice(ctx, ch, liveGap)}
		case <-ctx.Done():
			return nil
		}
	}
}

func (m *Model) watchTick() tea.Cmd {
	if m.opts.Poll <= 0 || m.st.store == nil {
		return nil
	}
	return tea.Tick(m.opts.Poll, func(time.Time) tea.Msg { return watchTickMsg{} })
}

// readHead reads the head of the log, off the event loop; poll says the
// poll asked, and schedules the next one.
func (m *Model) readHead(poll bool) tea.Cmd {
	if m.st.store == nil {
		return nil
	}
	ctx, store := m.st.ctx, m.st.store
	return func() tea.Msg {
		h, err := store.LogHead(ctx)
		return headMsg{seq: h.Seq, err: err, poll: poll}
	}
}

// updateWatch handles the watch's messages; ok is false for others.
func (m *Model) updateWatch(msg tea.Msg) (tea.Cmd, bool) {
	switch msg := msg.(type) {
	case watchTickMsg:
		return m.readHead(true), true
	case headMsg:
		var next tea.Cmd
		if msg.poll {
			if m.watch.live {
				m.watch.polling = false // the listener has taken over
			} else {
				next = m.watchTick()
			}
		}
		if msg.err != nil {
			return next, true
		}
		return tea.Batch(next, m.headSeen(msg.seq)), true
	case noticeMsg:
		n := msg.notice
		var cmd tea.Cmd
		switch {
		case n.Lost:
			m.watch.live = false
			if !m.watch.polling {
				m.watch.polling = true
				cmd = m.readHead(true) // the poll takes over
			}
		case n.Head > 0:
			m.watch.live = true
			if n.Head > m.st.head { // an older head is news already seen
				cmd = m.headSeen(n.Head)
			}
		default: // listening again, or at last: what was missed is read
			m.watch.live = true
			cmd = m.readHead(false)
		}
		return tea.Batch(cmd, msg.next), true
	case rowsChangedMsg:
		if msg.err != nil {
			// The next head seen reads them again, from here.
			if m.watch.behind == 0 || msg.from < m.watch.behind {
				m.watch.behind = msg.from
			}
			return nil, true
		}
		if msg.from == m.watch.behind {
			m.watch.behind = 0
		}
		if msg.all {
			if m.st.pop.len() <= patchMax {
				// Said, as on a large table: the header and the table
				// stay the open's until the next open; unless a message
				// on screen says so already (ctrl+r's, of the identities
				// it found).
				if !strings.Contains(m.flash, "when nhi opens again") {
					m.setFlash(followed, false)
				}
				return m.rederiveAll(), true
			}
			m.setFlash(notFollowed, false)
		}
		for _, id := range msg.ids {
			if _, ok := m.st.pop.find(id); ok {
				m.st.markDirty(id)
			}
		}
		return m.reload(), true
	case sinceMsg:
		if msg.err == nil && msg.to > m.st.head {
			// Read up to there: a notice of a head up to it is news
			// already read.
			m.st.head = msg.to
		}
		if a := m.watch.again; a != 0 && a >= msg.from && msg.err == nil && msg.to > a {
			// The read to follow reads what this one does not: after to.
			if m.st.head <= msg.to {
				m.watch.again = 0
			} else {
				m.watch.again = msg.to
			}
		}
		return m.readAgainAfter(msg), true
	case readAgainDoneMsg:
		m.watch.reading = false
		if from := m.watch.again; from != 0 {
			m.watch.again = 0
			return m.readAgain(from), true
		}
		return nil, true
	case refreshMsg:
		m.setFlash("Reading "+storeNoun(m.st.store)+" again…", false)
		m.watch.behind = 0 // every row is read again
		return tea.Batch(m.reread(true), m.readTableAgain(), m.readHead(false)), true
	case tableReadAgainMsg:
		return m.tableReadAgain(msg), true
	}
	return nil, false
}

// headSeen follows the log's head to seq: when it moved, the views read
// again what another process may have changed.
func (m *Model) headSeen(seq int64) tea.Cmd {
	if seq == m.st.head {
		return nil
	}
	first, prev := m.st.head == 0, m.st.head
	m.st.head = seq
	if first {
		return nil // the first look: what is shown is as new
	}
	from := prev
	if b := m.watch.behind; b != 0 && b < from {
		from = b
	}
	if m.watch.reading {
		if m.watch.again == 0 || from < m.watch.again {
			m.watch.again = from
		}
		return nil
	}
	return m.readAgain(from)
}

// readAgainDoneMsg says the reads readAgain started have answered.
type readAgainDoneMsg struct{}

// sinceMsg is the types of the events after event from and up to event
// to, the head they were read to (readAgain's look; to is 0 when there
// was none).
type sinceMsg struct {
	from, to int64
	types    []string
	err      error
}

// readAgain reads again, off the event loop, what the views show and the
// rows the events after from may have changed; when it is done, what
// came meanwhile is read (watchState.reading). It looks first at what
// kinds of event came and up to which head (audit.Store.EventTypesTo),
// and reads the rest up to that head only, with those kinds: the
// decisions since on the campaign's items (loadDecisionsTo) and the rows
// they name (readRowsSince), where each read the kinds again, up to
// whatever head it met — three reads of them where one does, and the
// reads after the first could cover events the first never saw. What
// comes after the head is the next notice's. When the events are
// decisions, the campaigns' progress is read again only if a view shows
// it (campaignsOnScreen).
func (m *Model) readAgain(from int64) tea.Cmd {
	m.watch.reading = true
	s, ok := m.st.store.(tableCacheStore)
	if !ok {
		return m.readAgainAfter(sinceMsg{from: from})
	}
	ctx := m.st.ctx
	return func() tea.Msg {
		types, to, err := s.EventTypesTo(ctx, from)
		return sinceMsg{from: from, to: to, types: types, err: err}
	}
}

// readAgainAfter starts readAgain's reads once the types of the events
// since are known (nil, or an error: any, up to whatever head each read
// meets).
func (m *Model) readAgainAfter(msg sinceMsg) tea.Cmd {
	if msg.err != nil {
		msg = sinceMsg{from: msg.from}
	}
	if msg.to != 0 && msg.to == msg.from {
		return func() tea.Msg { return readAgainDoneMsg{} } // nothing came
	}
	campaigns := msg.types == nil || m.campaignsOnScreen()
	for _, t := range msg.types {
		if !progressOnly[t] {
			campaigns = true
		}
	}
	return tea.Sequence(tea.Batch(m.rereadTo(campaigns, &msg), m.readRowsSince(msg)), func() tea.Msg { return readAgainDoneMsg{} })
}

// progressOnly are the event types that change no campaign but its
// progress (and what progress reads: decisions, who decided). After them
// the campaigns are read again only when a view shows them: their
// progress, counted by the database over every item of each campaign,
// cost the server 8 ms at 10,000 items, read by every open TUI up to
// four times a second while reviewers decide (liveGap). A view that
// opens reads them (loadCampaigns), and one uncovered by esc reads them
// if they are behind (state.campsStale).
var progressOnly = map[string]bool{
	"campaign.decide":   true, // campaigns.EventDecide
	"campaign.confirm":  true, // campaigns.EventConfirm
	"campaign.undo":     true, // campaigns.EventUndo
	"campaign.verify":   true, // campaigns.EventVerify
	"decision.approve":  true, // campaigns.EventApprove
	"decision.refused":  true,
	"decision.escalate": true, // campaigns.EventEscalate
	audit.EventOwnerSet: true,
	audit.EventNoteAdd:  true,
}

// campaignsOnScreen says whether the view on top shows the campaigns'
// progress.
func (m *Model) campaignsOnScreen() bool {
	switch m.top().(type) {
	case *campaignsView, *overviewView:
		return true
	}
	return false
}

// reread reads again what the views show that others may have changed:
// the chosen campaign's items (decisions), the open detail's trails, and
// when campaigns is true the campaigns' progress, which is otherwise
// marked behind (state.campsStale).
func (m *Model) reread(campaigns bool) tea.Cmd {
	return m.rereadTo(campaigns, nil)
}

// rereadTo is reread after the watch's look at the log (loadDecisionsTo).
func (m *Model) rereadTo(campaigns bool, look *sinceMsg) tea.Cmd {
	cmds := []tea.Cmd{m.loadDecisionsTo(m.st.campaign, look), m.st.rereadOthers(look), m.broadcast(historyChangedMsg{}), m.broadcast(decisionsChangedMsg{recorded: true})}
	if m.st.campsState != notLoaded {
		if campaigns {
			cmds = append(cmds, m.loadCampaigns())
		} else {
			m.st.campsStale = true
		}
	}
	return tea.Batch(cmds...)
}

// rederiveAll derives every row's owner and findings again (reload).
func (m *Model) rederiveAll() tea.Cmd {
	if m.st.store == nil {
		return nil
	}
	for id := range m.st.pop.ids() {
		m.st.markDirty(id)
	}
	return m.reload()
}
