package k8stest

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
)

// Canary is a value the sample world keeps in Secret data. It must never
// reach the evidence file: tests look for it in the database and its WAL.
const Canary = "NHI-K8S-CANARY-7f3a9c1e"

// World is a set of Kubernetes objects: the sample cluster, or a generated
// one for benchmarks. Owner references name their owner by kind and name;
// Apply and the recorded server fill in UIDs.
type World struct {
	Namespaces          []corev1.Namespace
	ServiceAccounts     []corev1.ServiceAccount
	Secrets             []corev1.Secret
	Deployments         []appsv1.Deployment
	ReplicaSets         []appsv1.ReplicaSet
	StatefulSets        []appsv1.StatefulSet
	DaemonSets          []appsv1.DaemonSet
	CronJobs            []batchv1.CronJob
	Jobs                []batchv1.Job
	Pods                []corev1.Pod
	ClusterRoles        []rbacv1.ClusterRole
	ClusterRoleBindings []rbacv1.ClusterRoleBinding
	Roles               []rbacv1.Role
	RoleBindings        []rbacv1.RoleBinding
	// TokenUseTrackedSince is when the API server began labelling legacy
	// tokens with their last use (its ConfigMap
	// kube-system/kube-apiserver-legacy-service-account-token-tracking);
	// zero: it does not, as before Kubernetes 1.26. A live API server
	// keeps its own.
	TokenUseTrackedSince time.Time
}

func om(ns, name string, labels map[string]string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels}
}

func owned(ns, name, kind, owner string) metav1.ObjectMeta {
	t := true
	m := om(ns, name, nil)
	apiVersion := "apps/v1"
	if kind == "Job" || kind == "CronJob" {
		apiVersion = "batch/v1"
	}
	m.OwnerReferences = []metav1.OwnerReference{{APIVersion: apiVersion, Kind: kind, Name: owner, Controller: &t}}
	return m
}

var container = []corev1.Container{{Name: "app", Image: "registry.example/app:1"}}

func podSpec(sa string) corev1.PodSpec {
	return corev1.PodSpec{ServiceAccountName: sa, Containers: container, RestartPolicy: corev1.RestartPolicyAlways}
}

func template(app, sa string) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": app}}, Spec: podSpec(sa)}
}

func selector(app string) *metav1.LabelSelector {
	return &metav1.LabelSelector{MatchLabels: map[string]string{"app": app}}
}

func sa(ns, name string, automount *bool, labels map[string]string) corev1.ServiceAccount {
	return corev1.ServiceAccount{ObjectMeta: om(ns, name, labels), AutomountServiceAccountToken: automount}
}

func tokenSecret(ns, name, account string) corev1.Secret {
	m := om(ns, name, nil)
	m.Annotations = map[string]string{corev1.ServiceAccountNameKey: account}
	return corev1.Secret{ObjectMeta: m, Type: corev1.SecretTypeServiceAccountToken, StringData: map[string]string{"canary": Canary}}
}

