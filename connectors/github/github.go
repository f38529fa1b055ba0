// Package github reads an organisation's non-human identities through the GitHub REST API (go-github v60).
//
// A Connector lists, one endpoint family at a time, the organisation's App
// installations, Actions secrets, webhooks and self-hosted runners, then for
// each repository its deploy keys, Actions secrets, webhooks and runners,
// and hands every identity to a connectors.Recorder as an audit.Observation.
// Secret material never crosses that boundary: no secret value (GitHub does
// not return them), no webhook config.secret, no deploy key material (only
// its SHA256 fingerprint), and webhook URLs are stripped of credentials,
// query strings and token-bearing path segments.
//
// An endpoint the token may not read (403, or 404 where GitHub hides what it
// will not show) becomes an audit.Gap and the run goes on; a rejected token,
// a missing organisation, a server error or a malformed response ends the
// run with an error naming the endpoint.
package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/go-github/v60/github"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/connectors"
)

// Source is the source name of every identity this package reads.
const Source = "github"

// perPage is the page size asked of every list endpoint (GitHub's maximum).
const perPage = 100

// ErrBadCredentials is returned (wrapped) when GitHub answers 401.
var ErrBadCredentials = errors.New("GitHub rejected the token (401 Bad credentials): check GITHUB_TOKEN / GH_TOKEN or run `gh auth login`")

// ErrOrgNotFound is returned (wrapped) when the organisation does not exist
// or the token cannot see it.
var ErrOrgNotFound = errors.New("organization not found")

// Connector reads one organisation. It implements connectors.Connector.
type Connector struct {
	client  *github.Client
	org     string // lower case: GitHub logins are case-insensitive
	perPage int

	credRead bool   // GET /user has been asked
	cred     string // what it said, for the evidence report
}

var (
	_ connectors.Connector    = (*Connector)(nil)
	_ connectors.Credentialed = (*Connector)(nil)
)

// New reads org through client, which carries the token and base URL. The
// login is lower-cased: GitHub treats logins case-insensitively, and
// identity IDs must not depend on how someone typed it.
func New(client *github.Client, org string) *Connector {
	return &Connector{client: client, org: strings.ToLower(strings.TrimSpace(org)), perPage: perPage}
}

// NewFromToken builds the client: token as a bearer token (none if ""),
// apiURL as the base URL when not "" (e.g. "https://ghe.example.com/api/v3/"
// or a githubtest server's URL), httpClient for transport (nil: default).
func NewFromToken(apiURL, token, org string, httpClient *http.Client) (*Connector, error) {
	if strings.TrimSpace(org) == "" {
		return nil, errors.New("github: no organization given")
	}
	client := github.NewClient(httpClient)
	if token != "" {
		client = client.WithAuthToken(token)
	}
	if apiURL != "" {
		u, err := url.Parse(apiURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("github: API URL %q is not an http(s) URL", apiURL)
		}
		if !strings.HasSuffix(u.Path, "/") {
			u.Path += "/"
		}
		client.BaseURL = u
	}
	client.UserAgent = "nhi (+https://github.com/nhi-audit/nhi)"
	return New(client, org), nil
}

// Source is "github".
func (c *Connector) Source() string { return Source }

// Account is the organisation login, lower-cased.
func (c *Connector) Account() string { return c.org }

// APIURL is the base URL read from.
func (c *Connector) APIURL() string { return c.client.BaseURL.String() }

// Credential says whose token reads and with which classic scopes, e.g.
// "nhi-auditor (classic token, scopes: admin:org, repo)". It asks GET /user
// once; Run reuses the answer. A rejected token is an error
// (ErrBadCredentials); a token that may not read /user (a GitHub App
// installation token) is not.
func (c *Connector) Credential(ctx context.Context) (string, error) {
	if err := c.readCredential(ctx); err != nil {
		return "", err
	}
	return c.cred, nil
}

