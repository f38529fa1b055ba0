package aws

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"
	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/connectors"
)

// account is what one run read of an account, before it is recorded.
type account struct {
	users    []types.UserDetail
	groups   map[string]types.GroupDetail
	roles    []types.RoleDetail
	policies map[string]*policyDoc // customer managed policy ARN -> default version
	detailed bool                  // read through GetAccountAuthorizationDetails
	sessions map[string]int32      // role name -> max session duration (s), from ListRoles
	report   map[string]reportRow  // user name -> credential report row; nil when not read
	keys     map[string][]key      // user name -> access keys
	oidc     []oidcProvider
	readAt   time.Time // when the run began reading (Options.Now)

	roleLastUseUnknown map[string]bool // roles recorded from ListRoles: GetRole was denied
	userTagsUnknown    map[string]bool // users recorded from ListUsers whose ListUserTags was denied
	unreadable         int             // users and roles recorded with a policy document that is empty, does not parse or was not listed

	mu      sync.Mutex
	gone    []string            // "user legacy-deployer": deleted after a listing named it (noSuchEntity)
	refused map[string][]string // action -> what it was denied on, where it was allowed on the rest
}

// deny notes that action was denied on what one call named ("user
// metrics-shipper"), where the same action on other entities may be
// allowed: an SCP or a permission boundary with a resource condition.
// Each action's refusals are one gap (see entityGaps).
func (a *account) deny(action, what string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.refused == nil {
		a.refused = map[string][]string{}
	}
	a.refused[action] = append(a.refused[action], what)
}

// deleted notes that what a listing named was gone when a call asked
// about it (see noSuchEntity).
func (a *account) deleted(what string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.gone = append(a.gone, what)
}

// noSuchEntity says whether err is AWS answering that what the call names
// does not exist (NoSuchEntity, 404). The calls that name one user, key,
// role or provider are made after a listing named it, so it was deleted in
// between: it is not recorded (nothing about it was read), and it costs
// the account nothing else. Its listing still counts as read in full: AWS
// said it is gone, so a snapshot that held it before sees it removed.
func noSuchEntity(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "NoSuchEntity"
}

type key struct {
	id, status       string
	created          time.Time
	lastUsed         *time.Time
	service, region  string
	lastUsedNotKnown bool
	gone             bool // deleted after ListAccessKeys listed it
}

// entityRefusals say, per per-entity action, what a denial on some
// entities means for what is recorded.
var entityRefusals = map[string]struct {
	kind audit.Kind
	unit string // what the action is about, plural
	what string // of the entities named
}{
	"iam:ListAccessKeys":           {audit.KindAWSAccessKey, "users", "their access keys are not read, so no access key or key-holding user of the account is taken as removed"},
	"iam:GetAccessKeyLastUsed":     {audit.KindAWSAccessKey, "access keys", "they are recorded with their last use not known (" + audit.AttrLastUseUnknown + "), never as unused"},
	"iam:GetRole":                  {audit.KindAWSIAMRole, "roles", "they are recorded from iam:ListRoles, with their last use (" + audit.AttrLastUseUnknown + ") and tags (" + audit.AttrTagsUnknown + ") not known"},
	"iam:ListUserTags":             {audit.KindAWSIAMUser, "users", "they are recorded with their tags not known (" + audit.AttrTagsUnknown + "), so their tags suggest no owner for them or their keys"},
	"iam:GetOpenIDConnectProvider": {audit.KindAWSOIDCProvider, "OpenID Connect providers", "they are recorded from their ARN, with their client IDs and thumbprints not known (" + attrDetailsUnknown + ")"},
}

