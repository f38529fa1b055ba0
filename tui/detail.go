package tui

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/nhi-audit/nhi/audit"
)

// labelWidth is the width of the field-name column of the detail view.
const labelWidth = 12

// detailView shows every field of one identity, scrollable. Long values
// wrap instead of being cut: an auditor must be able to read all of it.
type detailView struct {
	keys   detailKeys
	id     *audit.Identity
	now    func() time.Time
	width  int
	height int      // lines of content on screen, below the title
	lines  []string // the content, laid out for width
	offset int      // first content line on screen
}

func newDetailView(id *audit.Identity, now func() time.Time) *detailView {
	return &detailView{keys: newDetailKeys(), id: id, now: now}
}

func (v *detailView) ShortHelp() []key.Binding  { return v.keys.ShortHelp() }
func (v *detailView) FullHelp() [][]key.Binding { return v.keys.FullHelp() }

func (v *detailView) SetSize(width, height int) {
	v.width, v.height = width, max(height-1, 0)
	v.lines = v.content(v.now())
	v.Move(0)
}

// Move scrolls by n lines, stopping at the ends.
func (v *detailView) Move(n int) {
	v.offset = max(min(v.offset+n, len(v.lines)-v.height), 0)
}

func (v *detailView) GotoTop()      { v.offset = 0 }
func (v *detailView) GotoBottom()   { v.Move(len(v.lines)) }
func (v *detailView) PageSize() int { return max(v.height, 1) }

func (v *detailView) Update(msg tea.Msg) tea.Cmd {
	k, ok := msg.(tea.KeyMsg)
	if !ok {
		return nil
	}
	if key.Matches(k, v.keys.Back) {
		return popView
	}
	navigate(v.keys.navKeys, k, v)
	return nil
}

func (v *detailView) View() string {
	title := theme.Title.Render("Identity " + orDash(audit.Printable(v.id.Name)))
	pos := ""
	if len(v.lines) > v.height {
		last := min(v.offset+v.height, len(v.lines))
		pos = theme.Position.Render("lines " + strconv.Itoa(v.offset+1) + "–" + strconv.Itoa(last) + " of " + strconv.Itoa(len(v.lines)))
	}
	var b strings.Builder
	b.WriteString(joinEnds(title, pos, v.width))
	end := min(v.offset+v.height, len(v.lines))
	for _, l := range v.lines[v.offset:end] {
		b.WriteByte('\n')
		b.WriteString(l)
	}
	return b.String()
}

// content lays every field of the identity out for the view's width. All
// text from the API is sanitized here.
func (v *detailView) content(now time.Time) []string {
	id := v.id
	var lines []string
	field := func(label, value string) {
		lines = appendWrapped(lines, theme.Label.Render(padRight(label, labelWidth)), orDash(value), v.width, labelWidth)
	}
	section := func(title string) {
		lines = append(lines, "", theme.Section.Render(title))
	}
	item := func(text string) {
		lines = appendWrapped(lines, "  ", text, v.width, 4)
	}

	field("ID", audit.Printable(id.ID))
	field("Kind", audit.Printable(id.Kind.Label())+" ("+audit.Printable(string(id.Kind))+")")
	field("Name", audit.Printable(id.Name))
	field("Scope", audit.Printable(id.Scope))
	field("Source", audit.Printable(id.Source))
	field("Owner", audit.Printable(id.Owner))
	field("Status", audit.Printable(id.Status))
	field("Created", stamp(id.CreatedAt, now))
	switch {
	case id.LastUsedAt != nil:
		field("Last used", stamp(id.LastUsedAt, now))
	case id.Kind.TracksLastUse():
		field("Last used", "never")
	default:
		field("Last used", dash+" (not reported by the source)")
	}
	field("Rotated", stamp(id.RotatedAt, now))
	field("Expires", stamp(id.ExpiresAt, now))
	field("First seen", stamp(&id.FirstSeen, now))
	field("Last seen", stamp(&id.LastSeen, now))
	if id.SnapshotID != 0 {
		field("Snapshot", "#"+strconv.FormatInt(id.SnapshotID, 10))
	}

	section("Findings (" + strconv.Itoa(len(id.Findings)) + ")")
	if len(id.Findings) == 0 {
		item(theme.Muted.Render("no findings"))
	}
	for _, f := range id.Findings {
		head := orDash(audit.Printable(f.Rule)) + " · " + severity(audit.Printable(f.Severity))
		if f.OWASP != "" {
			head += " · " + audit.Printable(f.OWASP)
		}
		item(head)
		if f.Message != "" {
			lines = appendWrapped(lines, "    ", audit.Printable(f.Message), v.width, 4)
		}
	}

	section("Permissions (" + strconv.Itoa(len(id.Permissions)) + ")")
	if len(id.Permissions) == 0 {
		item(theme.Muted.Render("none recorded"))
	}
	for _, k := range sortedKeys(id.Permissions) {
		item(audit.Printable(k) + ": " + orDash(audit.Printable(id.Permissions[k])))
	}

	section("Attributes (" + strconv.Itoa(len(id.Attributes)) + ")")
	if len(id.Attributes) == 0 {
		item(theme.Muted.Render("none recorded"))
	}
	for _, k := range sortedKeys(id.Attributes) {
		item(audit.Printable(k) + ": " + orDash(audit.Printable(id.Attributes[k])))
	}

	return lines
}

// severity colours a finding's severity; the word itself carries the meaning.
func severity(s string) string {
	switch strings.ToLower(s) {
	case "critical", "high":
		return theme.Danger.Render(s)
	case "medium":
		return theme.Warning.Render(s)
	case "":
		return dash
	}
	return s
}

// appendWrapped appends prefix+text to lines, word-wrapped to width; the
// lines after the first are indented by indent cells.
func appendWrapped(lines []string, prefix, text string, width, indent int) []string {
	avail := width - max(ansi.StringWidth(prefix), indent)
	if avail < 10 { // too narrow to indent: wrap at the full width
		return append(lines, strings.Split(ansi.Wrap(prefix+text, max(width, 1), ""), "\n")...)
	}
	pad := strings.Repeat(" ", indent)
	for i, l := range strings.Split(ansi.Wrap(text, avail, ""), "\n") {
		if i == 0 {
			lines = append(lines, prefix+l)
		} else {
			lines = append(lines, pad+l)
		}
	}
	return lines
}

func padRight(s string, w int) string {
	if n := w - ansi.StringWidth(s); n > 0 {
		return s + strings.Repeat(" ", n)
	}
	return s
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
