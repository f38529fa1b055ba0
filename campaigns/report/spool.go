package report

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"
	"unsafe"
)

// The long tables of a report built for a bundle (docs/report.md, "Large
// campaigns"): the register, exceptions, decommissions and decision
// history hold a row an item, so they are written, as the items are read,
// to spool files in a temporary folder, and each CSV table and report.json
// read them back in order while the bundle is written. Only the rows the
// HTML and Markdown reports list stay in memory.

// table names one of a report's long tables of rows.
type table int

const (
	tableRegister table = iota
	tableExceptions
	tableDecommissions
	tableHistory
	tableCount
)

var tableFiles = [tableCount]string{"register", "exceptions", "decommissions", "history"}

// longTables are a report's long tables in spool files.
type longTables struct {
	dir string
	w   [tableCount]*spoolWriter
	n   [tableCount]int
	// reasonKinds and the thresholds flag the exceptions' justifications
	// as rows are read (judgeReasons needs every exception first).
	reasonKinds map[string]map[string]bool
	reasonCount map[string]int // exceptions by normalised justification
	short       int            // exceptions with a justification too short
	review      reviewLimits
}

type reviewLimits struct{ minChars, maxKinds int }

func newLongTables() (*longTables, error) {
	dir, err := os.MkdirTemp("", "nhi-report-")
	if err != nil {
		return nil, fmt.Errorf("report: cannot create a folder for the report's tables: %w", err)
	}
	l := &longTables{dir: dir, reasonKinds: map[string]map[string]bool{}, reasonCount: map[string]int{}}
	for t := range tableCount {
		f, err := os.Create(filepath.Join(dir, tableFiles[t]))
		if err != nil {
			l.remove()
			return nil, fmt.Errorf("report: cannot create a spool file: %w", err)
		}
		l.w[t] = &spoolWriter{f: f, w: bufio.NewWriterSize(f, 1<<16)}
	}
	return l, nil
}

// finish flushes and closes the spool files for writing.
func (l *longTables) finish() error {
	var errs []error
	for t := range tableCount {
		if w := l.w[t]; w != nil {
			errs = append(errs, w.w.Flush(), w.f.Close())
			l.w[t] = nil
		}
	}
	return errors.Join(errs...)
}

// remove deletes the spool files.
func (l *longTables) remove() {
	if l == nil {
		return
	}
	for t := range tableCount {
		if w := l.w[t]; w != nil {
			w.f.Close()
		}
	}
	os.RemoveAll(l.dir)
}

func (l *longTables) addRow(t table, r *Row) {
	l.n[t]++
	l.w[t].row(r)
}

func (l *longTables) addHistory(h *HistoryEntry) {
	l.n[tableHistory]++
	l.w[tableHistory].history(h)
}

// noteReason counts an exception's justification for judgeReasons.
func (l *longTables) noteReason(x *Row) {
	k := normReason(x.Reason)
	if l.reasonKinds[k] == nil {
		l.reasonKinds[k] = map[string]bool{}
	}
	l.reasonKinds[k][x.Kind] = true
	l.reasonCount[k]++
	if utf8.RuneCountInString(strings.TrimSpace(x.Reason)) < l.review.minChars {
		l.short++
	}
}

// judge adds an exception's justification flags, as judgeReasons does.
func (l *longTables) judge(x *Row) {
	if !isException(x) {
		return
	}
	if utf8.RuneCountInString(strings.TrimSpace(x.Reason)) < l.review.minChars {
		x.Flags = append(slices.Clip(x.Flags), FlagShortReason)
	}
	if len(l.reasonKinds[normReason(x.Reason)]) > l.review.maxKinds {
		x.Flags = append(slices.Clip(x.Flags), FlagReusedReason)
	}
}

// eachRow calls fn with every row of table t, in order. With transient,
// the row and its strings are only fn's until it returns.
func (l *longTables) eachRow(t table, transient bool, fn func(*Row)) error {
	return l.read(t, transient, func(d *spoolReader) error {
		var r Row
		if err := d.row(&r); err != nil {
			return err
		}
		if t != tableDecommissions {
			l.judge(&r)
		}
		fn(&r)
		return nil
	})
}

