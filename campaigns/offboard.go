package campaigns

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/filter"
)

// Offboarding campaigns (docs/offboarding.md): everything a leaver leaves
// behind, or everything a retired system held, frozen like any campaign's
// population, each item saying why it is there, decided with transfer,
// decommission, rotate or keep, and proven against later snapshots. They
// are campaigns (the campaigns tables, the campaign.* events), plus an
// offboard.create event and its projection (schema_offboard.go) that say
// whom or what they offboard.

// Transfer hands an identity to a new accountable owner, an active person
// who is not the leaver (offboarding campaigns only).
const Transfer Decision = "transfer"

// EventOffboard records what an offboarding campaign offboards, in the
// transaction that creates it, right after its campaign.create event.
const EventOffboard = "offboard.create"

// Offboarding kinds.
const (
	OffboardPerson = "person" // a leaver
	OffboardSystem = "system" // a system retired: a repository archived, an App uninstalled
)

// Offboarding refusals; the wrapped message says what to do.
var (
	ErrBadEffective = errors.New("bad effective date")
	ErrBadTransfer  = errors.New("transfer refused")
	ErrNotOffboard  = errors.New("not an offboarding campaign")
)

// OffboardSpec says what to offboard: a person of the directory (Person,
// any alias) or a system (Scope, a filter expression).
type OffboardSpec struct {
	Person string
	Scope  string
	// Name defaults to offboard-<login or e-mail local part>-<effective>
	// (offboard-<first word of the scope>-<effective> for a system).
	Name string
	// Effective is when the person left (default: their left_at in the
	// directory, else today); never in the future.
	Effective string
	Due       string // default: 14 days from today
	// Reviewers default to the leaver's manager in the directory.
	Reviewers        []string
	AllowPartial     bool
	AllowAdminReview bool
}

// OffboardItem is one identity of an offboarding campaign and why it is
// there.
type OffboardItem struct {
	ID        string           `json:"id"`
	Snapshot  int64            `json:"snapshot"` // the snapshot it was frozen from
	Relations []audit.Relation `json:"relations,omitempty"`
}

// OffboardPayload is the payload of offboard.create.
type OffboardPayload struct {
	Campaign  string         `json:"campaign"`
	Kind      string         `json:"kind"`
	Person    string         `json:"person,omitempty"` // the leaver's e-mail
	Effective string         `json:"effective"`        // YYYY-MM-DD
	Scope     string         `json:"scope,omitempty"`  // a system's filter, canonical
	Access    []audit.Access `json:"access,omitempty"` // where the leaver had admin access
	Items     []OffboardItem `json:"items"`
	// NotRead are the accounts whose newest run had not finished
	// (notread.go): the campaign holds an older read of each, or nothing
	// of one never read, so what the leaver left there is not known.
	NotRead []AccountNotRead `json:"not_read,omitempty"`
}

// RelationCount is how an offboarding's items were found, in identities
// (docs/offboarding.md, "Evidence"): ByKind, how many identities each
// relationship found, in audit.RelationKinds order and only those that
// found any (one a relationship found twice, a token whose source names
// the leaver as owner and as login, counts once); Related, how many
// identities any found; Several, how many of those more than one
// relationship found, counted under each and once in Related.
type RelationCount struct {
	ByKind  []KindCount
	Related int
	Several int
}

// KindCount is how many identities one relationship found.
type KindCount struct {
	Kind  string
	Count int
}

// CountRelations counts p's items by how they were found.
func (p *OffboardPayload) CountRelations() RelationCount {
	var out RelationCount
	counts := map[string]int{}
	for _, it := range p.Items {
		kinds := audit.RelationTags(it.Relations) // each kind once
		for _, k := range kinds {
			counts[k]++
		}
		if len(kinds) > 0 {
			out.Related++
		}
		if len(kinds) > 1 {
			out.Several++
		}
	}
	for _, k := range audit.RelationKinds {
		if counts[k] > 0 {
			out.ByKind = append(out.ByKind, KindCount{k, counts[k]})
		}
	}
	return out
}

