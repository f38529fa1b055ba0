package tui

import (
	"time"

	tea "github.com/charmbracelet/bubbletea"
)

// Other reviewers write to the same evidence file. The TUI notices: about
// once a second (Options.Poll) it reads the head of the event log off the
// event loop, and when the log grew it reads again what it shows of the
// campaigns, the chosen campaign's items and the open detail's history,
// in place: the cursor and the filter stay. ctrl+r does the same at once,
// and also re-reads the owners and findings of every identity.

// watchTickMsg is time to look at the log's head again.
type watchTickMsg struct{}

// headMsg is the log's head as read.
type headMsg struct {
	seq int64
	err error
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
		first := m.st.head == 0
		m.st.head = msg.seq
		if first {
			return next, true // the first look: what is shown is as new
		}
		return tea.Batch(next, m.reread(false)), true
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
