package tui

import (
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/nhi-audit/nhi/audit"
)

// scroller is anything the navigation keys move: a table cursor, a text
// scroll position.
type scroller interface {
	Move(n int)
	GotoTop()
	GotoBottom()
	PageSize() int
}

// navigate applies a navigation key to s and reports whether msg was one.
func navigate(k navKeys, msg tea.KeyMsg, s scroller) bool {
	switch {
	case key.Matches(msg, k.Up):
		s.Move(-1)
	case key.Matches(msg, k.Down):
		s.Move(1)
	case key.Matches(msg, k.Top):
		s.GotoTop()
	case key.Matches(msg, k.Bottom):
		s.GotoBottom()
	case key.Matches(msg, k.HalfPageUp):
		s.Move(-max(s.PageSize()/2, 1))
	case key.Matches(msg, k.HalfPageDown):
		s.Move(max(s.PageSize()/2, 1))
	case key.Matches(msg, k.PageUp):
		s.Move(-s.PageSize())
	case key.Matches(msg, k.PageDown):
		s.Move(s.PageSize())
	default:
		return false
	}
	return true
}

// Identity table columns, in order.
const (
	colKind = iota
	colName
	colScope
	colOwner
	colLastUsed
	colAge
	colFindings
	colStatus
)

// identityColumns fit 80 cells at their minimum widths; wider terminals give
// the spare width to the text columns, narrower ones hide AGE, STATUS, OWNER
// and LAST USED, in that order.
var identityColumns = []column{
	colKind:     {Title: "KIND", Min: 14, Max: 17, Grow: 4},
	colName:     {Title: "NAME", Min: 12, Grow: 4},
	colScope:    {Title: "SCOPE", Min: 11, Grow: 3},
	colOwner:    {Title: "OWNER", Min: 7, Max: 24, Grow: 1, Drop: 2},
	colLastUsed: {Title: "LAST USED", Min: 9, Drop: 1},
	colAge:      {Title: "AGE", Min: 4, Drop: 4},
	colFindings: {Title: "FINDINGS", Min: 8, Max: 30},
	colStatus:   {Title: "STATUS", Min: 7, Drop: 3},
}

// identitiesView is the table of every identity.
type identitiesView struct {
	keys  identitiesKeys
	table *table[*audit.Identity]
	now   func() time.Time
	at    time.Time // the clock reading of the frame being drawn
	title string
	width int
}

func newIdentitiesView(rows []*audit.Identity, now func() time.Time) *identitiesView {
	v := &identitiesView{
		keys:  newIdentitiesKeys(),
		now:   now,
		title: "Identities (" + commas(len(rows)) + ")",
	}
	v.table = newTable(identityColumns, identityKey, v.cells)
	v.table.SetCellStyle(identityCellStyle)
	v.table.SetRows(rows)
	return v
}

func identityKey(id *audit.Identity) string { return id.ID }

// cells is the text of one row: every value from the API sanitized.
func (v *identitiesView) cells(id *audit.Identity, dst []string) {
	dst[colKind] = orDash(audit.Printable(id.Kind.Label()))
	dst[colName] = orDash(audit.Printable(id.Name))
	dst[colScope] = orDash(audit.Printable(id.Scope))
	dst[colOwner] = orDash(audit.Printable(id.Owner))
	dst[colLastUsed] = lastUsed(id, v.at)
	dst[colAge] = dash
	if id.CreatedAt != nil {
		dst[colAge] = since(*id.CreatedAt, v.at)
	}
	dst[colFindings] = orDash(audit.RuleNames(id.Findings))
	dst[colStatus] = orDash(audit.Printable(id.Status))
	if id.Status == audit.StatusActive && id.Change != "" {
		// New and changed since the previous snapshot: what a quarterly
		// review looks at first.
		dst[colStatus] = id.Change
	}
}

func identityCellStyle(id *audit.Identity, col int) (lipgloss.Style, bool) {
	switch {
	case col == colFindings && len(id.Findings) > 0:
		return theme.Warning, true
	case col == colStatus && id.Status == audit.StatusRemoved:
		return theme.Muted, true
	case col == colStatus && id.Change != "":
		return theme.Warning, true
	}
	return lipgloss.Style{}, false
}

func orDash(s string) string {
	if s == "" {
		return dash
	}
	return s
}

func (v *identitiesView) ShortHelp() []key.Binding  { return v.keys.ShortHelp() }
func (v *identitiesView) FullHelp() [][]key.Binding { return v.keys.FullHelp() }

func (v *identitiesView) SetSize(width, height int) {
	v.width = width
	v.table.SetSize(width, height-1) // below the title line
}

func (v *identitiesView) Update(msg tea.Msg) tea.Cmd {
	k, ok := msg.(tea.KeyMsg)
	if !ok {
		return nil
	}
	if navigate(v.keys.navKeys, k, v.table) {
		return nil
	}
	if key.Matches(k, v.keys.Open) {
		if id, ok := v.table.Selected(); ok {
			return pushView(newDetailView(id, v.now))
		}
	}
	return nil
}

func (v *identitiesView) View() string {
	v.at = v.now()
	pos := ""
	if n := v.table.Len(); n > 0 {
		pos = theme.Position.Render(commas(v.table.Cursor()+1) + "/" + commas(n))
	}
	return joinEnds(theme.Title.Render(v.title), pos, v.width) + "\n" + v.table.View()
}