// Sample is the sample cluster (docs/kubernetes.md):
//   - ci: deployer, bound to cluster-admin, runs the nightly-deploy CronJob;
//     its legacy token is used;
//   - payments (label owner=payments-team): the default account reads
//     secrets; api runs the api Deployment with automount disabled;
//     old-batch runs nothing and has a never-used legacy token; every
//     account of the namespace reads pods through an aggregated ClusterRole
//     bound to the group system:serviceaccounts:payments;
//   - ops: ops-bot holds a wildcard Role; a person and a group are bound
//     there too (context, not identities);
//   - shared: shared-runner runs three unrelated workloads.
func Sample() *World {
	f := false
	w := &World{
		Namespaces: []corev1.Namespace{
			{ObjectMeta: om("", "ci", map[string]string{"team": "platform"})},
			{ObjectMeta: om("", "payments", map[string]string{"owner": "payments-team"})},
			{ObjectMeta: om("", "ops", nil)},
			{ObjectMeta: om("", "shared", nil)},
		},
		ServiceAccounts: []corev1.ServiceAccount{
			sa("ci", "deployer", nil, map[string]string{"owner": "dana"}),
			sa("payments", "default", nil, nil),
			sa("payments", "api", &f, nil),
			sa("payments", "old-batch", nil, nil),
			sa("ops", "ops-bot", nil, nil),
			sa("shared", "shared-runner", nil, nil),
		},
		Secrets: []corev1.Secret{
			tokenSecret("ci", "deployer-token", "deployer"),
			tokenSecret("payments", "old-batch-token", "old-batch"),
			{ObjectMeta: om("payments", "db-password", nil), Type: corev1.SecretTypeOpaque, StringData: map[string]string{"password": Canary}},
		},
		CronJobs: []batchv1.CronJob{{ObjectMeta: om("ci", "nightly-deploy", nil), Spec: batchv1.CronJobSpec{Schedule: "0 3 * * *",
			JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{ServiceAccountName: "deployer", Containers: container, RestartPolicy: corev1.RestartPolicyNever}}}}}}},
		Jobs: []batchv1.Job{{ObjectMeta: owned("ci", "nightly-deploy-29000000", "CronJob", "nightly-deploy"),
			Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{ServiceAccountName: "deployer", Containers: container, RestartPolicy: corev1.RestartPolicyNever}}}}},
		Deployments: []appsv1.Deployment{
			{ObjectMeta: om("payments", "api", nil), Spec: appsv1.DeploymentSpec{Selector: selector("api"), Template: template("api", "api")}},
			{ObjectMeta: om("shared", "web", nil), Spec: appsv1.DeploymentSpec{Selector: selector("web"), Template: template("web", "shared-runner")}},
		},
		ReplicaSets: []appsv1.ReplicaSet{
			{ObjectMeta: owned("payments", "api-6d4cf56db6", "Deployment", "api"), Spec: appsv1.ReplicaSetSpec{Selector: selector("api"), Template: template("api", "api")}},
			{ObjectMeta: owned("shared", "web-7b9f8c", "Deployment", "web"), Spec: appsv1.ReplicaSetSpec{Selector: selector("web"), Template: template("web", "shared-runner")}},
		},
		StatefulSets: []appsv1.StatefulSet{{ObjectMeta: om("shared", "queue", nil), Spec: appsv1.StatefulSetSpec{Selector: selector("queue"), Template: template("queue", "shared-runner")}}},
		DaemonSets:   []appsv1.DaemonSet{{ObjectMeta: om("shared", "log-agent", nil), Spec: appsv1.DaemonSetSpec{Selector: selector("log-agent"), Template: template("log-agent", "shared-runner")}}},
		ClusterRoles: []rbacv1.ClusterRole{
			// The API server makes cluster-admin itself (Apply leaves it be);
			// a recorded world needs it written down.
			{ObjectMeta: om("", "cluster-admin", map[string]string{"kubernetes.io/bootstrapping": "rbac-defaults"}),
				Rules: []rbacv1.PolicyRule{{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"*"}}, {NonResourceURLs: []string{"*"}, Verbs: []string{"*"}}}},
			{ObjectMeta: om("", "nhi-sample-pod-reader", map[string]string{"nhi.example/aggregate-to-sample-readers": "true"}),
				Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list"}}}},
			{ObjectMeta: om("", "nhi-sample-readers", nil), AggregationRule: &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{
				{MatchLabels: map[string]string{"nhi.example/aggregate-to-sample-readers": "true"}}}}},
		},
		ClusterRoleBindings: []rbacv1.ClusterRoleBinding{
			{ObjectMeta: om("", "ci-deployer", nil), RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
				Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: "ci", Name: "deployer"}}},
		},
		Roles: []rbacv1.Role{
			{ObjectMeta: om("payments", "secret-reader", nil), Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get", "list"}}}},
			{ObjectMeta: om("ops", "everything", nil), Rules: []rbacv1.PolicyRule{{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"*"}}}},
		},
		RoleBindings: []rbacv1.RoleBinding{
			{ObjectMeta: om("payments", "default-reads-secrets", nil), RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "secret-reader"},
				Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: "payments", Name: "default"}}},
			{ObjectMeta: om("payments", "all-accounts-read-pods", nil), RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "nhi-sample-readers"},
				Subjects: []rbacv1.Subject{{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "system:serviceaccounts:payments"}}},
			{ObjectMeta: om("ops", "ops-bot-everything", nil), RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "everything"},
				Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: "ops", Name: "ops-bot"}}},
			{ObjectMeta: om("ops", "ops-admins", nil), RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "admin"},
				Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "alice@example.com"}, {Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "sre"}}},
		},
	}
	for i, p := range []struct{ ns, name, kind, owner, sa string }{
		{"ci", "nightly-deploy-29000000-x7k2p", "Job", "nightly-deploy-29000000", "deployer"},
		{"payments", "api-6d4cf56db6-a1", "ReplicaSet", "api-6d4cf56db6", "api"},
		{"payments", "api-6d4cf56db6-b2", "ReplicaSet", "api-6d4cf56db6", "api"},
		{"shared", "web-7b9f8c-q1", "ReplicaSet", "web-7b9f8c", "shared-runner"},
		{"shared", "queue-0", "StatefulSet", "queue", "shared-runner"},
		{"shared", "log-agent-n1", "DaemonSet", "log-agent", "shared-runner"},
	} {
		_ = i
		w.Pods = append(w.Pods, corev1.Pod{ObjectMeta: owned(p.ns, p.name, p.kind, p.owner), Spec: podSpec(p.sa)})
	}
	return w
}

