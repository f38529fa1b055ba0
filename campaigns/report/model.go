package report

import (
	"time"

	"github.com/nhi-audit/nhi/audit"
)

// FormatName identifies the JSON report's shape; fields are only added.
const FormatName = "nhi-evidence-report/1"

// Options are the inputs of a report besides the evidence file. The same
// file and options give the same report, byte for byte.
type Options struct {
	// GeneratedAt is when the report says it was generated. Required: the
	// caller chooses it (nhi export: now, or --generated-at).
	GeneratedAt time.Time
	// Signer is who attests the report (nhi export: --signer, else the actor).
	Signer string
	// Tool names the program and version that wrote it ("nhi v1.2.0").
	Tool string
	// AsOf is the last event of the log the report reflects; 0 means the
	// log's head now.
	AsOf int64
	// Key is the public half of the key that will sign the manifest, when
	// the bundle is signed: the report names it so an auditor can check
	// who signed.
	Key *PublicKey
}

// Report is everything the bundle says, already made safe for display:
// every text field went through audit.Printable. Renderers add the escaping
// their format needs. It is also the JSON report.
type Report struct {
	Format      string      `json:"format"`
	Tool        string      `json:"tool"`
	GeneratedAt string      `json:"generated_at"`
	Draft       bool        `json:"draft"` // the campaign is still open: decisions may change
	Attestation Attestation `json:"attestation"`
	Population  Population  `json:"population"`
	Criteria    Criteria    `json:"criteria"`
	// Register has one row per identity of the frozen population, in ID order.
	Register []Row `json:"decision_register"`
	// History is every decision event of every item, by register row then
	// event: the trail behind each final decision (history.csv).
	History []HistoryEntry `json:"decision_history"`
	// BulkDecisions are the bulk decisions and confirmations, each with the
	// filter that selected its items.
	BulkDecisions []BulkDecision `json:"bulk_decisions"`
	// Notes are the reviewers' notes on identities of the population, in
	// log order, up to the event the report reflects.
	Notes       []Note        `json:"notes"`
	Exceptions  []Row         `json:"exceptions"`
	Remediation Remediation   `json:"remediation"`
	Reviewers   ReviewerStats `json:"reviewer_statistics"`
	// Refused are the attempts the separation rules refused, in log order.
	Refused   []Refusal `json:"refused_attempts"`
	Integrity Integrity `json:"integrity"`
	// Signatures are the signed events of the items' trails, for
	// signatures.jsonl (signatures.go); not part of report.json.
	Signatures []audit.SignedRecord `json:"-"`
	// Offboarding is the offboarding summary (offboarding.go); null for a
	// review campaign.
	Offboarding *Offboarding `json:"offboarding"`

	// long holds the long tables (register, exceptions, decommissions,
	// history) in spool files while a bundle is written; Register,
	// Exceptions, Remediation.Rows and History then hold only the first
	// rows, those the HTML and Markdown reports list (see collect.go).
	long        *longTables
	generatedAt time.Time
	review      audit.ReviewPolicy
	// trail is the decision history of the first items whose trail has
	// more than one event (pageRows of them), trailRows their register
	// rows by number, trailsOut how many such items come after them.
	trail     []HistoryEntry
	trailRows map[int]Row
	trailsOut int
	// shortReasons and reusedReasons count the exceptions flagged
	// short-reason and reused-reason.
	shortReasons, reusedReasons int

	// dataFiles, while a bundle is rendered, closes once the CSV tables
	// are written and Integrity.DataFiles lists their hashes: the reports
	// are written meanwhile and wait for it only at their integrity
	// section (awaitDataFiles).
	dataFiles <-chan struct{}
}

// awaitDataFiles waits, while a bundle is rendered, until
// Integrity.DataFiles is final.
func (r *Report) awaitDataFiles() {
	if r != nil && r.dataFiles != nil {
		<-r.dataFiles
	}
}

// BulkDecision is one event that decided many items at once.
type BulkDecision struct {
	Event    int64  `json:"event"`
	Type     string `json:"type"`
	At       string `json:"at"`
	Actor    string `json:"actor"`
	Decision string `json:"decision"`
	Filter   string `json:"filter"`
	Reason   string `json:"justification"`
	Items    int    `json:"items"` // of this campaign's items, how many it decided
}

