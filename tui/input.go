package tui

import (
	"strings"
	"unicode"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/nhi-audit/nhi/audit"
)

// lineInput is a one-line text editor for the filter, command and owner
// prompts. It takes a key message of many runes as typed text: Bubble Tea
// delivers keys typed faster than a frame, and pastes, that way.
type lineInput struct {
	text []rune
	pos  int // cursor, in runes
}

func newLineInput(s string) lineInput {
	r := []rune(s)
	return lineInput{text: r, pos: len(r)}
}

func (in *lineInput) Value() string { return string(in.text) }

func (in *lineInput) SetValue(s string) { *in = newLineInput(s) }

// Update applies an editing key and reports whether the text changed.
// Keys that are not editing keys (enter, esc, tab, ...) are left alone.
func (in *lineInput) Update(msg tea.KeyMsg) (changed bool) {
	switch msg.Type {
	case tea.KeyRunes, tea.KeySpace:
		var ins []rune
		for _, r := range msg.Runes {
			switch {
			case r == '\n' || r == '\r' || r == '\t':
				ins = append(ins, ' ')
			case unicode.IsControl(r):
			default:
				ins = append(ins, r)
			}
		}
		if len(ins) == 0 {
			return false
		}
		in.text = append(in.text[:in.pos], append(ins, in.text[in.pos:]...)...)
		in.pos += len(ins)
		return true
	case tea.KeyBackspace:
		if in.pos == 0 {
			return false
		}
		in.text = append(in.text[:in.pos-1], in.text[in.pos:]...)
		in.pos--
		return true
	case tea.KeyDelete, tea.KeyCtrlD:
		if in.pos >= len(in.text) {
			return false
		}
		in.text = append(in.text[:in.pos], in.text[in.pos+1:]...)
		return true
	case tea.KeyLeft, tea.KeyCtrlB:
		in.pos = max(in.pos-1, 0)
	case tea.KeyRight, tea.KeyCtrlF:
		in.pos = min(in.pos+1, len(in.text))
	case tea.KeyHome, tea.KeyCtrlA:
		in.pos = 0
	case tea.KeyEnd, tea.KeyCtrlE:
		in.pos = len(in.text)
	case tea.KeyCtrlU: // delete to the start
		if in.pos == 0 {
			return false
		}
		in.text = in.text[in.pos:]
		in.pos = 0
		return true
	case tea.KeyCtrlK: // delete to the end
		if in.pos == len(in.text) {
			return false
		}
		in.text = in.text[:in.pos]
		return true
	case tea.KeyCtrlW: // delete the word before the cursor
		i := in.pos
		for i > 0 && in.text[i-1] == ' ' {
			i--
		}
		for i > 0 && in.text[i-1] != ' ' {
			i--
		}
		if i == in.pos {
			return false
		}
		in.text = append(in.text[:i], in.text[in.pos:]...)
		in.pos = i
		return true
	}
	return false
}

// View is prompt, the text and the cursor: a block after the text, or
// the character under it in reverse video.
func (in *lineInput) View(prompt string) string {
	var b strings.Builder
	b.WriteString(prompt)
	b.WriteString(audit.Printable(string(in.text[:in.pos])))
	if in.pos >= len(in.text) {
		b.WriteString("█")
		return b.String()
	}
	b.WriteString(theme.Cursor.Render(audit.Printable(string(in.text[in.pos]))))
	b.WriteString(audit.Printable(string(in.text[in.pos+1:])))
	return b.String()
}