// Apply creates w's objects through the API, owners before what they own
// (owner references get their owner's UID), and waits until the token
// controller has filled every legacy token Secret.
func Apply(ctx context.Context, cs kubernetes.Interface, w *World) error {
	uids := map[string]types.UID{} // kind/ns/name
	fix := func(m *metav1.ObjectMeta) {
		for i := range m.OwnerReferences {
			r := &m.OwnerReferences[i]
			r.UID = uids[r.Kind+"/"+m.Namespace+"/"+r.Name]
		}
	}
	note := func(kind string, m metav1.ObjectMeta) { uids[kind+"/"+m.Namespace+"/"+m.Name] = m.UID }
	opts := metav1.CreateOptions{}
	for _, o := range w.Namespaces {
		if _, err := cs.CoreV1().Namespaces().Create(ctx, &o, opts); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("namespace %s: %w", o.Name, err)
		}
	}
	for _, o := range w.ServiceAccounts {
		if _, err := cs.CoreV1().ServiceAccounts(o.Namespace).Create(ctx, &o, opts); err != nil {
			if !apierrors.IsAlreadyExists(err) {
				return fmt.Errorf("serviceaccount %s/%s: %w", o.Namespace, o.Name, err)
			}
			// default exists already: update it as the world says.
			cur, err := cs.CoreV1().ServiceAccounts(o.Namespace).Get(ctx, o.Name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			cur.Labels, cur.AutomountServiceAccountToken = o.Labels, o.AutomountServiceAccountToken
			if _, err := cs.CoreV1().ServiceAccounts(o.Namespace).Update(ctx, cur, metav1.UpdateOptions{}); err != nil {
				return err
			}
		}
	}
	for _, o := range w.Deployments {
		got, err := cs.AppsV1().Deployments(o.Namespace).Create(ctx, &o, opts)
		if err != nil {
			return err
		}
		note("Deployment", got.ObjectMeta)
	}
	for _, o := range w.StatefulSets {
		got, err := cs.AppsV1().StatefulSets(o.Namespace).Create(ctx, &o, opts)
		if err != nil {
			return err
		}
		note("StatefulSet", got.ObjectMeta)
	}
	for _, o := range w.DaemonSets {
		got, err := cs.AppsV1().DaemonSets(o.Namespace).Create(ctx, &o, opts)
		if err != nil {
			return err
		}
		note("DaemonSet", got.ObjectMeta)
	}
	for _, o := range w.CronJobs {
		got, err := cs.BatchV1().CronJobs(o.Namespace).Create(ctx, &o, opts)
		if err != nil {
			return err
		}
		note("CronJob", got.ObjectMeta)
	}
	for _, o := range w.ReplicaSets {
		fix(&o.ObjectMeta)
		got, err := cs.AppsV1().ReplicaSets(o.Namespace).Create(ctx, &o, opts)
		if err != nil {
			return err
		}
		note("ReplicaSet", got.ObjectMeta)
	}
	for _, o := range w.Jobs {
		fix(&o.ObjectMeta)
		got, err := cs.BatchV1().Jobs(o.Namespace).Create(ctx, &o, opts)
		if err != nil {
			return err
		}
		note("Job", got.ObjectMeta)
	}
	for _, o := range w.Pods {
		fix(&o.ObjectMeta)
		if _, err := cs.CoreV1().Pods(o.Namespace).Create(ctx, &o, opts); err != nil {
			return fmt.Errorf("pod %s/%s: %w", o.Namespace, o.Name, err)
		}
	}
	for _, o := range w.ClusterRoles {
		if _, err := cs.RbacV1().ClusterRoles().Create(ctx, &o, opts); err != nil && !apierrors.IsAlreadyExists(err) {
			return err
		}
	}
	for _, o := range w.ClusterRoleBindings {
		if _, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, &o, opts); err != nil {
			return err
		}
	}
	for _, o := range w.Roles {
		if _, err := cs.RbacV1().Roles(o.Namespace).Create(ctx, &o, opts); err != nil {
			return err
		}
	}
	for _, o := range w.RoleBindings {
		if _, err := cs.RbacV1().RoleBindings(o.Namespace).Create(ctx, &o, opts); err != nil {
			return err
		}
	}
	// Secrets last: the token controller deletes a legacy token whose
	// account it has not seen yet, so its informer gets the accounts first.
	for _, o := range w.Secrets {
		if _, err := cs.CoreV1().Secrets(o.Namespace).Create(ctx, &o, opts); err != nil {
			return fmt.Errorf("secret %s/%s: %w", o.Namespace, o.Name, err)
		}
	}
	for _, o := range w.Secrets {
		if o.Type != corev1.SecretTypeServiceAccountToken {
			continue
		}
		if _, err := TokenOf(ctx, cs, o.Namespace, o.Name); err != nil {
			return err
		}
	}
	return nil
}

