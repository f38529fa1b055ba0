package githubtest_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/connectors/github/githubtest"
)

func TestSampleOrgDeterministic(t *testing.T) {
	a, b := githubtest.SampleOrg(40), githubtest.SampleOrg(40)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("SampleOrg(40) differs between two calls")
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(githubtest.SampleOrgAt(40, githubtest.Reference))
	if string(ja) != string(jb) {
		t.Fatal("SampleOrg(40) != SampleOrgAt(40, Reference)")
	}
	// Another "now" moves every timestamp by the same amount.
	later := githubtest.SampleOrgAt(40, githubtest.Reference.Add(24*time.Hour))
	if d := later.Repos[3].CreatedAt.Sub(a.Repos[3].CreatedAt); d != 24*time.Hour {
		t.Errorf("repo created shifted by %v", d)
	}
	if later.Repos[3].Name != a.Repos[3].Name || len(later.Repos[3].Secrets) != len(a.Repos[3].Secrets) {
		t.Error("content changed with the reference time")
	}
}

// TestSampleOrgPrefixStable: repository i does not depend on the total.
func TestSampleOrgPrefixStable(t *testing.T) {
	small, big := githubtest.SampleOrg(40), githubtest.SampleOrg(400)
	for i, r := range small.Repos {
		b := big.Repos[i]
		if r.Name != b.Name || r.ID != b.ID || !reflect.DeepEqual(r.Secrets, b.Secrets) ||
			!reflect.DeepEqual(r.Hooks, b.Hooks) || len(r.DeployKeys) != len(b.DeployKeys) {
			t.Fatalf("repo %d differs: %s vs %s", i, r.Name, b.Name)
		}
	}
}

// TestSampleOrgScale checks the mix at demo scale; how long generating it
// takes is BenchmarkSampleOrg10000's business, not a test's.
func TestSampleOrgScale(t *testing.T) {
	o := githubtest.SampleOrg(10000)
	total := 0
	for _, n := range o.Counts() {
		total += n
	}
	if per := float64(total) / 10000; per < 4 || per > 6 {
		t.Errorf("%.2f identities per repository, want about 5", per)
	}
	t.Logf("SampleOrg(10000): %d identities %v", total, o.Counts())
	t.Logf("SampleOrg(40): %v", githubtest.SampleOrg(40).Counts())
}

func TestSampleOrgInvariants(t *testing.T) {
	for _, n := range []int{0, 1, 40, 2000} {
		o := githubtest.SampleOrg(n)
		now := githubtest.Reference
		if len(o.Repos) != n {
			t.Fatalf("%d repos, want %d", len(o.Repos), n)
		}
		before := func(what string, ts ...time.Time) {
			for _, x := range ts {
				if x.IsZero() || x.After(now) || x.Before(o.CreatedAt.AddDate(-1, 0, 0)) {
					t.Errorf("n=%d %s: timestamp %v out of range", n, what, x)
				}
			}
		}
		members := map[string]bool{}
		for _, m := range o.Members {
			if members[m] {
				t.Errorf("member %s twice", m)
			}
			members[m] = true
		}
		for _, f := range o.FormerMembers {
			if members[f] {
				t.Errorf("former member %s is a member", f)
			}
		}
		ids := map[string]bool{}
		uniq := func(kind string, id int64) {
			k := fmt.Sprintf("%s:%d", kind, id)
			if ids[k] {
				t.Errorf("n=%d: %s id %d twice", n, kind, id)
			}
			ids[k] = true
		}
		names := map[string]bool{}
		secret := func(scope string, s githubtest.Secret) {
			before(scope+"/"+s.Name, s.CreatedAt, s.UpdatedAt)
			if s.UpdatedAt.Before(s.CreatedAt) {
				t.Errorf("%s/%s updated before created", scope, s.Name)
			}
		}
		hook := func(h githubtest.Hook) {
			uniq("hook", h.ID)
			before("hook", h.CreatedAt, h.UpdatedAt)
			if h.Secret != "" && !strings.HasPrefix(h.Secret, "CANARY-hook-secret-") {
				t.Errorf("hook %d secret %q is not a canary", h.ID, h.Secret)
			}
			if h.InsecureSSL != "0" && h.InsecureSSL != "1" {
				t.Errorf("hook %d insecure_ssl %q", h.ID, h.InsecureSSL)
			}
		}
		for _, r := range o.Repos {
			if names[r.Name] || r.Name == "" {
				t.Errorf("repo name %q twice", r.Name)
			}
			names[r.Name] = true
			uniq("repo", r.ID)
			before(r.Name, r.CreatedAt, r.PushedAt)
			for _, k := range r.DeployKeys {
				uniq("key", k.ID)
				before("key", k.CreatedAt)
				if k.LastUsed != nil {
					before("key last used", *k.LastUsed)
					if k.LastUsed.Before(k.CreatedAt) {
						t.Errorf("key %d used before created", k.ID)
					}
				}
				f := strings.Fields(k.Key)
				if len(f) != 2 {
					t.Fatalf("key %q", k.Key)
				}
				if _, err := base64.StdEncoding.DecodeString(f[1]); err != nil {
					t.Errorf("key %d: %v", k.ID, err)
				}
			}
			for _, s := range r.Secrets {
				secret(r.Name, s)
			}
			for _, h := range r.Hooks {
				hook(h)
			}
			for _, rn := range r.Runners {
				uniq("runner", rn.ID)
			}
		}
		for _, in := range o.Installations {
			uniq("installation", in.ID)
			before(in.AppSlug, in.CreatedAt, in.UpdatedAt)
		}
		for _, s := range o.Secrets {
			secret("org", s)
			for _, sel := range s.SelectedRepos {
				if !names[sel] {
					t.Errorf("org secret %s selects unknown repo %s", s.Name, sel)
				}
			}
		}
		for _, h := range o.Hooks {
			hook(h)
		}
		for _, rn := range o.Runners {
			uniq("runner", rn.ID)
		}
	}
}

