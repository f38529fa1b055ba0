package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
)

// writeJSON prints v as indented JSON, as every -o json does.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// The JSON shapes scripts read: fields are only ever added.

type campaignJSON struct {
	Name     string `json:"name"`
	Status   string `json:"status"`
	Due      string `json:"due"`
	Overdue  bool   `json:"overdue"`
	Scope    string `json:"scope"`
	Snapshot int64  `json:"snapshot"`
	AsOf     string `json:"as_of"`
	// Snapshots are every snapshot of the population, one per
	// source/account; Snapshot and AsOf are the newest's.
	Snapshots []campaigns.SnapshotUse `json:"snapshots"`
	// NotRead are the accounts reviewed whose newest run had not finished
	// at creation (snapshot: the older read held, absent for none).
	NotRead []campaigns.AccountNotRead `json:"not_read"`
	// Unevaluated counts the identities the scope could not judge at
	// creation, what it asks of them not read.
	Unevaluated      int            `json:"unevaluated"`
	PolicyDigest     string         `json:"policy_digest"`
	PopulationDigest string         `json:"population_digest"`
	Count            int            `json:"count"`
	Reviewers        []string       `json:"reviewers"`
	CarriedFrom      *string        `json:"carried_from"`
	CreatedAt        string         `json:"created_at"`
	CreatedBy        string         `json:"created_by"`
	ClosedAt         *string        `json:"closed_at"`
	ClosedBy         *string        `json:"closed_by"`
	Progress         progressJSON   `json:"progress"`
	ReviewerProgress []reviewerJSON `json:"reviewer_progress"`
	Decisions        map[string]int `json:"decisions"`
	AllowAdminReview bool           `json:"allow_admin_review"`
	RequireSigned    bool           `json:"require_signed"`
	// OnNoResponse is the no-response rule (show only; absent when none):
	// keep, decommission or escalate, with escalate's fallback and days.
	OnNoResponse     string `json:"on_no_response,omitempty"`
	FallbackReviewer string `json:"fallback_reviewer,omitempty"`
	EscalateAfter    int    `json:"escalate_after_days,omitempty"`
}

type progressJSON struct {
	Total      int `json:"total"`
	Decided    int `json:"decided"`
	Pending    int `json:"pending"`
	Carried    int `json:"carried"`
	NoResponse int `json:"no_response"`
	Conflicts  int `json:"conflicts"`
}

type reviewerJSON struct {
	Reviewer         *string `json:"reviewer"`
	Assigned         int     `json:"assigned"`
	Decided          int     `json:"decided"`
	Pending          int     `json:"pending"`
	DecidedByOthers  int     `json:"decided_by_others"`
	DecidedForOthers int     `json:"decided_for_others"`
}

type showJSON struct {
	campaignJSON
	Items   []itemJSON    `json:"items"`
	Refused []refusedJSON `json:"refused"`
}

// refusedJSON is an attempt a separation rule refused (a decision.refused
// event).
type refusedJSON struct {
	Seq    int64    `json:"seq"`
	At     string   `json:"at"`
	Actor  string   `json:"actor"`
	Action string   `json:"action"`
	Items  []string `json:"items"`
	Rule   string   `json:"rule"`
	Detail string   `json:"detail"`
}

func refusedToJSON(rs []campaigns.Refused) []refusedJSON {
	out := make([]refusedJSON, 0, len(rs))
	for _, r := range rs {
		items := r.Items
		if items == nil {
			items = []string{}
		}
		out = append(out, refusedJSON{Seq: r.Seq, At: r.At, Actor: r.Actor, Action: r.Action, Items: items, Rule: r.Rule, Detail: r.Detail})
	}
	return out
}

type itemJSON struct {
	ID string `json:"id"`
	// CurrentID is the ID the identity has now, when its repository was
	// renamed since the campaign froze the item under ID (absent
	// otherwise); nhi decide takes either. CarriedAs, beside carried, is
	// the ID the carried keep was decided under in the earlier campaign,
	// when the identity had another then (absent otherwise).
	CurrentID        string            `json:"current_id,omitempty"`
	Reviewer         *string           `json:"reviewer"`
	Decision         string            `json:"decision"` // pending, carried, decommission, keep, rotate, no-response
	Reason           string            `json:"reason"`
	DecidedBy        *string           `json:"decided_by"`
	DecidedAt        *string           `json:"decided_at"`
	Verification     *string           `json:"verification"` // removed, still-present, not-checked; null until verified
	VerifiedSnapshot *int64            `json:"verified_snapshot"`
	Overdue          bool              `json:"overdue"`
	Kind             audit.Kind        `json:"kind"`
	Name             string            `json:"name"`
	Scope            string            `json:"scope"`
	Owner            *string           `json:"owner"`
	NaturalOwner     *string           `json:"natural_owner"`
	Findings         []audit.Finding   `json:"findings"`
	Permissions      map[string]string `json:"permissions"`
	// NotRead is what the item's snapshot did not tell nhi of its
	// identity (audit.NotReadOf, as nhi identities --json's), [] when
	// nothing: with permissions, its empty permissions are not none.
	NotRead       []audit.NotRead `json:"not_read"`
	Carried       *string         `json:"carried"`
	CarriedReason string          `json:"carried_reason"`
	CarriedAs     string          `json:"carried_as,omitempty"`
	Assigned      bool            `json:"assigned"` // decided by the assigned reviewer
	Conflict      bool            `json:"conflict"`
	History       []changeJSON    `json:"history"`
	// Refused lists the attempts on this item a separation rule refused
	// (absent when none).
	Refused []refusedJSON `json:"refused,omitempty"`
	// EscalatedTo and EscalatedFrom: the escalate rule reassigned the item
	// (absent otherwise); NoResponseOutcome: what the campaign's rule made
	// of a no-response item ("kept by rule", "decommission by rule").
	EscalatedTo       *string `json:"escalated_to,omitempty"`
	EscalatedFrom     *string `json:"escalated_from,omitempty"`
	NoResponseOutcome string  `json:"no_response_outcome,omitempty"`
}

