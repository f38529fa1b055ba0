package kubernetes

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/version"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/connectors"
)

// Attribute names the rules read (audit/findings_k8s.go) and the auditor
// sees. Values are metadata only.
const (
	AttrAutomount      = "automount_token"     // "true", "false", or "default" (unset: mounted)
	AttrWorkloads      = "workloads"           // "Deployment/web, CronJob/backup"
	AttrWorkloadCount  = "workload_count"      // distinct workloads
	AttrPods           = "pods"                // Pods that run as it
	AttrWorkloadsRead  = "workloads_read"      // "true" when its namespace's Pods were listed in full
	AttrPermissions    = "permissions"         // compact summary: "cluster-admin; secrets: get,list in payments"
	AttrPermsUnknown   = "permissions_unknown" // roles or bindings that could not be read
	AttrBindings       = "bindings"            // "ClusterRoleBinding/ci -> ClusterRole/cluster-admin"
	AttrPrivileged     = "privileged"          // why it is overprivileged
	AttrServiceAccount = "service_account"     // a token's account
	AttrInvalidSince   = "invalid_since"       // a token's legacy-token-invalid-since
	AttrNamespace      = "namespace"
)

// skippedAnnotations are annotations too large or too noisy to keep.
var skippedAnnotations = map[string]bool{"kubectl.kubernetes.io/last-applied-configuration": true}

// Run implements connectors.Connector.
func (c *Connector) Run(ctx context.Context, r connectors.Recorder) error {
	c.down = false
	c.mu.Lock()
	c.notTracked = false
	c.mu.Unlock()
	if v, err := c.serverVersion(ctx); err == nil {
		c.mu.Lock()
		c.version = v
		c.mu.Unlock()
	} else if ctx.Err() != nil {
		return ctx.Err()
	} else if apierrors.IsUnauthorized(err) {
		return c.rejected(err)
	} else if err := r.Gap(audit.Gap{Endpoint: "GET /version", Scope: c.name, Reason: "server version not read: " + shortErr(err)}); err != nil {
		return err
	}
	k, err := c.read(ctx, r)
	if err != nil {
		return err
	}
	reach := k.reach()
	c.mu.Lock()
	c.reach = &reach
	c.mu.Unlock()
	return c.record(r, k)
}

// serverVersion asks the API server's /version, as client-go's
// discovery does, within one request's time (retry.go).
func (c *Connector) serverVersion(ctx context.Context) (string, error) {
	vctx, cancel := c.withTimeout(ctx)
	defer cancel()
	body, err := c.core.Discovery().RESTClient().Get().AbsPath("/version").Do(vctx).Raw()
	if err != nil {
		return "", err
	}
	var v version.Info
	if err := json.Unmarshal(body, &v); err != nil {
		return "", fmt.Errorf("the API server's /version: %w", err)
	}
	return v.GitVersion, nil
}

func metaAttrs(attrs map[string]string, prefix string, m map[string]string) {
	for k, v := range m {
		if skippedAnnotations[k] {
			continue
		}
		attrs[prefix+strings.ToLower(k)] = v
	}
}

// ownerKeys are the labels and annotations that usually name who answers
// for an account: copied from its namespace for owner suggestions.
var ownerKeys = []string{"owner", "team"}

