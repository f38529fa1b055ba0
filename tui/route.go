package tui

import tea "github.com/charmbracelet/bubbletea"

// The root routes: the answers of loads and writes update the shared
// state (loads.go, writes.go), then the root tells the views what changed
// with one of the messages below, delivered at once to every view on the
// stack (broadcast). A view applies what concerns it, itself; the root
// never edits a view's fields.

// populationChangedMsg says new versions of some identities replaced the
// old ones in st.pop: a filtered or sorted table recomputes its rows.
type populationChangedMsg struct{}

// decisionsChangedMsg says st.items changed: a filter may test
// decision:. recorded says an event was written (a decision or its undo),
// so decision trails change too.
type decisionsChangedMsg struct{ recorded bool }

// historyChangedMsg says owner or note events were written: owner trails
// and notes change.
type historyChangedMsg struct{}

// applyFilterMsg asks for the identities table with a filter, from a line
// of the overview.
type applyFilterMsg struct{ expr string }

// campaignChosenMsg makes a campaign the one decisions are recorded in.
type campaignChosenMsg struct{ name string }

// flashMsg asks the root to show a one-line message until the next key.
type flashMsg struct {
	text  string
	isErr bool
}

// flash is a command that shows text in the message line.
func flash(text string, isErr bool) tea.Cmd {
	return func() tea.Msg { return flashMsg{text, isErr} }
}

// broadcast delivers msg to every view on the stack now, bottom first,
// and returns what they ask to run.
func (m *Model) broadcast(msg tea.Msg) tea.Cmd {
	var cmds []tea.Cmd
	for _, v := range m.stack {
		if cmd := v.Update(msg); cmd != nil {
			cmds = append(cmds, cmd)
		}
	}
	return tea.Batch(cmds...)
}

// route handles the messages of the root and of the loads and writes it
// started; ok is false for the answers views asked for themselves.
func (m *Model) route(msg tea.Msg) (tea.Cmd, bool) {
	if cmd, ok := m.updateLoads(msg); ok {
		return cmd, true
	}
	if cmd, ok := m.updateWrites(msg); ok {
		return cmd, true
	}
	if cmd, ok := m.updateWatch(msg); ok {
		return cmd, true
	}
	switch msg := msg.(type) {
	case applyFilterMsg:
		m.popToBase()
		return m.broadcast(msg), true
	case flashMsg:
		m.setFlash(msg.text, msg.isErr)
		return nil, true
	case campaignChosenMsg:
		m.st.campaign, m.st.items = msg.name, nil
		m.popToBase()
		m.setFlash("Campaign "+msg.name+": n next undecided · D decommission · K keep · R rotate", false)
		return m.loadDecisions(msg.name), true
	}
	return nil, false
}
