// Package audit is the evidence file: snapshots of non-human identities, the
// hash-chained event log of every human action, and the SQLite store behind both.
package audit

import (
	"fmt"
	"strings"
	"time"
)

// Kind names a class of non-human identity. The string is stored in the
// evidence file and printed in reports, so existing values never change.
type Kind string

// GitHub identity kinds (README.md, "Reading GitHub"; docs/filter.md for
// their names in filters).
const (
	KindGitHubAppInstallation         Kind = "github_app_installation"
	KindGitHubFineGrainedPAT          Kind = "github_fine_grained_pat"
	KindGitHubPATRequest              Kind = "github_pat_request"
	KindGitHubCredentialAuthorization Kind = "github_credential_authorization"
	KindGitHubDeployKey               Kind = "github_deploy_key"
	KindGitHubActionsSecret           Kind = "github_actions_secret"
	KindGitHubDependabotSecret        Kind = "github_dependabot_secret"
	KindGitHubCodespacesSecret        Kind = "github_codespaces_secret"
	KindGitHubAgentsSecret            Kind = "github_agents_secret"    // Copilot coding agent secrets (GitHub.com)
	KindGitHubPrivateRegistry         Kind = "github_private_registry" // an org's private registry credential
	KindGitHubActionsOIDC             Kind = "github_actions_oidc"     // the sub claim of Actions OIDC tokens: the org's, a repository's own
	KindGitHubWebhook                 Kind = "github_webhook"
	KindGitHubRunner                  Kind = "github_runner"
)

// KindX509Certificate is a leaf certificate read from a file or a TLS
// endpoint (connectors/x509); its natural key is its SHA-256 fingerprint.
const KindX509Certificate Kind = "x509_certificate"

// ImportKindPrefix starts the kinds of imported identities
// (connectors/importer) that are none of nhi's own: nobody can list
// them in advance, so the filter accepts any kind:import_… .
const ImportKindPrefix = "import_"

// AWS identity kinds (connectors/aws).
const (
	KindAWSIAMUser      Kind = "aws_iam_user"      // a user with access keys
	KindAWSAccessKey    Kind = "aws_access_key"    // key ID only
	KindAWSIAMRole      Kind = "aws_iam_role"      //
	KindAWSOIDCProvider Kind = "aws_oidc_provider" // context for the roles that trust it
)

// Kubernetes identity kinds (connectors/kubernetes; docs/kubernetes.md).
// Their natural key is <namespace>/<name>.
const (
	KindK8sServiceAccount Kind = "k8s_service_account"
	KindK8sSAToken        Kind = "k8s_sa_token" // a legacy token Secret: metadata only
)

// Kinds lists every known kind in display order.
var Kinds = []Kind{
	KindGitHubAppInstallation,
	KindGitHubFineGrainedPAT,
	KindGitHubPATRequest,
	KindGitHubCredentialAuthorization,
	KindGitHubDeployKey,
	KindGitHubActionsSecret,
	KindGitHubDependabotSecret,
	KindGitHubCodespacesSecret,
	KindGitHubAgentsSecret,
	KindGitHubPrivateRegistry,
	KindGitHubActionsOIDC,
	KindGitHubWebhook,
	KindGitHubRunner,
	KindX509Certificate,
	KindAWSIAMUser,
	KindAWSAccessKey,
	KindAWSIAMRole,
	KindAWSOIDCProvider,
	KindK8sServiceAccount,
	KindK8sSAToken,
}

// Label is the short human name of a kind, for tables.
func (k Kind) Label() string {
	switch k {
	case KindGitHubAppInstallation:
		return "app install"
	case KindGitHubFineGrainedPAT:
		return "fine-grained PAT"
	case KindGitHubPATRequest:
		return "PAT request"
	case KindGitHubCredentialAuthorization:
		return "SSO credential"
	case KindGitHubDeployKey:
		return "deploy key"
	case KindGitHubActionsSecret:
		return "actions secret"
	case KindGitHubDependabotSecret:
		return "dependabot secret"
	case KindGitHubCodespacesSecret:
		return "codespaces secret"
	case KindGitHubAgentsSecret:
		return "agent secret"
	case KindGitHubPrivateRegistry:
		return "private registry"
	case KindGitHubActionsOIDC:
		return "Actions OIDC"
	case KindGitHubWebhook:
		return "webhook"
	case KindGitHubRunner:
		return "runner"
	case KindX509Certificate:
		return "certificate"
	case KindAWSIAMUser:
		return "IAM user"
	case KindAWSAccessKey:
		return "access key"
	case KindAWSIAMRole:
		return "IAM role"
	case KindAWSOIDCProvider:
		return "OIDC provider"
	case KindK8sServiceAccount:
		return "service account"
	case KindK8sSAToken:
		return "SA token"
	}
	return string(k)
}

