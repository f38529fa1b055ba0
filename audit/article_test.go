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
