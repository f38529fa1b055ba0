package kubernetes_test

import (
	"context"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/connectors"
	k8sconn "github.com/nhi-audit/nhi/connectors/kubernetes"
	"github.com/nhi-audit/nhi/connectors/kubernetes/k8stest"
	"github.com/nhi-audit/nhi/filter"
	"github.com/nhi-audit/nhi/internal/benchmem"
)

var fixedNow = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

// DemoWorld is the sample cluster as the demo shows it: made in 2021,
// the deployer's legacy token last used 200 days ago.
func demoWorld() *k8stest.World {
	w := k8stest.Sample()
	w.Dated(time.Date(2021, 3, 1, 9, 0, 0, 0, time.UTC), map[string]time.Time{"ci/deployer-token": fixedNow.AddDate(0, 0, -200)})
	return w
}

func recorded(t testing.TB, w *k8stest.World) *k8stest.Recorded {
	t.Helper()
	r, err := k8stest.NewRecorded(w)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r
}

// TestRecordedSample reads the recorded sample world (client-go over
// loopback HTTP, list responses in the API server's JSON) in pages of two:
// the same findings as the live test, with the dates the demo shows.
func TestRecordedSample(t *testing.T) {
	r := recorded(t, demoWorld())
	st, _ := openStore(t, fixedNow)
	snap := snapshot(t, st, "demo", r.Config())
	if snap.Status != audit.SnapshotComplete || snap.Credential != "demo-auditor (groups system:authenticated)" || snap.ServerVersion != k8stest.RecordedVersion {
		t.Fatalf("snapshot %+v", snap)
	}
	if got := snap.Counts; got[audit.KindK8sServiceAccount] != 6 || got[audit.KindK8sSAToken] != 2 {
		t.Errorf("counts %v, want 6 accounts and 2 legacy tokens (the Opaque secret is not one)", got)
	}
	ids := byID(t, st)
	want := map[string][]string{
		"ci/deployer":          {"orphaned", "overprivileged", "automount-with-permissions"},
		"payments/default":     {"orphaned", "default-sa-with-permissions", "automount-with-permissions"},
		"payments/api":         {"orphaned"},
		"payments/old-batch":   {"orphaned", "automount-with-permissions", "unused"},
		"ops/ops-bot":          {"orphaned", "overprivileged", "automount-with-permissions", "unused"},
		"shared/shared-runner": {"orphaned", "reuse"},
	}
	for key, rs := range want {
		id := ids["k8s:demo:k8s_service_account:"+key]
		got := rules(id)
		for _, r := range rs {
			if _, ok := got[r]; !ok {
				t.Errorf("%s: findings %v, want %s", key, id.Findings, r)
			}
		}
		if len(got) != len(rs) {
			t.Errorf("%s: findings %v, want exactly %v", key, id.Findings, rs)
		}
	}
	for key := range want {
		if u := ids["k8s:demo:k8s_service_account:"+key].Attributes["permissions_unknown"]; u != "" {
			t.Errorf("%s: permissions_unknown %q, yet every role and binding was read", key, u)
		}
	}
	// The recorded aggregated ClusterRole has no rules of its own (no
	// controller filled them in): the connector resolves its selectors.
	if got := ids["k8s:demo:k8s_service_account:payments/default"].Attributes["permissions"]; got != "pods, secrets: get,list in payments" {
		t.Errorf("payments/default permissions %q", got)
	}
	if p := ids["k8s:demo:k8s_service_account:ci/deployer"].Permissions; p["*"] != "*" {
		t.Errorf("deployer permissions %v, want cluster-admin's * on *", p)
	}
	used := ids["k8s:demo:k8s_sa_token:ci/deployer-token"]
	if m := rules(used)["stale"]; !strings.Contains(m, "last used 2026-05-14") {
		t.Errorf("deployer-token stale %q", m)
	}
	never := ids["k8s:demo:k8s_sa_token:payments/old-batch-token"]
	if m := rules(never)["stale"]; !strings.Contains(m, "never used since it was created 2021-03-01") {
		t.Errorf("old-batch-token stale %q", m)
	}
	// 10 lists, /version and the SelfSubjectReview: 12 requests if
	// every list took one page; pages of two take more.
	if n := r.Requests.Load(); n <= 12 {
		t.Errorf("%d requests: the lists were not paginated", n)
	}
	// The snapshot's reach, which the evidence report states: every
	// namespace read in full, and every request the server answered.
	if re := snap.Reach; re == nil || re.Unit != "namespaces" || re.Read != 4 || len(re.NotRead) != 0 || int64(re.Requests) != r.Requests.Load() || len(re.CannotSee) == 0 {
		t.Errorf("reach %+v; want 4 namespaces read in full, %d requests", snap.Reach, r.Requests.Load())
	}
}