func (c *Connector) record(r connectors.Recorder, k *cluster) error {
	nsMeta := map[string]map[string]string{}
	for _, n := range k.namespaces {
		m := map[string]string{}
		for _, key := range ownerKeys {
			if v := n.Labels[key]; v != "" {
				m["namespace_label."+key] = v
			}
			if v := n.Annotations[key]; v != "" {
				m["namespace_annotation."+key] = v
			}
		}
		nsMeta[n.Name] = m
	}
	crRules := clusterRoleRules(k.clusterRoles)
	idx := buildIndex(k.crbs, k.rbs, crRules, k.crRead, k.roles, k.rolesRead)
	rbacGaps := rbacUnread(k)

	id := func(kind audit.Kind, ns, name string) string {
		return audit.IdentityID(Source, c.name, kind, ns+"/"+name)
	}
	for _, a := range k.accounts {
		attrs := map[string]string{AttrNamespace: a.ns}
		metaAttrs(attrs, "label.", a.labels)
		metaAttrs(attrs, "annotation.", a.annotations)
		for key, v := range nsMeta[a.ns] {
			attrs[key] = v
		}
		switch {
		case a.automount == nil:
			attrs[AttrAutomount] = "default"
		default:
			attrs[AttrAutomount] = strconv.FormatBool(*a.automount)
		}
		if in(k.podsRead, a.ns) {
			attrs[AttrWorkloadsRead] = "true"
			w := k.workloads[a.ns+"/"+a.name]
			names := make([]string, 0, len(w))
			pods := 0
			for n, count := range w {
				names = append(names, n)
				pods += count
			}
			slices.Sort(names)
			attrs[AttrWorkloadCount] = strconv.Itoa(len(names))
			attrs[AttrPods] = strconv.Itoa(pods)
			if len(names) > 20 {
				names = append(names[:20], fmt.Sprintf("and %d more", len(names)-20))
			}
			attrs[AttrWorkloads] = joinComma(names)
		} else {
			attrs[AttrWorkloadsRead] = "false"
		}
		p := effective(idx.bindingsOf(a.ns, a.name))
		attrs[AttrPermissions] = p.summary
		if len(p.bindings) > 0 {
			attrs[AttrBindings] = joinComma(p.bindings)
		}
		if len(p.privileged) > 0 {
			attrs[AttrPrivileged] = strings.Join(p.privileged, "; ")
		}
		unknown := p.unknown
		if g := rbacGaps(a.ns); g != "" {
			unknown = append(unknown, g)
		}
		if len(unknown) > 0 {
			// Its permissions are not known whole: the filter's perm:none
			// and -perm:any, and findings, read it as not read, as an AWS
			// role whose policies were not (docs/filter.md, "What was not
			// read").
			attrs[AttrPermsUnknown] = joinComma(unknown)
			attrs[audit.AttrPoliciesUnknown] = "true"
		}
		created := a.created.UTC()
		if err := r.Record(audit.Observation{
			ID: id(audit.KindK8sServiceAccount, a.ns, a.name), Kind: audit.KindK8sServiceAccount, Name: a.name,
			Scope: c.name + "/" + a.ns, CreatedAt: &created, Permissions: p.verbs, Attributes: attrs,
		}); err != nil {
			return err
		}
	}
	for _, t := range k.tokens {
		attrs := map[string]string{AttrNamespace: t.ns, AttrServiceAccount: t.annotations["kubernetes.io/service-account.name"]}
		metaAttrs(attrs, "label.", t.labels)
		for key, v := range t.annotations {
			// The token controller's annotations name the account; others
			// are copied as for accounts. None holds the token.
			if !skippedAnnotations[key] {
				attrs["annotation."+strings.ToLower(key)] = v
			}
		}
		for key, v := range nsMeta[t.ns] {
			attrs[key] = v
		}
		var lastUsed *time.Time
		attrs[AttrUseTrackedSince] = k.trackedSince
		if v := t.labels[labelLastUsed]; v != "" {
			if d, err := time.Parse(time.DateOnly, v); err == nil {
				lastUsed = &d
			} else {
				attrs[AttrUseTrackedSince] = trackedUnknown // a label, but no date: no evidence either way
			}
		}
		if v := t.labels[labelInvalidSince]; v != "" {
			attrs[AttrInvalidSince] = v
		}
		created := t.created.UTC()
		if lastUsed == nil {
			// No label is "never used" only where the API server recorded
			// uses for the token's whole life; else its last use is not
			// known (the stale rule reads use_tracked_since itself).
			if since, err := time.Parse(time.RFC3339, attrs[AttrUseTrackedSince]); err != nil || created.Before(since) {
				attrs[audit.AttrLastUseUnknown] = "true"
			}
		}
		if err := r.Record(audit.Observation{
			ID: id(audit.KindK8sSAToken, t.ns, t.name), Kind: audit.KindK8sSAToken, Name: t.name,
			Scope: c.name + "/" + t.ns, CreatedAt: &created, LastUsedAt: lastUsed, Attributes: attrs,
		}); err != nil {
			return err
		}
	}
	// Human subjects of bindings: context, not identities.
	for h := range idx.humans {
		scope := c.name
		if h.ns != "" {
			scope += "/" + h.ns
		}
		if err := r.Principal(audit.Principal{Type: audit.PrincipalSubject, Scope: scope, Login: h.kind + ":" + h.name, Role: h.role}); err != nil {
			return err
		}
	}
	return c.scopes(r, k)
}

// rbacUnread says, for a namespace, which RBAC lists were not read there,
// so an account's permissions are never claimed complete when they are not.
func rbacUnread(k *cluster) func(ns string) string {
	var cluster []string
	if !k.crRead {
		cluster = append(cluster, "clusterroles")
	}
	if !k.crbRead {
		cluster = append(cluster, "clusterrolebindings")
	}
	return func(ns string) string {
		missing := slices.Clone(cluster)
		if !in(k.rolesRead, ns) {
			missing = append(missing, "roles in "+ns)
		}
		if !in(k.rbRead, ns) {
			missing = append(missing, "rolebindings in "+ns)
		}
		if len(missing) == 0 {
			return ""
		}
		return "not read: " + joinComma(missing)
	}
}

// scopes records what was read in full: each namespace's accounts and
// tokens, and, when the namespaces were listed in full, that every
// namespace was reached, so the accounts and tokens of one not listed are
// gone with it (audit.Coverage.Looked), whatever could not be read in the
// namespaces that are there: each of those has its own row, without the
// kinds not read, and its gaps.
func (c *Connector) scopes(r connectors.Recorder, k *cluster) error {
	seen := map[string]bool{}
	var names []string
	for _, n := range k.namespaces {
		names = append(names, n.Name)
		seen[n.Name] = true
	}
	for _, a := range k.accounts {
		if !seen[a.ns] {
			seen[a.ns] = true
			names = append(names, a.ns)
		}
	}
	for _, ns := range names {
		var kinds []audit.Kind
		if in(k.saRead, ns) {
			kinds = append(kinds, audit.KindK8sServiceAccount)
		}
		if in(k.tokRead, ns) {
			kinds = append(kinds, audit.KindK8sSAToken)
		}
		if err := r.Scope(audit.ScopeRead{Scope: c.name + "/" + ns, Kinds: kinds}); err != nil {
			return err
		}
	}
	return r.Scope(audit.ScopeRead{Scope: c.name, Children: k.nsRead})
}
