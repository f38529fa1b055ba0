package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/connectors"
)

func isForbidden(err error) bool { return apierrors.IsForbidden(err) }
func isNotFound(err error) bool  { return apierrors.IsNotFound(err) }

func shortErr(err error) string {
	var ue *unansweredError
	if errors.As(err, &ue) {
		return ue.Error()
	}
	var se apierrors.APIStatus
	if errors.As(err, &se) {
		return se.Status().Message
	}
	return err.Error()
}

func joinComma(s []string) string { return strings.Join(s, ", ") }

// tokenType is the type of a legacy service account token Secret.
const tokenType = string(corev1.SecretTypeServiceAccountToken)

// Labels the token controllers set on legacy tokens.
const (
	labelLastUsed     = "kubernetes.io/legacy-token-last-used"
	labelInvalidSince = "kubernetes.io/legacy-token-invalid-since"
)

// account is what the snapshot keeps of a ServiceAccount.
type account struct {
	ns, name    string
	created     time.Time
	automount   *bool
	labels      map[string]string
	annotations map[string]string
}

// token is what the snapshot keeps of a legacy token Secret: its metadata
// only. Its data was never requested (the metadata API returns none).
type token struct {
	ns, name    string
	created     time.Time
	labels      map[string]string
	annotations map[string]string
}

// cluster is everything one run read.
type cluster struct {
	namespaces   []metav1.ObjectMeta
	nsRead       bool
	accounts     []account
	saRead       map[string]bool // namespace -> listed in full ("" = all)
	tokens       []token
	tokRead      map[string]bool
	trackedSince string                    // since when the API server records legacy token use (tracking.go)
	workloads    map[string]map[string]int // account key -> workload -> pods
	podsRead     map[string]bool
	rsOwner      map[string]string // ns/replicaset -> Deployment/name
	jobOwner     map[string]string // ns/job -> CronJob/name
	clusterRoles []rbacv1.ClusterRole
	crRead       bool
	roles        map[string][]rbacv1.PolicyRule
	rolesRead    map[string]bool
	crbs         []rbacv1.ClusterRoleBinding
	crbRead      bool
	rbs          []rbacv1.RoleBinding
	rbRead       map[string]bool
	ownersRead   map[string]map[string]bool // replicasets, jobs -> where read
}

// listSpec names one list for gaps: the verb, the resource and the kind
// of identity it feeds ("" for context such as RBAC).
type listSpec struct {
	resource string
	kind     audit.Kind
}

// pageFunc lists one page in namespace ns ("" = all) and returns its
// items, reduced to what the snapshot keeps, and the continue token.
type pageFunc[T any] func(ctx context.Context, ns string, opts metav1.ListOptions) ([]T, string, error)

// list reads every page of one resource: across all namespaces at once,
// or, when that is forbidden and the resource is namespaced, namespace by
// namespace, and hands what each list read to keep. Each namespace that
// refuses is a gap naming the verb, resource and namespace; any other
// failure is a gap too, never an end of the run (what the failed list read
// before it failed is kept). It returns where the list was read in full.
func list[T any](c *Connector, ctx context.Context, r connectors.Recorder, spec listSpec, namespaced bool, namespaces []string, page pageFunc[T], keep func([]T), opts metav1.ListOptions) (map[string]bool, error) {
	read := map[string]bool{}
	got, err := pages(c, ctx, "", page, opts)
	keep(got)
	if err == nil {
		read[""] = true
		return read, nil
	}
	if ctx.Err() != nil {
		return read, ctx.Err()
	}
	if apierrors.IsUnauthorized(err) {
		return read, c.rejected(err)
	}
	if !namespaced || !isForbidden(err) || len(namespaces) == 0 {
		where := "all namespaces"
		if !namespaced {
			where = "the cluster"
		}
		return read, c.gap(r, spec, "", err, where)
	}
	for _, ns := range namespaces {
		got, err := pages(c, ctx, ns, page, opts)
		keep(got)
		if err != nil {
			if ctx.Err() != nil {
				return read, ctx.Err()
			}
			if apierrors.IsUnauthorized(err) {
				return read, c.rejected(err)
			}
			if gerr := c.gap(r, spec, ns, err, "namespace "+ns); gerr != nil {
				return read, gerr
			}
			continue
		}
		read[ns] = true
	}
	return read, nil
}

