package campaigns

import (
	"context"
	"errors"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"weak"

	"github.com/nhi-audit/nhi/audit"
)

// decideChecked is decideTx with its reads and checks done before the
// write lock is taken, so that 40 reviewers deciding at once queue only
// for the append (audit.Store.AppendChecked; docs/team.md, "Many writers,
// one chain"). decisionCheck, read first, stamps everything the decision
// depends on; under the lock it must read the same, or decideChecked
// returns errDecideLocked and the caller decides the long way, under the
// lock from the start. So does every refusal and error found here: the
// long way says it, and records a refusal, exactly as it always has.
//
// What changes seldom — the campaign's row, its teams, the directory of
// people — is kept between decisions (decideMemo) for as long as the
// stamp says it has not changed, so a decision whose campaign and
// directory are known reads one statement before the lock.
func decideChecked(ctx context.Context, st *audit.Store, actor, campaign, id string, d Decision, reason string, refuseSame bool, terms *exceptionTerms, opts ...decideOption) (*Outcome, error) {
	// The stamp, the item, its owner and which campaign it is, in one
	// statement, so they are of one moment; the campaign and the
	// directory, when not already known, after it: the stamp covers them.
	check := decisionCheck(campaign, id)
	var (
		want       string
		owner      string
		it         liveItem
		campaignID int64
		createSeq  int64
		renamed    bool
	)
	read := decisionRead(campaign, id)
	rows, err := st.Query(ctx, read.Query, read.Args...)
	if err != nil {
		return nil, errDecideLocked
	}
	found := rows.Next() && scanFrozen(rows, &it.frozen, append(it.scanArgs(), &owner, &want, &campaignID, &createSeq, &renamed)...) == nil
	rows.Close()
	// An ID that is no item's, and an item whose identity has another ID
	// now (renames.go), go the long way: it finds the item by either ID,
	// and reads the owner recorded under both, which this read and its
	// stamp do not.
	if !found || renamed || rows.Err() != nil {
		return nil, errDecideLocked
	}
	stamp, ok := parseDecisionStamp(want)
	if !ok || stamp.status != StatusOpen {
		return nil, errDecideLocked
	}
	sep, err := memoFor(st).separation(ctx, st, campaign, campaignID, createSeq, stamp.personSeq)
	if err != nil {
		return nil, errDecideLocked
	}
	c := sep.c
	sg := signingFrom(ctx)
	p, err := planDecision(c, sep, &it, owner, "", actor, d, reason, refuseSame, terms, sg, opts...)
	if err != nil {
		return nil, errDecideLocked
	}
	if beforeDecideLock != nil {
		beforeDecideLock()
	}
	var out *Outcome
	ev, err := st.AppendChecked(ctx, check, want, actor, EventDecide, p, sg.signer(), func(ev audit.Event) []audit.Stmt {
		o, stmts := applyDecision(sep, c.ID, it, p, actor, ev)
		out = o
		return stmts
	})
	if errors.Is(err, audit.ErrChanged) {
		return nil, errDecideLocked
	}
	if err != nil {
		return nil, err
	}
	out.Event = ev // then may have seen a stand-in for the event's number
	return out, nil
}

// decisionRead is the statement decideChecked reads before the lock:
// the item, its owner, which campaign it is and the stamp
// (decisionCheck) of what deciding it depends on, all of one moment, and
// whether its identity was renamed since (identity_aliases).
func decisionRead(campaign, id string) audit.Stmt {
	return audit.Stmt{Query: decisionReadQuery, Args: append(decisionCheck(campaign, id).Args, campaign, id)}
}

const decisionReadQuery = `SELECT ` + frozenColumns + `, ` + stateColumns + `,
		COALESCE((SELECT o.owner FROM owners o WHERE o.identity_id = campaign_items.identity_id), ''), (` + decisionCheckQuery + `),
		campaign_id, (SELECT c.create_seq FROM campaigns c WHERE c.id = campaign_items.campaign_id),
		EXISTS (SELECT 1 FROM identity_aliases a WHERE a.id = campaign_items.identity_id)
		FROM campaign_items WHERE campaign_id = (SELECT id FROM campaigns WHERE name = ?) AND identity_id = ?`

// beforeDecideLock, when set (by a test), runs between decideChecked's
// reads and the lock.
var beforeDecideLock func()

// decideAlwaysLocked, when set (by a benchmark), sends every decision
// the long way.
var decideAlwaysLocked bool

