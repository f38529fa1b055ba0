package k8stest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
)

// Recorded serves a World the way kube-apiserver answers the lists the
// connector makes, from list responses encoded once: JSON lists with
// limit/continue, Secrets by field selector and only as metadata
// (PartialObjectMetadataList; a request for whole Secrets is refused, so a
// connector that asked for Secret data would fail), SelfSubjectReview and
// /version. It is for `nhi demo` when no API server is built, and for
// benchmarks where creating the objects in a real server takes too long;
// the live tests prove the connector against the real server.
type Recorded struct {
	*httptest.Server
	User     string
	Version  string
	Requests atomic.Int64
	// LoopPages, when set, makes the last page of a list that took more
	// than one hand back a continue token to the first, so its pages
	// loop: what a broken proxy in front of an API server looks like.
	LoopPages atomic.Bool
	// ForbidLists, when set, answers every list 403 Forbidden, as an API
	// server answers a user no role binding names.
	ForbidLists atomic.Bool
	// ForbidClusterWide, when set, answers 403 Forbidden to every list of
	// a namespaced resource across all namespaces, and answers it in each
	// namespace, as an API server answers an auditor whose ClusterRole
	// lists only namespaces, the rest granted by a RoleBinding in each.
	ForbidClusterWide atomic.Bool
	// ForbidRBACIn, when set to a namespace (a string), answers 403
	// Forbidden to every list of roles and rolebindings in it, and across
	// all namespaces, as an API server answers a credential whose
	// RoleBinding in each namespace but that one lets it read RBAC there.
	ForbidRBACIn atomic.Value
	// FailList, when above 0, answers the list request that many from now
	// 500 Internal Server Error (an error no retry helps).
	FailList atomic.Int64
	// ForbidSecrets, when set, answers every list of Secrets 403
	// Forbidden, as an API server answers a credential whose role leaves
	// Secrets out (docs/kubernetes.md allows it).
	ForbidSecrets atomic.Bool
	// ForbidTracking, when set, answers the ConfigMap that says since when
	// legacy token use is recorded 403 Forbidden, as an API server answers
	// a credential whose role leaves it out.
	ForbidTracking atomic.Bool
	// RejectListsAfter, when above 0, answers every list after that many
	// 401 Unauthorized, as an API server answers a token that expired or
	// was revoked part way through a run (SelfSubjectReview at its start
	// still accepted it).
	RejectListsAfter atomic.Int64
	// UnavailableLists, when above 0, answers that many of the lists that
	// follow 503 Service Unavailable (no Retry-After), as an API server
	// whose etcd is not ready, or a load balancer in front of one that is
	// restarting, answers.
	UnavailableLists atomic.Int64
	// HangLists, when above 0, leaves that many of the lists that follow
	// unanswered until the client gives up, as a frozen API server, or a
	// network that drops what it is sent, does (after 20 seconds it
	// answers 504, as a proxy in front would).
	HangLists atomic.Int64
	// Hung, when set, is called as a list starts to hang: a test ends
	// the client's wait for it there, as the client's time limit would,
	// so a slow machine's answered lists are not what runs out of time.
	Hung func()
	// Abandoned counts the hung lists the client gave up on.
	Abandoned atomic.Int64
	hanging   sync.WaitGroup
	// DownAfterLists, when above 0, stops the server once it has answered
	// that many more lists: its listener is closed, so every request after
	// is refused (connect: connection refused), as by an API server that
	// went down part way through a run.
	DownAfterLists atomic.Int64

	listsServed atomic.Int64
	down        atomic.Bool

	lists map[string]*recordedList // "/api/v1/pods" -> items
	// tracking is the ConfigMap that says since when legacy token use is
	// recorded, nil when the world does not record it.
	tracking []byte
}

// WaitHung waits until every list left hanging so far has ended: given
// up by the client (Abandoned), or answered 504 after 20 seconds.
func (r *Recorded) WaitHung() { r.hanging.Wait() }

