package tui

import (
	"os"
	"strings"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
)

// A terminal whose locale is not UTF-8 (LANG=C, LC_ALL=POSIX, a Latin-1
// one) shows the UI's own characters — the ellipsis of a cut value, the
// dash of an empty one, the dots and bullets between words, the bars and
// arrows — as two or three bytes of rubbish each, and every line after
// the first such byte shifts. Where the locale says so, each frame is
// written in ASCII: each character becomes one of the same width (a cut
// value ends in "~", an empty one is "-"), and one with no ASCII likeness,
// a name from an API included, "?" (wide ones "??"), as a C-locale
// program shows it. Without any locale variable set the terminal is taken
// to be UTF-8, as Go programs take it.

// utf8Locale reports whether the locale getenv describes is UTF-8: the
// first of LC_ALL, LC_CTYPE and LANG that is set says, and none set says
// yes.
func utf8Locale(getenv func(string) string) bool {
	for _, v := range []string{"LC_ALL", "LC_CTYPE", "LANG"} {
		if l := getenv(v); l != "" {
			l = strings.ToLower(l)
			return strings.Contains(l, "utf-8") || strings.Contains(l, "utf8")
		}
	}
	return true
}

// asciiLocale reports whether frames go out in ASCII (Options.ASCII).
func asciiLocale() bool { return !utf8Locale(os.Getenv) }

// asciiLike is the ASCII character shown for each of the UI's own.
var asciiLike = map[rune]byte{
	'…': '~', '—': '-', '–': '-', '·': '.', '•': '*', '█': '#', '▌': '#', '▏': '|', '░': '.', '▒': ':', '▓': '#',
	'↑': '^', '↓': 'v', '←': '<', '→': '>', '─': '-', '│': '|', '┌': '+', '┐': '+', '└': '+', '┘': '+',
	'├': '+', '┤': '+', '┬': '+', '┴': '+', '┼': '+', '✓': '+', '✗': 'x', '×': 'x', '‹': '<', '›': '>',
	'“': '"', '”': '"', '‘': '\'', '’': '\'', '≥': '>', '≤': '<',
}

// asciiFrame is frame with every character outside ASCII replaced by
// one of the same width; escape sequences, all ASCII, pass as they are.
func asciiFrame(frame string) string {
	i := 0
	for i < len(frame) && frame[i] < utf8.RuneSelf {
		i++
	}
	if i == len(frame) {
		return frame
	}
	var b strings.Builder
	b.Grow(len(frame))
	b.WriteString(frame[:i])
	for _, r := range frame[i:] {
		switch c, ok := asciiLike[r]; {
		case r < utf8.RuneSelf:
			b.WriteRune(r)
		case ok:
			b.WriteByte(c)
		default:
			b.WriteString(strings.Repeat("?", max(ansi.StringWidth(string(r)), 0)))
		}
	}
	return b.String()
}
