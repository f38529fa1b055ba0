package audit

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// RuleSources says which sources each rule can fire for, and the evidence
// report lists a campaign's rules by it: it must match what the evaluator
// does. Every kind of every source (and an imported one), in variants that
// set off as many rules as their attributes can, fires only rules listed
// for its source, and every listed pair fires at least once.
func TestRuleSourcesMatchTheEvaluator(t *testing.T) {
	fired := map[string]map[string]bool{} // rule -> sources
	ev := NewEvaluator(DefaultPolicy(), evalNow)
	for _, o := range riskyObservations(nil) {
		src := sourceOfKind(o.Kind)
		id := Identity{Observation: o}
		for _, f := range ev.Evaluate(&id, "acme") {
			if !RuleApplies(f.Rule, src) {
				t.Errorf("%s fired for %s (source %s), which RuleSources does not list: %s", f.Rule, o.Kind, src, f.Message)
			}
			if fired[f.Rule] == nil {
				fired[f.Rule] = map[string]bool{}
			}
			fired[f.Rule][src] = true
		}
	}
	for _, rule := range Rules {
		srcs, ok := RuleSources[rule]
		if !ok {
			t.Errorf("RuleSources has no entry for %s", rule)
			continue
		}
		if rule == RuleExceptionExpired {
			continue // fires from campaign exceptions, on any identity
		}
		for _, s := range srcs {
			if !fired[rule][s] {
				t.Errorf("RuleSources lists %s for %s, but no %s identity set it off here", rule, s, s)
			}
		}
	}
	if !RuleApplies(RuleStale, "slack") || RuleApplies(RuleReuse, "github") || !RuleApplies(RuleReuse, "k8s") {
		t.Error("an import's source is SourceImported; reuse is Kubernetes's only")
	}
}

// sourceOfKind is the source whose connector records identities of kind
// k, SourceImported for an import's.
func sourceOfKind(k Kind) string {
	for _, s := range connectorSources {
		if strings.HasPrefix(string(k), s+"_") {
			return s
		}
	}
	return SourceImported
}

// riskyObservations are observations of every kind of every source (and
// an imported one), in variants that set off as many rules as their
// attributes can; more variants, when given, are applied after the
// first ones, each to a fresh copy.
func riskyObservations(more []func(o *Observation)) []Observation {
	old := time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC)
	past, soon := evalNow.AddDate(0, 0, -3), evalNow.AddDate(0, 0, 3)
	// Valid for years: long-lived, for a certificate.
	longAgo := evalNow.AddDate(-3, 0, 0)
	// What each source's connector records that rules read; an import
	// carries any column as an attribute, and permissions.
	github := map[string]string{
		"repository_selection": "all", "app_slug": "someone-elses", "bypasses_rulesets": "main", "has_secret": "false", "url": "http://x/hook",
		"credential_type": "personal access token", "scopes": "admin:org",
	}
	risky := map[string]map[string]string{
		"github": github,
		"aws": {"status": "Active", "password_enabled": "true", "user_password_enabled": "true", "grants": "*:*", "trust_any_principal": "unconditioned",
			"trust_oidc_without_sub": "token.actions.githubusercontent.com", "trust_external_accounts": "999999999999"},
		"k8s": {"privileged": "cluster-admin", "permissions": "cluster-admin", "automount_token": "default", "namespace": "ci", "workloads_read": "true", "workload_count": "0"},
		"x509": {CertSelfSigned: "true", CertKeyType: "RSA", CertKeyBits: "1024", CertSignature: "SHA1-RSA", CertTrusted: "true", CertSANs: "*.example.com",
			CertTLSEndpoints: "example.com:443"},
		SourceImported: github,
	}
	variants := []func(o *Observation){
		func(o *Observation) {}, // as risky as its attributes make it, expired
		func(o *Observation) { o.ExpiresAt = &soon; o.Attributes["workload_count"] = "5"; o.Name = "default" },
		func(o *Observation) {
			o.ExpiresAt = nil
			o.Attributes["status"] = "offline"
			o.Attributes["active"] = "false"
		},
		// Not valid yet: not-yet-valid, for a certificate a TLS endpoint serves.
		func(o *Observation) { o.CreatedAt = &soon },
	}
	variants = append(variants, more...)
	var out []Observation
	for _, kind := range append(slices.Clone(Kinds), ImportKindPrefix+"bot_token") {
		src := sourceOfKind(kind)
		for _, vary := range variants {
			attrs := map[string]string{}
			for k, v := range risky[src] {
				attrs[k] = v
			}
			var perms map[string]string
			if src != "x509" {
				perms = map[string]string{"administration": "admin", "*": "*"}
			}
			o := Observation{ID: "x", Kind: kind, Name: "GH_PAT laptop", CreatedAt: &old, RotatedAt: &old, LastUsedAt: &longAgo, ExpiresAt: &past,
				Permissions: perms, Attributes: attrs}
			vary(&o)
			out = append(out, o)
		}
	}
	return out
}
