package github_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/audit"
	ghconn "github.com/nhi-audit/nhi/connectors/github"
	"github.com/nhi-audit/nhi/connectors/github/githubtest"
	"github.com/nhi-audit/nhi/internal/benchmem"
)

// BenchmarkSnapshotSampleOrg10000 snapshots the 10,000-repository sample
// organisation over loopback into a real evidence file, as a GitHub App,
// then snapshots it again unchanged; then the same with a classic token
// kept between the runs. Run with -benchtime 1x. The memory figures are
// the whole process: the fake GitHub and its organisation included.
// points/repo is what GitHub's REST rate limit is charged (every REST
// request but a 304) per repository: it decides whether an organisation
// takes hours; gql-points/repo what GraphQL's own rate limit is charged
// (graphql.go), by GitHub's formula.
// cpu-s is the CPU time of the whole process (the fake GitHub's too): on a
// shared machine it is the fair measure of the work, where s/snapshot
// also counts the time spent waiting for a core.
func BenchmarkSnapshotSampleOrg10000(b *testing.B) {
	benchmarkSnapshot(b, 10000, false)
}

// BenchmarkSnapshotSampleOrg1000 is the same at a tenth of the size, and
// again through REST alone (app-rest, pat-rest: Options.RESTOnly), which
// is what GraphQL saves REST points against.
func BenchmarkSnapshotSampleOrg1000(b *testing.B) {
	benchmarkSnapshot(b, 1000, true)
}

func benchmarkSnapshot(b *testing.B, repos int, restToo bool) {
	o := githubtest.SampleOrg(repos)
	s := githubtest.NewServer(o, withApp(b))
	defer s.Close()
	runtime.GC()
	for b.Loop() {
		type mode struct {
			name          string
			app, restOnly bool
		}
		modes := []mode{{"app", true, false}, {"pat", false, false}}
		if restToo {
			modes = append(modes, mode{"app-rest", true, true}, mode{"pat-rest", false, true})
		}
		for _, mode := range modes {
			opts := func() ghconn.Options {
				o := ghconn.Options{APIURL: s.URL(), HTTPClient: s.Client(), Token: s.Token(), RESTOnly: mode.restOnly}
				if mode.app {
					o = appOptions(b, s)
					o.RESTOnly = mode.restOnly
				}
				return o
			}
			st := openStore(b, b.TempDir()+"/nhi.db")
			s.ResetCounters()
			stop := benchmem.Start()
			start, cpu := time.Now(), benchmem.CPUTime()
			snap, _, err := snapshot(b, context.Background(), st, githubtest.SampleLogin, opts())
			took, tookCPU := time.Since(start), benchmem.CPUTime()-cpu
			u := stop()
			heap, sys := u.HeapMB(), u.SysMB()
			if err != nil || snap.Status == audit.SnapshotFailed {
				b.Fatalf("%v %v", snap, err)
			}
			first, firstPoints, firstGQL := s.Requests(), s.RESTPoints(), s.GraphQLPoints()

			s.ResetCounters()
			start, cpu = time.Now(), benchmem.CPUTime()
			again, _, err := snapshot(b, context.Background(), st, githubtest.SampleLogin, opts())
			retook, retookCPU := time.Since(start), benchmem.CPUTime()-cpu
			if err != nil || again.Digest != snap.Digest {
				b.Fatalf("re-snapshot: %v (digest %s vs %s)", err, again.Digest, snap.Digest)
			}
			st.Close()

			m := func(v float64, unit string) { b.ReportMetric(v, mode.name+"-"+unit) }
			m(took.Seconds(), "s/snapshot")
			m(tookCPU.Seconds(), "cpu-s/snapshot")
			m(retookCPU.Seconds(), "cpu-s/re-snapshot")
			m(float64(first)/float64(minRequestsVia(o, mode.app, !mode.restOnly)), "requests/min")
			m(heap, "peak-heap-MB")
			m(sys, "peak-sys-MB")
			m(float64(firstPoints)/float64(repos), "points/repo")
			m(float64(firstGQL)/float64(repos), "gql-points/repo")
			m(retook.Seconds(), "s/re-snapshot")
			m(100*float64(s.NotModified())/float64(s.Requests()), "re-304-%")
			m(float64(s.RESTPoints())/float64(repos), "re-points/repo")
			m(float64(s.GraphQLPoints())/float64(repos), "re-gql-points/repo")
			if mode.app {
				b.ReportMetric(float64(snap.Total()), "identities")
				b.ReportMetric(float64(first), "requests")
			}
		}
	}
}
