package campaigns

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/nhi-audit/nhi/audit"
)

// Decision is what a reviewer decided for one item. The empty Decision is
// "pending": nobody has decided yet.
type Decision string

// Decisions. Decommission approves removal; Keep rejects it; Rotate keeps
// the identity but its credential must be replaced. NoResponse is what Close
// makes of an item nobody decided: flagged, never approved.
const (
	Pending      Decision = ""
	Decommission Decision = "decommission"
	Keep         Decision = "keep"
	Rotate       Decision = "rotate"
	NoResponse   Decision = "no-response"
)

// ParseDecision reads a decision a reviewer may make.
func ParseDecision(s string) (Decision, error) {
	switch d := Decision(strings.ToLower(strings.TrimSpace(s))); d {
	case Decommission, Keep, Rotate, Transfer:
		return d, nil
	}
	return "", fmt.Errorf("%w %q: decide decommission, keep or rotate (or, in an offboarding campaign, transfer --to PERSON)", ErrBadDecision, s)
}

// Campaign states.
const (
	StatusOpen   = "open"
	StatusClosed = "closed"
)

// Remediation states of a decommission decision, as a later snapshot saw it.
const (
	Removed      = "removed"       // the identity is gone
	StillPresent = "still-present" // the identity is still there
	NotChecked   = "not-checked"   // the snapshot could not read where it lives (a coverage gap)
)

// How a decision was made, in an item's history.
const (
	ViaSingle  = "single"  // nhi decide CAMPAIGN ID ...
	ViaBulk    = "bulk"    // nhi decide CAMPAIGN --filter ...
	ViaConfirm = "confirm" // nhi decide CAMPAIGN --confirm-carried
	ViaUndo    = "undo"    // nhi decide CAMPAIGN --undo SEQ: the decision of event SEQ reversed
)

// Event types, all under the "campaign." prefix.
const (
	EventCreate  = "campaign.create"
	EventDecide  = "campaign.decide"
	EventConfirm = "campaign.confirm"
	EventUndo    = "campaign.undo"
	EventClose   = "campaign.close"
	EventVerify  = "campaign.verify"
)

// Refusals. The wrapped message says what to do instead.
var (
	ErrNotFound    = errors.New("no such campaign")
	ErrExists      = errors.New("campaign already exists")
	ErrClosed      = errors.New("campaign is closed")
	ErrOpen        = errors.New("campaign is still open")
	ErrBadName     = errors.New("bad campaign name")
	ErrBadDue      = errors.New("bad due date")
	ErrBadDecision = errors.New("not a decision")
	ErrEmptyScope  = errors.New("empty scope")
	ErrNoSnapshot  = errors.New("no snapshot")
	ErrPartial     = errors.New("partial snapshot")
	// ErrSnapshotChoice: the snapshots named cannot make one campaign
	// (two of one source/account, or --snapshot with --source).
	ErrSnapshotChoice = errors.New("bad choice of snapshots")
	ErrNoReviewer     = errors.New("no reviewer")
	ErrNotInCampaign  = errors.New("not in the campaign")
	ErrSelfReview     = errors.New("a reviewer may not decide an identity they own")
	ErrSeparation     = errors.New("separation of duties")
	ErrSignature      = errors.New("signature refused")
	ErrReasonRequired = errors.New("justification required")
	ErrNothingMatched = errors.New("nothing to decide")
	ErrCannotUndo     = errors.New("cannot undo")
	// ErrAlreadyDecided: the same reviewer decided the same item the same
	// way already; nothing new to record.
	ErrAlreadyDecided = errors.New("already decided")
	// ErrActorLeft is audit.ErrActorLeft: the directory of people marks
	// the person acting as left, as it may have since their session began.
	ErrActorLeft = audit.ErrActorLeft
)

