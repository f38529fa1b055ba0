package tui

// Patching a cached table (issue 21). A review campaign is when the TUI
// is opened again and again, each time after decisions: were every
// decision to force a full read, the cache would serve least when it is
// needed most. A decision changes the table in one way only: it can start
// or end an identity's standing exception, whose lapse is the
// exception-expired finding (campaigns/exceptions.go, standingExceptions,
// read by package audit through RegisterExceptions). Which identities
// that can be is known from the events since the cached head:
//
//   - campaign.decide, campaign.confirm, campaign.undo and
//     decision.approve list the identities they decide, undo or approve
//     in their payload's items (campaigns.DecidePayload, ConfirmPayload,
//     UndoPayload, ApprovePayload): a decision in any campaign can change
//     which campaign's decision stands for them, an approval the
//     exception's state;
//   - campaign.close makes undecided items no-response (which no
//     exception reads) and ends, at the close, every exception of the
//     campaign that needed an approval and had none: its payload names the
//     campaign only, so the campaign's exceptions are listed through the
//     Reviewer (ExceptionLister; without one a close is a full read).
//
// Those rows, and the rows of the identities whose owner changed, are
// re-derived as a live owner change re-derives them (Model.reload:
// audit.Store.Refresh re-reads the owner and evaluates the findings with
// the standing exceptions as they are now), and replaced. When the
// identities named exceed patchMax the table is read whole instead. Once
// every such row is in, and if the log has not moved meanwhile, the
// patched table is written as the cache of the head it now matches, so the
// next open reads it with no patch and the older file goes by the
// keep-two rule (writeTableCache).

import (
	"context"
	"encoding/json"
	"errors"
	"slices"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/nhi-audit/nhi/audit"
)

// decisionEvents are the events that name in their payload's items the
// identities whose standing exception they may start or end.
var decisionEvents = []string{
	"campaign.decide",  // campaigns.EventDecide
	"campaign.confirm", // campaigns.EventConfirm
	"campaign.undo",    // campaigns.EventUndo
	"decision.approve", // campaigns.EventApprove
}

// closeEvent ends a campaign: its payload names the campaign, whose
// exceptions ExceptionLister lists.
const closeEvent = "campaign.close" // campaigns.EventClose

// patchMax is the most identities the decisions and closes since a cached
// head may name for the cached table to be patched rather than read whole.
// The patch runs after the cached table is on screen, off the event loop,
// the rows changing in place, and its cost is mostly fixed: one read of
// what findings depend on (the standing exceptions' scans every
// campaign's items, about 1 s at a million identities, audit.Refresher),
// then the patched table's write. Measured at a million identities on a
// loaded 2-core machine: 300 decisions, and 10,000, each cost about 5
// CPU-seconds from open to the patched table written back (2.3 for an
// open with nothing to patch), where a full read cost 36; a few hundred
// decisions are a day of review. The bound is a choice, not a measured
// crossover: it keeps the time the re-derived rows are pending on screen
// (and the identities held to re-derive them) small whatever a bulk
// decision or a close names; above it the table is read whole, and
// cached again.
// (A variable for the tests, which lower it.)
var patchMax = 10_000

// ExceptionLister is the part of a Reviewer that lists the identities of
// a campaign's exceptions (its keeps of items that had findings), at most
// limit: what its close can change in a cached table. cmd/nhi's reviewer
// has it (campaigns.ExceptionIDs); without it a close since the cached
// head makes a full read.
type ExceptionLister interface {
	ExceptionIDs(ctx context.Context, campaign string, limit int) ([]string, error)
}

// errPatchTooBig stops reading the events since a head once they name
// more identities than rowsSince's most.
var errPatchTooBig = errors.New("too many identities to re-derive")

// errNotNamed is rowsSince's answer when the events since a head change
// rows they do not name (a snapshot, the policy, the directory of
// people, a type rowsSince does not know), or name more than its most:
// an open reads the table whole, the watch derives every row again.
var errNotNamed = errors.New("the rows changed are not named")

// itemsPayload is what decisionEvents and closeEvent say of whom they
// change: the campaign, and the identities (item IDs are identity IDs).
type itemsPayload struct {
	Campaign string   `json:"campaign"`
	Items    []string `json:"items"`
}

