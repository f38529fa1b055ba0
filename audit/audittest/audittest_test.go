package audittest

import (
	"fmt"
	"maps"
	"testing"

	"github.com/nhi-audit/nhi/audit"
)

// DeployKey, built with strconv, gives the observations the fmt version
// gave, so files and figures from before compare.
func TestDeployKeyIsAsFormatted(t *testing.T) {
	for _, i := range []int{0, 1, 4, 5, 9, 10, 96, 97, 98, 4999, 5000, 99_999, 999_999, 1_000_000, 4_999_999, 5_000_000, 12_345_678} {
		got := DeployKey(i)
		repo := fmt.Sprintf("repo-%06d", i/5)
		want := audit.Observation{
			ID:   audit.IdentityID("github", "acme", audit.KindGitHubDeployKey, fmt.Sprintf("%s/%d", repo, i)),
			Kind: audit.KindGitHubDeployKey, Name: fmt.Sprintf("key-%d", i), Scope: "acme/" + repo,
			Permissions: map[string]string{"contents": map[bool]string{true: "read", false: "write"}[i%2 == 0]},
			Attributes:  map[string]string{"added_by": fmt.Sprintf("user%d", i%97), "read_only": fmt.Sprint(i%2 == 0)},
		}
		if got.ID != want.ID || got.Kind != want.Kind || got.Name != want.Name || got.Scope != want.Scope ||
			!maps.Equal(got.Permissions, want.Permissions) || !maps.Equal(got.Attributes, want.Attributes) ||
			!got.CreatedAt.Equal(Created) || !got.RotatedAt.Equal(Created) {
			t.Errorf("DeployKey(%d) = %+v, want %+v", i, got, want)
		}
	}
}
