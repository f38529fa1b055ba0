// Package kubernetes reads a Kubernetes cluster's service accounts, their
// legacy token Secrets and what RBAC lets each account do, through
// client-go (docs/kubernetes.md). One Connector reads one cluster, into one
// snapshot of source "k8s" and account <context or cluster name>.
package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/nhi-audit/nhi/audit"
)

// Source is the source name of every Kubernetes snapshot.
const Source = "k8s"

// BoundTokensNote is said once per snapshot: bound tokens are not inventory.
const BoundTokensNote = "bound service account tokens (TokenRequest, projected volumes) are short-lived and cannot be listed: they are not inventory; each account's legacy token Secrets are recorded, as k8s_sa_token"

// Connector reads one cluster.
type Connector struct {
	name     string
	cfg      *rest.Config
	core     kubernetes.Interface
	meta     metadata.Interface
	pageSz   int64
	mu       sync.Mutex
	version  string
	cred     string        // what Credential said, once asked
	reach    *audit.Reach  // what the last run read, set once it has read
	requests *atomic.Int64 // every request sent to the API server

	retryWait      time.Duration // the first wait before an unanswered page is asked again (retry.go)
	requestTimeout time.Duration // how long a request may go unanswered (retry.go)
	down           bool          // a list gave up on the API server, which has not answered since
	notTracked     bool          // the API server does not say since when it records legacy token use (tracking.go)

	// timeLimit, when set, is a test's context.WithTimeout (limited).
	timeLimit func(context.Context, time.Duration) (context.Context, context.CancelFunc)
}

// New returns a connector for the cluster cfg reaches, recorded under
// account name (a kubeconfig context or cluster name).
func New(name string, cfg *rest.Config) (*Connector, error) {
	cfg = rest.CopyConfig(cfg)
	requests := new(atomic.Int64)
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return countRequests{rt, requests} })
	if cfg.QPS == 0 {
		// client-go's default of 5 requests a second would make a large
		// cluster's paginated lists crawl; the API server has its own
		// priority and fairness limits, and says 429 when it means it.
		cfg.QPS, cfg.Burst = 50, 100
	}
	core, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("cluster %s: %w", name, err)
	}
	meta, err := metadata.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("cluster %s: %w", name, err)
	}
	return &Connector{name: name, cfg: cfg, core: core, meta: meta, pageSz: 500, requests: requests, retryWait: time.Second, requestTimeout: requestTimeout}, nil
}

// SetPageSize sets the limit of each list request (500 by default).
func (c *Connector) SetPageSize(n int64) { c.pageSz = n }

// Source implements connectors.Connector.
func (c *Connector) Source() string { return Source }

// Account implements connectors.Connector: the context or cluster name.
func (c *Connector) Account() string { return c.name }

// APIURL implements connectors.Connector: the API server's URL.
func (c *Connector) APIURL() string { return c.cfg.Host }

// Credential names who the connector reads as: the user name the API
// server's SelfSubjectReview reports, never a token. It asks once: the
// check before a new evidence file is created and the run that follows
// share the answer.
func (c *Connector) Credential(ctx context.Context) (string, error) {
	c.mu.Lock()
	cred := c.cred
	c.mu.Unlock()
	if cred != "" {
		return cred, nil
	}
	cred, err := c.whoAmI(ctx)
	if err == nil {
		c.mu.Lock()
		c.cred = cred
		c.mu.Unlock()
	}
	return cred, err
}

func (c *Connector) whoAmI(ctx context.Context) (string, error) {
	rctx, cancel := c.withTimeout(ctx)
	defer cancel()
	r, err := c.core.AuthenticationV1().SelfSubjectReviews().Create(rctx, &authnv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		if apierrors.IsUnauthorized(err) {
			// Not a permission the credential lacks: the API server does
			// not accept it at all, and every list would say the same.
			return "", fmt.Errorf("cluster %s (%s): the API server rejected the credential (401 %s): it may be expired or revoked; renew it (log in again, or refresh the kubeconfig's user) and run again; nothing was read", c.name, c.cfg.Host, shortErr(err))
		}
		if isForbidden(err) || isNotFound(err) {
			return "unknown (SelfSubjectReview refused: " + shortErr(err) + ")", nil
		}
		return "", fmt.Errorf("cluster %s (%s): who am I (SelfSubjectReview): %w; check the kubeconfig's server and credentials", c.name, c.cfg.Host, err)
	}
	u := r.Status.UserInfo
	cred := u.Username
	if len(u.Groups) > 0 {
		groups := slices.Clone(u.Groups)
		slices.Sort(groups)
		cred += " (groups " + joinComma(groups) + ")"
	}
	return cred, nil
}

// Server implements connectors.Described: the cluster's version, and that
// bound tokens are not inventory.
func (c *Connector) Server() (string, []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.notTracked {
		return c.version, []string{BoundTokensNote, NotTrackedNote}
	}
	return c.version, []string{BoundTokensNote}
}

// Options choose the kubeconfig and contexts, as kubectl does.
type Options struct {
	Kubeconfig  string   // "" : $KUBECONFIG, then ~/.kube/config, then in-cluster
	Contexts    []string // none: the current context
	AllContexts bool
}

// ErrNoConfig says no kubeconfig was found and nhi is not in a cluster.
var ErrNoConfig = errors.New("no kubeconfig found ($KUBECONFIG, ~/.kube/config) and not running in a cluster; pass --kubeconfig FILE")

// Plan loads the kubeconfig the way kubectl does and returns one connector
// per chosen context, named by the context (or by the cluster in-cluster).
func Plan(opts Options) ([]*Connector, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = opts.Kubeconfig
	raw, err := rules.Load()
	if err != nil {
		return nil, fmt.Errorf("reading kubeconfig: %w", err)
	}
	if len(raw.Contexts) == 0 {
		if opts.Kubeconfig == "" && len(opts.Contexts) == 0 && !opts.AllContexts && os.Getenv("KUBERNETES_SERVICE_HOST") != "" {
			cfg, err := rest.InClusterConfig()
			if err != nil {
				return nil, fmt.Errorf("in-cluster config: %w", err)
			}
			c, err := New("in-cluster", cfg)
			if err != nil {
				return nil, err
			}
			return []*Connector{c}, nil
		}
		return nil, ErrNoConfig
	}
	names := opts.Contexts
	switch {
	case opts.AllContexts:
		names = nil
		for n := range raw.Contexts {
			names = append(names, n)
		}
		slices.Sort(names)
	case len(names) == 0:
		if raw.CurrentContext == "" {
			return nil, errors.New("the kubeconfig has no current context; pass --context NAME or --all-contexts")
		}
		names = []string{raw.CurrentContext}
	}
	var out []*Connector
	for _, n := range names {
		if _, ok := raw.Contexts[n]; !ok {
			known := make([]string, 0, len(raw.Contexts))
			for k := range raw.Contexts {
				known = append(known, k)
			}
			slices.Sort(known)
			return nil, fmt.Errorf("context %q is not in the kubeconfig (it has: %s)", n, joinComma(known))
		}
		cfg, err := clientcmd.NewNonInteractiveClientConfig(*raw, n, &clientcmd.ConfigOverrides{}, rules).ClientConfig()
		if err != nil {
			return nil, fmt.Errorf("context %s: %w", n, err)
		}
		c, err := New(n, cfg)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}
