// Package githubtest serves a fake GitHub REST API on loopback for tests, benchmarks and nhi demo.
//
// The data it serves is an [Org]: plain Go values (JSON-taggable, so small
// cases can live in testdata/github/*.json and be read with [LoadOrg]). The
// server renders them with go-github's own types where those carry every
// field GitHub returns, and with its JSON shapes where go-github v60 has no
// type (fine-grained PATs and their requests), so what the connector
// decodes here is what it decodes from api.github.com.
//
// Like GitHub it paginates with Link headers, reports the primary rate
// limit in X-RateLimit-* headers (and enforces it with [WithRateLimit]),
// sends ETags — tied to the token that asked, as GitHub's are — and
// answers a matching If-None-Match with 304 Not Modified, free of the rate
// limit. It authenticates a classic token ([DefaultToken])
// and, with [WithApp], a GitHub App: JWTs signed with the App's key and the
// installation tokens they mint. Only an installation token reads the
// fine-grained PAT endpoints, and credential authorizations exist only for
// an [Org] with SAML. Faults ([Server.Fail], [WithFault], [FailTimes],
// [SecondaryRateLimit], [TruncatedBody]) and a [FakeClock] ([WithClock])
// let tests reproduce what goes wrong without waiting for it.
package githubtest

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/nhi-audit/nhi/audit"
)

