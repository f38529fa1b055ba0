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

	"github.com/nhi-audit/nhi/audit"
)

// deciders re-checks, after the fact, the separation rules that keep a
// person from deciding her own items (docs/people.md, "Who may not
// decide"): nhi refuses a decision, confirmation or undo on an item whose
// owner recorded when the campaign was created, whose owner recorded at
// the time, or whose holder according to the source is the actor (rules
// owner and holder), or whose owner (either) is a team the campaign's
// snapshot lists the actor in (rule team-owner), by the campaign's
// creator unless it was created with --allow-admin-review (rule
// creator), and a transfer to the reviewer herself (TransferItems). On PostgreSQL the database refuses the former to a
// reviewer's session (campaigns' schema step 15), not to the tables'
// owner or an administrator, and not the latter (it does not read a
// transfer's new owner). One the log holds anyway was written around nhi
// — by anyone who writes an evidence file, on PostgreSQL by those the
// database does not refuse — and Verify names its event, as it names a
// self-approval (verifyApprovals).
//
// An item whose identity was renamed by the time of the event (renames.go)
// is refused by the owner recorded under the ID it had then, too
// (refusalNow), so the re-check reads that owner as well: the renames the
// log knew then are those whose snapshot.record event came before it
// (links); one whose snapshot has no record is not taken, since the
// re-check cannot tell that nhi knew it.
//
// The actor and the owner are one person when the directory of people,
// as it stood when the event was written (its person.set events before
// it), gives them as names of one person, or they are one name: what nhi
// and the database would have read then. A name the directory learns
// later (a GitHub login added to a record) makes no problem of a
// decision nhi could not have refused.
type deciders struct {
	// keys holds, by decision event, the alias keys of its actor as the
	// directory stood then (audit.AliasKey): every name of their person,
	// or their own name alone when the directory did not know it.
	keys map[int64][]string
	// left holds, by event, whether its actor's person was one the
	// directory then marked left ("rita@acme.test left on 2026-09-30"):
	// a leaver may not act (audit.Directory.RefuseLeaver).
	left map[int64]string
	// leftBy holds, by event, the person.set event that marked its actor's
	// person left, where left names them.
	leftBy map[int64]int64
	// owners holds, by identity ID, the owner.set events in log order:
	// the owner recorded at an event is the last one set before it.
	owners map[string][]ownerChange
	// named holds, by alias key, when the directory gave it to someone
	// and when it stopped, in log order (knownAt).
	named map[string][]aliasChange
	// links holds the renames (old ID -> the ID it continued as), each
	// with the event from which the log knew it; items, by campaign, the
	// IDs among them that are items of the campaign, whose owner the
	// separation rules do not read for another item (renames.currentID).
	links map[string]renameLink
	items map[string]map[string]bool
	// rules holds, by campaign name, what the team and creator rules read
	// of each campaign verify replayed.
	rules map[string]*campaignRules
	// closers holds, by campaign, the items its closer decided before
	// the close (rule closer), counted as the walk passes them.
	closers map[string]*closerTally
}

// closerTally is what the closer of a campaign created without
// --allow-admin-review decided of it before closing it: how many items
// (a row of the decision history each, undos aside, as closerRefusal
// counts them), and the first such event.
type closerTally struct {
	n     int
	first int64
}

// campaignRules is what the team and creator rules read of one campaign,
// as its creation event froze it (separation.refusal): the members of
// each team its snapshots read, and who created it, unless it was created
// with --allow-admin-review.
type campaignRules struct {
	teams     map[string]map[string]bool // team ("org/slug", lower case) -> member logins (lower case)
	creator   string                     // "" when created with --allow-admin-review
	createSeq int64
}

// readRulesOf reads campaignRules of campaign, from its creation event.
func readRulesOf(ctx context.Context, r reader, campaign string) (*campaignRules, error) {
	var createSeq int64
	var createdBy, raw string
	if err := r.QueryRow(ctx, `SELECT seq, actor, payload FROM events WHERE seq = (SELECT create_seq FROM campaigns WHERE name = ?)`, campaign).
		Scan(&createSeq, &createdBy, &raw); err != nil {
		return nil, fmt.Errorf("reading campaign %s's creation: %w", audit.Printable(campaign), err)
	}
	var p CreatePayload
	if err := json.Unmarshal([]byte(raw), &p); err != nil {
		return nil, fmt.Errorf("reading campaign %s's creation (event %d): %w", audit.Printable(campaign), createSeq, err)
	}
	return readCampaignRules(ctx, r, &p, createSeq, createdBy)
}

