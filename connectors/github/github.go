// Package github reads an organisation's non-human identities through the
// GitHub REST API, with go-github v60's types and request builder.
//
// A Connector reads, one endpoint family at a time, the organisation's App
// installations, fine-grained PATs and pending PAT requests, SAML SSO
// credential authorizations, Actions, Dependabot and Codespaces secrets,
// webhooks and self-hosted runners; then, with a bounded pool of workers,
// each repository's deploy keys, Actions secrets (repository and
// environment), Dependabot and Codespaces secrets, webhooks and runners.
// For ownership it also reads, as context, the organisation's members and
// owners and, for each repository holding an identity, its teams with
// admin or maintain permission, its direct admin collaborators and its
// CODEOWNERS. Everything is handed to a connectors.Recorder.
//
// Secret material never crosses that boundary: no secret value (GitHub does
// not return them), no webhook config.secret, no deploy key material (only
// its SHA256 fingerprint), no part of a token (not even GitHub's
// token_last_eight), and webhook URLs are stripped of credentials, query
// strings and token-bearing path segments.
//
// Every request goes through one place that waits out GitHub's primary rate
// limit (or stops resumably with NoWait), backs off on its secondary limit,
// retries server errors and dropped connections with exponential backoff,
// and makes the request conditional when a connectors.Cache holds what an
// earlier answer yielded: a 304 replays it, costing no rate limit.
//
// Each endpoint family and each repository is a unit of work checkpointed
// once fully recorded, so an interrupted run resumes where it stopped. An
// endpoint the token may not read (403, or 404 where GitHub hides what it
// will not show) becomes an audit.Gap and the run goes on; a rejected
// token, a missing organisation or a malformed response ends the run with
// an error naming the endpoint.
package github

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/connectors"
)

// Source is the source name of every identity this package reads.
const Source = "github"

// perPage is the page size asked of every list endpoint (GitHub's maximum).
const perPage = 100

// DefaultConcurrency is how many repositories are read at once.
const DefaultConcurrency = 8

// ErrBadCredentials is returned (wrapped) when GitHub rejects the token (401).
var ErrBadCredentials = errors.New("the token was rejected (GitHub answered 401 Bad credentials)")

// ErrOrgNotFound is returned (wrapped) when the organisation does not exist
// or the token cannot see it.
var ErrOrgNotFound = errors.New("organization not found")

// Options configure a Connector. The zero value reads api.github.com
// anonymously, which finds little.
type Options struct {
	// APIURL is the REST API base URL: "" for https://api.github.com/, or
	// https://HOST/api/v3/ for GitHub Enterprise Server.
	APIURL string
	// Token is a personal access token (classic or fine-grained) or any
	// other bearer token. Never stored.
	Token string
	// App authenticates as a GitHub App installation instead of Token.
	App *AppAuth
	// HTTPClient sends the requests (nil: one with sensible timeouts).
	HTTPClient *http.Client
	// Cache keeps what answers yielded under their ETags, for conditional
	// requests (an *audit.Store). Nil: every request is unconditional.
	Cache connectors.Cache
	// Concurrency is how many repositories are read at once (default
	// DefaultConcurrency).
	Concurrency int
	// NoWait stops the run when the rate limit is exhausted, with an error
	// wrapping connectors.ErrResumable, instead of waiting for the reset.
	NoWait bool
	// Progress, if set, is told how the run goes (see Progress). Calls
	// are serialised.
	Progress func(Progress)
	// Clock is the time source for waits (nil: the real one).
	Clock Clock
	// Retries is how often a server error or dropped connection is
	// retried (default 4; negative: never).
	Retries int
	// MaxWait is the longest the run waits for a rate limit, primary or
	// secondary, before it stops resumably. Unset, a secondary limit's
	// pause is waited up to DefaultMaxWait and the primary reset in full.
	MaxWait time.Duration
	// RequestTimeout abandons a request unanswered for so long; a timed-out
	// request is retried twice at most (default 25 s).
	RequestTimeout time.Duration
	// RESTOnly reads every repository through REST alone. Unset, each
	// repository's environments, own rulesets, direct collaborators and
	// CODEOWNERS are read through GraphQL, up to 100 repositories a query
	// (docs/github.md: a third fewer REST points); anything GraphQL cannot
	// give is still read through REST.
	RESTOnly bool
	// OwnerTeams are teams ("@org/slug") the evidence file records as
	// owners: their members are read too, besides those of the teams the
	// run finds (people_teams.go), so the team-owner rule sees them.
	OwnerTeams []string
}

