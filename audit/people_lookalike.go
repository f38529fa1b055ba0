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
	k := AliasKey(s)
	if IsPlain(k) {
		return k
	}
	k = norm.NFKD.String(k)
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

// ReadsAs returns the name of actor's (or actor itself, for someone the
// directory does not know) that name reads as, when name is no one's in
// the directory: the same after lookalikeKey, the address of a
// "Display Name <address>" whose address is no one's either, an e-mail
// without its +tag (rita+ops@acme.test is delivered to rita@acme.test)
// and without trailing dots. Separation of duties refuses an owner or holder
// recorded so (campaigns' separation.refusal): a name that reads as the
// reviewer's is theirs, though the directory does not list it. A name the
// directory knows is the person it says, and ReadsAs returns "".
func (d *Directory) ReadsAs(name, actor string) string {
	if d.Lookup(name) != nil {
		return ""
	}
	k := mailboxKey(name)
	if k == "" {
		return ""
	}
	p := d.Lookup(actor)
	if p == nil {
		if mailboxKey(actor) == k {
			return actor
		}
		return ""
	}
	if mailboxKey(p.Email) == k {
		return p.Email
	}
	if p.GitHub != "" && mailboxKey(p.GitHub) == k {
		return p.GitHub
	}
	for _, n := range p.Aliases {
		if mailboxKey(n) == k {
			return n
		}
	}
	return ""
}

// MailboxKey is lookalikeKey of the mailbox a name reaches: the address
// inside "Name <address>", an e-mail's local part without its +tag, and
// no trailing dots. Two names with one MailboxKey read as one
// (Directory.ReadsAs).
func MailboxKey(s string) string { return mailboxKey(s) }

func mailboxKey(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '<'); i >= 0 && strings.HasSuffix(s, ">") {
		s = s[i+1 : len(s)-1]
	}
	k := strings.TrimRight(lookalikeKey(s), ".")
	if at := strings.LastIndexByte(k, '@'); at > 0 {
		if plus := strings.IndexByte(k[:at], '+'); plus > 0 {
			k = k[:plus] + k[at:]
		}
	}
	return k
}
