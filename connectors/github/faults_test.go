package github_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/connectors"
	ghconn "github.com/nhi-audit/nhi/connectors/github"
	"github.com/nhi-audit/nhi/connectors/github/githubtest"
)

// Every fault a user meets, injected in the fake: what the run does, what
// it says, and what it keeps.

func TestBadCredentials(t *testing.T) {
	s := githubtest.NewServer(smallOrg(), withApp(t))
	defer s.Close()
	for _, token := range []string{"", "ghp_wrong"} {
		rec, err := runToken(t, s, "acme", token)
		if !errors.Is(err, ghconn.ErrBadCredentials) {
			t.Fatalf("token %q: err = %v", token, err)
		}
		for _, want := range []string{"the token was rejected", "401 Bad credentials", "GITHUB_TOKEN", "GH_TOKEN", "gh auth login"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q lacks %q", err, want)
			}
		}
		if len(rec.obs)+len(rec.gaps) != 0 {
			t.Errorf("recorded %d observations, %d gaps", len(rec.obs), len(rec.gaps))
		}
	}
	// A 401 later in the run (token revoked mid-way) is just as fatal.
	s.Fail("/repos/acme/api/hooks", http.StatusUnauthorized)
	if _, err := run(t, s, "acme"); !errors.Is(err, ghconn.ErrBadCredentials) || !strings.Contains(err.Error(), "GET /repos/acme/api/hooks") {
		t.Errorf("401 mid-run: %v", err)
	}
	s.ClearFaults()

	// An App whose key is not the one GitHub knows.
	_, otherPEM, err := githubtest.NewAppKey(1024)
	if err != nil {
		t.Fatal(err)
	}
	opts := appOptions(t, s)
	opts.App.PrivateKey = otherPEM
	rec, err := runWith(t, "acme", opts)
	if !errors.Is(err, ghconn.ErrBadCredentials) || !strings.Contains(err.Error(), "--app-key") || len(rec.obs) != 0 {
		t.Errorf("wrong App key: %v", err)
	}
	opts = appOptions(t, s)
	opts.App.InstallationID = 999
	if _, err := runWith(t, "acme", opts); err == nil || !strings.Contains(err.Error(), "installation 999") || !strings.Contains(err.Error(), "--installation-id") {
		t.Errorf("wrong installation: %v", err)
	}
	// Without an installation ID it is looked up.
	opts = appOptions(t, s)
	opts.App.InstallationID = 0
	if rec, err := runWith(t, "acme", opts); err != nil || len(rec.gaps) != 0 {
		t.Errorf("looking up the installation: %v %v", err, rec.gapEndpoints())
	}
}