// errDecideLocked sends a decision the long way, under the write lock.
var errDecideLocked = errors.New("decide under the write lock")

// decisionCheck reads the stamps of what deciding item id of campaign
// depends on: the campaign's status, the item's last decision, the last
// owner.set of the identity and the last person.set of the directory
// (the separation rules read owners and people; the teams and the frozen
// item never change). Each only grows, so the same answer twice means
// nothing changed in between. parseDecisionStamp reads it back.
//
// The event types are in the statement's text, not arguments: PostgreSQL
// plans a prepared statement once for all its arguments after a few runs
// (a generic plan), and with the type an unknown argument that plan read
// the log backwards from its newest event to find the last person.set,
// a scan as long as the log, or the server planned the statement anew on
// every decision; with the types written in, every plan finds each
// number through an index (TestDecisionCheckUsesIndexes).
func decisionCheck(campaign, id string) audit.Stmt {
	return audit.Stmt{Query: decisionCheckQuery, Args: []any{id, id, campaign}}
}

const decisionCheckQuery = `SELECT c.status || ' ' || COALESCE(c.close_seq, 0)
		|| ' ' || COALESCE((SELECT max(d.seq) FROM campaign_decisions d WHERE d.campaign_id = c.id AND d.identity_id = ?), 0)
		|| ' ' || COALESCE((SELECT max(e.seq) FROM events e WHERE json_extract(e.payload, '$.identity') = ? AND e.type = '` + audit.EventOwnerSet + `'), 0)
		|| ' ' || COALESCE((SELECT max(e.seq) FROM events e WHERE e.type = '` + audit.EventPersonSet + `'), 0)
		FROM campaigns c WHERE c.name = ?`

// decisionStamp is what a decisionCheck answer says of the campaign and
// the directory.
type decisionStamp struct {
	status    string
	personSeq int64 // the last person.set event
}

func parseDecisionStamp(s string) (decisionStamp, bool) {
	f := strings.Fields(s)
	if len(f) != 5 {
		return decisionStamp{}, false
	}
	seq, err := strconv.ParseInt(f[4], 10, 64)
	if err != nil {
		return decisionStamp{}, false
	}
	return decisionStamp{status: f[0], personSeq: seq}, true
}

// decideMemo is what one store's decisions keep between them: the open
// campaign last decided in, with its teams, the directory of people, and
// the exception policy of each campaign a keep was decided in.
// A campaign's row changes only when it is closed, which its stamp shows
// (a closed campaign is never taken from here), and its teams are those
// of its snapshots, which never change; the directory is kept with the
// sequence number of the last person.set event it reflects, and used
// only while the stamp gives the same number.
type decideMemo struct {
	mu        sync.Mutex
	campaign  *Campaign
	teams     map[string]map[string]bool
	dir       *audit.Directory
	dirSeq    int64
	dirLoaded bool
	policies  map[string]audit.ExceptionPolicy // by campaign name: exceptionPolicy
}

// exceptionPolicy is the exception policy of the campaign named name
// (campaignExceptionPolicy), kept once read: a campaign keeps the policy
// it was created under, and its name is never another campaign's.
func (m *decideMemo) exceptionPolicy(ctx context.Context, st *audit.Store, name string) (audit.ExceptionPolicy, error) {
	m.mu.Lock()
	pol, ok := m.policies[name]
	m.mu.Unlock()
	if ok {
		return pol, nil
	}
	c, err := load(ctx, st, name)
	if err != nil {
		return audit.ExceptionPolicy{}, err
	}
	if pol, err = campaignExceptionPolicy(ctx, st, c); err != nil {
		return audit.ExceptionPolicy{}, err
	}
	m.mu.Lock()
	if m.policies == nil {
		m.policies = map[string]audit.ExceptionPolicy{}
	}
	m.policies[name] = pol
	m.mu.Unlock()
	return pol, nil
}

// memos holds each open store's decideMemo; an entry goes when its store
// is garbage.
var memos sync.Map // weak.Pointer[audit.Store] -> *decideMemo

func memoFor(st *audit.Store) *decideMemo {
	key := weak.Make(st)
	if m, ok := memos.Load(key); ok {
		return m.(*decideMemo)
	}
	m, loaded := memos.LoadOrStore(key, &decideMemo{})
	if !loaded {
		runtime.AddCleanup(st, func(k weak.Pointer[audit.Store]) { memos.Delete(k) }, key)
	}
	return m.(*decideMemo)
}