// Connector reads one organisation. It implements connectors.Connector.
type Connector struct {
	client      *github.Client // builds requests: base URL, headers
	http        *http.Client
	auth        authorizer
	app         *appAuth
	org         string // lower case: GitHub logins are case-insensitive
	cache       connectors.Cache
	concurrency int
	noWait      bool
	clock       Clock
	retries     int
	storm       storm // endpoints failing in a row (storm.go)
	maxWait     time.Duration
	// requestTimeout bounds each request; slots the requests in flight.
	requestTimeout time.Duration
	slots          *slots
	sendMu         sync.RWMutex // see send and pause

	rate    rateState // REST's primary budget, and the secondary-limit pause for all
	gqlRate rateState // GraphQL's primary budget (graphql.go)
	stats   stats
	// restOnly: Options.RESTOnly; gqlOff: GraphQL turned out unusable in
	// this run (see graphql.go), so REST reads what it would have.
	restOnly bool
	gqlOff   atomic.Bool
	// reached: some request got an HTTP answer, so the address is right
	// and a failure to connect is a dropped connection worth a retry.
	reached atomic.Bool

	// The writer: workers hand it complete units (see startWriter).
	sink       chan *unit
	writerDone chan struct{}
	writerErr  error

	progressMu sync.Mutex
	progress   func(Progress)
	phase      string
	doing      string
	reposDone  int
	reposTotal int
	listed     []repoInfo // the repositories the run listed, for Reach
	waitUntil  time.Time  // while waiting: until when
	// waitSecondary: the wait is a secondary limit's pause (Progress.Secondary)
	waitSecondary bool

	credMu sync.Mutex
	cred   string // what Credential said, once asked

	checkMu  sync.Mutex
	checked  bool        // Check read the organisation
	orgRepos *repoCounts // what GET /orgs/{org} said, nil when it did not say
	rulesets []ruleset   // the organisation's rulesets (see readRulesets)

	mentionedMu sync.Mutex
	mentioned   map[string]bool // repositories other answers named (see unseenNamed)

	serverMu      sync.Mutex
	serverVersion string   // GitHub Enterprise Server's version, "" for the cloud
	notes         []string // said once of the whole run (see Server)

	ownerTeams []string        // Options.OwnerTeams
	teamsMu    sync.Mutex      // guards teamsRead
	teamsRead  map[string]bool // team slugs whose members this run read (people_teams.go)
}

type stats struct {
	requests, notModified, retries, identities, gaps atomic.Int64
	conditional                                      atomic.Int64 // requests sent with If-None-Match
	restPoints                                       atomic.Int64 // REST answers other than 304
	gqlQueries, gqlPoints                            atomic.Int64 // GraphQL queries sent, and what GitHub said they cost
}

var (
	_ connectors.Connector    = (*Connector)(nil)
	_ connectors.Credentialed = (*Connector)(nil)
	_ connectors.Checker      = (*Connector)(nil)
)

// NewConnector reads org as opts say.
func NewConnector(org string, opts Options) (*Connector, error) {
	org = strings.ToLower(strings.TrimSpace(org))
	if org == "" {
		return nil, errors.New("github: no organization given")
	}
	client, err := newRequestClient(opts.APIURL)
	if err != nil {
		return nil, err
	}
	c := &Connector{
		client:      client,
		http:        opts.HTTPClient,
		org:         org,
		cache:       opts.Cache,
		concurrency: opts.Concurrency,
		noWait:      opts.NoWait,
		clock:       opts.Clock,
		retries:     opts.Retries,
		progress:    opts.Progress,
		ownerTeams:  opts.OwnerTeams,
		restOnly:    opts.RESTOnly,
	}
	c.rate.remaining, c.gqlRate.remaining = -1, -1
	if c.http == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = 64
		t.ResponseHeaderTimeout = 2 * time.Minute
		c.http = &http.Client{Transport: t, Timeout: 5 * time.Minute}
	}
	// Redirects are followed by do, within the API only (see redirect):
	// the client hands them back unfollowed.
	hc := *c.http
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c.http = &hc
	if c.concurrency <= 0 {
		c.concurrency = DefaultConcurrency
	}
	c.slots = newSlots(c.concurrency)
	c.maxWait, c.requestTimeout = opts.MaxWait, opts.RequestTimeout
	if c.requestTimeout <= 0 {
		c.requestTimeout = requestTimeout
	}
	if c.clock == nil {
		c.clock = realClock{}
	}
	switch {
	case opts.Retries == 0:
		c.retries = defaultRetries
	case opts.Retries < 0:
		c.retries = 0
	}
	switch {
	case opts.App != nil:
		key, err := parseAppKey(opts.App.PrivateKey)
		if err != nil {
			return nil, fmt.Errorf("github: %w", err)
		}
		if opts.App.AppID <= 0 {
			return nil, errors.New("github: App authentication needs the App's ID (--app-id)")
		}
		c.app = &appAuth{c: c, id: opts.App.AppID, key: key, inst: opts.App.InstallationID}
		c.auth = c.app
	case opts.Token != "":
		c.auth = staticToken(opts.Token)
	}
	return c, nil
}

