package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/filter"
)

// ownerRows is what owner import keeps of its file: each row's line and
// pattern and the number of its owner, and each distinct owner once. A
// team moving owners from a CMDB brings a row an identity, a million
// rows (issue 21); the owners are few. The rows are kept, not read
// twice: resolving them is a join of the rows with the population,
// which needs every row's ID at hand as the identities stream past, and
// standard input ("-") cannot be read again.
type ownerRows struct {
	rows   []ownerRow
	owners []string // by ownerRow.owner
}

type ownerRow struct {
	pattern string // its own copy, not the CSV record's
	line    int32
	owner   int32 // in ownerRows.owners
}

func (o *ownerRows) owner(r int) string { return o.owners[o.rows[r].owner] }

func readOwnerCSV(r io.Reader, name string) (*ownerRows, error) {
	// Excel's "CSV UTF-8" starts the file with a byte order mark.
	br := bufio.NewReader(r)
	if bom, err := br.Peek(3); err == nil && string(bom) == "\ufeff" {
		br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	cr.Comment = '#'
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = true
	out := &ownerRows{}
	ownerNumber := map[string]int32{}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) != 2 {
			return nil, fmt.Errorf("%s:%d: want 2 fields (id-or-pattern,owner), got %d", name, line, len(rec))
		}
		pattern, owner := strings.TrimSpace(rec[0]), strings.TrimSpace(rec[1])
		if len(out.rows) == 0 && (strings.EqualFold(pattern, "id") || strings.EqualFold(pattern, "id-or-pattern")) && strings.EqualFold(owner, "owner") {
			continue
		}
		if pattern == "" {
			return nil, fmt.Errorf("%s:%d: empty identity ID or pattern", name, line)
		}
		if n := utf8.RuneCountInString(owner); n > audit.MaxOwnerLength {
			return nil, fmt.Errorf("%s:%d: the owner is %d characters long; at most %d (a person, a team or an e-mail address); nothing was written", name, line, n, audit.MaxOwnerLength)
		}
		n, ok := ownerNumber[owner]
		if !ok {
			n = int32(len(out.owners))
			owner = strings.Clone(owner) // not the record's text
			out.owners = append(out.owners, owner)
			ownerNumber[owner] = n
		}
		out.rows = append(out.rows, ownerRow{pattern: strings.Clone(pattern), line: int32(line), owner: n})
	}
	if len(out.rows) == 0 {
		return nil, fmt.Errorf("%s has no rows", name)
	}
	return out, nil
}

// ownerRowCompiled, when set (by a test), is given each filter owner
// import compiles of a row, as it compiles it.
var ownerRowCompiled func(*filter.Filter)

// resolveOwnerRows expands patterns into assignments, later rows winning.
// A row that matches nothing fails the whole import. The assignments come
// in the order of the row that first matched each identity, then of ID:
// a row's new identities follow those of the rows before it.
//
// The population is read once, through the store's stream, an identity at
// a time, and only the matched IDs are kept (issue 21). A row without *
// or ? names one ID (case aside): those rows are looked up in a map by the
// folded ID, where every row's filter was matched against every identity
// (rows × identities: 10^12 matches for a CMDB's million rows) and every
// row's compiled filter kept. Only the rows with a pattern keep theirs.
func resolveOwnerRows(ctx context.Context, st *audit.Store, in *ownerRows) ([]audit.OwnerSet, error) {
	rows := in.rows
	// exactRows is what the rows naming one folded ID have in common:
	// the first and the last such row, and whether an identity has it.
	type exactRows struct {
		first, last int32
		matched     bool
	}
	exact := map[string]exactRows{}
	type patternRow struct {
		row     int32
		f       *filter.Filter
		matched bool
	}
	var patterns []patternRow
	for i, row := range rows {
		f, err := filter.Parse("id:"+escapeFilterWord(row.pattern), audit.Vocabulary)
		if err != nil {
			return nil, fmt.Errorf("line %d: %q is not a usable pattern: %v", row.line, row.pattern, err)
		}
		if ownerRowCompiled != nil {
			ownerRowCompiled(f)
		}
		if key, ok := exactKey(f, row.pattern); ok {
			e, seen := exact[key]
			if !seen {
				e.first = int32(i)
			}
			e.last = int32(i)
			exact[key] = e
			continue
		}
		patterns = append(patterns, patternRow{row: int32(i), f: f})
	}
	// sets are the assignments in ID order, firstRow the row that first
	// matched each: they are put in row order below.
	var sets []audit.OwnerSet
	var firstRow []int32
	err := st.StreamIdentities(ctx, func(id *audit.Identity) error {
		if bulkMatchRead != nil {
			bulkMatchRead(id)
		}
		first, last := int32(-1), int32(-1)
		if len(exact) > 0 {
			key := filter.FoldText(id.ID)
			if e, ok := exact[key]; ok {
				first, last = e.first, e.last
				if !e.matched {
					e.matched = true
					exact[key] = e
				}
			}
		}
		for p := range patterns {
			if !patterns[p].f.Match(id, nil) {
				continue
			}
			r := patterns[p].row
			if first < 0 || r < first {
				first = r
			}
			last = max(last, r)
			patterns[p].matched = true
		}
		if first >= 0 {
			// The stream's strings are cut from a page of text: kept as
			// they are, each would keep its page in memory.
			sets = append(sets, audit.OwnerSet{Identity: strings.Clone(id.ID), Owner: in.owner(int(last))})
			firstRow = append(firstRow, first)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var unmatched []string
	p := 0
	for r, row := range rows {
		matched := false
		if p < len(patterns) && int(patterns[p].row) == r {
			matched = patterns[p].matched
			p++
		} else {
			matched = exact[filter.FoldText(row.pattern)].matched
		}
		if !matched {
			unmatched = append(unmatched, fmt.Sprintf("line %d (%s)", row.line, row.pattern))
		}
	}
	if len(unmatched) > 0 {
		return nil, fmt.Errorf("%s no identity, so nothing was written: %s", counted(len(unmatched), "row matches", "rows match"), strings.Join(unmatched, ", "))
	}
	return inRowOrder(sets, firstRow, len(rows)), nil
}

// exactKey is the map key of a row whose filter matches one ID, case
// aside: the ID folded. A row whose filter folds it otherwise than
// FoldText would (none is known) keeps its filter.
func exactKey(f *filter.Filter, pattern string) (string, bool) {
	folded, ok := f.ExactText(filter.ID)
	if !ok {
		return "", false
	}
	key := filter.FoldText(pattern) // the row's own text when already folded
	return key, key == folded
}

// inRowOrder orders sets by the row that first matched each, keeping ID
// order within a row (a counting sort: stable, and linear in the rows).
func inRowOrder(sets []audit.OwnerSet, firstRow []int32, rows int) []audit.OwnerSet {
	if slices.IsSorted(firstRow) {
		return sets
	}
	at := make([]int, rows+1)
	for _, r := range firstRow {
		at[r+1]++
	}
	for r := 1; r <= rows; r++ {
		at[r] += at[r-1]
	}
	out := make([]audit.OwnerSet, len(sets))
	for i, r := range firstRow {
		out[at[r]] = sets[i]
		at[r]++
	}
	return out
}

// escapeFilterWord makes s one filter word whose only special characters
// are the glob's * and ?.
func escapeFilterWord(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(" \t()\"\\:<>=", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