// pages reads one list page by page. A list that outlives the API
// server's compaction of etcd (default every 5 minutes) is answered 410
// Gone, reason Expired, at its next page: its continue token names a
// point in time the server no longer holds. The list is then read again
// from the start in one request, at the server's current state, as
// client-go's pager does, and what the expired pages held is dropped: the
// list is one point in time, never pages from two stitched together (the
// 410's own continue token offers that, "an inconsistent list"). On
// failure it returns what it read with the error.
func pages[T any](c *Connector, ctx context.Context, ns string, page pageFunc[T], opts metav1.ListOptions) ([]T, error) {
	opts.Limit = c.pageSz
	var got []T
	seen := map[string]bool{}
	for {
		items, next, err := retried(c, ctx, ns, page, opts)
		if err != nil {
			if opts.Continue != "" && apierrors.IsResourceExpired(err) {
				opts.Limit, opts.Continue = 0, ""
				all, _, ferr := retried(c, ctx, ns, page, opts)
				if ferr != nil {
					return got, ferr
				}
				return all, nil
			}
			return got, err
		}
		got = append(got, items...)
		if next == "" {
			return got, nil
		}
		if seen[next] {
			// An API server never hands back a token twice; followed, a
			// loop would be listed for ever. A gap (the list is not whole).
			return got, errors.New("the server answered with a continue token it had given before, so its pages loop; the list was not read in full")
		}
		seen[next] = true
		opts.Continue = next
	}
}

// rejected is the error of a run whose credential the API server stopped
// accepting part way (401: it expired or was revoked after the run began).
// Unlike a permission the credential lacks, it is no gap: every list after
// it would say the same, so the run fails, as one rejected at its start.
func (c *Connector) rejected(err error) error {
	return fmt.Errorf("cluster %s (%s): the API server rejected the credential part way through the run (401 %s): it may have expired or been revoked; renew it (log in again, or refresh the kubeconfig's user) and run the same command again", c.name, c.cfg.Host, shortErr(err))
}

func (c *Connector) gap(r connectors.Recorder, spec listSpec, ns string, err error, where string) error {
	status := 0
	var se apierrors.APIStatus
	if errors.As(err, &se) {
		status = int(se.Status().Code)
	}
	reason := fmt.Sprintf("cannot list %s in %s: %s", spec.resource, where, shortErr(err))
	if status == http.StatusForbidden {
		reason = fmt.Sprintf("forbidden: the credential may not list %s in %s", spec.resource, where)
	}
	scope := c.name
	if ns != "" {
		scope = c.name + "/" + ns
	}
	return r.Gap(audit.Gap{Endpoint: "list " + spec.resource + " (" + where + ")", Kind: spec.kind, Scope: scope, Status: status, Reason: reason})
}

