package githubtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultToken is the token a Server accepts unless [WithToken] says otherwise.
const DefaultToken = "ghp_githubtest"

// TokenOwner is the login GET /user answers with.
const TokenOwner = "nhi-auditor"

// DefaultScopes is what the X-OAuth-Scopes header reports unless [WithScopes]
// says otherwise.
const DefaultScopes = "admin:org, repo, read:user"

// DefaultRateLimit is the X-RateLimit-Limit of a Server without [WithRateLimit].
const DefaultRateLimit = 5000

const docsURL = "https://docs.github.com/rest"

// FaultFunc decides whether a request fails. When ok, the server answers
// status with body (sent verbatim: it may be malformed JSON on purpose)
// instead of the real response. Faults run after the token check.
type FaultFunc func(r *http.Request) (status int, body string, ok bool)

// Option configures a Server.
type Option func(*Server)

// WithToken sets the only token the server accepts.
func WithToken(token string) Option { return func(s *Server) { s.token = token } }

// WithScopes sets the X-OAuth-Scopes header (classic PAT scopes); "" leaves
// it out, as for a fine-grained PAT or an App token.
func WithScopes(scopes string) Option { return func(s *Server) { s.scopes = scopes } }

// WithFault adds a fault; faults are tried in the order they were added.
func WithFault(f FaultFunc) Option { return func(s *Server) { s.faults = append(s.faults, f) } }

// WithRateLimit sets the primary rate limit reported in X-RateLimit-Limit
// (default [DefaultRateLimit]). With enforce, once limit requests are spent
// every request gets 403 "API rate limit exceeded" with
// X-RateLimit-Remaining: 0 until the reset time (an hour after start), as
// GitHub does. Without it the budget silently refills when spent, as if the
// hour had passed, so large demos never stall: Remaining never reaches 0.
func WithRateLimit(limit int, enforce bool) Option {
	return func(s *Server) {
		s.limit, s.enforce = max(limit, 1), enforce
		if !enforce {
			s.limit = max(limit, 2) // a refill leaves one request spent
		}
	}
}

// Server is a fake GitHub REST API served over loopback HTTP.
type Server struct {
	ts      *httptest.Server
	base    string // ts.URL, no trailing slash
	token   string
	scopes  string
	limit   int
	enforce bool

	mu       sync.Mutex // guards everything below up to dataMu
	faults   []FaultFunc
	requests int
	perPath  map[string]int
	used     int
	reset    time.Time
	reqSeq   int

	dataMu sync.RWMutex
	org    *Org
	repos  map[string]*Repo // lower-cased name
}

// NewServer serves org on a new loopback listener until Close. A nil org
// is an organisation nobody can find.
func NewServer(org *Org, opts ...Option) *Server {
	if org == nil {
		org = &Org{}
	}
	s := &Server{
		token:   DefaultToken,
		scopes:  DefaultScopes,
		limit:   DefaultRateLimit,
		perPath: map[string]int{},
		reset:   time.Now().Add(time.Hour).Truncate(time.Second),
	}
	for _, o := range opts {
		o(s)
	}
	s.setOrg(org)
	s.ts = httptest.NewServer(http.HandlerFunc(s.serve))
	s.base = s.ts.URL
	return s
}

// URL is the API base URL, ending in "/", for go-github's Client.BaseURL.
// The API is served at the root, like api.github.com (no /api/v3).
func (s *Server) URL() string { return s.base + "/" }

// Client returns an HTTP client for the server (no token attached).
func (s *Server) Client() *http.Client { return s.ts.Client() }

// Close shuts the server down.
func (s *Server) Close() { s.ts.Close() }

// Token is the token the server accepts.
func (s *Server) Token() string { return s.token }

// Requests is how many requests the server has received.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// RequestsTo is how many requests the server has received for path
// (without query string), e.g. "/orgs/northwind/repos".
func (s *Server) RequestsTo(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.perPath[path]
}

// ResetCounters sets the request counters back to zero (not the rate limit).
func (s *Server) ResetCounters() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = 0
	s.perPath = map[string]int{}
}

// Fail makes every request whose path is pathPrefix, or lies under it
// ("/repos/o/r" covers "/repos/o/r/hooks" but not "/repos/o/r2"), answer
// status with a GitHub-style error body.
func (s *Server) Fail(pathPrefix string, status int) {
	s.FailWith(pathPrefix, status, errorBody(status, failMessage(status)))
}

// FailWith is Fail with a body of your choosing, sent verbatim: use status
// 200 and a truncated body to serve malformed JSON.
func (s *Server) FailWith(pathPrefix string, status int, body string) {
	pathPrefix = strings.TrimSuffix(pathPrefix, "/")
	f := func(r *http.Request) (int, string, bool) {
		p := r.URL.Path
		if p == pathPrefix || strings.HasPrefix(p, pathPrefix+"/") {
			return status, body, true
		}
		return 0, "", false
	}
	s.mu.Lock()
	s.faults = append(s.faults, f)
	s.mu.Unlock()
}