// Offboarding is what an offboarding campaign offboards.
type Offboarding struct {
	CampaignID int64
	OffboardPayload
	Seq int64 // the offboard.create event
}

// OffboardCreated is what CreateOffboarding did.
type OffboardCreated struct {
	Created
	Offboarding Offboarding
	Person      *audit.Person // nil for a system
	// population is the items as they were frozen, for EachItem: a
	// system's on disk until Close.
	population *offboardPopulation
	// NotRead are the accounts whose newest run did not finish (it
	// failed, or stopped), in source/account order: the campaign holds
	// what an older snapshot of one read (Used), or nothing of one never
	// read (Used 0). What the leaver left there since, or at all, is not
	// known, and whoever reads the campaign must be told.
	NotRead []NotRead
	// Partial are the current snapshots, in source/account order, that
	// could not read everything (--allow-partial): what the leaver left
	// where they did not read is not known, and whoever reads the
	// campaign must be told, above all of an empty one.
	Partial []audit.Snapshot
}

// EachItem calls fn with every item in ID order and the identity as it
// was frozen: what it is, where it lives and when it was last used, for
// the list nhi offboard prints. For a system's, read back from disk,
// only those are filled, and fn must not keep id or its strings past
// its call. It may be called as often as needed until Close.
func (r *OffboardCreated) EachItem(fn func(it *OffboardItem, id *audit.Identity) error) error {
	if r.population == nil {
		return nil
	}
	items := r.Offboarding.Items
	return r.population.each(func(i int, _ *frozen, id *audit.Identity) error {
		return fn(&items[i], id)
	})
}

// Close removes what EachItem reads from disk.
func (r *OffboardCreated) Close() {
	if r.population != nil {
		r.population.remove()
	}
}

