package github

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/connectors"
)

// One function per endpoint family: each lists one endpoint and turns every
// item into an Observation. Nothing here keeps secret material: only the
// fields copied below leave this file.

const (
	needOrgOwner  = "needs an organization owner's token (classic token scope admin:org)"
	needRepoAdmin = "needs admin access to the repository (classic token scope repo)"
)

// ---- App installations --------------------------------------------------

// installation adds the permissions as a plain map: go-github v60's
// InstallationPermissions is a fixed struct that would silently drop
// permissions newer than it.
type installation struct {
	github.Installation
	Permissions map[string]string `json:"permissions"`
}

type installationsPage struct {
	TotalCount    int             `json:"total_count"`
	Installations []*installation `json:"installations"`
}

func (c *Connector) installations(ctx context.Context, rec connectors.Recorder) error {
	ep := endpoint{
		path: "/orgs/" + c.org + "/installations", kind: audit.KindGitHubAppInstallation,
		scope: c.org, need: needOrgOwner,
	}
	return paginate(ctx, c, rec, ep,
		func(opts github.ListOptions) ([]*installation, *github.Response, error) {
			var page installationsPage
			resp, err := c.getPage(ctx, ep.path[1:], opts, &page)
			return page.Installations, resp, err
		},
		func(in *installation) error { return rec.Record(c.installationObservation(in)) })
}

func (c *Connector) installationObservation(in *installation) audit.Observation {
	attrs := map[string]string{
		"app_slug":             in.GetAppSlug(),
		"app_id":               strconv.FormatInt(in.GetAppID(), 10),
		"target_type":          in.GetTargetType(),
		"repository_selection": in.GetRepositorySelection(),
		"suspended":            strconv.FormatBool(in.SuspendedAt != nil),
		"account":              in.GetAccount().GetLogin(),
	}
	if in.SuspendedAt != nil {
		attrs["suspended_at"] = in.SuspendedAt.UTC().Format(time.RFC3339)
	}
	if in.SuspendedBy != nil {
		attrs["suspended_by"] = in.SuspendedBy.GetLogin()
	}
	if in.UpdatedAt != nil {
		attrs["updated_at"] = in.UpdatedAt.UTC().Format(time.RFC3339)
	}
	if len(in.Events) > 0 {
		attrs["events"] = strings.Join(in.Events, ",")
	}
	perms := make(map[string]string, len(in.Permissions))
	for k, v := range in.Permissions {
		perms[k] = v
	}
	return audit.Observation{
		ID:          c.id(audit.KindGitHubAppInstallation, strconv.FormatInt(in.GetID(), 10)),
		Kind:        audit.KindGitHubAppInstallation,
		Name:        in.GetAppSlug(),
		Scope:       c.org,
		CreatedAt:   timePtr(in.CreatedAt),
		Permissions: perms,
		Attributes:  attrs,
	}
}

// ---- deploy keys --------------------------------------------------------

// deployKey adds "enabled", which go-github v60's Key lacks.
type deployKey struct {
	github.Key
	Enabled *bool `json:"enabled"`
}

func (c *Connector) deployKeys(ctx context.Context, rec connectors.Recorder, repo string) error {
	ep := endpoint{
		path: "/repos/" + c.org + "/" + repo + "/keys", kind: audit.KindGitHubDeployKey,
		scope: c.repoScope(repo), need: needRepoAdmin,
	}
	return paginate(ctx, c, rec, ep,
		func(opts github.ListOptions) ([]*deployKey, *github.Response, error) {
			var page []*deployKey
			resp, err := c.getPage(ctx, ep.path[1:], opts, &page)
			return page, resp, err
		},
		func(k *deployKey) error { return rec.Record(c.deployKeyObservation(repo, k)) })
}

