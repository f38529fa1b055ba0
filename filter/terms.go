package filter

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Subject is what a filter is matched against: one identity, read through
// accessors so that this package needs nothing from the package that
// defines identities (*audit.Identity implements it). Match calls these
// for every identity it looks at: they must not allocate.
type Subject interface {
	// FilterText is a text field (ID, Kind, Name, Scope, Owner, Source,
	// Status); "" when absent.
	FilterText(f Field) string
	// FilterTime is a timestamp field (LastUsed, Created, Rotated,
	// Expires); nil when not known.
	FilterTime(f Field) *time.Time
	// FilterMap is Attributes or Permissions: a lower-case name and its
	// value.
	FilterMap(f Field) map[string]string
	// FilterFinding is the rule and severity of the i-th finding; ok is
	// false once i is past the last.
	FilterFinding(i int) (rule, severity string, ok bool)
	// FilterTracksLastUse reports whether the subject's source says when it
	// was last used, so that no last use means "never used" rather than
	// "not reported".
	FilterTracksLastUse() bool
	// FilterUnread reports whether the subject's value of the map field f
	// (Attributes or Permissions) under key was not read (key "": any of
	// them), of the time field Expires or Rotated (key ""), whether the
	// source left it unsaid, so that none is not "never", or, of
	// Findings, whether something its rules read was not:
	// no value (no finding, no expiry) is then not known, never none, and
	// neither a term that claims it absent (perm:none, attr.KEY:none,
	// finding:none, expires:never) nor the negation of one that looks for
	// it (-perm:any, -perm:admin, -expires<14d) matches. Match asks it only
	// where the answer turns on it.
	FilterUnread(f Field, key string) bool
}

// Field names a value a Subject gives the filter.
type Field uint8

// Fields of a Subject.
const (
	ID Field = iota
	Kind
	Name
	Scope
	Owner
	Source
	Status
	LastUsed
	Created
	Rotated
	Expires
	Attributes
	Permissions
	Account
	// Findings is asked of FilterUnread alone: whether what the rules
	// read of the subject was read.
	Findings
)

// Env is what a filter needs besides the subject.
type Env struct {
	// Now is the moment relative durations count from. Required by
	// filters with unused, expires, age, rotated or expired terms: Match
	// panics if such a term meets a zero Now.
	Now time.Time
	// Review answers the campaign terms (decision:, reviewer:,
	// campaign:). nil: no campaign is in view, and those terms match
	// nothing; callers that can say so refuse such a filter up front
	// ([Filter.NeedsCampaign], [Filter.Campaigns]).
	Review Review
	// Related reports whether the subject is related to the person
	// (any alias), through any relationship (owns, created, holds,
	// suggested, could-read: docs/offboarding.md). Required by filters
	// with person terms (Filter.People names them): Match panics if such
	// a term meets a nil Related.
	Related func(s Subject, person string) bool
}

// Review is the campaign context a filter reads, which this package cannot
// know: the population of each campaign, who reviews each item and what was
// decided. cmd/nhi implements it over the campaigns package, the TUI over
// the items it read through its Reviewer. Match calls Item for every
// identity a campaign term looks at: it must not allocate.
type Review interface {
	// Item is identity id's item in the campaign named (in lower case:
	// names are case-insensitive), or in the campaign in view when
	// campaign is "";
	// ok is false when id is outside that campaign's population, or no
	// such campaign is known.
	Item(campaign, id string) (it Item, ok bool)
}

// Item is one identity's place in a campaign, as a filter sees it.
type Item struct {
	Reviewer string // the assigned reviewer; "" when none could be assigned
	// Mine reports whether Reviewer is the person the filter is for (the
	// actor: --as), under any of their aliases: reviewer:me.
	Mine bool
	// Decision is the current decision: "pending" while nobody has
	// decided (carried decisions awaiting confirmation included),
	// "decommission", "keep", "rotate" or "no-response".
	Decision string
	// Findings says the item had findings when its campaign froze it: a
	// keep or rotate on it needs a reason. No term reads it; a reviewer's
	// prompt does.
	Findings bool
}

var noEnv Env