// entityGaps records one gap per action denied on some entities, naming
// them (the first maxNamed of them).
func (c *Connector) entityGaps(r connectors.Recorder, a *account) error {
	const maxNamed = 20
	for _, action := range slices.Sorted(maps.Keys(a.refused)) {
		named := a.refused[action]
		slices.Sort(named)
		list := strings.Join(named[:min(len(named), maxNamed)], ", ")
		if len(named) > maxNamed {
			list += fmt.Sprintf(" and %d more", len(named)-maxNamed)
		}
		what := entityRefusals[action]
		unit := what.unit
		if len(named) == 1 {
			unit = strings.TrimSuffix(unit, "s")
		}
		c.say("%s denied on %d %s; recorded as a gap", action, len(named), unit)
		if err := r.Gap(audit.Gap{Endpoint: action, Kind: what.kind, Scope: c.account, Status: http.StatusForbidden,
			Reason: fmt.Sprintf("access denied in account %s: needs %s on %s; %s", c.account, action, list, what.what)}); err != nil {
			return err
		}
	}
	return nil
}

type oidcProvider struct {
	arn, url    string
	clientIDs   []string
	thumbprints []string
	created     *time.Time
	tags        []types.Tag
	// detailsUnknown: GetOpenIDConnectProvider was denied; only the ARN
	// (and the URL in it) is known.
	detailsUnknown bool
}

// Run reads the account and records its identities. AccessDenied on an
// API is a gap naming the account, the action and the IAM permission (on
// a call about one entity, naming the entities it was denied on, the rest
// recorded); an entity deleted between its listing and the call about it
// is dropped alone (noSuchEntity). Other errors (after the SDK's retries)
// fail the snapshot: throttling that outlasted them saying to run again
// later, credentials or the organisation role AWS stopped accepting part
// way saying to renew or check them, not as a gap per call.
func (c *Connector) Run(ctx context.Context, r connectors.Recorder) (err error) {
	defer func() { c.stopped = err }()
	err = c.read(ctx, r)
	if err == nil {
		err = ctx.Err()
	}
	if throttledOut(err) {
		action := operationOf(err)
		if action == "" {
			action = "IAM"
		}
		return fmt.Errorf("AWS kept throttling %s in account %s through every retry of the SDK (%d attempts); this is AWS's rate limit, not a permission: run the same command again later: %w", action, c.account, maxAttempts, err)
	}
	if credentialsFailed(err) && refused(err) && c.role != "" {
		return fmt.Errorf("nhi could no longer assume %s part way through the run of account %s (AccessDenied at sts:AssumeRole, renewing its session for %s): the role's trust policy, or what %s may assume, changed after the run began; check them and run the same command again; this account's snapshot is failed and nothing in it is taken as removed: %w", c.role, c.account, operationOf(err), c.caller, err)
	}
	if code, ok := credentialsRejected(err); ok {
		at := ""
		if action := operationOf(err); action != "" {
			at = " at " + action
		}
		return fmt.Errorf("AWS stopped accepting the credentials part way through the run of account %s (%s%s): the caller's session, or the role session assumed with it, expired or was revoked after the run began; renew them (`aws sso login`, a new session or keys) and run the same command again; this account's snapshot is failed and nothing in it is taken as removed: %w", c.account, code, at, err)
	}
	return err
}

// credentialsRejected says whether err is AWS refusing the credentials
// themselves (an expired session, a revoked key), and with which code.
// NewPlan checked them, so this happened part way: unlike a permission the
// credentials lack, it is no gap, since every call after it would say the
// same; the run fails, saying to renew them, as one rejected at its start
// does.
func credentialsRejected(err error) (string, bool) {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return "", false
	}
	switch code := ae.ErrorCode(); code {
	case "ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId", "UnrecognizedClientException":
		return code, true
	}
	return "", false
}

// Resuming says that this run continues a snapshot an earlier run of the
// account left unfinished (connectors.Resumer), as GitHub's does. An
// account is read in one go, so nothing of it is skipped: it is read again
// in full into the same snapshot.
func (c *Connector) Resuming(snapshotID int64, _ int) {
	c.say("resuming snapshot %d, which an earlier run left unfinished; the account is read again in full", snapshotID)
}

