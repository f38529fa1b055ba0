package githubtest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
)

// DefaultToken is the token a Server accepts unless [WithToken] says otherwise.
// It stands for a classic personal access token.
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

// HTTPFault decides whether a request fails; when ok, answer writes the
// failure with any headers, status and body (even one cut short). HTTP
// faults run after the token check and the FaultFuncs, and are charged to
// the rate limit. See [FailTimes], [SecondaryRateLimit], [TruncatedBody].
type HTTPFault func(r *http.Request) (answer func(http.ResponseWriter), ok bool)

// Option configures a Server.
type Option func(*Server)

// Viewer is a further (classic or fine-grained) token the server accepts,
// with its own view of the organisation, as GitHub gives one to a token
// limited to some repositories or without the repo scope.
type Viewer struct {
	Token  string
	Scopes string   // its X-OAuth-Scopes; "" for a fine-grained PAT
	Repos  []string // the repositories it sees; nil: every one
	// Member is an organisation member who is not an owner: GET
	// /orgs/{org} leaves out the private repository counts, as GitHub does.
	Member bool

	// seen is Repos folded to lower case (viewing): GET
	// /orgs/{org}/repos asks of every repository whether the credential
	// sees it, and a scan of Repos for each made a listing of 192,000
	// repositories through an App on all but one quadratic (it never
	// finished: nhi demo --repos 192000's second week).
	seen map[string]bool
}

// viewing is v with its set of names built, as the server keeps it.
func viewing(v Viewer) *Viewer {
	if v.Repos != nil {
		v.seen = make(map[string]bool, len(v.Repos))
		for _, n := range v.Repos {
			v.seen[strings.ToLower(n)] = true
		}
	}
	return &v
}

// sees reports whether v may see the repository named name: always when
// v lists no repositories.
func (v *Viewer) sees(name string) bool {
	if v == nil || v.Repos == nil {
		return true
	}
	return v.seen[strings.ToLower(name)]
}

// WithViewer makes the server accept v.Token too, showing it only what v
// may see: other repositories are missing from GET /orgs/{org}/repos and
// answer 404, as on GitHub.
func WithViewer(v Viewer) Option {
	return func(s *Server) { s.viewers = append(s.viewers, viewing(v)) }
}

// WithToken sets the only (classic) token the server accepts.
func WithToken(token string) Option { return func(s *Server) { s.token = token } }

// WithScopes sets the X-OAuth-Scopes header (classic PAT scopes); "" leaves
// it out, as for a fine-grained PAT or an App token.
func WithScopes(scopes string) Option { return func(s *Server) { s.scopes = scopes } }

// WithFault adds a fault; faults are tried in the order they were added.
func WithFault(f FaultFunc) Option { return func(s *Server) { s.faults = append(s.faults, f) } }

// WithHTTPFault adds an HTTP fault (see [HTTPFault]).
func WithHTTPFault(f HTTPFault) Option {
	return func(s *Server) { s.httpFaults = append(s.httpFaults, f) }
}

// WithClock makes the server read the time from now (rate-limit resets,
// installation token expiry, JWT checks), e.g. a [FakeClock]'s Now.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithRateLimit sets the primary rate limit reported in X-RateLimit-Limit
// (default [DefaultRateLimit]). With enforce, once limit requests are spent
// every request gets 403 "API rate limit exceeded" with
// X-RateLimit-Remaining: 0 until the reset time (an hour after the window
// opened, by the server's clock), as GitHub does. Without it the budget
// silently refills when spent, as if the hour had passed, so large demos
// never stall: Remaining never reaches 0. Answers 304 Not Modified cost
// nothing, as on GitHub.
func WithRateLimit(limit int, enforce bool) Option {
	return func(s *Server) {
		s.limit, s.enforce = max(limit, 1), enforce
		if !enforce {
			s.limit = max(limit, 2) // a refill leaves one request spent
		}
	}
}

// WithGHES makes the server a GitHub Enterprise Server of version (e.g.
// "3.19.0"): the API lives under /api/v3/, GET /meta says installed_version,
// every answer carries X-GitHub-Enterprise-Version when header is set, and
// the endpoints GHES does not have (Codespaces secrets, SAML credential
// authorizations) answer 404.
func WithGHES(version string, header bool) Option {
	return func(s *Server) { s.ghes, s.ghesHeader, s.prefix = version, header, "/api/v3" }
}

