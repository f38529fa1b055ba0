package report

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"

	"github.com/nhi-audit/nhi/audit"
)

// WriteJSON writes the report as JSON: indented as json.MarshalIndent
// would, except that each row of the long lists (register, decision
// history, exceptions, decommissions) is one compact line, so the file stays readable, diffable
// and fast to write at 100,000 rows. It streams: the fields of Report and
// Remediation are written in order, the rows one at a time. <, > and & are
// escaped (\u003c ...) like every encoding/json output.
func (r *Report) WriteJSON(out io.Writer) error {
	w := bufio.NewWriterSize(out, 1<<16)
	if err := writeObject(w, r, reflect.ValueOf(r).Elem(), 0, r.awaitDataFiles); err != nil {
		return err
	}
	w.WriteByte('\n')
	return w.Flush()
}

// writeObject writes the struct v at the given depth of indentation: a
// []Row or []HistoryEntry field as one line an element, a Remediation field field by field, any
// other field as json.MarshalIndent writes it there; unexported fields are
// not part of it. It calls wait before an Integrity field.
func writeObject(w *bufio.Writer, r *Report, v reflect.Value, depth int, wait func()) error {
	indent := strings.Repeat("  ", depth+1)
	w.WriteByte('{')
	var row []byte
	written := 0
	for i := 0; i < v.NumField(); i++ {
		f := v.Type().Field(i)
		if !f.IsExported() {
			continue // not part of the report (dataFiles)
		}
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Tag.Get("json") == "-" {
			continue // written elsewhere (Report.Signatures: signatures.jsonl)
		}
		if name == "" || name == "-" || opts != "" {
			return fmt.Errorf("report JSON: field %s.%s needs a plain json tag to be written", v.Type().Name(), f.Name)
		}
		if written > 0 {
			w.WriteByte(',')
		}
		written++
		if f.Type == reflect.TypeFor[Integrity]() {
			wait() // the CSV tables' hashes are listed there
		}
		w.WriteString("\n" + indent + string(audit.AppendJSONString(nil, name, true)) + ": ")
		switch fv := v.Field(i).Interface().(type) {
		case []Row:
			t, ok := rowTables[name]
			if !ok {
				return fmt.Errorf("report JSON: no table of rows %q", name)
			}
			var err error
			if row, err = writeLines(w, r.count(t), row, indent, appendRow, func(fn func(*Row)) error { return r.eachRow(t, fn) }); err != nil {
				return err
			}
		case []HistoryEntry:
			var err error
			if row, err = writeLines(w, r.count(tableHistory), row, indent, appendHistory, r.eachHistory); err != nil {
				return err
			}
		case Remediation:
			if err := writeObject(w, r, v.Field(i), depth+1, wait); err != nil {
				return err
			}
		default:
			b, err := json.MarshalIndent(fv, indent, "  ")
			if err != nil {
				return fmt.Errorf("report JSON: %s: %w", name, err)
			}
			w.Write(b)
		}
	}
	w.WriteString("\n" + indent[2:] + "}")
	return nil
}

// rowTables are the JSON fields of the long tables of rows.
var rowTables = map[string]table{"decision_register": tableRegister, "exceptions": tableExceptions, "decommissions": tableDecommissions}

// writeLines writes the n elements each gives as a JSON array at indent,
// one compact element a line (appendElem writes one into buf, which is
// reused and returned).
func writeLines[T any](w *bufio.Writer, n int, buf []byte, indent string, appendElem func([]byte, *T) []byte, each func(func(*T)) error) ([]byte, error) {
	if n == 0 {
		w.WriteString("[]")
		return buf, nil
	}
	w.WriteString("[\n")
	elemIndent := indent + "  "
	k := 0
	err := each(func(e *T) {
		buf = appendElem(buf[:0], e)
		w.WriteString(elemIndent)
		w.Write(buf)
		if k < n-1 {
			w.WriteByte(',')
		}
		w.WriteByte('\n')
		k++
	})
	w.WriteString(indent + "]")
	return buf, err
}

