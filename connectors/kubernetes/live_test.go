package kubernetes_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/connectors"
	k8sconn "github.com/nhi-audit/nhi/connectors/kubernetes"
	"github.com/nhi-audit/nhi/connectors/kubernetes/k8stest"
)

// One control plane serves every live test of the package: it takes
// seconds to start, and the tests read different namespaces of it.
var (
	liveOnce    sync.Once
	liveCluster *k8stest.Cluster
	liveErr     error
	liveDir     string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if liveCluster != nil {
		liveCluster.Stop()
	}
	if liveDir != "" {
		os.RemoveAll(liveDir)
	}
	os.Exit(code)
}

// live returns the running control plane with the sample world applied
// and the ci/deployer-token used once. Under -short it skips, saying why;
// without the servers built it fails, naming the command that builds them.
func live(t *testing.T) *k8stest.Cluster {
	t.Helper()
	if testing.Short() {
		t.Skip(k8stest.ErrShort)
	}
	liveOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		if liveDir, liveErr = os.MkdirTemp("", "nhi-k8s-"); liveErr != nil {
			return
		}
		if liveCluster, liveErr = k8stest.Start(ctx, liveDir); liveErr != nil {
			return
		}
		cs := kubernetes.NewForConfigOrDie(liveCluster.Config(k8stest.Admin))
		if liveErr = k8stest.Apply(ctx, cs, k8stest.Sample()); liveErr != nil {
			return
		}
		liveErr = useToken(ctx, liveCluster, cs, "ci", "deployer-token")
	})
	if liveErr != nil {
		t.Fatal(liveErr)
	}
	return liveCluster
}

// useToken makes one authenticated call with a legacy token and waits
// for the API server to label it used.
func useToken(ctx context.Context, c *k8stest.Cluster, cs kubernetes.Interface, ns, name string) error {
	tok, err := k8stest.TokenOf(ctx, cs, ns, name)
	if err != nil {
		return err
	}
	cfg := c.Config(k8stest.Admin)
	cfg.BearerToken = tok
	as := kubernetes.NewForConfigOrDie(cfg)
	if _, err := as.CoreV1().Namespaces().List(ctx, metav1.ListOptions{Limit: 1}); err != nil {
		return fmt.Errorf("calling as %s/%s: %w", ns, name, err)
	}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		s, err := cs.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if s.Labels["kubernetes.io/legacy-token-last-used"] != "" {
			return nil
		}
	}
	return fmt.Errorf("secret %s/%s was not labelled kubernetes.io/legacy-token-last-used after a call", ns, name)
}

// later is when findings are evaluated: 45 days after the objects were
// made, so a legacy token never used since is stale under the default
// policy (never used, created more than 30 days ago).
var later = time.Now().AddDate(0, 0, 45)

