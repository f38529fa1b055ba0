package kubernetes

import (
	"net/http"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/nhi-audit/nhi/audit"
)

// NotCollected are the kinds of Kubernetes credential this connector does
// not read; CannotSee what no list of the API server shows. Each snapshot
// records them, and the evidence report lists them per source.
var (
	NotCollected = []string{
		"credentials kept in Secrets of other types (Opaque, docker-registry, TLS): only legacy service account token Secrets are inventoried",
		"the cloud identities service accounts are mapped to (EKS IRSA, GKE and Azure workload identity): the mapping annotations are recorded, not what the cloud lets them do",
	}
	CannotSee = []string{
		"bound service account tokens (TokenRequest, projected volumes): short-lived and never listed",
		"client certificates and static or webhook tokens the API server accepts: they live outside the API",
		"what an admission webhook or an authorization webhook allows beyond RBAC",
	}
)

// countRequests counts every request client-go sends, retries included.
type countRequests struct {
	next http.RoundTripper
	n    *atomic.Int64
}

func (c countRequests) RoundTrip(req *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(req)
}

// Reach implements connectors.Reacher: the namespaces read in full (every
// namespaced list the snapshot needs), each other one with the lists it
// lacks, the cluster-wide lists that failed, and the requests sent.
func (c *Connector) Reach() audit.Reach {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := audit.Reach{Unit: "namespaces", NotCollected: NotCollected, CannotSee: CannotSee}
	if c.reach != nil {
		r = *c.reach
	}
	r.Requests = int(c.requests.Load())
	return r
}

// reach is what k says of the namespaces: read in full, or the lists that
// were not read in each.
func (k *cluster) reach() audit.Reach {
	r := audit.Reach{Unit: "namespaces", NotCollected: NotCollected, CannotSee: CannotSee}
	var cluster []string
	for _, l := range []struct {
		resource string
		read     bool
	}{{"namespaces", k.nsRead}, {"clusterroles", k.crRead}, {"clusterrolebindings", k.crbRead}} {
		if !l.read {
			cluster = append(cluster, l.resource)
		}
	}
	if len(cluster) > 0 {
		r.NotRead = append(r.NotRead, "cluster-wide: "+strings.Join(cluster, ", ")+" not listed")
	}
	seen := map[string]bool{}
	var names []string
	for _, n := range k.namespaces {
		seen[n.Name] = true
		names = append(names, n.Name)
	}
	for _, a := range k.accounts {
		if !seen[a.ns] {
			seen[a.ns] = true
			names = append(names, a.ns)
		}
	}
	slices.Sort(names)
	for _, ns := range names {
		var missing []string
		for _, l := range []struct {
			resource string
			read     map[string]bool
		}{
			{"serviceaccounts", k.saRead}, {"secrets", k.tokRead}, {"pods", k.podsRead},
			{"replicasets", k.ownersRead["replicasets"]}, {"jobs", k.ownersRead["jobs"]},
			{"roles", k.rolesRead}, {"rolebindings", k.rbRead},
		} {
			if !in(l.read, ns) {
				missing = append(missing, l.resource)
			}
		}
		if len(missing) == 0 {
			r.Read++
			continue
		}
		r.NotRead = append(r.NotRead, "namespace "+ns+": "+strings.Join(missing, ", ")+" not listed")
	}
	return r
}
