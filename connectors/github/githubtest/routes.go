package githubtest

import (
	"context"
	"crypto/sha256"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"
)

// This file maps GitHub's REST paths to the model, with http.ServeMux
// method and path patterns. Every list goes through one helper, page,
// which paginates as GitHub does (see paginate).

type whoKey struct{}

type viewKey struct{}

// handle answers a request that passed authentication and faults.
func (s *Server) handle(w http.ResponseWriter, r *http.Request, who auth, view *Viewer, now time.Time) {
	path := strings.Trim(r.URL.EscapedPath(), "/")
	if who == authJWT || strings.HasPrefix(path, "app/") || path == "app" {
		s.serveApp(w, r, who, now)
		return
	}
	s.dataMu.RLock()
	defer s.dataMu.RUnlock()
	ctx := context.WithValue(context.WithValue(r.Context(), whoKey{}, who), viewKey{}, view)
	s.mux.ServeHTTP(w, r.WithContext(ctx))
}

func whoOf(r *http.Request) auth { a, _ := r.Context().Value(whoKey{}).(auth); return a }

func viewOf(r *http.Request) *Viewer { v, _ := r.Context().Value(viewKey{}).(*Viewer); return v }

// sees reports whether the request's credential may see repo.
func sees(r *http.Request, repo *Repo) bool { return viewOf(r).sees(repo.Name) }

