package audit

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Evaluator computes findings under one policy at one moment. Time is an
// input, never read from the clock here, so the same inputs always give the
// same findings: a report can reproduce what the reviewer saw.
type Evaluator struct {
	policy     Policy
	now        time.Time
	members    map[string]map[string]bool // account -> lower-case member logins; nil map: unknown
	firstParty map[string]bool
	people     *Directory // nil: no directory, leavers unknown
	exceptions map[string]Exception
}

// NewEvaluator prepares p for evaluation at now.
func NewEvaluator(p Policy, now time.Time) *Evaluator {
	p = p.withDefaults()
	e := &Evaluator{policy: p, now: now.UTC(), firstParty: map[string]bool{}, members: map[string]map[string]bool{}}
	for _, a := range p.FirstPartyApps {
		e.firstParty[strings.ToLower(a)] = true
	}
	return e
}

// SetMembers says who belongs to account, so an owner who left can be told
// apart. Without it the orphaned rule only fires for identities nobody owns.
func (e *Evaluator) SetMembers(account string, logins []string) {
	m := make(map[string]bool, len(logins))
	for _, l := range logins {
		m[strings.ToLower(l)] = true
	}
	e.members[account] = m
}

// SetPeople gives the directory of people, so an owner (or holder) whose
// person has left makes the identity orphaned, whatever their membership.
func (e *Evaluator) SetPeople(d *Directory) { e.people = d }

// Now is the moment findings are evaluated at.
func (e *Evaluator) Now() time.Time { return e.now }

// NaturalOwner is who the source says holds the identity: a PAT's or
// credential's owner, the person who added a deploy key. It is a
// suggestion until someone records an owner.
func NaturalOwner(o *Observation) string {
	for _, k := range []string{"owner", "login", "added_by"} {
		if v := o.Attributes[k]; v != "" {
			return v
		}
	}
	return ""
}

// Evaluate returns id's findings in rule order. account is the account
// (organisation) the identity belongs to, for membership.
func (e *Evaluator) Evaluate(id *Identity, account string) []Finding {
	return e.evaluate(id, account, true)
}

// EvaluateObservation returns the findings that depend on the observation
// alone: every rule but the owner-dependent ones (orphaned), which change
// when someone records an owner and so are evaluated live.
func (e *Evaluator) EvaluateObservation(o *Observation) []Finding {
	return e.evaluate(&Identity{Observation: *o}, "", false)
}

// OwnerDependent reports whether a rule's outcome changes with what people
// record in the event log after the snapshot: owners (orphaned) and review
// decisions (exception-expired). Such rules are evaluated live, never
// stored with a snapshot.
func OwnerDependent(rule string) bool { return rule == RuleOrphaned || rule == RuleExceptionExpired }

func (e *Evaluator) evaluate(id *Identity, account string, withOwners bool) []Finding {
	var out []Finding
	for _, rule := range Rules {
		if !withOwners && OwnerDependent(rule) {
			continue
		}
		if msg := e.check(rule, id, &id.Observation, account); msg != "" {
			r := e.policy.Rules[rule]
			out = append(out, Finding{Rule: rule, Severity: r.Severity, OWASP: OWASPNHI[rule], Message: msg})
		}
	}
	return out
}

func (e *Evaluator) check(rule string, id *Identity, o *Observation, account string) string {
	r := e.policy.Rules[rule]
	if !r.On() {
		return ""
	}
	if rule == RuleExceptionExpired {
		return e.exceptionExpired(id)
	}
	if isAWS(o.Kind) {
		return e.checkAWS(rule, id, o, r)
	}
	if isK8s(o.Kind) {
		return e.checkK8s(rule, id, o, r)
	}
	switch rule {
	case RuleExpired:
		if o.ExpiresAt != nil && o.ExpiresAt.Before(e.now) {
			return fmt.Sprintf("expired %s, %s ago, but still present", day(o.ExpiresAt), e.days(*o.ExpiresAt))
		}
	case RuleExpiring:
		if o.ExpiresAt != nil && !o.ExpiresAt.Before(e.now) && o.ExpiresAt.Before(e.now.AddDate(0, 0, r.Days)) {
			return fmt.Sprintf("expires %s, in %s; policy: %d", day(o.ExpiresAt), e.days(*o.ExpiresAt), r.Days)
		}
	case RuleStale:
		return e.stale(o, r)
	case RuleUnrotated:
		return e.unrotated(o, r)
	case RuleNoExpiry:
		if o.ExpiresAt == nil && (o.Kind == KindGitHubFineGrainedPAT || isClassicPAT(o)) {
			return "the token never expires"
		}
	case RuleOrphaned:
		return e.orphaned(id, account)
	case RuleOverprivileged:
		return overprivileged(o)
	case RuleBroadScope:
		switch {
		case o.Attributes["repository_selection"] == "all":
			return "has access to all repositories"
		case o.Attributes["visibility"] == "all":
			return "visible to all repositories"
		case o.Attributes["runner_group_visibility"] == "all":
			return fmt.Sprintf("runs jobs of all repositories (runner group %s)", o.Attributes["runner_group"])
		}
	case RuleThirdParty:
		if o.Kind == KindGitHubAppInstallation {
			slug := o.Attributes["app_slug"]
			if slug == "" {
				slug = o.Name
			}
			if !e.firstParty[strings.ToLower(slug)] {
				return fmt.Sprintf("App %s is not one of the organisation's own Apps (policy: first_party_apps)", slug)
			}
		}
	case RuleHumanCredential:
		return humanCredential(o)
	case RuleWeakKey, RuleSelfSigned, RuleLongLived, RuleWildcard:
		if o.Kind == KindX509Certificate {
			return certificateCheck(rule, o, r)
		}
	case RuleInsecureWebhook:
		if o.Kind != KindGitHubWebhook {
			return ""
		}
		var why []string
		if o.Attributes["has_secret"] == "false" {
			why = append(why, "no secret, so receivers cannot verify deliveries")
		}
		if o.Attributes["insecure_ssl"] == "1" {
			why = append(why, "TLS certificate verification is off")
		}
		if strings.HasPrefix(strings.ToLower(o.Attributes["url"]), "http://") {
			why = append(why, "delivers over plain HTTP")
		}
		return strings.Join(why, "; ")
	}
	return ""
}