func (l *longTables) eachHistory(transient bool, fn func(*HistoryEntry)) error {
	return l.read(tableHistory, transient, func(d *spoolReader) error {
		var h HistoryEntry
		if err := d.history(&h); err != nil {
			return err
		}
		fn(&h)
		return nil
	})
}

func (l *longTables) read(t table, transient bool, each func(*spoolReader) error) error {
	f, err := os.Open(filepath.Join(l.dir, tableFiles[t]))
	if err != nil {
		return fmt.Errorf("report: reading the %s table back: %w", tableFiles[t], err)
	}
	defer f.Close()
	d := &spoolReader{r: bufio.NewReaderSize(f, 1<<16), transient: transient}
	for range l.n[t] {
		if err := each(d); err != nil {
			return fmt.Errorf("report: reading the %s table back: %w", tableFiles[t], err)
		}
	}
	return nil
}

// spoolWriter writes rows in a compact binary form: each string as its
// length (uvarint) and bytes, each number as a varint.
type spoolWriter struct {
	f   *os.File
	w   *bufio.Writer
	buf [binary.MaxVarintLen64]byte
}

func (s *spoolWriter) str(v string) {
	s.w.Write(binary.AppendUvarint(s.buf[:0], uint64(len(v))))
	s.w.WriteString(v)
}

func (s *spoolWriter) int(v int64) { s.w.Write(binary.AppendVarint(s.buf[:0], v)) }

func (s *spoolWriter) bool(v bool) {
	if v {
		s.w.WriteByte(1)
	} else {
		s.w.WriteByte(0)
	}
}

// strs writes a slice of strings, keeping nil apart from empty.
func (s *spoolWriter) strs(v []string) {
	if v == nil {
		s.int(-1)
		return
	}
	s.int(int64(len(v)))
	for _, x := range v {
		s.str(x)
	}
}

func (s *spoolWriter) row(r *Row) {
	s.int(int64(r.N))
	for _, v := range [...]string{r.ID, r.Kind, r.KindLabel, r.Name, r.Scope, r.Owner, r.Holder, r.Permissions} {
		s.str(v)
	}
	if r.Findings == nil {
		s.int(-1)
	} else {
		s.int(int64(len(r.Findings)))
		for _, f := range r.Findings {
			s.str(f.Rule)
			s.str(f.Severity)
			s.str(f.OWASP)
			s.str(f.Message)
		}
	}
	for _, v := range [...]string{r.Reviewer, r.Decision, r.DecidedBy, r.DecidedAt} {
		s.str(v)
	}
	s.int(r.Event)
	for _, v := range [...]string{r.Via, r.Reason, r.Carried, r.CarriedWhy} {
		s.str(v)
	}
	s.strs(r.Flags)
	s.str(r.SignedBy)
	s.str(r.Verification)
	s.int(r.VerifiedSnapshot)
	s.int(r.VerifyEvent)
	s.bool(r.Overdue)
	for _, v := range [...]string{r.ClosedAt, r.ExceptionExpires, r.ExceptionApprovedBy, r.ExceptionState, r.EscalatedTo} {
		s.str(v)
	}
	s.int(r.EscalateEvent)
}

func (s *spoolWriter) history(h *HistoryEntry) {
	s.int(int64(h.N))
	s.str(h.ID)
	s.int(h.Event)
	for _, v := range [...]string{h.Type, h.At, h.Actor, h.Action, h.Decision, h.Via, h.Reason, h.Filter} {
		s.str(v)
	}
	s.int(h.Undoes)
	s.str(h.Outcome)
	s.int(h.By)
	s.bool(h.Other)
	s.str(h.Detail)
}

// spoolReader reads what spoolWriter wrote. A string equal to the one
// the same field of the previous row held (a kind, a scope, a reviewer, a
// decision) is shared with it rather than allocated again.
type spoolReader struct {
	r    *bufio.Reader
	buf  []byte
	err  error
	prev [40]string // by field: what the previous row held
	slot int        // the field being read
	// transient: the row handed on is written out before the next is
	// read (the CSV tables, report.json), so its strings point into
	// arena, which the next row reuses, and nothing is allocated a row.
	transient bool
	arena     []byte
	flags     []string
	findings  []Finding
}

