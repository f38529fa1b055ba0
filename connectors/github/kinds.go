package github

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/nhi-audit/nhi/audit"
)

// One parser per endpoint family: each decodes one page and turns every
// item into an Observation. Nothing here keeps secret material: only the
// fields copied below leave this file.

// What a 403 or 404 usually means is missing, in plain words.
const (
	needOrgOwner      = "needs an organization owner's token (classic token scope admin:org; GitHub App organization permission \"Administration: read\")"
	needOrgSecrets    = "needs an organization owner's token (classic token scope admin:org; GitHub App organization permission \"Secrets: read\")"
	needOrgDependabot = "needs an organization owner's token (classic token scope admin:org; GitHub App organization permission \"Organization dependabot secrets: read\")"
	needOrgCodespaces = "needs an organization owner's token (classic token scope admin:org; GitHub App organization permission \"Organization codespaces secrets: read\")"
	needOrgHooks      = "needs an organization owner's token (classic token scope admin:org_hook; GitHub App organization permission \"Webhooks: read\")"
	needRunners       = "needs an organization owner's token (classic token scope admin:org; GitHub App organization permission \"Self-hosted runners: read\")"
	needMembers       = "needs an organization member's token (classic token scope read:org; GitHub App organization permission \"Members: read\")"
	needPATs          = "needs a GitHub App installation token with the organization permission \"Personal access tokens: read\" (--app-id, --app-key): GitHub does not show these to personal access tokens"
	needPATReqs       = "needs a GitHub App installation token with the organization permission \"Personal access token requests: read\" (--app-id, --app-key): GitHub does not show these to personal access tokens"
	needSAML          = "only organizations using SAML single sign-on on GitHub Enterprise Cloud have credential authorizations, and reading them needs an organization owner's token with the read:org scope; GitHub did not show them, so SSO-authorized PATs and SSH keys were not read"
	needRepoAdmin     = "needs admin access to the repository (classic token scope repo; GitHub App repository permission \"Administration: read\")"
	needRepoSecret    = "needs admin access to the repository (classic token scope repo; GitHub App repository permission \"Secrets: read\")"
	needDependabot    = "needs admin access to the repository (classic token scope repo; GitHub App repository permission \"Dependabot secrets: read\")"
	needCodespaces    = "needs admin access to the repository (classic token scope repo; GitHub App repository permission \"Codespaces secrets: read\")"
	needRepoHooks     = "needs admin access to the repository (classic token scope repo or read:repo_hook; GitHub App repository permission \"Webhooks: read\")"
	needEnvs          = "needs read access to the repository's environments (classic token scope repo; GitHub App repository permission \"Actions: read\")"
	needCollabs       = "needs push access to the repository (classic token scopes repo and read:org; GitHub App repository permission \"Metadata: read\")"
	needContents      = "needs read access to the repository's contents (classic token scope repo; GitHub App repository permission \"Contents: read\")"
)

// noteOAuthHooks is said once of a run that read the organisation's
// webhooks (GitHub's documentation of GET /orgs/{org}/hooks).
const noteOAuthHooks = "organization webhooks an OAuth app created are shown only to that app: no user token or GitHub App sees them, so they are not in this snapshot"

// unmarshal decodes a JSON body; an empty body is malformed too.
func unmarshal(body []byte, v any) error {
	if len(body) == 0 {
		return errors.New("unexpected end of JSON input (empty body)")
	}
	return json.Unmarshal(body, v)
}

// orgUnit is an organisation-level unit of work.
type orgUnit struct {
	name string // checkpoint name
	what string // for progress
	read func(context.Context, *unit) error
}

