// Package aws reads the machine credentials of AWS accounts through
// aws-sdk-go-v2: IAM users with access keys, their keys, roles and the
// OpenID Connect providers roles trust. One account is one snapshot,
// "aws/<account-id>" (see ARCHITECTURE.md); with an organisation role the
// connector lists the organisation's accounts and assumes the role in
// each.
//
// Credentials come from the SDK's default chain and are never stored;
// endpoints follow the SDK's own settings (AWS_ENDPOINT_URL,
// AWS_ENDPOINT_URL_IAM, ...), which is how tests point it at
// connectors/aws/awstest.
package aws

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/nhi-audit/nhi/audit"
)

// Source is the source name snapshots and identity IDs carry.
const Source = "aws"

// Options say what to read and how.
type Options struct {
	Profile  string   // shared config profile; "" for the default chain
	Region   string   // "" for the chain's region, else us-east-1 (IAM is global)
	OrgRole  string   // role to assume in every account of the organisation
	Accounts []string // with OrgRole: only these accounts
	// Progress receives one line per notable wait (throttling, the
	// credential report); nil discards them.
	Progress io.Writer
	// ReportPoll is the wait between GenerateCredentialReport calls
	// (default 2s); ReportTimeout gives up on the report (default 5m),
	// recording a gap.
	ReportPoll, ReportTimeout time.Duration
	// Backoff replaces the SDK's retry backoff (tests make it short).
	Backoff retry.BackoffDelayer
	// Concurrency is how many per-user calls run at once (default 8).
	Concurrency int
	// Now is when a run reads (default time.Now): AWS reports a role's
	// last use over the trailing 400 days before it (useWindow).
	Now func() time.Time
}

// Plan is what one run reads: the caller, the organisation's accounts
// when it was listed, and one connector per account.
type Plan struct {
	Caller     string            // the caller's ARN
	Org        map[string]string // account ID -> name; nil when the organisation was not read
	Connectors []*Connector
}

