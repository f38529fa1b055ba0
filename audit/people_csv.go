package audit

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// PeopleColumns is the header of a people CSV, as HR systems and IdPs
// export it (docs/people.md).
var PeopleColumns = []string{"email", "name", "github", "status", "left_at", "manager", "aliases", "signing_key"}

// ReadPeopleCSV reads a people CSV: a header naming the columns (in any
// order; email is required, the others may be left out), then one person a
// row. A UTF-8 byte-order mark, as spreadsheets write it, is skipped;
// aliases are separated by spaces. It returns the people and the line each
// came from, and the columns it has: a person already known keeps the
// fields the file leaves out. Every malformed row is reported, with its
// line, not just the first.
func ReadPeopleCSV(r io.Reader, name string) (*PeopleImport, error) {
	br := bufio.NewReader(r)
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte("\ufeff")) {
		_, _ = br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s is empty: it needs the header %s and one row per person", name, strings.Join(PeopleColumns, ","))
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		if !slices.Contains(PeopleColumns, h) {
			return nil, fmt.Errorf("%s:1: unknown column %q; the header is %s", name, Printable(h), strings.Join(PeopleColumns, ","))
		}
		if _, dup := col[h]; dup {
			return nil, fmt.Errorf("%s:1: column %s appears twice", name, h)
		}
		col[h] = i
	}
	if _, ok := col["email"]; !ok {
		return nil, fmt.Errorf("%s:1: no email column; the header is %s", name, strings.Join(PeopleColumns, ","))
	}
	field := func(rec []string, c string) string {
		if i, ok := col[c]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	var (
		people  []Person
		lines   []int
		errs    PeopleErrors
		columns []string
	)
	for _, c := range PeopleColumns {
		if _, ok := col[c]; ok {
			columns = append(columns, c)
		}
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		if len(rec) != len(header) {
			errs = append(errs, &PersonError{Line: line, Err: fmt.Errorf("want %d fields (%s), got %d", len(header), strings.Join(header, ","), len(rec))})
			continue
		}
		people = append(people, Person{
			Email: field(rec, "email"), Name: field(rec, "name"), GitHub: field(rec, "github"),
			Status: field(rec, "status"), LeftAt: field(rec, "left_at"), Manager: field(rec, "manager"),
			Aliases: strings.Fields(field(rec, "aliases")), SigningKey: field(rec, "signing_key"),
		})
		lines = append(lines, line)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s: %w", name, errs)
	}
	if len(people) == 0 {
		return nil, fmt.Errorf("%s has a header but no person", name)
	}
	return &PeopleImport{People: people, Lines: lines, Columns: columns, Source: "import " + name}, nil
}