// WithArticle is Label after "a" or "an", as it is read aloud: "an SSO
// credential", "an access key", "a deploy key", "an IAM role".
func (k Kind) WithArticle() string { return WithArticle(k.Label()) }

// WithArticle is s after "a" or "an", chosen by how s's first word is
// read aloud: "an" before a vowel ("an access key") and before an
// abbreviation spelt out from a letter that sounds like one ("an SSO
// credential", "an SA token", "an HTTP hook"); "a" otherwise ("a deploy
// key", "a PAT request").
func WithArticle(s string) string {
	if s == "" {
		return s
	}
	word, _, _ := strings.Cut(s, " ")
	first := word[0]
	an := strings.IndexByte("aeiouAEIOU", first) >= 0
	if len(word) > 1 && first >= 'A' && first <= 'Z' && word[1] >= 'A' && word[1] <= 'Z' {
		// An abbreviation, read letter by letter: "ess", "eff", "aitch"…
		an = strings.IndexByte("AEFHILMNORSX", first) >= 0
	}
	if an {
		return "an " + s
	}
	return "a " + s
}

// Imported reports whether the kind is an imported one (ImportKindPrefix).
func (k Kind) Imported() bool { return strings.HasPrefix(string(k), ImportKindPrefix) }

// TracksLastUse reports whether the source says when identities of this
// kind were last used. For the others an absent last use means "not
// reported", never "never used": a stale finding must not rest on it.
func (k Kind) TracksLastUse() bool {
	switch k {
	case KindGitHubFineGrainedPAT, KindGitHubCredentialAuthorization, KindGitHubDeployKey,
		KindAWSAccessKey, KindAWSIAMRole, KindK8sSAToken:
		return true
	}
	return false
}

// AttrLastUseUnknown, "true" on an identity of a kind that tracks last use
// (TracksLastUse), says its last use was not read (the call that says it
// was denied), or is known only since AttrUseTrackedSince: no last use is
// then not "never used".
const AttrLastUseUnknown = "last_used_unknown"

// AttrEmptyInFile, on an identity of one of nhi's own kinds read from a
// file (nhi import: an AWS access key, a deploy key), names the cells its
// row left empty or the file did not have ("last_used_at permissions"),
// for which the importer set the markers beside it (AttrLastUseUnknown,
// AttrPoliciesUnknown, AttrExpiryUnknown, AttrRotationUnknown): what was
// not read then says the file left it so, not a gap of a snapshot
// (NotReadOf). An imported kind (ImportKindPrefix) carries none: every
// mark on it comes from its file.
const AttrEmptyInFile = "empty_in_file"

// AttrUseTrackedSince, on an identity with no last use, is when its
// source's record of use begins (RFC 3339), where the identity is older:
// an AWS role (AWS reports 400 days of use), an access key older than
// IAM's tracking, a Kubernetes legacy token older than the API server's.
// No use is recorded since then; before, it may have been used.
const AttrUseTrackedSince = "use_tracked_since"

// AttrTagsUnknown, "true" on an identity, says the tags its source keeps
// for it (or, on an AWS access key, its user's) were not read: no tag
// is then not "no owner tag", and nothing is suggested from them.
const AttrTagsUnknown = "tags_unknown"

// AttrPoliciesUnknown, "true" on an identity, says what it is granted was
// not read (an AWS user or role whose policies were not): no permission
// is then not "none".
const AttrPoliciesUnknown = "policies_unknown"

// AttrTrustUnknown, "true" on an identity, says who may assume it was not
// read (an AWS role whose trust policy is empty or does not parse): no
// trusted principal is then not "nobody"; on a certificate, that whether
// it chains to a trusted root is not known (no trust store to judge by).
const AttrTrustUnknown = "trust_unknown"

