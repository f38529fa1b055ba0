package github_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	ghconn "github.com/nhi-audit/nhi/connectors/github"
	"github.com/nhi-audit/nhi/connectors/github/githubtest"
)

// smallOrg has one identity of each shape the connector reads, context for
// ownership, and a repository named like the organisation.
func smallOrg() *githubtest.Org {
	return &githubtest.Org{
		Login: "acme", ID: 42, Name: "Acme", CreatedAt: at("2018-01-01T00:00:00Z"),
		Members: []string{"ann", "bob", "carol", "dave"},
		Admins:  []string{"ann"},
		Installations: []githubtest.Installation{
			{
				ID: 101, AppID: 7, AppSlug: "renovate", RepositorySelection: "all",
				Permissions: map[string]string{"contents": "write", "metadata": "read", "new_fancy_permission": "admin"},
				Events:      []string{"push", "pull_request"},
				CreatedAt:   at("2021-01-02T03:04:05Z"), UpdatedAt: at("2024-01-01T00:00:00Z"),
			},
			{
				ID: 102, AppID: 8, AppSlug: "travis-ci", RepositorySelection: "selected",
				Permissions: map[string]string{"statuses": "write"},
				CreatedAt:   at("2019-05-05T00:00:00Z"), UpdatedAt: at("2023-09-01T00:00:00Z"),
				SuspendedAt: tp("2023-09-01T00:00:00Z"), SuspendedBy: "ann",
			},
		},
		FineGrainedPATs: []githubtest.FineGrainedPAT{
			{
				ID: 71, Owner: "ann", TokenID: 9001, TokenName: "release-bot", RepositorySelection: "subset", Repositories: []string{"api", "acme"},
				Permissions: githubtest.PATPermissions{
					Organization: map[string]string{"members": "read"},
					Repository:   map[string]string{"contents": "write", "metadata": "read"},
				},
				AccessGrantedAt: at("2025-01-01T00:00:00Z"), TokenExpiresAt: tp("2027-01-01T00:00:00Z"), TokenLastUsedAt: tp("2026-10-01T08:00:00Z"),
			},
			{
				ID: 72, Owner: "bob", TokenID: 9002, TokenName: "forever", RepositorySelection: "all",
				Permissions:     githubtest.PATPermissions{Repository: map[string]string{"administration": "write"}, Other: map[string]string{"gists": "write"}},
				AccessGrantedAt: at("2024-03-03T00:00:00Z"), TokenExpired: true, TokenExpiresAt: tp("2025-03-03T00:00:00Z"),
			},
		},
		PATRequests: []githubtest.PATRequest{{
			ID: 81, Owner: "bob", Reason: "Need to automate releases", RepositorySelection: "all",
			Permissions: githubtest.PATPermissions{Repository: map[string]string{"administration": "write"}},
			CreatedAt:   at("2026-10-20T00:00:00Z"), TokenID: 9100, TokenName: "admin-script",
		}},
		SAML: true,
		CredentialAuthorizations: []githubtest.CredentialAuthorization{
			{
				Login: "carol", CredentialID: 501, CredentialType: "personal access token", TokenLastEight: "CANARY08",
				AuthorizedAt: at("2024-01-01T00:00:00Z"), AccessedAt: tp("2026-10-30T00:00:00Z"),
				Scopes: []string{"repo", "admin:org"}, AuthorizedCredentialID: 601, Note: "laptop", ExpiresAt: tp("2026-12-01T00:00:00Z"),
			},
			{
				Login: "dave", CredentialID: 502, CredentialType: "SSH key", Fingerprint: "SHA256:abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
				AuthorizedAt: at("2023-01-01T00:00:00Z"), AuthorizedCredentialID: 602, Title: "work laptop",
			},
		},
		Secrets: []githubtest.Secret{
			{Name: "NPM_TOKEN", CreatedAt: at("2020-01-01T00:00:00Z"), UpdatedAt: at("2020-01-01T00:00:00Z"), Visibility: "all"},
			{Name: "DEPLOY_KEY", CreatedAt: at("2022-01-01T00:00:00Z"), UpdatedAt: at("2026-10-01T00:00:00Z"), Visibility: "selected", SelectedRepos: []string{"api"}},
		},
		DependabotSecrets: []githubtest.Secret{{Name: "NPM_REGISTRY", CreatedAt: at("2021-02-02T00:00:00Z"), UpdatedAt: at("2022-02-02T00:00:00Z"), Visibility: "private"}},
		CodespacesSecrets: []githubtest.Secret{{Name: "DEV_DB", CreatedAt: at("2021-03-03T00:00:00Z"), UpdatedAt: at("2021-03-03T00:00:00Z"), Visibility: "all"}},
		Hooks: []githubtest.Hook{{
			ID: 501, Active: true, Events: []string{"*"}, URL: "https://siem.acme.example/ingest?token=CANARY-query-token",
			ContentType: "json", InsecureSSL: "0", Secret: "CANARY-hook-secret-501",
			CreatedAt: at("2022-02-02T00:00:00Z"), UpdatedAt: at("2022-03-03T00:00:00Z"),
		}},
		Runners: []githubtest.Runner{{ID: 9, Name: "acme-linux-01", OS: "Linux", Status: "online", Busy: true, Labels: []string{"self-hosted", "Linux", "X64", "gpu"}, RunnerGroupID: 2}},
		// What identities reach (issue 11, item 10).
		RunnerGroups: []githubtest.RunnerGroup{
			{ID: 1, Name: "Default", Visibility: "all", Default: true},
			{ID: 2, Name: "gpu", Visibility: "selected", SelectedRepos: []string{"api"}},
		},
		AgentsSecrets: []githubtest.Secret{{Name: "COPILOT_MCP_TOKEN", CreatedAt: at("2026-06-01T00:00:00Z"), UpdatedAt: at("2026-06-01T00:00:00Z"), Visibility: "selected", SelectedRepos: []string{"api", "acme"}}},
		Rulesets: []githubtest.Ruleset{
			{ID: 11, Name: "protect-main", Enforcement: "active", Include: []string{"a*"}, Exclude: []string{"acme"},
				BypassActors: []githubtest.BypassActor{{ActorID: 7, ActorType: "Integration", BypassMode: "always"}, {ActorType: "DeployKey", BypassMode: "always"}, {ActorID: 1, ActorType: "OrganizationAdmin", BypassMode: "always"}},
				CreatedAt:    at("2024-01-01T00:00:00Z"), UpdatedAt: at("2024-01-01T00:00:00Z")},
			{ID: 12, Name: "old-policy", Enforcement: "disabled",
				BypassActors: []githubtest.BypassActor{{ActorID: 8, ActorType: "Integration", BypassMode: "always"}},
				CreatedAt:    at("2022-01-01T00:00:00Z"), UpdatedAt: at("2022-01-01T00:00:00Z")},
		},
		PrivateRegistries: []githubtest.PrivateRegistry{{Name: "MAVEN_ARTIFACTORY", RegistryType: "maven_repository", URL: "https://ci:CANARY-registry-pass@artifactory.acme.example/maven", Username: "ci-bot", Visibility: "all",
			CreatedAt: at("2025-02-02T00:00:00Z"), UpdatedAt: at("2025-08-08T00:00:00Z")}},
		Repos: []*githubtest.Repo{
			{
				ID: 1001, Name: "api", Private: true, DefaultBranch: "main", CreatedAt: at("2019-01-01T00:00:00Z"), PushedAt: at("2026-10-10T00:00:00Z"),
				DeployKeys: []githubtest.DeployKey{
					{ID: 201, Title: "argocd", Key: testKey, ReadOnly: true, Verified: true, Enabled: true, CreatedAt: at("2020-06-01T00:00:00Z"), LastUsed: tp("2026-10-30T12:00:00Z"), AddedBy: "bob"},
					{ID: 202, Title: "old-jenkins", Key: "ssh-rsa not-base64!", ReadOnly: false, Verified: true, Enabled: false, CreatedAt: at("2017-06-01T00:00:00Z")},
				},
				Secrets:           []githubtest.Secret{{Name: "NPM_TOKEN", CreatedAt: at("2021-01-01T00:00:00Z"), UpdatedAt: at("2025-01-01T00:00:00Z")}},
				DependabotSecrets: []githubtest.Secret{{Name: "NPM_TOKEN", CreatedAt: at("2021-04-01T00:00:00Z"), UpdatedAt: at("2021-04-01T00:00:00Z")}},
				CodespacesSecrets: []githubtest.Secret{{Name: "DEV_API_KEY", CreatedAt: at("2021-05-01T00:00:00Z"), UpdatedAt: at("2022-05-01T00:00:00Z")}},
				AgentsSecrets:     []githubtest.Secret{{Name: "COPILOT_MCP_GITHUB", CreatedAt: at("2026-07-01T00:00:00Z"), UpdatedAt: at("2026-07-01T00:00:00Z")}},
				OIDCSub:           &githubtest.OIDCSub{IncludeClaimKeys: []string{"repo", "context", "job_workflow_ref"}},
				Environments: []githubtest.Environment{{
					ID: 77, Name: "production", CreatedAt: at("2022-01-01T00:00:00Z"), UpdatedAt: at("2022-01-01T00:00:00Z"),
					Secrets: []githubtest.Secret{{Name: "DEPLOY_TOKEN", CreatedAt: at("2022-01-02T00:00:00Z"), UpdatedAt: at("2026-09-09T00:00:00Z")}},
				}},
				Hooks: []githubtest.Hook{{
					ID: 601, Active: false, Events: []string{"push", "pull_request"},
					URL:         "https://hooks.slack.com/services/T0001/B0002/CANARYslackPathToken123",
					ContentType: "form", InsecureSSL: "1",
					CreatedAt: at("2020-02-02T00:00:00Z"), UpdatedAt: at("2020-02-02T00:00:00Z"),
					LastResponse: githubtest.LastResponse{Code: 502, Status: "failed", Message: "Invalid HTTP Response: 502"},
				}},
				Runners: []githubtest.Runner{{ID: 77, Name: "bob-macbook", OS: "macOS", Status: "offline", Labels: []string{"self-hosted", "macOS", "ARM64"}}},
				Teams: []githubtest.TeamAccess{
					{ID: 1, Slug: "platform", Name: "Platform", Permission: "admin"},
					{ID: 2, Slug: "security", Name: "Security", Permission: "pull"},
					{ID: 3, Slug: "sre", Name: "SRE", Permission: "maintain"},
				},
				Collaborators: []githubtest.Collaborator{{Login: "carol", RoleName: "admin"}, {Login: "dave", RoleName: "write"}, {Login: "bob", RoleName: "triage"}},
				// Its own ruleset: only an App may bypass it, and Apps are
				// marked by the organisation's rulesets only.
				Rulesets: []githubtest.Ruleset{{ID: 21, Name: "release-tags", Enforcement: "active",
					BypassActors: []githubtest.BypassActor{{ActorID: 8, ActorType: "Integration", BypassMode: "always"}},
					CreatedAt:    at("2025-01-01T00:00:00Z"), UpdatedAt: at("2025-01-01T00:00:00Z")}},
				CodeOwners: &githubtest.CodeOwners{Path: "CODEOWNERS", Content: "# owners\n*       @acme/platform @Ann\n/docs/  @acme/docs\n*.go    dev@acme.example # Go code\n"},
			},
			{
				ID: 1002, Name: "acme", DefaultBranch: "main", CreatedAt: at("2019-01-01T00:00:00Z"), PushedAt: at("2026-01-01T00:00:00Z"),
				Secrets: []githubtest.Secret{{Name: "NPM_TOKEN", CreatedAt: at("2021-01-01T00:00:00Z"), UpdatedAt: at("2021-01-01T00:00:00Z")}},
			},
			{
				// No identities: its context is not read.
				ID: 1003, Name: "empty", DefaultBranch: "main", CreatedAt: at("2019-01-01T00:00:00Z"), PushedAt: at("2026-01-01T00:00:00Z"),
				Teams: []githubtest.TeamAccess{{ID: 1, Slug: "platform", Name: "Platform", Permission: "admin"}},
			},
		},
	}
}

