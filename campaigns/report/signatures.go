package report

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/sshsig"
)

// Decision signatures in the bundle (docs/report.md, "How an auditor
// verifies the bundle"): signatures.jsonl carries, for every signed event
// in the items' trails, the bytes that were signed, the SSHSIG signature
// and the signer's key as the directory of people recorded it at that
// event, so VerifyBundle re-checks each decision's signature without the
// evidence file.

// FileSignatures is the bundle's file of signed decision events, one JSON
// object a line (audit.SignedRecord); absent when nothing was signed.
const FileSignatures = "signatures.jsonl"

// writeSignatures writes signatures.jsonl.
func (r *Report) writeSignatures(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for i := range r.Signatures {
		if err := enc.Encode(&r.Signatures[i]); err != nil {
			return err
		}
	}
	return nil
}

// checkDecisionSignatures re-checks every signature of signatures.jsonl
// offline: over the bytes it carries, in the nhi-decision namespace, by the
// key the event's payload claims, which must be the signer's key in the
// directory at that event (or listed for them in the allowed signers
// given); and every signed decision of report.json must be among them,
// about the same item, by the same person.
func checkDecisionSignatures(dir string, m *Manifest, opts VerifyOptions, res *BundleResult) {
	const subject = FileSignatures
	listed := slices.ContainsFunc(m.Files, func(f FileHash) bool { return f.Path == FileSignatures })
	signedRows, rowsKnown := signedRowsOf(dir, m)
	if !listed {
		if len(signedRows) > 0 {
			res.fail(subject, "missing, yet report.json has %s: the bundle cannot prove %s without it", audit.Counted(len(signedRows), "signed decision", "signed decisions"), audit.Plural(len(signedRows), "it", "them"))
		}
		return
	}
	f, err := os.Open(filepath.Join(dir, FileSignatures))
	if err != nil {
		return // checkFiles already failed it
	}
	defer f.Close()
	bySeq := map[int64]audit.SignedRecord{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 16<<20)
	line, good, pinned, bad := 0, 0, 0, 0
	for sc.Scan() {
		line++
		var rec audit.SignedRecord
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			res.fail(subject, "line %d cannot be read: %v", line, err)
			bad++
			continue
		}
		bySeq[rec.Seq] = rec
		ok, pin, why := checkSignedRecord(&rec, opts.AllowedSigners)
		if !ok {
			res.fail(subject, "event %d (%s by %s): %s", rec.Seq, audit.Printable(rec.Type), audit.Printable(rec.Actor), why)
			bad++
			continue
		}
		good++
		if pin {
			pinned++
		}
	}
	if err := sc.Err(); err != nil {
		res.fail(subject, "cannot be read: %v", err)
		return
	}
	for _, sr := range signedRows {
		rec, ok := bySeq[sr.Event]
		if !ok {
			res.fail(subject, "report.json's row %d (%s) is signed by %s in event %d, which has no signature here", sr.N, audit.Printable(sr.ID), sr.SignedBy, sr.Event)
			bad++
			continue
		}
		if why := sameDecision(&rec, &sr); why != "" {
			res.fail(subject, "report.json's row %d (%s), event %d: %s", sr.N, audit.Printable(sr.ID), sr.Event, why)
			bad++
		}
	}
	if bad > 0 {
		return
	}
	text := fmt.Sprintf("%s offline (namespace %s), each by its signer's key in the directory of people at that event", audit.Counted(good, "signed decision event verifies", "signed decision events verify"), audit.SignatureNamespace)
	if len(opts.AllowedSigners) > 0 {
		text += fmt.Sprintf("; %d of them listed for their signer in the allowed signers given", pinned)
	} else {
		text += " (the keys come from the bundle: pass --allowed-signers to pin them to keys you trust)"
	}
	if rowsKnown {
		text += fmt.Sprintf("; report.json's %s %s", audit.Counted(len(signedRows), "signed decision matches", "signed decisions match"), audit.Plural(good, "it", "them"))
	}
	res.pass(subject, "%s", text)
}

// checkSignedRecord checks one record: whether its signature verifies
// over its bytes by the key it claims, and whether the key was its
// signer's (pinned: listed in allowed).
func checkSignedRecord(rec *audit.SignedRecord, allowed []byte) (ok, pinned bool, why string) {
	key, actor, why := signedBytesHold(rec)
	if why != "" {
		return false, false, why
	}
	if len(allowed) > 0 && sshsig.CheckAllowedSigners(allowed, actor, audit.SignatureNamespace, key) == nil {
		return true, true, ""
	}
	if rec.SignerKey != "" {
		if k, err := sshsig.ParsePublicKey(rec.SignerKey); err == nil && k.Fingerprint == key.Fingerprint {
			return true, false, ""
		}
	}
	hint := ""
	if len(allowed) == 0 {
		hint = " (if it is listed in an allowed signers file, pass it with --allowed-signers)"
	}
	return false, false, fmt.Sprintf("signed by key %s, which was not %s's signing key in the directory then%s", key.Fingerprint, audit.Printable(actor), hint)
}