// NewFromToken reads org with token (none if "") from apiURL ("" for
// api.github.com) through httpClient (nil: the default).
func NewFromToken(apiURL, token, org string, httpClient *http.Client) (*Connector, error) {
	return NewConnector(org, Options{APIURL: apiURL, Token: token, HTTPClient: httpClient})
}

// Source is "github".
func (c *Connector) Source() string { return Source }

// Account is the organisation login, lower-cased.
func (c *Connector) Account() string { return c.org }

// APIURL is the base URL read from.
func (c *Connector) APIURL() string { return c.client.BaseURL.String() }

// Resuming is told by connectors.Snapshot that this run continues an
// interrupted snapshot; it says so through Progress.
func (c *Connector) Resuming(snapshotID int64, units int) {
	c.note(fmt.Sprintf("Resuming snapshot %d: %d units already read", snapshotID, units))
}

// Server is the GitHub Enterprise Server version that answered ("" for
// GitHub.com) and what holds for the whole run, said once: the snapshot
// records both (connectors.Described).
func (c *Connector) Server() (version string, notes []string) {
	c.serverMu.Lock()
	defer c.serverMu.Unlock()
	return c.serverVersion, append([]string(nil), c.notes...)
}

// Reach says how much of the organisation the run read
// (connectors.Reacher): the repositories listed, those the credential
// cannot see, the requests sent, and what the connector cannot see at all.
func (c *Connector) Reach() audit.Reach {
	c.progressMu.Lock()
	listed := c.listed
	c.progressMu.Unlock()
	r := audit.Reach{Unit: "repositories", Read: len(listed), Requests: int(c.stats.requests.Load()), NotCollected: NotCollected, CannotSee: CannotSee}
	if whole, gap := c.visibility(listed); !whole && gap != nil {
		r.NotRead = []string{gap.Reason}
	}
	return r
}

// NotCollected are the kinds of GitHub credential this connector does not
// read; CannotSee what no token or GitHub App can see at all. Each snapshot
// records them, and the evidence report lists them per source, so its
// CC6.2 claim names its limits.
var (
	NotCollected = []string{
		"Actions variables of the organisation, repositories and environments (configuration, not secrets: a secret stored in one is not seen)",
		"deploy keys, secrets and webhooks of repositories outside the organisation (members' personal repositories, forks elsewhere)",
		"Apps that may bypass a repository's own ruleset: each repository's rulesets are read for the deploy keys that may bypass them, and an App's installation is marked by the organisation's rulesets only",
		"which repositories a private registry shared with selected repositories reaches (its visibility is read): GitHub's API has no endpoint that lists them (only the answer to creating a registry carries selected_repository_ids)",
	}
	CannotSee = []string{
		"OAuth apps and personal access tokens authorized outside SAML single sign-on: GitHub lists credential authorizations only for organisations that enforce SAML (GitHub Enterprise Cloud)",
		"classic personal access tokens and SSH keys of members that were never SAML-authorized for the organisation",
		"GitHub Apps and OAuth apps the organisation owns: no API lists their registrations, private keys or client secrets (installations and authorizations are read)",
		"organization webhooks an OAuth app created: only that app sees them",
		"members' own Codespaces secrets: only the member's token lists them",
		"secret values: never read (metadata only)",
	}
)

func (c *Connector) setServerVersion(v string) {
	c.serverMu.Lock()
	defer c.serverMu.Unlock()
	c.serverVersion = v
}

