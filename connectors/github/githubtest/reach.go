package githubtest

import (
	"fmt"
	"net/http"
	"path"
	"strconv"
	"strings"

	"github.com/google/go-github/v60/github"
)

// What identities reach, served as GitHub's description has it: the
// repositories of an org secret with visibility "selected", of a
// fine-grained PAT on a subset, of a runner group; rulesets and who may
// bypass them; Copilot coding agent secrets; private registries.

type orgRoute func(pattern string, h func(http.ResponseWriter, *http.Request, *Org))

type orgWrap func(func(http.ResponseWriter, *http.Request, *Org)) func(http.ResponseWriter, *http.Request, *Org)

func (s *Server) reachRoutes(org orgRoute, dotcomOnly orgWrap, appOnly func(string, func(http.ResponseWriter, *http.Request, *Org)) func(http.ResponseWriter, *http.Request, *Org)) {
	org("/agents/secrets", dotcomOnly(func(w http.ResponseWriter, r *http.Request, o *Org) {
		page(s, w, r, o.AgentsSecrets, "secrets", func(sec *Secret) any { return s.secret(sec, "agents") })
	}))
	for _, fam := range []string{"actions", "dependabot", "codespaces", "agents"} {
		h := func(w http.ResponseWriter, r *http.Request, o *Org) {
			list := map[string][]Secret{"actions": o.Secrets, "dependabot": o.DependabotSecrets, "codespaces": o.CodespacesSecrets, "agents": o.AgentsSecrets}[fam]
			for i := range list {
				if sec := &list[i]; sec.Name == r.PathValue("name") && sec.Visibility == "selected" {
					s.repoList(w, r, sec.SelectedRepos, true)
					return
				}
			}
			notFound(w)
		}
		if fam == "codespaces" || fam == "agents" {
			h = dotcomOnly(h)
		}
		org("/"+fam+"/secrets/{name}/repositories", h)
	}
	org("/personal-access-tokens/{id}/repositories", appOnly("organization_personal_access_tokens", func(w http.ResponseWriter, r *http.Request, o *Org) {
		for _, p := range o.FineGrainedPATs {
			if strconv.FormatInt(p.ID, 10) == r.PathValue("id") {
				s.repoList(w, r, p.Repositories, false)
				return
			}
		}
		notFound(w)
	}))
	org("/personal-access-token-requests/{id}/repositories", appOnly("organization_personal_access_token_requests", func(w http.ResponseWriter, r *http.Request, o *Org) {
		for _, p := range o.PATRequests {
			if strconv.FormatInt(p.ID, 10) == r.PathValue("id") {
				s.repoList(w, r, p.Repositories, false)
				return
			}
		}
		notFound(w)
	}))
	org("/actions/runner-groups", func(w http.ResponseWriter, r *http.Request, o *Org) {
		page(s, w, r, o.RunnerGroups, "runner_groups", s.runnerGroup)
	})
	org("/actions/runner-groups/{id}/repositories", func(w http.ResponseWriter, r *http.Request, o *Org) {
		for _, g := range o.RunnerGroups {
			if strconv.FormatInt(g.ID, 10) == r.PathValue("id") && g.Visibility == "selected" {
				s.repoList(w, r, g.SelectedRepos, true)
				return
			}
		}
		notFound(w)
	})
	org("/rulesets", func(w http.ResponseWriter, r *http.Request, o *Org) {
		// The list is a summary: who may bypass and what it targets are
		// in GET /orgs/{org}/rulesets/{id} only.
		page(s, w, r, o.Rulesets, "", func(rs *Ruleset) any {
			out := s.ruleset(rs)
			out.BypassActors, out.Conditions, out.Rules = nil, nil, nil
			return out
		})
	})
	org("/rulesets/{id}", func(w http.ResponseWriter, r *http.Request, o *Org) {
		for i := range o.Rulesets {
			if rs := &o.Rulesets[i]; strconv.FormatInt(rs.ID, 10) == r.PathValue("id") {
				writeJSON(w, s.ruleset(rs))
				return
			}
		}
		notFound(w)
	})
	org("/actions/oidc/customization/sub", func(w http.ResponseWriter, _ *http.Request, o *Org) {
		writeJSON(w, map[string]any{"include_claim_keys": nonNil(o.OIDCSubClaimKeys)})
	})
	org("/private-registries", func(w http.ResponseWriter, r *http.Request, o *Org) {
		page(s, w, r, o.PrivateRegistries, "configurations", privateRegistry)
	})
}

// repoList serves names as minimal repositories: a bare array, or wrapped
// in {"total_count", "repositories"}. Names the org does not have are
// left out.
func (s *Server) repoList(w http.ResponseWriter, r *http.Request, names []string, wrapped bool) {
	var repos []*Repo
	for _, n := range names {
		rp := s.repos[strings.ToLower(n)]
		if id, ok := s.moved[strings.ToLower(n)]; ok && rp == nil {
			rp = s.repoByID(id) // renamed since: GitHub lists it by its name now
		}
		if rp != nil {
			repos = append(repos, rp)
		}
	}
	wrap := ""
	if wrapped {
		wrap = "repositories"
	}
	page(s, w, r, repos, wrap, func(p **Repo) any { return s.repository(*p) })
}