func (c *Connector) deployKeyObservation(repo string, k *deployKey) audit.Observation {
	access := "write"
	if k.GetReadOnly() {
		access = "read"
	}
	attrs := map[string]string{
		"read_only": strconv.FormatBool(k.GetReadOnly()),
		"verified":  strconv.FormatBool(k.GetVerified()),
	}
	if k.AddedBy != nil {
		attrs["added_by"] = k.GetAddedBy()
	}
	if k.Enabled != nil {
		attrs["enabled"] = strconv.FormatBool(*k.Enabled)
	}
	if typ, fp, ok := fingerprint(k.GetKey()); ok {
		attrs["key_type"] = typ
		attrs["fingerprint"] = fp
	}
	created := timePtr(k.CreatedAt)
	return audit.Observation{
		ID:          c.id(audit.KindGitHubDeployKey, repo+"/"+strconv.FormatInt(k.GetID(), 10)),
		Kind:        audit.KindGitHubDeployKey,
		Name:        k.GetTitle(),
		Scope:       c.repoScope(repo),
		CreatedAt:   created,
		LastUsedAt:  timePtr(k.LastUsed),
		RotatedAt:   created, // a deploy key cannot be changed, only replaced
		Permissions: map[string]string{"contents": access},
		Attributes:  attrs,
	}
}

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

// ---- Actions secrets ----------------------------------------------------

func (c *Connector) orgSecrets(ctx context.Context, rec connectors.Recorder) error {
	ep := endpoint{
		path: "/orgs/" + c.org + "/actions/secrets", kind: audit.KindGitHubActionsSecret,
		scope: c.org, need: needOrgOwner,
	}
	return c.secrets(ctx, rec, ep, func(opts github.ListOptions) (*github.Secrets, *github.Response, error) {
		return c.client.Actions.ListOrgSecrets(ctx, c.org, &opts)
	})
}

func (c *Connector) repoSecrets(ctx context.Context, rec connectors.Recorder, repo string) error {
	ep := endpoint{
		path: "/repos/" + c.org + "/" + repo + "/actions/secrets", kind: audit.KindGitHubActionsSecret,
		scope: c.repoScope(repo), need: needRepoAdmin,
	}
	return c.secrets(ctx, rec, ep, func(opts github.ListOptions) (*github.Secrets, *github.Response, error) {
		return c.client.Actions.ListRepoSecrets(ctx, c.org, repo, &opts)
	})
}

// secrets lists one secrets endpoint of kind ep.kind in scope ep.scope. The
// natural key is "<scope>/<NAME>", i.e. "org/NAME" or "org/repo/NAME": the
// names of org and repository secrets overlap, and a repository may be
// named like its organisation, so the key spells the whole scope.
func (c *Connector) secrets(ctx context.Context, rec connectors.Recorder, ep endpoint,
	list func(github.ListOptions) (*github.Secrets, *github.Response, error),
) error {
	return paginate(ctx, c, rec, ep,
		func(opts github.ListOptions) ([]*github.Secret, *github.Response, error) {
			page, resp, err := list(opts)
			if page == nil {
				return nil, resp, err
			}
			return page.Secrets, resp, err
		},
		func(s *github.Secret) error {
			attrs := map[string]string{}
			if s.Visibility != "" {
				attrs["visibility"] = s.Visibility
			}
			return rec.Record(audit.Observation{
				ID:         c.id(ep.kind, ep.scope+"/"+s.Name),
				Kind:       ep.kind,
				Name:       s.Name,
				Scope:      ep.scope,
				CreatedAt:  timePtr(&s.CreatedAt),
				RotatedAt:  timePtr(&s.UpdatedAt), // updated_at: when the value was last set
				Attributes: attrs,
			})
		})
}

// ---- webhooks -----------------------------------------------------------