// TestSampleOrgMix checks the demo has something for every finding to find.
func TestSampleOrgMix(t *testing.T) {
	o := githubtest.SampleOrg(githubtest.DefaultSampleRepos)
	now := githubtest.Reference
	former := map[string]bool{}
	for _, f := range o.FormerMembers {
		former[f] = true
	}
	var (
		suspended, allRepos, writeKeys, neverUsed, usedLongAgo, byFormer, fresh bool
		oldSecret, freshSecret, visAll, noSecret, insecure, inactive, offline   bool
		withSecret                                                              bool
	)
	for _, in := range o.Installations {
		suspended = suspended || in.SuspendedAt != nil
		allRepos = allRepos || (in.RepositorySelection == "all" && in.Permissions["contents"] == "write")
	}
	for _, s := range o.Secrets {
		visAll = visAll || s.Visibility == "all"
	}
	hooks := append([]githubtest.Hook(nil), o.Hooks...)
	runners := append([]githubtest.Runner(nil), o.Runners...)
	for _, r := range o.Repos {
		for _, k := range r.DeployKeys {
			writeKeys = writeKeys || !k.ReadOnly
			neverUsed = neverUsed || k.LastUsed == nil
			usedLongAgo = usedLongAgo || (k.LastUsed != nil && k.LastUsed.Before(now.AddDate(-1, 0, 0)))
			fresh = fresh || (k.LastUsed != nil && k.LastUsed.After(now.AddDate(0, 0, -30)))
			byFormer = byFormer || former[k.AddedBy]
		}
		for _, s := range r.Secrets {
			oldSecret = oldSecret || s.UpdatedAt.Before(now.AddDate(-2, 0, 0))
			freshSecret = freshSecret || s.UpdatedAt.After(now.AddDate(0, 0, -90))
		}
		hooks = append(hooks, r.Hooks...)
		runners = append(runners, r.Runners...)
	}
	for _, h := range hooks {
		noSecret = noSecret || h.Secret == ""
		withSecret = withSecret || h.Secret != ""
		insecure = insecure || h.InsecureSSL == "1"
		inactive = inactive || !h.Active
	}
	for _, r := range runners {
		offline = offline || r.Status == "offline"
	}
	for name, ok := range map[string]bool{
		"suspended app": suspended, "app writing to all repos": allRepos, "write deploy key": writeKeys,
		"never-used key": neverUsed, "key used >1y ago": usedLongAgo, "recently used key": fresh,
		"key added by former member": byFormer, "secret unrotated >2y": oldSecret, "fresh secret": freshSecret,
		"org secret visible to all": visAll, "hook without secret": noSecret, "hook with secret": withSecret,
		"hook without TLS verification": insecure, "inactive hook": inactive, "offline runner": offline,
	} {
		if !ok {
			t.Errorf("SampleOrg(40) has no %s", name)
		}
	}
	if c := o.Counts(); c[audit.KindGitHubAppInstallation] == 0 || c[audit.KindGitHubDeployKey] == 0 {
		t.Errorf("counts %v", c)
	}
}

