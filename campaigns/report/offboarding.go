package report

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"maps"
	"slices"
	"strings"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
)

// The offboarding summary (docs/offboarding.md, "Evidence"): for an
// offboarding campaign, whom or what it offboarded and when, every
// relationship found, what was done to each identity and when it was
// verified, and what remains with its risk — what an auditor checking a
// leaver reads first. Built only from the log up to the report's event
// (the offboard.create event, the register, campaign.verify events), so a
// rebuild as of the same event gives the same bytes.

// Offboarding is the summary; nil (JSON null) for a review campaign.
type Offboarding struct {
	Kind      string `json:"kind"`   // person, system
	Person    string `json:"person"` // the leaver's e-mail, "" for a system
	Scope     string `json:"scope"`  // a system's filter, "" for a person
	Effective string `json:"effective"`
	Event     int64  `json:"event"` // the offboard.create event
	// Access is where the leaver had access that reaches secrets, as
	// snapshots showed it.
	Access []OffboardAccess `json:"access"`
	// Relationships counts, for each relationship, the identities it
	// found; Related is how many identities that is, and Several how
	// many of them more than one found, counted under each and once in
	// Related (campaigns.RelationCount).
	Relationships []RelationshipStat `json:"relationships"`
	Related       int                `json:"related"`
	Several       int                `json:"several"`
	Items         []OffboardRow      `json:"items"`
	// AccessRevoked is what the campaign.verify events said of the
	// leaver's tokens and SSO authorizations, over every GitHub
	// organisation of the campaign (each its newest): held where any
	// holds one, not-checked, "" while any was not checked yet, revoked
	// where all are. AccessEvent is the newest event of that verdict.
	AccessRevoked string   `json:"access_revoked"`
	AccessHeld    []string `json:"access_held"`
	AccessEvent   int64    `json:"access_event"`
	Done          int      `json:"done"`      // items whose decision a snapshot or the log proved
	Remaining     int      `json:"remaining"` // the others
}

// OffboardAccess is one place the leaver had access to.
type OffboardAccess struct {
	Scope    string `json:"scope"`
	Role     string `json:"role"` // admin; maintain or write for a collaborator
	Via      string `json:"via"`
	Login    string `json:"login"`
	Snapshot int64  `json:"snapshot"`
}

// RelationshipStat counts the identities related one way.
type RelationshipStat struct {
	Kind  string `json:"kind"`
	Count int    `json:"count"`
}

// OffboardRow is one identity of the summary.
type OffboardRow struct {
	N    int    `json:"n"` // its row in the register
	ID   string `json:"id"`
	Name string `json:"name"`
	Kind string `json:"kind_label"`
	Why  string `json:"why"`
	// Group is the strongest relationship, the one it is listed under
	// (audit.RelationGroups; "" for a system's item); Tags are all of them.
	Group    string   `json:"group"`
	Tags     []string `json:"tags"`
	Decision string   `json:"decision"`
	// To is the new owner a transfer named; Replacement the key a rotate
	// of a deploy key named (the decision event's to and replacement).
	To               string `json:"to,omitempty"`
	Replacement      string `json:"replacement,omitempty"`
	DecidedAt        string `json:"decided_at"`
	Verification     string `json:"verification"`
	VerifiedSnapshot int64  `json:"verified_snapshot"`
	// VerificationReason is the register row's: why it stands so, in
	// campaign verify's words.
	VerificationReason string `json:"verification_reason,omitempty"`
	Done               bool   `json:"done"`
	Risk               string `json:"risk"` // what remains, for an item not done
}

//go:embed offboarding.html.tmpl
var offboardingHTML string

func init() {
	template.Must(htmlTemplate.New("offboarding.html.tmpl").Parse(offboardingHTML))
}

// offboardAcc builds an offboarding campaign's summary as the register's
// rows pass (an offboarding campaign is one leaver's identities: its rows
// are kept).
type offboardAcc struct {
	o    *Offboarding
	ob   *campaigns.Offboarding
	why  map[string][]audit.Relation
	asOf int64
	// accessSeqs are the campaign.verify events the access verdict was
	// read from (each GitHub organisation's newest), for the integrity
	// section's list of the campaign's events.
	accessSeqs []int64
}

