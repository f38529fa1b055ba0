package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/audit"
)

// shortWait makes nhi wait 100 ms for a busy file's write lock rather
// than 10 s (NHI_BUSY_TIMEOUT), so a command gives up after its five
// tries in about a second and the test sees what a user sees after 50 s.
const shortWait = busyTimeoutEnv + "=100ms"

// holdWriteLock takes db's write lock on a connection of its own, as
// another process writing would, until free is called.
func holdWriteLock(t *testing.T, db string) (free func()) {
	t.Helper()
	ctx := context.Background()
	// The stalled nhi may be in the middle of writing a batch its other
	// workers read before the stall: wait for that to end, as a writer
	// does, rather than fail on it.
	raw, err := sql.Open("sqlite", db+"?_pragma=busy_timeout(30000)")
	if err != nil {
		t.Fatal(err)
	}
	holder, err := raw.Conn(ctx)
	if err != nil {
		raw.Close()
		t.Fatal(err)
	}
	if _, err := holder.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		raw.Close()
		t.Fatal(err)
	}
	return func() {
		if _, err := holder.ExecContext(ctx, "ROLLBACK"); err != nil {
			t.Error(err)
		}
		holder.Close()
		raw.Close()
	}
}

// holderWords and holderAdvice are, as regular expressions, how a busy
// error names the holder holdWriteLock makes (this test binary, which
// is not the nhi that waits), and what it says to do about it; only
// Linux says who holds a lock, elsewhere it is "another process".
var holderWords, holderAdvice = func() (string, string) {
	if runtime.GOOS != "linux" {
		return `another process`, `If it is nhi, a campaign create or a snapshot of a large population holds it for minutes: wait for it to finish; if it is another program \(the sqlite3 shell, a backup tool\), it holds it until its transaction ends: end it or close the program; then run this command again`
	}
	name := filepath.Base(os.Args[0])
	if len(name) > 15 {
		name = name[:15] // the system keeps 15 bytes of a name
	}
	name = regexp.QuoteMeta(name)
	return name + ` \(pid ` + strconv.Itoa(os.Getpid()) + `\)`,
		name + ` holds it until its transaction ends: end it \(in the sqlite3 shell, COMMIT or ROLLBACK\) or close ` + name + `, or wait for it to finish, then run this command again`
}()

