package aws

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// IAM serves policy documents URL-encoded; decodeDoc undoes that and
// parses the JSON. A document that does not parse yields nil: what it
// grants is then unknown, never "nothing".
func decodeDoc(s string) *policyDoc {
	if s == "" {
		return nil
	}
	if d, err := url.QueryUnescape(s); err == nil {
		s = d
	}
	var doc policyDoc
	if err := json.Unmarshal([]byte(s), &doc); err != nil {
		return nil
	}
	return &doc
}

type policyDoc struct {
	Statement oneOrMany[statement] `json:"Statement"`
}

type statement struct {
	Effect      string            `json:"Effect"`
	Action      oneOrMany[string] `json:"Action"`
	NotAction   oneOrMany[string] `json:"NotAction"`
	Resource    oneOrMany[string] `json:"Resource"`
	NotResource oneOrMany[string] `json:"NotResource"`
	Principal   principal         `json:"Principal"`
	// NotPrincipal is every principal but those named; nil when absent.
	NotPrincipal *principal                            `json:"NotPrincipal"`
	Condition    map[string]map[string]json.RawMessage `json:"Condition"`
}

// oneOrMany is IAM's "a value or a list of values".
type oneOrMany[T any] []T

func (o *oneOrMany[T]) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '[' {
		var many []T
		err := json.Unmarshal(b, &many)
		*o = many
		return err
	}
	var one T
	if err := json.Unmarshal(b, &one); err != nil {
		return err
	}
	*o = []T{one}
	return nil
}

// principal is "*" or {"AWS": ..., "Service": ..., "Federated": ...}.
type principal struct {
	Star      bool
	AWS       oneOrMany[string]
	Service   oneOrMany[string]
	Federated oneOrMany[string]
}

