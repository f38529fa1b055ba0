package awstest

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"encoding/xml"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// XML shapes of iam-2010-05-08. Lists are <member> elements; policy
// documents are URL-encoded JSON, as AWS serves them.

type xmlTag struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

type xmlPolicyRef struct {
	PolicyName string `xml:"PolicyName"`
	PolicyArn  string `xml:"PolicyArn"`
}

type xmlInline struct {
	PolicyName     string `xml:"PolicyName"`
	PolicyDocument string `xml:"PolicyDocument"`
}

type xmlUserDetail struct {
	Path                    string         `xml:"Path"`
	UserName                string         `xml:"UserName"`
	UserID                  string         `xml:"UserId"`
	Arn                     string         `xml:"Arn"`
	CreateDate              string         `xml:"CreateDate"`
	UserPolicyList          []xmlInline    `xml:"UserPolicyList>member"`
	GroupList               []string       `xml:"GroupList>member"`
	AttachedManagedPolicies []xmlPolicyRef `xml:"AttachedManagedPolicies>member"`
	Tags                    []xmlTag       `xml:"Tags>member"`
}

type xmlGroupDetail struct {
	Path                    string         `xml:"Path"`
	GroupName               string         `xml:"GroupName"`
	GroupID                 string         `xml:"GroupId"`
	Arn                     string         `xml:"Arn"`
	CreateDate              string         `xml:"CreateDate"`
	GroupPolicyList         []xmlInline    `xml:"GroupPolicyList>member"`
	AttachedManagedPolicies []xmlPolicyRef `xml:"AttachedManagedPolicies>member"`
}

type xmlLastUsed struct {
	LastUsedDate string `xml:"LastUsedDate,omitempty"`
	Region       string `xml:"Region,omitempty"`
}

type xmlRoleDetail struct {
	Path                     string         `xml:"Path"`
	RoleName                 string         `xml:"RoleName"`
	RoleID                   string         `xml:"RoleId"`
	Arn                      string         `xml:"Arn"`
	CreateDate               string         `xml:"CreateDate"`
	AssumeRolePolicyDocument string         `xml:"AssumeRolePolicyDocument"`
	RolePolicyList           []xmlInline    `xml:"RolePolicyList>member"`
	AttachedManagedPolicies  []xmlPolicyRef `xml:"AttachedManagedPolicies>member"`
	Tags                     []xmlTag       `xml:"Tags>member"`
	RoleLastUsed             *xmlLastUsed   `xml:"RoleLastUsed"`
}

type xmlPolicyVersion struct {
	Document         string `xml:"Document"`
	VersionID        string `xml:"VersionId"`
	IsDefaultVersion bool   `xml:"IsDefaultVersion"`
	CreateDate       string `xml:"CreateDate"`
}

type xmlPolicyDetail struct {
	PolicyName        string             `xml:"PolicyName"`
	PolicyID          string             `xml:"PolicyId"`
	Arn               string             `xml:"Arn"`
	Path              string             `xml:"Path"`
	DefaultVersionID  string             `xml:"DefaultVersionId"`
	AttachmentCount   int                `xml:"AttachmentCount"`
	IsAttachable      bool               `xml:"IsAttachable"`
	CreateDate        string             `xml:"CreateDate"`
	UpdateDate        string             `xml:"UpdateDate"`
	PolicyVersionList []xmlPolicyVersion `xml:"PolicyVersionList>member"`
}

// xmlRole is the Role shape of ListRoles and GetRole.
type xmlRole struct {
	Path                     string       `xml:"Path"`
	RoleName                 string       `xml:"RoleName"`
	RoleID                   string       `xml:"RoleId"`
	Arn                      string       `xml:"Arn"`
	CreateDate               string       `xml:"CreateDate"`
	AssumeRolePolicyDocument string       `xml:"AssumeRolePolicyDocument"`
	Description              string       `xml:"Description,omitempty"`
	MaxSessionDuration       int32        `xml:"MaxSessionDuration"`
	Tags                     []xmlTag     `xml:"Tags>member"`
	RoleLastUsed             *xmlLastUsed `xml:"RoleLastUsed"`
}

// encodeDoc URL-encodes a policy document the way IAM returns it.
func encodeDoc(doc string) string {
	return strings.ReplaceAll(url.QueryEscape(doc), "+", "%20")
}

func tags(m map[string]string) []xmlTag {
	var out []xmlTag
	for _, k := range sortedKeys(m) {
		out = append(out, xmlTag{k, m[k]})
	}
	return out
}

