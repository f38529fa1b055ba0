package github

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/connectors"
	"github.com/nhi-audit/nhi/internal/jsonscan"
)

// endpoint is one API call, for requests, gaps and error messages.
type endpoint struct {
	method string     // "" is GET
	path   string     // "/orgs/acme/hooks": unescaped, no query string, for people
	url    string     // the first page's request URL, relative to the API base (escaped, with query)
	kind   audit.Kind // what it yields ("" for context)
	scope  string     // org or org/repo
	// need says what access a 403 or 404 usually means is missing. An
	// endpoint with a need turns those, any other refusal (4xx) and an
	// answer that cannot be read into a gap; without one they are errors.
	need string
	// accept, when set, is the media type asked for (Accept header).
	accept string
	// body, when set, is sent as JSON (a GraphQL query: people.go).
	body any
	// graphql: a GraphQL query, which spends GraphQL's rate limit, not
	// REST's. batch: one of graphql.go's batches, which a server error or
	// a timeout does not retry as it is: graphql.go asks for fewer
	// repositories instead.
	graphql, batch bool
	// spare: a GraphQL query the run can do without (a count, counts.go):
	// GraphQL's budget spent is errGraphQLSpent at once, as for a batch,
	// never a wait for GraphQL's reset while REST could read on.
	spare bool
}

func (e endpoint) String() string {
	m := e.method
	if m == "" {
		m = http.MethodGet
	}
	return m + " " + e.path
}

// statusError is an answer a list could not use that is not a gap.
type statusError struct {
	ep      endpoint
	status  int
	message string
}

func (e *statusError) Error() string {
	return fmt.Sprintf("github: %s: GitHub answered %d %s", e.ep, e.status, e.message)
}

// pageData is what a page yields once parsed: the only form of an answer
// the connector keeps, in the request cache under the answer's ETag.
// Secret material never reaches it (the parsers drop it), so a 304 Not
// Modified replays it without reading the answer again.
type pageData struct {
	Next       string              `json:"next,omitempty"` // next page, relative to the API base
	Full       bool                `json:"full,omitempty"` // the page held perPage items
	Obs        []audit.Observation `json:"obs,omitempty"`
	Principals []audit.Principal   `json:"principals,omitempty"`
	Names      []string            `json:"names,omitempty"` // repositories, environments, a login
	Repos      *repoCounts         `json:"repos,omitempty"` // the organisation's own counts, when GitHub gives them
	Rulesets   []ruleset           `json:"rulesets,omitempty"`
	// Total is the total_count of a list GitHub wraps ({"total_count": N,
	// "secrets": [...]}), nil for a bare array; Items is how many items
	// the page held then. list compares the two (short).
	Total *int `json:"total,omitempty"`
	Items int  `json:"items,omitempty"`
}

// repoCounts are how many repositories GET /orgs/{org} says the
// organisation has; GitHub gives the private count to owners only.
type repoCounts struct {
	Public  int `json:"public"`
	Private int `json:"private"`
}

// parser turns one page's body into pageData and says how many items it held.
type parser func(body []byte, pd *pageData) (items int, err error)

// cacheVersion changes whenever what parsers derive changes, so a newer
// nhi never replays what an older one derived. 4: pages keep the
// total_count GitHub said (pageData.Total), without which a page replayed
// on a 304 would let a list cut short pass for whole.
const cacheVersion = "4"

// pageCache is what one unit of work keeps in the request cache: for each
// page it read, the answer's ETag and what the page yielded, in one cache
// entry per unit (one per repository), so a snapshot of 10,000
// repositories writes 10,000 rows, not one per request. Pages the unit
// no longer reads are dropped when it is saved.
type pageCache struct {
	c      *Connector
	key    string
	loaded bool
	dirty  bool
	old    cacheBundle
	cur    cacheBundle
}

type cacheBundle struct {
	Pages map[string]cachedPage `json:"pages,omitempty"` // by request URL
	// Stamp and CodeOwners: a repository's CODEOWNERS as of its stamp
	// (see codeOwners).
	Stamp      string           `json:"stamp,omitempty"`
	CodeOwners *codeOwnersEntry `json:"codeowners,omitempty"`
}

type cachedPage struct {
	ETag string   `json:"etag"`
	Page pageData `json:"page"`
}

// newPageCache is the cache of the unit called name; nil without a cache.
func (c *Connector) newPageCache(name string) *pageCache {
	if c.cache == nil {
		return nil
	}
	return &pageCache{c: c, key: "github/" + cacheVersion + " " + c.org + " " + name}
}

