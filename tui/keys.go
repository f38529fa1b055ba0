package tui

import (
	"strings"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
)

// Key bindings follow k9s and lazygit habits. Every view has its own keymap
// implementing help.KeyMap; the root adds the action keys (when the view
// acts on identities and the session may write) and the global keys, so
// the hint bar and the full help always describe the screen in front of
// the auditor, in plain words.

// globalKeys work on every view.
type globalKeys struct {
	Command   key.Binding
	Refresh   key.Binding // read the evidence file again (watch.go)
	Help      key.Binding
	Quit      key.Binding // only on the first view; above it q closes the view
	ForceQuit key.Binding
	Back      key.Binding // esc on the table after a jump from a view above it (route.go)
}

// newGlobalKeys: store is what ctrl+r reads again (storeNoun).
func newGlobalKeys(store Store) globalKeys {
	again := "read the file again"
	if storeNoun(store) == "the database" {
		again = "read the database again"
	}
	return globalKeys{
		Command:   key.NewBinding(key.WithKeys(":"), key.WithHelp(":", "command")),
		Refresh:   key.NewBinding(key.WithKeys("ctrl+r"), key.WithHelp("ctrl+r", again)),
		Help:      key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Quit:      key.NewBinding(key.WithKeys("q"), key.WithHelp("q", "quit")),
		ForceQuit: key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit")),
		Back:      key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
	}
}

// actionKeys write to the evidence file; they act on the marked
// identities, or on the one under the cursor.
type actionKeys struct {
	Owner        key.Binding
	Note         key.Binding
	Undo         key.Binding
	Decommission key.Binding
	Keep         key.Binding
	Rotate       key.Binding
	Approve      key.Binding
	Transfer     key.Binding // offboarding campaigns only (transfer.go)
}

func newActionKeys() actionKeys {
	return actionKeys{
		Owner:        key.NewBinding(key.WithKeys("o"), key.WithHelp("o", "set owner")),
		Note:         key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "add a note")),
		Undo:         key.NewBinding(key.WithKeys("u"), key.WithHelp("u", "undo my last change")),
		Decommission: key.NewBinding(key.WithKeys("D"), key.WithHelp("D", "decide: decommission")),
		Keep:         key.NewBinding(key.WithKeys("K"), key.WithHelp("K", "decide: keep (reason)")),
		Rotate:       key.NewBinding(key.WithKeys("R"), key.WithHelp("R", "decide: rotate")),
		Approve:      key.NewBinding(key.WithKeys("A"), key.WithHelp("A", "approve exception")),
		Transfer:     key.NewBinding(key.WithKeys("T"), key.WithHelp("T", "decide: transfer to (tab completes)")),
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
	Open      key.Binding
	Filter    key.Binding
	Select    key.Binding
	SelectAll key.Binding
	Sort      key.Binding
	Reverse   key.Binding
	Next      key.Binding // next undecided identity of the campaign
	Previous  key.Binding
	Everyone  key.Binding // the campaign's items of every reviewer, or mine again
	Leave     key.Binding // :identities, said in the help while a campaign is picked (identitiesView.FullHelp)
	Clear     key.Binding
	Keep      key.Binding // the filter prompt's enter
	Drop      key.Binding // the filter prompt's esc

	// n, N and a act only on a picked campaign (without one they say
	// "Choose a campaign first"), so the help offers them only then
	// (identitiesView.FullHelp sets it), as the hint bar does.
	inCampaign bool
}

// newIdentitiesKeys is the table's keymap; the campaign keys (n, N, a) are
// disabled where there are no campaigns.
func newIdentitiesKeys(campaigns bool) identitiesKeys {
	k := identitiesKeys{
		navKeys:   newNavKeys(""),
		Open:      key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "details")),
		Filter:    key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		Select:    key.NewBinding(key.WithKeys(" "), key.WithHelp("space", "select")),
		SelectAll: key.NewBinding(key.WithKeys("ctrl+a"), key.WithHelp("ctrl+a", "select all shown")),
		Sort:      key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "sort by next column")),
		Reverse:   key.NewBinding(key.WithKeys("S"), key.WithHelp("S", "reverse the sort")),
		Next:      key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "next undecided")),
		Previous:  key.NewBinding(key.WithKeys("N"), key.WithHelp("N", "previous undecided")),
		Everyone:  key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "everyone's items / mine")),
		Leave:     key.NewBinding(key.WithKeys(":identities"), key.WithHelp(":id", "every identity again")),
		Clear:     key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "clear filter, then selection")),
		Keep:      key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "keep filter")),
		Drop:      key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "clear filter")),
	}
	k.Next.SetEnabled(campaigns)
	k.Previous.SetEnabled(campaigns)
	k.Everyone.SetEnabled(campaigns)
	return k
}

func (k identitiesKeys) ShortHelp() []key.Binding {
	return []key.Binding{k.Filter, k.Open, k.Select}
}

func (k identitiesKeys) FullHelp() [][]key.Binding {
	acts := []key.Binding{k.Open, k.Filter, k.Select, k.SelectAll, k.Sort, k.Reverse}
	if k.Next.Enabled() && k.inCampaign {
		acts = append(acts, k.Next, k.Previous, k.Everyone)
	}
	return [][]key.Binding{k.column(), append(acts, k.Clear)}
}

func (k identitiesKeys) editing() []key.Binding { return []key.Binding{k.Keep, k.Drop} }

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

// shortAt is the hint bar at scroll position offset of last: down while
// there is more below, else up while there is more above.
func (k detailKeys) shortAt(offset, last int) []key.Binding {
	switch {
	case offset < last:
		return []key.Binding{k.Back, k.Down}
	case offset > 0:
		return []key.Binding{k.Back, k.Up}
	}
	return []key.Binding{k.Back}
}

