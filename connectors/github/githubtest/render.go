package githubtest

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"
)

// This file turns the model into GitHub's JSON shapes. go-github's types are
// used where they hold every field GitHub returns; where v60 lacks one, a
// wrapper adds it under GitHub's own JSON name (an outer field wins over the
// embedded one of the same name in encoding/json).

func ts(t time.Time) *github.Timestamp { return &github.Timestamp{Time: t.UTC()} }

func nodeID(prefix string, id int64) string {
	return prefix + "_kgDO" + base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprint(id)))
}

func (s *Server) user(login string, id int64, typ string) *github.User {
	kind, prefix := "users", "U"
	if typ == "Organization" {
		kind, prefix = "orgs", "O"
	}
	return &github.User{
		Login:     github.String(login),
		ID:        github.Int64(id),
		NodeID:    github.String(nodeID(prefix, id)),
		AvatarURL: github.String(fmt.Sprintf("https://avatars.githubusercontent.com/u/%d?v=4", id)),
		URL:       github.String(fmt.Sprintf("%s/%s/%s", s.base, kind, login)),
		HTMLURL:   github.String("https://github.com/" + login),
		Type:      github.String(typ),
		SiteAdmin: github.Bool(false),
	}
}

func (s *Server) orgUser() *github.User { return s.user(s.org.Login, s.org.ID, "Organization") }

func (s *Server) organization() *github.Organization {
	o := s.org
	var private int64
	for _, r := range o.Repos {
		if r.Private {
			private++
		}
	}
	return &github.Organization{
		Login:             github.String(o.Login),
		ID:                github.Int64(o.ID),
		NodeID:            github.String(nodeID("O", o.ID)),
		URL:               github.String(s.base + "/orgs/" + o.Login),
		ReposURL:          github.String(s.base + "/orgs/" + o.Login + "/repos"),
		HooksURL:          github.String(s.base + "/orgs/" + o.Login + "/hooks"),
		MembersURL:        github.String(s.base + "/orgs/" + o.Login + "/members{/member}"),
		AvatarURL:         github.String(fmt.Sprintf("https://avatars.githubusercontent.com/u/%d?v=4", o.ID)),
		HTMLURL:           github.String("https://github.com/" + o.Login),
		Name:              github.String(o.Name),
		Description:       github.String(o.Description),
		PublicRepos:       github.Int(len(o.Repos) - int(private)),
		TotalPrivateRepos: github.Int64(private),
		OwnedPrivateRepos: github.Int64(private),
		CreatedAt:         ts(o.CreatedAt),
		UpdatedAt:         ts(o.CreatedAt),
		Type:              github.String("Organization"),
	}
}

func (s *Server) repository(r *Repo) *github.Repository {
	full := s.org.Login + "/" + r.Name
	vis := "public"
	if r.Private {
		vis = "private"
	}
	return &github.Repository{
		ID:            github.Int64(r.ID),
		NodeID:        github.String(nodeID("R", r.ID)),
		Name:          github.String(r.Name),
		FullName:      github.String(full),
		Owner:         s.orgUser(),
		Private:       github.Bool(r.Private),
		HTMLURL:       github.String("https://github.com/" + full),
		Description:   github.String(r.Description),
		Fork:          github.Bool(false),
		URL:           github.String(s.base + "/repos/" + full),
		HooksURL:      github.String(s.base + "/repos/" + full + "/hooks"),
		KeysURL:       github.String(s.base + "/repos/" + full + "/keys{/key_id}"),
		CreatedAt:     ts(r.CreatedAt),
		UpdatedAt:     ts(r.PushedAt),
		PushedAt:      ts(r.PushedAt),
		DefaultBranch: github.String(r.DefaultBranch),
		Archived:      github.Bool(r.Archived),
		Disabled:      github.Bool(false),
		Visibility:    github.String(vis),
	}
}

// installationJSON: go-github v60's InstallationPermissions is a fixed
// struct that drops permission names it does not know; GitHub returns a
// plain object, so serve the map as is.
type installationJSON struct {
	*github.Installation
	Permissions map[string]string `json:"permissions"`
	// GitHub returns these as null when unset; go-github omits them.
	SuspendedBy *github.User      `json:"suspended_by"`
	SuspendedAt *github.Timestamp `json:"suspended_at"`
}

