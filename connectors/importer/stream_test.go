package importer

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/audit"
)

// A checked file holds its bytes and the counts, not its identities:
// they are read again as they are recorded, so a million rows never sit
// decoded in memory at once (issue 21).
func TestParseHoldsTheFileNotItsIdentities(t *testing.T) {
	const n = 20_000
	for _, format := range []string{FormatCSV, FormatJSON} {
		var sb strings.Builder
		if err := writeRows(&sb, n, format); err != nil {
			t.Fatal(err)
		}
		data := []byte(sb.String())
		sb = strings.Builder{}
		before := heapInUse()
		p, err := Parse(data, Options{Source: "vendor", Format: format, File: "export." + format})
		if err != nil {
			t.Fatal(err)
		}
		held := heapInUse() - before
		runtime.KeepAlive(p)
		// Decoded, the identities took some 800 bytes each (their maps,
		// their times, a key that kept its CSV record's text alive):
		// 15 to 18 MB here. The counts and the digest take a few hundred
		// bytes.
		if held > 1<<20 {
			t.Errorf("%s: the checked file of %d identities holds %d KB besides its bytes; want under 1 MB", format, n, held>>10)
		}
		if p.Identities != n || p.Counts()["import_api_key"] != n {
			t.Errorf("%s: %d identities, counts %v", format, p.Identities, p.Counts())
		}
	}
}

// heapInUse is the live heap after a collection, in bytes.
func heapInUse() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// A repeated key is found among many, naming the line of its first use,
// in CSV and JSON alike.
func TestRepeatedKeyAmongMany(t *testing.T) {
	var sb strings.Builder
	sb.WriteString("key\n")
	for i := range 20_000 {
		fmt.Fprintf(&sb, "k%d\n", i)
	}
	sb.WriteString("k7\nk19999\nK7\n")
	got := errorLines(t, sb.String(), FormatCSV)
	want := []string{
		`line 20002, column 1 (key): key "k7" is also on line 9; keys are unique within the source`,
		`line 20003, column 1 (key): key "k19999" is also on line 20001; keys are unique within the source`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	js := `[{"key": "a"}, {"key": "b"},
{"key": "a"}]`
	if got := errorLines(t, js, FormatJSON); len(got) != 1 || got[0] != `line 2, column 9 (key): key "a" is also on line 1; keys are unique within the source` {
		t.Errorf("json: %v", got)
	}
}

// Recording stops at the recorder's first error and returns it: nothing
// after it is read.
func TestEachStopsAtTheRecordersError(t *testing.T) {
	p := mustParse(t, "key\nk1\nk2\nk3\n", FormatCSV)
	full := errors.New("disk full")
	var seen []string
	err := p.Each(func(o audit.Observation) error {
		seen = append(seen, o.ID)
		if len(seen) == 2 {
			return full
		}
		return nil
	})
	if !errors.Is(err, full) || len(seen) != 2 {
		t.Errorf("Each: %v after %v; want disk full after two", err, seen)
	}
	// And it reads the file again from the start every time.
	if obs := observations(t, p); len(obs) != 3 || obs[0].ID != "slack:acme:import_identity:k1" {
		t.Errorf("again: %+v", obs)
	}
}
