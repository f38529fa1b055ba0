package campaigns

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"maps"
	"slices"
	"strings"

	"github.com/nhi-audit/nhi/audit"
)

// frozen is an item's columns as frozen at creation, in their stored form.
type frozen struct {
	id, kind, name, scope, owner, naturalOwner string
	findings, permissions                      string // JSON as stored
	reviewer, carried, carriedReason           string
	rowHash                                    string // while a create hands it on (creation.read)
}

// canonical is the byte form the population digest covers: the frozen
// columns as stored, as a compact JSON array of strings (no HTML escaping),
// in the order of the campaign_items table.
//
// It is appended by hand, not encoded through reflection: a million items
// spent 3.6 s there (issue 21). TestFrozenJSONIsEncodingJSONs holds it to
// encoding/json's bytes.
func (f *frozen) canonical() []byte { return f.appendCanonical(nil) }

// appendCanonical appends the canonical row to b, grown once.
func (f *frozen) appendCanonical(b []byte) []byte {
	n := 64 + len(f.id) + len(f.kind) + len(f.name) + len(f.scope) + len(f.owner) + len(f.naturalOwner) + len(f.reviewer) + len(f.carriedReason)
	// The JSON columns gain a backslash before each of their quotes.
	b = slices.Grow(b, n+(len(f.findings)+len(f.permissions))*5/4)
	b = append(b, '[')
	for i, s := range [...]string{f.id, f.kind, f.name, f.scope, f.owner, f.naturalOwner,
		f.findings, f.permissions, f.reviewer, f.carried, f.carriedReason} {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendPlainJSONString(b, s)
	}
	return append(b, ']')
}

// appendPlainJSONString appends s as encoding/json writes it with
// SetEscapeHTML(false). audit.AppendJSONString without html writes the
// same but for \b and \f (as \u0008 and \u000c, the evidence file's
// stored form), so a string holding either goes through encoding/json.
func appendPlainJSONString(b []byte, s string) []byte {
	if strings.IndexByte(s, '\b') >= 0 || strings.IndexByte(s, '\f') >= 0 {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(s)
		return append(b, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...)
	}
	return audit.AppendJSONString(b, s, false)
}