// signedBytesHold checks what one record's own bytes can prove: the
// signature verifies over the recorded event in the nhi-decision
// namespace, the record names that event, and the key is the one the
// line and the event's payload (signed_by, covered by the chain) name.
// It returns the key and the event's actor, or why it does not hold.
func signedBytesHold(rec *audit.SignedRecord) (key *sshsig.PublicKey, actor, why string) {
	key, err := sshsig.VerifySignature([]byte(rec.Signature), []byte(rec.Record), audit.SignatureNamespace)
	if err != nil {
		return nil, "", fmt.Sprintf("the signature does not verify over the recorded event: %v; the event or its signature was changed", err)
	}
	var fields []json.RawMessage
	if err := json.Unmarshal([]byte(rec.Record), &fields); err != nil || len(fields) != 5 {
		return nil, "", "the recorded event is not [seq, at, actor, type, payload]"
	}
	var seq int64
	var typ string
	var claim struct {
		SignedBy string `json:"signed_by"`
	}
	if json.Unmarshal(fields[0], &seq) != nil || json.Unmarshal(fields[2], &actor) != nil || json.Unmarshal(fields[3], &typ) != nil ||
		json.Unmarshal(fields[4], &claim) != nil {
		return nil, "", "the recorded event cannot be read"
	}
	switch {
	case seq != rec.Seq || actor != rec.Actor || typ != rec.Type:
		return nil, "", fmt.Sprintf("the line says event %d (%s by %s), but the signed bytes are event %d (%s by %s)",
			rec.Seq, audit.Printable(rec.Type), audit.Printable(rec.Actor), seq, audit.Printable(typ), audit.Printable(actor))
	case key.Fingerprint != rec.Fingerprint || key.Fingerprint != claim.SignedBy:
		return nil, "", fmt.Sprintf("signed by %s, but the line says %s and the event %s", key.Fingerprint, rec.Fingerprint, claim.SignedBy)
	}
	return key, actor, ""
}

// ErrSignatureDoesNotHold is a signature stored beside the log that the
// export would show and that does not hold over its event (signedBytesHold):
// a row added or changed outside nhi.
var ErrSignatureDoesNotHold = errors.New("a decision's stored signature does not hold")

// signaturesHold checks, on every core, that each signature the report
// shows holds over its event's bytes by the key the event names, and
// returns ErrSignatureDoesNotHold for the first, by event, that does
// not: a signature row anyone who writes the store may add (docs/team.md,
// threat model) would otherwise show a decision nobody signed as signed.
// Whose key it is stays nhi verify's to say (with --allowed-signers).
func signaturesHold(recs []audit.SignedRecord) error {
	why := make([]string, len(recs))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(recs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < len(recs); i = int(next.Add(1)) - 1 {
				_, _, why[i] = signedBytesHold(&recs[i])
			}
		}()
	}
	wg.Wait()
	for i, w := range why {
		if w != "" {
			rec := &recs[i]
			return fmt.Errorf("%w: event %d (%s by %s): %s; it was stored outside nhi, so nothing is exported: run `nhi verify` to see every difference",
				ErrSignatureDoesNotHold, rec.Seq, audit.Printable(rec.Type), audit.Printable(rec.Actor), w)
		}
	}
	return nil
}

// signedRow is what report.json says about a signed decision.
type signedRow struct {
	N         int    `json:"n"`
	ID        string `json:"id"`
	Decision  string `json:"decision"`
	Reason    string `json:"justification"`
	DecidedBy string `json:"decided_by"`
	Event     int64  `json:"event"`
	Via       string `json:"via"`
	SignedBy  string `json:"signed_by"`
}

// signedRowsOf reads the signed rows of the bundle's report.json, when
// it has one (known reports whether it does: false when the manifest lists
// none, it cannot be opened, or it is not a JSON object whose
// decision_register is a list of rows).
//
// It streams (issue 21): a million-item campaign's report.json is some
// 750 MB, its register a million rows and its decision history a million
// more, and only the signed rows are kept. The answer is the one
// json.Unmarshal of the whole file into a struct with that one field gives
// (TestSignedRowsOfIsUnmarshal): the key matched as encoding/json matches
// it, case folded; the last of two such keys wins; the whole file read to
// its end, so that invalid JSON anywhere in it makes known false. The
// fast reader (fastSignedRows) reads it first; what it does not take,
// encoding/json's reader (readSignedRows) reads again.
func signedRowsOf(dir string, m *Manifest) (rows []signedRow, known bool) {
	if !slices.ContainsFunc(m.Files, func(f FileHash) bool { return f.Path == FileJSON }) {
		return nil, false
	}
	f, err := os.Open(filepath.Join(dir, FileJSON))
	if err != nil {
		return nil, false
	}
	defer f.Close()
	rows, err = fastSignedRows(f)
	if errors.Is(err, errNotFast) {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return nil, false
		}
		rows, err = readSignedRows(bufio.NewReaderSize(f, 1<<16))
	}
	if err != nil {
		return nil, false
	}
	return rows, true
}

