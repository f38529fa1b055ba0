package audit

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Names that read as another: a person's name decides whose decision a
// reader sees, so the directory refuses a name with a character that
// shows nothing (rita<U+200B>@acme.test prints as rita@acme.test), and
// an alias that reads as another person's (full-width ｒｉｔａ, Cyrillic
// і in rіta, an accent) (docs/people.md, "The directory").

// invisibleRune returns the first character of s that prints nothing —
// a format character (zero-width space and joiners, soft hyphen,
// byte-order mark, bidi marks), a variation selector or another
// default-ignorable code point — and whether there is one.
func invisibleRune(s string) (rune, bool) {
	for _, r := range s {
		if isInvisible(r) {
			return r, true
		}
	}
	return 0, false
}

func isInvisible(r rune) bool {
	return unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Variation_Selector, r) || unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r)
}

// lookalikes are letters of other scripts a reader takes for a Latin
// one, in lower case: those Unicode's confusables (UTS #39) map to a
// single Latin letter among the Cyrillic, Greek and Latin extensions
// that fonts draw alike.
var lookalikes = map[rune]rune{
	// Cyrillic
	'а': 'a', 'ԁ': 'd', 'е': 'e', 'һ': 'h', 'і': 'i', 'ј': 'j', 'к': 'k', 'ӏ': 'l', 'о': 'o', 'р': 'p',
	'ԛ': 'q', 'ѕ': 's', 'у': 'y', 'ԝ': 'w', 'х': 'x', 'с': 'c', 'ү': 'y',
	// Greek
	'α': 'a', 'ι': 'i', 'κ': 'k', 'ν': 'v', 'ο': 'o', 'ρ': 'p', 'υ': 'u', 'χ': 'x',
	// Latin letters that are not ASCII
	'ı': 'i', 'ȷ': 'j', 'ɑ': 'a', 'ɡ': 'g', 'ɩ': 'i', 'ʟ': 'l',
}

// lookalikeKey is the form two names that read alike share: AliasKey's,
// then in compatibility form (full-width and mathematical letters become
// plain ones), without accents and invisible characters, other scripts'
// lookalike letters read as the Latin ones. Two people whose names share
// it would be told apart by no reader.
func lookalikeKey(s string) string {
	k := norm.NFKD.String(AliasKey(s))
	var b strings.Builder
	b.Grow(len(k))
	for _, r := range k {
		if isInvisible(r) || unicode.Is(unicode.Mn, r) {
			continue
		}
		r = unicode.ToLower(r)
		if l, ok := lookalikes[r]; ok {
			r = l
		}
		b.WriteRune(r)
	}
	return b.String()
}