// WithGraphQLSchema makes the server validate every GraphQL query, and its
// variables, against schema (GitHub's, as @octokit/graphql-schema ships
// it: the tests load it): a query that does not validate is answered
// with its errors, as GitHub does, and kept for [Server.GraphQLInvalid].
func WithGraphQLSchema(schema *ast.Schema) Option {
	return func(s *Server) { s.gqlSchema = schema }
}

// Server is a fake GitHub REST API served over loopback HTTP.
type Server struct {
	ts      *httptest.Server
	base    string // ts.URL, no trailing slash
	token   string
	scopes  string
	limit   int
	enforce bool
	now     func() time.Time
	app     *App
	// appViewer is what an installation token of app sees when app.Repos
	// is set: one Viewer from one SetAppRepos to the next, so its set of
	// names is built once (Viewer.sees).
	appViewer *Viewer
	viewers   []*Viewer
	// GHES mode (WithGHES): the version, whether answers carry it, and
	// the API's path prefix ("" for api.github.com).
	ghes       string
	ghesHeader bool
	prefix     string
	gqlSchema  *ast.Schema // WithGraphQLSchema

	mu          sync.Mutex // guards everything below up to dataMu
	faults      []FaultFunc
	httpFaults  []HTTPFault
	failing     []pathFault // what Fail and FailWith made fail, for GraphQL's fields (restFault)
	fewer       []pathFault // ServeFewer's: status is how many items a wrapped list leaves out
	requests    int
	notModified int
	perPath     map[string]int
	notModPath  map[string]int // of perPath, answered 304
	used        int
	reset       time.Time
	reqSeq      int
	installToks map[string]time.Time // installation token -> expiry
	// GraphQL's own rate limit (GitHub keeps it apart from REST's): the
	// points spent in this window, and the counters of the run.
	gqlUsed, gqlRequests, gqlPoints int
	gqlInvalid                      []string

	mux *http.ServeMux

	dataMu sync.RWMutex
	org    *Org
	repos  map[string]*Repo // lower-cased name
	// moved maps the former names (lower case) of renamed repositories to
	// their IDs: GitHub answers a request by the old name with 301 Moved
	// Permanently to /repositories/{id}/… (see Mutate).
	moved map[string]int64
}

// NewServer serves org on a new loopback listener until Close. A nil org
// is an organisation nobody can find.
func NewServer(org *Org, opts ...Option) *Server {
	if org == nil {
		org = &Org{}
	}
	s := &Server{
		token:       DefaultToken,
		scopes:      DefaultScopes,
		limit:       DefaultRateLimit,
		now:         time.Now,
		perPath:     map[string]int{},
		notModPath:  map[string]int{},
		installToks: map[string]time.Time{},
	}
	for _, o := range opts {
		o(s)
	}
	if s.app != nil {
		s.appViewer = viewing(Viewer{Repos: s.app.Repos})
	}
	s.reset = s.now().Add(time.Hour).Truncate(time.Second)
	s.setOrg(org)
	s.mux = s.routes()
	// The address is known before the first request can arrive: handlers
	// read s.base without a lock.
	s.ts = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.base = "http://" + s.ts.Listener.Addr().String()
	s.ts.Start()
	if t, ok := s.ts.Client().Transport.(*http.Transport); ok {
		// Connectors read with several workers: keep their connections.
		t.MaxIdleConnsPerHost = 64
	}
	return s
}

// URL is the API base URL, ending in "/", for go-github's Client.BaseURL.
// The API is served at the root, like api.github.com (no /api/v3).
func (s *Server) URL() string { return s.base + s.prefix + "/" }

// Client returns an HTTP client for the server (no token attached).
func (s *Server) Client() *http.Client { return s.ts.Client() }

// Close shuts the server down.
func (s *Server) Close() { s.ts.Close() }

// Token is the (classic) token the server accepts.
func (s *Server) Token() string { return s.token }

// Requests is how many requests the server has received.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// NotModified is how many requests were answered 304 Not Modified.
func (s *Server) NotModified() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.notModified
}

// RequestsTo is how many requests the server has received for path
// (without query string), e.g. "/orgs/northwind/repos".
func (s *Server) RequestsTo(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.perPath[path]
}

// NotModifiedTo is how many requests for path (as [Server.RequestsTo])
// were answered 304 Not Modified.
func (s *Server) NotModifiedTo(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.notModPath[path]
}