// Attestation says what was reviewed, when, against which controls, and
// who stands behind the report.
type Attestation struct {
	Campaign    string   `json:"campaign"`
	Status      string   `json:"status"` // open, closed
	Scope       string   `json:"scope"`
	ScopeInput  string   `json:"scope_input,omitempty"`
	Due         string   `json:"due"`
	PeriodStart string   `json:"period_start"` // the campaign's creation
	PeriodEnd   string   `json:"period_end"`   // its close, or its due date while open
	PeriodEndIs string   `json:"period_end_is"`
	CreatedAt   string   `json:"created_at"`
	CreatedBy   string   `json:"created_by"`
	CreateEvent int64    `json:"create_event"`
	ClosedAt    string   `json:"closed_at"`
	ClosedBy    string   `json:"closed_by"`
	CloseEvent  int64    `json:"close_event"`
	Reviewers   []string `json:"reviewers"`
	CarriedFrom string   `json:"carried_from"`
	Signer      string   `json:"signer"`
	Statement   string   `json:"statement"`
	// SelfReview says, when the log holds any, how many decisions were
	// made by the identity's own owner or holder, a member of its owning
	// team or the campaign's creator, with their events
	// (Summary.SelfReviews); absent otherwise.
	SelfReview string    `json:"self_review,omitempty"`
	Controls   []Control `json:"controls"`
	Summary    Summary   `json:"summary"`
}

// Control is one compliance control the report serves, and how.
type Control struct {
	Framework string `json:"framework"`
	ID        string `json:"id"`
	Title     string `json:"title"`
	How       string `json:"how"`
}

// Summary counts the register.
type Summary struct {
	Items        int `json:"items"`
	Decommission int `json:"decommission"`
	Keep         int `json:"keep"`
	Rotate       int `json:"rotate"`
	// Transfer counts an offboarding's transfers to a new owner: decided,
	// never pending (absent when none).
	Transfer      int `json:"transfer,omitempty"`
	NoResponse    int `json:"no_response"`
	Pending       int `json:"pending"` // open campaigns only; carried items awaiting confirmation included
	WithFindings  int `json:"with_findings"`
	Exceptions    int `json:"exceptions"`
	NotAssignee   int `json:"not_assignee"`
	Conflicts     int `json:"conflicts"`
	Overdue       int `json:"overdue"`
	NotYetChecked int `json:"not_yet_checked"` // decommissions past due that no snapshot after the due date checked
	Late          int `json:"late"`            // decided after the due date
	// SelfReviews counts the decisions, confirmations and undos (an
	// event on an item each) by the item's own owner or holder, a member
	// of its owning team or the campaign's creator, and the
	// transfers to the decider herself, that nhi refuses and the log
	// holds anyway: written around nhi, as nhi verify names them
	// (docs/report.md, "Self-reviews"); SelfReviewEvents are their
	// events, SelfReviewsInForce how many register rows' decision in
	// force is one (flag self-review). Absent when none.
	SelfReviews        int     `json:"self_reviews,omitempty"`
	SelfReviewEvents   []int64 `json:"self_review_events,omitempty"`
	SelfReviewsInForce int     `json:"self_reviews_in_force,omitempty"`
	// ExceptionsNotApproved counts the exceptions whose only approval
	// approves nothing (a leaver's, or one a rule refuses:
	// Row.ExceptionNotApproved). Absent
	// when none, and exceptions.csv has its not_approved column only
	// then, so a report without any is as before, byte for byte.
	ExceptionsNotApproved int `json:"exceptions_not_approved,omitempty"`
	// ClosedBeforeDue: the campaign was closed before its due date ended;
	// NoResponse says how many items that left without a response.
	ClosedBeforeDue bool `json:"closed_before_due"`
}

