package audit

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/nhi-audit/nhi/internal/pgtest"
)

// quietDurableServer is a server that flushes to disk and writes to its
// log only what a test does: no autovacuum, no records for standbys
// (wal_level minimal), and a WAL writer that flushes at most every 10 s,
// so a commit nhi acknowledged before it was flushed is still unflushed
// when the test looks — in the log's flushed position, or after a crash.
func quietDurableServer(t *testing.T) (*pgtest.Server, string) {
	t.Helper()
	srv := pgtest.StartDurable(t, "autovacuum=off", "wal_level=minimal", "max_wal_senders=0", "wal_writer_delay=10s")
	where, err := srv.CreateDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return srv, where
}

// noteChecked appends note i to identity id through AppendChecked, with
// a check that always holds: an odd i's statement carries the event's
// number in a text, so it goes the way of a signed event (two
// pipelines), an even i's as an argument of its own (one).
func noteChecked(s *Store, actor, id string, i int) (Event, error) {
	return s.AppendChecked(ctx, Stmt{Query: `SELECT 'ok'`}, "ok", actor, EventNoteAdd, NoteAdd{Identity: id, Text: fmt.Sprint(i)}, nil,
		func(ev Event) []Stmt {
			var seq any = ev.Seq
			if i%2 == 1 {
				seq = fmt.Sprint(ev.Seq)
			}
			return []Stmt{{`INSERT INTO meta (key, value) VALUES ('test.noted', CAST(? AS TEXT)) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, []any{seq}}}
		})
}

// On PostgreSQL a checked append's own commit does not wait for the disk
// (so the write lock is not held through a flush), and AppendChecked
// returns only once that commit is on disk: when it returns, the server
// has flushed its log as far as it has written it, and the server
// flushed once an append, not twice.
func TestAppendCheckedFlushedBeforeAcknowledged(t *testing.T) {
	srv, where := quietDurableServer(t)
	s := openAt(t, where)
	a := obs("a", KindGitHubDeployKey)
	snapshot(t, s, nil, nil, a)
	admin, err := pgx.Connect(ctx, srv.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	const n = 20
	if _, err := admin.Exec(ctx, `SELECT pg_stat_reset_shared('wal')`); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		ev, err := noteChecked(s, "alice", a.ID, i)
		if err != nil {
			t.Fatal(err)
		}
		// Nothing else writes to this server's log: everything written
		// to it so far must be on disk.
		var flushed, written string
		if err := admin.QueryRow(ctx, `SELECT pg_current_wal_flush_lsn()::text, pg_current_wal_insert_lsn()::text, pg_current_wal_flush_lsn() >= pg_current_wal_insert_lsn()`).Scan(&flushed, &written, new(bool)); err != nil {
			t.Fatal(err)
		}
		if flushed != written {
			t.Fatalf("event %d acknowledged with the log flushed to %s but written to %s: it could be lost in a crash", ev.Seq, flushed, written)
		}
	}
	// The server counts its flushes when a session ends.
	s.Close()
	pgtest.WaitNoSessions(t, admin, pgtest.DatabaseName(where))
	var syncs int64
	if err := admin.QueryRow(ctx, `SELECT wal_sync FROM pg_stat_wal`).Scan(&syncs); err != nil {
		t.Fatal(err)
	}
	// One flush an append (the one AppendChecked waits for), and perhaps
	// the WAL writer's; two an append if the append's commit flushed too.
	if syncs < n || syncs >= n+n/2 {
		t.Errorf("%d appends flushed the log %d times; want one flush an append: the append's own commit asynchronous, the acknowledgement after a flush", n, syncs)
	}
}

// Every append AppendChecked acknowledged survives a crash of the server
// in the middle of many writers appending (SIGQUIT: what the server had
// not handed to the operating system is lost), and the chain verifies
// after it: the appends the crash took were never acknowledged, and were
// the last ones, the log being recovered as a prefix.
func TestAcknowledgedAppendsSurviveACrash(t *testing.T) {
	srv, where := quietDurableServer(t)
	s := openAt(t, where)
	a := obs("a", KindGitHubDeployKey)
	snapshot(t, s, nil, nil, a)
	s.Close()

	const writers = 8
	var (
		mu    sync.Mutex
		acked = map[int64]string{} // seq -> hash
		wg    sync.WaitGroup
		stop  = make(chan struct{})
		count = make(chan struct{}, 1<<16)
	)
	for w := range writers {
		st, err := Open(ctx, where, OpenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				ev, err := noteChecked(st, fmt.Sprint("w", w), a.ID, i)
				if err != nil {
					return // the crash
				}
				mu.Lock()
				acked[ev.Seq] = ev.Hash
				mu.Unlock()
				count <- struct{}{}
			}
		})
	}
	// Crash in full flow, once the writers have acknowledged a few
	// hundred appends.
	for range 300 {
		<-count
	}
	if err := srv.Crash(); err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	after, err := Open(ctx, where, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer after.Close()
	evs, err := after.Events(ctx)
	if err != nil {
		t.Fatal(err)
	}
	have := map[int64]string{}
	for _, ev := range evs {
		have[ev.Seq] = ev.Hash
	}
	lost := 0
	for seq, hash := range acked {
		if have[seq] != hash {
			lost++
			if lost <= 5 {
				t.Errorf("event %d was acknowledged (hash %s) but after the crash the log has %q", seq, hash, have[seq])
			}
		}
	}
	if lost > 0 {
		t.Errorf("%d of %d acknowledged appends lost in the crash (the log has %d events)", lost, len(acked), len(evs))
	}
	t.Logf("%d appends acknowledged before the crash; %d events in the log after it", len(acked), len(evs))
	if r, err := after.Verify(context.Background()); err != nil || !r.OK() {
		t.Fatalf("the chain after the crash: %v %v", err, r.Problems)
	}
}

// What nhi reads and hands on — an export's file, the head of the log
// (nhi log head, a report's), nhi verify's head — is on the database's
// disk before it leaves: a commit it saw that had not been flushed yet
// (as a checked append's is until it is acknowledged) could vanish in a
// crash, and the file or the head recorded would name events the
// database no longer has.
func TestReadsFlushWhatTheyHandOn(t *testing.T) {
	_, where := quietDurableServer(t)
	s := openAt(t, where)
	snapshot(t, s, nil, nil, obs("a", KindGitHubDeployKey))
	other, err := pgx.Connect(ctx, where)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(ctx)
	for _, read := range []struct {
		name string
		run  func() error
	}{
		{"export", func() error {
			out := filepath.Join(t.TempDir(), "evidence.db")
			if _, err := s.Export(ctx, out); err != nil {
				return err
			}
			var seen string
			if err := openAt(t, out).QueryRow(ctx, `SELECT value FROM meta WHERE key = 'test.unflushed'`).Scan(&seen); err != nil || seen != "export" {
				return fmt.Errorf("the export lacks the row committed before it: %q %v", seen, err)
			}
			return nil
		}},
		{"log head", func() error { _, err := s.LogHead(ctx); return err }},
		{"verify", func() error { _, err := s.Verify(ctx); return err }},
	} {
		// A commit that does not wait for the disk, as a checked
		// append's.
		var committedTo string
		var flushedBefore bool
		b := &pgx.Batch{}
		b.Queue(`BEGIN`)
		b.Queue(`SET LOCAL synchronous_commit = off`)
		b.Queue(`INSERT INTO meta (key, value) VALUES ('test.unflushed', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, read.name)
		b.Queue(`COMMIT`)
		b.Queue(`SELECT pg_current_wal_insert_lsn()::text, pg_current_wal_flush_lsn() >= pg_current_wal_insert_lsn()`).QueryRow(func(r pgx.Row) error {
			return r.Scan(&committedTo, &flushedBefore)
		})
		if err := other.SendBatch(ctx, b).Close(); err != nil {
			t.Fatal(err)
		}
		if flushedBefore {
			t.Fatalf("%s: the server flushed an asynchronous commit at once; this test needs it left unflushed (wal_writer_delay)", read.name)
		}
		if err := read.run(); err != nil {
			t.Fatalf("%s: %v", read.name, err)
		}
		var flushed bool
		if err := other.QueryRow(ctx, `SELECT pg_current_wal_flush_lsn() >= $1::text::pg_lsn`, committedTo).Scan(&flushed); err != nil {
			t.Fatal(err)
		}
		if !flushed {
			t.Errorf("%s returned with a commit it could see (log position %s) not yet on the database's disk", read.name, committedTo)
		}
	}
}