func (pc *pageCache) load(ctx context.Context) {
	if pc.loaded {
		return
	}
	pc.loaded = true
	pc.cur.Pages = map[string]cachedPage{}
	if _, v, ok, err := pc.c.cache.CacheGet(ctx, pc.key); err == nil && ok {
		if json.Unmarshal(v, &pc.old) != nil {
			pc.old = cacheBundle{}
		}
	}
}

// lookup is what the cache holds for u.
func (pc *pageCache) lookup(ctx context.Context, u string) (cachedPage, bool) {
	if pc == nil {
		return cachedPage{}, false
	}
	pc.load(ctx)
	p, ok := pc.old.Pages[u]
	return p, ok
}

// keep carries u's entry over to this run (a 304).
func (pc *pageCache) keep(u string, p cachedPage) {
	if pc != nil {
		pc.cur.Pages[u] = p
	}
}

// store records what u yielded under its ETag ("" forgets u).
func (pc *pageCache) store(ctx context.Context, u, etag string, pd pageData) {
	if pc == nil {
		return
	}
	pc.load(ctx)
	pc.dirty = true
	if etag == "" {
		delete(pc.cur.Pages, u)
		return
	}
	pc.cur.Pages[u] = cachedPage{ETag: etag, Page: pd}
}

// merge keeps what the cache held for pages this run did not reach, when
// a unit was interrupted: the next run asks for them conditionally still.
func (pc *pageCache) merge() {
	if pc == nil || !pc.loaded {
		return
	}
	for k, v := range pc.old.Pages {
		if _, ok := pc.cur.Pages[k]; !ok {
			pc.cur.Pages[k] = v
		}
	}
	if pc.cur.Stamp == "" {
		pc.cur.Stamp, pc.cur.CodeOwners = pc.old.Stamp, pc.old.CodeOwners
	}
}

// save writes the unit's entry when anything changed. A cache that cannot
// be written costs requests next time, never data.
func (pc *pageCache) save(ctx context.Context) {
	if pc == nil || !pc.loaded {
		return
	}
	if !pc.dirty && len(pc.cur.Pages) == len(pc.old.Pages) && pc.cur.Stamp == pc.old.Stamp {
		return
	}
	b, err := json.Marshal(&pc.cur)
	if err != nil {
		return
	}
	_ = pc.c.cache.CachePut(ctx, pc.key, cacheVersion, b)
}

// fetchPage reads one page of ep at u (relative to the API base):
// conditionally when pc has it, replaying what it yielded on 304.
// Answers other than 200 and 304 come back in resp with a nil error.
func (c *Connector) fetchPage(ctx context.Context, pc *pageCache, ep endpoint, u string, parse parser) (pd pageData, resp *response, err error) {
	cached, ok := pc.lookup(ctx, u)
	resp, err = c.do(ctx, ep, http.MethodGet, u, cached.ETag, false)
	if err != nil {
		return pd, nil, err
	}
	switch {
	case resp.status == http.StatusNotModified && ok:
		pc.keep(u, cached)
		return cached.Page, resp, nil
	case resp.status == http.StatusNotModified:
		return pd, nil, fmt.Errorf("github: %s: 304 Not Modified to an unconditional request", ep)
	case resp.status != http.StatusOK:
		return pd, resp, nil
	}
	n, err := parse(resp.body, &pd)
	if err != nil {
		return pd, nil, &unreadable{ep: ep, err: malformed(ep, err)}
	}
	if pd.Next, err = c.nextPage(resp.header); err != nil {
		return pd, nil, fmt.Errorf("github: %s: %w", ep, err)
	}
	pd.Full = n >= perPage
	if pd.Total, err = totalCount(resp.body); err != nil {
		return pageData{}, nil, &unreadable{ep: ep, err: fmt.Errorf("github: %s: %w", ep, err)}
	}
	if pd.Total != nil {
		pd.Items = n
	}
	pc.store(ctx, u, resp.header.Get("ETag"), pd)
	return pd, resp, nil
}