func (s *Server) installation(in *Installation) installationJSON {
	events := in.Events
	if events == nil {
		events = []string{}
	}
	out := installationJSON{
		Installation: &github.Installation{
			ID:                     github.Int64(in.ID),
			AppID:                  github.Int64(in.AppID),
			AppSlug:                github.String(in.AppSlug),
			TargetID:               github.Int64(s.org.ID),
			TargetType:             github.String("Organization"),
			Account:                s.orgUser(),
			AccessTokensURL:        github.String(fmt.Sprintf("%s/app/installations/%d/access_tokens", s.base, in.ID)),
			RepositoriesURL:        github.String(s.base + "/installation/repositories"),
			HTMLURL:                github.String(fmt.Sprintf("https://github.com/organizations/%s/settings/installations/%d", s.org.Login, in.ID)),
			RepositorySelection:    github.String(in.RepositorySelection),
			Events:                 events,
			SingleFilePaths:        []string{},
			HasMultipleSingleFiles: github.Bool(false),
			CreatedAt:              ts(in.CreatedAt),
			UpdatedAt:              ts(in.UpdatedAt),
		},
		Permissions: in.Permissions,
	}
	if in.SuspendedAt != nil {
		out.SuspendedAt = ts(*in.SuspendedAt)
		if in.SuspendedBy != "" {
			out.SuspendedBy = s.user(in.SuspendedBy, 7100000, "User")
		}
	}
	return out
}

// deployKeyJSON adds "enabled", which go-github v60's Key lacks, and serves
// added_by / last_used as null when unset, as GitHub does.
type deployKeyJSON struct {
	*github.Key
	AddedBy  *string           `json:"added_by"`
	LastUsed *github.Timestamp `json:"last_used"`
	Enabled  bool              `json:"enabled"`
}

// deployKeyWithoutLastUse is a deploy key served without last_used
// (DeployKey.LastUsedLeftOut): github.Key leaves out a nil LastUsed.
type deployKeyWithoutLastUse struct {
	*github.Key
	AddedBy *string `json:"added_by"`
	Enabled bool    `json:"enabled"`
}

func (s *Server) deployKey(r *Repo, k *DeployKey) any {
	out := s.deployKeyOf(r, k)
	if k.LastUsedLeftOut {
		return deployKeyWithoutLastUse{Key: out.Key, AddedBy: out.AddedBy, Enabled: out.Enabled}
	}
	return out
}

func (s *Server) deployKeyOf(r *Repo, k *DeployKey) deployKeyJSON {
	out := deployKeyJSON{
		Key: &github.Key{
			ID:        github.Int64(k.ID),
			Key:       github.String(k.Key),
			URL:       github.String(fmt.Sprintf("%s/repos/%s/%s/keys/%d", s.base, s.org.Login, r.Name, k.ID)),
			Title:     github.String(k.Title),
			Verified:  github.Bool(k.Verified),
			CreatedAt: ts(k.CreatedAt),
			ReadOnly:  github.Bool(k.ReadOnly),
		},
		Enabled: k.Enabled,
	}
	if k.AddedBy != "" {
		out.AddedBy = github.String(k.AddedBy)
	}
	if k.LastUsed != nil {
		out.LastUsed = ts(*k.LastUsed)
	}
	return out
}

func (s *Server) secret(sec *Secret, app string) *github.Secret {
	out := &github.Secret{
		Name:       sec.Name,
		CreatedAt:  github.Timestamp{Time: sec.CreatedAt.UTC()},
		UpdatedAt:  github.Timestamp{Time: sec.UpdatedAt.UTC()},
		Visibility: sec.Visibility,
	}
	if app != "" && sec.Visibility == "selected" {
		out.SelectedRepositoriesURL = fmt.Sprintf("%s/orgs/%s/%s/secrets/%s/repositories", s.base, s.org.Login, app, sec.Name)
	}
	return out
}

// hookJSON adds deliveries_url, which go-github v60's Hook lacks.
type hookJSON struct {
	*github.Hook
	DeliveriesURL string `json:"deliveries_url"`
	// Config replaces the embedded one, to serve insecure_ssl as a number.
	Config any `json:"config"`
}