// Vocabulary is what the language knows of the domain it filters: the
// values enum fields accept, checked when a filter is compiled so that a
// typo is an error rather than a filter that matches nothing.
type Vocabulary struct {
	Kinds      []string // every known kind, full names: "github_deploy_key" (short: "deploy_key")
	Rules      []string // finding rules, in the order hints list them
	Severities []string // lowest first: severity:high also matches critical
	Statuses   []string // the first is the status of what is present now: Active's

	// FreeKinds is the prefix of kinds nobody can list in advance (an
	// import's "import_bot_token"): kind:import_bot_token is accepted
	// as it is, and so is a glob that may match such a kind. "": none.
	FreeKinds string
	// Printable makes text safe for a terminal; Error.Caret uses it.
	Printable func(string) string
}

// fields is the one list of filter fields. The parser, its hints and
// examples, docs/filter.md's field table (TestDocsFieldTable) and the
// field list in errors, which the TUI shows, all read it. A field over
// values the Subject already gives is one line here; a new value also
// needs a Field and its case in the subject's accessors.
var fields = []field{
	{name: "kind", compile: kindField, example: "kind:deploy_key", docs: []row{
		{"kind:github_deploy_key", "are of that kind"},
		{"kind:deploy_key", "the same: the kind without its source prefix"},
		{"kind:*secret", "glob over the kind, full or short name: actions, Dependabot and Codespaces secrets"}}},
	{name: "finding", compile: findingField, example: "finding:stale", docs: []row{
		{"finding:stale", "have a finding of that rule"},
		{"finding:no-*", "have a finding whose rule matches the glob"},
		{"finding:any` / `finding:none", "have at least one finding / none, as read: no finding of an identity whose policies, trust policy, last use, expiry or rotation were not read (`policies_unknown`, `trust_unknown`, `last_used_unknown`, `expires_unknown`, `rotated_unknown`), where a rule may have found something, is not known, so neither `finding:none` nor `-finding:any` matches it (see \"What was not read\")"}}},
	{name: "severity", compile: severityField, example: "severity:high", docs: []row{
		{"severity:high", "have a finding of that severity **or above** (`low < medium < high < critical`)"}}},
	{name: "owner", compile: textField(Owner, true), example: "owner:alice or owner:none", docs: []row{
		{"owner:alice", "are owned by `alice` (exact, case-insensitive)"},
		{"owner:alice*", "have an owner matching the glob"},
		{"owner:none` / `owner:any", "have no recorded owner / have one"}}},
	{name: "scope", compile: textField(Scope, false), example: "scope:acme/api*", docs: []row{
		{"scope:acme/api*", "live in a matching scope (`org`, `org/repo`, `org/repo/env`)"}}},
	{name: "name", compile: textField(Name, false), example: "name:deploy*", docs: []row{
		{"name:deploy*", "have a matching name (app slug, key title, secret name)"}}},
	{name: "id", compile: textField(ID, false), example: "id:github:acme:*", docs: []row{
		{"id:github:acme:*", "have a matching identity ID"}}},
	{name: "source", compile: textField(Source, false), example: "source:github", docs: []row{
		{"source:github", "come from a matching source (`github`, `x509`, an import's `--source`)"}}},
	{name: "account", compile: textField(Account, false), example: "account:acme", docs: []row{
		{"account:acme", "were read from a matching account of their source (organisation, certificate set, import account)"}}},
	{name: "status", compile: statusField, example: "status:active", docs: []row{
		{"status:active` / `status:removed` / `status:not-checked", "are present in their account's newest snapshot / were absent where a later snapshot looked / are absent from later snapshots that did not read where they live (a repository the credential does not see, an endpoint that was a gap, a repository renamed since whose new name was not read)"},
		{"status:any", "have any status. `nhi identities` and the TUI list only active identities unless the filter has a `status:` term; the TUI on a campaign lists its items whatever their status"}}},
	{name: "person", compile: personField, example: "person:alice", docs: []row{
		{"person:alice", "are related to the person `alice` of the directory (any alias) in any way: they own it, created it, hold it, are its top owner suggestion, or could read it ([offboarding.md](offboarding.md)); in the review UI it waits for the owner suggestions, derived once the table is ready, and applies once they are in"}}},
	{name: "campaign", compile: campaignField, example: "campaign:q3-review", docs: []row{
		{"campaign:q3-review", "are in the population of that campaign (its name, case-insensitive)"}}},
	{name: "decision", compile: decisionField, example: "decision:pending", docs: []row{
		{"decision:pending", "are in the campaign in view and have no decision yet; also `decommission`, `keep`, `rotate`, `transfer`, `no-response`"}}},
	{name: "reviewer", compile: reviewerField, example: "reviewer:me", docs: []row{
		{"reviewer:me", "are in the campaign in view and assigned to you (`--as`, under any of your aliases)"},
		{"reviewer:alice*", "are assigned to a reviewer matching the glob"},
		{"reviewer:none` / `reviewer:any", "are in the campaign in view with no reviewer assigned / with one"}}},
	{name: "unused", compile: spanField(span{at: LastUsed, idle: true}), example: "unused>90d", docs: []row{
		{"unused>90d", "have not been used for more than 90 days (see below)"}}},
	{name: "expires", compile: spanField(span{at: Expires, until: true, never: true}), example: "expires<14d or expires:never", docs: []row{
		{"expires<14d", "expire within 14 days, **including** those already expired"},
		{"expires:never", "have no expiry date: they never expire, so `expires>30d` holds of them too. An expiry the source left unsaid (`expires_unknown`, an import's empty `expires_at`) is not known, so neither `expires:never` nor `-expires:never` matches it, nor `expires<14d`, `expires>30d` or `expired`, nor their negation"},
		{"expired", "have an expiry date in the past"}}},
	{name: "age", compile: spanField(span{at: Created}), example: "age>365d", docs: []row{
		{"age>365d", "were created more than 365 days ago"}}},
	{name: "rotated", compile: spanField(span{at: Rotated, never: true}), example: "rotated>90d or rotated:never", docs: []row{
		{"rotated>90d", "had their secret material last changed more than 90 days ago"},
		{"rotated:never", "have no rotation date recorded, as read: a rotation the source left unsaid (`rotated_unknown`, an import's empty `rotated_at`) is not known, neither never nor not"}}},
	{name: "used", compile: usedField, example: "used:never", docs: []row{
		{"used:never", "are of a kind that reports last use, and have never been used"},
		{"used:unknown", "are of a kind that does not report last use, or whose last use could not be read (`last_used_unknown=true`: the call that says it was denied) — no evidence either way"}}},
	{name: "attr", key: "KEY", keyOnly: true, compile: attrField, keyExample: ":VALUE", docs: []row{
		{"attr.suspended:true", "have attribute `suspended` matching the glob `true`"},
		{"attr.added_by:any` / `attr.added_by:none", "have the attribute with a non-empty value / do not, as read: a tag (`attr.tag.owner:none`) of an identity whose tags were not read (`tags_unknown`) is not known, neither any nor none, nor their negation"}}},
	{name: "perm", key: "NAME", compile: permField, example: "perm:admin or perm.contents:write", keyExample: ":write", docs: []row{
		{"perm.contents:write", "have permission `contents` at `write` **or above** (`read < write < admin`)"},
		{"perm.secrets:get", "have Kubernetes permission `secrets` (or `*`, every resource) with the verb `get` (or `*`); a verb list ranks as its strongest verb: `get`, `list`, `watch` read, `create`, `update`, `patch`, `delete` write, `escalate`, `bind`, `impersonate`, `*` admin"},
		{"perm.contents:any` / `perm.contents:none", "have that permission at any level / do not have it, as read: of an identity whose permissions were not read (`policies_unknown`), one not found is not known, nor its negation"},
		{"perm:admin", "have **any** permission at `admin` (or above)"},
		{"perm:any` / `perm:none", "have at least one permission / none at all, as read: an identity whose permissions were not read (`policies_unknown`) has none that nhi knows of, which is not none: neither `perm:none` nor `-perm:any` matches it"}}},
}

