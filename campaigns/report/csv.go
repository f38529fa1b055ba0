package report

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// The CSV tables. Every cell is text that already went through
// audit.Printable; csvCell neutralises what a spreadsheet would run.

// CSV files of a bundle, in the order they are written.
const (
	FileDecisions   = "decisions.csv"
	FilePopulation  = "population.csv"
	FileExceptions  = "exceptions.csv"
	FileRemediation = "remediation.csv"
	FileReviewers   = "reviewers.csv"
	FileNotes       = "notes.csv"
	FileHistory     = "history.csv"
)

// CSVFiles lists the CSV tables of a bundle.
var CSVFiles = []string{FileDecisions, FilePopulation, FileExceptions, FileRemediation, FileReviewers, FileNotes, FileHistory}

// csvCell neutralises a cell a spreadsheet would read as a formula: one
// whose first character, after any spaces, is = + - @, a tab or a carriage
// return gets a leading apostrophe (the OWASP CSV-injection rule), which
// spreadsheets show as text and do not display.
func csvCell(s string) string {
	t := strings.TrimLeft(s, " ")
	if t != "" && strings.ContainsRune("=+-@\t\r", rune(t[0])) {
		return "'" + s
	}
	return s
}

type csvTable struct {
	w   *csv.Writer
	rec []string
}

func newCSV(out io.Writer, header ...string) *csvTable {
	t := &csvTable{w: csv.NewWriter(out)}
	_ = t.w.Write(header)
	return t
}

// row writes one record; text cells are neutralised, numbers are not
// (they come from nhi, never from an API).
func (t *csvTable) row(cells ...any) {
	t.rec = t.rec[:0]
	for _, c := range cells {
		switch v := c.(type) {
		case string:
			t.rec = append(t.rec, csvCell(v))
		case int:
			t.rec = append(t.rec, strconv.Itoa(v))
		case int64:
			t.rec = append(t.rec, strconv.FormatInt(v, 10))
		case bool:
			t.rec = append(t.rec, strconv.FormatBool(v))
		default:
			panic("report: unsupported CSV cell type")
		}
	}
	_ = t.w.Write(t.rec)
}

func (t *csvTable) flush() error {
	t.w.Flush()
	return t.w.Error()
}

func seqCell(n int64) string {
	if n == 0 {
		return ""
	}
	return strconv.FormatInt(n, 10)
}

// findingList is "rule (severity, OWASP); ...", with each message when
// withMessages.
func findingList(fs []Finding, withMessages bool) string {
	var b strings.Builder
	for i, f := range fs {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(f.Rule)
		b.WriteString(" (")
		b.WriteString(f.Severity)
		if f.OWASP != "" {
			b.WriteString(", ")
			b.WriteString(f.OWASP)
		}
		b.WriteString(")")
		if withMessages && f.Message != "" {
			b.WriteString(": ")
			b.WriteString(f.Message)
		}
	}
	return b.String()
}