// CreateOffboarding creates an offboarding campaign. Its population is
// every active identity, across every source's current snapshot, related
// to the person (audit.PersonMatcher: owns, created, holds, suggested,
// could-read), or matched by the scope. An empty population is not an
// error: the campaign is the evidence that nothing was left.
func CreateOffboarding(ctx context.Context, st *audit.Store, actor string, spec OffboardSpec) (*OffboardCreated, error) {
	dir, err := st.People(ctx)
	if err != nil {
		return nil, err
	}
	today := st.Now().Format(dateLayout)
	var person *audit.Person
	var f *filter.Filter
	switch {
	case strings.TrimSpace(spec.Person) != "" && strings.TrimSpace(spec.Scope) != "":
		return nil, fmt.Errorf("%w: offboard a person or a system (--scope), not both", ErrEmptyScope)
	case strings.TrimSpace(spec.Person) != "":
		if person = dir.Lookup(spec.Person); person == nil {
			if dir.Len() == 0 {
				return nil, fmt.Errorf("person %q is %w, which is empty: import it first (nhi people import people.csv)", audit.Printable(spec.Person), audit.ErrUnknownPerson)
			}
			return nil, dir.Unknown("person", spec.Person)
		}
	case strings.TrimSpace(spec.Scope) != "":
		if f, err = filter.Parse(strings.TrimSpace(spec.Scope), audit.Vocabulary); err != nil {
			return nil, err
		}
		if f.String() == "" {
			return nil, fmt.Errorf("%w: %q selects nothing in particular; name the system, e.g. 'scope:acme/legacy-*'", ErrEmptyScope, spec.Scope)
		}
	default:
		return nil, fmt.Errorf("%w: name the person who left (any alias), or the system with --scope EXPR", ErrEmptyScope)
	}

	effective := strings.TrimSpace(spec.Effective)
	if effective == "" && person != nil {
		effective = person.LeftAt
	}
	if effective == "" {
		effective = today
	}
	eff, err := time.Parse(dateLayout, effective)
	if err != nil {
		return nil, fmt.Errorf("%w %q: use YYYY-MM-DD, e.g. %s", ErrBadEffective, audit.Printable(effective), today)
	}
	if effective = eff.Format(dateLayout); effective > today {
		return nil, fmt.Errorf("%w %s: it is after today (%s); offboard once they have left, or say --effective %s", ErrBadEffective, effective, today, today)
	}
	if spec.Due == "" {
		spec.Due = st.Now().AddDate(0, 0, 14).Format(dateLayout)
	}
	due, err := time.Parse(dateLayout, strings.TrimSpace(spec.Due))
	if err != nil {
		return nil, fmt.Errorf("%w %q: use YYYY-MM-DD", ErrBadDue, audit.Printable(spec.Due))
	}
	if spec.Due = due.Format(dateLayout); spec.Due < today {
		return nil, fmt.Errorf("%w %s: it is before today (%s)", ErrBadDue, spec.Due, today)
	}

	name := strings.TrimSpace(spec.Name)
	if name == "" {
		name = defaultOffboardName(person, f, effective)
	}
	if err := checkName(name); err != nil {
		return nil, err
	}

	reviewers := dedupe(spec.Reviewers)
	if len(reviewers) == 0 && person != nil && person.Manager != "" {
		reviewers = []string{person.Manager}
	}
	if len(reviewers) == 0 {
		who := "the system"
		if person != nil {
			who = person.Display() + " has no manager in the directory, so"
		}
		return nil, fmt.Errorf("%w: %s needs a reviewer: name one with --reviewer", ErrNoReviewer, who)
	}
	if person != nil {
		for _, r := range reviewers {
			if dir.Same(r, person.Email) {
				return nil, fmt.Errorf("%w: %s is the person being offboarded and may not review what they leave behind; name someone else with --reviewer",
					ErrSeparation, audit.Printable(r))
			}
		}
	}
	reviewerAliases, err := resolveReviewers(ctx, st, actor, spec.AllowAdminReview, reviewers, nil)
	if err != nil {
		return nil, err
	}
	reviewers = dedupe(reviewers)

	snaps, err := st.Snapshots(ctx)
	if err != nil {
		return nil, err
	}
	current := audit.CurrentOf(snaps)
	if len(current) == 0 {
		return nil, fmt.Errorf("%w to offboard from yet: take one with `nhi snapshot github --org ORG` (or `nhi demo`)", ErrNoSnapshot)
	}
	if !spec.AllowPartial {
		for _, s := range current {
			if s.Status == audit.SnapshotPartial {
				eg := ""
				if len(s.Gaps) > 0 {
					eg = fmt.Sprintf(", e.g. %s (%s)", audit.Printable(s.Gaps[0].Endpoint), audit.Printable(s.Gaps[0].Reason))
				}
				return nil, fmt.Errorf("%w: snapshot %d (%s/%s) could not read %s%s, so what is left behind there may be incomplete; take a complete snapshot, or pass --allow-partial (its gaps stay on record)",
					ErrPartial, s.ID, audit.Printable(s.Source), audit.Printable(s.Account), audit.Counted(len(s.Gaps), "endpoint", "endpoints"), eg)
			}
		}
	}
	// The identities stream past; only the leaver's are kept, the
	// scope's spooled to disk (issue 21: every identity was held, 2 KB
	// each, then every one the scope selected).
	var pop *offboardPopulation
	var access []audit.Access
	if person != nil {
		if access, err = st.AccessOf(ctx, person); err != nil {
			return nil, err
		}
		related, err := st.RelatedTo(ctx, audit.NewPersonMatcher(person, access))
		if err != nil {
			return nil, err
		}
		if pop, err = personPopulation(related); err != nil {
			return nil, err
		}
	} else if pop, err = scopePopulation(ctx, st, f); err != nil {
		return nil, err
	}
	unevaluated := pop.unevaluated
	res := &OffboardCreated{Created: Created{Assigned: map[string]int{}}, Person: person, NotRead: notRead(snaps, current), population: pop}
	defer func() {
		if res.Campaign == nil { // not created: nothing will list it
			pop.remove()
		}
	}()

	// The campaign's snapshot is the newest its items come from (the
	// newest current one when it has none): each item keeps its own.
	snap := &current[0]
	for i := range current {
		if current[i].ID > snap.ID {
			snap = &current[i]
		}
	}
	newest := int64(0)
	for id := range pop.counts {
		newest = max(newest, id)
	}
	if s := findSnapshot(snaps, newest); s != nil {
		snap = s
	}
	// The snapshots the items come from, as a campaign over several
	// sources records them (ItemSnapshots, verification per account).
	var uses []SnapshotUse
	for i := range current {
		if n := pop.counts[current[i].ID]; n > 0 {
			uses = append(uses, SnapshotUse{ID: current[i].ID, Source: current[i].Source, Account: current[i].Account, Status: current[i].Status,
				Digest: current[i].Digest, AsOf: current[i].StartedAt.UTC().Format(time.RFC3339), Count: n})
		}
	}
	slices.SortFunc(uses, func(a, b SnapshotUse) int {
		return strings.Compare(a.Source+"\x00"+a.Account, b.Source+"\x00"+b.Account)
	})

	res.Snapshot = *snap
	for i := range current {
		if current[i].Status == audit.SnapshotPartial {
			res.Partial = append(res.Partial, current[i])
		}
	}
	slices.SortFunc(res.Partial, func(a, b audit.Snapshot) int {
		return strings.Compare(a.Source+"\x00"+a.Account, b.Source+"\x00"+b.Account)
	})
	sep, err := newSeparation(ctx, st, &Campaign{SnapshotID: snap.ID, Snapshots: uses, AllowAdminReview: true})
	if err != nil {
		return nil, err
	}
	assigned, err := assignOffboard(pop, reviewers, sep, res)
	if err != nil {
		return nil, err
	}
	policy, _, err := st.Policy(ctx)
	if err != nil {
		return nil, err
	}
	payload := CreatePayload{
		Name: name, Due: spec.Due,
		Snapshot: snap.ID, SnapshotStatus: snap.Status, SnapshotDigest: snap.Digest,
		AsOf: snap.StartedAt.UTC().Format(time.RFC3339), PolicyDigest: policy.Digest(),
		Reviewers: reviewers, Count: len(pop.items), PopulationDigest: assigned.digest,
		ReviewerAliases: reviewerAliases, AllowAdminReview: spec.AllowAdminReview,
		Unevaluated: unevaluated,
	}
	res.Unevaluated = unevaluated
	if len(uses) > 1 {
		payload.Snapshots = uses
	}
	ob := OffboardPayload{Campaign: name, Effective: effective, Access: access, Items: pop.items, NotRead: records(res.NotRead)}
	payload.NotRead = ob.NotRead
	if person != nil {
		ob.Kind, ob.Person = OffboardPerson, person.Email
		payload.Scope = "person:" + person.Email
	} else {
		ob.Kind, ob.Scope = OffboardSystem, f.String()
		payload.Scope = f.String()
		if in := strings.TrimSpace(spec.Scope); in != payload.Scope {
			payload.ScopeInput = in
		}
	}
	revJSON, _ := json.Marshal(reviewers)
	err = st.Write(ctx, func(tx *audit.Tx) error {
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM campaigns WHERE name = ?`, name).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("%w: %s; campaign names are unique: pass --name (e.g. %s-2)", ErrExists, name, name)
		}
		if err := refuseLeaverIn(ctx, tx, actor, "start an offboarding"); err != nil {
			return err
		}
		ev, err := tx.Append(ctx, actor, EventCreate, payload)
		if err != nil {
			return err
		}
		res.Event = ev
		var cid int64
		err = tx.QueryRow(ctx, `INSERT INTO campaigns (name, scope, due, snapshot_id, as_of, policy_digest, reviewers, carried_from,
			item_count, population_digest, created_at, created_by, create_seq, status)
			VALUES (?, ?, ?, ?, ?, ?, ?, '', ?, ?, ?, ?, ?, 'open') RETURNING id`,
			payload.Name, payload.Scope, payload.Due, payload.Snapshot, payload.AsOf, payload.PolicyDigest, string(revJSON),
			payload.Count, payload.PopulationDigest, formatAt(ev.At), actor, ev.Seq).Scan(&cid)
		if err != nil {
			return fmt.Errorf("recording campaign %s: %w", name, err)
		}
		if err := assigned.insert(ctx, tx, cid, pop); err != nil {
			return err
		}
		oev, err := tx.Append(ctx, actor, EventOffboard, ob)
		if err != nil {
			return err
		}
		res.Offboarding = Offboarding{CampaignID: cid, OffboardPayload: ob, Seq: oev.Seq}
		return applyOffboard(ctx, tx, cid, oev.Seq, &ob)
	})
	if err != nil {
		return nil, err
	}
	if res.Campaign, err = load(ctx, st, name); err != nil {
		return nil, err
	}
	return res, nil
}

// defaultOffboardName is offboard-<login or e-mail local part>-<effective>.
func defaultOffboardName(p *audit.Person, f *filter.Filter, effective string) string {
	who := "system"
	switch {
	case p != nil && p.GitHub != "":
		who = p.GitHub
	case p != nil:
		who, _, _ = strings.Cut(p.Email, "@")
	case f != nil:
		// The first value of the scope: "scope:acme/legacy-*" → acme-legacy.
		s := f.String()
		if _, v, ok := strings.Cut(s, ":"); ok {
			s = v
		}
		s, _, _ = strings.Cut(s, " ")
		who = s
	}
	var b strings.Builder
	for _, r := range who {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	who = strings.Trim(b.String(), "-.")
	if who == "" {
		who = "system"
	}
	if len(who) > 40 {
		who = who[:40]
	}
	return "offboard-" + who + "-" + effective
}

func applyOffboard(ctx context.Context, tx *audit.Tx, campaignID, seq int64, ob *OffboardPayload) error {
	if _, err := tx.Exec(ctx, `INSERT INTO offboardings (campaign_id, kind, person, effective, event_seq) VALUES (?, ?, ?, ?, ?)`,
		campaignID, ob.Kind, ob.Person, ob.Effective, seq); err != nil {
		return fmt.Errorf("recording the offboarding: %w", err)
	}
	for _, it := range ob.Items {
		rel, err := json.Marshal(it.Relations)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO offboard_items (campaign_id, identity_id, snapshot_id, relations) VALUES (?, ?, ?, ?)`,
			campaignID, it.ID, it.Snapshot, string(rel)); err != nil {
			return fmt.Errorf("recording why %s is offboarded: %w", it.ID, err)
		}
	}
	return nil
}