func (c *Connector) orgUnits() []orgUnit {
	type spec struct {
		name, rest string
		kind       audit.Kind
		need       string
		parse      parser
		query      []string
	}
	specs := []spec{
		{"org:installations", "installations", audit.KindGitHubAppInstallation, needOrgOwner, c.parseInstallations, nil},
		{"org:personal-access-tokens", "personal-access-tokens", audit.KindGitHubFineGrainedPAT, needPATs, c.parsePATs(audit.KindGitHubFineGrainedPAT), nil},
		{"org:personal-access-token-requests", "personal-access-token-requests", audit.KindGitHubPATRequest, needPATReqs, c.parsePATs(audit.KindGitHubPATRequest), nil},
		{"org:credential-authorizations", "credential-authorizations", audit.KindGitHubCredentialAuthorization, needSAML, c.parseCredentialAuthorizations, nil},
		{"org:actions-secrets", "actions/secrets", audit.KindGitHubActionsSecret, needOrgSecrets, c.parseSecrets(audit.KindGitHubActionsSecret, c.org, nil), nil},
		{"org:dependabot-secrets", "dependabot/secrets", audit.KindGitHubDependabotSecret, needOrgDependabot, c.parseSecrets(audit.KindGitHubDependabotSecret, c.org, nil), nil},
		{"org:codespaces-secrets", "codespaces/secrets", audit.KindGitHubCodespacesSecret, needOrgCodespaces, c.parseSecrets(audit.KindGitHubCodespacesSecret, c.org, nil), nil},
		{"org:agents-secrets", "agents/secrets", audit.KindGitHubAgentsSecret, needOrgAgents, c.parseSecrets(audit.KindGitHubAgentsSecret, c.org, nil), nil},
		{"org:private-registries", "private-registries", audit.KindGitHubPrivateRegistry, needRegistries, c.parsePrivateRegistries, nil},
		{"org:actions-oidc", "actions/oidc/customization/sub", audit.KindGitHubActionsOIDC, needOrgOIDC, c.parseOIDCSub(c.org, ""), nil},
		{"org:hooks", "hooks", audit.KindGitHubWebhook, needOrgHooks, c.parseHooks(c.org, c.org), nil},
		{"org:runners", "actions/runners", audit.KindGitHubRunner, needRunners, c.parseRunners(c.org, c.org), nil},
	}
	if c.enterprise() {
		// GitHub Enterprise Server has no such endpoints (see readServer).
		specs = slices.DeleteFunc(specs, func(s spec) bool {
			return s.kind == audit.KindGitHubCodespacesSecret || s.kind == audit.KindGitHubCredentialAuthorization || s.kind == audit.KindGitHubAgentsSecret
		})
	}
	units := []orgUnit{{
		name: "org:members", what: "GET /orgs/" + c.org + "/members",
		read: func(ctx context.Context, u *unit) error {
			// The owners, then the members who are not: each recorded
			// with the role a list of GitHub's gave them, so an owner
			// left out of the owners' list is never recorded as a
			// member (one in both, their role changed between the
			// lists, is kept once, as an owner). The two are held
			// against GraphQL's count of the members (counts.go).
			whole := true
			for _, role := range []string{"admin", "member"} {
				ep := c.orgEP("members", "", needMembers, "role="+role)
				_, ok, err := u.list(ctx, ep, c.parseMembers(role))
				if err != nil {
					return err
				}
				whole = whole && ok
			}
			if !whole {
				return nil // a gap says which list was not read
			}
			return c.checkMemberCount(ctx, u, c.orgEP("members", "", needMembers))
		},
	}}
	if len(c.ownerTeams) > 0 {
		units = append(units, orgUnit{name: "org:owner-teams", what: "GET /orgs/" + c.org + "/teams/{team_slug}/members", read: func(ctx context.Context, u *unit) error {
			var teams []teamRef
			for _, t := range c.ownerTeams {
				if slug := c.teamSlug(t); slug != "" {
					teams = append(teams, teamRef{slug: slug})
				}
			}
			return c.readTeamMembers(ctx, u, teams)
		}})
	}
	for _, s := range specs {
		ep := c.orgEP(s.rest, s.kind, s.need, s.query...)
		parse := s.parse
		rest, need := s.rest, s.need
		units = append(units, orgUnit{name: s.name, what: ep.String(), read: func(ctx context.Context, u *unit) error {
			var groups map[string]*runnerGroup
			if ep.kind == audit.KindGitHubRunner {
				var err error
				if groups, _, err = c.runnerGroups(ctx, u); err != nil {
					return err
				}
			}
			_, ok, err := u.list(ctx, ep, parse)
			if err != nil || !ok {
				return err
			}
			u.read(ep.scope, ep.kind)
			// What each identity reaches (reach.go).
			switch ep.kind {
			case audit.KindGitHubWebhook:
				c.noteOnce(noteOAuthHooks)
			case audit.KindGitHubAppInstallation:
				c.markBypasses(u, nil, nil)
			case audit.KindGitHubActionsSecret, audit.KindGitHubDependabotSecret, audit.KindGitHubCodespacesSecret, audit.KindGitHubAgentsSecret:
				return c.secretReach(ctx, u, strings.TrimSuffix(rest, "/secrets"), need)
			case audit.KindGitHubFineGrainedPAT, audit.KindGitHubPATRequest:
				return c.patReach(ctx, u, rest, need)
			case audit.KindGitHubRunner:
				c.groupRunners(u, groups)
			}
			return nil
		}})
	}
	return units
}