func openStore(t testing.TB, now time.Time) (*audit.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "nhi.db")
	st, err := audit.Open(context.Background(), path, audit.OpenOptions{Create: true, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st, path
}

func snapshot(t testing.TB, st *audit.Store, name string, cfg *rest.Config) *audit.Snapshot {
	t.Helper()
	c, err := k8sconn.New(name, cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.SetPageSize(2) // every list takes several pages: limit/continue is exercised
	snap, err := connectors.Snapshot(context.Background(), st, c, "test")
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

func byID(t *testing.T, st *audit.Store) map[string]audit.Identity {
	t.Helper()
	ids, err := st.Identities(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]audit.Identity{}
	for _, id := range ids {
		out[id.ID] = id
	}
	return out
}

func rules(id audit.Identity) map[string]string {
	out := map[string]string{}
	for _, f := range id.Findings {
		out[f.Rule] = f.Message
	}
	return out
}

// TestLiveSampleCluster snapshots the sample world from a real API server
// as an administrator and checks what an auditor would: the accounts and
// tokens, their effective permissions and the findings.
func TestLiveSampleCluster(t *testing.T) {
	c := live(t)
	st, _ := openStore(t, later)
	snap := snapshot(t, st, "sample", c.Config(k8stest.Admin))
	if snap.Status != audit.SnapshotComplete {
		t.Fatalf("status %s, gaps %v", snap.Status, snap.Gaps)
	}
	// tools/k8s/build.sh stamps the release into the servers it builds:
	// the snapshot records the version the server reports.
	if v, err := kubernetes.NewForConfigOrDie(c.Config(k8stest.Admin)).Discovery().ServerVersion(); err != nil || v.GitVersion != k8stest.Version || snap.ServerVersion != k8stest.Version {
		t.Errorf("server version %q, the server says %+v (%v); want %s", snap.ServerVersion, v, err, k8stest.Version)
	}
	if !strings.HasPrefix(snap.Credential, k8stest.Admin+" ") {
		t.Errorf("credential %q, want the SelfSubjectReview user %s", snap.Credential, k8stest.Admin)
	}
	if snap.APIURL != c.Host {
		t.Errorf("API URL %q, want %q", snap.APIURL, c.Host)
	}
	if len(snap.Notes) != 1 || !strings.Contains(snap.Notes[0], "bound service account tokens") {
		t.Errorf("notes %q, want the one note about bound tokens", snap.Notes)
	}
	ids := byID(t, st)
	id := func(kind, key string) audit.Identity {
		t.Helper()
		full := "k8s:sample:" + kind + ":" + key
		got, ok := ids[full]
		if !ok {
			t.Fatalf("no identity %s", full)
		}
		return got
	}
	deployer := id("k8s_service_account", "ci/deployer")
	if deployer.Attributes["permissions"] != "cluster-admin" {
		t.Errorf("deployer permissions %q, want cluster-admin", deployer.Attributes["permissions"])
	}
	if w := deployer.Attributes["workloads"]; w != "CronJob/nightly-deploy" {
		t.Errorf("deployer workloads %q, want the CronJob through its Job", w)
	}
	if m := rules(deployer)["overprivileged"]; !strings.Contains(m, "cluster-admin by ClusterRoleBinding/ci-deployer") {
		t.Errorf("deployer overprivileged %q", m)
	}
	def := id("k8s_service_account", "payments/default")
	if got := def.Attributes["permissions"]; got != "pods, secrets: get,list in payments" {
		t.Errorf("payments/default permissions %q", got)
	}
	if _, ok := rules(def)["default-sa-with-permissions"]; !ok {
		t.Errorf("payments/default findings %v, want default-sa-with-permissions", def.Findings)
	}
	if def.Permissions["secrets"] != "get,list" {
		t.Errorf("payments/default permission secrets = %q", def.Permissions["secrets"])
	}
	api := id("k8s_service_account", "payments/api")
	if api.Attributes["automount_token"] != "false" || api.Attributes["workloads"] != "Deployment/api" || api.Attributes["pods"] != "2" {
		t.Errorf("payments/api attrs %v", api.Attributes)
	}
	if _, ok := rules(api)["automount-with-permissions"]; ok {
		t.Errorf("payments/api has automount disabled, yet %v", api.Findings)
	}
	if !strings.Contains(api.Attributes["bindings"], "via group system:serviceaccounts:payments") {
		t.Errorf("payments/api bindings %q: want the group binding of the aggregated role", api.Attributes["bindings"])
	}
	old := id("k8s_service_account", "payments/old-batch")
	if _, ok := rules(old)["unused"]; !ok {
		t.Errorf("payments/old-batch findings %v, want unused", old.Findings)
	}
	if _, ok := rules(old)["automount-with-permissions"]; !ok {
		t.Errorf("payments/old-batch findings %v, want automount-with-permissions (reads pods, automount unset)", old.Findings)
	}
	if s := old.Suggestions; len(s) == 0 || s[0].Owner != "payments-team" {
		t.Errorf("payments/old-batch suggestions %v, want the namespace's owner label", s)
	}
	bot := id("k8s_service_account", "ops/ops-bot")
	if bot.Attributes["permissions"] != "*/* in ops" || !strings.Contains(rules(bot)["overprivileged"], "*/* in ops") {
		t.Errorf("ops/ops-bot permissions %q, findings %v", bot.Attributes["permissions"], bot.Findings)
	}
	shared := id("k8s_service_account", "shared/shared-runner")
	if m := rules(shared)["reuse"]; !strings.Contains(m, "3 workloads") {
		t.Errorf("shared/shared-runner reuse %q (workloads %q)", m, shared.Attributes["workloads"])
	}
	used := id("k8s_sa_token", "ci/deployer-token")
	if used.LastUsedAt == nil || used.Attributes["service_account"] != "deployer" {
		t.Errorf("ci/deployer-token last used %v, account %q", used.LastUsedAt, used.Attributes["service_account"])
	}
	if _, ok := rules(used)["no-expiry"]; !ok {
		t.Errorf("legacy token findings %v, want no-expiry", used.Findings)
	}
	never := id("k8s_sa_token", "payments/old-batch-token")
	if never.LastUsedAt != nil || !strings.Contains(rules(never)["stale"], "never used") {
		t.Errorf("payments/old-batch-token last used %v, findings %v", never.LastUsedAt, never.Findings)
	}
	if _, ok := ids["k8s:sample:k8s_sa_token:payments/db-password"]; ok {
		t.Error("an Opaque secret was recorded as a token")
	}
	for _, got := range ids {
		if strings.Contains(got.ID, ":User:") || strings.Contains(got.ID, "alice") {
			t.Errorf("a person became an identity: %s", got.ID)
		}
	}
}

// TestLiveCanaryNeverStored: Secret data never reaches the evidence file
// or its write-ahead log (the connector lists Secrets through the metadata
// API, which returns none).
func TestLiveCanaryNeverStored(t *testing.T) {
	c := live(t)
	st, path := openStore(t, later)
	snapshot(t, st, "sample", c.Config(k8stest.Admin))
	for _, p := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(k8stest.Canary)) {
			t.Errorf("%s holds the canary Secret value", filepath.Base(p))
		}
		tok, _ := k8stest.TokenOf(context.Background(), kubernetes.NewForConfigOrDie(c.Config(k8stest.Admin)), "ci", "deployer-token")
		if tok == "" || bytes.Contains(b, []byte(tok)) {
			t.Errorf("%s holds a token (or the token could not be read)", filepath.Base(p))
		}
	}
}

// TestLiveForbiddenIsAGap reads as an auditor who may list everything but
// Secrets, and Pods only in some namespaces: each refusal is a gap naming
// verb, resource and namespace, the snapshot is partial, and an account's
// workloads are not claimed where Pods were not read.
func TestLiveForbiddenIsAGap(t *testing.T) {
	c := live(t)
	ctx := context.Background()
	cs := kubernetes.NewForConfigOrDie(c.Config(k8stest.Admin))
	read := []string{"get", "list", "watch"}
	role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "nhi-test-partial"}, Rules: []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"namespaces", "serviceaccounts"}, Verbs: read},
		{APIGroups: []string{"apps"}, Resources: []string{"replicasets"}, Verbs: read},
		{APIGroups: []string{"batch"}, Resources: []string{"jobs"}, Verbs: read},
		{APIGroups: []string{"rbac.authorization.k8s.io"}, Resources: []string{"roles", "rolebindings", "clusterroles", "clusterrolebindings"}, Verbs: read},
	}}
	podReader := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "nhi-test-pods"}, Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: read}}}
	for _, r := range []*rbacv1.ClusterRole{role, podReader} {
		if _, err := cs.RbacV1().ClusterRoles().Create(ctx, r, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	auditor := []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: k8stest.Auditor}}
	if _, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "nhi-test-partial"},
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name}, Subjects: auditor}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, ns := range []string{"ci", "ops", "shared", "default", "kube-system", "kube-public", "kube-node-lease"} {
		if _, err := cs.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "nhi-test-pods"},
			RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: podReader.Name}, Subjects: auditor}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		cs.RbacV1().ClusterRoleBindings().Delete(ctx, "nhi-test-partial", metav1.DeleteOptions{})
		cs.RbacV1().ClusterRoles().Delete(ctx, role.Name, metav1.DeleteOptions{})
		cs.RbacV1().ClusterRoles().Delete(ctx, podReader.Name, metav1.DeleteOptions{})
		for _, ns := range []string{"ci", "ops", "shared", "default", "kube-system", "kube-public", "kube-node-lease"} {
			cs.RbacV1().RoleBindings(ns).Delete(ctx, "nhi-test-pods", metav1.DeleteOptions{})
		}
	})
	// RBAC takes effect through the authorizer's informers: wait for it.
	waitAllowed(t, c, "pods", "ci")

	st, _ := openStore(t, later)
	snap := snapshot(t, st, "sample", c.Config(k8stest.Auditor))
	if snap.Status != audit.SnapshotPartial {
		t.Fatalf("status %s, want partial", snap.Status)
	}
	if !strings.HasPrefix(snap.Credential, k8stest.Auditor+" ") {
		t.Errorf("credential %q", snap.Credential)
	}
	var reasons []string
	for _, g := range snap.Gaps {
		reasons = append(reasons, g.Reason)
	}
	all := strings.Join(reasons, "\n")
	for _, want := range []string{
		"forbidden: the credential may not list secrets in namespace payments",
		"forbidden: the credential may not list pods in namespace payments",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("gaps:\n%s\nwant %q", all, want)
		}
	}
	if strings.Contains(all, "pods in namespace ci") {
		t.Errorf("pods in ci were readable, yet a gap says otherwise:\n%s", all)
	}
	// The snapshot's reach (the report's Completeness) says the same per
	// namespace: no namespace was read in full without its Secrets.
	if r := snap.Reach; r == nil || r.Unit != "namespaces" || r.Read != 0 ||
		!slices.Contains(r.NotRead, "namespace payments: secrets, pods not listed") || !slices.Contains(r.NotRead, "namespace ci: secrets not listed") {
		t.Errorf("reach %+v", snap.Reach)
	}
	ids := byID(t, st)
	old := ids["k8s:sample:k8s_service_account:payments/old-batch"]
	if old.Attributes["workloads_read"] != "false" {
		t.Errorf("payments pods were not read, yet workloads_read = %q", old.Attributes["workloads_read"])
	}
	if _, ok := rules(old)["unused"]; ok {
		t.Error("unused fired where Pods could not be read: a gap read as zero")
	}
	if runner := ids["k8s:sample:k8s_service_account:shared/shared-runner"]; runner.Attributes["workload_count"] != "3" {
		t.Errorf("shared-runner workloads %q: pods in shared were readable", runner.Attributes["workloads"])
	}
	for id := range ids {
		if strings.Contains(id, ":k8s_sa_token:") {
			t.Errorf("token %s recorded without the right to list secrets", id)
		}
	}
}

