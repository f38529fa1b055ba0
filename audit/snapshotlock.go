package audit

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"
)

// A running snapshot is owned by one process: a row in meta names it (PID,
// host, a heartbeat and a random token), written in the same transaction
// that begins or resumes the snapshot, and every write of the run checks
// it still holds the row. A second run of the same account is refused (or
// waits) instead of writing into the first one's snapshot. See
// ARCHITECTURE.md, "The evidence file".

// ErrSnapshotRunning is what starting a snapshot returns, wrapped in a
// *SnapshotRunningError, while another live process runs one of the same
// account.
var ErrSnapshotRunning = errors.New("a snapshot of this account is already running")

// StaleAfter is how old a lock's heartbeat may grow before another run
// takes the snapshot over; a live owner refreshes it every HeartbeatEvery.
const (
	StaleAfter     = time.Minute
	HeartbeatEvery = 15 * time.Second
)

// staleAfter and heartbeatEvery are StaleAfter and HeartbeatEvery,
// variables so that tests can shorten them.
var (
	staleAfter     = StaleAfter
	heartbeatEvery = HeartbeatEvery
)

// SnapshotRunningError names the process that holds the account's snapshot.
type SnapshotRunningError struct {
	Source, Account string
	PID             int
	Host            string
	Started         time.Time
	Snapshot        int64
	// LastBeat is when the run last showed it was alive (its heartbeat):
	// all nhi knows of a process on another host.
	LastBeat time.Time
}

func (e *SnapshotRunningError) Error() string {
	return fmt.Sprintf("a snapshot of %s/%s is already running (%s); wait for it with --wait, or run again once it has finished",
		e.Source, e.Account, e.process())
}

// process names the process that runs the snapshot: "pid 4242 on host
// build-1, started 09:12 UTC" (with the date when not today).
func (e *SnapshotRunningError) process() string {
	started := e.Started.UTC().Format("15:04 UTC")
	if y, m, d := e.Started.UTC().Date(); !(y == time.Now().UTC().Year() && m == time.Now().UTC().Month() && d == time.Now().UTC().Day()) {
		started = e.Started.UTC().Format("2006-01-02 15:04 UTC")
	}
	p := fmt.Sprintf("pid %d on host %s, started %s", e.PID, Printable(e.Host), started)
	if e.Host != hostname() && !e.LastBeat.IsZero() {
		// Its heartbeat is all nhi sees of it: killed there, it reads
		// as running until that heartbeat is staleAfter old.
		p += fmt.Sprintf(", last heartbeat %s; nhi cannot check a process on another host: one stopped there shows as running until its last heartbeat is %s old",
			e.LastBeat.UTC().Format("15:04:05 UTC"), durationWords(staleAfter))
	}
	return p
}

// durationWords is d as "a minute", "2 minutes" or "30 seconds".
func durationWords(d time.Duration) string {
	switch {
	case d == time.Minute:
		return "a minute"
	case d%time.Minute == 0:
		return fmt.Sprintf("%d minutes", int(d/time.Minute))
	}
	return fmt.Sprintf("%d seconds", int(d.Round(time.Second)/time.Second))
}

// Is makes errors.Is(err, ErrSnapshotRunning) true.
func (e *SnapshotRunningError) Is(target error) bool { return target == ErrSnapshotRunning }

// ErrLockLost is returned by a snapshot's writes once another run has
// taken the snapshot over (this one stopped heartbeating for over
// StaleAfter, e.g. a suspended laptop): it must stop writing.
var ErrLockLost = errors.New("this run no longer owns the snapshot: another run took it over after its heartbeat stopped")

type snapshotLock struct {
	PID       int    `json:"pid"`
	Host      string `json:"host"`
	Started   string `json:"started"`
	Heartbeat string `json:"heartbeat"`
	Token     string `json:"token"`
}

// lockPrefix starts the meta key of every account's snapshot lock.
const lockPrefix = "snapshot.lock "

func lockKey(source, account string) string { return lockPrefix + source + "/" + account }

// hostname is this machine's name for locks; a process on another host
// cannot be checked, only its heartbeat.
func hostname() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "unknown"
	}
	return h
}