// rowsSince is the identities whose rows may differ between the table
// as it stood at event seq and the table at event upTo: the owners
// changed in between, and those the decisions and closes in between can
// change. types are the kinds of event in between when the caller read
// them (audit.Store.EventTypesTo); nil reads them. errNotNamed says
// they cannot be named (an event that changes more than that, more than
// most identities named by decisions and closes, or a close and no x to
// list its exceptions); another error, that the store could not say. An
// open from a cache of an older head patches the rows it names
// (patchTable; most is patchMax), and the watch derives them again after
// another process wrote (watch.go; most is the table's size, past which
// every row is as cheap): one answer to "what did the events since
// change", so the table a reviewer keeps open and the one the next open
// patches agree.
func rowsSince(ctx context.Context, s tableCacheStore, x ExceptionLister, seq, upTo int64, types []string, most int) ([]string, error) {
	var err error
	if types == nil {
		if types, err = s.EventTypesSince(ctx, seq); err != nil {
			return nil, err
		}
	}
	var naming []string
	for _, t := range types {
		switch {
		case t == audit.EventOwnerSet:
			naming = append(naming, t)
		case ownersOnly[t]:
		case isDecisionEvent(t), t == closeEvent && x != nil:
			naming = append(naming, t)
		default:
			return nil, errNotNamed
		}
	}
	// The owners set and the items decided are read in one pass of the
	// events in between, where the owners were a statement of their own
	// (OwnersChangedSince) run even when none was set.
	var ids []string
	seen := map[string]bool{}
	named := 0
	err = s.EventsSince(ctx, seq, upTo, naming, func(ev audit.Event) error {
		if ev.Type == audit.EventOwnerSet {
			// The owners changed are re-read whatever their number, as
			// before decisions were patched.
			var p struct {
				Identity string `json:"identity"`
			}
			if json.Unmarshal(ev.Payload, &p) == nil && p.Identity != "" && !seen[p.Identity] {
				seen[p.Identity] = true
				ids = append(ids, p.Identity)
			}
			return nil
		}
		var p itemsPayload
		if json.Unmarshal(ev.Payload, &p) != nil {
			return errNotNamed // no reading it again will tell
		}
		list := p.Items
		if ev.Type == closeEvent {
			if list, err = x.ExceptionIDs(ctx, p.Campaign, most+1); err != nil {
				return err
			}
		}
		for _, id := range list {
			if !seen[id] {
				if named++; named > most {
					return errPatchTooBig
				}
				seen[id] = true
				ids = append(ids, id)
			}
		}
		return nil
	})
	if errors.Is(err, errPatchTooBig) {
		err = errNotNamed
	}
	if err != nil {
		return nil, err
	}
	// A campaign's events name the IDs it froze; the table lists a
	// renamed identity under its ID now (docs/campaigns.md, "Renamed
	// repositories"), and that is the row to derive again.
	if len(ids) > 0 {
		aliases, err := s.Aliases(ctx)
		if err != nil {
			return nil, err
		}
		// Aliases maps each old ID to its latest, renames of renames
		// followed.
		for _, id := range ids {
			if cur, ok := aliases[id]; ok && !seen[cur] {
				seen[cur] = true
				ids = append(ids, cur)
			}
		}
	}
	return ids, nil
}

func isDecisionEvent(t string) bool { return slices.Contains(decisionEvents, t) }

// patchTable re-derives the rows of ids (rowsSince) in the table read
// from a cache of an older head, as a live owner change does (reload);
// once they are in the table matches head, and is written as its cache
// (patchDone).
func (m *Model) patchTable(head logPoint, ids []string) tea.Cmd {
	m.cache.pending = &head
	for _, id := range ids {
		if _, ok := m.st.pop.find(id); ok {
			m.st.markDirty(id)
		}
	}
	if len(m.st.dirty) == 0 {
		m.patchDone() // nothing to re-derive: a note, a campaign created
		return nil
	}
	return m.reload()
}

// patchDone writes a patched table as the cache of the head it matches,
// off the event loop, once every row to re-derive is in (a reload ended
// with nothing dirty), if the log still stands there: the rows were
// re-derived from the store as it was when they were read, which is the
// head's only while no event came since. A reload that failed, or
// changes of this session since, leave the older file (the log moved).
func (m *Model) patchDone() {
	s, ok := m.st.store.(tableCacheStore)
	if m.cache.pending == nil || m.st.reloading || len(m.st.dirty) > 0 || !ok || m.opts.TableCache == "" {
		return
	}
	at := *m.cache.pending
	m.cache.pending = nil
	m.writeCache(at, s)
}