// noteOnce records a note of the whole run, once.
func (c *Connector) noteOnce(n string) {
	c.serverMu.Lock()
	defer c.serverMu.Unlock()
	for _, m := range c.notes {
		if m == n {
			return
		}
	}
	c.notes = append(c.notes, n)
}

// enterprise reports whether the server is a GitHub Enterprise Server: it
// said its version, or the API lives at /api/v3/.
func (c *Connector) enterprise() bool {
	v, _ := c.Server()
	return v != "" || strings.HasSuffix(c.client.BaseURL.Path, "/api/v3/")
}

// Stats are the counters of the run so far.
type Stats struct {
	Requests    int // sent, retries included
	NotModified int // of which answered 304 and replayed from the cache
	Retries     int // backoffs after a server error, a dropped connection or a secondary rate limit
	Identities  int // recorded
	Gaps        int // endpoints that could not be read
	// RESTPoints are what REST requests cost of the REST rate limit (every
	// answer but a 304); GraphQLPoints what GraphQL queries cost of
	// GraphQL's own, as GitHub computed it, over GraphQLQueries queries.
	RESTPoints     int
	GraphQLPoints  int
	GraphQLQueries int
}

// Stats reports what the connector has done so far.
func (c *Connector) Stats() Stats {
	return Stats{
		Requests:    int(c.stats.requests.Load()),
		NotModified: int(c.stats.notModified.Load()),
		Retries:     int(c.stats.retries.Load()),
		Identities:  int(c.stats.identities.Load()),
		Gaps:        int(c.stats.gaps.Load()),

		RESTPoints:     int(c.stats.restPoints.Load()),
		GraphQLPoints:  int(c.stats.gqlPoints.Load()),
		GraphQLQueries: int(c.stats.gqlQueries.Load()),
	}
}

func (c *Connector) badCredentials() error {
	if c.app != nil {
		return fmt.Errorf("%w: the GitHub App's installation token was refused; check --app-id, --app-key and --installation-id", ErrBadCredentials)
	}
	if c.auth == nil {
		return fmt.Errorf("%w: no token was sent; set GITHUB_TOKEN or GH_TOKEN, or run `gh auth login`", ErrBadCredentials)
	}
	return fmt.Errorf("%w: it may be mistyped, expired or revoked; set a valid GITHUB_TOKEN or GH_TOKEN, or run `gh auth login` (then `gh auth token`)", ErrBadCredentials)
}

// Credential says what reads the organisation, for the evidence report:
// the token owner's login and the classic scopes GitHub reports, e.g.
// "nhi-auditor (classic token, scopes: admin:org, repo)", or the App's slug,
// IDs and permissions. A rejected token is an error (ErrBadCredentials); a
// token that may not read /user (an installation token) is not.
func (c *Connector) Credential(ctx context.Context) (string, error) {
	c.credMu.Lock()
	defer c.credMu.Unlock()
	if c.cred != "" {
		return c.cred, nil
	}
	var err error
	if c.app != nil {
		c.cred, err = c.app.credential(ctx)
	} else {
		c.cred, err = c.tokenCredential(ctx)
	}
	if err != nil {
		c.cred = ""
	}
	return c.cred, err
}

func (c *Connector) tokenCredential(ctx context.Context) (string, error) {
	ep := endpoint{path: "/user", url: "user"}
	pc := c.newPageCache("credential")
	defer pc.save(ctx)
	pd, resp, err := c.fetchPage(ctx, pc, ep, ep.url, func(body []byte, pd *pageData) (int, error) {
		var u github.User
		if err := unmarshal(body, &u); err != nil {
			return 0, err
		}
		pd.Names = []string{u.GetLogin()}
		return 1, nil
	})
	if err != nil {
		return "", err
	}
	if resp.status != http.StatusOK && resp.status != http.StatusNotModified {
		return fmt.Sprintf("token owner unknown (GET /user: %d %s)", resp.status, resp.message()), nil
	}
	cred := "token owner unknown"
	if len(pd.Names) == 1 && pd.Names[0] != "" {
		cred = pd.Names[0]
	}
	if scopes, ok := resp.header[http.CanonicalHeaderKey("X-OAuth-Scopes")]; !ok {
		cred += " (token without OAuth scopes: fine-grained PAT or GitHub App)"
	} else if s := strings.Join(scopes, ", "); strings.TrimSpace(s) == "" {
		cred += " (classic token, no scopes)"
	} else {
		cred += " (classic token, scopes: " + s + ")"
	}
	return cred, nil
}

