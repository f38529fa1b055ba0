package filter

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

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

type token struct {
	kind     tokKind
	pos      int
	word     []wchar
	quoted   bool // the word had a quoted part (possibly empty: "")
	quotePos int  // byte offset of its first quote
}

func (t *token) name() string {
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

func lex(expr string) ([]token, *Error) {
	fail := func(pos int, msg, hint string) *Error {
		return &Error{Expr: expr, Pos: pos, Msg: msg, Hint: hint}
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
	var toks []token
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
			return append(toks, token{kind: tokEOF, pos: len(expr)}), nil
		}
		switch expr[i] {
		case '(':
			toks = append(toks, token{kind: tokLParen, pos: i})
			i++
			continue
		case ')':
			toks = append(toks, token{kind: tokRParen, pos: i})
			i++
			continue
		case '-':
			r, _ := utf8.DecodeRuneInString(expr[i+1:])
			if i+1 >= len(expr) || unicode.IsSpace(r) || r == ')' {
				return nil, fail(i, `"-" must be followed directly by a term`, `as in -owner:none; quote "-" to search for it`)
			}
			toks = append(toks, token{kind: tokNeg, pos: i})
			i++
			continue
		}
		t := token{kind: tokWord, pos: i}
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
				t = token{kind: tokAnd, pos: t.pos}
			case "or":
				t = token{kind: tokOr, pos: t.pos}
			case "not":
				t = token{kind: tokNot, pos: t.pos}
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
