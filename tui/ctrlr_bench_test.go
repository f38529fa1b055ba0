package tui

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/internal/benchmem"
)

// BenchmarkCtrlR100k is ctrl+r on a table of 100,000 identities opened
// from the store (bigEvidence), until the table read again is in:
// "cached" with the table cache the open wrote at the head, which ctrl+r
// maps as an open would; "derived" with no cache (as after a policy or a
// snapshot no command prepared), every row derived again. Wall time per
// op beside cpu-ms/op, and the CPU of the open from the store before
// them (open-cpu-ms).
func BenchmarkCtrlR100k(b *testing.B) { benchCtrlR(b, bigEvidence(b)) }

func benchCtrlR(b *testing.B, path string) {
	b.Run("cached", func(b *testing.B) { benchCtrlRWith(b, path, b.TempDir()) })
	b.Run("derived", func(b *testing.B) { benchCtrlRWith(b, path, "") })
	b.Run("derivedFromCached", func(b *testing.B) { benchCtrlRWith(b, path, b.TempDir(), true) })
}

// benchCtrlRWith measures ctrl+r with the table cache in cache ("": none);
// with uncache, the table on screen is the cache's (mapped, as an open
// usually finds it at a million) and ctrl+r finds none at the head, as
// after a policy: it derives every row.
func benchCtrlRWith(b *testing.B, path, cache string, uncache ...bool) {
	defer limitMemory()()
	ctx := context.Background()
	st, err := audit.Open(ctx, path, audit.OpenOptions{ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	m := New(nil, nil, Options{Store: st, Now: clock, TableCache: cache})
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	c := benchmem.CPUTime()
	drain(b, m, m.Init())
	open := benchmem.CPUTime() - c
	m.cache.writes.Wait()
	if len(uncache) > 0 {
		m = New(nil, nil, Options{Store: st, Now: clock, TableCache: cache})
		m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
		drain(b, m, m.Init())
		if m.cache.read == nil {
			b.Fatal("the table was not read from its cache")
		}
		files, _ := filepath.Glob(filepath.Join(cache, "*"))
		for _, f := range files {
			os.Remove(f)
		}
		runtime.GC()
	}
	var cpu time.Duration
	for b.Loop() {
		c := benchmem.CPUTime()
		drain(b, m, func() tea.Msg { return refreshMsg{} })
		cpu += benchmem.CPUTime() - c
		m.cache.writes.Wait()
		if len(uncache) > 0 {
			files, _ := filepath.Glob(filepath.Join(cache, "*"))
			for _, f := range files {
				os.Remove(f) // what ctrl+r wrote: the next one derives too
			}
		}
		if len(m.st.dirty) > 0 || m.st.reloading {
			b.Fatal("rows left to derive")
		}
	}
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/op")
	// The open before, from the store: what ctrl+r is held to.
	b.ReportMetric(float64(open.Microseconds())/1000, "open-cpu-ms")
}

// BenchmarkCtrlR1M is BenchmarkCtrlR100k on a million identities
// (scaleEvidence), opened read-only.
func BenchmarkCtrlR1M(b *testing.B) { benchCtrlR(b, scaleEvidence(b)) }