func TestUnknownOrg(t *testing.T) {
	s := githubtest.NewServer(smallOrg(), withApp(t))
	defer s.Close()
	rec, err := run(t, s, "nope")
	if !errors.Is(err, ghconn.ErrOrgNotFound) {
		t.Fatalf("err = %v", err)
	}
	want := fmt.Sprintf("organization %q not found at %s: GitHub answered 404 Not Found, as it does too for an organization the credential may not see; check --org", "nope", s.URL())
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q lacks %q", err, want)
	}
	if len(rec.obs)+len(rec.gaps) != 0 {
		t.Errorf("recorded %d observations, %d gaps for a missing org", len(rec.obs), len(rec.gaps))
	}
	// Into an evidence file: no snapshot opens, no event is written, for
	// a run that could learn nothing.
	st, _ := tempStore(t)
	snap, _, err := snapshot(t, context.Background(), st, "nope", ghconn.Options{APIURL: s.URL(), Token: s.Token(), HTTPClient: s.Client()})
	var notStarted *connectors.NotStartedError
	if snap != nil || !errors.As(err, &notStarted) || !errors.Is(err, ghconn.ErrOrgNotFound) {
		t.Errorf("snapshot of a missing org: %v, %v; want no snapshot and a NotStartedError", snap, err)
	}
	var snaps, events int
	if err := st.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM snapshots), (SELECT count(*) FROM events)`).Scan(&snaps, &events); err != nil {
		t.Fatal(err)
	}
	if snaps+events != 0 {
		t.Errorf("a missing org left %d snapshots and %d events", snaps, events)
	}
	// An App looking up its installation meets the same 404 first.
	if _, err := runWith(t, "nope", func() ghconn.Options { o := appOptions(t, s); o.App.InstallationID = 0; return o }()); err == nil ||
		!strings.Contains(err.Error(), `is not installed on organization "nope" (GitHub answered 404 Not Found, as it does for an organization that does not exist): check --org`) {
		t.Errorf("an App's lookup on a missing org: %v", err)
	}
	// The repository list vanishing is the same failure.
	s.Fail("/orgs/acme/repos", http.StatusNotFound)
	if _, err := run(t, s, "acme"); !errors.Is(err, ghconn.ErrOrgNotFound) {
		t.Errorf("404 on repos: %v", err)
	}
}

// TestGaps: a 403 or 404 on one endpoint, or on a whole repository, is
// recorded as a gap naming what is needed; everything else is read.
func TestGaps(t *testing.T) {
	s := githubtest.NewServer(smallOrg(), withApp(t))
	defer s.Close()
	s.Fail("/repos/acme/api/hooks", http.StatusForbidden)
	s.Fail("/orgs/acme/installations", http.StatusNotFound)
	s.Fail("/repos/acme/acme", http.StatusForbidden) // one repository forbidden altogether
	rec, err := runWith(t, "acme", appOptions(t, s))
	if err != nil {
		t.Fatalf("a 403 stopped the run: %v", err)
	}
	want := map[string]audit.Gap{
		"GET /orgs/acme/installations": {Kind: audit.KindGitHubAppInstallation, Scope: "acme", Status: 404},
		"GET /repos/acme/api/hooks":    {Kind: audit.KindGitHubWebhook, Scope: "acme/api", Status: 403},
	}
	for _, rest := range []string{"keys", "actions/secrets", "dependabot/secrets", "codespaces/secrets", "agents/secrets", "hooks", "actions/runners", "actions/oidc/customization/sub", "environments", "rulesets"} {
		kind := map[string]audit.Kind{
			"actions/oidc/customization/sub": audit.KindGitHubActionsOIDC,
			"keys":                           audit.KindGitHubDeployKey, "actions/secrets": audit.KindGitHubActionsSecret, "dependabot/secrets": audit.KindGitHubDependabotSecret,
			"codespaces/secrets": audit.KindGitHubCodespacesSecret, "agents/secrets": audit.KindGitHubAgentsSecret, "hooks": audit.KindGitHubWebhook, "actions/runners": audit.KindGitHubRunner,
			"environments": audit.KindGitHubActionsSecret,
		}[rest]
		want["GET /repos/acme/acme/"+rest] = audit.Gap{Kind: kind, Scope: "acme/acme", Status: 403}
	}
	if len(rec.gaps) != len(want) {
		t.Fatalf("%d gaps, want %d: %v", len(rec.gaps), len(want), rec.gapEndpoints())
	}
	for _, g := range rec.gaps {
		w, ok := want[g.Endpoint]
		w.Endpoint = g.Endpoint
		reason := g.Reason
		g.Reason = ""
		if !ok || g != w {
			t.Errorf("gap %+v, want %+v", g, w)
		}
		if !strings.Contains(reason, "needs") || !strings.Contains(reason, fmt.Sprint(w.Status)) {
			t.Errorf("gap reason %q", reason)
		}
	}
	got := rec.byID()
	for _, id := range []string{
		"github:acme:github_deploy_key:api/201",                              // same repo, before the hooks
		"github:acme:github_runner:api/77",                                   // same repo, after the hooks
		"github:acme:github_actions_secret:acme/api/production/DEPLOY_TOKEN", // environments, after
		"github:acme:github_webhook:acme/501",                                // org hooks
		"github:acme:github_fine_grained_pat:71",                             // org, after the installations
	} {
		if _, ok := got[id]; !ok {
			t.Errorf("missing %s after a gap", id)
		}
	}
	if _, ok := got["github:acme:github_webhook:api/601"]; ok {
		t.Error("the unreadable hook was recorded")
	}
	if k := rec.kinds()[audit.KindGitHubAppInstallation]; k != 0 {
		t.Errorf("%d installations recorded from a 404", k)
	}
}

// TestGapAfterFirstPage: a 403 on page 2 keeps page 1 and says so.
func TestGapAfterFirstPage(t *testing.T) {
	o := smallOrg()
	for i := range 150 {
		o.Repos[0].DeployKeys = append(o.Repos[0].DeployKeys, githubtest.DeployKey{ID: int64(3000 + i), Title: "k", Key: testKey, CreatedAt: at("2024-01-01T00:00:00Z")})
	}
	s := githubtest.NewServer(o, withApp(t), githubtest.WithFault(func(r *http.Request) (int, string, bool) {
		if r.URL.Path == "/repos/acme/api/keys" && r.URL.Query().Get("page") == "2" {
			return 403, `{"message":"Must have admin rights to Repository."}`, true
		}
		return 0, "", false
	}))
	defer s.Close()
	rec, err := runWith(t, "acme", appOptions(t, s))
	if err != nil {
		t.Fatal(err)
	}
	if n := rec.kinds()[audit.KindGitHubDeployKey]; n != 100 {
		t.Errorf("%d deploy keys, want the first page's 100", n)
	}
	if len(rec.gaps) != 1 || !strings.HasSuffix(rec.gaps[0].Reason, "; only the first page was read") || !strings.Contains(rec.gaps[0].Reason, "Must have admin rights") {
		t.Errorf("gaps %+v", rec.gaps)
	}
}

// clocked is a server and connector options sharing a fake clock.
func clocked(t *testing.T, o *githubtest.Org, opts ...githubtest.Option) (*githubtest.Server, ghconn.Options, *githubtest.FakeClock) {
	t.Helper()
	clock := githubtest.NewFakeClock(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))
	s := githubtest.NewServer(o, append([]githubtest.Option{withApp(t), githubtest.WithClock(clock.Now)}, opts...)...)
	t.Cleanup(s.Close)
	co := appOptions(t, s)
	co.Clock = clock
	return s, co, clock
}

// TestServerErrorRetried: a 502 twice, then an answer: two backoffs, the
// second longer, and nothing lost.
func TestServerErrorRetried(t *testing.T) {
	o := smallOrg()
	s, opts, clock := clocked(t, o, githubtest.WithHTTPFault(githubtest.FailTimes("/repos/acme/api/keys", 2, http.StatusBadGateway, nil, "<html>502 Bad Gateway</html>")))
	var notes []string
	var mu sync.Mutex
	opts.Progress = func(p ghconn.Progress) {
		if p.Message != "" {
			mu.Lock()
			notes = append(notes, p.Message)
			mu.Unlock()
		}
	}
	rec, err := runWith(t, "acme", opts)
	if err != nil {
		t.Fatal(err)
	}
	checkCounts(t, o, rec)
	if n := s.RequestsTo("/repos/acme/api/keys"); n != 3 {
		t.Errorf("%d requests to the failing endpoint, want 3", n)
	}
	slept := clock.Slept()
	if len(slept) != 2 || slept[0] < 500*time.Millisecond || slept[0] >= 1500*time.Millisecond || slept[1] < time.Second || slept[1] >= 3*time.Second {
		t.Errorf("backoffs %v, want ~1s then ~2s (with jitter)", slept)
	}
	if len(notes) != 2 || !strings.Contains(notes[0], "GET /repos/acme/api/keys: 502") || !strings.Contains(notes[0], "retrying") {
		t.Errorf("progress messages %q", notes)
	}
}

// TestServerErrorForever: a 500 that does not go away on one endpoint,
// while GitHub answers every other request, is a gap for that endpoint
// after bounded retries, and the run goes on: stopping would not mend
// it, and the resumed run would stop at it again and never finish.
// When nothing is answered (GitHub down) the run ends resumably, naming
// the endpoint.
func TestServerErrorForever(t *testing.T) {
	o := smallOrg()
	s, opts, clock := clocked(t, o, githubtest.WithHTTPFault(githubtest.FailTimes("/repos/acme/api/hooks", -1, http.StatusInternalServerError, nil, `{"message":"Server Error"}`)))
	rec, err := runWith(t, "acme", opts)
	if err != nil {
		t.Fatalf("one endpoint that always answers 500 ended the run: %v", err)
	}
	if len(rec.gaps) != 1 || rec.gaps[0].Endpoint != "GET /repos/acme/api/hooks" || rec.gaps[0].Status != http.StatusInternalServerError {
		t.Fatalf("gaps %+v; want one for GET /repos/acme/api/hooks", rec.gaps)
	}
	for _, w := range []string{"500 Server Error each of 5 times", "not read", "run again later"} {
		if !strings.Contains(rec.gaps[0].Reason, w) {
			t.Errorf("gap reason %q lacks %q", rec.gaps[0].Reason, w)
		}
	}
	// Everything else was read: the webhooks of api are the only ones missing.
	want := o.Counts()
	for _, r := range o.Repos {
		if r.Name == "api" {
			want[audit.KindGitHubWebhook] -= len(r.Hooks)
		}
	}
	if got := rec.kinds(); got[audit.KindGitHubWebhook] != want[audit.KindGitHubWebhook] || got[audit.KindGitHubDeployKey] != want[audit.KindGitHubDeployKey] {
		t.Errorf("recorded %v; want %v", got, want)
	}
	if n := s.RequestsTo("/repos/acme/api/hooks"); n != 5 {
		t.Errorf("%d attempts, want 5", n)
	}
	if total := clock.Total(); total < 7*time.Second || total > 23*time.Second {
		t.Errorf("backed off %v in all (%v)", total, clock.Slept())
	}

	_, opts, _ = clocked(t, o, githubtest.WithHTTPFault(githubtest.FailTimes("/", -1, http.StatusInternalServerError, nil, `{"message":"Server Error"}`)))
	_, err = runWith(t, "acme", opts)
	if err == nil {
		t.Fatal("GitHub answering 500 to everything: no error")
	}
	for _, w := range []string{"500", "Server Error", "gave up after 5 attempts"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q lacks %q", err, w)
		}
	}
	if !errors.Is(err, connectors.ErrResumable) {
		t.Errorf("a server error should leave the run resumable: %v", err)
	}
}

// TestDroppedConnection: an answer cut short is retried like a network
// error; one that is always cut short ends the run naming the endpoint.
func TestDroppedConnection(t *testing.T) {
	o := smallOrg()
	s, opts, _ := clocked(t, o, githubtest.WithHTTPFault(githubtest.TruncatedBody("/orgs/acme/hooks", 1)))
	rec, err := runWith(t, "acme", opts)
	if err != nil {
		t.Fatal(err)
	}
	checkCounts(t, o, rec)
	if n := s.RequestsTo("/orgs/acme/hooks"); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}

	// Always cut short while GitHub answers the rest: a gap for that
	// endpoint, the run goes on (a resumed run would stop at it again).
	_, opts, _ = clocked(t, o, githubtest.WithHTTPFault(githubtest.TruncatedBody("/orgs/acme/hooks", -1)))
	rec, err = runWith(t, "acme", opts)
	if err != nil {
		t.Fatalf("always cut short: %v", err)
	}
	if len(rec.gaps) != 1 || rec.gaps[0].Endpoint != "GET /orgs/acme/hooks" || !strings.Contains(rec.gaps[0].Reason, "an answer cut short") {
		t.Errorf("always cut short: gaps %+v; want one for GET /orgs/acme/hooks", rec.gaps)
	}

	// Every answer cut short: GitHub is unreachable, and the run stops.
	_, opts, _ = clocked(t, o, githubtest.WithHTTPFault(githubtest.TruncatedBody("/", -1)))
	_, err = runWith(t, "acme", opts)
	if err == nil || !strings.Contains(err.Error(), "gave up") || !errors.Is(err, connectors.ErrResumable) {
		t.Errorf("every answer cut short: %v", err)
	}
}

// TestSecondaryRateLimit: GitHub's secondary limit is waited out as its
// Retry-After says, or a minute when it says nothing, then retried.
func TestSecondaryRateLimit(t *testing.T) {
	o := smallOrg()
	s, opts, clock := clocked(t, o, githubtest.WithHTTPFault(githubtest.SecondaryRateLimit("/orgs/acme/actions/secrets", 2, 30*time.Second)))
	rec, err := runWith(t, "acme", opts)
	if err != nil {
		t.Fatal(err)
	}
	checkCounts(t, o, rec)
	if n := s.RequestsTo("/orgs/acme/actions/secrets"); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
	if total := clock.Total(); total != time.Minute {
		t.Errorf("waited %v, want 30s twice", total)
	}

	_, opts, clock = clocked(t, o, githubtest.WithHTTPFault(githubtest.SecondaryRateLimit("/orgs/acme/hooks", 1, 0)))
	if _, err := runWith(t, "acme", opts); err != nil {
		t.Fatal(err)
	}
	if total := clock.Total(); total != time.Minute {
		t.Errorf("without Retry-After waited %v, want a minute", total)
	}
}

// TestPrimaryRateLimitWaits: with the hourly budget spent, the run waits
// for the reset, counting down in progress, and then reads everything.
func TestPrimaryRateLimitWaits(t *testing.T) {
	o := smallOrg()
	// 50 requests an hour: the run (about 80) needs two windows.
	s, opts, clock := clocked(t, o, githubtest.WithRateLimit(50, true))
	var (
		mu      sync.Mutex
		waits   []time.Duration
		lastRem = -2
	)
	opts.Progress = func(p ghconn.Progress) {
		mu.Lock()
		defer mu.Unlock()
		if p.Phase == ghconn.PhaseWaiting {
			waits = append(waits, p.Wait)
			lastRem = p.RateRemaining
			if p.Secondary {
				t.Errorf("the primary budget's reset reported as a secondary limit's pause")
			}
		}
	}
	start := clock.Now()
	rec, err := runWith(t, "acme", opts)
	if err != nil {
		t.Fatal(err)
	}
	checkCounts(t, o, rec)
	if len(rec.gaps) != 0 {
		t.Errorf("gaps %v", rec.gapEndpoints())
	}
	if waited := clock.Now().Sub(start); waited < 55*time.Minute || waited > 63*time.Minute {
		t.Errorf("waited %v for an hourly reset", waited)
	}
	if len(waits) < 100 || waits[0] < 55*time.Minute || waits[len(waits)-1] > time.Second || lastRem != 0 {
		t.Errorf("countdown: %d ticks, first %v, last %v, remaining %d", len(waits), waits[0], waits[len(waits)-1], lastRem)
	}
	// Workers already waiting for an answer when the budget ran out may
	// each get one 403.
	if got, min := s.Requests(), minRequests(o, true); got > min+ghconn.DefaultConcurrency {
		t.Errorf("%d requests for %d needed: the wait wasted more than one per worker", got, min)
	}
}

// TestPrimaryRateLimitNoWait: with NoWait, a spent budget stops the run at
// once, resumably, saying when the limit resets.
func TestPrimaryRateLimitNoWait(t *testing.T) {
	_, opts, clock := clocked(t, smallOrg(), githubtest.WithRateLimit(20, true))
	opts.NoWait = true
	rec, err := runWith(t, "acme", opts)
	if !errors.Is(err, connectors.ErrResumable) {
		t.Fatalf("err = %v, want ErrResumable", err)
	}
	for _, w := range []string{"rate limit is exhausted until", "--no-wait"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q lacks %q", err, w)
		}
	}
	if len(clock.Slept()) != 0 {
		t.Errorf("slept %v despite NoWait", clock.Slept())
	}
	if len(rec.obs) == 0 {
		t.Error("nothing recorded before the limit")
	}

	// Already exhausted at the first request: GitHub answers 403.
	s2 := githubtest.NewServer(smallOrg(), withApp(t), githubtest.WithRateLimit(1, true))
	defer s2.Close()
	opts = appOptions(t, s2)
	opts.NoWait = true
	if _, err := runWith(t, "acme", opts); !errors.Is(err, connectors.ErrResumable) {
		t.Errorf("403 rate limit with NoWait: %v", err)
	}
}

// TestMalformedAnswers: an answer that cannot be read, or a refusal
// nobody expected, is a gap for that one endpoint, naming it and why, and
// the run goes on; only the organisation itself ends it.
func TestMalformedAnswers(t *testing.T) {
	for _, tc := range []struct {
		path   string
		status int
		body   string
		want   string
	}{
		{"/repos/acme/api/keys", 200, `[{"id": 1, "title": "x"`, "malformed JSON"},       // truncated
		{"/orgs/acme/actions/secrets", 200, `{"total_count": "many"}`, "malformed JSON"}, // wrong shape
		// A count that is not one is no count of zero, nor no count.
		{"/orgs/acme/actions/secrets", 200, `{"total_count": -1, "secrets": []}`, "total_count is -1, not a count"},
		{"/orgs/acme/installations", 200, `{"total_count": null, "installations": []}`, "total_count is null, not a count"},
		{"/orgs/acme/personal-access-tokens", 200, `<html>oops</html>`, "malformed JSON"},
		{"/repos/acme/api/environments", 200, ``, "malformed JSON"},
		{"/repos/acme/api/teams", 418, `{"message":"I'm a teapot"}`, "418 I'm a teapot"},
	} {
		s := githubtest.NewServer(smallOrg(), withApp(t))
		s.FailWith(tc.path, tc.status, tc.body)
		opts := appOptions(t, s)
		// Environments are read through GraphQL unless REST alone is
		// asked (GraphQL's own bad answers: TestGraphQLFaults).
		opts.RESTOnly = strings.HasSuffix(tc.path, "/environments")
		rec, err := runWith(t, "acme", opts)
		n := s.RequestsTo(tc.path)
		s.Close()
		if err != nil {
			t.Errorf("%s %d: the run ended: %v", tc.path, tc.status, err)
			continue
		}
		if len(rec.gaps) != 1 || rec.gaps[0].Endpoint != "GET "+tc.path || !strings.Contains(rec.gaps[0].Reason, tc.want) {
			t.Errorf("%s %d: gaps %+v; want one naming it and %q", tc.path, tc.status, rec.gaps, tc.want)
		}
		if len(rec.obs) < 10 || n != 1 {
			t.Errorf("%s: %d identities recorded, %d requests to it; want the rest read, no retry", tc.path, len(rec.obs), n)
		}
	}
	s := githubtest.NewServer(smallOrg(), withApp(t))
	defer s.Close()
	s.FailWith("/orgs/acme", 200, `{"login": `)
	_, err := runWith(t, "acme", appOptions(t, s))
	if err == nil || !strings.Contains(err.Error(), "GET /orgs/acme: malformed JSON") || errors.Is(err, connectors.ErrResumable) {
		t.Errorf("an unreadable organisation: %v", err)
	}
}

// TestResponsesGitHubAllows: answers GitHub's published description
// allows never end a run: insecure_ssl as a number, a CODEOWNERS file
// over 1 MB, a CODEOWNERS path that is a directory, a 422 from the
// fine-grained PAT endpoints, enum values not known yet.
func TestResponsesGitHubAllows(t *testing.T) {
	o := smallOrg()
	o.Hooks[0].InsecureSSLNumber, o.Hooks[0].InsecureSSL = true, "1"
	o.Installations[0].RepositorySelection = "some_future_selection"
	api := o.Repo("api")
	big := strings.Repeat("# padding to make the file large\n", 40000) + "*       @acme/platform\n"
	api.CodeOwners = &githubtest.CodeOwners{Path: "CODEOWNERS", Content: big}
	o.Repo("acme").CodeOwners = &githubtest.CodeOwners{Path: ".github/CODEOWNERS", Dir: true}
	if len(big) <= 1<<20 {
		t.Fatal("the CODEOWNERS file is not over 1 MB")
	}
	s := githubtest.NewServer(o, withApp(t))
	defer s.Close()
	s.FailWith("/orgs/acme/personal-access-tokens", 422, `{"message":"Validation Failed","documentation_url":"https://docs.github.com/rest","status":"422"}`)
	rec, err := runWith(t, "acme", appOptions(t, s))
	if err != nil {
		t.Fatalf("the run ended: %v", err)
	}
	if len(rec.gaps) != 1 || rec.gaps[0].Endpoint != "GET /orgs/acme/personal-access-tokens" || rec.gaps[0].Status != 422 ||
		!strings.Contains(rec.gaps[0].Reason, "422 Validation Failed") {
		t.Errorf("gaps %+v; want the 422, and only it", rec.gaps)
	}
	var hook, inst audit.Observation
	for _, ob := range rec.obs {
		switch ob.ID {
		case "github:acme:github_webhook:acme/501":
			hook = ob
		case "github:acme:github_app_installation:101":
			inst = ob
		}
	}
	if hook.Attributes["insecure_ssl"] != "1" {
		t.Errorf("hook with insecure_ssl 1 (a number): %v", hook.Attributes)
	}
	if inst.Attributes["repository_selection"] != "some_future_selection" {
		t.Errorf("installation: %v", inst.Attributes)
	}
	var platform, webOwners int
	for _, p := range rec.principals {
		if p.Type == audit.PrincipalCodeowner && p.Scope == "acme/api" && p.Login == "acme/platform" && p.Role == "default" {
			platform++
		}
		if p.Type == audit.PrincipalCodeowner && p.Scope == "acme/acme" {
			webOwners++
		}
	}
	if platform != 1 || webOwners != 0 {
		t.Errorf("CODEOWNERS: the 1 MB file's owner %d times, the directory's owners %d; want 1 and 0", platform, webOwners)
	}
}

func TestContextCanceled(t *testing.T) {
	s := githubtest.NewServer(githubtest.SampleOrg(20))
	defer s.Close()
	c, err := ghconn.NewFromToken(s.URL(), s.Token(), githubtest.SampleLogin, s.Client())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Run(ctx, &recorder{}); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled before Run: %v", err)
	}

	// Cancel while reading the fifth repository.
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	s2 := githubtest.NewServer(githubtest.SampleOrg(20), githubtest.WithFault(func(r *http.Request) (int, string, bool) {
		if strings.HasPrefix(r.URL.Path, "/repos/northwind/orders-service/") {
			cancel()
		}
		return 0, "", false
	}))
	defer s2.Close()
	c2, err := ghconn.NewConnector(githubtest.SampleLogin, ghconn.Options{APIURL: s2.URL(), Token: s2.Token(), HTTPClient: s2.Client(), Concurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	if err := c2.Run(ctx, rec); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled mid-run: %v", err)
	}
	if s2.RequestsTo("/repos/northwind/orders-service/actions/secrets") != 0 {
		t.Error("kept reading after cancel")
	}
	if rec.units["repo:orders-service"] {
		t.Error("an interrupted repository was checkpointed")
	}
}

// TestNextLinkElsewhere: a next-page link off the API host is not followed
// (the token would go with it); the run stops naming the endpoint.
func TestNextLinkElsewhere(t *testing.T) {
	h := http.Header{}
	h.Set("Link", `<https://evil.example/orgs/acme/hooks?page=2&per_page=100>; rel="next"`)
	s := githubtest.NewServer(smallOrg(), githubtest.WithHTTPFault(githubtest.FailTimes("/orgs/acme/hooks", -1, 200, h, "[]")))
	defer s.Close()
	_, err := run(t, s, "acme")
	if err == nil || !strings.Contains(err.Error(), "GET /orgs/acme/hooks") || !strings.Contains(err.Error(), "leaves the API") {
		t.Errorf("err = %v", err)
	}
}

// TestPaginationLoop: a rel="next" link back to a page already read (a
// proxy or cache gone wrong) ends that listing as a gap after one lap,
// where following it spent requests for ever.
func TestPaginationLoop(t *testing.T) {
	o := smallOrg()
	s, opts, _ := clocked(t, o)
	s.AddHTTPFault(func(r *http.Request) (func(http.ResponseWriter), bool) {
		if r.URL.Path != "/orgs/acme/hooks" {
			return nil, false
		}
		return func(w http.ResponseWriter) {
			page := "2"
			if r.URL.Query().Get("page") == "2" {
				page = "1"
			}
			w.Header().Set("Link", "<"+s.URL()+"orgs/acme/hooks?per_page=100&page="+page+`>; rel="next"`)
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte("[]"))
		}, true
	})
	rec, err := runWith(t, "acme", opts)
	if err != nil {
		t.Fatal(err)
	}
	if n := s.RequestsTo("/orgs/acme/hooks"); n > 3 {
		t.Errorf("%d requests to a listing whose pages link in a loop; want one lap", n)
	}
	var found bool
	for _, g := range rec.gaps {
		if g.Endpoint == "GET /orgs/acme/hooks" && strings.Contains(g.Reason, "links back to a page already read") {
			found = true
		}
	}
	if !found {
		t.Errorf("gaps %+v; want one for GET /orgs/acme/hooks saying its pages loop", rec.gaps)
	}
}