// startOffboarding begins the summary of campaign c as of event asOf; nil
// for a review campaign.
func startOffboarding(ctx context.Context, st *audit.Store, c *campaigns.Campaign, asOf int64) (*offboardAcc, error) {
	ob, err := campaigns.OffboardingOf(ctx, st, c.Name)
	if err != nil || ob == nil {
		return nil, err
	}
	o := &Offboarding{Kind: ob.Kind, Person: clean(ob.Person), Scope: clean(ob.Scope), Effective: ob.Effective, Event: ob.Seq,
		Access: []OffboardAccess{}, Relationships: []RelationshipStat{}, Items: []OffboardRow{}, AccessHeld: []string{}}
	// Where the leaver had access is in the offboard.create event only
	// (the offboardings table keeps whom and when).
	ev, err := st.EventAt(ctx, ob.Seq)
	if err != nil {
		return nil, fmt.Errorf("reading the offboarding's event %d: %w", ob.Seq, err)
	}
	var created campaigns.OffboardPayload
	if err := json.Unmarshal(ev.Payload, &created); err != nil {
		return nil, fmt.Errorf("event %d: %w", ob.Seq, err)
	}
	for _, a := range created.Access {
		o.Access = append(o.Access, OffboardAccess{Scope: clean(a.Scope), Role: clean(a.Role), Via: clean(a.Via), Login: clean(a.Login), Snapshot: a.SnapshotID})
	}
	why := map[string][]audit.Relation{}
	for _, it := range ob.Items {
		why[it.ID] = it.Relations
	}
	rc := ob.CountRelations()
	for _, k := range rc.ByKind {
		o.Relationships = append(o.Relationships, RelationshipStat{k.Kind, k.Count})
	}
	o.Related, o.Several = rc.Related, rc.Several
	return &offboardAcc{o: o, ob: ob, why: why, asOf: asOf}, nil
}

// add adds a register row.
func (a *offboardAcc) add(ctx context.Context, st *audit.Store, row *Row) error {
	o, asOf := a.o, a.asOf
	var err error
	rels := a.why[row.ID]
	var words []string
	for _, r := range rels {
		words = append(words, r.Kind+": "+r.Detail)
	}
	if len(words) == 0 {
		words = []string{"in scope"}
	}
	done := proven(row.Decision, row.Verification)
	or := OffboardRow{N: row.N, ID: row.ID, Name: row.Name, Kind: row.KindLabel, Why: clean(strings.Join(words, "; ")),
		Group: audit.Strongest(rels), Tags: audit.RelationTags(rels),
		Decision: row.Decision, DecidedAt: row.DecidedAt, Verification: row.Verification, VerifiedSnapshot: row.VerifiedSnapshot,
		VerificationReason: row.VerificationReason, Done: done}
	if or.Tags == nil {
		or.Tags = []string{}
	}
	if (row.Decision == string(campaigns.Transfer) || row.Decision == string(campaigns.Rotate)) && row.Event != 0 && row.Event <= asOf {
		if or.To, or.Replacement, err = decisionTerms(ctx, st, row.Event); err != nil {
			return err
		}
	}
	if done {
		o.Done++
	} else {
		o.Remaining++
		or.Risk = risk(row, rels)
	}
	o.Items = append(o.Items, or)
	return nil
}