// AttrExpiryUnknown, "true" on an identity of a kind that may expire
// (MayExpire), says its expiry was not reported (an import row with an
// empty expires_at, docs/import.md): no expiry is then not "never
// expires".
const AttrExpiryUnknown = "expires_unknown"

// AttrRotationUnknown, "true" on an identity of a kind whose rotation a
// source reports (ReportsRotation), says when its secret material last
// changed was not reported (an import row with an empty rotated_at): no
// rotation is then not "never rotated", and its creation does not stand
// in for it.
const AttrRotationUnknown = "rotated_unknown"

// MayExpire reports whether an identity of kind k can have an expiry a
// source reports (a fine-grained PAT, an SSO credential, a certificate),
// so that none recorded is a claim that it never expires. An imported
// kind nhi cannot know, so it may. The others never expire by their kind
// (an IAM access key, a legacy token Secret) or have no expiry at all.
func (k Kind) MayExpire() bool {
	switch k {
	case KindGitHubFineGrainedPAT, KindGitHubPATRequest, KindGitHubCredentialAuthorization, KindX509Certificate:
		return true
	}
	return k.Imported()
}

// ReportsRotation reports whether a source says when the secret material
// of an identity of kind k last changed (a secret's updated_at), so that
// none recorded would be read as "never rotated". An imported kind may.
func (k Kind) ReportsRotation() bool {
	switch k {
	case KindGitHubActionsSecret, KindGitHubDependabotSecret, KindGitHubCodespacesSecret, KindGitHubAgentsSecret, KindGitHubPrivateRegistry:
		return true
	}
	return k.Imported()
}

// CarriesPermissions reports whether identities of kind k hold
// permissions a source reports (an App installation's, a PAT's, a deploy
// key's access, an IAM user's or role's policies, a service account's
// RBAC), so that none recorded would be read as "no permission". An
// imported kind may.
func (k Kind) CarriesPermissions() bool {
	switch k {
	case KindGitHubAppInstallation, KindGitHubFineGrainedPAT, KindGitHubPATRequest, KindGitHubDeployKey,
		KindAWSIAMUser, KindAWSIAMRole, KindK8sServiceAccount:
		return true
	}
	return k.Imported()
}

// ReportsLastUse says whether no last use on an identity of kind k means
// "never used": its source reports use (TracksLastUse) and it was read
// for this identity (lastUseUnknown, its AttrLastUseUnknown, is not
// "true"). Where it does not, no last use means "not known".
func ReportsLastUse(k Kind, lastUseUnknown string) bool {
	return k.TracksLastUse() && lastUseUnknown != "true"
}

// Identity status values.
const (
	StatusActive  = "active"  // seen in the latest snapshot of its account
	StatusRemoved = "removed" // absent from a later snapshot that read where it lives (see Coverage.Looked)
	// StatusNotChecked (coverage.go): absent from later snapshots, none of which read where it lives.
)

// Observation is what a connector saw of one identity in one snapshot:
// metadata only, never a secret value. Connectors build these; the store
// keeps them immutable.
type Observation struct {
	ID          string            // stable: <source>:<account>:<kind>:<natural key>
	Kind        Kind              //
	Name        string            // what people call it: app slug, key title, secret name
	Scope       string            // where it lives: "org", "org/repo", "org/repo/env"
	CreatedAt   *time.Time        //
	LastUsedAt  *time.Time        //
	RotatedAt   *time.Time        // last time the secret material changed
	ExpiresAt   *time.Time        //
	Permissions map[string]string // permission name -> level ("read", "write", "admin")
	// Attributes holds kind-specific metadata (suspended, read_only,
	// repository_selection, has_secret, added_by, ...). Never a secret value.
	Attributes map[string]string
}

// Validate reports whether o can be stored.
func (o *Observation) Validate() error {
	if o.ID == "" {
		return fmt.Errorf("observation has no ID")
	}
	if o.Kind == "" {
		return fmt.Errorf("observation %s has no kind", o.ID)
	}
	return nil
}