// GraphQLRequests is how many GraphQL queries (POST /graphql) the server
// has received; they are among [Server.Requests] too.
func (s *Server) GraphQLRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gqlRequests
}

// GraphQLPoints is what the GraphQL queries cost of GraphQL's rate limit,
// by GitHub's formula.
func (s *Server) GraphQLPoints() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gqlPoints
}

// RESTPoints is what REST requests cost of REST's rate limit: every
// request but a 304 and a GraphQL query.
func (s *Server) RESTPoints() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests - s.notModified - s.gqlRequests
}

// GraphQLInvalid are the GraphQL queries that did not validate against
// the schema of [WithGraphQLSchema], each after its errors.
func (s *Server) GraphQLInvalid() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.gqlInvalid)
}

// ResetCounters sets the request counters back to zero (not the rate limit).
func (s *Server) ResetCounters() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests, s.notModified, s.gqlRequests, s.gqlPoints = 0, 0, 0, 0
	s.perPath, s.notModPath = map[string]int{}, map[string]int{}
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
	f := func(r *http.Request) (int, string, bool) {
		if under(r.URL.Path, pathPrefix) {
			return status, body, true
		}
		return 0, "", false
	}
	s.mu.Lock()
	s.faults = append(s.faults, f)
	s.failing = append(s.failing, pathFault{pathPrefix, status})
	s.mu.Unlock()
}

// ServeFewer makes each list under pathPrefix (as Fail means "under")
// that GitHub wraps ({"total_count": N, "secrets": [...]}) leave out its
// last n items while its total_count still counts them: what a client
// sees of a list that lost items while it was paged, or of one GitHub
// counts and does not show. GraphQL's connections whose REST twin is
// under pathPrefix do the same with their totalCount: a repository's
// environments, rulesets and collaborators (…/environments, …/rulesets,
// …/collaborators), and a ruleset's bypass actors (…/rulesets/{id}).
// The organisation's and a team's member lists (/orgs/{org}/members,
// /orgs/{org}/teams/{slug}/members), bare arrays GitHub does not count,
// end n short too, while GraphQL's organization.membersWithRole still
// counts everyone ("/orgs/{org}/members?role=admin" cuts the owners' list
// alone, and so for role=member and role=all); that connection and the SAML identities' are cut as
// /graphql/organization/membersWithRole and
// /graphql/organization/samlIdentityProvider/externalIdentities.
func (s *Server) ServeFewer(pathPrefix string, n int) {
	s.mu.Lock()
	s.fewer = append(s.fewer, pathFault{pathPrefix, n})
	s.mu.Unlock()
}

// servedFewer is how many items a wrapped list at path leaves out
// (ServeFewer).
func (s *Server) servedFewer(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, f := range s.fewer {
		if under(path, f.prefix) {
			n += f.status
		}
	}
	return n
}

// AddHTTPFault adds an HTTP fault while the server runs.
func (s *Server) AddHTTPFault(f HTTPFault) {
	s.mu.Lock()
	s.httpFaults = append(s.httpFaults, f)
	s.mu.Unlock()
}

// ClearFaults removes every fault, including those from WithFault and
// WithHTTPFault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	s.faults, s.httpFaults, s.failing, s.fewer = nil, nil, nil, nil
	s.mu.Unlock()
}

// pathFault is a REST path that Fail or FailWith made answer status.
type pathFault struct {
	prefix string
	status int
}

// under reports whether path is prefix or lies under it.
func under(path, prefix string) bool {
	prefix = strings.TrimSuffix(prefix, "/")
	return path == prefix || strings.HasPrefix(path, prefix+"/")
}