// TestRecordedRefusesSecretData: the recorded server refuses to list whole
// Secrets, so this passing at all shows the connector asks for metadata.
func TestRecordedRefusesSecretData(t *testing.T) {
	r := recorded(t, demoWorld())
	c := r.Client()
	req, _ := c.Get(r.URL + "/api/v1/secrets")
	if req.StatusCode != 406 {
		t.Fatalf("whole Secrets: status %d, want 406", req.StatusCode)
	}
	req.Body.Close()
}

// BenchmarkSnapshotLargeCluster snapshots a generated cluster of 2,000
// namespaces, 20,000 accounts, 5,000 legacy tokens, 50,000 bindings and
// 100,000 Pods, served as recorded list responses (creating that many
// objects in a real API server on this machine takes far longer than the
// snapshot). It reports the peak heap in use while the snapshot ran.
func BenchmarkSnapshotLargeCluster(b *testing.B) {
	w := k8stest.Generate(k8stest.Size{Namespaces: 2000, ServiceAccounts: 20000, Tokens: 5000, Bindings: 50000, Pods: 100000})
	w.Dated(fixedNow.AddDate(-1, 0, 0), nil)
	r := recorded(b, w)
	w = nil
	b.ResetTimer()
	for range b.N {
		st, _ := openStore(b, fixedNow)
		c, err := k8sconn.New("bench", r.Config())
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		stop := benchmem.Start()
		snap, err := connectors.Snapshot(context.Background(), st, c, "bench")
		u := stop()
		if err != nil {
			b.Fatal(err)
		}
		if snap.Counts[audit.KindK8sServiceAccount] != 20000 || snap.Counts[audit.KindK8sSAToken] != 5000 {
			b.Fatalf("counts %v", snap.Counts)
		}
		b.ReportMetric(u.AboveBaseMB(), "peak-heap-MB")
		b.ReportMetric(float64(r.Requests.Load())/float64(b.N), "requests")
	}
}

// TestPagesThatLoop: a list whose last page hands back a continue token
// to the first (pages that loop) is a gap naming the resource after one
// lap, where the connector listed for ever; what it held is not-checked,
// never removed.
func TestPagesThatLoop(t *testing.T) {
	r := recorded(t, demoWorld())
	st, _ := openStore(t, fixedNow)
	snapshot(t, st, "demo", r.Config())
	r.LoopPages.Store(true)
	before := r.Requests.Load()
	snap := snapshot(t, st, "demo", r.Config())
	if n := r.Requests.Load() - before; n > 200 {
		t.Errorf("%d requests for lists whose pages loop; want one lap of each", n)
	}
	if snap.Status != audit.SnapshotPartial || len(snap.Gaps) == 0 {
		t.Fatalf("snapshot %s, gaps %+v; want partial", snap.Status, snap.Gaps)
	}
	for _, g := range snap.Gaps {
		if !strings.Contains(g.Reason, "its pages loop") {
			t.Errorf("gap %+v does not say the pages loop", g)
		}
	}
	for id, i := range byID(t, st) {
		if i.Status == audit.StatusRemoved {
			t.Errorf("%s removed by a run whose lists looped", id)
		}
	}
}

