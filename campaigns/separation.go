package campaigns

import (
	"context"
	"fmt"
	"strings"

	"github.com/nhi-audit/nhi/audit"
)

// Separation of duties: who may not decide an item, and the trace a
// refused attempt leaves (docs/people.md).

// EventRefused records an attempt a rule refused: the auditor sees the
// control operate, not only the absence of failures. It has no projection;
// it is read from the log.
const EventRefused = "decision.refused"

// The rules a refusal names.
const (
	RuleOwner      = "owner"       // the reviewer owns the identity, under any alias
	RuleTeam       = "team-owner"  // a team the reviewer belongs to owns it
	RuleHolder     = "holder"      // the reviewer holds or created it (PAT owner, authorised login, key adder, App installer)
	RuleCreator    = "creator"     // the campaign's creator reviews (without --allow-admin-review)
	RuleCloser     = "closer"      // whoever decided items closes the campaign (without --allow-admin-review)
	RuleUnsigned   = "unsigned"    // an unsigned decision in a campaign that requires signatures
	RuleSigningKey = "signing-key" // a decision signed with a key that is not the reviewer's
)

// RefusedPayload is the payload of a decision.refused event.
type RefusedPayload struct {
	Campaign string   `json:"campaign"`
	Items    []string `json:"items,omitempty"`
	Action   string   `json:"action"` // decommission, keep, rotate, undo, confirm, close
	Rule     string   `json:"rule"`
	Detail   string   `json:"detail"`
}

// Refusal is a rule that forbids an actor an action, and why.
type Refusal struct {
	Rule   string
	Detail string
}

// RefusedError is returned when a separation rule refuses a decision. The
// attempt is recorded as a decision.refused event (Event) all the same.
type RefusedError struct {
	Refusal
	Campaign string
	Item     string
	Actor    string
	Event    audit.Event // the decision.refused event; zero if it could not be written
}

func (e *RefusedError) Error() string {
	what := "this decision"
	if e.Item != "" {
		what = audit.Printable(e.Item)
	}
	msg := fmt.Sprintf("%v: %s may not decide %s (rule %s: %s); another reviewer of campaign %s must decide it",
		ErrSelfReview, audit.Printable(e.Actor), what, e.Rule, e.Detail, e.Campaign)
	switch e.Rule {
	case RuleUnsigned, RuleSigningKey:
		msg = fmt.Sprintf("%v: %s (rule %s: %s)", ErrSignature, audit.Printable(e.Actor), e.Rule, e.Detail)
	case RuleCloser:
		msg = fmt.Sprintf("%v: %s may not close campaign %s (rule %s: %s)", ErrSeparation, audit.Printable(e.Actor), e.Campaign, e.Rule, e.Detail)
	case RuleCreator:
		msg = fmt.Sprintf("%v: %s may not decide in campaign %s (rule %s: %s)", ErrSeparation, audit.Printable(e.Actor), e.Campaign, e.Rule, e.Detail)
	case RuleApprover:
		msg = fmt.Sprintf("%v: %s may not approve the exception on %s (rule %s: %s); another person must approve it", ErrSeparation, audit.Printable(e.Actor), what, e.Rule, e.Detail)
	}
	if e.Event.Seq != 0 {
		msg += fmt.Sprintf("; the attempt is recorded (event %d)", e.Event.Seq)
	}
	return msg
}

// Brief is the refusal for a screen that already shows whose session it
// is (the UI): "you", the identity by the name it has there (name of its
// ID), the rule and why, what to do, and the attempt's event, last. Error
// names the actor and the identity's ID, for a terminal or a log; at 80
// columns the UI's three lines of a message lost what to do to them.
func (e *RefusedError) Brief(name func(id string) string) string {
	what := "this decision"
	if e.Item != "" {
		what = audit.Printable(name(e.Item))
	}
	rule := fmt.Sprintf("(rule %s: %s)", e.Rule, e.Detail)
	msg := "you may not decide " + what + " " + rule + "; another reviewer of campaign " + e.Campaign + " must decide it"
	switch e.Rule {
	case RuleUnsigned, RuleSigningKey:
		msg = "the decision's signature is refused " + rule
	case RuleCloser:
		msg = "you may not close campaign " + e.Campaign + " " + rule
	case RuleCreator:
		msg = "you may not decide in campaign " + e.Campaign + " " + rule + "; its other reviewers decide its items"
	case RuleApprover:
		msg = "you may not approve the exception on " + what + " " + rule + "; another person must approve it"
	}
	if e.Event.Seq != 0 {
		msg += fmt.Sprintf("; attempt recorded (event %d)", e.Event.Seq)
	}
	return audit.Printable(msg)
}