// field is one row of the field table.
type field struct {
	name       string   // before the operator, lower case
	key        string   // the field also takes a dotted name, as in attr.KEY: its placeholder
	keyOnly    bool     // ... and only a dotted one: "attr" alone is not a field
	compile    compiler // what a term of the field means: its kind of value, and which one
	example    string   // a sample term, for hints ("" when the name alone is not a field)
	keyExample string   // appended to a dotted name for a sample term
	docs       []row    // its rows in the field table of docs/filter.md
}

// row is one row of docs/filter.md's field table: `term` | matches
// identities that… meaning. A term with "` / `" in it shows two.
type row struct{ term, meaning string }

// compiler makes the node for a term of its field.
type compiler func(p *parser, s syntax) (node, *Error)

func lookup(name string) *field {
	for i := range fields {
		if fields[i].name == name {
			return &fields[i]
		}
	}
	return nil
}

func fieldNames() []string {
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.name
	}
	return names
}

// fieldsHint lists the fields, for errors: "fields: kind, …, attr.KEY,
// perm, perm.NAME".
func fieldsHint() string {
	var names []string
	for _, f := range fields {
		if !f.keyOnly {
			names = append(names, f.name)
		}
		if f.key != "" {
			names = append(names, f.name+"."+f.key)
		}
	}
	return "fields: " + strings.Join(names, ", ")
}

