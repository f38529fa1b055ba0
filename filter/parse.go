package filter

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Error is a filter expression that does not compile: where and why.
type Error struct {
	Expr string // the expression as given
	Pos  int    // byte offset into Expr of the offending text
	Msg  string // what is wrong, e.g. `unknown field "ownr"`
	Hint string // optional: a suggestion or the valid choices

	printable func(string) string // Vocabulary.Printable, for Caret
}

// Error is one line: `filter: unknown field "ownr" at column 1 (did you
// mean "owner"? fields: ...)`.
func (e *Error) Error() string {
	s := fmt.Sprintf("filter: %s at column %d", e.Msg, e.Column())
	if e.Hint != "" {
		s += " (" + e.Hint + ")"
	}
	return s
}

// Column is the 1-based character (not byte) column of Pos.
func (e *Error) Column() int {
	return utf8.RuneCountInString(e.Expr[:e.pos()]) + 1
}

func (e *Error) pos() int {
	return min(max(e.Pos, 0), len(e.Expr))
}

// Caret is two lines for a terminal: the expression, made printable, and a
// caret under Pos. It assumes one cell per character.
func (e *Error) Caret() string {
	printable := e.printable
	if printable == nil {
		printable = visible
	}
	col := utf8.RuneCountInString(printable(e.Expr[:e.pos()]))
	return printable(e.Expr) + "\n" + strings.Repeat(" ", col) + "^"
}

// visible is Caret's terminal safety for an Error not made by Parse, which
// has no Vocabulary.Printable: white space becomes a space, and characters
// that do not print are dropped.
func visible(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case unicode.IsSpace(r):
			return ' '
		case !unicode.IsPrint(r):
			return -1
		}
		return r
	}, s)
}

// Filter is a compiled filter expression. The zero Filter and a nil
// *Filter match everything.
type Filter struct {
	root      node
	campaigns []string
	inView    bool
	decision  bool
	status    bool
}

// HasStatus reports whether the filter has a status: term. The lists
// that show only active identities by default show what it asks for.
func (f *Filter) HasStatus() bool { return f != nil && f.status }

// And is a filter matching what both a and b match (nil or empty: no
// restriction), for a view that narrows what the user typed.
func And(a, b *Filter) *Filter {
	switch {
	case a == nil || a.root == nil:
		return b
	case b == nil || b.root == nil:
		return a
	}
	out := &Filter{root: andNode{a.root, b.root}, inView: a.inView || b.inView, decision: a.decision || b.decision, status: a.status || b.status}
	out.campaigns = append([]string(nil), a.campaigns...)
	for _, c := range b.campaigns {
		out.campaigns = appendNew(out.campaigns, c)
	}
	return out
}

// Active is f restricted to active identities unless it says which
// statuses it wants (HasStatus): the default population of the lists.
// An empty f is status:active.
func Active(f *Filter, v *Vocabulary) *Filter {
	if f.HasStatus() {
		return f
	}
	active := &statusTerm{status: "active"}
	if v != nil && len(v.Statuses) > 0 {
		active.status = v.Statuses[0]
	}
	out := &Filter{root: active, status: true}
	if f != nil && f.root != nil {
		out.root = andNode{active, f.root}
		out.campaigns, out.inView, out.decision = f.campaigns, f.inView, f.decision
	}
	return out
}

// Campaigns are the names the filter's campaign: terms give, each once, as
// written: the campaigns whose populations Env.Review must know. A caller
// that can list the campaigns refuses a name that is none of them.
func (f *Filter) Campaigns() []string {
	if f == nil {
		return nil
	}
	return f.campaigns
}

// NeedsCampaign reports whether the filter has a decision: or reviewer:
// term, which reads the campaign in view: a caller with none refuses the
// filter rather than show that nothing matches.
func (f *Filter) NeedsCampaign() bool { return f != nil && f.inView }

// ReadsDecisions reports whether the filter has a decision: term: what
// it matches can change when a decision is taken. A list under a filter
// without one keeps its rows when a decision changes.
func (f *Filter) ReadsDecisions() bool { return f != nil && f.decision }

// Parse compiles expr in the vocabulary v: the kinds, rules, severities
// and statuses its terms may name (audit.Vocabulary for identities). The
// empty expression matches everything. Errors are *Error.
func Parse(expr string, v *Vocabulary) (*Filter, error) {
	if v == nil {
		v = &Vocabulary{}
	}
	f, err := parse(expr, v)
	if err != nil {
		err.printable = v.Printable
		return nil, err
	}
	return f, nil
}

func parse(expr string, v *Vocabulary) (*Filter, *Error) {
	toks, err := lex(expr)
	if err != nil {
		return nil, err
	}
	p := &parser{expr: expr, toks: toks, vocab: v}
	if p.peek().kind == tokEOF {
		return &Filter{}, nil
	}
	root, err := p.parseOr(nil)
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tokEOF { // only a ')' can stop the top level early
		return nil, p.fail(t.pos, `")" without matching "("`, "")
	}
	return &Filter{root: root, campaigns: p.campaigns, inView: p.inView, decision: p.decision, status: p.status}, nil
}

// Match reports whether s satisfies the filter. env may be nil for
// filters without time or decision terms.
func (f *Filter) Match(s Subject, env *Env) bool {
	if f == nil || f.root == nil {
		return true
	}
	if env == nil {
		env = &noEnv
	}
	return f.root.match(s, env, false)
}

