package audit

import (
	"fmt"
	"time"
)

// The rules for Kubernetes identities (connectors/kubernetes records the
// attributes they read; docs/kubernetes.md and docs/policy.md say when
// each fires).

// Kubernetes rules (docs/policy.md).
const (
	RuleDefaultSA = "default-sa-with-permissions"
	RuleUnused    = "unused"
	RuleAutomount = "automount-with-permissions"
	RuleReuse     = "reuse"
)

// ReuseWorkloads is how many distinct workloads (Deployments, StatefulSets,
// DaemonSets, CronJobs, bare Pods) must run as one account before it is
// reused: one account, many unrelated workloads, one blast radius.
const ReuseWorkloads = 3

func isK8s(k Kind) bool { return k == KindK8sServiceAccount || k == KindK8sSAToken }

// k8sHasPermissions reports whether an account can do anything beyond
// what every authenticated caller can.
func k8sHasPermissions(o *Observation) bool { return o.Attributes["permissions"] != "" }

func (e *Evaluator) checkK8s(rule string, id *Identity, o *Observation, r RulePolicy) string {
	a := o.Attributes
	sa := o.Kind == KindK8sServiceAccount
	switch rule {
	case RuleOverprivileged:
		if sa && a["privileged"] != "" {
			return a["privileged"]
		}
	case RuleDefaultSA:
		if sa && o.Name == "default" && k8sHasPermissions(o) {
			return fmt.Sprintf("the default account of %s, which every Pod there runs as unless it names another, can: %s", a["namespace"], a["permissions"])
		}
	case RuleUnused:
		if sa && a["workloads_read"] == "true" && a["workload_count"] == "0" && o.Name != "default" {
			return fmt.Sprintf("no Pod in %s runs as it", a["namespace"])
		}
	case RuleAutomount:
		if sa && a["automount_token"] != "false" && k8sHasPermissions(o) {
			how := "automountServiceAccountToken is true"
			if a["automount_token"] == "default" {
				how = "automountServiceAccountToken is not set (so it is mounted)"
			}
			return fmt.Sprintf("%s: every Pod that runs as it gets a token that can: %s", how, a["permissions"])
		}
	case RuleReuse:
		if !sa {
			return ""
		}
		if n, err := atoiSet(a["workload_count"]); err == nil && n >= ReuseWorkloads {
			return fmt.Sprintf("%d workloads run as it (%s): one credential, one blast radius for all of them", n, a["workloads"])
		}
	case RuleNoExpiry:
		if !sa {
			if s := a["invalid_since"]; s != "" {
				return ""
			}
			return "a legacy service account token Secret never expires: it works until the Secret is deleted"
		}
	case RuleStale:
		if !sa {
			return e.k8sTokenStale(o, r)
		}
	case RuleOrphaned:
		return e.orphaned(id, "")
	}
	return ""
}

// k8sSuggestions are the labels and annotations that name who answers for
// a Kubernetes identity, most direct first, with what they are.
func k8sSuggestions(o *Observation, add func(owner, source string)) {
	ns := o.Attributes["namespace"]
	// What each says is written only for a value that is set: add drops
	// the rest, and the words cost an allocation each.
	addSet := func(owner string, source func() string) {
		if owner != "" {
			add(owner, source())
		}
	}
	for _, key := range []string{"owner", "team"} {
		addSet(o.Attributes["label."+key], func() string { return "label " + key })
		addSet(o.Attributes["annotation."+key], func() string { return "annotation " + key })
	}
	for _, key := range []string{"owner", "team"} {
		addSet(o.Attributes["namespace_label."+key], func() string { return "label " + key + " of namespace " + ns })
		addSet(o.Attributes["namespace_annotation."+key], func() string { return "annotation " + key + " of namespace " + ns })
	}
}

// k8sTokenStale is stale for a legacy token. Its last use is the day the
// API server labelled on it; without a label, it was not used since the
// API server began recording uses (its use_tracked_since), or since it was
// created if that is later. Before then it may have been, so a token older
// than the tracking is called unused only from the tracking's start, and
// where nothing says since when ("unknown": an API server before 1.26, a
// label that is no date), an absent label is no evidence, never "never
// used" (connectors/kubernetes/tracking.go). Snapshots from before the
// connector recorded use_tracked_since keep what they said.
func (e *Evaluator) k8sTokenStale(o *Observation, r RulePolicy) string {
	since, recorded := o.Attributes["use_tracked_since"]
	if o.LastUsedAt != nil {
		return e.stale(o, r)
	}
	if !recorded {
		if msg := e.stale(o, r); msg != "" {
			return msg + " (the API server labels a legacy token when it is used, since Kubernetes 1.26)"
		}
		return ""
	}
	t, err := time.Parse(time.RFC3339, since)
	if err != nil {
		return ""
	}
	if o.CreatedAt != nil && !o.CreatedAt.Before(t) {
		if msg := e.stale(o, r); msg != "" {
			return msg + " (the API server has labelled legacy tokens when used since " + t.UTC().Format(time.DateOnly) + ")"
		}
		return ""
	}
	if e.daysSince(t) > r.UnusedDays {
		var buf [msgRoom]byte
		return withPolicy(e.appendDated(buf[:0], "not used since the API server began recording legacy token use on ", &t, ", ", " ago (it is older, and may have been used before)"), r.UnusedDays)
	}
	return ""
}