// offboardingOf reads what campaign campaignID offboards; nil for an
// ordinary campaign.
func offboardingOf(ctx context.Context, r reader, campaignID int64) (*Offboarding, error) {
	ob := &Offboarding{CampaignID: campaignID}
	err := r.QueryRow(ctx, `SELECT o.kind, o.person, o.effective, o.event_seq, c.name, c.scope FROM offboardings o JOIN campaigns c ON c.id = o.campaign_id
		WHERE o.campaign_id = ?`, campaignID).Scan(&ob.Kind, &ob.Person, &ob.Effective, &ob.Seq, &ob.Campaign, &ob.Scope)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the offboarding of campaign %d: %w", campaignID, err)
	}
	if ob.Kind == OffboardPerson {
		ob.Scope = ""
	}
	rows, err := r.Query(ctx, `SELECT identity_id, snapshot_id, relations FROM offboard_items WHERE campaign_id = ? ORDER BY identity_id`, campaignID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var it OffboardItem
		var rel string
		if err := rows.Scan(&it.ID, &it.Snapshot, &rel); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(rel), &it.Relations); err != nil {
			return nil, fmt.Errorf("offboarding item %s: %w", it.ID, err)
		}
		ob.Items = append(ob.Items, it)
	}
	return ob, rows.Err()
}