func (e *RefusedError) Unwrap() error {
	switch e.Rule {
	case RuleCloser, RuleCreator, RuleApprover:
		return ErrSeparation
	case RuleUnsigned, RuleSigningKey:
		return ErrSignature
	}
	return ErrSelfReview
}

// separation knows who is who for one campaign: the directory of people
// and, from the campaign's snapshot, the members of each team.
type separation struct {
	c     *Campaign
	dir   *audit.Directory
	teams map[string]map[string]bool // team ("org/slug", lower case) -> member logins (lower case)
	// mailboxes are, for each actor asked about, the MailboxKey of each
	// of their names (readsAs), computed once for all the items.
	mailboxes map[string]map[string]string // actor -> MailboxKey -> the actor's name
}

func newSeparation(ctx context.Context, r reader, c *Campaign) (*separation, error) {
	dir, err := r.People(ctx)
	if err != nil {
		return nil, err
	}
	teams, err := readTeams(ctx, r, c)
	if err != nil {
		return nil, err
	}
	return &separation{c: c, dir: dir, teams: teams}, nil
}

// readTeams reads the members of each team the snapshots of campaign c
// read: team ("org/slug", lower case) -> member logins (lower case).
func readTeams(ctx context.Context, r reader, c *Campaign) (map[string]map[string]bool, error) {
	teams := map[string]map[string]bool{}
	for _, id := range c.snapshotIDs() {
		if err := readSnapshotTeams(ctx, r, id, teams); err != nil {
			return nil, err
		}
	}
	return teams, nil
}