// readCampaignRules reads the team members of the snapshots p, the
// creation event createSeq by createdBy, names.
func readCampaignRules(ctx context.Context, r reader, p *CreatePayload, createSeq int64, createdBy string) (*campaignRules, error) {
	cr := &campaignRules{teams: map[string]map[string]bool{}, createSeq: createSeq}
	if !p.AllowAdminReview {
		cr.creator = createdBy
	}
	ids := []int64{p.Snapshot}
	if len(p.Snapshots) > 0 {
		ids = ids[:0]
		for _, s := range p.Snapshots {
			ids = append(ids, s.ID)
		}
	}
	for _, id := range ids {
		if err := readSnapshotTeams(ctx, r, id, cr.teams); err != nil {
			return nil, err
		}
	}
	return cr, nil
}

// member is the name among keys (an actor's, as the directory stood at
// her event) under which the campaign's snapshot lists her in team owner
// ("" when owner is no team, or she is not in it).
func (cr *campaignRules) member(keys []string, owner string) string {
	if !strings.Contains(owner, "/") {
		return ""
	}
	members := cr.teams[audit.AliasKey(owner)]
	for _, k := range keys {
		if members[k] {
			return k
		}
	}
	return ""
}

// aliasChange is a person.set event that gave an alias key to someone
// (known) or took it from them.
type aliasChange struct {
	seq   int64
	known bool
}

// knownAt reports whether name was a name of someone in the directory
// just before event seq, as audit.Directory.Lookup would have found it
// then: by its alias key, or the address of "Name <address>".
func (d *deciders) knownAt(name string, seq int64) bool {
	at := func(k string) bool {
		l := d.named[k]
		i, _ := slices.BinarySearchFunc(l, seq, func(c aliasChange, seq int64) int { return cmp.Compare(c.seq, seq) })
		return i > 0 && l[i-1].known
	}
	if at(audit.AliasKey(name)) {
		return true
	}
	if s := strings.TrimSpace(name); strings.HasSuffix(s, ">") {
		if lt := strings.LastIndexByte(s, '<'); lt >= 0 {
			return at(audit.AliasKey(s[lt+1 : len(s)-1]))
		}
	}
	return false
}

// readsAs is the name of the actor of event seq (an alias key of hers
// as the directory stood then) that name, no one's in the directory
// then, reads as (audit.Directory.ReadsAs: a +tagged address, a trailing
// dot, lookalike letters); "" when it is someone's or reads as none.
func (d *deciders) readsAs(seq int64, name string) string {
	if name == "" {
		return ""
	}
	k := audit.MailboxKey(name)
	if k == "" || d.knownAt(name, seq) {
		return ""
	}
	for _, n := range d.keys[seq] {
		if audit.MailboxKey(n) == k {
			return n
		}
	}
	return ""
}

// renameLink is a rename: the ID an identity continued as, and the
// snapshot.record event of the snapshot that linked them, from which
// nhi's checks saw it.
type renameLink struct {
	cur string
	seq int64
}

type ownerChange struct {
	seq   int64
	owner string
}

// decided is an event whose actor the re-check compares with owners.
type decided struct {
	seq   int64
	actor string
}

