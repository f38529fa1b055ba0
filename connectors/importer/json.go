package importer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// position turns byte offsets into lines and columns (in bytes, 1-based:
// a character such as é is two), moving forward and, for an error inside
// a token it has moved past, back.
type position struct {
	data      []byte
	off, line int
	lineStart int
}

// at is the line and column of the byte at off, len(data) being just
// after the last.
func (p *position) at(off int) (int, int) {
	if off < p.off {
		// Back: a syntax error at a , or : that next skipped, or inside
		// the token next found.
		p.line -= bytes.Count(p.data[off:p.off], []byte{'\n'})
		p.lineStart = bytes.LastIndexByte(p.data[:off], '\n') + 1
		p.off = off
	}
	for ; p.off < off; p.off++ {
		if p.data[p.off] == '\n' {
			p.line++
			p.lineStart = p.off + 1
		}
	}
	return p.line + 1, off - p.lineStart + 1
}

// end is the line and column just after the file's last character, on
// its last line as an editor shows it: a final line end (\n or \r\n)
// does not start another line, where at(len(data)) would put the end on
// a line the file does not have.
func (p *position) end() (int, int) {
	end := len(p.data)
	if end > 0 && p.data[end-1] == '\n' {
		end--
		if end > 0 && p.data[end-1] == '\r' {
			end--
		}
	}
	return p.at(end)
}

// next is at of the first byte at or after off that is not white space, a
// comma or a colon: where the next token starts.
func (p *position) next(off int) (int, int) {
	for off < len(p.data) && strings.IndexByte(" \t\r\n,:", p.data[off]) >= 0 {
		off++
	}
	return p.at(off)
}

// syntaxAt is the offset of the byte a syntax error of dec's, reading
// data, is at. dec's SyntaxError.Offset does not say it: after a
// misplaced delimiter it is that byte's offset, and inside a string,
// number or literal it counts only the bytes of such values read so far,
// which put the error where it is not, or at no column. dec stopped
// at the start of the token it failed on, so that token is read again
// from there, alone, whose error's Offset counts from there.
func syntaxAt(dec *json.Decoder, data []byte) int {
	start := int(min(max(dec.InputOffset(), 0), int64(len(data))))
	var se *json.SyntaxError
	if err := json.NewDecoder(bytes.NewReader(data[start:])).Decode(new(json.RawMessage)); errors.As(err, &se) && se.Offset > 0 {
		return min(start+int(se.Offset)-1, len(data))
	}
	return start
}

// parseJSON reads a JSON array of objects, one identity each, with the
// same fields as the CSV columns; permissions may be an array of strings.
func parseJSON(data []byte, b *builder) error {
	data = bytes.TrimPrefix(data, bom)
	pos := &position{data: data}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	fail := func(off int64, msg string) {
		l, c := pos.next(int(off))
		b.c.add(Error{Line: l, Column: c, Msg: msg})
	}
	syntax := func(err error) {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			l, c := pos.at(syntaxAt(dec, data))
			b.c.add(Error{Line: l, Column: c, Msg: "not valid JSON: " + se.Error()})
			return
		}
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			l, c := pos.end()
			b.c.add(Error{Line: l, Column: c, Msg: "the JSON ends too early: a ] or } is missing"})
			return
		}
		b.c.add(Error{Line: 1, Msg: "not valid JSON: " + err.Error()})
	}
	start := dec.InputOffset()
	tok, err := dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			b.c.add(Error{Line: 1, Msg: "the file is empty; it needs a JSON array of objects, one per identity (see docs/import.md)"})
			return nil
		}
		syntax(err)
		return nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		fail(start, "the file must be a JSON array of objects, one per identity: [{\"key\": \"…\"}, …]")
		return nil
	}
	checked := map[string]bool{}
	for dec.More() && !b.stopped() {
		objOff := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			syntax(err)
			return nil
		}
		if d, ok := tok.(json.Delim); !ok || d != '{' {
			fail(objOff, "each element must be an object with the identity's fields")
			if ok && d == '[' {
				if err := skip(dec, 1); err != nil {
					syntax(err)
					return nil
				}
			}
			continue
		}
		line, col := pos.next(int(objOff))
		var cells []cell
		for dec.More() {
			keyOff := dec.InputOffset()
			kt, err := dec.Token()
			if err != nil {
				syntax(err)
				return nil
			}
			field := normColumn(kt.(string))
			kl, kc := pos.next(int(keyOff))
			if !checked[field] {
				checked[field] = true
				if field == "" || secretColumn(field) {
					checkColumns([]string{field}, b, func(int) (int, int) { return kl, kc })
				}
			}
			valOff := dec.InputOffset()
			vl, vc := pos.next(int(valOff))
			c := cell{line: vl, col: vc, field: field}
			vt, err := dec.Token()
			if err != nil {
				syntax(err)
				return nil
			}
			switch v := vt.(type) {
			case nil:
				c.null = true
			case string:
				c.text = v
			case json.Number:
				c.text = v.String()
				if isTimeField(field) {
					b.c.add(Error{Line: vl, Column: vc, Field: field, Msg: "a timestamp must be a string: \"2026-11-30T14:05:00Z\" or \"2026-11-30\""})
					continue
				}
			case bool:
				c.text = fmt.Sprint(v)
			case json.Delim:
				if v == '[' {
					c.isList = true
					ok := true
					for dec.More() {
						et, err := dec.Token()
						if err != nil {
							syntax(err)
							return nil
						}
						s, isStr := et.(string)
						if !isStr {
							ok = false
							if _, isD := et.(json.Delim); isD {
								if err := skip(dec, 1); err != nil {
									syntax(err)
									return nil
								}
							}
							continue
						}
						c.list = append(c.list, s)
					}
					if _, err := dec.Token(); err != nil { // ]
						syntax(err)
						return nil
					}
					if !ok {
						b.c.add(Error{Line: vl, Column: vc, Field: field, Msg: "a list may hold only strings"})
						continue
					}
				} else {
					if err := skip(dec, 1); err != nil {
						syntax(err)
						return nil
					}
					b.c.add(Error{Line: vl, Column: vc, Field: field, Msg: "a nested object is not read; write the value as text"})
					continue
				}
			}
			cells = append(cells, c)
		}
		if _, err := dec.Token(); err != nil { // }
			syntax(err)
			return nil
		}
		if checked[""] || anySecret(checked) {
			continue
		}
		b.row(line, col, cells)
	}
	if b.stopped() {
		return nil
	}
	if _, err := dec.Token(); err != nil { // ]
		syntax(err)
	}
	return nil
}

func anySecret(fields map[string]bool) bool {
	for f := range fields {
		if secretColumn(f) {
			return true
		}
	}
	return false
}

func isTimeField(f string) bool {
	switch f {
	case colCreated, colLastUsed, colRotated, colExpires:
		return true
	}
	return false
}

// skip reads tokens until depth open delimiters are closed; its error is
// the syntax error that stopped it (a file that ends inside a nested value
// among them), for the caller to report.
func skip(dec *json.Decoder, depth int) error {
	for depth > 0 {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		if d, ok := t.(json.Delim); ok {
			if d == '[' || d == '{' {
				depth++
			} else {
				depth--
			}
		}
	}
	return nil
}
