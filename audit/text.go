package audit

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Printable makes untrusted text (anything read from an API: names, scopes,
// owners, attribute keys and values, messages) safe to put on a terminal.
//
//   - ESC sequences are removed whole: CSI (ESC [ … final), OSC (ESC ] …
//     BEL or ST), DCS/SOS/PM/APC strings (ESC P, X, ^, _ … ST) and the short
//     ESC forms, as are their 8-bit C1 equivalents (U+009B, U+009D, …).
//   - Tabs, newlines and other line breaks become a single space each.
//   - Every other C0 control, DEL and C1 control is dropped.
//   - Bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069),
//     which can make text display in an order other than the one stored,
//     are dropped.
//   - Every other character that prints nothing (isInvisible: zero-width
//     space and joiners, bidi marks, soft hyphen, byte-order mark,
//     variation selectors) is written as its code point, "<U+200F>", so
//     that two values a reader would see as one, "\u200fbob" and "bob",
//     show apart.
//   - Invalid UTF-8 bytes become U+FFFD.
//
// Plain printable ASCII, by far the common case, is returned as is without
// allocating, so sanitizing at render time costs nothing per visible row.
func Printable(s string) string {
	if IsPlain(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			b.WriteRune(utf8.RuneError)
			i += max(size, 1)
		case r == 0x1b: // ESC
			i = skipEscape(s, i+1)
		case r == 0x9b: // C1 CSI
			i = skipCSI(s, i+size)
		case r == 0x90 || r == 0x98 || r == 0x9d || r == 0x9e || r == 0x9f: // C1 DCS, SOS, OSC, PM, APC
			i = skipString(s, i+size)
		case r == '\t' || r == '\n' || r == '\r' || r == '\v' || r == '\f' || r == 0x85 || r == 0x2028 || r == 0x2029:
			b.WriteByte(' ')
			i += size
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			i += size // other C0, DEL and C1 controls
		case (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069):
			i += size // bidi embeddings, overrides and isolates
		case isInvisible(r):
			fmt.Fprintf(&b, "<U+%04X>", r)
			i += size
		default:
			b.WriteString(s[i : i+size])
			i += size
		}
	}
	return b.String()
}

// IsPlain reports whether s is printable ASCII only: one byte, one cell
// on a terminal, nothing for Printable to change.
func IsPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}

// Counted is n and its noun, which agree, as a message an auditor reads
// should: "1 record", "2 records", "0 records".
func Counted(n int, one, many string) string {
	return strconv.Itoa(n) + " " + Plural(n, one, many)
}

// Plural is the word that agrees with a count of n, without the count:
// one when n is 1, many otherwise ("was", "were").
func Plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// JoinAnd is a list as a sentence says it: "a", "a and b", "a, b and c".
func JoinAnd(items []string) string {
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

// Thousands formats n with comma thousands separators, the way counts read
// on screens and in reports: 1234567 is "1,234,567".
func Thousands(n int) string {
	var buf [32]byte
	return string(appendThousands(buf[:0], n))
}

// appendThousands appends Thousands(n) to b.
func appendThousands(b []byte, n int) []byte {
	var digits [24]byte
	s := strconv.AppendInt(digits[:0], int64(n), 10)
	if n < 0 {
		b, s = append(b, '-'), s[1:]
	}
	head := (len(s)-1)%3 + 1
	b = append(b, s[:head]...)
	for i := head; i < len(s); i += 3 {
		b = append(append(b, ','), s[i:i+3]...)
	}
	return b
}

// skipEscape returns the index just past the escape sequence whose ESC byte
// precedes s[i].
func skipEscape(s string, i int) int {
	if i >= len(s) {
		return i
	}
	switch c := s[i]; {
	case c == '[':
		return skipCSI(s, i+1)
	case c == ']' || c == 'P' || c == 'X' || c == '^' || c == '_':
		return skipString(s, i+1)
	case c >= 0x20 && c <= 0x2f: // intermediates, then one final byte
		for i < len(s) && s[i] >= 0x20 && s[i] <= 0x2f {
			i++
		}
		if i < len(s) && s[i] >= 0x30 && s[i] <= 0x7e {
			i++
		}
		return i
	case c >= 0x30 && c <= 0x7e: // two-byte sequence: ESC 7, ESC c, ESC M, ...
		return i + 1
	}
	return i // a lone ESC: drop it, keep what follows
}

// skipCSI returns the index just past a control sequence whose introducer
// precedes s[i]: parameter bytes, intermediate bytes, one final byte.
func skipCSI(s string, i int) int {
	for i < len(s) && s[i] >= 0x20 && s[i] <= 0x3f {
		i++
	}
	if i < len(s) && s[i] >= 0x40 && s[i] <= 0x7e {
		i++
	}
	return i
}

// skipString returns the index just past a control string (OSC, DCS, ...)
// whose introducer precedes s[i]. It ends at BEL, ESC \ or the 8-bit ST;
// an unterminated string swallows the rest of s, as a terminal would.
func skipString(s string, i int) int {
	for i < len(s) {
		switch {
		case s[i] == 0x07:
			return i + 1
		case s[i] == 0x1b:
			if i+1 < len(s) && s[i+1] == '\\' {
				return i + 2
			}
			return i // another sequence starts: let the caller strip it
		case strings.HasPrefix(s[i:], "\u009c"):
			return i + len("\u009c")
		}
		i++
	}
	return i
}
