package github

import (
	"net/url"
	"regexp"
	"strings"
	"sync"
)

// Nothing a server sends may carry a credential into the evidence file or
// onto the terminal. Two rules, both allow-lists of what may stay rather
// than block-lists of what to hide (see README.md, "The evidence file"):
//
//   - A webhook URL keeps its scheme, host and port, and of its path only
//     the segments that are obvious words (redactURL).
//   - Server text (an error message) loses every credential this process
//     sent and anything shaped like a GitHub token (redactServerText).

const redactedMark = "REDACTED"

// pathWords are the path segments a webhook URL may keep: words that
// name a route, never an identifier. A segment made of these joined by
// '-', '_' or '.' is kept too ("github-webhook", "org-events"), as is a
// version ("v1", "v3"). Anything else (IDs, tokens, short or letter-only
// secrets, percent-encoded or base64 text, ';token=' parameters) becomes
// REDACTED.
var pathWords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`
		api apis app apps alert alerts alertmanager audit build builds catch ci cd
		callback callbacks chat chatops deploy deployment deployments deploys
		event events external generic gh git github gitlab gitea hook hooks
		handler handlers in inbound incoming incomingwebhook ingest intake
		integration integrations jenkins json listener messages notification
		notifications notify notifier org orgs organization organizations
		payload pipeline pipelines post project projects pull push receive
		receiver release releases repo repos repository repositories rest rpc
		scm security services service siem slack sonar sync teams trigger
		triggers webhook webhooks webhookb2 workflow workflows
	`) {
		pathWords[w] = true
	}
}

var versionSegment = regexp.MustCompile(`^v[0-9]{1,2}$`)

// obviousWord reports whether a path segment (as escaped in the URL) may
// stay.
func obviousWord(seg string) bool {
	if seg == "" || len(seg) > 64 {
		return seg == ""
	}
	lower := strings.ToLower(seg)
	if versionSegment.MatchString(lower) {
		return true
	}
	for _, part := range strings.FieldsFunc(lower, func(r rune) bool { return r == '-' || r == '_' || r == '.' }) {
		if !pathWords[part] {
			return false
		}
	}
	// Only the words' letters and digits and the separators: no '%', '=',
	// ';', '+', ...
	for _, r := range lower {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return strings.Trim(lower, "-_.") != ""
}

// redactURL reduces a webhook URL to scheme, host (with port) and the
// path segments that are obvious words, each other segment, or run of
// them, replaced by REDACTED; user info, query and fragment are dropped.
// It returns the cleaned URL, the name to show (host[:port]/path) and
// whether anything was removed.
func redactURL(raw string) (clean, name string, redacted bool) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" || u.Scheme == "" || u.Opaque != "" {
		return redactedMark, "", true
	}
	if u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.RawFragment != "" {
		redacted = true
	}
	host := strings.ToLower(u.Host)
	if strings.ContainsAny(host, "@%") {
		return redactedMark, "", true
	}
	var path string
	if p := u.EscapedPath(); p != "" && p != "/" {
		segs := strings.Split(strings.TrimPrefix(p, "/"), "/")
		out := make([]string, 0, len(segs))
		for _, s := range segs {
			if obviousWord(s) {
				out = append(out, s)
				continue
			}
			redacted = true
			if len(out) == 0 || out[len(out)-1] != redactedMark {
				out = append(out, redactedMark)
			}
		}
		path = "/" + strings.Join(out, "/")
	} else {
		path = p
	}
	return strings.ToLower(u.Scheme) + "://" + host + path, host + path, redacted
}

// Credentials this process sent, to redact from anything a server says
// back: a server (or a proxy) may echo the Authorization header.
var sentSecrets struct {
	sync.Mutex
	list []string // newest last, at most maxSentSecrets
}

const maxSentSecrets = 64

// rememberSent records the credential of an Authorization header value
// ("Bearer X", "token X") before it is sent.
func rememberSent(authorization string) {
	v := strings.TrimSpace(authorization)
	if i := strings.IndexByte(v, ' '); i >= 0 {
		v = strings.TrimSpace(v[i+1:])
	}
	if len(v) < 8 {
		return
	}
	sentSecrets.Lock()
	defer sentSecrets.Unlock()
	for _, s := range sentSecrets.list {
		if s == v {
			return
		}
	}
	sentSecrets.list = append(sentSecrets.list, v)
	if len(sentSecrets.list) > maxSentSecrets {
		sentSecrets.list = sentSecrets.list[1:]
	}
}

// tokenShapes are what a credential in server text looks like: GitHub's
// token prefixes (ghp_, gho_, ghu_, ghs_, ghr_, github_pat_), a JWT, and
// whatever follows an authorization scheme.
var tokenShapes = regexp.MustCompile(`(?i)\b(?:github_pat_|gh[pousr]_)[A-Za-z0-9_]+` +
	`|\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]*)?` +
	`|\b(?:bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}`)

// redactServerText removes from text every credential this process sent
// and anything shaped like a token, before it is printed or stored.
func redactServerText(text string) string {
	sentSecrets.Lock()
	for _, s := range sentSecrets.list {
		text = strings.ReplaceAll(text, s, redactedMark)
	}
	sentSecrets.Unlock()
	return tokenShapes.ReplaceAllString(text, redactedMark)
}