// finish completes the summary once every row was added.
func (a *offboardAcc) finish(ctx context.Context, st *audit.Store, c *campaigns.Campaign, asOf int64) (*Offboarding, error) {
	o, ob := a.o, a.ob
	// Listed by relationship, strongest first (each once, with its tags),
	// in register order within each.
	slices.SortStableFunc(o.Items, func(a, b OffboardRow) int { return groupRank(a.Group) - groupRank(b.Group) })
	if ob.Person != "" {
		if err := a.access(ctx, st, c, asOf); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// access sets what the campaign.verify events up to asOf said of the
// leaver's tokens and SSO authorizations, over every GitHub organisation
// of the campaign, each as its newest verified snapshot showed it: held
// where any still shows one, not-checked where any could not read them,
// "" while any has not been checked, and revoked only when every one
// shows them gone (docs/offboarding.md, "Proof").
func (a *offboardAcc) access(ctx context.Context, st *audit.Store, c *campaigns.Campaign, asOf int64) error {
	o := a.o
	snaps, err := st.Snapshots(ctx)
	if err != nil {
		return err
	}
	account := map[int64]string{}
	for _, s := range snaps {
		account[s.ID] = s.Source + "/" + s.Account
	}
	type seen struct {
		snapshot, seq int64
		p             campaigns.VerifyPayload
	}
	newest := map[string]seen{} // source/account -> its newest verdict
	for _, u := range c.Snapshots {
		if u.Source == "github" {
			newest[u.Source+"/"+u.Account] = seen{}
		}
	}
	evs, err := st.EventsOfType(ctx, campaigns.EventVerify)
	if err != nil {
		return err
	}
	for _, e := range evs {
		if e.Seq > asOf || e.Type != campaigns.EventVerify {
			continue
		}
		var p campaigns.VerifyPayload
		if err := json.Unmarshal(e.Payload, &p); err != nil {
			return fmt.Errorf("event %d: %w", e.Seq, err)
		}
		if p.Campaign != c.Name || p.Access == "" {
			continue
		}
		k := account[p.Snapshot]
		if n := newest[k]; p.Snapshot >= n.snapshot {
			newest[k] = seen{p.Snapshot, e.Seq, p}
		}
	}
	rank := map[string]int{"revoked": 0, "": 1, campaigns.NotChecked: 2, "held": 3}
	worst := -1
	for _, k := range slices.Sorted(maps.Keys(newest)) {
		n := newest[k]
		if n.seq != 0 {
			a.accessSeqs = append(a.accessSeqs, n.seq)
		}
		if n.p.Access == "held" {
			o.AccessHeld = append(o.AccessHeld, cleanAll(n.p.AccessHeld)...)
		}
		if r := rank[n.p.Access]; r > worst || r == worst && n.seq > o.AccessEvent {
			worst, o.AccessRevoked, o.AccessEvent = r, n.p.Access, n.seq
		}
	}
	slices.Sort(o.AccessHeld)
	return nil
}

// groupRank orders the relationship groups as audit.RelationGroups does;
// an item with none (a system's) comes last.
func groupRank(g string) int {
	if i := slices.Index(audit.RelationGroups, g); i >= 0 {
		return i
	}
	return len(audit.RelationGroups)
}

// decisionTerms reads what decision event seq named beyond the decision:
// a transfer's new owner, a rotation's replacement key.
func decisionTerms(ctx context.Context, st *audit.Store, seq int64) (to, replacement string, err error) {
	ev, err := st.EventAt(ctx, seq)
	if err != nil {
		return "", "", fmt.Errorf("reading decision event %d: %w", seq, err)
	}
	if ev.Type != campaigns.EventDecide {
		return "", "", nil
	}
	var d campaigns.DecidePayload
	if err := json.Unmarshal(ev.Payload, &d); err != nil {
		return "", "", fmt.Errorf("decision event %d: %w", seq, err)
	}
	return clean(d.To), clean(d.Replacement), nil
}

// decisionText is a row's decision with what it named: "transfer to
// dan@acme.com", "rotate, replacement SHA256:…".
func (r *OffboardRow) decisionText() string {
	switch {
	case r.To != "":
		return r.Decision + " to " + r.To
	case r.Replacement != "":
		return r.Decision + ", replacement " + r.Replacement
	}
	return r.Decision
}

// proven reports whether a decision's outcome is shown: removed, rotated
// or transferred, as a snapshot or the log said.
func proven(decision, verification string) bool {
	switch decision {
	case string(campaigns.Decommission):
		return verification == campaigns.Removed
	case string(campaigns.Rotate):
		return verification == campaigns.Rotated || verification == campaigns.Removed
	case string(campaigns.Transfer):
		return verification == campaigns.Transferred
	}
	return false
}

// risk says, in a line, what an item not done still exposes.
func risk(row *Row, rels []audit.Relation) string {
	exposure := "related to the leaver"
	if len(rels) > 0 {
		switch rels[0].Kind {
		case audit.RelHolds:
			exposure = "a credential of the leaver's that may still work"
		case audit.RelCreated:
			exposure = "created by the leaver; nobody accountable for it until it is transferred"
		case audit.RelOwns:
			exposure = "owned by the leaver; nobody accountable for it until it is transferred"
		case audit.RelCouldRead:
			exposure = "the leaver could read it: a secret someone gone may know"
		case audit.RelSuggested:
			exposure = "the leaver was its likeliest owner"
		}
	} else {
		exposure = "part of the retired system"
	}
	var state string
	switch {
	case row.Decision == "keep":
		state = "kept (" + orDashText(row.Reason) + ")"
	case row.Decision == "pending" || row.Decision == "carried":
		state = "undecided"
	case row.Decision == string(campaigns.NoResponse):
		state = "nobody decided it"
	case row.Verification == "" || row.Verification == NotVerified:
		state = row.Decision + ", not verified yet"
	default:
		state = row.Decision + ", " + row.Verification
	}
	return state + ": " + exposure
}

func orDashText(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// RelationshipsFound is the summary's "Relationships found", as the
// Markdown and the HTML report both say it: the identities each
// relationship found, then how many identities that is, an identity found
// more than one way being counted under each and once in the total
// ("created 1, could-read 2 (2 identities, 1 of them found more than one
// way and counted under each)").
func (o *Offboarding) RelationshipsFound() string {
	var parts []string
	for _, r := range o.Relationships {
		parts = append(parts, fmt.Sprintf("%s %d", r.Kind, r.Count))
	}
	total := audit.Counted(o.Related, "identity", "identities")
	if o.Several > 0 {
		total += fmt.Sprintf(", %d of them found more than one way and counted under each", o.Several)
	}
	return strings.Join(parts, ", ") + " (" + total + ")"
}

// writeOffboardingMarkdown writes the summary section, when there is one.
func (w *mdWriter) offboarding(o *Offboarding) {
	if o == nil {
		return
	}
	w.p("## Offboarding summary\n\n")
	who := "person " + md(o.Person)
	if o.Kind == campaigns.OffboardSystem {
		who = "system `" + md(o.Scope) + "`"
	}
	w.p("Offboards %s, effective %s (event %d). %d identit%s: %d done and proven, %d remaining.\n\n",
		who, o.Effective, o.Event, len(o.Items), map[bool]string{true: "y", false: "ies"}[len(o.Items) == 1], o.Done, o.Remaining)
	if len(o.Relationships) > 0 {
		w.p("Relationships found: %s.\n\n", md(o.RelationshipsFound()))
	}
	if len(o.Access) > 0 {
		var parts []string
		for _, a := range o.Access {
			parts = append(parts, fmt.Sprintf("%s (%s %s %s, snapshot %d)", md(a.Scope), md(a.Role), md(a.Via), md(a.Login), a.Snapshot))
		}
		w.p("Access seen: %s.\n\n", strings.Join(parts, "; "))
	}
	switch o.AccessRevoked {
	case "":
		if o.Kind == campaigns.OffboardPerson {
			w.p("Access revoked: not verified yet.\n\n")
		}
	case "held":
		w.p("Access revoked: **no** — event %d still shows %s.\n\n", o.AccessEvent, md(strings.Join(o.AccessHeld, ", ")))
	default:
		w.p("Access revoked: %s (event %d).\n\n", o.AccessRevoked, o.AccessEvent)
	}
	if len(o.Items) == 0 {
		w.p("Nothing was found to offboard: no active identity was related when the campaign was created.\n\n")
		return
	}
	for _, g := range o.Groups() {
		if g.Title != "" {
			w.p("### %s (%d)\n\n", md(g.Title), len(g.Items))
		}
		w.p("| # | Identity | Why | Decision | Verified | Remains |\n|---|---|---|---|---|---|\n")
		for _, it := range g.Items {
			verified := orDashText(it.Verification)
			if it.VerifiedSnapshot != 0 {
				verified += fmt.Sprintf(" (snapshot %d)", it.VerifiedSnapshot)
			}
			if it.VerificationReason != "" {
				verified += " — " + it.VerificationReason
			}
			remains := "—"
			if !it.Done {
				remains = md(it.Risk)
			}
			w.p("| %d | %s (%s) | %s | %s %s | %s | %s |\n", it.N, md(it.Name), md(it.Kind), md(it.Why), md(it.decisionText()), md(it.DecidedAt), md(verified), remains)
		}
		w.p("\n")
	}
}

// OffboardGroup is the summary's items under one relationship.
type OffboardGroup struct {
	Kind  string // audit.RelationGroups, "" for a system's items
	Title string // "could read"; "" for a system's items
	Items []OffboardRow
}

// Groups are the items by relationship, strongest first, as listed.
func (o *Offboarding) Groups() []OffboardGroup {
	var out []OffboardGroup
	for _, it := range o.Items {
		if n := len(out); n == 0 || out[n-1].Kind != it.Group {
			title := ""
			if it.Group != "" {
				title = audit.RelationTitle(it.Group)
			}
			out = append(out, OffboardGroup{Kind: it.Group, Title: title})
		}
		out[len(out)-1].Items = append(out[len(out)-1].Items, it)
	}
	return out
}