// readSnapshotTeams adds to teams the team members snapshot id read.
func readSnapshotTeams(ctx context.Context, r reader, id int64, teams map[string]map[string]bool) error {
	rows, err := r.Query(ctx, `SELECT scope, login FROM principals WHERE snapshot_id = ? AND type = ?`, id, audit.PrincipalTeamMember)
	if err != nil {
		return fmt.Errorf("reading team members: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var team, login string
		if err := rows.Scan(&team, &login); err != nil {
			return err
		}
		team = audit.AliasKey(team)
		if teams[team] == nil {
			teams[team] = map[string]bool{}
		}
		teams[team][audit.AliasKey(login)] = true
	}
	return rows.Err()
}

// same reports whether a and b are the same person: one alias, or two
// aliases of a person in the directory.
func (s *separation) same(a, b string) bool {
	return s.dir.Same(a, b)
}

// names are every name actor goes by.
func (s *separation) names(actor string) []string {
	if p := s.dir.Lookup(actor); p != nil {
		return p.Names()
	}
	return []string{actor}
}

// inTeam reports whether actor, under any alias, is a member of team.
func (s *separation) inTeam(actor, team string) bool {
	members := s.teams[audit.AliasKey(team)]
	if members == nil {
		return false
	}
	for _, n := range s.names(actor) {
		if members[audit.AliasKey(n)] {
			return true
		}
	}
	return false
}

// refusal says which rule forbids actor deciding it (whose owner recorded
// now is currentOwner), or nil when none does.
func (s *separation) refusal(it *frozen, currentOwner, actor string) *Refusal {
	for _, o := range []struct{ owner, when string }{{it.owner, "recorded owner when the campaign was created"}, {currentOwner, "recorded owner"}} {
		if o.owner == "" {
			continue
		}
		if s.same(o.owner, actor) {
			return &Refusal{RuleOwner, s.aliasDetail(o.owner, actor, o.when)}
		}
		if n := s.readsAs(o.owner, actor); n != "" {
			return &Refusal{RuleOwner, readsAsDetail(o.owner, o.when, n, actor)}
		}
		if strings.Contains(o.owner, "/") && s.inTeam(actor, o.owner) {
			return &Refusal{RuleTeam, fmt.Sprintf("%s is a member of %s, the %s", audit.Printable(actor), audit.Printable(o.owner), o.when)}
		}
	}
	if it.naturalOwner != "" && s.same(it.naturalOwner, actor) {
		return &Refusal{RuleHolder, s.aliasDetail(it.naturalOwner, actor, "holder according to the source")}
	}
	if n := s.readsAs(it.naturalOwner, actor); n != "" {
		return &Refusal{RuleHolder, readsAsDetail(it.naturalOwner, "holder according to the source", n, actor)}
	}
	if !s.c.AllowAdminReview && s.same(s.c.CreatedBy, actor) {
		return &Refusal{RuleCreator, fmt.Sprintf("%s created the campaign, which was not created with --allow-admin-review", audit.Printable(s.c.CreatedBy))}
	}
	return nil
}

// readsAs is audit.Directory.ReadsAs, the actor's names' keys computed
// once rather than for every item.
func (s *separation) readsAs(name, actor string) string {
	if name == "" || s.dir.Lookup(name) != nil {
		return ""
	}
	keys, ok := s.mailboxes[actor]
	if !ok {
		keys = map[string]string{}
		for _, n := range s.names(actor) {
			if k := audit.MailboxKey(n); k != "" {
				if _, dup := keys[k]; !dup {
					keys[k] = n
				}
			}
		}
		if s.mailboxes == nil {
			s.mailboxes = map[string]map[string]string{}
		}
		s.mailboxes[actor] = keys
	}
	return keys[audit.MailboxKey(name)]
}

// readsAsDetail says that name, the role, names no one in the directory
// but reads as n, a name of actor (audit.Directory.ReadsAs).
func readsAsDetail(name, role, n, actor string) string {
	if audit.AliasKey(n) == audit.AliasKey(actor) {
		return fmt.Sprintf("%s, the %s, reads as %s", audit.Printable(name), role, audit.Printable(actor))
	}
	return fmt.Sprintf("%s, the %s, reads as %s, a name of %s", audit.Printable(name), role, audit.Printable(n), audit.Printable(actor))
}

func (s *separation) aliasDetail(name, actor, role string) string {
	if audit.AliasKey(name) == audit.AliasKey(actor) {
		return fmt.Sprintf("%s is the %s", audit.Printable(name), role)
	}
	return fmt.Sprintf("%s, the %s, is an alias of %s", audit.Printable(name), role, audit.Printable(actor))
}

// recordRefusal appends a decision.refused event in its own transaction
// (the refused one was rolled back) and returns err with the event in it.
func recordRefusal(ctx context.Context, st *audit.Store, actor, action string, err *RefusedError, items []string) error {
	p := RefusedPayload{Campaign: err.Campaign, Items: items, Action: action, Rule: err.Rule, Detail: err.Detail}
	werr := st.Write(ctx, func(tx *audit.Tx) error {
		ev, e := tx.Append(ctx, actor, EventRefused, p)
		err.Event = ev
		return e
	})
	if werr != nil {
		return fmt.Errorf("%w (recording the refused attempt failed too: %v)", err, werr)
	}
	return err
}

// itemRefusal is an item a bulk decision skipped, and the rule why.
type itemRefusal struct {
	id string
	Refusal
}

// recordRefusals records the items a bulk decision skipped, one
// decision.refused event each, so every item's history shows them.
func recordRefusals(ctx context.Context, st *audit.Store, actor, campaign, action string, refusals []itemRefusal) error {
	return st.Write(ctx, func(tx *audit.Tx) error {
		for _, r := range refusals {
			p := RefusedPayload{Campaign: campaign, Items: []string{r.id}, Action: action, Rule: r.Rule, Detail: r.Detail}
			if _, err := tx.Append(ctx, actor, EventRefused, p); err != nil {
				return err
			}
		}
		return nil
	})
}

// Refused is one refused attempt, as the log holds it.
type Refused struct {
	Seq   int64
	At    string
	Actor string
	RefusedPayload
}

// RefusedAttempts returns the refused attempts of a campaign ("" for
// every campaign) up to event upTo (0 for all), oldest first.
func RefusedAttempts(ctx context.Context, st *audit.Store, campaign string, upTo int64) ([]Refused, error) {
	var out []Refused
	err := eachCampaignEvent(ctx, st, EventRefused, campaign, upTo, "refused attempts", func(seq int64, at, actor string, p *RefusedPayload) error {
		out = append(out, Refused{Seq: seq, At: at, Actor: actor, RefusedPayload: *p})
		return nil
	})
	return out, err
}
