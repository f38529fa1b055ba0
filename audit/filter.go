package audit

// The filter language: one syntax for `nhi identities --filter`, the TUI's
// live filter, campaign scopes and bulk owner assignment. docs/filter.md is
// the user's reference; this comment is the implementer's.
//
//	expr    = or
//	or      = and { "or" and }
//	and     = unary { ["and"] unary }          adjacency is "and"
//	unary   = ("not" | "-") unary | "(" or ")" | term
//	term    = field op value | "expired" | text
//	op      = ":" | ">" | "<" | ">=" | "<="
//
// A word is a run of characters up to unquoted white space or a
// parenthesis; double-quoted parts and backslash-escaped characters are
// literal (no keyword, no glob, no field). A word is a field term when an
// unquoted ":", "<", ">" or "=" follows a leading run of unquoted
// characters; that run is the field name.
//
// Compilation does all the work: needles are case-folded, globs classified
// (exact, prefix, contains, general), enum values resolved, durations turned
// into thresholds. Match allocates nothing and reads the clock never: time
// comes from FilterEnv.Now. A Filter is immutable and safe for concurrent use.

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// FilterError is a filter expression that does not compile: where and why.
type FilterError struct {
	Expr string // the expression as given
	Pos  int    // byte offset into Expr of the offending text
	Msg  string // what is wrong, e.g. `unknown field "ownr"`
	Hint string // optional: a suggestion or the valid choices
}

// Error is one line: `filter: unknown field "ownr" at column 1 (did you
// mean "owner"? fields: ...)`.
func (e *FilterError) Error() string {
	s := fmt.Sprintf("filter: %s at column %d", e.Msg, e.Column())
	if e.Hint != "" {
		s += " (" + e.Hint + ")"
	}
	return s
}

// Column is the 1-based character (not byte) column of Pos.
func (e *FilterError) Column() int {
	return utf8.RuneCountInString(e.Expr[:e.pos()]) + 1
}

func (e *FilterError) pos() int {
	return min(max(e.Pos, 0), len(e.Expr))
}

// Caret is two lines for a terminal: the expression, made printable, and a
// caret under Pos. It assumes one cell per character.
func (e *FilterError) Caret() string {
	col := utf8.RuneCountInString(Printable(e.Expr[:e.pos()]))
	return Printable(e.Expr) + "\n" + strings.Repeat(" ", col) + "^"
}

// FilterEnv is what a filter needs besides the identity.
type FilterEnv struct {
	// Now is the moment relative durations count from. Required by
	// filters with unused, expires, age, rotated or expired terms: Match
	// panics if such a term meets a zero Now.
	Now time.Time
	// Decision returns the current decision for an identity ID: "" (or
	// "pending") when undecided. nil: everything is pending.
	Decision func(id string) string
}

var noFilterEnv FilterEnv

// Filter is a compiled filter expression. The zero Filter and a nil
// *Filter match everything.
type Filter struct {
	root filterNode
}

// ParseFilter compiles expr. The empty expression matches everything.
// Errors are *FilterError.
func ParseFilter(expr string) (*Filter, error) {
	toks, ferr := lexFilter(expr)
	if ferr != nil {
		return nil, ferr
	}
	p := &filterParser{expr: expr, toks: toks}
	if p.peek().kind == tokEOF {
		return &Filter{}, nil
	}
	root, ferr := p.parseOr(nil)
	if ferr != nil {
		return nil, ferr
	}
	if t := p.peek(); t.kind != tokEOF { // only a ')' can stop the top level early
		return nil, p.fail(t.pos, `")" without matching "("`, "")
	}
	return &Filter{root: root}, nil
}

// Match reports whether id satisfies the filter. env may be nil for
// filters without time or decision terms.
func (f *Filter) Match(id *Identity, env *FilterEnv) bool {
	if f == nil || f.root == nil {
		return true
	}
	if env == nil {
		env = &noFilterEnv
	}
	return f.root.match(id, env)
}

// String is the canonical form: it re-parses to an equivalent filter and
// is its own canonical form. Enum values are spelled out (kind:deploy_key
// becomes kind:github_deploy_key), "and" is a space, "not" is "-".
func (f *Filter) String() string {
	if f == nil || f.root == nil {
		return ""
	}
	var b strings.Builder
	f.root.write(&b)
	return b.String()
}

// ---------------------------------------------------------------- lexer

type tokKind uint8

const (
	tokEOF tokKind = iota
	tokLParen
	tokRParen
	tokNeg // "-" directly before a term
	tokNot
	tokAnd
	tokOr
	tokWord
)

// wchar is one character of a word: lit when quoted or escaped.
type wchar struct {
	r   rune
	lit bool
	pos int // byte offset in the expression
}

type filterToken struct {
	kind     tokKind
	pos      int
	word     []wchar
	quoted   bool // the word had a quoted part (possibly empty: "")
	quotePos int  // byte offset of its first quote
}

func (t *filterToken) name() string {
	switch t.kind {
	case tokNeg:
		return `"-"`
	case tokNot:
		return `"not"`
	case tokAnd:
		return `"and"`
	case tokOr:
		return `"or"`
	case tokLParen:
		return `"("`
	case tokRParen:
		return `")"`
	}
	return "term"
}

