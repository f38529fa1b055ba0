// Package tui is the interactive terminal UI in which an auditor walks,
// inspects and decides on identities.
//
// The root Model owns the terminal size, the help and a stack of views: the
// identities table at the bottom, whatever the auditor opened from it
// (today the detail of one identity) on top. Views are small Bubble Tea
// models of their own (Update, View, SetSize) with their own keymap; they
// ask the root to open or close views with messages (pushView, popView), so
// a view never knows what is above or below it. The root draws the header
// line, the view on top, and the key-hint bar, and guarantees the frame is
// exactly the terminal's size.
//
// Every string that came from an API goes through sanitize before it
// reaches the screen.
package tui

import (
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/nhi-audit/nhi/audit"
)

// Options configure the TUI.
type Options struct {
	// ReadOnly shows the data without offering to change it.
	ReadOnly bool
	// Now is the clock for ages ("14d ago"); nil means time.Now.
	Now func() time.Time
}

// view is one screen below the header and above the hint bar.
type view interface {
	help.KeyMap // the view's own keys, for the hint bar and the full help
	// Update handles a message; keys reach it after the global ones.
	Update(msg tea.Msg) tea.Cmd
	// View draws the view in the size last given to SetSize.
	View() string
	// SetSize gives the view its size in cells; View must fit in it.
	SetSize(width, height int)
}

// inputView is a view that may be taking typed text (a filter, a note):
// while it is, only ctrl+c is global, so that typing ? or q works.
type inputView interface {
	capturingInput() bool
}

// pushViewMsg asks the root to open a view on top of the current one.
type pushViewMsg struct{ view view }

// popViewMsg asks the root to close the view on top.
type popViewMsg struct{}

func pushView(v view) tea.Cmd { return func() tea.Msg { return pushViewMsg{v} } }

func popView() tea.Msg { return popViewMsg{} }

// Model is the root Bubble Tea model.
type Model struct {
	snap  *audit.Snapshot
	count int
	opts  Options
	now   func() time.Time

	width, height int
	keys          globalKeys
	help          help.Model
	stack         []view // stack[0] is the identities table or the empty state

	header string // cached: changes with the width
	footer string // cached: changes with the width, the top view and the help
}

// New returns the TUI for the identities of a snapshot. snap may be nil
// when there is no snapshot yet. The identities are shown in the order
// given and must not be changed while the TUI runs.
func New(snap *audit.Snapshot, ids []audit.Identity, opts Options) *Model {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	m := &Model{
		snap:  snap,
		count: len(ids),
		opts:  opts,
		now:   now,
		keys:  newGlobalKeys(),
		help:  newHelp(),
	}
	if len(ids) == 0 {
		m.stack = []view{newEmptyView(snap)}
	} else {
		rows := make([]*audit.Identity, len(ids))
		for i := range ids {
			rows[i] = &ids[i]
		}
		m.stack = []view{newIdentitiesView(rows, now)}
	}
	return m
}

// Run shows the TUI full screen until the auditor quits.
func Run(snap *audit.Snapshot, ids []audit.Identity, opts Options) error {
	// Ask the terminal for its background colour (for the adaptive colours)
	// now, before Bubble Tea starts reading the input.
	lipgloss.HasDarkBackground()
	_, err := tea.NewProgram(New(snap, ids, opts), tea.WithAltScreen()).Run()
	return err
}

func newHelp() help.Model {
	h := help.New()
	h.Styles.ShortKey = theme.Title.Bold(false)
	h.Styles.ShortDesc = theme.Muted
	h.Styles.ShortSeparator = theme.Muted
	h.Styles.FullKey = theme.Title.Bold(false)
	h.Styles.FullDesc = theme.Muted
	h.Styles.FullSeparator = theme.Muted
	h.Styles.Ellipsis = theme.Muted
	return h
}

// Init implements tea.Model.
func (m *Model) Init() tea.Cmd { return nil }

func (m *Model) top() view { return m.stack[len(m.stack)-1] }

// Update implements tea.Model.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.layout()
		return m, nil
	case pushViewMsg:
		m.stack = append(m.stack, msg.view)
		m.layout()
		return m, nil
	case popViewMsg:
		if len(m.stack) > 1 {
			m.stack[len(m.stack)-1] = nil
			m.stack = m.stack[:len(m.stack)-1]
			m.layout()
		}
		return m, nil
	case tea.KeyMsg:
		if keys := splitRunes(msg); keys != nil {
			if iv, ok := m.top().(inputView); !ok || !iv.capturingInput() {
				// Bubble Tea reads keys typed faster than a frame ("jjj",
				// from key repeat or tmux send-keys) as one message; a
				// navigation keymap must see each one.
				var cmds []tea.Cmd
				for _, k := range keys {
					if _, cmd := m.Update(k); cmd != nil {
						cmds = append(cmds, cmd)
					}
				}
				switch len(cmds) {
				case 0:
					return m, nil
				case 1:
					return m, cmds[0]
				}
				return m, tea.Sequence(cmds...)
			}
		}
		if key.Matches(msg, m.keys.ForceQuit) {
			return m, tea.Quit
		}
		if iv, ok := m.top().(inputView); !ok || !iv.capturingInput() {
			switch {
			case key.Matches(msg, m.keys.Help):
				m.help.ShowAll = !m.help.ShowAll
				m.layout()
				return m, nil
			case m.quitWithQ() && key.Matches(msg, m.keys.Quit):
				return m, tea.Quit
			}
		}
	}
	return m, m.top().Update(msg)
}

