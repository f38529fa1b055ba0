package audit

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Evaluator computes findings under one policy at one moment. Time is an
// input, never read from the clock here, so the same inputs always give the
// same findings: a report can reproduce what the reviewer saw.
type Evaluator struct {
	policy     Policy
	rules      []RulePolicy // policy.Rules[Rules[i]], looked up once: evaluate reads them per identity
	owasp      []string     // OWASPNHI[Rules[i]], likewise
	now        time.Time
	members    map[string]map[string]bool // account -> lower-case member logins; nil map: unknown
	firstParty map[string]bool
	people     *Directory // nil: no directory, leavers unknown
	exceptions map[string]Exception
	// byKind lists, per known kind, the rules (indexes into Rules) that
	// are on and can fire for that kind; imported and other kinds share
	// the lists of their kind of kind. evaluate walks only those: every
	// rule for every identity was a map look-up and a switch each, most
	// of them for rules that cannot fire (issue 21).
	byKind             map[Kind]*kindRules
	imported, anyOther *kindRules
}

// NewEvaluator prepares p for evaluation at now.
func NewEvaluator(p Policy, now time.Time) *Evaluator {
	p = p.withDefaults()
	e := &Evaluator{policy: p, now: now.UTC(), firstParty: map[string]bool{}, members: map[string]map[string]bool{}}
	e.rules, e.owasp = make([]RulePolicy, len(Rules)), make([]string, len(Rules))
	for i, rule := range Rules {
		e.rules[i], e.owasp[i] = p.Rules[rule], OWASPNHI[rule]
	}
	for _, a := range p.FirstPartyApps {
		e.firstParty[strings.ToLower(a)] = true
	}
	e.byKind = make(map[Kind]*kindRules, len(Kinds))
	for _, k := range Kinds {
		e.byKind[k] = e.kindRules(k)
	}
	// canFire reads a kind only through isAWS, isK8s, Imported,
	// TracksLastUse and comparisons with known kinds: every imported kind
	// answers as the prefix does, every other unknown kind as "".
	e.imported, e.anyOther = e.kindRules(ImportKindPrefix), e.kindRules("")
	return e
}

// kindRules are the rules evaluate checks for one kind: with the owner-
// dependent ones (Evaluate) and without them (EvaluateObservation).
type kindRules struct{ withOwners, withoutOwners []uint8 }

func (e *Evaluator) kindRules(k Kind) *kindRules {
	kr := &kindRules{}
	for i, rule := range Rules {
		if !e.rules[i].On() || !canFire(rule, k) {
			continue
		}
		kr.withOwners = append(kr.withOwners, uint8(i))
		if !OwnerDependent(rule) {
			kr.withoutOwners = append(kr.withoutOwners, uint8(i))
		}
	}
	return kr
}

// rulesOf is the rules evaluate checks for an identity of kind k.
func (e *Evaluator) rulesOf(k Kind) *kindRules {
	if kr := e.byKind[k]; kr != nil {
		return kr
	}
	if k.Imported() {
		return e.imported
	}
	return e.anyOther
}

// canFire reports whether check can return a finding of rule for some
// identity of kind k: false only where check (and checkAWS, checkK8s,
// certificateCheck) returns "" for every identity of that kind, by the
// dispatch on kind that starts each rule's case. evaluate skips the rest;
// TestEvaluateChecksOnlyRulesThatCanFire holds the two equal.
func canFire(rule string, k Kind) bool {
	if rule == RuleExceptionExpired {
		return true // any identity can hold an exception
	}
	switch {
	case isAWS(k):
		switch rule {
		case RuleStale, RuleOrphaned, RuleOverprivileged:
			return true
		case RuleUnrotated, RuleNoExpiry:
			return k == KindAWSAccessKey
		case RuleHumanCredential:
			return k == KindAWSIAMUser || k == KindAWSAccessKey
		case RuleBroadTrust, RuleThirdParty:
			return k == KindAWSIAMRole
		}
		return false
	case isK8s(k):
		sa := k == KindK8sServiceAccount
		switch rule {
		case RuleOrphaned:
			return true
		case RuleOverprivileged, RuleDefaultSA, RuleUnused, RuleAutomount, RuleReuse:
			return sa
		case RuleNoExpiry, RuleStale:
			return !sa
		}
		return false
	}
	switch rule {
	case RuleExpired, RuleExpiring, RuleOrphaned, RuleOverprivileged, RuleBroadScope:
		return true
	case RuleStale:
		return k == KindGitHubRunner || k == KindGitHubWebhook || k.TracksLastUse() || k.Imported()
	case RuleUnrotated:
		return isSecretKind(k) || k == KindGitHubDeployKey || k.Imported()
	case RuleNoExpiry:
		return k == KindGitHubFineGrainedPAT || k == KindGitHubCredentialAuthorization
	case RuleThirdParty:
		return k == KindGitHubAppInstallation
	case RuleHumanCredential:
		return k == KindGitHubFineGrainedPAT || k == KindGitHubCredentialAuthorization || k == KindGitHubDeployKey || isSecretKind(k)
	case RuleWeakKey, RuleSelfSigned, RuleNotYetValid, RuleLongLived, RuleWildcard:
		return k == KindX509Certificate
	case RuleInsecureWebhook:
		return k == KindGitHubWebhook
	}
	return false
}