// totalCount is the total_count of an answer GitHub wraps ({"total_count":
// N, "repositories": [...]}), read as encoding/json reads the rest of the
// answer: the key at the top level of the object, its name matched as
// encoding/json matches a field's (escapes decoded, case folded), the
// last one when it comes twice. nil for a bare array, or an object
// without the key: a list GitHub does not count.
//
// A total_count that is not a count — null, a string, a fraction, an
// exponent (1e2), a negative number, one beyond int64 — is an error:
// fetchPage makes it an answer that could not be read, a gap of the
// endpoint (or, for one without a need, the end of the run), so such a
// count is never read as zero, nor as no count, and never lets a list cut
// short pass for whole.
//
// The parser has decoded the answer whole (so it is JSON) before this
// reads it once more with jsonscan, in place (NewBytes) and without
// checking it again (SkipKnown): a second decode would cost a third as
// much as the parse on a page of 100 secrets; this, whichever key comes
// first, about as much as the scan it replaced cost when the count came
// last (BenchmarkTotalCount, BenchmarkParseSecrets).
func totalCount(body []byte) (*int, error) {
	s := jsonscan.NewBytes(body)
	s.Space()
	if !s.Eat('{') {
		return nil, nil // a bare array (anything else, the parser refused)
	}
	var count *int
	s.Space()
	if s.Eat('}') {
		return nil, nil
	}
	for {
		s.Space()
		_, key, ok := s.Str()
		s.Space()
		if !ok || !s.Eat(':') {
			return nil, errNoCount
		}
		s.Space()
		if !strings.EqualFold(key, "total_count") {
			if !s.SkipKnown() { // the parser has read the answer: it is JSON
				return nil, errNoCount
			}
		} else {
			n, err := countValue(s)
			if err != nil {
				return nil, err
			}
			count = &n
		}
		s.Space()
		if s.Eat('}') {
			return count, nil
		}
		if !s.Eat(',') {
			return nil, errNoCount
		}
	}
}

// errNoCount: an answer jsonscan did not read whole for its total_count.
var errNoCount = errors.New("the answer could not be read for its total_count")

// countValue reads a total_count's value: a whole number of items.
func countValue(s *jsonscan.Scanner) (int, error) {
	c := s.Peek()
	if c != '-' && (c < '0' || c > '9') {
		what := map[byte]string{'n': "null", '"': "a string", 't': "true", 'f': "false", '{': "an object", '[': "a list"}[c]
		if what == "" {
			what = "not a number"
		}
		return 0, fmt.Errorf("total_count is %s, not a count", what)
	}
	n, ok := s.Int()
	switch {
	case !ok:
		return 0, errors.New("total_count is not a whole number (a fraction, an exponent, or beyond int64), not a count")
	case n < 0:
		return 0, fmt.Errorf("total_count is %d, not a count", n)
	case int64(int(n)) != n:
		return 0, errors.New("total_count is beyond int, not a count") // a 32-bit build
	}
	return int(n), nil
}

// short is the gap of a wrapped list that GitHub said holds total items,
// of which every page was read and only got arrived: what it holds was
// not read whole, so nothing missing from it may be read as removed.
func short(ep endpoint, total, got, pages int) audit.Gap {
	reason := fmt.Sprintf("GitHub said the list holds %d (total_count), but its %s held %d, so what it holds was not read whole; run again, and tell GitHub Support if it stays",
		total, audit.Counted(pages, "page", "pages"), got)
	return audit.Gap{Endpoint: ep.String(), Kind: ep.kind, Scope: ep.scope, Status: http.StatusOK, Reason: reason}
}

// unreadable is an answer GitHub gave that could not be read: a gap for
// the endpoint's unit when it has a need, else the end of the run.
type unreadable struct {
	ep  endpoint
	err error
}

func (e *unreadable) Error() string { return e.err.Error() }
func (e *unreadable) Unwrap() error { return e.err }

func malformed(ep endpoint, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	if errors.As(err, &syn) || errors.As(err, &typ) || errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(err.Error(), "unexpected end of JSON") {
		return fmt.Errorf("github: %s: malformed JSON response: %w", ep, err)
	}
	return fmt.Errorf("github: %s: %w", ep, err)
}

