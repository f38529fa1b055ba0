package campaigns

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/nhi-audit/nhi/audit"
)

// verifyOffboardings compares the offboarding tables with the
// offboard.create events they project: a row added, changed or deleted
// behind nhi's back is named, as Verify names campaign rows.
func verifyOffboardings(ctx context.Context, st *audit.Store) ([]string, error) {
	var evs []audit.Event
	if err := eachEventOfType(ctx, st, "offboard.", func(e *audit.Event) error {
		if e.Type == EventOffboard {
			evs = append(evs, *e)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	seen := map[int64]bool{}
	for _, e := range evs {
		var want OffboardPayload
		if err := json.Unmarshal(e.Payload, &want); err != nil {
			add("event %d (%s): %v", e.Seq, e.Type, err)
			continue
		}
		var cid int64
		if err := st.QueryRow(ctx, `SELECT id FROM campaigns WHERE name = ?`, want.Campaign).Scan(&cid); err != nil {
			add("event %d offboards in campaign %s, which is missing from the campaigns table", e.Seq, audit.Printable(want.Campaign))
			continue
		}
		seen[cid] = true
		got, err := offboardingOf(ctx, st, cid)
		if err != nil {
			return nil, err
		}
		if got == nil {
			add("campaign %s: its offboarding (event %d) is missing from the offboardings table", audit.Printable(want.Campaign), e.Seq)
			continue
		}
		if got.Kind != want.Kind || got.Person != want.Person || got.Effective != want.Effective || got.Seq != e.Seq {
			add("campaign %s: the offboardings row (%s %s, effective %s, event %d) differs from event %d (%s %s, effective %s)",
				audit.Printable(want.Campaign), got.Kind, audit.Printable(got.Person), got.Effective, got.Seq, e.Seq, want.Kind, audit.Printable(want.Person), want.Effective)
		}
		if !slices.EqualFunc(got.Items, want.Items, sameOffboardItem) {
			add("campaign %s: offboard_items (%d rows) differ from event %d (%d items): why an identity is offboarded was edited",
				audit.Printable(want.Campaign), len(got.Items), e.Seq, len(want.Items))
		}
	}
	rows, err := st.Query(ctx, `SELECT campaign_id FROM offboardings UNION SELECT campaign_id FROM offboard_items`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var cid int64
		if err := rows.Scan(&cid); err != nil {
			return nil, err
		}
		if !seen[cid] {
			add("campaign %d has offboarding rows that no offboard.create event records: they were added behind nhi's back", cid)
		}
	}
	return problems, rows.Err()
}

func sameOffboardItem(a, b OffboardItem) bool {
	return a.ID == b.ID && a.Snapshot == b.Snapshot && slices.Equal(a.Relations, b.Relations)
}
