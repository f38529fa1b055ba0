// Package jsonscan reads JSON a token at a time, without the reflection
// that made encoding/json's Decoder.Token slow on the long files
// nhi reads back: import files (connectors/importer) and a bundle's
// report.json (campaigns/report). It reads the values those files hold as
// encoding/json reads them (a string's escapes, \u sequences and invalid
// UTF-8 are decoded by encoding/json itself) and says false at anything
// it does not take, having stopped: its callers then read the file again
// with encoding/json, whose messages say what is wrong
// (docs/performance.md, "Reading JSON back").
package jsonscan

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"unicode/utf8"
)

// Scanner reads JSON tokens, counting lines as it goes. It reads its
// input a buffer at a time and looks at the bytes there, which is most of
// its speed: a string is found with one search for its closing quote.
type Scanner struct {
	in        io.Reader
	data      []byte // what was read of the input; data[i:] is not scanned yet
	i         int
	base      int    // the offset of data[0] in the input
	line      int    // newlines read
	lineStart int    // the offset where the line being read starts
	quoted    []byte // the last string Raw read, with its quotes (in data)
	num       []byte // the last number read
	val       []byte // the last value Value read
	eof       bool
	err       error // the first error reading, but the end
}

// bufSize is how much of the input a Scanner reads at a time; a string
// longer than that grows its buffer.
const bufSize = 64 << 10

// New returns a Scanner reading r.
func New(r io.Reader) *Scanner { return &Scanner{in: r, data: make([]byte, 0, bufSize)} }

// NewBytes returns a Scanner reading b, a document already in memory,
// where it is: no buffer, no copy. It never writes to b (the strings Raw
// and Str return are b's bytes, until the caller changes b).
func NewBytes(b []byte) *Scanner { return &Scanner{data: b, eof: true} }

// Err is the first error reading, io.EOF aside.
func (s *Scanner) Err() error { return s.err }

// Pos is the line and column (in bytes, 1-based) of the next byte.
func (s *Scanner) Pos() (int, int) { return s.line + 1, s.base + s.i - s.lineStart + 1 }

// fill reads more of the input after what data holds, keeping
// data[keep:] (moved to the front: it returns by how much) and growing
// the buffer when that is all of it. False at the end, or an error.
func (s *Scanner) fill(keep int) (shift int, ok bool) {
	if s.eof || s.err != nil {
		return 0, false
	}
	if keep > 0 {
		n := copy(s.data, s.data[keep:])
		s.data = s.data[:n]
		s.base += keep
		s.i -= keep
	}
	if len(s.data) == cap(s.data) {
		s.data = append(make([]byte, 0, 2*cap(s.data)), s.data...)
	}
	for {
		n, err := s.in.Read(s.data[len(s.data):cap(s.data)])
		s.data = s.data[:len(s.data)+n]
		if err != nil {
			if errors.Is(err, io.EOF) {
				s.eof = true
			} else {
				s.err = err
			}
			return keep, n > 0
		}
		if n > 0 {
			return keep, true
		}
	}
}

// Peek is the next byte, 0 at the end (or a NUL byte: AtEnd tells them
// apart).
func (s *Scanner) Peek() byte {
	if s.i < len(s.data) {
		return s.data[s.i]
	}
	return s.peekMore()
}

func (s *Scanner) peekMore() byte {
	if _, ok := s.fill(s.i); !ok || s.i >= len(s.data) {
		return 0
	}
	return s.data[s.i]
}

// AtEnd reports whether nothing is left to read.
func (s *Scanner) AtEnd() bool {
	s.Peek()
	return s.i >= len(s.data)
}

// Next moves past the byte Peek saw.
func (s *Scanner) Next() {
	if s.i >= len(s.data) {
		return
	}
	c := s.data[s.i]
	s.i++
	if c == '\n' {
		s.line++
		s.lineStart = s.base + s.i
	}
}

// Space moves past white space.
func (s *Scanner) Space() {
	for {
		switch s.Peek() {
		case ' ', '\t', '\r', '\n':
			s.Next()
		default:
			return
		}
	}
}

// Eat moves past c if it is next.
func (s *Scanner) Eat(c byte) bool {
	if s.Peek() == c {
		s.Next()
		return true
	}
	return false
}