// list reads every page of ep into u: observations are recorded,
// principals too, names returned. A 403/404 on an endpoint with a need is
// recorded as a gap (what earlier pages held stays recorded) and ok is
// false.
func (u *unit) list(ctx context.Context, ep endpoint, parse parser) (names []string, ok bool, err error) {
	c := u.c
	next := ep.url
	read := map[string]bool{} // the pages asked for, to end a loop of links
	// What the pages of a wrapped list said they hold (the most any page
	// said) and held; counted while every page said. The most, not the
	// last: a list that lost items while it was paged, ahead of the page
	// being read, moved items it still holds onto pages already read,
	// and its last page's count matches what was read (150, then 120 of
	// which 120 were read, 30 never seen: TestFewerWhilePaged).
	var total *int
	got, counted, pages := 0, true, 0
	for ; next != ""; pages++ {
		if err := ctx.Err(); err != nil {
			return nil, false, err
		}
		if read[next] {
			// A rel="next" link back to a page already read: followed, it
			// would spend the rate limit for ever and read nothing new.
			bad := &unreadable{ep: ep, err: fmt.Errorf("github: %s: page %d links back to a page already read", ep, pages)}
			if ep.need == "" {
				return nil, false, bad
			}
			u.unreadable(ep, pages, bad)
			return nil, false, nil
		}
		read[next] = true
		pd, resp, err := c.fetchPage(ctx, u.cache, ep, next, parse)
		var bad *unreadable
		if errors.As(err, &bad) && ep.need != "" {
			// One endpoint's answer is no reason to lose the rest.
			u.unreadable(ep, pages, bad)
			return nil, false, nil
		}
		var broken *brokenEndpoint
		if errors.As(err, &broken) {
			answer := fmt.Sprintf("%d %s", broken.status, broken.message)
			if broken.status == 0 {
				answer = broken.message
			}
			reason := fmt.Sprintf("GitHub answered %s each of %d times it was asked while it answered other requests, so what this endpoint holds was not read; run again later, and tell GitHub Support if it stays",
				answer, broken.attempts)
			if pages > 0 {
				reason += firstPagesRead(pages)
			}
			u.gap(audit.Gap{Endpoint: ep.String(), Kind: ep.kind, Scope: ep.scope, Status: broken.status, Reason: reason})
			u.broken = true
			return nil, false, nil
		}
		if err != nil {
			return nil, false, err
		}
		if resp.status != http.StatusOK && resp.status != http.StatusNotModified {
			return nil, false, u.failed(ep, pages, resp)
		}
		if err := u.add(&pd); err != nil {
			return nil, false, fmt.Errorf("github: %s: %w", ep, err)
		}
		names = append(names, pd.Names...)
		if pd.Total != nil && (total == nil || *pd.Total > *total) {
			total = pd.Total
		}
		got, counted = got+pd.Items, counted && pd.Total != nil
		switch {
		case pd.Next != "":
			next = pd.Next
		case resp.status == http.StatusNotModified && pd.Full:
			// A full last page replayed from the cache: GitHub's ETag
			// covers the body, not the Link header, so a list that grew
			// by a page would look unchanged. Ask for the page after it.
			next = pageAfter(next)
		default:
			// No rel="next" is the last page, even a full one: GitHub
			// sends no Link header when everything fits on one page
			// (exactly 100 items included), and go-github reads it so
			// too (Response.NextPage comes from the Link header alone).
			// Only a proxy that strips Link headers makes a full
			// page with more behind it, and it would cut every longer
			// list alike; asking for one page more would cost a request
			// for every list of exactly 100 to guard against it.
			next = ""
		}
	}
	if counted && total != nil && got < *total {
		// Fewer than GitHub counted: a list cut short (by an item removed
		// while it was paged, or one GitHub counts and does not show).
		u.gap(short(ep, *total, got, pages))
		return nil, false, nil
	}
	return names, true, nil
}

// pageAfter is u with its page parameter one higher ("" when u does not
// paginate by page number).
func pageAfter(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	q := p.Query()
	page := 1
	if v := q.Get("page"); v != "" {
		if page, err = strconv.Atoi(v); err != nil {
			return ""
		}
	}
	q.Set("page", strconv.Itoa(page+1))
	p.RawQuery = q.Encode()
	return p.String()
}

// onlyTheFirst begins what a gap's reason says of the pages read before
// the listing failed (firstPagesRead).
const onlyTheFirst = "; only the first "

// firstPagesRead is what a gap's reason adds when pages of a listing were
// read before it failed: "; only the first page was read", "; only the
// first 3 pages were read".
func firstPagesRead(pages int) string {
	if pages == 1 {
		return onlyTheFirst + "page was read"
	}
	return onlyTheFirst + strconv.Itoa(pages) + " pages were read"
}

// unreadable records an answer that could not be read as a gap.
func (u *unit) unreadable(ep endpoint, pages int, bad *unreadable) {
	why := strings.TrimPrefix(bad.err.Error(), "github: "+ep.String()+": ")
	reason := fmt.Sprintf("GitHub's answer could not be read (%s), so what this endpoint holds was not recorded; run again, and report it if it stays", why)
	if pages > 0 {
		reason += firstPagesRead(pages)
	}
	u.gap(audit.Gap{Endpoint: ep.String(), Kind: ep.kind, Scope: ep.scope, Status: http.StatusOK, Reason: reason})
}

