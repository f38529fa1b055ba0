package audit

import (
	"testing"

	"github.com/nhi-audit/nhi/filter"
)

// TestUnreadIsNotNoneInFilters: nhi identities --filter, campaign scopes
// and offboard --scope read an identity whose policies were not read
// (policies_unknown) as having none that nhi knows of, not none, and one
// whose tags were not read (tags_unknown) as having no known tag, not no
// tag: perm:none, perm.NAME:none and attr.tag.NAME:none do not match them,
// where their empty maps did, as the review UI's rows (tui
// TestUnreadIsNotNone).
func TestUnreadIsNotNoneInFilters(t *testing.T) {
	bare := &Identity{Observation: Observation{ID: "aws:1:aws_iam_role:bare", Kind: KindAWSIAMRole}}
	policies := &Identity{Observation: Observation{ID: "aws:1:aws_iam_role:p", Kind: KindAWSIAMRole, Attributes: map[string]string{AttrPoliciesUnknown: "true"}}}
	tags := &Identity{Observation: Observation{ID: "aws:1:aws_iam_role:t", Kind: KindAWSIAMRole, Attributes: map[string]string{AttrTagsUnknown: "true"}}}
	for expr, want := range map[string][3]bool{
		"perm:none":                     {true, false, true},
		"perm.AdministratorAccess:none": {true, false, true},
		"attr.tag.owner:none":           {true, true, false},
		"attr.path:none":                {true, true, true},
	} {
		f, err := filter.Parse(expr, Vocabulary)
		if err != nil {
			t.Fatal(err)
		}
		for i, id := range []*Identity{bare, policies, tags} {
			if got := f.Match(id, &filter.Env{}); got != want[i] {
				t.Errorf("%s on %s: %v, want %v", expr, id.ID, got, want[i])
			}
		}
	}
}