// TestRejectedPartWayFails: a credential the API server stops accepting
// part way through a run (401 after SelfSubjectReview and the first lists
// accepted it: expired or revoked) fails the run saying so and what to do,
// as a credential rejected at the start does; it is no gap, and nothing
// current is marked removed.
func TestRejectedPartWayFails(t *testing.T) {
	r := recorded(t, demoWorld())
	st, _ := openStore(t, fixedNow)
	first := snapshot(t, st, "demo", r.Config())
	r.RejectListsAfter.Store(3)
	c, err := k8sconn.New("demo", r.Config())
	if err != nil {
		t.Fatal(err)
	}
	c.SetPageSize(2)
	snap, err := connectors.Snapshot(context.Background(), st, c, "test")
	if err == nil || !strings.Contains(err.Error(), "the API server rejected the credential part way through the run (401") ||
		!strings.Contains(err.Error(), "renew it") {
		t.Fatalf("a credential rejected mid-run: %v", err)
	}
	if snap == nil || snap.Status != audit.SnapshotFailed || len(snap.Gaps) != 0 {
		t.Errorf("snapshot %+v, want failed without gaps", snap)
	}
	for id, i := range byID(t, st) {
		if i.Status == audit.StatusRemoved {
			t.Errorf("%s removed by a run whose credential was rejected", id)
		}
	}
	if first.Status != audit.SnapshotComplete {
		t.Errorf("first snapshot %s", first.Status)
	}
}

// quickRetries is a connector to r whose unanswered pages are asked again
// after milliseconds, not seconds.
func quickRetries(t *testing.T, r *k8stest.Recorded) *k8sconn.Connector {
	t.Helper()
	c, err := k8sconn.New("demo", r.Config())
	if err != nil {
		t.Fatal(err)
	}
	c.SetPageSize(2)
	k8sconn.SetRetryWait(c, time.Millisecond)
	return c
}

// TestUnavailableListsAreAskedAgain: lists answered 503 for a while (an
// API server restarting behind its load balancer, or waiting for etcd)
// are asked again, and the snapshot is whole, where each became a gap.
func TestUnavailableListsAreAskedAgain(t *testing.T) {
	r := recorded(t, demoWorld())
	st, _ := openStore(t, fixedNow)
	r.UnavailableLists.Store(3)
	snap, err := connectors.Snapshot(context.Background(), st, quickRetries(t, r), "test")
	if err != nil {
		t.Fatal(err)
	}
	if snap.Status != audit.SnapshotComplete || len(snap.Gaps) != 0 || r.UnavailableLists.Load() != 0 {
		t.Fatalf("status %s, gaps %+v, %d 503s not yet served; want complete", snap.Status, snap.Gaps, r.UnavailableLists.Load())
	}
	if got := snap.Counts; got[audit.KindK8sServiceAccount] != 6 || got[audit.KindK8sSAToken] != 2 {
		t.Errorf("counts %v", got)
	}
}

// TestUnansweredListsTimeOut: a list the API server never answers (it
// froze, or the network drops what it is sent) is given up after a
// request's time and asked again, where the run waited for ever: client-go
// sets no time limit of its own. Unanswered twice, it is a gap, and the
// lists after it are given an eighth of the time. The time limit of a
// request the server hangs ends as the server hangs it (limitEndsAtHang):
// the answered ones take the time the machine needs, so a loaded machine
// is not what decides.
func TestUnansweredListsTimeOut(t *testing.T) {
	r := recorded(t, demoWorld())
	st, _ := openStore(t, fixedNow)
	r.HangLists.Store(1)
	c := quickRetries(t, r)
	limitEndsAtHang(t, c, r)
	snap, err := connectors.Snapshot(context.Background(), st, c, "test")
	if err != nil {
		t.Fatal(err)
	}
	if snap.Status != audit.SnapshotComplete || len(snap.Gaps) != 0 || r.HangLists.Load() != 0 {
		t.Fatalf("status %s, gaps %+v, %d hangs not yet served; want complete", snap.Status, snap.Gaps, r.HangLists.Load())
	}
	r.WaitHung()
	if n := r.Abandoned.Load(); n != 1 {
		t.Errorf("the connector gave up on %d of the 1 unanswered list; it waited for the server instead", n)
	}
	if got := snap.Counts; got[audit.KindK8sServiceAccount] != 6 || got[audit.KindK8sSAToken] != 2 {
		t.Errorf("counts %v", got)
	}
	// Never answered at all, a list is a gap that says how long it waited.
	r.HangLists.Store(100)
	snap, err = connectors.Snapshot(context.Background(), st, c, "test")
	if err != nil {
		t.Fatal(err)
	}
	if snap.Status != audit.SnapshotPartial || len(snap.Gaps) < 2 || !strings.Contains(snap.Gaps[0].Reason, "no answer within 2m0s") ||
		!strings.Contains(snap.Gaps[0].Reason, "asked 2 times") || !strings.Contains(snap.Gaps[1].Reason, "no answer within 15s") {
		t.Errorf("status %s, gaps %+v; want partial, saying no answer came within the request's time, twice, then within an eighth of it", snap.Status, snap.Gaps)
	}
}