// Org is the fake organisation: everything the server can answer about it.
// Treat it as read-only once handed to [NewServer]; change it through
// [Server.Mutate].
type Org struct {
	Login       string    `json:"login"`
	ID          int64     `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	CreatedAt   time.Time `json:"created_at"`

	// Members are the logins of current members (context, not identities).
	Members []string `json:"members"`
	// Profiles, SAMLIdentities and Teams: what GitHub shows of the
	// members beyond their logins (people.go).
	Profiles       []Profile      `json:"profiles,omitempty"`
	SAMLIdentities []SAMLIdentity `json:"saml_identities,omitempty"`
	Teams          []Team         `json:"teams,omitempty"`
	// Admins are the members with the owner role (a subset of Members).
	Admins []string `json:"admins,omitempty"`
	// FormerMembers left the organisation: never served, but the generator
	// uses them as added_by of deploy keys so "orphaned" has something to find.
	FormerMembers []string `json:"former_members,omitempty"`

	Repos []*Repo `json:"repos"`

	Installations     []Installation `json:"installations,omitempty"`
	Secrets           []Secret       `json:"secrets,omitempty"`            // org Actions secrets
	DependabotSecrets []Secret       `json:"dependabot_secrets,omitempty"` // org Dependabot secrets
	CodespacesSecrets []Secret       `json:"codespaces_secrets,omitempty"` // org Codespaces secrets
	Hooks             []Hook         `json:"hooks,omitempty"`
	Runners           []Runner       `json:"runners,omitempty"`

	// SAML says the organisation uses SAML single sign-on: only then does
	// GET /orgs/{org}/credential-authorizations answer (404 otherwise).
	SAML                     bool                      `json:"saml,omitempty"`
	CredentialAuthorizations []CredentialAuthorization `json:"credential_authorizations,omitempty"`
	// FineGrainedPATs have been granted access to the organisation;
	// PATRequests are still waiting for an owner to approve them.
	FineGrainedPATs []FineGrainedPAT `json:"fine_grained_pats,omitempty"`
	PATRequests     []PATRequest     `json:"pat_requests,omitempty"`

	// What an identity reaches and who may bypass protections (issue 11,
	// item 10). RunnerGroups hold the org runners (Runner.RunnerGroupID).
	RunnerGroups []RunnerGroup `json:"runner_groups,omitempty"`
	// AgentsSecrets are the Copilot coding agent's organisation secrets
	// (GitHub.com only: GHES answers 404).
	AgentsSecrets []Secret `json:"agents_secrets,omitempty"`
	// Rulesets are the organisation's repository rulesets.
	Rulesets []Ruleset `json:"rulesets,omitempty"`
	// PrivateRegistries are the organisation's private registry
	// configurations (credentials Dependabot uses).
	PrivateRegistries []PrivateRegistry `json:"private_registries,omitempty"`
	// OIDCSubClaimKeys customise the sub claim of the organisation's
	// Actions OIDC tokens (nil: GitHub's default, repo:ORG/REPO:…).
	OIDCSubClaimKeys []string `json:"oidc_sub_claim_keys,omitempty"`
}

// OIDCSub is a repository's own customisation of its Actions OIDC
// tokens' sub claim.
type OIDCSub struct {
	UseDefault       bool     `json:"use_default"`
	IncludeClaimKeys []string `json:"include_claim_keys,omitempty"`
}

// RunnerGroup is an organisation's group of self-hosted runners and the
// repositories whose jobs may run on them.
type RunnerGroup struct {
	ID                       int64    `json:"id"`
	Name                     string   `json:"name"`
	Visibility               string   `json:"visibility"` // "all", "selected" or "private"
	Default                  bool     `json:"default,omitempty"`
	SelectedRepos            []string `json:"selected_repos,omitempty"` // when "selected"
	AllowsPublicRepositories bool     `json:"allows_public_repositories,omitempty"`
}

// Ruleset is an organisation repository ruleset: who may bypass it, and
// which repositories it targets (repository_name include patterns).
type Ruleset struct {
	ID           int64         `json:"id"`
	Name         string        `json:"name"`
	Enforcement  string        `json:"enforcement"` // "active", "evaluate", "disabled"
	Include      []string      `json:"include,omitempty"`
	Exclude      []string      `json:"exclude,omitempty"`
	BypassActors []BypassActor `json:"bypass_actors,omitempty"`
	CreatedAt    time.Time     `json:"created_at"`
	UpdatedAt    time.Time     `json:"updated_at"`
}

// BypassActor may bypass a ruleset: an App (actor_type "Integration",
// actor_id its App ID), deploy keys ("DeployKey", no ID), a team, a role.
type BypassActor struct {
	ActorID    int64  `json:"actor_id,omitempty"`
	ActorType  string `json:"actor_type"`
	BypassMode string `json:"bypass_mode"` // "always", "pull_request"
}

// PrivateRegistry is an organisation private registry configuration;
// GitHub never returns its secret, so there is none here.
type PrivateRegistry struct {
	Name          string    `json:"name"`
	RegistryType  string    `json:"registry_type"` // "maven_repository", "npm_registry", ...
	URL           string    `json:"url"`
	Username      string    `json:"username,omitempty"`
	Visibility    string    `json:"visibility"` // "all", "private", "selected"
	SelectedRepos []string  `json:"selected_repos,omitempty"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// Repo is one repository of the organisation and what lives in it.
type Repo struct {
	ID            int64     `json:"id"`
	Name          string    `json:"name"`
	Description   string    `json:"description,omitempty"`
	Private       bool      `json:"private"`
	Archived      bool      `json:"archived,omitempty"`
	DefaultBranch string    `json:"default_branch"`
	CreatedAt     time.Time `json:"created_at"`
	PushedAt      time.Time `json:"pushed_at"`

	DeployKeys        []DeployKey `json:"deploy_keys,omitempty"`
	Secrets           []Secret    `json:"secrets,omitempty"` // repo Actions secrets
	DependabotSecrets []Secret    `json:"dependabot_secrets,omitempty"`
	CodespacesSecrets []Secret    `json:"codespaces_secrets,omitempty"`
	AgentsSecrets     []Secret    `json:"agents_secrets,omitempty"` // Copilot coding agent (GitHub.com only)
	OIDCSub           *OIDCSub    `json:"oidc_sub,omitempty"`       // nil: uses the organisation's template
	Hooks             []Hook      `json:"hooks,omitempty"`
	Runners           []Runner    `json:"runners,omitempty"`
	// Environments hold environment-level Actions secrets.
	Environments []Environment `json:"environments,omitempty"`
	// Rulesets are the repository's own rulesets (their Include and
	// Exclude are not used: a repository ruleset targets its branches).
	Rulesets []Ruleset `json:"rulesets,omitempty"`

	// Context for ownership (not identities).
	Teams         []TeamAccess   `json:"teams,omitempty"`         // teams with access
	Collaborators []Collaborator `json:"collaborators,omitempty"` // direct collaborators
	CodeOwners    *CodeOwners    `json:"codeowners,omitempty"`    // nil: no CODEOWNERS file
}

// Environment is a deployment environment of a repository.
type Environment struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Secrets   []Secret  `json:"secrets,omitempty"` // environment Actions secrets
}