// WriteCSV writes one of the CSV tables (CSVFiles).
func (r *Report) WriteCSV(name string, out io.Writer) error {
	switch name {
	case FileDecisions:
		t := newCSV(out, "n", "identity_id", "kind", "name", "scope", "owner", "holder", "findings", "decision", "reviewer",
			"decided_by", "decided_at", "event", "via", "justification", "carried", "flags", "verification", "overdue", "signed_by", "closed_at")
		err := r.eachRow(tableRegister, func(w *Row) {
			t.row(w.N, w.ID, w.Kind, w.Name, w.Scope, w.Owner, w.Holder, findingList(w.Findings, false), w.Decision, w.Reviewer,
				w.DecidedBy, w.DecidedAt, seqCell(w.Event), w.Via, w.Reason, w.Carried, strings.Join(w.Flags, " "), w.Verification, w.Overdue, w.SignedBy, w.ClosedAt)
		})
		return errors.Join(err, t.flush())
	case FilePopulation:
		t := newCSV(out, "n", "identity_id", "kind", "name", "scope", "owner", "holder", "permissions", "findings", "reviewer",
			"carried", "carried_justification")
		err := r.eachRow(tableRegister, func(w *Row) {
			t.row(w.N, w.ID, w.Kind, w.Name, w.Scope, w.Owner, w.Holder, w.Permissions, findingList(w.Findings, true), w.Reviewer,
				w.Carried, w.CarriedWhy)
		})
		return errors.Join(err, t.flush())
	case FileExceptions:
		head := []string{"n", "identity_id", "kind", "name", "scope", "owner", "holder", "findings", "decision", "reviewer",
			"decided_by", "decided_at", "event", "justification", "flags", "expires", "approved_by", "exception_state"}
		// not_approved only where an approval approves nothing, so a
		// report without one is as before (Summary.ExceptionsNotApproved).
		notApproved := r.Attestation.Summary.ExceptionsNotApproved > 0
		if notApproved {
			head = append(head, "not_approved")
		}
		t := newCSV(out, head...)
		err := r.eachRow(tableExceptions, func(w *Row) {
			cells := []any{w.N, w.ID, w.Kind, w.Name, w.Scope, w.Owner, w.Holder, findingList(w.Findings, true), w.Decision, w.Reviewer,
				w.DecidedBy, w.DecidedAt, seqCell(w.Event), w.Reason, strings.Join(w.Flags, " "),
				w.ExceptionExpires, w.ExceptionApprovedBy, w.ExceptionState}
			if notApproved {
				cells = append(cells, w.ExceptionNotApproved)
			}
			t.row(cells...)
		})
		return errors.Join(err, t.flush())
	case FileRemediation:
		t := newCSV(out, "n", "identity_id", "kind", "name", "scope", "decided_by", "decided_at", "event", "state",
			"checked_by_snapshot", "verify_event", "due", "overdue", "reason")
		err := r.eachRow(tableDecommissions, func(w *Row) {
			t.row(w.N, w.ID, w.Kind, w.Name, w.Scope, r.Attestation.remediationDecider(w), w.DecidedAt, seqCell(w.Event), w.Verification,
				seqCell(w.VerifiedSnapshot), seqCell(w.VerifyEvent), r.Attestation.Due, w.Overdue, w.VerificationReason)
		})
		return errors.Join(err, t.flush())
	case FileReviewers:
		t := newCSV(out, "reviewer", "listed", "assigned", "decisions", "decommission", "keep", "rotate", "for_others", "no_response",
			"events", "median_interval", "median_interval_seconds", "bulk", "bulk_share", "decided_with_findings",
			"kept_with_findings", "kept_with_findings_share", "peak_decisions_per_minute", "marks")
		for _, s := range r.Reviewers.Rows {
			med := ""
			if s.MedianSeconds >= 0 {
				med = strconv.FormatInt(s.MedianSeconds, 10)
			}
			t.row(s.Reviewer, s.Listed, s.Assigned, s.Decisions, s.Decommission, s.Keep, s.Rotate, s.ForOthers, s.NoResponse,
				s.Events, dashless(s.MedianInterval), med, s.Bulk, dashless(s.BulkShare), s.DecidedFindings, s.KeptFindings,
				dashless(s.KeptFindingShare), s.PeakPerMinute, strings.Join(s.Marks, " "))
		}
		return t.flush()
	case FileNotes:
		t := newCSV(out, "n", "identity_id", "name", "event", "at", "actor", "note")
		for _, n := range r.Notes {
			t.row(n.N, n.ID, n.Name, seqCell(n.Event), n.At, n.Actor, n.Text)
		}
		return t.flush()
	case FileHistory:
		t := newCSV(out, "n", "identity_id", "event", "type", "at", "actor", "action", "decision", "via", "justification",
			"filter", "undoes", "outcome", "by_event", "conflict", "detail")
		err := r.eachHistory(func(h *HistoryEntry) {
			t.row(h.N, h.ID, seqCell(h.Event), h.Type, h.At, h.Actor, h.Action, h.Decision, h.Via, h.Reason,
				h.Filter, seqCell(h.Undoes), h.Outcome, seqCell(h.By), h.Other, h.Detail)
		})
		return errors.Join(err, t.flush())
	}
	return fmt.Errorf("report: no CSV table %q", name)
}

// dashless is "" for the "—" of a value that does not apply.
func dashless(s string) string {
	if s == "—" {
		return ""
	}
	return s
}
