package audit

import (
	"os"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/internal/benchmem"
)

// BenchmarkTableReader1M runs the table read's reader alone
// (readTablePages, as eachTable runs it, the change marks with each
// page) over the file NHI_BENCH_1M
// names, the pages drained as they come and nothing derived: the
// reader's goroutine is the no-cache open's floor (issue 21), and its
// CPU is what this reports beside the rows it found.
func BenchmarkTableReader1M(b *testing.B) {
	path := os.Getenv("NHI_BENCH_1M")
	if path == "" {
		b.Skip("NHI_BENCH_1M names an evidence file of a million identities (tui's BenchmarkStreamOpenFile1M writes one)")
	}
	s, err := Open(ctx, path, OpenOptions{ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var cpu time.Duration
	n := 0
	for b.Loop() {
		before := benchmem.CPUTime()
		n = 0
		free, full := make(chan *tablePage, 3), make(chan *tablePage, 1)
		for range 3 {
			free <- &tablePage{}
		}
		conn, err := s.db.Conn(ctx)
		if err != nil {
			b.Fatal(err)
		}
		stmts := &stmtCache{db: conn}
		marks, err := readMarkPairs(ctx, conn)
		if err != nil {
			b.Fatal(err)
		}
		go s.readTablePages(ctx, tableRead{q: conn, packed: true, stmts: stmts, marks: marks}, free, full)
		for {
			p := <-full
			if p.err != nil {
				b.Fatal(p.err)
			}
			for i := range p.rows {
				if p.rows[i].found {
					n++
				}
			}
			last := p.last
			free <- p
			if last {
				break
			}
		}
		stmts.close()
		conn.Close()
		cpu += benchmem.CPUTime() - before
	}
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
	b.ReportMetric(float64(n), "identities")
}

// BenchmarkDeriveTable1M runs the table read's derive alone (deriveTable,
// as eachTable runs it) over the file NHI_BENCH_1M names: every page is
// read first, then each run builds the identities from the pages' texts,
// judges, follows renames, evaluates findings, marks and suggests owners
// and hands them to a fn that does nothing: the audit side's cost per
// identity of an open without a cache (issue 21), apart from the reader
// (BenchmarkTableReader1M) and from what the TUI does with them. Table is
// EachTableIdentity's derive, Stream StreamIdentities'.
func BenchmarkDeriveTable1M(b *testing.B) {
	path := os.Getenv("NHI_BENCH_1M")
	if path == "" {
		b.Skip("NHI_BENCH_1M names an evidence file of a million identities (tui's BenchmarkStreamOpenFile1M writes one)")
	}
	s, err := Open(ctx, path, OpenOptions{ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	pages := readAllPages(b, s)
	for _, passing := range []bool{false, true} {
		name := "Table"
		if passing {
			name = "Stream"
		}
		b.Run(name, func(b *testing.B) {
			var cpu time.Duration
			n := 0
			for b.Loop() {
				full, free := make(chan *tablePage, len(pages)), make(chan *tablePage, len(pages))
				for _, p := range pages {
					full <- p
				}
				n = 0
				before := benchmem.CPUTime()
				mode := tableKeep
				if passing {
					mode = tablePassing
				}
				if err := s.deriveTable(ctx, mode, func(*Identity) error { n++; return nil }, free, full); err != nil {
					b.Fatal(err)
				}
				cpu += benchmem.CPUTime() - before
			}
			b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
			b.ReportMetric(float64(n), "identities")
		})
	}
}

// readAllPages reads the whole table as the reader does, every page kept.
func readAllPages(b *testing.B, s *Store) []*tablePage {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	stmts := &stmtCache{db: conn}
	defer stmts.close()
	const most = 1 << 12 // pages: a million identities take some 250
	free, full := make(chan *tablePage, most), make(chan *tablePage, most)
	for range most {
		free <- &tablePage{}
	}
	marks, err := readMarkPairs(ctx, conn)
	if err != nil {
		b.Fatal(err)
	}
	s.readTablePages(ctx, tableRead{q: conn, packed: s.engine == engineSQLite, stmts: stmts, marks: marks}, free, full)
	var pages []*tablePage
	for len(full) > 0 {
		p := <-full
		if p.err != nil {
			b.Fatal(p.err)
		}
		pages = append(pages, p)
	}
	return pages
}
