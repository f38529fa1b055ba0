package audit

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// holdWriteLock takes the write lock of the evidence file at path on a
// connection of its own, as another process would (the sqlite3 shell, or
// an nhi that is recording a campaign), and keeps it until release.
func holdWriteLock(t *testing.T, path string) (release func()) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	released := false
	release = func() {
		if released {
			return
		}
		released = true
		if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
			t.Error(err)
		}
		conn.Close()
		db.Close()
	}
	t.Cleanup(release)
	return release
}

// busyAdvice is what every busy error tells the user to do.
const busyAdvice = ". A campaign create or a snapshot of a large population holds it for minutes: wait for it to finish, then run this command again: "

// wantBusy fails unless err is the busy error of a write on path that
// waited out the lock: ErrBusy, the driver's SQLITE_BUSY beneath it, the
// advice, and each of names among the snapshots running now.
func wantBusy(t *testing.T, what string, err error, path string, names ...string) {
	t.Helper()
	if !errors.Is(err, ErrBusy) || !isBusy(err) {
		t.Errorf("%s while another connection holds the write lock = %v, want ErrBusy", what, err)
		return
	}
	msg := err.Error()
	if !strings.Contains(msg, path+" stayed busy with other writers for ") ||
		!strings.Contains(msg, fmt.Sprintf("another connection of this process (pid %d) held its write lock all that time", os.Getpid())) ||
		!strings.Contains(msg, busyAdvice+"database is locked") {
		t.Errorf("%s: the busy error should say what happened and what to do; it says:\n%s", what, msg)
	}
	for _, n := range names {
		if !strings.Contains(msg, n) {
			t.Errorf("%s: the busy error should name %q; it says:\n%s", what, n, msg)
		}
	}
}

// shortBusy makes each wait for the write lock 20 ms for the test: five
// tries give up in under a second rather than 50 s.
func shortBusy(t *testing.T) {
	t.Helper()
	d := busyTimeout
	busyTimeout = 20 * time.Millisecond
	t.Cleanup(func() { busyTimeout = d })
}

