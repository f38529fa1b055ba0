package aws

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/connectors"
)

// Attribute names the rules read (audit/findings_aws.go) and the auditor
// sees. Values are metadata only.
const (
	AttrManagedBy     = "managed_by"              // "aws" for service-linked roles
	AttrGrants        = "grants"                  // "AdministratorAccess, *:*, iam:PassRole on *"
	AttrPolicyUnknown = audit.AttrPoliciesUnknown // "true" when policies were not read
	AttrTrustUnknown  = audit.AttrTrustUnknown    // "true" when the trust policy is empty or does not parse
	// attrPoliciesUnreadable names the policies whose document is empty,
	// does not parse or was not listed ("deploy (inline)"), with
	// policies_unknown.
	attrPoliciesUnreadable = "policies_unreadable"
	AttrPassword           = "password_enabled" // "true", "false"; absent when not known
	AttrUser               = "user"             // a key's user
	AttrLastService        = "last_used_service"
	AttrTrustStar          = "trust_any_principal"        // "unconditioned" or "conditioned"
	AttrTrustOIDCNoSub     = "trust_oidc_without_sub"     // OIDC provider hosts
	AttrTrustExternal      = "trust_external_accounts"    // account IDs outside the organisation
	AttrOrgKnown           = "organisation_accounts_read" // "true" when the organisation was listed
	// AttrTrustExcept names the principals an Allow's NotPrincipal leaves
	// out of a trust policy that trusts every other (trust_any_principal).
	AttrTrustExcept = "trust_any_principal_except"
	// AttrDenies names the Deny statements of the identity's policies
	// ("deploy (inline): Deny iam:*"): nhi does not weigh them, so
	// grants says what the Allows give.
	AttrDenies = "denies_not_evaluated"
	// AttrNotEvaluated names the attached AWS managed policies nhi does
	// not know to be broad: their documents are AWS's and not read, so
	// what they grant is not evaluated, never "nothing".
	AttrNotEvaluated = "policies_not_evaluated"
	// attrDetailsUnknown is "true" on an OIDC provider whose details
	// (client IDs, thumbprints, tags) were denied: not that it has none.
	attrDetailsUnknown = "details_unknown"
)

// What AWS records of use (its API reference): a role's last use over
// the trailing 400 days (RoleLastUsed), an access key's since IAM began
// tracking it on 22 April 2015 (GetAccessKeyLastUsed, and the credential
// report's N/A). An identity older than that with no last use may have
// been used before: its last use is not known (audit.AttrLastUseUnknown),
// and audit.AttrUseTrackedSince says since when none was recorded, which
// the stale rule reads (audit/findings_aws.go).
const roleUseWindow = 400 * 24 * time.Hour

var keyUseTrackedSince = time.Date(2015, 4, 22, 0, 0, 0, 0, time.UTC)

// unusedSince marks attrs when an identity created at created, with no
// last use, is older than what AWS recorded of its use since since.
func unusedSince(attrs map[string]string, created *time.Time, since time.Time) {
	if created == nil || !created.Before(since) {
		return
	}
	attrs[audit.AttrLastUseUnknown] = "true"
	attrs[audit.AttrUseTrackedSince] = since.UTC().Format(time.RFC3339)
}