func waitAllowed(t *testing.T, c *k8stest.Cluster, resource, ns string) {
	t.Helper()
	cs := kubernetes.NewForConfigOrDie(c.Config(k8stest.Auditor))
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if _, err := cs.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{Limit: 1}); err == nil {
			return
		}
	}
	t.Fatalf("the auditor still may not list %s in %s", resource, ns)
}

// TestLiveRevokedCredential: a token the API server does not accept (401:
// expired, revoked) fails the run saying so and what to do, and records
// no snapshot, where it recorded a partial snapshot of 0 identities
// whose every list said "Unauthorized".
func TestLiveRevokedCredential(t *testing.T) {
	c := live(t)
	cfg := c.Config(k8stest.Auditor)
	cfg.BearerToken = "revoked-token-CANARY-0000"
	st, _ := openStore(t, later)
	conn, err := k8sconn.New("sample", cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = connectors.Snapshot(context.Background(), st, conn, "test")
	if err == nil || !strings.Contains(err.Error(), "rejected the credential (401") || !strings.Contains(err.Error(), "expired or revoked") || strings.Contains(err.Error(), "CANARY") {
		t.Errorf("a revoked token: %v", err)
	}
	if snaps, _ := st.Snapshots(context.Background()); len(snaps) != 0 {
		t.Errorf("a revoked token recorded %d snapshot(s): %+v", len(snaps), snaps[0])
	}
}

// expireAfterFirstPage is a transport that, once the first page of the
// cluster-wide list of service accounts has been answered, changes the
// accounts (ci/a-expiry-new made, shared/expiry-old deleted) and compacts
// etcd, so the list's next page is answered 410 Expired, as a list that
// outlives the API server's compaction is. It counts the 410s it saw.
type expireAfterFirstPage struct {
	next    http.RoundTripper
	on      func() error
	once    sync.Once
	err     error
	expired atomic.Int64
}

func (e *expireAfterFirstPage) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := e.next.RoundTrip(req)
	if err != nil || req.URL.Path != "/api/v1/serviceaccounts" {
		return resp, err
	}
	if resp.StatusCode == http.StatusGone {
		e.expired.Add(1)
	}
	if resp.StatusCode == http.StatusOK && req.URL.Query().Get("continue") == "" && req.URL.Query().Get("limit") != "" {
		e.once.Do(func() { e.err = e.on() })
	}
	return resp, err
}

