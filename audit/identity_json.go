package audit

import (
	"encoding/json"
	"slices"
	"strings"
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
	NotRead     []NotRead         `json:"not_read"`
	Status      string            `json:"status"`
	StatusWhy   string            `json:"status_reason,omitempty"`
	Change      string            `json:"change,omitempty"`
	FirstSeen   *string           `json:"first_seen"`
	LastSeen    *string           `json:"last_seen"`
}

// MarshalJSON writes the identity in its documented JSON shape: timestamps
// RFC 3339 UTC or null, an absent owner null, maps and findings never null;
// not_read lists what the source did not tell nhi (NotReadOf), [] when
// nothing, so an empty permissions map or no last use there is not none.
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
	if j.NotRead = NotReadOf(&i.Observation); j.NotRead == nil {
		j.NotRead = []NotRead{}
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

// IdentityJSON writes identities in the shape MarshalJSON gives them,
// already indented: Append's bytes are exactly json.MarshalIndent's of the
// identity with the same prefix and indent. MarshalIndent runs MarshalJSON,
// then compacts and re-indents what it wrote, half the CPU of
// `nhi identities --json` at a million identities (issue 21); this writes
// each byte once into the caller's buffer. Strings are escaped as
// json.Marshal escapes them (AppendJSONString with html), map keys sorted
// as it sorts them. MarshalJSON stays the reference: TestIdentityJSONIs-
// MarshalIndent and FuzzIdentityJSON hold the two to the same bytes.
//
// An IdentityJSON reuses its scratch space from one identity to the next:
// one per goroutine.
type IdentityJSON struct {
	nl   [5]string // newline, prefix and depth indents, by depth
	keys []string  // a map's keys, sorted
}

// NewIdentityJSON writes as json.MarshalIndent(id, prefix, indent) writes.
func NewIdentityJSON(prefix, indent string) *IdentityJSON {
	w := &IdentityJSON{}
	for d := range w.nl {
		w.nl[d] = "\n" + prefix + strings.Repeat(indent, d)
	}
	return w
}

// Append appends the identity, from its opening brace to its closing one,
// with no newline after.
func (w *IdentityJSON) Append(b []byte, i *Identity) []byte {
	b = append(b, '{')
	b = w.str(b, 1, "id", i.ID)
	b = append(b, ',')
	b = w.str(b, 1, "kind", string(i.Kind))
	b = append(b, ',')
	b = w.str(b, 1, "source", i.Source)
	b = append(b, ',')
	b = w.str(b, 1, "account", i.Account)
	b = append(b, ',')
	b = w.str(b, 1, "name", i.Name)
	b = append(b, ',')
	b = w.str(b, 1, "scope", i.Scope)
	b = append(b, ',')
	b = w.key(b, 1, "owner")
	if i.Owner == "" {
		b = append(b, "null"...)
	} else {
		b = AppendJSONString(b, i.Owner, true)
	}
	b = append(b, ',')
	b = w.objects(b, "suggested_owners", len(i.Suggestions), func(b []byte, n int) []byte {
		s := &i.Suggestions[n]
		b = w.str(b, 3, "owner", s.Owner)
		b = append(b, ',')
		return w.str(b, 3, "source", s.Source)
	})
	b = append(b, ',')
	b = w.time(b, "created_at", i.CreatedAt)
	b = append(b, ',')
	b = w.time(b, "last_used_at", i.LastUsedAt)
	b = append(b, ',')
	b = w.time(b, "rotated_at", i.RotatedAt)
	b = append(b, ',')
	b = w.time(b, "expires_at", i.ExpiresAt)
	b = append(b, ',')
	b = w.strMap(b, "permissions", i.Permissions)
	b = append(b, ',')
	b = w.strMap(b, "attributes", i.Attributes)
	b = append(b, ',')
	b = w.objects(b, "findings", len(i.Findings), func(b []byte, n int) []byte {
		f := &i.Findings[n]
		b = w.str(b, 3, "rule", f.Rule)
		b = append(b, ',')
		b = w.str(b, 3, "severity", f.Severity)
		b = append(b, ',')
		b = w.str(b, 3, "owasp", f.OWASP)
		b = append(b, ',')
		return w.str(b, 3, "message", f.Message)
	})
	b = append(b, ',')
	nr := NotReadOf(&i.Observation)
	b = w.objects(b, "not_read", len(nr), func(b []byte, n int) []byte {
		b = w.str(b, 3, "what", nr[n].What)
		b = append(b, ',')
		b = w.str(b, 3, "marker", nr[n].Marker)
		b = append(b, ',')
		return w.str(b, 3, "why", nr[n].Why)
	})
	b = append(b, ',')
	b = w.str(b, 1, "status", i.Status)
	if i.StatusReason != "" {
		b = append(b, ',')
		b = w.str(b, 1, "status_reason", i.StatusReason)
	}
	if i.Change != "" {
		b = append(b, ',')
		b = w.str(b, 1, "change", i.Change)
	}
	b = append(b, ',')
	b = w.time(b, "first_seen", &i.FirstSeen)
	b = append(b, ',')
	b = w.time(b, "last_seen", &i.LastSeen)
	b = append(b, w.nl[0]...)
	return append(b, '}')
}

// key starts a member at depth d: the line's indent, the name and ": ".
// The names are the shape's own, none of which needs escaping.
func (w *IdentityJSON) key(b []byte, d int, name string) []byte {
	b = append(b, w.nl[d]...)
	b = append(b, '"')
	b = append(b, name...)
	return append(b, '"', ':', ' ')
}

func (w *IdentityJSON) str(b []byte, d int, name, v string) []byte {
	return AppendJSONString(w.key(b, d, name), v, true)
}

// time is jsonTime's form: RFC 3339 in UTC, or null for none or zero.
func (w *IdentityJSON) time(b []byte, name string, t *time.Time) []byte {
	b = w.key(b, 1, name)
	if t == nil || t.IsZero() {
		return append(b, "null"...)
	}
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, time.RFC3339)
	return append(b, '"')
}

// objects is a list member at depth 1 of n objects, [] when n is 0;
// fields writes the n-th object's members at depth 3, between the braces
// objects writes.
func (w *IdentityJSON) objects(b []byte, name string, n int, fields func(b []byte, n int) []byte) []byte {
	b = w.key(b, 1, name)
	if n == 0 {
		return append(b, '[', ']')
	}
	b = append(b, '[')
	for k := range n {
		if k > 0 {
			b = append(b, ',')
		}
		b = append(b, w.nl[2]...)
		b = append(b, '{')
		b = fields(b, k)
		b = append(b, w.nl[2]...)
		b = append(b, '}')
	}
	b = append(b, w.nl[1]...)
	return append(b, ']')
}

// strMap is a map member at depth 1, its keys in encoding/json's order
// (byte order of the keys), {} when empty or nil.
func (w *IdentityJSON) strMap(b []byte, name string, m map[string]string) []byte {
	b = w.key(b, 1, name)
	if len(m) == 0 {
		return append(b, '{', '}')
	}
	w.keys = w.keys[:0]
	for k := range m {
		w.keys = append(w.keys, k)
	}
	slices.Sort(w.keys)
	b = append(b, '{')
	for n, k := range w.keys {
		if n > 0 {
			b = append(b, ',')
		}
		b = append(b, w.nl[2]...)
		b = AppendJSONString(b, k, true)
		b = append(b, ':', ' ')
		b = AppendJSONString(b, m[k], true)
	}
	b = append(b, w.nl[1]...)
	return append(b, '}')
}