// IdentityID builds a stable identity ID from its parts. The natural key
// is what the source uses to tell two identities of the same kind apart.
func IdentityID(source, account string, kind Kind, naturalKey string) string {
	return strings.Join([]string{source, account, string(kind), naturalKey}, ":")
}

// Finding is one reason an identity is risky.
type Finding struct {
	Rule     string `json:"rule"`
	Severity string `json:"severity"`
	OWASP    string `json:"owasp"`
	Message  string `json:"message"`
}

// Identity is the current view of one identity: its latest observation, the
// owner recorded in the event log, and where it stands across snapshots.
type Identity struct {
	Observation
	Source   string // the system it lives in: "github", "x509", an import's --source
	Account  string // what was read within it: organisation, AWS account, import account
	Owner    string // "" when nobody owns it
	Findings []Finding
	Status   string
	// StatusReason says why a not-checked identity could not be checked.
	StatusReason string
	FirstSeen    time.Time
	LastSeen     time.Time
	// SnapshotID is the snapshot the observation comes from.
	SnapshotID int64
	// Change is "new" or "changed" when the identity differs from the
	// snapshot before its account's newest one, else "".
	Change string
	// Suggestions are owners the source and its context point to.
	Suggestions []OwnerSuggestion
}

// OwnerSuggestion is a likely owner and why.
type OwnerSuggestion struct {
	Owner  string `json:"owner"`
	Source string `json:"source"` // "added the deploy key", "admin team of acme/api", ...
}

// Gap is an endpoint a connector could not read during a snapshot.
type Gap struct {
	Endpoint string `json:"endpoint"`         // e.g. "GET /orgs/acme/installations"
	Kind     Kind   `json:"kind,omitempty"`   // the kind it would have yielded
	Scope    string `json:"scope,omitempty"`  // what was not read: org or org/repo
	Status   int    `json:"status,omitempty"` // HTTP status, when there was one
	Reason   string `json:"reason"`           // plain words: "needs admin:org scope"
}

// Coverage reports whether the gap is about what the credential can see
// (repositories it is not shown) rather than one endpoint it could not
// read: no kind, no HTTP status.
func (g Gap) Coverage() bool { return g.Kind == "" && g.Status == 0 }

// Clone is a copy of id that shares nothing with it: its maps, findings,
// suggestions, times and strings are its own. A streaming read
// (EachTableIdentity, StreamIdentities) reuses its Identity and cuts its
// strings from a page's text of a few MB, so a caller that keeps a few of
// the identities it is given (a person's, a scope's) keeps clones: the
// read's next rows do not change them, and they pin no page.
func (id *Identity) Clone() Identity {
	out := *id
	out.ID, out.Kind, out.Name, out.Scope = strings.Clone(id.ID), Kind(strings.Clone(string(id.Kind))), strings.Clone(id.Name), strings.Clone(id.Scope)
	out.CreatedAt, out.LastUsedAt, out.RotatedAt, out.ExpiresAt = cloneTime(id.CreatedAt), cloneTime(id.LastUsedAt), cloneTime(id.RotatedAt), cloneTime(id.ExpiresAt)
	out.Permissions, out.Attributes = cloneStrings(id.Permissions), cloneStrings(id.Attributes)
	out.Source, out.Account, out.Owner = strings.Clone(id.Source), strings.Clone(id.Account), strings.Clone(id.Owner)
	out.Status, out.StatusReason, out.Change = strings.Clone(id.Status), strings.Clone(id.StatusReason), strings.Clone(id.Change)
	if id.Findings != nil {
		out.Findings = make([]Finding, len(id.Findings))
		for i, f := range id.Findings {
			out.Findings[i] = Finding{strings.Clone(f.Rule), strings.Clone(f.Severity), strings.Clone(f.OWASP), strings.Clone(f.Message)}
		}
	}
	if id.Suggestions != nil {
		out.Suggestions = make([]OwnerSuggestion, len(id.Suggestions))
		for i, s := range id.Suggestions {
			out.Suggestions[i] = OwnerSuggestion{strings.Clone(s.Owner), strings.Clone(s.Source)}
		}
	}
	return out
}

func cloneTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	c := *t
	return &c
}

// cloneStrings copies m and its keys and values; nil stays nil, empty
// stays empty.
func cloneStrings(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[strings.Clone(k)] = strings.Clone(v)
	}
	return out
}