// TokenOf waits for the token controller to fill legacy token Secret
// ns/name and returns its token (tests use it to make the token "used").
func TokenOf(ctx context.Context, cs kubernetes.Interface, ns, name string) (string, error) {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		s, err := cs.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return "", fmt.Errorf("secret %s/%s is gone: the token controller deletes a legacy token whose account it does not know (see kube-controller-manager.log)", ns, name)
		}
		if err != nil {
			return "", err
		}
		if t := s.Data[corev1.ServiceAccountTokenKey]; len(t) > 0 {
			return string(t), nil
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return "", fmt.Errorf("the token controller did not fill secret %s/%s within 60s (is kube-controller-manager running?)", ns, name)
}

// Size is the shape of a generated cluster.
type Size struct {
	Namespaces, ServiceAccounts, Tokens, Bindings, Pods int
}

// Generate builds a cluster of size s for benchmarks: accounts, tokens,
// RoleBindings (a tenth of them ClusterRoleBindings) and Pods spread evenly
// over the namespaces, Pods owned by ReplicaSets of Deployments.
func Generate(s Size) *World {
	w := &World{}
	nsName := func(i int) string { return fmt.Sprintf("team-%04d", i%s.Namespaces) }
	for i := 0; i < s.Namespaces; i++ {
		w.Namespaces = append(w.Namespaces, corev1.Namespace{ObjectMeta: om("", nsName(i), map[string]string{"team": fmt.Sprintf("team-%d", i)})})
	}
	saName := func(i int) (string, string) { return nsName(i), fmt.Sprintf("sa-%05d", i) }
	for i := 0; i < s.ServiceAccounts; i++ {
		ns, n := saName(i)
		w.ServiceAccounts = append(w.ServiceAccounts, sa(ns, n, nil, nil))
	}
	for i := 0; i < s.Tokens; i++ {
		ns, n := saName(i)
		t := tokenSecret(ns, n+"-token", n)
		t.StringData = nil
		w.Secrets = append(w.Secrets, t)
	}
	w.ClusterRoles = []rbacv1.ClusterRole{
		{ObjectMeta: om("", "view-things", nil), Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"pods", "configmaps"}, Verbs: []string{"get", "list"}}}},
		{ObjectMeta: om("", "cluster-admin", nil), Rules: []rbacv1.PolicyRule{{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"*"}}}},
	}
	for i := 0; i < s.Bindings; i++ {
		ns, n := saName(i % max(s.ServiceAccounts, 1))
		subj := []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: n}}
		if i%10 == 0 {
			role := "view-things"
			if i%1000 == 0 {
				role = "cluster-admin"
			}
			w.ClusterRoleBindings = append(w.ClusterRoleBindings, rbacv1.ClusterRoleBinding{ObjectMeta: om("", fmt.Sprintf("crb-%05d", i), nil),
				RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role}, Subjects: subj})
			continue
		}
		w.RoleBindings = append(w.RoleBindings, rbacv1.RoleBinding{ObjectMeta: om(ns, fmt.Sprintf("rb-%05d", i), nil),
			RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "view-things"}, Subjects: subj})
	}
	for i := 0; i < min(s.Pods, s.ServiceAccounts); i++ {
		ns, n := saName(i)
		w.ReplicaSets = append(w.ReplicaSets, appsv1.ReplicaSet{ObjectMeta: owned(ns, n+"-rs", "Deployment", n), Spec: appsv1.ReplicaSetSpec{Selector: selector(n), Template: template(n, n)}})
	}
	for i := 0; i < s.Pods; i++ {
		ns, n := saName(i % max(s.ServiceAccounts, 1))
		rs := n + "-rs"
		w.Pods = append(w.Pods, corev1.Pod{ObjectMeta: owned(ns, fmt.Sprintf("%s-%06d", rs, i), "ReplicaSet", rs), Spec: podSpec(n)})
	}
	return w
}