// newDeciders reads what the re-check needs for the decisions v replayed:
// the directory as it stood at each of them, and the owners' history.
func newDeciders(ctx context.Context, st *audit.Store, v *verifier) (*deciders, error) {
	var all []decided
	for _, name := range v.order {
		for i := range v.replay[name].touches {
			t := &v.replay[name].touches[i]
			if t.op == opDecide || t.op == opConfirm || t.op == opUndo {
				all = append(all, decided{t.seq, t.actor})
			}
		}
		// Its close, whose actor the closer rule compares with the
		// deciders (closerRefusal).
		if r := v.replay[name]; r.closed && !r.create.AllowAdminReview {
			all = append(all, decided{r.closeSeq, r.closedBy})
		}
	}
	d, err := readDeciders(ctx, st, all, nil, &v.people)
	if err != nil {
		return nil, err
	}
	d.rules = map[string]*campaignRules{}
	if len(all) == 0 {
		return d, nil // no decision to judge, nor a transfer
	}
	for _, name := range v.order {
		r := v.replay[name]
		if d.rules[name], err = readCampaignRules(ctx, st, &r.create, r.createSeq, r.createdBy); err != nil {
			return nil, err
		}
		if err := d.readRenamedItems(ctx, st, name); err != nil {
			return nil, err
		}
	}
	// A leaver's decision, confirmation or undo (planDecision refuses
	// it, under the directory read in the decision's own transaction).
	for _, name := range v.order {
		for i := range v.replay[name].touches {
			t := &v.replay[name].touches[i]
			if (t.op != opDecide && t.op != opConfirm && t.op != opUndo) || d.left[t.seq] == "" {
				continue
			}
			what := "decides"
			if t.op == opUndo {
				what = "undoes a decision on"
			}
			v.add(problemKey{k: [4]int64{phaseEvents, t.seq, t.sub, -1}},
				"event %d (%s by %s) %s %s in campaign %s, and its actor is %s according to the directory of people then: nhi refuses a leaver's decision, so it was written around nhi, and no one who could still act made it",
				t.seq, t.typ, audit.Printable(t.actor), what, audit.Counted(len(t.ids), "item", "items"), audit.Printable(name), d.left[t.seq])
		}
	}
	// A transfer to the actor herself (TransferItems refuses it).
	for _, name := range v.order {
		for i := range v.replay[name].touches {
			t := &v.replay[name].touches[i]
			if t.op != opDecide || t.decision != Transfer || !d.toSelf(t.seq, t.to) {
				continue
			}
			for pos, id := range t.ids {
				v.add(problemKey{k: [4]int64{phaseEvents, t.seq, t.sub, int64(pos)}},
					"event %d (%s by %s) transfers %s in campaign %s to %s, the same person: nhi refuses such a transfer (rule owner), so it was written around nhi, and the new owner reviewed it herself",
					t.seq, t.typ, audit.Printable(t.actor), audit.Printable(id), audit.Printable(name), audit.Printable(t.to))
			}
		}
	}
	return d, nil
}