// limitEndsAtHang has c's requests' time limits end, as they would once
// past (context.DeadlineExceeded), when r hangs a request: the connector
// asks one request at a time, so the limits not yet ended are that
// request's. Requests r answers have all the time they take.
func limitEndsAtHang(t *testing.T, c *k8sconn.Connector, r *k8stest.Recorded) {
	t.Helper()
	var mu sync.Mutex
	live := map[*context.CancelCauseFunc]bool{}
	r.Hung = func() {
		mu.Lock()
		defer mu.Unlock()
		for end := range live {
			(*end)(context.DeadlineExceeded)
		}
	}
	k8sconn.SetTimeLimit(c, func(ctx context.Context, _ time.Duration) (context.Context, context.CancelFunc) {
		ctx, end := context.WithCancelCause(ctx)
		mu.Lock()
		live[&end] = true
		mu.Unlock()
		return ctx, func() {
			mu.Lock()
			delete(live, &end)
			mu.Unlock()
			end(nil)
		}
	})
}

// TestServerDownPartWay: an API server that goes down part way (every
// request refused) leaves a partial snapshot whose unread lists are gaps
// saying the server did not answer and to run again: what was read is
// kept, and nothing the unread lists held is marked removed. Once one list
// has given up, the others are asked once each.
func TestServerDownPartWay(t *testing.T) {
	r := recorded(t, demoWorld())
	st, _ := openStore(t, fixedNow)
	snapshot(t, st, "demo", r.Config())
	// The namespaces (two pages of two) and the service accounts (three
	// pages) are answered; the lists from the Secrets on are refused.
	r.DownAfterLists.Store(5)
	snap, err := connectors.Snapshot(context.Background(), st, quickRetries(t, r), "test")
	if err != nil {
		t.Fatal(err)
	}
	if snap.Status != audit.SnapshotPartial || len(snap.Gaps) == 0 {
		t.Fatalf("status %s, gaps %+v; want partial", snap.Status, snap.Gaps)
	}
	first := snap.Gaps[0].Reason
	if !strings.Contains(first, "the API server did not answer") || !strings.Contains(first, "connection refused") ||
		!strings.Contains(first, "asked 5 times") || !strings.Contains(first, "run the same command again once it answers") {
		t.Errorf("first gap %q: want that the server did not answer, how often it was asked, and what to do", first)
	}
	for _, g := range snap.Gaps[1:] {
		if !strings.Contains(g.Reason, "as it had stopped answering earlier in this run") {
			t.Errorf("gap %q: want it asked once, the server having stopped answering", g.Reason)
		}
	}
	// /version, the SelfSubjectReview, 5 pages answered, the Secrets
	// asked 5 times and the 7 lists after them once each.
	if n := snap.Reach.Requests; n != 19 {
		t.Errorf("%d requests sent; want 19", n)
	}
	ids := byID(t, st)
	for id, i := range ids {
		if i.Status == audit.StatusRemoved {
			t.Errorf("%s removed by a run the server stopped answering", id)
		}
	}
	if _, ok := ids["k8s:demo:k8s_sa_token:ci/deployer-token"]; !ok {
		t.Error("the token read by the first snapshot is gone")
	}
}

