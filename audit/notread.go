package audit

import (
	"time"
)

// NotRead is one thing an identity's source did not tell nhi of it, as
// every view that shows the identity says it (docs/filter.md, "What was
// not read"): where a value is empty because it was not read, the view
// says "not read" and why, never "none", "never" or a dash.
type NotRead struct {
	// What was not read: "permissions", "trust", "last_used", "tags",
	// "expiry", "rotation". Stable: scripts read it (nhi identities
	// --json).
	What string `json:"what"`
	// Marker is the attribute that says so: policies_unknown,
	// trust_unknown, last_used_unknown, tags_unknown, expires_unknown,
	// rotated_unknown.
	Marker string `json:"marker"`
	// Why is what nhi knows of why, and what that leaves unknown, in
	// plain words.
	Why string `json:"why"`
}

// What a NotRead names.
const (
	NotReadPermissions = "permissions"
	NotReadTrust       = "trust"
	NotReadLastUse     = "last_used"
	NotReadTags        = "tags"
	NotReadExpiry      = "expiry"
	NotReadRotation    = "rotation"
)

// NotReadAdvice is what to do about what was not read, in the words
// campaign create's warning uses.
const NotReadAdvice = "give the credential what it lacks and snapshot again"

// Attributes a connector records beside a mark of what was not read,
// which say more of why (connectors/aws, connectors/kubernetes).
const (
	attrPoliciesUnreadable = "policies_unreadable" // AWS: the policies whose documents were not read
	attrPermissionsUnknown = "permissions_unknown" // Kubernetes: the roles or bindings not read
)

// NotReadOf lists what the source did not tell nhi of o, in a fixed
// order: permissions, trust, last use, tags, expiry, rotation. Nil when it told
// everything it keeps.
func NotReadOf(o *Observation) []NotRead {
	a := o.Attributes
	if len(a) == 0 {
		return nil
	}
	var out []NotRead
	if a[AttrPoliciesUnknown] == "true" {
		why := "what it is granted was not read (a gap of its snapshot), so no permission listed is not none"
		switch {
		case a[attrPoliciesUnreadable] != "":
			why = "the documents of its policies " + a[attrPoliciesUnreadable] + " are empty, do not parse or were not listed, so what it is granted is not known whole"
		case a[attrPermissionsUnknown] != "":
			why = "its roles or role bindings were not all read (" + a[attrPermissionsUnknown] + "), so what it is granted is not known whole"
		}
		out = append(out, NotRead{NotReadPermissions, AttrPoliciesUnknown, why})
	}
	if a[AttrTrustUnknown] == "true" {
		why := "who may assume it was not read (its trust policy is empty or does not parse): no trusted principal is not nobody"
		if o.Kind == KindX509Certificate {
			why = "whether it chains to a trusted root is not known: the machine that read it trusts no root (no CA bundle)"
		}
		out = append(out, NotRead{NotReadTrust, AttrTrustUnknown, why})
	}
	if a[AttrLastUseUnknown] == "true" && o.LastUsedAt == nil {
		why := "its last use was not read (a gap of its snapshot): whether and when it was used is not known"
		if since, err := time.Parse(time.RFC3339, a[AttrUseTrackedSince]); err == nil && o.CreatedAt != nil && o.CreatedAt.Before(since) {
			why = "none recorded since " + since.UTC().Format(time.DateOnly) + ", when its source's record of use begins; older use is not recorded"
		} else if a[AttrUseTrackedSince] != "" {
			why = "its source does not say since when it records use: whether it was used is not known"
		}
		out = append(out, NotRead{NotReadLastUse, AttrLastUseUnknown, why})
	}
	if a[AttrTagsUnknown] == "true" {
		out = append(out, NotRead{NotReadTags, AttrTagsUnknown, "its tags were not read (a gap of its snapshot), so no tag is not none, and they suggest no owner"})
	}
	if a[AttrExpiryUnknown] == "true" && o.ExpiresAt == nil {
		out = append(out, NotRead{NotReadExpiry, AttrExpiryUnknown, "its source did not say when it expires: whether it does is not known"})
	}
	if a[AttrRotationUnknown] == "true" && o.RotatedAt == nil {
		out = append(out, NotRead{NotReadRotation, AttrRotationUnknown, "its source did not say when its secret material last changed: whether it was rotated is not known"})
	}
	return out
}

// NotReadWhat is the What of each of nr, in order.
func NotReadWhat(nr []NotRead) []string {
	out := make([]string, len(nr))
	for i, n := range nr {
		out[i] = n.What
	}
	return out
}