func (s *Server) hook(h *Hook, repo *Repo) hookJSON {
	self := fmt.Sprintf("%s/orgs/%s/hooks/%d", s.base, s.org.Login, h.ID)
	typ := "Organization"
	if repo != nil {
		self = fmt.Sprintf("%s/repos/%s/%s/hooks/%d", s.base, s.org.Login, repo.Name, h.ID)
		typ = "Repository"
	}
	cfg := &github.HookConfig{
		ContentType: github.String(h.ContentType),
		InsecureSSL: github.String(h.InsecureSSL),
		URL:         github.String(h.URL),
	}
	if h.Secret != "" {
		cfg.Secret = github.String(h.Secret)
	}
	events := h.Events
	if events == nil {
		events = []string{}
	}
	gh := &github.Hook{
		Type:      github.String(typ),
		ID:        github.Int64(h.ID),
		Name:      github.String("web"),
		Active:    github.Bool(h.Active),
		Events:    events,
		Config:    cfg,
		CreatedAt: ts(h.CreatedAt),
		UpdatedAt: ts(h.UpdatedAt),
		URL:       github.String(self),
		PingURL:   github.String(self + "/pings"),
	}
	if repo != nil {
		gh.TestURL = github.String(self + "/test")
		lr := map[string]any{"code": nil, "status": h.LastResponse.Status, "message": nil}
		if h.LastResponse.Status == "" {
			lr["status"] = "unused"
		}
		if h.LastResponse.Code != 0 {
			lr["code"] = h.LastResponse.Code
		}
		if h.LastResponse.Message != "" {
			lr["message"] = h.LastResponse.Message
		}
		gh.LastResponse = lr
	}
	out := hookJSON{Hook: gh, DeliveriesURL: self + "/deliveries", Config: cfg}
	if h.InsecureSSLNumber {
		n, _ := strconv.Atoi(h.InsecureSSL)
		m := map[string]any{"content_type": h.ContentType, "insecure_ssl": n, "url": h.URL}
		if h.Secret != "" {
			m["secret"] = h.Secret
		}
		out.Config = m
	}
	return out
}

// runnerJSON adds runner_group_id and ephemeral, which go-github v60's
// Runner lacks.
type runnerJSON struct {
	*github.Runner
	RunnerGroupID int64 `json:"runner_group_id,omitempty"`
	Ephemeral     bool  `json:"ephemeral"`
}

// readOnlyLabels are the labels GitHub assigns a self-hosted runner itself.
var readOnlyLabels = map[string]bool{
	"self-hosted": true, "Linux": true, "Windows": true, "macOS": true,
	"X64": true, "ARM64": true, "ARM": true, "x64": true, "arm64": true,
}

func runner(r *Runner) runnerJSON {
	labels := make([]*github.RunnerLabels, len(r.Labels))
	for i, l := range r.Labels {
		typ := "custom"
		if readOnlyLabels[l] {
			typ = "read-only"
		}
		labels[i] = &github.RunnerLabels{
			ID:   github.Int64(int64(i + 1)),
			Name: github.String(l),
			Type: github.String(typ),
		}
	}
	return runnerJSON{
		Runner: &github.Runner{
			ID:     github.Int64(r.ID),
			Name:   github.String(r.Name),
			OS:     github.String(r.OS),
			Status: github.String(r.Status),
			Busy:   github.Bool(r.Busy),
			Labels: labels,
		},
		RunnerGroupID: r.RunnerGroupID,
		Ephemeral:     r.Ephemeral,
	}
}

// tokenUser is GET /user: the owner of the token.
func (s *Server) tokenUser() *github.User {
	u := s.user(TokenOwner, 9000001, "User")
	u.Name = github.String("NHI Auditor")
	u.Company = github.String(strings.TrimSpace(s.org.Name))
	return u
}

// patPermissionsJSON is a fine-grained PAT's permissions as GitHub groups
// them; empty groups are left out.
type patPermissionsJSON struct {
	Organization map[string]string `json:"organization,omitempty"`
	Repository   map[string]string `json:"repository,omitempty"`
	Other        map[string]string `json:"other,omitempty"`
}

// finePATJSON is an "organization-programmatic-access-grant" (not in
// go-github v60).
type finePATJSON struct {
	ID                  int64              `json:"id"`
	Owner               *github.User       `json:"owner"`
	RepositorySelection string             `json:"repository_selection"`
	RepositoriesURL     string             `json:"repositories_url"`
	Permissions         patPermissionsJSON `json:"permissions"`
	AccessGrantedAt     *github.Timestamp  `json:"access_granted_at"`
	TokenID             int64              `json:"token_id"`
	TokenName           string             `json:"token_name"`
	TokenExpired        bool               `json:"token_expired"`
	TokenExpiresAt      *github.Timestamp  `json:"token_expires_at"`
	TokenLastUsedAt     *github.Timestamp  `json:"token_last_used_at"`
}

func tsPtr(t *time.Time) *github.Timestamp {
	if t == nil {
		return nil
	}
	return ts(*t)
}

