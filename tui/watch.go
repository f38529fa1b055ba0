package tui

import (
	"context"
	"time"

	tea "github.com/charmbracelet/bubbletea"
)

// Other reviewers write to the same evidence file. The TUI notices: about
// once a second (Options.Poll) it reads the head of the event log off the
// event loop, and when the log grew it reads again what it shows of the
// campaigns, the chosen campaign's items and the open detail's history,
// in place: the cursor and the filter stay, and the owners and findings
// of the identities whose owner an event since changed. ctrl+r does the
// same at once, and re-reads the owners and findings of every identity.

// watchTickMsg is time to look at the log's head again.
type watchTickMsg struct{}

// headMsg is the log's head as read.
type headMsg struct {
	seq int64
	err error
}

// ownersWatcher is a Store that says whose owner changed after an event
// (audit.Store): a poll that saw new events then re-reads those
// identities' owners and findings, not every identity.
type ownersWatcher interface {
	OwnersChangedSince(ctx context.Context, seq int64) ([]string, error)
}

// ownersChangedMsg is the identities whose owner events after the last
// seen head changed.
type ownersChangedMsg struct {
	ids []string
	err error
}

// readOwnersSince reads, off the event loop, whose owner changed after
// event seq.
func (m *Model) readOwnersSince(seq int64) tea.Cmd {
	w, ok := m.st.store.(ownersWatcher)
	if !ok {
		return nil
	}
	ctx := m.st.ctx
	return func() tea.Msg {
		ids, err := w.OwnersChangedSince(ctx, seq)
		return ownersChangedMsg{ids: ids, err: err}
	}
}

// refreshMsg is ctrl+r.
type refreshMsg struct{}

func (m *Model) watchTick() tea.Cmd {
	if m.opts.Poll <= 0 || m.st.store == nil {
		return nil
	}
	return tea.Tick(m.opts.Poll, func(time.Time) tea.Msg { return watchTickMsg{} })
}

// readHead reads the head of the log, off the event loop.
func (m *Model) readHead() tea.Cmd {
	if m.st.store == nil {
		return nil
	}
	ctx, store := m.st.ctx, m.st.store
	return func() tea.Msg {
		h, err := store.LogHead(ctx)
		return headMsg{seq: h.Seq, err: err}
	}
}

// updateWatch handles the watch's messages; ok is false for others.
func (m *Model) updateWatch(msg tea.Msg) (tea.Cmd, bool) {
	switch msg := msg.(type) {
	case watchTickMsg:
		return m.readHead(), true
	case headMsg:
		next := m.watchTick()
		if msg.err != nil || msg.seq == m.st.head {
			return next, true
		}
		first, prev := m.st.head == 0, m.st.head
		m.st.head = msg.seq
		if first {
			return next, true // the first look: what is shown is as new
		}
		return tea.Batch(next, m.reread(false), m.readOwnersSince(prev)), true
	case ownersChangedMsg:
		if msg.err != nil {
			return nil, true // the next poll or ctrl+r reads them again
		}
		for _, id := range msg.ids {
			if _, ok := m.st.pop.index[id]; ok {
				m.st.dirty[id]++
			}
		}
		return m.reload(), true
	case refreshMsg:
		m.setFlash("Reading the evidence file again…", false)
		return tea.Batch(m.reread(true), m.readHead()), true
	}
	return nil, false
}

// reread reads again what the views show that others may have changed:
// the campaigns' progress, the chosen campaign's items (decisions), the
// open detail's trails; with owners, every identity's owner and findings.
func (m *Model) reread(owners bool) tea.Cmd {
	cmds := []tea.Cmd{m.loadDecisions(m.st.campaign), m.broadcast(historyChangedMsg{}), m.broadcast(decisionsChangedMsg{recorded: true})}
	if m.st.campsState != notLoaded {
		cmds = append(cmds, m.loadCampaigns())
	}
	if owners && m.st.store != nil {
		for id := range m.st.pop.index {
			m.st.dirty[id]++
		}
		cmds = append(cmds, m.reload())
	}
	return tea.Batch(cmds...)
}