// failed decides what an unusable answer means: a gap (nil) or an error.
// 401 and rate limits never get here (see do); 5xx ends the run
// resumably there, unless only this endpoint gets it (brokenEndpoint).
func (u *unit) failed(ep endpoint, pages int, resp *response) error {
	status := resp.status
	switch {
	case ep.need != "" && (gapStatus(status) || status >= 400 && status < 500):
		reason := fmt.Sprintf("%s (GitHub answered %d %s)", ep.need, status, resp.message())
		if accepted := acceptedAccess(resp.header); accepted != "" && status == http.StatusForbidden {
			reason = fmt.Sprintf("%s; GitHub's answer says it accepts %s (GitHub answered %d %s)", ep.need, accepted, status, resp.message())
		}
		if !gapStatus(status) {
			reason = fmt.Sprintf("GitHub refused the request (%d %s), so what this endpoint holds was not read", status, resp.message())
		}
		if resp.header.Get("X-GitHub-SSO") != "" {
			reason += "; the token is not authorized for this organization's SAML single sign-on: authorize it in your GitHub token settings"
		}
		if pages > 0 {
			reason += firstPagesRead(pages)
		}
		u.gap(audit.Gap{Endpoint: ep.String(), Kind: ep.kind, Scope: ep.scope, Status: status, Reason: reason})
		return nil
	}
	return &statusError{ep: ep, status: status, message: resp.message()}
}

// acceptedAccess is what GitHub's answer says the endpoint accepts, in
// its X-Accepted-GitHub-Permissions ("secrets=read; organization_secrets=read",
// for Apps and fine-grained tokens) and X-Accepted-OAuth-Scopes (for
// classic tokens) headers; "" when it says neither.
func acceptedAccess(h http.Header) string {
	var parts []string
	if p := strings.TrimSpace(h.Get("X-Accepted-GitHub-Permissions")); p != "" {
		var perms []string
		for _, alt := range strings.Split(p, ";") {
			if alt = strings.TrimSpace(alt); alt != "" {
				perms = append(perms, strings.ReplaceAll(alt, "=", ": "))
			}
		}
		parts = append(parts, "the GitHub App or fine-grained token permission "+strings.Join(perms, ", or "))
	}
	if s := strings.TrimSpace(h.Get("X-Accepted-OAuth-Scopes")); s != "" {
		parts = append(parts, "the classic token scope "+strings.Join(strings.Fields(strings.ReplaceAll(s, ",", " ")), ", or "))
	}
	return strings.Join(parts, "; or ")
}

// gapStatus is an answer that means "you may not read this here": 403,
// 404 (GitHub hides what it will not show), 409 (an empty repository), 410
// (a feature turned off), 451 (a repository blocked for legal reasons).
func gapStatus(s int) bool {
	switch s {
	case http.StatusForbidden, http.StatusNotFound, http.StatusConflict, http.StatusGone, http.StatusUnavailableForLegalReasons:
		return true
	}
	return false
}

// nextPage is the rel="next" link of an answer, relative to the API base.
// A link elsewhere is refused: the token must not follow it off the API.
func (c *Connector) nextPage(h http.Header) (string, error) {
	for _, part := range strings.Split(h.Get("Link"), ",") {
		seg := strings.Split(strings.TrimSpace(part), ";")
		if len(seg) < 2 {
			continue
		}
		isNext := false
		for _, p := range seg[1:] {
			if strings.TrimSpace(p) == `rel="next"` {
				isNext = true
			}
		}
		if !isNext {
			continue
		}
		raw := strings.Trim(strings.TrimSpace(seg[0]), "<>")
		return c.relative(raw)
	}
	return "", nil
}

func pathEscape(s string) string { return url.PathEscape(s) }

// relative turns a URL on the API into one relative to its base.
func (c *Connector) relative(raw string) (string, error) {
	base := c.client.BaseURL
	u, err := base.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("bad link %q", raw)
	}
	if u.Scheme != base.Scheme || u.Host != base.Host || !strings.HasPrefix(u.EscapedPath(), base.EscapedPath()) {
		return "", fmt.Errorf("link %q leaves the API at %s; not followed", u.Redacted(), base)
	}
	rel := strings.TrimPrefix(u.EscapedPath(), base.EscapedPath())
	if u.RawQuery != "" {
		rel += "?" + u.RawQuery
	}
	return rel, nil
}

