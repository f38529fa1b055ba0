package github

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/nhi-audit/nhi/audit"
)

// What a webhook and a deploy key may keep: nothing here leaves secret
// material in an Observation.

// fingerprint is the OpenSSH SHA256 fingerprint of an authorized_keys line
// ("ssh-ed25519 AAAA... comment"), and its key type.
func fingerprint(key string) (typ, fp string, ok bool) {
	f := strings.Fields(key)
	if len(f) < 2 {
		return "", "", false
	}
	blob, err := base64.StdEncoding.DecodeString(f[1])
	if err != nil || len(blob) == 0 {
		return "", "", false
	}
	sum := sha256.Sum256(blob)
	return f[0], "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:]), true
}

func (c *Connector) hookObservation(owner, scope string, h *github.Hook) audit.Observation {
	cfg := h.GetConfig()
	attrs := map[string]string{
		"active":       strconv.FormatBool(h.GetActive()),
		"insecure_ssl": cfg.GetInsecureSSL(),
		"content_type": cfg.GetContentType(),
		// Only whether there is one: the value (GitHub masks it, but a
		// proxy or another server might not) is never read further.
		"has_secret": strconv.FormatBool(cfg.GetSecret() != ""),
		"events":     strings.Join(h.Events, ","),
	}
	name := fmt.Sprintf("hook %d", h.GetID())
	if raw := cfg.GetURL(); raw != "" {
		u, host, redacted := redactURL(raw)
		attrs["url"] = u
		if redacted {
			attrs["url_redacted"] = "true"
		}
		if host != "" {
			name = host
		}
	}
	if h.UpdatedAt != nil {
		attrs["updated_at"] = h.UpdatedAt.UTC().Format(time.RFC3339)
	}
	if status, ok := h.LastResponse["status"].(string); ok && status != "" {
		attrs["last_response"] = status
	}
	if code, ok := h.LastResponse["code"].(float64); ok && code != 0 {
		attrs["last_response_code"] = strconv.Itoa(int(code))
	}
	return audit.Observation{
		ID:         c.id(audit.KindGitHubWebhook, owner+"/"+strconv.FormatInt(h.GetID(), 10)),
		Kind:       audit.KindGitHubWebhook,
		Name:       name,
		Scope:      scope,
		CreatedAt:  timePtr(h.CreatedAt),
		Attributes: attrs,
	}
}

// timePtr is t in UTC, or nil when GitHub gave none.
func timePtr(t *github.Timestamp) *time.Time {
	if t == nil || t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}
