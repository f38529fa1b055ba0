package github

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/url"
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

// tokenPaths are hosts whose webhook URLs carry a credential in the path:
// only the first keep segments are kept.
var tokenPaths = map[string]int{
	"hooks.slack.com":     3, // /services/T…/B…/<token>
	"discord.com":         3, // /api/webhooks/<id>/<token>
	"discordapp.com":      3,
	"hooks.zapier.com":    3, // /hooks/catch/<id>/<key>
	"smee.io":             0, // /<channel>: anyone with it reads the deliveries
	"outlook.office.com":  1, // /webhook/<guid>@<guid>/IncomingWebhook/<id>/<guid>
	"chat.googleapis.com": 4,
}

const redactedMark = "REDACTED"

// redactURL strips a webhook URL of what may be a credential: user info,
// query string, fragment, the token segments of known providers, and any
// long random-looking path segment. It returns the cleaned URL, the name to
// show (host[:port]/path) and whether anything was removed.
func redactURL(raw string) (clean, name string, redacted bool) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" {
		return redactedMark, "", true
	}
	if u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		redacted = true
	}
	host := strings.ToLower(u.Host)
	keep, known := tokenPaths[strings.ToLower(u.Hostname())]
	if !known && strings.HasSuffix(strings.ToLower(u.Hostname()), ".webhook.office.com") {
		keep, known = 1, true
	}
	segs := strings.Split(strings.TrimPrefix(u.EscapedPath(), "/"), "/")
	out := make([]string, 0, len(segs))
	for i, s := range segs {
		switch {
		case known && i >= keep && s != "":
			if len(out) == 0 || out[len(out)-1] != redactedMark {
				out = append(out, redactedMark)
			}
			redacted = true
		case randomLooking(s):
			out = append(out, redactedMark)
			redacted = true
		default:
			out = append(out, s)
		}
	}
	path := ""
	if len(segs) > 0 && !(len(segs) == 1 && segs[0] == "") {
		path = "/" + strings.Join(out, "/")
	}
	return u.Scheme + "://" + host + path, host + path, redacted
}

// randomLooking reports whether a path segment looks like a token: long,
// one word of letters, digits, '-' or '_', with both letters and digits.
func randomLooking(s string) bool {
	if len(s) < 20 {
		return false
	}
	var letters, digits bool
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
			letters = true
		case r >= '0' && r <= '9':
			digits = true
		case r == '-' || r == '_':
		default:
			return false
		}
	}
	return letters && digits
}

// timePtr is t in UTC, or nil when GitHub gave none.
func timePtr(t *github.Timestamp) *time.Time {
	if t == nil || t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}