// routes builds the request router. Handlers run with the data read-locked.
func (s *Server) routes() *http.ServeMux {
	m := http.NewServeMux()
	m.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { notFound(w) })
	m.HandleFunc("GET /user", func(w http.ResponseWriter, r *http.Request) {
		if whoOf(r) == authInstallation {
			writeRaw(w, http.StatusForbidden, errorBody(http.StatusForbidden, "Resource not accessible by integration"))
			return
		}
		writeJSON(w, s.tokenUser())
	})

	org := func(pattern string, h func(http.ResponseWriter, *http.Request, *Org)) {
		m.HandleFunc("GET /orgs/{org}"+pattern, func(w http.ResponseWriter, r *http.Request) {
			if !strings.EqualFold(r.PathValue("org"), s.org.Login) {
				notFound(w)
				return
			}
			h(w, r, s.org)
		})
	}
	m.HandleFunc("GET /meta", func(w http.ResponseWriter, _ *http.Request) {
		meta := map[string]any{"verifiable_password_authentication": true}
		if s.ghes != "" {
			meta["installed_version"] = s.ghes
		}
		writeJSON(w, meta)
	})
	// What GitHub Enterprise Server does not have.
	dotcomOnly := func(h func(http.ResponseWriter, *http.Request, *Org)) func(http.ResponseWriter, *http.Request, *Org) {
		return func(w http.ResponseWriter, r *http.Request, o *Org) {
			if s.ghes != "" {
				notFound(w)
				return
			}
			h(w, r, o)
		}
	}
	org("", func(w http.ResponseWriter, r *http.Request, _ *Org) {
		o := s.organization()
		if v := viewOf(r); v != nil && v.Member {
			o.TotalPrivateRepos, o.OwnedPrivateRepos = nil, nil
		}
		writeJSON(w, o)
	})
	org("/members", s.members)
	org("/teams/{team}/members", s.teamMembers)
	s.graphqlRoute(m)
	org("/repos", func(w http.ResponseWriter, r *http.Request, o *Org) {
		repos := o.Repos
		if v := viewOf(r); v != nil && v.Repos != nil {
			repos = nil
			for _, rp := range o.Repos {
				if sees(r, rp) {
					repos = append(repos, rp)
				}
			}
		}
		page(s, w, r, repos, "", func(p **Repo) any { return s.repository(*p) })
	})
	org("/installations", func(w http.ResponseWriter, r *http.Request, o *Org) {
		page(s, w, r, o.Installations, "installations", s.installation)
	})
	appOnly := func(perm string, h func(http.ResponseWriter, *http.Request, *Org)) func(http.ResponseWriter, *http.Request, *Org) {
		return func(w http.ResponseWriter, r *http.Request, o *Org) {
			if whoOf(r) != authInstallation {
				w.Header().Set("X-Accepted-GitHub-Permissions", perm+"=read")
				// Only GitHub Apps may read these (GitHub's docs).
				writeRaw(w, http.StatusForbidden, errorBody(http.StatusForbidden, "Resource not accessible by personal access token"))
				return
			}
			h(w, r, o)
		}
	}
	org("/personal-access-tokens", appOnly("organization_personal_access_tokens", func(w http.ResponseWriter, r *http.Request, o *Org) {
		page(s, w, r, o.FineGrainedPATs, "", s.finePAT)
	}))
	org("/personal-access-token-requests", appOnly("organization_personal_access_token_requests", func(w http.ResponseWriter, r *http.Request, o *Org) {
		page(s, w, r, o.PATRequests, "", s.patRequest)
	}))
	org("/credential-authorizations", dotcomOnly(func(w http.ResponseWriter, r *http.Request, o *Org) {
		if !o.SAML {
			notFound(w)
			return
		}
		page(s, w, r, o.CredentialAuthorizations, "", credentialAuthorization)
	}))
	for _, fam := range []string{"actions", "dependabot", "codespaces"} {
		h := func(w http.ResponseWriter, r *http.Request, o *Org) {
			list := map[string][]Secret{"actions": o.Secrets, "dependabot": o.DependabotSecrets, "codespaces": o.CodespacesSecrets}[fam]
			page(s, w, r, list, "secrets", func(sec *Secret) any { return s.secret(sec, fam) })
		}
		if fam == "codespaces" {
			h = dotcomOnly(h)
		}
		org("/"+fam+"/secrets", h)
	}
	s.reachRoutes(org, dotcomOnly, appOnly)
	org("/hooks", func(w http.ResponseWriter, r *http.Request, o *Org) {
		page(s, w, r, o.Hooks, "", func(h *Hook) any { return s.hook(h, nil) })
	})
	org("/actions/runners", func(w http.ResponseWriter, r *http.Request, o *Org) {
		page(s, w, r, o.Runners, "runners", runner)
	})

	repo := func(pattern string, h func(http.ResponseWriter, *http.Request, *Repo)) {
		m.HandleFunc("GET /repos/{owner}/{repo}"+pattern, func(w http.ResponseWriter, r *http.Request) {
			rp := s.repos[strings.ToLower(r.PathValue("repo"))]
			if id, ok := s.moved[strings.ToLower(r.PathValue("repo"))]; ok && rp == nil && strings.EqualFold(r.PathValue("owner"), s.org.Login) {
				s.movedPermanently(w, r, id)
				return
			}
			if !strings.EqualFold(r.PathValue("owner"), s.org.Login) || rp == nil || !sees(r, rp) {
				notFound(w)
				return
			}
			h(w, r, rp)
		})
	}
	// A repository by its immutable ID, where a renamed one's old name
	// leads: served as /repos/{org}/{its name now}/….
	m.HandleFunc("GET /repositories/{id}/{rest...}", func(w http.ResponseWriter, r *http.Request) {
		for _, rp := range s.org.Repos {
			if strconv.FormatInt(rp.ID, 10) == r.PathValue("id") {
				r2 := r.Clone(r.Context())
				r2.URL.Path = "/repos/" + s.org.Login + "/" + rp.Name + "/" + r.PathValue("rest")
				r2.URL.RawPath = ""
				m.ServeHTTP(w, r2)
				return
			}
		}
		notFound(w)
	})
	repo("", func(w http.ResponseWriter, _ *http.Request, rp *Repo) { writeJSON(w, s.repository(rp)) })
	repo("/keys", func(w http.ResponseWriter, r *http.Request, rp *Repo) {
		page(s, w, r, rp.DeployKeys, "", func(k *DeployKey) any { return s.deployKey(rp, k) })
	})
	secrets := func(list func(*Repo) []Secret) func(http.ResponseWriter, *http.Request, *Repo) {
		return func(w http.ResponseWriter, r *http.Request, rp *Repo) {
			page(s, w, r, list(rp), "secrets", func(sec *Secret) any { return s.secret(sec, "") })
		}
	}
	repo("/actions/secrets", secrets(func(rp *Repo) []Secret { return rp.Secrets }))
	repo("/dependabot/secrets", secrets(func(rp *Repo) []Secret { return rp.DependabotSecrets }))
	repo("/codespaces/secrets", func(w http.ResponseWriter, r *http.Request, rp *Repo) {
		if s.ghes != "" {
			notFound(w)
			return
		}
		secrets(func(rp *Repo) []Secret { return rp.CodespacesSecrets })(w, r, rp)
	})
	repo("/environments/{env}/secrets", func(w http.ResponseWriter, r *http.Request, rp *Repo) {
		for i := range rp.Environments {
			if e := &rp.Environments[i]; e.Name == r.PathValue("env") {
				secrets(func(*Repo) []Secret { return e.Secrets })(w, r, rp)
				return
			}
		}
		notFound(w)
	})
	repo("/actions/oidc/customization/sub", func(w http.ResponseWriter, _ *http.Request, rp *Repo) {
		if rp.OIDCSub == nil || rp.OIDCSub.UseDefault {
			writeJSON(w, map[string]any{"use_default": true})
			return
		}
		writeJSON(w, &github.OIDCSubjectClaimCustomTemplate{UseDefault: github.Bool(false), IncludeClaimKeys: rp.OIDCSub.IncludeClaimKeys})
	})
	repo("/agents/secrets", func(w http.ResponseWriter, r *http.Request, rp *Repo) {
		if s.ghes != "" {
			notFound(w)
			return
		}
		secrets(func(rp *Repo) []Secret { return rp.AgentsSecrets })(w, r, rp)
	})
	repo("/hooks", func(w http.ResponseWriter, r *http.Request, rp *Repo) {
		page(s, w, r, rp.Hooks, "", func(h *Hook) any { return s.hook(h, rp) })
	})
	repo("/actions/runners", func(w http.ResponseWriter, r *http.Request, rp *Repo) {
		page(s, w, r, rp.Runners, "runners", runner)
	})
	repo("/environments", func(w http.ResponseWriter, r *http.Request, rp *Repo) {
		page(s, w, r, rp.Environments, "environments", func(e *Environment) any { return s.environment(rp, e) })
	})
	repo("/rulesets", func(w http.ResponseWriter, r *http.Request, rp *Repo) {
		// The repository's own rulesets, and (includes_parents, true
		// unless "false") the organisation's that target it, as summaries.
		list := s.repoRulesets(rp, r.URL.Query().Get("includes_parents") != "false")
		page(s, w, r, list, "", func(rs *rulesetJSON) any {
			out := *rs
			rc := *out.Ruleset
			rc.BypassActors, rc.Conditions, rc.Rules = nil, nil, nil
			out.Ruleset = &rc
			return out
		})
	})
	repo("/rulesets/{id}", func(w http.ResponseWriter, r *http.Request, rp *Repo) {
		for _, rs := range s.repoRulesets(rp, r.URL.Query().Get("includes_parents") != "false") {
			if strconv.FormatInt(rs.GetID(), 10) == r.PathValue("id") {
				writeJSON(w, rs)
				return
			}
		}
		notFound(w)
	})
	repo("/teams", func(w http.ResponseWriter, r *http.Request, rp *Repo) {
		page(s, w, r, rp.Teams, "", func(t *TeamAccess) any { return s.team(t) })
	})
	repo("/collaborators", func(w http.ResponseWriter, r *http.Request, rp *Repo) {
		list := rp.Collaborators
		if r.URL.Query().Get("affiliation") == "outside" {
			list = nil
			for _, c := range rp.Collaborators {
				if !s.isMember(c.Login) {
					list = append(list, c)
				}
			}
		}
		page(s, w, r, list, "", func(c *Collaborator) any { return s.collaborator(*c) })
	})
	repo("/contents/{path...}", func(w http.ResponseWriter, r *http.Request, rp *Repo) {
		// Only the CODEOWNERS file exists.
		co := rp.CodeOwners
		switch {
		case co == nil || co.Path != r.PathValue("path"):
			notFound(w)
		case co.Dir:
			writeJSON(w, []any{s.content(rp, co.Path+"/README", "a directory, not a file")})
		case strings.Contains(r.Header.Get("Accept"), "raw"):
			// application/vnd.github.raw+json: the file itself, any size.
			w.Header().Set("Content-Type", "application/vnd.github.raw; charset=utf-8")
			writeRaw(w, http.StatusOK, co.Content)
		default:
			writeJSON(w, s.content(rp, co.Path, co.Content))
		}
	})
	return m
}

