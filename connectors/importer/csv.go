package importer

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/nhi-audit/nhi/audit"
)

var bom = []byte("\xef\xbb\xbf")

// delimiters are the separators spreadsheets export with: the header,
// which must name the key column, says which one a file uses.
var delimiters = []rune{',', ';', '\t'}

func delimiterName(r rune) string {
	switch r {
	case ';':
		return "semicolon"
	case '\t':
		return "tab"
	}
	return "comma"
}

// header reads the first record with delimiter d from the file's start.
func header(start []byte, d rune) ([]string, error) {
	r := csv.NewReader(bytes.NewReader(start))
	r.Comma = d
	r.FieldsPerRecord = -1
	h, err := r.Read()
	if err == nil && r.InputOffset() >= int64(len(start)) && len(start) == readBuffer {
		return nil, errLongHeader // it may go on past what was read
	}
	return h, err
}

var errLongHeader = fmt.Errorf("the header row is longer than %d MB; the first row must name the columns", readBuffer>>20)

// parseCSV reads a CSV file (past a byte-order mark): a header row naming
// the columns, then one identity per record. CRLF line ends and quoted
// newlines are taken as they come; the separator is found from the
// header.
func parseCSV(in *bufio.Reader, b *builder) error {
	start, err := in.Peek(readBuffer)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return err
	}
	var cols []string
	for _, d := range delimiters {
		h, err := header(start, d)
		if errors.Is(err, io.EOF) {
			b.c.add(Error{Line: 1, Msg: "the file is empty; it needs a header row naming the columns (at least key)"})
			return nil
		}
		if errors.Is(err, errLongHeader) {
			b.c.add(Error{Line: 1, Msg: err.Error()})
			return nil
		}
		if err != nil {
			continue
		}
		for i := range h {
			h[i] = normColumn(h[i])
		}
		if slices.Contains(h, colKey) {
			b.delim, cols = d, h
			break
		}
	}
	if cols == nil {
		h, _ := header(start, ',')
		msg := "the header has no key column; the first row must name the columns, key among them (see docs/import.md)"
		if bytes.IndexByte(start[:min(len(start), 8<<10)], 0) >= 0 {
			// UTF-8 text holds no NUL byte; UTF-16 text (Excel's "Unicode
			// Text"), a spreadsheet's own file (.xlsx is a zip), a
			// database or an archive does.
			msg = "the file is not UTF-8 text (it holds NUL bytes, as UTF-16 text, a spreadsheet's .xlsx, a database or an archive does): save or export the identities as CSV UTF-8 or JSON and import that (see docs/import.md)"
		} else if len(h) == 1 {
			msg = fmt.Sprintf("the header is one column %q: nhi reads comma-, semicolon- or tab-separated files whose first row names the columns, key among them", audit.Printable(h[0]))
		}
		b.c.add(Error{Line: 1, Msg: msg})
		return nil
	}
	r := csv.NewReader(in)
	r.Comma = b.delim
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	if _, err := r.Read(); err != nil { // the header, read above
		return err
	}
	if !checkColumns(cols, b, r.FieldPos) {
		return nil
	}
	cells := make([]cell, len(cols))
	for !b.stopped() {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			b.c.add(Error{Line: pe.Line, Column: pe.Column, Msg: csvMessage(pe)})
			if errors.Is(pe.Err, csv.ErrQuote) && pe.Line == pe.StartLine {
				continue
			}
			if !errors.Is(pe.Err, csv.ErrFieldCount) {
				break // an unclosed quote ran to the end: nothing after it can be trusted
			}
			continue
		}
		if err != nil {
			return err
		}
		line, _ := r.FieldPos(0)
		if len(rec) != len(cols) {
			if blank(rec) {
				continue
			}
			b.c.add(Error{Line: line, Msg: fmt.Sprintf("%d cells, but the header names %d columns; a value with a %s in it must be in double quotes",
				len(rec), len(cols), delimiterName(b.delim))})
			continue
		}
		if blank(rec) {
			continue // a spreadsheet's empty row
		}
		for i, v := range rec {
			l, c := r.FieldPos(i)
			cells[i] = cell{line: l, col: c, field: cols[i], text: v}
		}
		b.row(line, 1, cells)
	}
	return nil
}

// checkColumns refuses unnamed, repeated and secret-looking columns; at
// says where column i is.
func checkColumns(cols []string, b *builder, at func(i int) (line, col int)) bool {
	ok := true
	seen := map[string]bool{}
	for i, c := range cols {
		l, col := at(i)
		switch {
		case c == "":
			b.c.add(Error{Line: l, Column: col, Msg: "a column has no name; name it in the header, or delete it"})
		case seen[c]:
			b.c.add(Error{Line: l, Column: col, Field: c, Msg: "the column appears twice"})
		case secretColumn(c):
			b.c.add(Error{Line: l, Column: col, Field: c, Msg: "the column " + secretMsg})
		default:
			seen[c] = true
			continue
		}
		ok = false
	}
	return ok
}

func blank(rec []string) bool {
	for _, v := range rec {
		if strings.TrimSpace(v) != "" {
			return false
		}
	}
	return true
}

func csvMessage(pe *csv.ParseError) string {
	switch {
	case errors.Is(pe.Err, csv.ErrQuote):
		if pe.Line != pe.StartLine {
			return fmt.Sprintf("a quoted value opened on line %d is never closed", pe.StartLine)
		}
		// Inside a quoted value: a quote followed by something other than
		// a comma or the line's end, or a file that ends inside it.
		return `a quoted value is not closed as CSV wants: its closing double quote must come just before the next separator or the line's end, and a double quote inside it is written twice ("say ""hi""")`
	case errors.Is(pe.Err, csv.ErrBareQuote):
		return `a double quote inside a value that is not in quotes; quote the whole value and double the quote ("say ""hi""")`
	}
	return pe.Err.Error()
}
