package tui

import (
	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
)

// Key bindings follow k9s and lazygit habits. Every view has its own keymap
// implementing help.KeyMap; the root adds the global keys to whatever view
// is on top, so the hint bar and the full help always describe the screen
// in front of the auditor, in plain words.

// globalKeys work on every view.
type globalKeys struct {
	Help      key.Binding
	Quit      key.Binding // only where the view does not use q itself
	ForceQuit key.Binding
}

func newGlobalKeys() globalKeys {
	return globalKeys{
		Help:      key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Quit:      key.NewBinding(key.WithKeys("q"), key.WithHelp("q", "quit")),
		ForceQuit: key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit")),
	}
}

// navKeys move a cursor or a scroll position through a list of lines or rows.
type navKeys struct {
	Up           key.Binding
	Down         key.Binding
	Top          key.Binding
	Bottom       key.Binding
	HalfPageUp   key.Binding
	HalfPageDown key.Binding
	PageUp       key.Binding
	PageDown     key.Binding
}

// newNavKeys names the movement: "" for moving a cursor through rows,
// "scroll " for scrolling text.
func newNavKeys(verb string) navKeys {
	return navKeys{
		Up:           key.NewBinding(key.WithKeys("k", "up"), key.WithHelp("↑/k", verb+"up")),
		Down:         key.NewBinding(key.WithKeys("j", "down"), key.WithHelp("↓/j", verb+"down")),
		Top:          key.NewBinding(key.WithKeys("g", "home"), key.WithHelp("g/home", "go to top")),
		Bottom:       key.NewBinding(key.WithKeys("G", "end"), key.WithHelp("G/end", "go to bottom")),
		HalfPageUp:   key.NewBinding(key.WithKeys("ctrl+u"), key.WithHelp("ctrl+u", "half page up")),
		HalfPageDown: key.NewBinding(key.WithKeys("ctrl+d"), key.WithHelp("ctrl+d", "half page down")),
		PageUp:       key.NewBinding(key.WithKeys("pgup", "ctrl+b"), key.WithHelp("pgup", "page up")),
		PageDown:     key.NewBinding(key.WithKeys("pgdown", "ctrl+f"), key.WithHelp("pgdn", "page down")),
	}
}

func (k navKeys) column() []key.Binding {
	return []key.Binding{k.Up, k.Down, k.Top, k.Bottom, k.HalfPageUp, k.HalfPageDown, k.PageUp, k.PageDown}
}

// identitiesKeys are the keys of the identities table.
type identitiesKeys struct {
	navKeys
	Open key.Binding
}

func newIdentitiesKeys() identitiesKeys {
	return identitiesKeys{
		navKeys: newNavKeys(""),
		Open:    key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "show details")),
	}
}

func (k identitiesKeys) ShortHelp() []key.Binding {
	return []key.Binding{k.Up, k.Down, k.Open}
}

func (k identitiesKeys) FullHelp() [][]key.Binding {
	return [][]key.Binding{k.column(), {k.Open}}
}

// detailKeys are the keys of the detail view.
type detailKeys struct {
	navKeys
	Back key.Binding
}

func newDetailKeys() detailKeys {
	return detailKeys{
		navKeys: newNavKeys("scroll "),
		Back:    key.NewBinding(key.WithKeys("esc", "q"), key.WithHelp("esc/q", "back")),
	}
}

func (k detailKeys) ShortHelp() []key.Binding {
	return []key.Binding{k.Back, k.Up, k.Down}
}

func (k detailKeys) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Back}, k.column()}
}

// emptyKeys is the keymap of a view with nothing to move through.
type emptyKeys struct{}

func (emptyKeys) ShortHelp() []key.Binding  { return nil }
func (emptyKeys) FullHelp() [][]key.Binding { return nil }

// screenKeys is what the help shows: the keys of the view on top, then the
// global keys.
type screenKeys struct {
	view     help.KeyMap
	global   globalKeys
	showAll  bool
	quitWith bool // q quits on this screen
}

func (k screenKeys) globals() []key.Binding {
	h := k.global.Help
	if k.showAll {
		h.SetHelp("?", "close help")
	}
	if k.quitWith {
		return []key.Binding{h, k.global.Quit}
	}
	return []key.Binding{h, k.global.ForceQuit}
}

func (k screenKeys) ShortHelp() []key.Binding {
	return append(k.view.ShortHelp(), k.globals()...)
}

func (k screenKeys) FullHelp() [][]key.Binding {
	g := []key.Binding{k.global.Help}
	if k.quitWith {
		g = append(g, k.global.Quit)
	}
	g = append(g, k.global.ForceQuit)
	if k.showAll {
		g[0].SetHelp("?", "close help")
	}
	return append(k.view.FullHelp(), g)
}