// throttledOut reports whether err is AWS throttling that the SDK's
// retryer gave up on.
func throttledOut(err error) bool {
	var maxed *retry.MaxAttemptsError
	if !errors.As(err, &maxed) {
		return false
	}
	return retry.ThrottleErrorCode{Codes: retry.DefaultThrottleErrorCodes}.IsErrorThrottle(err) == aws.TrueTernary
}

func (c *Connector) read(ctx context.Context, r connectors.Recorder) error {
	if c.closed != "" {
		c.say("%s in the organisation; skipped", strings.ToLower(string(c.closed)))
		if err := r.Scope(audit.ScopeRead{Scope: c.account}); err != nil { // it exists; nothing in it was read
			return err
		}
		return r.Gap(audit.Gap{Endpoint: "sts:AssumeRole", Scope: c.account, Reason: fmt.Sprintf("account %s is %s in the organisation; not read", c.account, c.closed)})
	}
	if c.role != "" {
		if _, err := c.cfg.Credentials.Retrieve(ctx); err != nil {
			if accessDenied(err) {
				return r.Gap(audit.Gap{Endpoint: "sts:AssumeRole", Scope: c.account, Status: http.StatusForbidden,
					Reason: fmt.Sprintf("cannot assume %s in account %s: the role must exist and trust %s (needs sts:AssumeRole)", c.role, c.account, c.caller)})
			}
			return fmt.Errorf("assuming %s: %w", c.role, err)
		}
	}
	client := iam.NewFromConfig(c.cfg)
	a := &account{readAt: c.opts.Now().UTC(), groups: map[string]types.GroupDetail{}, policies: map[string]*policyDoc{}, keys: map[string][]key{}, sessions: map[string]int32{}, roleLastUseUnknown: map[string]bool{}, userTagsUnknown: map[string]bool{}}
	gap := func(action string, kind audit.Kind, why string) error {
		reason := fmt.Sprintf("access denied in account %s: needs %s", c.account, action)
		if why != "" {
			reason += "; " + why
		}
		c.say("%s denied; recorded as a gap", action)
		return r.Gap(audit.Gap{Endpoint: action, Kind: kind, Scope: c.account, Status: http.StatusForbidden, Reason: reason})
	}
	// check turns AccessDenied into a gap and passes other errors on.
	check := func(err error, action string, kind audit.Kind, why string) (denied bool, _ error) {
		if err == nil {
			return false, nil
		}
		if accessDenied(err) {
			if op := operationOf(err); op != "" {
				action = op
			}
			return true, gap(action, kind, why)
		}
		return false, err
	}

	// What was listed in full, as evidence for removals (audit.ScopeRead):
	// a kind whose listing failed claims nothing about absent identities.
	usersRead, rolesRead, keysRead, oidcRead := true, true, true, true
	err := c.readDetails(ctx, client, a)
	if denied, err := check(err, "iam:GetAccountAuthorizationDetails", "", "policies are not read; users and roles come from iam:ListUsers with iam:ListUserTags, and iam:ListRoles with iam:GetRole"); err != nil {
		return err
	} else if !denied {
		// The details leave MaxSessionDuration out; ListRoles has it.
		if _, err := c.listRoles(ctx, client, a); err != nil {
			if _, err := check(err, "iam:ListRoles", audit.KindAWSIAMRole, "roles' maximum session durations are not read"); err != nil {
				return err
			}
		}
	} else {
		if err := c.readUsers(ctx, client, a); err != nil {
			usersRead = false
			if _, err := check(err, "iam:ListUsers", audit.KindAWSIAMUser, "users and their access keys are not read"); err != nil {
				return err
			}
		}
		if err := c.readRoles(ctx, client, a); err != nil {
			rolesRead = false
			if _, err := check(err, "iam:ListRoles", audit.KindAWSIAMRole, "roles are not read"); err != nil {
				return err
			}
		}
	}

	action, err := c.readReport(ctx, client, a)
	var unavailable *reportUnavailable
	if errors.As(err, &unavailable) {
		// What it says is not taken, and the keys are read one by one, as
		// without the report.
		c.say("the credential report %s; recorded as a gap", unavailable.why)
		if err := r.Gap(audit.Gap{Endpoint: unavailable.endpoint, Kind: audit.KindAWSAccessKey, Scope: c.account,
			Reason: fmt.Sprintf("the credential report of account %s %s: key use dates come from iam:GetAccessKeyLastUsed; console passwords and MFA are not known", c.account, unavailable.why)}); err != nil {
			return err
		}
		err = nil
	}
	said := unavailable != nil
	if denied, err := check(err, action, audit.KindAWSAccessKey, "key use dates come from iam:GetAccessKeyLastUsed; console passwords and MFA are not known"); err != nil {
		return err
	} else if !denied && !said && a.report == nil {
		// The report did not finish in time: the same fallback, said so.
		if err := r.Gap(audit.Gap{Endpoint: "iam:GetCredentialReport", Kind: audit.KindAWSAccessKey, Scope: c.account,
			Reason: fmt.Sprintf("the credential report of account %s was not ready after %s; console passwords and MFA are not known", c.account, c.opts.ReportTimeout)}); err != nil {
			return err
		}
	}
	if err := c.readKeys(ctx, client, a); err != nil {
		keysRead = false
		if _, err := check(err, "iam:ListAccessKeys", audit.KindAWSAccessKey, "access keys are not read"); err != nil {
			return err
		}
	}
	if err := c.readOIDC(ctx, client, a); err != nil {
		oidcRead = false
		if _, err := check(err, "iam:ListOpenIDConnectProviders", audit.KindAWSOIDCProvider, "OpenID Connect providers are not read"); err != nil {
			return err
		}
	}
	slices.Sort(a.gone)
	const maxGone = 20 // a cleanup under way would say thousands
	for _, what := range a.gone[:min(len(a.gone), maxGone)] {
		c.say("%s was deleted while it was read (NoSuchEntity); not recorded", what)
	}
	if len(a.gone) > maxGone {
		c.say("%d more users, keys, roles or providers were deleted while they were read (NoSuchEntity); not recorded", len(a.gone)-maxGone)
	}
	if err := c.entityGaps(r, a); err != nil {
		return err
	}
	if len(a.refused["iam:ListAccessKeys"]) > 0 {
		keysRead = false
	}
	if err := c.record(r, a); err != nil {
		return err
	}
	if a.unreadable > 0 {
		c.say("%d users and roles have a policy document that is empty, does not parse or was not listed; what it grants, or who may assume the role, is not known (%s, %s on them)", a.unreadable, AttrPolicyUnknown, AttrTrustUnknown)
	}
	// Users are recorded for their keys, so both listings make them whole.
	var kinds []audit.Kind
	if usersRead && keysRead {
		kinds = append(kinds, audit.KindAWSIAMUser, audit.KindAWSAccessKey)
	}
	if rolesRead {
		kinds = append(kinds, audit.KindAWSIAMRole)
	}
	if oidcRead {
		kinds = append(kinds, audit.KindAWSOIDCProvider)
	}
	return r.Scope(audit.ScopeRead{Scope: c.account, Kinds: kinds})
}

