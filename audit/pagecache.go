package audit

import "context"

// ReleasePageCache gives back the pages SQLite keeps cached and unused,
// for every connection of this process (PRAGMA shrink_memory); on
// PostgreSQL it does nothing. A read that has gone through more of a
// table than its connection's cache holds calls it when it is done, so
// a cursor still open on another connection can cache its pages again.
//
// Why: the SQLite nhi uses (modernc.org/sqlite) is built with one page
// cache shared by all the connections of a process, each allowed its
// cache_size. A connection reading more than that takes the least used
// pages of the others as it goes, and keeps them once it is through:
// the shared cache is then full, and a page another connection releases
// is freed at once rather than kept (pcache1Unpin). A cursor that seeks
// (a join) then reads its table's inner pages from the file again for
// every row: a campaign's million items, read beside the report's other
// reads, made two million read calls where 22,000 (docs/performance.md,
// "One page cache for the process"). Giving the unused pages back ends
// it; the pages the next reads need come back from the file once.
func (s *Store) ReleasePageCache(ctx context.Context) error {
	if s.engine != engineSQLite {
		return nil
	}
	_, err := s.db.ExecContext(ctx, "PRAGMA shrink_memory")
	return err
}
