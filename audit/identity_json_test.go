package audit_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/audit"
)

// jsonIdentities are identities whose every text is one of the string
// cases (quotes, <, >, &, control bytes, U+2028, invalid UTF-8), as a value
// and as a map key, beside the shape's empty forms: no owner, nil and empty
// maps and lists, nil and zero times, a time in another zone, the optional
// members absent and present.
func jsonIdentities() []audit.Identity {
	paris := time.FixedZone("CET", 3600)
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 600, paris)
	var zero time.Time
	ids := []audit.Identity{{}, {
		Observation: audit.Observation{ID: "github:acme:github_deploy_key:1", Kind: audit.KindGitHubDeployKey, Name: "deploy",
			Scope: "acme/api", CreatedAt: &t0, LastUsedAt: &zero, Permissions: map[string]string{}, Attributes: map[string]string{"b": "2", "a": "1", "B": "0"}},
		Source: "github", Account: "acme", Owner: "alice@example.com", Status: audit.StatusActive, Change: "new",
		Suggestions: []audit.OwnerSuggestion{}, Findings: []audit.Finding{}, FirstSeen: t0, LastSeen: t0.Add(time.Hour),
	}}
	for _, s := range jsonCases() {
		ids = append(ids, audit.Identity{
			Observation: audit.Observation{ID: s, Kind: audit.Kind(s), Name: s, Scope: s, RotatedAt: &t0, ExpiresAt: &t0,
				Permissions: map[string]string{s: s, "contents": "write"}, Attributes: map[string]string{s + "x": s, "z": s}},
			Source: s, Account: s, Owner: s, Status: s, StatusReason: s, Change: s,
			Suggestions: []audit.OwnerSuggestion{{Owner: s, Source: s}, {Owner: "bob", Source: "added the key"}},
			Findings:    []audit.Finding{{Rule: s, Severity: s, OWASP: s, Message: s}, {Rule: "stale"}},
			FirstSeen:   t0,
		})
	}
	return ids
}

func checkIdentityJSON(t *testing.T, id *audit.Identity) {
	t.Helper()
	for _, f := range [][2]string{{"  ", "  "}, {"", "\t"}, {"", ""}} {
		want, err := json.MarshalIndent(id, f[0], f[1])
		if err != nil {
			t.Fatal(err)
		}
		if got := audit.NewIdentityJSON(f[0], f[1]).Append([]byte("x"), id); !bytes.Equal(got[1:], want) || got[0] != 'x' {
			t.Errorf("prefix %q indent %q, %q:\n got %s\nwant %s (json.MarshalIndent)", f[0], f[1], id.ID, got, want)
		}
	}
}

// TestIdentityJSONIsMarshalIndent: IdentityJSON, which nhi identities
// --json writes with, escapes and orders as encoding/json does, byte for
// byte what json.MarshalIndent writes of the identity's MarshalJSON.
func TestIdentityJSONIsMarshalIndent(t *testing.T) {
	ids := jsonIdentities()
	for i := range ids {
		checkIdentityJSON(t, &ids[i])
	}
	// One writer, reused, writes each as a new one would.
	w := audit.NewIdentityJSON("  ", "  ")
	var b []byte
	for i := range ids {
		b = w.Append(b[:0], &ids[i])
		if want, _ := json.MarshalIndent(&ids[i], "  ", "  "); !bytes.Equal(b, want) {
			t.Fatalf("reused writer, identity %d:\n got %s\nwant %s", i, b, want)
		}
	}
}

func FuzzIdentityJSON(f *testing.F) {
	for _, s := range jsonCases() {
		f.Add(s, "contents", "write", "key of "+s)
	}
	f.Fuzz(func(t *testing.T, name, key, value, message string) {
		now := time.Unix(int64(len(name))*86400*365, 0)
		id := audit.Identity{
			Observation: audit.Observation{ID: name + ":" + key, Name: name, Scope: value, LastUsedAt: &now,
				Permissions: map[string]string{key: value}, Attributes: map[string]string{value: key, name: message, key: name}},
			Owner: value, Status: message, StatusReason: key, Change: name,
			Suggestions: []audit.OwnerSuggestion{{Owner: key, Source: message}},
			Findings:    []audit.Finding{{Rule: name, Message: message}},
			LastSeen:    now,
		}
		checkIdentityJSON(t, &id)
	})
}

// BenchmarkIdentityJSON writes one identity of the sample's shape (seven
// attributes, five findings) the ways nhi identities --json could:
// MarshalIndent (marshal, compact, indent), MarshalJSON and one
// json.Indent, an Encoder with SetIndent, and IdentityJSON.
func BenchmarkIdentityJSON(b *testing.B) {
	t0 := time.Date(2025, 10, 28, 10, 23, 2, 0, time.UTC)
	id := &audit.Identity{
		Observation: audit.Observation{ID: "aws:111111111111:aws_access_key:AKIAMGMTDANA00000001", Kind: audit.KindAWSAccessKey,
			Name: "AKIAMGMTDANA00000001", Scope: "111111111111", CreatedAt: &t0, LastUsedAt: &t0, RotatedAt: &t0,
			Attributes: map[string]string{"grants": "AdministratorAccess", "last_used_region": "eu-west-1", "last_used_service": "iam",
				"status": "Active", "user": "dana", "user_active_access_keys": "1", "user_password_enabled": "true"}},
		Source: "aws", Account: "111111111111", Status: audit.StatusActive, FirstSeen: t0, LastSeen: t0,
		Findings: []audit.Finding{{Rule: "orphaned", Severity: "high", OWASP: "NHI1", Message: "no owner recorded"},
			{Rule: "overprivileged", Severity: "high", OWASP: "NHI5", Message: "grants AdministratorAccess"},
			{Rule: "unrotated", Severity: "medium", OWASP: "NHI7", Message: "key created 2025-10-28, 400 days ago, never rotated; policy: 90"},
			{Rule: "no-expiry", Severity: "medium", OWASP: "NHI7", Message: "IAM access keys never expire: this one works until someone deletes or deactivates it"},
			{Rule: "human-credential", Severity: "medium", OWASP: "NHI10", Message: "key of dana, a user who also signs in to the console with a password"}},
	}
	b.Run("MarshalIndent", func(b *testing.B) {
		for b.Loop() {
			if _, err := json.MarshalIndent(id, "  ", "  "); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("MarshalJSON+Indent", func(b *testing.B) {
		var buf bytes.Buffer
		for b.Loop() {
			raw, err := id.MarshalJSON()
			if err != nil {
				b.Fatal(err)
			}
			buf.Reset()
			if err := json.Indent(&buf, raw, "  ", "  "); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Encoder.SetIndent", func(b *testing.B) {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetIndent("  ", "  ")
		for b.Loop() {
			buf.Reset()
			if err := enc.Encode(id); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("IdentityJSON", func(b *testing.B) {
		w := audit.NewIdentityJSON("  ", "  ")
		var buf []byte
		for b.Loop() {
			buf = w.Append(buf[:0], id)
		}
	})
}
