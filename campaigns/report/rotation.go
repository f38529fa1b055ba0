package report

import (
	"fmt"

	"github.com/nhi-audit/nhi/campaigns"
)

// rotationClaim is what the PCI DSS 8.6.3 row may say of rotate
// decisions: how many a later snapshot proved rotated, showed unrotated,
// or did not check. "" when nothing was decided rotate.
func rotationClaim(reg []Row) string {
	var n, rotated, not, removed int
	for i := range reg {
		if reg[i].Decision != string(campaigns.Rotate) {
			continue
		}
		n++
		switch reg[i].Verification {
		case campaigns.Rotated:
			rotated++
		case campaigns.NotRotated:
			not++
		case campaigns.Removed:
			removed++
		}
	}
	if n == 0 {
		return ""
	}
	s := fmt.Sprintf(" Of %d rotate decision(s), %d were shown rotated by a later snapshot (a secret's updated_at after the review, a deploy key replaced, a token regenerated), %d still unrotated", n, rotated, not)
	if removed > 0 {
		s += fmt.Sprintf(", %d removed instead", removed)
	}
	if rest := n - rotated - not - removed; rest > 0 {
		return s + fmt.Sprintf(", and %d not checked (no later snapshot showed them): no claim is made for those.", rest)
	}
	return s + "."
}
