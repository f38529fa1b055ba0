package tui

// The text and style of the identities table's cells.

import (
	"github.com/charmbracelet/lipgloss"

	"github.com/nhi-audit/nhi/audit"
)

// kindCell is the KIND cell of a row of kind k: its label ("service
// account"), which kindWidths measures.
func kindCell(k string) string { return orDash(audit.Printable(audit.Kind(k).Label())) }

// cells is the text of one row: every value from the API sanitized.
func (v *identitiesView) cells(i int32, dst []string) {
	t, r := &v.st.pop.t, v.st.pop.row(i)
	id := t.strs.at(r.id)
	dst[colSource] = audit.Printable(t.strs.at(r.source) + "/" + t.strs.at(r.account))
	dst[colKind] = kindCell(t.strs.at(r.kind))
	dst[colName] = orDash(audit.Printable(t.strs.at(r.name)))
	dst[colScope] = orDash(audit.Printable(t.strs.at(r.scope)))
	dst[colOwner] = ownerCell(t.strs.at(r.owner), t.holder(r), v.table.ColumnWidth(colOwner))
	dst[colLastUsed] = lastUsedCell(r.lastUsed, t.reportsLastUse(r), t.lastUseUnread(r), v.at)
	dst[colAge] = dash
	if r.created != noTime {
		dst[colAge] = age(timeOf(r.created), v.at)
	}
	v.findings = v.findings[:0]
	for k := range int(r.nFind) {
		v.findings = append(v.findings, t.finding(r, k))
	}
	dst[colFindings] = orDash(audit.RuleNames(v.findings))
	if r.nFind == 0 && t.findingsUnread(r) {
		// No finding, where what a rule reads was not read: not none.
		dst[colFindings] = notRead
	}
	if v.st.dirty[id] > 0 {
		// The owner changed in this session; the findings that depend on
		// it are being recomputed.
		dst[colFindings] = "…"
	}
	dst[colStatus] = statusCell(t.strs.at(r.status), t.strs.at(r.change), v.st.decision(id))
	if v.tags != nil {
		dst[colRelations] = orDash(v.tags(v.st.pop.subject().at(i).lightIdentity()))
	}
}

// ownerCell is the OWNER cell, w cells wide: the recorded owner, or,
// where none is recorded, "— held by" who the source says holds it (a
// PAT's owner, an SSO authorization's login; "—" alone hid them), or
// where that does not fit, the holder in parentheses, as nhi campaign
// show writes them. A holder is not an owner: owner:none still matches.
func ownerCell(owner, holder string, w int) string {
	if owner != "" || holder == "" {
		return orDash(audit.Printable(owner))
	}
	holder = audit.Printable(holder)
	if held := dash + " held by " + holder; textWidth(held) <= w {
		return held
	}
	return "(" + holder + ")"
}

// statusCell is the STATUS cell: the decision in the active campaign,
// else new or changed since the previous snapshot (what a quarterly
// review looks at first), else the status. Each word fits statusWidth, so
// the column never cuts one: the longer ones have a short form.
func statusCell(status, change, d string) string {
	if d != "" {
		return statusWord(d)
	}
	if status == audit.StatusActive && change != "" {
		return statusWord(change)
	}
	return orDash(statusWord(status))
}

// statusDrop and statusDropDeciding are STATUS's place in the order a
// narrow terminal hides columns (column.Drop): after AGE and SOURCE, or,
// with a campaign picked, after every other column that can be hidden.
const (
	statusDrop         = 12
	statusDropDeciding = 1
)

// statusWidth is the width of the STATUS column: "pending", "removed",
// "changed". At 80 columns every other column is at its own minimum, so
// the longer words have a short form, the same wherever STATUS shows.
const statusWidth = 7

// statusShort are the short forms of the words longer than statusWidth.
var statusShort = map[string]string{
	DecisionDecommission:   "decom.",
	DecisionTransfer:       "transf.",
	DecisionNoResponse:     "no-resp",
	audit.StatusNotChecked: "not-chk",
}

func statusWord(w string) string {
	if s, ok := statusShort[w]; ok {
		return s
	}
	return audit.Printable(w)
}

func (v *identitiesView) cellStyle(i int32, col int) (lipgloss.Style, bool) {
	r := v.st.pop.row(i)
	switch {
	case col == colFindings && r.nFind > 0:
		return theme.Warning, true
	case col == colStatus && r.status == textRemoved:
		return theme.Muted, true
	case col == colStatus && r.change != textNone:
		return theme.Warning, true
	case v.marked(i):
		return theme.Mark, true
	}
	return lipgloss.Style{}, false
}

func orDash(s string) string {
	if s == "" {
		return dash
	}
	return s
}
