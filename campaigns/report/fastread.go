package report

import (
	"encoding/json"
	"io"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/nhi-audit/nhi/internal/jsonscan"
)

// The fast reader of report.json (docs/performance.md, "Reading JSON
// back"): what WriteJSON writes, read with internal/jsonscan into the
// same report encoding/json's reader (jsonReader.decode) reads, the rows
// of the long tables field by field without reflection. It takes only what the writer writes: each key once,
// as its field's tag spells it; in a row, each value of its field's JSON
// type, a number of an integer field an integer, no null but for a list.
// At anything else it says false, having stopped, and the file is read
// again with encoding/json's reader, so that what is accepted and refused,
// and the messages, are that reader's.

// fastReport reads report.json, as decode does.
func (rd *jsonReader) fastReport(s *jsonscan.Scanner) bool {
	s.Space()
	if !s.Eat('{') || !rd.fastObject(s, reflect.ValueOf(rd.r).Elem()) {
		return false
	}
	s.Space()
	return s.AtEnd() && s.Err() == nil
}

// fastObject reads the fields of the struct v from an object whose
// opening brace was read, as object does.
func (rd *jsonReader) fastObject(s *jsonscan.Scanner, v reflect.Value) bool {
	fields := jsonFields(v.Type())
	read := map[int]bool{}
	s.Space()
	if s.Eat('}') {
		return true
	}
	for {
		s.Space()
		raw, plain, ok := s.Raw()
		if !ok || !plain {
			return false
		}
		key := string(raw)
		i, known := fields[key]
		if !known || read[i] {
			return false
		}
		read[i] = true
		s.Space()
		if !s.Eat(':') {
			return false
		}
		s.Space()
		fv := v.Field(i)
		switch fv.Interface().(type) {
		case []Row:
			t, ok := rowTables[key]
			if !ok || rd.once(key) != nil {
				return false
			}
			page := fv.Addr().Interface().(*[]Row)
			ok = fastList(s, func() bool {
				var x Row
				if !fastRow(s, &x) {
					return false
				}
				rd.addRow(t, page, &x)
				return true
			})
			if !ok {
				return false
			}
		case []HistoryEntry:
			if rd.once(key) != nil {
				return false
			}
			ok := fastList(s, func() bool {
				var h HistoryEntry
				if !fastHistory(s, &h) {
					return false
				}
				rd.addEntry(&h)
				return true
			})
			if !ok {
				return false
			}
		case Remediation:
			if !s.Eat('{') || !rd.fastObject(s, fv) {
				return false
			}
		default:
			val, ok := s.Value()
			if !ok || json.Unmarshal(val, fv.Addr().Interface()) != nil {
				return false
			}
		}
		s.Space()
		if s.Eat('}') {
			return true
		}
		if !s.Eat(',') {
			return false
		}
	}
}

// fastList reads a list element by element (each reads one); null is an
// empty list, as list reads it.
func fastList(s *jsonscan.Scanner, each func() bool) bool {
	switch s.Peek() {
	case 'n':
		return s.Word("null")
	case '[':
		s.Next()
	default:
		return false
	}
	s.Space()
	if s.Eat(']') {
		return true
	}
	for {
		s.Space()
		if !each() {
			return false
		}
		s.Space()
		if s.Eat(']') {
			return true
		}
		if !s.Eat(',') {
			return false
		}
	}
}

// fastFields reads an object key by key: field reads the value of a key
// (after its colon) and says false at a key it does not know. A key twice
// is not taken.
func fastFields(s *jsonscan.Scanner, field func(key []byte, seen *uint64) bool) bool {
	if !s.Eat('{') {
		return false
	}
	var seen uint64
	s.Space()
	if s.Eat('}') {
		return true
	}
	for {
		s.Space()
		raw, plain, ok := s.Raw()
		if !ok || !plain {
			return false
		}
		if !field(raw, &seen) {
			return false
		}
		s.Space()
		if s.Eat('}') {
			return true
		}
		if !s.Eat(',') {
			return false
		}
	}
}

// fieldReader reads the values of an object's fields into their Go
// variables, for fastFields.
type fieldReader struct {
	s    *jsonscan.Scanner
	seen *uint64
}

// key takes field k (a bit of seen) once, and reads past the colon.
func (f fieldReader) key(k uint) bool {
	if *f.seen&(1<<k) != 0 {
		return false
	}
	*f.seen |= 1 << k
	f.s.Space()
	if !f.s.Eat(':') {
		return false
	}
	f.s.Space()
	return true
}

