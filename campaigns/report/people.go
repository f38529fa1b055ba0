package report

import (
	"context"
	"time"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
)

// Who decided, proven, and who was refused (docs/people.md): the
// signature behind each decision and the attempts the separation rules
// refused, up to the event the report reflects.

// Refusal is an attempt a separation-of-duties or signature rule refused
// (a decision.refused event).
type Refusal struct {
	Event  int64    `json:"event"`
	At     string   `json:"at"`
	Actor  string   `json:"actor"`
	Action string   `json:"action"`
	Items  []string `json:"items"`
	Rule   string   `json:"rule"`
	Detail string   `json:"detail"`
}

// people fills what the report says about signatures and refusals: each
// reviewer's share of signed decisions (signed counts them by decider; each
// register row's signing key was set as it was read), and the refused
// attempts up to asOf.
func people(ctx context.Context, st *audit.Store, c *campaigns.Campaign, r *Report, signed map[string]int, asOf int64) error {
	for i := range r.Reviewers.Rows {
		rr := &r.Reviewers.Rows[i]
		rr.Signed = signed[normActor(rr.Reviewer)]
		rr.SignedShare = percent(rr.Signed, rr.Decisions)
	}
	refused, err := campaigns.RefusedAttempts(ctx, st, c.Name, asOf)
	if err != nil {
		return err
	}
	r.Refused = []Refusal{}
	for _, x := range refused {
		items := cleanAll(x.Items)
		if items == nil {
			items = []string{}
		}
		at := x.At
		if t, ok := parseEventTime(x.At); ok {
			at = t
		}
		r.Refused = append(r.Refused, Refusal{Event: x.Seq, At: at, Actor: clean(x.Actor), Action: clean(x.Action), Items: items,
			Rule: clean(x.Rule), Detail: clean(x.Detail)})
	}
	return nil
}

// parseEventTime turns the log's microsecond timestamps into the report's
// RFC 3339 seconds.
func parseEventTime(s string) (string, bool) {
	for _, layout := range []string{"2006-01-02T15:04:05.000000Z", "2006-01-02T15:04:05Z"} {
		if t, err := time.Parse(layout, s); err == nil {
			return ts(t), true
		}
	}
	return "", false
}

// separationPrinciple states the campaign's separation-of-duties option.
func separationPrinciple(c *campaigns.Campaign) Principle {
	if c.AllowAdminReview {
		return Principle{"Separation of duties", "The campaign was created with --allow-admin-review: its creator, and whoever closed it, were allowed to review items too."}
	}
	return Principle{"Separation of duties", "The campaign's creator may not review its items, and whoever decided items may not close it (--allow-admin-review was not given)."}
}

// signedText is a register row's signature: the key's fingerprint, "no"
// for an unsigned decision, "" while undecided.
func signedText(x *Row) string {
	switch {
	case x.SignedBy != "":
		return x.SignedBy
	case x.Via == "":
		return ""
	}
	return "no"
}