// TestLiveExpiredContinueRestartsTheList: a list whose continue token
// expires part way (410 Gone, reason Expired: etcd was compacted past it)
// is read again from the start, at one point in time, where the whole list
// became a gap and the snapshot partial. An account made meanwhile whose
// name sorts before the expired token's place is listed (pages stitched
// from two times would miss it), one deleted meanwhile is not.
func TestLiveExpiredContinueRestartsTheList(t *testing.T) {
	c := live(t)
	ctx := context.Background()
	cs := kubernetes.NewForConfigOrDie(c.Config(k8stest.Admin))
	if _, err := cs.CoreV1().ServiceAccounts("shared").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "expiry-old"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cs.CoreV1().ServiceAccounts("ci").Delete(ctx, "a-expiry-new", metav1.DeleteOptions{})
		cs.CoreV1().ServiceAccounts("shared").Delete(ctx, "expiry-old", metav1.DeleteOptions{})
	})
	hook := &expireAfterFirstPage{on: func() error {
		if _, err := cs.CoreV1().ServiceAccounts("ci").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "a-expiry-new"}}, metav1.CreateOptions{}); err != nil {
			return err
		}
		if err := cs.CoreV1().ServiceAccounts("shared").Delete(ctx, "expiry-old", metav1.DeleteOptions{}); err != nil {
			return err
		}
		return c.CompactEtcd(ctx)
	}}
	cfg := c.Config(k8stest.Admin)
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { hook.next = rt; return hook })
	st, _ := openStore(t, later)
	snap := snapshot(t, st, "sample", cfg)
	if hook.err != nil {
		t.Fatal(hook.err)
	}
	if hook.expired.Load() == 0 {
		t.Fatal("the list of service accounts never met an expired continue token: the test did not test it")
	}
	if snap.Status != audit.SnapshotComplete || len(snap.Gaps) != 0 {
		t.Fatalf("status %s, gaps %+v; want complete, the expired list read again", snap.Status, snap.Gaps)
	}
	ids := byID(t, st)
	if _, ok := ids["k8s:sample:k8s_service_account:ci/a-expiry-new"]; !ok {
		t.Error("ci/a-expiry-new, made before the list was read again, is missing")
	}
	if _, ok := ids["k8s:sample:k8s_service_account:shared/expiry-old"]; ok {
		t.Error("shared/expiry-old, deleted before the list was read again, was recorded")
	}
	all, err := cs.CoreV1().ServiceAccounts("").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n := snap.Counts[audit.KindK8sServiceAccount]; n != len(all.Items) {
		t.Errorf("%d accounts recorded, the cluster has %d", n, len(all.Items))
	}
}