// acquireLock takes the account's snapshot lock inside tx (which holds the
// write lock). A lock whose process is gone (same host) or whose heartbeat
// is older than StaleAfter is taken over; tookOver says so.
func (s *Store) acquireLock(ctx context.Context, tx *sql.Tx, source, account string) (token string, tookOver *snapshotLock, err error) {
	key := lockKey(source, account)
	var raw string
	err = tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, key).Scan(&raw)
	now := s.now()
	host := hostname()
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return "", nil, fmt.Errorf("reading the snapshot lock: %w", err)
	default:
		var held snapshotLock
		if json.Unmarshal([]byte(raw), &held) == nil {
			if age := s.beatAge(&held, now); held.live(host, age) {
				started, _ := parseTime(held.Started)
				return "", nil, &SnapshotRunningError{Source: source, Account: account, PID: held.PID, Host: held.Host, Started: started, LastBeat: now.Add(-age)}
			}
			tookOver = &held
		}
	}
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", nil, err
	}
	token = hex.EncodeToString(b[:])
	v, _ := json.Marshal(snapshotLock{PID: os.Getpid(), Host: host, Started: formatTime(now), Heartbeat: formatTime(now), Token: token})
	if _, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, string(v)); err != nil {
		return "", nil, fmt.Errorf("taking the snapshot lock: %w", err)
	}
	liveLocks.Store(token, s)
	return token, tookOver, nil
}

// live reports whether the process that holds l still runs its snapshot,
// as far as the file can tell on host: its last beat is younger than
// staleAfter (age, beatAge's), and on this host the process is alive.
// A live process is not enough: its PID may have been reused, or it
// may be stopped.
func (l *snapshotLock) live(host string, age time.Duration) bool {
	gone := l.Host == host && !processAlive(l.PID)
	if l.Host == host && l.PID == os.Getpid() {
		// This very process: the lock is live while the store of
		// the writer that took it is open.
		v, ok := liveLocks.Load(l.Token)
		gone = !ok || v.(*Store).isClosed()
	}
	return !gone && age < staleAfter
}

// runningSnapshots are the snapshots whose locks are live: which nhi
// processes may hold the write lock, for an error that says what a writer
// waited for (busyError), but for the one whose token is own (the
// writer's own run). It names nothing when the locks cannot be read.
func (s *Store) runningSnapshots(ctx context.Context, own string) []SnapshotRunningError {
	running, _ := s.readLiveLocks(ctx, own)
	return running
}

// liveLocks are the live snapshot locks by "source/account", what
// Snapshots says of a running snapshot (Snapshot.Runner, Stopped).
func (s *Store) liveLocks(ctx context.Context) (map[string]SnapshotRunningError, error) {
	running, err := s.readLiveLocks(ctx, "")
	if err != nil {
		return nil, err
	}
	m := make(map[string]SnapshotRunningError, len(running))
	for _, r := range running {
		m[r.Source+"/"+r.Account] = r
	}
	return m, nil
}

// readLiveLocks is runningSnapshots, with the error of a read of the
// locks that failed.
func (s *Store) readLiveLocks(ctx context.Context, own string) ([]SnapshotRunningError, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT key, value FROM meta WHERE key LIKE ? ORDER BY key`, lockPrefix+"%")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	now, host := s.now(), hostname()
	var running []SnapshotRunningError
	for rows.Next() {
		var key, raw string
		var held snapshotLock
		if err := rows.Scan(&key, &raw); err != nil {
			return nil, err
		}
		if json.Unmarshal([]byte(raw), &held) != nil {
			continue
		}
		age := s.beatAge(&held, now)
		if !held.live(host, age) || own != "" && held.Token == own {
			continue
		}
		source, account, _ := strings.Cut(strings.TrimPrefix(key, lockPrefix), "/")
		started, _ := parseTime(held.Started)
		running = append(running, SnapshotRunningError{Source: source, Account: account, PID: held.PID, Host: held.Host, Started: started, LastBeat: now.Add(-age)})
	}
	return running, rows.Err()
}

// liveLocks maps the tokens of the locks this process holds to the store
// that took them, to tell a live writer of this process from one whose
// store was closed without finishing (what a test of a kill does).
var liveLocks sync.Map

// checkLock fails with ErrLockLost unless the writer still holds its lock.
func (w *SnapshotWriter) checkLock(ctx context.Context, tx *sql.Tx) error {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT count(*) FROM meta WHERE key = ? AND json_extract(value, '$.token') = ?`,
		lockKey(w.info.Source, w.info.Account), w.token).Scan(&n)
	if err != nil {
		return fmt.Errorf("checking the snapshot lock: %w", err)
	}
	if n == 0 {
		return ErrLockLost
	}
	return nil
}

// ownTx runs fn in a write transaction that first checks the writer still
// owns the snapshot.
func (w *SnapshotWriter) ownTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := w.s.beginWriteWaiting(ctx, nil, w.token)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := w.checkLock(ctx, tx); err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// ownConnTx is ownTx for writes of observations: on PostgreSQL the
// transaction runs on a connection held for it, which fn is given, so
// the rows can go in by COPY inside the transaction (copyObservations);
// on SQLite conn is nil.
func (w *SnapshotWriter) ownConnTx(ctx context.Context, fn func(tx *sql.Tx, conn *sql.Conn) error) error {
	if w.s.engine != enginePostgres {
		return w.ownTx(ctx, func(tx *sql.Tx) error { return fn(tx, nil) })
	}
	conn, err := w.s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	tx, err := w.s.beginWriteWaiting(ctx, conn, w.token)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := w.checkLock(ctx, tx); err != nil {
		return err
	}
	if err := fn(tx, conn); err != nil {
		return err
	}
	return tx.Commit()
}

