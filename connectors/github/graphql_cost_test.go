package github

import (
	"strings"
	"testing"
)

// TestQueryCostSizesBatches: by GitHub's formula a query of 100
// repositories costs 13 points and asks 31,000 nodes, within the budgets
// a query keeps (a tenth of the 500,000-node limit, 20 points), so a
// query names 100; the query names each repository once, by variable.
func TestQueryCostSizesBatches(t *testing.T) {
	if points, nodes := queryCost(100); points != 13 || nodes != 31_000 {
		t.Errorf("100 repositories: %d points, %d nodes; want 13 and 31,000", points, nodes)
	}
	if points, _ := queryCost(1); points != 1 {
		t.Errorf("one repository: %d points, want GitHub's minimum of 1", points)
	}
	if n := batchSize(); n != 100 {
		t.Errorf("batch of %d repositories, want 100", n)
	}
	c := &Connector{org: "acme"}
	q := c.query([]repoInfo{{Name: "api"}, {Name: `we"ird`}})
	if strings.Contains(q.Query, "api") || strings.Contains(q.Query, "ird") || q.Variables["n1"] != `we"ird` || q.Variables["org"] != "acme" {
		t.Errorf("names must travel as variables, never in the query text:\n%s\n%v", q.Query, q.Variables)
	}
	if strings.Count(q.Query, ": repository(") != 2 {
		t.Errorf("want one aliased repository field per repository:\n%s", q.Query)
	}
}
