package audit

import (
	"os"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/internal/benchmem"
)

// BenchmarkTableReader1M runs the table read's reader alone
// (readTablePages, as eachTable runs it) over the file NHI_BENCH_1M
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
		go s.readTablePages(ctx, tableRead{q: conn, packed: true, stmts: stmts}, free, full)
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