// readDetails pages through GetAccountAuthorizationDetails: users, groups,
// roles (with RoleLastUsed) and customer managed policies in few calls.
func (c *Connector) readDetails(ctx context.Context, client *iam.Client, a *account) error {
	pg := iam.NewGetAccountAuthorizationDetailsPaginator(client, &iam.GetAccountAuthorizationDetailsInput{
		Filter:   []types.EntityType{types.EntityTypeUser, types.EntityTypeGroup, types.EntityTypeRole, types.EntityTypeLocalManagedPolicy},
		MaxItems: aws.Int32(1000),
	})
	seen := markers{}
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			return err
		}
		if err := seen.next("iam:GetAccountAuthorizationDetails", page.Marker, page.IsTruncated); err != nil {
			return err
		}
		a.users = append(a.users, page.UserDetailList...)
		for _, g := range page.GroupDetailList {
			a.groups[aws.ToString(g.GroupName)] = g
		}
		a.roles = append(a.roles, page.RoleDetailList...)
		for _, p := range page.Policies {
			for _, v := range p.PolicyVersionList {
				if v.IsDefaultVersion {
					a.policies[aws.ToString(p.Arn)] = decodeDoc(aws.ToString(v.Document))
				}
			}
		}
	}
	a.detailed = true
	return nil
}

