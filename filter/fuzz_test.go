package filter_test

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/filter"
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
	"-perm:any -perm.s3:read -attr.tag.owner:any -finding:any -severity:low -unused>90d or used:unknown",
	"unused>90d unused>=12w unused<7d unused<=2160h expires<14d expires>1mo age>=1y rotated<6mo",
	"expires:never rotated:never used:never used:unknown expired",
	`deploy "ops key" api*7 "\"ci\"" "or" "-x" a\:b "" åsa \u212a`,
	"a or b c", "not not a", "-(a or b) -(c d)", "((a))", "NOT a AND b OR c",
	"ownr:alice", "unused:90d", "unused>90m", "(a", "a)", "a or", "()", `"abc`, `abc\`, "!x", ":x",
}

// filterFuzzIdentities are the fixture plus identities with awkward text.
func filterFuzzIdentities() []*audit.Identity {
	var out []*audit.Identity
	for _, id := range filterFixture() {
		out = append(out, id)
	}
	odd := []audit.Identity{
		{Observation: audit.Observation{ID: "x:\u212a:\"q\" (p)", Kind: audit.KindGitHubRunner, Name: "a*b?c\\d", Scope: "ß/ſ/ς"}, Owner: "none"},
		{Observation: audit.Observation{ID: "bad\xffutf8", Kind: "weird_kind", Name: "", Scope: "OR AND NOT"}, Owner: "any"},
		{Observation: audit.Observation{ID: "", Kind: audit.KindGitHubFineGrainedPAT, Attributes: map[string]string{"any": "none", "": ""},
			Permissions: map[string]string{"x": "ADMIN", "y": "triage"}, LastUsedAt: filterDaysAgo(-1)}, Status: "Removed"},
		{Observation: audit.Observation{ID: "aws:1:aws_iam_role:unread", Kind: audit.KindAWSIAMRole, Permissions: map[string]string{"s3": "read"},
			Attributes: map[string]string{audit.AttrPoliciesUnknown: "true", audit.AttrTagsUnknown: "true", audit.AttrLastUseUnknown: "true"}}},
	}
	for i := range odd {
		out = append(out, &odd[i])
	}
	return out
}

func FuzzParse(f *testing.F) {
	for _, s := range filterFuzzSeeds {
		f.Add(s)
	}
	ids := filterFuzzIdentities()
	fixture := filterFixture()
	env := filterFixtureEnv(fixture)
	f.Fuzz(func(t *testing.T, expr string) {
		flt, err := filter.Parse(expr, audit.Vocabulary)
		if err != nil {
			var fe *filter.Error
			if !errors.As(err, &fe) {
				t.Fatalf("filter.Parse(%q, audit.Vocabulary): %T is not a *filter.Error", expr, err)
			}
			if fe.Pos < 0 || fe.Pos > len(expr) || fe.Expr != expr || fe.Msg == "" {
				t.Fatalf("filter.Parse(%q, audit.Vocabulary): bad error %#v", expr, fe)
			}
			if msg := err.Error(); strings.ContainsAny(msg, "\n\r") || !utf8.ValidString(msg) {
				t.Fatalf("filter.Parse(%q, audit.Vocabulary): Error() not one valid line: %q", expr, msg)
			}
			if c := fe.Caret(); strings.Count(c, "\n") != 1 {
				t.Fatalf("filter.Parse(%q, audit.Vocabulary): Caret() is not two lines: %q", expr, c)
			}
			return
		}
		canon := flt.String()
		again, err := filter.Parse(canon, audit.Vocabulary)
		if err != nil {
			t.Fatalf("filter.Parse(%q, audit.Vocabulary).String() = %q, which does not parse: %v", expr, canon, err)
		}
		if again.String() != canon {
			t.Fatalf("canonical form not stable: %q -> %q -> %q", expr, canon, again.String())
		}
		not, _ := filter.Parse("-("+canon+")", audit.Vocabulary) // nil: empty, or too deep
		for _, e := range []*filter.Env{env, {Now: filterTestNow}, {Now: filterTestNow.Add(400 * 24 * time.Hour)}} {
			for _, id := range ids {
				if a, b := flt.Match(id, e), again.Match(id, e); a != b {
					t.Fatalf("%q matches %q: %v; its canonical form %q: %v", expr, id.ID, a, canon, b)
				}
				// What was not read is unknown, never a yes to both a
				// filter and its negation.
				if not != nil && flt.Match(id, e) && not.Match(id, e) {
					t.Fatalf("%q and %q both match %q", canon, not.String(), id.ID)
				}
			}
		}
	})
}