// readRepo reads everything that lives in one repository, then, when it
// holds at least one identity, who may own them. g is what GraphQL gave of
// it (graphql.go; nil: nothing): REST reads the rest.
func (c *Connector) readRepo(ctx context.Context, r repoInfo, g *gqlRepo) (err error) {
	repo := r.Name
	u := c.newUnit(repoUnit(repo))
	defer func() {
		if err != nil {
			u.keepCache()
		}
	}()
	scope := c.repoScope(repo)
	u.reads = append(u.reads, audit.ScopeRead{Scope: scope}) // it exists, whatever can be read in it
	for _, ep := range []struct {
		rest  string
		kind  audit.Kind
		need  string
		parse parser
	}{
		{"keys", audit.KindGitHubDeployKey, needRepoAdmin, c.parseDeployKeys(repo)},
		{"actions/secrets", audit.KindGitHubActionsSecret, needRepoSecret, c.parseSecrets(audit.KindGitHubActionsSecret, scope, nil)},
		{"dependabot/secrets", audit.KindGitHubDependabotSecret, needDependabot, c.parseSecrets(audit.KindGitHubDependabotSecret, scope, nil)},
		{"codespaces/secrets", audit.KindGitHubCodespacesSecret, needCodespaces, c.parseSecrets(audit.KindGitHubCodespacesSecret, scope, nil)},
		{"agents/secrets", audit.KindGitHubAgentsSecret, needAgents, c.parseSecrets(audit.KindGitHubAgentsSecret, scope, nil)},
		{"hooks", audit.KindGitHubWebhook, needRepoHooks, c.parseHooks(repo, scope)},
		{"actions/runners", audit.KindGitHubRunner, needRepoAdmin, c.parseRunners(repo, scope)},
	} {
		if (ep.kind == audit.KindGitHubCodespacesSecret || ep.kind == audit.KindGitHubAgentsSecret) && c.enterprise() {
			continue // not on GitHub Enterprise Server (see readServer)
		}
		_, ok, err := u.list(ctx, c.repoEP(repo, ep.rest, ep.rest, ep.kind, ep.need), ep.parse)
		if err != nil {
			return err
		}
		if ok {
			u.read(scope, ep.kind)
		}
	}
	oidc := c.repoEP(repo, "actions/oidc/customization/sub", "actions/oidc/customization/sub", audit.KindGitHubActionsOIDC, needOIDC)
	oidc.url = strings.TrimSuffix(oidc.url, fmt.Sprintf("?per_page=%d", perPage))
	if _, ok, err := u.list(ctx, oidc, c.parseOIDCSub(scope, repo)); err != nil {
		return err
	} else if ok {
		u.read(scope, audit.KindGitHubActionsOIDC)
	}
	if g != nil {
		for _, gp := range g.gaps {
			u.gap(gp) // GraphQL's connections short of their totalCount
		}
	}
	var envs []string
	if g != nil && g.envsOK {
		envs = g.envs
		if g.envsWhole {
			u.children(scope) // an environment not listed no longer exists
		}
	} else {
		var ok bool
		envs, ok, err = u.list(ctx, c.repoEP(repo, "environments", "environments", audit.KindGitHubActionsSecret, needEnvs), parseEnvironments)
		if err != nil {
			return err
		}
		if ok {
			u.children(scope) // an environment not listed no longer exists
		}
	}
	for _, env := range envs {
		ep := c.repoEP(repo, "environments/"+pathEscape(env)+"/secrets", "environments/"+env+"/secrets", audit.KindGitHubActionsSecret, needRepoSecret)
		ep.scope = scope + "/" + env
		attrs := map[string]string{"environment": env}
		_, ok, err := u.list(ctx, ep, c.parseSecrets(audit.KindGitHubActionsSecret, ep.scope, attrs))
		if err != nil {
			return err
		}
		if ok {
			u.read(ep.scope, ep.kind)
		}
	}
	var own []ruleset
	if g != nil && g.rulesetsOK {
		own = ownRulesets(r, g.rulesets)
	} else if own, err = c.repoRulesets(ctx, u, r); err != nil {
		return err
	}
	c.markBypasses(u, &r, own)
	c.anchor(u, r)
	if u.identities > 0 {
		if err := c.repoContext(ctx, u, r, g); err != nil {
			return err
		}
	}
	return c.finishUnit(ctx, u)
}

