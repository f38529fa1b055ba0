package filter

import (
	"strconv"
	"strings"
	"time"
)

// node is a compiled expression: what it matches, and how it is written.
//
// A term over what was not read of a subject (its permissions where its
// policies were not read, a tag where its tags were not, a finding where
// what a rule reads was not, a time comparison without the time) is
// neither true nor false of it but unknown, and stays so through not, and
// and or (Kleene's logic: unknown and no is no, unknown or yes is yes),
// so that -perm:any claims no more than perm:none of an identity nhi
// could not read (docs/filter.md, "What was not read"). match gives the
// answer with every unknown term taken as u: false, where the term reads
// as written, its answer is yes only where Kleene's is (an unknown under
// a not is taken as true, so the not makes it false), and true, no only
// where Kleene's is. A term therefore asks Subject.FilterUnread only
// where an unknown would be true, and a filter without a not asks it of
// none but the terms that claim a value absent.
type node interface {
	match(s Subject, env *Env, u bool) bool
	write(b *strings.Builder) // canonical form
}

type andNode []node

func (n andNode) match(s Subject, env *Env, u bool) bool {
	for _, c := range n {
		if !c.match(s, env, u) {
			return false
		}
	}
	return true
}

func (n andNode) write(b *strings.Builder) {
	for i, c := range n {
		if i > 0 {
			b.WriteByte(' ')
		}
		writeGrouped(b, c, false)
	}
}

type orNode []node

func (n orNode) match(s Subject, env *Env, u bool) bool {
	for _, c := range n {
		if c.match(s, env, u) {
			return true
		}
	}
	return false
}

func (n orNode) write(b *strings.Builder) {
	for i, c := range n {
		if i > 0 {
			b.WriteString(" or ")
		}
		c.write(b) // "and" binds tighter: no parentheses needed
	}
}

type notNode struct{ x node }

func (n notNode) match(s Subject, env *Env, u bool) bool { return !n.x.match(s, env, !u) }

func (n notNode) write(b *strings.Builder) {
	b.WriteByte('-')
	writeGrouped(b, n.x, true)
}

// Keywords a value can be instead of a pattern.
type keyword uint8

const (
	kwPattern keyword = iota
	kwNone
	kwAny
)

func (k keyword) String() string {
	switch k {
	case kwNone:
		return "none"
	case kwAny:
		return "any"
	}
	return ""
}

// textTerm: a glob over a text field (owner, scope, name, id, source), or
// the keywords none and any where the field takes them.
type textTerm struct {
	name     string
	field    Field
	kw       keyword
	keywords bool // none and any are keywords: quote them as values
	pat      *pattern
}

func (t *textTerm) match(s Subject, _ *Env, _ bool) bool {
	v := s.FilterText(t.field)
	switch t.kw {
	case kwNone:
		return v == ""
	case kwAny:
		return v != ""
	}
	return t.pat.match(v)
}

func (t *textTerm) write(b *strings.Builder) {
	b.WriteString(t.name)
	b.WriteByte(':')
	if t.kw != kwPattern {
		b.WriteString(t.kw.String())
		return
	}
	var reserved []string
	if t.keywords {
		reserved = []string{"none", "any"}
	}
	writePattern(b, t.pat.src, false, reserved)
}

// kindTerm: an exact kind, or a glob over the full and short names. A
// glob is resolved against the known kinds when compiled; only a kind
// the vocabulary does not know is matched as text.
type kindTerm struct {
	exact string
	pat   *pattern
	kinds []string // known kinds the glob matches
	known []string // every known kind
}

func (t *kindTerm) match(s Subject, _ *Env, _ bool) bool {
	kind := s.FilterText(Kind)
	if t.pat == nil {
		return kind == t.exact
	}
	for _, k := range t.kinds {
		if kind == k {
			return true
		}
	}
	for _, k := range t.known {
		if kind == k {
			return false
		}
	}
	return t.pat.match(kind) || t.pat.match(kindShort(kind))
}

func (t *kindTerm) write(b *strings.Builder) {
	b.WriteString("kind:")
	if t.pat == nil {
		b.WriteString(t.exact)
		return
	}
	writePattern(b, t.pat.src, false, nil)
}