// readUsers is the fallback for users: ListUsers, without policies, and
// ListUserTags for each user, since ListUsers leaves tags out.
func (c *Connector) readUsers(ctx context.Context, client *iam.Client, a *account) error {
	if err := c.listUsers(ctx, client, a); err != nil {
		return err
	}
	unknown := make([]bool, len(a.users))
	err := c.each(ctx, len(a.users), func(i int) error {
		u := &a.users[i]
		name := aws.ToString(u.UserName)
		tags, err := userTags(ctx, client, name)
		if noSuchEntity(err) {
			a.deleted("user " + name)
			u.UserName = nil
			return nil
		}
		if accessDenied(err) {
			// Not "no tags": no owner is suggested from what was not read.
			a.deny("iam:ListUserTags", "user "+name)
			unknown[i] = true
			return nil
		}
		if err != nil {
			return err
		}
		u.Tags = tags
		return nil
	})
	if err != nil {
		return err
	}
	for i, u := range unknown {
		if u {
			a.userTagsUnknown[aws.ToString(a.users[i].UserName)] = true
		}
	}
	a.users = slices.DeleteFunc(a.users, func(u types.UserDetail) bool { return u.UserName == nil })
	return nil
}

// userTags pages through ListUserTags for one user's tags.
func userTags(ctx context.Context, client *iam.Client, name string) ([]types.Tag, error) {
	pg := iam.NewListUserTagsPaginator(client, &iam.ListUserTagsInput{UserName: aws.String(name)})
	var tags []types.Tag
	seen := markers{}
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		if err := seen.next("iam:ListUserTags", page.Marker, page.IsTruncated); err != nil {
			return nil, err
		}
		tags = append(tags, page.Tags...)
	}
	return tags, nil
}

// listUsers pages through ListUsers.
func (c *Connector) listUsers(ctx context.Context, client *iam.Client, a *account) error {
	pg := iam.NewListUsersPaginator(client, &iam.ListUsersInput{MaxItems: aws.Int32(1000)})
	seen := markers{}
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			return err
		}
		if err := seen.next("iam:ListUsers", page.Marker, page.IsTruncated); err != nil {
			return err
		}
		for _, u := range page.Users {
			a.users = append(a.users, types.UserDetail{UserName: u.UserName, UserId: u.UserId, Arn: u.Arn, Path: u.Path, CreateDate: u.CreateDate})
		}
	}
	return nil
}

