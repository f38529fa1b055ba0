package tui

import (
	"slices"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/nhi-audit/nhi/audit"
)

// The root routes: the answers of loads and writes update the shared
// state (loads.go, writes.go), then the root tells the views what changed
// with one of the messages below, delivered at once to every view on the
// stack (broadcast). A view applies what concerns it, itself; the root
// never edits a view's fields.

// populationChangedMsg says new versions of some identities replaced the
// old ones in st.pop: a filtered or sorted table recomputes its rows.
type populationChangedMsg struct {
	// rows are the positions of the identities replaced, when they are
	// known and few (patchMaxRows); nil: any may have changed.
	rows []int32
}

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
	case suggestionsMsg:
		return m.suggested(msg), true
	case applyFilterMsg:
		m.jumpToBase()
		cmd := m.broadcast(msg)
		if m.back != nil {
			m.back.arrived = m.ids.filterText
		}
		return cmd, true
	case flashMsg:
		m.setFlash(msg.text, msg.isErr)
		return nil, true
	case campaignChosenMsg:
		m.st.campaign = msg.name
		m.st.setItems(nil)
		m.jumpToBase()
		// The filter in force stays (a slice of the population picked
		// first, then the campaign to decide it in), and is said, here and
		// beside the count: "My items 0" under it read as nothing to do.
		kept := ""
		if m.ids != nil && m.ids.filterText != "" {
			kept = " · the filter " + audit.Printable(m.ids.filterText) + " still applies (/ then esc clears it)"
		}
		m.setFlash("Campaign "+msg.name+": n next undecided · D decommission · K keep · R rotate"+kept, false)
		return m.loadDecisions(msg.name), true
	}
	return nil, false
}

// leaveCampaign shows every identity again (:identities): the campaign
// picked is left, its queue with it, and the title says "Identities"
// where it said "My items · campaign NAME". The filter in force stays, as
// picking a campaign keeps it, and is said. :campaigns, then enter, picks
// the campaign again.
func (m *Model) leaveCampaign() tea.Cmd {
	name := m.st.campaign
	if name == "" {
		return nil
	}
	m.st.campaign = ""
	m.st.setItems(nil)
	kept := ""
	if m.ids != nil && m.ids.filterText != "" {
		kept = " · the filter " + audit.Printable(m.ids.filterText) + " still applies (/ then esc clears it)"
	}
	m.setFlash("Every identity: out of campaign "+name+" (:campaigns, then enter, picks it again)"+kept, false)
	return m.broadcast(decisionsChangedMsg{})
}

// returnPoint is where esc on the identities table goes back to after a
// line of the overview or of the campaigns led there: the views that jump
// closed, and the table's filter before it. The view stack is the user's
// path (k9s): esc retraces it.
type returnPoint struct {
	views   []view
	filter  string
	arrived string // the table's filter right after the jump
}

// jumpToBase shows the identities table from a view above it, keeping the
// way back.
func (m *Model) jumpToBase() {
	var rp *returnPoint
	if len(m.stack) > 1 && m.ids != nil {
		rp = &returnPoint{views: slices.Clone(m.stack[1:]), filter: m.ids.filterText, arrived: m.ids.filterText}
	}
	m.popToBase()
	m.back = rp
	m.layout() // the hint bar says where esc goes
}

// goBack is esc on the identities table after a jump: the views it
// closed come back, the table's filter is the one before, and what they
// show is read again (it may have changed meanwhile).
func (m *Model) goBack() tea.Cmd {
	rp := m.back
	m.back = nil
	cmd := m.ids.setFilter(rp.filter)
	m.stack = append(m.stack, rp.views...)
	m.layout()
	return tea.Batch(cmd, m.loadCampaigns())
}

// canGoBack reports whether esc now goes back along the user's path: on
// the table, once esc has nothing of the user's own to clear there (a
// filter typed since the jump, then a selection).
func (m *Model) canGoBack() bool {
	if m.back == nil || len(m.stack) != 1 || m.top() != view(m.ids) || m.capturing() {
		return false
	}
	f := m.ids.filterText
	return (f == "" || f == m.back.arrived) && len(m.ids.selected) == 0
}

// label names where esc goes back to, for the hint bar.
func (rp *returnPoint) label() string {
	switch v := rp.views[len(rp.views)-1].(type) {
	case *overviewView:
		return "overview"
	case *campaignsView:
		return "campaigns"
	case *personView:
		if v.person.Name != "" {
			return audit.Printable(v.person.Name)
		}
		return audit.Printable(v.person.Email)
	}
	return "previous view"
}