type findingTerm struct {
	kw   keyword
	rule string
	pat  *pattern
}

// A finding found is known; none found, of a subject some rule could not
// read for (Subject.FilterUnread of Findings), is unknown: the rule may
// have found something in what was not read.
func (t *findingTerm) match(s Subject, _ *Env, u bool) bool {
	if t.kw != kwPattern {
		_, _, has := s.FilterFinding(0)
		if !has && t.kw == kwNone {
			return u || !s.FilterUnread(Findings, "")
		}
		if !has && u {
			return s.FilterUnread(Findings, "")
		}
		return has == (t.kw == kwAny)
	}
	for i := 0; ; i++ {
		r, _, ok := s.FilterFinding(i)
		if !ok {
			return u && s.FilterUnread(Findings, "")
		}
		if t.pat != nil && t.pat.match(r) || t.pat == nil && (r == t.rule || strings.EqualFold(r, t.rule)) {
			return true
		}
	}
}

func (t *findingTerm) write(b *strings.Builder) {
	b.WriteString("finding:")
	switch {
	case t.kw != kwPattern:
		b.WriteString(t.kw.String())
	case t.pat != nil:
		writePattern(b, t.pat.src, false, []string{"any", "none"})
	default:
		b.WriteString(t.rule)
	}
}

// severityTerm: any finding of this severity or above.
type severityTerm struct {
	min    int
	name   string
	levels []string // lowest first
}

// rankFold is 1 + the position of s in levels, case-insensitively; 0 when
// it is not there.
func rankFold(levels []string, s string) int {
	for i, v := range levels {
		if s == v || strings.EqualFold(s, v) {
			return i + 1
		}
	}
	return 0
}

func (t *severityTerm) match(s Subject, _ *Env, u bool) bool {
	for i := 0; ; i++ {
		_, sev, ok := s.FilterFinding(i)
		if !ok {
			return u && s.FilterUnread(Findings, "")
		}
		if rankFold(t.levels, sev) >= t.min {
			return true
		}
	}
}

func (t *severityTerm) write(b *strings.Builder) { b.WriteString("severity:" + t.name) }

type statusTerm struct{ status string }

func (t *statusTerm) match(s Subject, _ *Env, _ bool) bool {
	if t.status == "any" {
		return true
	}
	st := s.FilterText(Status)
	return st == t.status || strings.EqualFold(st, t.status)
}

func (t *statusTerm) write(b *strings.Builder) { b.WriteString("status:" + t.status) }

// decisionTerm: the current decision in the campaign in view. Outside its
// population an identity has no decision to take, so no decision matches
// it: -decision:keep still lists it.
type decisionTerm struct{ decision string }

func (t *decisionTerm) match(s Subject, env *Env, _ bool) bool {
	if env.Review == nil {
		return false
	}
	it, ok := env.Review.Item("", s.FilterText(ID))
	if !ok {
		return false
	}
	d := it.Decision
	if d == "" {
		d = "pending"
	}
	return d == t.decision || strings.EqualFold(d, t.decision)
}

func (t *decisionTerm) write(b *strings.Builder) { b.WriteString("decision:" + t.decision) }

// reviewerTerm: the reviewer assigned in the campaign in view.
type reviewerTerm struct {
	me  bool
	kw  keyword
	pat *pattern
}

func (t *reviewerTerm) match(s Subject, env *Env, _ bool) bool {
	if env.Review == nil {
		return false
	}
	it, ok := env.Review.Item("", s.FilterText(ID))
	switch {
	case !ok:
		return false
	case t.me:
		return it.Mine
	case t.kw == kwNone:
		return it.Reviewer == ""
	case t.kw == kwAny:
		return it.Reviewer != ""
	}
	return t.pat.match(it.Reviewer)
}

func (t *reviewerTerm) write(b *strings.Builder) {
	b.WriteString("reviewer:")
	switch {
	case t.me:
		b.WriteString("me")
	case t.kw != kwPattern:
		b.WriteString(t.kw.String())
	default:
		writePattern(b, t.pat.src, false, []string{"me", "none", "any"})
	}
}

