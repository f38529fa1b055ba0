package tui

import (
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/nhi-audit/nhi/audit"
)

const (
	dash     = "—" // an empty value
	ellipsis = "…" // marks truncated text
)

// age is the AGE cell, how long before now t was, as audit.Span says
// every span ("5m", "3h", "400d", "3y3d"), so AGE and LAST USED write a
// duration one way ("3y3d" beside "3y3d ago", where AGE said "3y"); the
// detail view has the date. AGE is the first column a narrow terminal
// hides; it is as wide as its oldest value needs (identitiesView.fitAge).
// Future times read "in 3d".
func age(t, now time.Time) string {
	if t.After(now) {
		return "in " + audit.Span(t.Sub(now))
	}
	return audit.Span(now.Sub(t))
}

// lastUsed is the LAST USED cell: "14d ago", "never", "not read" where
// it was not read for this identity (last_used_unknown: a gap, or an
// import's empty cell), or a dash where the kind's source does not report
// it (reports is audit.ReportsLastUse, unread the identity's mark).
// at is Unix seconds or noTime.
func lastUsedCell(at int64, reports, unread bool, now time.Time) string {
	switch {
	case at != noTime:
		return audit.Ago(timeOf(at), now)
	case reports:
		return "never"
	case unread:
		return notRead
	}
	return dash
}

// notRead is a cell whose value the source did not tell nhi
// (audit.NotReadOf): not "none", not "never", not a dash.
const notRead = "not read"

// stamp is a timestamp for the detail view: RFC 3339 in UTC and how long ago.
func stamp(t *time.Time, now time.Time) string {
	if t == nil || t.IsZero() {
		return dash
	}
	return t.UTC().Format(time.RFC3339) + " (" + audit.Ago(*t, now) + ")"
}

// commas formats a count with thousands separators: 1234567 reads
// "1,234,567", as it does in reports (one formatter, audit.Thousands).
var commas = audit.Thousands

// plural is "1 endpoint" or "3 endpoints".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return commas(n) + " " + many
}

// truncate shortens s to at most w cells, marking the cut with an
// ellipsis. s may contain styling.
func truncate(s string, w int) string {
	if w <= 0 {
		return ""
	}
	// No character takes more cells than bytes: short strings need no measuring.
	if len(s) <= w || ansi.StringWidth(s) <= w {
		return s
	}
	return ansi.Truncate(s, w, ellipsis)
}

// truncateMiddle is plain text s cut to w cells in the middle: its start,
// "…", and its end, the end getting the odd cell ("2026-q4-acc…-engineering").
func truncateMiddle(s string, w int) string {
	sw := textWidth(s)
	if sw <= w || w < 3 {
		return s // writeCell cuts what is left at the end
	}
	tail := w / 2
	return cutAt(s, sw, w-1-tail, tail)
}

// truncateStart is plain text s cut to w cells at its start: "…" and its
// end ("…ut-service" of northwind/checkout-service), as a shell's prompt
// shortens a path.
func truncateStart(s string, w int) string {
	sw := textWidth(s)
	if sw <= w || w < 3 {
		return s // writeCell cuts what is left at the end
	}
	return cutAt(s, sw, 0, w-1)
}

// wrapLines is s wrapped at words to w cells, a line that still passes w
// (a word wider than the screen) cut with an ellipsis.
func wrapLines(s string, w int) string {
	if w <= 0 {
		return ""
	}
	lines := strings.Split(ansi.Wrap(s, w, ""), "\n")
	for i, l := range lines {
		lines[i] = truncate(strings.TrimRight(l, " "), w)
	}
	return strings.Join(lines, "\n")
}

// textWidth is the width of plain (sanitized, unstyled) text in cells.
func textWidth(s string) int {
	if audit.IsPlain(s) {
		return len(s)
	}
	return ansi.StringWidth(s)
}

// writeCell writes plain text s to b in exactly w cells: truncated with an
// ellipsis when too long, padded with spaces (on the left when right is
// set) when too short. Printable ASCII, the common case, takes a path that
// does not allocate.
func writeCell(b *strings.Builder, s string, w int, right bool) {
	if w <= 0 {
		return
	}
	if audit.IsPlain(s) && len(s) > w {
		b.WriteString(s[:w-1])
		b.WriteString(ellipsis)
		return
	}
	sw := textWidth(s)
	if sw > w {
		s = ansi.Truncate(s, w, ellipsis)
		sw = ansi.StringWidth(s)
	}
	if right {
		writeSpaces(b, w-sw)
	}
	b.WriteString(s)
	if !right {
		writeSpaces(b, w-sw)
	}
}

const spaces = "                                                                                "

func writeSpaces(b *strings.Builder, n int) {
	for n > 0 {
		k := min(n, len(spaces))
		b.WriteString(spaces[:k])
		n -= k
	}
}

// joinEnds puts left and right on one line of width w, right-aligned, and
// drops right when both do not fit.
func joinEnds(left, right string, w int) string {
	lw, rw := ansi.StringWidth(left), ansi.StringWidth(right)
	if right == "" || lw+1+rw > w {
		return truncate(left, w)
	}
	var b strings.Builder
	b.WriteString(left)
	writeSpaces(&b, w-lw-rw)
	b.WriteString(right)
	return b.String()
}

// fit makes s exactly h lines, none wider than w cells: the last line of
// defence that keeps the screen from scrolling whatever a view returns.
func fit(s string, w, h int) string {
	if h <= 0 || w <= 0 {
		return ""
	}
	lines := strings.SplitN(s, "\n", h+1)
	if len(lines) > h {
		lines = lines[:h]
	}
	for i, l := range lines {
		lines[i] = truncate(l, w)
	}
	for len(lines) < h {
		lines = append(lines, "")
	}
	return strings.Join(lines, "\n")
}