// read lists everything the snapshot needs. Nothing is read beyond
// metadata and RBAC: Secrets come through the metadata API, by type.
func (c *Connector) read(ctx context.Context, r connectors.Recorder) (*cluster, error) {
	k := &cluster{workloads: map[string]map[string]int{}, rsOwner: map[string]string{}, jobOwner: map[string]string{}, roles: map[string][]rbacv1.PolicyRule{},
		ownersRead: map[string]map[string]bool{}}
	core, rbac := c.core.CoreV1(), c.core.RbacV1()

	nsRead, err := list(c, ctx, r, listSpec{resource: "namespaces"}, false, nil, func(ctx context.Context, _ string, o metav1.ListOptions) ([]metav1.ObjectMeta, string, error) {
		l, err := core.Namespaces().List(ctx, o)
		if err != nil {
			return nil, "", err
		}
		out := make([]metav1.ObjectMeta, len(l.Items))
		for i := range l.Items {
			out[i] = l.Items[i].ObjectMeta
		}
		return out, l.Continue, nil
	}, func(got []metav1.ObjectMeta) { k.namespaces = append(k.namespaces, got...) }, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	k.nsRead = nsRead[""]
	var names []string
	for _, n := range k.namespaces {
		names = append(names, n.Name)
	}

	if k.saRead, err = list(c, ctx, r, listSpec{"serviceaccounts", audit.KindK8sServiceAccount}, true, names, func(ctx context.Context, ns string, o metav1.ListOptions) ([]account, string, error) {
		l, err := core.ServiceAccounts(ns).List(ctx, o)
		if err != nil {
			return nil, "", err
		}
		out := make([]account, len(l.Items))
		for i := range l.Items {
			sa := &l.Items[i]
			out[i] = account{ns: sa.Namespace, name: sa.Name, created: sa.CreationTimestamp.Time,
				automount: sa.AutomountServiceAccountToken, labels: sa.Labels, annotations: sa.Annotations}
		}
		return out, l.Continue, nil
	}, func(got []account) { k.accounts = append(k.accounts, got...) }, metav1.ListOptions{}); err != nil {
		return nil, err
	}
	if !k.nsRead { // the accounts say which namespaces exist, for the lists below
		seen := map[string]bool{}
		for _, n := range names { // those the namespace list named before it failed
			seen[n] = true
		}
		for _, a := range k.accounts {
			if !seen[a.ns] {
				seen[a.ns] = true
				names = append(names, a.ns)
			}
		}
	}

	// Secrets: by type, through the metadata API, which returns no data.
	secrets := c.meta.Resource(schema.GroupVersionResource{Version: "v1", Resource: "secrets"})
	if k.tokRead, err = list(c, ctx, r, listSpec{"secrets", audit.KindK8sSAToken}, true, names, func(ctx context.Context, ns string, o metav1.ListOptions) ([]token, string, error) {
		l, err := secrets.Namespace(ns).List(ctx, o)
		if err != nil {
			return nil, "", err
		}
		out := make([]token, len(l.Items))
		for i := range l.Items {
			m := &l.Items[i].ObjectMeta
			out[i] = token{ns: m.Namespace, name: m.Name, created: m.CreationTimestamp.Time, labels: m.Labels, annotations: m.Annotations}
		}
		return out, l.Continue, nil
	}, func(got []token) { k.tokens = append(k.tokens, got...) }, metav1.ListOptions{FieldSelector: "type=" + tokenType}); err != nil {
		return nil, err
	}
	if len(k.tokens) > 0 {
		if k.trackedSince, err = c.trackedSince(ctx, r); err != nil {
			return nil, err
		}
	}

	// Workload owners: ReplicaSets (to Deployments) and Jobs (to CronJobs),
	// metadata only.
	type owned struct{ key, owner string }
	for _, o := range []struct {
		gvr  schema.GroupVersionResource
		kind string
		into map[string]string
	}{
		{schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "replicasets"}, "Deployment", k.rsOwner},
		{schema.GroupVersionResource{Group: "batch", Version: "v1", Resource: "jobs"}, "CronJob", k.jobOwner},
	} {
		read, err := list(c, ctx, r, listSpec{resource: o.gvr.Resource}, true, names, func(ctx context.Context, ns string, opts metav1.ListOptions) ([]owned, string, error) {
			l, err := c.meta.Resource(o.gvr).Namespace(ns).List(ctx, opts)
			if err != nil {
				return nil, "", err
			}
			var out []owned
			for i := range l.Items {
				m := &l.Items[i].ObjectMeta
				if ref := metav1.GetControllerOf(m); ref != nil && ref.Kind == o.kind {
					out = append(out, owned{m.Namespace + "/" + m.Name, ref.Kind + "/" + ref.Name})
				}
			}
			return out, l.Continue, nil
		}, func(got []owned) {
			for _, w := range got {
				o.into[w.key] = w.owner
			}
		}, metav1.ListOptions{})
		if err != nil {
			return nil, err
		}
		k.ownersRead[o.gvr.Resource] = read
	}

	// Pods: each one's account and top owner.
	type runs struct{ account, workload string }
	if k.podsRead, err = list(c, ctx, r, listSpec{"pods", audit.KindK8sServiceAccount}, true, names, func(ctx context.Context, ns string, o metav1.ListOptions) ([]runs, string, error) {
		l, err := core.Pods(ns).List(ctx, o)
		if err != nil {
			return nil, "", err
		}
		out := make([]runs, len(l.Items))
		for i := range l.Items {
			p := &l.Items[i]
			sa := p.Spec.ServiceAccountName
			if sa == "" {
				sa = "default"
			}
			out[i] = runs{p.Namespace + "/" + sa, k.workloadOf(&p.ObjectMeta)}
		}
		return out, l.Continue, nil
	}, func(got []runs) {
		for _, p := range got {
			w := k.workloads[p.account]
			if w == nil {
				w = map[string]int{}
				k.workloads[p.account] = w
			}
			w[p.workload]++
		}
	}, metav1.ListOptions{}); err != nil {
		return nil, err
	}

	// RBAC.
	crRead, err := list(c, ctx, r, listSpec{resource: "clusterroles"}, false, nil, func(ctx context.Context, _ string, o metav1.ListOptions) ([]rbacv1.ClusterRole, string, error) {
		l, err := rbac.ClusterRoles().List(ctx, o)
		if err != nil {
			return nil, "", err
		}
		return l.Items, l.Continue, nil
	}, func(got []rbacv1.ClusterRole) { k.clusterRoles = append(k.clusterRoles, got...) }, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	k.crRead = crRead[""]
	crbRead, err := list(c, ctx, r, listSpec{resource: "clusterrolebindings"}, false, nil, func(ctx context.Context, _ string, o metav1.ListOptions) ([]rbacv1.ClusterRoleBinding, string, error) {
		l, err := rbac.ClusterRoleBindings().List(ctx, o)
		if err != nil {
			return nil, "", err
		}
		return l.Items, l.Continue, nil
	}, func(got []rbacv1.ClusterRoleBinding) { k.crbs = append(k.crbs, got...) }, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	k.crbRead = crbRead[""]
	if k.rolesRead, err = list(c, ctx, r, listSpec{resource: "roles"}, true, names, func(ctx context.Context, ns string, o metav1.ListOptions) ([]rbacv1.Role, string, error) {
		l, err := rbac.Roles(ns).List(ctx, o)
		if err != nil {
			return nil, "", err
		}
		return l.Items, l.Continue, nil
	}, func(got []rbacv1.Role) {
		for i := range got {
			k.roles[got[i].Namespace+"/"+got[i].Name] = got[i].Rules
		}
	}, metav1.ListOptions{}); err != nil {
		return nil, err
	}
	if k.rbRead, err = list(c, ctx, r, listSpec{resource: "rolebindings"}, true, names, func(ctx context.Context, ns string, o metav1.ListOptions) ([]rbacv1.RoleBinding, string, error) {
		l, err := rbac.RoleBindings(ns).List(ctx, o)
		if err != nil {
			return nil, "", err
		}
		return l.Items, l.Continue, nil
	}, func(got []rbacv1.RoleBinding) { k.rbs = append(k.rbs, got...) }, metav1.ListOptions{}); err != nil {
		return nil, err
	}
	return k, nil
}

// workloadOf names what runs a Pod: its top owner (Deployment through its
// ReplicaSet, CronJob through its Job, StatefulSet, DaemonSet), or the Pod.
func (k *cluster) workloadOf(m *metav1.ObjectMeta) string {
	ref := metav1.GetControllerOf(m)
	if ref == nil {
		return "Pod/" + m.Name
	}
	switch ref.Kind {
	case "ReplicaSet":
		if d, ok := k.rsOwner[m.Namespace+"/"+ref.Name]; ok {
			return d
		}
	case "Job":
		if cj, ok := k.jobOwner[m.Namespace+"/"+ref.Name]; ok {
			return cj
		}
	}
	return ref.Kind + "/" + ref.Name
}

// in reports whether a list covered namespace ns.
func in(read map[string]bool, ns string) bool { return read[""] || read[ns] }