// campaignTerm: in the population of the campaign named.
type campaignTerm struct {
	name string // as written
	key  string // in lower case, for Review.Item
}

func (t *campaignTerm) match(s Subject, env *Env, _ bool) bool {
	if env.Review == nil {
		return false
	}
	_, ok := env.Review.Item(t.key, s.FilterText(ID))
	return ok
}

func (t *campaignTerm) write(b *strings.Builder) {
	b.WriteString("campaign:")
	var src []pelem
	for _, r := range t.name {
		src = append(src, pelem{r: r}) // a name is literal: no glob
	}
	writePattern(b, src, false, nil)
}

// personTerm: person:NAME, every identity related to the person. What
// "related" means is the caller's (Env.Related): the directory and the
// evidence behind it are not this package's.
type personTerm struct {
	person string
	src    []pelem // as lexed, for the canonical form
}

func (t *personTerm) match(s Subject, env *Env, _ bool) bool {
	if env.Related == nil {
		panic("filter.Filter.Match: filter.Env.Related is required by person terms")
	}
	return env.Related(s, t.person)
}

func (t *personTerm) write(b *strings.Builder) {
	b.WriteString("person:")
	writePattern(b, t.src, false, nil)
}

// attrTerm: attr.KEY:value. Keys are matched in lower case.
type attrTerm struct {
	key string
	kw  keyword
	pat *pattern
}

// An attribute without a value, where its kind was not read
// (Subject.FilterUnread: a tag), is unknown: neither any nor none, nor
// any value.
func (t *attrTerm) match(s Subject, _ *Env, u bool) bool {
	v, ok := s.FilterMap(Attributes)[t.key]
	switch t.kw {
	case kwAny:
		return v != "" || u && s.FilterUnread(Attributes, t.key)
	case kwNone:
		return v == "" && (u || !s.FilterUnread(Attributes, t.key))
	}
	return ok && t.pat.match(v) || u && v == "" && s.FilterUnread(Attributes, t.key)
}

func (t *attrTerm) write(b *strings.Builder) {
	b.WriteString("attr.")
	b.WriteString(t.key)
	b.WriteByte(':')
	if t.kw != kwPattern {
		b.WriteString(t.kw.String())
		return
	}
	writePattern(b, t.pat.src, false, []string{"none", "any"})
}

// permTerm: perm.NAME:LEVEL (that permission at LEVEL or above) or
// perm:LEVEL (any permission at LEVEL or above); any / none.
type permTerm struct {
	key   string // "" for any permission
	kw    keyword
	min   int
	level string
	verb  bool // level is a Kubernetes verb (filter/verbs.go)
}

// A permission found is known; none found, of a subject whose permissions
// were not read (Subject.FilterUnread), is unknown.
func (t *permTerm) match(s Subject, _ *Env, u bool) bool {
	perms := s.FilterMap(Permissions)
	if t.key != "" {
		// A Kubernetes permission on "*" (every resource) is one on each.
		v, every := perms[t.key], perms["*"]
		var has bool
		switch {
		case t.kw != kwPattern:
			has = v != "" || every != ""
		case t.verb:
			has = hasVerb(v, t.level) || hasVerb(every, t.level)
		default:
			has = max(permRank(v), permRank(every)) >= t.min
		}
		return t.found(s, has, u)
	}
	for _, v := range perms {
		switch {
		case t.kw != kwPattern && v != "",
			t.kw == kwPattern && t.verb && hasVerb(v, t.level),
			t.kw == kwPattern && !t.verb && permRank(v) >= t.min:
			return t.found(s, true, u)
		}
	}
	return t.found(s, false, u)
}

// found is the term's answer, what it looks for found (has) or not: none
// is the opposite of any, and not found is unknown, u, where the
// permission was not read.
func (t *permTerm) found(s Subject, has, u bool) bool {
	if !has && u != (t.kw == kwNone) && s.FilterUnread(Permissions, t.key) {
		return u
	}
	return has != (t.kw == kwNone)
}

