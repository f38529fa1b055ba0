package github_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/connectors"
	ghconn "github.com/nhi-audit/nhi/connectors/github"
	"github.com/nhi-audit/nhi/connectors/github/githubtest"
)

// serverError is the 500 GitHub answers when it cannot serve a request.
const serverError = `{"message":"Server Error"}`

// TestServerErrorStorm: GitHub answers 500 to every repository endpoint
// while its /rate_limit (and everything else) answers. The run stops
// resumably within about a minute of the connector's clock, saying its API
// is failing and naming endpoints, where it read on for hours making a gap
// of every endpoint; what it read before is kept, and once GitHub serves
// again the same command finishes the snapshot an uninterrupted run makes.
func TestServerErrorStorm(t *testing.T) {
	o := githubtest.SampleOrg(40)
	want := uninterrupted(t, o)
	for _, workers := range []int{ghconn.DefaultConcurrency, 1} {
		t.Run(fmt.Sprintf("%d workers", workers), func(t *testing.T) {
			var storming atomic.Bool
			storming.Store(true)
			var repoRequests atomic.Int64
			fail := githubtest.FailTimes("/repos", -1, http.StatusInternalServerError, nil, serverError)
			s, opts, clock := clocked(t, o, githubtest.WithHTTPFault(func(r *http.Request) (func(http.ResponseWriter), bool) {
				if !storming.Load() {
					return nil, false
				}
				answer, ok := fail(r)
				if ok {
					repoRequests.Add(1)
				}
				return answer, ok
			}))
			opts.Concurrency = workers
			st, _ := tempStore(t)
			start := clock.Now()
			snap, _, err := snapshot(t, context.Background(), st, githubtest.SampleLogin, opts)
			took := clock.Now().Sub(start)
			if !errors.Is(err, connectors.ErrResumable) || snap != nil {
				t.Fatalf("every repository endpoint failing: after %v of waits, snapshot %v (%d gaps), error %v; want a resumable stop", took, snap != nil, gapCount(snap), err)
			}
			for _, w := range []string{"GitHub answered 5xx to each of the last ", ": 500 Server Error", "GET /repos/" + o.Login + "/", "while its /rate_limit answers: its API is failing", "resumes where it stopped"} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			// The fake clock adds up every worker's waits: with eight, the
			// run's time about eight times over. At most one endpoint a
			// worker is tried the five times over ~15 s, the rest twice.
			if took > 4*time.Minute || repoRequests.Load() > 120 {
				t.Errorf("stopped after %v of waits and %d requests to repositories", took, repoRequests.Load())
			}
			t.Logf("stopped after %v of waits (%d backoffs) and %d requests to repositories: %v", took, len(clock.Slept()), repoRequests.Load(), err)

			// GitHub serves again: the same command resumes, reading only
			// what is left (no organisation endpoint again), and ends with
			// the snapshot an uninterrupted run makes: no gap of the storm
			// is left in it, though one worker finished repositories in it.
			storming.Store(false)
			s.ResetCounters()
			var messages []string
			opts.Progress = func(p ghconn.Progress) {
				if p.Message != "" {
					messages = append(messages, p.Message)
				}
			}
			snap, _, err = snapshot(t, context.Background(), st, githubtest.SampleLogin, opts)
			if err != nil {
				t.Fatal(err)
			}
			sameSnapshot(t, snap, want)
			if len(messages) == 0 || !strings.HasPrefix(messages[0], "Resuming snapshot 1: ") {
				t.Errorf("progress messages %q", messages)
			}
			if n := s.RequestsTo("/orgs/" + o.Login + "/hooks"); n != 0 {
				t.Errorf("the resumed run read the organisation's webhooks again (%d requests)", n)
			}
		})
	}
}

// TestBrokenRepository: one repository GitHub answers 500 for, every
// endpoint of it, among healthy ones is a gap for each of its endpoints
// and the run completes, even read one repository at a time, when nothing
// is answered between its endpoints: they are one repository's, not the
// API's.
func TestBrokenRepository(t *testing.T) {
	o := githubtest.SampleOrg(12)
	r := o.Repos[5]
	broken := r.Name
	// Each environment's secrets are an endpoint of a scope of its own:
	// still one repository's.
	for i, env := range []string{"dev", "qa", "staging", "production"} {
		r.Environments = append(r.Environments, githubtest.Environment{ID: 8800 + int64(i), Name: env, CreatedAt: r.CreatedAt, UpdatedAt: r.CreatedAt,
			Secrets: []githubtest.Secret{{Name: "DEPLOY_TOKEN", CreatedAt: r.CreatedAt, UpdatedAt: r.CreatedAt}}})
	}
	for _, workers := range []int{1, ghconn.DefaultConcurrency} {
		_, opts, _ := clocked(t, o, githubtest.WithHTTPFault(githubtest.FailTimes("/repos/"+o.Login+"/"+broken, -1, http.StatusInternalServerError, nil, serverError)))
		opts.Concurrency = workers
		rec, err := runWith(t, o.Login, opts)
		if err != nil {
			t.Fatalf("%d workers: one broken repository ended the run: %v", workers, err)
		}
		if len(rec.gaps) < 12 {
			t.Errorf("%d workers: gaps %v; want one for each endpoint of %s", workers, rec.gapEndpoints(), broken)
		}
		for _, g := range rec.gaps {
			if !strings.HasPrefix(g.Endpoint, "GET /repos/"+o.Login+"/"+broken+"/") || g.Status != http.StatusInternalServerError {
				t.Errorf("%d workers: gap %+v", workers, g)
			}
		}
		if !rec.units["repo:"+broken] || len(rec.units) < len(o.Repos) {
			t.Errorf("%d workers: units read %v", workers, rec.units)
		}
	}
}

// TestServerErrorsBetweenAnswers: half the repositories answer 500 to
// everything, in turn with healthy ones, read one at a time: each broken
// repository's endpoints are gaps and the run completes, since GitHub
// answered between them; a count of failures that successes did not reset
// would stop it.
func TestServerErrorsBetweenAnswers(t *testing.T) {
	o := githubtest.SampleOrg(16)
	var faults []githubtest.Option
	brokenRepos := map[string]bool{}
	for i, r := range o.Repos {
		if i%2 == 0 {
			brokenRepos[r.Name] = true
			faults = append(faults, githubtest.WithHTTPFault(githubtest.FailTimes("/repos/"+o.Login+"/"+r.Name, -1, http.StatusBadGateway, nil, serverError)))
		}
	}
	_, opts, _ := clocked(t, o, faults...)
	opts.Concurrency = 1
	rec, err := runWith(t, o.Login, opts)
	if err != nil {
		t.Fatalf("broken repositories between healthy ones ended the run: %v", err)
	}
	gapped := map[string]bool{}
	for _, g := range rec.gaps {
		parts := strings.Split(g.Endpoint, "/")
		if len(parts) < 4 || !brokenRepos[parts[3]] || g.Status != http.StatusBadGateway {
			t.Errorf("gap %+v", g)
			continue
		}
		gapped[parts[3]] = true
	}
	if len(gapped) != len(brokenRepos) {
		t.Errorf("gaps in %d repositories, want %d", len(gapped), len(brokenRepos))
	}
	if got := rec.kinds(); got[audit.KindGitHubDeployKey] == 0 {
		t.Errorf("recorded %v", got)
	}
}

func gapCount(s *audit.Snapshot) int {
	if s == nil {
		return 0
	}
	return len(s.Gaps)
}