// example is a sample term for a field name as written, for hints.
func example(name string) string {
	head, _, _ := strings.Cut(name, ".")
	return lookup(head).exampleFor(name)
}

// exampleFor is a sample term for name, a name of f (nil: no field).
func (f *field) exampleFor(name string) string {
	_, _, dotted := strings.Cut(name, ".")
	switch {
	case f == nil:
	case !dotted && f.example != "":
		return f.example
	case dotted && f.key != "":
		return name + f.keyExample
	}
	return "field:value"
}

// fieldsMarkdown is the field table of docs/filter.md, generated from the
// field list.
func fieldsMarkdown() string {
	var b strings.Builder
	b.WriteString("| term | matches identities that… |\n|---|---|\n")
	for _, f := range fields {
		for _, r := range f.docs {
			fmt.Fprintf(&b, "| `%s` | %s |\n", r.term, r.meaning)
		}
	}
	return b.String()
}

// FieldsText is the field table of docs/filter.md as plain text for a
// terminal of 80 columns (nhi help filter), generated from the same field
// list: one term a line, what it matches beside it or, for a long term,
// below it, wrapped at words under itself; a link to another page names
// the page (docs/offboarding.md).
func FieldsText() string {
	plain := strings.NewReplacer("**", "", "`", "")
	const col, width = 30, 80
	var b strings.Builder
	for _, f := range fields {
		for _, r := range f.docs {
			term := strings.ReplaceAll(r.term, "` / `", " / ")
			meaning := mdLink.ReplaceAllString(plain.Replace(r.meaning), "docs/$1")
			lines := WrapWords(meaning, width-2-col, utf8.RuneCountInString)
			if len(term) > col-2 {
				fmt.Fprintf(&b, "  %s\n", term)
			} else {
				fmt.Fprintf(&b, "  %-*s%s\n", col, term, lines[0])
				lines = lines[1:]
			}
			for _, l := range lines {
				fmt.Fprintf(&b, "  %*s%s\n", col, "", l)
			}
		}
	}
	return b.String()
}

// mdLink is a Markdown link to another page of docs/ ([x.md](x.md)).
var mdLink = regexp.MustCompile(`\[[^\]]*\]\(([^)]+\.md)\)`)

// WrapWords cuts s at spaces into lines of at most room, as width
// measures them (characters here, terminal cells for cmd/nhi's prose); a
// word longer than room stands alone on its line, never cut, so an ID
// stays whole.
func WrapWords(s string, room int, width func(string) int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(s) {
		switch {
		case line == "":
			line = word
		case width(line)+1+width(word) <= room:
			line += " " + word
		default:
			lines = append(lines, line)
			line = word
		}
	}
	return append(lines, line)
}

// ---------------------------------------------------------------- compilers

const unitsHint = "units: h (hours), d (days), w (weeks), mo (30 days), y (365 days)"

var (
	decisions  = []string{"pending", "decommission", "keep", "rotate", "transfer", "no-response"}
	permLevels = []string{"read", "write", "admin"}
)

func isOp(r rune) bool { return r == ':' || r == '<' || r == '>' || r == '=' }