// TestLiveBindingToMissingRole: a RoleBinding to a Role that does not
// exist (the API server accepts it) grants nothing and says so, where the
// account's permissions were called unknown though every role was read.
func TestLiveBindingToMissingRole(t *testing.T) {
	c := live(t)
	ctx := context.Background()
	cs := kubernetes.NewForConfigOrDie(c.Config(k8stest.Admin))
	if _, err := cs.RbacV1().RoleBindings("ops").Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "nhi-test-dangling"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "nhi-test-ghost"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: "ops", Name: "ops-bot"}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.RbacV1().RoleBindings("ops").Delete(ctx, "nhi-test-dangling", metav1.DeleteOptions{}) })
	st, _ := openStore(t, later)
	snapshot(t, st, "sample", c.Config(k8stest.Admin))
	bot := byID(t, st)["k8s:sample:k8s_service_account:ops/ops-bot"]
	if u := bot.Attributes["permissions_unknown"]; u != "" {
		t.Errorf("permissions_unknown %q, yet every role was read", u)
	}
	if b := bot.Attributes["bindings"]; !strings.Contains(b, "RoleBinding/ops/nhi-test-dangling -> Role/ops/nhi-test-ghost (no such role: grants nothing until one is made)") {
		t.Errorf("bindings %q: want the binding to the missing role, saying it grants nothing", b)
	}
	if p := bot.Attributes["permissions"]; p != "*/* in ops" {
		t.Errorf("permissions %q, want those of its other binding only", p)
	}
}