// TestNestedAggregationNotYetFilled: a ClusterRole that aggregates another
// aggregated one (as the API server's own admin aggregates edit), before
// the controller manager has filled either in (each has no rules of its
// own), grants the rules of the roles its selectors reach through both,
// where an account bound to it was said to have only what the outer
// selector matched directly: a permission read as absent.
func TestNestedAggregationNotYetFilled(t *testing.T) {
	w := demoWorld()
	agg := func(label string) *rbacv1.AggregationRule {
		return &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{{MatchLabels: map[string]string{label: "true"}}}}
	}
	w.ClusterRoles = append(w.ClusterRoles,
		rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "nhi-admin"}, AggregationRule: agg("nhi.example/aggregate-to-admin")},
		rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "nhi-edit", Labels: map[string]string{"nhi.example/aggregate-to-admin": "true"}},
			AggregationRule: agg("nhi.example/aggregate-to-edit")},
		rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "nhi-aggregate-to-edit", Labels: map[string]string{"nhi.example/aggregate-to-edit": "true"}},
			Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get", "update"}}}},
		rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "nhi-aggregate-to-admin", Labels: map[string]string{"nhi.example/aggregate-to-admin": "true"}},
			Rules: []rbacv1.PolicyRule{{APIGroups: []string{"rbac.authorization.k8s.io"}, Resources: []string{"rolebindings"}, Verbs: []string{"create"}}}},
	)
	w.RoleBindings = append(w.RoleBindings, rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: "shared", Name: "runner-admin"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "nhi-admin"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: "shared", Name: "shared-runner"}}})
	r := recorded(t, w)
	st, _ := openStore(t, fixedNow)
	snapshot(t, st, "demo", r.Config())
	runner := byID(t, st)["k8s:demo:k8s_service_account:shared/shared-runner"]
	if got := runner.Attributes["permissions"]; got != "rolebindings: create in shared; secrets: get,update in shared" {
		t.Errorf("permissions %q; want the rules of both aggregated roles, in shared", got)
	}
	if runner.Permissions["secrets"] != "get,update" {
		t.Errorf("permission secrets = %q", runner.Permissions["secrets"])
	}
}

// TestDeletedNamespaceWithGapsElsewhere: a namespace deleted since the
// last snapshot has its accounts marked removed when the namespaces were
// listed in full, even when another list is a gap (a credential that may
// not list Secrets, as the docs allow), where a gap anywhere kept the
// deleted namespace's accounts not-checked for as long as it lasted, which
// for a permission left out on purpose is for ever. Tokens where the
// Secrets were not read stay not-checked.
func TestDeletedNamespaceWithGapsElsewhere(t *testing.T) {
	st, _ := openStore(t, fixedNow)
	if snap := snapshot(t, st, "demo", recorded(t, demoWorld()).Config()); snap.Status != audit.SnapshotComplete {
		t.Fatalf("first snapshot %s", snap.Status)
	}
	w := demoWorld()
	w.Namespaces = slices.DeleteFunc(w.Namespaces, func(n corev1.Namespace) bool { return n.Name == "ops" })
	w.ServiceAccounts = slices.DeleteFunc(w.ServiceAccounts, func(a corev1.ServiceAccount) bool { return a.Namespace == "ops" })
	w.Roles = slices.DeleteFunc(w.Roles, func(r rbacv1.Role) bool { return r.Namespace == "ops" })
	w.RoleBindings = slices.DeleteFunc(w.RoleBindings, func(b rbacv1.RoleBinding) bool { return b.Namespace == "ops" })
	r := recorded(t, w)
	r.ForbidSecrets.Store(true)
	if snap := snapshot(t, st, "demo", r.Config()); snap.Status != audit.SnapshotPartial {
		t.Fatalf("second snapshot %s, want partial (Secrets forbidden)", snap.Status)
	}
	ids := byID(t, st)
	if got := ids["k8s:demo:k8s_service_account:ops/ops-bot"].Status; got != audit.StatusRemoved {
		t.Errorf("ops/ops-bot, whose namespace is gone, is %q; want removed", got)
	}
	if got := ids["k8s:demo:k8s_sa_token:ci/deployer-token"].Status; got != audit.StatusNotChecked {
		t.Errorf("ci/deployer-token, whose Secrets were not read, is %q; want not-checked", got)
	}
	if got := ids["k8s:demo:k8s_service_account:ci/deployer"].Status; got != audit.StatusActive {
		t.Errorf("ci/deployer is %q", got)
	}
}

