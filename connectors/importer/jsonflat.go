package importer

import (
	"bufio"

	"github.com/nhi-audit/nhi/internal/jsonscan"
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
	s := jsonscan.New(r)
	ok := readFlat(s, b)
	return ok, s.Err()
}

// readFlat reads the array of objects into b.
func readFlat(s *jsonscan.Scanner, b *builder) bool {
	fields := map[string]string{} // a field as written -> its column
	var cells []cell
	s.Space()
	if !s.Eat('[') {
		return false
	}
	s.Space()
	if s.Eat(']') {
		return true
	}
	for !b.stopped() {
		s.Space()
		line, col := s.Pos()
		if !s.Eat('{') {
			return false
		}
		cells = cells[:0]
		s.Space()
		for !s.Eat('}') {
			if len(cells) > 0 && !s.Eat(',') {
				return false
			}
			s.Space()
			raw, name, ok := s.Str()
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
			s.Space()
			if !s.Eat(':') {
				return false
			}
			s.Space()
			vl, vc := s.Pos()
			c := cell{line: vl, col: vc, field: field}
			switch s.Peek() {
			case '"':
				_, c.text, ok = s.Str()
			case 'n':
				c.null = true
				ok = s.Word("null")
			case 't':
				c.text = "true"
				ok = s.Word("true")
			case 'f':
				c.text = "false"
				ok = s.Word("false")
			case '[':
				c.isList = true
				c.list, ok = s.StringList()
			default:
				if isTimeField(field) {
					return false // parseJSON says a timestamp is a string
				}
				c.text, ok = s.Number()
			}
			if !ok {
				return false
			}
			cells = append(cells, c)
			s.Space()
		}
		b.row(line, col, cells)
		s.Space()
		if s.Eat(']') {
			return true // what follows is not read, as parseJSON does not
		}
		if !s.Eat(',') {
			return false
		}
	}
	return true
}