type changeJSON struct {
	Seq      int64  `json:"seq"`
	Decision string `json:"decision"`
	Reason   string `json:"reason"`
	Actor    string `json:"actor"`
	At       string `json:"at"`
	Via      string `json:"via"`
	Undoes   *int64 `json:"undoes,omitempty"`
}

type sampleJSON struct {
	Campaign         string           `json:"campaign"`
	Seed             string           `json:"seed"`
	Size             int              `json:"size"`
	Population       int              `json:"population"`
	PopulationDigest string           `json:"population_digest"`
	Algorithm        string           `json:"algorithm"`
	Items            []sampleItemJSON `json:"items"`
}

type sampleItemJSON struct {
	Rank int    `json:"rank"`
	Key  string `json:"key"`
	itemJSON
}

type remediationJSON struct {
	Campaign     string   `json:"campaign"`
	Due          string   `json:"due"`
	Source       string   `json:"source"`
	Account      string   `json:"account"`
	BaseSnapshot int64    `json:"base_snapshot"` // the campaign's snapshot of that source/account
	Snapshot     int64    `json:"snapshot"`
	Removed      []string `json:"removed"`
	StillPresent []string `json:"still_present"`
	NotChecked   []string `json:"not_checked"`
	Overdue      []string `json:"overdue"`
	Recorded     bool     `json:"recorded"`
	Event        *int64   `json:"event"`
	// ByRule: the items above the campaign's no-response rule
	// decommissioned, no reviewer having decided them.
	ByRule []string `json:"by_rule"`
	proofJSON
}