// readRoles is the fallback for roles: ListRoles leaves RoleLastUsed and
// tags out, so GetRole reads each role.
func (c *Connector) readRoles(ctx context.Context, client *iam.Client, a *account) error {
	listed, err := c.listRoles(ctx, client, a)
	if err != nil {
		return err
	}
	roles := make([]types.RoleDetail, len(listed))
	unknown := make([]bool, len(listed))
	err = c.each(ctx, len(listed), func(i int) error {
		name := aws.ToString(listed[i].RoleName)
		out, err := client.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
		if noSuchEntity(err) {
			a.deleted("role " + name)
			return nil
		}
		if accessDenied(err) {
			// What ListRoles said of it stands; its last use and tags
			// are not known.
			a.deny("iam:GetRole", "role "+name)
			r := listed[i]
			roles[i] = types.RoleDetail{RoleName: r.RoleName, RoleId: r.RoleId, Arn: r.Arn, Path: r.Path, CreateDate: r.CreateDate,
				AssumeRolePolicyDocument: r.AssumeRolePolicyDocument}
			unknown[i] = true
			return nil
		}
		if err != nil {
			return err
		}
		r := out.Role
		roles[i] = types.RoleDetail{RoleName: r.RoleName, RoleId: r.RoleId, Arn: r.Arn, Path: r.Path, CreateDate: r.CreateDate,
			AssumeRolePolicyDocument: r.AssumeRolePolicyDocument, Tags: r.Tags, RoleLastUsed: r.RoleLastUsed}
		return nil
	})
	if err != nil {
		return err
	}
	for i, u := range unknown {
		if u {
			a.roleLastUseUnknown[aws.ToString(listed[i].RoleName)] = true
		}
	}
	a.roles = slices.DeleteFunc(roles, func(r types.RoleDetail) bool { return r.RoleName == nil })
	return nil
}

// listRoles pages through ListRoles for the roles and their maximum
// session durations.
func (c *Connector) listRoles(ctx context.Context, client *iam.Client, a *account) ([]types.Role, error) {
	pg := iam.NewListRolesPaginator(client, &iam.ListRolesInput{MaxItems: aws.Int32(1000)})
	var roles []types.Role
	seen := markers{}
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		if err := seen.next("iam:ListRoles", page.Marker, page.IsTruncated); err != nil {
			return nil, err
		}
		for _, r := range page.Roles {
			roles = append(roles, r)
			if r.MaxSessionDuration != nil {
				a.sessions[aws.ToString(r.RoleName)] = *r.MaxSessionDuration
			}
		}
	}
	return roles, nil
}

// readKeys lists the access keys of every user and takes their use from
// the credential report, else from GetAccessKeyLastUsed (one call per
// key). The report cannot say a user has no key: for an inactive key its
// last_rotated is N/A, as for no key at all, and an inactive key is still
// a credential anyone allowed iam:UpdateAccessKey can turn back on.
func (c *Connector) readKeys(ctx context.Context, client *iam.Client, a *account) error {
	var names []string
	for _, u := range a.users {
		names = append(names, aws.ToString(u.UserName))
	}
	keys := make([][]key, len(names))
	err := c.each(ctx, len(names), func(i int) error {
		pg := iam.NewListAccessKeysPaginator(client, &iam.ListAccessKeysInput{UserName: aws.String(names[i])})
		seen := markers{}
		for pg.HasMorePages() {
			page, err := pg.NextPage(ctx)
			if noSuchEntity(err) {
				keys[i] = nil
				a.deleted("user " + names[i])
				return nil
			}
			if accessDenied(err) {
				keys[i] = nil
				a.deny("iam:ListAccessKeys", "user "+names[i])
				return nil
			}
			if err != nil {
				return err
			}
			if err := seen.next("iam:ListAccessKeys", page.Marker, page.IsTruncated); err != nil {
				return err
			}
			for _, m := range page.AccessKeyMetadata {
				k := key{id: aws.ToString(m.AccessKeyId), status: string(m.Status), created: aws.ToTime(m.CreateDate).UTC()}
				keys[i] = append(keys[i], k)
			}
		}
		var ask []*key
		if row, ok := a.report[names[i]]; ok {
			ask = matchReport(keys[i], row)
		} else {
			for j := range keys[i] {
				ask = append(ask, &keys[i][j])
			}
		}
		for j := range ask {
			out, err := client.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(ask[j].id)})
			if noSuchEntity(err) {
				ask[j].gone = true
				a.deleted("access key " + ask[j].id + " of user " + names[i])
				continue
			}
			if accessDenied(err) {
				ask[j].lastUsedNotKnown = true
				a.deny("iam:GetAccessKeyLastUsed", "access key "+ask[j].id+" of user "+names[i])
				continue
			}
			if err != nil {
				return err
			}
			ask[j].lastUsedNotKnown = false
			if lu := out.AccessKeyLastUsed; lu != nil {
				if lu.LastUsedDate != nil {
					t := lu.LastUsedDate.UTC()
					ask[j].lastUsed = &t
				}
				ask[j].service, ask[j].region = na(aws.ToString(lu.ServiceName)), na(aws.ToString(lu.Region))
			}
		}
		keys[i] = slices.DeleteFunc(keys[i], func(k key) bool { return k.gone })
		return nil
	})
	for i, n := range names {
		if len(keys[i]) > 0 {
			a.keys[n] = keys[i]
		}
	}
	return err
}