// Run reads every identity of the organisation into rec. Endpoints the
// token may not read are recorded as gaps; any other failure stops the run.
func (c *Connector) Run(ctx context.Context, rec connectors.Recorder) error {
	if err := c.readCredential(ctx); err != nil {
		return err
	}
	if err := c.readOrg(ctx); err != nil {
		return err
	}
	for _, read := range []func(context.Context, connectors.Recorder) error{
		c.installations,
		c.orgSecrets,
		c.orgHooks,
		c.orgRunners,
	} {
		if err := read(ctx, rec); err != nil {
			return err
		}
	}
	repos, err := c.repos(ctx)
	if err != nil {
		return err
	}
	for _, repo := range repos {
		if err := c.readRepo(ctx, rec, repo); err != nil {
			return err
		}
	}
	return nil
}

// readRepo reads everything that lives in one repository. It is the unit a
// later bounded worker pool will fan out.
func (c *Connector) readRepo(ctx context.Context, rec connectors.Recorder, repo string) error {
	for _, read := range []func(context.Context, connectors.Recorder, string) error{
		c.deployKeys,
		c.repoSecrets,
		c.repoHooks,
		c.repoRunners,
	} {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := read(ctx, rec, repo); err != nil {
			return err
		}
	}
	return nil
}

// readCredential asks who the token belongs to, once. Only a 401 (or the
// context) is fatal here: an App installation token may not read /user.
func (c *Connector) readCredential(ctx context.Context) error {
	if c.credRead {
		return nil
	}
	user, resp, err := c.client.Users.Get(ctx, "")
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		status := statusOf(resp, err)
		if status == http.StatusUnauthorized {
			return fmt.Errorf("github: GET /user: %w", ErrBadCredentials)
		}
		c.credRead = true
		c.cred = fmt.Sprintf("token owner unknown (GET /user: %d %s)", status, messageOf(err))
		return nil
	}
	c.credRead = true
	c.cred = user.GetLogin()
	if scopes, ok := resp.Header[http.CanonicalHeaderKey("X-OAuth-Scopes")]; !ok {
		c.cred += " (token without OAuth scopes: fine-grained PAT or GitHub App)"
	} else if s := strings.Join(scopes, ", "); s == "" {
		c.cred += " (classic token, no scopes)"
	} else {
		c.cred += " (classic token, scopes: " + s + ")"
	}
	return nil
}

// readOrg checks the organisation exists (and the token can see it).
func (c *Connector) readOrg(ctx context.Context) error {
	ep := endpoint{path: "/orgs/" + c.org}
	_, resp, err := c.client.Organizations.Get(ctx, c.org)
	if err != nil {
		if statusOf(resp, err) == http.StatusNotFound {
			return c.notFound()
		}
		return c.fatal(ctx, ep, err)
	}
	return nil
}

func (c *Connector) notFound() error {
	return fmt.Errorf("github: %w: organization %q not found at %s (or the token cannot see it)", ErrOrgNotFound, c.org, c.APIURL())
}

// repos lists the names of every repository of the organisation.
func (c *Connector) repos(ctx context.Context) ([]string, error) {
	ep := endpoint{path: "/orgs/" + c.org + "/repos"}
	var names []string
	err := paginate(ctx, c, nil, ep,
		func(opts github.ListOptions) ([]*github.Repository, *github.Response, error) {
			return c.client.Repositories.ListByOrg(ctx, c.org, &github.RepositoryListByOrgOptions{Type: "all", ListOptions: opts})
		},
		func(r *github.Repository) error {
			names = append(names, r.GetName())
			return nil
		})
	if err != nil && errors.Is(err, errNotFound) {
		return nil, c.notFound()
	}
	return names, err
}

func (c *Connector) id(kind audit.Kind, naturalKey string) string {
	return audit.IdentityID(Source, c.org, kind, naturalKey)
}

func (c *Connector) repoScope(repo string) string { return c.org + "/" + repo }
