package report

import (
	"fmt"
	"strings"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
)

// rotationClaim is how the report serves PCI DSS 8.6.3 (application and
// system accounts' passwords and secrets protected against misuse:
// changed periodically and on suspicion of compromise, complex enough):
// exactly what nhi saw and decided, with counts, and what it could not
// see. Nothing is claimed of what was not decided or not checked.
func rotationClaim(c rotationCounts, p audit.Policy) string {
	var rules []string
	if p.Rules[audit.RuleUnrotated].On() {
		rules = append(rules, "unchanged beyond the policy's rotation period (unrotated; only where the source says when a credential last changed)")
	}
	if p.Rules[audit.RuleNoExpiry].On() {
		rules = append(rules, "without an expiry (no-expiry)")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Credentials %s are flagged and put to a reviewer.", strings.Join(rules, " or "))
	if c.flagged == 0 {
		b.WriteString(" None in scope was flagged.")
	} else {
		by := c.flaggedBy
		decided := by[string(campaigns.Rotate)] + by[string(campaigns.Keep)] + by[string(campaigns.Decommission)] + by[string(campaigns.Transfer)]
		parts := []string{fmt.Sprintf("%d rotate", by[string(campaigns.Rotate)]), fmt.Sprintf("%d keep with a justification", by[string(campaigns.Keep)]),
			fmt.Sprintf("%d decommission", by[string(campaigns.Decommission)])}
		if n := by[string(campaigns.Transfer)]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d transfer", n))
		}
		fmt.Fprintf(&b, " %s flagged: %d decided (%s)", audit.Counted(c.flagged, "identity was", "identities were"), decided, strings.Join(parts, ", "))
		if rest := c.flagged - decided; rest > 0 {
			fmt.Fprintf(&b, ", %d without a decision (no response or pending)", rest)
		}
		b.WriteString(".")
	}
	if c.n > 0 {
		fmt.Fprintf(&b, " Of %s, a later snapshot showed %d rotated (a secret's updated_at, a deploy key replaced or a token regenerated after the campaign's snapshot; for an offboarding, after the end of the day it took effect), %d still unrotated",
			audit.Counted(c.n, "rotate decision", "rotate decisions"), c.rotated, c.not)
		if c.removed > 0 {
			fmt.Fprintf(&b, ", %d removed instead", c.removed)
		}
		notVerified := c.n - c.rotated - c.not - c.removed - c.notChecked
		if c.notChecked+notVerified > 0 {
			fmt.Fprintf(&b, "; %d %s not checked by the later snapshot (it could not read where they are, or cannot tell when they changed: each row says why) and %d not verified yet (no later snapshot has checked them): nothing is claimed of those",
				c.notChecked, audit.Plural(c.notChecked, "was", "were"), notVerified)
		}
		b.WriteString(".")
	}
	b.WriteString(" nhi never reads a secret's value, so this says nothing of its complexity, nor of changes made on suspicion of compromise.")
	return b.String()
}