func (e *Evaluator) stale(o *Observation, r RulePolicy) string {
	switch o.Kind {
	case KindGitHubRunner:
		if o.Attributes["status"] == "offline" {
			return "runner is offline but still registered"
		}
		return ""
	case KindGitHubWebhook:
		if o.Attributes["active"] == "false" {
			return "webhook is inactive but still configured"
		}
		return ""
	}
	// Where the kind does not say when it was used, only a last use an
	// import did report (its last_used_at) is evidence; an absent one
	// means "not reported", never "never used".
	if !o.Kind.TracksLastUse() && (o.LastUsedAt == nil || !o.Kind.Imported()) {
		return ""
	}
	if o.LastUsedAt != nil {
		if d := e.daysSince(*o.LastUsedAt); d > r.UnusedDays {
			return fmt.Sprintf("last used %s, %s ago; policy: %d", day(o.LastUsedAt), e.days(*o.LastUsedAt), r.UnusedDays)
		}
		return ""
	}
	if o.Kind.TracksLastUse() && o.CreatedAt != nil && e.daysSince(*o.CreatedAt) > r.NeverUsedDays {
		return fmt.Sprintf("never used since it was created %s, %s ago; policy: %d", day(o.CreatedAt), e.days(*o.CreatedAt), r.NeverUsedDays)
	}
	return ""
}

func (e *Evaluator) unrotated(o *Observation, r RulePolicy) string {
	switch o.Kind {
	case KindGitHubActionsSecret, KindGitHubDependabotSecret, KindGitHubCodespacesSecret, KindGitHubAgentsSecret, KindGitHubPrivateRegistry:
		t := o.RotatedAt
		if t == nil {
			t = o.CreatedAt
		}
		if t != nil && e.daysSince(*t) > r.Days {
			return fmt.Sprintf("value last changed %s, %s ago; policy: %d", day(t), e.days(*t), r.Days)
		}
	case KindGitHubDeployKey:
		// A key cannot be changed, only replaced: its age is its rotation.
		if o.CreatedAt != nil && e.daysSince(*o.CreatedAt) > r.Days {
			return fmt.Sprintf("key created %s, %s ago, never replaced; policy: %d", day(o.CreatedAt), e.days(*o.CreatedAt), r.Days)
		}
	default:
		// An import that says when the secret material last changed
		// (its rotated_at) is held to the same days.
		if t := o.RotatedAt; t != nil && o.Kind.Imported() && e.daysSince(*t) > r.Days {
			return fmt.Sprintf("secret material last changed %s, %s ago; policy: %d", day(t), e.days(*t), r.Days)
		}
	}
	return ""
}

func (e *Evaluator) orphaned(id *Identity, account string) string {
	owner, natural := id.Owner, false
	if owner == "" {
		owner, natural = NaturalOwner(&id.Observation), true
	}
	if owner == "" {
		return "no owner recorded"
	}
	if p := e.people.Lookup(owner); p != nil && p.Status == PersonLeft {
		if natural {
			return fmt.Sprintf("%s, who holds it according to the source, %s", owner, p.LeftNote())
		}
		return fmt.Sprintf("owner %s %s", owner, p.LeftNote())
	}
	members, known := e.members[account]
	login := strings.TrimPrefix(owner, "@")
	if !known || !isLogin(login) {
		return ""
	}
	if members[strings.ToLower(login)] {
		return ""
	}
	if natural {
		return fmt.Sprintf("%s, who holds it according to the source, is no longer a member of %s", login, account)
	}
	return fmt.Sprintf("owner %s is no longer a member of %s", login, account)
}