// TeamAccess is a team's access to one repository.
type TeamAccess struct {
	ID         int64  `json:"id"`
	Slug       string `json:"slug"`
	Name       string `json:"name"`
	Permission string `json:"permission"` // pull, triage, push, maintain, admin
}

// Collaborator is a person with direct access to one repository.
type Collaborator struct {
	Login    string `json:"login"`
	RoleName string `json:"role_name"` // read, triage, write, maintain, admin
}

// CodeOwners is a repository's CODEOWNERS file.
type CodeOwners struct {
	Path    string `json:"path"` // ".github/CODEOWNERS", "CODEOWNERS" or "docs/CODEOWNERS"
	Content string `json:"content"`
	// Dir makes Path a directory, which GitHub ignores as CODEOWNERS.
	Dir bool `json:"dir,omitempty"`
}

// PATPermissions are what a fine-grained PAT may do, by GitHub's grouping.
type PATPermissions struct {
	Organization map[string]string `json:"organization,omitempty"`
	Repository   map[string]string `json:"repository,omitempty"`
	Other        map[string]string `json:"other,omitempty"`
}

// FineGrainedPAT is a fine-grained personal access token granted access to
// the organisation's resources.
type FineGrainedPAT struct {
	ID                  int64          `json:"id"` // the grant (pat_id)
	Owner               string         `json:"owner"`
	TokenID             int64          `json:"token_id"`
	TokenName           string         `json:"token_name"`
	RepositorySelection string         `json:"repository_selection"` // none, all, subset
	Permissions         PATPermissions `json:"permissions"`
	AccessGrantedAt     time.Time      `json:"access_granted_at"`
	TokenExpired        bool           `json:"token_expired,omitempty"`
	TokenExpiresAt      *time.Time     `json:"token_expires_at,omitempty"`   // nil: never expires
	TokenLastUsedAt     *time.Time     `json:"token_last_used_at,omitempty"` // nil: never used
	// Repositories the token may reach when RepositorySelection is "subset".
	Repositories []string `json:"repositories,omitempty"`
}

// PATRequest is a pending request for a fine-grained PAT to access the
// organisation's resources.
type PATRequest struct {
	ID                  int64          `json:"id"`
	Owner               string         `json:"owner"`
	Reason              string         `json:"reason,omitempty"` // "": null
	RepositorySelection string         `json:"repository_selection"`
	Permissions         PATPermissions `json:"permissions"`
	CreatedAt           time.Time      `json:"created_at"`
	TokenID             int64          `json:"token_id"`
	TokenName           string         `json:"token_name"`
	TokenExpired        bool           `json:"token_expired,omitempty"`
	TokenExpiresAt      *time.Time     `json:"token_expires_at,omitempty"`
	TokenLastUsedAt     *time.Time     `json:"token_last_used_at,omitempty"`
	Repositories        []string       `json:"repositories,omitempty"` // when RepositorySelection is "subset"
}