// registerKey is report.json's key of the register (Report.Register).
const registerKey = "decision_register"

// readSignedRows reads a report.json from in and returns the rows of its
// register with signed_by, or why it cannot: it holds one row, or one
// element of another list, at a time.
func readSignedRows(in io.Reader) ([]signedRow, error) {
	dec := json.NewDecoder(in)
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	var rows []signedRow
	switch tok {
	case nil: // null: Unmarshal leaves the struct as it is
	case json.Delim('{'):
		for dec.More() {
			key, err := dec.Token()
			if err != nil {
				return nil, err
			}
			// encoding/json matches a key to a field's name as
			// bytes.EqualFold does (its foldName) when none is equal.
			if k, _ := key.(string); strings.EqualFold(k, registerKey) {
				// Unmarshal keeps the last of two such keys: a bundle's
				// writer writes one (writeObject), and rows it writes carry
				// every field, so decoding the second list over the first
				// row by row, as Unmarshal does, is replacing it.
				if rows, err = readRegister(dec); err != nil {
					return nil, err
				}
				continue
			}
			if err := skipValue(dec); err != nil {
				return nil, err
			}
		}
		if _, err := dec.Token(); err != nil { // the closing brace
			return nil, err
		}
	default:
		return nil, fmt.Errorf("report.json is not a JSON object")
	}
	// Unmarshal refuses anything after the value but white space.
	if _, err := dec.Token(); err != io.EOF {
		if err == nil {
			err = errors.New("report.json has more after its object")
		}
		return nil, err
	}
	return rows, nil
}

// readRegister reads the register's list, row by row, and returns its
// signed rows; null is no rows, as Unmarshal reads it.
func readRegister(dec *json.Decoder) ([]signedRow, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if tok == nil {
		return nil, nil
	}
	if tok != json.Delim('[') {
		return nil, fmt.Errorf("report.json's %s is not a list", registerKey)
	}
	var rows []signedRow
	for dec.More() {
		var row signedRow
		if err := dec.Decode(&row); err != nil {
			return nil, err
		}
		if row.SignedBy != "" {
			rows = append(rows, row)
		}
	}
	_, err = dec.Token() // the closing bracket
	return rows, err
}

// skipValue reads past the next value: an object key by key, a list
// element by element, so that none of the report's long lists (the
// decision history, the exceptions, the remediation's decommissions) is
// held whole.
func skipValue(dec *json.Decoder) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch tok {
	case json.Delim('{'):
		for dec.More() {
			if _, err := dec.Token(); err != nil { // the key
				return err
			}
			if err := skipValue(dec); err != nil {
				return err
			}
		}
	case json.Delim('['):
		for dec.More() {
			// One element, a row at most, scanned whole but not decoded.
			if err := dec.Decode(&skipped{}); err != nil {
				return err
			}
		}
	default:
		return nil // a string, number, true, false or null: read
	}
	_, err = dec.Token() // the closing brace or bracket
	return err
}

// skipped decodes a JSON value by ignoring it: the decoder has checked
// its syntax, and nothing is copied or allocated.
type skipped struct{}

func (*skipped) UnmarshalJSON([]byte) error { return nil }

// sameDecision reports why a signed row and its record disagree ("" when
// they do not): the record must decide the row's item, by its decider,
// with its key.
func sameDecision(rec *audit.SignedRecord, row *signedRow) string {
	var fields []json.RawMessage
	_ = json.Unmarshal([]byte(rec.Record), &fields)
	var p struct {
		Items    []string `json:"items"`
		Decision string   `json:"decision"`
		Reason   string   `json:"reason"`
	}
	if len(fields) == 5 {
		_ = json.Unmarshal(fields[4], &p)
	}
	// A decide event says the decision and reason itself; a confirmation
	// confirms a carried decision, with its own reason.
	decides := rec.Type == campaigns.EventDecide
	switch {
	case !slices.ContainsFunc(p.Items, func(id string) bool { return audit.Printable(id) == row.ID }):
		return "the signed event does not decide this item"
	case decides && string(p.Decision) != row.Decision:
		return fmt.Sprintf("the signed decision is %s, the row says %s: the report was changed", audit.Printable(p.Decision), row.Decision)
	case (decides || rec.Type == campaigns.EventConfirm) && audit.Printable(p.Reason) != row.Reason:
		return fmt.Sprintf("the signed justification is %q, the row says %q: the report was changed", audit.Printable(p.Reason), row.Reason)
	case audit.Printable(rec.Actor) != row.DecidedBy:
		return fmt.Sprintf("the signed event is by %s, the row says %s", audit.Printable(rec.Actor), row.DecidedBy)
	case rec.Fingerprint != row.SignedBy:
		return fmt.Sprintf("the row names key %s, the signature is by %s", row.SignedBy, rec.Fingerprint)
	}
	return ""
}