// Mutate changes the served organisation under the server's lock, e.g. to
// remove a deploy key between two snapshots.
func (s *Server) Mutate(f func(*Org)) {
	s.dataMu.Lock()
	defer s.dataMu.Unlock()
	before := make(map[int64]string, len(s.org.Repos))
	for _, r := range s.org.Repos {
		before[r.ID] = r.Name
	}
	f(s.org)
	for _, r := range s.org.Repos {
		if old, ok := before[r.ID]; ok && !strings.EqualFold(old, r.Name) {
			if s.moved == nil {
				s.moved = map[string]int64{}
			}
			s.moved[strings.ToLower(old)] = r.ID
		}
	}
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

// auth is what a request authenticated as.
type auth int

const (
	authNone         auth = iota
	authClassic           // the classic token (WithToken)
	authInstallation      // an installation token the server issued
	authJWT               // a JWT signed with the App's key (WithApp)
)

// serve is the whole request pipeline: count, token, faults, route, ETag,
// rate limit.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-GitHub-Media-Type", "github.v3; format=json")
	h.Set("X-GitHub-Api-Version-Selected", "2022-11-28")

	if s.ghes != "" {
		if s.ghesHeader {
			h.Set("X-GitHub-Enterprise-Version", s.ghes)
		}
		rest, ok := strings.CutPrefix(r.URL.Path, s.prefix+"/")
		switch {
		case r.URL.Path == "/api/graphql":
			rest = "graphql" // GHES serves GraphQL beside /api/v3, not under it
		case !ok:
			notFound(w)
			return
		}
		r.URL.Path, r.URL.RawPath = "/"+rest, strings.TrimPrefix(r.URL.RawPath, s.prefix)
	}
	graphql := r.URL.Path == "/graphql"
	now := s.now()
	s.mu.Lock()
	s.requests++
	s.perPath[r.URL.Path]++
	if graphql {
		s.gqlRequests++
	}
	s.reqSeq++
	h.Set("X-GitHub-Request-Id", fmt.Sprintf("0000:%04X:%06X", s.reqSeq%0xFFFF, s.reqSeq))
	if !now.Before(s.reset) {
		// The window is over: a fresh budget, as GitHub does at the reset.
		s.used, s.gqlUsed, s.reset = 0, 0, now.Add(time.Hour).Truncate(time.Second)
	}
	faults, httpFaults := s.faults, s.httpFaults
	s.mu.Unlock()

	charge := s.charge
	if graphql {
		charge = func(h http.Header) bool { return s.chargeGraphQL(h, 1) }
	}
	who, view := s.authenticate(r, now)
	if who == authNone {
		charge(h)
		writeRaw(w, http.StatusUnauthorized, errorBody(http.StatusUnauthorized, "Bad credentials"))
		return
	}
	if scopes := s.scopes; who == authClassic && (view != nil || scopes != "") {
		if view != nil {
			scopes = view.Scopes
		}
		if scopes != "" {
			h.Set("X-OAuth-Scopes", scopes)
			h.Set("X-Accepted-OAuth-Scopes", "")
		}
	}
	if !graphql && s.spent() {
		// Once the budget is spent every request is refused, conditional
		// or not, until the reset; faults never see it. (GraphQL's budget
		// is its own: see chargeGraphQL.)
		s.charge(h)
		rateLimited(w)
		return
	}
	for _, f := range faults {
		if status, body, ok := f(r); ok {
			charge(h)
			writeRaw(w, status, body)
			return
		}
	}
	for _, f := range httpFaults {
		if answer, ok := f(r); ok {
			charge(h)
			answer(w)
			return
		}
	}

	buf := &bufferWriter{header: http.Header{}}
	s.handle(buf, r, who, view, now)
	if buf.status == http.StatusOK && r.Method == http.MethodGet {
		// GitHub ties an ETag to the token that asked: another token (an
		// App's new installation token) never gets a 304 for it.
		etag := etagOf(append(bytes.ReplaceAll(buf.body.Bytes(), []byte(s.base), nil), r.Header.Get("Authorization")...))
		h.Set("ETag", etag)
		if matchETag(r.Header.Get("If-None-Match"), etag) {
			s.mu.Lock()
			s.notModified++
			s.notModPath[r.URL.Path]++
			s.mu.Unlock()
			s.rateHeaders(h)
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	// A GraphQL query charged what it cost itself (chargeGraphQL), and its
	// answer carries the headers that say so.
	if !graphql && s.charge(h) {
		rateLimited(w)
		return
	}
	for k, v := range buf.header {
		h[k] = v
	}
	w.WriteHeader(buf.status)
	_, _ = w.Write(buf.body.Bytes())
}

// charge spends one request of the budget and sets the rate-limit headers;
// it reports whether the budget was already spent (enforced limits only).
func (s *Server) charge(h http.Header) (exceeded bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.used++
	if s.used > s.limit {
		if s.enforce {
			s.used, exceeded = s.limit, true
		} else {
			s.used, s.reset = 1, s.now().Add(time.Hour).Truncate(time.Second)
		}
	} else if !s.enforce && s.used == s.limit {
		// Never report 0 remaining unless enforcing: a client would wait
		// for the reset. A fresh window starts now, so the reset a client
		// shows stays an hour ahead instead of drifting days away.
		s.used, s.reset = 1, s.now().Add(time.Hour).Truncate(time.Second)
	}
	s.rateHeadersLocked(h)
	return exceeded
}

// chargeGraphQL spends cost points of GraphQL's budget and sets its
// rate-limit headers (X-RateLimit-Resource: graphql); it reports whether
// the budget could not pay for it (enforced limits only), when GitHub
// answers RATE_LIMITED and charges nothing.
func (s *Server) chargeGraphQL(h http.Header, cost int) (exceeded bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.gqlUsed+cost < s.limit || (s.enforce && s.gqlUsed+cost <= s.limit):
		s.gqlUsed += cost
		s.gqlPoints += cost
	case s.enforce:
		exceeded = true
	default: // as if the hour had passed, never 0 left (see WithRateLimit)
		s.gqlUsed = cost
		s.gqlPoints += cost
	}
	h.Set("X-RateLimit-Limit", strconv.Itoa(s.limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(s.limit-s.gqlUsed))
	h.Set("X-RateLimit-Used", strconv.Itoa(s.gqlUsed))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(s.reset.Unix(), 10))
	h.Set("X-RateLimit-Resource", "graphql")
	return exceeded
}

// spent reports whether an enforced budget has nothing left.
func (s *Server) spent() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.enforce && s.used >= s.limit
}