func (c *Connector) orgHooks(ctx context.Context, rec connectors.Recorder) error {
	ep := endpoint{
		path: "/orgs/" + c.org + "/hooks", kind: audit.KindGitHubWebhook,
		scope: c.org, need: "needs an organization owner's token (classic token scope admin:org_hook)",
	}
	return c.hooks(ctx, rec, ep, "", func(opts github.ListOptions) ([]*github.Hook, *github.Response, error) {
		return c.client.Organizations.ListHooks(ctx, c.org, &opts)
	})
}

func (c *Connector) repoHooks(ctx context.Context, rec connectors.Recorder, repo string) error {
	ep := endpoint{
		path: "/repos/" + c.org + "/" + repo + "/hooks", kind: audit.KindGitHubWebhook,
		scope: c.repoScope(repo), need: "needs admin access to the repository (classic token scope repo or read:repo_hook)",
	}
	return c.hooks(ctx, rec, ep, repo, func(opts github.ListOptions) ([]*github.Hook, *github.Response, error) {
		return c.client.Repositories.ListHooks(ctx, c.org, repo, &opts)
	})
}

// hooks lists one webhook endpoint; repo is "" for the organisation's.
func (c *Connector) hooks(ctx context.Context, rec connectors.Recorder, ep endpoint, repo string,
	list func(github.ListOptions) ([]*github.Hook, *github.Response, error),
) error {
	owner := c.org
	if repo != "" {
		owner = repo
	}
	return paginate(ctx, c, rec, ep, list, func(h *github.Hook) error {
		return rec.Record(c.hookObservation(owner, ep.scope, h))
	})
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

// ---- self-hosted runners ------------------------------------------------

func (c *Connector) orgRunners(ctx context.Context, rec connectors.Recorder) error {
	ep := endpoint{
		path: "/orgs/" + c.org + "/actions/runners", kind: audit.KindGitHubRunner,
		scope: c.org, need: needOrgOwner,
	}
	return c.runners(ctx, rec, ep, c.org, func(opts github.ListOptions) (*github.Runners, *github.Response, error) {
		return c.client.Actions.ListOrganizationRunners(ctx, c.org, &opts)
	})
}

func (c *Connector) repoRunners(ctx context.Context, rec connectors.Recorder, repo string) error {
	ep := endpoint{
		path: "/repos/" + c.org + "/" + repo + "/actions/runners", kind: audit.KindGitHubRunner,
		scope: c.repoScope(repo), need: needRepoAdmin,
	}
	return c.runners(ctx, rec, ep, repo, func(opts github.ListOptions) (*github.Runners, *github.Response, error) {
		return c.client.Actions.ListRunners(ctx, c.org, repo, &opts)
	})
}

// runners lists one runners endpoint; owner is the org login or the repo
// name, the first half of the natural key.
func (c *Connector) runners(ctx context.Context, rec connectors.Recorder, ep endpoint, owner string,
	list func(github.ListOptions) (*github.Runners, *github.Response, error),
) error {
	return paginate(ctx, c, rec, ep,
		func(opts github.ListOptions) ([]*github.Runner, *github.Response, error) {
			page, resp, err := list(opts)
			if page == nil {
				return nil, resp, err
			}
			return page.Runners, resp, err
		},
		func(r *github.Runner) error {
			labels := make([]string, 0, len(r.Labels))
			for _, l := range r.Labels {
				labels = append(labels, l.GetName())
			}
			return rec.Record(audit.Observation{
				ID:    c.id(audit.KindGitHubRunner, owner+"/"+strconv.FormatInt(r.GetID(), 10)),
				Kind:  audit.KindGitHubRunner,
				Name:  r.GetName(),
				Scope: ep.scope,
				Attributes: map[string]string{
					"status": r.GetStatus(),
					"busy":   strconv.FormatBool(r.GetBusy()),
					"os":     r.GetOS(),
					"labels": strings.Join(labels, ","),
				},
			})
		})
}

// timePtr is t in UTC, or nil when GitHub gave none.
func timePtr(t *github.Timestamp) *time.Time {
	if t == nil || t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}
