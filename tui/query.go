package tui

import (
	"cmp"
	"slices"
	"sync/atomic"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/filter"
)

// sortSpec is the order of the identities table: a column (or noSort for
// the order identities were given in), in its natural order or reversed.
// Each column's natural order puts first what an auditor looks at first:
// unowned, longest unused, oldest, most severe findings, new and changed.
type sortSpec struct {
	col      int
	reversed bool
}

const noSort = -1

// sortable are the columns `s` cycles through, in order.
var sortable = []int{colKind, colName, colScope, colOwner, colLastUsed, colAge, colFindings, colStatus}

// sortNames name the columns in the title.
var sortNames = map[int]string{
	colKind: "kind", colName: "name", colScope: "scope", colOwner: "owner",
	colLastUsed: "last used", colAge: "age", colFindings: "findings", colStatus: "status",
}

// query is one computation of the table's rows: filter and order. It runs
// off the event loop as a tea.Cmd on an immutable population; its result
// carries its sequence number, and the view drops any result that is not
// the latest. A query that sees a newer one started gives up early.
type query struct {
	seq    uint64
	latest *atomic.Uint64 // the newest seq started
	pop    *population
	filter *filter.Filter // nil: every identity
	env    filter.Env
	sort   sortSpec
	order  []int32 // the natural order of sort.col on pop, when known
}

// queryResult is a query's answer.
type queryResult struct {
	seq      uint64
	rows     []int32  // positions in the population, in display order
	order    []int32  // the natural order it computed, to keep for the next query
	sort     sortSpec // what order is for
	version  uint64   // the population version order is for
	stale    bool     // a newer query started: drop it
	duration time.Duration
}

// checkEvery is how many identities a query handles between looks at
// whether it has been superseded.
const checkEvery = 4096

func (q query) cmd() tea.Cmd { return func() tea.Msg { return q.run() } }

func (q query) run() queryResult {
	start := time.Now()
	res := queryResult{seq: q.seq, sort: q.sort, version: q.pop.version}
	ids := q.pop.ids
	order := q.order
	if q.sort.col != noSort && order == nil {
		order = naturalOrder(ids, q.sort.col)
	}
	res.order = order
	n := len(ids)
	rows := make([]int32, 0, n)
	for k := range n {
		if k%checkEvery == checkEvery-1 && q.latest.Load() != q.seq {
			res.stale = true
			return res
		}
		i := int32(k)
		if order != nil {
			if q.sort.reversed {
				i = order[n-1-k]
			} else {
				i = order[k]
			}
		}
		if q.filter == nil || q.filter.Match(ids[i], &q.env) {
			rows = append(rows, i)
		}
	}
	res.rows = slices.Clip(rows)
	res.duration = time.Since(start)
	return res
}

// naturalOrder is every position of ids sorted by column col in its
// natural order; ties keep the given order. Keys are extracted once, so
// the comparisons touch two slices rather than 100,000 scattered structs.
func naturalOrder(ids []*audit.Identity, col int) []int32 {
	order := make([]int32, len(ids))
	for i := range order {
		order[i] = int32(i)
	}
	byInt := func(key func(*audit.Identity) int64) {
		keys := make([]int64, len(ids))
		for i, id := range ids {
			keys[i] = key(id)
		}
		slices.SortFunc(order, func(a, b int32) int { return cmp.Or(cmp.Compare(keys[a], keys[b]), cmp.Compare(a, b)) })
	}
	byText := func(key func(*audit.Identity) string) {
		keys := make([]string, len(ids))
		for i, id := range ids {
			keys[i] = key(id)
		}
		slices.SortFunc(order, func(a, b int32) int { return cmp.Or(compareFold(keys[a], keys[b]), cmp.Compare(a, b)) })
	}
	switch col {
	case colKind:
		rank := make(map[audit.Kind]int64, len(audit.Kinds))
		for i, k := range audit.Kinds {
			rank[k] = int64(i)
		}
		byInt(func(id *audit.Identity) int64 {
			if r, ok := rank[id.Kind]; ok {
				return r
			}
			return int64(len(rank))
		})
	case colName:
		byText(func(id *audit.Identity) string { return id.Name })
	case colScope:
		byText(func(id *audit.Identity) string { return id.Scope })
	case colOwner: // unowned first
		byText(func(id *audit.Identity) string { return id.Owner })
	case colLastUsed: // never (or not reported) first, then longest ago
		byInt(func(id *audit.Identity) int64 {
			if id.LastUsedAt == nil {
				return -1 << 62
			}
			return id.LastUsedAt.Unix()
		})
	case colAge: // oldest first; unknown creation last
		byInt(func(id *audit.Identity) int64 {
			if id.CreatedAt == nil {
				return 1 << 62
			}
			return id.CreatedAt.Unix()
		})
	case colFindings: // most severe first, then most findings
		byInt(func(id *audit.Identity) int64 {
			worst := 0
			for _, f := range id.Findings {
				worst = max(worst, audit.SeverityRank(f.Severity))
			}
			return -int64(worst*1000 + min(len(id.Findings), 999))
		})
	case colStatus: // new, changed, active, removed
		byInt(func(id *audit.Identity) int64 {
			switch {
			case id.Status == audit.StatusRemoved:
				return 3
			case id.Change == audit.ChangeNew:
				return 0
			case id.Change == audit.ChangeChanged:
				return 1
			}
			return 2
		})
	}
	return order
}

// compareFold compares ASCII case-insensitively without allocating;
// empty strings sort first.
func compareFold(a, b string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return cmp.Compare(x, y)
		}
	}
	return cmp.Compare(len(a), len(b))
}