func BenchmarkSampleOrg10000(b *testing.B) {
	for b.Loop() {
		githubtest.SampleOrg(10000)
	}
}

// TestSampleOrgMoreKinds: the sample has every kind, with something for
// each finding to find, and context that names current members.
func TestSampleOrgMoreKinds(t *testing.T) {
	for _, n := range []int{githubtest.DefaultSampleRepos, 2000} {
		o := githubtest.SampleOrg(n)
		now := githubtest.Reference
		members := map[string]bool{}
		for _, m := range o.Members {
			members[m] = true
		}
		for _, a := range o.Admins {
			if !members[a] {
				t.Errorf("n=%d: admin %s is not a member", n, a)
			}
		}
		var noExpiry, expired, expiring, neverUsed, adminScope, sshKey, envSecret, adminTeam, codeowners bool
		for _, p := range o.FineGrainedPATs {
			if !members[p.Owner] || p.AccessGrantedAt.After(now) {
				t.Errorf("n=%d: PAT %d owner %s granted %v", n, p.ID, p.Owner, p.AccessGrantedAt)
			}
			if p.TokenLastUsedAt != nil && (p.TokenLastUsedAt.Before(p.AccessGrantedAt) || p.TokenLastUsedAt.After(now)) {
				t.Errorf("n=%d: PAT %d used %v", n, p.ID, p.TokenLastUsedAt)
			}
			if p.TokenExpired != (p.TokenExpiresAt != nil && p.TokenExpiresAt.Before(now)) {
				t.Errorf("n=%d: PAT %d token_expired %v, expires %v", n, p.ID, p.TokenExpired, p.TokenExpiresAt)
			}
			noExpiry = noExpiry || p.TokenExpiresAt == nil
			expired = expired || p.TokenExpired
			expiring = expiring || (p.TokenExpiresAt != nil && p.TokenExpiresAt.After(now) && p.TokenExpiresAt.Before(now.AddDate(0, 0, 14)))
			neverUsed = neverUsed || p.TokenLastUsedAt == nil
		}
		for _, c := range o.CredentialAuthorizations {
			if !members[c.Login] || c.AuthorizedAt.After(now) || (c.AccessedAt != nil && c.AccessedAt.Before(c.AuthorizedAt)) {
				t.Errorf("n=%d: credential %d: %+v", n, c.CredentialID, c)
			}
			for _, s := range c.Scopes {
				adminScope = adminScope || s == "admin:org"
			}
			sshKey = sshKey || (c.CredentialType == "SSH key" && c.Fingerprint != "" && c.TokenLastEight == "")
		}
		for _, r := range o.Repos {
			for _, e := range r.Environments {
				envSecret = envSecret || len(e.Secrets) > 0
				for _, s := range e.Secrets {
					if s.UpdatedAt.Before(s.CreatedAt) || s.UpdatedAt.After(now) {
						t.Errorf("n=%d: %s/%s/%s times", n, r.Name, e.Name, s.Name)
					}
				}
			}
			for _, tm := range r.Teams {
				adminTeam = adminTeam || tm.Permission == "admin"
			}
			if r.CodeOwners != nil {
				codeowners = true
				if !strings.Contains(r.CodeOwners.Content, "*       @northwind/") {
					t.Errorf("n=%d: %s CODEOWNERS %q", n, r.Name, r.CodeOwners.Content)
				}
			}
		}
		if !o.SAML || len(o.PATRequests) == 0 {
			t.Errorf("n=%d: SAML %v, %d PAT requests", n, o.SAML, len(o.PATRequests))
		}
		for name, ok := range map[string]bool{
			"PAT without expiry": noExpiry, "expired PAT": expired, "PAT expiring within 14 days": expiring, "never-used PAT": neverUsed,
			"SSO token with admin:org": adminScope, "SSO SSH key": sshKey, "environment secret": envSecret,
			"team with admin": adminTeam, "CODEOWNERS": codeowners,
		} {
			if !ok {
				t.Errorf("SampleOrg(%d) has no %s", n, name)
			}
		}
	}
}
