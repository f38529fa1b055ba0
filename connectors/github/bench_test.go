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
// points/repo is what GitHub's rate limit is charged (every request but a
// 304) per repository: it decides whether an organisation takes hours.
// cpu-s is the CPU time of the whole process (the fake GitHub's too): on a
// shared machine it is the fair measure of the work, where s/snapshot
// also counts the time spent waiting for a core.
func BenchmarkSnapshotSampleOrg10000(b *testing.B) {
	benchmarkSnapshot(b, 10000)
}

// BenchmarkSnapshotSampleOrg1000 is the same at a tenth of the size.
func BenchmarkSnapshotSampleOrg1000(b *testing.B) {
	benchmarkSnapshot(b, 1000)
}

func benchmarkSnapshot(b *testing.B, repos int) {
	o := githubtest.SampleOrg(repos)
	s := githubtest.NewServer(o, withApp(b))
	defer s.Close()
	runtime.GC()
	for b.Loop() {
		for _, mode := range []struct {
			name string
			app  bool
			opts func() ghconn.Options
		}{
			{"app", true, func() ghconn.Options { return appOptions(b, s) }},
			{"pat", false, func() ghconn.Options {
				return ghconn.Options{APIURL: s.URL(), HTTPClient: s.Client(), Token: s.Token()}
			}},
		} {
			st := openStore(b, b.TempDir()+"/nhi.db")
			s.ResetCounters()
			stop := benchmem.Start()
			start, cpu := time.Now(), cpuTime()
			snap, _, err := snapshot(b, context.Background(), st, githubtest.SampleLogin, mode.opts())
			took, tookCPU := time.Since(start), cpuTime()-cpu
			u := stop()
			heap, sys := u.HeapMB(), u.SysMB()
			if err != nil || snap.Status == audit.SnapshotFailed {
				b.Fatalf("%v %v", snap, err)
			}
			first, firstPoints := s.Requests(), s.Requests()-s.NotModified()

			s.ResetCounters()
			start, cpu = time.Now(), cpuTime()
			again, _, err := snapshot(b, context.Background(), st, githubtest.SampleLogin, mode.opts())
			retook, retookCPU := time.Since(start), cpuTime()-cpu
			if err != nil || again.Digest != snap.Digest {
				b.Fatalf("re-snapshot: %v (digest %s vs %s)", err, again.Digest, snap.Digest)
			}
			st.Close()

			m := func(v float64, unit string) { b.ReportMetric(v, mode.name+"-"+unit) }
			m(took.Seconds(), "s/snapshot")
			m(tookCPU.Seconds(), "cpu-s/snapshot")
			m(retookCPU.Seconds(), "cpu-s/re-snapshot")
			m(float64(first)/float64(minRequests(o, mode.app)), "requests/min")
			m(heap, "peak-heap-MB")
			m(sys, "peak-sys-MB")
			m(float64(firstPoints)/float64(repos), "points/repo")
			m(retook.Seconds(), "s/re-snapshot")
			m(100*float64(s.NotModified())/float64(s.Requests()), "re-304-%")
			m(float64(s.Requests()-s.NotModified())/float64(repos), "re-points/repo")
			if mode.app {
				b.ReportMetric(float64(snap.Total()), "identities")
				b.ReportMetric(float64(first), "requests")
			}
		}
	}
}
