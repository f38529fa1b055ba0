package awstest

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Base credentials of the caller, in the management account. The secret
// is a canary: tests look for it in everything the connector records.
const (
	BaseKeyID  = "AKIAFAKEBASECALLER01"
	BaseSecret = "canary-base-secret-access-key-7f3a9c"
	// Assumed-role sessions get this secret and token, also canaries.
	SessionSecret = "canary-session-secret-access-key-51be"
	SessionToken  = "canary-session-token-FwoGZXIvYXdzE-9d41"
)

// Server serves an Org on loopback. Without options it answers like AWS,
// with pages of MaxItems items (default 100, at most 1000); options and
// the fault setters change that.
type Server struct {
	URL string
	srv *httptest.Server
	org *Org
	// Clock is the server's time (report generation time, session
	// expiry).
	Clock func() time.Time

	mu           sync.Mutex
	pageSize     int
	reportSteps  int
	statusOnly   bool               // ListAccounts serves Status, not State (WithStatusOnly)
	denied       map[string]bool    // account|action, or account|action|entity
	gone         map[string]bool    // account|entity
	expireAfter  map[string]int     // account -> requests left before its credentials expire
	denyAfter    map[string]int     // account|action -> requests left before it is denied
	fail         map[string]failure // account|action -> the error every request of it answers
	throttle     map[string]int     // account|action -> answers left to throttle
	calls        map[string]int     // account|action -> requests served
	reports      map[string]*report
	sessions     map[string]string // access key ID -> account
	nextSession  int
	reportEdit   func([]byte) []byte
	expireReport map[string]bool
	loopPages    atomic.Bool
	noMarker     atomic.Bool
}

type report struct {
	started bool
	pending int
	done    bool
	at      time.Time
	content []byte // the CSV, as of at
}

// ExpireReport makes the account's credential report expire just after
// GenerateCredentialReport said it was COMPLETE: the next
// GetCredentialReport answers 410 ReportExpired and the report is gone,
// so a GenerateCredentialReport after it starts a new one. It is the race
// of a report generated nearly four hours earlier.
func (s *Server) ExpireReport(account string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expireReport[account] = true
}

// Option configures a Server.
type Option func(*Server)

// WithPageSize caps every page at n items (Marker/IsTruncated, NextToken).
func WithPageSize(n int) Option { return func(s *Server) { s.pageSize = n } }

// WithStatusOnly makes ListAccounts answer as before AWS added State
// (2025): each account's Status alone (ACTIVE, SUSPENDED or
// PENDING_CLOSURE; a closed account was SUSPENDED). By default it answers
// as AWS does since it retired Status on 9 September 2026: State alone.
func WithStatusOnly() Option { return func(s *Server) { s.statusOnly = true } }

// WithReportSteps makes GenerateCredentialReport answer INPROGRESS n times
// after STARTED before COMPLETE.
func WithReportSteps(n int) Option { return func(s *Server) { s.reportSteps = n } }

// WithReportReady starts every account with a fresh credential report,
// as when one was generated in the last four hours:
// GenerateCredentialReport answers COMPLETE at once. Like every report,
// it says what the account held when it was made (now), and AWS serves it
// for four hours of the server's Clock, whatever changes.
func WithReportReady() Option {
	return func(s *Server) {
		for _, a := range s.org.Accounts {
			at := s.Clock()
			s.reports[a.ID] = &report{started: true, done: true, at: at, content: credentialReport(a, at)}
		}
	}
}

