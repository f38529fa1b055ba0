package audit

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	sqlite3 "modernc.org/sqlite/lib"
)

// How the table read (tableread.go) has SQLite hand it rows: packed.
// The driver's cost is per column and per row (a lock, a type and a
// length call, a copy into a new string, and the step's own locks), so
// each row's columns come joined into one text (packed), and each
// query's rows joined into one text (each): a page of 4,096 rows is one
// row of the driver, cut apart in Go (issue 21: at a million identities
// the reader took 3.4 CPU-seconds with a text a row, 2.9 with a text a
// query, loaded).

// each runs the query of the columns cols from the rest of the
// statement from, with args, and calls fn with each row in order: with
// rd.packed, with the row's text (cols are packed), the query's rows
// read as one text of them joined by rowSep; else with rows at the row.
// A text that does not cut into as many rows as the query counted is
// errUnpackable.
func (rd tableRead) each(ctx context.Context, cols, from string, args []any, fn func(rows *sql.Rows, text string) error) error {
	return rd.eachOrdered(ctx, cols, from, "", args, fn)
}

// eachInKeyOrder is each of the rows of from, a range of a table's key
// (WHERE and nothing after it), in the order of the key's columns key:
// unpacked, ordered by them; packed, one aggregate over the range with no
// subquery, whose rows SQLite joins in the order it reads them, the key's
// (nothing else indexes the tables read so, and the callers check the
// order as they merge: rows out of order are errUnpackable, and the page
// is read again column by column). The subquery each packs through, which
// SQLite runs as a co-routine that copies each row's text to its outer
// query, was a tenth of SQLite's work in a range read (issue 21).
func (rd tableRead) eachInKeyOrder(ctx context.Context, cols, from, key string, args []any, fn func(rows *sql.Rows, text string) error) error {
	if !rd.packed {
		return rd.eachOrdered(ctx, cols, from+` ORDER BY `+key, "", args, fn)
	}
	return rd.eachOrdered(ctx, cols, from, key, args, fn)
}

// eachOrdered is each; with key (packed only), from is read flat, as
// eachInKeyOrder says.
func (rd tableRead) eachOrdered(ctx context.Context, cols, from, key string, args []any, fn func(rows *sql.Rows, text string) error) error {
	if !rd.packed {
		rows, err := rd.query(ctx, `SELECT `+cols+` `+from, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if err := fn(rows, ""); err != nil {
				return err
			}
		}
		return rows.Err()
	}
	var (
		n   int
		s   string
		err error
	)
	if key != "" {
		n, s, err = rd.packedQuery(ctx, `SELECT count(*), group_concat(`+cols+`, char(30)) `+from, args)
	} else {
		n, s, err = rd.packedRows(ctx, cols, from, args)
	}
	if err != nil {
		return err
	}
	for range n {
		// strings.Cut(s, rowSep), by IndexByte itself (CutPacked says
		// why).
		row, rest := s, ""
		if i := strings.IndexByte(s, rowSep[0]); i >= 0 {
			row, rest = s[:i], s[i+1:]
		}
		if err := fn(nil, row); err != nil {
			return err
		}
		s = rest
	}
	return nil
}

// packedRows runs the query of the packed columns cols from the rest of
// the statement from, with args: how many rows it has and their texts
// joined by rowSep, in from's order; errUnpackable for a text too long
// for SQLite (tooBig), or one that does not cut into that many rows.
func (rd tableRead) packedRows(ctx context.Context, cols, from string, args []any) (int, string, error) {
	// The rows in from's order: SQLite keeps a subquery's ORDER BY, and
	// does not merge the subquery into its outer query, when that is an
	// aggregate other than count, min or max, so group_concat joins the
	// rows in that order (which the callers check as they merge).
	return rd.packedQuery(ctx, `SELECT count(*), group_concat(r, char(30)) FROM (SELECT `+cols+` AS r `+from+`)`, args)
}

