package campaigns

import (
	"fmt"
	"time"

	"github.com/nhi-audit/nhi/audit"
)

// Rotation and transfer, as a later snapshot and the log show them: the
// proof behind a rotate or transfer decision, in ordinary campaigns and
// offboarding ones alike (docs/offboarding.md, "Proof"). Like removals,
// nothing is claimed that the snapshot did not see.

// Verification states of rotate and transfer decisions (removal's are in
// campaigns.go).
const (
	Rotated        = "rotated"         // the credential was replaced after the reference time
	NotRotated     = "not-rotated"     // it is there, unchanged since
	Transferred    = "transferred"     // the owner recorded now is the person it was transferred to, who is active
	NotTransferred = "not-transferred" // the owner is someone else, or the new owner left
)

// rotationCheck judges rotate decisions against one later snapshot.
type rotationCheck struct {
	since  time.Time                  // rotation must be after this
	before map[string]*audit.Identity // the identities as the campaign reviewed them
	after  map[string]*audit.Identity // the later snapshot's, by ID
	// keysByScope are the later snapshot's deploy keys, by repository.
	keysByScope map[string][]*audit.Identity
	cov         *audit.Coverage
}

func newRotationCheck(since time.Time, before, after []audit.Identity, cov *audit.Coverage) *rotationCheck {
	rc := &rotationCheck{since: since, before: map[string]*audit.Identity{}, after: map[string]*audit.Identity{},
		keysByScope: map[string][]*audit.Identity{}, cov: cov}
	for i := range before {
		rc.before[before[i].ID] = &before[i]
	}
	for i := range after {
		id := &after[i]
		rc.after[id.ID] = id
		if id.Kind == audit.KindGitHubDeployKey {
			rc.keysByScope[id.Scope] = append(rc.keysByScope[id.Scope], id)
		}
	}
	return rc
}

// judge says whether item id (of kind in scope; cur is its ID in the later
// snapshot when a rename moved it) was rotated: Rotated, NotRotated,
// Removed or NotChecked, and why, in words an auditor reads.
func (rc *rotationCheck) judge(id, cur string, kind audit.Kind, scope string) (state, why string) {
	was := rc.before[id]
	now := rc.after[cur]
	since := rc.since.UTC().Format(time.RFC3339)
	if now == nil {
		if kind == audit.KindGitHubDeployKey && was != nil {
			// A deploy key cannot be changed, only replaced: a new key
			// under the same title with another fingerprint.
			for _, k := range rc.keysByScope[scope] {
				if k.Name == was.Name && k.Attributes["fingerprint"] != "" && k.Attributes["fingerprint"] != was.Attributes["fingerprint"] {
					return Rotated, fmt.Sprintf("replaced by %s (same title, fingerprint %s)", k.ID, audit.Printable(k.Attributes["fingerprint"]))
				}
			}
		}
		if looked, reason := rc.cov.Looked(kind, scope); !looked {
			return NotChecked, reason
		}
		return Removed, "gone, and no replacement seen"
	}
	if was == nil {
		return NotChecked, "the campaign's snapshot does not hold it, so there is nothing to compare with"
	}
	switch kind {
	case audit.KindGitHubDeployKey:
		return NotRotated, fmt.Sprintf("the same key (fingerprint %s) is still there", audit.Printable(now.Attributes["fingerprint"]))
	case audit.KindGitHubFineGrainedPAT, audit.KindGitHubPATRequest:
		if a, b := was.Attributes["token_id"], now.Attributes["token_id"]; a != b {
			return Rotated, fmt.Sprintf("a new token (token_id %s, was %s)", audit.Printable(b), audit.Printable(a))
		}
		if !sameTime(was.ExpiresAt, now.ExpiresAt) {
			return Rotated, "regenerated: its expiry changed from " + timeText(was.ExpiresAt) + " to " + timeText(now.ExpiresAt)
		}
		return NotRotated, "same token_id and expiry (" + timeText(now.ExpiresAt) + ")"
	}
	if now.RotatedAt == nil {
		return NotChecked, fmt.Sprintf("the source does not say when a %s was last rotated", kind.Label())
	}
	if now.RotatedAt.After(rc.since) {
		return Rotated, "updated_at " + now.RotatedAt.UTC().Format(time.RFC3339) + ", after " + since
	}
	return NotRotated, "last rotated " + now.RotatedAt.UTC().Format(time.RFC3339) + ", not after " + since
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b)
}

func timeText(t *time.Time) string {
	if t == nil {
		return "none"
	}
	return t.UTC().Format(time.RFC3339)
}
