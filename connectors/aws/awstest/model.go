// Package awstest is a fake AWS on loopback for tests, benchmarks and
// `nhi demo`: IAM and STS over the Query protocol (form-encoded requests,
// XML responses) and Organizations over JSON 1.1, in the shapes of AWS's
// published API models (iam-2010-05-08, sts-2011-06-15,
// organizations-2016-11-28), so the real aws-sdk-go-v2 reads it with its
// own parsers. Point the SDK at it the standard way: AWS_ENDPOINT_URL (see
// [Server.Env]).
//
// It models what the connector must cope with: Marker/IsTruncated and
// NextToken pagination with small pages, Throttling, AccessDenied per
// account and action, the credential report's STARTED/INPROGRESS/COMPLETE
// states (a report says what was true when it was generated, and is
// served for four hours), ListRoles leaving RoleLastUsed out (as AWS
// does), URL-encoded policy documents and AssumeRole into each member
// account. A live organisation's hostility is there too: entities deleted
// after a listing named them (Gone: NoSuchEntity), AccessDenied on some
// entities only (DenyEntity) or from a point on (DenyAfter), a session that
// ends part way (ExpireAfter: ExpiredToken), a report that expires between
// its generation and its read (ExpireReport) or whose columns changed
// (EditReport), any error an action's model lists (Fail), and pages that
// loop or say IsTruncated without a marker (LoopPages,
// TruncateWithoutMarker).
package awstest

import "time"

// Org is the organisation the server serves. The first account is the
// management account: the caller's base credentials belong to it.
type Org struct {
	ID       string // "o-abc123"
	Accounts []*Account
	// RoleName is the role AssumeRole accepts in member accounts
	// ("OrganizationAccountAccessRole").
	RoleName string
}

// Account is one AWS account and its IAM contents.
type Account struct {
	ID    string
	Name  string
	Email string
	// Status is where the account is in its lifecycle: "ACTIVE",
	// "SUSPENDED", "CLOSED", "PENDING_CLOSURE" or "PENDING_ACTIVATION",
	// served as State (WithStatusOnly: as the retired Status).
	Status string

	Users    []*User
	Groups   []*Group
	Roles    []*Role
	Policies []*Policy // customer managed policies
	OIDC     []*OIDCProvider
}

// User is an IAM user.
type User struct {
	Name, Path, ID   string
	Created          time.Time
	PasswordEnabled  bool
	PasswordLastUsed *time.Time
	MFA              bool
	Groups           []string
	Attached         []string          // managed policy ARNs
	Inline           map[string]string // policy name -> JSON document
	Tags             map[string]string
	Keys             []*AccessKey
}

// AccessKey is an IAM user's access key. Secret is a canary: the server
// never serves it (AWS does not either, after creation), tests look for it.
type AccessKey struct {
	ID, Secret string
	Status     string // "Active" or "Inactive"
	Created    time.Time
	LastUsed   *time.Time
	Service    string // service namespace of the last use ("s3"), "N/A" when never used
	Region     string
}

// Group is an IAM group.
type Group struct {
	Name, Path, ID string
	Created        time.Time
	Attached       []string
	Inline         map[string]string
}

// Role is an IAM role.
type Role struct {
	Name, Path, ID string
	Created        time.Time
	Trust          string // the trust policy, JSON
	MaxSession     int32  // seconds
	LastUsed       *time.Time
	LastRegion     string
	Attached       []string
	Inline         map[string]string
	Tags           map[string]string
	Description    string
}

// Policy is a customer managed policy.
type Policy struct {
	Name, ID, Path string
	Document       string // JSON
	Created        time.Time
}

// OIDCProvider is an IAM OpenID Connect identity provider.
type OIDCProvider struct {
	URL         string // without scheme: "token.actions.githubusercontent.com"
	ClientIDs   []string
	Thumbprints []string
	Created     time.Time
	Tags        map[string]string
}

// Arn of a policy in the account.
func (a *Account) PolicyArn(p *Policy) string {
	return "arn:aws:iam::" + a.ID + ":policy" + orSlash(p.Path) + p.Name
}

func orSlash(p string) string {
	if p == "" {
		return "/"
	}
	return p
}

// Account returns the account with id, or nil.
func (o *Org) Account(id string) *Account {
	for _, a := range o.Accounts {
		if a.ID == id {
			return a
		}
	}
	return nil
}