func (s *Server) runnerGroup(g *RunnerGroup) *github.RunnerGroup {
	base := fmt.Sprintf("%s/orgs/%s/actions/runner-groups/%d", s.base, s.org.Login, g.ID)
	out := &github.RunnerGroup{
		ID:                       github.Int64(g.ID),
		Name:                     github.String(g.Name),
		Visibility:               github.String(g.Visibility),
		Default:                  github.Bool(g.Default),
		RunnersURL:               github.String(base + "/runners"),
		Inherited:                github.Bool(false),
		AllowsPublicRepositories: github.Bool(g.AllowsPublicRepositories),
		RestrictedToWorkflows:    github.Bool(false),
		SelectedWorkflows:        []string{},
	}
	if g.Visibility == "selected" {
		out.SelectedRepositoriesURL = github.String(base + "/repositories")
	}
	return out
}

// rulesetJSON adds created_at and updated_at, which go-github v60's
// Ruleset lacks.
type rulesetJSON struct {
	*github.Ruleset
	CreatedAt *github.Timestamp `json:"created_at"`
	UpdatedAt *github.Timestamp `json:"updated_at"`
}

func (s *Server) ruleset(rs *Ruleset) rulesetJSON {
	actors := make([]*github.BypassActor, 0, len(rs.BypassActors))
	for _, a := range rs.BypassActors {
		b := &github.BypassActor{ActorType: github.String(a.ActorType), BypassMode: github.String(a.BypassMode)}
		if a.ActorType != "DeployKey" && a.ActorType != "OrganizationAdmin" {
			b.ActorID = github.Int64(a.ActorID)
		}
		actors = append(actors, b)
	}
	include := rs.Include
	if len(include) == 0 {
		include = []string{"~ALL"}
	}
	exclude := rs.Exclude
	if exclude == nil {
		exclude = []string{}
	}
	return rulesetJSON{
		Ruleset: &github.Ruleset{
			ID:           github.Int64(rs.ID),
			Name:         rs.Name,
			Target:       github.String("branch"),
			SourceType:   github.String("Organization"),
			Source:       s.org.Login,
			Enforcement:  rs.Enforcement,
			BypassActors: actors,
			NodeID:       github.String(nodeID("RRS", rs.ID)),
			Conditions: &github.RulesetConditions{
				RefName:        &github.RulesetRefConditionParameters{Include: []string{"~DEFAULT_BRANCH"}, Exclude: []string{}},
				RepositoryName: &github.RulesetRepositoryNamesConditionParameters{Include: include, Exclude: exclude},
			},
			Rules: []*github.RepositoryRule{github.NewPullRequestRule(&github.PullRequestRuleParameters{RequiredApprovingReviewCount: 1})},
		},
		CreatedAt: ts(rs.CreatedAt),
		UpdatedAt: ts(rs.UpdatedAt),
	}
}

// repoRulesets are the rulesets GET /repos/{owner}/{repo}/rulesets lists:
// the repository's own and, unless includes_parents=false, the
// organisation's that target it (by repository name).
func (s *Server) repoRulesets(rp *Repo, includeParents bool) []rulesetJSON {
	var out []rulesetJSON
	for i := range rp.Rulesets {
		rs := s.ruleset(&rp.Rulesets[i])
		rs.SourceType, rs.Source = github.String("Repository"), s.org.Login+"/"+rp.Name
		rs.Conditions.RepositoryName = nil // a repository's ruleset targets its branches only
		out = append(out, rs)
	}
	if !includeParents {
		return out
	}
	match := func(pats []string) bool {
		for _, p := range pats {
			if ok, _ := path.Match(strings.ToLower(p), strings.ToLower(rp.Name)); ok || p == "~ALL" {
				return true
			}
		}
		return false
	}
	for i := range s.org.Rulesets {
		if rs := &s.org.Rulesets[i]; (len(rs.Include) == 0 || match(rs.Include)) && !match(rs.Exclude) {
			out = append(out, s.ruleset(rs))
		}
	}
	return out
}

// privateRegistryJSON is an org-private-registry-configuration (not in
// go-github v60).
type privateRegistryJSON struct {
	Name         string            `json:"name"`
	RegistryType string            `json:"registry_type"`
	URL          string            `json:"url,omitempty"`
	Username     *string           `json:"username"`
	Visibility   string            `json:"visibility"`
	CreatedAt    *github.Timestamp `json:"created_at"`
	UpdatedAt    *github.Timestamp `json:"updated_at"`
}

func privateRegistry(p *PrivateRegistry) privateRegistryJSON {
	out := privateRegistryJSON{Name: p.Name, RegistryType: p.RegistryType, URL: p.URL, Visibility: p.Visibility, CreatedAt: ts(p.CreatedAt), UpdatedAt: ts(p.UpdatedAt)}
	if p.Username != "" {
		out.Username = &p.Username
	}
	return out
}

func (s *Server) repoByID(id int64) *Repo {
	for _, r := range s.org.Repos {
		if r.ID == id {
			return r
		}
	}
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