// NewPlan resolves the caller through the default chain and, with
// OrgRole, the organisation's accounts. Suspended accounts get a
// connector that records why they were skipped.
func NewPlan(ctx context.Context, opts Options) (*Plan, error) {
	if opts.ReportPoll == 0 {
		opts.ReportPoll = 2 * time.Second
	}
	if opts.ReportTimeout == 0 {
		opts.ReportTimeout = 5 * time.Minute
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 8
	}
	if opts.Progress == nil {
		opts.Progress = io.Discard
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if len(opts.Accounts) > 0 && opts.OrgRole == "" {
		return nil, errors.New("--accounts needs --org-role: without it nhi reads only the caller's own account")
	}
	progress := &syncWriter{w: opts.Progress}
	load := []func(*config.LoadOptions) error{
		config.WithRetryer(func() aws.Retryer { return newRetryer(opts.Backoff, progress, "aws") }),
		// The SDK's own log lines ("SDK 2026/… WARN falling back to
		// IMDSv1: …") would come on stderr before nhi's error, which
		// says the same and what to do: nhi speaks for it.
		config.WithLogger(logging.Nop{}),
	}
	if opts.Profile != "" {
		load = append(load, config.WithSharedConfigProfile(opts.Profile))
	}
	if opts.Region != "" {
		load = append(load, config.WithRegion(opts.Region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, load...)
	var noProfile config.SharedConfigProfileNotExistError
	if errors.As(err, &noProfile) {
		// The SDK leaves Filename empty: the files are named as it finds them.
		in := []string{config.DefaultSharedConfigFilename(), config.DefaultSharedCredentialsFilename()}
		for i, env := range []string{"AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"} {
			if f := os.Getenv(env); f != "" {
				in[i] = f
			}
		}
		return nil, fmt.Errorf("AWS profile %q is not in %s: check --profile and AWS_PROFILE (`aws configure list-profiles` lists the profiles there); nothing was read", noProfile.Profile, strings.Join(in, " or "))
	}
	if err != nil {
		return nil, fmt.Errorf("loading AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1" // IAM, STS (global endpoint) and Organizations live there
	}
	// The credentials first, apart from the call that checks them: a
	// network that does not reach STS is not a credential to fix.
	if cfg.Credentials == nil {
		return nil, errors.New("no usable AWS credentials: none found; set AWS_PROFILE, run `aws sso login`, or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		return nil, fmt.Errorf("no usable AWS credentials: %w; set AWS_PROFILE, run `aws sso login`, or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY", err)
	}
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	var send *smithyhttp.RequestSendError
	if errors.As(err, &send) {
		return nil, unreachableSTS(send, cfg.Region, opts.Region != "")
	}
	if err != nil {
		return nil, fmt.Errorf("no usable AWS credentials (sts:GetCallerIdentity): %w; set AWS_PROFILE, run `aws sso login`, or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY", err)
	}
	p := &Plan{Caller: aws.ToString(id.Arn)}
	own := aws.ToString(id.Account)
	base := &Connector{opts: opts, progress: progress, caller: p.Caller}
	if opts.OrgRole == "" {
		// The organisation, when the caller may list it, tells in-house
		// accounts from third parties; not being allowed to is no gap.
		if org, err := listAccounts(ctx, cfg); err == nil {
			p.Org = map[string]string{}
			for _, a := range org {
				p.Org[aws.ToString(a.Id)] = aws.ToString(a.Name)
			}
		}
		c := *base
		c.account, c.org = own, p.Org
		c.cfg = c.withRetryer(cfg)
		p.Connectors = append(p.Connectors, &c)
		return p, nil
	}
	accounts, err := listAccounts(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("listing the organisation's accounts (organizations:ListAccounts, from the management account or a delegated administrator): %w", err)
	}
	p.Org = map[string]string{}
	for _, a := range accounts {
		p.Org[aws.ToString(a.Id)] = aws.ToString(a.Name)
	}
	for _, want := range opts.Accounts {
		if _, ok := p.Org[want]; !ok {
			return nil, fmt.Errorf("account %s is not in the organisation (organizations:ListAccounts lists %d accounts)", want, len(p.Org))
		}
	}
	stsc := sts.NewFromConfig(cfg)
	for _, a := range accounts {
		acct := aws.ToString(a.Id)
		if len(opts.Accounts) > 0 && !slices.Contains(opts.Accounts, acct) {
			continue
		}
		c := *base
		c.account, c.name, c.org = acct, aws.ToString(a.Name), p.Org
		state := accountState(a)
		switch {
		case state == orgtypes.AccountStateSuspended || state == orgtypes.AccountStateClosed:
			c.closed = state
		case acct == own:
			// The caller's own account is read with its own credentials:
			// the management account has no organisation role.
			c.cfg = c.withRetryer(cfg)
		default:
			c.role = "arn:aws:iam::" + acct + ":role/" + opts.OrgRole
			c.cfg = c.withRetryer(cfg)
			c.cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(stsc, c.role, func(o *stscreds.AssumeRoleOptions) {
				o.RoleSessionName = "nhi-audit"
			}))
		}
		p.Connectors = append(p.Connectors, &c)
	}
	return p, nil
}

// accountState is where the account is in its lifecycle: its State, or,
// in an answer from before AWS retired Status (9 September 2026), its
// Status, which said ACTIVE, SUSPENDED or PENDING_CLOSURE. Since then a
// suspended or closed account says so in State alone.
func accountState(a orgtypes.Account) orgtypes.AccountState {
	if a.State != "" {
		return a.State
	}
	return orgtypes.AccountState(a.Status)
}

func listAccounts(ctx context.Context, cfg aws.Config) ([]orgtypes.Account, error) {
	var out []orgtypes.Account
	pg := organizations.NewListAccountsPaginator(organizations.NewFromConfig(cfg), &organizations.ListAccountsInput{})
	seen := markers{}
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		if err := seen.next("organizations:ListAccounts", page.NextToken, false); err != nil {
			return nil, err
		}
		out = append(out, page.Accounts...)
	}
	return out, nil
}

// Connector reads one account. It implements connectors.Connector and
// connectors.Credentialed.
type Connector struct {
	opts     Options
	progress *syncWriter
	caller   string
	account  string
	name     string
	role     string                // assumed role ARN, "" for the caller's own account
	closed   orgtypes.AccountState // SUSPENDED or CLOSED in the organisation: not read
	org      map[string]string
	cfg      aws.Config
	requests *atomic.Int64 // API requests sent for this account, retries included (see withRetryer)
	stopped  error         // why the last Run stopped before the end; nil when it read the account
}

// Source is "aws".
func (c *Connector) Source() string { return Source }

// Account is the account ID.
func (c *Connector) Account() string { return c.account }

// Name is the account's name in the organisation, when it was listed.
func (c *Connector) Name() string { return c.name }

// Suspended reports whether the organisation lists the account as
// suspended or closed: it is not read.
func (c *Connector) Suspended() bool { return c.closed != "" }

// APIURL is the IAM endpoint the SDK resolves.
func (c *Connector) APIURL() string {
	if c.closed != "" {
		return ""
	}
	if ep := iam.NewFromConfig(c.cfg).Options().BaseEndpoint; ep != nil {
		return *ep
	}
	return "https://iam.amazonaws.com"
}

// Credential names who reads: the caller, and the role assumed in the
// account. Never a key or token.
func (c *Connector) Credential(context.Context) (string, error) {
	if c.role == "" {
		return c.caller, nil
	}
	return c.role + " (assumed by " + c.caller + ")", nil
}

// accessDenied says whether err is AWS refusing the caller (AccessDenied
// and its variants) the call, as opposed to a fault worth failing the run
// for. A refusal to renew the call's credentials (credentialsFailed) is
// not the call's: see Run.
func accessDenied(err error) bool {
	if credentialsFailed(err) {
		return false
	}
	return refused(err)
}

// credentialsFailed says whether err came from getting the credentials
// for a call, not from the call: the SDK renews an assumed role's session
// as it ends (sts:AssumeRole), and an error there is an operation error
// inside the call's own.
func credentialsFailed(err error) bool {
	var oe *smithy.OperationError
	if !errors.As(err, &oe) {
		return false
	}
	var inner *smithy.OperationError
	return errors.As(oe.Err, &inner)
}

// refused says whether err holds AWS's AccessDenied or a variant.
func refused(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.ErrorCode() {
	case "AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError":
		return true
	}
	return false
}

// operationOf names the IAM permission of the operation err came from
// ("iam:GetRole"), or "".
func operationOf(err error) string {
	var oe *smithy.OperationError
	if !errors.As(err, &oe) {
		return ""
	}
	svc := strings.ToLower(oe.Service())
	return svc + ":" + oe.Operation()
}

// retryer is the SDK's standard retryer, saying when it waits. The
// client-side retry quota is off: a long audit should wait out
// throttling, not give up after a burst.
type retryer struct {
	*retry.Standard
	progress io.Writer
	label    string // whose calls: "aws/123456789012"
}

// withRetryer is a copy of cfg whose retryer names the account, and which
// counts every attempt it sends (Reach).
func (c *Connector) withRetryer(cfg aws.Config) aws.Config {
	cfg = cfg.Copy()
	label := "aws/" + c.account
	cfg.Retryer = func() aws.Retryer { return newRetryer(c.opts.Backoff, c.progress, label) }
	n := new(atomic.Int64)
	c.requests = n
	count := middleware.FinalizeMiddlewareFunc("nhiCountRequests", func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
		n.Add(1) // after the retry middleware: once per attempt
		return next.HandleFinalize(ctx, in)
	})
	cfg.APIOptions = append(slices.Clone(cfg.APIOptions), func(s *middleware.Stack) error { return s.Finalize.Add(count, middleware.After) })
	return cfg
}

// Reach says what the run read of the account (connectors.Reacher): the
// account itself, or why not, and the requests it took.
func (c *Connector) Reach() audit.Reach {
	r := audit.Reach{Unit: "accounts", Read: 1, NotCollected: NotCollected, CannotSee: CannotSee}
	switch {
	case c.closed != "":
		r.Read, r.NotRead = 0, []string{fmt.Sprintf("account %s: %s in the organisation", c.account, c.closed)}
	case c.stopped != nil:
		// A run that failed or was interrupted read part of the account.
		r.Read, r.NotRead = 0, []string{fmt.Sprintf("account %s: the run stopped before the end (%s)", c.account, audit.Printable(firstClause(c.stopped.Error())))}
	}
	if c.requests != nil {
		r.Requests = int(c.requests.Load())
	}
	return r
}

// NotCollected are the kinds of AWS credential this connector does not
// read; CannotSee what no IAM read permission shows at all. Each snapshot
// records them, and the evidence report lists them per source.
var (
	NotCollected = []string{
		"IAM Identity Center (SSO) users, permission sets and their account assignments",
		"IAM Roles Anywhere trust anchors and profiles",
		"service-specific credentials (CodeCommit, Amazon Keyspaces), IAM SSH public keys and X.509 signing certificates of IAM users",
		"resource-based policies that grant other accounts or principals access (S3 buckets, KMS keys, SNS topics, SQS queues, Lambda functions)",
		"secrets kept in Secrets Manager or SSM Parameter Store",
	}
	CannotSee = []string{
		"temporary credentials STS already issued: sessions of assumed roles and federated users last until they expire, and IAM lists none of them",
		"secret access keys: only key IDs are read, never a secret",
	}
)

// maxAttempts is how many times the SDK sends a request before it gives
// up (throttling included).
const maxAttempts = 10

func newRetryer(backoff retry.BackoffDelayer, progress io.Writer, label string) aws.Retryer {
	std := retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = maxAttempts
		o.RateLimiter = ratelimit.None
		if backoff != nil {
			o.Backoff = backoff
		}
	})
	return &retryer{Standard: std, progress: progress, label: label}
}