// Population says where the reviewed identities came from. A campaign
// over several sources or accounts has one snapshot each (Sources); the
// fields that name one snapshot (Source to SnapshotDigest) are then empty,
// and the counts and gaps are those of every snapshot together.
type Population struct {
	Source           string      `json:"source"`
	Account          string      `json:"account"`
	APIURL           string      `json:"api_url"`
	Credential       string      `json:"credential"`
	ToolVersion      string      `json:"tool_version"`
	Snapshot         int64       `json:"snapshot"`
	SnapshotStatus   string      `json:"snapshot_status"`
	SnapshotStarted  string      `json:"snapshot_started"`
	SnapshotFinished string      `json:"snapshot_finished"`
	SnapshotDigest   string      `json:"snapshot_digest"`
	SnapshotTotal    int         `json:"snapshot_total"`
	InScope          int         `json:"in_scope"`
	PopulationDigest string      `json:"population_digest"`
	Kinds            []KindCount `json:"kinds"`
	Gaps             []Gap       `json:"gaps"`
	// Rows is the frozen population, in ID order: the facts each decision
	// rests on (population.csv).
	Reconciliation Reconciliation `json:"reconciliation"`
	// VerifyingSnapshots are the snapshots whose word the remediation
	// states rest on, oldest first, given as the population's snapshot is.
	VerifyingSnapshots []SnapshotEvidence `json:"verifying_snapshots"`
	// Sources are the snapshots of the population, one per source/account,
	// in source/account order (one, for a campaign over one snapshot).
	Sources []SourceEvidence `json:"sources"`
	// AccountsNotRead are the accounts the campaign reviews whose newest
	// run had not finished when it was created (the campaign.create
	// event's not_read): the population holds an older snapshot's read of
	// each, or none of its identities. Absent when there were none.
	AccountsNotRead []AccountNotRead `json:"accounts_not_read,omitempty"`
	// Unevaluated counts the identities of the snapshots reviewed that the
	// scope could not judge, what it asks of them not read (the
	// campaign.create event's unevaluated): they are not in the
	// population, whether or not they are what it asks for. Absent when
	// there were none.
	Unevaluated int `json:"unevaluated,omitempty"`
}

// AccountNotRead is an account whose newest run had not finished when
// the campaign was created.
type AccountNotRead struct {
	Source  string `json:"source"`
	Account string `json:"account"`
	Attempt int64  `json:"attempt"` // the run's snapshot
	Started string `json:"started"`
	Status  string `json:"status"` // failed, stopped, running
	Reason  string `json:"reason"`
	// Snapshot is the older snapshot the population holds of the
	// account; 0 when it holds nothing of it.
	Snapshot int64  `json:"snapshot"`
	Effect   string `json:"effect"`
}

// SourceEvidence is one snapshot of the population: the snapshot as
// evidence, when the scope was evaluated over it, and how many of its
// identities the campaign took (Kinds' Campaign counts them by kind).
type SourceEvidence struct {
	Snapshot     SnapshotEvidence `json:"snapshot"`
	AsOf         string           `json:"as_of"`
	InScope      int              `json:"in_scope"`
	Completeness Completeness     `json:"completeness"`
}

// Completeness is how much of its source a snapshot read, as its connector
// counted it, and what that connector does not collect or cannot see:
// the limits of the review's claim of completeness.
type Completeness struct {
	// Recorded is false when the snapshot does not say (taken before nhi
	// recorded it, or by a connector that does not count): then only
	// PlacesRead and the gaps speak, and nothing is read as zero.
	Recorded bool     `json:"recorded"`
	Unit     string   `json:"unit"` // repositories, accounts, files and TLS endpoints, rows
	Read     int      `json:"read"`
	NotRead  []string `json:"not_read"`
	Requests int      `json:"requests"`
	// PlacesRead counts the (scope, kind) places the snapshot read in
	// full: the endpoints whose every page was read. null when the
	// snapshot does not say what it read (an import: all or nothing).
	PlacesRead   *int     `json:"places_read"`
	NotCollected []string `json:"not_collected"`
	CannotSee    []string `json:"cannot_see"`
}

// SnapshotEvidence is a snapshot as evidence: what read it, with what,
// what it saw and what it could not read.
type SnapshotEvidence struct {
	ID          int64       `json:"id"`
	Source      string      `json:"source"`
	Account     string      `json:"account"`
	APIURL      string      `json:"api_url"`
	Credential  string      `json:"credential"`
	ToolVersion string      `json:"tool_version"`
	Status      string      `json:"status"`
	Started     string      `json:"started"`
	Finished    string      `json:"finished"`
	Digest      string      `json:"digest"`
	Total       int         `json:"total"`
	Kinds       []KindCount `json:"kinds"` // Campaign is 0: counts of the snapshot only
	Gaps        []Gap       `json:"gaps"`
}

// KindCount counts one kind in the snapshot and in the campaign.
type KindCount struct {
	Kind     string `json:"kind"`
	Label    string `json:"label"`
	Snapshot int    `json:"snapshot"`
	Campaign int    `json:"campaign"`
}

// Gap is an endpoint the snapshot could not read.
type Gap struct {
	Snapshot int64  `json:"snapshot"`
	Endpoint string `json:"endpoint"`
	Kind     string `json:"kind"`
	Scope    string `json:"scope"`
	Status   int    `json:"status"`
	Reason   string `json:"reason"`
	Effect   string `json:"effect"`
}

