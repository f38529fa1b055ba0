package github

import (
	"strings"
	"testing"
)

func TestRedactURL(t *testing.T) {
	for _, tc := range []struct {
		in, url, name string
		redacted      bool
	}{
		// Route words stay.
		{"https://ci.northwind.io/github-webhook/", "https://ci.northwind.io/github-webhook/", "ci.northwind.io/github-webhook/", false},
		{"http://jenkins.internal:8080/github-webhook/", "http://jenkins.internal:8080/github-webhook/", "jenkins.internal:8080/github-webhook/", false},
		{"https://example.com", "https://example.com", "example.com", false},
		{"https://argocd.northwind.io/api/webhook", "https://argocd.northwind.io/api/webhook", "argocd.northwind.io/api/webhook", false},
		{"https://audit.northwind.io/github/org-events", "https://audit.northwind.io/github/org-events", "audit.northwind.io/github/org-events", false},
		{"https://api.opsgenie.com/v1/json/github?apiKey=abc", "https://api.opsgenie.com/v1/json/github", "api.opsgenie.com/v1/json/github", true},
		// User info, query and fragment go.
		{"https://user:pass@example.com/hook", "https://example.com/hook", "example.com/hook", true},
		{"https://example.com/hook#frag", "https://example.com/hook", "example.com/hook", true},
		// Every other segment is replaced, a run of them once.
		{"https://hooks.slack.com/services/T0001/B0002/XXXXXXXXXXXXXXXXXXXXXXXX", "https://hooks.slack.com/services/REDACTED", "hooks.slack.com/services/REDACTED", true},
		{"https://discord.com/api/webhooks/1234/abcDEF-ghi_jkl", "https://discord.com/api/webhooks/REDACTED", "discord.com/api/webhooks/REDACTED", true},
		{"https://hooks.zapier.com/hooks/catch/4815162/b2x9kq/", "https://hooks.zapier.com/hooks/catch/REDACTED/", "hooks.zapier.com/hooks/catch/REDACTED/", true},
		{"https://smee.io/abc", "https://smee.io/REDACTED", "smee.io/REDACTED", true},
		{"https://acme.webhook.office.com/webhookb2/1-2@3/IncomingWebhook/ff/00", "https://acme.webhook.office.com/webhookb2/REDACTED/IncomingWebhook/REDACTED", "acme.webhook.office.com/webhookb2/REDACTED/IncomingWebhook/REDACTED", true},
		{"https://hooks.example.com/in/a1b2c3d4e5f6a7b8c9d0e1f2/x", "https://hooks.example.com/in/REDACTED", "hooks.example.com/in/REDACTED", true},
		{"not a url", "REDACTED", "", true},
		{"://", "REDACTED", "", true},
		{"mailto:someone@example.com", "REDACTED", "", true},
	} {
		u, name, red := redactURL(tc.in)
		if u != tc.url || name != tc.name || red != tc.redacted {
			t.Errorf("redactURL(%q) = %q, %q, %v; want %q, %q, %v", tc.in, u, name, red, tc.url, tc.name, tc.redacted)
		}
	}
}

// TestRedactURLCanaries: each form of secret a path can carry that the
// issue found stored verbatim. The canary must not survive in the URL or
// the name, in any case.
func TestRedactURLCanaries(t *testing.T) {
	for name, tc := range map[string]struct{ url, canary string }{
		"JWT in the path":          {"https://hooks.example.com/hook/eyJhbGciOiJIUzI1NiJ9.eyJjYW5hcnkiOjF9.c2lnbmF0dXJl/github", "eyJhbGciOiJIUzI1NiJ9"},
		"base64 with + and =":      {"https://hooks.example.com/webhook/Q0FOQVJZ+c2VjcmV0/dG9rZW4=", "Q0FOQVJZ"},
		"base64, = alone":          {"https://hooks.example.com/webhook/Y2FuYXJ5==", "Y2FuYXJ5"},
		"percent-encoded token":    {"https://hooks.example.com/api/%63%61%6E%61%72%79%2Dsecret", "%63%61%6E"},
		"percent-encoded, decoded": {"https://hooks.example.com/api/%63%61%6E%61%72%79%2Dsecret", "canary-secret"},
		";token= parameter":        {"https://hooks.example.com/hooks;token=canarysecret/github", "canarysecret"},
		";token= on the last":      {"https://hooks.example.com/github/hooks;token=canarysecret", "canarysecret"},
		"letter-only secret":       {"https://hooks.example.com/hooks/QwErTyCaNaRyZxCv", "QwErTyCaNaRyZxCv"},
		"lowercase letters only":   {"https://hooks.example.com/hooks/kqzvcanarywplr", "kqzvcanarywplr"},
		"short segment":            {"https://hooks.example.com/hooks/k9x", "k9x"},
		"short letters":            {"https://hooks.example.com/hooks/cnry", "cnry"},
		"digits":                   {"https://hooks.example.com/hooks/424242", "424242"},
		"word-shaped secret":       {"https://hooks.example.com/hooks/canary-token", "canary"},
		"user info":                {"https://canary:pw@hooks.example.com/hooks", "canary"},
		"query":                    {"https://hooks.example.com/hooks?key=canary", "canary"},
		"fragment":                 {"https://hooks.example.com/hooks#canary", "canary"},
	} {
		clean, shown, red := redactURL(tc.url)
		low := strings.ToLower(clean + " " + shown)
		if strings.Contains(low, strings.ToLower(tc.canary)) || !red {
			t.Errorf("%s: %q -> %q, %q (redacted=%v)", name, tc.url, clean, shown, red)
		}
	}
}

// TestRedactServerText: what a server says back loses the credentials
// this process sent and anything shaped like a GitHub token.
func TestRedactServerText(t *testing.T) {
	const sent = "canaryTOKENvalue0123456789"
	rememberSent("Bearer " + sent)
	for in, want := range map[string]string{
		"Bad credentials for token " + sent:                          "Bad credentials for token REDACTED",
		"you sent Authorization: Bearer " + sent + " which is wrong": "you sent Authorization: REDACTED which is wrong",
		"token ghp_" + strings.Repeat("a1", 18) + " revoked":         "token REDACTED revoked",
		"gho_abc ghu_abc ghs_abc ghr_abc github_pat_11ABC_def":       "REDACTED REDACTED REDACTED REDACTED REDACTED",
		"jwt eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOjF9.sig was rejected":     "jwt REDACTED was rejected",
		"Basic dXNlcjpjYW5hcnlwYXNzd29yZA== not allowed":             "REDACTED not allowed",
		"Resource not accessible by integration":                     "Resource not accessible by integration",
		"Must have admin rights to Repository.":                      "Must have admin rights to Repository.",
	} {
		if got := redactServerText(in); got != want {
			t.Errorf("redactServerText(%q) = %q; want %q", in, got, want)
		}
	}
}