// page serves the requested page of items, each rendered by render, as a
// JSON array, or as {"total_count": N, wrap: [...]} when wrap is set (the
// shape of GitHub's secrets, runners, installations and environments).
// ServeFewer leaves out the last items of a wrapped list, not of its
// total_count.
func page[T any, R any](s *Server, w http.ResponseWriter, r *http.Request, items []T, wrap string, render func(*T) R) {
	total := len(items)
	if wrap != "" {
		if n := s.servedFewer(r.URL.Path); n > 0 {
			items = items[:max(0, len(items)-n)]
		}
	}
	lo, hi := s.paginate(w, r, len(items))
	out := make([]any, 0, hi-lo)
	for i := lo; i < hi; i++ {
		out = append(out, render(&items[i]))
	}
	if wrap == "" {
		writeJSON(w, out)
		return
	}
	writeJSON(w, map[string]any{"total_count": total, wrap: out})
}

func (s *Server) isMember(login string) bool {
	for _, m := range s.org.Members {
		if strings.EqualFold(m, login) {
			return true
		}
	}
	return false
}

// members serves GET /orgs/{org}/members?role=all|admin|member. ServeFewer
// cuts each role's list, or one alone when its path names it
// ("/orgs/{org}/members?role=admin").
func (s *Server) members(w http.ResponseWriter, r *http.Request, o *Org) {
	m := o.Members
	role := r.URL.Query().Get("role")
	switch role {
	case "admin":
		m = o.Admins
	case "member":
		admin := map[string]bool{}
		for _, a := range o.Admins {
			admin[a] = true
		}
		m = nil
		for _, l := range o.Members {
			if !admin[l] {
				m = append(m, l)
			}
		}
	}
	if role == "" {
		role = "all"
	}
	fewer := s.servedFewer(r.URL.Path) + s.servedFewer(r.URL.Path+"?role="+role)
	m = m[:max(0, len(m)-fewer)] // ServeFewer: GraphQL still counts them
	page(s, w, r, m, "", func(login *string) any { return s.user(*login, userID(*login), "User") })
}