// TestTokenUseTrackingForbidden: a credential that may not read since
// when legacy token use is recorded leaves a gap saying so and what it
// costs, and no token is called unused for want of a label.
func TestTokenUseTrackingForbidden(t *testing.T) {
	r := recorded(t, demoWorld())
	r.ForbidTracking.Store(true)
	st, _ := openStore(t, fixedNow)
	snap := snapshot(t, st, "demo", r.Config())
	if snap.Status != audit.SnapshotPartial || len(snap.Gaps) != 1 || snap.Gaps[0].Status != 403 ||
		!strings.Contains(snap.Gaps[0].Reason, "forbidden: the credential may not get the ConfigMap kube-system/kube-apiserver-legacy-service-account-token-tracking") ||
		!strings.Contains(snap.Gaps[0].Reason, "not called unused") {
		t.Fatalf("status %s, gaps %+v; want one gap naming the ConfigMap", snap.Status, snap.Gaps)
	}
	tok := byID(t, st)["k8s:demo:k8s_sa_token:payments/old-batch-token"]
	if m, ok := rules(tok)["stale"]; ok || tok.Attributes["use_tracked_since"] != "unknown" {
		t.Errorf("stale %q, use_tracked_since %q; want no stale claim, unknown", m, tok.Attributes["use_tracked_since"])
	}
}

// TestTokenUseTrackedSince: a legacy token without a last-used label is
// called never used only where the API server recorded uses for its whole
// life: where tracking began after it was made, it is unused only since
// then; where the API server does not say (before Kubernetes 1.26), or
// its label is no date, nothing is claimed, where each was "never used
// since it was created", and stale, though it may have been used daily.
func TestTokenUseTrackedSince(t *testing.T) {
	const oldBatch = "k8s:demo:k8s_sa_token:payments/old-batch-token"
	for _, tc := range []struct {
		name    string
		world   func(w *k8stest.World)
		want    string // the stale finding of payments/old-batch-token ("" none)
		note    bool   // the snapshot says the API server does not track use
		tracked string
	}{
		{"tracked since before it was made", func(*k8stest.World) {}, "never used since it was created 2021-03-01", false, "2021-03-01T09:00:00Z"},
		{"tracked for 200 days", func(w *k8stest.World) { w.TokenUseTrackedSince = fixedNow.AddDate(0, 0, -200) },
			"not used since the API server began recording legacy token use on 2026-05-14, 200 days ago (it is older, and may have been used before); policy: 90", false, "2026-05-14T12:00:00Z"},
		{"tracked for 20 days", func(w *k8stest.World) { w.TokenUseTrackedSince = fixedNow.AddDate(0, 0, -20) }, "", false, "2026-11-10T12:00:00Z"},
		{"not tracked", func(w *k8stest.World) { w.TokenUseTrackedSince = time.Time{} }, "", true, "unknown"},
		{"a label that is no date", func(w *k8stest.World) {
			for i := range w.Secrets {
				if w.Secrets[i].Name == "old-batch-token" {
					w.Secrets[i].Labels = map[string]string{"kubernetes.io/legacy-token-last-used": "yesterday"}
				}
			}
		}, "", false, "unknown"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := demoWorld()
			tc.world(w)
			st, _ := openStore(t, fixedNow)
			snap := snapshot(t, st, "demo", recorded(t, w).Config())
			if snap.Status != audit.SnapshotComplete {
				t.Fatalf("status %s, gaps %+v", snap.Status, snap.Gaps)
			}
			tok := byID(t, st)[oldBatch]
			got := rules(tok)["stale"]
			if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Errorf("stale %q; want %q", got, tc.want)
			}
			if a := tok.Attributes["use_tracked_since"]; a != tc.tracked {
				t.Errorf("use_tracked_since %q, want %q", a, tc.tracked)
			}
			// What the review UI, `nhi identities` and `used:never` read:
			// never used only where uses were recorded for its whole life.
			never := tok.LastUsedAt == nil && audit.ReportsLastUse(tok.Kind, tok.Attributes[audit.AttrLastUseUnknown])
			if wantNever := tc.name == "tracked since before it was made"; never != wantNever {
				t.Errorf("reads as never used: %v, want %v (attributes %v)", never, wantNever, tok.Attributes)
			}
			if noted := slices.Contains(snap.Notes, k8sconn.NotTrackedNote); noted != tc.note {
				t.Errorf("notes %q; want the note that use is not tracked: %v", snap.Notes, tc.note)
			}
			if _, ok := rules(byID(t, st)["k8s:demo:k8s_sa_token:ci/deployer-token"])["stale"]; !ok {
				t.Error("ci/deployer-token, labelled last used 200 days ago, is not stale")
			}
		})
	}
}

