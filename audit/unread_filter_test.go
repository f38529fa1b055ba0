package audit

import (
	"testing"
	"time"

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

// TestUnknownStaysUnknown: a term over what was not read of an identity
// is unknown, and its negation too (docs/filter.md, "What was not read"):
// -perm:any, -perm:admin, -attr.tag.owner:any, -finding:any,
// -severity:low and -unused>90d do not match an identity whose
// permissions, tags, findings' inputs or last use were not read, where
// they matched it as if the term had answered no. Unknown and a no is no,
// unknown or a yes is yes, whatever the order.
func TestUnknownStaysUnknown(t *testing.T) {
	at := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	bare := &Identity{Observation: Observation{ID: "aws:1:aws_iam_role:bare", Kind: KindAWSIAMRole, LastUsedAt: &at}}
	policies := &Identity{Observation: Observation{ID: "aws:1:aws_iam_role:p", Kind: KindAWSIAMRole, LastUsedAt: &at, Attributes: map[string]string{AttrPoliciesUnknown: "true"}}}
	tags := &Identity{Observation: Observation{ID: "aws:1:aws_iam_role:t", Kind: KindAWSIAMRole, LastUsedAt: &at, Attributes: map[string]string{AttrTagsUnknown: "true"}}}
	lastUse := &Identity{Observation: Observation{ID: "aws:1:aws_iam_role:u", Kind: KindAWSIAMRole, Attributes: map[string]string{AttrLastUseUnknown: "true"}}}
	env := &filter.Env{Now: at.AddDate(0, 0, 10)}
	for expr, want := range map[string][4]bool{
		"-perm:any":                            {true, false, true, true},
		"-perm:admin":                          {true, false, true, true},
		"-perm.s3:read":                        {true, false, true, true},
		"-perm:none":                           {false, false, false, false},
		"-attr.tag.owner:any":                  {true, true, false, true},
		"-attr.tag.owner:bob":                  {true, true, false, true},
		"-finding:any":                         {true, false, true, false},
		"-finding:stale":                       {true, false, true, false},
		"-severity:low":                        {true, false, true, false},
		"-unused>90d":                          {true, true, true, false},
		"unused<=90d":                          {true, true, true, false},
		"-perm:any kind:aws_iam_role":          {true, false, true, true},
		"-perm:any -kind:aws_iam_role":         {false, false, false, false},
		"-perm:any or kind:aws_iam_role":       {true, true, true, true},
		"kind:aws_iam_role or -perm:any":       {true, true, true, true},
		"-(perm:any or kind:app_installation)": {true, false, true, true},
		"-(perm:any kind:app_installation)":    {true, true, true, true},
		"-unused>90d or used:unknown":          {true, true, true, true},
		"-(-perm:any)":                         {false, false, false, false},
		"not (perm:none or attr.x:none)":       {false, false, false, false},
	} {
		f, err := filter.Parse(expr, Vocabulary)
		if err != nil {
			t.Fatal(err)
		}
		for i, id := range []*Identity{bare, policies, tags, lastUse} {
			if got := f.Match(id, env); got != want[i] {
				t.Errorf("%s on %s: %v, want %v", expr, id.ID, got, want[i])
			}
		}
	}
}

// TestUnsaidExpiryAndRotation: an expiry or a rotation a source left
// unsaid (an import's empty expires_at or rotated_at: expires_unknown,
// rotated_unknown) is not "never": expires:never, rotated:never, expired
// and expires<… match it neither as written nor negated, and no
// no-expiry or unrotated finding is made from it (nor is finding:none
// known), where a PAT GitHub reports without an expiry never expires.
func TestUnsaidExpiryAndRotation(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	created := now.AddDate(-3, 0, 0)
	never := &Identity{Observation: Observation{ID: "github:a:github_fine_grained_pat:1", Kind: KindGitHubFineGrainedPAT, CreatedAt: &created}}
	unsaid := &Identity{Observation: Observation{ID: "slack:a:github_fine_grained_pat:2", Kind: KindGitHubFineGrainedPAT, CreatedAt: &created,
		Attributes: map[string]string{AttrExpiryUnknown: "true"}}}
	secret := &Identity{Observation: Observation{ID: "github:a:github_actions_secret:S", Kind: KindGitHubActionsSecret, CreatedAt: &created}}
	unrotated := &Identity{Observation: Observation{ID: "slack:a:github_actions_secret:T", Kind: KindGitHubActionsSecret, CreatedAt: &created,
		Attributes: map[string]string{AttrRotationUnknown: "true"}}}
	ids := []*Identity{never, unsaid, secret, unrotated}
	e := NewEvaluator(DefaultPolicy(), now)
	for _, id := range ids {
		id.Findings = e.EvaluateObservation(&id.Observation)
	}
	has := func(id *Identity, rule string) bool {
		for _, f := range id.Findings {
			if f.Rule == rule {
				return true
			}
		}
		return false
	}
	if !has(never, RuleNoExpiry) || has(unsaid, RuleNoExpiry) {
		t.Errorf("no-expiry: %v on the PAT GitHub reports without an expiry, %v on the one whose expiry was not reported; want only the first", never.Findings, unsaid.Findings)
	}
	if !has(secret, RuleUnrotated) || has(unrotated, RuleUnrotated) {
		t.Errorf("unrotated: %v on the secret never rotated, %v on the one whose rotation was not reported; want only the first", secret.Findings, unrotated.Findings)
	}
	env := &filter.Env{Now: now}
	for expr, want := range map[string][4]bool{
		"expires:never":                  {true, false, true, true},
		"-expires:never":                 {false, false, false, false},
		"expires<14d":                    {false, false, false, false},
		"-expires<14d":                   {true, false, true, true},
		"expired":                        {false, false, false, false},
		"-expired":                       {true, false, true, true},
		"rotated:never":                  {true, true, true, false},
		"-rotated:never":                 {false, false, false, false},
		"-rotated>90d":                   {false, false, false, false},
		"-rotated:never or kind:*secret": {false, false, true, true},
		"finding:no-expiry":              {true, false, false, false},
		"-finding:no-expiry":             {false, false, true, false},
		"-finding:unrotated":             {true, false, false, false},
	} {
		f, err := filter.Parse(expr, Vocabulary)
		if err != nil {
			t.Fatal(err)
		}
		for i, id := range ids {
			if got := f.Match(id, env); got != want[i] {
				t.Errorf("%s on %s: %v, want %v", expr, id.ID, got, want[i])
			}
		}
	}
}

// TestExpiresNeverUnknownAndSoon: of a token that never expires (a
// fine-grained PAT with no expiry), an App installation (a kind with no
// expiry) and a token whose expiry was not read (expires_unknown),
// expires>30d holds of the first two, whose expiry is further away than
// any span, and of the third neither it nor its negation: -expires>30d,
// "expires within 30 days", listed the two that never expire as if they
// did, where it now lists the one that expires in 10 days alone.
func TestExpiresNeverUnknownAndSoon(t *testing.T) {
	now := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	soon, later := now.AddDate(0, 0, 10), now.AddDate(0, 0, 60)
	never := &Identity{Observation: Observation{ID: "never", Kind: KindGitHubFineGrainedPAT}}
	kind := &Identity{Observation: Observation{ID: "kind", Kind: KindGitHubAppInstallation}}
	unknown := &Identity{Observation: Observation{ID: "unknown", Kind: KindGitHubFineGrainedPAT, Attributes: map[string]string{AttrExpiryUnknown: "true"}}}
	inTen := &Identity{Observation: Observation{ID: "in10d", Kind: KindGitHubFineGrainedPAT, ExpiresAt: &soon}}
	inSixty := &Identity{Observation: Observation{ID: "in60d", Kind: KindGitHubFineGrainedPAT, ExpiresAt: &later}}
	env := &filter.Env{Now: now}
	for expr, want := range map[string][5]bool{
		"expires>30d":                          {true, true, false, false, true},
		"-expires>30d":                         {false, false, false, true, false},
		"expires>=30d":                         {true, true, false, false, true},
		"expires<14d":                          {false, false, false, true, false},
		"-expires<14d":                         {true, true, false, false, true},
		"expires<=90d":                         {false, false, false, true, true},
		"expires:never":                        {true, true, false, false, false},
		"-expires:never":                       {false, false, false, true, true},
		"expired":                              {false, false, false, false, false},
		"-expired":                             {true, true, false, true, true},
		"-expires>30d or expires<14d":          {false, false, false, true, false},
		"expires>30d or kind:fine_grained_pat": {true, true, true, true, true},
	} {
		f, err := filter.Parse(expr, Vocabulary)
		if err != nil {
			t.Fatal(err)
		}
		for i, id := range []*Identity{never, kind, unknown, inTen, inSixty} {
			if got := f.Match(id, env); got != want[i] {
				t.Errorf("%s on %s: %v, want %v", expr, id.ID, got, want[i])
			}
		}
	}
}