func lexFilter(expr string) ([]filterToken, *FilterError) {
	fail := func(pos int, msg, hint string) *FilterError {
		return &FilterError{Expr: expr, Pos: pos, Msg: msg, Hint: hint}
	}
	if !utf8.ValidString(expr) {
		for i := 0; i < len(expr); {
			r, sz := utf8.DecodeRuneInString(expr[i:])
			if r == utf8.RuneError && sz == 1 {
				return nil, fail(i, "invalid UTF-8", "")
			}
			i += sz
		}
	}
	var toks []filterToken
	i := 0
	for {
		for i < len(expr) {
			r, sz := utf8.DecodeRuneInString(expr[i:])
			if !unicode.IsSpace(r) {
				break
			}
			i += sz
		}
		if i >= len(expr) {
			return append(toks, filterToken{kind: tokEOF, pos: len(expr)}), nil
		}
		switch expr[i] {
		case '(':
			toks = append(toks, filterToken{kind: tokLParen, pos: i})
			i++
			continue
		case ')':
			toks = append(toks, filterToken{kind: tokRParen, pos: i})
			i++
			continue
		case '-':
			r, _ := utf8.DecodeRuneInString(expr[i+1:])
			if i+1 >= len(expr) || unicode.IsSpace(r) || r == ')' {
				return nil, fail(i, `"-" must be followed directly by a term`, `as in -owner:none; quote "-" to search for it`)
			}
			toks = append(toks, filterToken{kind: tokNeg, pos: i})
			i++
			continue
		}
		t := filterToken{kind: tokWord, pos: i}
	word:
		for i < len(expr) {
			r, sz := utf8.DecodeRuneInString(expr[i:])
			switch {
			case unicode.IsSpace(r) || r == '(' || r == ')':
				break word
			case r == '"':
				if !t.quoted {
					t.quoted, t.quotePos = true, i
				}
				open := i
				i++
				for {
					if i >= len(expr) {
						return nil, fail(open, "unterminated quoted text", `close it with "; write \" for a quote inside`)
					}
					r, sz := utf8.DecodeRuneInString(expr[i:])
					if r == '"' {
						i++
						break
					}
					at := i
					if r == '\\' {
						if i+1 >= len(expr) {
							return nil, fail(open, "unterminated quoted text", `close it with "; write \" for a quote inside`)
						}
						i++
						r, sz = utf8.DecodeRuneInString(expr[i:])
					}
					t.word = append(t.word, wchar{r: r, lit: true, pos: at})
					i += sz
				}
			case r == '\\':
				if i+1 >= len(expr) {
					return nil, fail(i, "backslash at the end", `a backslash makes the next character literal; write \\ for a backslash`)
				}
				r2, sz2 := utf8.DecodeRuneInString(expr[i+1:])
				t.word = append(t.word, wchar{r: r2, lit: true, pos: i})
				i += 1 + sz2
			default:
				t.word = append(t.word, wchar{r: r, pos: i})
				i += sz
			}
		}
		if !t.quoted && !anyLit(t.word) {
			switch strings.ToLower(wordText(t.word)) {
			case "and":
				t = filterToken{kind: tokAnd, pos: t.pos}
			case "or":
				t = filterToken{kind: tokOr, pos: t.pos}
			case "not":
				t = filterToken{kind: tokNot, pos: t.pos}
			}
		}
		toks = append(toks, t)
	}
}

func anyLit(w []wchar) bool {
	for _, c := range w {
		if c.lit {
			return true
		}
	}
	return false
}

func wordText(w []wchar) string {
	var b strings.Builder
	for _, c := range w {
		b.WriteRune(c.r)
	}
	return b.String()
}

// ---------------------------------------------------------------- parser

// maxFilterDepth bounds nesting of parentheses and negations.
const maxFilterDepth = 100

type filterParser struct {
	expr  string
	toks  []filterToken
	i     int
	depth int
}

func (p *filterParser) peek() filterToken { return p.toks[p.i] }

