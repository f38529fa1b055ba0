package campaigns_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
	"github.com/nhi-audit/nhi/internal/benchmem"
	"github.com/nhi-audit/nhi/internal/pgtest"
)

// BenchmarkSerialDecisions is one writer deciding 2,000 items one after
// another on one warm connection, as the owner and as a reviewer role:
// what one decision costs the process and the server with nothing else
// contending for the write lock or the CPU's caches. It moves far less
// with the machine's load than BenchmarkConcurrentDecisions' figures, so
// it is the one to compare two builds with (docs/team.md). The first 100
// decisions warm the connection (its first plans) and are not counted.
// postgres-reviewers-people5000 decides as the reviewer role among a
// directory of 5,000 people, an organisation's, just imported, where the
// others' is the reviewer alone: what the server's checks of who a write
// names cost when the lookup of people has more than a page to search;
// -vacuumed once the database is vacuumed and analysed, as autovacuum
// leaves it a while after an import (docs/team.md).
// postgres-reviewer-named-as-role decides as a reviewer whose role is
// named as their e-mail, so every name the checks compare is the
// session's own, and they ask the directory only whether the person
// has left.
func BenchmarkSerialDecisions(b *testing.B) {
	const warm, n = 100, 2000
	for _, run := range []struct {
		name   string
		roles  bool
		others int  // people in the directory besides the reviewer
		vacuum bool // the database vacuumed once they are
		asRole bool // the reviewer's role named as their e-mail
	}{
		{"postgres", false, 0, false, false}, {"postgres-reviewers", true, 0, false, false},
		{"postgres-reviewers-people5000", true, 4999, false, false}, {"postgres-reviewers-people5000-vacuumed", true, 4999, true, false},
		{"postgres-reviewer-named-as-role", true, 0, false, true},
	} {
		b.Run(run.name, func(b *testing.B) {
			if testing.Short() {
				b.Skip("-short: runs against a real PostgreSQL server")
			}
			f := campaignstest.NewOn(b, campaignstest.Postgres, "2026-10-01T12:00:00Z")
			obs := make([]audit.Observation, warm+n)
			for i := range obs {
				obs[i] = key(fmt.Sprintf("repo-%05d", i/5), fmt.Sprint(i), fmt.Sprintf("user%d", i%97))
			}
			f.Snapshot(b, nil, obs...)
			reviewers := []string{"r0"}
			u, actor := f.Path, "r0"
			switch {
			case run.asRole:
				u, actor = reviewerRoleNamedAsEmail(b, f, reviewers[0])
			case run.roles:
				u = reviewerRoles(b, f, reviewers)[0]
			}
			addPeople(b, f, run.others)
			if run.vacuum {
				pgtest.Exec(b, f.Path, "VACUUM ANALYZE")
			}
			st, err := audit.Open(ctx, u, audit.OpenOptions{})
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			srv := pgtest.Shared(b)
			var cpu, serverCPU, wall time.Duration
			round := 0
			for b.Loop() {
				round++
				b.StopTimer()
				name := fmt.Sprint("q", round)
				if _, err := campaigns.Create(ctx, f.Store, "lead", campaigns.Spec{Name: name, Scope: "id:*", Due: "2026-12-31", Reviewers: reviewers}); err != nil {
					b.Fatal(err)
				}
				c, err := campaigns.Get(ctx, f.Store, name)
				if err != nil {
					b.Fatal(err)
				}
				for _, it := range c.Items[:warm] {
					if _, err := campaigns.Decide(ctx, st, actor, name, it.ID, campaigns.Decommission, ""); err != nil {
						b.Fatal(err)
					}
				}
				srv0, err := srv.CPUTime()
				if err != nil {
					b.Fatal(err)
				}
				cpu0, t0 := benchmem.CPUTime(), time.Now()
				b.StartTimer()
				for _, it := range c.Items[warm:] {
					if _, err := campaigns.Decide(ctx, st, actor, name, it.ID, campaigns.Decommission, ""); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				wall += time.Since(t0)
				cpu += benchmem.CPUTime() - cpu0
				srv1, err := srv.CPUTime()
				if err != nil {
					b.Fatal(err)
				}
				serverCPU += srv1 - srv0
				b.StartTimer()
			}
			decisions := float64(round * n)
			b.ReportMetric(float64(cpu.Microseconds())/decisions, "cpu-µs/decision")
			b.ReportMetric(float64(serverCPU.Microseconds())/decisions, "server-cpu-µs/decision")
			b.ReportMetric(float64(wall.Microseconds())/decisions, "wall-µs/decision")
		})
	}
}

// reviewerRoleNamedAsEmail makes the login role of reviewer r named as
// their e-mail in the directory (r@<database>.test; roles are the
// server's), r another of their names, and returns the URL that connects
// as it and the role's name.
func reviewerRoleNamedAsEmail(b *testing.B, f *fixture, r string) (string, string) {
	b.Helper()
	if _, err := f.Store.InitRoles(ctx); err != nil {
		b.Fatal(err)
	}
	role := r + "@" + pgtest.DatabaseName(f.Path) + ".test"
	u := pgtest.LoginRole(b, f.Path, role, audit.RoleReviewer)
	if _, err := f.Store.SetPeople(ctx, "admin", audit.PeopleImport{People: []audit.Person{{Email: role, Aliases: []string{r}}}}, false); err != nil {
		b.Fatal(err)
	}
	return u, role
}
