package audit

import "context"

// ReleasePageCache gives back the pages SQLite keeps cached and unused,
// for every connection of this process (PRAGMA shrink_memory); on
// PostgreSQL it does nothing. Call it while a cursor that seeks stands
// open, once reads on other connections have gone through whole tables
// beside it, so the cursor can cache its pages again.
//
// Why: the SQLite nhi uses (modernc.org/sqlite) is built with one page
// cache shared by all the connections of a process, each allowed its
// cache_size. A connection reading more than that takes the least used
// pages of the others as it goes, and keeps them once it is through:
// the shared cache is then full, and a page another connection releases
// is freed at once rather than kept (pcache1Unpin). A cursor that seeks
// (a join) then reads its table's inner pages from the file again for
// every row: a campaign's million items, read beside the report's other
// reads, made 2,044,000 read calls, and 48,000 with the cache given back
// (docs/performance.md, "One page cache for the process"). The pages the
// next reads need come back from the file once.
func (s *Store) ReleasePageCache(ctx context.Context) error {
	if s.engine != engineSQLite {
		return nil
	}
	_, err := s.db.ExecContext(ctx, "PRAGMA shrink_memory")
	return err
}