// TrackingPath is where the API server says since when it labels legacy
// tokens with their last use.
const TrackingPath = "/api/v1/namespaces/kube-system/configmaps/kube-apiserver-legacy-service-account-token-tracking"

type recordedList struct {
	kind, apiVersion string
	metadataOnly     bool
	items            []recordedItem
}

type recordedItem struct {
	ns, secretType string
	full, meta     json.RawMessage
}

// RecordedVersion is the server version the recorded world reports.
const RecordedVersion = "v1.37.2"

// Dated sets every object's creation time, UID and, for legacy tokens
// named in lastUsed, the kubernetes.io/legacy-token-last-used label: what
// the API server and its controllers would have recorded over time.
func (w *World) Dated(created time.Time, lastUsed map[string]time.Time) {
	w.TokenUseTrackedSince = created.UTC().Truncate(time.Second)
	n := 0
	stamp := func(m *metav1.ObjectMeta) {
		n++
		m.CreationTimestamp = metav1.NewTime(created.Add(time.Duration(n) * time.Minute).UTC().Truncate(time.Second))
		m.UID = types.UID(fmt.Sprintf("00000000-0000-4000-8000-%012d", n))
	}
	for i := range w.Namespaces {
		stamp(&w.Namespaces[i].ObjectMeta)
	}
	for i := range w.ServiceAccounts {
		stamp(&w.ServiceAccounts[i].ObjectMeta)
	}
	for i := range w.Secrets {
		s := &w.Secrets[i]
		stamp(&s.ObjectMeta)
		if t, ok := lastUsed[s.Namespace+"/"+s.Name]; ok {
			if s.Labels == nil {
				s.Labels = map[string]string{}
			}
			s.Labels["kubernetes.io/legacy-token-last-used"] = t.UTC().Format(time.DateOnly)
		}
	}
	for i := range w.ReplicaSets {
		stamp(&w.ReplicaSets[i].ObjectMeta)
	}
	for i := range w.Jobs {
		stamp(&w.Jobs[i].ObjectMeta)
	}
	for i := range w.Pods {
		stamp(&w.Pods[i].ObjectMeta)
	}
}

