package audit

import "unicode/utf8"

// jsonSafe and jsonSafeHTML say which ASCII bytes AppendJSONString
// copies as they are, without and with html: one load per byte where a
// chain of comparisons was, since every observation and campaign item
// passes through here (issue 21).
var jsonSafe, jsonSafeHTML = func() (plain, html [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		plain[c] = c != '"' && c != '\\'
		html[c] = plain[c] && c != '<' && c != '>' && c != '&'
	}
	return plain, html
}()

// AppendJSONString appends s to b as a JSON string: ", \ and control
// characters escaped, U+2028 and U+2029 as \u2028 and \u2029, and invalid
// UTF-8 as U+FFFD, as encoding/json does, so the text reads back as stored.
//
// With html, the bytes are exactly those json.Marshal writes: <, > and &
// as \u003c, \u003e and \u0026, and \b and \f as \b and \f.
//
// Without html, they are the form the evidence file stores and snapshot
// digests cover: <, > and & as they are, and \b and \f as \u0008 and
// \u000c, the way encoding/json wrote them before Go 1.22. Where that form
// and encoding/json differ, the stored form wins: a changed byte would make
// every existing snapshot digest fail verification
// (TestSnapshotDigestIsStable).
func AppendJSONString(b []byte, s string, html bool) []byte {
	const hex = "0123456789abcdef"
	safe := &jsonSafe
	if html {
		safe = &jsonSafeHTML
	}
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if safe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c == '\b' && html:
				b = append(b, '\\', 'b')
			case c == '\f' && html:
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