// keepDir keeps dir, the directory as of person.set event seq, unless
// the memo already holds a newer one (two reads may return out of order).
func (m *decideMemo) keepDir(dir *audit.Directory, seq int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.dirLoaded || seq >= m.dirSeq {
		m.dir, m.dirSeq, m.dirLoaded = dir, seq, true
	}
}

// separation is newSeparation for a decision in the open campaign named
// name (id campaignID, created by event createSeq) while the last
// person.set event is personSeq: from what the memo holds, reading only
// what it lacks or what has changed.
func (m *decideMemo) separation(ctx context.Context, st *audit.Store, name string, campaignID, createSeq, personSeq int64) (*separation, error) {
	m.mu.Lock()
	c, teams := m.campaign, m.teams
	dir, dirOK := m.dir, m.dirLoaded && m.dirSeq == personSeq
	m.mu.Unlock()
	if c == nil || c.Name != name || c.ID != campaignID || c.CreateSeq != createSeq {
		var err error
		if c, err = loadOpen(ctx, st, name); err != nil {
			return nil, err
		}
		if c.ID != campaignID || c.CreateSeq != createSeq {
			return nil, errDecideLocked
		}
		if teams, err = readTeams(ctx, st, c); err != nil {
			return nil, err
		}
		m.mu.Lock()
		m.campaign, m.teams = c, teams
		m.mu.Unlock()
	}
	if !dirOK {
		var (
			seq int64
			err error
		)
		if dir, seq, err = st.PeopleSeq(ctx); err != nil {
			return nil, err
		}
		m.keepDir(dir, seq)
	}
	return &separation{c: c, dir: dir, teams: teams}, nil
}

// PrepareToDecide readies st for actor's decisions in the open campaign
// named campaign, so that the first of them is made as those after it
// are: in one round trip, on a connection whose server process is
// ready (docs/team.md, "A reviewer's first decision"). For a review
// about to begin — the TUI calls it when a reviewer opens a campaign,
// off its event loop. On PostgreSQL it reads and keeps what a decision
// keeps (decideMemo: the campaign, its teams, the directory of people),
// which the first decision would otherwise read first, and then
// rehearses a decommission of item id — one actor may decide, say the
// first of theirs still pending — six times, each in a transaction
// rolled back (audit.Store.RehearseCall): nothing is recorded, and the
// server has
// compiled nhi_decide, the functions and the triggers it runs, and
// planned their statements, which the first decision would otherwise
// do holding the write lock while every other reviewer waits. Each
// rehearsal takes the write lock for as long as a decision does, and
// waits a second for it at most. A rehearsal refused (the item decided
// meanwhile, another's item) has still prepared most of it; its error is
// returned, and the decisions after it are made as they would have been
// anyway. On an evidence file it does nothing: there a decision reads
// under the file's lock, with nothing to prepare.
func PrepareToDecide(ctx context.Context, st *audit.Store, actor, campaign, id string) error {
	if !st.Remote() {
		return nil
	}
	c, err := loadOpen(ctx, st, campaign)
	if err != nil {
		return err
	}
	teams, err := readTeams(ctx, st, c)
	if err != nil {
		return err
	}
	dir, seq, err := st.PeopleSeq(ctx)
	if err != nil {
		return err
	}
	// As separation keeps them: nhi_decide refuses unless the campaign is
	// still the open one with this ID and creation event, and the
	// directory's last person.set is still seq.
	m := memoFor(st)
	m.mu.Lock()
	m.campaign, m.teams = c, teams
	m.mu.Unlock()
	m.keepDir(dir, seq)
	for range rehearsals {
		_, err = decideOneTrip(ctx, st, actor, campaign, id, Decommission, "", true, nil, true)
		if errors.Is(err, errDecideLocked) {
			return nil // nothing to rehearse: the first decision goes the long way
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// rehearsals is how many times PrepareToDecide rehearses a decision.
// PostgreSQL plans a statement with arguments (each of a PL/pgSQL
// function's) anew for its first five runs on a connection (custom
// plans), and on the sixth makes the generic plan it keeps from then on
// when that costs no more: six rehearsals leave no plan to make to the
// decisions after them, which otherwise make them while they hold the
// write lock (docs/team.md, "A reviewer's first decision").
const rehearsals = 6