func (p *filterParser) next() filterToken {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

func (p *filterParser) fail(pos int, msg, hint string) *FilterError {
	return &FilterError{Expr: p.expr, Pos: pos, Msg: msg, Hint: hint}
}

// parseOr parses or-separated and-groups. open is the "(" it is inside, or nil.
func (p *filterParser) parseOr(open *filterToken) (filterNode, *FilterError) {
	var list orNode
	add := func(n filterNode) {
		if o, ok := n.(orNode); ok {
			list = append(list, o...)
		} else {
			list = append(list, n)
		}
	}
	n, err := p.parseAnd(open)
	if err != nil {
		return nil, err
	}
	add(n)
	for p.peek().kind == tokOr {
		op := p.next()
		n, err := p.parseAnd(&op)
		if err != nil {
			return nil, err
		}
		add(n)
	}
	if len(list) == 1 {
		return list[0], nil
	}
	return list, nil
}

// parseAnd parses unaries joined by "and" or adjacency. prev is the token
// before the first one ("(", "or") or nil at the start.
func (p *filterParser) parseAnd(prev *filterToken) (filterNode, *FilterError) {
	var list andNode
	add := func(n filterNode) {
		if a, ok := n.(andNode); ok {
			list = append(list, a...)
		} else {
			list = append(list, n)
		}
	}
	n, err := p.parseUnary(prev)
	if err != nil {
		return nil, err
	}
	add(n)
	for {
		var n filterNode
		switch t := p.peek(); t.kind {
		case tokAnd:
			p.next()
			n, err = p.parseUnary(&t)
		case tokWord, tokLParen, tokNeg, tokNot:
			n, err = p.parseUnary(nil)
		default:
			if len(list) == 1 {
				return list[0], nil
			}
			return list, nil
		}
		if err != nil {
			return nil, err
		}
		add(n)
	}
}

func (p *filterParser) parseUnary(prev *filterToken) (filterNode, *FilterError) {
	t := p.peek()
	switch t.kind {
	case tokNot, tokNeg:
		p.next()
		if p.depth >= maxFilterDepth {
			return nil, p.fail(t.pos, fmt.Sprintf("expression nests too deeply (limit %d)", maxFilterDepth), "")
		}
		p.depth++
		x, err := p.parseUnary(&t)
		p.depth--
		if err != nil {
			return nil, err
		}
		return notNode{x}, nil
	case tokLParen:
		p.next()
		if p.peek().kind == tokRParen {
			return nil, p.fail(t.pos, "empty parentheses", "put a term inside, or remove them")
		}
		if p.depth >= maxFilterDepth {
			return nil, p.fail(t.pos, fmt.Sprintf("expression nests too deeply (limit %d)", maxFilterDepth), "")
		}
		p.depth++
		x, err := p.parseOr(&t)
		p.depth--
		if err != nil {
			return nil, err
		}
		if p.peek().kind != tokRParen {
			return nil, p.fail(t.pos, `unclosed "("`, `add ")"`)
		}
		p.next()
		return x, nil
	case tokWord:
		p.next()
		return p.term(&t)
	}
	// No term where one is needed: blame the operator that wanted it.
	if prev != nil {
		switch prev.kind {
		case tokAnd, tokOr:
			return nil, p.fail(prev.pos, prev.name()+" needs a term on its right", "")
		case tokNot, tokNeg:
			return nil, p.fail(prev.pos, prev.name()+" needs a term after it", "")
		case tokLParen:
			if t.kind == tokEOF {
				return nil, p.fail(prev.pos, `unclosed "("`, `add ")"`)
			}
		}
	}
	switch t.kind {
	case tokAnd, tokOr:
		return nil, p.fail(t.pos, t.name()+" needs a term on its left", "")
	case tokRParen:
		return nil, p.fail(t.pos, `")" without matching "("`, "")
	}
	return nil, p.fail(t.pos, "expected a term", "")
}

// ---------------------------------------------------------------- terms

// filterFieldNames are the fields, for hints and suggestions.
var filterFieldNames = []string{
	"kind", "finding", "severity", "owner", "scope", "name", "id", "source", "status",
	"decision", "unused", "expires", "age", "rotated", "used", "perm", "attr",
}

const filterFieldsHint = "fields: kind, finding, severity, owner, scope, name, id, source, status, decision, " +
	"unused, expires, age, rotated, used, attr.KEY, perm, perm.NAME"

const filterUnitsHint = "units: h (hours), d (days), w (weeks), mo (30 days), y (365 days)"

var (
	filterStatuses  = []string{StatusActive, StatusRemoved}
	filterDecisions = []string{"pending", "decommission", "keep", "rotate", "no-response"}
	filterPermLevel = []string{"read", "write", "admin"}
)

func isFilterOp(r rune) bool { return r == ':' || r == '<' || r == '>' || r == '=' }

func (p *filterParser) term(t *filterToken) (filterNode, *FilterError) {
	w := t.word
	// The field is the leading run of plain characters before an operator.
	j := 0
	for j < len(w) && !w[j].lit && !isFilterOp(w[j].r) {
		j++
	}
	if j == len(w) || w[j].lit || t.quoted && t.quotePos < w[j].pos {
		return p.text(t) // a quote before the operator makes it text
	}
	if j == 0 {
		return nil, p.fail(w[0].pos, fmt.Sprintf("missing field name before %q", string(w[0].r)),
			`quote text containing ":", "<", ">" or "=" to search for it`)
	}
	if w[0].r == '!' {
		return nil, p.fail(w[0].pos, `"!" is not negation`, `use "-" or "not", as in -owner:none`)
	}
	name := strings.ToLower(wordText(w[:j]))
	opPos := w[j].pos
	op := string(w[j].r)
	k := j + 1
	if (op == "<" || op == ">") && k < len(w) && !w[k].lit && w[k].r == '=' {
		op += "="
		k++
	}
	if op == "=" {
		return nil, p.fail(opPos, `bad operator "="`, "use "+fieldExample(name))
	}
	value := w[k:]
	valPos := opPos + len(op) // where the value starts, quote included
	v := &fieldValue{chars: value, pos: valPos, text: wordText(value), plain: !t.quoted && !anyLit(value)}
	if len(value) == 0 && !t.quoted {
		return nil, p.fail(valPos, fmt.Sprintf("missing value after %q", name+op), "as in "+fieldExample(name))
	}

	needColon := func() *FilterError {
		if op != ":" {
			return p.fail(opPos, fmt.Sprintf("bad operator %q for %s", op, name), "use "+fieldExample(name))
		}
		return nil
	}
	switch name {
	case "kind":
		if err := needColon(); err != nil {
			return nil, err
		}
		return p.kindTerm(v)
	case "finding":
		if err := needColon(); err != nil {
			return nil, err
		}
		return p.findingTerm(v)
	case "severity":
		if err := needColon(); err != nil {
			return nil, err
		}
		s, err := p.enum(v, "severity", "severities", Severities)
		if err != nil {
			return nil, err
		}
		return &severityTerm{min: severityRankFold(s), name: s}, nil
	case "owner", "scope", "name", "id", "source":
		if err := needColon(); err != nil {
			return nil, err
		}
		f := map[string]textField{"owner": fieldOwner, "scope": fieldScope, "name": fieldName, "id": fieldID, "source": fieldSource}[name]
		if f == fieldOwner && v.plain {
			switch strings.ToLower(v.text) {
			case "none":
				return &textTerm{field: f, kw: kwNone}, nil
			case "any":
				return &textTerm{field: f, kw: kwAny}, nil
			}
		}
		return &textTerm{field: f, pat: newPattern(v.elems(), false)}, nil
	case "status":
		if err := needColon(); err != nil {
			return nil, err
		}
		s, err := p.enum(v, "status", "statuses", filterStatuses)
		if err != nil {
			return nil, err
		}
		return &statusTerm{status: s}, nil
	case "decision":
		if err := needColon(); err != nil {
			return nil, err
		}
		s, err := p.enum(v, "decision", "decisions", filterDecisions)
		if err != nil {
			return nil, err
		}
		return &decisionTerm{decision: s}, nil
	case "unused", "expires", "age", "rotated":
		f := map[string]timeField{"unused": timeUnused, "expires": timeExpires, "age": timeAge, "rotated": timeRotated}[name]
		if op == ":" {
			if (f == timeExpires || f == timeRotated) && strings.EqualFold(v.text, "never") {
				return &neverTerm{field: f}, nil
			}
			return nil, p.fail(opPos, fmt.Sprintf("bad operator %q for %s", op, name), "use "+fieldExample(name))
		}
		return p.timeTerm(f, op, v)
	case "used":
		if err := needColon(); err != nil {
			return nil, err
		}
		s, err := p.enum(v, "used value", "values", []string{"never", "unknown"})
		if err != nil {
			return nil, err
		}
		return &usedTerm{unknown: s == "unknown"}, nil
	case "perm":
		if err := needColon(); err != nil {
			return nil, err
		}
		return p.permTerm("", v)
	case "attr":
		return nil, p.fail(t.pos, `"attr" needs an attribute name`, "as in attr.suspended:true")
	}
	if key, ok := strings.CutPrefix(name, "attr."); ok {
		if key == "" {
			return nil, p.fail(t.pos, `"attr." needs an attribute name`, "as in attr.suspended:true")
		}
		if err := needColon(); err != nil {
			return nil, err
		}
		if v.plain {
			switch strings.ToLower(v.text) {
			case "none":
				return &attrTerm{key: key, kw: kwNone}, nil
			case "any":
				return &attrTerm{key: key, kw: kwAny}, nil
			}
		}
		return &attrTerm{key: key, pat: newPattern(v.elems(), false)}, nil
	}
	if key, ok := strings.CutPrefix(name, "perm."); ok {
		if key == "" {
			return nil, p.fail(t.pos, `"perm." needs a permission name`, "as in perm.contents:write")
		}
		if err := needColon(); err != nil {
			return nil, err
		}
		return p.permTerm(key, v)
	}
	head, rest, dotted := strings.Cut(name, ".")
	hint := filterFieldsHint
	if s := closest(head, filterFieldNames); s != "" {
		if dotted && (s == "attr" || s == "perm") {
			s += "." + rest
		}
		if s != "attr" {
			hint = fmt.Sprintf("did you mean %q? %s", s, hint)
		}
	}
	if op == ":" {
		hint += `; quote text containing ":" to search for it`
	}
	return nil, p.fail(t.pos, fmt.Sprintf("unknown field %q", name), hint)
}

// fieldExample is a sample term for a field, for hints.
func fieldExample(field string) string {
	switch field {
	case "kind":
		return "kind:deploy_key"
	case "finding":
		return "finding:stale"
	case "severity":
		return "severity:high"
	case "owner":
		return "owner:alice or owner:none"
	case "scope":
		return "scope:acme/api*"
	case "name":
		return "name:deploy*"
	case "id":
		return "id:github:acme:*"
	case "source":
		return "source:github"
	case "status":
		return "status:active"
	case "decision":
		return "decision:pending"
	case "unused":
		return "unused>90d"
	case "expires":
		return "expires<14d or expires:never"
	case "age":
		return "age>365d"
	case "rotated":
		return "rotated>90d or rotated:never"
	case "used":
		return "used:never"
	case "perm":
		return "perm:admin or perm.contents:write"
	}
	if strings.HasPrefix(field, "attr.") {
		return field + ":VALUE"
	}
	if strings.HasPrefix(field, "perm.") {
		return field + ":write"
	}
	return "field:value"
}

type fieldValue struct {
	chars []wchar
	pos   int
	text  string
	plain bool // no quoted or escaped part: keywords apply
}

func (v *fieldValue) elems() []pelem {
	out := make([]pelem, len(v.chars))
	for i, c := range v.chars {
		out[i] = pelem{r: c.r, meta: !c.lit && (c.r == '*' || c.r == '?')}
	}
	return out
}

func (v *fieldValue) hasMeta() bool {
	for _, e := range v.elems() {
		if e.meta {
			return true
		}
	}
	return false
}

// enum resolves v to one of choices, case-insensitively.
func (p *filterParser) enum(v *fieldValue, what, plural string, choices []string) (string, *FilterError) {
	for _, c := range choices {
		if strings.EqualFold(v.text, c) {
			return c, nil
		}
	}
	return "", p.fail(v.pos, fmt.Sprintf("unknown %s %q", what, v.text), suggestHint(v.text, plural, choices))
}

func suggestHint(got, plural string, choices []string) string {
	hint := plural + ": " + strings.Join(choices, ", ")
	if s := closest(strings.ToLower(got), choices); s != "" {
		hint = fmt.Sprintf("did you mean %q? %s", s, hint)
	}
	return hint
}

// text is a free-text term, or the bare keyword "expired".
func (p *filterParser) text(t *filterToken) (filterNode, *FilterError) {
	w := t.word
	if len(w) > 0 && !w[0].lit && w[0].r == '!' {
		return nil, p.fail(w[0].pos, `"!" is not negation`, `use "-" or "not", as in -owner:none; quote "!" to search for it`)
	}
	if !t.quoted && !anyLit(w) && strings.EqualFold(wordText(w), "expired") {
		return expiredTerm{}, nil
	}
	v := fieldValue{chars: w}
	return &freeText{pat: newPattern(v.elems(), true)}, nil
}

func kindShort(k string) string {
	if _, short, ok := strings.Cut(k, "_"); ok {
		return short
	}
	return k
}

func (p *filterParser) kindTerm(v *fieldValue) (filterNode, *FilterError) {
	var shorts []string
	for _, k := range Kinds {
		shorts = append(shorts, kindShort(string(k)))
	}
	if v.hasMeta() {
		t := &kindTerm{pat: newPattern(v.elems(), false)}
		for _, k := range Kinds {
			if t.pat.match(string(k)) || t.pat.match(kindShort(string(k))) {
				t.kinds = append(t.kinds, k)
			}
		}
		if len(t.kinds) > 0 {
			return t, nil
		}
		return nil, p.fail(v.pos, fmt.Sprintf("%q matches no kind", v.text), "kinds: "+strings.Join(shorts, ", "))
	}
	for _, k := range Kinds {
		if strings.EqualFold(v.text, string(k)) || strings.EqualFold(v.text, kindShort(string(k))) {
			return &kindTerm{exact: k}, nil
		}
	}
	return nil, p.fail(v.pos, fmt.Sprintf("unknown kind %q", v.text), suggestHint(v.text, "kinds", shorts))
}

func (p *filterParser) findingTerm(v *fieldValue) (filterNode, *FilterError) {
	// No rule is called any or none: quoting changes nothing here.
	switch strings.ToLower(v.text) {
	case "any":
		return &findingTerm{kw: kwAny}, nil
	case "none":
		return &findingTerm{kw: kwNone}, nil
	}
	if v.hasMeta() {
		pat := newPattern(v.elems(), false)
		for _, r := range Rules {
			if pat.match(r) {
				return &findingTerm{pat: pat}, nil
			}
		}
		return nil, p.fail(v.pos, fmt.Sprintf("%q matches no rule", v.text), "rules: "+strings.Join(Rules, ", ")+", or any, none")
	}
	for _, r := range Rules {
		if strings.EqualFold(v.text, r) {
			return &findingTerm{rule: r}, nil
		}
	}
	return nil, p.fail(v.pos, fmt.Sprintf("unknown rule %q", v.text), suggestHint(v.text, "rules", append(append([]string(nil), Rules...), "any", "none")))
}

func (p *filterParser) permTerm(key string, v *fieldValue) (filterNode, *FilterError) {
	switch strings.ToLower(v.text) { // levels are an enum: quoting changes nothing
	case "any":
		return &permTerm{key: key, kw: kwAny}, nil
	case "none":
		return &permTerm{key: key, kw: kwNone}, nil
	}
	level, err := p.enum(v, "permission level", "levels", append(append([]string(nil), filterPermLevel...), "any", "none"))
	if err != nil {
		return nil, err
	}
	return &permTerm{key: key, min: permRankFold(level), level: level}, nil
}

var filterUnits = []struct {
	name string
	d    time.Duration
}{
	{"h", time.Hour}, {"d", 24 * time.Hour}, {"w", 7 * 24 * time.Hour},
	{"mo", 30 * 24 * time.Hour}, {"y", 365 * 24 * time.Hour},
}

func (p *filterParser) timeTerm(f timeField, op string, v *fieldValue) (filterNode, *FilterError) {
	s := v.text
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	field := timeFieldNames[f]
	if i == 0 {
		return nil, p.fail(v.pos, fmt.Sprintf("expected a duration after %q, got %q", field+op, s), "as in "+field+op+"90d; "+filterUnitsHint)
	}
	unitText := strings.ToLower(s[i:])
	unitPos := v.pos
	if i < len(v.chars) {
		unitPos = v.chars[i].pos // digits are one byte each: rune index == byte index
	}
	if unitText == "" {
		return nil, p.fail(v.pos, fmt.Sprintf("missing unit in %q", s), "as in "+field+op+s+"d; "+filterUnitsHint)
	}
	if s[i] == '.' || s[i] == ',' {
		return nil, p.fail(unitPos, fmt.Sprintf("durations are whole numbers, got %q", s), "as in 36h rather than 1.5d")
	}
	var unit time.Duration
	for _, u := range filterUnits {
		if unitText == u.name {
			unit = u.d
		}
	}
	switch {
	case unitText == "m":
		return nil, p.fail(unitPos, `ambiguous unit "m"`, `write "mo" for months (30 days) or "h" for hours`)
	case unit == 0:
		return nil, p.fail(unitPos, fmt.Sprintf("unknown unit %q", s[i:]), filterUnitsHint)
	}
	n, perr := strconv.ParseUint(s[:i], 10, 64)
	if perr != nil || n >= uint64(math.MaxInt64/unit) {
		return nil, p.fail(v.pos, fmt.Sprintf("duration %q is too long", s), "")
	}
	t := &timeTerm{field: f, op: op, n: n, unit: unitText}
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

// closest suggests the candidate s most likely meant: within a small edit
// distance, or one it is a prefix of. "" when nothing is close.
func closest(s string, cands []string) string {
	best, bestD := "", math.MaxInt
	for _, c := range cands {
		if d := editDistance(s, c); d < bestD {
			best, bestD = c, d
		}
	}
	limit := 1
	if utf8.RuneCountInString(s) >= 5 {
		limit = 2
	}
	if bestD <= limit && bestD < utf8.RuneCountInString(best) {
		return best
	}
	if len(s) >= 2 {
		for _, c := range cands {
			if strings.HasPrefix(c, s) {
				return c
			}
		}
	}
	return ""
}

// editDistance is the optimal string alignment distance: insertions,
// deletions, substitutions and transpositions of adjacent characters.
func editDistance(a, b string) int {
	x, y := []rune(a), []rune(b)
	if len(x) > 64 || len(y) > 64 {
		return math.MaxInt
	}
	d := make([][]int, len(x)+1)
	for i := range d {
		d[i] = make([]int, len(y)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(x); i++ {
		for j := 1; j <= len(y); j++ {
			cost := 1
			if x[i-1] == y[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && x[i-1] == y[j-2] && x[i-2] == y[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(x)][len(y)]
}

// ---------------------------------------------------------------- nodes

type filterNode interface {
	match(id *Identity, env *FilterEnv) bool
	write(b *strings.Builder) // canonical form
}

type andNode []filterNode

func (n andNode) match(id *Identity, env *FilterEnv) bool {
	for _, c := range n {
		if !c.match(id, env) {
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

type orNode []filterNode

func (n orNode) match(id *Identity, env *FilterEnv) bool {
	for _, c := range n {
		if c.match(id, env) {
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

type notNode struct{ x filterNode }

func (n notNode) match(id *Identity, env *FilterEnv) bool { return !n.x.match(id, env) }

func (n notNode) write(b *strings.Builder) {
	b.WriteByte('-')
	writeGrouped(b, n.x, true)
}

// writeGrouped writes c, in parentheses when it is an "or" (or, under a
// negation, any compound).
func writeGrouped(b *strings.Builder, c filterNode, negated bool) {
	_, isOr := c.(orNode)
	_, isAnd := c.(andNode)
	if isOr || (negated && isAnd) {
		b.WriteByte('(')
		c.write(b)
		b.WriteByte(')')
		return
	}
	c.write(b)
}

// Keywords a value can be instead of a pattern.
type filterKeyword uint8

const (
	kwPattern filterKeyword = iota
	kwNone
	kwAny
)

func (k filterKeyword) String() string {
	switch k {
	case kwNone:
		return "none"
	case kwAny:
		return "any"
	}
	return ""
}

type textField uint8

const (
	fieldOwner textField = iota
	fieldScope
	fieldName
	fieldID
	fieldSource
)

var textFieldNames = [...]string{fieldOwner: "owner", fieldScope: "scope", fieldName: "name", fieldID: "id", fieldSource: "source"}

func (f textField) get(id *Identity) string {
	switch f {
	case fieldOwner:
		return id.Owner
	case fieldScope:
		return id.Scope
	case fieldName:
		return id.Name
	case fieldID:
		return id.ID
	}
	return id.Source
}

// textTerm: owner, scope, name, id, source.
type textTerm struct {
	field textField
	kw    filterKeyword // owner only
	pat   *pattern
}

func (t *textTerm) match(id *Identity, _ *FilterEnv) bool {
	s := t.field.get(id)
	switch t.kw {
	case kwNone:
		return s == ""
	case kwAny:
		return s != ""
	}
	return t.pat.match(s)
}

func (t *textTerm) write(b *strings.Builder) {
	b.WriteString(textFieldNames[t.field])
	b.WriteByte(':')
	if t.kw != kwPattern {
		b.WriteString(t.kw.String())
		return
	}
	var reserved []string
	if t.field == fieldOwner {
		reserved = []string{"none", "any"}
	}
	writePattern(b, t.pat.src, false, reserved)
}

// kindTerm: an exact kind, or a glob over the full and short names. A
// glob is resolved against the known kinds when compiled; only a kind
// this build does not know is matched as text.
type kindTerm struct {
	exact Kind
	pat   *pattern
	kinds []Kind // known kinds the glob matches
}

func (t *kindTerm) match(id *Identity, _ *FilterEnv) bool {
	if t.pat == nil {
		return id.Kind == t.exact
	}
	for _, k := range t.kinds {
		if id.Kind == k {
			return true
		}
	}
	for _, k := range Kinds {
		if id.Kind == k {
			return false
		}
	}
	k := string(id.Kind)
	return t.pat.match(k) || t.pat.match(kindShort(k))
}

func (t *kindTerm) write(b *strings.Builder) {
	b.WriteString("kind:")
	if t.pat == nil {
		b.WriteString(string(t.exact))
		return
	}
	writePattern(b, t.pat.src, false, nil)
}

type findingTerm struct {
	kw   filterKeyword
	rule string
	pat  *pattern
}

func (t *findingTerm) match(id *Identity, _ *FilterEnv) bool {
	switch t.kw {
	case kwAny:
		return len(id.Findings) > 0
	case kwNone:
		return len(id.Findings) == 0
	}
	for i := range id.Findings {
		r := id.Findings[i].Rule
		if t.pat != nil && t.pat.match(r) || t.pat == nil && (r == t.rule || strings.EqualFold(r, t.rule)) {
			return true
		}
	}
	return false
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
	min  int
	name string
}

func severityRankFold(s string) int {
	for i, v := range Severities {
		if s == v || strings.EqualFold(s, v) {
			return i + 1
		}
	}
	return 0
}

func (t *severityTerm) match(id *Identity, _ *FilterEnv) bool {
	for i := range id.Findings {
		if severityRankFold(id.Findings[i].Severity) >= t.min {
			return true
		}
	}
	return false
}

func (t *severityTerm) write(b *strings.Builder) { b.WriteString("severity:" + t.name) }

type statusTerm struct{ status string }

func (t *statusTerm) match(id *Identity, _ *FilterEnv) bool {
	return id.Status == t.status || strings.EqualFold(id.Status, t.status)
}

func (t *statusTerm) write(b *strings.Builder) { b.WriteString("status:" + t.status) }

type decisionTerm struct{ decision string }

func (t *decisionTerm) match(id *Identity, env *FilterEnv) bool {
	d := ""
	if env.Decision != nil {
		d = env.Decision(id.ID)
	}
	if t.decision == "pending" && d == "" {
		return true
	}
	return strings.EqualFold(d, t.decision)
}

func (t *decisionTerm) write(b *strings.Builder) { b.WriteString("decision:" + t.decision) }

// attrTerm: attr.KEY:value. Keys are matched in lower case.
type attrTerm struct {
	key string
	kw  filterKeyword
	pat *pattern
}

func (t *attrTerm) match(id *Identity, _ *FilterEnv) bool {
	v, ok := id.Attributes[t.key]
	switch t.kw {
	case kwAny:
		return v != ""
	case kwNone:
		return v == ""
	}
	return ok && t.pat.match(v)
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
	kw    filterKeyword
	min   int
	level string
}

func permRankFold(s string) int {
	for i, v := range filterPermLevel {
		if s == v || strings.EqualFold(s, v) {
			return i + 1
		}
	}
	return 0
}

func (t *permTerm) match(id *Identity, _ *FilterEnv) bool {
	if t.key != "" {
		v := id.Permissions[t.key]
		switch t.kw {
		case kwAny:
			return v != ""
		case kwNone:
			return v == ""
		}
		return permRankFold(v) >= t.min
	}
	for _, v := range id.Permissions {
		switch {
		case t.kw == kwAny && v != "":
			return true
		case t.kw == kwNone && v != "":
			return false
		case t.kw == kwPattern && permRankFold(v) >= t.min:
			return true
		}
	}
	return t.kw == kwNone
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

type timeField uint8

const (
	timeUnused timeField = iota
	timeExpires
	timeAge
	timeRotated
)

var timeFieldNames = [...]string{timeUnused: "unused", timeExpires: "expires", timeAge: "age", timeRotated: "rotated"}

func filterEnvNow(env *FilterEnv) time.Time {
	if env.Now.IsZero() {
		panic("audit: Filter.Match: FilterEnv.Now is required by relative-time terms (unused, expires, age, rotated, expired)")
	}
	return env.Now
}

// timeTerm compares a span in whole units: the time since a timestamp
// (unused, age, rotated) or until one (expires). It holds when the span is
// at least thr (ge) or less than thr (!ge).
type timeTerm struct {
	field timeField
	op    string
	n     uint64
	unit  string
	thr   time.Duration
	ge    bool
}

func (t *timeTerm) match(id *Identity, env *FilterEnv) bool {
	now := filterEnvNow(env)
	var ref *time.Time
	switch t.field {
	case timeUnused:
		ref = id.LastUsedAt
		if ref == nil && id.Kind.TracksLastUse() {
			ref = id.CreatedAt // never used: idle since it was created
		}
	case timeAge:
		ref = id.CreatedAt
	case timeRotated:
		ref = id.RotatedAt
	case timeExpires:
		if id.ExpiresAt == nil {
			return false
		}
		// remaining = ExpiresAt - now; remaining >= thr <=> ExpiresAt >= now+thr
		before := id.ExpiresAt.Before(now.Add(t.thr))
		return before != t.ge
	}
	if ref == nil {
		return false // not known: no claim either way
	}
	// elapsed = now - ref; elapsed >= thr <=> ref <= now-thr
	after := ref.After(now.Add(-t.thr))
	return after != t.ge
}

func (t *timeTerm) write(b *strings.Builder) {
	b.WriteString(timeFieldNames[t.field])
	b.WriteString(t.op)
	b.WriteString(strconv.FormatUint(t.n, 10))
	b.WriteString(t.unit)
}

// neverTerm: expires:never, rotated:never.
type neverTerm struct{ field timeField }

func (t *neverTerm) match(id *Identity, _ *FilterEnv) bool {
	if t.field == timeExpires {
		return id.ExpiresAt == nil
	}
	return id.RotatedAt == nil
}

func (t *neverTerm) write(b *strings.Builder) {
	b.WriteString(timeFieldNames[t.field])
	b.WriteString(":never")
}

// usedTerm: used:never (the kind reports last use and there is none),
// used:unknown (the kind does not report it and there is none).
type usedTerm struct{ unknown bool }

func (t *usedTerm) match(id *Identity, _ *FilterEnv) bool {
	return id.LastUsedAt == nil && id.Kind.TracksLastUse() != t.unknown
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

func (expiredTerm) match(id *Identity, env *FilterEnv) bool {
	now := filterEnvNow(env)
	return id.ExpiresAt != nil && id.ExpiresAt.Before(now)
}

func (expiredTerm) write(b *strings.Builder) { b.WriteString("expired") }

// freeText matches ID, name, scope or owner anywhere, case-insensitively.
type freeText struct{ pat *pattern }

func (t *freeText) match(id *Identity, _ *FilterEnv) bool {
	return t.pat.match(id.ID) || t.pat.match(id.Name) || t.pat.match(id.Scope) || t.pat.match(id.Owner)
}

func (t *freeText) write(b *strings.Builder) {
	writePattern(b, t.pat.src, true, []string{"and", "or", "not", "expired"})
}

// ---------------------------------------------------------------- printing

// writePattern writes a value so that it lexes back to the same elements:
// literal runs that would mean something else are quoted. free is a
// free-text word, which must not look like a field term, a negation or a
// keyword; reserved are words that would be read as keywords.
func writePattern(b *strings.Builder, src []pelem, free bool, reserved []string) {
	allLit := true
	for _, e := range src {
		if e.meta {
			allLit = false
		}
	}
	quoteAll := len(src) == 0
	if allLit && !quoteAll {
		var s strings.Builder
		for _, e := range src {
			s.WriteRune(e.r)
		}
		for _, k := range reserved {
			if strings.EqualFold(s.String(), k) {
				quoteAll = true
			}
		}
	}
	if quoteAll {
		writeQuoted(b, src)
		return
	}
	for i := 0; i < len(src); {
		if src[i].meta {
			b.WriteRune(src[i].r)
			i++
			continue
		}
		j := i
		for j < len(src) && !src[j].meta {
			j++
		}
		run := src[i:j]
		if needsQuote(run, free, i == 0) {
			writeQuoted(b, run)
		} else {
			for _, e := range run {
				b.WriteRune(e.r)
			}
		}
		i = j
	}
}

func needsQuote(run []pelem, free, first bool) bool {
	if free && first && (run[0].r == '-' || run[0].r == '!') {
		return true
	}
	for _, e := range run {
		switch {
		case unicode.IsSpace(e.r), e.r == '(', e.r == ')', e.r == '"', e.r == '\\', e.r == '*', e.r == '?':
			return true
		case free && isFilterOp(e.r):
			return true
		}
	}
	return false
}

func writeQuoted(b *strings.Builder, run []pelem) {
	b.WriteByte('"')
	for _, e := range run {
		if e.r == '"' || e.r == '\\' {
			b.WriteByte('\\')
		}
		b.WriteRune(e.r)
	}
	b.WriteByte('"')
}

// ---------------------------------------------------------------- patterns

// pelem is one element of a value: a literal character, or an unquoted
// "*" or "?" (meta).
type pelem struct {
	r    rune
	meta bool
}

const (
	globStar rune = -1 // any run of characters
	globAny  rune = -2 // exactly one character
)

type patMode uint8

const (
	patAll      patMode = iota // "*"
	patExact                   // abc
	patPrefix                  // abc*
	patContains                // *abc*
	patGlob                    // anything else
)

// pattern is a compiled, case-insensitive glob.
type pattern struct {
	src    []pelem // as written, for String
	mode   patMode
	lit    string // folded literal for exact, prefix, contains
	litLen int    // characters in lit
	// patGlob: the folded runes between stars (globAny for "?"); the
	// first is anchored at the start, the last at the end. A leading or
	// trailing star makes that segment empty.
	segs [][]rune
}

// newPattern compiles src; anywhere makes it match inside a string (free
// text) rather than the whole string.
func newPattern(src []pelem, anywhere bool) *pattern {
	toks := make([]rune, 0, len(src)+2)
	push := func(r rune) {
		if r == globStar && len(toks) > 0 && toks[len(toks)-1] == globStar {
			return
		}
		toks = append(toks, r)
	}
	if anywhere {
		push(globStar)
	}
	for _, e := range src {
		switch {
		case e.meta && e.r == '*':
			push(globStar)
		case e.meta:
			push(globAny)
		default:
			push(foldRune(e.r))
		}
	}
	if anywhere {
		push(globStar)
	}
	p := &pattern{src: src, mode: patGlob}
	stars, anys := 0, 0
	for _, t := range toks {
		switch t {
		case globStar:
			stars++
		case globAny:
			anys++
		}
	}
	lead := len(toks) > 0 && toks[0] == globStar
	trail := len(toks) > 0 && toks[len(toks)-1] == globStar
	if anys == 0 {
		switch {
		case len(toks) == 1 && stars == 1:
			p.mode = patAll
		case stars == 0:
			p.mode, p.lit = patExact, string(toks)
		case stars == 1 && trail:
			p.mode, p.lit = patPrefix, string(toks[:len(toks)-1])
		case stars == 2 && lead && trail:
			p.mode, p.lit = patContains, string(toks[1:len(toks)-1])
		}
	}
	p.litLen = utf8.RuneCountInString(p.lit)
	if p.mode == patGlob {
		seg := []rune{}
		for _, t := range toks {
			if t == globStar {
				p.segs = append(p.segs, seg)
				seg = []rune{}
				continue
			}
			seg = append(seg, t)
		}
		p.segs = append(p.segs, seg)
	}
	return p
}

func (p *pattern) match(s string) bool {
	switch p.mode {
	case patAll:
		return true
	case patExact:
		n, ok := prefixFold(s, p.lit)
		return ok && n == len(s)
	case patPrefix:
		_, ok := prefixFold(s, p.lit)
		return ok
	case patContains:
		return containsFold(s, p.lit, p.litLen)
	}
	return p.glob(s)
}

// glob matches segment by segment: the first at the start, each middle one
// at its leftmost place after the previous (greedy is exact when segments
// have a fixed length in characters), the last at the end.
func (p *pattern) glob(s string) bool {
	segs := p.segs
	i, ok := segAt(s, 0, segs[0])
	if !ok {
		return false
	}
	if len(segs) == 1 {
		return i == len(s)
	}
	for _, seg := range segs[1 : len(segs)-1] {
		if i, ok = segFind(s, i, seg); !ok {
			return false
		}
	}
	last := segs[len(segs)-1]
	if len(last) == 0 {
		return true
	}
	// The last segment covers exactly the last len(last) characters.
	n := utf8.RuneCountInString(s[i:]) - len(last)
	if n < 0 {
		return false
	}
	if len(s)-i == n+len(last) { // all single bytes
		i += n
	} else {
		for ; n > 0; n-- {
			_, sz := utf8.DecodeRuneInString(s[i:])
			i += sz
		}
	}
	_, ok = segAt(s, i, last)
	return ok
}

// segAt matches seg at s[i:], returning where the match ends.
func segAt(s string, i int, seg []rune) (int, bool) {
	for _, t := range seg {
		if i >= len(s) {
			return 0, false
		}
		r, sz := decodeFold(s, i)
		if t != globAny && r != t {
			return 0, false
		}
		i += sz
	}
	return i, true
}

// segFind finds the leftmost match of seg in s[i:], returning where it ends.
func segFind(s string, i int, seg []rune) (int, bool) {
	if c := seg[0]; scannable(c) {
		// Every character takes at least a byte: no match starts later.
		lo, mask := byte(c), scanMask(byte(c))
		for last := len(s) - len(seg); i <= last; i++ {
			if s[i]|mask == lo {
				if end, ok := segAt(s, i, seg); ok {
					return end, true
				}
			}
		}
		return 0, false
	}
	for i < len(s) {
		if end, ok := segAt(s, i, seg); ok {
			return end, true
		}
		_, sz := utf8.DecodeRuneInString(s[i:])
		i += sz
	}
	return 0, false
}

// scannable reports whether only the ASCII bytes c and its upper case can
// start a character that folds to c: true for ASCII except i, k and s,
// which U+0130, U+0131, U+212A and U+017F fold to.
func scannable(c rune) bool {
	return c >= 0 && c < utf8.RuneSelf && c != 'i' && c != 'k' && c != 's'
}

// scanMask is what to OR a byte with before comparing it to c: a letter
// matches in either case.
func scanMask(c byte) byte {
	if 'a' <= c && c <= 'z' {
		return 0x20
	}
	return 0
}

// foldRune maps a character to the one all its case variants share.
// Idempotent; only U+0130, U+0131, U+017F and U+212A fold from outside
// ASCII into it.
func foldRune(r rune) rune {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}
	return unicode.ToLower(unicode.ToUpper(r))
}

// decodeFold decodes the character at s[i], folded; invalid UTF-8 is one
// U+FFFD per byte.
func decodeFold(s string, i int) (rune, int) {
	if c := s[i]; c < utf8.RuneSelf {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		return rune(c), 1
	}
	r, sz := utf8.DecodeRuneInString(s[i:])
	return foldRune(r), sz
}

// prefixFold reports whether s starts with the folded string lit, and how
// many bytes of s that took.
func prefixFold(s, lit string) (int, bool) {
	i, j := 0, 0
	for j < len(lit) {
		if i >= len(s) {
			return 0, false
		}
		c, l := s[i], lit[j]
		if c < utf8.RuneSelf && l < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != l {
				return 0, false
			}
			i++
			j++
			continue
		}
		r, sz := decodeFold(s, i)
		lr, lsz := utf8.DecodeRuneInString(lit[j:])
		if r != lr {
			return 0, false
		}
		i += sz
		j += lsz
	}
	return i, true
}

// containsFold reports whether s contains the folded string lit.
// n is the number of characters in lit: a match takes at least n bytes.
func containsFold(s, lit string, n int) bool {
	if lit == "" {
		return true
	}
	if c := lit[0]; scannable(rune(c)) {
		mask := scanMask(c)
		for i, last := 0, len(s)-n; i <= last; i++ {
			if s[i]|mask == c {
				if _, ok := prefixFold(s[i:], lit); ok {
					return true
				}
			}
		}
		return false
	}
	for i := 0; i < len(s); {
		if _, ok := prefixFold(s[i:], lit); ok {
			return true
		}
		_, sz := utf8.DecodeRuneInString(s[i:])
		i += sz
	}
	return false
}