func strOrNull(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func timeOrNull(t *time.Time) *string {
	if t == nil || t.IsZero() {
		return nil
	}
	s := t.UTC().Format(time.RFC3339)
	return &s
}

func campaignToJSON(c *campaigns.Campaign, now time.Time) campaignJSON {
	p := c.Progress
	notRead := c.NotRead
	if notRead == nil {
		notRead = []campaigns.AccountNotRead{}
	}
	j := campaignJSON{
		Name: c.Name, Status: c.Status, Due: c.Due, Overdue: c.Overdue(now), Scope: c.Scope, Snapshot: c.SnapshotID,
		AsOf: c.AsOf.UTC().Format(time.RFC3339), Snapshots: c.Snapshots, NotRead: notRead, Unevaluated: c.Unevaluated, PolicyDigest: c.PolicyDigest, PopulationDigest: c.PopulationDigest,
		Count: c.Count, Reviewers: c.Reviewers, CarriedFrom: strOrNull(c.CarriedFrom),
		CreatedAt: c.CreatedAt.UTC().Format(time.RFC3339), CreatedBy: c.CreatedBy,
		ClosedAt: timeOrNull(c.ClosedAt), ClosedBy: strOrNull(c.ClosedBy),
		Progress: progressJSON{Total: p.Total, Decided: p.Decided, Pending: p.Pending, Carried: p.Carried,
			NoResponse: p.NoResponse, Conflicts: p.Conflicts},
		ReviewerProgress: []reviewerJSON{}, Decisions: map[string]int{},
		AllowAdminReview: c.AllowAdminReview, RequireSigned: c.RequireSigned,
		OnNoResponse: c.NoResponse.On, FallbackReviewer: c.NoResponse.FallbackReviewer, EscalateAfter: c.NoResponse.EscalateAfter,
	}
	if j.Reviewers == nil {
		j.Reviewers = []string{}
	}
	for _, r := range p.Reviewers {
		j.ReviewerProgress = append(j.ReviewerProgress, reviewerJSON{Reviewer: strOrNull(r.Reviewer), Assigned: r.Assigned,
			Decided: r.Decided, Pending: r.Pending, DecidedByOthers: r.DecidedByOthers, DecidedForOthers: r.DecidedForOthers})
	}
	for d, n := range p.ByDecision {
		j.Decisions[string(d)] = n
	}
	return j
}

// writeShowJSON prints campaign show's JSON, byte for byte what
// writeJSON prints of showJSON, its items given by each and written one
// at a time: the header and refused are encoded with items empty, and
// each item, indented as it would be inside, goes between them (issue
// 21: a campaign of a million items was held whole, then as JSON).
func writeShowJSON(w io.Writer, c *campaigns.Campaign, now time.Time, each itemSource) error {
	var head bytes.Buffer
	if err := writeJSON(&head, showJSON{campaignToJSON(c, now), []itemJSON{}, refusedToJSON(c.Refused)}); err != nil {
		return err
	}
	// The top level's "items" key is the only one at two spaces (a
	// string holds no raw newline).
	const key = "\n  \"items\": []"
	before, after, ok := bytes.Cut(head.Bytes(), []byte(key))
	if !ok {
		return fmt.Errorf("campaign show: no items key in the JSON header")
	}
	if _, err := w.Write(before); err != nil {
		return err
	}
	if _, err := io.WriteString(w, key[:len(key)-1]); err != nil {
		return err
	}
	refused := map[string][]campaigns.Refused{}
	for _, r := range c.Refused {
		for _, id := range r.Items {
			refused[id] = append(refused[id], r)
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("    ", "  ")
	n := 0
	if err := each(func(it *campaigns.Item) error {
		j := itemToJSON(c, it, now)
		if rs := refused[it.ID]; len(rs) > 0 {
			j.Refused = refusedToJSON(rs)
		}
		buf.Reset()
		if n > 0 {
			buf.WriteByte(',')
		}
		buf.WriteString("\n    ")
		if err := enc.Encode(j); err != nil {
			return err
		}
		buf.Truncate(buf.Len() - 1) // Encode's newline
		n++
		_, err := w.Write(buf.Bytes())
		return err
	}); err != nil {
		return err
	}
	if n > 0 {
		if _, err := io.WriteString(w, "\n  "); err != nil {
			return err
		}
	}
	_, err := w.Write(append([]byte{']'}, after...))
	return err
}

func itemToJSON(c *campaigns.Campaign, it *campaigns.Item, now time.Time) itemJSON {
	j := itemJSON{
		ID: it.ID, CurrentID: it.CurrentID, Reviewer: strOrNull(it.Reviewer), Decision: it.State(), Reason: it.Reason,
		DecidedBy: strOrNull(it.DecidedBy), DecidedAt: timeOrNull(it.DecidedAt), Verification: strOrNull(it.Verification),
		Overdue: itemOverdue(it), Kind: it.Kind, Name: it.Name, Scope: it.Scope,
		Owner: strOrNull(it.Owner), NaturalOwner: strOrNull(it.NaturalOwner), Findings: it.Findings, Permissions: it.Permissions,
		Carried: strOrNull(string(it.Carried)), CarriedReason: it.CarriedReason, CarriedAs: it.CarriedAs, Assigned: it.Assigned(), Conflict: it.Conflict,
		History: []changeJSON{}, NotRead: it.NotRead,
	}
	if j.NotRead == nil {
		j.NotRead = []audit.NotRead{}
	}
	if it.VerifiedSnapshot != 0 {
		j.VerifiedSnapshot = &it.VerifiedSnapshot
	}
	if x := it.Escalated; x != nil {
		to, from := x.To, x.From
		j.EscalatedTo, j.EscalatedFrom = &to, &from
	}
	if it.Decision == campaigns.NoResponse {
		j.NoResponseOutcome = c.NoResponse.Outcome()
	}
	for _, h := range it.History {
		d := string(h.Decision)
		if d == "" {
			d = "pending"
		}
		ch := changeJSON{Seq: h.Seq, Decision: d, Reason: h.Reason, Actor: h.Actor, At: h.At.UTC().Format(time.RFC3339), Via: h.Via}
		if h.Undoes != 0 {
			u := h.Undoes
			ch.Undoes = &u
		}
		j.History = append(j.History, ch)
	}
	return j
}

func remediationToJSON(r *campaigns.Remediation) remediationJSON {
	j := remediationJSON{Campaign: r.Campaign, Due: r.Due, Source: r.Snapshot.Source, Account: r.Snapshot.Account,
		BaseSnapshot: r.Base.ID, Snapshot: r.Snapshot.ID, Removed: r.Removed,
		StillPresent: r.StillPresent, NotChecked: r.NotChecked, Overdue: r.Overdue, Recorded: r.Recorded, ByRule: r.ByRule, proofJSON: toProofJSON(r)}
	if j.ByRule == nil {
		j.ByRule = []string{}
	}
	if r.Recorded {
		j.Event = &r.Event.Seq
	}
	return j
}
