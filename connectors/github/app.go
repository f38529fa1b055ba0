package github

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// AppAuth authenticates as a GitHub App installation: a JWT signed with
// the App's private key mints short-lived installation tokens
// (POST /app/installations/{id}/access_tokens), renewed before they
// expire. Only an App can read the organisation's fine-grained PATs and
// PAT requests. The key and the tokens live in memory only.
type AppAuth struct {
	AppID int64
	// PrivateKey is the PEM the App's settings page hands out (PKCS #1 or
	// PKCS #8 RSA).
	PrivateKey []byte
	// InstallationID is the App's installation on the organisation; 0
	// looks it up (GET /orgs/{org}/installation).
	InstallationID int64
}

// errAppRejected is wrapped by ErrBadCredentials' App variant.
var errAppRejected = fmt.Errorf("%w: GitHub rejected the App's JSON web token (401): check --app-id and that --app-key is that App's current private key, and this machine's clock", ErrBadCredentials)

// appAuth mints and renews installation tokens.
type appAuth struct {
	c     *Connector
	id    int64
	key   *rsa.PrivateKey
	inst  int64
	mu    sync.Mutex
	token string
	exp   time.Time
	perms map[string]string // the installation token's permissions
	sel   string            // its repository_selection: "all" or "selected"
}

// selection is the installation's repository_selection, "" until a token
// was minted.
func (a *appAuth) selection() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.sel
}

func parseAppKey(pemBytes []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, errors.New("the App key is not a PEM file: a GitHub App's private key begins -----BEGIN RSA PRIVATE KEY-----")
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, errors.New("the App key is not an RSA private key")
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New("the App key is not an RSA private key")
	}
	return rk, nil
}

// jwt is a JSON web token for the App, valid for nine minutes from a
// minute ago (GitHub allows ten, and clocks drift).
func (a *appAuth) jwt(now time.Time) (string, error) {
	enc := base64.RawURLEncoding
	hdr := enc.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT"}`))
	claims, _ := json.Marshal(map[string]any{
		"iat": now.Add(-time.Minute).Unix(),
		"exp": now.Add(9 * time.Minute).Unix(),
		"iss": strconv.FormatInt(a.id, 10),
	})
	signing := hdr + "." + enc.EncodeToString(claims)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, a.key, crypto.SHA256, sum[:])
	if err != nil {
		return "", fmt.Errorf("signing the App's JSON web token: %w", err)
	}
	return signing + "." + enc.EncodeToString(sig), nil
}

// authorization is the installation token, minted or renewed when it has
// less than five minutes left.
func (a *appAuth) authorization(ctx context.Context) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.token != "" && a.c.clock.Now().Before(a.exp.Add(-5*time.Minute)) {
		return "Bearer " + a.token, nil
	}
	if err := a.installationID(ctx); err != nil {
		return "", err
	}
	ep := endpoint{method: http.MethodPost, path: fmt.Sprintf("/app/installations/%d/access_tokens", a.inst)}
	resp, err := a.c.do(ctx, ep, http.MethodPost, ep.path[1:], "", true)
	if err != nil {
		return "", err
	}
	switch resp.status {
	case http.StatusCreated, http.StatusOK:
	case http.StatusNotFound:
		return "", fmt.Errorf("github: %s: installation %d of App %d not found: check --installation-id (or leave it out to look it up)", ep, a.inst, a.id)
	default:
		return "", fmt.Errorf("github: %s: GitHub answered %d %s", ep, resp.status, resp.message())
	}
	var tok struct {
		Token       string            `json:"token"`
		ExpiresAt   time.Time         `json:"expires_at"`
		Permissions map[string]string `json:"permissions"`
		Selection   string            `json:"repository_selection"`
	}
	if err := json.Unmarshal(resp.body, &tok); err != nil || tok.Token == "" {
		return "", fmt.Errorf("github: %s: malformed JSON response (no token)", ep)
	}
	a.token, a.exp, a.perms, a.sel = tok.Token, tok.ExpiresAt, tok.Permissions, tok.Selection
	if a.exp.IsZero() {
		a.exp = a.c.clock.Now().Add(time.Hour)
	}
	return "Bearer " + a.token, nil
}

// invalidate forgets the installation token, so the next request mints one.
func (a *appAuth) invalidate() {
	a.mu.Lock()
	a.token = ""
	a.mu.Unlock()
}

// installationID looks up the App's installation on the organisation when
// it was not given.
func (a *appAuth) installationID(ctx context.Context) error {
	if a.inst != 0 {
		return nil
	}
	ep := endpoint{path: "/orgs/" + a.c.org + "/installation"}
	resp, err := a.c.do(ctx, ep, http.MethodGet, ep.path[1:], "", true)
	if err != nil {
		return err
	}
	if resp.status == http.StatusNotFound {
		return fmt.Errorf("github: %s: App %d is not installed on organization %q (GitHub answered 404 Not Found, as it does for an organization that does not exist): check --org, install the App on the organization, or pass --installation-id", ep, a.id, a.c.org)
	}
	if resp.status != http.StatusOK {
		return fmt.Errorf("github: %s: GitHub answered %d %s", ep, resp.status, resp.message())
	}
	var in struct {
		ID int64 `json:"id"`
	}
	if err := json.Unmarshal(resp.body, &in); err != nil || in.ID == 0 {
		return fmt.Errorf("github: %s: malformed JSON response", ep)
	}
	a.inst = in.ID
	return nil
}

// credential names the App for the evidence report: slug, IDs and the
// installation token's permissions. It asks GET /app with the JWT.
func (a *appAuth) credential(ctx context.Context) (string, error) {
	if _, err := a.authorization(ctx); err != nil {
		return "", err
	}
	ep := endpoint{path: "/app"}
	resp, err := a.c.do(ctx, ep, http.MethodGet, "app", "", true)
	if err != nil {
		return "", err
	}
	slug := fmt.Sprintf("app %d", a.id)
	if resp.status == http.StatusOK {
		var app struct {
			Slug string `json:"slug"`
		}
		if json.Unmarshal(resp.body, &app) == nil && app.Slug != "" {
			slug = app.Slug
		}
	}
	a.mu.Lock()
	perms := make([]string, 0, len(a.perms))
	for k, v := range a.perms {
		perms = append(perms, k+":"+v)
	}
	a.mu.Unlock()
	sort.Strings(perms)
	s := fmt.Sprintf("GitHub App %s (app %d, installation %d)", slug, a.id, a.inst)
	if len(perms) > 0 {
		s += ", permissions: " + strings.Join(perms, ", ")
	}
	return s, nil
}