// appendFindingsJSON appends fs as json.Marshal writes a []audit.Finding
// ("[]" for none), without its reflection.
func appendFindingsJSON(b []byte, fs []audit.Finding) []byte {
	b = append(b, '[')
	for i := range fs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"rule":`...)
		b = audit.AppendJSONString(b, fs[i].Rule, true)
		b = append(b, `,"severity":`...)
		b = audit.AppendJSONString(b, fs[i].Severity, true)
		b = append(b, `,"owasp":`...)
		b = audit.AppendJSONString(b, fs[i].OWASP, true)
		b = append(b, `,"message":`...)
		b = audit.AppendJSONString(b, fs[i].Message, true)
		b = append(b, '}')
	}
	return append(b, ']')
}

// findingsSize is about what appendFindingsJSON appends for fs, so it
// grows its buffer once.
func findingsSize(fs []audit.Finding) int {
	n := 2
	for i := range fs {
		n += 48 + len(fs[i].Rule) + len(fs[i].Severity) + len(fs[i].OWASP) + len(fs[i].Message)
	}
	return n
}

// appendPermissionsJSON appends m as json.Marshal writes a
// map[string]string: keys sorted ("{}" for none).
func appendPermissionsJSON(b []byte, m map[string]string) []byte {
	b = append(b, '{')
	for i, k := range slices.Sorted(maps.Keys(m)) {
		if i > 0 {
			b = append(b, ',')
		}
		b = audit.AppendJSONString(b, k, true)
		b = append(b, ':')
		b = audit.AppendJSONString(b, m[k], true)
	}
	return append(b, '}')
}

// populationDigest accumulates the population digest: SHA-256 over the
// canonical rows in identity-ID order, each followed by "\n".
type populationDigest struct {
	h   hash.Hash
	row []byte // the canonical row, its buffer reused: a million items allocated 0.8 GB there (issue 21)
}

func newPopulationDigest() *populationDigest { return &populationDigest{h: sha256.New()} }

// add adds f to the digest and returns f's row hash.
func (d *populationDigest) add(f *frozen) string {
	d.row = f.appendCanonical(d.row[:0])
	return d.addCanonical(d.row)
}

// addCanonical adds a row in its canonical form to the digest and returns
// its row hash.
func (d *populationDigest) addCanonical(c []byte) string {
	sum := d.addCanonicalSum(c)
	return hex.EncodeToString(sum[:])
}

// addSum is add with the row hash as its bytes, half the size of its
// hex, for a caller that keeps a million of them (assignOffboard).
func (d *populationDigest) addSum(f *frozen) [sha256.Size]byte {
	d.row = f.appendCanonical(d.row[:0])
	return d.addCanonicalSum(d.row)
}

func (d *populationDigest) addCanonicalSum(c []byte) [sha256.Size]byte {
	d.h.Write(c)
	d.h.Write([]byte{'\n'})
	return sha256.Sum256(c)
}

func (d *populationDigest) sum() string { return hex.EncodeToString(d.h.Sum(nil)) }

const frozenColumns = `identity_id, kind, name, scope, owner, natural_owner, findings, permissions, reviewer, carried, carried_reason`

func scanFrozen(rows *sql.Rows, f *frozen, extra ...any) error {
	return rows.Scan(append([]any{&f.id, &f.kind, &f.name, &f.scope, &f.owner, &f.naturalOwner,
		&f.findings, &f.permissions, &f.reviewer, &f.carried, &f.carriedReason}, extra...)...)
}

func (f *frozen) item() (Item, error) {
	it := Item{
		ID: f.id, Kind: audit.Kind(f.kind), Name: f.name, Scope: f.scope, Owner: f.owner,
		NaturalOwner: f.naturalOwner, Reviewer: f.reviewer,
		Carried: Decision(f.carried), CarriedReason: f.carriedReason,
		Findings: []audit.Finding{}, Permissions: map[string]string{},
	}
	if err := json.Unmarshal([]byte(f.findings), &it.Findings); err != nil {
		return it, fmt.Errorf("item %s: findings: %w", f.id, err)
	}
	if err := json.Unmarshal([]byte(f.permissions), &it.Permissions); err != nil {
		return it, fmt.Errorf("item %s: permissions: %w", f.id, err)
	}
	return it, nil
}

// itemState is the part of an item the event log decides. The live path
// and Verify's replay both change it only through its methods, so the
// tables and the replay cannot disagree about what an event means.
type itemState struct {
	decision         Decision
	reason           string
	decidedBy        string
	decidedAt        string // atLayout, "" while pending
	seq              int64  // the event that set the decision, 0 while pending
	conflict         bool
	verification     string
	verifiedSnapshot int64
	verifySeq        int64
}

// decide applies one decision. Someone deciding an item another person
// decided last marks it as a conflict, for good.
func (s *itemState) decide(d Decision, reason, actor, at string, seq int64) {
	s.touch(actor)
	s.decision, s.reason, s.decidedBy, s.decidedAt, s.seq = d, reason, actor, at, seq
}

func (s *itemState) touch(actor string) {
	if s.decidedBy != "" && !sameActor(s.decidedBy, actor) {
		s.conflict = true
	}
}

// undo puts back the decision prev (the zero entry: pending), the one in
// force before the decision being undone. Undoing someone else's decision
// is a conflict too.
func (s *itemState) undo(prev histEntry, actor string) {
	s.touch(actor)
	s.decision, s.reason, s.decidedBy, s.decidedAt, s.seq = prev.decision, prev.reason, prev.actor, prev.at, prev.seq
}

// close turns an undecided item into no-response.
func (s *itemState) close(at string, seq int64) {
	if s.decision == Pending {
		s.decision, s.reason, s.decidedBy, s.decidedAt, s.seq = NoResponse, "", "", at, seq
	}
}

func (s *itemState) verify(state string, snapshot, seq int64) {
	s.verification, s.verifiedSnapshot, s.verifySeq = state, snapshot, seq
}

// histEntry is one row of an item's decision history.
type histEntry struct {
	seq      int64
	decision Decision
	reason   string
	actor    string
	at       string
	via      string
	undoes   int64 // for an undo: the event whose decision it reverses
}

// restoreBefore is the decision an undo of event undone puts back: the
// latest decision before it that no undo reversed, or pending (zero).
// history is the item's, in event order.
func restoreBefore(history []histEntry, undone int64) histEntry {
	reversed := map[int64]bool{undone: true}
	for _, h := range history {
		if h.via == ViaUndo {
			reversed[h.undoes] = true
		}
	}
	var prev histEntry
	for _, h := range history {
		if h.seq < undone && h.via != ViaUndo && !reversed[h.seq] {
			prev = h
		}
	}
	return prev
}

const stateColumns = `decision, reason, decided_by, COALESCE(decided_at, ''), COALESCE(decision_seq, 0), conflict,
	verification, COALESCE(verified_snapshot, 0), COALESCE(verify_seq, 0)`

func (s *itemState) scanArgs() []any {
	return []any{&s.decision, &s.reason, &s.decidedBy, &s.decidedAt, &s.seq, &s.conflict,
		&s.verification, &s.verifiedSnapshot, &s.verifySeq}
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullInt(n int64) any {
	if n == 0 {
		return nil
	}
	return n
}

// writeDecision stores s as item id's state and adds h to its history.
func writeDecision(ctx context.Context, tx *audit.Tx, campaignID int64, id string, s *itemState, h histEntry) error {
	for _, st := range decisionStmts(campaignID, id, s, h) {
		if _, err := tx.Exec(ctx, st.Query, st.Args...); err != nil {
			return fmt.Errorf("recording the decision on %s: %w", id, err)
		}
	}
	return nil
}

// decisionStmts are the statements of writeDecision.
func decisionStmts(campaignID int64, id string, s *itemState, h histEntry) []audit.Stmt {
	return []audit.Stmt{
		{Query: `UPDATE campaign_items SET decision = ?, reason = ?, decided_by = ?, decided_at = ?, decision_seq = ?, conflict = ?
		WHERE campaign_id = ? AND identity_id = ?`,
			Args: []any{string(s.decision), s.reason, s.decidedBy, nullString(s.decidedAt), nullInt(s.seq), s.conflict, campaignID, id}},
		{Query: `INSERT INTO campaign_decisions (campaign_id, identity_id, seq, decision, reason, actor, at, via, undoes)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			Args: []any{campaignID, id, h.seq, string(h.decision), h.reason, h.actor, h.at, h.via, h.undoes}},
	}
}