// ClearFaults removes every fault, including those from WithFault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	s.faults = nil
	s.mu.Unlock()
}

// Mutate changes the served organisation under the server's lock, e.g. to
// remove a deploy key between two snapshots.
func (s *Server) Mutate(f func(*Org)) {
	s.dataMu.Lock()
	defer s.dataMu.Unlock()
	f(s.org)
	s.index()
}

func (s *Server) setOrg(org *Org) {
	s.dataMu.Lock()
	defer s.dataMu.Unlock()
	s.org = org
	s.index()
}

func (s *Server) index() {
	s.repos = make(map[string]*Repo, len(s.org.Repos))
	for _, r := range s.org.Repos {
		s.repos[strings.ToLower(r.Name)] = r
	}
}

// serve is the whole request pipeline: count, rate limit, token, faults, route.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-GitHub-Media-Type", "github.v3; format=json")
	h.Set("X-GitHub-Api-Version-Selected", "2022-11-28")

	s.mu.Lock()
	s.requests++
	s.perPath[r.URL.Path]++
	s.reqSeq++
	h.Set("X-GitHub-Request-Id", fmt.Sprintf("0000:%04X:%06X", s.reqSeq%0xFFFF, s.reqSeq))
	s.used++
	exceeded := false
	if s.used > s.limit {
		if s.enforce {
			s.used, exceeded = s.limit, true
		} else {
			s.used, s.reset = 1, s.reset.Add(time.Hour)
		}
	} else if !s.enforce && s.used == s.limit {
		// Never report 0 remaining unless enforcing: go-github would refuse
		// every later request until the reset time.
		s.used, s.reset = 1, s.reset.Add(time.Hour)
	}
	h.Set("X-RateLimit-Limit", strconv.Itoa(s.limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(s.limit-s.used))
	h.Set("X-RateLimit-Used", strconv.Itoa(s.used))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(s.reset.Unix(), 10))
	h.Set("X-RateLimit-Resource", "core")
	faults := s.faults
	s.mu.Unlock()

	if !s.authorized(r) {
		writeRaw(w, http.StatusUnauthorized, errorBody(http.StatusUnauthorized, "Bad credentials"))
		return
	}
	if s.scopes != "" {
		h.Set("X-OAuth-Scopes", s.scopes)
		h.Set("X-Accepted-OAuth-Scopes", "")
	}
	if exceeded {
		writeRaw(w, http.StatusForbidden, fmt.Sprintf(
			`{"message":"API rate limit exceeded for user ID 1.","documentation_url":%q}`,
			"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"))
		return
	}
	for _, f := range faults {
		if status, body, ok := f(r); ok {
			writeRaw(w, status, body)
			return
		}
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		notFound(w)
		return
	}
	s.dataMu.RLock()
	defer s.dataMu.RUnlock()
	s.route(w, r)
}

func (s *Server) authorized(r *http.Request) bool {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || s.token == "" {
		return false
	}
	if !strings.EqualFold(scheme, "bearer") && !strings.EqualFold(scheme, "token") {
		return false
	}
	return strings.TrimSpace(tok) == s.token
}

// route dispatches a GET on the data (read-locked by the caller).
func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case len(parts) == 1 && parts[0] == "user":
		writeJSON(w, s.tokenUser())
	case len(parts) >= 2 && parts[0] == "orgs":
		if !strings.EqualFold(parts[1], s.org.Login) {
			notFound(w)
			return
		}
		s.routeOrg(w, r, strings.Join(parts[2:], "/"))
	case len(parts) >= 3 && parts[0] == "repos":
		repo := s.repos[strings.ToLower(parts[2])]
		if !strings.EqualFold(parts[1], s.org.Login) || repo == nil {
			notFound(w)
			return
		}
		s.routeRepo(w, r, repo, strings.Join(parts[3:], "/"))
	default:
		notFound(w)
	}
}

func (s *Server) routeOrg(w http.ResponseWriter, r *http.Request, rest string) {
	o := s.org
	switch rest {
	case "":
		writeJSON(w, s.organization())
	case "members":
		s.members(w, r)
	case "repos":
		lo, hi := s.paginate(w, r, len(o.Repos))
		out := make([]any, 0, hi-lo)
		for _, repo := range o.Repos[lo:hi] {
			out = append(out, s.repository(repo))
		}
		writeJSON(w, out)
	case "installations":
		lo, hi := s.paginate(w, r, len(o.Installations))
		out := make([]any, 0, hi-lo)
		for i := range o.Installations[lo:hi] {
			out = append(out, s.installation(&o.Installations[lo+i]))
		}
		writeJSON(w, map[string]any{"total_count": len(o.Installations), "installations": out})
	case "actions/secrets":
		s.secrets(w, r, o.Secrets, "actions")
	case "dependabot/secrets":
		s.secrets(w, r, o.DependabotSecrets, "dependabot")
	case "codespaces/secrets":
		s.secrets(w, r, o.CodespacesSecrets, "codespaces")
	case "hooks":
		s.hooks(w, r, o.Hooks, nil)
	case "actions/runners":
		s.runners(w, r, o.Runners)
	default:
		notFound(w)
	}
}

