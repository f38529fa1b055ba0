package audit

import (
	"fmt"
	"strings"
	"time"
)

// The rules for AWS identities (connectors/aws records the attributes
// they read; docs/policy.md says when each fires).

func isAWS(k Kind) bool {
	switch k {
	case KindAWSIAMUser, KindAWSAccessKey, KindAWSIAMRole, KindAWSOIDCProvider:
		return true
	}
	return false
}

// managedByAWS reports a service-linked role: AWS creates, owns and
// deletes it, so nobody in the organisation answers for it.
func managedByAWS(o *Observation) bool { return o.Attributes["managed_by"] == "aws" }

func (e *Evaluator) checkAWS(rule string, id *Identity, o *Observation, r RulePolicy) string {
	a := o.Attributes
	switch rule {
	case RuleStale:
		if o.Kind == KindAWSIAMRole && managedByAWS(o) {
			return ""
		}
		if since, ok := a[AttrUseTrackedSince]; ok && o.LastUsedAt == nil {
			return e.awsUnusedSince(o, since, r)
		}
		return e.stale(o, r)
	case RuleUnrotated:
		if o.Kind == KindAWSAccessKey && a["status"] == "Active" && o.CreatedAt != nil && e.daysSince(*o.CreatedAt) > r.Days {
			var buf [msgRoom]byte
			return withPolicy(e.appendDated(buf[:0], "key created ", o.CreatedAt, ", ", " ago, never rotated"), r.Days)
		}
	case RuleNoExpiry:
		if o.Kind == KindAWSAccessKey {
			return "IAM access keys never expire: this one works until someone deletes or deactivates it"
		}
	case RuleOrphaned:
		if managedByAWS(o) {
			return ""
		}
		return e.orphaned(id, "")
	case RuleOverprivileged:
		if g := a["grants"]; g != "" {
			if d := a["denies_not_evaluated"]; d != "" {
				return "grants " + g + "; Deny statements not weighed against it: " + d
			}
			return "grants " + g
		}
	case RuleHumanCredential:
		switch o.Kind {
		case KindAWSIAMUser:
			if a["password_enabled"] == "true" {
				return fmt.Sprintf("user %s has a console password and access keys: a person's login and a machine credential on one identity", o.Name)
			}
		case KindAWSAccessKey:
			if a["user_password_enabled"] == "true" {
				return fmt.Sprintf("key of %s, a user who also signs in to the console with a password", a["user"])
			}
			if s := a["last_used_service"]; s == "signin" || s == "console" {
				return fmt.Sprintf("last used to sign in to the console (%s)", s)
			}
		}
	case RuleBroadTrust:
		if o.Kind != KindAWSIAMRole {
			return ""
		}
		var why []string
		if a["trust_any_principal"] == "unconditioned" {
			if except := a["trust_any_principal_except"]; except != "" {
				why = append(why, "trust policy allows every principal but those its NotPrincipal names, without a condition: any AWS principal except "+except+" can assume it")
			} else {
				why = append(why, `trust policy allows Principal "*" without a condition: any AWS principal can assume it`)
			}
		}
		for _, host := range splitList(a["trust_oidc_without_sub"]) {
			why = append(why, fmt.Sprintf("trusts %s without a condition on %s:sub: anyone that provider issues a token to (for GitHub, any repository in the world) can assume it", host, host))
		}
		return strings.Join(why, "; ")
	case RuleThirdParty:
		ext := a["trust_external_accounts"]
		if o.Kind != KindAWSIAMRole || ext == "" {
			return ""
		}
		if a["organisation_accounts_read"] == "true" {
			return fmt.Sprintf("trusted by account %s, outside the organisation", ext)
		}
		return fmt.Sprintf("trusted by account %s, another account (the organisation's accounts were not listed, so it may be one of yours)", ext)
	}
	return ""
}

// splitList is s's comma-separated items, trimmed, without empty ones.
func splitList(s string) []string {
	if s == "" {
		return nil // no split of nothing: an allocation an identity
	}
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// awsUnusedSince is stale for an AWS role or access key older than what
// AWS records of its use (AttrUseTrackedSince: a role's trailing 400
// days, a key's tracking since 22 April 2015) and with none recorded:
// unused since then, never "never used", since it may have been used
// before. An attribute that is no time is no evidence.
func (e *Evaluator) awsUnusedSince(o *Observation, since string, r RulePolicy) string {
	t, err := time.Parse(time.RFC3339, since)
	if err != nil || e.daysSince(t) <= r.UnusedDays {
		return ""
	}
	why := " ago (AWS reports a role's use over the trailing 400 days; the role is older and may have been used before)"
	if o.Kind == KindAWSAccessKey {
		why = " ago (IAM records access key use since 2015-04-22; the key is older and may have been used before)"
	}
	var buf [msgRoom]byte
	return withPolicy(e.appendDated(buf[:0], "no use recorded since ", &t, ", ", why), r.UnusedDays)
}