// Word moves past w (no newline in it) if it is next, and reports
// whether it was.
func (s *Scanner) Word(w string) bool {
	for len(s.data)-s.i < len(w) {
		if _, ok := s.fill(s.i); !ok {
			break
		}
	}
	if len(s.data)-s.i >= len(w) && string(s.data[s.i:s.i+len(w)]) == w {
		s.i += len(w)
		return true
	}
	return false
}

// Raw reads a string and returns what is between its quotes (until the
// next read); plain is whether that is the string itself (no escape, valid
// UTF-8). False at a control character (a newline among them) or no
// closing quote.
func (s *Scanner) Raw() (raw []byte, plain, ok bool) {
	if s.Peek() != '"' {
		return nil, false, false
	}
	q := s.i // the opening quote
	j := q + 1
	for {
		k := bytes.IndexByte(s.data[j:], '"')
		if k < 0 {
			j = len(s.data)
			shift, ok := s.fill(q)
			if !ok {
				s.i = len(s.data)
				return nil, false, false
			}
			q -= shift
			j -= shift
			continue
		}
		k += j
		escapes := 0 // the backslashes before the quote
		for b := k - 1; b > q && s.data[b] == '\\'; b-- {
			escapes++
		}
		if escapes%2 == 0 {
			s.quoted = s.data[q : k+1]
			s.i = k + 1
			break
		}
		j = k + 1
	}
	raw = s.quoted[1 : len(s.quoted)-1]
	escaped, high := false, false
	for _, c := range raw {
		if c < 0x20 {
			return nil, false, false
		}
		if c == '\\' {
			escaped = true
		}
		if c >= utf8.RuneSelf {
			high = true
		}
	}
	return raw, !escaped && (!high || utf8.Valid(raw)), true
}

// quotedString moves past a string, its quotes in s.quoted, looking only
// for its closing quote (Raw's search, kept apart: Raw calling it cost
// Skip 4% more instructions); false when there is none.
func (s *Scanner) quotedString() bool {
	if s.Peek() != '"' {
		return false
	}
	q := s.i // the opening quote
	j := q + 1
	for {
		k := bytes.IndexByte(s.data[j:], '"')
		if k < 0 {
			j = len(s.data)
			shift, ok := s.fill(q)
			if !ok {
				s.i = len(s.data)
				return false
			}
			q -= shift
			j -= shift
			continue
		}
		k += j
		escapes := 0 // the backslashes before the quote
		for b := k - 1; b > q && s.data[b] == '\\'; b-- {
			escapes++
		}
		if escapes%2 == 0 {
			s.quoted = s.data[q : k+1]
			s.i = k + 1
			return true
		}
		j = k + 1
	}
}

// Str reads a string: raw is what is between its quotes (until the next
// read), text the string it is (escapes and invalid UTF-8 read by
// encoding/json). False where Raw is, and at a bad escape.
func (s *Scanner) Str() (raw []byte, text string, ok bool) {
	raw, plain, ok := s.Raw()
	if !ok {
		return nil, "", false
	}
	if plain {
		return raw, string(raw), true
	}
	if err := json.Unmarshal(s.quoted, &text); err != nil {
		return nil, "", false
	}
	return raw, text, true
}

// StringList reads an array of strings; [] is a nil list.
func (s *Scanner) StringList() ([]string, bool) {
	s.Next() // [
	var list []string
	s.Space()
	for !s.Eat(']') {
		if len(list) > 0 && !s.Eat(',') {
			return nil, false
		}
		s.Space()
		_, v, ok := s.Str()
		if !ok {
			return nil, false
		}
		list = append(list, v)
		s.Space()
	}
	return list, true
}

// numberBytes reads a JSON number into s.num, as it is written.
func (s *Scanner) numberBytes() bool {
	s.num = s.num[:0]
	take := func(c byte) bool {
		if s.Peek() == c {
			s.num = append(s.num, c)
			s.Next()
			return true
		}
		return false
	}
	digits := func() int {
		n := 0
		for c := s.Peek(); c >= '0' && c <= '9'; c = s.Peek() {
			take(c)
			n++
		}
		return n
	}
	take('-')
	if take('0') {
		if c := s.Peek(); c >= '0' && c <= '9' {
			return false
		}
	} else if digits() == 0 {
		return false
	}
	if take('.') && digits() == 0 {
		return false
	}
	if take('e') || take('E') {
		if !take('+') {
			take('-')
		}
		if digits() == 0 {
			return false
		}
	}
	return true
}