// isSecretKind reports the kinds whose value is a secret someone stored:
// unrotated reads when it last changed, human-credential its name.
func isSecretKind(k Kind) bool {
	switch k {
	case KindGitHubActionsSecret, KindGitHubDependabotSecret, KindGitHubCodespacesSecret, KindGitHubAgentsSecret, KindGitHubPrivateRegistry:
		return true
	}
	return false
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

// HolderAttributes are the attributes NaturalOwner reads, first set first:
// a PAT's owner, an SSO authorization's login, a deploy key's adder.
var HolderAttributes = []string{"owner", "login", "added_by"}

// NaturalOwner is who the source says holds the identity: a PAT's or
// credential's owner, the person who added a deploy key. It is a
// suggestion until someone records an owner.
func NaturalOwner(o *Observation) string {
	for _, k := range HolderAttributes {
		if v := o.Attributes[k]; v != "" {
			return v
		}
	}
	return ""
}

// Evaluate returns id's findings in rule order. account is the account
// (organisation) the identity belongs to, for membership.
func (e *Evaluator) Evaluate(id *Identity, account string) []Finding {
	return e.evaluate(id, account, true, nil)
}

// EvaluateObservation returns the findings that depend on the observation
// alone: every rule but the owner-dependent ones (orphaned), which change
// when someone records an owner and so are evaluated live.
func (e *Evaluator) EvaluateObservation(o *Observation) []Finding {
	return e.evaluate(&Identity{Observation: *o}, "", false, nil)
}

// OwnerDependent reports whether a rule's outcome changes with what people
// record in the event log after the snapshot: owners (orphaned) and review
// decisions (exception-expired). Such rules are evaluated live, never
// stored with a snapshot.
func OwnerDependent(rule string) bool { return rule == RuleOrphaned || rule == RuleExceptionExpired }

// evaluateRoom is how many findings evaluate gathers on the stack: more
// than there are rules (TestEveryRuleFitsEvaluateRoom), so one identity's
// findings always fit.
const evaluateRoom = 24

// evaluate is Evaluate (withOwners) or EvaluateObservation; the findings
// leave in slab when there is one.
func (e *Evaluator) evaluate(id *Identity, account string, withOwners bool, slab *findingSlab) []Finding {
	return e.evaluateRules(e.rulesOf(id.Kind), id, account, withOwners, slab)
}

// evaluateRules is evaluate with kr, the rules of id's kind (rulesOf).
func (e *Evaluator) evaluateRules(kr *kindRules, id *Identity, account string, withOwners bool, slab *findingSlab) []Finding {
	rules := kr.withOwners
	if !withOwners {
		rules = kr.withoutOwners
	}
	if slab != nil {
		// Straight into the slab, which has room for every rule: the
		// stack's buffer below, zeroed for each identity, was 1.5 KB
		// written a million times at a million (issue 21).
		b := slab.room(len(rules))
		start := len(*b)
		for _, i := range rules {
			rule, r := Rules[i], &e.rules[i]
			if msg := e.check(rule, r, id, &id.Observation, account); msg != "" {
				*b = append(*b, Finding{Rule: rule, Severity: r.Severity, OWASP: e.owasp[i], Message: msg})
			}
		}
		if len(*b) == start {
			return nil
		}
		return (*b)[start:len(*b):len(*b)]
	}
	// Findings gather on the stack and leave in one allocation of their
	// exact size: appending to a nil slice grew it one finding at a time,
	// several allocations per identity of a million-row load (issue 21).
	var buf [evaluateRoom]Finding
	n := 0
	for _, i := range rules {
		rule, r := Rules[i], &e.rules[i]
		if msg := e.check(rule, r, id, &id.Observation, account); msg != "" {
			buf[n] = Finding{Rule: rule, Severity: r.Severity, OWASP: e.owasp[i], Message: msg}
			n++
		}
	}
	if n == 0 {
		return nil
	}
	return append(make([]Finding, 0, n), buf[:n]...)
}

// findingSlab holds the findings of many identities in blocks, an
// allocation a block rather than one an identity with findings (most of
// a large population has some). A slab that is reset (the table read's
// chunks) writes its blocks again, rather than leave them to the
// collector: a million identities' findings were 136 MB of blocks
// allocated and dropped a chunk at a time (issue 21).
type findingSlab struct {
	blocks [][]Finding
	at     int // the block being filled
}

// keep copies fs into the slab and returns the copy, whose capacity ends
// with it: an append to one identity's findings never writes over the
// next one's.
func (s *findingSlab) keep(fs []Finding) []Finding {
	b := s.room(len(fs))
	start := len(*b)
	*b = append(*b, fs...)
	return (*b)[start:len(*b):len(*b)]
}

// room is the block to append up to n findings to without its growing:
// the one being filled, else the next with room, else a new one. What is
// appended is handed out as (*b)[start:len(*b):len(*b)], as keep does.
func (s *findingSlab) room(n int) *[]Finding {
	for s.at < len(s.blocks) && cap(s.blocks[s.at])-len(s.blocks[s.at]) < n {
		s.at++
	}
	if s.at == len(s.blocks) {
		s.blocks = append(s.blocks, make([]Finding, 0, max(512, n)))
	}
	return &s.blocks[s.at]
}

// reset empties the slab for findings that replace those it holds,
// which nobody may read any more.
func (s *findingSlab) reset() {
	for i := range s.blocks[:min(s.at+1, len(s.blocks))] {
		clear(s.blocks[i]) // their messages go with them
		s.blocks[i] = s.blocks[i][:0]
	}
	s.at = 0
}

// check is rule's finding for id, "" for none; evaluate calls it only for
// rules that are on.
func (e *Evaluator) check(rule string, r *RulePolicy, id *Identity, o *Observation, account string) string {
	if rule == RuleExceptionExpired {
		return e.exceptionExpired(id)
	}
	if isAWS(o.Kind) {
		return e.checkAWS(rule, id, o, *r)
	}
	if isK8s(o.Kind) {
		return e.checkK8s(rule, id, o, *r)
	}
	switch rule {
	case RuleExpired:
		if o.ExpiresAt != nil && o.ExpiresAt.Before(e.now) {
			var buf [msgRoom]byte
			return string(e.appendDated(buf[:0], "expired ", o.ExpiresAt, ", ", " ago, but still present"))
		}
	case RuleExpiring:
		if o.ExpiresAt != nil && !o.ExpiresAt.Before(e.now) && o.ExpiresAt.Before(e.now.AddDate(0, 0, r.Days)) {
			var buf [msgRoom]byte
			return withPolicy(e.appendDated(buf[:0], "expires ", o.ExpiresAt, ", in ", ""), r.Days)
		}
	case RuleStale:
		return e.stale(o, *r)
	case RuleUnrotated:
		return e.unrotated(o, *r)
	case RuleNoExpiry:
		// An expiry not reported (an import's empty expires_at) is no
		// evidence that there is none.
		if o.ExpiresAt == nil && (o.Kind == KindGitHubFineGrainedPAT || isClassicPAT(o)) && o.Attributes[AttrExpiryUnknown] != "true" {
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
	case RuleWeakKey, RuleSelfSigned, RuleNotYetValid, RuleLongLived, RuleWildcard:
		if o.Kind == KindX509Certificate {
			return certificateCheck(rule, o, *r, e.now)
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
			var buf [msgRoom]byte
			return withPolicy(e.appendDated(buf[:0], "last used ", o.LastUsedAt, ", ", " ago"), r.UnusedDays)
		}
		return ""
	}
	if o.Kind.TracksLastUse() && o.CreatedAt != nil && e.daysSince(*o.CreatedAt) > r.NeverUsedDays && ReportsLastUse(o.Kind, o.Attributes[AttrLastUseUnknown]) {
		var buf [msgRoom]byte
		return withPolicy(e.appendDated(buf[:0], "never used since it was created ", o.CreatedAt, ", ", " ago"), r.NeverUsedDays)
	}
	return ""
}

func (e *Evaluator) unrotated(o *Observation, r RulePolicy) string {
	switch o.Kind {
	case KindGitHubActionsSecret, KindGitHubDependabotSecret, KindGitHubCodespacesSecret, KindGitHubAgentsSecret, KindGitHubPrivateRegistry:
		// Without a rotation, the value is as old as the secret; but a
		// rotation not reported (an import's empty rotated_at) is not
		// "never rotated", so its creation does not stand in for it.
		t := o.RotatedAt
		if t == nil && o.Attributes[AttrRotationUnknown] != "true" {
			t = o.CreatedAt
		}
		if t != nil && e.daysSince(*t) > r.Days {
			var buf [msgRoom]byte
			return withPolicy(e.appendDated(buf[:0], "value last changed ", t, ", ", " ago"), r.Days)
		}
	case KindGitHubDeployKey:
		// A key cannot be changed, only replaced: its age is its rotation.
		if o.CreatedAt != nil && e.daysSince(*o.CreatedAt) > r.Days {
			var buf [msgRoom]byte
			return withPolicy(e.appendDated(buf[:0], "key created ", o.CreatedAt, ", ", " ago, never replaced"), r.Days)
		}
	default:
		// An import that says when the secret material last changed
		// (its rotated_at) is held to the same days.
		if t := o.RotatedAt; t != nil && o.Kind.Imported() && e.daysSince(*t) > r.Days {
			var buf [msgRoom]byte
			return withPolicy(e.appendDated(buf[:0], "secret material last changed ", t, ", ", " ago"), r.Days)
		}
	}
	return ""
}

// orphaned is the orphaned rule for every kind: no owner recorded and
// none the source names (an import's owner cell, a token's holder), or an
// owner who left. AWS and Kubernetes identities pass no account: their
// tags and labels only suggest an owner, and organisation membership is
// GitHub's.
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
	if list := o.Attributes["scopes"]; list != "" { // no split of nothing: an allocation an identity
		for _, s := range strings.Split(list, ",") {
			if s = strings.TrimSpace(s); slices.Contains(adminScopes, s) {
				scopes = append(scopes, s)
			}
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

// personalKeyName is personalKey.MatchString(name), by a plain scan when
// name is ASCII: the regular expression cost a million deploy keys 1.7 s
// of a snapshot (issue 21). Other text goes to the expression, whose
// case folding (ſ, K) a plain scan would not reproduce.
func personalKeyName(name string) bool {
	lower, ok := asciiLower(name)
	if !ok {
		return personalKey.MatchString(name)
	}
	for _, w := range []string{"laptop", "macbook", "desktop", "workstation", "personal", "'s key"} {
		if strings.Contains(lower, w) {
			return true
		}
	}
	// \bmy key\b: "my key" with no ASCII word character either side.
	for i := 0; ; {
		j := strings.Index(lower[i:], "my key")
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len("my key")
		if (start == 0 || !isWordByte(lower[start-1])) && (end == len(lower) || !isWordByte(lower[end])) {
			return true
		}
		i = start + 1
	}
}

// patSecretName is patName.MatchString(name), by a plain scan when name
// is ASCII (see personalKeyName): one of the names as a whole
// underscore-separated part of it, compared without regard to case where
// each part begins, with no copy of name in lower case (a secret's name
// is mostly upper case, and lowering it was an allocation for each of a
// million secrets at every open, issue 21).
func patSecretName(name string) bool {
	for i := 0; i < len(name); i++ {
		if name[i] >= utf8.RuneSelf {
			return patName.MatchString(name)
		}
	}
	for start := 0; start < len(name); start++ {
		if start > 0 && name[start-1] != '_' {
			continue
		}
		for _, w := range patWords {
			end := start + len(w)
			if end <= len(name) && (end == len(name) || name[end] == '_') && strings.EqualFold(name[start:end], w) {
				return true
			}
		}
	}
	return false
}

// patWords are the names patName matches, in lower case.
var patWords = []string{"pat", "personal_access_token", "gh_token", "github_token", "gh_pat"}

// asciiLower is s in lower case, and false when s is not all ASCII.
func asciiLower(s string) (string, bool) {
	upper := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			return "", false
		}
		upper = upper || 'A' <= c && c <= 'Z'
	}
	if !upper {
		return s, true
	}
	return strings.ToLower(s), true
}

// isWordByte is \w of a regular expression: an ASCII letter, digit or _.
func isWordByte(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

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
		if personalKeyName(o.Name) {
			return fmt.Sprintf("deploy key %q is named like a person's own machine", o.Name)
		}
	case KindGitHubActionsSecret, KindGitHubDependabotSecret, KindGitHubCodespacesSecret, KindGitHubAgentsSecret, KindGitHubPrivateRegistry:
		if patSecretName(o.Name) {
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

// day is t's date, YYYY-MM-DD: formatTime's first ten characters.
func day(t *time.Time) string {
	var buf [16]byte
	return string(appendDay(buf[:0], t))
}

// appendDay appends day(t) to b.
func appendDay(b []byte, t *time.Time) []byte {
	u := t.UTC()
	y, mo, d := u.Date()
	if y < 0 || y > 9999 {
		return u.AppendFormat(b, "2006-01-02")
	}
	two := func(b []byte, n int) []byte { return append(b, byte('0'+n/10), byte('0'+n%10)) }
	b = two(two(b, y/100), y%100)
	b = two(append(b, '-'), int(mo))
	return two(append(b, '-'), d)
}

func (e *Evaluator) daysSince(t time.Time) int {
	return int(math.Floor(e.now.Sub(t).Hours() / 24))
}

// appendDays appends how many whole days lie between t and now to b:
// "1,412 days".
func (e *Evaluator) appendDays(b []byte, t time.Time) []byte {
	d := e.daysSince(t)
	if d < 0 {
		d = -d
	}
	if d == 1 {
		return append(b, "1 day"...)
	}
	return append(appendThousands(b, d), " days"...)
}

// msgRoom is how much of a dated message is built on the stack.
const msgRoom = 160

// appendDated appends before + day(t) + between + appendDays(t) + after to
// b: the messages of the rules that fire for most identities (stale,
// unrotated, expired, expiring), built in one buffer, so each leaves as
// one string; fmt.Sprintf with day and days took six allocations a
// finding, and a million identities have about a million of them
// (issue 21).
func (e *Evaluator) appendDated(b []byte, before string, t *time.Time, between, after string) []byte {
	b = appendDay(append(b, before...), t)
	b = e.appendDays(append(b, between...), *t)
	return append(b, after...)
}

// policySuffix is what withPolicy writes before the number of days.
const policySuffix = "; policy: "

// Text is the finding's message as a reader is shown it: the number of
// days a message ends with after "; policy: " says it is days ("policy:
// 90 days"; "policy: 90" left the reader to guess). The message stays as
// it is stored: snapshots record it under their digest, and exported
// reports, which a rebuild must match byte for byte, print it so.
func (f Finding) Text() string { return MessageText(f.Message) }

// MessageText is Finding.Text for a message.
func MessageText(msg string) string {
	i := strings.LastIndex(msg, policySuffix)
	if i < 0 {
		return msg
	}
	n := msg[i+len(policySuffix):]
	days, err := strconv.Atoi(n)
	if err != nil || days < 0 || strconv.Itoa(days) != n {
		return msg
	}
	return msg[:i+len(policySuffix)] + Counted(days, "day", "days")
}

// withPolicy is the message in b with "; policy: DAYS" after it.
func withPolicy(b []byte, days int) string {
	return string(strconv.AppendInt(append(b, policySuffix...), int64(days), 10))
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

// errNotSet is atoiSet's error for an attribute that is not set.
var errNotSet = errors.New("not set")

// atoiSet is strconv.Atoi(s), but without parsing (and allocating the
// syntax error) when s is empty, as most identities' attributes are.
func atoiSet(s string) (int, error) {
	if s == "" {
		return 0, errNotSet
	}
	return strconv.Atoi(s)
}