func inline(m map[string]string) []xmlInline {
	var out []xmlInline
	for _, k := range sortedKeys(m) {
		out = append(out, xmlInline{k, encodeDoc(m[k])})
	}
	return out
}

func refs(arns []string) []xmlPolicyRef {
	var out []xmlPolicyRef
	for _, a := range arns {
		out = append(out, xmlPolicyRef{PolicyName: a[strings.LastIndex(a, "/")+1:], PolicyArn: a})
	}
	return out
}

func arn(account, typ, path, name string) string {
	return "arn:aws:iam::" + account + ":" + typ + orSlash(path) + name
}

func (r *Role) lastUsed() *xmlLastUsed {
	if r.LastUsed == nil {
		return &xmlLastUsed{}
	}
	return &xmlLastUsed{LastUsedDate: ts(*r.LastUsed), Region: r.LastRegion}
}

func (r *Role) xml(account string, withLastUsed bool) xmlRole {
	x := xmlRole{
		Path: orSlash(r.Path), RoleName: r.Name, RoleID: r.ID, Arn: arn(account, "role", r.Path, r.Name),
		CreateDate: ts(r.Created), AssumeRolePolicyDocument: encodeDoc(r.Trust), Description: r.Description,
		MaxSessionDuration: r.MaxSession, Tags: tags(r.Tags),
	}
	if withLastUsed {
		x.RoleLastUsed = r.lastUsed()
	}
	return x
}