// Run reads every identity of the organisation into rec. Endpoints the
// token may not read are recorded as gaps; any other failure stops the run.
// Units of work rec says are already checkpointed are skipped.
func (c *Connector) Run(ctx context.Context, rec connectors.Recorder) (err error) {
	if _, err := c.Credential(ctx); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := c.startWriter(rec, cancel)
	err = c.run(ctx, rec)
	if werr := stop(); werr != nil {
		err = werr // the writer's error is why the run stopped
	}
	if err == nil {
		if c.app != nil && c.stats.conditional.Load() > 0 && c.stats.notModified.Load() == 0 {
			c.note("GitHub ties ETags to the token, and a GitHub App gets a new installation token each run: no page could be revalidated from the last run, so this one cost as much of the rate limit as a first (a token kept between runs gets 304s)")
		}
		c.emit(PhaseDone, "", 0)
	}
	return err
}

// Check reads GET /orgs/{org} before a snapshot opens
// (connectors.Checker), so an organisation that does not exist, or that
// the credential cannot see, fails the run with nothing recorded. Run
// checks too, once: a Run after a Check does not read the organisation
// again.
func (c *Connector) Check(ctx context.Context) error {
	c.checkMu.Lock()
	defer c.checkMu.Unlock()
	if c.checked {
		return nil
	}
	if _, err := c.Credential(ctx); err != nil {
		return err
	}
	c.emit(PhaseOrg, "GET /orgs/"+c.org, 0)
	if err := c.readOrg(ctx); err != nil {
		return err
	}
	c.checked = true
	return nil
}

func (c *Connector) run(ctx context.Context, rec connectors.Recorder) error {
	if err := c.Check(ctx); err != nil {
		return err
	}
	c.emit(PhaseOrg, "GET /orgs/"+c.org+"/rulesets", 0)
	if err := c.readRulesets(ctx, rec); err != nil {
		return err
	}
	for _, u := range c.orgUnits() {
		if rec.Checkpointed(u.name) {
			continue
		}
		c.emit(PhaseOrg, u.what, 0)
		un := c.newUnit(u.name)
		if err := u.read(ctx, un); err != nil {
			un.keepCache()
			return err
		}
		if err := c.finishUnit(ctx, un); err != nil {
			return err
		}
	}
	c.emit(PhaseOrg, "GET /orgs/"+c.org+"/repos", 0)
	repos, err := c.repos(ctx)
	if err != nil {
		return err
	}
	todo := make([]repoInfo, 0, len(repos))
	for _, r := range repos {
		if !rec.Checkpointed(repoUnit(r.Name)) {
			todo = append(todo, r)
		}
	}
	c.progressMu.Lock()
	c.reposTotal, c.reposDone = len(repos), len(repos)-len(todo)
	c.listed = repos
	c.progressMu.Unlock()
	c.emit(PhaseRepos, "repositories", 0)
	if err := c.readRepos(ctx, todo); err != nil {
		return err
	}
	if err := c.finishHeld(ctx); err != nil {
		return err
	}
	// What this run's list says of the credential's view, recorded once
	// every repository on it is read: a run resumed after the credential
	// lost sight of some judges the list it read them by, never an
	// earlier run's, whose repositories it may no longer see.
	if rec.Checkpointed(reposUnit) {
		return nil
	}
	u := c.newUnit(reposUnit)
	whole, gap := c.visibility(repos)
	if whole {
		u.children(c.org) // a repository not listed no longer exists
	}
	if gap != nil {
		u.gap(*gap)
	}
	return u.finish(ctx)
}

func repoUnit(repo string) string { return "repo:" + repo }

// reposUnit records what the repository list says of the credential's
// view: whether it sees the whole organisation. It is the run's last unit,
// so the list it judges is the one every repository was read by.
const reposUnit = "org:repos"