func (s *Server) routeRepo(w http.ResponseWriter, r *http.Request, repo *Repo, rest string) {
	switch rest {
	case "":
		writeJSON(w, s.repository(repo))
	case "keys":
		lo, hi := s.paginate(w, r, len(repo.DeployKeys))
		out := make([]any, 0, hi-lo)
		for i := range repo.DeployKeys[lo:hi] {
			out = append(out, s.deployKey(repo, &repo.DeployKeys[lo+i]))
		}
		writeJSON(w, out)
	case "actions/secrets":
		s.secrets(w, r, repo.Secrets, "")
	case "dependabot/secrets":
		s.secrets(w, r, repo.DependabotSecrets, "")
	case "codespaces/secrets":
		s.secrets(w, r, repo.CodespacesSecrets, "")
	case "hooks":
		s.hooks(w, r, repo.Hooks, repo)
	case "actions/runners":
		s.runners(w, r, repo.Runners)
	default:
		notFound(w)
	}
}

func (s *Server) members(w http.ResponseWriter, r *http.Request) {
	m := s.org.Members
	lo, hi := s.paginate(w, r, len(m))
	out := make([]any, 0, hi-lo)
	for i, login := range m[lo:hi] {
		out = append(out, s.user(login, int64(7000000+lo+i), "User"))
	}
	writeJSON(w, out)
}

// secrets serves {"total_count":N,"secrets":[...]}; app names the org
// secrets' family ("actions", ...) for selected_repositories_url, "" for
// repository secrets.
func (s *Server) secrets(w http.ResponseWriter, r *http.Request, list []Secret, app string) {
	lo, hi := s.paginate(w, r, len(list))
	out := make([]any, 0, hi-lo)
	for i := range list[lo:hi] {
		out = append(out, s.secret(&list[lo+i], app))
	}
	writeJSON(w, map[string]any{"total_count": len(list), "secrets": out})
}

func (s *Server) hooks(w http.ResponseWriter, r *http.Request, list []Hook, repo *Repo) {
	lo, hi := s.paginate(w, r, len(list))
	out := make([]any, 0, hi-lo)
	for i := range list[lo:hi] {
		out = append(out, s.hook(&list[lo+i], repo))
	}
	writeJSON(w, out)
}

func (s *Server) runners(w http.ResponseWriter, r *http.Request, list []Runner) {
	lo, hi := s.paginate(w, r, len(list))
	out := make([]any, 0, hi-lo)
	for i := range list[lo:hi] {
		out = append(out, runner(&list[lo+i]))
	}
	writeJSON(w, map[string]any{"total_count": len(list), "runners": out})
}

// paginate reads per_page (default 30, at most 100) and page (1-based),
// sets the Link header as GitHub does, and returns the slice bounds of the
// requested page among n items.
func (s *Server) paginate(w http.ResponseWriter, r *http.Request, n int) (lo, hi int) {
	q := r.URL.Query()
	perPage := 30
	if v, err := strconv.Atoi(q.Get("per_page")); err == nil && v > 0 {
		perPage = min(v, 100)
	}
	page := 1
	if v, err := strconv.Atoi(q.Get("page")); err == nil && v > 0 {
		page = v
	}
	last := max(1, (n+perPage-1)/perPage)

	link := func(p int, rel string) string {
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(p))
		if q.Has("per_page") {
			q.Set("per_page", strconv.Itoa(perPage))
		}
		u := url.URL{Path: r.URL.Path, RawQuery: q.Encode()}
		return fmt.Sprintf(`<%s%s>; rel="%s"`, s.base, u.String(), rel)
	}
	var links []string
	if page > 1 {
		links = append(links, link(min(page-1, last), "prev"))
	}
	if page < last {
		links = append(links, link(page+1, "next"), link(last, "last"))
	}
	if page > 1 {
		links = append(links, link(1, "first"))
	}
	if len(links) > 0 {
		w.Header().Set("Link", strings.Join(links, ", "))
	}

	lo = min((page-1)*perPage, n)
	hi = min(lo+perPage, n)
	return lo, hi
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeRaw(w, http.StatusInternalServerError, errorBody(500, "githubtest: "+err.Error()))
		return
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

func writeRaw(w http.ResponseWriter, status int, body string) {
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

func notFound(w http.ResponseWriter) {
	writeRaw(w, http.StatusNotFound, errorBody(http.StatusNotFound, "Not Found"))
}

// errorBody is GitHub's error shape.
func errorBody(status int, message string) string {
	b, _ := json.Marshal(map[string]string{
		"message":           message,
		"documentation_url": docsURL,
		"status":            strconv.Itoa(status),
	})
	return string(b)
}

func failMessage(status int) string {
	switch status {
	case http.StatusUnauthorized:
		return "Bad credentials"
	case http.StatusForbidden:
		return "Resource not accessible by personal access token"
	case http.StatusNotFound:
		return "Not Found"
	case http.StatusInternalServerError:
		return "Server Error"
	}
	return http.StatusText(status)
}
