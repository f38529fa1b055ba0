package report

import (
	"fmt"

	"github.com/nhi-audit/nhi/audit"
)

// rotationClaim is what the PCI DSS 8.6.3 row may say of rotate
// decisions: how many a later snapshot proved rotated, showed unrotated,
// or did not check. "" when nothing was decided rotate.
func rotationClaim(c rotationCounts) string {
	n, rotated, not, removed := c.n, c.rotated, c.not, c.removed
	if n == 0 {
		return ""
	}
	s := fmt.Sprintf(" Of %s, %d %s shown rotated by a later snapshot (a secret's updated_at after the review, a deploy key replaced, a token regenerated), %d still unrotated", audit.Counted(n, "rotate decision", "rotate decisions"), rotated, audit.Plural(rotated, "was", "were"), not)
	if removed > 0 {
		s += fmt.Sprintf(", %d removed instead", removed)
	}
	if rest := n - rotated - not - removed; rest > 0 {
		return s + fmt.Sprintf(", and %d not checked (no later snapshot showed them): no claim is made for those.", rest)
	}
	return s + "."
}