func (s *Server) finePAT(p *FineGrainedPAT) finePATJSON {
	return finePATJSON{
		ID:                  p.ID,
		Owner:               s.user(p.Owner, userID(p.Owner), "User"),
		RepositorySelection: p.RepositorySelection,
		RepositoriesURL:     fmt.Sprintf("%s/orgs/%s/personal-access-tokens/%d/repositories", s.base, s.org.Login, p.ID),
		Permissions:         patPermissionsJSON(p.Permissions),
		AccessGrantedAt:     ts(p.AccessGrantedAt),
		TokenID:             p.TokenID,
		TokenName:           p.TokenName,
		TokenExpired:        p.TokenExpired,
		TokenExpiresAt:      tsPtr(p.TokenExpiresAt),
		TokenLastUsedAt:     tsPtr(p.TokenLastUsedAt),
	}
}

// patRequestJSON is an "organization-programmatic-access-grant-request".
type patRequestJSON struct {
	ID                  int64              `json:"id"`
	Reason              *string            `json:"reason"`
	Owner               *github.User       `json:"owner"`
	RepositorySelection string             `json:"repository_selection"`
	RepositoriesURL     string             `json:"repositories_url"`
	Permissions         patPermissionsJSON `json:"permissions"`
	CreatedAt           *github.Timestamp  `json:"created_at"`
	TokenID             int64              `json:"token_id"`
	TokenName           string             `json:"token_name"`
	TokenExpired        bool               `json:"token_expired"`
	TokenExpiresAt      *github.Timestamp  `json:"token_expires_at"`
	TokenLastUsedAt     *github.Timestamp  `json:"token_last_used_at"`
}

func (s *Server) patRequest(p *PATRequest) patRequestJSON {
	out := patRequestJSON{
		ID:                  p.ID,
		Owner:               s.user(p.Owner, userID(p.Owner), "User"),
		RepositorySelection: p.RepositorySelection,
		RepositoriesURL:     fmt.Sprintf("%s/orgs/%s/personal-access-token-requests/%d/repositories", s.base, s.org.Login, p.ID),
		Permissions:         patPermissionsJSON(p.Permissions),
		CreatedAt:           ts(p.CreatedAt),
		TokenID:             p.TokenID,
		TokenName:           p.TokenName,
		TokenExpired:        p.TokenExpired,
		TokenExpiresAt:      tsPtr(p.TokenExpiresAt),
		TokenLastUsedAt:     tsPtr(p.TokenLastUsedAt),
	}
	if p.Reason != "" {
		out.Reason = github.String(p.Reason)
	}
	return out
}

// credentialAuthorizationJSON is a "credential-authorization": go-github
// v60's type omits what is null, GitHub sends the nulls.
type credentialAuthorizationJSON struct {
	Login                         string            `json:"login"`
	CredentialID                  int64             `json:"credential_id"`
	CredentialType                string            `json:"credential_type"`
	TokenLastEight                string            `json:"token_last_eight,omitempty"`
	CredentialAuthorizedAt        *github.Timestamp `json:"credential_authorized_at"`
	Scopes                        []string          `json:"scopes,omitempty"`
	Fingerprint                   string            `json:"fingerprint,omitempty"`
	CredentialAccessedAt          *github.Timestamp `json:"credential_accessed_at"`
	AuthorizedCredentialID        *int64            `json:"authorized_credential_id"`
	AuthorizedCredentialTitle     *string           `json:"authorized_credential_title"`
	AuthorizedCredentialNote      *string           `json:"authorized_credential_note"`
	AuthorizedCredentialExpiresAt *github.Timestamp `json:"authorized_credential_expires_at"`
}

func credentialAuthorization(c *CredentialAuthorization) credentialAuthorizationJSON {
	out := credentialAuthorizationJSON{
		Login:                         c.Login,
		CredentialID:                  c.CredentialID,
		CredentialType:                c.CredentialType,
		TokenLastEight:                c.TokenLastEight,
		CredentialAuthorizedAt:        ts(c.AuthorizedAt),
		Scopes:                        c.Scopes,
		Fingerprint:                   c.Fingerprint,
		CredentialAccessedAt:          tsPtr(c.AccessedAt),
		AuthorizedCredentialExpiresAt: tsPtr(c.ExpiresAt),
	}
	if c.AuthorizedCredentialID != 0 {
		out.AuthorizedCredentialID = github.Int64(c.AuthorizedCredentialID)
	}
	if c.Title != "" {
		out.AuthorizedCredentialTitle = github.String(c.Title)
	}
	if c.Note != "" {
		out.AuthorizedCredentialNote = github.String(c.Note)
	}
	return out
}