// Decide is Match, and whether the answer is known: known is false when
// the filter is not true of s only because of what was not read of it
// (docs/filter.md, "What was not read"), where it would be true were
// each term over it true as written, or false under a not. A campaign
// counts those its scope leaves out so.
func (f *Filter) Decide(s Subject, env *Env) (match, known bool) {
	if f == nil || f.root == nil {
		return true, true
	}
	if env == nil {
		env = &noEnv
	}
	if f.root.match(s, env, false) {
		return true, true
	}
	return false, !f.root.match(s, env, true)
}

// People names the people the filter's person terms ask about, in order
// of appearance, each once: the caller resolves them and sets
// Env.Related.
func (f *Filter) People() []string {
	var out []string
	var walk func(n node)
	walk = func(n node) {
		switch t := n.(type) {
		case andNode:
			for _, c := range t {
				walk(c)
			}
		case orNode:
			for _, c := range t {
				walk(c)
			}
		case notNode:
			walk(t.x)
		case *personTerm:
			if !slices.Contains(out, t.person) {
				out = append(out, t.person)
			}
		}
	}
	if f != nil && f.root != nil {
		walk(f.root)
	}
	return out
}

// maxDepth bounds nesting of parentheses and negations.
const maxDepth = 100

type parser struct {
	expr  string
	toks  []token
	i     int
	depth int
	vocab *Vocabulary
	// What the campaign terms need from their caller.
	campaigns []string // campaign:NAME terms' names
	inView    bool     // a decision: or reviewer: term reads the campaign in view
	decision  bool     // a decision: term
	status    bool     // a status: term
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

func (p *parser) fail(pos int, msg, hint string) *Error {
	return &Error{Expr: p.expr, Pos: pos, Msg: msg, Hint: hint}
}

// parseOr parses or-separated and-groups. open is the "(" it is inside, or nil.
func (p *parser) parseOr(open *token) (node, *Error) {
	var list orNode
	add := func(n node) {
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
func (p *parser) parseAnd(prev *token) (node, *Error) {
	var list andNode
	add := func(n node) {
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
		var n node
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

func (p *parser) parseUnary(prev *token) (node, *Error) {
	t := p.peek()
	switch t.kind {
	case tokNot, tokNeg:
		p.next()
		if p.depth >= maxDepth {
			return nil, p.fail(t.pos, fmt.Sprintf("expression nests too deeply (limit %d)", maxDepth), "")
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
		if p.depth >= maxDepth {
			return nil, p.fail(t.pos, fmt.Sprintf("expression nests too deeply (limit %d)", maxDepth), "")
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

// syntax is a field term as written: name, operator and value.
type syntax struct {
	field  *field
	name   string // the whole field name, lower case: "owner", "attr.read_only"
	key    string // after the dot, for fields that take one ("read_only")
	dotted bool   // the name had a dot
	pos    int    // where the term starts
	op     string // ":", ">", "<", ">=" or "<="
	opPos  int
	v      *fieldValue
}

// needColon is the error for an operator other than ":".
func (p *parser) needColon(s *syntax) *Error {
	if s.op != ":" {
		return p.fail(s.opPos, fmt.Sprintf("bad operator %q for %s", s.op, s.name), "use "+s.field.exampleFor(s.name))
	}
	return nil
}

func (p *parser) term(t *token) (node, *Error) {
	w := t.word
	// The field is the leading run of plain characters before an operator.
	j := 0
	for j < len(w) && !w[j].lit && !isOp(w[j].r) {
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
		return nil, p.fail(opPos, `bad operator "="`, "use "+example(name))
	}
	value := w[k:]
	valPos := opPos + len(op) // where the value starts, quote included
	v := &fieldValue{chars: value, pos: valPos, text: wordText(value), plain: !t.quoted && !anyLit(value)}
	if len(value) == 0 && !t.quoted {
		return nil, p.fail(valPos, fmt.Sprintf("missing value after %q", name+op), "as in "+example(name))
	}

	head, key, dotted := strings.Cut(name, ".")
	if f := lookup(head); f != nil && (!dotted || f.key != "") {
		return f.compile(p, syntax{field: f, name: name, key: key, dotted: dotted, pos: t.pos, op: op, opPos: opPos, v: v})
	}
	hint := fieldsHint()
	if s := closest(head, fieldNames()); s != "" {
		f := lookup(s)
		if dotted && f.key != "" {
			s += "." + key
		}
		if dotted || !f.keyOnly { // never suggest a name that is not a field by itself
			hint = fmt.Sprintf("did you mean %q? %s", s, hint)
		}
	}
	if op == ":" {
		hint += `; quote text containing ":" to search for it`
	}
	return nil, p.fail(t.pos, fmt.Sprintf("unknown field %q", name), hint)
}

// fieldValue is what follows a field term's operator.
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
func (p *parser) enum(v *fieldValue, what, plural string, choices []string) (string, *Error) {
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
func (p *parser) text(t *token) (node, *Error) {
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
	// A start typed with a slip ("dploy" for deploy_key): one edit from
	// the start of a candidate as long as it, or a character longer or
	// shorter.
	if n := utf8.RuneCountInString(s); n >= 4 {
		for _, c := range cands {
			r := []rune(c)
			for l := n - 1; l <= n+1; l++ {
				if l < len(r) && editDistance(s, string(r[:l])) <= 1 {
					return c
				}
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