// entry is the history row of the decision s now holds.
func (s *itemState) entry(via string) histEntry {
	return histEntry{seq: s.seq, decision: s.decision, reason: s.reason, actor: s.decidedBy, at: s.decidedAt, via: via}
}

// loadHistory reads one item's history, in event order.
func loadItemHistory(ctx context.Context, r reader, campaignID int64, id string) ([]histEntry, error) {
	rows, err := r.Query(ctx, `SELECT seq, decision, reason, actor, at, via, undoes FROM campaign_decisions
		WHERE campaign_id = ? AND identity_id = ? ORDER BY seq`, campaignID, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []histEntry
	for rows.Next() {
		var h histEntry
		if err := rows.Scan(&h.seq, &h.decision, &h.reason, &h.actor, &h.at, &h.via, &h.undoes); err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// writeDecisions stores one decision, made by one event, on many items:
// s is the state every item takes (its conflict flag aside: those listed in
// conflicted get it set, the others keep theirs). Three statements whatever
// the number of items.
func writeDecisions(ctx context.Context, tx *audit.Tx, campaignID int64, ids, conflicted []string, s *itemState, via string) error {
	list, err := json.Marshal(ids)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE campaign_items SET decision = ?, reason = ?, decided_by = ?, decided_at = ?, decision_seq = ?
		WHERE campaign_id = ? AND identity_id IN (SELECT value FROM json_each(?))`,
		string(s.decision), s.reason, s.decidedBy, s.decidedAt, s.seq, campaignID, string(list)); err != nil {
		return fmt.Errorf("recording the decisions: %w", err)
	}
	if len(conflicted) > 0 {
		c, err := json.Marshal(conflicted)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE campaign_items SET conflict = 1 WHERE campaign_id = ? AND identity_id IN (SELECT value FROM json_each(?))`,
			campaignID, string(c)); err != nil {
			return fmt.Errorf("recording the decisions: %w", err)
		}
	}
	if _, err := tx.Exec(ctx, `INSERT INTO campaign_decisions (campaign_id, identity_id, seq, decision, reason, actor, at, via)
		SELECT ?, value, ?, ?, ?, ?, ?, ? FROM json_each(?)`,
		campaignID, s.seq, string(s.decision), s.reason, s.decidedBy, s.decidedAt, via, string(list)); err != nil {
		return fmt.Errorf("recording the decisions: %w", err)
	}
	return nil
}

// liveItem is an item's frozen columns and current state, read inside a
// write transaction.
type liveItem struct {
	frozen
	itemState
}

// fill sets an item's state, as of now, and its decision history.
func (l *liveItem) fill(it *Item, history map[string][]Change) {
	it.Decision, it.Reason, it.DecidedBy, it.Conflict = l.decision, l.reason, l.decidedBy, l.conflict
	if t, ok := parseAt(l.decidedAt); ok {
		it.DecidedAt = &t
	}
	it.Verification, it.VerifiedSnapshot = l.verification, l.verifiedSnapshot
	it.History = history[l.id]
	if it.History == nil {
		it.History = []Change{}
	}
}

// loadItem reads one item of a campaign, or ErrNotInCampaign. id is the
// item's ID, or another ID of its identity (its repository renamed since
// or before: renamedItem), which names the item as its own ID does.
func loadItem(ctx context.Context, r reader, c *Campaign, id string) (*liveItem, error) {
	it, err := loadItemByID(ctx, r, c, id)
	if it != nil || err != nil {
		return it, err
	}
	item, err := renamedItem(ctx, r, c.ID, id)
	if err != nil {
		return nil, err
	}
	if item != "" {
		if it, err = loadItemByID(ctx, r, c, item); it != nil || err != nil {
			return it, err
		}
	}
	return nil, fmt.Errorf("%w: %s is not in the population of campaign %s (frozen at creation); list its items with `nhi campaign show %s`",
		ErrNotInCampaign, audit.Printable(id), c.Name, c.Name)
}

// loadItemByID reads the item whose ID is id; nil when there is none.
func loadItemByID(ctx context.Context, r reader, c *Campaign, id string) (*liveItem, error) {
	rows, err := r.Query(ctx, `SELECT `+frozenColumns+`, `+stateColumns+` FROM campaign_items WHERE campaign_id = ? AND identity_id = ?`, c.ID, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	if !rows.Next() {
		return nil, rows.Err()
	}
	var it liveItem
	if err := scanFrozen(rows, &it.frozen, it.scanArgs()...); err != nil {
		return nil, err
	}
	return &it, rows.Err()
}

// loadItems reads every item of a campaign in ID order.
func loadItems(ctx context.Context, r reader, campaignID int64) ([]liveItem, error) {
	// Sized first: a liveItem is large, and growing a slice of 100,000 of
	// them by appending copies each several times. (A hint only: the
	// count may read another moment of the file than the rows.)
	var n int
	if err := r.QueryRow(ctx, `SELECT count(*) FROM campaign_items WHERE campaign_id = ?`, campaignID).Scan(&n); err != nil {
		return nil, fmt.Errorf("reading campaign items: %w", err)
	}
	rows, err := r.Query(ctx, `SELECT `+frozenColumns+`, `+stateColumns+` FROM campaign_items WHERE campaign_id = ? ORDER BY identity_id`, campaignID)
	if err != nil {
		return nil, fmt.Errorf("reading campaign items: %w", err)
	}
	return scanItems(rows, n)
}

// scanItems reads rows of frozenColumns and stateColumns, expecting about
// n of them, and closes rows.
func scanItems(rows *sql.Rows, n int) ([]liveItem, error) {
	defer rows.Close()
	out := make([]liveItem, 0, n)
	for rows.Next() {
		var it liveItem
		if err := scanFrozen(rows, &it.frozen, it.scanArgs()...); err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

func findingRules(findings string) string {
	var fs []audit.Finding
	_ = json.Unmarshal([]byte(findings), &fs)
	names := make([]string, 0, len(fs))
	for _, f := range fs {
		names = append(names, f.Rule)
	}
	return strings.Join(names, ", ")
}
