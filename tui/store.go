package tui

import (
	"context"
	"strconv"
	"time"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/filter"
)

// Store is the part of the evidence file the TUI reads and writes, through
// the same Go API as the CLI; *audit.Store implements it. Every write is
// an event in the file's hash-chained log.
type Store interface {
	Identities(ctx context.Context) ([]audit.Identity, error)
	// Refresh re-reads the owners of ids and re-evaluates their findings.
	Refresh(ctx context.Context, ids []*audit.Identity) error
	Snapshots(ctx context.Context) ([]audit.Snapshot, error)
	// DiffAccount compares the newest two snapshots of one source/account.
	DiffAccount(ctx context.Context, source, account string) (*audit.Diff, error)
	// OwnerHistory and Notes read one identity's events, never the
	// whole log: a detail opens as fast on a log of millions.
	OwnerHistory(ctx context.Context, id string) ([]audit.OwnerChange, error)
	Notes(ctx context.Context, id string) ([]audit.Note, error)
	KnownOwners(ctx context.Context) ([]string, error)
	// People is the directory of people (docs/people.md): the detail shows
	// the person behind an owner or holder.
	People(ctx context.Context) (*audit.Directory, error)
	SetOwners(ctx context.Context, actor string, sets []audit.OwnerSet) ([]audit.Event, error)
	UndoOwnerSet(ctx context.Context, actor string, seq int64) (audit.Event, error)
	AddNotes(ctx context.Context, actor string, ids []string, text string) ([]audit.Event, error)
	// LogHead is the newest event: the TUI polls it to notice what other
	// processes wrote (watch.go).
	LogHead(ctx context.Context) (audit.Event, error)
}

var _ Store = (*audit.Store)(nil)

// storeNoun names where the evidence is, for the help and the notes: "the
// database" when the store is a PostgreSQL server (audit.Store.Remote),
// else "the evidence file".
func storeNoun(s Store) string {
	if r, ok := s.(interface{ Remote() bool }); ok && r.Remote() {
		return "the database"
	}
	return "the evidence file"
}

// Decisions a reviewer takes on an identity within a campaign
// (docs/campaigns.md, "Deciding").
const (
	DecisionDecommission = "decommission" // approve decommissioning
	DecisionKeep         = "keep"         // reject decommissioning; a reason is required
	DecisionRotate       = "rotate"       // keep, but the credential must be replaced
	DecisionPending      = "pending"      // in the campaign, nobody has decided yet
	DecisionTransfer     = "transfer"     // offboarding: handed to a new owner (Transferrer)
)

// Reviewer is the seam to review campaigns: the TUI lists campaigns and
// records decisions through it, and shows no campaign feature at all when
// Options.Reviewer is nil. The campaigns package implements it; the TUI
// knows nothing of how campaigns are stored.
type Reviewer interface {
	// Campaigns lists the campaigns with their progress, most relevant
	// (open, due soonest) first.
	Campaigns(ctx context.Context) ([]Campaign, error)
	// Items are the items of a campaign's population by identity ID:
	// the reviewer assigned, whether that is actor (under any alias), and
	// the current decision, DecisionPending where nobody has decided;
	// identities outside the population are absent.
	Items(ctx context.Context, campaign, actor string) (map[string]filter.Item, error)
	// Decide records one decision (DecisionDecommission, DecisionKeep or
	// DecisionRotate) for each identity, all or none, one event each,
	// returned in order. reason is required for keep.
	Decide(ctx context.Context, actor, campaign string, ids []string, decision, reason string) ([]audit.Event, error)
	// UndoDecision reverses the decision event seq with a compensating
	// event, and returns it.
	UndoDecision(ctx context.Context, actor string, seq int64) (audit.Event, error)
	// Export writes the campaign's evidence report into dir (new or
	// empty; with force, an earlier bundle is replaced), attested by
	// signer and generated at at. It writes nothing to the evidence file.
	Export(ctx context.Context, campaign, dir, signer string, at time.Time, force bool) (Exported, error)
	// Trail is what every campaign recorded about one identity, oldest
	// first: decisions, confirmations, undos, removal checks.
	Trail(ctx context.Context, id string) ([]DecisionEvent, error)
	// ApproveException records actor's approval of the exception on
	// identity id in campaign (its decision a keep although it had
	// findings): the second person the policy's exception_approval:
	// required asks for (docs/campaigns.md, "Exceptions").
	ApproveException(ctx context.Context, actor, campaign, id string) (audit.Event, error)
}

