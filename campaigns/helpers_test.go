package campaigns_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
	"github.com/nhi-audit/nhi/internal/pgtest"
)

// The campaigns' tests run on SQLite and on PostgreSQL; the server is one
// per test binary, stopped here.
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

var ctx = context.Background()

// fixture is an evidence file with a clock at 2026-10-01 noon.
type fixture = campaignstest.Evidence

func newFixture(t testing.TB) *fixture { return campaignstest.New(t, "2026-10-01T12:00:00Z") }

// newFixtureOn is newFixture on engine eng.
func newFixtureOn(t testing.TB, eng campaignstest.Engine) *fixture {
	return campaignstest.NewOn(t, eng, "2026-10-01T12:00:00Z")
}

// key is a deploy key of repo acme/<repo>, added by addedBy. Its key was
// created in 2024, so it is unrotated; never used, so stale.
func key(repo, n, addedBy string) audit.Observation {
	return audit.Observation{
		ID: audit.IdentityID("github", "acme", audit.KindGitHubDeployKey, repo+"/"+n), Kind: audit.KindGitHubDeployKey,
		Name: "key-" + n, Scope: "acme/" + repo,
		CreatedAt: campaignstest.TimeP("2024-01-02T03:04:05Z"), RotatedAt: campaignstest.TimeP("2024-01-02T03:04:05Z"),
		Permissions: map[string]string{"contents": "read"},
		Attributes:  map[string]string{"added_by": addedBy, "read_only": "true"},
	}
}

// keys are n deploy keys added by addedBy, five a repository (repo-0000,
// repo-0001, ...): a population for the tests of what a command holds
// at once.
func keys(n int, addedBy string) []audit.Observation {
	obs := make([]audit.Observation, n)
	for i := range obs {
		obs[i] = key(fmt.Sprintf("repo-%04d", i/5), fmt.Sprint(i), addedBy)
	}
	return obs
}

// secret is a repository Actions secret rotated recently: no findings.
func secret(repo, name string) audit.Observation {
	return audit.Observation{
		ID: audit.IdentityID("github", "acme", audit.KindGitHubActionsSecret, repo+"/"+name), Kind: audit.KindGitHubActionsSecret,
		Name: name, Scope: "acme/" + repo,
		CreatedAt: campaignstest.TimeP("2026-09-01T00:00:00Z"), RotatedAt: campaignstest.TimeP("2026-09-01T00:00:00Z"),
	}
}

// population is six deploy keys over three repositories and two secrets.
func population() []audit.Observation {
	return []audit.Observation{
		key("api", "1", "alice"), key("api", "2", "bob"), key("web", "3", "carol"),
		key("web", "4", "alice"), key("ops", "5", "dave"), key("ops", "6", ""),
		secret("api", "NPM_TOKEN"), secret("web", "SENTRY_DSN"),
	}
}

func keyID(repo, n string) string {
	return audit.IdentityID("github", "acme", audit.KindGitHubDeployKey, repo+"/"+n)
}
