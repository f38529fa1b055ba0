package githubtest

import (
	"encoding/base64"
	"fmt"
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

func (s *Server) deployKey(r *Repo, k *DeployKey) deployKeyJSON {
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
	return hookJSON{Hook: gh, DeliveriesURL: self + "/deliveries"}
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