// userID is a stable made-up ID for a login.
func userID(login string) int64 {
	sum := sha256.Sum256([]byte(login))
	var n int64
	for _, b := range sum[:3] {
		n = n<<8 | int64(b)
	}
	return 7000000 + n
}

// segments splits an escaped path and unescapes each part, so an
// environment called "a/b" (sent as a%2Fb) stays one segment.
func segments(escaped string) []string {
	parts := strings.Split(strings.Trim(escaped, "/"), "/")
	for i, p := range parts {
		if u, err := url.PathUnescape(p); err == nil {
			parts[i] = u
		}
	}
	return parts
}

// movedPermanently answers a request for a renamed repository's old name
// as GitHub does: 301 to the same path under /repositories/{id}, with
// GitHub's error body.
func (s *Server) movedPermanently(w http.ResponseWriter, r *http.Request, id int64) {
	rest := strings.TrimPrefix(r.URL.EscapedPath(), "/repos/"+r.PathValue("owner")+"/"+url.PathEscape(r.PathValue("repo")))
	loc := s.base + s.prefix + "/repositories/" + strconv.FormatInt(id, 10) + rest
	if r.URL.RawQuery != "" {
		loc += "?" + r.URL.RawQuery
	}
	w.Header().Set("Location", loc)
	writeRaw(w, http.StatusMovedPermanently, `{"message":"Moved Permanently","url":"`+loc+`","documentation_url":"`+docsURL+`/guides/best-practices-for-using-the-rest-api#follow-redirects"}`)
}