// visibility tells whether the credential demonstrably sees every
// repository of the organisation, having listed listed of them: an App
// installed on all of them, or a token that listed as many as GET
// /orgs/{org} counts. When it does not, gap says so, with the shortfall
// when GitHub gave the counts; the snapshot is then partial, and nothing
// in a repository it did not list is ever claimed removed.
func (c *Connector) visibility(repos []repoInfo) (whole bool, gap *audit.Gap) {
	listed := len(repos)
	ep := c.orgEP("repos", "", "")
	g := func(format string, args ...any) *audit.Gap {
		return &audit.Gap{Endpoint: ep.String(), Scope: c.org, Reason: fmt.Sprintf(format, args...)}
	}
	total := -1
	if n := c.orgRepos; n != nil {
		total = n.Public + n.Private
	}
	if c.app != nil {
		switch c.app.selection() {
		case "all":
			return true, nil
		case "selected":
			if total > listed {
				return false, g("%d of %d repositories %s not visible to this credential: the GitHub App is installed on %d selected repositories only%s; install it on all repositories to read the others", total-listed, total, are(total-listed), listed, namedUnseen(c.unseenNamed(repos), total-listed))
			}
			return false, g("the GitHub App is installed on selected repositories only (%d were read): repositories it is not installed on are not visible to this credential and were not read%s; install it on all repositories", listed, namedUnseen(c.unseenNamed(repos), -1))
		}
	}
	switch {
	case total < 0:
		return false, g("GitHub did not tell this credential how many private repositories the organization has (it tells organization owners), so repositories the credential cannot see would go unnoticed: %d were listed, and identities in any other were not checked; use an organization owner's token", listed)
	case listed >= total:
		return true, nil
	}
	return false, g("%d of %d repositories %s not visible to this credential (the organization has %d private and %d public; %d were listed), so their identities were not read%s; use an organization owner's token with the repo scope, or a fine-grained token or GitHub App with access to all repositories",
		total-listed, total, are(total-listed), c.orgRepos.Private, c.orgRepos.Public, listed, namedUnseen(c.unseenNamed(repos), total-listed))
}

