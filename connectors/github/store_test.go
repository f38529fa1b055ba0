package github_test

import (
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
	"github.com/nhi-audit/nhi/connectors"
	ghconn "github.com/nhi-audit/nhi/connectors/github"
	"github.com/nhi-audit/nhi/connectors/github/githubtest"
)

// Runs into a real evidence file: what the auditor gets.

const storeRepos = 60

// uninterrupted snapshots o into a fresh evidence file and returns it, for
// comparison.
func uninterrupted(t *testing.T, o *githubtest.Org) *audit.Snapshot {
	t.Helper()
	s := githubtest.NewServer(o, withApp(t))
	defer s.Close()
	st, _ := tempStore(t)
	snap, _, err := snapshot(t, context.Background(), st, githubtest.SampleLogin, appOptions(t, s))
	if err != nil {
		t.Fatal(err)
	}
	if snap.Status != audit.SnapshotComplete || snap.Total() == 0 {
		t.Fatalf("uninterrupted snapshot %s with %d identities, gaps %v", snap.Status, snap.Total(), snap.Gaps)
	}
	return snap
}

func principalCount(t *testing.T, st *audit.Store, snapshotID int64) int {
	t.Helper()
	var n int
	if err := st.QueryRow(context.Background(), `SELECT count(*) FROM principals WHERE snapshot_id = ?`, snapshotID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func sameSnapshot(t *testing.T, got, want *audit.Snapshot) {
	t.Helper()
	if got.Status != want.Status || got.Digest != want.Digest || got.Total() != want.Total() || fmt.Sprint(got.Counts) != fmt.Sprint(want.Counts) {
		t.Errorf("snapshot %s, %d identities, digest %.12s, counts %v\n  want %s, %d identities, digest %.12s, counts %v",
			got.Status, got.Total(), got.Digest, got.Counts, want.Status, want.Total(), want.Digest, want.Counts)
	}
}

// TestResumeAfterInterrupt: a run interrupted after a dozen repositories
// (Ctrl-C) keeps what it read as an unfinished snapshot that never becomes
// current; the next run says it resumes, reads only what is left, and ends
// with exactly the snapshot an uninterrupted run makes.
func TestResumeAfterInterrupt(t *testing.T) {
	o := githubtest.SampleOrg(storeRepos)
	want := uninterrupted(t, o)
	fullRequests := minRequests(o, true)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var (
		mu   sync.Mutex
		seen = map[string]bool{}
	)
	s := githubtest.NewServer(o, withApp(t), githubtest.WithFault(func(r *http.Request) (int, string, bool) {
		if parts := strings.Split(r.URL.Path, "/"); len(parts) > 3 && parts[1] == "repos" {
			mu.Lock()
			seen[parts[3]] = true
			if len(seen) > 15 {
				cancel() // the user presses Ctrl-C
			}
			mu.Unlock()
		}
		return 0, "", false
	}))
	defer s.Close()
	st, _ := tempStore(t)
	snap, _, err := snapshot(t, ctx, st, githubtest.SampleLogin, appOptions(t, s))
	if !errors.Is(err, context.Canceled) || snap != nil {
		t.Fatalf("interrupted run: %v, %v", snap, err)
	}
	if latest, err := st.LatestSnapshot(context.Background()); err != nil || latest != nil {
		t.Fatalf("an interrupted snapshot became current: %+v %v", latest, err)
	}
	first := s.Requests()

	s.ClearFaults()
	s.ResetCounters()
	var messages []string
	opts := appOptions(t, s)
	opts.Progress = func(p ghconn.Progress) {
		if p.Message != "" {
			messages = append(messages, p.Message)
		}
	}
	snap, c, err := snapshot(t, context.Background(), st, githubtest.SampleLogin, opts)
	if err != nil {
		t.Fatal(err)
	}
	sameSnapshot(t, snap, want)
	if snap.ID != 1 {
		t.Errorf("the resumed run made snapshot %d, not 1", snap.ID)
	}
	if len(messages) == 0 || !strings.HasPrefix(messages[0], "Resuming snapshot 1: ") || !strings.Contains(messages[0], "units already read") {
		t.Errorf("progress messages %q", messages)
	}
	second := s.Requests()
	if second >= fullRequests || first+second < fullRequests {
		t.Errorf("requests: %d before the interrupt, %d after; a full run takes %d", first, second, fullRequests)
	}
	// An App's new installation token gets no 304 for what the first run
	// read (GitHub ties ETags to the token): the checkpoints are the reuse.
	if n := principalCount(t, st, snap.ID); n == 0 {
		t.Error("no principals recorded")
	}
	t.Logf("interrupted after %d requests; resumed with %d (%d answered 304); a full run takes %d", first, second, c.Stats().NotModified, fullRequests)
}

// TestResumeAfterNoWait: --no-wait stops at the rate limit; once the limit
// resets, the same command finishes the snapshot.
func TestResumeAfterNoWait(t *testing.T) {
	o := githubtest.SampleOrg(40)
	want := uninterrupted(t, o)
	clock := githubtest.NewFakeClock(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))
	s := githubtest.NewServer(o, withApp(t), githubtest.WithClock(clock.Now), githubtest.WithRateLimit(150, true))
	defer s.Close()
	st, _ := tempStore(t)
	opts := appOptions(t, s)
	opts.Clock, opts.NoWait = clock, true
	snap, _, err := snapshot(t, context.Background(), st, githubtest.SampleLogin, opts)
	if !errors.Is(err, connectors.ErrResumable) || snap != nil {
		t.Fatalf("first run: %v %v", snap, err)
	}
	if !strings.Contains(err.Error(), "run the same command again to continue") {
		t.Errorf("error %q does not say how to go on", err)
	}
	// Still limited: stops again at once, and still resumable.
	if _, _, err := snapshot(t, context.Background(), st, githubtest.SampleLogin, opts); !errors.Is(err, connectors.ErrResumable) {
		t.Fatalf("second run before the reset: %v", err)
	}
	_ = clock.Sleep(context.Background(), time.Hour)
	var done *audit.Snapshot
	for i := 0; i < 8 && done == nil; i++ { // each hour gives 150 more requests
		done, _, err = snapshot(t, context.Background(), st, githubtest.SampleLogin, opts)
		if err != nil && !errors.Is(err, connectors.ErrResumable) {
			t.Fatal(err)
		}
		_ = clock.Sleep(context.Background(), time.Hour)
	}
	if done == nil {
		t.Fatal("never finished")
	}
	sameSnapshot(t, done, want)
}

// TestConditionalRequests: an unchanged organisation read again with the
// same token costs almost only 304s, which GitHub does not charge, and
// gives the same snapshot; a change is seen. An App, whose installation
// token is new each run, gets none, and the run says why.
func TestConditionalRequests(t *testing.T) {
	o := githubtest.SampleOrg(storeRepos)
	s := githubtest.NewServer(o, withApp(t))
	defer s.Close()
	st, _ := tempStore(t)
	tokenOptions := func(s *githubtest.Server) ghconn.Options { // a token kept between runs
		return ghconn.Options{APIURL: s.URL(), HTTPClient: s.Client(), Token: s.Token()}
	}
	first, _, err := snapshot(t, context.Background(), st, githubtest.SampleLogin, tokenOptions(s))
	if err != nil {
		t.Fatal(err)
	}
	if s.NotModified() != 0 {
		t.Errorf("%d answers 304 on a first run", s.NotModified())
	}
	s.ResetCounters()
	second, c, err := snapshot(t, context.Background(), st, githubtest.SampleLogin, tokenOptions(s))
	if err != nil {
		t.Fatal(err)
	}
	if second.ID == first.ID {
		t.Fatal("no new snapshot")
	}
	share := float64(s.NotModified()) / float64(s.Requests())
	if share < 0.90 {
		t.Errorf("%d of %d requests answered 304 (%.1f%%), want at least 90%%", s.NotModified(), s.Requests(), 100*share)
	}
	if st := c.Stats(); st.NotModified != s.NotModified() || st.Requests != s.Requests() {
		t.Errorf("connector counted %+v, server %d/%d", st, s.NotModified(), s.Requests())
	}
	t.Logf("unchanged re-snapshot: %d requests, %d answered 304 (%.1f%%); first run %d", s.Requests(), s.NotModified(), 100*share, minRequests(o, false))

	// An App: two runs, two installation tokens, no 304.
	appSt, _ := tempStore(t)
	if _, _, err := snapshot(t, context.Background(), appSt, githubtest.SampleLogin, appOptions(t, s)); err != nil {
		t.Fatal(err)
	}
	s.ResetCounters()
	var said []string
	ao := appOptions(t, s)
	ao.Progress = func(p ghconn.Progress) {
		if p.Message != "" {
			said = append(said, p.Message)
		}
	}
	if _, _, err := snapshot(t, context.Background(), appSt, githubtest.SampleLogin, ao); err != nil {
		t.Fatal(err)
	}
	if s.NotModified() != 0 || len(said) == 0 || !strings.Contains(said[len(said)-1], "GitHub ties ETags to the token") {
		t.Errorf("an App's re-snapshot: %d answered 304; said %q", s.NotModified(), said)
	}
	first.ID, second.ID = 0, 0
	sameSnapshot(t, second, first)
	if principalCount(t, st, 1) != principalCount(t, st, 2) {
		t.Errorf("principals %d then %d", principalCount(t, st, 1), principalCount(t, st, 2))
	}

	// Someone removes a deploy key, adds a secret, and grows a list past a
	// page boundary without changing its first page.
	var removed string
	s.Mutate(func(o *githubtest.Org) {
		for _, r := range o.Repos {
			if len(r.DeployKeys) > 0 {
				removed = fmt.Sprintf("github:northwind:github_deploy_key:%s/%d", r.Name, r.DeployKeys[0].ID)
				r.DeployKeys = r.DeployKeys[1:]
				break
			}
		}
		o.Repos[3].Secrets = append(o.Repos[3].Secrets, githubtest.Secret{Name: "NEW_SECRET", CreatedAt: fixedNow, UpdatedAt: fixedNow})
		for len(o.Runners) < 100 {
			o.Runners = append(o.Runners, githubtest.Runner{ID: int64(1000 + len(o.Runners)), Name: fmt.Sprintf("r%d", len(o.Runners)), OS: "Linux", Status: "online", Labels: []string{"self-hosted"}})
		}
	})
	if _, _, err := snapshot(t, context.Background(), st, githubtest.SampleLogin, tokenOptions(s)); err != nil {
		t.Fatal(err)
	}
	s.Mutate(func(o *githubtest.Org) {
		o.Runners = append(o.Runners, githubtest.Runner{ID: 9999, Name: "page-two", OS: "Linux", Status: "online", Labels: []string{"self-hosted"}})
	})
	third, _, err := snapshot(t, context.Background(), st, githubtest.SampleLogin, tokenOptions(s))
	if err != nil {
		t.Fatal(err)
	}
	ids, err := st.ObservedIDs(context.Background(), third.ID)
	if err != nil {
		t.Fatal(err)
	}
	if ids[removed] {
		t.Errorf("%s still observed after its removal", removed)
	}
	for _, id := range []string{
		"github:northwind:github_actions_secret:northwind/" + o.Repos[3].Name + "/NEW_SECRET",
		"github:northwind:github_runner:northwind/9999", // on page 2 while page 1 answered 304
	} {
		if !ids[id] {
			t.Errorf("%s not observed", id)
		}
	}
}

// TestSecretsNotInEvidenceFile: no secret the API serves, no part of the
// App's private key and no token reaches the evidence file or its
// write-ahead log, during the run or after it.
func TestSecretsNotInEvidenceFile(t *testing.T) {
	o := githubtest.SampleOrg(40)
	needles := sampleNeedles(t, o)
	_, pemBytes := testAppKey(t)
	body := strings.Join(strings.Split(string(pemBytes), "\n")[1:], "")
	for i := 0; i+32 <= len(body) && i < 32*40; i += 32 * 4 {
		needles = append(needles, body[i:i+32])
	}
	block, _ := pem.Decode(pemBytes)
	der := block.Bytes
	needles = append(needles, "ghs_", githubtest.DefaultToken, "BEGIN RSA PRIVATE KEY")
	s := githubtest.NewServer(o, withApp(t))
	defer s.Close()
	path := t.TempDir() + "/nhi.db"
	st := openStore(t, path)
	for range 2 { // the second run goes through the request cache
		snap, _, err := snapshot(t, context.Background(), st, githubtest.SampleLogin, appOptions(t, s))
		if err != nil || snap.Status != audit.SnapshotComplete {
			t.Fatalf("%v %v", snap, err)
		}
	}
	check := func(when string) {
		raw := fileBytes(t, path)
		if len(raw) < 4096 {
			t.Fatalf("%s: evidence file of %d bytes", when, len(raw))
		}
		for _, n := range containsAny(string(raw), needles) {
			t.Errorf("%s: %q is in the evidence file", when, n)
		}
		if len(der) > 64 && strings.Contains(string(raw), string(der[32:64])) {
			t.Errorf("%s: the App key's DER bytes are in the evidence file", when)
		}
	}
	check("before Close")
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	check("after Close")
}

// TestGapsInSnapshot: a token that cannot read everything gives a partial
// snapshot that lists what was not read.
func TestGapsInSnapshot(t *testing.T) {
	o := githubtest.SampleOrg(20)
	s := githubtest.NewServer(o)
	defer s.Close()
	s.Fail("/repos/northwind/payments-api", http.StatusForbidden)
	st, _ := tempStore(t)
	snap, _, err := snapshot(t, context.Background(), st, githubtest.SampleLogin, ghconn.Options{APIURL: s.URL(), Token: s.Token(), HTTPClient: s.Client()})
	if err != nil {
		t.Fatal(err)
	}
	if snap.Status != audit.SnapshotPartial {
		t.Errorf("status %s", snap.Status)
	}
	var endpoints []string
	for _, g := range snap.Gaps {
		endpoints = append(endpoints, g.Endpoint)
	}
	got := strings.Join(endpoints, "\n")
	for _, w := range []string{"GET /orgs/northwind/personal-access-tokens", "GET /orgs/northwind/personal-access-token-requests", "GET /repos/northwind/payments-api/keys", "GET /repos/northwind/payments-api/environments"} {
		if !strings.Contains(got, w) {
			t.Errorf("gaps lack %s:\n%s", w, got)
		}
	}
	if snap.Counts[audit.KindGitHubFineGrainedPAT] != 0 || snap.Counts[audit.KindGitHubDeployKey] == 0 {
		t.Errorf("counts %v", snap.Counts)
	}
}

// TestConcurrencyDeterministic: one worker or eight, the same snapshot.
func TestConcurrencyDeterministic(t *testing.T) {
	o := githubtest.SampleOrg(30)
	s := githubtest.NewServer(o, withApp(t))
	defer s.Close()
	var snaps []*audit.Snapshot
	for _, n := range []int{1, 8} {
		st, _ := tempStore(t)
		opts := appOptions(t, s)
		opts.Concurrency = n
		snap, _, err := snapshot(t, context.Background(), st, githubtest.SampleLogin, opts)
		if err != nil {
			t.Fatal(err)
		}
		snaps = append(snaps, snap)
	}
	sameSnapshot(t, snaps[1], snaps[0])
}

// TestUnreadableEnvironmentNotRemoved: a snapshot that lists a
// repository's environments but cannot read one environment's secrets (a
// 403, or a 502 through every retry) did not look at them, so they are
// not-checked, with the gap's reason, in identity status, diff and
// campaign verification; never removed. Read again, they are active.
func TestUnreadableEnvironmentNotRemoved(t *testing.T) {
	ctx := context.Background()
	const env = "/repos/acme/api/environments/production/secrets"
	secret := "github:acme:github_actions_secret:acme/api/production/DEPLOY_TOKEN"
	s, opts, _ := clocked(t, smallOrg())
	st, _ := tempStore(t)
	first, _, err := snapshot(t, ctx, st, "acme", opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := campaigns.Create(ctx, st, "lead", campaigns.Spec{Name: "q4", Scope: "id:" + secret, Due: "2026-12-31", Reviewers: []string{"rita"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := campaigns.Decide(ctx, st, "rita", "q4", secret, campaigns.Decommission, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := campaigns.Close(ctx, st, "lead", "q4"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		fault func()
		why   string
	}{
		{"403", func() { s.Fail(env, http.StatusForbidden) }, "GET " + env + ": needs admin access"},
		{"502 forever", func() {
			s.AddHTTPFault(githubtest.FailTimes(env, -1, http.StatusBadGateway, nil, `{"message":"Bad Gateway"}`))
		}, "GET " + env + ": GitHub answered 502 Bad Gateway each of 5 times"},
	} {
		s.ClearFaults()
		c.fault()
		snap, _, err := snapshot(t, ctx, st, "acme", opts)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if it, err := st.Identity(ctx, secret); err != nil || it.Status != audit.StatusNotChecked || !strings.HasPrefix(it.StatusReason, c.why) {
			t.Errorf("%s: the secret is %s %q (%v); want not-checked, %q", c.name, it.Status, it.StatusReason, err, c.why)
		}
		d, err := st.Diff(ctx, first.ID, snap.ID)
		if err != nil {
			t.Fatal(err)
		}
		if d.Removed != 0 || d.NotSeen != 1 {
			t.Errorf("%s: diff says %d removed, %d not seen; want 0 and 1: %+v", c.name, d.Removed, d.NotSeen, d.Changes)
		}
		r, err := campaignstest.OnlyRemediation(campaigns.VerifyRemediation(ctx, st, "lead", "q4"))
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Removed) != 0 || len(r.NotChecked) != 1 {
			t.Errorf("%s: campaign verification: removed %v, not checked %v", c.name, r.Removed, r.NotChecked)
		}
	}
	s.ClearFaults()
	if _, _, err := snapshot(t, ctx, st, "acme", opts); err != nil {
		t.Fatal(err)
	}
	if it, err := st.Identity(ctx, secret); err != nil || it.Status != audit.StatusActive {
		t.Errorf("read again, the secret is %s %q (%v)", it.Status, it.StatusReason, err)
	}
	if v, err := st.Verify(ctx); err != nil || !v.OK() {
		t.Errorf("verify: %+v %v", v, err)
	}
}

// TestResumeAfterLosingSight: a run interrupted, then resumed after the
// App was taken off most repositories (repository_selection "selected"),
// judges the repository list it finished by. The snapshot is partial,
// with the coverage gap, and the identities of repositories the
// credential no longer sees, which still exist, are not-checked; an
// earlier run's "every repository seen" does not make them removed.
func TestResumeAfterLosingSight(t *testing.T) {
	o := githubtest.SampleOrg(20)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var (
		mu   sync.Mutex
		seen = map[string]bool{}
		stop bool
	)
	s := githubtest.NewServer(o, withApp(t), githubtest.WithFault(func(r *http.Request) (int, string, bool) {
		mu.Lock()
		defer mu.Unlock()
		if parts := strings.Split(r.URL.Path, "/"); stop && len(parts) > 3 && parts[1] == "repos" {
			if seen[parts[3]] = true; len(seen) > 5 {
				cancel() // the user presses Ctrl-C
			}
		}
		return 0, "", false
	}))
	defer s.Close()
	st, _ := tempStore(t)
	first, _, err := snapshot(t, context.Background(), st, githubtest.SampleLogin, appOptions(t, s))
	if err != nil || first.Status != audit.SnapshotComplete {
		t.Fatalf("first snapshot: %v %v", first, err)
	}
	mu.Lock()
	stop = true
	mu.Unlock()
	if snap, _, err := snapshot(t, ctx, st, githubtest.SampleLogin, appOptions(t, s)); !errors.Is(err, context.Canceled) || snap != nil {
		t.Fatalf("interrupted run: %v, %v", snap, err)
	}
	s.ClearFaults()
	visible := []string{o.Repos[0].Name, o.Repos[1].Name}
	s.SetAppRepos(visible)
	snap, _, err := snapshot(t, context.Background(), st, githubtest.SampleLogin, appOptions(t, s))
	if err != nil {
		t.Fatal(err)
	}
	if snap.ID != 2 || snap.Status != audit.SnapshotPartial || len(snap.Gaps) != 1 || !snap.Gaps[0].Coverage() ||
		!strings.HasPrefix(snap.Gaps[0].Reason, "18 of 20 repositories are not visible to this credential") {
		t.Errorf("the resumed snapshot %d is %s, gaps %+v; want snapshot 2, partial, for the repositories not visible", snap.ID, snap.Status, snap.Gaps)
	}
	ids, err := st.Identities(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	notChecked := 0
	for _, it := range ids {
		repo, _, _ := strings.Cut(strings.TrimPrefix(it.Scope, githubtest.SampleLogin+"/"), "/")
		switch {
		case it.Status == audit.StatusRemoved:
			t.Errorf("%s is removed; its repository %s still exists", it.ID, repo)
		case it.Status == audit.StatusNotChecked:
			notChecked++
		}
	}
	if notChecked == 0 {
		t.Error("no identity is not-checked")
	}
}