func (s *Server) serveIAM(w http.ResponseWriter, accountID, action string, form url.Values) {
	a := s.org.Account(accountID)
	switch action {
	case "GetAccountAuthorizationDetails":
		s.authorizationDetails(w, a, form)
	case "GenerateCredentialReport":
		s.mu.Lock()
		rep := s.reports[a.ID]
		if rep == nil {
			rep = &report{}
			s.reports[a.ID] = rep
		}
		state, desc := "COMPLETE", "Report generated"
		switch {
		case !rep.started, rep.done && s.Clock().Sub(rep.at) > reportFresh:
			*rep = report{started: true, pending: s.reportSteps}
			state, desc = "STARTED", "No report exists. Starting a new report generation task"
		case rep.pending > 0:
			rep.pending--
			state, desc = "INPROGRESS", "Report generation in progress"
		default:
			if !rep.done {
				rep.done, rep.at = true, s.Clock()
				rep.content = credentialReport(a, rep.at)
			}
		}
		s.mu.Unlock()
		type result struct {
			XMLName     xml.Name `xml:"GenerateCredentialReportResult"`
			State       string   `xml:"State"`
			Description string   `xml:"Description"`
		}
		queryResult(w, iamNS, action, result{State: state, Description: desc})
	case "GetCredentialReport":
		s.mu.Lock()
		var r report
		if rep := s.reports[a.ID]; rep != nil {
			r = *rep
		}
		expired := s.expireReport[a.ID] && r.done
		if expired {
			delete(s.expireReport, a.ID)
			delete(s.reports, a.ID)
		}
		s.mu.Unlock()
		rep := &r
		switch {
		case expired:
			queryError(w, http.StatusGone, "ReportExpired", "The request was rejected because the most recent credential report has expired. To generate a new credential report, use GenerateCredentialReport.")
			return
		case !rep.started:
			queryError(w, http.StatusGone, "ReportNotPresent", "Credential report does not exist. Use GenerateCredentialReport to generate a report.")
			return
		case !rep.done:
			queryError(w, http.StatusNotFound, "ReportInProgress", "Credential report is being generated.")
			return
		}
		type result struct {
			XMLName       xml.Name `xml:"GetCredentialReportResult"`
			Content       string   `xml:"Content"`
			ReportFormat  string   `xml:"ReportFormat"`
			GeneratedTime string   `xml:"GeneratedTime"`
		}
		content := rep.content
		s.mu.Lock()
		edit := s.reportEdit
		s.mu.Unlock()
		if edit != nil {
			content = edit(content)
		}
		queryResult(w, iamNS, action, result{Content: base64.StdEncoding.EncodeToString(content), ReportFormat: "text/csv", GeneratedTime: ts(rep.at)})
	case "ListAccessKeys":
		u := a.user(form.Get("UserName"))
		if u == nil {
			queryError(w, http.StatusNotFound, "NoSuchEntity", "The user with name "+form.Get("UserName")+" cannot be found.")
			return
		}
		type meta struct {
			UserName    string `xml:"UserName"`
			AccessKeyID string `xml:"AccessKeyId"`
			Status      string `xml:"Status"`
			CreateDate  string `xml:"CreateDate"`
		}
		lo, hi, next := s.page(len(u.Keys), form.Get("Marker"), form.Get("MaxItems"))
		var out struct {
			XMLName     xml.Name `xml:"ListAccessKeysResult"`
			Keys        []meta   `xml:"AccessKeyMetadata>member"`
			IsTruncated bool     `xml:"IsTruncated"`
			Marker      string   `xml:"Marker,omitempty"`
		}
		for _, k := range u.Keys[lo:hi] {
			out.Keys = append(out.Keys, meta{u.Name, k.ID, k.Status, ts(k.Created)})
		}
		out.IsTruncated, out.Marker = next != "", s.marker(next)
		queryResult(w, iamNS, action, out)
	case "GetAccessKeyLastUsed":
		for _, u := range a.Users {
			for _, k := range u.Keys {
				if k.ID != form.Get("AccessKeyId") {
					continue
				}
				type result struct {
					XMLName  xml.Name `xml:"GetAccessKeyLastUsedResult"`
					UserName string   `xml:"UserName"`
					Date     string   `xml:"AccessKeyLastUsed>LastUsedDate,omitempty"`
					Service  string   `xml:"AccessKeyLastUsed>ServiceName"`
					Region   string   `xml:"AccessKeyLastUsed>Region"`
				}
				res := result{UserName: u.Name, Service: "N/A", Region: "N/A"}
				if k.LastUsed != nil {
					res.Date, res.Service, res.Region = ts(*k.LastUsed), k.Service, k.Region
				}
				queryResult(w, iamNS, action, res)
				return
			}
		}
		queryError(w, http.StatusNotFound, "NoSuchEntity", "The Access Key with id "+form.Get("AccessKeyId")+" cannot be found")
	case "ListUsers":
		type user struct {
			Path             string   `xml:"Path"`
			UserName         string   `xml:"UserName"`
			UserID           string   `xml:"UserId"`
			Arn              string   `xml:"Arn"`
			CreateDate       string   `xml:"CreateDate"`
			PasswordLastUsed string   `xml:"PasswordLastUsed,omitempty"`
			Tags             []xmlTag `xml:"Tags>member"`
		}
		lo, hi, next := s.page(len(a.Users), form.Get("Marker"), form.Get("MaxItems"))
		var out struct {
			XMLName     xml.Name `xml:"ListUsersResult"`
			Users       []user   `xml:"Users>member"`
			IsTruncated bool     `xml:"IsTruncated"`
			Marker      string   `xml:"Marker,omitempty"`
		}
		for _, u := range a.Users[lo:hi] {
			x := user{Path: orSlash(u.Path), UserName: u.Name, UserID: u.ID, Arn: arn(a.ID, "user", u.Path, u.Name), CreateDate: ts(u.Created)}
			if u.PasswordLastUsed != nil {
				x.PasswordLastUsed = ts(*u.PasswordLastUsed)
			}
			// ListUsers does not return tags (AWS: use ListUserTags).
			out.Users = append(out.Users, x)
		}
		out.IsTruncated, out.Marker = next != "", s.marker(next)
		queryResult(w, iamNS, action, out)
	case "ListUserTags":
		// The tags ListUsers leaves out, sorted by key as AWS returns them.
		u := a.user(form.Get("UserName"))
		if u == nil {
			queryError(w, http.StatusNotFound, "NoSuchEntity", "The user with name "+form.Get("UserName")+" cannot be found.")
			return
		}
		all := tags(u.Tags)
		lo, hi, next := s.page(len(all), form.Get("Marker"), form.Get("MaxItems"))
		var out struct {
			XMLName     xml.Name `xml:"ListUserTagsResult"`
			Tags        []xmlTag `xml:"Tags>member"`
			IsTruncated bool     `xml:"IsTruncated"`
			Marker      string   `xml:"Marker,omitempty"`
		}
		out.Tags = all[lo:hi]
		out.IsTruncated, out.Marker = next != "", s.marker(next)
		queryResult(w, iamNS, action, out)
	case "ListRoles":
		lo, hi, next := s.page(len(a.Roles), form.Get("Marker"), form.Get("MaxItems"))
		var out struct {
			XMLName     xml.Name  `xml:"ListRolesResult"`
			Roles       []xmlRole `xml:"Roles>member"`
			IsTruncated bool      `xml:"IsTruncated"`
			Marker      string    `xml:"Marker,omitempty"`
		}
		for _, r := range a.Roles[lo:hi] {
			// As on AWS, ListRoles leaves RoleLastUsed (and tags) out: only
			// GetRole and GetAccountAuthorizationDetails return them.
			x := r.xml(a.ID, false)
			x.Tags = nil
			out.Roles = append(out.Roles, x)
		}
		out.IsTruncated, out.Marker = next != "", s.marker(next)
		queryResult(w, iamNS, action, out)
	case "GetRole":
		for _, r := range a.Roles {
			if r.Name == form.Get("RoleName") {
				type result struct {
					XMLName xml.Name `xml:"GetRoleResult"`
					Role    xmlRole  `xml:"Role"`
				}
				queryResult(w, iamNS, action, result{Role: r.xml(a.ID, true)})
				return
			}
		}
		queryError(w, http.StatusNotFound, "NoSuchEntity", "The role with name "+form.Get("RoleName")+" cannot be found.")
	case "ListOpenIDConnectProviders":
		type entry struct {
			Arn string `xml:"Arn"`
		}
		var out struct {
			XMLName xml.Name `xml:"ListOpenIDConnectProvidersResult"`
			List    []entry  `xml:"OpenIDConnectProviderList>member"`
		}
		for _, p := range a.OIDC {
			out.List = append(out.List, entry{"arn:aws:iam::" + a.ID + ":oidc-provider/" + p.URL})
		}
		queryResult(w, iamNS, action, out)
	case "GetOpenIDConnectProvider":
		for _, p := range a.OIDC {
			if "arn:aws:iam::"+a.ID+":oidc-provider/"+p.URL == form.Get("OpenIDConnectProviderArn") {
				type result struct {
					XMLName     xml.Name `xml:"GetOpenIDConnectProviderResult"`
					URL         string   `xml:"Url"`
					ClientIDs   []string `xml:"ClientIDList>member"`
					Thumbprints []string `xml:"ThumbprintList>member"`
					CreateDate  string   `xml:"CreateDate"`
					Tags        []xmlTag `xml:"Tags>member"`
				}
				queryResult(w, iamNS, action, result{URL: p.URL, ClientIDs: p.ClientIDs, Thumbprints: p.Thumbprints, CreateDate: ts(p.Created), Tags: tags(p.Tags)})
				return
			}
		}
		queryError(w, http.StatusNotFound, "NoSuchEntity", "OpenIDConnect Provider not found for arn "+form.Get("OpenIDConnectProviderArn"))
	default:
		queryError(w, http.StatusBadRequest, "InvalidAction", "unknown IAM action "+action)
	}
}