// readDeciders reads, for the events all, the alias keys of each one's
// actor as the directory stood then, and the owners' history before the
// last of them: of every identity, or with ids (not nil) of those only,
// a seek each.
func readDeciders(ctx context.Context, st reader, all []decided, ids []string, people *[]personChange) (*deciders, error) {
	d := &deciders{keys: map[int64][]string{}, left: map[int64]string{}, leftBy: map[int64]int64{}, owners: map[string][]ownerChange{}, items: map[string]map[string]bool{}, named: map[string][]aliasChange{}}
	if len(all) == 0 {
		return d, nil
	}
	if err := d.readLinks(ctx, st); err != nil {
		return nil, err
	}
	slices.SortFunc(all, func(a, b decided) int { return cmp.Compare(a.seq, b.seq) })

	// The directory, replayed up to each decision.
	var changes []personChange
	if people != nil {
		changes = changesBefore(*people, all[len(all)-1].seq)
	} else {
		var err error
		if changes, err = readPersonChanges(ctx, st, all[len(all)-1].seq); err != nil {
			return nil, err
		}
	}
	dir := newDirectoryThen()
	// same holds the keys read for each actor since the directory last
	// changed: the events of one actor between two changes share them, so
	// a campaign of a million single decisions holds a few lists.
	same := map[string][]string{}
	left := map[string]string{} // as same: the actor's person's leaving, when the directory marked it
	leftBy := map[string]int64{}
	next := 0
	for _, x := range all {
		if _, ok := d.keys[x.seq]; ok {
			continue
		}
		if next < len(changes) && changes[next].seq < x.seq {
			clear(same)
			clear(left)
			clear(leftBy)
		}
		for ; next < len(changes) && changes[next].seq < x.seq; next++ {
			seq := changes[next].seq
			dir.set(changes[next], func(k string, known bool) { d.named[k] = append(d.named[k], aliasChange{seq, known}) })
		}
		if keys, ok := same[x.actor]; ok {
			d.keys[x.seq] = keys
			if l := left[x.actor]; l != "" {
				d.left[x.seq], d.leftBy[x.seq] = l, leftBy[x.actor]
			}
			continue
		}
		keys := []string{audit.AliasKey(x.actor)}
		if p := dir.lookup(x.actor); p != nil {
			for _, n := range p.Names() {
				if k := audit.AliasKey(n); !slices.Contains(keys, k) {
					keys = append(keys, k)
				}
			}
			if l := dir.left(x.actor); l != "" {
				left[x.actor], leftBy[x.actor] = l, dir.leftEvent(x.actor)
				d.left[x.seq], d.leftBy[x.seq] = l, leftBy[x.actor]
			}
		}
		d.keys[x.seq], same[x.actor] = keys, keys
	}

	last := all[len(all)-1].seq
	if ids == nil {
		return d, d.readOwners(ctx, st, `SELECT seq, payload FROM events WHERE type = ? AND seq < ? ORDER BY seq`, audit.EventOwnerSet, last)
	}
	for i := 0; i < len(ids); i++ {
		id := ids[i]
		if _, ok := d.owners[id]; ok {
			continue
		}
		if l, ok := d.links[id]; ok {
			ids = append(ids, l.cur) // the owner recorded under the ID it continued as
		}
		d.owners[id] = nil
		if err := d.readOwners(ctx, st, `SELECT seq, payload FROM events WHERE json_extract(payload, '$.identity') = ? AND type = ? AND seq < ? ORDER BY seq`,
			id, audit.EventOwnerSet, last); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// readLinks reads the renames and when the log knew each (deciders.links).
func (d *deciders) readLinks(ctx context.Context, st reader) error {
	rows, err := st.Query(ctx, `SELECT a.id, a.current, e.seq FROM identity_aliases a
		JOIN events e ON e.type = ? AND CAST(json_extract(e.payload, '$.snapshot') AS INTEGER) = a.snapshot_id`, audit.EventSnapshotRecord)
	if err != nil {
		return fmt.Errorf("reading renames: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var l renameLink
		if err := rows.Scan(&id, &l.cur, &l.seq); err != nil {
			return err
		}
		if d.links == nil {
			d.links = map[string]renameLink{}
		}
		d.links[id] = l
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading renames: %w", err)
	}
	return nil
}

// readRenamedItems reads which IDs of the renames are items of campaign:
// one query over the renamed IDs only, none when nothing was renamed.
func (d *deciders) readRenamedItems(ctx context.Context, st reader, campaign string) error {
	if len(d.links) == 0 || d.items[campaign] != nil {
		return nil
	}
	if d.items == nil {
		d.items = map[string]map[string]bool{}
	}
	ids := make([]string, 0, 2*len(d.links))
	for old, l := range d.links {
		ids = append(ids, old, l.cur)
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return err
	}
	rows, err := st.Query(ctx, `SELECT i.identity_id FROM campaign_items i JOIN campaigns c ON c.id = i.campaign_id
		WHERE c.name = ? AND i.identity_id IN (SELECT value FROM json_each(?))`, campaign, string(list))
	if err != nil {
		return fmt.Errorf("reading renamed items: %w", err)
	}
	defer rows.Close()
	items := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return err
		}
		items[id] = true
	}
	d.items[campaign] = items
	return rows.Err()
}

// renamedAt is the ID item id of campaign had just before event seq,
// when a rename the log knew then gave its identity another that is no
// item of the campaign (currentOf, at the door); "" otherwise.
func (d *deciders) renamedAt(campaign, id string, seq int64) string {
	cur := id
	for range 64 { // renames of renames, as audit follows them
		l, ok := d.links[cur]
		if !ok || l.seq >= seq {
			break
		}
		cur = l.cur
	}
	if cur == id || d.items[campaign][cur] {
		return ""
	}
	return cur
}

// readOwners adds the owner.set events query q reads to d's history.
func (d *deciders) readOwners(ctx context.Context, st reader, q string, args ...any) error {
	rows, err := st.Query(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("reading the owners' history: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var seq int64
		var payload string
		if err := rows.Scan(&seq, &payload); err != nil {
			return err
		}
		var set audit.OwnerSet
		if json.Unmarshal([]byte(payload), &set) == nil {
			d.owners[set.Identity] = append(d.owners[set.Identity], ownerChange{seq, set.Owner})
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading the owners' history: %w", err)
	}
	return nil
}

// personKey is the alias key under which byAlias knows name: its own,
// or, for "Name <address>" as nhi prints a person, the address's
// (audit.Directory.Lookup).
func personKey(name string, byAlias map[string]string) string {
	k := audit.AliasKey(name)
	if _, ok := byAlias[k]; ok {
		return k
	}
	if s := strings.TrimSpace(name); strings.HasSuffix(s, ">") {
		if lt := strings.LastIndexByte(s, '<'); lt >= 0 {
			return audit.AliasKey(s[lt+1 : len(s)-1])
		}
	}
	return k
}

// names reports whether name is one of keys (a name of the actor of the
// event keys were read for).
func names(keys []string, name string) bool {
	if name == "" {
		return false
	}
	k := audit.AliasKey(name)
	if slices.Contains(keys, k) {
		return true
	}
	if s := strings.TrimSpace(name); strings.HasSuffix(s, ">") {
		if lt := strings.LastIndexByte(s, '<'); lt >= 0 {
			return slices.Contains(keys, audit.AliasKey(s[lt+1:len(s)-1]))
		}
	}
	return false
}

// toSelf reports whether to, the new owner a transfer event seq names,
// is a name of its actor then.
func (d *deciders) toSelf(seq int64, to string) bool { return names(d.keys[seq], to) }

// ownerAt is the owner recorded for id just before event seq ("" for
// none).
func (d *deciders) ownerAt(id string, seq int64) (string, int64) {
	l := d.owners[id]
	i, _ := slices.BinarySearchFunc(l, seq, func(c ownerChange, seq int64) int { return cmp.Compare(c.seq, seq) })
	if i == 0 {
		return "", 0
	}
	return l[i-1].owner, l[i-1].seq
}

// item names each decision on w, an item of campaign r, by a person who
// owned or held it then, a member of its owning team, or the campaign's
// creator, and counts those by its closer (closed).
func (d *deciders) item(v *verifier, r *replayed, w *walkedItem) {
	closer := r.closed && !r.create.AllowAdminReview
	for _, tp := range w.touched {
		t := &r.touches[tp.touch]
		if t.op != opDecide && t.op != opConfirm && t.op != opUndo {
			continue
		}
		if closer && t.op != opUndo && t.seq < r.closeSeq && names(d.keys[r.closeSeq], t.actor) {
			if d.closers == nil {
				d.closers = map[string]*closerTally{}
			}
			c := d.closers[r.create.Name]
			if c == nil {
				c = &closerTally{first: t.seq}
				d.closers[r.create.Name] = c
			}
			c.n++
			c.first = min(c.first, t.seq)
		}
		f := d.refused(t.seq, r.create.Name, d.rules[r.create.Name], w.id, w.owner, w.naturalOwner)
		if f.rule == "" {
			continue
		}
		what := "decides"
		if t.op == opUndo {
			what = "undoes a decision on"
		}
		v.add(problemKey{k: [4]int64{phaseEvents, t.seq, t.sub, int64(tp.pos)}},
			"event %d (%s by %s) %s %s in campaign %s, whose %s%s: nhi refuses such a decision (rule %s), so it was written around nhi, and %s",
			t.seq, t.typ, audit.Printable(t.actor), what, audit.Printable(w.id), audit.Printable(r.create.Name), f.whose, f.relation(t.actor, false), f.rule, f.consequence())
	}
}

// closed names the close of campaign r, created without
// --allow-admin-review, by a person who decided items of it, under any
// name the directory gave them when it was closed: nhi refuses such a
// close (closerRefusal, rule closer), so one the log holds was written
// around nhi. Called once the walk has passed r's items (item).
func (d *deciders) closed(v *verifier, r *replayed) {
	c := d.closers[r.create.Name]
	if c == nil {
		return
	}
	v.add(v.eventKey(r.closeSeq),
		"event %d (%s by %s) closes campaign %s, of which the same person decided %s (the first in event %d), and which was created without --allow-admin-review: nhi refuses such a close (rule closer), so it was written around nhi, and someone who took part in the review closed it",
		r.closeSeq, EventClose, audit.Printable(r.closedBy), audit.Printable(r.create.Name), audit.Counted(c.n, "item", "items"), c.first)
}

// afterFact is why nhi would have refused the actor of a decision event
// an item (deciders.refused), in the words verify and the evidence report
// share: the rule; whose the item (or, rule creator, the campaign) was;
// under rule team-owner, the actor's name the team lists.
type afterFact struct {
	rule, whose, member string
	// reads is, for a name the directory listed for no one then, the
	// actor's name it reads as (deciders.readsAs).
	reads string
}

// relation says how actor is the person whose names: the same person,
// or, rule team-owner, a member of the team; inReport names actor (verify
// names her before).
func (f afterFact) relation(actor string, inReport bool) string {
	same := ", the same person"
	if inReport {
		same += " as " + audit.Printable(actor)
	}
	if f.reads != "" {
		same = ", which names no one in the directory then and reads as " + audit.Printable(f.reads)
		if f.reads != audit.AliasKey(actor) {
			same += ", a name of " + audit.Printable(actor) + " then"
		}
	}
	switch f.rule {
	case RuleTeam:
		m := audit.Printable(f.member)
		if f.member != audit.AliasKey(actor) {
			m += ", a name of " + audit.Printable(actor) + " then"
		}
		return ", a team whose members in the campaign's snapshot include " + m
	case RuleCreator:
		if inReport {
			return same + ", and it was created without --allow-admin-review"
		}
		return same + ", and which was created without --allow-admin-review"
	}
	return same
}

// consequence is what a decision nhi refuses under f's rule is.
func (f afterFact) consequence() string {
	switch f.rule {
	case RuleTeam:
		return "it is no review by someone outside the owning team"
	case RuleCreator:
		return "the campaign's creator reviewed it herself"
	}
	return "it is no second person's review"
}

// refused says which rule, if any, forbids the actor of event seq item
// id, frozen with owner and holder, of campaign, whose rules are cr
// (nil: owner and holder only): owner at creation, owner then (under the
// item's ID, and under the ID a rename gave it by then), holder, a team
// owner at creation or then, the creator; and whose it was.
func (d *deciders) refused(seq int64, campaign string, cr *campaignRules, id, owner, holder string) afterFact {
	keys := d.keys[seq]
	then, ownerSeq := d.ownerAt(id, seq)
	var renamedThen string
	var renamedSeq int64
	cur := d.renamedAt(campaign, id, seq)
	if cur != "" {
		renamedThen, renamedSeq = d.ownerAt(cur, seq)
	}
	renamed := func() string {
		return fmt.Sprintf("recorded owner then, under %s (the ID a rename gave it), is %s (event %d)", audit.Printable(cur), audit.Printable(renamedThen), renamedSeq)
	}
	atCreation := func() string {
		return fmt.Sprintf("recorded owner when the campaign was created is %s", audit.Printable(owner))
	}
	recorded := func() string {
		return fmt.Sprintf("recorded owner then is %s (event %d)", audit.Printable(then), ownerSeq)
	}
	switch {
	case names(keys, owner):
		return afterFact{rule: RuleOwner, whose: atCreation()}
	case names(keys, then):
		return afterFact{rule: RuleOwner, whose: recorded()}
	case names(keys, renamedThen):
		return afterFact{rule: RuleOwner, whose: renamed()}
	case names(keys, holder):
		return afterFact{rule: RuleHolder, whose: fmt.Sprintf("holder according to the source is %s", audit.Printable(holder))}
	}
	// A name the directory listed for no one then, that reads as one of
	// the actor's (separation.readsAs).
	if n := d.readsAs(seq, owner); n != "" {
		return afterFact{rule: RuleOwner, whose: atCreation(), reads: n}
	}
	if n := d.readsAs(seq, then); n != "" {
		return afterFact{rule: RuleOwner, whose: recorded(), reads: n}
	}
	if n := d.readsAs(seq, renamedThen); n != "" {
		return afterFact{rule: RuleOwner, whose: renamed(), reads: n}
	}
	if n := d.readsAs(seq, holder); n != "" {
		return afterFact{rule: RuleHolder, whose: fmt.Sprintf("holder according to the source is %s", audit.Printable(holder)), reads: n}
	}
	if cr == nil {
		return afterFact{}
	}
	if m := cr.member(keys, owner); m != "" {
		return afterFact{rule: RuleTeam, whose: atCreation(), member: m}
	}
	if m := cr.member(keys, then); m != "" {
		return afterFact{rule: RuleTeam, whose: recorded(), member: m}
	}
	if m := cr.member(keys, renamedThen); m != "" {
		return afterFact{rule: RuleTeam, whose: renamed(), member: m}
	}
	if names(keys, cr.creator) {
		return afterFact{rule: RuleCreator, whose: fmt.Sprintf("creator is %s (event %d)", audit.Printable(cr.creator), cr.createSeq)}
	}
	return afterFact{}
}

// approvalOf is one item an approval event names.
type approvalOf struct {
	seq             int64
	actor, campaign string
	id              string
}

// approversOwning says, for each of the approvals each (by position),
// whether it names an item its approver owned (when the campaign was
// created, or by then) or held, whose owning team lists her, or of a
// campaign she created (without --allow-admin-review), under any name
// the directory gave them then: nhi refuses such an approval (rules
// owner, holder, team-owner and creator, as for a decision: deciders),
// so one the log holds was written around nhi, and it approves nothing.
// On PostgreSQL the approver can write one with psql: an approval is an
// event alone, which the database does not compare with the item.
//
// It returns as well the deciders it read, which know each approver's
// names as the directory stood at the approval (selfApproval).
func approversOwning(ctx context.Context, r reader, each []approvalOf, people *[]personChange) ([]afterFact, *deciders, error) {
	out := make([]afterFact, len(each)) // rule "": none
	if len(each) == 0 {
		return out, &deciders{}, nil
	}
	type frozenOwner struct{ owner, holder string }
	items := map[[2]string]*frozenOwner{}
	var byWhom []decided
	ids := []string{} // not nil: these identities only (readDeciders)
	for _, a := range each {
		byWhom = append(byWhom, decided{a.seq, a.actor})
		k := [2]string{a.campaign, a.id}
		if _, ok := items[k]; ok {
			continue
		}
		var f frozenOwner
		err := r.QueryRow(ctx, `SELECT i.owner, i.natural_owner FROM campaign_items i JOIN campaigns c ON c.id = i.campaign_id
			WHERE c.name = ? AND i.identity_id = ?`, a.campaign, a.id).Scan(&f.owner, &f.holder)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			items[k] = nil
			continue
		case err != nil:
			return nil, nil, fmt.Errorf("reading the item event %d approves: %w", a.seq, err)
		}
		items[k] = &f
		ids = append(ids, a.id)
	}
	dec, err := readDeciders(ctx, r, byWhom, ids, people)
	if err != nil {
		return nil, nil, err
	}
	rules := map[string]*campaignRules{}
	for k, f := range items {
		if f == nil || rules[k[0]] != nil {
			continue
		}
		if rules[k[0]], err = readRulesOf(ctx, r, k[0]); err != nil {
			return nil, nil, err
		}
		if err := dec.readRenamedItems(ctx, r, k[0]); err != nil {
			return nil, nil, err
		}
	}
	for i, a := range each {
		if f := items[[2]string{a.campaign, a.id}]; f != nil {
			out[i] = dec.refused(a.seq, a.campaign, rules[a.campaign], a.id, f.owner, f.holder)
		}
	}
	return out, dec, nil
}
