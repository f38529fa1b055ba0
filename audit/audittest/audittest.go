// Package audittest builds large evidence files for benchmarks straight
// through the store (audit.SnapshotWriter), without a connector or an API,
// and measures the CPU time an operation takes. The heap it holds at its
// peak is internal/benchmem's to sample.
package audittest

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/audit"
)

// Created is when every generated identity was created and last rotated:
// long enough ago that the stale and unrotated rules fire, as they do in
// a real organisation that has never reviewed its keys.
var Created = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

// DeployKey is the i-th identity of a generated population: a GitHub
// deploy key of repo-NNNNN (five keys a repository), added by one of 97
// users, read-only on even numbers. The same i always gives the same
// observation.
//
// It is built with strconv rather than fmt: at a million the generator's
// own formatting was a tenth of what a snapshot benchmark measured.
func DeployKey(i int) audit.Observation {
	n := strconv.Itoa(i / 5)
	repo := "repo-" + "000000"[min(len(n), 6):] + n // %06d
	num := strconv.Itoa(i)
	created := Created
	access := "write"
	if i%2 == 0 {
		access = "read"
	}
	return audit.Observation{
		ID:   audit.IdentityID("github", "acme", audit.KindGitHubDeployKey, repo+"/"+num),
		Kind: audit.KindGitHubDeployKey, Name: "key-" + num, Scope: "acme/" + repo,
		CreatedAt: &created, RotatedAt: &created,
		Permissions: map[string]string{"contents": access},
		Attributes:  map[string]string{"added_by": "user" + strconv.Itoa(i%97), "read_only": strconv.FormatBool(i%2 == 0)},
	}
}

// Population records n generated identities (DeployKey) as one finished
// snapshot of github/acme, one observation at a time: the generator holds
// none of them, so a benchmark of a million measures the store, not the
// fixture.
func Population(tb testing.TB, st *audit.Store, n int) *audit.Snapshot {
	tb.Helper()
	ctx := context.Background()
	w, err := st.BeginSnapshot(ctx, audit.SnapshotInfo{Source: "github", Account: "acme", APIURL: "https://api.github.com/", ToolVersion: "bench"})
	if err != nil {
		tb.Fatal(err)
	}
	for i := range n {
		if err := w.Record(DeployKey(i)); err != nil {
			tb.Fatal(err)
		}
	}
	snap, err := w.Finish(ctx, nil)
	if err != nil {
		tb.Fatal(err)
	}
	if snap.Total() != n {
		tb.Fatalf("the generated snapshot holds %d identities, not %d", snap.Total(), n)
	}
	return snap
}
