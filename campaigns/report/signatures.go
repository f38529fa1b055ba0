package report

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

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
			res.fail(subject, "missing, yet report.json has %d signed decision(s): the bundle cannot prove them without it", len(signedRows))
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
	text := fmt.Sprintf("%d signed decision event(s) verify offline (namespace %s), each by its signer's key in the directory of people at that event", good, audit.SignatureNamespace)
	if len(opts.AllowedSigners) > 0 {
		text += fmt.Sprintf("; %d of them listed for their signer in the allowed signers given", pinned)
	} else {
		text += " (the keys come from the bundle: pass --allowed-signers to pin them to keys you trust)"
	}
	if rowsKnown {
		text += fmt.Sprintf("; report.json's %d signed decision(s) match them", len(signedRows))
	}
	res.pass(subject, "%s", text)
}

// checkSignedRecord checks one record: whether its signature verifies
// over its bytes by the key it claims, and whether the key was its
// signer's (pinned: listed in allowed).
func checkSignedRecord(rec *audit.SignedRecord, allowed []byte) (ok, pinned bool, why string) {
	key, err := sshsig.VerifySignature([]byte(rec.Signature), []byte(rec.Record), audit.SignatureNamespace)
	if err != nil {
		return false, false, fmt.Sprintf("the signature does not verify over the recorded event: %v; the event or its signature was changed", err)
	}
	var fields []json.RawMessage
	if err := json.Unmarshal([]byte(rec.Record), &fields); err != nil || len(fields) != 5 {
		return false, false, "the recorded event is not [seq, at, actor, type, payload]"
	}
	var seq int64
	var actor, typ string
	var claim struct {
		SignedBy string `json:"signed_by"`
	}
	if json.Unmarshal(fields[0], &seq) != nil || json.Unmarshal(fields[2], &actor) != nil || json.Unmarshal(fields[3], &typ) != nil ||
		json.Unmarshal(fields[4], &claim) != nil {
		return false, false, "the recorded event cannot be read"
	}
	switch {
	case seq != rec.Seq || actor != rec.Actor || typ != rec.Type:
		return false, false, fmt.Sprintf("the line says event %d (%s by %s), but the signed bytes are event %d (%s by %s)",
			rec.Seq, audit.Printable(rec.Type), audit.Printable(rec.Actor), seq, audit.Printable(typ), audit.Printable(actor))
	case key.Fingerprint != rec.Fingerprint || key.Fingerprint != claim.SignedBy:
		return false, false, fmt.Sprintf("signed by %s, but the line says %s and the event %s", key.Fingerprint, rec.Fingerprint, claim.SignedBy)
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
// it has one (known reports whether it does).
func signedRowsOf(dir string, m *Manifest) (rows []signedRow, known bool) {
	if !slices.ContainsFunc(m.Files, func(f FileHash) bool { return f.Path == FileJSON }) {
		return nil, false
	}
	data, err := os.ReadFile(filepath.Join(dir, FileJSON))
	if errors.Is(err, fs.ErrNotExist) || err != nil {
		return nil, false
	}
	var r struct {
		Register []signedRow `json:"decision_register"`
	}
	if json.Unmarshal(data, &r) != nil {
		return nil, false
	}
	for _, row := range r.Register {
		if row.SignedBy != "" {
			rows = append(rows, row)
		}
	}
	return rows, true
}

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
