package tui

import (
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"

	"github.com/nhi-audit/nhi/audit"
)

// A column that cuts its values in the middle (column.Middle) keeps their
// start and end: at 80 columns NAME is 11 cells, and three access keys,
// AKIAPRODBACKUP000001, AKIAPRODLEGACY000001 and AKIAPRODMETRICS00001,
// all read "AKIAP…00001". So the rows on screen are cut together
// (distinctCuts): where two different values would read the same, each is
// cut again around where it differs from the others, its start kept up to
// there ("AKIAPRODB…1") or, where that part is nearer the end, its end
// from there.
//
// A column that keeps the end of its values (column.KeepEnd: SCOPE) is
// cut together the same way (distinctCuts, keepEnd). A scope runs from
// its widest part to its narrowest (org/repo/environment, an account,
// cluster/namespace), and the rows on a screen share the start: the
// demo's webhooks all read "northwind/…" at SCOPE's 11 cells, and
// "…ut-service" tells them apart.
// Where ends too read alike (".../production" of two repositories), the
// cut shows the cells up to the last place where they differ, between
// two "…" ("…h-service…", "…yments-api…").

// distinctCuts is the cut of each of vals to w cells: truncateMiddle's
// (truncateStart's where keepEnd), but no two different values read the
// same where their difference lies within w-2 cells of their start or of
// their end (the cut's "…" and one cell of the other end take the rest).
// Beyond that, a value is shown as "…" and the w-2 cells up to where it
// differs, between two "…". need is scratch, as long as vals; cut
// receives the cuts.
func distinctCuts(vals, cut []string, need []cutNeed, w int, keepEnd bool) {
	first, again := truncateMiddle, cutNeed.cut
	if keepEnd {
		first, again = truncateStart, cutNeed.cutKeepingEnd
	}
	for i, v := range vals {
		cut[i] = first(v, w)
		need[i] = cutNeed{}
	}
	if w < 3 {
		return // neither cut cuts anything so narrow
	}
	// Each round widens the part kept of the values that still read like
	// another: their needs only grow and are bounded by the values' width,
	// so it ends; a screen of rows takes one or two rounds.
	for range len(vals) {
		alike := false
		for i := range vals {
			for j := i + 1; j < len(vals); j++ {
				if cut[i] != cut[j] || vals[i] == vals[j] {
					continue
				}
				need[i].against(vals[i], vals[j])
				need[j].against(vals[j], vals[i])
				alike = true
			}
		}
		if !alike {
			return
		}
		changed := false
		for i, v := range vals {
			if need[i] == (cutNeed{}) {
				continue
			}
			if c := again(need[i], v, w); c != cut[i] {
				cut[i], changed = c, true
			}
		}
		if !changed {
			return
		}
	}
}

// cutNeed is how many cells of a value's start (head) and of its end
// (tail) show where it differs from the values it was read alike with;
// 0 where none is known, -1 where its start (or end) cannot show it (it
// is a start or end of the other).
type cutNeed struct{ head, tail int }

// against widens n to show where v differs from other.
func (n *cutNeed) against(v, other string) {
	n.head = widerNeed(n.head, headCells(v, other))
	n.tail = widerNeed(n.tail, tailCells(v, other))
}

func widerNeed(have, want int) int {
	if have < 0 || want < 0 {
		return -1
	}
	return max(have, want)
}

// cut is v cut to w cells showing its difference: the start kept where
// the head needed leaves a cell of the end, else the end kept where the
// tail needed leaves a cell of the start, else the w-2 cells up to the
// difference (or from it, counted from the end) between two "…".
func (n cutNeed) cut(v string, w int) string {
	sw := textWidth(v)
	if sw <= w {
		return v
	}
	tail := w / 2
	head := w - 1 - tail
	switch {
	case n.head > 0 && n.head <= w-2:
		head = max(head, n.head)
		return cutAt(v, sw, head, w-1-head)
	case n.tail > 0 && n.tail <= w-2:
		tail = max(tail, n.tail)
		return cutAt(v, sw, w-1-tail, tail)
	case n.head > 0:
		return ellipsis + ansi.Cut(v, n.head-(w-2), n.head) + ellipsis
	case n.tail > 0:
		from := sw - n.tail
		return ellipsis + ansi.Cut(v, from, from+w-2) + ellipsis
	}
	return cutAt(v, sw, head, tail)
}

// cutKeepingEnd is v cut to w cells at its start showing its
// difference: "…" and its end where the tail needed fits, else its start
// up to the difference (or up to the last character where it differs,
// where that too is near the start), "…" and as much of its end as is
// left, else the w-2 cells up to and including the last character where
// it differs, between two "…".
func (n cutNeed) cutKeepingEnd(v string, w int) string {
	sw := textWidth(v)
	switch {
	case sw <= w:
		return v
	case n.tail > 0 && n.tail <= w-1:
	case n.head > 0 && n.head <= w-2:
		return cutAt(v, sw, n.head, w-1-n.head)
	case n.tail > 0:
		// upTo is v up to and including the character that differs.
		from := ansi.TruncateLeft(v, sw-n.tail, "")
		_, size := utf8.DecodeRuneInString(from)
		upTo := v[:len(v)-len(from)+size]
		uw := textWidth(upTo)
		if uw <= w-2 {
			return cutAt(v, sw, uw, w-1-uw) // every difference lies in its start
		}
		drop := uw - (w - 2)
		win := ansi.TruncateLeft(upTo, drop, "")
		for textWidth(win) > w-2 {
			drop++ // it kept a wide character the cut straddles
			win = ansi.TruncateLeft(upTo, drop, "")
		}
		return ellipsis + win + ellipsis
	case n.head > 0:
		return ellipsis + ansi.Cut(v, n.head-(w-2), n.head) + ellipsis
	}
	return cutAt(v, sw, 0, w-1)
}

// cutAt is v (sw cells) as its first head cells, "…", its last tail
// cells: where a wide character would straddle the end's cut, the start
// takes the cell, and where one straddles the start's, the cut is a cell
// short.
func cutAt(v string, sw, head, tail int) string {
	if audit.IsPlain(v) {
		return v[:head] + ellipsis + v[len(v)-tail:] // a byte a cell: one string made, not three
	}
	end := ansi.TruncateLeft(v, sw-tail, "")
	for drop := sw - tail + 1; textWidth(end) > tail; drop++ {
		end = ansi.TruncateLeft(v, drop, "") // it kept the straddling character
	}
	head += tail - textWidth(end)
	return ansi.Truncate(v, head, "") + ellipsis + end
}

// headCells is the cells of v's start up to and including the first
// character where it differs from other; -1 where v is other's start.
func headCells(v, other string) int {
	p := 0
	for p < len(v) && p < len(other) && v[p] == other[p] {
		p++
	}
	if p == len(v) {
		return -1
	}
	for p > 0 && !utf8.RuneStart(v[p]) {
		p-- // back to the start of the character that differs
	}
	_, size := utf8.DecodeRuneInString(v[p:])
	return textWidth(v[:p+size])
}

// tailCells is the cells of v's end from the last character where it
// differs from other; -1 where v is other's end.
func tailCells(v, other string) int {
	s := 0
	for s < len(v) && s < len(other) && v[len(v)-1-s] == other[len(other)-1-s] {
		s++
	}
	end := len(v) - s // v[end:] is common; the character before it differs
	if end == 0 {
		return -1
	}
	for end < len(v) && !utf8.RuneStart(v[end]) {
		end++ // past the part of a character the two share
	}
	_, size := utf8.DecodeLastRuneInString(v[:end])
	return textWidth(v[end-size:])
}