// releaseLock drops the writer's lock inside tx.
func (w *SnapshotWriter) releaseLock(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, `DELETE FROM meta WHERE key = ? AND json_extract(value, '$.token') = ?`,
		lockKey(w.info.Source, w.info.Account), w.token)
	liveLocks.Delete(w.token)
	return err
}

// A run's heartbeat in meta is an UPDATE, which on SQLite waits for the
// write lock like any write: while another process holds the lock for
// long (a campaign create of a million items, the sqlite3 shell) every
// beat fails busy, and a run that is alive and only waiting would look
// dead after StaleAfter to the next run of its account that got the
// lock first, whatever its PID says. So on SQLite the run also beats on
// a file of its own beside the evidence file (beatPath), which no
// writer of the evidence file holds up: its modification time is the
// beat, and beatAge reads the newer of the two. The file holds
// nothing; it is removed when the beat stops (stopHeartbeat) or, left
// by a killed run, when its lock is taken over. On PostgreSQL the write
// lock is an advisory lock the heartbeat's UPDATE does not take, so the
// beat in meta goes on.

// beatPath is the file whose modification time is the heartbeat of the
// run that holds the lock with token, "" when there is none: on
// PostgreSQL, and for a token nhi did not make (a file is never named
// after what a meta row of the evidence file says).
func (s *Store) beatPath(token string) string { return s.sideFile("-beat-", token) }

// sideFile is the path of a file beside an evidence file that says
// something of the nhi process that made token (a run's beat, a long
// write's hold), "" on PostgreSQL and for a token nhi did not make.
func (s *Store) sideFile(infix, token string) string {
	if s.engine != engineSQLite || len(token) != 32 {
		return ""
	}
	if _, err := hex.DecodeString(token); err != nil {
		return ""
	}
	return s.path + infix + token
}

// fileClock is the machine's clock, which a beat file's modification
// time is on (beatAge, heartbeat); afterBeat, when set, is called after
// each beat of a run. Variables so that a test can drive the clock and
// wait for beats, where it slept and hoped its process was not starved.
var (
	fileClock = time.Now
	afterBeat func()
)

// beatAge is how long ago, at now, the run that holds l last said it is
// alive: its heartbeat in meta (on the store's clock, as now), or its
// beat file's modification time (on the machine's clock) if newer.
func (s *Store) beatAge(l *snapshotLock, now time.Time) time.Duration {
	beat, _ := parseTime(l.Heartbeat)
	age := now.Sub(beat)
	if p := s.beatPath(l.Token); p != "" {
		if fi, err := os.Stat(p); err == nil {
			age = min(age, fileClock().Sub(fi.ModTime()))
		}
	}
	return age
}

// startBeat creates the run's beat file (beatPath), beating now; without
// one (PostgreSQL, a folder it cannot be made in) the run beats in meta
// only.
func (w *SnapshotWriter) startBeat() {
	p := w.s.beatPath(w.token)
	if p == "" {
		return
	}
	if os.WriteFile(p, nil, 0o600) != nil {
		os.Remove(p)
		return
	}
	w.beatFile = p
}

// heartbeat refreshes the lock every HeartbeatEvery until stop is closed,
// so a run waiting out a rate limit for an hour, or for the write lock,
// is not taken for dead.
func (w *SnapshotWriter) heartbeat(stop <-chan struct{}) {
	defer w.beatDone.Done()
	t := time.NewTicker(heartbeatEvery)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-w.s.closed:
			return
		case <-t.C:
			if w.beatFile != "" {
				// Gone once another run took the lock over: then
				// this fails, and the beat stays gone.
				now := fileClock()
				_ = os.Chtimes(w.beatFile, now, now)
			}
			// Not execWaiting: a beat the file is too busy for is
			// missed (the beat file has it), and the next one,
			// HeartbeatEvery later, tries again.
			_, _ = w.s.db.Exec(`UPDATE meta SET value = json_set(value, '$.heartbeat', ?) WHERE key = ? AND json_extract(value, '$.token') = ?`,
				formatTime(w.s.now()), lockKey(w.info.Source, w.info.Account), w.token)
			if afterBeat != nil {
				afterBeat()
			}
		}
	}
}
