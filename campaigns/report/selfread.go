package report

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"
	"time"

	"github.com/nhi-audit/nhi/internal/jsonscan"
)

// readReport reads a bundle's report.json back into the report it was
// written from, so that the bundle's other files can be rendered from it
// again and compared (checkSelf; docs/report.md, "With the bundle alone").
// It streams, as Export writes: the rows of the long tables go to spool
// files as they are read, and only the rows the HTML and Markdown reports
// list stay in memory, so a million-item campaign's 750 MB file is never
// held whole. The rows carry their flags as they were judged; nothing is
// judged again. The caller closes the report (Report.close).
//
// What the file cannot say is left as the renderers do not need it: the
// policy's review thresholds (the flags and marks they gave are in the
// rows) and the signed records (signatures.jsonl, which
// checkDecisionSignatures checks against report.json on its own).
func readReport(path string) (*Report, error) {
	r, err := readReportWith(path, true)
	if errors.Is(err, errNotFast) {
		r, err = readReportWith(path, false)
	}
	return r, err
}

// errNotFast is the fast reader's answer to what it does not take.
var errNotFast = errors.New("not read fast")

// readReportWith reads the report at path with the fast reader
// (fastReport) or with encoding/json's reader. The fast reader gives up
// at anything but what the writer writes, with errNotFast, and the file
// is then read with encoding/json's, which says what is wrong in its
// words (docs/performance.md, "Reading JSON back").
func readReportWith(path string, fast bool) (*Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	long, err := newLongTables()
	if err != nil {
		return nil, err
	}
	long.judged = true
	r := &Report{long: long}
	ok := false
	defer func() {
		if !ok {
			r.close()
		}
	}()
	rd := &jsonReader{r: r, seen: map[string]bool{}, trailN: map[int]bool{}}
	if fast {
		if !rd.fastReport(jsonscan.New(f)) {
			return nil, errNotFast
		}
	} else if err := rd.decode(bufio.NewReaderSize(f, 1<<16)); err != nil {
		return nil, err
	}
	rd.endTrail()
	if err := long.finish(); err != nil {
		return nil, err
	}
	if r.Format != FormatName {
		return nil, fmt.Errorf("its format is %q, not %s", r.Format, FormatName)
	}
	if r.generatedAt, err = time.Parse(time.RFC3339, r.GeneratedAt); err != nil {
		return nil, fmt.Errorf("its generated_at %q is not a time", r.GeneratedAt)
	}
	// The register rows of the trails the pages print: only their
	// number, name, ID and decision are shown.
	if len(rd.trailN) > 0 {
		r.trailRows = map[int]Row{}
		err := long.eachRow(tableRegister, false, func(x *Row) {
			if rd.trailN[x.N] {
				r.trailRows[x.N] = *x
			}
		})
		if err != nil {
			return nil, err
		}
	}
	for _, p := range []*[]Row{&r.Register, &r.Exceptions, &r.Remediation.Rows} {
		if *p == nil {
			*p = []Row{}
		}
	}
	if r.History == nil {
		r.History = []HistoryEntry{}
	}
	ok = true
	return r, nil
}

// decode reads report.json from in with encoding/json's reader.
func (rd *jsonReader) decode(in io.Reader) error {
	rd.dec = json.NewDecoder(in)
	tok, err := rd.dec.Token()
	if err != nil {
		return err
	}
	if tok != json.Delim('{') {
		return errors.New("it is not a JSON object")
	}
	if err := rd.object(reflect.ValueOf(rd.r).Elem()); err != nil {
		return err
	}
	if _, err := rd.dec.Token(); err != io.EOF {
		if err == nil {
			err = errors.New("it has more after its object")
		}
		return err
	}
	return nil
}

// jsonReader reads report.json's fields into a Report, as writeObject
// wrote them.
type jsonReader struct {
	dec  *json.Decoder
	r    *Report
	seen map[string]bool // the long tables read
	// the trail being read (the history of one item) and the items whose
	// trails the pages print
	item   []HistoryEntry
	trailN map[int]bool
}