// New starts a server for org. Close it when done.
func New(org *Org, opts ...Option) *Server {
	s := &Server{
		org: org, pageSize: 1000, Clock: time.Now,
		denied: map[string]bool{}, gone: map[string]bool{}, expireAfter: map[string]int{}, denyAfter: map[string]int{}, fail: map[string]failure{}, expireReport: map[string]bool{}, throttle: map[string]int{}, calls: map[string]int{},
		reports: map[string]*report{}, sessions: map[string]string{},
	}
	if len(org.Accounts) > 0 {
		s.sessions[BaseKeyID] = org.Accounts[0].ID
	}
	for _, o := range opts {
		o(s)
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	return s
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// Env is the environment that points the SDK's default chain at the
// server: endpoint, base credentials, region, and no shared config files
// or instance metadata. Set each pair with os.Setenv or t.Setenv.
func (s *Server) Env() map[string]string {
	return map[string]string{
		"AWS_ENDPOINT_URL":            s.URL,
		"AWS_ACCESS_KEY_ID":           BaseKeyID,
		"AWS_SECRET_ACCESS_KEY":       BaseSecret,
		"AWS_SESSION_TOKEN":           "",
		"AWS_REGION":                  "us-east-1",
		"AWS_PROFILE":                 "",
		"AWS_CONFIG_FILE":             "/nonexistent/nhi-awstest-config",
		"AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/nhi-awstest-credentials",
		"AWS_EC2_METADATA_DISABLED":   "true",
	}
}

// Deny makes action ("iam:GenerateCredentialReport") answer AccessDenied
// in account.
func (s *Server) Deny(account, action string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.denied[account+"|"+action] = true
}

// failure is an error answer: HTTP status, code, message.
type failure struct {
	status        int
	code, message string
}

// Fail makes every request for action in account answer the error code
// with HTTP status, as the action's model lists it (LimitExceeded, 409,
// for GenerateCredentialReport).
func (s *Server) Fail(account, action string, status int, code, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail[account+"|"+action] = failure{status, code, message}
}

// DenyAfter lets the next n requests for action in account through and
// denies every later one, as Deny does: a permission taken away part way
// through a run (a trust policy or an SCP changed).
func (s *Server) DenyAfter(account, action string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.denyAfter[account+"|"+action] = n + 1
}

// DenyEntity makes action answer AccessDenied in account only when it
// names entity (a user or role name, an access key ID, an OpenID Connect
// provider ARN): what an SCP or a permission boundary with a resource
// condition does, where the same action on other entities is allowed.
func (s *Server) DenyEntity(account, action, entity string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.denied[account+"|"+action+"|"+entity] = true
}

// Gone makes every call in account that names entity (a user or role name,
// an access key ID, an OpenID Connect provider ARN) answer NoSuchEntity
// (404), as AWS does for what was deleted after a listing named it; the
// listings still name it, as they did before the deletion.
func (s *Server) Gone(account, entity string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gone[account+"|"+entity] = true
}

// ExpireAfter lets the next n requests in account through and then
// answers every later one 403 ExpiredToken (ExpiredTokenException for
// Organizations): the session the run reads with ended part way.
func (s *Server) ExpireAfter(account string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expireAfter[account] = n + 1
}

// Throttle makes the next n requests for action in account answer
// Throttling (TooManyRequestsException for Organizations).
func (s *Server) Throttle(account, action string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.throttle[account+"|"+action] = n
}

// Calls returns how many requests for each action ("iam:ListAccessKeys")
// the server answered in account, faults included.
func (s *Server) Calls(account string) map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for k, n := range s.calls {
		if a, action, _ := strings.Cut(k, "|"); a == account {
			out[action] = n
		}
	}
	return out
}

var credentialRE = regexp.MustCompile(`Credential=([^/]+)/[^/]+/[^/]+/([^/]+)/aws4_request`)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	m := credentialRE.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil {
		queryError(w, http.StatusForbidden, "MissingAuthenticationToken", "Request is missing Authentication Token")
		return
	}
	keyID, service := m[1], m[2]
	s.mu.Lock()
	account, ok := s.sessions[keyID]
	s.mu.Unlock()
	if !ok {
		queryError(w, http.StatusForbidden, "InvalidClientTokenId", "The security token included in the request is invalid.")
		return
	}
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		s.serveOrganizations(w, r, account, target)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		queryError(w, http.StatusBadRequest, "MalformedQueryString", err.Error())
		return
	}
	action := form.Get("Action")
	perm := service + ":" + action
	s.mu.Lock()
	failed, fails := s.fail[account+"|"+perm]
	s.mu.Unlock()
	if fails {
		s.fault(account, perm, "") // counted
		queryError(w, failed.status, failed.code, failed.message)
		return
	}
	if code, msg := s.fault(account, perm, entityOf(form)); code != "" {
		status := http.StatusBadRequest
		switch code {
		case "AccessDenied", "ExpiredToken":
			status = http.StatusForbidden
		case "NoSuchEntity":
			status = http.StatusNotFound
		}
		queryError(w, status, code, msg)
		return
	}
	switch service {
	case "sts":
		s.serveSTS(w, account, action, form)
	case "iam":
		s.serveIAM(w, account, action, form)
	default:
		queryError(w, http.StatusBadRequest, "InvalidAction", "unknown service "+service)
	}
}

