package kubernetes

import (
	"fmt"
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Effective permissions: every RoleBinding and ClusterRoleBinding that
// names an account, directly, as the user system:serviceaccount:<ns>:<name>,
// or through the groups system:serviceaccounts, system:serviceaccounts:<ns>
// and system:authenticated, resolved to the rules of its role (aggregated
// ClusterRoles included). Bindings are indexed by subject once, so each
// account costs the bindings that name it, never a scan of all of them.

// subjectKey is how the index names a subject.
func saKey(ns, name string) string { return "sa:" + ns + "/" + name }
func groupKey(g string) string     { return "group:" + g }

// binding is one (Cluster)RoleBinding as it applies to one subject.
type binding struct {
	ns      string // "" for a ClusterRoleBinding: cluster-wide
	name    string // "ClusterRoleBinding/ci" or "RoleBinding/payments/readers"
	role    string // "ClusterRole/cluster-admin" or "Role/payments/reader"
	via     string // "" when it names the account itself, else the group
	rules   []rbacv1.PolicyRule
	unknown bool // the role it refers to could not be read
	missing bool // the role it refers to was read for and is not there
}

// humanSubject is a person or group named in a binding: context, not an NHI.
type humanSubject struct {
	kind, name, ns, role string
}

// rbacIndex holds what RBAC was read, indexed for the accounts.
type rbacIndex struct {
	bySubject map[string][]binding
	humans    map[humanSubject]bool
}

// clusterRoleRules resolves ClusterRoles to their rules, aggregation
// included: an aggregated role's rules are its own (which the controller
// manager fills in) and those of every ClusterRole its selectors match,
// resolved the same way, so the answer is right whether or not the
// aggregation controller ran. Aggregation nests: the API server's own
// admin aggregates edit, itself aggregated, and until the controller has
// filled both in, each has no rules of its own. A cycle of selectors adds
// nothing twice.
func clusterRoleRules(roles []rbacv1.ClusterRole) map[string][]rbacv1.PolicyRule {
	out := make(map[string][]rbacv1.PolicyRule, len(roles))
	selectors := make([][]labels.Selector, len(roles))
	for i := range roles {
		out[roles[i].Name] = roles[i].Rules
		if ar := roles[i].AggregationRule; ar != nil {
			for _, sel := range ar.ClusterRoleSelectors {
				if s, err := metav1.LabelSelectorAsSelector(&sel); err == nil {
					selectors[i] = append(selectors[i], s)
				}
			}
		}
	}
	done := make([]bool, len(roles))
	resolving := make([]bool, len(roles))
	var resolve func(i int) []rbacv1.PolicyRule
	resolve = func(i int) []rbacv1.PolicyRule {
		if done[i] || resolving[i] || roles[i].AggregationRule == nil {
			return out[roles[i].Name]
		}
		resolving[i] = true
		rules := slices.Clone(roles[i].Rules)
		for _, s := range selectors[i] {
			for j := range roles {
				if j != i && s.Matches(labels.Set(roles[j].Labels)) {
					rules = append(rules, resolve(j)...)
				}
			}
		}
		resolving[i], done[i] = false, true
		out[roles[i].Name] = rules
		return rules
	}
	for i := range roles {
		resolve(i)
	}
	return out
}

// baseline reports the bootstrap bindings every authenticated caller, or
// every service account, has (discovery, self-review, reading public CA
// bundles): they are not an account's own permissions.
func baseline(meta metav1.ObjectMeta, subjects []rbacv1.Subject) bool {
	if meta.Labels["kubernetes.io/bootstrapping"] != "rbac-defaults" {
		return false
	}
	for _, s := range subjects {
		// The API server's own defaults for everyone, or for every
		// service account (v1.37 lets all of them read
		// ClusterTrustBundles, public CA certificates): the same on every
		// cluster, so no account's own permission.
		if s.Kind == rbacv1.GroupKind && (s.Name == "system:authenticated" || s.Name == "system:unauthenticated" || s.Name == "system:serviceaccounts") {
			return true
		}
	}
	return false
}

func buildIndex(crbs []rbacv1.ClusterRoleBinding, rbs []rbacv1.RoleBinding, clusterRoles map[string][]rbacv1.PolicyRule, clusterRolesRead bool, roles map[string][]rbacv1.PolicyRule, rolesRead map[string]bool) *rbacIndex {
	idx := &rbacIndex{bySubject: map[string][]binding{}, humans: map[humanSubject]bool{}}
	// A binding may name a role that does not exist (the API server
	// allows it): where the roles were listed in full, that is known, and
	// the binding grants nothing until a role of that name is made.
	resolve := func(ref rbacv1.RoleRef, ns string) (role string, rules []rbacv1.PolicyRule, unknown, missing bool) {
		if ref.Kind == "ClusterRole" {
			r, ok := clusterRoles[ref.Name]
			return "ClusterRole/" + ref.Name, r, !clusterRolesRead, !ok && clusterRolesRead
		}
		r, ok := roles[ns+"/"+ref.Name]
		read := in(rolesRead, ns)
		return "Role/" + ns + "/" + ref.Name, r, !read, !ok && read
	}
	add := func(name, ns string, ref rbacv1.RoleRef, subjects []rbacv1.Subject) {
		role, rules, unknown, missing := resolve(ref, ns)
		for _, s := range subjects {
			b := binding{ns: ns, name: name, role: role, rules: rules, unknown: unknown, missing: missing}
			switch s.Kind {
			case rbacv1.ServiceAccountKind:
				sns := s.Namespace
				if sns == "" {
					sns = ns
				}
				idx.bySubject[saKey(sns, s.Name)] = append(idx.bySubject[saKey(sns, s.Name)], b)
			case rbacv1.UserKind:
				if rest, ok := strings.CutPrefix(s.Name, "system:serviceaccount:"); ok {
					if sns, sname, ok := strings.Cut(rest, ":"); ok {
						b.via = "user " + s.Name
						idx.bySubject[saKey(sns, sname)] = append(idx.bySubject[saKey(sns, sname)], b)
						continue
					}
				}
				idx.humans[humanSubject{"User", s.Name, ns, role}] = true
			case rbacv1.GroupKind:
				if s.Name == "system:serviceaccounts" || s.Name == "system:authenticated" || strings.HasPrefix(s.Name, "system:serviceaccounts:") {
					b.via = "group " + s.Name
					idx.bySubject[groupKey(s.Name)] = append(idx.bySubject[groupKey(s.Name)], b)
					continue
				}
				idx.humans[humanSubject{"Group", s.Name, ns, role}] = true
			}
		}
	}
	for i := range crbs {
		if baseline(crbs[i].ObjectMeta, crbs[i].Subjects) {
			continue
		}
		add("ClusterRoleBinding/"+crbs[i].Name, "", crbs[i].RoleRef, crbs[i].Subjects)
	}
	for i := range rbs {
		add("RoleBinding/"+rbs[i].Namespace+"/"+rbs[i].Name, rbs[i].Namespace, rbs[i].RoleRef, rbs[i].Subjects)
	}
	return idx
}

// bindingsOf returns every binding that applies to account ns/name.
func (idx *rbacIndex) bindingsOf(ns, name string) []binding {
	var out []binding
	for _, k := range []string{saKey(ns, name), groupKey("system:serviceaccounts"), groupKey("system:serviceaccounts:" + ns), groupKey("system:authenticated")} {
		out = append(out, idx.bySubject[k]...)
	}
	return out
}

// perms is an account's effective permissions, summarised.
type perms struct {
	summary    string            // "cluster-admin; secrets: get,list in payments"
	verbs      map[string]string // resource -> "get,list" (union over namespaces)
	privileged []string          // why it is overprivileged, if it is
	bindings   []string          // "ClusterRoleBinding/ci -> ClusterRole/cluster-admin"
	unknown    []string          // roles referred to but not read
}

const clusterWide = ""

// effective resolves bindings into perms.
func effective(bs []binding) perms {
	var p perms
	// scope -> resource -> verbs
	grants := map[string]map[string]map[string]bool{}
	clusterAdmin := false
	for _, b := range bs {
		line := b.name + " -> " + b.role
		if b.via != "" {
			line += " (via " + b.via + ")"
		}
		if b.missing {
			line += " (no such role: grants nothing until one is made)"
		}
		p.bindings = append(p.bindings, line)
		if b.unknown {
			p.unknown = append(p.unknown, b.role)
		}
		if b.ns == clusterWide && b.role == "ClusterRole/cluster-admin" {
			clusterAdmin = true
			p.privileged = append(p.privileged, "bound to cluster-admin by "+b.name)
		}
		for _, r := range b.rules {
			if len(r.Resources) == 0 {
				continue // non-resource URLs (/healthz, /metrics): not about objects
			}
			g := grants[b.ns]
			if g == nil {
				g = map[string]map[string]bool{}
				grants[b.ns] = g
			}
			for _, res := range named(r) {
				vs := g[res]
				if vs == nil {
					vs = map[string]bool{}
					g[res] = vs
				}
				for _, v := range r.Verbs {
					vs[v] = true
				}
			}
		}
	}
	p.verbs = map[string]string{}
	union := map[string]map[string]bool{}
	scopes := make([]string, 0, len(grants))
	for s := range grants {
		scopes = append(scopes, s)
	}
	slices.Sort(scopes) // "" (cluster-wide) first
	var parts []string
	if clusterAdmin {
		parts = append(parts, "cluster-admin")
	}
	for _, s := range scopes {
		where := "cluster-wide"
		if s != clusterWide {
			where = "in " + s
		}
		// resources with the same verbs share a clause: "pods, services: get,list in payments".
		byVerbs := map[string][]string{}
		var order []string
		res := make([]string, 0, len(grants[s]))
		for r := range grants[s] {
			res = append(res, r)
		}
		slices.Sort(res)
		for _, r := range res {
			vs := verbList(grants[s][r])
			base, _, _ := strings.Cut(r, "[") // secrets[db-creds] may get secrets, some
			if union[base] == nil {
				union[base] = map[string]bool{}
			}
			for v := range grants[s][r] {
				union[base][v] = true
			}
			if _, ok := byVerbs[vs]; !ok {
				order = append(order, vs)
			}
			byVerbs[vs] = append(byVerbs[vs], r)
			p.privileged = append(p.privileged, risky(r, grants[s][r], s)...)
		}
		if clusterAdmin && s == clusterWide {
			continue // cluster-admin says it all
		}
		for _, vs := range order {
			rs := byVerbs[vs]
			if vs == "*" && slices.Contains(rs, "*") {
				parts = append(parts, "*/* "+where)
				rs = slices.DeleteFunc(slices.Clone(rs), func(r string) bool { return r == "*" })
				if len(rs) == 0 {
					continue
				}
			}
			parts = append(parts, strings.Join(rs, ", ")+": "+vs+" "+where)
		}
	}
	for r, vs := range union {
		p.verbs[r] = verbList(vs)
	}
	p.summary = strings.Join(parts, "; ")
	slices.Sort(p.bindings)
	p.bindings = slices.Compact(p.bindings)
	slices.Sort(p.unknown)
	p.unknown = slices.Compact(p.unknown)
	p.privileged = slices.Compact(p.privileged)
	return p
}

// named is what a rule grants on: its resources, or, where it names the
// objects (resourceNames), each object as resource[name]: a rule that may
// get the secret db-creds does not read secrets cluster-wide.
func named(r rbacv1.PolicyRule) []string {
	if len(r.ResourceNames) == 0 {
		return r.Resources
	}
	out := make([]string, 0, len(r.Resources)*len(r.ResourceNames))
	for _, res := range r.Resources {
		for _, n := range r.ResourceNames {
			out = append(out, res+"["+n+"]")
		}
	}
	return out
}

// verbList is a verb set as "get,list,watch", with * first.
func verbList(vs map[string]bool) string {
	out := make([]string, 0, len(vs))
	for v := range vs {
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b string) int {
		switch {
		case a == b:
			return 0
		case a == "*":
			return -1
		case b == "*":
			return 1
		}
		return strings.Compare(a, b)
	})
	return strings.Join(out, ",")
}

// risky says what about resource r with verbs vs in scope makes an account
// overprivileged (docs/kubernetes.md): * verbs or resources, reading
// secrets cluster-wide, escalate, bind, impersonate.
func risky(r string, vs map[string]bool, scope string) []string {
	where := "cluster-wide"
	if scope != clusterWide {
		where = "in " + scope
	}
	var out []string
	switch {
	case r == "*" && vs["*"]:
		out = append(out, "*/* "+where)
	case r == "*":
		out = append(out, fmt.Sprintf("every resource (*): %s %s", verbList(vs), where))
	case vs["*"]:
		out = append(out, fmt.Sprintf("every verb (*) on %s %s", r, where))
	}
	if scope == clusterWide && (r == "secrets" || r == "*") && (vs["get"] || vs["list"] || vs["watch"] || vs["*"]) && !(r == "*" && vs["*"]) {
		out = append(out, "reads secrets cluster-wide")
	}
	for _, v := range []string{"escalate", "bind", "impersonate"} {
		if vs[v] {
			out = append(out, fmt.Sprintf("%s on %s %s", v, r, where))
		}
	}
	return out
}