// TestBusyFileSaysWhoHoldsIt: an `nhi import` into a file whose write lock
// another connection holds all through its waits exits 1 with one line
// that says what happened, names the snapshot running now (another nhi,
// stalled in the middle of an organisation) and what to do; it records
// nothing, the file verifies, and once the lock is free the same command
// goes through.
func TestBusyFileSaysWhoHoldsIt(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "nhi.db")
	csv := filepath.Join(dir, "bots.csv")
	if err := os.WriteFile(csv, []byte("key,kind,name\nB1,bot_token,deploy bot\nB2,bot_token,chat bot\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	first := startHeld(t, db) // an nhi snapshot github, stalled: it holds its snapshot lock

	free := holdWriteLock(t, db)
	cmd := exec.Command(nhiBinary(t), "import", csv, "--source", "slack", "--account", "acme", "--db", db)
	cmd.Env = append(os.Environ(), "NHI_DB=", "NHI_REVIEWER=", shortWait)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	runErr := cmd.Run()
	free()

	var ee *exec.ExitError
	if !errors.As(runErr, &ee) || ee.ExitCode() != 1 {
		t.Errorf("import into a busy file: %v, want exit 1", runErr)
	}
	want := regexp.MustCompile(`^nhi: import of bots\.csv failed: starting snapshot: ` + regexp.QuoteMeta(db) +
		` stayed busy with other writers for \ds: ` + holderWords + ` held its write lock all that time; ` +
		`running now: a snapshot of github/northwind \(pid ` + strconv.Itoa(first.cmd.Process.Pid) + ` on host [^,]+, started \d\d:\d\d UTC\)\. ` +
		holderAdvice + `: ` +
		`database is locked \(5\) \(SQLITE_BUSY\)\n$`)
	if !want.MatchString(errb.String()) {
		t.Errorf("import into a busy file says:\n%s\nwant it to match\n%s", errb.String(), want)
	}
	t.Logf("what the user sees:\n%s%s", out.String(), errb.String())

	first.release()
	if err := first.cmd.Wait(); err != nil {
		t.Fatalf("the stalled snapshot: %v\n%s", err, first.stderr)
	}
	if r := nhi(t, nil, "snapshots", "--db", db); r.code != 0 || regexp.MustCompile(`(?m)^slack/`).MatchString(r.stdout) {
		t.Errorf("the busy import recorded a snapshot: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := nhi(t, nil, "verify", "--db", db); r.code != 0 {
		t.Errorf("verify after the busy import: %s%s", r.stdout, r.stderr)
	}
	if r := nhi(t, nil, "import", csv, "--source", "slack", "--account", "acme", "--db", db); r.code != 0 {
		t.Errorf("the same import once the lock is free: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestSnapshotStoppedBusyIsContinued: an `nhi snapshot github` whose
// writes meet the file busy in the middle of the organisation stops, exit
// 1, saying which snapshot keeps what it wrote and that the same command
// continues it; the file verifies with that snapshot unfinished and
// nothing of it current, and the same command, once the file is free,
// continues that snapshot and finishes it.
func TestSnapshotStoppedBusyIsContinued(t *testing.T) {
	db := filepath.Join(t.TempDir(), "nhi.db")
	first := startHeldWith(t, db, shortWait) // stalled at the repositories, its organisation's units written

	free := holdWriteLock(t, db)
	first.release()
	runErr := first.cmd.Wait()
	free()
	t.Logf("what the user sees:\n%s%s", first.stdout, first.stderr)
	var ee *exec.ExitError
	if !errors.As(runErr, &ee) || ee.ExitCode() != 1 {
		t.Errorf("the snapshot that met the file busy: %v, want exit 1", runErr)
	}
	want := regexp.MustCompile(`(?m)^nhi: snapshot of northwind failed: snapshot 1 stopped unfinished and is never current; it keeps the batches it wrote, and running the same command again continues it: .*` +
		regexp.QuoteMeta(db) + ` stayed busy with other writers for \ds: ` + holderWords + ` held its write lock all that time\. ` +
		holderAdvice + `: database is locked \(5\) \(SQLITE_BUSY\)$`)
	if !want.MatchString(first.stderr.String()) {
		t.Errorf("the stopped snapshot says:\n%s\nwant a line matching\n%s", first.stderr, want)
	}
	if r := nhi(t, nil, "verify", "--db", db); r.code != 0 {
		t.Errorf("verify with the snapshot stopped: %s%s", r.stdout, r.stderr)
	}
	if r := nhi(t, nil, "identities", "--db", db); r.code != 0 || !strings.Contains(r.stdout+r.stderr, "No identities yet") {
		t.Errorf("identities should list nothing of an unfinished snapshot: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// Its counts and gaps are not known until it finishes: none is
	// claimed (it wrote batches of identities already).
	if r := nhi(t, nil, "snapshots", "--db", db); r.code != 0 || !regexp.MustCompile(`(?m)^1 +github/northwind +\S+ \S+ +running +— +— `).MatchString(r.stdout) ||
		!strings.Contains(r.stdout, "Snapshot 1 (github/northwind) was stopped before it finished: no live nhi process holds it. Nothing of it is current or counted; run the command that took it again (nhi snapshot, import or demo)") {
		t.Errorf("snapshots with one stopped: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := nhi(t, nil, "snapshots", "show", "1", "--db", db); r.code != 0 || strings.Contains(r.stdout, "Identities: 0") || strings.Contains(r.stdout, "Not read: nothing") ||
		!strings.Contains(r.stdout, "Identities: never counted unless it finishes") {
		t.Errorf("snapshots show of the stopped one: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// Nor in JSON: counts null, where {} says none of any kind; the gaps
	// are those written so far, each a fact already.
	for _, args := range [][]string{{"snapshots", "--json"}, {"snapshots", "show", "1", "-o", "json"}} {
		r := nhi(t, nil, append(args, "--db", db)...)
		var one struct {
			Counts map[string]int `json:"counts"`
		}
		out := strings.TrimSpace(r.stdout)
		if strings.HasPrefix(out, "[") {
			out = strings.TrimSuffix(strings.TrimPrefix(out, "["), "]")
		}
		if r.code != 0 || json.Unmarshal([]byte(out), &one) != nil || one.Counts != nil {
			t.Errorf("%s of the stopped one: exit %d, counts %v; want null, not counted yet\n%s%s", strings.Join(args, " "), r.code, one.Counts, r.stdout, r.stderr)
		}
	}

	r := nhi(t, []string{"GITHUB_TOKEN=" + first.srv.Token()}, first.args...)
	if r.code != 0 || !regexp.MustCompile(`(?m)^Snapshot 1 of github/northwind: partial`).MatchString(r.stdout) {
		t.Errorf("the same command again: exit %d, want snapshot 1 continued and finished:\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := nhi(t, nil, "verify", "--db", db); r.code != 0 {
		t.Errorf("verify after the continued snapshot: %s%s", r.stdout, r.stderr)
	}
}

// TestBusyTimeoutMustBeADuration: a NHI_BUSY_TIMEOUT that is not a
// duration stops a command before it opens the file, saying what the
// variable is for and what a value looks like.
func TestBusyTimeoutMustBeADuration(t *testing.T) {
	db := filepath.Join(t.TempDir(), "nhi.db")
	r := nhi(t, []string{busyTimeoutEnv + "=soon"}, "identities", "--db", db)
	want := `nhi: NHI_BUSY_TIMEOUT="soon" is not a duration such as 30s: set it to how long a write waits for a busy evidence file, or unset it for 10s`
	if r.code != 1 || !strings.Contains(r.stderr, want) {
		t.Errorf("exit %d, stderr:\n%s\nwant exit 1 and %q", r.code, r.stderr, want)
	}
	if _, err := os.Stat(db); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the refused command created or touched %s: %v", db, err)
	}
}

// TestImportStoppedBusyIsClosed: an `nhi import` whose writes meet the
// file busy in the middle (another connection takes the write lock once
// its snapshot has started and recorded part of the file) says it stops
// and closes its snapshot as failed once the file is free; it exits 1
// with the busy error, and the snapshot is listed failed, never running
// (an import is never resumed), the file verifies, and the same import
// once the file is free records the whole file.
//
// The import reads a FIFO the test writes, so the lock is taken at the
// same point of every run, whatever the machine's load: the import reads
// its file twice (checked, then recorded, with both readings' SHA-256
// compared), so the test writes it whole for the first reading and, for
// the second, which the import opens once its snapshot has started,
// writes part, waits until the import has written batches of it to the
// file, takes the lock, then writes the rest. The failed snapshot keeps
// those batches, and the import's summary says how many identities it
// read before it failed with the count nhi snapshots show gives.
func TestImportStoppedBusyIsClosed(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "nhi.db")
	csv := filepath.Join(dir, "bots.csv")
	var b strings.Builder
	b.WriteString("key,kind,name\n")
	// Rows before the lock fill batches the import writes; after it,
	// enough that a row is recorded after a batch met the busy file
	// (audit.SnapshotWriter writes 500 rows at a time, with two queued).
	// The importer parses nothing before it has a MiB of the file (or
	// all of it: the header must fit in its buffer, connectors/importer
	// readBuffer), so the rows before the lock are long enough to pass
	// that: with short ones it had read nothing when the lock was taken.
	const before, rows = 2000, 6000
	pad := strings.Repeat("x", 600)
	var cut int
	for i := range rows {
		if i == before {
			cut = b.Len()
		}
		fmt.Fprintf(&b, "B%d,bot_token,bot %d %s\n", i, i, pad)
	}
	if cut <= 1<<20 {
		t.Fatalf("the rows before the lock are %d bytes, want over a MiB", cut)
	}
	content := []byte(b.String())
	if err := os.WriteFile(csv, content, 0o600); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo", "bots.csv")
	if err := os.Mkdir(filepath.Dir(fifo), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	// Another source first: the stopped import loses none of it.
	other := filepath.Join(dir, "other.csv")
	if err := os.WriteFile(other, []byte("key,kind,name\nO1,bot_token,other bot\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ok(t, "import", other, "--source", "other", "--db", db)

	cmd := exec.Command(nhiBinary(t), "import", fifo, "--source", "slack", "--account", "acme", "--db", db)
	cmd.Env = append(os.Environ(), "NHI_DB=", "NHI_REVIEWER=", shortWait)
	var out bytes.Buffer
	cmd.Stdout = &out
	stderr, errw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stderr.Close()
	cmd.Stderr = errw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	errw.Close()
	var runErr error
	exited := make(chan struct{})
	go func() { runErr = cmd.Wait(); close(exited) }()

	// The first reading, the check: the whole file.
	w := openFIFO(t, fifo, exited)
	if _, err := w.Write(content); err != nil {
		t.Fatal(err)
	}
	w.Close()
	// The second, once the snapshot has started: the first reading has
	// closed the FIFO by then (opened while it was still open, the FIFO
	// would hand the first reading the file again).
	raw, err := sql.Open("sqlite", "file:"+db+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	for {
		var n int
		if raw.QueryRow(`SELECT count(*) FROM snapshots WHERE source = 'slack'`).Scan(&n) == nil && n > 0 {
			break
		}
		select {
		case <-exited:
			t.Fatalf("the import exited before it started its snapshot:\n%s", out.String())
		case <-time.After(2 * time.Millisecond):
		}
	}
	w = openFIFO(t, fifo, exited)
	if _, err := w.Write(content[:cut]); err != nil {
		t.Fatal(err)
	}
	// Another process takes the write lock once the import has written
	// a batch of the file (waiting for one it is writing, as a writer
	// does), and lets go once the import says it is closing it.
	for {
		var n int
		if raw.QueryRow(`SELECT count(*) FROM observations WHERE snapshot_id = 2`).Scan(&n) == nil && n > 0 {
			break
		}
		select {
		case <-exited:
			t.Fatalf("the import exited before it wrote a batch:\n%s", out.String())
		case <-time.After(2 * time.Millisecond):
		}
	}
	free := holdWriteLock(t, db)
	wrote := make(chan error, 1)
	go func() {
		// The import stops reading at the busy error and closes the
		// file: the rest need not all be read.
		_, err := w.Write(content[cut:])
		w.Close()
		wrote <- err
	}()
	var errb bytes.Buffer
	lines := bufio.NewScanner(io.TeeReader(stderr, &errb))
	for lines.Scan() {
		if free != nil && strings.HasPrefix(lines.Text(), "Note: the evidence file stayed busy: snapshot 2 stops here and is closed as failed once the file is free") {
			free()
			free = nil
		}
	}
	<-exited
	<-wrote
	if free != nil {
		free()
	}
	t.Logf("what the user sees:\n%s%s", out.String(), errb.String())
	var ee *exec.ExitError
	if !errors.As(runErr, &ee) || ee.ExitCode() != 1 {
		t.Errorf("the import that met the file busy: %v, want exit 1", runErr)
	}
	if !regexp.MustCompile(`(?m)^nhi: import of bots\.csv failed: .*` + regexp.QuoteMeta(db) + ` stayed busy with other writers for \ds: `).MatchString(errb.String()) {
		t.Errorf("the stopped import should fail with the busy error; stderr:\n%s", errb.String())
	}
	said := regexp.MustCompile(`(?m)^Snapshot 2 of slack/acme: failed, (\d+) identities read before it failed in `).FindStringSubmatch(out.String())
	if said == nil || said[1] == "0" {
		t.Errorf("the stopped import should say its snapshot failed, with the identities it read before it failed (batches of them were written); stdout:\n%s", out.String())
	}
	var snaps []snapshotJSON
	r := ok(t, "snapshots", "--json", "--db", db)
	if err := json.Unmarshal([]byte(r.stdout), &snaps); err != nil {
		t.Fatal(err)
	}
	if len(snaps) != 2 || snaps[0].ID != 2 || snaps[0].Status != audit.SnapshotFailed || !strings.Contains(snaps[0].Error, "stayed busy") {
		t.Errorf("nhi snapshots after the stopped import: %+v, want snapshot 2 failed with the busy error", snaps)
	}
	// What the import said it read is what the file keeps of it.
	var kept int
	if err := raw.QueryRow(`SELECT count(*) FROM observations WHERE snapshot_id = 2`).Scan(&kept); err != nil {
		t.Fatal(err)
	}
	if said != nil && said[1] != strconv.Itoa(kept) {
		t.Errorf("the stopped import said %s identities read before it failed; the file keeps %d", said[1], kept)
	}
	if r := ok(t, "snapshots", "show", "2", "--db", db); said != nil && !strings.Contains(r.stdout, "\nIdentities: "+said[1]+" identities read before it failed ") {
		t.Errorf("nhi snapshots show 2 after the import said %s identities read before it failed:\n%s", said[1], r.stdout)
	}
	if r := nhi(t, nil, "verify", "--db", db); r.code != 0 {
		t.Errorf("verify after the stopped import: %s%s", r.stdout, r.stderr)
	}
	r = ok(t, "import", csv, "--source", "slack", "--account", "acme", "--db", db)
	if !strings.Contains(r.stdout, fmt.Sprintf("Snapshot 3 of slack/acme: complete, %d identities", rows)) {
		t.Errorf("the same import once the file is free:\n%s%s", r.stdout, r.stderr)
	}
	if r := ok(t, "identities", "--db", db); !strings.Contains(r.stdout, "other bot") {
		t.Errorf("the other source after the stopped import:\n%s%s", r.stdout, r.stderr)
	}
}

// openFIFO opens fifo for writing, which waits for the import to open it
// for reading; it fails the test if the import exits first.
func openFIFO(t *testing.T, fifo string, exited <-chan struct{}) *os.File {
	t.Helper()
	opened := make(chan *os.File, 1)
	go func() {
		f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err != nil {
			t.Error(err)
		}
		opened <- f
	}()
	select {
	case f := <-opened:
		if f == nil {
			t.FailNow()
		}
		return f
	case <-exited:
		// Let the open return: a reader of the test's own.
		if r, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0); err == nil {
			if f := <-opened; f != nil {
				f.Close()
			}
			r.Close()
		}
		t.Fatalf("the import exited before it opened %s", fifo)
		return nil
	}
}
