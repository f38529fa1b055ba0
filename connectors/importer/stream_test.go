package importer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/connectors"
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

// A file written to between its check and its recording is not recorded
// as the file that was checked: the recording fails, and the snapshot is
// closed as failed, never current.
func TestFileChangedWhileImportedFails(t *testing.T) {
	const canary = "xoxb-CANARY-5f1e2d3c4b5a"
	ctx := context.Background()
	st, err := audit.Open(ctx, filepath.Join(t.TempDir(), "nhi.db"), audit.OpenOptions{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, change := range []struct{ name, checked, recorded string }{
		{"a row added", "key\nk1\nk2\n", "key\nk1\nk2\nk3\n"},
		{"a cell changed", "key,name\nk1,a\nk2,b\n", "key,name\nk1,a\nk2,c\n"},
		{"made invalid", "key,expires_at\nk1,2026-01-01\n", "key,expires_at\nk1,01/02/2026\n"},
		{"a secret column added", "key,name\nk1,a\n", "key,name,token\nk1,a," + canary + "\n"},
		{"a secret field added", `[{"key": "k1"}, {"key": "k2"}]`, `[{"key": "k1"}, {"key": "k2", "token": "` + canary + `"}]`},
	} {
		reads := 0
		open := func() (io.ReadCloser, error) {
			reads++
			data := change.checked
			if reads > 1 {
				data = change.recorded
			}
			return io.NopCloser(strings.NewReader(data)), nil
		}
		format := FormatCSV
		if strings.HasPrefix(change.checked, "[") {
			format = FormatJSON
		}
		p, err := ParseFrom(open, Options{Source: "slack", Account: "acme", Format: format, File: "in." + format})
		if err != nil {
			t.Fatal(err)
		}
		snap, err := connectors.Snapshot(ctx, st, NewConnector(p, "/tmp/in.csv"), "test")
		if !errors.Is(err, ErrChanged) || snap == nil || snap.Status != audit.SnapshotFailed {
			t.Errorf("%s: snapshot %+v, %v; want it failed, the file changed", change.name, snap, err)
		}
	}
	current, err := st.CurrentSnapshots(ctx)
	if err != nil || len(current) != 0 {
		t.Errorf("current snapshots %+v, %v; want none", current, err)
	}
	st.Close()
	for _, f := range []string{st.Path(), st.Path() + "-wal"} {
		if data, _ := os.ReadFile(f); bytes.Contains(data, []byte(canary)) {
			t.Errorf("%s holds the secret value", f)
		}
	}
}

// A string longer than what is read at a time, escapes and all, is read
// whole, and the lines after it are counted right.
func TestLongJSONString(t *testing.T) {
	long := strings.Repeat(`ab\"c\\`, readBuffer/3) + `\\`
	data := `[{"key": "k1", "name": "` + long + `"},` + "\n" + `{"key": "k2", "expires_at": "soon"}]`
	got := errorLines(t, data, FormatJSON)
	if len(got) != 1 || !strings.HasPrefix(got[0], "line 2, column 29 (expires_at)") {
		t.Errorf("errors %v", got)
	}
	p := mustParse(t, `[{"key": "k1", "name": "`+long+`"}]`, FormatJSON)
	want := strings.Repeat(`ab"c\`, readBuffer/3) + `\`
	if o := observations(t, p); len(o) != 1 || o[0].Name != want {
		t.Errorf("the long name is not read whole")
	}
}