// entityOf is the entity a per-entity IAM call names, "" for a listing.
func entityOf(form url.Values) string {
	for _, p := range []string{"UserName", "AccessKeyId", "RoleName", "OpenIDConnectProviderArn"} {
		if v := form.Get(p); v != "" {
			return v
		}
	}
	return ""
}

// fault counts the request and says which error, if any, it gets.
func (s *Server) fault(account, perm, entity string) (code, msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := account + "|" + perm
	s.calls[key]++
	if n, ok := s.expireAfter[account]; ok {
		if n <= 1 {
			s.expireAfter[account] = 0
			return "ExpiredToken", "The security token included in the request is expired"
		}
		s.expireAfter[account] = n - 1
	}
	if n := s.throttle[key]; n > 0 {
		s.throttle[key] = n - 1
		return "Throttling", "Rate exceeded"
	}
	if n, ok := s.denyAfter[key]; ok {
		if n <= 1 {
			s.denied[key] = true
		}
		s.denyAfter[key] = n - 1
	}
	if s.denied[key] {
		return "AccessDenied", fmt.Sprintf("User: arn:aws:sts::%s:assumed-role/nhi-audit/nhi is not authorized to perform: %s on resource: *", account, perm)
	}
	if entity == "" {
		return "", ""
	}
	if s.denied[key+"|"+entity] {
		return "AccessDenied", fmt.Sprintf("User: arn:aws:sts::%s:assumed-role/nhi-audit/nhi is not authorized to perform: %s on resource: %s with an explicit deny in a service control policy", account, perm, entity)
	}
	if s.gone[account+"|"+entity] {
		switch perm {
		case "iam:ListAccessKeys", "iam:ListUserTags":
			return "NoSuchEntity", "The user with name " + entity + " cannot be found."
		case "iam:GetAccessKeyLastUsed":
			return "NoSuchEntity", "The Access Key with id " + entity + " cannot be found"
		case "iam:GetRole":
			return "NoSuchEntity", "The role with name " + entity + " cannot be found."
		case "iam:GetOpenIDConnectProvider":
			return "NoSuchEntity", "OpenIDConnect Provider not found for arn " + entity
		}
	}
	return "", ""
}

type xmlError struct {
	XMLName   xml.Name `xml:"ErrorResponse"`
	Type      string   `xml:"Error>Type"`
	Code      string   `xml:"Error>Code"`
	Message   string   `xml:"Error>Message"`
	RequestID string   `xml:"RequestId"`
}

func queryError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	b, _ := xml.Marshal(xmlError{Type: "Sender", Code: code, Message: msg, RequestID: "00000000-0000-0000-0000-000000000000"})
	_, _ = w.Write(b)
}