// TestRunSmallOrg reads every kind as a GitHub App and checks every field
// a user would look at.
func TestRunSmallOrg(t *testing.T) {
	o := smallOrg()
	s := githubtest.NewServer(o, withApp(t))
	defer s.Close()
	opts := appOptions(t, s)
	c, err := ghconn.NewConnector("ACME", opts)
	if err != nil {
		t.Fatal(err)
	}
	if c.Source() != "github" || c.APIURL() != s.URL() || c.Account() != "acme" {
		t.Errorf("Source %q APIURL %q Account %q", c.Source(), c.APIURL(), c.Account())
	}
	cred, err := c.Credential(context.Background())
	want := "GitHub App nhi-audit (app 424242, installation 5150), permissions: administration:read, members:read, organization_administration:read, organization_personal_access_token_requests:read, organization_personal_access_tokens:read, organization_secrets:read, secrets:read"
	if err != nil || cred != want {
		t.Errorf("Credential() = %q, %v\nwant %q", cred, err, want)
	}
	rec := &recorder{}
	if err := c.Run(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	if len(rec.gaps) != 0 {
		t.Errorf("gaps: %+v", rec.gaps)
	}
	if got, min := s.Requests(), minRequests(o, true); got != min {
		t.Errorf("%d requests, the minimum is %d", got, min)
	}

	wantObs := []audit.Observation{
		{
			ID: "github:acme:github_app_installation:101", Kind: audit.KindGitHubAppInstallation,
			Name: "renovate", Scope: "acme", CreatedAt: tp("2021-01-02T03:04:05Z"),
			Permissions: map[string]string{"contents": "write", "metadata": "read", "new_fancy_permission": "admin"},
			Attributes: map[string]string{
				"app_slug": "renovate", "app_id": "7", "target_type": "Organization", "repository_selection": "all",
				"suspended": "false", "account": "acme", "updated_at": "2024-01-01T00:00:00Z", "events": "push,pull_request",
				"bypasses_rulesets": "protect-main", // not old-policy: disabled
			},
		},
		{
			ID: "github:acme:github_app_installation:102", Kind: audit.KindGitHubAppInstallation,
			Name: "travis-ci", Scope: "acme", CreatedAt: tp("2019-05-05T00:00:00Z"),
			Permissions: map[string]string{"statuses": "write"},
			Attributes: map[string]string{
				"app_slug": "travis-ci", "app_id": "8", "target_type": "Organization", "repository_selection": "selected",
				"suspended": "true", "suspended_at": "2023-09-01T00:00:00Z", "suspended_by": "ann", "account": "acme",
				"updated_at": "2023-09-01T00:00:00Z",
			},
		},
		{
			ID: "github:acme:github_fine_grained_pat:71", Kind: audit.KindGitHubFineGrainedPAT, Name: "release-bot", Scope: "acme",
			CreatedAt: tp("2025-01-01T00:00:00Z"), LastUsedAt: tp("2026-10-01T08:00:00Z"), ExpiresAt: tp("2027-01-01T00:00:00Z"),
			Permissions: map[string]string{"organization.members": "read", "repository.contents": "write", "repository.metadata": "read"},
			Attributes: map[string]string{
				"owner": "ann", "token_id": "9001", "token_name": "release-bot", "token_expired": "false", "repository_selection": "subset",
				"repositories": "acme,api", "repository_count": "2",
			},
		},
		{
			ID: "github:acme:github_fine_grained_pat:72", Kind: audit.KindGitHubFineGrainedPAT, Name: "forever", Scope: "acme",
			CreatedAt: tp("2024-03-03T00:00:00Z"), ExpiresAt: tp("2025-03-03T00:00:00Z"),
			Permissions: map[string]string{"repository.administration": "write", "other.gists": "write"},
			Attributes: map[string]string{
				"owner": "bob", "token_id": "9002", "token_name": "forever", "token_expired": "true", "repository_selection": "all",
			},
		},
		{
			ID: "github:acme:github_pat_request:81", Kind: audit.KindGitHubPATRequest, Name: "admin-script", Scope: "acme",
			CreatedAt:   tp("2026-10-20T00:00:00Z"),
			Permissions: map[string]string{"repository.administration": "write"},
			Attributes: map[string]string{
				"owner": "bob", "token_id": "9100", "token_name": "admin-script", "token_expired": "false", "repository_selection": "all",
				"status": "pending", "reason": "Need to automate releases",
			},
		},
		{
			ID: "github:acme:github_credential_authorization:501", Kind: audit.KindGitHubCredentialAuthorization, Name: "laptop", Scope: "acme",
			CreatedAt: tp("2024-01-01T00:00:00Z"), LastUsedAt: tp("2026-10-30T00:00:00Z"), ExpiresAt: tp("2026-12-01T00:00:00Z"),
			Attributes: map[string]string{
				"owner": "carol", "credential_type": "personal access token", "credential_id": "501", "scopes": "admin:org,repo",
				"authorized_credential_id": "601", "note": "laptop",
			},
		},
		{
			ID: "github:acme:github_credential_authorization:502", Kind: audit.KindGitHubCredentialAuthorization, Name: "work laptop", Scope: "acme",
			CreatedAt: tp("2023-01-01T00:00:00Z"),
			Attributes: map[string]string{
				"owner": "dave", "credential_type": "SSH key", "credential_id": "502", "fingerprint": "SHA256:abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
				"authorized_credential_id": "602", "title": "work laptop",
			},
		},
		{
			ID: "github:acme:github_actions_secret:acme/NPM_TOKEN", Kind: audit.KindGitHubActionsSecret,
			Name: "NPM_TOKEN", Scope: "acme", CreatedAt: tp("2020-01-01T00:00:00Z"), RotatedAt: tp("2020-01-01T00:00:00Z"),
			Attributes: map[string]string{"visibility": "all"},
		},
		{
			ID: "github:acme:github_actions_secret:acme/DEPLOY_KEY", Kind: audit.KindGitHubActionsSecret,
			Name: "DEPLOY_KEY", Scope: "acme", CreatedAt: tp("2022-01-01T00:00:00Z"), RotatedAt: tp("2026-10-01T00:00:00Z"),
			Attributes: map[string]string{"visibility": "selected", "repositories": "api", "repository_count": "1"},
		},
		{
			ID: "github:acme:github_dependabot_secret:acme/NPM_REGISTRY", Kind: audit.KindGitHubDependabotSecret,
			Name: "NPM_REGISTRY", Scope: "acme", CreatedAt: tp("2021-02-02T00:00:00Z"), RotatedAt: tp("2022-02-02T00:00:00Z"),
			Attributes: map[string]string{"visibility": "private"},
		},
		{
			ID: "github:acme:github_codespaces_secret:acme/DEV_DB", Kind: audit.KindGitHubCodespacesSecret,
			Name: "DEV_DB", Scope: "acme", CreatedAt: tp("2021-03-03T00:00:00Z"), RotatedAt: tp("2021-03-03T00:00:00Z"),
			Attributes: map[string]string{"visibility": "all"},
		},
		{
			ID: "github:acme:github_agents_secret:acme/COPILOT_MCP_TOKEN", Kind: audit.KindGitHubAgentsSecret,
			Name: "COPILOT_MCP_TOKEN", Scope: "acme", CreatedAt: tp("2026-06-01T00:00:00Z"), RotatedAt: tp("2026-06-01T00:00:00Z"),
			Attributes: map[string]string{"visibility": "selected", "repositories": "acme,api", "repository_count": "2"},
		},
		{
			// The URL's credentials are not kept, nor (GitHub never sends it) the secret.
			ID: "github:acme:github_private_registry:MAVEN_ARTIFACTORY", Kind: audit.KindGitHubPrivateRegistry,
			Name: "MAVEN_ARTIFACTORY", Scope: "acme", CreatedAt: tp("2025-02-02T00:00:00Z"), RotatedAt: tp("2025-08-08T00:00:00Z"),
			Attributes: map[string]string{"registry_type": "maven_repository", "visibility": "all", "username": "ci-bot",
				"url": "https://artifactory.acme.example/REDACTED", "url_redacted": "true"}, // a path segment may carry a token
		},
		{
			// The organisation's Actions OIDC tokens: GitHub's default sub.
			ID: "github:acme:github_actions_oidc:acme", Kind: audit.KindGitHubActionsOIDC, Name: "Actions OIDC tokens of acme", Scope: "acme",
			Attributes: map[string]string{"sub_claim": "default (repo:ORG/REPO then the job's context)", "sub_claim_customized": "false"},
		},
		{
			// api's own (acme uses the organisation's: no identity).
			ID: "github:acme:github_actions_oidc:acme/api", Kind: audit.KindGitHubActionsOIDC, Name: "Actions OIDC tokens of acme/api", Scope: "acme/api",
			Attributes: map[string]string{"sub_claim": "repo,context,job_workflow_ref", "sub_claim_customized": "true", "use_default": "false"},
		},
		{
			ID: "github:acme:github_webhook:acme/501", Kind: audit.KindGitHubWebhook,
			Name: "siem.acme.example/ingest", Scope: "acme", CreatedAt: tp("2022-02-02T00:00:00Z"),
			Attributes: map[string]string{
				"active": "true", "insecure_ssl": "0", "content_type": "json", "has_secret": "true", "events": "*",
				"url": "https://siem.acme.example/ingest", "url_redacted": "true", "updated_at": "2022-03-03T00:00:00Z",
			},
		},
		{
			ID: "github:acme:github_runner:acme/9", Kind: audit.KindGitHubRunner, Name: "acme-linux-01", Scope: "acme",
			Attributes: map[string]string{"status": "online", "busy": "true", "os": "Linux", "labels": "self-hosted,Linux,X64,gpu",
				"runner_group_id": "2", "runner_group": "gpu", "runner_group_visibility": "selected", "repositories": "api", "repository_count": "1"},
		},
		{
			ID: "github:acme:github_deploy_key:api/201", Kind: audit.KindGitHubDeployKey, Name: "argocd", Scope: "acme/api",
			CreatedAt: tp("2020-06-01T00:00:00Z"), LastUsedAt: tp("2026-10-30T12:00:00Z"), RotatedAt: tp("2020-06-01T00:00:00Z"),
			Permissions: map[string]string{"contents": "read"},
			Attributes: map[string]string{
				"read_only": "true", "verified": "true", "added_by": "bob", "enabled": "true",
				"key_type": "ssh-ed25519", "fingerprint": testKeyFP,
				"bypasses_rulesets": "protect-main", // it targets a*, not acme
			},
		},
		{
			ID: "github:acme:github_deploy_key:api/202", Kind: audit.KindGitHubDeployKey, Name: "old-jenkins", Scope: "acme/api",
			CreatedAt: tp("2017-06-01T00:00:00Z"), RotatedAt: tp("2017-06-01T00:00:00Z"),
			Permissions: map[string]string{"contents": "write"},
			Attributes:  map[string]string{"read_only": "false", "verified": "true", "enabled": "false", "bypasses_rulesets": "protect-main"},
		},
		{
			ID: "github:acme:github_actions_secret:acme/api/NPM_TOKEN", Kind: audit.KindGitHubActionsSecret,
			Name: "NPM_TOKEN", Scope: "acme/api", CreatedAt: tp("2021-01-01T00:00:00Z"), RotatedAt: tp("2025-01-01T00:00:00Z"),
			Attributes: map[string]string{},
		},
		{
			ID: "github:acme:github_dependabot_secret:acme/api/NPM_TOKEN", Kind: audit.KindGitHubDependabotSecret,
			Name: "NPM_TOKEN", Scope: "acme/api", CreatedAt: tp("2021-04-01T00:00:00Z"), RotatedAt: tp("2021-04-01T00:00:00Z"),
			Attributes: map[string]string{},
		},
		{
			ID: "github:acme:github_codespaces_secret:acme/api/DEV_API_KEY", Kind: audit.KindGitHubCodespacesSecret,
			Name: "DEV_API_KEY", Scope: "acme/api", CreatedAt: tp("2021-05-01T00:00:00Z"), RotatedAt: tp("2022-05-01T00:00:00Z"),
			Attributes: map[string]string{},
		},
		{
			ID: "github:acme:github_agents_secret:acme/api/COPILOT_MCP_GITHUB", Kind: audit.KindGitHubAgentsSecret,
			Name: "COPILOT_MCP_GITHUB", Scope: "acme/api", CreatedAt: tp("2026-07-01T00:00:00Z"), RotatedAt: tp("2026-07-01T00:00:00Z"),
			Attributes: map[string]string{},
		},
		{
			ID: "github:acme:github_actions_secret:acme/api/production/DEPLOY_TOKEN", Kind: audit.KindGitHubActionsSecret,
			Name: "DEPLOY_TOKEN", Scope: "acme/api/production", CreatedAt: tp("2022-01-02T00:00:00Z"), RotatedAt: tp("2026-09-09T00:00:00Z"),
			Attributes: map[string]string{"environment": "production"},
		},
		{
			ID: "github:acme:github_webhook:api/601", Kind: audit.KindGitHubWebhook,
			Name: "hooks.slack.com/services/REDACTED", Scope: "acme/api", CreatedAt: tp("2020-02-02T00:00:00Z"),
			Attributes: map[string]string{
				"active": "false", "insecure_ssl": "1", "content_type": "form", "has_secret": "false", "events": "push,pull_request",
				"url": "https://hooks.slack.com/services/REDACTED", "url_redacted": "true",
				"updated_at": "2020-02-02T00:00:00Z", "last_response": "failed", "last_response_code": "502",
			},
		},
		{
			ID: "github:acme:github_runner:api/77", Kind: audit.KindGitHubRunner, Name: "bob-macbook", Scope: "acme/api",
			Attributes: map[string]string{"status": "offline", "busy": "false", "os": "macOS", "labels": "self-hosted,macOS,ARM64"},
		},
		// The repository named like the organisation: its secret must not
		// collide with the organisation's NPM_TOKEN.
		{
			ID: "github:acme:github_actions_secret:acme/acme/NPM_TOKEN", Kind: audit.KindGitHubActionsSecret,
			Name: "NPM_TOKEN", Scope: "acme/acme", CreatedAt: tp("2021-01-01T00:00:00Z"), RotatedAt: tp("2021-01-01T00:00:00Z"),
			Attributes: map[string]string{},
		},
	}
	// Every identity of a repository carries the repository's immutable ID
	// and its key within it, which a rename does not change.
	for id, lineage := range map[string]string{
		"github:acme:github_deploy_key:api/201":                              "repository:1001/201",
		"github:acme:github_deploy_key:api/202":                              "repository:1001/202",
		"github:acme:github_actions_secret:acme/api/NPM_TOKEN":               "repository:1001/NPM_TOKEN",
		"github:acme:github_dependabot_secret:acme/api/NPM_TOKEN":            "repository:1001/NPM_TOKEN",
		"github:acme:github_codespaces_secret:acme/api/DEV_API_KEY":          "repository:1001/DEV_API_KEY",
		"github:acme:github_agents_secret:acme/api/COPILOT_MCP_GITHUB":       "repository:1001/COPILOT_MCP_GITHUB",
		"github:acme:github_actions_oidc:acme/api":                           "repository:1001/sub",
		"github:acme:github_actions_secret:acme/api/production/DEPLOY_TOKEN": "repository:1001/production/DEPLOY_TOKEN",
		"github:acme:github_webhook:api/601":                                 "repository:1001/601",
		"github:acme:github_runner:api/77":                                   "repository:1001/77",
		"github:acme:github_actions_secret:acme/acme/NPM_TOKEN":              "repository:1002/NPM_TOKEN",
		// A fine-grained token requested and granted is one lineage.
		"github:acme:github_fine_grained_pat:71": "fine-grained-token:9001",
		"github:acme:github_fine_grained_pat:72": "fine-grained-token:9002",
		"github:acme:github_pat_request:81":      "fine-grained-token:9100",
	} {
		for i := range wantObs {
			if wantObs[i].ID == id {
				wantObs[i].Attributes["lineage"] = lineage
				if r, ok := strings.CutPrefix(lineage, "repository:"); ok {
					wantObs[i].Attributes["repository_id"] = strings.Split(r, "/")[0]
					wantObs[i].Attributes["lineage"] = strings.Replace(lineage, "/", "/"+string(wantObs[i].Kind)+"/", 1)
				}
			}
		}
	}
	got := rec.byID()
	if len(rec.obs) != len(wantObs) {
		var ids []string
		for id := range got {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		t.Errorf("%d observations, want %d: %v", len(rec.obs), len(wantObs), ids)
	}
	for _, w := range wantObs {
		g, ok := got[w.ID]
		if !ok {
			t.Errorf("missing %s", w.ID)
			continue
		}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%s:\n got %s\nwant %s", w.ID, jsonString(g), jsonString(w))
		}
	}
	if k := rec.kinds(); !reflect.DeepEqual(k, o.Counts()) {
		t.Errorf("kinds %v, served %v", k, o.Counts())
	}

	wantPrincipals := []audit.Principal{
		// role=admin, then role=member: each with the role GitHub listed
		// them under, an owner never read from role=all as a member.
		{Type: "member", Scope: "acme", Login: "ann", Role: "admin"},
		{Type: "member", Scope: "acme", Login: "bob", Role: "member"},
		{Type: "member", Scope: "acme", Login: "carol", Role: "member"},
		{Type: "member", Scope: "acme", Login: "dave", Role: "member"},
		{Type: "team", Scope: "acme/api", Login: "acme/platform", Role: "admin"},
		{Type: "team", Scope: "acme/api", Login: "acme/sre", Role: "maintain"},
		{Type: "collaborator", Scope: "acme/api", Login: "carol", Role: "admin"},
		// write reaches the repository's secrets through a workflow
		// (offboarding's could-read); triage reaches none.
		{Type: "collaborator", Scope: "acme/api", Login: "dave", Role: "write"},
		{Type: "codeowner", Scope: "acme/api", Login: "acme/platform", Role: "default"},
		{Type: "codeowner", Scope: "acme/api", Login: "ann", Role: "default"},
		{Type: "codeowner", Scope: "acme/api", Login: "acme/docs", Role: "path"},
		{Type: "codeowner", Scope: "acme/api", Login: "dev@acme.example", Role: "path"},
	}
	if !reflect.DeepEqual(rec.principals, wantPrincipals) {
		t.Errorf("principals:\n got %s\nwant %s", jsonString(rec.principals), jsonString(wantPrincipals))
	}
	// Context is read only where there is something to own.
	for _, p := range []string{"/repos/acme/empty/teams", "/repos/acme/empty/collaborators", "/repos/acme/empty/contents/CODEOWNERS"} {
		if n := s.RequestsTo(p); n != 0 {
			t.Errorf("%s asked %d times for a repository without identities", p, n)
		}
	}
	wantUnits := []string{
		"org:rulesets", "org:members", "org:installations", "org:personal-access-tokens", "org:personal-access-token-requests",
		"org:credential-authorizations", "org:actions-secrets", "org:dependabot-secrets", "org:codespaces-secrets",
		"org:agents-secrets", "org:private-registries", "org:actions-oidc", "org:hooks", "org:runners",
	}
	// What the repository list says of the credential's view comes last,
	// once every repository on it is read.
	if !reflect.DeepEqual(rec.order[:len(wantUnits)], wantUnits) || len(rec.order) != len(wantUnits)+4 || rec.order[len(rec.order)-1] != "org:repos" {
		t.Errorf("checkpoints %v", rec.order)
	}
	for _, r := range []string{"repo:api", "repo:acme", "repo:empty"} {
		if !rec.units[r] {
			t.Errorf("%s not checkpointed", r)
		}
	}
	assertNoLeak(t, rec, "CANARY", "AAAAC3NzaC1lZDI1NTE5", "not-base64")
}

// assertNoLeak fails if any of needles appears in anything recorded.
func assertNoLeak(t *testing.T, rec *recorder, needles ...string) {
	t.Helper()
	all := jsonString(struct {
		Obs        []audit.Observation
		Gaps       []audit.Gap
		Principals []audit.Principal
	}{rec.obs, rec.gaps, rec.principals})
	for _, n := range containsAny(all, needles) {
		t.Errorf("%q leaked into what was recorded", n)
	}
}

// TestClassicToken: a classic token cannot read fine-grained PATs or
// requests, and a non-SAML organisation has no credential authorizations:
// three gaps that say so, never zero identities.
func TestClassicToken(t *testing.T) {
	o := smallOrg()
	o.SAML = false
	s := githubtest.NewServer(o)
	defer s.Close()
	c, err := ghconn.NewFromToken(s.URL(), s.Token(), "acme", s.Client())
	if err != nil {
		t.Fatal(err)
	}
	cred, err := c.Credential(context.Background())
	if want := "nhi-auditor (classic token, scopes: admin:org, repo, read:user)"; err != nil || cred != want {
		t.Errorf("Credential() = %q, %v; want %q", cred, err, want)
	}
	rec := &recorder{}
	if err := c.Run(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	wantGaps := []audit.Gap{
		{Endpoint: "GET /orgs/acme/personal-access-tokens", Kind: audit.KindGitHubFineGrainedPAT, Scope: "acme", Status: 403},
		{Endpoint: "GET /orgs/acme/personal-access-token-requests", Kind: audit.KindGitHubPATRequest, Scope: "acme", Status: 403},
		{Endpoint: "GET /orgs/acme/credential-authorizations", Kind: audit.KindGitHubCredentialAuthorization, Scope: "acme", Status: 404},
	}
	if len(rec.gaps) != len(wantGaps) {
		t.Fatalf("gaps %v", rec.gapEndpoints())
	}
	for i, g := range rec.gaps {
		reason := g.Reason
		g.Reason = ""
		if g != wantGaps[i] {
			t.Errorf("gap %+v, want %+v", g, wantGaps[i])
		}
		for _, w := range []string{"needs", fmt.Sprint(wantGaps[i].Status)} {
			if !strings.Contains(reason, w) {
				t.Errorf("gap reason %q lacks %q", reason, w)
			}
		}
	}
	if !strings.Contains(rec.gaps[0].Reason, "GitHub App") || !strings.Contains(rec.gaps[2].Reason, "SAML single sign-on") {
		t.Errorf("reasons do not say what is missing: %q / %q", rec.gaps[0].Reason, rec.gaps[2].Reason)
	}
	k := rec.kinds()
	for _, kind := range []audit.Kind{audit.KindGitHubFineGrainedPAT, audit.KindGitHubPATRequest, audit.KindGitHubCredentialAuthorization} {
		if k[kind] != 0 {
			t.Errorf("%d %s recorded from an unreadable endpoint", k[kind], kind)
		}
	}
	if got, min := s.Requests(), minRequests(o, false); got != min {
		t.Errorf("%d requests, the minimum is %d", got, min)
	}
}

func TestPagination(t *testing.T) {
	o := &githubtest.Org{Login: "big", ID: 1, Name: "Big", Members: []string{"a"}, Admins: []string{"a"}}
	for i := range 250 {
		o.Repos = append(o.Repos, &githubtest.Repo{ID: int64(i + 1), Name: fmt.Sprintf("r%03d", i), DefaultBranch: "main"})
	}
	for i := range 250 {
		o.Repos[7].DeployKeys = append(o.Repos[7].DeployKeys, githubtest.DeployKey{
			ID: int64(1000 + i), Title: fmt.Sprintf("key-%d", i), Key: testKey, ReadOnly: true, CreatedAt: at("2024-01-01T00:00:00Z"),
		})
	}
	for i := range 101 {
		o.Installations = append(o.Installations, githubtest.Installation{
			ID: int64(5000 + i), AppID: int64(i), AppSlug: fmt.Sprintf("app-%d", i), RepositorySelection: "selected",
			CreatedAt: at("2024-01-01T00:00:00Z"), UpdatedAt: at("2024-01-01T00:00:00Z"),
		})
	}
	for i := range 200 {
		o.Secrets = append(o.Secrets, githubtest.Secret{Name: fmt.Sprintf("S_%d", i), CreatedAt: at("2024-01-01T00:00:00Z"), UpdatedAt: at("2024-01-01T00:00:00Z"), Visibility: "private"})
		o.Runners = append(o.Runners, githubtest.Runner{ID: int64(i + 1), Name: fmt.Sprintf("run-%d", i), OS: "Linux", Status: "online", Labels: []string{"self-hosted"}})
	}
	s := githubtest.NewServer(o)
	defer s.Close()
	rec, err := run(t, s, "big")
	if err != nil {
		t.Fatal(err)
	}
	checkCounts(t, o, rec)
	if got, want := s.Requests(), minRequests(o, false); got != want {
		t.Errorf("%d requests, want %d", got, want)
	}
	if got := s.RequestsTo("/repos/big/r007/keys"); got != 3 {
		t.Errorf("%d requests for 250 keys, want 3", got)
	}
}

func checkCounts(t *testing.T, o *githubtest.Org, rec *recorder) {
	t.Helper()
	want, got := o.Counts(), rec.kinds()
	for _, k := range audit.Kinds {
		if got[k] != want[k] {
			t.Errorf("%s: %d recorded, %d served", k, got[k], want[k])
		}
	}
}

// TestRunSampleOrgRequests reads a mid-size sample organisation as an App:
// every identity, in no more than 1.05 times the fewest requests possible.
func TestRunSampleOrgRequests(t *testing.T) {
	o := githubtest.SampleOrg(200)
	s := githubtest.NewServer(o, withApp(t))
	defer s.Close()
	rec, err := runWith(t, githubtest.SampleLogin, appOptions(t, s))
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.gaps) != 0 {
		t.Errorf("gaps %v", rec.gapEndpoints())
	}
	checkCounts(t, o, rec)
	got, min := s.Requests(), minRequests(o, true)
	if float64(got) > 1.05*float64(min) {
		t.Errorf("%d requests, more than 1.05 x the minimum %d", got, min)
	}
	t.Logf("%d identities in %d requests (minimum %d, ratio %.3f)", len(rec.obs), got, min, float64(got)/float64(min))
	for _, ob := range rec.obs {
		if ob.Name == "" || ob.Scope == "" || !strings.HasPrefix(ob.ID, "github:northwind:"+string(ob.Kind)+":") {
			t.Errorf("observation %+v", ob)
		}
	}
}

// TestSecretsNeverRecorded: the fake serves every webhook secret unmasked
// (a canary), deploy key material, token-bearing webhook URLs and the last
// eight characters of SSO-authorized tokens; none of it may be recorded.
func TestSecretsNeverRecorded(t *testing.T) {
	o := githubtest.SampleOrg(githubtest.DefaultSampleRepos)
	needles := sampleNeedles(t, o)
	s := githubtest.NewServer(o, withApp(t))
	defer s.Close()
	rec, err := runWith(t, githubtest.SampleLogin, appOptions(t, s))
	if err != nil {
		t.Fatal(err)
	}
	assertNoLeak(t, rec, needles...)
	withSecret, has := 0, 0
	for _, h := range allHooks(o) {
		if h.Secret != "" {
			withSecret++
		}
	}
	for _, ob := range rec.obs {
		if ob.Kind == audit.KindGitHubWebhook && ob.Attributes["has_secret"] == "true" {
			has++
		}
	}
	if has != withSecret || withSecret == 0 {
		t.Errorf("has_secret=true on %d hooks, %d have one", has, withSecret)
	}
}

func allHooks(o *githubtest.Org) []githubtest.Hook {
	hooks := append([]githubtest.Hook(nil), o.Hooks...)
	for _, r := range o.Repos {
		hooks = append(hooks, r.Hooks...)
	}
	return hooks
}

// sampleNeedles is every piece of secret material o serves.
func sampleNeedles(t testing.TB, o *githubtest.Org) []string {
	needles := []string{"CANARY"}
	for _, r := range o.Repos {
		for _, k := range r.DeployKeys {
			needles = append(needles, strings.Fields(k.Key)[1][20:60])
		}
	}
	for _, h := range allHooks(o) {
		// the last path segment or query value of token-bearing URLs
		if i := strings.LastIndexAny(h.URL, "/="); i >= 0 && len(h.URL)-i > 12 {
			needles = append(needles, h.URL[i+1:])
		}
	}
	last8 := 0
	for _, c := range o.CredentialAuthorizations {
		if c.TokenLastEight != "" {
			needles = append(needles, `"`+c.TokenLastEight+`"`, ":"+c.TokenLastEight)
			last8++
		}
	}
	if len(needles) < 20 || last8 == 0 {
		t.Fatalf("%d needles, %d token_last_eight: nothing to prove", len(needles), last8)
	}
	return needles
}

func TestCredential(t *testing.T) {
	s := githubtest.NewServer(smallOrg(), githubtest.WithScopes(""))
	defer s.Close()
	c, err := ghconn.NewFromToken(s.URL(), s.Token(), "acme", s.Client())
	if err != nil {
		t.Fatal(err)
	}
	cred, err := c.Credential(context.Background())
	if want := "nhi-auditor (token without OAuth scopes: fine-grained PAT or GitHub App)"; err != nil || cred != want {
		t.Errorf("Credential() = %q, %v; want %q", cred, err, want)
	}

	// An installation token may not read /user: not an error, and the run goes on.
	s.Fail("/user", http.StatusForbidden)
	c, _ = ghconn.NewFromToken(s.URL(), s.Token(), "acme", s.Client())
	cred, err = c.Credential(context.Background())
	if err != nil || !strings.Contains(cred, "unknown") || !strings.Contains(cred, "403") {
		t.Errorf("Credential() with 403 = %q, %v", cred, err)
	}
	if err := c.Run(context.Background(), &recorder{}); err != nil {
		t.Errorf("Run after 403 on /user: %v", err)
	}

	c, _ = ghconn.NewFromToken(s.URL(), "ghp_wrong", "acme", s.Client())
	if _, err := c.Credential(context.Background()); !errors.Is(err, ghconn.ErrBadCredentials) {
		t.Errorf("Credential() with a bad token: %v", err)
	}
}

func TestNewConnector(t *testing.T) {
	c, err := ghconn.NewFromToken("https://ghe.example.com/api/v3", "t", "acme", nil)
	if err != nil || c.APIURL() != "https://ghe.example.com/api/v3/" {
		t.Errorf("APIURL %q %v", c.APIURL(), err)
	}
	c, err = ghconn.NewFromToken("", "t", "acme", nil)
	if err != nil || c.APIURL() != "https://api.github.com/" || c.Account() != "acme" {
		t.Errorf("default APIURL %q %v", c.APIURL(), err)
	}
	for _, bad := range []string{"ftp://x/", "not a url", "//nohost"} {
		if _, err := ghconn.NewFromToken(bad, "t", "acme", nil); err == nil {
			t.Errorf("API URL %q accepted", bad)
		}
	}
	if _, err := ghconn.NewFromToken("", "t", " ", nil); err == nil {
		t.Error("empty org accepted")
	}
	for _, app := range []*ghconn.AppAuth{
		{AppID: 1, PrivateKey: []byte("not a key")},
		{AppID: 1, PrivateKey: []byte("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n")},
	} {
		if _, err := ghconn.NewConnector("acme", ghconn.Options{App: app}); err == nil || !strings.Contains(err.Error(), "key") {
			t.Errorf("App key %q: %v", app.PrivateKey, err)
		}
	}
	_, pemBytes := testAppKey(t)
	if _, err := ghconn.NewConnector("acme", ghconn.Options{App: &ghconn.AppAuth{PrivateKey: pemBytes}}); err == nil {
		t.Error("App without an ID accepted")
	}
}