// A snapshot that meets the file busy says who holds it, at the start
// and in the middle of the run, for its batches, gaps and principals
// alike; left unfinished, it keeps the batches it committed, never
// current, the file verifies, and the next run of the account resumes it
// and finishes it whole.
func TestSnapshotBusyKeepsItsBatches(t *testing.T) {
	shortBusy(t)
	path := filepath.Join(t.TempDir(), "nhi.db")
	st, other := openAt(t, path), openAt(t, path)
	running, err := other.BeginSnapshot(ctx, SnapshotInfo{Source: "github", Account: "other", APIURL: "http://127.0.0.1/", ToolVersion: "test"})
	if err != nil {
		t.Fatal(err)
	}
	holder := fmt.Sprintf("; running now: a snapshot of github/other (pid %d on host %s, started ", os.Getpid(), Printable(hostname()))
	info := SnapshotInfo{Source: "github", Account: "acme", APIURL: "http://127.0.0.1/", Credential: "App test", ToolVersion: "test"}

	release := holdWriteLock(t, path)
	_, err = st.StartSnapshot(ctx, info)
	release()
	wantBusy(t, "starting a snapshot", err, path, holder)
	if err != nil && !strings.HasPrefix(err.Error(), "starting snapshot: "+path+" stayed busy") {
		t.Errorf("the start's error should say the snapshot did not start: %v", err)
	}

	w, err := st.StartSnapshot(ctx, info)
	if err != nil {
		t.Fatal(err)
	}
	key := func(i int) Observation { return obs(fmt.Sprintf("key-%04d", i), KindGitHubDeployKey) }
	for i := 0; i < batchSize; i++ {
		if err := w.Record(key(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Checkpoint("acme/first"); err != nil {
		t.Fatal(err)
	}

	release = holdWriteLock(t, path)
	for i := batchSize; i < 2*batchSize; i++ {
		if err := w.Record(key(i)); err != nil {
			break // the flusher's error, which Checkpoint returns below
		}
	}
	err = w.Checkpoint("acme/second")
	wantBusy(t, "a checkpoint after a full batch", err, path, holder)
	if err != nil && strings.Contains(err.Error(), "a snapshot of github/acme") {
		t.Errorf("a run's busy error names its own snapshot among what holds the file: %v", err)
	}
	wantBusy(t, "a gap", w.Gap(Gap{Endpoint: "GET /repos/acme/x/keys", Status: 500, Reason: "test"}), path, holder)
	wantBusy(t, "a principal", w.Principal(Principal{Type: PrincipalMember, Scope: "org", Login: "alice", Role: "member"}), path, holder)
	w.Leave()
	release()

	var status string
	var n int
	if err := st.QueryRow(ctx, `SELECT status, (SELECT count(*) FROM observations WHERE snapshot_id = s.id) FROM snapshots s WHERE id = ?`, w.ID()).Scan(&status, &n); err != nil {
		t.Fatal(err)
	}
	if status != "running" || n != batchSize {
		t.Errorf("the snapshot left busy is %s with %d observations, want running with the %d of its committed batch", status, n, batchSize)
	}
	if ids, err := st.Identities(ctx); err != nil || len(ids) != 0 {
		t.Errorf("an unfinished snapshot makes nothing current; the file lists %d identities (%v)", len(ids), err)
	}
	checkVerifies(t, st, "with the snapshot left busy")

	w2, err := st.StartSnapshot(ctx, info)
	if err != nil {
		t.Fatalf("the next run should take the snapshot over: %v", err)
	}
	if !w2.Continues() || w2.ID() != w.ID() || !w2.Checkpointed("acme/first") || w2.Checkpointed("acme/second") {
		t.Errorf("the next run should resume snapshot %d after its first unit; it continues=%v snapshot %d", w.ID(), w2.Continues(), w2.ID())
	}
	for i := batchSize; i < 2*batchSize; i++ {
		if err := w2.Record(key(i)); err != nil {
			t.Fatal(err)
		}
	}
	snap, err := w2.Finish(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if snap.Status != SnapshotComplete || snap.Total() != 2*batchSize {
		t.Errorf("the resumed snapshot finished %s with %d identities, want complete with %d", snap.Status, snap.Total(), 2*batchSize)
	}
	if _, err := running.Finish(ctx, nil); err != nil {
		t.Fatal(err)
	}
	checkVerifies(t, st, "after the resumed snapshot")
}

// checkVerifies fails unless nhi verify finds nothing wrong with the file.
func checkVerifies(t *testing.T, st *Store, when string) {
	t.Helper()
	res, err := st.Verify(ctx)
	if err != nil || len(res.Problems) > 0 {
		t.Errorf("verify %s: %v %v", when, err, res.Problems)
	}
}

// The writes outside Write that run a statement or a transaction of
// their own (the policy, the request cache, an import of another file)
// wait for the lock as Write does, say who holds it, and write nothing;
// once the lock is free they go through.
func TestOtherWritesBusySayWhatToDo(t *testing.T) {
	shortBusy(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "nhi.db")
	st := openAt(t, path)
	snapshot(t, st, nil, nil, obs("deploy", KindGitHubDeployKey))
	srcPath := filepath.Join(dir, "other.db")
	src := openAt(t, srcPath)
	snapshot(t, src, nil, nil, obs("deploy", KindGitHubDeployKey), obs("second", KindGitHubDeployKey))
	src.Close()
	src, err := Open(ctx, srcPath, OpenOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	events := func() int64 {
		var n int64
		if err := st.QueryRow(ctx, `SELECT count(*) FROM events`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := events()
	p := DefaultPolicy()
	p.Rules[RuleUnrotated] = RulePolicy{Severity: "medium", Days: 60}

	release := holdWriteLock(t, path)
	_, err = st.SetPolicy(ctx, "lead@acme.test", p)
	wantBusy(t, "setting the policy", err, path)
	wantBusy(t, "storing a request-cache entry", st.CachePut(ctx, "GET /orgs/acme", `"etag"`, []byte("{}")), path)
	_, err = st.Import(ctx, src)
	wantBusy(t, "importing another file", err, path)
	release()

	if n := events(); n != before {
		t.Errorf("the busy writes appended %d events", n-before)
	}
	if _, _, ok, err := st.CacheGet(ctx, "GET /orgs/acme"); ok || err != nil {
		t.Errorf("the busy cache write stored an entry (%v)", err)
	}
	checkVerifies(t, st, "after the busy writes")
	if _, err := st.SetPolicy(ctx, "lead@acme.test", p); err != nil {
		t.Errorf("once the lock is free the policy is set: %v", err)
	}
	if err := st.CachePut(ctx, "GET /orgs/acme", `"etag"`, []byte("{}")); err != nil {
		t.Errorf("once the lock is free the cache is written: %v", err)
	}
}

// A long write (WriteLong: a campaign create) is named by the writers
// that wait it out, with its process, and leaves no trace once it has
// committed; the row of one whose process is gone is never named, and the
// next long write removes it.
func TestWriteLongIsNamed(t *testing.T) {
	shortBusy(t)
	path := filepath.Join(t.TempDir(), "nhi.db")
	holder, waiter := openAt(t, path), openAt(t, path)
	key := obs("deploy", KindGitHubDeployKey)
	snapshot(t, holder, nil, nil, key)
	// A long write of a process that is gone: pid 0 is never alive.
	dead, _ := json.Marshal(writeHold{What: "a campaign create of gone", PID: 0, Host: hostname(), Started: formatTime(time.Now()), Token: "dead"})
	if err := holder.Write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO meta (key, value) VALUES (?, ?)`, holdPrefix+"dead", string(dead))
		return err
	}); err != nil {
		t.Fatal(err)
	}

	held, stop, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		done <- holder.WriteLong(ctx, "a campaign create of q4", func(tx *Tx) error {
			close(held)
			<-stop
			_, err := tx.Append(ctx, "lead@acme.test", "test.long", map[string]string{"campaign": "q4"})
			return err
		})
	}()
	<-held
	_, err := waiter.AddNotes(ctx, "auditor@acme.test", []string{key.ID}, "while the create runs")
	close(stop)
	if err := <-done; err != nil {
		t.Fatalf("the long write: %v", err)
	}
	t.Logf("the error: %v", err)
	wantBusy(t, "a note during a long write", err, path, fmt.Sprintf("; running now: a campaign create of q4 (pid %d on host %s, started ", os.Getpid(), Printable(hostname())))
	if err != nil && strings.Contains(err.Error(), "gone") {
		t.Errorf("the busy error names a long write whose process is gone: %v", err)
	}
	var rows int
	if err := waiter.QueryRow(ctx, `SELECT count(*) FROM meta WHERE key LIKE ?`, holdPrefix+"%").Scan(&rows); err != nil || rows != 0 {
		t.Errorf("after the long write meta holds %d rows of long writes (%v), want none", rows, err)
	}
	checkVerifies(t, waiter, "after the long write")
}

// Opening a file whose schema is older than the build upgrades it in a
// transaction that waits for the lock as any write does: while another
// connection holds it, the open fails naming the holder and leaves the
// file at its old version; once the lock is free the open upgrades it.
func TestMigrateBusySaysWhatToDo(t *testing.T) {
	shortBusy(t)
	path := filepath.Join(t.TempDir(), "nhi.db")
	s := openAt(t, path)
	snapshot(t, s, nil, nil, obs("k1", KindGitHubDeployKey))
	s.Close()

	saved := migrations
	migrations = append(slices2(saved), `CREATE TABLE later (id INTEGER PRIMARY KEY)`)
	SchemaVersion = len(migrations)
	defer func() { migrations, SchemaVersion = saved, len(saved) }()

	release := holdWriteLock(t, path)
	_, err := Open(ctx, path, OpenOptions{})
	release()
	wantBusy(t, "opening a file to upgrade", err, path)
	if err != nil && !strings.HasPrefix(err.Error(), "cannot migrate "+path+": "+path+" stayed busy") {
		t.Errorf("the open's error should say the upgrade did not happen: %v", err)
	}
	old, err := Open(ctx, path, OpenOptions{ReadOnly: true})
	if err == nil {
		old.Close()
		t.Errorf("the busy open upgraded the file anyway")
	}
	s, err = Open(ctx, path, OpenOptions{})
	if err != nil {
		t.Fatalf("once the lock is free the open upgrades the file: %v", err)
	}
	defer s.Close()
	checkVerifies(t, s, "after the upgrade")
}

// testClock is a clock the test moves: the stores' (OpenOptions.Now)
// and the beat files' (fileClock) at once.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// add moves the clock on by d and returns the time it shows then.
func (c *testClock) add(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

// driveBeats puts the beat files on the test's clock, which it returns,
// makes a run beat every 10 ms, and returns beats, which receives once
// after each beat (when the test is there to take it).
func driveBeats(t *testing.T) (*testClock, <-chan struct{}) {
	t.Helper()
	clock := &testClock{t: time.Now().UTC().Truncate(time.Second)}
	beats := make(chan struct{})
	every, files, after := heartbeatEvery, fileClock, afterBeat
	heartbeatEvery, fileClock = 10*time.Millisecond, clock.now
	afterBeat = func() {
		select {
		case beats <- struct{}{}:
		default:
		}
	}
	t.Cleanup(func() { heartbeatEvery, fileClock, afterBeat = every, files, after })
	return clock, beats
}

// A run that waits while another process holds the write lock for
// longer than a lock may go without a heartbeat (a campaign create of a
// million items) is alive: read while the lock is held, and by the next
// run of its account, started the moment the file is free, it is
// running, not to be taken over, and the first run goes on and
// finishes. On SQLite the heartbeat in meta waits for the same lock, so
// the run beats on a file beside the evidence file too; on PostgreSQL
// the heartbeat never waits for the write lock (an advisory lock the
// UPDATE does not take). The clock is the test's: it moves past
// StaleAfter while the lock is held, and the test waits for two beats
// after that, where it slept past a 2 s staleness and a process starved
// that long (a loaded machine) read as dead.
func TestWaitingRunIsNotTakenOver(t *testing.T) {
	shortBusy(t)
	clock, beats := driveBeats(t)
	eachEngine(t, func(t *testing.T, eng testEngine) {
		where := eng.new(t)
		open := func() *Store {
			s, err := Open(ctx, where, OpenOptions{Create: true, Now: clock.now})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}
		st, holder, next := open(), open(), open()
		w, err := st.StartSnapshot(ctx, acme)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Record(obs("a", KindGitHubDeployKey)); err != nil {
			t.Fatal(err)
		}
		if err := w.Checkpoint("repo:a"); err != nil {
			t.Fatal(err)
		}
		held, stop, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
		go func() {
			done <- holder.Write(ctx, func(*Tx) error {
				close(held)
				<-stop
				return nil
			})
		}()
		<-held
		moved := clock.add(2 * StaleAfter)
		<-beats // one under way as the clock moved may keep the time before
		<-beats
		running := next.runningSnapshots(ctx, "")
		if len(running) != 1 || running[0].LastBeat.Before(moved) {
			t.Errorf("while another process holds the lock, %s after the run's last heartbeat in meta, the run should read as running, beating at %s; the file says %+v",
				2*StaleAfter, moved.Format(time.TimeOnly), running)
		}
		if eng.name == "sqlite" {
			var beat string
			if err := next.QueryRow(ctx, `SELECT json_extract(value, '$.heartbeat') FROM meta WHERE key = ?`, lockKey(acme.Source, acme.Account)).Scan(&beat); err != nil {
				t.Fatal(err)
			}
			if at, _ := parseTime(beat); !at.Before(moved) {
				t.Errorf("the heartbeat in meta, %s, went in while another process held the write lock", beat)
			}
		}
		close(stop)
		if err := <-done; err != nil {
			t.Fatalf("the long write: %v", err)
		}
		_, err = next.StartSnapshot(ctx, acme)
		var other *SnapshotRunningError
		if !errors.As(err, &other) || other.PID != os.Getpid() {
			t.Errorf("the next run, once the file was free, should be told the waiting run is running; it got %v", err)
		}
		if err := w.Record(obs("b", KindGitHubDeployKey)); err != nil {
			t.Fatal(err)
		}
		if err := w.Checkpoint("repo:b"); err != nil {
			t.Errorf("the run that waited can no longer write: %v", err)
		}
		snap, err := w.Finish(ctx, nil)
		if err != nil || snap.Status != SnapshotComplete || snap.Total() != 2 {
			t.Errorf("the run that waited should finish complete with 2 identities: %+v %v", snap, err)
		}
		checkVerifies(t, st, "after the run that waited")
	})
}

// A run's beat file keeps its lock live only while it beats: a lock of
// another host whose heartbeat in meta is old is live while its beat
// file is fresh, and taken over once the file is StaleAfter old too; a
// killed run's lock is taken over at once, as before. Either way the
// takeover removes the file the dead run left.
func TestBeatFileOfADeadRun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nhi.db")
	st := openAt(t, path)
	token := strings.Repeat("ab", 16)
	beat := st.beatPath(token)
	if err := os.WriteFile(beat, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	old := time.Now().UTC().Add(-2 * StaleAfter)
	tamper(t, st, `INSERT INTO meta (key, value) VALUES ('snapshot.lock github/acme', '{"pid":1,"host":"elsewhere","started":"2026-01-01T00:00:00Z","heartbeat":"`+old.Format(TimeLayout)+`","token":"`+token+`"}')`)
	if _, err := st.StartSnapshot(ctx, acme); !errors.Is(err, ErrSnapshotRunning) {
		t.Errorf("a lock whose beat file is fresh should be live: %v", err)
	}
	if err := os.Chtimes(beat, old, old); err != nil {
		t.Fatal(err)
	}
	w, err := st.StartSnapshot(ctx, acme)
	if err != nil {
		t.Fatalf("a lock whose beat file is as old as its heartbeat should be taken over: %v", err)
	}
	if _, err := os.Stat(beat); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the takeover left the dead run's beat file: %v", err)
	}
	mine := st.beatPath(w.token)
	if _, err := os.Stat(mine); err != nil {
		t.Errorf("a running snapshot has no beat file: %v", err)
	}
	if _, err := w.Finish(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(mine); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a finished run left its beat file: %v", err)
	}

	// Killed: the store closes under the run, whose beat file stays.
	killed := openAt(t, path)
	w, err = killed.StartSnapshot(ctx, acme)
	if err != nil {
		t.Fatal(err)
	}
	left := st.beatPath(w.token)
	killed.Close()
	if _, err := os.Stat(left); err != nil {
		t.Fatalf("the killed run's beat file: %v", err)
	}
	w, err = st.StartSnapshot(ctx, acme)
	if err != nil {
		t.Fatalf("a killed run's lock should be taken over at once: %v", err)
	}
	if _, err := os.Stat(left); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the takeover left the killed run's beat file: %v", err)
	}
	if _, err := w.Finish(ctx, nil); err != nil {
		t.Fatal(err)
	}
	// A token that is not one nhi makes names no file.
	if p := st.beatPath("../../x"); p != "" {
		t.Errorf("beatPath of a crafted token = %q", p)
	}
}

// A long write that is itself waiting for the lock (a second campaign
// create) has recorded itself, but does not hold the file: a writer that
// gives up names only the one that holds it. A long write of another
// process is named while it holds the lock, which it shows by a file
// beside the evidence file, and not while it waits.
func TestWaitingLongWriteIsNotNamed(t *testing.T) {
	shortBusy(t)
	path := filepath.Join(t.TempDir(), "nhi.db")
	holder, note := openAt(t, path), openAt(t, path)
	key := obs("deploy", KindGitHubDeployKey)
	snapshot(t, holder, nil, nil, key)
	record := func(what, token string, pid int) {
		t.Helper()
		row, _ := json.Marshal(writeHold{What: what, PID: pid, Host: hostname(), Started: formatTime(time.Now()), Token: token})
		tamper(t, note, `INSERT INTO meta (key, value) VALUES ('`+holdPrefix+token+`', '`+string(row)+`')`)
	}
	// A create of this process that recorded itself and waits for the
	// lock: WriteLong between its two writes, when another writer took
	// the lock in between.
	waiting := strings.Repeat("ef", 16)
	record("a campaign create of q5", waiting, os.Getpid())
	liveHolds.Store(waiting, note)
	defer liveHolds.Delete(waiting)

	held, stop, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		done <- holder.WriteLong(ctx, "a campaign create of q4", func(tx *Tx) error {
			close(held)
			<-stop
			return nil
		})
	}()
	<-held
	_, err := note.AddNotes(ctx, "auditor@acme.test", []string{key.ID}, "while one create runs and another waits")
	close(stop)
	if err := <-done; err != nil {
		t.Fatalf("the long write: %v", err)
	}
	wantBusy(t, "a note while one create holds the file and another waits", err, path, "; running now: a campaign create of q4 (pid ")
	if err != nil && strings.Contains(err.Error(), "q5") {
		t.Errorf("the busy error names the create that was itself waiting: %v", err)
	}
	if _, err := os.Stat(holder.holdPath(waiting)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a waiting create has a hold file: %v", err)
	}

	// Another process's long write (the test's parent stands for it):
	// named only while its file says it holds the lock.
	other := strings.Repeat("cd", 16)
	record("a campaign create of q6", other, os.Getppid())
	names := func() string { return strings.Join(note.runningHolders(ctx, ""), "; ") }
	if n := names(); strings.Contains(n, "q6") {
		t.Errorf("a long write of another process that waits is named: %q", n)
	}
	if err := os.WriteFile(note.holdPath(other), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if n := names(); !strings.Contains(n, "a campaign create of q6 (pid ") || strings.Contains(n, "q5") {
		t.Errorf("a long write of another process that holds the file should be named, alone: %q", n)
	}
}

// A long write's statements keep their journals in memory (temp_store 2,
// MEMORY), and its connection goes back to the pool as it came: every
// connection after it keeps the file's default (0), so a large UPDATE
// elsewhere (a campaign's close) still journals to a file.
func TestWriteLongJournalsInMemoryAlone(t *testing.T) {
	s := openAt(t, filepath.Join(t.TempDir(), "nhi.db"))
	snapshot(t, s, nil, nil, obs("deploy", KindGitHubDeployKey))
	var during int
	if err := s.WriteLong(ctx, "a campaign create of q4", func(tx *Tx) error {
		return tx.QueryRow(ctx, `PRAGMA temp_store`).Scan(&during)
	}); err != nil {
		t.Fatal(err)
	}
	if during != 2 {
		t.Errorf("temp_store %d in the long write, want 2 (memory)", during)
	}
	// Every connection the pool holds, taken at once.
	var conns []*sql.Conn
	for range 4 {
		c, err := s.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		var v int
		if err := c.QueryRowContext(ctx, `PRAGMA temp_store`).Scan(&v); err != nil {
			t.Fatal(err)
		}
		if v != 0 {
			t.Errorf("a pooled connection has temp_store %d after the long write, want 0", v)
		}
	}
	for _, c := range conns {
		c.Close()
	}
}
