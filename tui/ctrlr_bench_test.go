package tui

import (
	"context"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/internal/benchmem"
)

// BenchmarkCtrlR100k is ctrl+r on a table of 100,000 identities opened
// from the store (bigEvidence): every row read and derived again, until
// the last row is in. Wall time per op beside cpu-ms/op.
func BenchmarkCtrlR100k(b *testing.B) { benchCtrlR(b, bigEvidence(b)) }

func benchCtrlR(b *testing.B, path string) {
	defer limitMemory()()
	ctx := context.Background()
	st, err := audit.Open(ctx, path, audit.OpenOptions{ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	m := New(nil, nil, Options{Store: st, Now: clock, TableCache: b.TempDir()})
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	drain(b, m, m.Init())
	m.cache.writes.Wait()
	var cpu time.Duration
	for b.Loop() {
		c := benchmem.CPUTime()
		drain(b, m, func() tea.Msg { return refreshMsg{} })
		cpu += benchmem.CPUTime() - c
		if len(m.st.dirty) > 0 || m.st.reloading {
			b.Fatal("rows left to derive")
		}
	}
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/op")
}

// BenchmarkCtrlR1M is BenchmarkCtrlR100k on a million identities
// (scaleEvidence), opened read-only.
func BenchmarkCtrlR1M(b *testing.B) { benchCtrlR(b, scaleEvidence(b)) }