// anchor gives each identity of a repository its lineage: the
// repository's immutable ID and the identity's key within it
// ("repository:123/github_deploy_key/42",
// "repository:123/github_actions_secret/production/DEPLOY_TOKEN"), which a
// rename does not change, so the store links the identity's new ID to its
// old one (see audit's lineage.go) instead of calling it removed and new.
func (c *Connector) anchor(u *unit, r repoInfo) {
	if r.ID == "" || r.ID == "0" {
		return
	}
	scope := c.repoScope(r.Name) + "/"
	for i := range u.obs {
		o := &u.obs[i]
		key := strings.TrimPrefix(o.ID, audit.IdentityID(Source, c.org, o.Kind, ""))
		if within, ok := strings.CutPrefix(key, scope); ok {
			key = within // secrets: keyed by their whole scope
		} else if key+"/" == scope {
			key = "sub" // the repository's own OIDC sub claim: one of it
		} else {
			key = strings.TrimPrefix(key, r.Name+"/")
		}
		attrs := make(map[string]string, len(o.Attributes)+2)
		for k, v := range o.Attributes {
			attrs[k] = v
		}
		attrs["repository_id"] = r.ID
		attrs[audit.LineageAttribute] = "repository:" + r.ID + "/" + string(o.Kind) + "/" + key
		o.Attributes = attrs
	}
}

// ---- App installations --------------------------------------------------

// installation adds the permissions as a plain map: go-github v60's
// InstallationPermissions is a fixed struct that would silently drop
// permissions newer than it.
type installation struct {
	github.Installation
	Permissions map[string]string `json:"permissions"`
}