func ptime(t *time.Time) *time.Time {
	if t == nil || t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func tagAttrs(attrs map[string]string, tags []types.Tag) {
	for _, t := range tags {
		attrs["tag."+aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
}

// record turns what was read into observations.
func (c *Connector) record(r connectors.Recorder, a *account) error {
	id := func(kind audit.Kind, key string) string { return audit.IdentityID(Source, c.account, kind, key) }
	orgKnown := strconv.FormatBool(c.org != nil)
	for _, u := range a.users {
		name := aws.ToString(u.UserName)
		keys := a.keys[name]
		if len(keys) == 0 {
			continue // a person's console login, not a machine credential
		}
		var g grants
		perms := map[string]string{}
		var groups []string
		for _, p := range u.AttachedManagedPolicies {
			g.addManaged(aws.ToString(p.PolicyArn), a.policies)
			perms[aws.ToString(p.PolicyName)] = "attached"
		}
		for _, p := range u.UserPolicyList {
			g.addDoc(aws.ToString(p.PolicyName)+" (inline)", decodeDoc(aws.ToString(p.PolicyDocument)))
			perms[aws.ToString(p.PolicyName)] = "inline"
		}
		for _, gn := range u.GroupList {
			groups = append(groups, gn)
			grp, ok := a.groups[gn]
			if !ok {
				// Not in the listing (created between its pages): its
				// policies were not read, never "none".
				g.unread = append(g.unread, "group "+gn+" (not in the listing)")
				continue
			}
			for _, p := range grp.AttachedManagedPolicies {
				g.addManaged(aws.ToString(p.PolicyArn), a.policies)
				perms[aws.ToString(p.PolicyName)] = "group " + gn
			}
			for _, p := range grp.GroupPolicyList {
				g.addDoc(aws.ToString(p.PolicyName)+" (group "+gn+" inline)", decodeDoc(aws.ToString(p.PolicyDocument)))
				perms[aws.ToString(p.PolicyName)] = "group " + gn + " inline"
			}
		}
		active := 0
		for _, k := range keys {
			if k.status == "Active" {
				active++
			}
		}
		attrs := map[string]string{
			"arn": aws.ToString(u.Arn), "path": aws.ToString(u.Path), "groups": strings.Join(groups, ", "),
			"access_keys": strconv.Itoa(len(keys)), "active_access_keys": strconv.Itoa(active),
			AttrGrants: g.String(),
		}
		if !a.detailed {
			attrs[AttrPolicyUnknown] = "true"
		}
		g.mark(attrs)
		if g.unknown(attrs) {
			a.unreadable++
		}
		var passwordUsed *time.Time
		row, inReport := a.report[name]
		if inReport {
			attrs[AttrPassword] = row.passwordEnabled
			attrs["mfa_active"] = row.mfa
			passwordUsed = row.passwordLastUsed
			if passwordUsed != nil {
				attrs["password_last_used"] = passwordUsed.Format(time.RFC3339)
			}
		}
		tagAttrs(attrs, u.Tags)
		if a.userTagsUnknown[name] {
			attrs[audit.AttrTagsUnknown] = "true"
		}
		if err := r.Record(audit.Observation{
			ID: id(audit.KindAWSIAMUser, name), Kind: audit.KindAWSIAMUser, Name: name, Scope: c.account,
			CreatedAt: ptime(u.CreateDate), Permissions: perms, Attributes: attrs,
		}); err != nil {
			return err
		}
		for _, k := range keys {
			kattrs := map[string]string{
				AttrUser: name, "status": k.status, "user_active_access_keys": strconv.Itoa(active),
				AttrGrants: attrs[AttrGrants], AttrLastService: k.service, "last_used_region": k.region,
			}
			if v, ok := attrs[AttrPassword]; ok {
				kattrs["user_"+AttrPassword] = v
			}
			for _, k := range []string{AttrPolicyUnknown, attrPoliciesUnreadable, AttrDenies, AttrNotEvaluated, audit.AttrTagsUnknown} {
				if v, ok := attrs[k]; ok {
					kattrs[k] = v
				}
			}
			if k.lastUsedNotKnown {
				kattrs[audit.AttrLastUseUnknown] = "true"
			} else if k.lastUsed == nil {
				unusedSince(kattrs, &k.created, keyUseTrackedSince)
			}
			// A key has no tags of its own: its user's owner tags suggest
			// who answers for it.
			for _, t := range u.Tags {
				switch k := aws.ToString(t.Key); k {
				case "Owner", "owner", "team", "CreatedBy":
					kattrs["user_tag."+k] = aws.ToString(t.Value)
				}
			}
			created := k.created
			if err := r.Record(audit.Observation{
				ID: id(audit.KindAWSAccessKey, k.id), Kind: audit.KindAWSAccessKey, Name: k.id, Scope: c.account,
				CreatedAt: &created, RotatedAt: &created, LastUsedAt: k.lastUsed, Attributes: kattrs,
			}); err != nil {
				return err
			}
		}
	}
	for _, ro := range a.roles {
		if err := r.Record(c.roleObservation(ro, a, orgKnown)); err != nil {
			return err
		}
	}
	for _, p := range a.oidc {
		attrs := map[string]string{"arn": p.arn, "url": p.url}
		if p.detailsUnknown {
			attrs[attrDetailsUnknown] = "true"
		} else {
			attrs["client_ids"], attrs["thumbprints"] = strings.Join(p.clientIDs, ", "), strings.Join(p.thumbprints, ", ")
		}
		var trusting []string
		for _, ro := range a.roles {
			if strings.Contains(decodedTrust(ro), ":oidc-provider/"+p.url+`"`) {
				trusting = append(trusting, aws.ToString(ro.RoleName))
			}
		}
		attrs["trusted_by_roles"] = strings.Join(trusting, ", ")
		tagAttrs(attrs, p.tags)
		if err := r.Record(audit.Observation{
			ID: id(audit.KindAWSOIDCProvider, p.url), Kind: audit.KindAWSOIDCProvider, Name: p.url, Scope: c.account,
			CreatedAt: ptime(p.created), Attributes: attrs,
		}); err != nil {
			return err
		}
	}
	return nil
}

// mark records in attrs the Deny statements nhi did not weigh and the
// AWS managed policies it did not evaluate.
func (g grants) mark(attrs map[string]string) {
	if len(g.notEvaluated) > 0 {
		attrs[AttrNotEvaluated] = strings.Join(g.notEvaluated, ", ")
	}
	if len(g.denies) > 0 {
		attrs[AttrDenies] = strings.Join(g.denies, "; ")
	}
}

// unknown marks attrs when some policy documents could not be read, and
// says whether it did.
func (g grants) unknown(attrs map[string]string) bool {
	if len(g.unread) == 0 {
		return false
	}
	attrs[AttrPolicyUnknown] = "true"
	attrs[attrPoliciesUnreadable] = strings.Join(g.unread, ", ")
	return true
}

func decodedTrust(ro types.RoleDetail) string {
	doc := decodeDoc(aws.ToString(ro.AssumeRolePolicyDocument))
	if doc == nil {
		return ""
	}
	var b strings.Builder
	for _, st := range doc.Statement {
		for _, f := range st.Principal.Federated {
			b.WriteString(`"` + f + `"`)
		}
	}
	return b.String()
}

func (c *Connector) roleObservation(ro types.RoleDetail, a *account, orgKnown string) audit.Observation {
	name := aws.ToString(ro.RoleName)
	var g grants
	perms := map[string]string{}
	for _, p := range ro.AttachedManagedPolicies {
		g.addManaged(aws.ToString(p.PolicyArn), a.policies)
		perms[aws.ToString(p.PolicyName)] = "attached"
	}
	for _, p := range ro.RolePolicyList {
		g.addDoc(aws.ToString(p.PolicyName)+" (inline)", decodeDoc(aws.ToString(p.PolicyDocument)))
		perms[aws.ToString(p.PolicyName)] = "inline"
	}
	trustDoc := decodeDoc(aws.ToString(ro.AssumeRolePolicyDocument))
	t := parseTrust(trustDoc)
	attrs := map[string]string{
		"arn": aws.ToString(ro.Arn), "path": aws.ToString(ro.Path), AttrGrants: g.String(),
		"trust_accounts": strings.Join(t.accounts, ", "), "trust_services": strings.Join(t.services, ", "),
		"trust_federated": strings.Join(t.federated, ", "), "trust_conditions": strings.Join(t.conditions, "; "), AttrOrgKnown: orgKnown,
	}
	if !a.detailed {
		attrs[AttrPolicyUnknown] = "true"
	}
	g.mark(attrs)
	unread := g.unknown(attrs)
	if trustDoc == nil {
		// Who may assume it is not known: not "nobody".
		attrs[AttrTrustUnknown] = "true"
		unread = true
	}
	if unread {
		a.unreadable++
	}
	if a.roleLastUseUnknown[name] {
		attrs[audit.AttrLastUseUnknown] = "true"
		attrs[audit.AttrTagsUnknown] = "true"
	}
	if d, ok := a.sessions[name]; ok {
		attrs["max_session_duration"] = (time.Duration(d) * time.Second).String()
	}
	if strings.HasPrefix(aws.ToString(ro.Path), "/aws-service-role/") {
		attrs[AttrManagedBy] = "aws"
	}
	switch {
	case t.starNoCond:
		attrs[AttrTrustStar] = "unconditioned"
	case t.starWithCond:
		attrs[AttrTrustStar] = "conditioned"
	}
	if len(t.starExcept) > 0 {
		attrs[AttrTrustExcept] = strings.Join(t.starExcept, ", ")
	}
	if len(t.oidcNoSub) > 0 {
		attrs[AttrTrustOIDCNoSub] = strings.Join(t.oidcNoSub, ", ")
	}
	var external []string
	for _, acct := range t.accounts {
		if acct == c.account {
			continue
		}
		if _, in := c.org[acct]; !in {
			external = append(external, acct)
		}
	}
	slices.Sort(external)
	if len(external) > 0 {
		attrs[AttrTrustExternal] = strings.Join(external, ", ")
	}
	var lastUsed *time.Time
	if lu := ro.RoleLastUsed; lu != nil {
		lastUsed = ptime(lu.LastUsedDate)
		if lu.Region != nil {
			attrs["last_used_region"] = aws.ToString(lu.Region)
		}
	}
	if lastUsed == nil && !a.roleLastUseUnknown[name] {
		unusedSince(attrs, ptime(ro.CreateDate), a.readAt.Add(-roleUseWindow))
	}
	tagAttrs(attrs, ro.Tags)
	return audit.Observation{
		ID: audit.IdentityID(Source, c.account, audit.KindAWSIAMRole, name), Kind: audit.KindAWSIAMRole, Name: name, Scope: c.account,
		CreatedAt: ptime(ro.CreateDate), LastUsedAt: lastUsed, Permissions: perms, Attributes: attrs,
	}
}