// CredentialAuthorization is a credential (classic PAT, SSH key, OAuth or
// App token) a member authorized for SAML single sign-on.
type CredentialAuthorization struct {
	Login          string `json:"login"`
	CredentialID   int64  `json:"credential_id"`
	CredentialType string `json:"credential_type"` // "personal access token", "SSH key", "OAuth app token", "GitHub app token"
	// TokenLastEight is served for tokens, as GitHub does; it is part of a
	// secret and the connector must not keep it.
	TokenLastEight         string     `json:"token_last_eight,omitempty"`
	AuthorizedAt           time.Time  `json:"credential_authorized_at"`
	AccessedAt             *time.Time `json:"credential_accessed_at,omitempty"`
	Scopes                 []string   `json:"scopes,omitempty"`
	Fingerprint            string     `json:"fingerprint,omitempty"` // SSH keys
	AuthorizedCredentialID int64      `json:"authorized_credential_id,omitempty"`
	Title                  string     `json:"authorized_credential_title,omitempty"` // SSH keys
	Note                   string     `json:"authorized_credential_note,omitempty"`  // tokens
	ExpiresAt              *time.Time `json:"authorized_credential_expires_at,omitempty"`
}

// Installation is a GitHub App installed on the organisation.
type Installation struct {
	ID                  int64             `json:"id"`
	AppID               int64             `json:"app_id"`
	AppSlug             string            `json:"app_slug"`
	RepositorySelection string            `json:"repository_selection"` // "all" or "selected"
	Permissions         map[string]string `json:"permissions"`          // e.g. "contents": "write"
	Events              []string          `json:"events,omitempty"`
	CreatedAt           time.Time         `json:"created_at"`
	UpdatedAt           time.Time         `json:"updated_at"`
	SuspendedAt         *time.Time        `json:"suspended_at,omitempty"`
	SuspendedBy         string            `json:"suspended_by,omitempty"` // login
}

// DeployKey is an SSH key attached to one repository.
type DeployKey struct {
	ID        int64      `json:"id"`
	Title     string     `json:"title"`
	Key       string     `json:"key"` // public key, OpenSSH authorized_keys format
	ReadOnly  bool       `json:"read_only"`
	Verified  bool       `json:"verified"`
	Enabled   bool       `json:"enabled"`
	CreatedAt time.Time  `json:"created_at"`
	LastUsed  *time.Time `json:"last_used,omitempty"` // nil: never used
	AddedBy   string     `json:"added_by,omitempty"`  // "": GitHub returns null
	// LastUsedLeftOut serves the key without last_used at all, as GitHub's
	// description allows (the field is not required): no last use is
	// then not "never used".
	LastUsedLeftOut bool `json:"last_used_left_out,omitempty"`
}

// Secret is an Actions, Dependabot or Codespaces secret: GitHub never
// returns a value, so there is none here either.
type Secret struct {
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"` // last time the value was set
	// Visibility of an organisation secret: "all", "private" or "selected".
	// Empty for repository secrets.
	Visibility    string   `json:"visibility,omitempty"`
	SelectedRepos []string `json:"selected_repos,omitempty"` // when "selected"
}

// Hook is an organisation or repository webhook.
type Hook struct {
	ID          int64    `json:"id"`
	Active      bool     `json:"active"`
	Events      []string `json:"events"`
	URL         string   `json:"url"`          // config.url: where deliveries go
	ContentType string   `json:"content_type"` // "json" or "form"
	InsecureSSL string   `json:"insecure_ssl"` // "0" verify TLS, "1" do not
	// InsecureSSLNumber serves insecure_ssl as a JSON number (0 or 1), as
	// GitHub's description allows.
	InsecureSSLNumber bool `json:"insecure_ssl_number,omitempty"`
	// Secret is served verbatim in config.secret. Real GitHub masks it as
	// "********"; the fake serves it unmasked (use a canary) so tests can
	// prove the connector never keeps it. "" means the hook has no secret
	// and config.secret is omitted, as GitHub does.
	Secret       string       `json:"secret,omitempty"`
	CreatedAt    time.Time    `json:"created_at"`
	UpdatedAt    time.Time    `json:"updated_at"`
	LastResponse LastResponse `json:"last_response"`
}

