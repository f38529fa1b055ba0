package tui

import (
	"os"
	"sync"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/nhi-audit/nhi/tui/quietinit"
)

// Bubble Tea's init has run, with TERM "dumb" (quietinit): the terminal
// was not asked for its background colour. The user's TERM is back, and
// termenv's default output, whose colour profile it read then, is made
// anew. lipgloss took Bubble Tea's answer, dark, without asking:
// askBackground asks for real, when the UI starts.
func init() {
	quietinit.Restore()
	termenv.SetDefaultOutput(termenv.NewOutput(os.Stdout))
}

// background is askBackground's: the terminal is asked once a process.
var background sync.Once

// askBackground asks the terminal for its background colour, for the
// adaptive colours below, and tells lipgloss the answer. tui.Run calls it
// before Bubble Tea starts reading the input: termenv reads the answer
// from standard input, and would wait its 5 s for it behind Bubble Tea's
// reader. A terminal that never answers (or standard output that is no
// terminal) leaves lipgloss's guess, dark, as before. No other command
// asks: nothing else of nhi's renders these colours.
func askBackground() {
	background.Do(func() {
		lipgloss.SetHasDarkBackground(lipgloss.DefaultRenderer().Output().HasDarkBackground())
	})
}

// Colours adapt to light and dark terminals. lipgloss asks termenv for the
// terminal's profile, so NO_COLOR, dumb terminals and pipes get plain text:
// nothing in this package writes escape codes by hand, and nothing relies on
// colour alone to carry meaning (the selected row also has a marker).
var (
	colorAccent  = lipgloss.AdaptiveColor{Light: "#005FAF", Dark: "#5FAFFF"}
	colorMuted   = lipgloss.AdaptiveColor{Light: "#6C6C6C", Dark: "#8A8A8A"}
	colorWarning = lipgloss.AdaptiveColor{Light: "#AF5F00", Dark: "#FFAF00"}
	colorDanger  = lipgloss.AdaptiveColor{Light: "#AF0000", Dark: "#FF5F5F"}
	colorSelFg   = lipgloss.AdaptiveColor{Light: "#FFFFFF", Dark: "#000000"}
	colorSelBg   = lipgloss.AdaptiveColor{Light: "#005FAF", Dark: "#5FAFFF"}
)

// styles is every style the TUI uses, in one place.
type styles struct {
	AppName lipgloss.Style // "nhi" in the header
	Header  lipgloss.Style // the rest of the header line
	Muted   lipgloss.Style
	Warning lipgloss.Style
	Danger  lipgloss.Style

	Title    lipgloss.Style // a view's title: "Identities (1,234)"
	Position lipgloss.Style // "12/1,234" at the right of a title

	ColumnHeader lipgloss.Style
	Selected     lipgloss.Style // the cursor row of a table

	Label   lipgloss.Style // field names in the detail view
	Section lipgloss.Style // section headings in the detail view

	Empty lipgloss.Style // the empty-state message

	Cursor lipgloss.Style // the character under a text input's cursor
	Mark   lipgloss.Style // rows marked for a bulk action
	Error  lipgloss.Style // a message that something went wrong
	Prompt lipgloss.Style // a question that waits for an answer
}

// theme is the package's styles. lipgloss styles render with the colour
// profile in force at render time, so tests may switch profiles freely.
var theme = newStyles()

func newStyles() styles {
	return styles{
		AppName:      lipgloss.NewStyle().Bold(true).Foreground(colorAccent),
		Header:       lipgloss.NewStyle(),
		Muted:        lipgloss.NewStyle().Foreground(colorMuted),
		Warning:      lipgloss.NewStyle().Foreground(colorWarning),
		Danger:       lipgloss.NewStyle().Foreground(colorDanger).Bold(true),
		Title:        lipgloss.NewStyle().Bold(true).Foreground(colorAccent),
		Position:     lipgloss.NewStyle().Foreground(colorMuted),
		ColumnHeader: lipgloss.NewStyle().Bold(true).Foreground(colorMuted),
		Selected:     lipgloss.NewStyle().Bold(true).Foreground(colorSelFg).Background(colorSelBg),
		Label:        lipgloss.NewStyle().Foreground(colorMuted),
		Section:      lipgloss.NewStyle().Bold(true).Foreground(colorAccent),
		Empty:        lipgloss.NewStyle().Foreground(colorMuted),
		Cursor:       lipgloss.NewStyle().Reverse(true),
		Mark:         lipgloss.NewStyle().Foreground(colorAccent),
		Error:        lipgloss.NewStyle().Foreground(colorDanger),
		Prompt:       lipgloss.NewStyle().Bold(true).Foreground(colorWarning),
	}
}