// NewRecorded encodes w's list responses and serves them over TLS on
// loopback.
func NewRecorded(w *World) (*Recorded, error) {
	r := &Recorded{User: "demo-auditor", Version: RecordedVersion, lists: map[string]*recordedList{}}
	add := func(path, kind, apiVersion string, metadataOnly bool, ns, secretType string, obj any, meta metav1.ObjectMeta) error {
		l := r.lists[path]
		if l == nil {
			l = &recordedList{kind: kind, apiVersion: apiVersion, metadataOnly: metadataOnly}
			r.lists[path] = l
		}
		full, err := json.Marshal(obj)
		if err != nil {
			return err
		}
		m, err := json.Marshal(metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{Kind: "PartialObjectMetadata", APIVersion: "meta.k8s.io/v1"}, ObjectMeta: meta})
		if err != nil {
			return err
		}
		l.items = append(l.items, recordedItem{ns: ns, secretType: secretType, full: full, meta: m})
		return nil
	}
	var err error
	try := func(e error) {
		if err == nil {
			err = e
		}
	}
	for i := range w.Namespaces {
		o := &w.Namespaces[i]
		try(add("/api/v1/namespaces", "NamespaceList", "v1", false, "", "", o, o.ObjectMeta))
	}
	for i := range w.ServiceAccounts {
		o := &w.ServiceAccounts[i]
		try(add("/api/v1/serviceaccounts", "ServiceAccountList", "v1", false, o.Namespace, "", o, o.ObjectMeta))
	}
	for i := range w.Secrets {
		o := &w.Secrets[i]
		data := corev1.Secret{ObjectMeta: o.ObjectMeta, Type: o.Type}
		try(add("/api/v1/secrets", "SecretList", "v1", true, o.Namespace, string(o.Type), data, o.ObjectMeta))
	}
	for i := range w.ReplicaSets {
		o := &w.ReplicaSets[i]
		try(add("/apis/apps/v1/replicasets", "ReplicaSetList", "apps/v1", false, o.Namespace, "", o, o.ObjectMeta))
	}
	for i := range w.Jobs {
		o := &w.Jobs[i]
		try(add("/apis/batch/v1/jobs", "JobList", "batch/v1", false, o.Namespace, "", o, o.ObjectMeta))
	}
	for i := range w.Pods {
		o := &w.Pods[i]
		try(add("/api/v1/pods", "PodList", "v1", false, o.Namespace, "", o, o.ObjectMeta))
	}
	const rbac = "/apis/rbac.authorization.k8s.io/v1/"
	for i := range w.ClusterRoles {
		o := &w.ClusterRoles[i]
		try(add(rbac+"clusterroles", "ClusterRoleList", "rbac.authorization.k8s.io/v1", false, "", "", o, o.ObjectMeta))
	}
	for i := range w.ClusterRoleBindings {
		o := &w.ClusterRoleBindings[i]
		try(add(rbac+"clusterrolebindings", "ClusterRoleBindingList", "rbac.authorization.k8s.io/v1", false, "", "", o, o.ObjectMeta))
	}
	for i := range w.Roles {
		o := &w.Roles[i]
		try(add(rbac+"roles", "RoleList", "rbac.authorization.k8s.io/v1", false, o.Namespace, "", o, o.ObjectMeta))
	}
	for i := range w.RoleBindings {
		o := &w.RoleBindings[i]
		try(add(rbac+"rolebindings", "RoleBindingList", "rbac.authorization.k8s.io/v1", false, o.Namespace, "", o, o.ObjectMeta))
	}
	if err != nil {
		return nil, err
	}
	// Every list the connector makes exists, even when empty.
	for path, kind := range map[string][2]string{
		"/api/v1/namespaces": {"NamespaceList", "v1"}, "/api/v1/serviceaccounts": {"ServiceAccountList", "v1"},
		"/api/v1/secrets": {"SecretList", "v1"}, "/apis/apps/v1/replicasets": {"ReplicaSetList", "apps/v1"},
		"/apis/batch/v1/jobs": {"JobList", "batch/v1"}, "/api/v1/pods": {"PodList", "v1"},
		rbac + "clusterroles": {"ClusterRoleList", "rbac.authorization.k8s.io/v1"}, rbac + "clusterrolebindings": {"ClusterRoleBindingList", "rbac.authorization.k8s.io/v1"},
		rbac + "roles": {"RoleList", "rbac.authorization.k8s.io/v1"}, rbac + "rolebindings": {"RoleBindingList", "rbac.authorization.k8s.io/v1"},
	} {
		if r.lists[path] == nil {
			r.lists[path] = &recordedList{kind: kind[0], apiVersion: kind[1], metadataOnly: path == "/api/v1/secrets"}
		}
	}
	if t := w.TokenUseTrackedSince; !t.IsZero() {
		cm := corev1.ConfigMap{TypeMeta: metav1.TypeMeta{Kind: "ConfigMap", APIVersion: "v1"},
			ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "kube-apiserver-legacy-service-account-token-tracking", CreationTimestamp: metav1.NewTime(t)},
			Data:       map[string]string{"since": t.UTC().Format(time.DateOnly)}}
		if r.tracking, err = json.Marshal(cm); err != nil {
			return nil, err
		}
	}
	r.Server = httptest.NewTLSServer(http.HandlerFunc(r.serve))
	return r, nil
}

// Config returns a client configuration for the recorded server.
func (r *Recorded) Config() *rest.Config {
	return &rest.Config{Host: r.URL, BearerToken: "recorded-world", TLSClientConfig: rest.TLSClientConfig{Insecure: true}}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func statusErr(w http.ResponseWriter, code int, reason metav1.StatusReason, msg string) {
	writeJSON(w, code, metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: metav1.StatusFailure, Message: msg, Reason: reason, Code: int32(code)})
}

