package filter_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/filter"
)

// filterBenchPopulation builds n identities with a realistic mix: every
// kind, a few hundred repositories, a third without owner, findings on
// about half, timestamps over three years.
func filterBenchPopulation(n int) []audit.Identity {
	rng := rand.New(rand.NewPCG(1, 2))
	repos := []string{"api", "web", "infra", "billing", "mobile", "data", "auth", "docs"}
	people := []string{"alice", "bob", "carol", "dave", "erin", "Frank Lee", "grace@acme.example", "platform-team"}
	rules := []audit.Finding{
		{Rule: "stale", Severity: "high"}, {Rule: "unrotated", Severity: "medium"},
		{Rule: "orphaned", Severity: "medium"}, {Rule: "overprivileged", Severity: "high"},
		{Rule: "broad-scope", Severity: "medium"}, {Rule: "no-expiry", Severity: "low"},
		{Rule: "third-party", Severity: "low"}, {Rule: "insecure-webhook", Severity: "critical"},
	}
	at := func(maxDays int) *time.Time {
		t := filterTestNow.Add(-time.Duration(rng.IntN(maxDays*24)) * time.Hour)
		return &t
	}
	ids := make([]audit.Identity, n)
	for i := range ids {
		k := audit.Kinds[rng.IntN(len(audit.Kinds))]
		repo := fmt.Sprintf("acme/%s-%03d", repos[rng.IntN(len(repos))], rng.IntN(60))
		scope := repo
		if rng.IntN(5) == 0 {
			scope = "acme"
		}
		name := fmt.Sprintf("%s-%d", []string{"ci", "deploy", "release-bot", "backup", "DEPLOY_TOKEN", "NPM_TOKEN", "renovate"}[rng.IntN(7)], i)
		id := audit.Identity{
			Observation: audit.Observation{
				ID:        audit.IdentityID("github", "acme", k, fmt.Sprintf("%s/%d", scope, i)),
				Kind:      k,
				Name:      name,
				Scope:     scope,
				CreatedAt: at(1100),
			},
			Source: "github",
			Status: audit.StatusActive,
		}
		if rng.IntN(3) > 0 {
			id.Owner = people[rng.IntN(len(people))]
		}
		if k.TracksLastUse() && rng.IntN(4) > 0 {
			id.LastUsedAt = at(400)
		}
		if k == audit.KindGitHubFineGrainedPAT || k == audit.KindGitHubCredentialAuthorization {
			t := filterTestNow.Add(time.Duration(rng.IntN(200*24)-30*24) * time.Hour)
			id.ExpiresAt = &t
		}
		if rng.IntN(3) == 0 {
			id.RotatedAt = at(300)
		}
		if rng.IntN(2) == 0 {
			id.Permissions = map[string]string{"contents": []string{"read", "write"}[rng.IntN(2)], "metadata": "read"}
		}
		if rng.IntN(2) == 0 {
			id.Attributes = map[string]string{"read_only": []string{"true", "false"}[rng.IntN(2)], "added_by": people[rng.IntN(len(people))]}
		}
		for f := rng.IntN(4) - 1; f > 0; f-- {
			id.Findings = append(id.Findings, rules[rng.IntN(len(rules))])
		}
		if rng.IntN(20) == 0 {
			id.Status = audit.StatusRemoved
		}
		ids[i] = id
	}
	return ids
}

// BenchmarkFilter100k evaluates one compiled filter over 100,000 identities
// per op. Target: ≤ 30 ms per op, no allocation.
func BenchmarkFilter100k(b *testing.B) {
	ids := filterBenchPopulation(100_000)
	// A campaign in view holding every other identity, a third of them
	// mine, one in seven kept.
	items := map[string]filter.Item{}
	for i := 0; i < len(ids); i += 2 {
		it := filter.Item{Reviewer: "bob", Decision: "pending"}
		if i%3 == 0 {
			it = filter.Item{Reviewer: "alice", Mine: true, Decision: "pending"}
		}
		if i%7 == 0 {
			it.Decision = "keep"
		}
		items[ids[i].ID] = it
	}
	env := &filter.Env{Now: filterTestNow, Review: &testReview{inView: "q3", items: map[string]map[string]filter.Item{"q3": items}}}
	for _, bc := range []struct{ name, expr string }{
		{"compound", "kind:github_deploy_key or (finding:stale -owner:none) scope:acme/api*"},
		{"freetext", "release-bot"},
		{"freetext-miss", `"no such text"`},
		{"freetext-glob", "deploy*-9?9"},
		{"time", "unused>90d or expires<14d or (age>2y rotated:never)"},
		{"campaign", "status:active (kind:*pat* or kind:credential_authorization) severity:high -decision:keep owner:a* perm:write attr.read_only:false"},
		{"queue", "campaign:q3 reviewer:me decision:pending"},
	} {
		f, err := filter.Parse(bc.expr, audit.Vocabulary)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				n = 0
				for i := range ids {
					if f.Match(&ids[i], env) {
						n++
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(ids)), "ns/identity")
			b.ReportMetric(float64(n), "matched")
		})
	}
}

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := filter.Parse("kind:github_deploy_key or (finding:stale -owner:none) scope:acme/api* unused>90d", audit.Vocabulary); err != nil {
			b.Fatal(err)
		}
	}
}
