package importer

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"unicode/utf8"
)

// parseFlatJSON reads what parseJSON reads, into the same cells at the
// same lines and columns, some ten times faster: encoding/json's Token
// decodes each value through reflection, half a minute of a million
// rows, twice (the check, then the recording). It takes the file an
// export writes, an array of objects whose values are strings, numbers,
// true, false, null or arrays of strings, and reports false, having
// stopped, at anything else (a nested object, a secret-looking field,
// bad JSON): the caller then reads the file with parseJSON, whose
// messages say what is wrong, from a new builder.
func parseFlatJSON(r *bufio.Reader, b *builder) (bool, error) {
	s := &flatScanner{r: r}
	ok := s.read(b)
	return ok, s.err
}

// read reads the array of objects into b.
func (s *flatScanner) read(b *builder) bool {
	fields := map[string]string{} // a field as written -> its column
	var cells []cell
	s.space()
	if !s.eat('[') {
		return false
	}
	s.space()
	if s.eat(']') {
		return true
	}
	for !b.stopped() {
		s.space()
		line, col := s.pos()
		if !s.eat('{') {
			return false
		}
		cells = cells[:0]
		s.space()
		for !s.eat('}') {
			if len(cells) > 0 && !s.eat(',') {
				return false
			}
			s.space()
			raw, name, ok := s.str()
			if !ok {
				return false
			}
			field, known := fields[string(raw)]
			if !known {
				field = normColumn(name)
				if field == "" || secretColumn(field) {
					return false // parseJSON names the column
				}
				fields[string(raw)] = field
			}
			s.space()
			if !s.eat(':') {
				return false
			}
			s.space()
			vl, vc := s.pos()
			c := cell{line: vl, col: vc, field: field}
			switch s.peek() {
			case '"':
				_, c.text, ok = s.str()
			case 'n':
				c.null = true
				ok = s.word("null")
			case 't':
				c.text = "true"
				ok = s.word("true")
			case 'f':
				c.text = "false"
				ok = s.word("false")
			case '[':
				c.isList = true
				c.list, ok = s.stringList()
			default:
				if isTimeField(field) {
					return false // parseJSON says a timestamp is a string
				}
				c.text, ok = s.number()
			}
			if !ok {
				return false
			}
			cells = append(cells, c)
			s.space()
		}
		b.row(line, col, cells)
		s.space()
		if s.eat(']') {
			return true // what follows is not read, as parseJSON does not
		}
		if !s.eat(',') {
			return false
		}
	}
	return true
}

// flatScanner reads JSON tokens, counting lines as it goes.
type flatScanner struct {
	r         *bufio.Reader
	off       int    // bytes read
	line      int    // newlines read
	lineStart int    // where the line being read starts
	buf       []byte // the last string or number read
	err       error  // the first error reading, but the end
}

// pos is the line and column (in bytes, 1-based) of the next byte.
func (s *flatScanner) pos() (int, int) { return s.line + 1, s.off - s.lineStart + 1 }

func (s *flatScanner) peek() byte {
	b, err := s.r.Peek(1)
	if len(b) == 0 {
		if !errors.Is(err, io.EOF) && s.err == nil {
			s.err = err
		}
		return 0
	}
	return b[0]
}

// next moves past the byte peek saw.
func (s *flatScanner) next() {
	c, _ := s.r.ReadByte()
	s.off++
	if c == '\n' {
		s.line++
		s.lineStart = s.off
	}
}

func (s *flatScanner) space() {
	for {
		switch s.peek() {
		case ' ', '\t', '\r', '\n':
			s.next()
		default:
			return
		}
	}
}

// eat moves past c if it is next.
func (s *flatScanner) eat(c byte) bool {
	if s.peek() == c {
		s.next()
		return true
	}
	return false
}

// word moves past w (no newline in it) if it is next, and reports
// whether it was.
func (s *flatScanner) word(w string) bool {
	if b, _ := s.r.Peek(len(w)); string(b) == w {
		s.r.Discard(len(w))
		s.off += len(w)
		return true
	}
	return false
}

// str reads a string: raw is what is between its quotes (until the next
// read), text the string it is (escapes and invalid UTF-8 read by
// encoding/json, as parseJSON reads them). False at a control character
// (a newline among them) or no closing quote.
func (s *flatScanner) str() (raw []byte, text string, ok bool) {
	if !s.eat('"') {
		return nil, "", false
	}
	s.buf = append(s.buf[:0], '"')
	for {
		chunk, err := s.r.ReadSlice('"')
		s.off += len(chunk)
		s.buf = append(s.buf, chunk...)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil {
			if !errors.Is(err, io.EOF) && s.err == nil {
				s.err = err
			}
			return nil, "", false
		}
		escapes := 0 // the backslashes before the quote
		for i := len(s.buf) - 2; i > 0 && s.buf[i] == '\\'; i-- {
			escapes++
		}
		if escapes%2 == 0 {
			break
		}
	}
	raw = s.buf[1 : len(s.buf)-1]
	plain := true
	for _, c := range raw {
		if c < 0x20 {
			return nil, "", false
		}
		if c == '\\' {
			plain = false
		}
	}
	if plain && utf8.Valid(raw) {
		return raw, string(raw), true
	}
	if err := json.Unmarshal(s.buf, &text); err != nil {
		return nil, "", false
	}
	return raw, text, true
}

// stringList reads an array of strings.
func (s *flatScanner) stringList() ([]string, bool) {
	s.next() // [
	var list []string
	s.space()
	for !s.eat(']') {
		if len(list) > 0 && !s.eat(',') {
			return nil, false
		}
		s.space()
		_, v, ok := s.str()
		if !ok {
			return nil, false
		}
		list = append(list, v)
		s.space()
	}
	return list, true
}

// number reads a JSON number as it is written (json.Number's text).
func (s *flatScanner) number() (string, bool) {
	s.buf = s.buf[:0]
	take := func(c byte) bool {
		if s.peek() == c {
			s.buf = append(s.buf, c)
			s.next()
			return true
		}
		return false
	}
	digits := func() int {
		n := 0
		for c := s.peek(); c >= '0' && c <= '9'; c = s.peek() {
			take(c)
			n++
		}
		return n
	}
	take('-')
	if take('0') {
		if c := s.peek(); c >= '0' && c <= '9' {
			return "", false
		}
	} else if digits() == 0 {
		return "", false
	}
	if take('.') && digits() == 0 {
		return "", false
	}
	if take('e') || take('E') {
		if !take('+') {
			take('-')
		}
		if digits() == 0 {
			return "", false
		}
	}
	return string(s.buf), true
}
