package audit

import "testing"

// A kind's label after its article reads as it is said aloud: "an SSO
// credential" (the verify line said "a SSO credential").
func TestKindWithArticle(t *testing.T) {
	for k, want := range map[Kind]string{
		KindGitHubCredentialAuthorization: "an SSO credential",
		KindAWSAccessKey:                  "an access key",
		KindAWSIAMRole:                    "an IAM role",
		KindAWSOIDCProvider:               "an OIDC provider",
		KindK8sSAToken:                    "an SA token",
		KindGitHubActionsOIDC:             "an Actions OIDC",
		KindGitHubDeployKey:               "a deploy key",
		KindGitHubPATRequest:              "a PAT request",
		KindGitHubFineGrainedPAT:          "a fine-grained PAT",
		KindX509Certificate:               "a certificate",
	} {
		if got := k.WithArticle(); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
}

// A message's trailing policy number reads as days where it is shown;
// other messages, and a number that is not one, are left as they are.
func TestMessageText(t *testing.T) {
	for in, want := range map[string]string{
		"last used 2022-01-10, 1,756 days ago; policy: 90":  "last used 2022-01-10, 1,756 days ago; policy: 90 days",
		"expires 2026-11-08, in 7 days; policy: 1":          "expires 2026-11-08, in 7 days; policy: 1 day",
		"no owner recorded":                                 "no owner recorded",
		"note says; policy: ninety":                         "note says; policy: ninety",
		"policy: 90; policy: 30 then":                       "policy: 90; policy: 30 then",
		"key created 2025-10-28, never rotated; policy: 09": "key created 2025-10-28, never rotated; policy: 09",
	} {
		if got := (Finding{Message: in}).Text(); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}