func kindShort(k string) string {
	if _, short, ok := strings.Cut(k, "_"); ok {
		return short
	}
	return k
}

func kindField(p *parser, s syntax) (node, *Error) {
	if err := p.needColon(&s); err != nil {
		return nil, err
	}
	v, kinds := s.v, p.vocab.Kinds
	var shorts []string
	for _, k := range kinds {
		shorts = append(shorts, kindShort(k))
	}
	if v.hasMeta() {
		t := &kindTerm{pat: newPattern(v.elems(), false), known: kinds}
		for _, k := range kinds {
			if t.pat.match(k) || t.pat.match(kindShort(k)) {
				t.kinds = append(t.kinds, k)
			}
		}
		if len(t.kinds) > 0 || p.freeKind(v.text) || p.vocab.FreeKinds != "" && strings.HasPrefix(v.text, "*") {
			return t, nil
		}
		return nil, p.fail(v.pos, fmt.Sprintf("%q matches no kind", v.text), p.freeKindHint(v.text)+"kinds: "+strings.Join(shorts, ", "))
	}
	for _, k := range kinds {
		if strings.EqualFold(v.text, k) || strings.EqualFold(v.text, kindShort(k)) {
			return &kindTerm{exact: k}, nil
		}
	}
	if p.freeKind(v.text) {
		return &kindTerm{exact: strings.ToLower(v.text)}, nil
	}
	hint := suggestHint(v.text, "kinds", shorts)
	if !strings.HasPrefix(hint, "did you mean") && !strings.ContainsAny(v.text, "*?") {
		hint = p.freeKindHint(v.text) + hint
	}
	return nil, p.fail(v.pos, fmt.Sprintf("unknown kind %q", v.text), hint)
}

// freeKindHint names the kind text would be under the vocabulary's
// FreeKinds prefix, as an import records the kind its file names
// (bot_token is import_bot_token: docs/import.md), or "".
func (p *parser) freeKindHint(text string) string {
	if p.vocab.FreeKinds == "" || text == "" {
		return ""
	}
	return fmt.Sprintf("an imported kind has the prefix %s: kind:%s%s; ", p.vocab.FreeKinds, p.vocab.FreeKinds, text)
}

// freeKind reports whether text names a kind under the vocabulary's
// FreeKinds prefix.
func (p *parser) freeKind(text string) bool {
	free := p.vocab.FreeKinds
	return free != "" && len(text) > len(free) && strings.EqualFold(text[:len(free)], free)
}

func findingField(p *parser, s syntax) (node, *Error) {
	if err := p.needColon(&s); err != nil {
		return nil, err
	}
	v, rules := s.v, p.vocab.Rules
	// No rule is called any or none: quoting changes nothing here.
	switch strings.ToLower(v.text) {
	case "any":
		return &findingTerm{kw: kwAny}, nil
	case "none":
		return &findingTerm{kw: kwNone}, nil
	}
	if v.hasMeta() {
		pat := newPattern(v.elems(), false)
		for _, r := range rules {
			if pat.match(r) {
				return &findingTerm{pat: pat}, nil
			}
		}
		return nil, p.fail(v.pos, fmt.Sprintf("%q matches no rule", v.text), "rules: "+strings.Join(rules, ", ")+", or any, none")
	}
	for _, r := range rules {
		if strings.EqualFold(v.text, r) {
			return &findingTerm{rule: r}, nil
		}
	}
	return nil, p.fail(v.pos, fmt.Sprintf("unknown rule %q", v.text), suggestHint(v.text, "rules", append(append([]string(nil), rules...), "any", "none")))
}

func severityField(p *parser, s syntax) (node, *Error) {
	if err := p.needColon(&s); err != nil {
		return nil, err
	}
	levels := p.vocab.Severities
	sev, err := p.enum(s.v, "severity", "severities", levels)
	if err != nil {
		return nil, err
	}
	return &severityTerm{min: rankFold(levels, sev), name: sev, levels: levels}, nil
}