func (c *Connector) readOIDC(ctx context.Context, client *iam.Client, a *account) error {
	out, err := client.ListOpenIDConnectProviders(ctx, &iam.ListOpenIDConnectProvidersInput{})
	if err != nil {
		return err
	}
	oidc := make([]oidcProvider, len(out.OpenIDConnectProviderList))
	err = c.each(ctx, len(oidc), func(i int) error {
		arn := aws.ToString(out.OpenIDConnectProviderList[i].Arn)
		p, err := client.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn)})
		if noSuchEntity(err) {
			a.deleted("OpenID Connect provider " + arn)
			return nil
		}
		if accessDenied(err) {
			// The ARN names its URL: the provider is recorded by it.
			a.deny("iam:GetOpenIDConnectProvider", arn)
			url := arn
			if _, u, ok := strings.Cut(arn, ":oidc-provider/"); ok && u != "" {
				url = u
			}
			oidc[i] = oidcProvider{arn: arn, url: url, detailsUnknown: true}
			return nil
		}
		if err != nil {
			return err
		}
		oidc[i] = oidcProvider{arn: arn, url: aws.ToString(p.Url), clientIDs: p.ClientIDList, thumbprints: p.ThumbprintList, created: p.CreateDate, tags: p.Tags}
		return nil
	})
	// Only the providers read: one deleted, or not reached when the
	// run failed, is not a provider with no URL.
	a.oidc = slices.DeleteFunc(oidc, func(p oidcProvider) bool { return p.arn == "" })
	return err
}

// each runs fn for 0..n-1 on up to Concurrency goroutines and returns the
// first error.
func (c *Connector) each(parent context.Context, n int, fn func(i int) error) error {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		next  = make(chan int)
	)
	for range min(c.opts.Concurrency, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := fn(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
						cancel()
					}
					mu.Unlock()
				}
			}
		}()
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if first == nil {
		first = parent.Err()
	}
	return first
}

// markers are the page markers a listing was given. The SDK's paginators
// follow whatever marker comes back, so a service that hands back one it
// already gave (a loop) would be asked for ever; next ends the listing
// with an error instead, and the listing is not taken as whole. They
// follow only the marker, too: a page that says the listing goes on
// (IsTruncated) with no marker would end it there, taken as whole, and
// what the later pages held as removed; next ends that with an error too.
type markers map[string]bool

func (m markers) next(action string, marker *string, truncated bool) error {
	if marker == nil || *marker == "" {
		if truncated {
			return fmt.Errorf("%s: AWS said the listing goes on (IsTruncated) but gave no Marker to go on from; the listing was not read in full: run again, and report it to AWS Support if it stays", action)
		}
		return nil
	}
	if m[*marker] {
		return fmt.Errorf("%s: AWS answered with a page marker it had given before, so its pages loop; the listing was not read in full: run again, and report it to AWS Support if it stays", action)
	}
	m[*marker] = true
	return nil
}
