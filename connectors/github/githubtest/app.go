package githubtest

import (
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
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"
)

// App is a GitHub App installed on the served organisation, for App
// authentication (see [WithApp]): a JWT signed with its private key reads
// GET /app and GET /orgs/{org}/installation and mints installation tokens
// (POST /app/installations/{id}/access_tokens), which then read the API.
type App struct {
	ID             int64
	Slug           string
	Name           string
	InstallationID int64
	PublicKey      *rsa.PublicKey
	// Permissions of the installation, as its tokens report them.
	Permissions map[string]string
	// Repos, when not nil, are the repositories the App is installed on
	// (repository_selection "selected"); nil: all of them.
	Repos []string
}

// SetAppRepos installs the App on repos only (repository_selection
// "selected"), or on all repositories when repos is nil, from the next
// installation token on.
func (s *Server) SetAppRepos(repos []string) {
	s.dataMu.Lock()
	defer s.dataMu.Unlock()
	s.app.Repos = repos
	s.appViewer = viewing(Viewer{Repos: repos})
}

func (a *App) selection() string {
	if a.Repos != nil {
		return "selected"
	}
	return "all"
}

// WithApp makes the server accept JWTs of app and the installation tokens
// they mint. An installation token may read everything except GET /user
// (403, as on GitHub), including the fine-grained PAT endpoints classic
// tokens may not.
func WithApp(app App) Option { return func(s *Server) { s.app = &app } }

// InstallationTokenTTL is how long a minted installation token is valid.
const InstallationTokenTTL = time.Hour

// NewAppKey generates an RSA private key of bits bits for a test App and
// returns it with its PEM encoding (PKCS #1, as GitHub hands keys out).
func NewAppKey(bits int) (*rsa.PrivateKey, []byte, error) {
	key, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		return nil, nil, err
	}
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	return key, pemBytes, nil
}

// verifyJWT checks an App JWT: RS256, signed with the App's key, issued
// by it, and not expired, by the server's clock.
func (s *Server) verifyJWT(tok string, now time.Time) error {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return errors.New("not a JWT")
	}
	dec := func(p string, v any) error {
		b, err := base64.RawURLEncoding.DecodeString(p)
		if err != nil {
			return err
		}
		return json.Unmarshal(b, v)
	}
	var hdr struct {
		Alg string `json:"alg"`
	}
	if err := dec(parts[0], &hdr); err != nil || hdr.Alg != "RS256" {
		return errors.New("bad JWT header")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return err
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(s.app.PublicKey, crypto.SHA256, sum[:], sig); err != nil {
		return err
	}
	var claims struct {
		Iat int64           `json:"iat"`
		Exp int64           `json:"exp"`
		Iss json.RawMessage `json:"iss"`
	}
	if err := dec(parts[1], &claims); err != nil {
		return err
	}
	iss := strings.Trim(string(claims.Iss), `"`)
	if iss != strconv.FormatInt(s.app.ID, 10) {
		return fmt.Errorf("JWT issued by %q, not App %d", iss, s.app.ID)
	}
	iat, exp := time.Unix(claims.Iat, 0), time.Unix(claims.Exp, 0)
	if now.Before(iat.Add(-time.Minute)) || !now.Before(exp) || exp.Sub(iat) > 11*time.Minute {
		return errors.New("JWT not valid now")
	}
	return nil
}

// serveApp answers the App endpoints, which only a JWT may call, and
// refuses a JWT anywhere else.
func (s *Server) serveApp(w http.ResponseWriter, r *http.Request, who auth, now time.Time) {
	if who != authJWT {
		writeRaw(w, http.StatusUnauthorized, errorBody(http.StatusUnauthorized, "A JSON web token could not be decoded"))
		return
	}
	s.dataMu.RLock()
	defer s.dataMu.RUnlock()
	parts := segments(r.URL.EscapedPath())
	a := s.app
	switch {
	case r.Method == http.MethodGet && len(parts) == 1 && parts[0] == "app":
		writeJSON(w, appJSON{
			App: &github.App{
				ID: github.Int64(a.ID), Slug: github.String(a.Slug), Name: github.String(a.Name),
				NodeID:    github.String(nodeID("A", a.ID)),
				Owner:     s.orgUser(),
				HTMLURL:   github.String("https://github.com/apps/" + a.Slug),
				CreatedAt: ts(s.org.CreatedAt), UpdatedAt: ts(s.org.CreatedAt),
				Events: []string{},
			},
			Permissions: a.Permissions,
		})
	case r.Method == http.MethodPost && len(parts) == 4 && parts[0] == "app" && parts[1] == "installations" && parts[3] == "access_tokens":
		if parts[2] != strconv.FormatInt(a.InstallationID, 10) {
			notFound(w)
			return
		}
		b := make([]byte, 27)
		_, _ = rand.Read(b)
		tok := "ghs_" + base64.RawURLEncoding.EncodeToString(b)[:36]
		exp := now.Add(InstallationTokenTTL).Truncate(time.Second)
		s.mu.Lock()
		s.installToks[tok] = exp
		s.mu.Unlock()
		body, _ := json.Marshal(map[string]any{
			"token": tok, "expires_at": exp.UTC().Format(time.RFC3339),
			"permissions": a.Permissions, "repository_selection": a.selection(),
		})
		writeRaw(w, http.StatusCreated, string(body))
	case r.Method == http.MethodGet && len(parts) == 3 && parts[0] == "orgs" && parts[2] == "installation":
		if !strings.EqualFold(parts[1], s.org.Login) {
			notFound(w)
			return
		}
		writeJSON(w, s.installation(&Installation{
			ID: a.InstallationID, AppID: a.ID, AppSlug: a.Slug, RepositorySelection: a.selection(),
			Permissions: a.Permissions, CreatedAt: s.org.CreatedAt, UpdatedAt: s.org.CreatedAt,
		}))
	default:
		writeRaw(w, http.StatusForbidden, errorBody(http.StatusForbidden, "A JSON web token cannot read this: authenticate as an installation"))
	}
}

// appJSON serves the App's permissions as GitHub does, a plain object.
type appJSON struct {
	*github.App
	Permissions map[string]string `json:"permissions"`
}
