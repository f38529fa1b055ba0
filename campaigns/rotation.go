package campaigns

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
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
	// A rotation proves something only after since. A review campaign's
	// since is its snapshot's start, a moment; an offboarding's is the
	// day the person left, which has no hour: until ends that day, and a
	// rotation within it may have come before they left, so it proves
	// nothing either way (not checked). until equals since for a moment.
	since, until time.Time
	day          string                     // the effective day, for an offboarding; "" for a moment
	dayIs        string                     // what day is: "the day they left", "the effective date"
	before       map[string]*audit.Identity // the identities as the campaign reviewed them
	after        map[string]*audit.Identity // the later snapshot's, by ID
	// keysByScope are the later snapshot's deploy keys, by repository.
	keysByScope map[string][]*audit.Identity
	cov         looker
}

// looker says whether a snapshot read where an identity of a kind lives
// (audit.Coverage.Looked, or renamedCoverage's).
type looker interface {
	Looked(kind audit.Kind, scope string) (bool, string)
}

func newRotationCheck(since time.Time, before, after []audit.Identity, cov looker) *rotationCheck {
	rc := &rotationCheck{since: since, until: since, before: map[string]*audit.Identity{}, after: map[string]*audit.Identity{},
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
	since := rc.reference()
	if now == nil {
		if kind == audit.KindGitHubDeployKey && was != nil {
			// A deploy key cannot be changed, only replaced: a new key
			// under the same title with another fingerprint. New: created
			// after the reference time, or, where the source does not say
			// when, not in the campaign's snapshot; a second key the
			// repository already had under that title replaced nothing.
			var sameDay *audit.Identity
			for _, k := range rc.keysByScope[scope] {
				if k.Name != was.Name || k.Attributes["fingerprint"] == "" || k.Attributes["fingerprint"] == was.Attributes["fingerprint"] {
					continue
				}
				switch rc.newKey(k) {
				case whenAfter:
					return Rotated, fmt.Sprintf("replaced by %s (same title, fingerprint %s)", k.ID, audit.Printable(k.Attributes["fingerprint"]))
				case whenWithin:
					sameDay = k
				}
			}
			if sameDay != nil {
				return NotChecked, fmt.Sprintf("replaced by %s (same title, fingerprint %s), created %s, on %s, %s, whose hour is not known: it may have come before they left",
					sameDay.ID, audit.Printable(sameDay.Attributes["fingerprint"]), sameDay.CreatedAt.UTC().Format(time.RFC3339), rc.day, rc.dayIs)
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
		return NotRotated, "the same key" + fingerprintText(now) + " is still there"
	case audit.KindGitHubFineGrainedPAT, audit.KindGitHubPATRequest:
		if a, b := was.Attributes["token_id"], now.Attributes["token_id"]; a != b {
			return Rotated, fmt.Sprintf("a new token (token_id %s, was %s)", audit.Printable(b), audit.Printable(a))
		}
		// An expiry its source left unsaid (an import's empty expires_at)
		// is not "none": it cannot show the token the same.
		for _, x := range []*audit.Identity{was, now} {
			if x.ExpiresAt == nil && x.Attributes[audit.AttrExpiryUnknown] == "true" {
				return NotChecked, "its expiry was not reported (" + audit.AttrExpiryUnknown + "), so whether it was regenerated is not known"
			}
		}
		if !sameTime(was.ExpiresAt, now.ExpiresAt) {
			return Rotated, "regenerated: its expiry changed from " + timeText(was.ExpiresAt) + " to " + timeText(now.ExpiresAt)
		}
		return NotRotated, "same token_id and expiry (" + timeText(now.ExpiresAt) + ")"
	}
	if now.RotatedAt == nil {
		// Recorded in campaign.verify's not_checked_why, which replay and
		// verify do not compare: events written before "an" came keep
		// "a SSO credential" and still verify.
		return NotChecked, "the source does not say when " + kind.WithArticle() + " was last rotated"
	}
	at := now.RotatedAt.UTC().Format(time.RFC3339)
	switch rc.when(*now.RotatedAt) {
	case whenAfter:
		return Rotated, "updated_at " + at + ", after " + since
	case whenWithin:
		return NotChecked, "updated_at " + at + ", on " + rc.day + ", " + rc.dayIs + ", whose hour is not known: it may have come before they left"
	}
	return NotRotated, "last rotated " + at + ", not after " + since
}

// When a change came, against the reference time.
const (
	whenBefore = iota // at or before it: no rotation
	whenWithin        // on the day the person left, whose hour is not known
	whenAfter         // after it: a rotation
)

// when places t against the reference time.
func (rc *rotationCheck) when(t time.Time) int {
	switch {
	case !t.Before(rc.until) && t.After(rc.since):
		return whenAfter
	case t.After(rc.since):
		return whenWithin
	}
	return whenBefore
}

// reference is the reference time in words: the moment, or the end of
// the day the person left.
func (rc *rotationCheck) reference() string {
	if rc.day != "" {
		return "the end of " + rc.day + " (UTC), " + rc.dayIs
	}
	return rc.since.UTC().Format(time.RFC3339)
}

// newKey says when deploy key k came against the reference time: by its
// created_at, or, without one, after it when the campaign's snapshot did
// not hold it.
func (rc *rotationCheck) newKey(k *audit.Identity) int {
	if k.CreatedAt != nil {
		return rc.when(*k.CreatedAt)
	}
	if rc.before[k.ID] == nil {
		return whenAfter
	}
	return whenBefore
}

// fingerprintText names key k's fingerprint, " (fingerprint SHA256:…)",
// or nothing where the snapshot recorded none: never an empty one.
func fingerprintText(k *audit.Identity) string {
	if fp := k.Attributes["fingerprint"]; fp != "" {
		return " (fingerprint " + audit.Printable(fp) + ")"
	}
	return ""
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

// maxReplacement bounds the name of a replacement key: an identity ID, a
// key ID or a fingerprint, never a key itself.
const maxReplacement = 300

// ErrBadReplacement refuses a replacement that cannot be one.
var ErrBadReplacement = errors.New("bad replacement")

// RotateReplacing records a rotate decision on deploy key id that names
// its replacement: an identity ID, the key's ID at the source or its
// fingerprint (SHA256:…), as the reviewer knows it. Verification then
// looks for that exact key in the same repository, and for the old one
// gone (docs/offboarding.md, "Proof"). The other rules of Decide apply.
func RotateReplacing(ctx context.Context, st *audit.Store, actor, campaign, id, reason, replacement string) (*Outcome, error) {
	replacement = strings.TrimSpace(replacement)
	if replacement == "" {
		return Decide(ctx, st, actor, campaign, id, Rotate, reason)
	}
	out, err := decideEach(ctx, st, actor, campaign, []string{id}, Rotate, reason, false, func(p *DecidePayload) { p.Replacement = replacement })
	if err != nil {
		return nil, err
	}
	return &out[0], nil
}

// checkReplacement refuses a replacement named for anything but the
// rotation of a deploy key, one that names the key being rotated, and
// text that cannot name a key.
func checkReplacement(it *frozen, d Decision, replacement string) error {
	switch {
	case d != Rotate:
		return fmt.Errorf("%w: only a rotate decision names a replacement, not %s", ErrBadReplacement, d)
	case audit.Kind(it.kind) != audit.KindGitHubDeployKey:
		return fmt.Errorf("%w: %s is %s; only a deploy key is replaced by another key (a secret or token is rotated in place)",
			ErrBadReplacement, audit.Printable(it.id), audit.Kind(it.kind).WithArticle())
	case len(replacement) > maxReplacement || strings.ContainsAny(replacement, " \t\r\n") || audit.Printable(replacement) != replacement:
		return fmt.Errorf("%w %q: name the new key by its ID (e.g. %s) or its fingerprint (SHA256:…)", ErrBadReplacement, audit.Printable(replacement), audit.Printable(it.id))
	case replacement == it.id || strings.HasSuffix(it.id, ":"+replacement) || strings.HasSuffix(it.id, "/"+replacement):
		return fmt.Errorf("%w: %s is the key being rotated; name the new key", ErrBadReplacement, audit.Printable(replacement))
	}
	return nil
}

// namesKey reports whether replacement names deploy key k: its identity
// ID, its key within the source ("api/123"), its ID at GitHub ("123", the
// last part of the identity ID: keys are compared within one repository)
// or its fingerprint.
func namesKey(k *audit.Identity, replacement string) bool {
	if replacement == "" {
		return false
	}
	if k.ID == replacement || strings.HasSuffix(k.ID, ":"+replacement) || strings.HasSuffix(k.ID, "/"+replacement) {
		return true
	}
	fp := k.Attributes["fingerprint"]
	return fp != "" && (fp == replacement || strings.TrimPrefix(fp, "SHA256:") == strings.TrimPrefix(replacement, "SHA256:"))
}

// judgeReplacement says whether deploy key id was replaced by the key the
// reviewer named: that key is in its repository and the old one is gone.
// Otherwise it says which part failed.
func (rc *rotationCheck) judgeReplacement(id, cur, scope, replacement string) (state, why string) {
	var named *audit.Identity
	for _, k := range rc.keysByScope[scope] {
		if k.ID != cur && namesKey(k, replacement) {
			named = k
			break
		}
	}
	old := rc.after[cur]
	if named == nil || old != nil {
		if looked, reason := rc.cov.Looked(audit.KindGitHubDeployKey, scope); !looked {
			return NotChecked, reason
		}
	}
	name := audit.Printable(replacement)
	switch {
	case named != nil && old == nil:
		return Rotated, fmt.Sprintf("replaced by the named key %s%s; the old key is gone", named.ID, fingerprintText(named))
	case named != nil:
		return NotRotated, fmt.Sprintf("the named replacement %s is there, but the old key%s is still present", named.ID, fingerprintText(old))
	case old == nil:
		return NotRotated, fmt.Sprintf("the old key is gone, but the named replacement %s is not in %s", name, audit.Printable(scope))
	}
	return NotRotated, fmt.Sprintf("neither: the old key%s is still present and the named replacement %s is not in %s",
		fingerprintText(old), name, audit.Printable(scope))
}

// decidedReplacement is the replacement the decision event seq names; ""
// when it names none (or is a confirmation or bulk decision, which never
// do).
func decidedReplacement(ctx context.Context, st *audit.Store, seq int64) (string, error) {
	if seq == 0 {
		return "", nil
	}
	ev, err := st.EventAt(ctx, seq)
	if err != nil {
		return "", fmt.Errorf("reading decision event %d: %w", seq, err)
	}
	if ev.Type != EventDecide {
		return "", nil
	}
	var d DecidePayload
	if err := json.Unmarshal(ev.Payload, &d); err != nil {
		return "", fmt.Errorf("decision event %d: %w", seq, err)
	}
	return d.Replacement, nil
}