func (d *spoolReader) int() int64 {
	v, err := binary.ReadVarint(d.r)
	if err != nil && d.err == nil {
		d.err = err
	}
	return v
}

func (d *spoolReader) str() string {
	slot := d.slot
	d.slot++
	n, err := binary.ReadUvarint(d.r)
	if err != nil {
		if d.err == nil {
			d.err = err
		}
		return ""
	}
	if n == 0 {
		return ""
	}
	if d.transient {
		start := len(d.arena)
		if cap(d.arena)-start < int(n) {
			// A new block: the strings already handed out keep the old.
			d.arena = make([]byte, 0, max(4096, 2*int(n)))
			start = 0
		}
		d.arena = d.arena[:start+int(n)]
		b := d.arena[start:]
		if _, err := io.ReadFull(d.r, b); err != nil {
			if d.err == nil {
				d.err = err
			}
			return ""
		}
		return unsafe.String(&b[0], len(b))
	}
	if uint64(cap(d.buf)) < n {
		d.buf = make([]byte, n)
	}
	b := d.buf[:n]
	if _, err := io.ReadFull(d.r, b); err != nil {
		if d.err == nil {
			d.err = err
		}
		return ""
	}
	if slot >= len(d.prev) {
		return string(b)
	}
	if d.prev[slot] == string(b) {
		return d.prev[slot]
	}
	s := string(b)
	d.prev[slot] = s
	return s
}

func (d *spoolReader) bool() bool {
	b, err := d.r.ReadByte()
	if err != nil && d.err == nil {
		d.err = err
	}
	return b == 1
}

func (d *spoolReader) strs() []string {
	n := d.int()
	if n < 0 {
		return nil
	}
	if d.transient {
		d.flags = slices.Grow(d.flags[:0], int(n))[:n]
		for i := range d.flags {
			d.flags[i] = d.str()
		}
		return d.flags
	}
	out := make([]string, n)
	for i := range out {
		out[i] = d.str()
	}
	return out
}

func (d *spoolReader) row(r *Row) error {
	d.slot, d.arena = 0, d.arena[:0]
	r.N = int(d.int())
	for _, p := range [...]*string{&r.ID, &r.Kind, &r.KindLabel, &r.Name, &r.Scope, &r.Owner, &r.Holder, &r.Permissions} {
		*p = d.str()
	}
	if n := d.int(); n < 0 {
		r.Findings = nil
	} else {
		if d.transient {
			d.findings = slices.Grow(d.findings[:0], int(n))[:n]
			r.Findings = d.findings
		} else {
			r.Findings = make([]Finding, n)
		}
		for i := range r.Findings {
			f := &r.Findings[i]
			f.Rule, f.Severity, f.OWASP, f.Message = d.str(), d.str(), d.str(), d.str()
		}
	}
	for _, p := range [...]*string{&r.Reviewer, &r.Decision, &r.DecidedBy, &r.DecidedAt} {
		*p = d.str()
	}
	r.Event = d.int()
	for _, p := range [...]*string{&r.Via, &r.Reason, &r.Carried, &r.CarriedWhy} {
		*p = d.str()
	}
	r.Flags = d.strs()
	r.SignedBy = d.str()
	r.Verification = d.str()
	r.VerifiedSnapshot = d.int()
	r.VerifyEvent = d.int()
	r.Overdue = d.bool()
	for _, p := range [...]*string{&r.ClosedAt, &r.ExceptionExpires, &r.ExceptionApprovedBy, &r.ExceptionState, &r.EscalatedTo} {
		*p = d.str()
	}
	r.EscalateEvent = d.int()
	return d.err
}

func (d *spoolReader) history(h *HistoryEntry) error {
	d.slot, d.arena = 0, d.arena[:0]
	h.N = int(d.int())
	h.ID = d.str()
	h.Event = d.int()
	for _, p := range [...]*string{&h.Type, &h.At, &h.Actor, &h.Action, &h.Decision, &h.Via, &h.Reason, &h.Filter} {
		*p = d.str()
	}
	h.Undoes = d.int()
	h.Outcome = d.str()
	h.By = d.int()
	h.Other = d.bool()
	h.Detail = d.str()
	return d.err
}
