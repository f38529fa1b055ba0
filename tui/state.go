package tui

import (
	"cmp"
	"context"
	"maps"
	"strings"
	"time"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/filter"
)

// population is the identities the TUI walks. It is never changed in
// place: a change makes a new population that shares the unchanged
// identities (copy on write), so that a filter running in the background
// reads a consistent, immutable set while the auditor keeps working.
// Positions never move: a row of a table is an index into ids.
type population struct {
	ids []*audit.Identity
	// index maps an ID to its position in ids. Every version shares it;
	// it grows while the population loads (appended), so only the event
	// loop reads it.
	index   map[string]int32
	version uint64
	nsrc    int // distinct source/account pairs: SOURCE shows when more than one
	active  int // identities present in their account's newest snapshot
	// srcs is the set nsrc counts; shared and grown like index, so a
	// population read in batches counts the sources of every batch.
	srcs map[[2]string]bool
}

// manySources reports whether the identities come from more than one
// source or account.
func (p *population) manySources() bool { return p.nsrc > 1 }

// sources is how many source/account pairs the identities come from.
func (p *population) sources() int { return p.nsrc }

func newPopulation(ids []audit.Identity) *population {
	p := &population{ids: make([]*audit.Identity, len(ids)), index: make(map[string]int32, len(ids)), srcs: map[[2]string]bool{}}
	seen := p.srcs
	for i := range ids {
		p.ids[i] = &ids[i]
		p.index[ids[i].ID] = int32(i)
		if ids[i].Status == audit.StatusActive {
			p.active++
		}
		if i == 0 || ids[i].Source != ids[i-1].Source || ids[i].Account != ids[i-1].Account {
			seen[[2]string{ids[i].Source, ids[i].Account}] = true
		}
	}
	p.nsrc = len(seen)
	return p
}

// appended is a new version of p with ids added at the end. It may share
// p.ids' backing array: a version only reads its own length of it, and
// only the latest version is ever appended to.
func (p *population) appended(ids []audit.Identity) *population {
	out := &population{ids: p.ids, index: p.index, version: p.version + 1, srcs: p.srcs, active: p.active}
	if out.srcs == nil {
		out.srcs = map[[2]string]bool{}
	}
	for i := range ids {
		out.index[ids[i].ID] = int32(len(out.ids))
		out.ids = append(out.ids, &ids[i])
		if ids[i].Status == audit.StatusActive {
			out.active++
		}
		if i == 0 || ids[i].Source != ids[i-1].Source || ids[i].Account != ids[i-1].Account {
			out.srcs[[2]string{ids[i].Source, ids[i].Account}] = true
		}
	}
	out.nsrc = len(out.srcs)
	return out
}

// with is a new version of p in which the identities at the positions of
// updates are replaced.
func (p *population) with(updates map[int32]*audit.Identity) *population {
	ids := make([]*audit.Identity, len(p.ids))
	copy(ids, p.ids)
	active := p.active
	for i, id := range updates {
		if ids[i].Status == audit.StatusActive {
			active--
		}
		if id.Status == audit.StatusActive {
			active++
		}
		ids[i] = id
	}
	return &population{ids: ids, index: p.index, version: p.version + 1, nsrc: p.nsrc, srcs: p.srcs, active: active}
}

// state is what the views of one session share. Only the Bubble Tea
// event loop touches it; background commands get immutable copies.
type state struct {
	// ctx is the session's: cancelled when the program ends, it stops the
	// reads and writes still running (Run).
	ctx  context.Context
	snap *audit.Snapshot
	pop  *population
	// loadTotal is how many identities the file held when a read in
	// batches began (stream.go): the header says "loading N of loadTotal".
	loadTotal int
	now       func() time.Time
	store     Store    // nil: nothing to write to or read history from
	reviewer  Reviewer // nil: no campaign features
	actor     string
	readOnly  bool

	// The active campaign and its items by identity ID (replaced, never
	// changed in place: a filter may be reading it); nil until read.
	campaign string
	items    map[string]filter.Item
	// others are the items of campaigns a filter names besides the
	// active one (campaign:NAME), by lower-case name, read on demand.
	others map[string]map[string]filter.Item

	// Loaded in the background on first use.
	owners      []string // Store.KnownOwners
	ownersState loadState
	// diffs are Store.DiffAccount of each source/account whose identity
	// a detail showed ("github/acme"): its own newest pair of snapshots.
	diffs      map[string]*accountDiff
	snapshots  []audit.Snapshot
	snapsState loadState
	campaigns  []Campaign // Reviewer.Campaigns, for the overview
	campsState loadState
	// head is the newest event seen (watch.go): 0 before the first look.
	head int64
	// forOthers: decisions may be recorded on items assigned to other
	// reviewers (:others); the title says so while it is on.
	forOthers bool
	// dirty counts the owner writes of this session per identity ID whose
	// findings still await a reload from the store.
	dirty       map[string]int
	reloading   bool // a reload is running
	reloadAgain bool // and another is needed after it
}

type loadState uint8

const (
	notLoaded loadState = iota
	loading
	loaded
)

// writable reports whether this session may write at all.
func (s *state) writable() bool { return !s.readOnly && s.store != nil }

// identity is the identity at position i.
func (s *state) identity(i int32) *audit.Identity { return s.pop.ids[i] }

// activeCampaign is the chosen campaign as last listed, or nil when it
// was not listed yet.
func (s *state) activeCampaign() *Campaign {
	for i := range s.campaigns {
		if s.campaigns[i].Name == s.campaign {
			return &s.campaigns[i]
		}
	}
	return nil
}

// decision is the decision on identity id in the active campaign:
// DecisionPending while undecided, "" outside its population (or before
// its items are read).
func (s *state) decision(id string) string {
	it, ok := s.items[id]
	if !ok {
		return ""
	}
	return cmp.Or(it.Decision, DecisionPending)
}

// withDecisions is a new items map with decision d for ids (d ""
// restores pending); the maps a query may be reading stay as they were.
func (s *state) withDecisions(ids []string, d func(id string) string) {
	items := maps.Clone(s.items)
	if items == nil {
		items = map[string]filter.Item{}
	}
	for _, id := range ids {
		it := items[id]
		it.Decision = cmp.Or(d(id), DecisionPending)
		items[id] = it
	}
	s.items = items
}

// filterEnv is what a filter needs besides the identity, as of now: the
// clock, and the campaigns its campaign terms read, as they stand (the
// maps are replaced, never changed, so a query running off the event loop
// reads a consistent set).
func (s *state) filterEnv() filter.Env {
	env := filter.Env{Now: s.now()}
	if s.items != nil || len(s.others) > 0 {
		env.Review = &review{inView: strings.ToLower(s.campaign), items: s.items, others: s.others}
	}
	return env
}

// review is a filter.Review over the items the TUI read.
type review struct {
	inView string
	items  map[string]filter.Item
	others map[string]map[string]filter.Item
}

func (r *review) Item(campaign, id string) (filter.Item, bool) {
	items := r.items
	if campaign != "" && campaign != r.inView {
		items = r.others[campaign]
	}
	it, ok := items[id]
	return it, ok
}