// packedQuery runs query, which selects a count of rows and their packed
// texts joined by rowSep, with args: packedRows' answer.
func (rd tableRead) packedQuery(ctx context.Context, query string, args []any) (int, string, error) {
	rows, err := rd.query(ctx, query, args...)
	if err != nil {
		return 0, "", tooBig(err)
	}
	var (
		n    int
		text sql.NullString // NULL: no rows
	)
	if rows.Next() {
		err = rows.Scan(&n, &text)
	}
	if cerr := rows.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = rows.Err()
	}
	if err != nil {
		return 0, "", tooBig(err)
	}
	// A text holding rowSep would cut into one row more: a row's last
	// column, which unpack cannot tell, could pass as a row of its own.
	if n > 0 && strings.Count(text.String, rowSep) != n-1 {
		return 0, "", errUnpackable
	}
	return n, text.String, nil
}

// tooBig is err, or errUnpackable when it is SQLite's SQLITE_TOOBIG: a
// page's text longer than SQLite makes one (a billion bytes unless the
// build says less), whose rows are then read one at a time.
func tooBig(err error) error {
	if sqliteCode(err) == sqlite3.SQLITE_TOOBIG {
		return errUnpackable
	}
	return err
}

// rowSep separates the rows of a packed query (each), packSep the
// columns of a packed row: control characters no text nhi writes as
// JSON or time has, and names, scopes and owners hardly ever (a page in
// which one does is read again column by column: errUnpackable).
const (
	rowSep  = "\x1e"
	packSep = "\x1f"
)

// errUnpackable says a packed text did not cut into its rows and
// columns.
var errUnpackable = errors.New("a text holds a separator of the packed read")

// packed is the columns as one packed text (SQLite), joined by one call
// of concat_ws, which sizes the text once, where a chain of || built and
// copied it anew at every column. The columns are never NULL (ifnull
// makes a nullable one the empty text, which parseNullTime reads as it
// reads NULL): concat_ws would leave a NULL out, and || would make the
// whole row NULL.
func packed(cols ...string) string {
	return "concat_ws(char(31)," + strings.Join(cols, ",") + ")"
}

// packedPair is packed(a, b) for two columns: joined by ||, which SQLite
// runs as two of its own steps, where concat_ws is a call of a function
// that measures and copies each column (issue 21: the change marks' read
// of the older snapshot's digests, a column of IDs and one of digests,
// took 10% fewer instructions). From three columns on, concat_ws costs
// less: each || copies the whole text built so far (ten columns, half
// as many instructions again). Neither column is ever NULL, which would
// make the whole row NULL.
func packedPair(a, b string) string {
	return a + "||char(31)||" + b
}

// unpack cuts a packed row into dst, one text per column; false when it
// has more or fewer separators than columns.
func unpack(s string, dst ...*string) bool {
	rest, ok := CutPacked(s, dst[:len(dst)-1]...)
	*dst[len(dst)-1] = rest
	return ok && strings.IndexByte(rest, packSep[0]) < 0
}

// The packed read for packages that keep their tables in the store (the
// campaigns' verify reads an item so): one format, the separator the
// SQL joins with and Go cuts at defined here only.

// PackSep separates the columns of a row Packed packs.
const PackSep = packSep

// Packed is the SQL expression of the columns (a comma-separated list,
// each NOT NULL) packed into one text, as the table read packs its rows.
func Packed(cols ...string) string { return packed(cols...) }

// CutPacked cuts the first len(dst) columns of a packed row into dst and
// returns the rest; false when the row has fewer separators than that.
//
// Each column is cut as strings.Cut(s, packSep) would, by one call of
// IndexByte written out here: each column and row of a packed read is
// cut, a few million at a million identities, and strings.Cut's two
// calls around the search (stringslite.Cut, Index) were as many
// instructions as the search; a function of its own for the cut is not
// inlined either (issue 21).
func CutPacked(s string, dst ...*string) (rest string, ok bool) {
	for _, d := range dst {
		i := strings.IndexByte(s, packSep[0])
		if i < 0 {
			*d = s
			return "", false
		}
		*d, s = s[:i], s[i+1:]
	}
	return s, true
}
