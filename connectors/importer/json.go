package importer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// position turns byte offsets into lines and columns, moving forward only.
type position struct {
	data      []byte
	off, line int
	lineStart int
}

// at is the line and column (in bytes, 1-based) of the first character at
// or after off that is not white space, a comma or a colon: where the
// next token starts.
func (p *position) at(off int) (int, int) {
	// A syntax error at the first byte (a stray , : or ] there) is
	// reported at -1 by its caller.
	off = max(off, 0)
	for off < len(p.data) && strings.IndexByte(" \t\r\n,:", p.data[off]) >= 0 {
		off++
	}
	for ; p.off < off && p.off < len(p.data); p.off++ {
		if p.data[p.off] == '\n' {
			p.line++
			p.lineStart = p.off + 1
		}
	}
	return p.line + 1, off - p.lineStart + 1
}

// parseJSON reads a JSON array of objects, one identity each, with the
// same fields as the CSV columns; permissions may be an array of strings.
func parseJSON(data []byte, b *builder) error {
	data = bytes.TrimPrefix(data, bom)
	pos := &position{data: data}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	fail := func(off int64, msg string) {
		l, c := pos.at(int(off))
		b.c.add(Error{Line: l, Column: c, Msg: msg})
	}
	syntax := func(err error) {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			l, c := pos.at(int(se.Offset) - 1)
			b.c.add(Error{Line: l, Column: c, Msg: "not valid JSON: " + se.Error()})
			return
		}
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			l, c := pos.at(len(data))
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
		line, col := pos.at(int(objOff))
		var cells []cell
		for dec.More() {
			keyOff := dec.InputOffset()
			kt, err := dec.Token()
			if err != nil {
				syntax(err)
				return nil
			}
			field := normColumn(kt.(string))
			kl, kc := pos.at(int(keyOff))
			if !checked[field] {
				checked[field] = true
				if field == "" || secretColumn(field) {
					checkColumns([]string{field}, b, func(int) (int, int) { return kl, kc })
				}
			}
			valOff := dec.InputOffset()
			vl, vc := pos.at(int(valOff))
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
