package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/connectors/aws/awstest"
)

// `nhi snapshot aws` against the fake AWS on loopback, through the built
// binary, configured only by the SDK's standard environment.

func awsEnv(s *awstest.Server) []string {
	var env []string
	for k, v := range s.Env() {
		env = append(env, k+"="+v)
	}
	return env
}

func TestSnapshotAWSOrganisation(t *testing.T) {
	t.Parallel()
	org := awstest.Sample(awstestNow())
	org.Accounts = append(org.Accounts, &awstest.Account{ID: "444444444444", Name: "closed", Status: "SUSPENDED"})
	s := awstest.New(org, awstest.WithReportReady())
	defer s.Close()
	s.Deny(awstest.SampleSandbox, "iam:GenerateCredentialReport")
	db := filepath.Join(t.TempDir(), "nhi.db")
	r := nhi(t, awsEnv(s), "snapshot", "aws", "--org-role", "OrganizationAccountAccessRole", "--db", db)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{
		"of aws/111111111111: complete",
		"of aws/222222222222: complete",
		"Read with: arn:aws:iam::222222222222:role/OrganizationAccountAccessRole (assumed by arn:aws:iam::111111111111:user/nhi-auditor)",
		"of aws/333333333333: partial",
		"iam:GenerateCredentialReport: access denied in account 333333333333: needs iam:GenerateCredentialReport",
		"of aws/444444444444: partial, 0 identities",
		"account 444444444444 is SUSPENDED in the organisation; not read",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	if !strings.Contains(r.stderr, "Reading 4 AWS accounts as arn:aws:iam::111111111111:user/nhi-auditor") {
		t.Errorf("stderr:\n%s", r.stderr)
	}

	r = nhi(t, nil, "identities", "--json", "--db", db, "--filter", "finding:broad-trust")
	if r.code != 0 {
		t.Fatalf("identities: %s", r.stderr)
	}
	var list []struct {
		ID       string `json:"id"`
		Source   string `json:"source"`
		Findings []struct {
			Rule, OWASP string
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, i := range list {
		got = append(got, i.ID+" "+i.Source)
	}
	want := "aws:222222222222:aws_iam_role:github-any-repo aws,aws:222222222222:aws_iam_role:public-reader aws"
	if strings.Join(got, ",") != want {
		t.Errorf("broad-trust identities: %v, want %s", got, want)
	}
	for _, secret := range []string{awstest.BaseSecret, awstest.SessionSecret, awstest.SessionToken} {
		if strings.Contains(r.stdout, secret) || strings.Contains(fileText(t, db), secret) {
			t.Errorf("canary %s leaked", secret)
		}
	}
}

func TestSnapshotAWSBadInput(t *testing.T) {
	t.Parallel()
	r := nhi(t, nil, "snapshot", "aws", "--accounts", "111111111111", "--db", filepath.Join(t.TempDir(), "x.db"))
	if r.code != 2 || !strings.Contains(r.stderr, "--accounts needs --org-role") {
		t.Errorf("--accounts alone: exit %d, %s", r.code, r.stderr)
	}
	s := awstest.New(awstest.Sample(awstestNow()))
	defer s.Close()
	env := append(awsEnv(s), "AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=")
	db := filepath.Join(t.TempDir(), "nhi.db")
	r = nhi(t, env, "snapshot", "aws", "--db", db)
	if r.code != 1 || !strings.Contains(r.stderr, "no usable AWS credentials") || !strings.Contains(r.stderr, "AWS_PROFILE") {
		t.Errorf("no credentials: exit %d, %s", r.code, r.stderr)
	}
	// On a machine whose instance metadata service refuses (403), the
	// SDK's own log line ("SDK 2026/… WARN falling back to IMDSv1: …")
	// came before nhi's: stderr is nhi's words alone.
	imds := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusForbidden) }))
	defer imds.Close()
	r = nhi(t, append(env, "AWS_EC2_METADATA_DISABLED=false", "AWS_EC2_METADATA_SERVICE_ENDPOINT="+imds.URL), "snapshot", "aws", "--db", db)
	if r.code != 1 || !strings.HasPrefix(r.stderr, "nhi: no usable AWS credentials") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("no credentials, the instance metadata service refusing: exit %d, %s", r.code, r.stderr)
	}
	r = nhi(t, awsEnv(s), "snapshot", "aws", "--org-role", "R", "--accounts", "123", "--db", db)
	if r.code != 1 || !strings.Contains(r.stderr, "account 123 is not in the organisation") {
		t.Errorf("unknown account: exit %d, %s", r.code, r.stderr)
	}
	// A mistyped --profile names the profile and the files looked in.
	dir := t.TempDir()
	cfg, creds := filepath.Join(dir, "config"), filepath.Join(dir, "credentials")
	if err := os.WriteFile(cfg, []byte("[profile audit]\nregion = eu-west-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(creds, []byte("[audit]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = nhi(t, append(awsEnv(s), "AWS_CONFIG_FILE="+cfg, "AWS_SHARED_CREDENTIALS_FILE="+creds), "snapshot", "aws", "--profile", "adit", "--db", db)
	if want := `AWS profile "adit" is not in ` + cfg + " or " + creds + ": check --profile"; r.code != 1 || !strings.Contains(r.stderr, want) {
		t.Errorf("unknown profile: exit %d, %s; want %q", r.code, r.stderr, want)
	}
	// None of these created the evidence file.
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Errorf("a run that read nothing created %s (%v)", db, err)
	}
}

func awstestNow() time.Time { return time.Now().UTC().Truncate(24 * time.Hour) }

// fileText is the evidence file and its WAL, as text to search.
func fileText(t *testing.T, db string) string {
	t.Helper()
	var b []byte
	for _, suffix := range []string{"", "-wal"} {
		raw, _ := os.ReadFile(db + suffix)
		b = append(b, raw...)
	}
	if len(b) == 0 {
		t.Fatal("no evidence file")
	}
	return string(b)
}

// A run whose only account failed does not say "the others are saved";
// a run of an organisation where one account failed does.
func TestSnapshotAWSFailedSaysOthersOnlyWhenThereAreOthers(t *testing.T) {
	t.Parallel()
	s := awstest.New(awstest.Sample(awstestNow()), awstest.WithReportReady(), awstest.WithPageSize(3))
	defer s.Close()
	s.LoopPages() // every listing of more than a page loops: the run fails
	db := filepath.Join(t.TempDir(), "nhi.db")
	r := nhi(t, awsEnv(s), "snapshot", "aws", "--db", db)
	if r.code != 1 || !strings.Contains(r.stderr, "the snapshot of account "+awstest.SampleManagement+" failed") || strings.Contains(r.stderr, "others") {
		t.Errorf("the only account failed: exit %d\n%s", r.code, r.stderr)
	}
	r = nhi(t, awsEnv(s), "snapshot", "aws", "--org-role", "OrganizationAccountAccessRole", "--db", db)
	if r.code != 1 || !strings.Contains(r.stderr, "failed (111111111111, 222222222222); the others are saved") {
		t.Errorf("some accounts failed: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
