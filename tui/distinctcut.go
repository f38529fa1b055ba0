package tui

import (
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
)

// A column that cuts its values in the middle (column.Middle) keeps their
// start and end: at 80 columns NAME is 11 cells, and three access keys,
// AKIAPRODBACKUP000001, AKIAPRODLEGACY000001 and AKIAPRODMETRICS00001,
// all read "AKIAP…00001". So the rows on screen are cut together
// (middleCuts): where two different values would read the same, each is
// cut again around where it differs from the others, its start kept up to
// there ("AKIAPRODB…1") or, where that part is nearer the end, its end
// from there.

// middleCuts is the cut of each of vals to w cells: truncateMiddle's, but
// no two different values read the same where their difference lies
// within w-2 cells of their start or of their end (the cut's "…" and one
// cell of the other end take the rest). Beyond that, a value is shown as
// "…" and the w-2 cells up to where it differs, between two "…".
// need is scratch, as long as vals; cut receives the cuts.
func middleCuts(vals, cut []string, need []cutNeed, w int) {
	for i, v := range vals {
		cut[i] = truncateMiddle(v, w)
		need[i] = cutNeed{}
	}
	if w < 3 {
		return // truncateMiddle cuts nothing so narrow
	}
	// Each round widens the part kept of the values that still read like
	// another: their needs only grow and are bounded by the values' width,
	// so it ends; a screen of rows takes one or two rounds.
	for range len(vals) {
		again := false
		for i := range vals {
			for j := i + 1; j < len(vals); j++ {
				if cut[i] != cut[j] || vals[i] == vals[j] {
					continue
				}
				need[i].against(vals[i], vals[j])
				need[j].against(vals[j], vals[i])
				again = true
			}
		}
		if !again {
			return
		}
		changed := false
		for i, v := range vals {
			if need[i] == (cutNeed{}) {
				continue
			}
			if c := need[i].cut(v, w); c != cut[i] {
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

// cutAt is v (sw cells) as its first head cells, "…", its last tail
// cells: where a wide character would straddle the end's cut, the start
// takes the cell, and where one straddles the start's, the cut is a cell
// short.
func cutAt(v string, sw, head, tail int) string {
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
