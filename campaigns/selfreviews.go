package campaigns

import (
	"context"
	"fmt"

	"github.com/nhi-audit/nhi/audit"
)

// SelfReviews is nhi verify's re-check of who decided (deciders), over one
// campaign's decisions, for the evidence report (package
// campaigns/report; docs/report.md, "Self-reviews"): the decisions,
// confirmations and undos whose actor owned or held the item, was a
// member of the team that owned it, or created the campaign (without
// --allow-admin-review), and the transfers to the actor herself, that
// nhi refuses and the log holds anyway. One check: the report marks what
// verify names.
type SelfReviews struct {
	campaign string
	d        *deciders
	rules    *campaignRules
	to       map[int64]string // the new owner of each transfer event
}

// SelfReview says why one event on one item was no second person's review.
type SelfReview struct {
	Rule string // RuleOwner, RuleHolder, RuleTeam or RuleCreator
	// Whose is whose the item (rule creator: the campaign) was, as verify
	// says it: "recorded owner when the campaign was created is
	// rita@acme.com", "recorded owner then is Rita (event 12)", "holder
	// according to the source is carol", "creator is carol (event 3)";
	// for a transfer to the actor, "new owner is rita".
	Whose string
	// Member is, under rule team-owner, the actor's name the campaign's
	// snapshot lists in the team (lower case).
	Member string
	// ReadsAs is, for an owner or holder named so that the directory
	// listed no one then, the actor's name it reads as (the look-alike
	// check).
	ReadsAs  string
	Transfer bool // a transfer to the actor herself
}

// Text is the self-review as the report states it, for an event by
// actor: what verify says of it.
func (s SelfReview) Text(actor string) string {
	what := "decision"
	if s.Transfer {
		what = "transfer"
	}
	f := afterFact{rule: s.Rule, whose: s.Whose, member: s.Member, reads: s.ReadsAs}
	whose := "its " + s.Whose
	if s.Rule == RuleCreator {
		whose = "the campaign's " + s.Whose
	}
	return fmt.Sprintf("self-review: %s%s: nhi refuses such a %s (rule %s), so it was written around nhi, and %s",
		whose, f.relation(actor, true), what, s.Rule, f.consequence())
}

// ReadSelfReviews reads what Of needs for campaign's decision,
// confirmation and undo events up to event asOf (0: all): the directory
// of people as it stood at each, and the owners recorded before them.
func ReadSelfReviews(ctx context.Context, st *audit.Store, campaign string, asOf int64) (*SelfReviews, error) {
	type payload struct {
		Decision Decision `json:"decision"`
		To       string   `json:"to"`
	}
	var all []decided
	to := map[int64]string{}
	for _, typ := range []string{EventDecide, EventConfirm, EventUndo} {
		err := eachCampaignEvent(ctx, st, typ, campaign, asOf, "the decisions", func(seq int64, _, actor string, p *payload) error {
			all = append(all, decided{seq, actor})
			if typ == EventDecide && p.Decision == Transfer && p.To != "" {
				to[seq] = p.To
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	d, err := readDeciders(ctx, st, all, nil, nil)
	if err != nil || len(all) == 0 {
		return &SelfReviews{campaign: campaign, d: d, to: to}, err
	}
	if err := d.readRenamedItems(ctx, st, campaign); err != nil {
		return nil, err
	}
	// The team and creator rules, as the campaign's creation froze them.
	rules, err := readRulesOf(ctx, st, campaign)
	if err != nil {
		return nil, err
	}
	return &SelfReviews{campaign: campaign, d: d, rules: rules, to: to}, nil
}

// Of says whether event seq, a decision, confirmation or undo on item it
// (as the campaign froze it), is a self-review verify names: by its
// owner or holder, a member of its owning team or the campaign's
// creator, or a transfer of it to the actor herself.
func (s *SelfReviews) Of(seq int64, it *Item) (SelfReview, bool) {
	if s == nil || seq == 0 {
		return SelfReview{}, false
	}
	if _, ok := s.d.keys[seq]; !ok {
		return SelfReview{}, false // not a decision event of the campaign
	}
	f := s.d.refused(seq, s.campaign, s.rules, it.ID, it.Owner, it.NaturalOwner)
	if f.rule == RuleOwner || f.rule == RuleHolder {
		return SelfReview{Rule: f.rule, Whose: f.whose, ReadsAs: f.reads}, true
	}
	if to, ok := s.to[seq]; ok && s.d.toSelf(seq, to) {
		return SelfReview{Rule: RuleOwner, Whose: "new owner is " + audit.Printable(to), Transfer: true}, true
	}
	if f.rule != "" { // a team owner's member, the campaign's creator
		return SelfReview{Rule: f.rule, Whose: f.whose, Member: f.member}, true
	}
	return SelfReview{}, false
}