// Campaign is one review campaign. Items is filled by [Get] only.
type Campaign struct {
	ID     int64
	Name   string
	Scope  string // canonical filter expression
	Due    string // YYYY-MM-DD; due through the end of that day, UTC
	Status string // open, closed
	// SnapshotID and AsOf are the campaign's snapshot and its start; for a
	// campaign over several sources, the newest of its snapshots. Snapshots
	// lists every snapshot the population was frozen from, one per
	// source/account, in source/account order.
	SnapshotID int64
	AsOf       time.Time // the snapshot's start: findings and time terms count from it
	Snapshots  []SnapshotUse
	// NotRead are the accounts the campaign reviews whose newest run had
	// not finished when it was created (its campaign.create event's
	// not_read): the population holds an older read of each, or nothing.
	NotRead []AccountNotRead
	// Unevaluated counts the identities the scope could not judge when
	// the campaign was created (its campaign.create event's unevaluated).
	Unevaluated      int
	PolicyDigest     string
	Reviewers        []string
	CarriedFrom      string
	Count            int
	PopulationDigest string
	CreatedAt        time.Time
	CreatedBy        string
	CreateSeq        int64
	ClosedAt         *time.Time
	ClosedBy         string
	CloseSeq         int64
	// AllowAdminReview lets the campaign's creator and closer review items
	// (--allow-admin-review at creation); RequireSigned refuses unsigned
	// decisions. Both are read from the campaign.create event.
	AllowAdminReview bool
	RequireSigned    bool
	Progress         Progress

	// NoResponse is the rule for items nobody decides (filled by [Get]
	// only).
	NoResponse NoResponseRule

	Items []Item
	// Refused lists the attempts the separation rules refused, oldest
	// first (filled by [Get] only).
	Refused []Refused
}

// Overdue reports whether the campaign is still open after its due date.
func (c *Campaign) Overdue(now time.Time) bool {
	return c.Status == StatusOpen && pastDue(c.Due, now)
}

// pastDue reports whether now is after the end of the due day (UTC).
func pastDue(due string, now time.Time) bool {
	return now.UTC().Format(dateLayout) > due
}

// Progress counts a campaign's items by state.
type Progress struct {
	Total      int
	Pending    int // nobody decided, not carried
	Carried    int // carried forward, awaiting confirmation
	Decided    int // decommission, keep or rotate
	NoResponse int
	ByDecision map[Decision]int
	Conflicts  int // items re-decided by someone other than their last decider
	Reviewers  []ReviewerProgress
}

// ReviewerProgress is one reviewer's share of a campaign.
type ReviewerProgress struct {
	Reviewer string // "" for items no reviewer could be assigned
	Assigned int
	Decided  int // of the assigned items, decided by anyone
	Pending  int // of the assigned items, undecided (carried included)
	// DecidedByOthers counts assigned items whose current decision someone
	// else made; DecidedForOthers counts items of other reviewers whose
	// current decision this reviewer made.
	DecidedByOthers  int
	DecidedForOthers int
}

// Item is one identity of a campaign's frozen population and where its
// review stands.
type Item struct {
	ID string // as frozen: the key of the item's evidence
	// CurrentID is the ID the identity has now when its repository was
	// renamed since the campaign froze it (renames.go), "" otherwise.
	// Filled by Get and EachAsOf (as of its event) only.
	CurrentID    string
	Kind         audit.Kind
	Name         string
	Scope        string
	Owner        string // recorded owner at creation
	NaturalOwner string // who the source said holds it
	Findings     []audit.Finding
	Permissions  map[string]string
	Reviewer     string
	// Carried is the decision carried forward from the previous campaign,
	// awaiting confirmation while Decision is Pending.
	Carried       Decision
	CarriedReason string
	// CarriedAs is the ID the previous campaign froze the identity under,
	// when its keep was carried from an item under another ID (its
	// repository renamed since; the campaign.create event's carried_as),
	// "" otherwise. Filled by Get and EachAsOf only.
	CarriedAs string

	Decision  Decision
	Reason    string
	DecidedBy string
	DecidedAt *time.Time
	Conflict  bool

	Verification     string // "", removed, still-present, not-checked
	VerifiedSnapshot int64
	// VerifiedAfterDue says VerifiedSnapshot was taken after the
	// campaign's due date: a still-present item is overdue only then, on
	// that snapshot's word (Get sets it).
	VerifiedAfterDue bool

	History []Change // oldest first; filled by Get

	// Escalated is set when the item, still pending, was reassigned by
	// the campaign's escalate rule (filled by Get).
	Escalated *Escalation

	// NotRead is what the snapshot the item was frozen from did not tell
	// nhi of its identity (audit.NotReadOf there; the frozen row keeps no
	// attributes): its empty Permissions or Findings are then not "none".
	// Filled by Get only.
	NotRead []audit.NotRead
}

