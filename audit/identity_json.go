package audit

import (
	"encoding/json"
	"time"
)

// identityJSON is the stable JSON shape scripts read from
// `nhi identities --json`: add fields, never rename or remove one.
type identityJSON struct {
	ID          string            `json:"id"`
	Kind        Kind              `json:"kind"`
	Source      string            `json:"source"`
	Account     string            `json:"account"`
	Name        string            `json:"name"`
	Scope       string            `json:"scope"`
	Owner       *string           `json:"owner"`
	Suggested   []OwnerSuggestion `json:"suggested_owners"`
	CreatedAt   *string           `json:"created_at"`
	LastUsedAt  *string           `json:"last_used_at"`
	RotatedAt   *string           `json:"rotated_at"`
	ExpiresAt   *string           `json:"expires_at"`
	Permissions map[string]string `json:"permissions"`
	Attributes  map[string]string `json:"attributes"`
	Findings    []Finding         `json:"findings"`
	Status      string            `json:"status"`
	StatusWhy   string            `json:"status_reason,omitempty"`
	Change      string            `json:"change,omitempty"`
	FirstSeen   *string           `json:"first_seen"`
	LastSeen    *string           `json:"last_seen"`
}

// MarshalJSON writes the identity in its documented JSON shape: timestamps
// RFC 3339 UTC or null, an absent owner null, maps and findings never null.
func (i Identity) MarshalJSON() ([]byte, error) {
	j := identityJSON{
		ID: i.ID, Kind: i.Kind, Source: i.Source, Account: i.Account, Name: i.Name, Scope: i.Scope,
		CreatedAt: jsonTime(i.CreatedAt), LastUsedAt: jsonTime(i.LastUsedAt),
		RotatedAt: jsonTime(i.RotatedAt), ExpiresAt: jsonTime(i.ExpiresAt),
		Permissions: i.Permissions, Attributes: i.Attributes, Findings: i.Findings,
		Status: i.Status, StatusWhy: i.StatusReason, Change: i.Change, FirstSeen: jsonTime(&i.FirstSeen), LastSeen: jsonTime(&i.LastSeen),
	}
	if i.Owner != "" {
		j.Owner = &i.Owner
	}
	if j.Permissions == nil {
		j.Permissions = map[string]string{}
	}
	if j.Attributes == nil {
		j.Attributes = map[string]string{}
	}
	if j.Suggested = i.Suggestions; j.Suggested == nil {
		j.Suggested = []OwnerSuggestion{}
	}
	if j.Findings == nil {
		j.Findings = []Finding{}
	}
	return json.Marshal(j)
}

func jsonTime(t *time.Time) *string {
	if t == nil || t.IsZero() {
		return nil
	}
	s := t.UTC().Format(time.RFC3339)
	return &s
}