// quitWithQ reports whether q quits: on the first view only; above it,
// q closes the view (less and k9s habits).
func (m *Model) quitWithQ() bool { return len(m.stack) == 1 }

// layout sizes the header, the footer and every view for the terminal.
func (m *Model) layout() {
	m.help.Width = m.width
	m.header = m.headerView()
	m.footer = m.footerView()
	body := max(m.height-1-lipgloss.Height(m.footer), 0)
	for _, v := range m.stack {
		v.SetSize(m.width, body)
	}
}

// View implements tea.Model: exactly the terminal's height in lines, none
// wider than the terminal.
func (m *Model) View() string {
	if m.width <= 0 || m.height <= 0 {
		return "" // before the first WindowSizeMsg
	}
	var b strings.Builder
	b.WriteString(m.header)
	b.WriteByte('\n')
	if body := m.height - 1 - lipgloss.Height(m.footer); body > 0 {
		b.WriteString(fit(m.top().View(), m.width, body))
		b.WriteByte('\n')
	}
	b.WriteString(m.footer)
	return fit(b.String(), m.width, m.height)
}

// headerView is "nhi · github/acme · snapshot complete 2025-06-01 12:00 UTC
// · 1,234 identities · 2 endpoints not read". When that is too wide it says
// the same in fewer words before anything is cut, so that the count of
// endpoints not read stays on screen as long as possible.
func (m *Model) headerView() string {
	var line string
	for compact := 0; compact <= 2; compact++ {
		line = m.headerParts(compact)
		if ansi.StringWidth(line) <= m.width {
			return line
		}
	}
	return truncate(line, m.width)
}

// headerParts builds the header; compact 0 is the full form, 1 drops the
// words "snapshot" and "endpoints", 2 also drops the time of day and "UTC".
func (m *Model) headerParts(compact int) string {
	sep := theme.Muted.Render(" · ")
	parts := []string{theme.AppName.Render("nhi")}
	if s := m.snap; s == nil {
		parts = append(parts, theme.Muted.Render("no snapshot yet"))
	} else {
		parts = append(parts, audit.Printable(s.Source)+"/"+audit.Printable(s.Account))
		status := audit.Printable(s.Status)
		switch s.Status {
		case audit.SnapshotPartial, audit.SnapshotRunning:
			status = theme.Warning.Render(status)
		case audit.SnapshotFailed:
			status = theme.Danger.Render(status)
		}
		layout := "2006-01-02 15:04 UTC"
		if compact >= 2 {
			layout = "2006-01-02"
		}
		when := "started " + s.StartedAt.UTC().Format(layout)
		if s.FinishedAt != nil {
			when = s.FinishedAt.UTC().Format(layout)
		}
		if compact == 0 {
			status = "snapshot " + status
		}
		parts = append(parts, status+" "+when)
	}
	parts = append(parts, plural(m.count, "identity", "identities"))
	if m.snap != nil && len(m.snap.Gaps) > 0 {
		gaps := plural(len(m.snap.Gaps), "endpoint", "endpoints") + " not read"
		if compact > 0 {
			gaps = commas(len(m.snap.Gaps)) + " not read"
		}
		parts = append(parts, theme.Warning.Render(gaps))
	}
	if m.opts.ReadOnly {
		parts = append(parts, theme.Muted.Render("read-only"))
	}
	return strings.Join(parts, sep)
}

// footerView is the key-hint bar, under the full help when it is shown.
func (m *Model) footerView() string {
	keys := screenKeys{view: m.top(), global: m.keys, showAll: m.help.ShowAll, quitWith: m.quitWithQ()}
	bar := m.help.ShortHelpView(keys.ShortHelp())
	if !m.help.ShowAll {
		return bar
	}
	return m.fullHelpView(keys.FullHelp()) + "\n\n" + bar
}

// fullHelpView lays the help columns out in as many rows of columns as the
// width needs, so that no key is ever left out for lack of width (help.Model
// alone drops the columns that do not fit).
func (m *Model) fullHelpView(groups [][]key.Binding) string {
	h := m.help
	h.Width = 0
	const gap = 4 // help.Model's FullSeparator
	var rows []string
	var row [][]key.Binding
	w := 0
	for _, g := range groups {
		gw := lipgloss.Width(h.FullHelpView([][]key.Binding{g}))
		if len(row) > 0 && w+gap+gw > m.width {
			rows = append(rows, h.FullHelpView(row))
			row, w = nil, 0
		}
		if len(row) > 0 {
			w += gap
		}
		row = append(row, g)
		w += gw
	}
	if len(row) > 0 {
		rows = append(rows, h.FullHelpView(row))
	}
	return strings.Join(rows, "\n\n")
}

// splitRunes returns one key message per rune of a multi-rune key message
// that is not a paste, or nil.
func splitRunes(msg tea.KeyMsg) []tea.KeyMsg {
	if msg.Type != tea.KeyRunes || msg.Paste || len(msg.Runes) < 2 {
		return nil
	}
	keys := make([]tea.KeyMsg, len(msg.Runes))
	for i, r := range msg.Runes {
		keys[i] = tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}, Alt: msg.Alt}
	}
	return keys
}