func (f fieldReader) str(k uint, p *string) bool {
	if !f.key(k) || f.s.Peek() != '"' {
		return false
	}
	_, text, ok := f.s.Str()
	*p = text
	return ok
}

func (f fieldReader) int64(k uint, p *int64) bool {
	if !f.key(k) {
		return false
	}
	n, ok := f.s.Int()
	*p = n
	return ok
}

func (f fieldReader) int(k uint, p *int) bool {
	var n int64
	if !f.int64(k, &n) || int64(int(n)) != n {
		return false
	}
	*p = int(n)
	return true
}

func (f fieldReader) bool(k uint, p *bool) bool {
	if !f.key(k) {
		return false
	}
	switch f.s.Peek() {
	case 't':
		*p = true
		return f.s.Word("true")
	case 'f':
		*p = false
		return f.s.Word("false")
	}
	return false
}

// list reads null (nil) or a list, [] an empty one that is not nil, as
// encoding/json reads a slice.
func list[T any](f fieldReader, k uint, p *[]T, elem func(*T) bool) bool {
	if !f.key(k) {
		return false
	}
	if f.s.Peek() == 'n' {
		*p = nil
		return f.s.Word("null")
	}
	*p = []T{}
	return fastList(f.s, func() bool {
		var e T
		if !elem(&e) {
			return false
		}
		*p = append(*p, e)
		return true
	})
}

// fastRow reads a row of a long table, as json.Decoder.Decode does.
func fastRow(s *jsonscan.Scanner, x *Row) bool {
	return fastFields(s, func(key []byte, seen *uint64) bool {
		f := fieldReader{s, seen}
		switch string(key) {
		case "n":
			return f.int(0, &x.N)
		case "id":
			return f.str(1, &x.ID)
		case "current_id":
			return f.str(2, &x.CurrentID)
		case "kind":
			return f.str(3, &x.Kind)
		case "kind_label":
			return f.str(4, &x.KindLabel)
		case "name":
			return f.str(5, &x.Name)
		case "scope":
			return f.str(6, &x.Scope)
		case "owner":
			return f.str(7, &x.Owner)
		case "holder":
			return f.str(8, &x.Holder)
		case "permissions":
			return f.str(9, &x.Permissions)
		case "findings":
			return list(f, 10, &x.Findings, func(e *Finding) bool { return fastFinding(s, e) })
		case "reviewer":
			return f.str(11, &x.Reviewer)
		case "decision":
			return f.str(12, &x.Decision)
		case "decided_by":
			return f.str(13, &x.DecidedBy)
		case "decided_at":
			return f.str(14, &x.DecidedAt)
		case "event":
			return f.int64(15, &x.Event)
		case "via":
			return f.str(16, &x.Via)
		case "justification":
			return f.str(17, &x.Reason)
		case "carried":
			return f.str(18, &x.Carried)
		case "carried_justification":
			return f.str(19, &x.CarriedWhy)
		case "flags":
			return list(f, 20, &x.Flags, func(e *string) bool {
				if s.Peek() != '"' {
					return false
				}
				_, text, ok := s.Str()
				*e = text
				return ok
			})
		case "signed_by":
			return f.str(21, &x.SignedBy)
		case "verification":
			return f.str(22, &x.Verification)
		case "verified_snapshot":
			return f.int64(23, &x.VerifiedSnapshot)
		case "verify_event":
			return f.int64(24, &x.VerifyEvent)
		case "overdue":
			return f.bool(25, &x.Overdue)
		case "closed_at":
			return f.str(26, &x.ClosedAt)
		case "exception_expires":
			return f.str(27, &x.ExceptionExpires)
		case "exception_approved_by":
			return f.str(28, &x.ExceptionApprovedBy)
		case "exception_state":
			return f.str(29, &x.ExceptionState)
		case "escalated_to":
			return f.str(30, &x.EscalatedTo)
		case "escalate_event":
			return f.int64(31, &x.EscalateEvent)
		case "verification_reason":
			return f.str(32, &x.VerificationReason)
		case "exception_not_approved":
			return f.str(33, &x.ExceptionNotApproved)
		}
		return false
	})
}

// fastFinding reads a finding of a row.
func fastFinding(s *jsonscan.Scanner, x *Finding) bool {
	return fastFields(s, func(key []byte, seen *uint64) bool {
		f := fieldReader{s, seen}
		switch string(key) {
		case "rule":
			return f.str(0, &x.Rule)
		case "severity":
			return f.str(1, &x.Severity)
		case "owasp":
			return f.str(2, &x.OWASP)
		case "message":
			return f.str(3, &x.Message)
		}
		return false
	})
}