func (k detailKeys) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Back}, k.column()}
}

// listKeys are the keys of a list whose lines lead somewhere: the
// overview, the campaigns.
type listKeys struct {
	navKeys
	Open key.Binding
	Back key.Binding
}

func newListKeys(open string) listKeys {
	return listKeys{
		navKeys: newNavKeys(""),
		Open:    key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", open)),
		Back:    key.NewBinding(key.WithKeys("esc", "q"), key.WithHelp("esc/q", "back")),
	}
}

func (k listKeys) ShortHelp() []key.Binding { return []key.Binding{k.Back, k.Open} }

// withoutOpen is k on an empty list: enter is not offered (the help
// leaves a disabled key out).
func (k listKeys) withoutOpen() listKeys {
	k.Open.SetEnabled(false)
	return k
}

func (k listKeys) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Back, k.Open}, k.column()}
}

// emptyKeys is the keymap of a view with nothing to move through.
type emptyKeys struct{}

func (emptyKeys) ShortHelp() []key.Binding  { return nil }
func (emptyKeys) FullHelp() [][]key.Binding { return nil }

// promptKeys are the keys of a prompt at the bottom of the screen.
type promptKeys []key.Binding

func (k promptKeys) ShortHelp() []key.Binding  { return k }
func (k promptKeys) FullHelp() [][]key.Binding { return [][]key.Binding{k} }

// screenKeys is what the help shows: the keys of the view on top, the
// action keys where they apply, then the global keys.
type screenKeys struct {
	view     help.KeyMap
	actions  []key.Binding // nil when the view takes no action or the session may not write
	global   globalKeys
	showAll  bool
	quitWith bool   // q quits on this screen
	input    bool   // the view is taking typed text: only ctrl+c is global
	back     string // where esc goes back to ("overview"), when it does
	// commands are the : commands the view names in the full help, under
	// ":" (commandHelper).
	commands []key.Binding
}

// commandHelper is a view that names : commands in the full help: the
// ones that answer what its screen leaves a user asking (identitiesView:
// how to see every identity again from a campaign).
type commandHelper interface {
	commandHelp() []key.Binding
}

func (k screenKeys) ShortHelp() []key.Binding {
	view := k.view.ShortHelp()
	// One allocation for the whole bar: this runs on every key.
	out := make([]key.Binding, 0, len(view)+6)
	if k.back != "" {
		b := k.global.Back
		b.SetHelp("esc", "back to "+k.back)
		out = append(out, b)
	}
	d, deciding := decideShort(k.actions)
	if deciding && !k.input {
		// Where a decision can succeed (a campaign's open item of
		// yours), deciding is what the screen is for: the bar says how,
		// where it said only "o owner" and D, K, R were in ? alone. It
		// comes after esc and enter and before the view's other keys,
		// so a narrow bar leaves those out first (at 80 columns, from
		// :campaigns, / filter and space select).
		var first, rest []key.Binding
		for _, b := range view {
			if h := b.Help().Key; h == "enter" || strings.HasPrefix(h, "esc") {
				first = append(first, b)
			} else {
				rest = append(rest, b)
			}
		}
		out = append(append(append(out, first...), d), rest...)
	} else {
		out = append(out, view...)
	}
	if k.input {
		return append(out, k.global.ForceQuit)
	}
	if !deciding && len(k.actions) > 0 {
		// The first action: o, in one word; a note where owners are
		// not the session's to set (state.ownersRefused).
		// Never u alone: undo is no action on what the screen shows.
		switch o := k.actions[0]; o.Help().Key {
		case "o":
			o.SetHelp(o.Help().Key, "owner")
			out = append(out, o)
		case "u":
		default:
			out = append(out, o)
		}
	}
	h := k.global.Help
	if k.showAll {
		h.SetHelp("?", "close help")
	}
	out = append(out, k.global.Command, h)
	if k.quitWith {
		return append(out, k.global.Quit)
	}
	return append(out, k.global.ForceQuit)
}

// decideShort is the hint bar's one binding for the decision keys among
// actions ("D/K/R decide", and "/T" where a transfer can be decided),
// when D is among them: actionBindings offers them only where a decision
// can succeed.
func decideShort(actions []key.Binding) (key.Binding, bool) {
	var keys []string
	for _, a := range actions {
		switch a.Help().Key {
		case "D", "K", "R", "T":
			keys = append(keys, a.Help().Key)
		}
	}
	if len(keys) == 0 || keys[0] != "D" {
		return key.Binding{}, false
	}
	return key.NewBinding(key.WithKeys(keys...), key.WithHelp(strings.Join(keys, "/"), "decide")), true
}

func (k screenKeys) FullHelp() [][]key.Binding {
	var groups [][]key.Binding
	if k.back != "" {
		b := k.global.Back
		b.SetHelp("esc", "back to "+k.back)
		groups = append(groups, []key.Binding{b})
	}
	groups = append(groups, k.view.FullHelp()...)
	if k.input {
		return append(groups, []key.Binding{k.global.ForceQuit})
	}
	if len(k.actions) > 0 {
		groups = append(groups, k.actions)
	}
	h := k.global.Help
	if k.showAll {
		h.SetHelp("?", "close help")
	}
	g := append(append([]key.Binding{k.global.Command}, k.commands...), k.global.Refresh, h)
	if k.quitWith {
		g = append(g, k.global.Quit)
	}
	return append(groups, append(g, k.global.ForceQuit))
}
