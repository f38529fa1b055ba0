package audit

import (
	"strings"
	"time"

	"github.com/nhi-audit/nhi/filter"
)

// Vocabulary is what the filter language (package filter, docs/filter.md)
// checks identity filters against: compile them with
// filter.Parse(expr, audit.Vocabulary).
var Vocabulary = &filter.Vocabulary{
	Kinds:      kindNames(),
	Rules:      Rules,
	Severities: Severities,
	Statuses:   []string{StatusActive, StatusRemoved, StatusNotChecked},
	FreeKinds:  ImportKindPrefix,
	Printable:  Printable,
}

func kindNames() []string {
	names := make([]string, len(Kinds))
	for i, k := range Kinds {
		names[i] = string(k)
	}
	return names
}

// An *Identity is what identity filters match.
var _ filter.Subject = (*Identity)(nil)

// FilterText implements filter.Subject.
func (id *Identity) FilterText(f filter.Field) string {
	switch f {
	case filter.ID:
		return id.ID
	case filter.Kind:
		return string(id.Kind)
	case filter.Name:
		return id.Name
	case filter.Scope:
		return id.Scope
	case filter.Owner:
		return id.Owner
	case filter.Source:
		return id.Source
	case filter.Account:
		return id.Account
	case filter.Status:
		return id.Status
	}
	return ""
}

// FilterTime implements filter.Subject.
func (id *Identity) FilterTime(f filter.Field) *time.Time {
	switch f {
	case filter.LastUsed:
		return id.LastUsedAt
	case filter.Created:
		return id.CreatedAt
	case filter.Rotated:
		return id.RotatedAt
	case filter.Expires:
		return id.ExpiresAt
	}
	return nil
}

// FilterMap implements filter.Subject.
func (id *Identity) FilterMap(f filter.Field) map[string]string {
	switch f {
	case filter.Attributes:
		return id.Attributes
	case filter.Permissions:
		return id.Permissions
	}
	return nil
}

// FilterFinding implements filter.Subject.
func (id *Identity) FilterFinding(i int) (rule, severity string, ok bool) {
	if i < 0 || i >= len(id.Findings) {
		return "", "", false
	}
	return id.Findings[i].Rule, id.Findings[i].Severity, true
}

// Unread says, of an identity with attributes attrs, whether its value of
// the map field f under key was not read (filter.Subject's FilterUnread):
// any permission when its policies were not (AttrPoliciesUnknown), a tag
// ("tag.…" attribute) when its tags were not (AttrTagsUnknown), and its
// findings when what a rule reads was not: its policies (overprivileged),
// its trust policy (broad-trust, third-party; AttrTrustUnknown) or its
// last use (stale; AttrLastUseUnknown); and, of Expires, whether no
// expiry is because it was not read (AttrExpiresUnknown).
func Unread(attrs map[string]string, f filter.Field, key string) bool {
	switch f {
	case filter.Permissions:
		return attrs[AttrPoliciesUnknown] == "true"
	case filter.Attributes:
		return attrs[AttrTagsUnknown] == "true" && (key == "" || strings.HasPrefix(strings.ToLower(key), "tag."))
	case filter.Findings:
		return attrs[AttrPoliciesUnknown] == "true" || attrs[AttrTrustUnknown] == "true" || attrs[AttrLastUseUnknown] == "true"
	case filter.Expires:
		return attrs[AttrExpiresUnknown] == "true"
	}
	return false
}

// UnreadMarks are the attributes Unread reads: a reader that holds an
// identity's attributes otherwise than as a map (the TUI's rows) gives it
// these alone.
var UnreadMarks = []string{AttrPoliciesUnknown, AttrTagsUnknown, AttrTrustUnknown, AttrLastUseUnknown, AttrExpiresUnknown}

// FilterUnread implements filter.Subject.
func (id *Identity) FilterUnread(f filter.Field, key string) bool {
	return Unread(id.Attributes, f, key)
}

// FilterTracksLastUse implements filter.Subject.
func (id *Identity) FilterTracksLastUse() bool {
	return ReportsLastUse(id.Kind, id.Attributes[AttrLastUseUnknown])
}
