package tui

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/internal/benchmem"
)

// BenchmarkWatchFile1M is what a TUI open on a million identities (a
// copy of NHI_BENCH_1M's file, opened from its table cache) spends
// following another process's writes, off the event loop: "named" is
// one owner set, then the look at the head that reads whom the events
// since changed (rowsSince) and derives that row again (a decision's
// rows take the same reload); "all" is every row derived again, what a
// snapshot, a policy, people or more than patchMax identities decided
// cost the watch (and ctrl+r). Wall time per op beside cpu-ms/op.
func BenchmarkWatchFile1M(b *testing.B) {
	src := scaleEvidence(b)
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "1m.db")
	if err := copyFile(src, path); err != nil {
		b.Fatal(err)
	}
	defer limitMemory()()
	st, err := audit.Open(ctx, path, audit.OpenOptions{ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	other, err := audit.Open(ctx, path, audit.OpenOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer other.Close()
	dir := os.Getenv("NHI_BENCH_CACHE") // a table cache kept between runs
	if dir == "" {
		dir = b.TempDir()
	}
	m := New(nil, nil, Options{Store: st, Now: clock, TableCache: dir})
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	drain(b, m, m.Init())
	m.cache.writes.Wait()
	look := func() { drain(b, m, func() tea.Msg { return watchTickMsg{} }) }
	look()
	id := m.st.pop.identity(int32(m.st.pop.len() / 2)).ID
	b.Run("named", func(b *testing.B) {
		var cpu time.Duration
		i := 0
		for b.Loop() {
			b.StopTimer()
			i++
			if _, err := other.SetOwner(ctx, "bench@example.com", id, "owner-"+strconv.Itoa(i)); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			c := benchmem.CPUTime()
			look()
			cpu += benchmem.CPUTime() - c
			if k, _ := m.st.pop.find(id); m.st.pop.identity(k).Owner != "owner-"+strconv.Itoa(i) {
				b.Fatal("the owner did not follow")
			}
		}
		b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/op")
	})
	b.Run("all", func(b *testing.B) {
		var cpu time.Duration
		for b.Loop() {
			c := benchmem.CPUTime()
			drain(b, m, func() tea.Msg { return rowsChangedMsg{all: true} })
			cpu += benchmem.CPUTime() - c
			if len(m.st.dirty) > 0 {
				b.Fatal("rows left to derive")
			}
		}
		b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/op")
	})
}

// copyFile copies the file at src to dst.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