// TestLiveDocumentedRole: the ClusterRole and binding docs/kubernetes.md
// asks for are enough: the auditor bound by them reads a complete
// snapshot, since when legacy token use is recorded included.
func TestLiveDocumentedRole(t *testing.T) {
	c := live(t)
	ctx := context.Background()
	doc, err := os.ReadFile("../../docs/kubernetes.md")
	if err != nil {
		t.Fatal(err)
	}
	_, block, _ := strings.Cut(string(doc), "```yaml\n")
	block, _, _ = strings.Cut(block, "```")
	var role rbacv1.ClusterRole
	var binding rbacv1.ClusterRoleBinding
	dec := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(block), 4096)
	if err := dec.Decode(&role); err != nil {
		t.Fatal(err)
	}
	if err := dec.Decode(&binding); err != nil {
		t.Fatal(err)
	}
	if role.Name != "nhi-audit" || binding.Subjects[0].Name != k8stest.Auditor {
		t.Fatalf("the docs' role %q binds %v; want nhi-audit bound to %s", role.Name, binding.Subjects, k8stest.Auditor)
	}
	cs := kubernetes.NewForConfigOrDie(c.Config(k8stest.Admin))
	if _, err := cs.RbacV1().ClusterRoles().Create(ctx, &role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, &binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cs.RbacV1().ClusterRoleBindings().Delete(ctx, binding.Name, metav1.DeleteOptions{})
		cs.RbacV1().ClusterRoles().Delete(ctx, role.Name, metav1.DeleteOptions{})
	})
	// RBAC takes effect through the authorizer's informers: wait for the
	// one right only this role gives.
	as := kubernetes.NewForConfigOrDie(c.Config(k8stest.Auditor))
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if _, err := as.CoreV1().ConfigMaps("kube-system").Get(ctx, "kube-apiserver-legacy-service-account-token-tracking", metav1.GetOptions{}); err == nil {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("the auditor still may not read the tracking ConfigMap: %v", err)
		}
	}
	st, _ := openStore(t, later)
	snap := snapshot(t, st, "sample", c.Config(k8stest.Auditor))
	if snap.Status != audit.SnapshotComplete || len(snap.Gaps) != 0 {
		t.Fatalf("status %s, gaps %+v; want complete with the documented role", snap.Status, snap.Gaps)
	}
	tok := byID(t, st)["k8s:sample:k8s_sa_token:payments/old-batch-token"]
	if s := tok.Attributes["use_tracked_since"]; s == "" || s == "unknown" {
		t.Errorf("use_tracked_since %q, want when the API server began recording", s)
	}
	if !strings.Contains(rules(tok)["stale"], "never used since it was created") {
		t.Errorf("old-batch-token findings %v, want stale: never used (made after the tracking began)", tok.Findings)
	}
}