// Reconciliation accounts for the population against the previous
// campaign on the same account: Previous + Added − Removed = Count.
type Reconciliation struct {
	First            bool        `json:"first"` // no earlier campaign on the account
	Previous         string      `json:"previous"`
	PreviousSnapshot int64       `json:"previous_snapshot"`
	PreviousScope    string      `json:"previous_scope"`
	SameScope        bool        `json:"same_scope"`
	PreviousCount    int         `json:"previous_count"`
	Added            int         `json:"added"`
	Removed          int         `json:"removed"`
	Count            int         `json:"count"`
	Balanced         bool        `json:"balanced"`
	RemovedApproved  int         `json:"removed_approved"` // of Removed, approved for decommission by the previous campaign
	Kinds            []ReconKind `json:"kinds"`
}

// ReconKind is the reconciliation of one kind.
type ReconKind struct {
	Kind     string `json:"kind"`
	Label    string `json:"label"`
	Previous int    `json:"previous"`
	Added    int    `json:"added"`
	Removed  int    `json:"removed"`
	Count    int    `json:"count"`
}

// Criteria are the rules the population was reviewed under.
type Criteria struct {
	Scope          string   `json:"scope"`
	AsOf           string   `json:"as_of"`
	PolicyDigest   string   `json:"policy_digest"`
	PolicySource   string   `json:"policy_source"`
	FirstPartyApps []string `json:"first_party_apps"`
	// Sources are those of the campaign's snapshots; Rules lists the
	// policy's rules that can fire on their identities
	// (audit.RuleSources), OtherRules names the rest.
	Sources    []string    `json:"sources"`
	Rules      []RuleRow   `json:"rules"`
	OtherRules []string    `json:"other_rules"`
	Review     []Principle `json:"review_rules"`
}

// RuleRow is one finding rule as the policy set it.
type RuleRow struct {
	Rule      string `json:"rule"`
	Enabled   bool   `json:"enabled"`
	Severity  string `json:"severity"`
	OWASP     string `json:"owasp"`
	FiresWhen string `json:"fires_when"`
}

// Principle is one rule of the review itself (non-response, self-review, ...).
type Principle struct {
	Name string `json:"name"`
	Rule string `json:"rule"`
}

// Finding is one finding of an item, frozen at the campaign's creation.
type Finding struct {
	Rule     string `json:"rule"`
	Severity string `json:"severity"`
	OWASP    string `json:"owasp"`
	Message  string `json:"message"`
}

// Row is one identity of the decision register.
type Row struct {
	N  int    `json:"n"`
	ID string `json:"id"` // as the campaign froze it
	// CurrentID is the ID the identity has now, as of the report's
	// event, when its repository was renamed since the campaign froze
	// it (flag renamed); absent otherwise.
	CurrentID   string    `json:"current_id,omitempty"`
	Kind        string    `json:"kind"`
	KindLabel   string    `json:"kind_label"`
	Name        string    `json:"name"`
	Scope       string    `json:"scope"`
	Owner       string    `json:"owner"`  // recorded at creation
	Holder      string    `json:"holder"` // who the source says holds it
	Permissions string    `json:"permissions"`
	Findings    []Finding `json:"findings"`
	Reviewer    string    `json:"reviewer"` // assigned
	Decision    string    `json:"decision"` // decommission, keep, rotate, no-response, pending, carried
	DecidedBy   string    `json:"decided_by"`
	DecidedAt   string    `json:"decided_at"`
	Event       int64     `json:"event"` // the event that made the decision
	Via         string    `json:"via"`   // single, bulk, confirm; "" when undecided or no-response
	Reason      string    `json:"justification"`
	Carried     string    `json:"carried"` // decision carried from the previous campaign
	CarriedWhy  string    `json:"carried_justification"`
	Flags       []string  `json:"flags"`
	SignedBy    string    `json:"signed_by"` // fingerprint of the key that signed the decision; "" unsigned
	// Remediation of a decommission decision.
	Verification     string `json:"verification"` // removed, still-present, not-checked, not-verified; "" for other decisions
	VerifiedSnapshot int64  `json:"verified_snapshot"`
	VerifyEvent      int64  `json:"verify_event"`
	// VerificationReason is why it stands so, in the words nhi campaign
	// verify printed (campaigns.VerifyPayload.Reason): the gap behind a
	// not-checked item, what the snapshot showed of a rotation or
	// transfer, or, not verified, that no later snapshot has checked it.
	VerificationReason string `json:"verification_reason,omitempty"`
	// Overdue: a snapshot taken after the due date, the newest to check
	// it, still shows it.
	Overdue bool `json:"overdue"`
	// ClosedAt is the campaign's close, for a no-response row: it has no
	// decision time and no decider.
	ClosedAt string `json:"closed_at"`
	// Exception terms of a keep on an identity with findings
	// (docs/campaigns.md, "Exceptions"): its last day, who approved it
	// (the second person, when the policy requires one) and its state:
	// approved, approval-not-required, awaiting-approval, never-approved,
	// no-expiry (decided before exceptions had one); all "" otherwise.
	ExceptionExpires    string `json:"exception_expires,omitempty"`
	ExceptionApprovedBy string `json:"exception_approved_by,omitempty"`
	ExceptionState      string `json:"exception_state,omitempty"`
	// ExceptionNotApproved says why an approval the log holds for the
	// exception approves nothing, when none that counts approved it: a
	// leaver's, or one a rule refuses (campaigns.NotAnApproval); ""
	// otherwise.
	ExceptionNotApproved string `json:"exception_not_approved,omitempty"`
	// EscalatedTo is who the escalate rule reassigned the item to, and
	// EscalateEvent the decision.escalate event ("" and 0 otherwise).
	EscalatedTo   string `json:"escalated_to,omitempty"`
	EscalateEvent int64  `json:"escalate_event,omitempty"`
}