// object reads the fields of the struct v from an object whose opening
// brace was read; a key that names no field is skipped (the file then
// differs from the report written again, which checkSelf reports).
func (rd *jsonReader) object(v reflect.Value) error {
	fields := jsonFields(v.Type())
	for rd.dec.More() {
		tok, err := rd.dec.Token()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		i, ok := fields[key]
		if !ok {
			if err := skipValue(rd.dec); err != nil {
				return err
			}
			continue
		}
		fv := v.Field(i)
		switch fv.Interface().(type) {
		case []Row:
			t, ok := rowTables[key]
			if !ok {
				return fmt.Errorf("no table of rows %q", key)
			}
			if err := rd.once(key); err != nil {
				return err
			}
			if err := rd.rows(t, fv.Addr().Interface().(*[]Row)); err != nil {
				return fmt.Errorf("%s: %w", key, err)
			}
		case []HistoryEntry:
			if err := rd.once(key); err != nil {
				return err
			}
			if err := rd.history(); err != nil {
				return fmt.Errorf("%s: %w", key, err)
			}
		case Remediation:
			tok, err := rd.dec.Token()
			if err != nil {
				return err
			}
			if tok != json.Delim('{') {
				return fmt.Errorf("%s is not an object", key)
			}
			if err := rd.object(fv); err != nil {
				return err
			}
		default:
			if err := rd.dec.Decode(fv.Addr().Interface()); err != nil {
				return fmt.Errorf("%s: %w", key, err)
			}
		}
	}
	_, err := rd.dec.Token() // the closing brace
	return err
}

// jsonFields are the fields of struct type t by their JSON names.
func jsonFields(t reflect.Type) map[string]int {
	fields := map[string]int{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); f.IsExported() && name != "" && name != "-" {
			fields[name] = i
		}
	}
	return fields
}

// once refuses a long table listed twice: its rows would be counted twice.
func (rd *jsonReader) once(key string) error {
	if rd.seen[key] {
		return fmt.Errorf("it lists %s twice", key)
	}
	rd.seen[key] = true
	return nil
}

// list reads a JSON list element by element; null is an empty list.
func (rd *jsonReader) list(each func() error) error {
	tok, err := rd.dec.Token()
	if err != nil {
		return err
	}
	if tok == nil {
		return nil
	}
	if tok != json.Delim('[') {
		return errors.New("not a list")
	}
	for rd.dec.More() {
		if err := each(); err != nil {
			return err
		}
	}
	_, err = rd.dec.Token() // the closing bracket
	return err
}

// rows reads the rows of table t to its spool file, keeping the first
// pageRows in page.
func (rd *jsonReader) rows(t table, page *[]Row) error {
	return rd.list(func() error {
		var x Row
		if err := rd.dec.Decode(&x); err != nil {
			return err
		}
		rd.addRow(t, page, &x)
		return nil
	})
}

// history reads the decision history to its spool file, keeping what the
// pages show of it as collector.history does: the entries of the first
// pageRows register rows, and the trails of the first pageRows items with
// more than one event.
func (rd *jsonReader) history() error {
	return rd.list(func() error {
		var h HistoryEntry
		if err := rd.dec.Decode(&h); err != nil {
			return err
		}
		rd.addEntry(&h)
		return nil
	})
}

// addRow adds x, a row of table t, keeping it in page if it is one of
// the first pageRows.
func (rd *jsonReader) addRow(t table, page *[]Row, x *Row) {
	rd.r.long.addRow(t, x)
	if len(*page) < pageRows {
		*page = append(*page, *x)
	}
	if t == tableExceptions {
		for _, f := range x.Flags {
			switch f {
			case FlagShortReason:
				rd.r.shortReasons++
			case FlagReusedReason:
				rd.r.reusedReasons++
			}
		}
	}
}

// addEntry adds h, the next entry of the decision history.
func (rd *jsonReader) addEntry(h *HistoryEntry) {
	r := rd.r
	r.long.addHistory(h)
	if h.N <= pageRows {
		r.History = append(r.History, *h)
	}
	if len(rd.item) > 0 && rd.item[0].N != h.N {
		rd.endTrail()
	}
	rd.item = append(rd.item, *h)
}

// endTrail ends the trail of one item.
func (rd *jsonReader) endTrail() {
	r := rd.r
	if len(rd.item) > 1 {
		if len(rd.trailN) < pageRows {
			r.trail = append(r.trail, rd.item...)
			rd.trailN[rd.item[0].N] = true
		} else {
			r.trailsOut++
		}
	}
	rd.item = rd.item[:0]
}
