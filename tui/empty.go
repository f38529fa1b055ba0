package tui

import (
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/nhi-audit/nhi/audit"
)

// emptyMessage is shown when there is nothing to walk.
const emptyMessage = "No identities yet. Run `nhi demo` for a sample organisation, or `nhi snapshot github --org ORG`."

// emptyView takes the place of the identities table when there are no
// identities: it says how to get some.
type emptyView struct {
	keys          emptyKeys
	message       string
	width, height int
}

func newEmptyView(snap *audit.Snapshot) *emptyView {
	msg := emptyMessage
	if snap != nil && snap.Status == audit.SnapshotFailed && snap.Error != "" {
		msg = "The last snapshot failed: " + audit.Printable(snap.Error) + "\n\n" + msg
	}
	return &emptyView{message: msg}
}

func (v *emptyView) ShortHelp() []key.Binding  { return v.keys.ShortHelp() }
func (v *emptyView) FullHelp() [][]key.Binding { return v.keys.FullHelp() }

func (v *emptyView) SetSize(width, height int) { v.width, v.height = width, height }

func (v *emptyView) Update(tea.Msg) tea.Cmd { return nil }

func (v *emptyView) View() string {
	if v.width <= 0 || v.height <= 0 {
		return ""
	}
	text := theme.Empty.Width(min(v.width, 60)).Align(lipgloss.Center).Render(v.message)
	return lipgloss.Place(v.width, v.height, lipgloss.Center, lipgloss.Center, text)
}

// newLoadingView is the first screen while the identities are read from
// where (storeNoun: the evidence file, or the database).
func newLoadingView(snap *audit.Snapshot, where string) *emptyView {
	msg := "Reading the identities from " + where + "…"
	if snap != nil && snap.Total() > 0 && (snap.Status == audit.SnapshotComplete || snap.Status == audit.SnapshotPartial) {
		// A failed run's counts are what it read before it failed, not
		// the population.
		msg = "Reading " + plural(snap.Total(), "identity", "identities") + " from " + where + "…"
	}
	return &emptyView{message: msg}
}
