package campaigns_test

import (
	"crypto/ed25519"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
	"github.com/nhi-audit/nhi/sshsig"
	"golang.org/x/crypto/ssh"
)

// testSigningKey is an Ed25519 key made from seed, as a reviewer's
// private key file would hold it.
func testSigningKey(t *testing.T, seed byte) *sshsig.SigningKey {
	t.Helper()
	priv := ed25519.NewKeyFromSeed([]byte(strings.Repeat(string(rune('a'+seed)), ed25519.SeedSize)))
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "id_ed25519")
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	k, err := sshsig.LoadSigningKey(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// A campaign created with --require-signed takes no unsigned approval of
// an exception through nhi (rule unsigned), as it takes no unsigned
// decision. One written around nhi — a decision.approve event in the
// approver's own name, unsigned: anyone who writes an evidence file
// can, and on PostgreSQL the approver with psql — approves nothing, and
// nhi verify names the event, as it names an unsigned decision. Before,
// the exception read as approved and verify passed.
func TestVerifyFailsAnUnsignedApprovalWhereSignaturesAreRequired(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		e := newFixtureOn(t, eng)
		st := e.Store
		people(t, st)
		setPolicy(t, st, "version: 1\nexception_approval: required\n")
		carolKey, daveKey := testSigningKey(t, 2), testSigningKey(t, 3)
		if _, err := st.SetPeople(ctx, "admin@acme.com", audit.PeopleImport{People: []audit.Person{
			{Email: "carol@acme.com", Name: "Carol", GitHub: "carol", Status: audit.PersonActive, SigningKey: carolKey.Public.Authorized},
			{Email: "dave@acme.com", Name: "Dave", GitHub: "dave", Status: audit.PersonActive, SigningKey: daveKey.Public.Authorized},
		}}, false); err != nil {
			t.Fatal(err)
		}
		e.Snapshot(t, nil, population()...)
		if _, err := campaigns.Create(ctx, st, "admin@acme.com", campaigns.Spec{Name: "Q4", Scope: "kind:github_deploy_key", Due: "2026-10-31",
			Reviewers: []string{"carol@acme.com", "dave@acme.com"}, RequireSigned: true}); err != nil {
			t.Fatal(err)
		}
		api1 := keyID("api", "1")
		o, err := campaigns.Decide(campaigns.SignWith(ctx, carolKey, nil), st, "carol@acme.com", "Q4", api1, campaigns.Keep, "needed by CI")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := campaigns.ApproveException(ctx, st, "dave@acme.com", "Q4", api1); !errors.Is(err, campaigns.ErrSignature) {
			t.Fatalf("an unsigned approval through nhi: %v; want ErrSignature", err)
		}
		seq := writeApproval(t, st, "dave@acme.com", "Q4", api1, o.Event.Seq, o.ExceptionExpires)
		xs, err := campaigns.Exceptions(ctx, st, "Q4", 0)
		if err != nil {
			t.Fatal(err)
		}
		if x := xs[api1]; x.State != campaigns.ExceptionAwaiting || x.ApprovedBy != "" {
			t.Errorf("api/1 approved unsigned: %s by %q; want still awaiting approval", x.State, x.ApprovedBy)
		}
		wantWhy := fmt.Sprintf("event %d's approval by dave@acme.com approves nothing: it is not signed, and the campaign requires signed decisions; nhi refuses such an approval (rule unsigned)", seq)
		if n := xs[api1].NotApproved; n == nil || n.String() != wantWhy {
			t.Errorf("api/1's unsigned approval: %v; want %q", n, wantWhy)
		}
		problems, err := campaigns.Verify(ctx, st)
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("event %d (decision.approve by dave@acme.com) approves the exception on %s in campaign Q4, which requires signed decisions, and is not signed", seq, api1)
		if len(problems) != 1 || !strings.Contains(problems[0], want) {
			t.Errorf("verify after an unsigned approval: %q; want one problem saying %q", problems, want)
		}
		// A signed one, through nhi, approves it, and verify names the
		// unsigned one only.
		if _, err := campaigns.ApproveException(campaigns.SignWith(ctx, daveKey, nil), st, "dave@acme.com", "Q4", api1); err != nil {
			t.Fatal(err)
		}
		if problems, err := campaigns.Verify(ctx, st); err != nil || len(problems) != 1 {
			t.Errorf("verify after a signed approval too: %q %v; want the unsigned one's problem only", problems, err)
		}
		xs, err = campaigns.Exceptions(ctx, st, "Q4", 0)
		if err != nil {
			t.Fatal(err)
		}
		if x := xs[api1]; x.State != campaigns.ExceptionApproved || x.ApprovedBy != "dave@acme.com" || x.NotApproved != nil {
			t.Errorf("api/1 after a signed approval: %s by %q (%v); want approved by dave, nothing said against it", x.State, x.ApprovedBy, x.NotApproved)
		}
	})
}