// unit is one unit of work (an endpoint family, a repository): what it
// read, kept until it is complete and handed whole to the writer, which
// records it and then checkpoints it.
type unit struct {
	c          *Connector
	name       string // checkpoint; "" for none
	cache      *pageCache
	obs        []audit.Observation
	principals []audit.Principal
	gaps       []audit.Gap
	reads      []audit.ScopeRead // what the unit read in full, in order
	identities int
	broken     bool // an endpoint's gap is a brokenEndpoint (storm.go)
}

// read records that the unit listed every identity of kind at scope.
func (u *unit) read(scope string, kind audit.Kind) {
	for i := range u.reads {
		if u.reads[i].Scope == scope {
			u.reads[i].Kinds = append(u.reads[i].Kinds, kind)
			return
		}
	}
	u.reads = append(u.reads, audit.ScopeRead{Scope: scope, Kinds: []audit.Kind{kind}})
}

// children records that the unit read every scope directly below scope.
func (u *unit) children(scope string) {
	for i := range u.reads {
		if u.reads[i].Scope == scope {
			u.reads[i].Children = true
			return
		}
	}
	u.reads = append(u.reads, audit.ScopeRead{Scope: scope, Children: true})
}

func (c *Connector) newUnit(name string) *unit {
	return &unit{c: c, name: name, cache: c.newPageCache(name)}
}

func (u *unit) add(pd *pageData) error {
	u.obs = append(u.obs, pd.Obs...)
	u.principals = append(u.principals, pd.Principals...)
	u.identities += len(pd.Obs)
	return nil
}

func (u *unit) gap(g audit.Gap) { u.gaps = append(u.gaps, g) }

// finish hands the unit to the writer.
func (u *unit) finish(ctx context.Context) error {
	select {
	case u.c.sink <- u:
		return nil
	case <-u.c.writerDone:
		return u.c.writerErr
	case <-ctx.Done():
		return ctx.Err()
	}
}

// keepCache hands the writer what an interrupted unit fetched, so the
// next run need not pay for those pages again. Nothing is recorded.
func (u *unit) keepCache() {
	if u.cache == nil || !u.cache.dirty {
		return
	}
	u.cache.merge()
	select {
	case u.c.sink <- &unit{c: u.c, cache: u.cache}:
	case <-u.c.writerDone:
	}
}

// startWriter starts the one goroutine that writes to rec and the cache:
// SQLite takes one writer at a time, and the workers go on reading while
// it writes. A write error stops the run (cancel).
func (c *Connector) startWriter(rec connectors.Recorder, cancel context.CancelFunc) (stop func() error) {
	c.sink = make(chan *unit, 4*c.concurrency)
	c.writerDone = make(chan struct{})
	c.writerErr = nil
	go func() {
		defer close(c.writerDone)
		for u := range c.sink {
			if err := c.write(rec, u); err != nil {
				c.writerErr = err
				cancel()
				return
			}
		}
	}()
	return func() error {
		close(c.sink)
		<-c.writerDone
		return c.writerErr
	}
}

// write records a complete unit: its cache entry, observations,
// principals and gaps, then its checkpoint, so a resumed run that skips it
// loses nothing.
func (c *Connector) write(rec connectors.Recorder, u *unit) error {
	u.cache.save(context.Background())
	for i := range u.obs {
		if err := rec.Record(u.obs[i]); err != nil {
			return fmt.Errorf("github: recording %s: %w", u.obs[i].ID, err)
		}
	}
	for _, p := range u.principals {
		if err := rec.Principal(p); err != nil {
			return fmt.Errorf("github: %w", err) // the store names the principal
		}
	}
	for _, g := range u.gaps {
		if err := rec.Gap(g); err != nil {
			return fmt.Errorf("github: recording gap for %s: %w", g.Endpoint, err)
		}
	}
	for _, r := range u.reads {
		if err := rec.Scope(r); err != nil {
			return fmt.Errorf("github: recording what was read at %s: %w", r.Scope, err)
		}
	}
	c.stats.identities.Add(int64(len(u.obs)))
	c.stats.gaps.Add(int64(len(u.gaps)))
	if u.name == "" {
		return nil
	}
	if err := rec.Checkpoint(u.name); err != nil {
		return fmt.Errorf("github: checkpoint %s: %w", u.name, err)
	}
	if strings.HasPrefix(u.name, "repo:") {
		c.repoDone()
	}
	return nil
}
