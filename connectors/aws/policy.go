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
	Effect    string                                `json:"Effect"`
	Action    oneOrMany[string]                     `json:"Action"`
	Resource  oneOrMany[string]                     `json:"Resource"`
	Principal principal                             `json:"Principal"`
	Condition map[string]map[string]json.RawMessage `json:"Condition"`
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

// grants are the broad permissions a set of policies gives.
type grants struct {
	all, iamAll, passRoleAll bool
	admin                    []string // names of AWS policies known to be broad
	// unread names the policies whose document is empty or does not parse
	// ("deploy (inline)"): what they grant is not known, never nothing.
	unread []string
}

// awsBroad are AWS managed policies whose documents nhi does not read
// (they are not in the account) but whose reach is known: all actions,
// and all of IAM.
var awsBroad = map[string]bool{
	"arn:aws:iam::aws:policy/AdministratorAccess": true,
	"arn:aws:iam::aws:policy/IAMFullAccess":       true,
}

// addDoc adds what the document of the policy named name grants.
func (g *grants) addDoc(name string, doc *policyDoc) {
	if doc == nil {
		g.unread = append(g.unread, name)
		return
	}
	for _, st := range doc.Statement {
		if st.Effect != "Allow" {
			continue
		}
		anyResource := len(st.Resource) == 0 || slices.Contains(st.Resource, "*")
		for _, a := range st.Action {
			switch strings.ToLower(a) {
			case "*", "*:*":
				if anyResource {
					g.all = true
				}
			case "iam:*":
				g.iamAll = true
			case "iam:passrole", "iam:pass*":
				if anyResource {
					g.passRoleAll = true
				}
			}
		}
	}
}

func (g *grants) addManaged(arn string, local map[string]*policyDoc) {
	name := arn[strings.LastIndex(arn, "/")+1:]
	if doc, ok := local[arn]; ok {
		g.addDoc(name, doc)
		return
	}
	if awsBroad[arn] {
		g.admin = append(g.admin, name)
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
}

func parseTrust(doc *policyDoc) trust {
	var t trust
	if doc == nil {
		return t
	}
	for _, st := range doc.Statement {
		if st.Effect != "Allow" {
			continue
		}
		if st.Principal.Star {
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