// Assignee is who should decide the item now: the reviewer it was
// escalated to, else its assigned reviewer.
func (it *Item) Assignee() string {
	if it.Escalated != nil {
		return it.Escalated.To
	}
	return it.Reviewer
}

// State is the item's review state in one word: pending, carried, or its
// decision.
func (it *Item) State() string {
	switch {
	case it.Decision != Pending:
		return string(it.Decision)
	case it.Carried != Pending:
		return "carried"
	}
	return "pending"
}

// Assigned reports whether the current decision was made by the item's
// assigned reviewer (false while undecided or no-response).
func (it *Item) Assigned() bool {
	return it.DecidedBy != "" && it.Assignee() != "" && sameActor(it.DecidedBy, it.Assignee())
}

// Change is one decision in an item's history. An undo is a Change too
// (Via "undo"): Decision and Reason are what it put back (Pending when
// nothing was decided before), Undoes the event it reversed.
type Change struct {
	Seq      int64
	Decision Decision
	Reason   string
	Actor    string
	At       time.Time
	Via      string // single, bulk, confirm, undo
	Undoes   int64
}

// SnapshotUse is one snapshot a campaign's population was frozen from:
// the scope was evaluated over it as of its start (AsOf), and Count of its
// identities were selected.
type SnapshotUse struct {
	ID      int64  `json:"id"`
	Source  string `json:"source"`
	Account string `json:"account"`
	Status  string `json:"status"`
	Digest  string `json:"digest"`
	AsOf    string `json:"as_of"` // RFC 3339
	Count   int    `json:"count"`
}

// snapshotIDs are the IDs of the campaign's snapshots.
func (c *Campaign) snapshotIDs() []int64 {
	if len(c.Snapshots) == 0 {
		return []int64{c.SnapshotID}
	}
	out := make([]int64, len(c.Snapshots))
	for i, s := range c.Snapshots {
		out[i] = s.ID
	}
	return out
}

// snapshotBySource is the snapshot of c of each source/account, the last
// listed where two share one: the snapshot an item of that source/account
// was frozen from (ItemSnapshots, Awaiting and verifyItems all go by it).
func (c *Campaign) snapshotBySource() map[[2]string]int64 {
	out := map[[2]string]int64{}
	for _, u := range c.Snapshots {
		out[[2]string{u.Source, u.Account}] = u.ID
	}
	return out
}

// ItemSnapshots maps each item of campaign c to the snapshot of c it was
// frozen from (each identity is observed in exactly one of them: one
// snapshot per source/account).
func ItemSnapshots(ctx context.Context, st *audit.Store, c *Campaign) (map[string]int64, error) {
	out := map[string]int64{}
	ids := c.snapshotIDs()
	if len(ids) == 1 {
		items, err := st.Query(ctx, `SELECT identity_id FROM campaign_items WHERE campaign_id = ?`, c.ID)
		if err != nil {
			return nil, err
		}
		defer items.Close()
		for items.Next() {
			var id string
			if err := items.Scan(&id); err != nil {
				return nil, err
			}
			out[id] = ids[0]
		}
		return out, items.Err()
	}
	bySource := c.snapshotBySource()
	rows, err := st.Query(ctx, `SELECT ci.identity_id, i.source, i.account FROM campaign_items ci
		JOIN identities i ON i.id = ci.identity_id WHERE ci.campaign_id = ?`, c.ID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id, source, account string
		if err := rows.Scan(&id, &source, &account); err != nil {
			return nil, err
		}
		out[id] = bySource[[2]string{source, account}]
	}
	return out, rows.Err()
}

// Event payloads. They are part of the evidence: fields are only added.

