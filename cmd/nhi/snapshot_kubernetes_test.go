package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/connectors/kubernetes/k8stest"
)

// `nhi snapshot kubernetes` through the built binary, reading the recorded
// sample cluster on loopback through a kubeconfig, as kubectl would.

func recordedKubeconfig(t *testing.T, url string, contexts ...string) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: v1\nkind: Config\nclusters:\n- name: recorded\n  cluster: {server: %q, insecure-skip-tls-verify: true}\n", url)
	b.WriteString("users:\n- name: auditor\n  user: {token: recorded-world}\ncontexts:\n")
	for _, c := range contexts {
		fmt.Fprintf(&b, "- name: %s\n  context: {cluster: recorded, user: auditor}\n", c)
	}
	fmt.Fprintf(&b, "current-context: %s\n", contexts[0])
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestSnapshotKubernetes(t *testing.T) {
	t.Parallel()
	w := k8stest.Sample()
	w.Dated(time.Date(2021, 3, 1, 9, 0, 0, 0, time.UTC), nil)
	srv, err := k8stest.NewRecorded(w)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	kc := recordedKubeconfig(t, srv.URL, "prod", "staging")
	db := filepath.Join(t.TempDir(), "nhi.db")

	// KUBECONFIG and the current context, as kubectl.
	r := nhi(t, []string{"KUBECONFIG=" + kc}, "snapshot", "kubernetes", "--db", db)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"of k8s/prod: complete, 8 identities", "Read with: demo-auditor (groups system:authenticated)", "Server: Kubernetes v1.37.2", "Note: bound service account tokens"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "staging") {
		t.Errorf("only the current context should be read:\n%s", r.stdout)
	}
	if strings.Contains(r.stdout, "may list nothing") {
		t.Errorf("a credential that read everything told it may list nothing:\n%s", r.stdout)
	}
	// A credential no role binding names: every list forbidden, and the
	// run says what to do, not only ten refusals.
	srv.ForbidLists.Store(true)
	if r := nhi(t, []string{"KUBECONFIG=" + kc}, "snapshot", "kubernetes", "--db", filepath.Join(t.TempDir(), "none.db")); r.code != 0 ||
		!strings.Contains(r.stdout, "The credential may list nothing nhi reads in cluster prod: bind it to the read-only ClusterRole of docs/kubernetes.md") {
		t.Errorf("every list forbidden: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	srv.ForbidLists.Store(false)
	if r := nhi(t, nil, "diff", "--db", db); r.code != 1 || !strings.Contains(r.stderr, "k8s/prod has only one finished snapshot; take another to see what changed") {
		t.Errorf("diff after one snapshot: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = nhi(t, nil, "snapshot", "kubernetes", "--kubeconfig", kc, "--all-contexts", "--db", db)
	if r.code != 0 || !strings.Contains(r.stdout, "of k8s/prod: complete") || !strings.Contains(r.stdout, "of k8s/staging: complete") {
		t.Fatalf("--all-contexts: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// prod has two snapshots now, staging one, read after them.
	if r := nhi(t, nil, "diff", "--db", db); r.code != 0 || !strings.HasPrefix(r.stdout, "Snapshot 1 → 2 of k8s/prod: 0 new, 0 removed, 0 changed, 8 unchanged") ||
		!strings.Contains(r.stderr, "passed over, with a single snapshot: k8s/staging") {
		t.Errorf("diff: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = nhi(t, nil, "identities", "--db", db, "-o", "id", "--filter", "account:staging perm.secrets:get")
	for _, want := range []string{"k8s:staging:k8s_service_account:payments/default", "k8s:staging:k8s_service_account:ops/ops-bot", "k8s:staging:k8s_service_account:ci/deployer"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("perm.secrets:get lacks %s:\n%s%s", want, r.stdout, r.stderr)
		}
	}
	if strings.Contains(r.stdout, "old-batch") {
		t.Errorf("old-batch reads only pods:\n%s", r.stdout)
	}

	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--kubeconfig", kc, "--context", "nope"}, 1, `context "nope" is not in the kubeconfig (it has: prod, staging)`},
		{[]string{"--kubeconfig", kc, "--context", "prod", "--all-contexts"}, 2, "--context and --all-contexts cannot be combined"},
		{[]string{"--kubeconfig", filepath.Join(t.TempDir(), "missing")}, 2, "missing does not exist"}, // a mistake in the call, as every input file
	} {
		r := nhi(t, nil, append([]string{"snapshot", "kubernetes", "--db", db}, tc.args...)...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", tc.args, r.code, r.stderr, tc.code, tc.want)
		}
	}
}

// TestSnapshotKubernetesUnreachable: a cluster whose API server does not
// answer is said to have no snapshot taken, not a failed one, and a new
// evidence file is not created for it; into an existing file nothing is
// written.
func TestSnapshotKubernetesUnreachable(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "https://" + l.Addr().String()
	l.Close()
	kc := recordedKubeconfig(t, closed, "prod")
	db := filepath.Join(t.TempDir(), "nhi.db")
	check := func() {
		t.Helper()
		r := nhi(t, nil, "snapshot", "kubernetes", "--kubeconfig", kc, "--db", db)
		if r.code != 1 || !strings.Contains(r.stderr, "no snapshot of cluster prod was taken: cluster prod ("+closed+")") ||
			!strings.Contains(r.stderr, "nhi: nothing was recorded of cluster prod") || strings.Contains(r.stdout+r.stderr, "failed") {
			t.Errorf("an unreachable cluster: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
	}
	check()
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Errorf("an unreachable cluster created %s (%v)", db, err)
	}
	ok(t, "import", "--db", db, "--source", "slack", "--account", "ws", writeFile(t, "bots.csv", "key\nB01\n"))
	head := ok(t, "log", "head", "--db", db).stdout
	check()
	if s := ok(t, "snapshots", "--db", db).stdout; strings.Contains(s, "k8s/") {
		t.Errorf("an unreachable cluster left a snapshot:\n%s", s)
	}
	if after := ok(t, "log", "head", "--db", db).stdout; after != head {
		t.Errorf("an unreachable cluster wrote to the log: %s, was %s", after, head)
	}
}

// TestSnapshotKubernetesNewFileAsksOnce: the cluster checked before a new
// evidence file is created is not asked who the credential is again by
// its run: a first snapshot into a new file sends as many requests as one
// into an existing file.
func TestSnapshotKubernetesNewFileAsksOnce(t *testing.T) {
	t.Parallel()
	srv, err := k8stest.NewRecorded(k8stest.Sample())
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	kc := recordedKubeconfig(t, srv.URL, "prod")
	db := filepath.Join(t.TempDir(), "nhi.db")
	var requests []int64
	for range 2 {
		srv.Requests.Store(0)
		if r := nhi(t, nil, "snapshot", "kubernetes", "--kubeconfig", kc, "--db", db); r.code != 0 {
			t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		requests = append(requests, srv.Requests.Load())
	}
	if requests[0] != requests[1] {
		t.Errorf("%d requests into a new file, %d into an existing one, want alike", requests[0], requests[1])
	}
}