func (a *Account) user(name string) *User {
	for _, u := range a.Users {
		if u.Name == name {
			return u
		}
	}
	return nil
}

// authorizationDetails pages through users, groups, roles and customer
// managed policies, in that order, as one list; Filter picks the types.
func (s *Server) authorizationDetails(w http.ResponseWriter, a *Account, form url.Values) {
	want := map[string]bool{}
	for k, v := range form {
		if strings.HasPrefix(k, "Filter.member.") {
			want[v[0]] = true
		}
	}
	all := len(want) == 0
	var items []any
	if all || want["User"] {
		for _, u := range a.Users {
			items = append(items, xmlUserDetail{
				Path: orSlash(u.Path), UserName: u.Name, UserID: u.ID, Arn: arn(a.ID, "user", u.Path, u.Name),
				CreateDate: ts(u.Created), UserPolicyList: inline(u.Inline), GroupList: u.Groups,
				AttachedManagedPolicies: refs(u.Attached), Tags: tags(u.Tags),
			})
		}
	}
	if all || want["Group"] {
		for _, g := range a.Groups {
			items = append(items, xmlGroupDetail{
				Path: orSlash(g.Path), GroupName: g.Name, GroupID: g.ID, Arn: arn(a.ID, "group", g.Path, g.Name),
				CreateDate: ts(g.Created), GroupPolicyList: inline(g.Inline), AttachedManagedPolicies: refs(g.Attached),
			})
		}
	}
	if all || want["Role"] {
		for _, r := range a.Roles {
			items = append(items, xmlRoleDetail{
				Path: orSlash(r.Path), RoleName: r.Name, RoleID: r.ID, Arn: arn(a.ID, "role", r.Path, r.Name),
				CreateDate: ts(r.Created), AssumeRolePolicyDocument: encodeDoc(r.Trust), RolePolicyList: inline(r.Inline),
				AttachedManagedPolicies: refs(r.Attached), Tags: tags(r.Tags), RoleLastUsed: r.lastUsed(),
			})
		}
	}
	if all || want["LocalManagedPolicy"] {
		for _, p := range a.Policies {
			items = append(items, xmlPolicyDetail{
				PolicyName: p.Name, PolicyID: p.ID, Arn: a.PolicyArn(p), Path: orSlash(p.Path), DefaultVersionID: "v1",
				AttachmentCount: 1, IsAttachable: true, CreateDate: ts(p.Created), UpdateDate: ts(p.Created),
				PolicyVersionList: []xmlPolicyVersion{{Document: encodeDoc(p.Document), VersionID: "v1", IsDefaultVersion: true, CreateDate: ts(p.Created)}},
			})
		}
	}
	lo, hi, next := s.page(len(items), form.Get("Marker"), form.Get("MaxItems"))
	var out struct {
		XMLName     xml.Name          `xml:"GetAccountAuthorizationDetailsResult"`
		Users       []xmlUserDetail   `xml:"UserDetailList>member"`
		Groups      []xmlGroupDetail  `xml:"GroupDetailList>member"`
		Roles       []xmlRoleDetail   `xml:"RoleDetailList>member"`
		Policies    []xmlPolicyDetail `xml:"Policies>member"`
		IsTruncated bool              `xml:"IsTruncated"`
		Marker      string            `xml:"Marker,omitempty"`
	}
	for _, it := range items[lo:hi] {
		switch v := it.(type) {
		case xmlUserDetail:
			out.Users = append(out.Users, v)
		case xmlGroupDetail:
			out.Groups = append(out.Groups, v)
		case xmlRoleDetail:
			out.Roles = append(out.Roles, v)
		case xmlPolicyDetail:
			out.Policies = append(out.Policies, v)
		}
	}
	out.IsTruncated, out.Marker = next != "", s.marker(next)
	queryResult(w, iamNS, "GetAccountAuthorizationDetails", out)
}