// environmentJSON serves protection_rules and deployment_branch_policy as
// GitHub does (an empty list, null) where go-github omits them.
type environmentJSON struct {
	*github.Environment
	ProtectionRules        []any `json:"protection_rules"`
	DeploymentBranchPolicy any   `json:"deployment_branch_policy"`
}

func (s *Server) environment(r *Repo, e *Environment) environmentJSON {
	full := s.org.Login + "/" + r.Name
	return environmentJSON{
		Environment: &github.Environment{
			ID:        github.Int64(e.ID),
			NodeID:    github.String(nodeID("EN", e.ID)),
			Name:      github.String(e.Name),
			URL:       github.String(fmt.Sprintf("%s/repos/%s/environments/%s", s.base, full, e.Name)),
			HTMLURL:   github.String(fmt.Sprintf("https://github.com/%s/deployments/activity_log?environments_filter=%s", full, e.Name)),
			CreatedAt: ts(e.CreatedAt),
			UpdatedAt: ts(e.UpdatedAt),
		},
		ProtectionRules: []any{},
	}
}

// repoPermissions is the permissions object of a role: each level
// implies those below it.
func repoPermissions(level string) map[string]bool {
	order := []string{"pull", "triage", "push", "maintain", "admin"}
	switch level {
	case "read":
		level = "pull"
	case "write":
		level = "push"
	}
	out := map[string]bool{}
	reached := true
	for i := len(order) - 1; i >= 0; i-- {
		if order[i] == level {
			reached = false
		}
		out[order[i]] = !reached
	}
	return out
}

func (s *Server) team(t *TeamAccess) *github.Team {
	return &github.Team{
		ID:              github.Int64(t.ID),
		NodeID:          github.String(nodeID("T", t.ID)),
		URL:             github.String(fmt.Sprintf("%s/organizations/%d/team/%d", s.base, s.org.ID, t.ID)),
		HTMLURL:         github.String(fmt.Sprintf("https://github.com/orgs/%s/teams/%s", s.org.Login, t.Slug)),
		Name:            github.String(t.Name),
		Slug:            github.String(t.Slug),
		Description:     github.String(""),
		Privacy:         github.String("closed"),
		Permission:      github.String(t.Permission),
		Permissions:     repoPermissions(t.Permission),
		MembersURL:      github.String(fmt.Sprintf("%s/organizations/%d/team/%d/members{/member}", s.base, s.org.ID, t.ID)),
		RepositoriesURL: github.String(fmt.Sprintf("%s/organizations/%d/team/%d/repos", s.base, s.org.ID, t.ID)),
	}
}

func (s *Server) collaborator(c Collaborator) *github.User {
	u := s.user(c.Login, userID(c.Login), "User")
	u.Permissions = repoPermissions(c.RoleName)
	u.RoleName = github.String(c.RoleName)
	return u
}

// content is GET /repos/{o}/{r}/contents/{path} for a file: base64 in
// lines of 60 characters, as GitHub sends it.
func (s *Server) content(r *Repo, path, text string) *github.RepositoryContent {
	enc, encoding := base64.StdEncoding.EncodeToString([]byte(text)), "base64"
	if len(text) > 1<<20 {
		// Over 1 MB GitHub leaves content empty (use the raw media type).
		enc, encoding = "", "none"
	}
	var lines []string
	for len(enc) > 60 {
		lines = append(lines, enc[:60])
		enc = enc[60:]
	}
	lines = append(lines, enc)
	sum := sha256.Sum256([]byte(text))
	sha := fmt.Sprintf("%x", sum[:20])
	full := s.org.Login + "/" + r.Name
	name := path[strings.LastIndex(path, "/")+1:]
	self := fmt.Sprintf("%s/repos/%s/contents/%s?ref=%s", s.base, full, path, r.DefaultBranch)
	return &github.RepositoryContent{
		Type:        github.String("file"),
		Encoding:    github.String(encoding),
		Size:        github.Int(len(text)),
		Name:        github.String(name),
		Path:        github.String(path),
		Content:     github.String(strings.Join(lines, "\n") + "\n"),
		SHA:         github.String(sha),
		URL:         github.String(self),
		GitURL:      github.String(fmt.Sprintf("%s/repos/%s/git/blobs/%s", s.base, full, sha)),
		HTMLURL:     github.String(fmt.Sprintf("https://github.com/%s/blob/%s/%s", full, r.DefaultBranch, path)),
		DownloadURL: github.String(fmt.Sprintf("https://raw.githubusercontent.com/%s/%s/%s", full, r.DefaultBranch, path)),
	}
}