// CreatePayload is the payload of campaign.create. The population itself is
// in campaign_items; Count and PopulationDigest make it tamper-evident.
type CreatePayload struct {
	Name           string `json:"name"`
	Scope          string `json:"scope"`                 // canonical form
	ScopeInput     string `json:"scope_input,omitempty"` // as typed, when it differs
	Due            string `json:"due"`
	Snapshot       int64  `json:"snapshot"`
	SnapshotStatus string `json:"snapshot_status"`
	SnapshotDigest string `json:"snapshot_digest"`
	AsOf           string `json:"as_of"`
	// Snapshots lists each snapshot of a campaign over several sources or
	// accounts (Snapshot, SnapshotStatus, SnapshotDigest and AsOf are then
	// the newest's, and SnapshotStatus is partial when any is); absent for
	// a campaign over one snapshot, which those fields describe.
	Snapshots        []SnapshotUse     `json:"snapshots,omitempty"`
	PolicyDigest     string            `json:"policy_digest"`
	Reviewers        []string          `json:"reviewers"`
	ReviewerMap      map[string]string `json:"reviewer_map,omitempty"`
	CarriedFrom      string            `json:"carried_from,omitempty"`
	Carried          int               `json:"carried"`
	CarriedAs        map[string]string `json:"carried_as,omitempty"` // carried from an item of CarriedFrom under another ID (renamed since): item -> that ID
	Count            int               `json:"count"`
	PopulationDigest string            `json:"population_digest"`
	// ReviewerAliases maps a reviewer, stored as the person's e-mail, to
	// the alias that was typed, when they differ.
	ReviewerAliases  map[string]string `json:"reviewer_aliases,omitempty"`
	AllowAdminReview bool              `json:"allow_admin_review,omitempty"`
	RequireSigned    bool              `json:"require_signed,omitempty"`
	// ExceptionsReturned lists identities outside the scope taken into the
	// population because their exception lapsed (exception-expired).
	ExceptionsReturned []string `json:"exceptions_returned,omitempty"`
	// The no-response rule (noresponse.go): keep, decommission or
	// escalate, with escalate's fallback reviewer and days.
	OnNoResponse     string `json:"on_no_response,omitempty"`
	FallbackReviewer string `json:"fallback_reviewer,omitempty"`
	EscalateAfter    int    `json:"escalate_after_days,omitempty"`
	// NotRead are the accounts the campaign reviews whose newest run had
	// not finished (notread.go): it holds an older read of each, or
	// nothing of one never read.
	NotRead []AccountNotRead `json:"not_read,omitempty"`
	// Unevaluated counts the identities of the snapshots reviewed that the
	// scope could not judge, what it asks of them not read (an AWS role's
	// policies: docs/filter.md, "What was not read"), and so left out
	// whether or not they are what it asks for; absent when none.
	Unevaluated int `json:"unevaluated,omitempty"`
}

// DecidePayload is the payload of campaign.decide: one decision applied to
// the listed items (one for a single decision, all matches for a bulk one).
type DecidePayload struct {
	Campaign string   `json:"campaign"`
	Items    []string `json:"items"`
	Decision Decision `json:"decision"`
	Reason   string   `json:"reason"`
	Filter   string   `json:"filter,omitempty"` // bulk: the filter that selected Items
	// To is the person (e-mail) a transfer hands the items to
	// (offboarding campaigns, docs/offboarding.md).
	To string `json:"to,omitempty"`
	// Replacement is, for a rotate of a deploy key, the key the reviewer
	// names as its replacement (an identity ID, a key ID or a
	// fingerprint): verification looks for that key (rotation.go).
	Replacement string `json:"replacement,omitempty"`
	// SignedBy is the fingerprint of the key that signed the event (see
	// docs/people.md); "" when unsigned.
	SignedBy string `json:"signed_by,omitempty"`
	// ExceptionExpires is, for a keep, the last day the exceptions among
	// Items (those that had findings) hold; ExceptionApproval says the
	// campaign's policy wants a second person to approve them
	// (exceptions.go).
	ExceptionExpires  string `json:"exception_expires,omitempty"`
	ExceptionApproval bool   `json:"exception_approval,omitempty"`
}

// ConfirmPayload is the payload of campaign.confirm: the listed carried
// items take their carried decision.
type ConfirmPayload struct {
	Campaign string   `json:"campaign"`
	Items    []string `json:"items"`
	Reason   string   `json:"reason"`
	Filter   string   `json:"filter,omitempty"`
	SignedBy string   `json:"signed_by,omitempty"`
	// As in DecidePayload: a confirmed keep of an item with findings is an
	// exception again, from the confirmation.
	ExceptionExpires  string `json:"exception_expires,omitempty"`
	ExceptionApproval bool   `json:"exception_approval,omitempty"`
}

