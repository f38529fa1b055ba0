package audit

import (
	"testing"

	"github.com/nhi-audit/nhi/filter"
)

// TestUnreadIsNotNoneInFilters: nhi identities --filter, campaign scopes
// and offboard --scope read an identity whose policies were not read
// (policies_unknown) as having none that nhi knows of, not none, one
// whose tags were not read (tags_unknown) as having no known tag, not no
// tag, and one whose policies or trust policy (trust_unknown) were not
// read as having no finding nhi could make, not none: perm:none,
// perm.NAME:none, attr.tag.NAME:none and finding:none do not match them,
// where their empty maps did, as the review UI's rows (tui
// TestUnreadIsNotNone).
func TestUnreadIsNotNoneInFilters(t *testing.T) {
	bare := &Identity{Observation: Observation{ID: "aws:1:aws_iam_role:bare", Kind: KindAWSIAMRole}}
	policies := &Identity{Observation: Observation{ID: "aws:1:aws_iam_role:p", Kind: KindAWSIAMRole, Attributes: map[string]string{AttrPoliciesUnknown: "true"}}}
	tags := &Identity{Observation: Observation{ID: "aws:1:aws_iam_role:t", Kind: KindAWSIAMRole, Attributes: map[string]string{AttrTagsUnknown: "true"}}}
	trust := &Identity{Observation: Observation{ID: "aws:1:aws_iam_role:u", Kind: KindAWSIAMRole, Attributes: map[string]string{AttrTrustUnknown: "true"}}}
	for expr, want := range map[string][4]bool{
		"perm:none":                     {true, false, true, true},
		"perm.AdministratorAccess:none": {true, false, true, true},
		"attr.tag.owner:none":           {true, true, false, true},
		"attr.path:none":                {true, true, true, true},
		"finding:none":                  {true, false, true, false},
		"finding:any":                   {false, false, false, false},
	} {
		f, err := filter.Parse(expr, Vocabulary)
		if err != nil {
			t.Fatal(err)
		}
		for i, id := range []*Identity{bare, policies, tags, trust} {
			if got := f.Match(id, &filter.Env{}); got != want[i] {
				t.Errorf("%s on %s: %v, want %v", expr, id.ID, got, want[i])
			}
		}
	}
}