// TestPartialNamespaceListNamespaceByNamespace: when the namespace list
// fails part way and the other lists are read namespace by namespace (the
// credential may not list them across all namespaces), each namespace is
// read once, where those both listed and named by an account were read
// twice, so their tokens were recorded twice and their Pods counted twice.
func TestPartialNamespaceListNamespaceByNamespace(t *testing.T) {
	r := recorded(t, demoWorld())
	r.ForbidClusterWide.Store(true)
	r.FailList.Store(2) // the namespace list's second page
	st, _ := openStore(t, fixedNow)
	snap := snapshot(t, st, "demo", r.Config())
	if snap.Status != audit.SnapshotPartial || len(snap.Gaps) != 1 || !strings.Contains(snap.Gaps[0].Reason, "cannot list namespaces") {
		t.Fatalf("status %s, gaps %+v; want partial, the namespace list its one gap", snap.Status, snap.Gaps)
	}
	// The first page named ci and payments: their 4 accounts and 2 tokens.
	if got := snap.Counts; got[audit.KindK8sServiceAccount] != 4 || got[audit.KindK8sSAToken] != 2 {
		t.Errorf("counts %v, want 4 accounts and 2 tokens", got)
	}
	if p := byID(t, st)["k8s:demo:k8s_service_account:ci/deployer"].Attributes["pods"]; p != "1" {
		t.Errorf("ci/deployer runs %s Pods, want 1", p)
	}
}

// TestNamedSecretsAreNotAllSecrets: a rule that names the objects it
// grants on (resourceNames) grants on those objects only: an account that
// may get one named secret cluster-wide does not "read secrets
// cluster-wide", where it was called overprivileged for it.
func TestNamedSecretsAreNotAllSecrets(t *testing.T) {
	w := demoWorld()
	w.ClusterRoles = append(w.ClusterRoles, rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "nhi-one-secret"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"secrets"}, ResourceNames: []string{"db-creds"}, Verbs: []string{"get"}}}})
	w.ClusterRoleBindings = append(w.ClusterRoleBindings, rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "runner-one-secret"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "nhi-one-secret"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: "shared", Name: "shared-runner"}}})
	r := recorded(t, w)
	st, _ := openStore(t, fixedNow)
	snapshot(t, st, "demo", r.Config())
	runner := byID(t, st)["k8s:demo:k8s_service_account:shared/shared-runner"]
	if got := runner.Attributes["permissions"]; got != "secrets[db-creds]: get cluster-wide" {
		t.Errorf("permissions %q; want the one secret named", got)
	}
	if m, ok := rules(runner)["overprivileged"]; ok {
		t.Errorf("overprivileged %q for one named secret", m)
	}
	if runner.Permissions["secrets"] != "get" {
		t.Errorf("permission secrets = %q; want get (of some secrets)", runner.Permissions["secrets"])
	}
}

// TestRBACNotReadIsNotNone: the credential may not list roles or role
// bindings in payments. Its accounts (default, whose RoleBinding there
// grants it secrets) are recorded with their permissions not read
// (policies_unknown, beside permissions_unknown naming the lists), so
// neither perm:none nor -perm:any takes them, where their empty maps
// read as accounts granted nothing; ci's, read in full, are as before.
func TestRBACNotReadIsNotNone(t *testing.T) {
	r := recorded(t, demoWorld())
	r.ForbidRBACIn.Store("payments")
	st, _ := openStore(t, fixedNow)
	if snap := snapshot(t, st, "demo", r.Config()); snap.Status != audit.SnapshotPartial {
		t.Fatalf("snapshot %s, want partial", snap.Status)
	}
	ids := byID(t, st)
	none, err := filter.Parse("perm:none or -perm:any", audit.Vocabulary)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"payments/default", "payments/api", "payments/old-batch"} {
		id := ids["k8s:demo:k8s_service_account:"+key]
		if id.Attributes[audit.AttrPoliciesUnknown] != "true" || !strings.Contains(id.Attributes["permissions_unknown"], "rolebindings in payments") {
			t.Errorf("%s: attributes %v, want its permissions not read", key, id.Attributes)
		}
		if none.Match(&id, &filter.Env{Now: fixedNow}) {
			t.Errorf("%s, whose role bindings were not read, matches %s", key, none)
		}
	}
	if id := ids["k8s:demo:k8s_service_account:ci/deployer"]; id.Attributes[audit.AttrPoliciesUnknown] != "" {
		t.Errorf("ci/deployer, read in full: %v", id.Attributes)
	}
}
