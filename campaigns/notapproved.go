package campaigns

import (
	"fmt"

	"github.com/nhi-audit/nhi/audit"
)

// NotAnApproval is a decision.approve event that approves nothing
// because the directory of people marked its actor left when it was
// written: nhi refuses a leaver's approval in its own transaction, so one
// the log holds was written around nhi (docs/campaigns.md, "Exceptions"),
// and no one who could still act approved the exception. nhi verify names
// it too.
type NotAnApproval struct {
	Event int64  // the decision.approve event
	By    string // its actor, as the event names them
	// Left is their person and when the directory said they left, as it
	// stood at the event ("rita@acme.test left on 2026-09-30"); Marked
	// the person.set event that marked them left.
	Left   string
	Marked int64
}

// String says it whole, for every place an exception's approval shows:
// "event 42's approval by rita approves nothing: rita@acme.test left on
// 2026-09-30 (marked left by event 17, before it), and nhi refuses a
// leaver's approval".
func (n *NotAnApproval) String() string {
	marked := " (according to the directory of people then)"
	if n.Marked != 0 {
		marked = fmt.Sprintf(" (marked left by event %d, before it)", n.Marked)
	}
	return fmt.Sprintf("event %d's approval by %s approves nothing: %s%s, and nhi refuses a leaver's approval",
		n.Event, audit.Printable(n.By), audit.Printable(n.Left), marked)
}