// queryResult writes <ActionResponse><ActionResult>result</ActionResult>
// <ResponseMetadata/></ActionResponse> in namespace ns.
func queryResult(w http.ResponseWriter, ns, action string, result any) {
	inner, err := xml.Marshal(result)
	if err != nil {
		queryError(w, http.StatusInternalServerError, "ServiceFailure", err.Error())
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<%sResponse xmlns="%s">`, action, ns)
	_, _ = w.Write(inner)
	fmt.Fprintf(w, `<ResponseMetadata><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ResponseMetadata></%sResponse>`, action)
}

const (
	iamNS = "https://iam.amazonaws.com/doc/2010-05-08/"
	stsNS = "https://sts.amazonaws.com/doc/2011-06-15/"
)

func (s *Server) serveSTS(w http.ResponseWriter, account, action string, form url.Values) {
	switch action {
	case "GetCallerIdentity":
		type result struct {
			XMLName xml.Name `xml:"GetCallerIdentityResult"`
			UserID  string   `xml:"UserId"`
			Account string   `xml:"Account"`
			Arn     string   `xml:"Arn"`
		}
		queryResult(w, stsNS, action, result{UserID: "AIDAFAKECALLER", Account: account, Arn: "arn:aws:iam::" + account + ":user/nhi-auditor"})
	case "AssumeRole":
		arn := form.Get("RoleArn")
		target, name := parseRoleArn(arn)
		a := s.org.Account(target)
		if a == nil || name != s.org.RoleName || a.Status == "SUSPENDED" {
			queryError(w, http.StatusForbidden, "AccessDenied", fmt.Sprintf("User: arn:aws:iam::%s:user/nhi-auditor is not authorized to perform: sts:AssumeRole on resource: %s", account, arn))
			return
		}
		s.mu.Lock()
		s.nextSession++
		keyID := fmt.Sprintf("ASIAFAKE%012d", s.nextSession)
		s.sessions[keyID] = target
		s.mu.Unlock()
		type creds struct {
			AccessKeyID     string `xml:"AccessKeyId"`
			SecretAccessKey string `xml:"SecretAccessKey"`
			SessionToken    string `xml:"SessionToken"`
			Expiration      string `xml:"Expiration"`
		}
		type result struct {
			XMLName     xml.Name `xml:"AssumeRoleResult"`
			Credentials creds    `xml:"Credentials"`
			RoleID      string   `xml:"AssumedRoleUser>AssumedRoleId"`
			RoleArn     string   `xml:"AssumedRoleUser>Arn"`
		}
		queryResult(w, stsNS, action, result{
			Credentials: creds{keyID, SessionSecret, SessionToken, ts(s.Clock().Add(time.Hour))},
			RoleID:      "AROAFAKE:" + form.Get("RoleSessionName"),
			RoleArn:     "arn:aws:sts::" + target + ":assumed-role/" + name + "/" + form.Get("RoleSessionName"),
		})
	default:
		queryError(w, http.StatusBadRequest, "InvalidAction", "unknown STS action "+action)
	}
}

func parseRoleArn(arn string) (account, name string) {
	// arn:aws:iam::123456789012:role/path/name
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || !strings.HasPrefix(parts[5], "role/") {
		return "", ""
	}
	p := parts[5]
	return parts[4], p[strings.LastIndex(p, "/")+1:]
}

func ts(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// page cuts n items at marker into one page: the range and the next
// marker ("" on the last page). As on AWS, MaxItems defaults to 100 and
// is honoured up to 1000; WithPageSize lowers that cap.
func (s *Server) page(n int, marker string, max string) (lo, hi int, next string) {
	size := 100
	if m, err := strconv.Atoi(max); err == nil && m > 0 {
		size = m
	}
	size = min(size, s.pageSize)
	lo, _ = strconv.Atoi(marker)
	lo = min(max0(lo), n)
	hi = min(lo+size, n)
	if hi < n {
		next = strconv.Itoa(hi)
	} else if s.loopPages.Load() && lo > 0 {
		next = "0" // back to the first page (LoopPages)
	}
	return lo, hi, next
}

// EditReport makes GetCredentialReport serve edit(the report's CSV): a
// report whose columns AWS changed, added or dropped.
func (s *Server) EditReport(edit func(csv []byte) []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reportEdit = edit
}

// TruncateWithoutMarker makes every IAM page that is not the last say
// IsTruncated but give no Marker: a listing that says it goes on, with
// nothing to go on from.
func (s *Server) TruncateWithoutMarker() {
	s.noMarker.Store(true)
}

// marker is the Marker a page with next after it carries: next, or none
// (TruncateWithoutMarker).
func (s *Server) marker(next string) string {
	if s.noMarker.Load() {
		return ""
	}
	return next
}

// LoopPages makes the last page of every IAM listing that has more than
// one page hand back a marker to the first, so its pages loop: what a
// service answering wrongly looks like to a paginator.
func (s *Server) LoopPages() {
	s.loopPages.Store(true)
}

func max0(n int) int {
	if n < 0 {
		return 0
	}
	return n
}

func (s *Server) serveOrganizations(w http.ResponseWriter, r *http.Request, account, target string) {
	action := strings.TrimPrefix(target, "AWSOrganizationsV20161128.")
	var in struct {
		NextToken  string
		MaxResults int
	}
	_ = json.NewDecoder(r.Body).Decode(&in)
	jsonError := func(status int, typ, msg string) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]string{"__type": typ, "Message": msg})
	}
	if code, msg := s.fault(account, "organizations:"+action, ""); code != "" {
		switch code {
		case "Throttling":
			jsonError(http.StatusBadRequest, "TooManyRequestsException", msg)
		case "ExpiredToken":
			jsonError(http.StatusBadRequest, "ExpiredTokenException", msg)
		default:
			jsonError(http.StatusBadRequest, "AccessDeniedException", msg)
		}
		return
	}
	if account != s.org.Accounts[0].ID {
		jsonError(http.StatusBadRequest, "AccessDeniedException", "You don't have permissions to access this resource.")
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	switch action {
	case "ListAccounts":
		lo, hi, next := s.page(len(s.org.Accounts), in.NextToken, strconv.Itoa(in.MaxResults))
		type acct struct {
			ID              string `json:"Id"`
			Arn             string `json:"Arn"`
			Email           string `json:"Email"`
			Name            string `json:"Name"`
			State           string `json:"State,omitempty"`
			Status          string `json:"Status,omitempty"`
			JoinedMethod    string `json:"JoinedMethod"`
			JoinedTimestamp int64  `json:"JoinedTimestamp"`
		}
		out := struct {
			Accounts  []acct `json:"Accounts"`
			NextToken string `json:"NextToken,omitempty"`
		}{Accounts: []acct{}, NextToken: next}
		for _, a := range s.org.Accounts[lo:hi] {
			state, status := a.Status, ""
			if s.statusOnly {
				state, status = "", a.Status
				if status == "CLOSED" {
					status = "SUSPENDED"
				}
			}
			out.Accounts = append(out.Accounts, acct{a.ID, "arn:aws:organizations::" + s.org.Accounts[0].ID + ":account/" + s.org.ID + "/" + a.ID, a.Email, a.Name, state, status, "CREATED", 1600000000})
		}
		_ = json.NewEncoder(w).Encode(out)
	case "DescribeOrganization":
		m := s.org.Accounts[0]
		_ = json.NewEncoder(w).Encode(map[string]any{"Organization": map[string]any{
			"Id": s.org.ID, "Arn": "arn:aws:organizations::" + m.ID + ":organization/" + s.org.ID,
			"FeatureSet": "ALL", "MasterAccountId": m.ID, "MasterAccountEmail": m.Email,
			"MasterAccountArn": "arn:aws:organizations::" + m.ID + ":account/" + s.org.ID + "/" + m.ID,
		}})
	default:
		jsonError(http.StatusBadRequest, "UnknownOperationException", "unknown operation "+action)
	}
}

// sortedKeys returns m's keys in order, for stable answers.
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