func (p *principal) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		p.Star = s == "*"
		return nil
	}
	var m struct {
		AWS       oneOrMany[string] `json:"AWS"`
		Service   oneOrMany[string] `json:"Service"`
		Federated oneOrMany[string] `json:"Federated"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	p.AWS, p.Service, p.Federated = m.AWS, m.Service, m.Federated
	p.Star = slices.Contains(m.AWS, "*")
	return nil
}

// names are the principals p names.
func (p principal) names() []string {
	out := slices.Clone(p.AWS)
	out = append(out, p.Service...)
	return append(out, p.Federated...)
}

// grants are the broad permissions a set of policies gives.
type grants struct {
	all, iamAll, passRoleAll bool
	admin                    []string // AWS managed policies known to be broad, in words
	// notEvaluated names the AWS managed policies nhi does not know:
	// their documents are not read, so what they grant is not known.
	notEvaluated []string
	// broad are other broad grants in words: "all actions except iam:*",
	// "*:* on all resources except arn:aws:s3:::logs/*".
	broad []string
	// denies name the Deny statements of the policies ("deploy (inline):
	// Deny iam:*"): nhi does not weigh them against what is allowed, so
	// they never make it claim less than is granted.
	denies []string
	// unread names the policies whose document is empty, does not parse
	// or was not listed ("deploy (inline)", "group ops (not in the
	// listing)"): what they grant is not known, never nothing.
	unread []string
}

// awsBroad are the AWS managed policies nhi knows to be broad, with what
// they grant in words ("" where the name says it). nhi does not read
// AWS managed policies' documents (they are AWS's, not the account's);
// any name ending in FullAccess (AmazonS3FullAccess, AWSLambda_FullAccess)
// is broad too: full access to its service. README "Reading AWS" lists
// them; any other AWS managed policy is not evaluated, never "nothing".
var awsBroad = map[string]string{
	"AdministratorAccess": "",
	"IAMFullAccess":       "",
	"PowerUserAccess":     "all actions except iam:*, organizations:*, account:*",
}

// awsManaged reports an AWS managed policy's ARN
// ("arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"), in any
// partition.
func awsManaged(arn string) bool { return strings.Contains(arn, ":iam::aws:policy/") }

// awsGrant is what the AWS managed policy named name grants, in words,
// and whether nhi knows it to be broad.
func awsGrant(name string) (string, bool) {
	if what, ok := awsBroad[name]; ok {
		if what == "" {
			return name, true
		}
		return name + " (" + what + ")", true
	}
	if strings.HasSuffix(name, "FullAccess") {
		return name + " (AWS managed: full access to its service)", true
	}
	return "", false
}

// addDoc adds what the document of the policy named name grants. An
// Allow with NotAction grants every action but those named, one with
// NotResource every resource but those named: broad, said in words. A
// Deny is named, never subtracted (docs/policy.md).
func (g *grants) addDoc(name string, doc *policyDoc) {
	if doc == nil {
		g.unread = append(g.unread, name)
		return
	}
	for _, st := range doc.Statement {
		if st.Effect == "Deny" {
			g.denies = appendNew(g.denies, name+": Deny "+actionText(st)+resourceText(st))
			continue
		}
		if st.Effect != "Allow" {
			continue
		}
		anyResource := len(st.Resource) == 0 || slices.Contains(st.Resource, "*")
		on := "" // the resources when all but some: " on all resources except ..."
		if len(st.NotResource) > 0 {
			on = resourceText(st)
		}
		broad := func(flag *bool, words string) {
			if on == "" {
				*flag = true
			} else {
				g.broad = appendNew(g.broad, words+on)
			}
		}
		for _, a := range st.Action {
			switch strings.ToLower(a) {
			case "*", "*:*":
				if anyResource {
					broad(&g.all, "*:*")
				}
			case "iam:*":
				broad(&g.iamAll, "iam:*")
			case "iam:passrole", "iam:pass*":
				if anyResource {
					broad(&g.passRoleAll, "iam:PassRole")
				}
			}
		}
		if len(st.NotAction) == 0 || excludes(st.NotAction, "*") {
			continue
		}
		// Every action but those named: broad on every resource, and on
		// named ones when IAM is among what it grants (as iam:* is).
		if anyResource || !excludes(st.NotAction, "iam:*") {
			g.broad = appendNew(g.broad, actionText(st)+resourceText(st))
		}
	}
}

// actionText is a statement's actions in words: "iam:*, s3:*" or "all
// actions except iam:*".
func actionText(st statement) string {
	if len(st.NotAction) > 0 {
		return "all actions except " + strings.Join(st.NotAction, ", ")
	}
	return strings.Join(st.Action, ", ")
}

// resourceText is where a statement applies, in words: "" for every
// resource, " on all resources except ...", " on arn:...".
func resourceText(st statement) string {
	switch {
	case len(st.NotResource) > 0:
		return " on all resources except " + strings.Join(st.NotResource, ", ")
	case len(st.Resource) == 0 || slices.Contains(st.Resource, "*"):
		return ""
	}
	return " on " + strings.Join(st.Resource, ", ")
}

// excludes reports whether the action patterns of a NotAction cover all
// of want ("*" or "iam:*"): a pattern matching want's text, its own "*"
// standing for any characters.
func excludes(patterns []string, want string) bool {
	for _, p := range patterns {
		if strings.Contains(p, "?") {
			continue // one character: never a whole service
		}
		if p == "*:*" {
			p = "*"
		}
		if globMatch(strings.ToLower(p), want) {
			return true
		}
	}
	return false
}

// globMatch matches s against an IAM action pattern whose "*" is any run
// of characters.
func globMatch(p, s string) bool {
	star := strings.Index(p, "*")
	if star < 0 {
		return p == s
	}
	if !strings.HasPrefix(s, p[:star]) {
		return false
	}
	rest := p[star+1:]
	for i := star; i <= len(s); i++ {
		if globMatch(rest, s[i:]) {
			return true
		}
	}
	return false
}

func (g *grants) addManaged(arn string, local map[string]*policyDoc) {
	name := arn[strings.LastIndex(arn, "/")+1:]
	if doc, ok := local[arn]; ok {
		g.addDoc(name, doc)
		return
	}
	if !awsManaged(arn) {
		// A customer managed policy the listing did not hold (created
		// between its pages): what it grants was not read.
		g.unread = append(g.unread, name+" (not in the listing)")
		return
	}
	if what, ok := awsGrant(name); ok {
		g.admin = appendNew(g.admin, what)
	} else {
		g.notEvaluated = appendNew(g.notEvaluated, name)
	}
}

// String lists what is broad, "" when nothing is.
func (g grants) String() string {
	var out []string
	out = append(out, g.admin...)
	if g.all {
		out = append(out, "*:*")
	}
	if g.iamAll {
		out = append(out, "iam:*")
	}
	if g.passRoleAll {
		out = append(out, "iam:PassRole on *")
	}
	out = append(out, g.broad...)
	return strings.Join(out, ", ")
}

// trust is a role's trust policy, parsed for the auditor and the rules.
type trust struct {
	accounts     []string // account IDs trusted (from ARNs, IDs and :root)
	services     []string
	federated    []string // SAML and OIDC provider ARNs
	oidcNoSub    []string // OIDC providers trusted without a condition on "sub"
	conditions   []string // "StringLike token.actions.githubusercontent.com:sub=repo:acme/api:*"
	starNoCond   bool     // Principal "*" without any condition
	starWithCond bool
	// starExcept names the principals an Allow's NotPrincipal leaves
	// out: it trusts every other, as "*" does.
	starExcept []string
}

func parseTrust(doc *policyDoc) trust {
	var t trust
	if doc == nil {
		return t
	}
	starAll := false // a Principal "*" without a condition: no one excepted
	for _, st := range doc.Statement {
		if st.Effect != "Allow" {
			continue
		}
		// Every principal but those named; but "*" leaves no one.
		allBut := st.NotPrincipal != nil && !st.NotPrincipal.Star
		if allBut {
			t.starExcept = appendNew(t.starExcept, st.NotPrincipal.names()...)
		}
		if st.Principal.Star && len(st.Condition) == 0 {
			starAll = true
		}
		if st.Principal.Star || allBut {
			if len(st.Condition) == 0 {
				t.starNoCond = true
			} else {
				t.starWithCond = true
			}
		}
		for _, a := range st.Principal.AWS {
			if acct := accountOf(a); acct != "" && !slices.Contains(t.accounts, acct) {
				t.accounts = append(t.accounts, acct)
			}
		}
		t.conditions = appendNew(t.conditions, conditionList(st.Condition)...)
		t.services = appendNew(t.services, st.Principal.Service...)
		t.federated = appendNew(t.federated, st.Principal.Federated...)
		for _, f := range st.Principal.Federated {
			_, host, ok := strings.Cut(f, ":oidc-provider/")
			if ok && !conditionOn(st.Condition, host+":sub") {
				t.oidcNoSub = appendNew(t.oidcNoSub, host)
			}
		}
	}
	if starAll {
		t.starExcept = nil
	}
	return t
}

// conditionList renders a statement's conditions, sorted: "operator
// key=value" each, a list of values joined with "|".
func conditionList(cond map[string]map[string]json.RawMessage) []string {
	var out []string
	for op, kv := range cond {
		for k, raw := range kv {
			var vals oneOrMany[any]
			if json.Unmarshal(raw, &vals) != nil {
				continue
			}
			strs := make([]string, len(vals))
			for i, v := range vals {
				strs[i] = fmt.Sprint(v)
			}
			out = append(out, op+" "+k+"="+strings.Join(strs, "|"))
		}
	}
	slices.Sort(out)
	return out
}

// conditionOn reports whether any condition operator tests key.
func conditionOn(cond map[string]map[string]json.RawMessage, key string) bool {
	for _, kv := range cond {
		for k := range kv {
			if strings.EqualFold(k, key) {
				return true
			}
		}
	}
	return false
}

// accountOf is the account an AWS principal names: "123456789012",
// "arn:aws:iam::123456789012:root", a role or user ARN.
func accountOf(p string) string {
	if p == "*" {
		return ""
	}
	if !strings.HasPrefix(p, "arn:") {
		return p
	}
	parts := strings.SplitN(p, ":", 6)
	if len(parts) < 5 {
		return ""
	}
	return parts[4]
}

func appendNew(s []string, vs ...string) []string {
	for _, v := range vs {
		if !slices.Contains(s, v) {
			s = append(s, v)
		}
	}
	return s
}