// appendRow appends r as compact JSON, byte for byte what json.Marshal
// writes for a Row (TestRowJSON holds it to that), without reflection: the
// register of a 100,000-item campaign is most of the report.
func appendRow(b []byte, r *Row) []byte {
	b = append(b, `{"n":`...)
	b = strconv.AppendInt(b, int64(r.N), 10)
	b = appendField(b, "id", r.ID)
	if r.CurrentID != "" { // omitempty, as the struct tag says: only a renamed item has it
		b = appendField(b, "current_id", r.CurrentID)
	}
	b = appendField(b, "kind", r.Kind)
	b = appendField(b, "kind_label", r.KindLabel)
	b = appendField(b, "name", r.Name)
	b = appendField(b, "scope", r.Scope)
	b = appendField(b, "owner", r.Owner)
	b = appendField(b, "holder", r.Holder)
	b = appendField(b, "permissions", r.Permissions)
	b = append(b, `,"findings":`...)
	b = appendList(b, r.Findings, appendFinding)
	b = appendField(b, "reviewer", r.Reviewer)
	b = appendField(b, "decision", r.Decision)
	b = appendField(b, "decided_by", r.DecidedBy)
	b = appendField(b, "decided_at", r.DecidedAt)
	b = append(b, `,"event":`...)
	b = strconv.AppendInt(b, r.Event, 10)
	b = appendField(b, "via", r.Via)
	b = appendField(b, "justification", r.Reason)
	b = appendField(b, "carried", r.Carried)
	b = appendField(b, "carried_justification", r.CarriedWhy)
	b = append(b, `,"flags":`...)
	b = appendList(b, r.Flags, func(b []byte, f *string) []byte { return audit.AppendJSONString(b, *f, true) })
	b = appendField(b, "signed_by", r.SignedBy)
	b = appendField(b, "verification", r.Verification)
	b = append(b, `,"verified_snapshot":`...)
	b = strconv.AppendInt(b, r.VerifiedSnapshot, 10)
	b = append(b, `,"verify_event":`...)
	b = strconv.AppendInt(b, r.VerifyEvent, 10)
	if r.VerificationReason != "" {
		b = appendField(b, "verification_reason", r.VerificationReason)
	}
	b = append(b, `,"overdue":`...)
	b = strconv.AppendBool(b, r.Overdue)
	b = appendField(b, "closed_at", r.ClosedAt)
	// omitempty, as the struct tags say: only exception rows have them.
	for _, f := range [...]struct{ key, value string }{
		{"exception_expires", r.ExceptionExpires}, {"exception_approved_by", r.ExceptionApprovedBy}, {"exception_state", r.ExceptionState},
		{"exception_not_approved", r.ExceptionNotApproved},
	} {
		if f.value != "" {
			b = appendField(b, f.key, f.value)
		}
	}
	if r.EscalatedTo != "" {
		b = appendField(b, "escalated_to", r.EscalatedTo)
	}
	if r.EscalateEvent != 0 {
		b = append(b, `,"escalate_event":`...)
		b = strconv.AppendInt(b, r.EscalateEvent, 10)
	}
	return append(b, '}')
}

// appendList appends elems as a compact JSON array, null when nil, as
// json.Marshal writes a slice (appendElem writes one element); writeLines
// is its one-element-a-line counterpart for the report's long lists.
func appendList[T any](b []byte, elems []T, appendElem func([]byte, *T) []byte) []byte {
	if elems == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for k := range elems {
		if k > 0 {
			b = append(b, ',')
		}
		b = appendElem(b, &elems[k])
	}
	return append(b, ']')
}

func appendFinding(b []byte, f *Finding) []byte {
	b = append(b, `{"rule":`...)
	b = audit.AppendJSONString(b, f.Rule, true)
	b = appendField(b, "severity", f.Severity)
	b = appendField(b, "owasp", f.OWASP)
	b = appendField(b, "message", f.Message)
	return append(b, '}')
}

func appendField(b []byte, key, value string) []byte {
	b = append(b, ',', '"')
	b = append(b, key...)
	b = append(b, '"', ':')
	return audit.AppendJSONString(b, value, true)
}

// appendHistory appends h as compact JSON, byte for byte what json.Marshal
// writes for a HistoryEntry (TestRowJSON holds it to that): a
// 100,000-item campaign has a history entry an item at least.
func appendHistory(b []byte, h *HistoryEntry) []byte {
	b = append(b, `{"n":`...)
	b = strconv.AppendInt(b, int64(h.N), 10)
	b = appendField(b, "id", h.ID)
	b = append(b, `,"event":`...)
	b = strconv.AppendInt(b, h.Event, 10)
	b = appendField(b, "type", h.Type)
	b = appendField(b, "at", h.At)
	b = appendField(b, "actor", h.Actor)
	b = appendField(b, "action", h.Action)
	b = appendField(b, "decision", h.Decision)
	b = appendField(b, "via", h.Via)
	b = appendField(b, "justification", h.Reason)
	b = appendField(b, "filter", h.Filter)
	b = append(b, `,"undoes":`...)
	b = strconv.AppendInt(b, h.Undoes, 10)
	b = appendField(b, "outcome", h.Outcome)
	b = append(b, `,"by":`...)
	b = strconv.AppendInt(b, h.By, 10)
	b = append(b, `,"conflict":`...)
	b = strconv.AppendBool(b, h.Other)
	b = appendField(b, "detail", h.Detail)
	return append(b, '}')
}
