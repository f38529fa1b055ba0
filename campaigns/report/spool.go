package report

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/nhi-audit/nhi/internal/spool"
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

// longTables are a report's long tables in spool files, in the system's
// temporary folder (TMPDIR): nhi-report-register-…, removed from the
// folder as soon as made where the system allows (spool.Create), so an
// export killed before it finished leaves nothing there.
type longTables struct {
	w [tableCount]*spool.Writer
	n [tableCount]int
	// reasonKinds and the thresholds flag the exceptions' justifications
	// as rows are read (judgeReasons needs every exception first).
	reasonKinds map[string]map[string]bool
	reasonCount map[string]int // exceptions by normalised justification
	short       int            // exceptions with a justification too short
	review      reviewLimits
	// judged: the rows came with their flags (read back from a bundle's
	// report.json, readReport), so judge adds none.
	judged bool
}

type reviewLimits struct{ minChars, maxKinds int }

func newLongTables() (*longTables, error) {
	l := &longTables{reasonKinds: map[string]map[string]bool{}, reasonCount: map[string]int{}}
	for t := range tableCount {
		var err error
		if l.w[t], err = spool.Create("", "nhi-report-"+tableFiles[t]+"-*"); err != nil {
			l.remove()
			return nil, fmt.Errorf("report: cannot create a spool file: %w", err)
		}
	}
	return l, nil
}

// finish writes what is buffered and closes the spool files for writing.
func (l *longTables) finish() error {
	var errs []error
	for _, w := range l.w {
		errs = append(errs, w.Close())
	}
	return errors.Join(errs...)
}

// remove deletes the spool files.
func (l *longTables) remove() {
	if l == nil {
		return
	}
	for _, w := range l.w {
		if w != nil {
			w.Remove()
		}
	}
}

func (l *longTables) addRow(t table, r *Row) {
	l.n[t]++
	writeRow(l.w[t], r)
}

func (l *longTables) addHistory(h *HistoryEntry) {
	l.n[tableHistory]++
	writeHistory(l.w[tableHistory], h)
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
	if l.judged || !isException(x) {
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
	return l.read(t, transient, func(d *rowReader) error {
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
	return l.read(tableHistory, transient, func(d *rowReader) error {
		var h HistoryEntry
		if err := d.history(&h); err != nil {
			return err
		}
		fn(&h)
		return nil
	})
}

func (l *longTables) read(t table, transient bool, each func(*rowReader) error) error {
	r, err := l.w[t].Open(transient)
	if err != nil {
		return fmt.Errorf("report: reading the %s table back: %w", tableFiles[t], err)
	}
	defer r.Close()
	d := &rowReader{Reader: r, transient: transient}
	for range l.n[t] {
		if err := each(d); err != nil {
			return fmt.Errorf("report: reading the %s table back: %w", tableFiles[t], err)
		}
	}
	return nil
}

// writeRow writes a row of a long table as the fields of one record.
func writeRow(s *spool.Writer, r *Row) {
	s.Int(int64(r.N))
	for _, v := range [...]string{r.ID, r.Kind, r.KindLabel, r.Name, r.Scope, r.Owner, r.Holder, r.Permissions} {
		s.String(v)
	}
	if r.Findings == nil {
		s.Int(-1)
	} else {
		s.Int(int64(len(r.Findings)))
		for _, f := range r.Findings {
			s.String(f.Rule)
			s.String(f.Severity)
			s.String(f.OWASP)
			s.String(f.Message)
		}
	}
	for _, v := range [...]string{r.Reviewer, r.Decision, r.DecidedBy, r.DecidedAt} {
		s.String(v)
	}
	s.Int(r.Event)
	for _, v := range [...]string{r.Via, r.Reason, r.Carried, r.CarriedWhy} {
		s.String(v)
	}
	s.Strings(r.Flags)
	s.String(r.SignedBy)
	s.String(r.Verification)
	s.Int(r.VerifiedSnapshot)
	s.Int(r.VerifyEvent)
	s.Bool(r.Overdue)
	for _, v := range [...]string{r.ClosedAt, r.ExceptionExpires, r.ExceptionApprovedBy, r.ExceptionState, r.ExceptionNotApproved, r.EscalatedTo, r.CurrentID, r.VerificationReason} {
		s.String(v)
	}
	s.Int(r.EscalateEvent)
}

func writeHistory(s *spool.Writer, h *HistoryEntry) {
	s.Int(int64(h.N))
	s.String(h.ID)
	s.Int(h.Event)
	for _, v := range [...]string{h.Type, h.At, h.Actor, h.Action, h.Decision, h.Via, h.Reason, h.Filter} {
		s.String(v)
	}
	s.Int(h.Undoes)
	s.String(h.Outcome)
	s.Int(h.By)
	s.Bool(h.Other)
	s.String(h.Detail)
}

// rowReader reads back what writeRow and writeHistory wrote.
type rowReader struct {
	*spool.Reader
	transient bool      // see spool.Open
	findings  []Finding // a transient row's
}

func (d *rowReader) row(r *Row) error {
	d.Next()
	r.N = int(d.Int())
	for _, p := range [...]*string{&r.ID, &r.Kind, &r.KindLabel, &r.Name, &r.Scope, &r.Owner, &r.Holder, &r.Permissions} {
		*p = d.String()
	}
	if n := d.Int(); n < 0 {
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
			f.Rule, f.Severity, f.OWASP, f.Message = d.String(), d.String(), d.String(), d.String()
		}
	}
	for _, p := range [...]*string{&r.Reviewer, &r.Decision, &r.DecidedBy, &r.DecidedAt} {
		*p = d.String()
	}
	r.Event = d.Int()
	for _, p := range [...]*string{&r.Via, &r.Reason, &r.Carried, &r.CarriedWhy} {
		*p = d.String()
	}
	r.Flags = d.Strings()
	r.SignedBy = d.String()
	r.Verification = d.String()
	r.VerifiedSnapshot = d.Int()
	r.VerifyEvent = d.Int()
	r.Overdue = d.Bool()
	for _, p := range [...]*string{&r.ClosedAt, &r.ExceptionExpires, &r.ExceptionApprovedBy, &r.ExceptionState, &r.ExceptionNotApproved, &r.EscalatedTo, &r.CurrentID, &r.VerificationReason} {
		*p = d.String()
	}
	r.EscalateEvent = d.Int()
	return d.Err()
}

func (d *rowReader) history(h *HistoryEntry) error {
	d.Next()
	h.N = int(d.Int())
	h.ID = d.String()
	h.Event = d.Int()
	for _, p := range [...]*string{&h.Type, &h.At, &h.Actor, &h.Action, &h.Decision, &h.Via, &h.Reason, &h.Filter} {
		*p = d.String()
	}
	h.Undoes = d.Int()
	h.Outcome = d.String()
	h.By = d.Int()
	h.Other = d.Bool()
	h.Detail = d.String()
	return d.Err()
}