// textField is a glob over a text value; with keywords, none and any
// (unquoted) ask whether there is a value at all.
func textField(f Field, keywords bool) compiler {
	return func(p *parser, s syntax) (node, *Error) {
		if err := p.needColon(&s); err != nil {
			return nil, err
		}
		if keywords && s.v.plain {
			switch strings.ToLower(s.v.text) {
			case "none":
				return &textTerm{name: s.name, field: f, kw: kwNone}, nil
			case "any":
				return &textTerm{name: s.name, field: f, kw: kwAny}, nil
			}
		}
		return &textTerm{name: s.name, field: f, pat: newPattern(s.v.elems(), false), keywords: keywords}, nil
	}
}

func statusField(p *parser, s syntax) (node, *Error) {
	if err := p.needColon(&s); err != nil {
		return nil, err
	}
	p.status = true
	st, err := p.enum(s.v, "status", "statuses", append(append([]string(nil), p.vocab.Statuses...), "any"))
	if err != nil {
		return nil, err
	}
	return &statusTerm{status: st}, nil
}

func decisionField(p *parser, s syntax) (node, *Error) {
	if err := p.needColon(&s); err != nil {
		return nil, err
	}
	d, err := p.enum(s.v, "decision", "decisions", decisions)
	if err != nil {
		return nil, err
	}
	p.inView, p.decision = true, true
	return &decisionTerm{decision: d}, nil
}

// campaignField: in the population of a campaign. Campaign names are not
// known when a filter is compiled; the callers check the ones a filter
// names (Filter.Campaigns) against the file.
func campaignField(p *parser, s syntax) (node, *Error) {
	if err := p.needColon(&s); err != nil {
		return nil, err
	}
	name := strings.TrimSpace(s.v.text)
	if name == "" {
		return nil, p.fail(s.v.pos, `"campaign:" needs a campaign name`, "as in campaign:q3-review; nhi campaign list names them")
	}
	p.campaigns = appendNew(p.campaigns, name)
	return &campaignTerm{name: name, key: strings.ToLower(name)}, nil
}

// reviewerField: the reviewer assigned in the campaign in view; me is the
// person the filter is for.
func reviewerField(p *parser, s syntax) (node, *Error) {
	if err := p.needColon(&s); err != nil {
		return nil, err
	}
	p.inView = true
	if s.v.plain {
		switch strings.ToLower(s.v.text) {
		case "me":
			return &reviewerTerm{me: true}, nil
		case "none":
			return &reviewerTerm{kw: kwNone}, nil
		case "any":
			return &reviewerTerm{kw: kwAny}, nil
		}
	}
	return &reviewerTerm{pat: newPattern(s.v.elems(), false)}, nil
}

// appendNew appends name to names unless it is there, case-insensitively.
func appendNew(names []string, name string) []string {
	for _, n := range names {
		if strings.EqualFold(n, name) {
			return names
		}
	}
	return append(names, name)
}

func personField(p *parser, s syntax) (node, *Error) {
	if err := p.needColon(&s); err != nil {
		return nil, err
	}
	if s.v.hasMeta() || s.v.text == "" {
		return nil, p.fail(s.v.pos, "person: takes one person's alias, not a pattern", "as in person:alice or person:alice@acme.com")
	}
	return &personTerm{person: s.v.text, src: s.v.elems()}, nil
}

func usedField(p *parser, s syntax) (node, *Error) {
	if err := p.needColon(&s); err != nil {
		return nil, err
	}
	u, err := p.enum(s.v, "used value", "values", []string{"never", "unknown"})
	if err != nil {
		return nil, err
	}
	return &usedTerm{unknown: u == "unknown"}, nil
}

func attrField(p *parser, s syntax) (node, *Error) {
	switch {
	case !s.dotted:
		return nil, p.fail(s.pos, `"attr" needs an attribute name`, "as in attr.suspended:true")
	case s.key == "":
		return nil, p.fail(s.pos, `"attr." needs an attribute name`, "as in attr.suspended:true")
	}
	if err := p.needColon(&s); err != nil {
		return nil, err
	}
	if s.v.plain {
		switch strings.ToLower(s.v.text) {
		case "none":
			return &attrTerm{key: s.key, kw: kwNone}, nil
		case "any":
			return &attrTerm{key: s.key, kw: kwAny}, nil
		}
	}
	return &attrTerm{key: s.key, pat: newPattern(s.v.elems(), false)}, nil
}