func (t *permTerm) write(b *strings.Builder) {
	b.WriteString("perm")
	if t.key != "" {
		b.WriteByte('.')
		b.WriteString(t.key)
	}
	b.WriteByte(':')
	if t.kw != kwPattern {
		b.WriteString(t.kw.String())
		return
	}
	b.WriteString(t.level)
}

func envNow(env *Env) time.Time {
	if env.Now.IsZero() {
		panic("filter.Filter.Match: filter.Env.Now is required by relative-time terms (unused, expires, age, rotated, expired)")
	}
	return env.Now
}

// timeTerm compares a span in whole units: the time since a timestamp
// (unused, age, rotated) or until one (expires). It holds when the span is
// at least thr (ge) or less than thr (!ge).
type timeTerm struct {
	name string
	span span
	op   string
	n    uint64
	unit string
	thr  time.Duration
	ge   bool
}

func (t *timeTerm) match(s Subject, env *Env, u bool) bool {
	now := envNow(env)
	ref := s.FilterTime(t.span.at)
	if t.span.until {
		if ref == nil {
			if u != t.ge && s.FilterUnread(t.span.at, "") {
				return u // its expiry was not read: not known
			}
			// It never expires: further away than any span.
			return t.ge
		}
		// remaining = ref - now; remaining >= thr <=> ref >= now+thr
		before := ref.Before(now.Add(t.thr))
		return before != t.ge
	}
	if ref == nil && t.span.idle && s.FilterTracksLastUse() {
		ref = s.FilterTime(Created) // never used: idle since it was created
	}
	if ref == nil {
		return u // not known: no claim either way, nor its negation
	}
	// elapsed = now - ref; elapsed >= thr <=> ref <= now-thr
	after := ref.After(now.Add(-t.thr))
	return after != t.ge
}

func (t *timeTerm) write(b *strings.Builder) {
	b.WriteString(t.name)
	b.WriteString(t.op)
	b.WriteString(strconv.FormatUint(t.n, 10))
	b.WriteString(t.unit)
}

// neverTerm: expires:never, rotated:never.
type neverTerm struct {
	name  string
	field Field
}

// A time the source left unsaid (Subject.FilterUnread of the field) is
// not "never": not known.
func (t *neverTerm) match(s Subject, _ *Env, u bool) bool {
	if s.FilterTime(t.field) != nil {
		return false
	}
	return u || !s.FilterUnread(t.field, "")
}

func (t *neverTerm) write(b *strings.Builder) {
	b.WriteString(t.name)
	b.WriteString(":never")
}

// usedTerm: used:never (the kind reports last use, it was read, and there
// is none), used:unknown (the kind does not report it, or it was not read,
// and there is none).
type usedTerm struct{ unknown bool }

func (t *usedTerm) match(s Subject, _ *Env, _ bool) bool {
	return s.FilterTime(LastUsed) == nil && s.FilterTracksLastUse() != t.unknown
}

func (t *usedTerm) write(b *strings.Builder) {
	if t.unknown {
		b.WriteString("used:unknown")
	} else {
		b.WriteString("used:never")
	}
}

// expiredTerm: the bare keyword "expired".
type expiredTerm struct{}

func (expiredTerm) match(s Subject, env *Env, u bool) bool {
	now := envNow(env)
	at := s.FilterTime(Expires)
	if at == nil {
		return u && s.FilterUnread(Expires, "") // not reported: not known
	}
	return at.Before(now)
}

func (expiredTerm) write(b *strings.Builder) { b.WriteString("expired") }

// freeText matches ID, name, scope or owner anywhere, case-insensitively.
type freeText struct{ pat *pattern }

func (t *freeText) match(s Subject, _ *Env, _ bool) bool {
	return t.pat.match(s.FilterText(ID)) || t.pat.match(s.FilterText(Name)) ||
		t.pat.match(s.FilterText(Scope)) || t.pat.match(s.FilterText(Owner))
}

func (t *freeText) write(b *strings.Builder) {
	writePattern(b, t.pat.src, true, []string{"and", "or", "not", "expired"})
}
