package importer

import (
	"bytes"
	"encoding/json"
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
func parseFlatJSON(data []byte, b *builder) bool {
	data = bytes.TrimPrefix(data, bom)
	s := &flatScanner{data: data}
	pos := &position{data: data}
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
		objOff := s.i
		if !s.eat('{') {
			return false
		}
		line, col := pos.at(objOff)
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
			vl, vc := pos.at(s.i)
			c := cell{line: vl, col: vc, field: field}
			switch s.peek() {
			case '"':
				if _, c.text, ok = s.str(); !ok {
					return false
				}
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
				if c.list, ok = s.stringList(); !ok {
					return false
				}
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

// flatScanner reads JSON tokens from data at i.
type flatScanner struct {
	data []byte
	i    int
}

func (s *flatScanner) peek() byte {
	if s.i < len(s.data) {
		return s.data[s.i]
	}
	return 0
}

func (s *flatScanner) space() {
	for s.i < len(s.data) {
		switch s.data[s.i] {
		case ' ', '\t', '\r', '\n':
			s.i++
		default:
			return
		}
	}
}

// eat moves past c if it is next.
func (s *flatScanner) eat(c byte) bool {
	if s.peek() == c {
		s.i++
		return true
	}
	return false
}

// word moves past w if it is next, and reports whether it was.
func (s *flatScanner) word(w string) bool {
	if bytes.HasPrefix(s.data[s.i:], []byte(w)) {
		s.i += len(w)
		return true
	}
	return false
}

// str reads a string: raw is what is between its quotes, text the string
// it is (escapes and invalid UTF-8 read by encoding/json, as parseJSON
// reads them). False at a control character or no closing quote.
func (s *flatScanner) str() (raw []byte, text string, ok bool) {
	if !s.eat('"') {
		return nil, "", false
	}
	start, plain := s.i, true
	for ; s.i < len(s.data); s.i++ {
		switch c := s.data[s.i]; {
		case c == '"':
			raw = s.data[start:s.i]
			s.i++
			if plain && utf8.Valid(raw) {
				return raw, string(raw), true
			}
			if err := json.Unmarshal(s.data[start-1:s.i], &text); err != nil {
				return nil, "", false
			}
			return raw, text, true
		case c == '\\':
			plain = false
			s.i++ // the escaped character, a quote among them
		case c < 0x20:
			return nil, "", false
		}
	}
	return nil, "", false
}

// stringList reads an array of strings.
func (s *flatScanner) stringList() ([]string, bool) {
	s.i++ // [
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
	start := s.i
	digits := func() int {
		n := 0
		for s.i < len(s.data) && s.data[s.i] >= '0' && s.data[s.i] <= '9' {
			s.i++
			n++
		}
		return n
	}
	s.eat('-')
	if s.eat('0') {
		if c := s.peek(); c >= '0' && c <= '9' {
			return "", false
		}
	} else if digits() == 0 {
		return "", false
	}
	if s.eat('.') && digits() == 0 {
		return "", false
	}
	if s.eat('e') || s.eat('E') {
		if !s.eat('+') {
			s.eat('-')
		}
		if digits() == 0 {
			return "", false
		}
	}
	return string(s.data[start:s.i]), true
}