// OffboardingOf reads what the named campaign offboards; nil, nil for an
// ordinary review campaign.
func OffboardingOf(ctx context.Context, st *audit.Store, name string) (*Offboarding, error) {
	c, err := load(ctx, st, name)
	if err != nil {
		return nil, err
	}
	return offboardingOf(ctx, st, c.ID)
}

// TransferItems records transfer decisions in an offboarding campaign: each
// item goes to person to (any alias; active, not the leaver), as a
// campaign.decide event naming them and an owner.set event, in one
// transaction: all items or none. The reviewer rules of Decide apply.
func TransferItems(ctx context.Context, st *audit.Store, actor, campaign string, ids []string, to, reason string) ([]Outcome, error) {
	reason, err := checkReason(reason)
	if err != nil {
		return nil, err
	}
	var out []Outcome
	var selfTransfer bool
	err = st.Write(ctx, func(tx *audit.Tx) error {
		out = out[:0]
		c, err := loadOpen(ctx, tx, campaign)
		if err != nil {
			return err
		}
		ob, err := offboardingOf(ctx, tx, c.ID)
		if err != nil {
			return err
		}
		if ob == nil {
			return fmt.Errorf("%w: %s is a review campaign; transfer belongs to offboarding (nhi offboard PERSON). Record an owner with nhi owner set instead",
				ErrNotOffboard, audit.Printable(c.Name))
		}
		dir, err := tx.People(ctx)
		if err != nil {
			return err
		}
		p := dir.Lookup(to)
		switch {
		case strings.TrimSpace(to) == "":
			return fmt.Errorf("%w: say who takes it over with --to PERSON", ErrBadTransfer)
		case p == nil:
			return fmt.Errorf("%w: %w", ErrBadTransfer, dir.Unknown("new owner", to))
		case ob.Person != "" && p.Email == ob.Person:
			return fmt.Errorf("%w: %s is the person being offboarded; transfer to someone who stays", ErrBadTransfer, p.Display())
		case p.Status != audit.PersonActive:
			return fmt.Errorf("%w: %s %s; transfer to someone still here", ErrBadTransfer, p.Display(), p.LeftNote())
		}
		sep, err := newSeparation(ctx, tx, c)
		if err != nil {
			return err
		}
		if selfTransfer = len(ids) > 0 && sep.same(p.Email, actor); selfTransfer {
			// She would own what she reviewed: the owner rule, as for a
			// decision on an item she owns.
			return &RefusedError{Refusal: Refusal{RuleOwner, selfTransferDetail(c, sep, p, actor)}, Campaign: c.Name, Item: ids[0], Actor: actor}
		}
		withTo := func(d *DecidePayload) { d.To = p.Email }
		for _, id := range ids {
			o, err := decideTx(ctx, tx, actor, c, sep, id, Transfer, reason, false, nil, withTo)
			if err != nil {
				return err
			}
			// The owner is recorded under the ID the identity has now,
			// where readers look (a renamed repository: renames.go).
			if err := transferOwner(ctx, st, tx, actor, c, o, p); err != nil {
				return err
			}
			out = append(out, *o)
		}
		return nil
	})
	if re, ok := errors.AsType[*RefusedError](err); ok {
		items := []string{re.Item}
		if selfTransfer {
			items = ids // a transfer to herself is refused for every item it names
		}
		return nil, recordRefusal(ctx, st, actor, string(Transfer), re, items)
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// transferOwner records p as the owner of the item o transferred, in the
// transaction that decided it. On PostgreSQL the owner's function
// nhi_transfer_owner (schema_transfer.go) appends the owner.set event and
// writes the owners row, checking them against the transfer just decided,
// so that a reviewer role, which may not write owners itself, transfers
// the items assigned to it; the event is the one SetOwners appends.
func transferOwner(ctx context.Context, st *audit.Store, tx *audit.Tx, actor string, c *Campaign, o *Outcome, p *audit.Person) error {
	set := audit.OwnerSet{Identity: cmp.Or(o.Current, o.Item), Owner: p.Email}
	if !st.Remote() {
		_, err := tx.SetOwners(ctx, actor, []audit.OwnerSet{set})
		return err
	}
	set.Person = p.Email // as SetOwners finds the owner in the directory
	_, err := tx.AppendThrough(ctx, actor, audit.EventOwnerSet, set, func(at, payload, rest string) (string, []any) {
		return `SELECT o_seq, o_prev_hash, o_hash FROM nhi_transfer_owner(?, ?, ?, ?, ?, ?, ?, ?)`,
			[]any{c.ID, o.Item, set.Identity, set.Owner, at, actor, payload, rest}
	})
	return err
}

// selfTransferDetail says why actor may not transfer an item of campaign
// c to p, who is actor, and whom to ask instead.
func selfTransferDetail(c *Campaign, sep *separation, p *audit.Person, actor string) string {
	var others []string
	for _, r := range c.Reviewers {
		if !sep.same(r, actor) {
			others = append(others, audit.Printable(r))
		}
	}
	ask := "ask someone else who may decide it (anyone who neither owns nor holds it) to transfer it to you"
	if len(others) > 0 {
		ask = "ask another reviewer (" + strings.Join(others, ", ") + ") to transfer it to you"
	}
	return fmt.Sprintf("the transfer names %s as the new owner, who is %s: you would own what you reviewed; %s", p.Email, audit.Printable(actor), ask)
}

// judgeTransfer says whether a transfer holds: the owner recorded now is
// the person the decision named (an owner.set event after it says so), and
// that person is still active. cur is the ID the identity has now when
// its repository was renamed (TransferItems records the owner there),
// "" otherwise.
func judgeTransfer(ctx context.Context, st *audit.Store, dir *audit.Directory, item string, seq int64, cur string) (state, why string, err error) {
	ev, err := st.EventAt(ctx, seq)
	if err != nil {
		return "", "", fmt.Errorf("reading the transfer of %s: %w", item, err)
	}
	var d DecidePayload
	if err := json.Unmarshal(ev.Payload, &d); err != nil || d.To == "" {
		return NotTransferred, fmt.Sprintf("event %d names no new owner", seq), nil
	}
	var owner string
	var ownerSeq int64
	// The owner readers show: under the ID now, else under the item's.
	for _, id := range []string{cur, item} {
		if id == "" {
			continue
		}
		err = st.QueryRow(ctx, `SELECT owner, event_seq FROM owners WHERE identity_id = ?`, id).Scan(&owner, &ownerSeq)
		if err == nil {
			break
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return "", "", err
		}
	}
	switch p := dir.Lookup(d.To); {
	case owner == "" || !dir.Same(owner, d.To):
		return NotTransferred, fmt.Sprintf("transferred to %s, but the owner recorded now is %s", d.To, orNone(owner)), nil
	case ownerSeq < seq:
		return NotTransferred, fmt.Sprintf("no owner.set event for %s since the decision (event %d)", d.To, seq), nil
	case p == nil || p.Status != audit.PersonActive:
		note := "is not in the directory"
		if p != nil {
			note = p.LeftNote()
		}
		return NotTransferred, fmt.Sprintf("the new owner %s %s", d.To, note), nil
	}
	return Transferred, fmt.Sprintf("owner %s since event %d, active", d.To, ownerSeq), nil
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return audit.Printable(s)
}

// newRotation prepares the rotation check of a campaign's items frozen
// from base against snap: rotated means after base was taken, or for an
// offboarding campaign after the effective day ended (UTC): the leaver
// could read it until they left, at an hour of that day nhi is not told,
// so a rotation during it may have come before they did and proves
// nothing (docs/offboarding.md, "Proof").
func newRotation(ctx context.Context, st *audit.Store, ob *Offboarding, base, snap *audit.Snapshot, cov looker) (*rotationCheck, error) {
	before, err := st.ObservationsInSnapshot(ctx, base.ID)
	if err != nil {
		return nil, err
	}
	after, err := st.ObservationsInSnapshot(ctx, snap.ID)
	if err != nil {
		return nil, err
	}
	rc := newRotationCheck(base.StartedAt, before, after, cov)
	if ob != nil {
		if t, err := time.Parse(dateLayout, ob.Effective); err == nil {
			rc.since, rc.until, rc.day, rc.dayIs = t, t.AddDate(0, 0, 1), ob.Effective, "the day they left"
			if ob.Kind == OffboardSystem {
				rc.dayIs = "the effective date"
			}
		}
	}
	return rc, nil
}

// accessKinds are what a person holds in GitHub: tokens and SSO
// authorizations. Offboarding revokes them.
var accessKinds = []audit.Kind{audit.KindGitHubFineGrainedPAT, audit.KindGitHubPATRequest, audit.KindGitHubCredentialAuthorization}

// checkAccess sets r.Access: are the leaver's tokens and SSO
// authorizations gone from snap? Only where snap read them.
func checkAccess(ctx context.Context, st *audit.Store, ob *Offboarding, snap *audit.Snapshot, cov *audit.Coverage, r *Remediation) error {
	dir, err := st.People(ctx)
	if err != nil {
		return err
	}
	p := dir.Lookup(ob.Person)
	if p == nil {
		return nil
	}
	if !hasLogin(p) {
		// GitHub names a token's holder by login: without one, hers look
		// like anyone's, and none being hers would be a guess.
		r.Access = NotChecked
		r.Detail["access"] = "the directory names no GitHub login for " + audit.Printable(p.Email) + ", so their tokens and SSO authorizations cannot be told apart; add it (github column) and verify again"
		return nil
	}
	m := audit.NewPersonMatcher(p, nil)
	after, err := st.ObservationsInSnapshot(ctx, snap.ID)
	if err != nil {
		return err
	}
	r.Access = "revoked"
	for _, k := range accessKinds {
		if looked, why := cov.Looked(k, snap.Account); !looked {
			r.Access = NotChecked
			r.Detail["access:"+string(k)] = why
		}
	}
	for i := range after {
		id := &after[i]
		if slices.Contains(accessKinds, id.Kind) && m.Names(audit.NaturalOwner(&id.Observation)) {
			r.AccessHeld = append(r.AccessHeld, id.ID)
		}
	}
	if len(r.AccessHeld) > 0 {
		r.Access = "held"
	}
	return nil
}

// hasLogin reports whether the directory names a login for p: its GitHub
// login, or an alias that is not an e-mail address.
func hasLogin(p *audit.Person) bool {
	return p.GitHub != "" || slices.ContainsFunc(p.Aliases, func(a string) bool {
		a = strings.TrimPrefix(strings.TrimSpace(a), "@") // "@alice" is a login
		return a != "" && !strings.Contains(a, "@")
	})
}

// PendingLeavers is audit.Leavers over the file's current identities,
// with the identities they leave counted once each and the number of
// people in the directory. The identities stream past a tally (issue 21:
// it held them all, 2 KB each); they are read without owner suggestions,
// which no leaver's count reads.
func PendingLeavers(ctx context.Context, st *audit.Store) ([]audit.Leaver, audit.LeaverTotals, int, error) {
	dir, err := st.People(ctx)
	if err != nil {
		return nil, audit.LeaverTotals{}, 0, err
	}
	tally := audit.NewLeaverTally(dir)
	err = st.EachTableIdentityWithoutSuggestions(ctx, func(id *audit.Identity) error {
		tally.Add(id)
		return nil
	})
	if err != nil {
		return nil, audit.LeaverTotals{}, 0, err
	}
	leavers, totals := tally.Result()
	return leavers, totals, dir.Len(), nil
}

// OffboardingTargets names, for every offboarding campaign, what it
// offboards: the leaver's e-mail, or OffboardSystem for a retired system.
// Review campaigns are absent. One query, for lists of campaigns.
func OffboardingTargets(ctx context.Context, st *audit.Store) (map[string]string, error) {
	rows, err := st.Query(ctx, `SELECT c.name, o.kind, o.person FROM offboardings o JOIN campaigns c ON c.id = o.campaign_id`)
	if err != nil {
		return nil, fmt.Errorf("reading the offboardings: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var name, kind, person string
		if err := rows.Scan(&name, &kind, &person); err != nil {
			return nil, err
		}
		if kind == OffboardSystem || person == "" {
			person = OffboardSystem
		}
		out[name] = person
	}
	return out, rows.Err()
}
