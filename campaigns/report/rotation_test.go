package report

import "testing"

// The PCI DSS 8.6.3 row's claim reads as a sentence an auditor signs: its
// counts agree with their nouns and verbs.
func TestRotationClaimCountsAgree(t *testing.T) {
	for _, c := range []struct {
		counts rotationCounts
		want   string
	}{
		{rotationCounts{n: 1, rotated: 1}, " Of 1 rotate decision, 1 was shown rotated by a later snapshot (a secret's updated_at after the review, a deploy key replaced, a token regenerated), 0 still unrotated."},
		{rotationCounts{n: 3, rotated: 2, not: 1}, " Of 3 rotate decisions, 2 were shown rotated by a later snapshot (a secret's updated_at after the review, a deploy key replaced, a token regenerated), 1 still unrotated."},
		{rotationCounts{n: 2}, " Of 2 rotate decisions, 0 were shown rotated by a later snapshot (a secret's updated_at after the review, a deploy key replaced, a token regenerated), 0 still unrotated, and 2 not checked (no later snapshot showed them): no claim is made for those."},
	} {
		if got := rotationClaim(c.counts); got != c.want {
			t.Errorf("rotationClaim(%+v)\n got %q\nwant %q", c.counts, got, c.want)
		}
	}
}
