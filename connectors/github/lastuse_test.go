package github_test

import (
	"context"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/connectors/github/githubtest"
)

// A deploy key's last_used is not required by GitHub's description: one
// served without it (an older GitHub Enterprise Server, or GitHub leaving
// it out) has its last use not reported, never "never used", while one
// served with "last_used": null was never used. Both are read through
// the real client into the store.
func TestDeployKeyWithoutLastUsedIsNotNeverUsed(t *testing.T) {
	o := smallOrg()
	api := o.Repo("api")
	api.DeployKeys = []githubtest.DeployKey{
		{ID: 211, Title: "left-out", Key: testKey, ReadOnly: true, Verified: true, Enabled: true, CreatedAt: at("2020-06-01T00:00:00Z"), LastUsedLeftOut: true},
		{ID: 212, Title: "null", Key: testKey, ReadOnly: true, Verified: true, Enabled: true, CreatedAt: at("2020-06-01T00:00:00Z")},
		{ID: 213, Title: "used", Key: testKey, ReadOnly: true, Verified: true, Enabled: true, CreatedAt: at("2020-06-01T00:00:00Z"),
			LastUsed: tp("2024-01-01T00:00:00Z"), LastUsedLeftOut: false},
	}
	s := githubtest.NewServer(o, withApp(t))
	defer s.Close()
	st, _ := tempStore(t)
	if _, _, err := snapshot(t, context.Background(), st, "acme", appOptions(t, s)); err != nil {
		t.Fatal(err)
	}
	ids, err := st.Identities(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, id := range ids {
		if id.Kind != audit.KindGitHubDeployKey {
			continue
		}
		seen++
		never := audit.ReportsLastUse(id.Kind, id.Attributes[audit.AttrLastUseUnknown]) && id.LastUsedAt == nil
		stale := ""
		for _, f := range id.Findings {
			if f.Rule == audit.RuleStale {
				stale = f.Message
			}
		}
		switch id.Name {
		case "left-out":
			if never || strings.Contains(stale, "never used") {
				t.Errorf("a key served without last_used reads as never used (finding %q, attributes %v)", stale, id.Attributes)
			}
		case "null":
			if !never || !strings.Contains(stale, "never used") {
				t.Errorf(`a key served with "last_used": null does not read as never used (finding %q, attributes %v)`, stale, id.Attributes)
			}
		case "used":
			if id.LastUsedAt == nil || !id.LastUsedAt.Equal(at("2024-01-01T00:00:00Z")) || id.Attributes[audit.AttrLastUseUnknown] != "" {
				t.Errorf("a key last used 2024-01-01 reads %v (attributes %v)", id.LastUsedAt, id.Attributes)
			}
		}
	}
	if seen != 3 {
		t.Fatalf("%d deploy keys recorded; want 3", seen)
	}
}