// LeftOwner reports whether finding f says the identity is orphaned
// because its owner (or holder) is a person who left, as orphaned words it
// ("owner alice left on 2026-10-31"); a membership message never says
// "left".
func LeftOwner(f Finding) bool {
	return f.Rule == RuleOrphaned && (strings.Contains(f.Message, " left on ") || strings.HasSuffix(f.Message, " left"))
}

// isLogin reports whether s looks like a GitHub user login rather than an
// email address, a team or a name.
func isLogin(s string) bool {
	if s == "" || len(s) > 39 {
		return false
	}
	for _, r := range s {
		if !(r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

// adminScopes are classic OAuth scopes that administer more than code.
var adminScopes = []string{"admin:org", "admin:enterprise", "admin:repo_hook", "admin:org_hook", "admin:public_key", "admin:gpg_key", "delete_repo", "site_admin", "repo"}

func overprivileged(o *Observation) string {
	var admin, write []string
	for name, level := range o.Permissions {
		switch level {
		case "admin":
			admin = append(admin, name)
		case "write":
			write = append(write, name)
		}
	}
	var scopes []string
	for _, s := range strings.Split(o.Attributes["scopes"], ",") {
		if s = strings.TrimSpace(s); slices.Contains(adminScopes, s) {
			scopes = append(scopes, s)
		}
	}
	bypass := ""
	if b := o.Attributes["bypasses_rulesets"]; b != "" {
		bypass = "bypasses rulesets: " + b
	}
	if len(admin)+len(write)+len(scopes) == 0 {
		return bypass
	}
	slices.Sort(admin)
	slices.Sort(write)
	var parts []string
	if len(admin) > 0 {
		parts = append(parts, "admin: "+strings.Join(admin, ", "))
	}
	if len(write) > 0 {
		parts = append(parts, "write: "+strings.Join(write, ", "))
	}
	if len(scopes) > 0 {
		parts = append(parts, "scopes: "+strings.Join(scopes, ", "))
	}
	if o.Kind == KindGitHubDeployKey {
		parts = []string{"key can push (read_only: false)"}
	}
	if bypass != "" {
		parts = append(parts, bypass)
	}
	return strings.Join(parts, "; ")
}

// patName matches secret names that usually hold a person's token.
var patName = regexp.MustCompile(`(?i)(^|_)(PAT|PERSONAL_ACCESS_TOKEN|GH_TOKEN|GITHUB_TOKEN|GH_PAT)($|_)`)

// personalKey matches deploy key titles that name a person's machine.
var personalKey = regexp.MustCompile(`(?i)(laptop|macbook|desktop|workstation|personal|'s key|\bmy key\b)`)

func isClassicPAT(o *Observation) bool {
	return o.Kind == KindGitHubCredentialAuthorization && strings.EqualFold(o.Attributes["credential_type"], "personal access token")
}

func humanCredential(o *Observation) string {
	switch o.Kind {
	case KindGitHubFineGrainedPAT:
		return fmt.Sprintf("a person's token (%s) acting for automation", orUnknown(NaturalOwner(o)))
	case KindGitHubCredentialAuthorization:
		switch t := strings.ToLower(o.Attributes["credential_type"]); t {
		case "personal access token", "ssh key":
			return fmt.Sprintf("%s of %s authorised for the organisation", t, orUnknown(NaturalOwner(o)))
		}
	case KindGitHubDeployKey:
		if personalKey.MatchString(o.Name) {
			return fmt.Sprintf("deploy key %q is named like a person's own machine", o.Name)
		}
	case KindGitHubActionsSecret, KindGitHubDependabotSecret, KindGitHubCodespacesSecret, KindGitHubAgentsSecret, KindGitHubPrivateRegistry:
		if patName.MatchString(o.Name) {
			return fmt.Sprintf("secret %s looks like a personal access token stored for automation", o.Name)
		}
	}
	return ""
}

func orUnknown(s string) string {
	if s == "" {
		return "owner unknown"
	}
	return s
}

func day(t *time.Time) string { return t.UTC().Format("2006-01-02") }

func (e *Evaluator) daysSince(t time.Time) int {
	return int(math.Floor(e.now.Sub(t).Hours() / 24))
}

// days says how many whole days lie between t and now: "1,412 days".
func (e *Evaluator) days(t time.Time) string {
	d := e.daysSince(t)
	if d < 0 {
		d = -d
	}
	if d == 1 {
		return "1 day"
	}
	return Thousands(d) + " days"
}

// RuleNames names findings most severe first, comma-separated ("" for
// none): the cell an auditor scans down a table.
func RuleNames(fs []Finding) string {
	switch len(fs) {
	case 0:
		return ""
	case 1:
		return fs[0].Rule
	}
	sorted := slices.Clone(fs)
	slices.SortStableFunc(sorted, func(a, b Finding) int {
		return SeverityRank(b.Severity) - SeverityRank(a.Severity)
	})
	var b strings.Builder
	for i, f := range sorted {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(f.Rule)
	}
	return b.String()
}