// Note is a reviewer's note (a note.add event) on an identity of the
// population.
type Note struct {
	N     int    `json:"n"` // the identity's row in the register
	ID    string `json:"id"`
	Name  string `json:"name"`
	Event int64  `json:"event"`
	At    string `json:"at"`
	Actor string `json:"actor"`
	Text  string `json:"text"`
}

// Register flags.
const (
	FlagNotAssignee = "not-assignee" // decided by someone other than the assigned reviewer
	FlagUnassigned  = "unassigned"   // every reviewer owns it: no reviewer could be assigned
	FlagConflict    = "conflict"     // re-decided or undone by someone other than its last decider
	FlagCarried     = "carried"      // its decision was carried from the previous campaign
	FlagBulk        = "bulk"         // decided by a bulk decision or bulk confirmation
	FlagChanged     = "changed"      // decided more than once, or undone
	FlagNoResponse  = "no-response"  // nobody decided it before close
	FlagOverdue     = "overdue"      // approved for removal, and a snapshot taken after the due date still shows it
	// FlagNotYetChecked: approved for removal, the due date has passed, and
	// no snapshot taken after it has checked the identity.
	FlagNotYetChecked = "not-yet-checked"
	FlagLate          = "late" // decided after the due date
	// FlagShortReason: an exception whose justification is shorter than
	// the policy's review.min_reason_chars.
	FlagShortReason = "short-reason"
	// FlagReusedReason: an exception whose justification (compared
	// without case or spacing) is on exceptions of more kinds than the
	// policy's review.max_reason_kinds: pasted, not written for the item.
	FlagReusedReason = "reused-reason"
	// FlagEscalated: the campaign's escalate rule reassigned it, pending,
	// to the reviewer's manager or the fallback reviewer (EscalatedTo).
	FlagEscalated = "escalated"
	// FlagKeptByRule, FlagDecommissionByRule: no-response, and the
	// campaign's on-no-response rule says what it comes to.
	FlagKeptByRule         = "kept-by-rule"
	FlagDecommissionByRule = "decommission-by-rule"
	// FlagRenamed: its repository was renamed since the campaign froze
	// it; the identity goes on under CurrentID.
	FlagRenamed = "renamed"
	// FlagSelfReview: the decision in force was made (or confirmed) by
	// the identity's own owner or holder, a member of its owning team or
	// the campaign's creator, or transferred it to the
	// decider herself: nhi refuses that, so it was written around nhi
	// (Summary.SelfReviews).
	FlagSelfReview = "self-review"
)

// NotVerified is the remediation state of a decommission decision no later
// snapshot has checked yet.
const NotVerified = "not-verified"

