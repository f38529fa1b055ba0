package campaigns

import (
	"fmt"

	"github.com/nhi-audit/nhi/audit"
)

// NotAnApproval is a decision.approve event that approves nothing
// because nhi refuses such an approval, so one the log holds was written
// around nhi (docs/campaigns.md, "Exceptions"): its actor had left, by
// the directory of people when it was written, or it breaks a rule of
// separation of duties (the keeper's own, the item's owner's or holder's,
// a member's of its owning team, the campaign's creator's, an unsigned
// one where signatures are required). nhi verify names it too; every
// place the exception shows says why it is not approved.
type NotAnApproval struct {
	Event int64  // the decision.approve event
	By    string // its actor, as the event names them
	// Left is their person and when the directory said they left, as it
	// stood at the event ("rita@acme.test left on 2026-09-30"); Marked
	// the person.set event that marked them left. Empty for a rule's.
	Left   string
	Marked int64
	// Rule is the rule the approval breaks (RuleApprover, RuleOwner,
	// RuleHolder, RuleTeam, RuleCreator, RuleUnsigned), and Why how, in
	// words that follow the approval ("the item's recorded owner then is
	// rita (event 7), the same person as Rita"); both empty for a
	// leaver's.
	Rule, Why string
}

// String says it whole, for every place an exception's approval shows:
// "event 42's approval by rita approves nothing: rita@acme.test left on
// 2026-09-30 (marked left by event 17, before it), and nhi refuses a
// leaver's approval", or "event 42's approval by Carol approves nothing:
// it is by carol@acme.com, who kept it in event 40, the same person; nhi
// refuses such an approval (rule approver)".
func (n *NotAnApproval) String() string {
	if n.Rule != "" {
		return fmt.Sprintf("event %d's approval by %s approves nothing: %s; nhi refuses such an approval (rule %s)",
			n.Event, audit.Printable(n.By), n.Why, n.Rule)
	}
	marked := " (according to the directory of people then)"
	if n.Marked != 0 {
		marked = fmt.Sprintf(" (marked left by event %d, before it)", n.Marked)
	}
	return fmt.Sprintf("event %d's approval by %s approves nothing: %s%s, and nhi refuses a leaver's approval",
		n.Event, audit.Printable(n.By), audit.Printable(n.Left), marked)
}
