package audit

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// filterFuzzSeeds cover every field, operator, keyword and quoting form.
var filterFuzzSeeds = []string{
	"",
	"kind:github_deploy_key or (finding:stale -owner:none) scope:acme/api*",
	"kind:deploy_key kind:*secret kind:fine*",
	"finding:any finding:none finding:no-* severity:high",
	`owner:none owner:any owner:"Alice Smith" owner:alice\ smith owner:"none" owner:""`,
	"scope:acme/??? name:*token* id:github:acme:* source:github status:removed",
	"decision:pending or decision:no-response or decision:keep",
	`attr.suspended:false attr.credential_type:"personal access token" attr.x:any`,
	"perm:admin perm:none perm.contents:write perm.administration:any",
	"unused>90d unused>=12w unused<7d unused<=2160h expires<14d expires>1mo age>=1y rotated<6mo",
	"expires:never rotated:never used:never used:unknown expired",
	`deploy "ops key" api*7 "\"ci\"" "or" "-x" a\:b "" åsa \u212a`,
	"a or b c", "not not a", "-(a or b) -(c d)", "((a))", "NOT a AND b OR c",
	"ownr:alice", "unused:90d", "unused>90m", "(a", "a)", "a or", "()", `"abc`, `abc\`, "!x", ":x",
}

// filterFuzzIdentities are the fixture plus identities with awkward text.
func filterFuzzIdentities() []*Identity {
	var out []*Identity
	for _, id := range filterFixture() {
		out = append(out, id)
	}
	odd := []Identity{
		{Observation: Observation{ID: "x:\u212a:\"q\" (p)", Kind: KindGitHubRunner, Name: "a*b?c\\d", Scope: "ß/ſ/ς"}, Owner: "none"},
		{Observation: Observation{ID: "bad\xffutf8", Kind: "weird_kind", Name: "", Scope: "OR AND NOT"}, Owner: "any"},
		{Observation: Observation{ID: "", Kind: KindGitHubFineGrainedPAT, Attributes: map[string]string{"any": "none", "": ""},
			Permissions: map[string]string{"x": "ADMIN", "y": "triage"}, LastUsedAt: filterDaysAgo(-1)}, Status: "Removed"},
	}
	for i := range odd {
		out = append(out, &odd[i])
	}
	return out
}

func FuzzParseFilter(f *testing.F) {
	for _, s := range filterFuzzSeeds {
		f.Add(s)
	}
	ids := filterFuzzIdentities()
	fixture := filterFixture()
	env := filterFixtureEnv(fixture)
	f.Fuzz(func(t *testing.T, expr string) {
		flt, err := ParseFilter(expr)
		if err != nil {
			var fe *FilterError
			if !errors.As(err, &fe) {
				t.Fatalf("ParseFilter(%q): %T is not a *FilterError", expr, err)
			}
			if fe.Pos < 0 || fe.Pos > len(expr) || fe.Expr != expr || fe.Msg == "" {
				t.Fatalf("ParseFilter(%q): bad error %#v", expr, fe)
			}
			if msg := err.Error(); strings.ContainsAny(msg, "\n\r") || !utf8.ValidString(msg) {
				t.Fatalf("ParseFilter(%q): Error() not one valid line: %q", expr, msg)
			}
			if c := fe.Caret(); strings.Count(c, "\n") != 1 {
				t.Fatalf("ParseFilter(%q): Caret() is not two lines: %q", expr, c)
			}
			return
		}
		canon := flt.String()
		again, err := ParseFilter(canon)
		if err != nil {
			t.Fatalf("ParseFilter(%q).String() = %q, which does not parse: %v", expr, canon, err)
		}
		if again.String() != canon {
			t.Fatalf("canonical form not stable: %q -> %q -> %q", expr, canon, again.String())
		}
		for _, e := range []*FilterEnv{env, {Now: filterTestNow}, {Now: filterTestNow.Add(400 * 24 * time.Hour)}} {
			for _, id := range ids {
				if a, b := flt.Match(id, e), again.Match(id, e); a != b {
					t.Fatalf("%q matches %q: %v; its canonical form %q: %v", expr, id.ID, a, canon, b)
				}
			}
		}
	})
}

// FuzzFilterPattern checks the compiled globs (exact, prefix, contains,
// general) against a plain dynamic-programming matcher over folded runes.
func FuzzFilterPattern(f *testing.F) {
	for _, s := range [][2]string{
		{"abc", "ABC"}, {"a*", "abc"}, {"*b*", "abc"}, {"*c", "abc"}, {"a?c", "aÅc"},
		{"*a*b*", "xaxbx"}, {"k", "\u212a"}, {"ſ*", "S"}, {"**", ""}, {"?", "\xff"}, {"*\u212a*", "xKx"},
	} {
		f.Add(s[0], s[1], false)
	}
	f.Fuzz(func(t *testing.T, pat, s string, anywhere bool) {
		if !utf8.ValidString(pat) {
			return // the lexer rejects invalid UTF-8 before patterns are built
		}
		if len(pat) > 64 || len(s) > 512 {
			return // keep the quadratic reference quick
		}
		v := filterValueOf(pat)
		got := newPattern(v.elems(), anywhere).match(s)
		ref := pat
		if anywhere {
			ref = "*" + pat + "*"
		}
		if want := refGlob([]rune(ref), []rune(s)); got != want {
			t.Fatalf("pattern %q (anywhere %v) on %q: got %v, want %v", pat, anywhere, s, got, want)
		}
	})
}

// refGlob matches folded runes with * and ? by dynamic programming.
func refGlob(p, s []rune) bool {
	// dp[j]: p[:i] matches s[:j]
	dp := make([]bool, len(s)+1)
	dp[0] = true
	for _, c := range p {
		next := make([]bool, len(s)+1)
		switch c {
		case '*':
			seen := false
			for j := range dp {
				seen = seen || dp[j]
				next[j] = seen
			}
		default:
			for j := 1; j <= len(s); j++ {
				next[j] = dp[j-1] && (c == '?' || foldRune(c) == foldRune(s[j-1]))
			}
		}
		dp = next
	}
	return dp[len(s)]
}