// Remediation is what became of the decommission decisions.
type Remediation struct {
	Decommission  int           `json:"decommission"`
	Removed       int           `json:"removed"`
	StillPresent  int           `json:"still_present"`
	NotChecked    int           `json:"not_checked"`
	NotVerified   int           `json:"not_verified"`
	Overdue       int           `json:"overdue"`
	NotYetChecked int           `json:"not_yet_checked"`
	Snapshots     []SnapshotRef `json:"snapshots"`     // the snapshots that checked, oldest first
	Rows          []Row         `json:"decommissions"` // the decommission rows of the register
}

// SnapshotRef names a snapshot.
type SnapshotRef struct {
	ID      int64  `json:"id"`
	Started string `json:"started"`
	Status  string `json:"status"`
	Digest  string `json:"digest"`
}

// ReviewerStats are the per-reviewer signals auditors look for.
type ReviewerStats struct {
	Definitions []Principle   `json:"definitions"`
	Rows        []ReviewerRow `json:"rows"`
	// Thresholds are the policy's limits each signal is judged by
	// (the campaign's policy, review section).
	Thresholds []Threshold `json:"thresholds"`
}

// Threshold is one limit of the policy's review section, and what a
// reviewer or justification beyond it is marked.
type Threshold struct {
	Signal string `json:"signal"` // the mark: short-reason, reused-reason, median-interval, bulk, kept-with-findings, per-minute
	Key    string `json:"policy_key"`
	Value  int    `json:"value"`
	Rule   string `json:"rule"`
}

// Signals a reviewer row is marked with when beyond a threshold.
const (
	MarkMedianInterval   = "median-interval"
	MarkBulk             = "bulk"
	MarkKeptWithFindings = "kept-with-findings"
	MarkPerMinute        = "per-minute"
)

// ReviewerRow is one person's part in the campaign.
type ReviewerRow struct {
	Reviewer         string `json:"reviewer"`
	Listed           bool   `json:"listed"` // one of the campaign's reviewers
	Assigned         int    `json:"assigned"`
	Decisions        int    `json:"decisions"`
	Decommission     int    `json:"decommission"`
	Keep             int    `json:"keep"`
	Rotate           int    `json:"rotate"`
	ForOthers        int    `json:"for_others"`
	NoResponse       int    `json:"no_response"`
	Events           int    `json:"events"`
	MedianInterval   string `json:"median_interval"`
	MedianSeconds    int64  `json:"median_interval_seconds"` // -1 with fewer than two events
	Bulk             int    `json:"bulk"`
	BulkShare        string `json:"bulk_share"`
	DecidedFindings  int    `json:"decided_with_findings"`
	KeptFindings     int    `json:"kept_with_findings"`
	KeptFindingShare string `json:"kept_with_findings_share"`
	Signed           int    `json:"signed"` // decisions signed with the reviewer's SSH key
	SignedShare      string `json:"signed_share"`
	// PeakPerMinute is the most decision events the reviewer recorded
	// within any 60 seconds.
	PeakPerMinute int `json:"peak_decisions_per_minute"`
	// Marks are the signals beyond the policy's thresholds (Mark*), in
	// the order of the table's columns.
	Marks []string `json:"marks"`
}

// Integrity is how to check the bundle.
type Integrity struct {
	Head             EventRef   `json:"event_log_head"`
	CampaignEvents   []EventRef `json:"campaign_events"`  // create, close and verify events
	SnapshotDigest   string     `json:"snapshot_digest"`  // "" over several snapshots: see SnapshotDigests
	SnapshotDigests  []string   `json:"snapshot_digests"` // of each population snapshot, in Population.Sources order
	PopulationDigest string     `json:"population_digest"`
	PolicyDigest     string     `json:"policy_digest"`
	DataFiles        []FileHash `json:"data_files"` // the CSV tables, hashed before the reports that list them
	Signature        *KeyInfo   `json:"signature"`
	Steps            []Step     `json:"steps"`
}

// EventRef names one event of the log.
type EventRef struct {
	Seq  int64  `json:"seq"`
	Type string `json:"type"`
	At   string `json:"at"`
	Hash string `json:"hash"`
}

// FileHash is one file of the bundle.
type FileHash struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Bytes  int64  `json:"bytes"`
}

// KeyInfo names the key that signs the manifest.
type KeyInfo struct {
	Signer      string `json:"signer"`
	Namespace   string `json:"namespace"`
	KeyType     string `json:"key_type"`
	Fingerprint string `json:"fingerprint"`
	PublicKey   string `json:"public_key"` // authorized_keys form
}

// Step is one way to check the bundle.
type Step struct {
	Name    string `json:"name"`
	Command string `json:"command"`
	Does    string `json:"does"`
}