func permField(p *parser, s syntax) (node, *Error) {
	if s.dotted && s.key == "" {
		return nil, p.fail(s.pos, `"perm." needs a permission name`, "as in perm.contents:write")
	}
	if err := p.needColon(&s); err != nil {
		return nil, err
	}
	switch strings.ToLower(s.v.text) { // levels are an enum: quoting changes nothing
	case "any":
		return &permTerm{key: s.key, kw: kwAny}, nil
	case "none":
		return &permTerm{key: s.key, kw: kwNone}, nil
	}
	if v := strings.ToLower(s.v.text); kubeVerbs[v] > 0 && v != "*" {
		return &permTerm{key: s.key, level: v, verb: true}, nil
	}
	level, err := p.enum(s.v, "permission level", "levels", append(append([]string(nil), permLevels...), "any", "none"))
	if err != nil {
		return nil, err
	}
	return &permTerm{key: s.key, min: rankFold(permLevels, level), level: level}, nil
}

// span is a relative-time field: the time since a timestamp, or until it.
type span struct {
	at    Field // the timestamp
	until bool  // expiry: the span is at − now, negative once past
	never bool  // NAME:never asks for no timestamp
	idle  bool  // last use: a subject whose source tracks it and that was never used is idle since it was created
}

var units = []struct {
	name string
	d    time.Duration
}{
	{"h", time.Hour}, {"d", 24 * time.Hour}, {"w", 7 * 24 * time.Hour},
	{"mo", 30 * 24 * time.Hour}, {"y", 365 * 24 * time.Hour},
}

func spanField(sp span) compiler {
	return func(p *parser, s syntax) (node, *Error) {
		v, name, op := s.v, s.name, s.op
		if op == ":" {
			if sp.never && strings.EqualFold(v.text, "never") {
				return &neverTerm{name: name, field: sp.at}, nil
			}
			return nil, p.fail(s.opPos, fmt.Sprintf("bad operator %q for %s", op, name), "use "+s.field.exampleFor(name))
		}
		text := v.text
		i := 0
		for i < len(text) && text[i] >= '0' && text[i] <= '9' {
			i++
		}
		if i == 0 {
			return nil, p.fail(v.pos, fmt.Sprintf("expected a duration after %q, got %q", name+op, text), "as in "+name+op+"90d; "+unitsHint)
		}
		unitText := strings.ToLower(text[i:])
		unitPos := v.pos
		if i < len(v.chars) {
			unitPos = v.chars[i].pos // digits are one byte each: rune index == byte index
		}
		if unitText == "" {
			return nil, p.fail(v.pos, fmt.Sprintf("missing unit in %q", text), "as in "+name+op+text+"d; "+unitsHint)
		}
		if text[i] == '.' || text[i] == ',' {
			return nil, p.fail(unitPos, fmt.Sprintf("durations are whole numbers, got %q", text), "as in 36h rather than 1.5d")
		}
		var unit time.Duration
		for _, u := range units {
			if unitText == u.name {
				unit = u.d
			}
		}
		switch {
		case unitText == "m":
			return nil, p.fail(unitPos, `ambiguous unit "m"`, `write "mo" for months (30 days) or "h" for hours`)
		case unit == 0:
			return nil, p.fail(unitPos, fmt.Sprintf("unknown unit %q", text[i:]), unitsHint)
		}
		n, perr := strconv.ParseUint(text[:i], 10, 64)
		if perr != nil || n >= uint64(math.MaxInt64/unit) {
			return nil, p.fail(v.pos, fmt.Sprintf("duration %q is too long", text), "")
		}
		t := &timeTerm{name: name, span: sp, op: op, n: n, unit: unitText}
		// Durations count in whole units, as the finding rules count whole
		// days: "unused>90d" is 91 days or more, "unused<90d" less than 90.
		switch op {
		case ">":
			t.ge, t.thr = true, time.Duration(n+1)*unit
		case ">=":
			t.ge, t.thr = true, time.Duration(n)*unit
		case "<":
			t.ge, t.thr = false, time.Duration(n)*unit
		case "<=":
			t.ge, t.thr = false, time.Duration(n+1)*unit
		}
		return t, nil
	}
}