// RetryDelay reports the wait before the SDK retries.
func (r *retryer) RetryDelay(attempt int, err error) (time.Duration, error) {
	d, derr := r.Standard.RetryDelay(attempt, err)
	if derr == nil {
		what := err.Error()
		var ae smithy.APIError
		if errors.As(err, &ae) {
			what = ae.ErrorCode()
		}
		fmt.Fprintf(r.progress, "%s: %s; waiting %s before attempt %d\n", r.label, what, d.Round(time.Millisecond), attempt+1)
	}
	return d, derr
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// say writes one progress line about the account.
func (c *Connector) say(format string, args ...any) {
	fmt.Fprintf(c.progress, "aws/%s: %s\n", c.account, fmt.Sprintf(format, args...))
}

// unreachableSTS says why sts:GetCallerIdentity was not answered. A
// region AWS does not have is a host DNS does not know
// (sts.us-esat-1.amazonaws.com): that is said as the region to check,
// besides the network.
func unreachableSTS(send *smithyhttp.RequestSendError, region string, flag bool) error {
	var dns *net.DNSError
	if errors.As(send.Err, &dns) && dns.IsNotFound && region != "" && strings.Contains(dns.Name, "."+region+".") {
		from := "the region the SDK was given (AWS_REGION, or the profile's region)"
		if flag {
			from = "--region"
		}
		return fmt.Errorf("cannot reach AWS STS: %s has no address, so %q may not be an AWS region: check %s (regions are named like us-east-1), the network, and AWS_ENDPOINT_URL or AWS_ENDPOINT_URL_STS if set; nothing was read", dns.Name, region, from)
	}
	return fmt.Errorf("cannot reach AWS STS (sts:GetCallerIdentity: %v): check the network, a proxy, and AWS_ENDPOINT_URL or AWS_ENDPOINT_URL_STS if set; nothing was read", send.Err)
}

// firstClause is s up to the advice after its first "; ", as a snapshot's
// error summary is (audit.Snapshot.ErrorSummary).
func firstClause(s string) string {
	before, _, _ := strings.Cut(s, "; ")
	return strings.TrimSpace(before)
}
