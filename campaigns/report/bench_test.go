package report_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
	"github.com/nhi-audit/nhi/campaigns/report"
	"github.com/nhi-audit/nhi/internal/benchmem"
)

// bigCampaign is a closed campaign of n deploy keys: most decommissioned
// in bulk, some kept one by one with a reason, the rest no-response.
func bigCampaign(b *testing.B, n int) *fixture {
	b.Helper()
	f := &fixture{Evidence: campaignstest.New(b, "2026-10-01T06:00:00Z"), t: b}
	st := f.Store
	w, err := st.BeginSnapshot(ctx, audit.SnapshotInfo{Source: "github", Account: "acme", APIURL: "https://api.github.com/", ToolVersion: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	old := campaignstest.TimeP("2024-01-02T03:04:05Z")
	for i := range n {
		repo := fmt.Sprintf("repo-%05d", i/5)
		o := audit.Observation{ID: id(audit.KindGitHubDeployKey, fmt.Sprintf("%s/%d", repo, i)), Kind: audit.KindGitHubDeployKey,
			Name: fmt.Sprintf("key-%d", i), Scope: "acme/" + repo, CreatedAt: old, RotatedAt: old,
			Permissions: map[string]string{"contents": "read"}, Attributes: map[string]string{"added_by": fmt.Sprintf("user%d", i%97), "read_only": "true"}}
		if err := w.Record(o); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := w.Finish(ctx, nil); err != nil {
		b.Fatal(err)
	}
	f.at("2026-10-01T09:00:00Z").must(campaigns.Create(ctx, st, "lead", campaigns.Spec{Name: "big", Scope: "id:*", Due: "2026-12-31",
		Reviewers: []string{"r1", "r2", "r3", "r4"}}))
	cam, err := campaigns.Get(ctx, st, "big")
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < 200; i++ {
		it := &cam.Items[i*7]
		f.decide(fmt.Sprintf("2026-10-02T09:%02d:%02dZ", i/60, i%60), it.Reviewer, "big", it.ID, campaigns.Keep, "still deploys")
	}
	f.at("2026-10-03T10:00:00Z").must(campaigns.DecideMatching(ctx, st, "r1", "big", "name:key-1* or name:key-2* or name:key-3* or name:key-4*", campaigns.Decommission, "unused", false))
	f.at("2026-11-01T10:00:00Z").must(campaigns.Close(ctx, st, "lead", "big"))
	return f
}

// BenchmarkExport100k exports a closed 100,000-item campaign in every
// format: reading it from the evidence file, building the report, rendering
// HTML, Markdown, the CSV tables and JSON, hashing, and writing the bundle.
func BenchmarkExport100k(b *testing.B) {
	f := bigCampaign(b, 100_000)
	b.ReportAllocs()
	// CPU time per export, user and system: on a shared, loaded machine
	// the wall time (ns/op) stretches, this does not (much).
	benchmem.Loop(b, func(turn int) {
		res, err := report.Export(ctx, f.Store, "big", filepath.Join(b.TempDir(), fmt.Sprint(turn)), exportOptions())
		if err != nil {
			b.Fatal(err)
		}
		if res.Report.Attestation.Summary.Items != 100_000 {
			b.Fatalf("%d rows", res.Report.Attestation.Summary.Items)
		}
	})
}

// BenchmarkWriteJSON100k writes report.json of a closed 100,000-item
// campaign: the register, the exceptions and the decommissions streamed
// one row a line.
func BenchmarkWriteJSON100k(b *testing.B) {
	f := bigCampaign(b, 100_000)
	r, err := report.Build(ctx, f.Store, "big", exportOptions().Options)
	if err != nil {
		b.Fatal(err)
	}
	var out countingWriter
	b.ReportAllocs()
	for b.Loop() {
		if err := r.WriteJSON(&out); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(out.n / int64(b.N))
}

type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

// BenchmarkExport1M exports a closed 1,000,000-item campaign in every
// format (issue 21; target ≤ 30 s, streaming) and reports the peak heap
// the export held (heap-MB) besides its CPU time.
func BenchmarkExport1M(b *testing.B) {
	const n = 1_000_000
	f := bigCampaign(b, n)
	benchmem.Loop(b, func(turn int) {
		res, err := report.Export(ctx, f.Store, "big", filepath.Join(b.TempDir(), fmt.Sprint(turn)), exportOptions())
		if err != nil {
			b.Fatal(err)
		}
		if res.Report.Attestation.Summary.Items != n {
			b.Fatalf("%d items", res.Report.Attestation.Summary.Items)
		}
	})
}

// BenchmarkVerifyWhole1M is what `nhi verify` does on a file holding a
// closed 1,000,000-item campaign (issue 21, target ≤ 15 s): the audit part
// (the chain, the snapshot's digest and record, the identities table)
// and, beside it, the campaigns part (their events replayed against their
// tables): campaigns.VerifyStore, as the command runs it.
// It reports the CPU time and the peak heap of the two together.
func BenchmarkVerifyWhole1M(b *testing.B) {
	const n = 1_000_000
	f := bigCampaign(b, n)
	benchmem.Loop(b, func(int) {
		v, err := campaigns.VerifyStore(ctx, f.Store, nil)
		if err != nil || !v.OK() {
			b.Fatalf("%+v %v", v, err)
		}
	})
}

// BenchmarkVerifyWhole100k is BenchmarkVerifyWhole1M on a tenth of it,
// a comparison of two builds that fits in a few minutes.
func BenchmarkVerifyWhole100k(b *testing.B) {
	f := bigCampaign(b, 100_000)
	benchmem.Loop(b, func(int) {
		v, err := campaigns.VerifyStore(ctx, f.Store, nil)
		if err != nil || !v.OK() {
			b.Fatalf("%+v %v", v, err)
		}
	})
}

// benchVerifyAlone exports a closed n-item campaign once, then checks the
// bundle as an auditor without the evidence file does (nhi verify --report
// DIR): the hashes, and every file rendered again from report.json and
// compared (docs/report.md, "With the bundle alone"). It reports the CPU
// time and the peak heap of a check.
func benchVerifyAlone(b *testing.B, n int) {
	f := bigCampaign(b, n)
	dir := filepath.Join(b.TempDir(), "bundle")
	if _, err := report.Export(ctx, f.Store, "big", dir, exportOptions()); err != nil {
		b.Fatal(err)
	}
	f.Store.Close()
	benchmem.Loop(b, func(int) {
		res, err := report.VerifyBundle(ctx, dir, nil, report.VerifyOptions{Tool: "nhi test"})
		if err != nil || !res.OK() || !res.SelfChecked {
			b.Fatalf("%+v %v", res.Problems(), err)
		}
	})
}

// BenchmarkVerifyAlone100k checks a 100,000-item campaign's bundle alone.
func BenchmarkVerifyAlone100k(b *testing.B) { benchVerifyAlone(b, 100_000) }

// BenchmarkVerifyAlone1M checks a 1,000,000-item campaign's bundle alone.
func BenchmarkVerifyAlone1M(b *testing.B) { benchVerifyAlone(b, 1_000_000) }

// BenchmarkVerifyWithLog100k checks a closed 100,000-item campaign's
// bundle against its evidence file (nhi verify --report DIR --db F): the
// hashes, the evidence file verified whole, and the bundle rebuilt from
// the log and compared with the bundle's files. It reports the CPU time
// and the peak heap of a check.
func BenchmarkVerifyWithLog100k(b *testing.B) {
	f := bigCampaign(b, 100_000)
	dir := filepath.Join(b.TempDir(), "bundle")
	if _, err := report.Export(ctx, f.Store, "big", dir, exportOptions()); err != nil {
		b.Fatal(err)
	}
	benchmem.Loop(b, func(int) {
		res, err := report.VerifyBundle(ctx, dir, f.Store, report.VerifyOptions{Tool: "nhi test"})
		if err != nil || !res.OK() || !res.LogChecked {
			b.Fatalf("%+v %v", res.Problems(), err)
		}
	})
}