func (c *Connector) parseInstallations(body []byte, pd *pageData) (int, error) {
	var page struct {
		TotalCount    int             `json:"total_count"`
		Installations []*installation `json:"installations"`
	}
	if err := unmarshal(body, &page); err != nil {
		return 0, err
	}
	for _, in := range page.Installations {
		pd.Obs = append(pd.Obs, c.installationObservation(in))
	}
	return len(page.Installations), nil
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

// ---- fine-grained PATs and PAT requests ---------------------------------

// patGrant is an organization programmatic access grant (a fine-grained
// PAT with access) or a request for one: not in go-github v60.
type patGrant struct {
	ID                  int64        `json:"id"`
	Owner               *github.User `json:"owner"`
	Reason              *string      `json:"reason"`
	RepositorySelection string       `json:"repository_selection"`
	Permissions         struct {
		Organization map[string]string `json:"organization"`
		Repository   map[string]string `json:"repository"`
		Other        map[string]string `json:"other"`
	} `json:"permissions"`
	AccessGrantedAt *github.Timestamp `json:"access_granted_at"` // grants
	CreatedAt       *github.Timestamp `json:"created_at"`        // requests
	TokenID         *int64            `json:"token_id"`
	TokenName       *string           `json:"token_name"`
	TokenExpired    *bool             `json:"token_expired"`
	TokenExpiresAt  *github.Timestamp `json:"token_expires_at"`
	TokenLastUsedAt *github.Timestamp `json:"token_last_used_at"`
}

// parsePATs reads fine-grained PAT grants (kind KindGitHubFineGrainedPAT)
// or pending requests (KindGitHubPATRequest). Permissions are flattened
// to "organization.members", "repository.contents", "other.<name>".
func (c *Connector) parsePATs(kind audit.Kind) parser {
	return func(body []byte, pd *pageData) (int, error) {
		var page []*patGrant
		if err := unmarshal(body, &page); err != nil {
			return 0, err
		}
		for _, g := range page {
			perms := map[string]string{}
			for group, m := range map[string]map[string]string{
				"organization": g.Permissions.Organization, "repository": g.Permissions.Repository, "other": g.Permissions.Other,
			} {
				for k, v := range m {
					perms[group+"."+k] = v
				}
			}
			attrs := map[string]string{"repository_selection": g.RepositorySelection}
			if l := g.Owner.GetLogin(); l != "" {
				attrs["owner"] = l
			}
			name := fmt.Sprintf("grant %d", g.ID)
			if g.TokenID != nil {
				attrs["token_id"] = strconv.FormatInt(*g.TokenID, 10)
				name = "token " + attrs["token_id"]
				// A request, once approved, is a grant of the same token:
				// one lineage (see audit's lineage.go).
				attrs[audit.LineageAttribute] = "fine-grained-token:" + attrs["token_id"]
			}
			if g.TokenName != nil && *g.TokenName != "" {
				attrs["token_name"] = *g.TokenName
				name = *g.TokenName
			}
			if g.TokenExpired != nil {
				attrs["token_expired"] = strconv.FormatBool(*g.TokenExpired)
			}
			created := timePtr(g.AccessGrantedAt)
			if kind == audit.KindGitHubPATRequest {
				created = timePtr(g.CreatedAt)
				attrs["status"] = "pending"
				if g.Reason != nil && *g.Reason != "" {
					attrs["reason"] = *g.Reason
				}
			}
			pd.Obs = append(pd.Obs, audit.Observation{
				ID:          c.id(kind, strconv.FormatInt(g.ID, 10)),
				Kind:        kind,
				Name:        name,
				Scope:       c.org,
				CreatedAt:   created,
				LastUsedAt:  timePtr(g.TokenLastUsedAt),
				ExpiresAt:   timePtr(g.TokenExpiresAt),
				Permissions: perms,
				Attributes:  attrs,
			})
		}
		return len(page), nil
	}
}

// ---- SAML SSO credential authorizations ---------------------------------

// parseCredentialAuthorizations keeps who, what kind, when and which
// scopes; never token_last_eight, which is part of a secret.
func (c *Connector) parseCredentialAuthorizations(body []byte, pd *pageData) (int, error) {
	var page []*github.CredentialAuthorization
	if err := unmarshal(body, &page); err != nil {
		return 0, err
	}
	for _, a := range page {
		typ := a.GetCredentialType()
		attrs := map[string]string{
			"owner":           a.GetLogin(),
			"credential_type": typ,
			"credential_id":   strconv.FormatInt(a.GetCredentialID(), 10),
		}
		if len(a.Scopes) > 0 {
			scopes := append([]string(nil), a.Scopes...)
			sort.Strings(scopes)
			attrs["scopes"] = strings.Join(scopes, ",")
		}
		if a.Fingerprint != nil {
			attrs["fingerprint"] = a.GetFingerprint()
		}
		if a.AuthorizedCredentialID != nil {
			attrs["authorized_credential_id"] = strconv.FormatInt(a.GetAuthorizedCredentialID(), 10)
		}
		name := typ + " of " + a.GetLogin()
		if t := a.GetAuthorizedCredentialTitle(); t != "" {
			attrs["title"], name = t, t
		}
		if n := a.GetAuthorizedCredentialNote(); n != "" {
			attrs["note"], name = n, n
		}
		pd.Obs = append(pd.Obs, audit.Observation{
			ID:         c.id(audit.KindGitHubCredentialAuthorization, strconv.FormatInt(a.GetCredentialID(), 10)),
			Kind:       audit.KindGitHubCredentialAuthorization,
			Name:       name,
			Scope:      c.org,
			CreatedAt:  timePtr(a.CredentialAuthorizedAt),
			LastUsedAt: timePtr(a.CredentialAccessedAt),
			ExpiresAt:  timePtr(a.AuthorizedCredentialExpiresAt),
			Attributes: attrs,
		})
	}
	return len(page), nil
}

// ---- deploy keys --------------------------------------------------------

// deployKey adds "enabled", which go-github v60's Key lacks, and reads
// last_used as it came: GitHub's description does not require it, so a
// key served without it has its last use not reported, where null says
// it was never used. (This field, the shallower, hides Key.LastUsed.)
type deployKey struct {
	github.Key
	Enabled  *bool           `json:"enabled"`
	LastUsed json.RawMessage `json:"last_used"`
}

// lastUsed is the key's last use, and whether the answer said it at all.
func (k *deployKey) lastUsed() (*time.Time, bool) {
	if len(k.LastUsed) == 0 {
		return nil, false
	}
	var ts *github.Timestamp
	if err := json.Unmarshal(k.LastUsed, &ts); err != nil {
		return nil, false
	}
	return timePtr(ts), true
}

func (c *Connector) parseDeployKeys(repo string) parser {
	return func(body []byte, pd *pageData) (int, error) {
		var page []*deployKey
		if err := unmarshal(body, &page); err != nil {
			return 0, err
		}
		for _, k := range page {
			pd.Obs = append(pd.Obs, c.deployKeyObservation(repo, k))
		}
		return len(page), nil
	}
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
	lastUsed, said := k.lastUsed()
	if !said {
		attrs[audit.AttrLastUseUnknown] = "true"
	}
	created := timePtr(k.CreatedAt)
	return audit.Observation{
		ID:          c.id(audit.KindGitHubDeployKey, repo+"/"+strconv.FormatInt(k.GetID(), 10)),
		Kind:        audit.KindGitHubDeployKey,
		Name:        k.GetTitle(),
		Scope:       c.repoScope(repo),
		CreatedAt:   created,
		LastUsedAt:  lastUsed,
		RotatedAt:   created, // a deploy key cannot be changed, only replaced
		Permissions: map[string]string{"contents": access},
		Attributes:  attrs,
	}
}

// ---- secrets ------------------------------------------------------------

// parseSecrets reads one page of Actions, Dependabot or Codespaces secrets
// of kind in scope ("org", "org/repo" or "org/repo/env"). The natural key
// is "<scope>/<NAME>": names overlap between scopes, and a repository may
// be named like its organisation, so the key spells the whole scope.
// extra attributes are added to each.
func (c *Connector) parseSecrets(kind audit.Kind, scope string, extra map[string]string) parser {
	return func(body []byte, pd *pageData) (int, error) {
		var page github.Secrets
		if err := unmarshal(body, &page); err != nil {
			return 0, err
		}
		for _, s := range page.Secrets {
			attrs := map[string]string{}
			for k, v := range extra {
				attrs[k] = v
			}
			if s.Visibility != "" {
				attrs["visibility"] = s.Visibility
			}
			pd.Obs = append(pd.Obs, audit.Observation{
				ID:         c.id(kind, scope+"/"+s.Name),
				Kind:       kind,
				Name:       s.Name,
				Scope:      scope,
				CreatedAt:  timePtr(&s.CreatedAt),
				RotatedAt:  timePtr(&s.UpdatedAt), // updated_at: when the value was last set
				Attributes: attrs,
			})
		}
		return len(page.Secrets), nil
	}
}

// parseEnvironments collects the names of a repository's environments.
func parseEnvironments(body []byte, pd *pageData) (int, error) {
	var page github.EnvResponse
	if err := unmarshal(body, &page); err != nil {
		return 0, err
	}
	for _, e := range page.Environments {
		pd.Names = append(pd.Names, e.GetName())
	}
	return len(page.Environments), nil
}

// ---- webhooks -----------------------------------------------------------

// parseHooks reads organisation (owner = the org) or repository (owner =
// the repo) webhooks. Only whether a hook has a secret is kept.
func (c *Connector) parseHooks(owner, scope string) parser {
	return func(body []byte, pd *pageData) (int, error) {
		var page []*hook
		if err := unmarshal(body, &page); err != nil {
			return 0, err
		}
		for _, h := range page {
			if cfg := h.Config; cfg != nil {
				h.Hook.Config = &github.HookConfig{ContentType: cfg.ContentType, Secret: cfg.Secret, URL: cfg.URL}
				if s, ok := cfg.InsecureSSL.text(); ok {
					h.Hook.Config.InsecureSSL = &s
				}
			}
			pd.Obs = append(pd.Obs, c.hookObservation(owner, scope, &h.Hook))
		}
		return len(page), nil
	}
}

// hook reads config as GitHub's description has it: insecure_ssl is a
// string or a number (go-github v60 takes only a string).
type hook struct {
	github.Hook
	Config *struct {
		ContentType *string        `json:"content_type"`
		InsecureSSL stringOrNumber `json:"insecure_ssl"`
		Secret      *string        `json:"secret"`
		URL         *string        `json:"url"`
	} `json:"config"`
}

// stringOrNumber is a JSON string or number, kept as its text.
type stringOrNumber json.RawMessage

func (s *stringOrNumber) UnmarshalJSON(b []byte) error {
	*s = append((*s)[:0], b...)
	return nil
}

// text is the value as a string: "0" for "0" and for 0; ok is false for
// null, absent or anything else.
func (s stringOrNumber) text() (string, bool) {
	var str string
	if json.Unmarshal(s, &str) == nil {
		return str, true
	}
	var n json.Number
	if json.Unmarshal(s, &n) == nil {
		return n.String(), true
	}
	return "", false
}

// ---- self-hosted runners ------------------------------------------------

// parseRunners reads runners; owner is the org login or the repo name, the
// first half of the natural key.
func (c *Connector) parseRunners(owner, scope string) parser {
	return func(body []byte, pd *pageData) (int, error) {
		// runner_group_id is in GitHub's description, not in go-github v60.
		var page struct {
			Runners []*struct {
				github.Runner
				RunnerGroupID *int64 `json:"runner_group_id"`
			} `json:"runners"`
		}
		if err := unmarshal(body, &page); err != nil {
			return 0, err
		}
		for _, r := range page.Runners {
			labels := make([]string, 0, len(r.Labels))
			for _, l := range r.Labels {
				labels = append(labels, l.GetName())
			}
			attrs := map[string]string{
				"status": r.GetStatus(),
				"busy":   strconv.FormatBool(r.GetBusy()),
				"os":     r.GetOS(),
				"labels": strings.Join(labels, ","),
			}
			if r.RunnerGroupID != nil && scope == c.org {
				attrs["runner_group_id"] = strconv.FormatInt(*r.RunnerGroupID, 10)
			}
			pd.Obs = append(pd.Obs, audit.Observation{
				ID:         c.id(audit.KindGitHubRunner, owner+"/"+strconv.FormatInt(r.GetID(), 10)),
				Kind:       audit.KindGitHubRunner,
				Name:       r.GetName(),
				Scope:      scope,
				Attributes: attrs,
			})
		}
		return len(page.Runners), nil
	}
}