// fastHistory reads an entry of the decision history.
func fastHistory(s *jsonscan.Scanner, x *HistoryEntry) bool {
	return fastFields(s, func(key []byte, seen *uint64) bool {
		f := fieldReader{s, seen}
		switch string(key) {
		case "n":
			return f.int(0, &x.N)
		case "id":
			return f.str(1, &x.ID)
		case "event":
			return f.int64(2, &x.Event)
		case "type":
			return f.str(3, &x.Type)
		case "at":
			return f.str(4, &x.At)
		case "actor":
			return f.str(5, &x.Actor)
		case "action":
			return f.str(6, &x.Action)
		case "decision":
			return f.str(7, &x.Decision)
		case "via":
			return f.str(8, &x.Via)
		case "justification":
			return f.str(9, &x.Reason)
		case "filter":
			return f.str(10, &x.Filter)
		case "undoes":
			return f.int64(11, &x.Undoes)
		case "outcome":
			return f.str(12, &x.Outcome)
		case "by":
			return f.int64(13, &x.By)
		case "conflict":
			return f.bool(14, &x.Other)
		case "detail":
			return f.str(15, &x.Detail)
		}
		return false
	})
}

// fastSignedRow reads a row of the register into a signedRow, as
// json.Decoder.Decode does: the values of its fields as fastRow reads
// them, those of the row's other fields checked and passed over.
func fastSignedRow(s *jsonscan.Scanner, x *signedRow) bool {
	return fastFields(s, func(key []byte, seen *uint64) bool {
		f := fieldReader{s, seen}
		switch string(key) {
		case "n":
			return f.int(0, &x.N)
		case "id":
			return f.str(1, &x.ID)
		case "decision":
			return f.str(2, &x.Decision)
		case "justification":
			return f.str(3, &x.Reason)
		case "decided_by":
			return f.str(4, &x.DecidedBy)
		case "event":
			return f.int64(5, &x.Event)
		case "via":
			return f.str(6, &x.Via)
		case "signed_by":
			return f.str(7, &x.SignedBy)
		}
		if i, ok := otherRowKeys[string(key)]; ok {
			return f.key(signedRowBits+uint(i)) && s.Skip()
		}
		return false
	})
}

// signedRowBits is how many of fastSignedRow's seen bits signedRow's own
// keys take (0 to 7, in its switch); the other keys of a row follow.
const signedRowBits = 8

// otherRowKeys numbers the keys of a row (Row's) that signedRow has
// not, from their tags, so a key Row gains is passed over here too.
var otherRowKeys = func() map[string]int {
	signed := jsonFields(reflect.TypeFor[signedRow]())
	if len(signed) != signedRowBits {
		// A key signedRow gains needs its case and bit in fastSignedRow.
		panic("report: signedRow's keys are not the signedRowBits fastSignedRow numbers")
	}
	m := map[string]int{}
	for _, k := range slices.Sorted(maps.Keys(jsonFields(reflect.TypeFor[Row]()))) {
		if _, ok := signed[k]; !ok {
			m[k] = len(m)
		}
	}
	if signedRowBits+len(m) > 64 {
		panic("report: a row has more keys than fastSignedRow's seen bits")
	}
	return m
}()

// fastSignedRows reads the signed rows of report.json, as readSignedRows
// does, or says errNotFast: at a register key in another case or twice,
// and at anything fastReport does not take in a row of the register.
func fastSignedRows(in io.Reader) ([]signedRow, error) {
	s := jsonscan.New(in)
	var rows []signedRow
	register := func() bool {
		var x signedRow
		if !fastSignedRow(s, &x) {
			return false
		}
		if x.SignedBy != "" {
			rows = append(rows, x)
		}
		return true
	}
	read := false
	s.Space()
	ok := fastFields(s, func(key []byte, _ *uint64) bool {
		isRegister := string(key) == registerKey
		if isRegister && read || !isRegister && strings.EqualFold(string(key), registerKey) {
			return false
		}
		s.Space()
		if !s.Eat(':') {
			return false
		}
		s.Space()
		if isRegister {
			read = true
			return fastList(s, register)
		}
		return s.Skip()
	})
	s.Space()
	if !ok || !s.AtEnd() || s.Err() != nil {
		return nil, errNotFast
	}
	return rows, nil
}