// LastResponse is the outcome of a hook's latest delivery.
type LastResponse struct {
	Code    int    `json:"code,omitempty"`    // 0: null
	Status  string `json:"status"`            // "active", "unused", "failed"...
	Message string `json:"message,omitempty"` // "": null
}

// Runner is a self-hosted Actions runner.
type Runner struct {
	ID     int64    `json:"id"`
	Name   string   `json:"name"`
	OS     string   `json:"os"`     // "Linux", "Windows", "macOS"
	Status string   `json:"status"` // "online" or "offline"
	Busy   bool     `json:"busy"`
	Labels []string `json:"labels"` // default ones ("self-hosted", "Linux", "X64") first
	// RunnerGroupID is the runner group (1 = Default) for org runners.
	RunnerGroupID int64 `json:"runner_group_id,omitempty"`
	Ephemeral     bool  `json:"ephemeral,omitempty"`
}

// LoadOrg reads an Org from a JSON file (see testdata/github/).
func LoadOrg(path string) (*Org, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var o Org
	if err := json.Unmarshal(b, &o); err != nil {
		return nil, fmt.Errorf("githubtest: %s: %w", path, err)
	}
	if o.Login == "" {
		return nil, fmt.Errorf("githubtest: %s: org has no login", path)
	}
	return &o, nil
}

// Repo returns the repository called name, or nil.
func (o *Org) Repo(name string) *Repo {
	for _, r := range o.Repos {
		if r.Name == name {
			return r
		}
	}
	return nil
}

// Counts is how many identities of each kind an Org holds. Kinds the org
// has none of are absent.
func (o *Org) Counts() map[audit.Kind]int {
	c := map[audit.Kind]int{}
	add := func(k audit.Kind, n int) {
		if n > 0 {
			c[k] += n
		}
	}
	add(audit.KindGitHubAppInstallation, len(o.Installations))
	add(audit.KindGitHubActionsSecret, len(o.Secrets))
	add(audit.KindGitHubDependabotSecret, len(o.DependabotSecrets))
	add(audit.KindGitHubCodespacesSecret, len(o.CodespacesSecrets))
	add(audit.KindGitHubWebhook, len(o.Hooks))
	add(audit.KindGitHubRunner, len(o.Runners))
	add(audit.KindGitHubAgentsSecret, len(o.AgentsSecrets))
	add(audit.KindGitHubPrivateRegistry, len(o.PrivateRegistries))
	add(audit.KindGitHubActionsOIDC, 1)
	add(audit.KindGitHubFineGrainedPAT, len(o.FineGrainedPATs))
	add(audit.KindGitHubPATRequest, len(o.PATRequests))
	if o.SAML {
		add(audit.KindGitHubCredentialAuthorization, len(o.CredentialAuthorizations))
	}
	for _, r := range o.Repos {
		add(audit.KindGitHubDeployKey, len(r.DeployKeys))
		add(audit.KindGitHubActionsSecret, len(r.Secrets))
		add(audit.KindGitHubDependabotSecret, len(r.DependabotSecrets))
		add(audit.KindGitHubCodespacesSecret, len(r.CodespacesSecrets))
		add(audit.KindGitHubAgentsSecret, len(r.AgentsSecrets))
		if r.OIDCSub != nil && !r.OIDCSub.UseDefault {
			add(audit.KindGitHubActionsOIDC, 1)
		}
		add(audit.KindGitHubWebhook, len(r.Hooks))
		add(audit.KindGitHubRunner, len(r.Runners))
		for _, e := range r.Environments {
			add(audit.KindGitHubActionsSecret, len(e.Secrets))
		}
	}
	return c
}
