package tui

import (
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"
)

// The full help (?) is drawn over the view, in the view's place, as a
// scrolling page (a bubbles viewport): on a small terminal every key
// stays reachable, and the view behind keeps its size, its cursor and
// its scroll position, so closing the help shows it exactly as it was
// (issue 15: "? help scrolls on small terminals and does not move the
// list behind it"). While it is open the movement keys scroll the help.

// helpKeys are the keys of the open full help: the movement keys of a
// view scroll it; ?, esc and q (less's habit) close it.
type helpKeys struct {
	navKeys
	Close key.Binding
	// What the hint bar says of them, in few words: on a 40-column
	// terminal the bar keeps the last two, scrolling and closing.
	scroll, page key.Binding
}

func newHelpKeys() helpKeys {
	return helpKeys{
		navKeys: newNavKeys("scroll "),
		Close:   key.NewBinding(key.WithKeys("?", "esc", "q"), key.WithHelp("?/esc", "close help")),
		scroll:  key.NewBinding(key.WithKeys("up", "down"), key.WithHelp("↑↓/jk", "scroll")),
		page:    key.NewBinding(key.WithKeys("pgup", "pgdown"), key.WithHelp("pgup/pgdn", "page")),
	}
}

// ShortHelp is the hint bar under the help: how to read the rest of a
// help longer than the screen, and how to close it.
func (k helpKeys) ShortHelp() []key.Binding {
	return []key.Binding{k.page, k.scroll, k.Close}
}

func (k helpKeys) FullHelp() [][]key.Binding { return [][]key.Binding{k.ShortHelp()} }

// helpPage is the open full help: its text in a viewport the size of the
// view it covers, less its title line.
type helpPage struct {
	keys helpKeys
	vp   viewport.Model
}

func newHelpPage() helpPage {
	return helpPage{keys: newHelpKeys(), vp: viewport.New(0, 0)}
}

// set gives the page its text and size, keeping the scroll position
// where it can.
func (h *helpPage) set(text string, width, height int) {
	h.vp.Width, h.vp.Height = width, max(height-1, 0)
	h.vp.SetContent(text)
	h.vp.SetYOffset(h.vp.YOffset)
}

// update scrolls the page; it reports whether the key closes the help.
func (h *helpPage) update(msg tea.KeyMsg) (closed bool) {
	k := h.keys
	switch {
	case key.Matches(msg, k.Close):
		return true
	case key.Matches(msg, k.Up):
		h.vp.ScrollUp(1)
	case key.Matches(msg, k.Down):
		h.vp.ScrollDown(1)
	case key.Matches(msg, k.HalfPageUp):
		h.vp.HalfPageUp()
	case key.Matches(msg, k.HalfPageDown):
		h.vp.HalfPageDown()
	case key.Matches(msg, k.PageUp):
		h.vp.PageUp()
	case key.Matches(msg, k.PageDown):
		h.vp.PageDown()
	case key.Matches(msg, k.Top):
		h.vp.GotoTop()
	case key.Matches(msg, k.Bottom):
		h.vp.GotoBottom()
	}
	return false
}

// View is "Keys · lines 1–9 of 31 ↓" over the visible lines: the
// position says there is more, and where.
func (h *helpPage) View() string {
	total := h.vp.TotalLineCount()
	first, last := h.vp.YOffset+1, min(h.vp.YOffset+h.vp.Height, total)
	pos := "all " + strconv.Itoa(total) + " lines"
	if total > h.vp.Height {
		pos = "lines " + strconv.Itoa(first) + "–" + strconv.Itoa(last) + " of " + strconv.Itoa(total)
		switch {
		case h.vp.AtTop():
			pos += " ↓"
		case h.vp.AtBottom():
			pos += " ↑"
		default:
			pos += " ↑↓"
		}
	}
	var b strings.Builder
	b.WriteString(joinEnds(theme.Title.Render("Keys of this screen"), theme.Muted.Render(pos), h.vp.Width))
	if h.vp.Height > 0 {
		b.WriteByte('\n')
		b.WriteString(h.vp.View())
	}
	return b.String()
}