func (s *Server) rateHeaders(h http.Header) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rateHeadersLocked(h)
}

func (s *Server) rateHeadersLocked(h http.Header) {
	h.Set("X-RateLimit-Limit", strconv.Itoa(s.limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(s.limit-s.used))
	h.Set("X-RateLimit-Used", strconv.Itoa(s.used))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(s.reset.Unix(), 10))
	h.Set("X-RateLimit-Resource", "core")
}

func rateLimited(w http.ResponseWriter) {
	writeRaw(w, http.StatusForbidden, fmt.Sprintf(
		`{"message":"API rate limit exceeded for user ID 1.","documentation_url":%q}`,
		"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"))
}

// etagOf is a weak validator of an answer's body (and the token that
// asked, as on GitHub), less the server's own address (so a demo served again on another port answers 304 as GitHub
// would). Like GitHub's, as far as its documentation tells, it does not
// cover the headers: a list that grows by a page may answer 304 for its
// last full page, and a client must not conclude there is no next page.
func etagOf(body []byte) string {
	sum := sha256.Sum256(body)
	return `W/"` + hex.EncodeToString(sum[:16]) + `"`
}

// matchETag is the weak comparison of If-None-Match (RFC 9110 13.1.2).
func matchETag(header, etag string) bool {
	if header == "" {
		return false
	}
	want := strings.TrimPrefix(etag, "W/")
	for _, c := range strings.Split(header, ",") {
		c = strings.TrimSpace(c)
		if c == "*" || strings.TrimPrefix(c, "W/") == want {
			return true
		}
	}
	return false
}

// bufferWriter holds an answer until its ETag is known.
type bufferWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferWriter) Header() http.Header { return b.header }
func (b *bufferWriter) WriteHeader(status int) {
	if b.status == 0 {
		b.status = status
	}
}
func (b *bufferWriter) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}

// authenticate says who sent r and, for a limited view, what it may see
// (nil: everything).
func (s *Server) authenticate(r *http.Request, now time.Time) (auth, *Viewer) {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || (!strings.EqualFold(scheme, "bearer") && !strings.EqualFold(scheme, "token")) {
		return authNone, nil
	}
	tok = strings.TrimSpace(tok)
	if s.token != "" && tok == s.token {
		return authClassic, nil
	}
	for _, v := range s.viewers {
		if v.Token != "" && tok == v.Token {
			return authClassic, v
		}
	}
	s.mu.Lock()
	exp, ok := s.installToks[tok]
	s.mu.Unlock()
	if ok && now.Before(exp) {
		s.dataMu.RLock()
		defer s.dataMu.RUnlock()
		if s.app.Repos != nil {
			return authInstallation, s.appViewer
		}
		return authInstallation, nil
	}
	if s.app != nil && s.verifyJWT(tok, now) == nil {
		return authJWT, nil
	}
	return authNone, nil
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
		u := url.URL{Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: q.Encode()}
		return fmt.Sprintf(`<%s%s%s>; rel="%s"`, s.base, s.prefix, u.String(), rel)
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