func (r *Recorded) serve(w http.ResponseWriter, req *http.Request) {
	r.Requests.Add(1)
	switch {
	case req.URL.Path == "/version":
		writeJSON(w, 200, map[string]string{"major": "1", "minor": "37", "gitVersion": r.Version, "platform": "linux/amd64"})
		return
	case req.URL.Path == "/apis/authentication.k8s.io/v1/selfsubjectreviews" && req.Method == http.MethodPost:
		writeJSON(w, 201, authnv1.SelfSubjectReview{TypeMeta: metav1.TypeMeta{Kind: "SelfSubjectReview", APIVersion: "authentication.k8s.io/v1"},
			Status: authnv1.SelfSubjectReviewStatus{UserInfo: authnv1.UserInfo{Username: r.User, Groups: []string{"system:authenticated"}}}})
		return
	case req.Method != http.MethodGet:
		statusErr(w, 405, metav1.StatusReasonMethodNotAllowed, "the recorded world is read-only")
		return
	}
	if req.URL.Path == TrackingPath && r.ForbidTracking.Load() {
		statusErr(w, 403, metav1.StatusReasonForbidden, `configmaps "kube-apiserver-legacy-service-account-token-tracking" is forbidden: User "`+r.User+`" cannot get resource "configmaps" in API group "" in the namespace "kube-system"`)
		return
	}
	if req.URL.Path == TrackingPath {
		if r.tracking == nil {
			statusErr(w, 404, metav1.StatusReasonNotFound, `configmaps "kube-apiserver-legacy-service-account-token-tracking" not found`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(r.tracking)
		return
	}
	path, ns := req.URL.Path, ""
	// /api/v1/namespaces/{ns}/{resource} and /apis/g/v/namespaces/{ns}/{resource}
	if i := strings.Index(path, "/namespaces/"); i >= 0 {
		rest := strings.SplitN(path[i+len("/namespaces/"):], "/", 2)
		if len(rest) == 2 {
			ns, path = rest[0], path[:i]+"/"+rest[1]
		}
	}
	served := r.listsServed.Add(1)
	if r.down.Load() {
		panic(http.ErrAbortHandler)
	}
	for n := r.DownAfterLists.Load(); n > 0; n = r.DownAfterLists.Load() {
		if r.DownAfterLists.CompareAndSwap(n, n-1) {
			if n == 1 {
				// The last list it answers closes the listener first and
				// its connection after: the next request dials, and is
				// refused.
				r.down.Store(true)
				r.Listener.Close()
				w.Header().Set("Connection", "close")
			}
			break
		}
	}
	if n := r.RejectListsAfter.Load(); n > 0 && served > n {
		statusErr(w, 401, metav1.StatusReasonUnauthorized, "Unauthorized")
		return
	}
	for n := r.HangLists.Load(); n > 0; n = r.HangLists.Load() {
		if r.HangLists.CompareAndSwap(n, n-1) {
			r.hanging.Add(1)
			defer r.hanging.Done()
			if r.Hung != nil {
				r.Hung()
			}
			select {
			case <-req.Context().Done():
				r.Abandoned.Add(1)
				return
			case <-time.After(20 * time.Second):
				statusErr(w, 504, metav1.StatusReasonTimeout, "the recorded world's proxy had no answer")
				return
			}
		}
	}
	for n := r.UnavailableLists.Load(); n > 0; n = r.UnavailableLists.Load() {
		if r.UnavailableLists.CompareAndSwap(n, n-1) {
			statusErr(w, 503, metav1.StatusReasonServiceUnavailable, "the server is currently unable to handle the request")
			return
		}
	}
	if r.ForbidLists.Load() {
		statusErr(w, 403, metav1.StatusReasonForbidden, `User "`+r.User+`" cannot list resource at the cluster scope`)
		return
	}
	if ns == "" && path != "/api/v1/namespaces" && !strings.HasSuffix(path, "/clusterroles") && !strings.HasSuffix(path, "/clusterrolebindings") && r.ForbidClusterWide.Load() {
		statusErr(w, 403, metav1.StatusReasonForbidden, `User "`+r.User+`" cannot list resource at the cluster scope`)
		return
	}
	if in, _ := r.ForbidRBACIn.Load().(string); in != "" && (ns == "" || ns == in) && (strings.HasSuffix(path, "/roles") || strings.HasSuffix(path, "/rolebindings")) {
		statusErr(w, 403, metav1.StatusReasonForbidden, `User "`+r.User+`" cannot list resource in the namespace "`+ns+`"`)
		return
	}
	for n := r.FailList.Load(); n > 0; n = r.FailList.Load() {
		if r.FailList.CompareAndSwap(n, n-1) {
			if n == 1 {
				statusErr(w, 500, metav1.StatusReasonInternalError, "Internal error occurred: the recorded world failed this list")
				return
			}
			break
		}
	}
	if path == "/api/v1/secrets" && r.ForbidSecrets.Load() {
		where := "at the cluster scope"
		if ns != "" {
			where = `in the namespace "` + ns + `"`
		}
		statusErr(w, 403, metav1.StatusReasonForbidden, `secrets is forbidden: User "`+r.User+`" cannot list resource "secrets" in API group "" `+where)
		return
	}
	l := r.lists[path]
	if l == nil {
		statusErr(w, 404, metav1.StatusReasonNotFound, "the recorded world has no "+req.URL.Path)
		return
	}
	asMeta := strings.Contains(req.Header.Get("Accept"), "as=PartialObjectMetadataList")
	if l.metadataOnly && !asMeta {
		statusErr(w, 406, metav1.StatusReasonNotAcceptable, "the recorded world serves Secrets as metadata only (PartialObjectMetadataList); their data is not recorded")
		return
	}
	q := req.URL.Query()
	wantType := ""
	if fs := q.Get("fieldSelector"); fs != "" {
		t, ok := strings.CutPrefix(fs, "type=")
		if !ok || path != "/api/v1/secrets" {
			statusErr(w, 400, metav1.StatusReasonBadRequest, "field selector "+fs+" not supported by the recorded world")
			return
		}
		wantType = t
	}
	start, _ := strconv.Atoi(q.Get("continue"))
	limit, _ := strconv.Atoi(q.Get("limit"))
	if limit <= 0 {
		limit = len(l.items) + 1
	}
	var b strings.Builder
	kind, apiVersion := l.kind, l.apiVersion
	if asMeta {
		kind, apiVersion = "PartialObjectMetadataList", "meta.k8s.io/v1"
	}
	n, next := 0, ""
	b.WriteString(`{"kind":"` + kind + `","apiVersion":"` + apiVersion + `","metadata":{"resourceVersion":"1"`)
	var items strings.Builder
	i := start
	for ; i < len(l.items); i++ {
		it := &l.items[i]
		if (ns != "" && it.ns != ns) || (wantType != "" && it.secretType != wantType) {
			continue
		}
		if n == limit {
			next = strconv.Itoa(i)
			break
		}
		if n > 0 {
			items.WriteByte(',')
		}
		if asMeta {
			items.Write(it.meta)
		} else {
			items.Write(it.full)
		}
		n++
	}
	if next == "" && start > 0 && r.LoopPages.Load() {
		next = "0"
	}
	if next != "" {
		b.WriteString(`,"continue":"` + next + `","remainingItemCount":` + strconv.Itoa(len(l.items)-i))
	}
	b.WriteString(`},"items":[`)
	b.WriteString(items.String())
	b.WriteString("]}")
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(b.String()))
}
