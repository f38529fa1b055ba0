package campaigns

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/filter"
)

// Assignment is one item of a campaign as a reviewer's queue sees it: who
// reviews it and what was decided.
type Assignment struct {
	Reviewer string   // "" when no eligible reviewer could be assigned
	Mine     bool     // Reviewer is the actor asked about, under any alias
	Decision Decision // Pending while undecided
	// Findings says the item had findings when the campaign froze it, so
	// keep and rotate need a reason (planDecision).
	Findings bool
}

// Assignments are the items of a campaign by identity ID, with Mine set
// for actor's (under any alias the directory of people knows). An item
// whose identity has another ID now (its repository renamed since the
// campaign froze it: renames.go) is under that ID, where the identity is
// listed; Decide takes either.
func Assignments(ctx context.Context, st *audit.Store, campaign, actor string) (map[string]Assignment, error) {
	c, err := load(ctx, st, campaign)
	if err != nil {
		return nil, err
	}
	dir, err := st.People(ctx)
	if err != nil {
		return nil, err
	}
	return assignments(ctx, st, c.ID, actor, dir)
}

// DecisionsSince is what Assignments would answer now that differs from
// what it answered once the log's head was event since, when only
// decisions can differ: the current decision of every item of campaign
// decided, confirmed or undone after event since and up to event upTo
// (the head the caller read), under the ID Assignments lists it by.
// types are the kinds of event in that range when the caller has read
// them (audit.Store.EventTypesTo); nil reads them here. ok is false when
// the log holds another kind of event since — one that can change who
// reviews an item, whose it is (the directory), its ID or the
// campaign's state — and then only Assignments answers. A TUI open on a
// campaign reads its items again each time another reviewer decides;
// read whole, a campaign of 10,000 items cost the server about 6 ms and
// the TUI 17 ms of CPU each time, forty open TUIs doubled what a
// decision cost the server
// (BenchmarkConcurrentDecisions/postgres-reviewers-tuis), and at a
// million items each read would take seconds.
func DecisionsSince(ctx context.Context, st *audit.Store, campaign string, since, upTo int64, types []string) (changed map[string]Decision, ok bool, err error) {
	if since <= 0 || upTo < since {
		return nil, false, nil
	}
	if types == nil {
		if types, err = st.EventTypesSince(ctx, since); err != nil {
			return nil, false, err
		}
	}
	for _, t := range types {
		switch t {
		case EventDecide, EventConfirm, EventUndo, EventVerify, audit.EventOwnerSet:
		default:
			return nil, false, nil
		}
	}
	rows, err := st.Query(ctx, decisionsSinceQuery, campaign, since, upTo, campaign)
	if err != nil {
		return nil, false, fmt.Errorf("reading campaign items: %w", err)
	}
	defer rows.Close()
	changed = map[string]Decision{}
	for rows.Next() {
		var id string
		var d Decision
		if err := rows.Scan(&id, &d); err != nil {
			return nil, false, fmt.Errorf("reading campaign items: %w", err)
		}
		changed[id] = d
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("reading campaign items: %w", err)
	}
	if len(changed) == 0 {
		return changed, true, nil
	}
	changed, err = underCurrentIDs(ctx, st, changed)
	return changed, err == nil, err
}

// decisionsSinceQuery is DecisionsSince's read: the items of the
// campaign named (its ID found in the same statement) that its history
// has rows for in a range of the log. The range is closed at both ends
// so that PostgreSQL's plan for any range, the one it keeps for a
// statement after its fifth run, finds those rows through the
// history's index by event and each item by its key: with "seq > $2"
// alone that plan guessed a third of the history and read every item
// of the campaign (4 ms at 10,000 items where 0.5 ms;
// TestDecisionsSinceKeepsToTheIndex).
const decisionsSinceQuery = `SELECT identity_id, decision FROM campaign_items
	WHERE campaign_id = (SELECT id FROM campaigns WHERE name = ?) AND identity_id IN
	(SELECT identity_id FROM campaign_decisions WHERE seq > ? AND seq <= ? AND campaign_id = (SELECT id FROM campaigns WHERE name = ?))`

// mineOf says whether a reviewer is the actor, asking the directory once
// a reviewer (most items share a few): an item's Mine, for reviewer:me.
type mineOf struct {
	actor string
	dir   *audit.Directory
	known map[string]bool
}