// Number reads a JSON number as it is written (json.Number's text).
func (s *Scanner) Number() (string, bool) {
	if !s.numberBytes() {
		return "", false
	}
	return string(s.num), true
}

// Int reads a JSON number into an int64 as encoding/json does: false for
// a fraction, an exponent or a number out of range, which it refuses.
func (s *Scanner) Int() (int64, bool) {
	if !s.numberBytes() {
		return 0, false
	}
	b := s.num
	neg := b[0] == '-'
	if neg {
		b = b[1:]
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false // a fraction or an exponent
		}
		if n > (1<<63)/10 {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	switch {
	case neg && n <= 1<<63:
		return -int64(n-1) - 1, true
	case !neg && n < 1<<63:
		return int64(n), true
	}
	return 0, false
}

// Value reads one value whole, as it is written (until the next read);
// false at the end or where a string is. The value is not checked: the
// caller hands it to encoding/json, which checks it.
func (s *Scanner) Value() ([]byte, bool) {
	s.val = s.val[:0]
	depth := 0
	for {
		c := s.Peek()
		switch {
		case c == 0 && s.AtEnd():
			return nil, false
		case c == '"':
			raw, _, ok := s.Raw()
			if !ok {
				return nil, false
			}
			s.val = append(append(append(s.val, '"'), raw...), '"')
			if depth == 0 {
				return s.val, true
			}
			continue
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			if depth == 0 {
				return s.val, len(s.val) > 0
			}
			depth--
			s.val = append(s.val, c)
			s.Next()
			if depth == 0 {
				return s.val, true
			}
			continue
		case depth == 0 && (c == ',' || c == ' ' || c == '\t' || c == '\r' || c == '\n'):
			return s.val, len(s.val) > 0
		}
		s.val = append(s.val, c)
		s.Next()
	}
}

// maxDepth is how deep Skip follows lists and objects: encoding/json
// refuses more than 10,000 levels, and no file nhi writes nears this.
const maxDepth = 1000

// Skip reads past one value, checking that it is JSON as encoding/json
// does; false at anything that is not, or that is nested deeper than
// maxDepth.
func (s *Scanner) Skip() bool { return s.skip(0) }

func (s *Scanner) skip(depth int) bool {
	switch c := s.Peek(); c {
	case '"':
		return s.validString()
	case '{', '[':
		if depth == maxDepth {
			return false
		}
		end := byte(']')
		if c == '{' {
			end = '}'
		}
		s.Next()
		s.Space()
		if s.Eat(end) {
			return true
		}
		for {
			s.Space()
			if c == '{' {
				if s.Peek() != '"' || !s.validString() {
					return false
				}
				s.Space()
				if !s.Eat(':') {
					return false
				}
				s.Space()
			}
			if !s.skip(depth + 1) {
				return false
			}
			s.Space()
			if s.Eat(end) {
				return true
			}
			if !s.Eat(',') {
				return false
			}
		}
	case 't':
		return s.Word("true")
	case 'f':
		return s.Word("false")
	case 'n':
		return s.Word("null")
	}
	return s.numberBytes()
}

// SkipKnown reads past one value of a document already known to be JSON
// (encoding/json has read it whole), without checking it again: a string
// ends at its closing quote, a list or an object where its depth does.
// It is Skip's quarter of the work for a caller that has checked the
// document. On anything else it stops somewhere, having read no further
// than the end; false at the end.
func (s *Scanner) SkipKnown() bool {
	depth, start := 0, s.base+s.i
	for {
		c := s.Peek()
		switch {
		case c == 0 && s.AtEnd():
			return depth == 0 && s.base+s.i > start // a scalar ended with the document
		case c == '"':
			if !s.quotedString() {
				return false
			}
			if depth == 0 {
				return true
			}
			continue
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			if depth == 0 {
				return true // the end of the value's parent: a scalar ended
			}
			depth--
			s.Next()
			if depth == 0 {
				return true
			}
			continue
		case depth == 0 && (c == ',' || c == ':' || c == ' ' || c == '\t' || c == '\r' || c == '\n'):
			return true // a scalar ended
		}
		s.Next()
	}
}

// validString reads past a string, checking its escapes.
func (s *Scanner) validString() bool {
	raw, plain, ok := s.Raw()
	if !ok {
		return false
	}
	return plain || bytes.IndexByte(raw, '\\') < 0 || json.Valid(s.quoted)
}
