package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// WriteJSON writes the report as JSON: indented, except that each row of
// the long lists (register, exceptions, decommissions) is one compact line,
// so the file stays readable, diffable and fast to write at 100,000 rows.
// <, > and & are escaped (\u003c ...) like every encoding/json output.
func (r *Report) WriteJSON(out io.Writer) error {
	shell := *r
	shell.Register, shell.Exceptions, shell.Remediation.Rows = nil, nil, nil
	b, err := json.MarshalIndent(&shell, "", "  ")
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(out, 1<<16)
	for _, l := range []struct {
		line string
		rows []Row
	}{
		{`  "decision_register": null,`, r.Register},
		{`  "exceptions": null,`, r.Exceptions},
		{`    "decommissions": null`, r.Remediation.Rows},
	} {
		// The one line that is exactly l.line: a string value cannot hold
		// a newline, so no value can look like it.
		full := []byte("\n" + l.line + "\n")
		i := bytes.Index(b, full)
		if i < 0 || bytes.Contains(b[i+1:], full) {
			return fmt.Errorf("report JSON: cannot place %q", l.line)
		}
		w.Write(b[:i+1])
		b = b[i+len(full)-1:]
		trimmed := strings.TrimLeft(l.line, " ")
		indent := l.line[:len(l.line)-len(trimmed)]
		key, _, _ := strings.Cut(trimmed, ": null")
		w.WriteString(indent + key)
		if len(l.rows) == 0 {
			w.WriteString(": []")
		} else {
			w.WriteString(": [\n")
			var row []byte
			for k := range l.rows {
				row = appendRow(row[:0], &l.rows[k])
				w.WriteString(indent + "  ")
				w.Write(row)
				if k < len(l.rows)-1 {
					w.WriteByte(',')
				}
				w.WriteByte('\n')
			}
			w.WriteString(indent + "]")
		}
		if strings.HasSuffix(l.line, ",") {
			w.WriteByte(',')
		}
	}
	w.Write(b)
	w.WriteByte('\n')
	return w.Flush()
}

// appendRow appends r as compact JSON, byte for byte what json.Marshal
// writes for a Row (TestRowJSON holds it to that), without reflection: the
// register of a 100,000-item campaign is most of the report.
func appendRow(b []byte, r *Row) []byte {
	b = append(b, `{"n":`...)
	b = strconv.AppendInt(b, int64(r.N), 10)
	b = appendField(b, "id", r.ID)
	b = appendField(b, "kind", r.Kind)
	b = appendField(b, "kind_label", r.KindLabel)
	b = appendField(b, "name", r.Name)
	b = appendField(b, "scope", r.Scope)
	b = appendField(b, "owner", r.Owner)
	b = appendField(b, "holder", r.Holder)
	b = appendField(b, "permissions", r.Permissions)
	b = append(b, `,"findings":`...)
	if r.Findings == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range r.Findings {
			f := &r.Findings[i]
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"rule":`...)
			b = appendString(b, f.Rule)
			b = appendField(b, "severity", f.Severity)
			b = appendField(b, "owasp", f.OWASP)
			b = appendField(b, "message", f.Message)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
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
	if r.Flags == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, f := range r.Flags {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, f)
		}
		b = append(b, ']')
	}
	b = appendField(b, "verification", r.Verification)
	b = append(b, `,"verified_snapshot":`...)
	b = strconv.AppendInt(b, r.VerifiedSnapshot, 10)
	b = append(b, `,"verify_event":`...)
	b = strconv.AppendInt(b, r.VerifyEvent, 10)
	b = append(b, `,"overdue":`...)
	b = strconv.AppendBool(b, r.Overdue)
	return append(b, '}')
}

func appendField(b []byte, key, value string) []byte {
	b = append(b, ',', '"')
	b = append(b, key...)
	b = append(b, '"', ':')
	return appendString(b, value)
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string the way encoding/json does:
// <, >, & and U+2028/U+2029 as \u escapes, control characters as \n, \t,
// ... or \u00XX, invalid UTF-8 as U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