// UndoPayload is the payload of campaign.undo: the decision event Undoes
// made on the listed items is reversed; each goes back to the decision in
// force before it (or pending).
type UndoPayload struct {
	Campaign string   `json:"campaign"`
	Undoes   int64    `json:"undoes"`
	Items    []string `json:"items"`
	SignedBy string   `json:"signed_by,omitempty"`
}

// ClosePayload is the payload of campaign.close. Every item undecided at
// close (carried-but-unconfirmed included) becomes no-response.
type ClosePayload struct {
	Campaign   string `json:"campaign"`
	Decided    int    `json:"decided"`
	NoResponse int    `json:"no_response"`
	// OnNoResponse is the campaign's no-response rule applied to them
	// (keep, decommission; escalate already happened), when it has one.
	OnNoResponse string `json:"on_no_response,omitempty"`
}

// VerifyPayload is the payload of campaign.verify: the state of every
// decommission decision in one later snapshot.
type VerifyPayload struct {
	Campaign     string   `json:"campaign"`
	Snapshot     int64    `json:"snapshot"`
	Removed      []string `json:"removed"`
	StillPresent []string `json:"still_present"`
	NotChecked   []string `json:"not_checked"`
	// Why says, for each not-checked item, why the snapshot could not
	// check it (absent from events written before it was added).
	Why map[string]string `json:"not_checked_why,omitempty"`
	// Rotate and transfer decisions (rotation.go), and why each stands as
	// it does. Absent from events written before they were checked.
	Rotated        []string          `json:"rotated,omitempty"`
	NotRotated     []string          `json:"not_rotated,omitempty"`
	Transferred    []string          `json:"transferred,omitempty"`
	NotTransferred []string          `json:"not_transferred,omitempty"`
	Detail         map[string]string `json:"detail,omitempty"`
	// Access is, for an offboarding campaign of a person, whether the
	// snapshot still shows tokens or SSO authorizations they hold:
	// "revoked", "held" (AccessHeld lists them) or "not-checked".
	Access     string   `json:"access,omitempty"`
	AccessHeld []string `json:"access_held,omitempty"`
	// ByRule are the items above that no reviewer decided and the
	// campaign's rule decommissions (on-no-response: decommission).
	ByRule []string `json:"by_rule,omitempty"`
}

const (
	dateLayout = "2006-01-02"
	// atLayout is how decision times are stored: the event's own time.
	atLayout = "2006-01-02T15:04:05.000000Z"
)

func formatAt(t time.Time) string { return t.UTC().Format(atLayout) }

func parseAt(s string) (time.Time, bool) {
	t, err := time.Parse(atLayout, s)
	return t, err == nil
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

func checkName(name string) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("%w %q: use 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit (e.g. 2026-Q4)", ErrBadName, audit.Printable(name))
	}
	return nil
}

// normActor is the form two people are compared in: case-folded, without
// the "@" of a login (@alice and alice are the same person).
func normActor(s string) string {
	return strings.ToLower(strings.TrimPrefix(strings.TrimSpace(s), "@"))
}

func sameActor(a, b string) bool {
	na := normActor(a)
	return na != "" && na == normActor(b)
}