// reportFresh is how long AWS serves a credential report it generated
// before GenerateCredentialReport starts a new one: until then the report
// says what was true when it was generated, not now.
const reportFresh = 4 * time.Hour

// reportColumns are the credential report's columns, in AWS's order.
var reportColumns = []string{
	"user", "arn", "user_creation_time", "password_enabled", "password_last_used", "password_last_changed",
	"password_next_rotation", "mfa_active",
	"access_key_1_active", "access_key_1_last_rotated", "access_key_1_last_used_date", "access_key_1_last_used_region", "access_key_1_last_used_service",
	"access_key_2_active", "access_key_2_last_rotated", "access_key_2_last_used_date", "access_key_2_last_used_region", "access_key_2_last_used_service",
	"cert_1_active", "cert_1_last_rotated", "cert_2_active", "cert_2_last_rotated",
}

func reportTime(t *time.Time) string {
	if t == nil {
		return "N/A"
	}
	return t.UTC().Format("2006-01-02T15:04:05+00:00")
}

// credentialReport renders the account's credential report CSV: the root
// user first, then every IAM user; a user's first two keys fill the
// access_key_1 and access_key_2 columns.
func credentialReport(a *Account, at time.Time) []byte {
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	_ = cw.Write(reportColumns)
	root := at.AddDate(-5, 0, 0)
	_ = cw.Write([]string{"<root_account>", "arn:aws:iam::" + a.ID + ":root", reportTime(&root), "not_supported", "no_information", "not_supported", "not_supported", "true",
		"false", "N/A", "N/A", "N/A", "N/A", "false", "N/A", "N/A", "N/A", "N/A", "false", "N/A", "false", "N/A"})
	for _, u := range a.Users {
		created := u.Created
		row := []string{u.Name, arn(a.ID, "user", u.Path, u.Name), reportTime(&created), strconv.FormatBool(u.PasswordEnabled)}
		if u.PasswordEnabled {
			last := "no_information"
			if u.PasswordLastUsed != nil {
				last = reportTime(u.PasswordLastUsed)
			}
			row = append(row, last, reportTime(&created), "N/A")
		} else {
			row = append(row, "N/A", "N/A", "N/A")
		}
		row = append(row, strconv.FormatBool(u.MFA))
		for i := range 2 {
			if i >= len(u.Keys) {
				row = append(row, "false", "N/A", "N/A", "N/A", "N/A")
				continue
			}
			k := u.Keys[i]
			created := k.Created
			service, region := "N/A", "N/A"
			if k.LastUsed != nil {
				service, region = k.Service, k.Region
			}
			// AWS: "If the user does not have an active access key, the
			// value in this field is N/A" — an inactive key's slot shows no
			// creation date, like an empty one.
			rotated := reportTime(&created)
			if k.Status != "Active" {
				rotated = "N/A"
			}
			row = append(row, strconv.FormatBool(k.Status == "Active"), rotated, reportTime(k.LastUsed), region, service)
		}
		row = append(row, "false", "N/A", "false", "N/A")
		_ = cw.Write(row)
	}
	cw.Flush()
	return buf.Bytes()
}