// ItemsEacher is a Reviewer that gives a campaign's items one at a
// time, as Items would list them, so the TUI keeps them in its own form
// without a map of them all first (campaignItems: at a million items
// that map was a third of what reading them cost).
type ItemsEacher interface {
	// EachItem gives each item to yield; expect, where the reviewer
	// knows, is told first how many will come.
	EachItem(ctx context.Context, campaign, actor string, expect func(n int), yield func(id string, it filter.Item)) error
}

// DecisionsSincer is a Reviewer that says what decisions changed since
// an event, so the TUI, which reads a campaign's items again each time
// the log grows (another reviewer decided), reads only those: read whole
// each time, a campaign of 10,000 items cost the server about 6 ms and
// the TUI 17 ms of CPU, and forty open TUIs doubled what a decision cost
// the server (docs/team.md, "Live").
type DecisionsSincer interface {
	// DecisionsSince is the current decision of each item of campaign
	// decided, confirmed or undone after event asOf and up to event upTo
	// (a head the TUI read), by the identity ID Items lists it under
	// (DecisionPending where none stands); types are the kinds of event
	// in that range when the TUI read them (nil: not read). ok is false
	// when the log holds other events since, which may change more than
	// decisions, and Items must be read whole.
	DecisionsSince(ctx context.Context, campaign string, asOf, upTo int64, types []string) (changed map[string]string, ok bool, err error)
}

// DecisionEvent is one entry of an identity's decision trail.
type DecisionEvent struct {
	Seq      int64
	At       time.Time
	Actor    string
	Campaign string
	What     string // "decommission", "keep (bulk)", "undid #12", "removed (snapshot 3)"
	Reason   string
}

// Exported is what Reviewer.Export wrote.
type Exported struct {
	Dir   string // absolute
	Files int
	Head  int64 // the last event the report reflects
	Draft bool  // the campaign is still open: an interim report
}

// Campaign is a review campaign as the campaign list shows it.
type Campaign struct {
	Name   string
	Status string // "open", "closed"
	Scope  string // the filter expression that froze its population
	Due    time.Time
	Total  int            // identities in its population
	Counts map[string]int // decisions taken so far, by decision
	// Reviewers is each reviewer's share: the items assigned to them and
	// how many of those anyone has decided.
	Reviewers []ReviewerProgress
	// Offboards is, for an offboarding campaign, the leaver's e-mail (or
	// "system" for a retired system); "" for a review campaign. Only an
	// offboarding campaign takes transfers (T).
	Offboards string
}

// ReviewerProgress is one reviewer's share of a campaign.
type ReviewerProgress struct {
	Reviewer string // "" for items no reviewer could be assigned
	Assigned int
	Decided  int
}

// DecisionNoResponse is what closing a campaign makes of an item nobody
// decided: counted apart, never as a decision.
const DecisionNoResponse = "no-response"

// Decided is the number of identities someone decided (decommission,
// keep, rotate); no-response is not a decision.
func (c *Campaign) Decided() int {
	n := 0
	for d, v := range c.Counts {
		if d != DecisionNoResponse {
			n += v
		}
	}
	return n
}

// NoResponse is the number of identities nobody decided before the
// campaign closed.
func (c *Campaign) NoResponse() int { return c.Counts[DecisionNoResponse] }

// progressText is "12/75 16%" while a campaign runs, and once items went
// without an answer "5 decided · 70 no-response": never 100% for a
// campaign closed mostly unanswered.
func (c *Campaign) progressText() string {
	if nr := c.NoResponse(); nr > 0 {
		return commas(c.Decided()) + " decided · " + commas(nr) + " no-response"
	}
	return commas(c.Decided()) + "/" + commas(c.Total) + " " + strconv.Itoa(percent(c.Decided(), c.Total)) + "%"
}