// reader is what both *audit.Store and *audit.Tx offer for reads.
type reader interface {
	Query(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRow(ctx context.Context, query string, args ...any) *sql.Row
	People(ctx context.Context) (*audit.Directory, error)
	// Aliases are the renames (renames.go).
	Aliases(ctx context.Context) (map[string]string, error)
}

const campaignColumns = `id, name, scope, due, status, snapshot_id, as_of, policy_digest, reviewers, carried_from,
	item_count, population_digest, created_at, created_by, create_seq, closed_at, closed_by, COALESCE(close_seq, 0),
	(SELECT COALESCE(json_extract(payload, '$.allow_admin_review'), '0') || ',' || COALESCE(json_extract(payload, '$.require_signed'), '0')
		FROM events WHERE seq = campaigns.create_seq),
	(SELECT COALESCE(json_extract(payload, '$.snapshots'), '') FROM events WHERE seq = campaigns.create_seq),
	(SELECT COALESCE(json_extract(payload, '$.not_read'), '') FROM events WHERE seq = campaigns.create_seq),
	(SELECT COALESCE(json_extract(payload, '$.unevaluated'), '0') FROM events WHERE seq = campaigns.create_seq),
	COALESCE((SELECT json_array(s.source, s.account, s.status, s.digest) FROM snapshots s WHERE s.id = campaigns.snapshot_id), '')`

func scanCampaign(sc interface{ Scan(...any) error }) (*Campaign, error) {
	var (
		c                   Campaign
		asOf, reviewers, at string
		closedAt, options   sql.NullString
		snapshots, single   string
		notRead             string
	)
	if err := sc.Scan(&c.ID, &c.Name, &c.Scope, &c.Due, &c.Status, &c.SnapshotID, &asOf, &c.PolicyDigest, &reviewers,
		&c.CarriedFrom, &c.Count, &c.PopulationDigest, &at, &c.CreatedBy, &c.CreateSeq, &closedAt, &c.ClosedBy, &c.CloseSeq, &options,
		&snapshots, &notRead, &c.Unevaluated, &single); err != nil {
		return nil, err
	}
	if snapshots != "" {
		if err := json.Unmarshal([]byte(snapshots), &c.Snapshots); err != nil {
			return nil, fmt.Errorf("campaign %s: snapshots: %w", c.Name, err)
		}
	} else {
		// One snapshot: the campaign row and the snapshot's own row say it all.
		var s []string
		_ = json.Unmarshal([]byte(single), &s)
		s = append(s, "", "", "", "")
		c.Snapshots = []SnapshotUse{{ID: c.SnapshotID, Source: s[0], Account: s[1], Status: s[2], Digest: s[3], AsOf: asOf, Count: c.Count}}
	}
	if notRead != "" {
		if err := json.Unmarshal([]byte(notRead), &c.NotRead); err != nil {
			return nil, fmt.Errorf("campaign %s: not_read: %w", c.Name, err)
		}
	}
	c.AllowAdminReview, c.RequireSigned = strings.HasPrefix(options.String, "1,"), strings.HasSuffix(options.String, ",1")
	c.AsOf, _ = time.Parse(time.RFC3339, asOf)
	c.CreatedAt, _ = parseAt(at)
	if closedAt.Valid {
		if t, ok := parseAt(closedAt.String); ok {
			c.ClosedAt = &t
		}
	}
	if err := json.Unmarshal([]byte(reviewers), &c.Reviewers); err != nil {
		return nil, fmt.Errorf("campaign %s: reviewers: %w", c.Name, err)
	}
	return &c, nil
}

// load reads one campaign's row (not its items).
func load(ctx context.Context, r reader, name string) (*Campaign, error) {
	c, err := scanCampaign(r.QueryRow(ctx, `SELECT `+campaignColumns+` FROM campaigns WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		msg := fmt.Sprintf("%q: list campaigns with `nhi campaign list`", audit.Printable(name))
		if near := audit.Nearest(name, allCampaignNames(ctx, r)); near != "" {
			msg = fmt.Sprintf("%q; did you mean %q? (nhi campaign list lists them)", audit.Printable(name), audit.Printable(near))
		}
		return nil, fmt.Errorf("%w %s", ErrNotFound, msg)
	}
	if err != nil {
		return nil, fmt.Errorf("reading campaign %s: %w", name, err)
	}
	return c, nil
}

// allCampaignNames lists every campaign's name, for a "did you mean"; nil
// when they cannot be read.
func allCampaignNames(ctx context.Context, r reader) []string {
	names, _ := readNames(ctx, r, "name")
	return names
}

// readNames lists every campaign's name, in the order of column orderBy,
// and those read before an error.
func readNames(ctx context.Context, r reader, orderBy string) ([]string, error) {
	rows, err := r.Query(ctx, `SELECT name FROM campaigns ORDER BY `+orderBy)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return names, err
		}
		names = append(names, n)
	}
	return names, rows.Err()
}

// loadOpen reads a campaign that may still be decided.
func loadOpen(ctx context.Context, r reader, name string) (*Campaign, error) {
	c, err := load(ctx, r, name)
	if err != nil {
		return nil, err
	}
	if c.Status != StatusOpen {
		return nil, fmt.Errorf("%w: %s was closed at %s by %s; decisions can no longer change", ErrClosed, c.Name, c.ClosedAt.Format(time.RFC3339), c.ClosedBy)
	}
	return c, nil
}
