package report

import (
	"testing"

	"github.com/nhi-audit/nhi/audit"
)

// The PCI DSS 8.6.3 row says exactly what nhi saw, in sentences an
// auditor signs: its counts agree with their nouns and verbs; what a
// later snapshot did not check is told apart from what none has checked
// yet, neither claimed; what was flagged but not decided is counted; and
// what nhi cannot see (a secret's value) is said.
func TestRotationClaimSaysWhatWasChecked(t *testing.T) {
	p := audit.DefaultPolicy()
	const intro = "Credentials unchanged beyond the policy's rotation period (unrotated; only where the source says when a credential last changed) or without an expiry (no-expiry) are flagged and put to a reviewer."
	const shown = "a later snapshot showed "
	const how = " rotated (a secret's updated_at, a deploy key replaced or a token regenerated after the campaign's snapshot; for an offboarding, after the end of the day it took effect), "
	const limits = " nhi never reads a secret's value, so this says nothing of its complexity, nor of changes made on suspicion of compromise."
	for _, c := range []struct {
		counts rotationCounts
		want   string
	}{
		{rotationCounts{n: 1, rotated: 1, flagged: 1, flaggedBy: map[string]int{"rotate": 1}},
			intro + " 1 identity was flagged: 1 decided (1 rotate, 0 keep with a justification, 0 decommission). Of 1 rotate decision, " + shown + "1" + how + "0 still unrotated." + limits},
		{rotationCounts{n: 3, rotated: 1, not: 1, notChecked: 1, flagged: 3, flaggedBy: map[string]int{"rotate": 3}},
			intro + " 3 identities were flagged: 3 decided (3 rotate, 0 keep with a justification, 0 decommission). Of 3 rotate decisions, " + shown + "1" + how +
				"1 still unrotated; 1 was not checked by the later snapshot (it could not read where they are, or cannot tell when they changed: each row says why) and 0 not verified yet (no later snapshot has checked them): nothing is claimed of those." + limits},
		{rotationCounts{n: 2, flagged: 5, flaggedBy: map[string]int{"rotate": 2, "keep": 1, "no-response": 1, "pending": 1}},
			intro + " 5 identities were flagged: 3 decided (2 rotate, 1 keep with a justification, 0 decommission), 2 without a decision (no response or pending). Of 2 rotate decisions, " + shown + "0" + how +
				"0 still unrotated; 0 were not checked by the later snapshot (it could not read where they are, or cannot tell when they changed: each row says why) and 2 not verified yet (no later snapshot has checked them): nothing is claimed of those." + limits},
		{rotationCounts{}, intro + " None in scope was flagged." + limits},
	} {
		if got := rotationClaim(c.counts, p); got != c.want {
			t.Errorf("rotationClaim(%+v)\n got %q\nwant %q", c.counts, got, c.want)
		}
	}
}