func are(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

// readRepos reads repos with a bounded pool of workers. The first error
// stops them all; a repository not fully read is not checkpointed.
func (c *Connector) readRepos(ctx context.Context, repos []repoInfo) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
		next     = make(chan repoJob)
	)
	fail := func(err error) {
		errOnce.Do(func() { firstErr = err })
		cancel()
	}
	for range min(c.concurrency, max(len(repos), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for job := range next {
				if err := c.readRepo(ctx, job.info, job.gql); err != nil {
					fail(err)
					return
				}
			}
		}()
	}
	// GraphQL reads a batch of repositories ahead of the workers (graphql.go).
	err := c.gqlBatches(ctx, repos, func(j repoJob) bool {
		select {
		case next <- j:
			return true
		case <-ctx.Done():
			return false
		}
	})
	if err != nil {
		fail(err)
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

// readOrg checks the organisation exists and the token can see it.
func (c *Connector) readOrg(ctx context.Context) error {
	ep := endpoint{path: "/orgs/" + c.org, url: "orgs/" + c.org}
	pc := c.newPageCache("org")
	defer pc.save(ctx)
	pd, resp, err := c.fetchPage(ctx, pc, ep, ep.url, func(body []byte, pd *pageData) (int, error) {
		var o github.Organization
		if err := unmarshal(body, &o); err != nil {
			return 0, err
		}
		if o.TotalPrivateRepos != nil {
			pd.Repos = &repoCounts{Public: o.GetPublicRepos(), Private: int(o.GetTotalPrivateRepos())}
		}
		return 1, nil
	})
	if err != nil {
		return err
	}
	switch resp.status {
	case http.StatusOK, http.StatusNotModified:
		c.orgRepos = pd.Repos
		return c.readServer(ctx)
	case http.StatusNotFound:
		return c.notFound()
	case http.StatusForbidden:
		msg := resp.message()
		if resp.header.Get("X-GitHub-SSO") != "" {
			msg += "; authorize the token for the organization's SAML single sign-on in your GitHub token settings"
		}
		return fmt.Errorf("github: %s: GitHub answered 403 %s", ep, msg)
	}
	return &statusError{ep: ep, status: resp.status, message: resp.message()}
}

// readServer learns a GitHub Enterprise Server's version from GET /meta
// when its answers did not carry X-GitHub-Enterprise-Version, and notes
// once which kinds it does not have: those are not read, and not gaps.
func (c *Connector) readServer(ctx context.Context) error {
	if !c.enterprise() {
		return nil
	}
	if v, _ := c.Server(); v == "" {
		ep := endpoint{path: "/meta", url: "meta"}
		resp, err := c.do(ctx, ep, http.MethodGet, ep.url, "", false)
		if err != nil {
			return err
		}
		var meta struct {
			InstalledVersion string `json:"installed_version"`
		}
		if resp.status == http.StatusOK && json.Unmarshal(resp.body, &meta) == nil && meta.InstalledVersion != "" {
			c.setServerVersion(meta.InstalledVersion)
		}
	}
	v, _ := c.Server()
	if v == "" {
		v = "(version not given)"
	}
	c.noteOnce(fmt.Sprintf("GitHub Enterprise Server %s has no Codespaces secrets, no Copilot coding agent secrets and no SAML credential authorizations: they were not read, and are not gaps", v))
	return nil
}

// notFound is GET /orgs/{org} answered 404. GitHub answers so for an
// organisation that does not exist and for one it hides from the
// credential, and says nothing that tells them apart: the error says both.
func (c *Connector) notFound() error {
	return orgNotFoundError(fmt.Sprintf("github: organization %q not found at %s: GitHub answered 404 Not Found, as it does too for an organization the credential may not see; check --org, that the credential can see the organization, and --api-url for GitHub Enterprise Server", c.org, c.APIURL()))
}

// orgNotFoundError is ErrOrgNotFound in words of its own.
type orgNotFoundError string

func (e orgNotFoundError) Error() string        { return string(e) }
func (e orgNotFoundError) Is(target error) bool { return target == ErrOrgNotFound }

// repoInfo is a repository as the list says: its name, and a stamp that
// changes whenever its files may have (see repoContext).
type repoInfo struct {
	Name  string
	ID    string // GitHub's immutable ID: it anchors the repository's identities across renames
	Stamp string // default branch and pushed_at; "" when never pushed
}

// repos lists every repository of the organisation. The list is not a unit
// of work: a resumed run reads it again (from the cache).
func (c *Connector) repos(ctx context.Context) ([]repoInfo, error) {
	ep := c.orgEP("repos", "", "", "type=all")
	u := c.newUnit("")
	u.cache = c.newPageCache("repositories")
	names, _, err := u.list(ctx, ep, func(body []byte, pd *pageData) (int, error) {
		var page []*github.Repository
		if err := unmarshal(body, &page); err != nil {
			return 0, err
		}
		for _, r := range page {
			// name, ID, then its stamp: Names holds triples.
			stamp := ""
			if r.PushedAt != nil && !r.PushedAt.IsZero() {
				stamp = r.GetDefaultBranch() + "@" + r.PushedAt.UTC().Format(time.RFC3339)
			}
			pd.Names = append(pd.Names, r.GetName(), strconv.FormatInt(r.GetID(), 10), stamp)
		}
		return len(page), nil
	})
	var se *statusError
	if errors.As(err, &se) && se.status == http.StatusNotFound {
		return nil, c.notFound()
	}
	if err != nil {
		return nil, err
	}
	if err := u.finish(ctx); err != nil { // the writer saves its cache entry
		return nil, err
	}
	repos := make([]repoInfo, 0, len(names)/3)
	for i := 0; i+2 < len(names); i += 3 {
		repos = append(repos, repoInfo{Name: names[i], ID: names[i+1], Stamp: names[i+2]})
	}
	return repos, nil
}

// orgEP is an organisation endpoint: rest below /orgs/{org}/, query
// parameters besides per_page.
func (c *Connector) orgEP(rest string, kind audit.Kind, need string, query ...string) endpoint {
	path := "/orgs/" + c.org + "/" + rest
	return endpoint{path: path, url: pageURL(path, query), kind: kind, scope: c.org, need: need}
}

// repoEP is a repository endpoint: rest below /repos/{org}/{repo}/, its
// segments already escaped where needed.
func (c *Connector) repoEP(repo, rest, display string, kind audit.Kind, need string, query ...string) endpoint {
	esc := "/repos/" + c.org + "/" + pathEscape(repo) + "/" + rest
	return endpoint{
		path:  "/repos/" + c.org + "/" + repo + "/" + display,
		url:   pageURL(esc, query),
		kind:  kind,
		scope: c.repoScope(repo),
		need:  need,
	}
}

func pageURL(path string, query []string) string {
	q := append([]string{}, query...)
	q = append(q, fmt.Sprintf("per_page=%d", perPage))
	return strings.TrimPrefix(path, "/") + "?" + strings.Join(q, "&")
}

func (c *Connector) id(kind audit.Kind, naturalKey string) string {
	return audit.IdentityID(Source, c.org, kind, naturalKey)
}

func (c *Connector) repoScope(repo string) string { return c.org + "/" + repo }