func newMineOf(actor string, dir *audit.Directory) *mineOf {
	return &mineOf{actor: actor, dir: dir, known: map[string]bool{}}
}

func (m *mineOf) of(reviewer string) bool {
	if reviewer == "" || m.actor == "" {
		return false
	}
	v, ok := m.known[reviewer]
	if !ok {
		v = m.dir.Same(reviewer, m.actor)
		m.known[reviewer] = v
	}
	return v
}

func assignments(ctx context.Context, r reader, campaignID int64, actor string, dir *audit.Directory) (map[string]Assignment, error) {
	rows, err := r.Query(ctx, `SELECT identity_id, reviewer, decision, CASE WHEN findings <> '[]' THEN 1 ELSE 0 END FROM campaign_items WHERE campaign_id = ?`, campaignID)
	if err != nil {
		return nil, fmt.Errorf("reading campaign items: %w", err)
	}
	defer rows.Close()
	mine := newMineOf(actor, dir)
	out := map[string]Assignment{}
	for rows.Next() {
		var id string
		var a Assignment
		var findings int
		if err := rows.Scan(&id, &a.Reviewer, &a.Decision, &findings); err != nil {
			return nil, err
		}
		a.Findings = findings == 1
		a.Mine = mine.of(a.Reviewer)
		out[id] = a
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return underCurrentIDs(ctx, r, out)
}

// underCurrentIDs moves each item whose identity has another ID now
// under that ID (renames.go): a map as small as the renames is read, and
// only the renamed items are touched.
func underCurrentIDs[T any](ctx context.Context, r reader, items map[string]T) (map[string]T, error) {
	ren, err := readRenames(ctx, r)
	if err != nil {
		return nil, err
	}
	isItem := func(id string) bool { _, ok := items[id]; return ok }
	moved := map[string]string{}
	for old := range ren {
		if _, ok := items[old]; ok {
			if cur := ren.currentID(old, isItem); cur != "" {
				moved[old] = cur
			}
		}
	}
	for old, cur := range moved {
		items[cur] = items[old]
		delete(items, old)
	}
	return items, nil
}

// ErrNoCampaignInView is a filter with decision: or reviewer: terms and no
// campaign to read them in.
var ErrNoCampaignInView = errors.New("no campaign in view")

// FilterReview is the campaign context of filter f for actor
// (filter.Env.Review): the items of the campaign in view and of every
// campaign f names. inView is the campaign decision: and reviewer: read
// ("": the one campaign f names, if it names exactly one). A name that is
// no campaign of the file is an error, and so is a filter that needs a
// campaign in view when there is none: both say what to write instead.
// It holds every item of each campaign read; a caller that asks in ID
// order reads them through cursors instead (FilterReviewInOrder).
func FilterReview(ctx context.Context, st *audit.Store, actor, inView string, f *filter.Filter) (filter.Review, error) {
	view, list, err := filterCampaigns(ctx, st, inView, f)
	if err != nil || list == nil {
		return nil, err
	}
	dir, err := st.People(ctx)
	if err != nil {
		return nil, err
	}
	r := &review{inView: view, items: map[string]map[string]filter.Item{}}
	for key, c := range list {
		as, err := assignments(ctx, st, c.ID, actor, dir)
		if err != nil {
			return nil, err
		}
		items := make(map[string]filter.Item, len(as))
		for id, a := range as {
			if reviewHeld != nil {
				reviewHeld(id)
			}
			items[id] = a.filterItem()
		}
		r.items[key] = items
	}
	return r, nil
}

func (a Assignment) filterItem() filter.Item {
	d := string(a.Decision)
	if a.Decision == Pending {
		d = "pending"
	}
	return filter.Item{Reviewer: a.Reviewer, Mine: a.Mine, Decision: d}
}

func campaignNames(list []Campaign) string {
	if len(list) == 0 {
		return "the file has no campaign yet"
	}
	names := make([]string, len(list))
	for i, c := range list {
		names[i] = audit.Printable(c.Name)
	}
	return "campaigns: " + strings.Join(names, ", ")
}

// review is a filter.Review over items read from the file: lower-case
// campaign name → identity ID → item.
type review struct {
	inView string
	items  map[string]map[string]filter.Item
}

func (r *review) Item(campaign, id string) (filter.Item, bool) {
	if campaign == "" {
		campaign = r.inView
	}
	it, ok := r.items[campaign][id] // filter passes names in lower case
	return it, ok
}
