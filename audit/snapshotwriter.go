package audit

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

// SnapshotInfo describes a connector run as it starts.
type SnapshotInfo struct {
	Source      string
	Account     string
	APIURL      string
	Credential  string
	ToolVersion string
	StartedAt   time.Time
	// Actor is who ran it, for the event that records how it finished;
	// "nhi" when empty.
	Actor string
}

// SnapshotWriter streams one connector run into the file. Observations are
// committed in batches as they arrive, so a killed run keeps what it read;
// only Finish makes the snapshot the current population.
type SnapshotWriter struct {
	s    *Store
	id   int64
	info SnapshotInfo
	eval *Evaluator // the snapshot's policy, as of its start

	mu      sync.Mutex
	pending []any // bound parameters of the rows not yet written, columnsPerRow each
	batch   *sql.Stmt

	// Full batches go to a goroutine that writes them while the caller
	// prepares the next: on two cores, encoding and SQLite overlap.
	flushes   chan flushRequest
	flushDone sync.WaitGroup
	flushMu   sync.Mutex
	flushErr  error
	seen      *recordSet // identity ID -> digest of its canonical record
	lineage   bool       // an observation of this run has a lineage attribute
	counts    map[Kind]int
	gaps      []Gap
	units     map[string]bool              // checkpointed units of work
	resumed   int                          // units an interrupted run had checkpointed
	scopes    map[string][sha256.Size]byte // what was read in full (coverage.go), as digest records
	scoped    bool                         // Scope was called: the snapshot says what it read
	server    string                       // SetServer's version
	notes     []string                     // and notes
	reach     *Reach                       // SetReach's
	done      bool

	continues bool // an interrupted run's snapshot, resumed

	token      string   // this run's hold on the account's snapshot lock
	startNotes []string // see StartNotes
	stopBeat   chan struct{}
	beatDone   sync.WaitGroup
	beatFile   string // see beatPath; "" when the run beats in meta only
}

// Principal is a person or team a connector read as context: who may own
// what, and whether an owner is still a member. Not an NHI.
type Principal struct {
	Type  string // PrincipalMember, PrincipalTeam, ...
	Scope string // "org", or "org/repo" for repository-level grants
	Login string // user login, or "org/team-slug" for a team
	Role  string // "member", "admin", "maintain", ...
}

// Principal types.
const (
	PrincipalMember       = "member"       // an organisation member
	PrincipalTeam         = "team"         // a team with access to a repository
	PrincipalCollaborator = "collaborator" // a person with direct access to a repository
	PrincipalCodeowner    = "codeowner"    // named in a repository's CODEOWNERS
	PrincipalSubject      = "subject"      // a person or group a Kubernetes binding names ("User:alice")
	PrincipalTeamMember   = "team_member"  // a member (Login) of a team (Scope, "org/slug")
)

// batchSize trades memory for fewer statements; 500 rows x 13 columns
// stays under SQLite's 32,766 bound-parameter limit. On PostgreSQL a
// batch is one COPY (copyObservations), which has no such limit, and ten
// times as many rows a transaction cost the server less (docs/team.md,
// "Snapshots").
const (
	batchSize         = 500
	postgresBatchSize = 5000
	columnsPerRow     = 13
)

// batchRows is how many observations go in one write.
func (w *SnapshotWriter) batchRows() int {
	if w.s.engine == enginePostgres {
		return postgresBatchSize
	}
	return batchSize
}

// BeginSnapshot records the start of a new connector run, taking the
// account's snapshot lock (see StartSnapshot); it never resumes, and
// closes as failed any unfinished snapshot of the account, which nothing
// would resume either (closeUnfinished; StartNotes say so).
func (s *Store) BeginSnapshot(ctx context.Context, info SnapshotInfo) (*SnapshotWriter, error) {
	return s.startSnapshot(ctx, info, startNew)
}

// ResumeSnapshot reopens the newest unfinished snapshot of the account
// when it was begun by the same run (source, account, API URL and
// credential all match), with what it had recorded and checkpointed; nil
// when there is none to resume.
func (s *Store) ResumeSnapshot(ctx context.Context, info SnapshotInfo) (*SnapshotWriter, error) {
	return s.startSnapshot(ctx, info, startResume)
}

// StartSnapshot takes the account's snapshot lock and, in the same
// transaction, resumes the newest unfinished snapshot of the account when
// it was begun by the same run (source, account, API URL and credential
// match), or else begins a new one. An unfinished snapshot of another run
// (another server or credential) is closed as failed, never mixed with
// this run's identities; NotResumed says why. While another live process
// holds the lock it returns a *SnapshotRunningError.
func (s *Store) StartSnapshot(ctx context.Context, info SnapshotInfo) (*SnapshotWriter, error) {
	return s.startSnapshot(ctx, info, startAuto)
}

type startMode int

const (
	startAuto startMode = iota
	startNew
	startResume
)

func (s *Store) startSnapshot(ctx context.Context, info SnapshotInfo, mode startMode) (*SnapshotWriter, error) {
	if s.readOnly {
		return nil, fmt.Errorf("%w: cannot record a snapshot in %s", ErrReadOnly, s.path)
	}
	if info.StartedAt.IsZero() {
		info.StartedAt = s.now()
	}
	info.StartedAt = info.StartedAt.UTC().Truncate(time.Second)
	if info.Actor == "" {
		info.Actor = "nhi"
	}
	tx, err := s.beginWriteWaiting(ctx, nil, "")
	if err != nil {
		return nil, fmt.Errorf("starting snapshot: %w", err)
	}
	defer tx.Rollback()
	// A person the directory marks left records no snapshot either
	// (docs/people.md): refused here, before anything is read, where on
	// PostgreSQL the database refused the run's last event only at its
	// end, after the whole read, leaving it unfinished.
	dir, err := readPeople(ctx, &Tx{s: s, tx: tx})
	if err != nil {
		return nil, fmt.Errorf("starting snapshot: %w", err)
	}
	if err := dir.RefuseLeaver(info.Actor, "record a snapshot"); err != nil {
		return nil, err
	}
	token, tookOver, err := s.acquireLock(ctx, tx, info.Source, info.Account)
	if err != nil {
		return nil, err
	}
	w := &SnapshotWriter{s: s, info: info, token: token, units: make(map[string]bool)}
	// Snapshots from this one on are recorded in the log (see
	// SnapshotRecord); verify accepts the old form only before it.
	if _, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ('snapshot_records_from', (SELECT coalesce(min(id), (SELECT coalesce(max(id), 0) + 1 FROM snapshots)) FROM snapshots WHERE status = 'running'))
		ON CONFLICT (key) DO NOTHING`); err != nil {
		return nil, err
	}
	if tookOver != nil {
		w.startNotes = append(w.startNotes, fmt.Sprintf("took over from pid %d on host %s, which stopped (last heartbeat %s)", tookOver.PID, tookOver.Host, tookOver.Heartbeat))
	}
	resumed := false
	if mode != startNew {
		if resumed, err = w.resume(ctx, tx, mode == startAuto); err != nil {
			return nil, err
		}
	}
	if mode == startNew {
		if err := w.closeUnfinished(ctx, tx); err != nil {
			return nil, err
		}
	}
	if !resumed {
		if mode == startResume {
			return nil, nil
		}
		if err := w.begin(ctx, tx); err != nil {
			return nil, err
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("starting snapshot: %w", err)
	}
	if tookOver != nil {
		// A killed run's beat file, if it left one.
		if p := s.beatPath(tookOver.Token); p != "" {
			os.Remove(p)
		}
	}
	w.startBeat()
	w.startFlusher()
	w.stopBeat = make(chan struct{})
	w.beatDone.Add(1)
	go w.heartbeat(w.stopBeat)
	return w, nil
}

// begin inserts a new running snapshot.
func (w *SnapshotWriter) begin(ctx context.Context, tx *sql.Tx) error {
	// The policy in force at the start is the snapshot's for good: its
	// findings are evaluated under it as observations arrive.
	policy, _, err := policyInForce(ctx, tx)
	if err != nil {
		return err
	}
	body, digest := policy.canonical()
	policyID, err := storePolicy(ctx, tx, body, digest, w.s.now())
	if err != nil {
		return err
	}
	info := w.info
	if err := tx.QueryRowContext(ctx, `INSERT INTO snapshots (source, account, api_url, credential, tool_version, started_at, status, policy_id)
		VALUES (?, ?, ?, ?, ?, ?, 'running', ?) RETURNING id`,
		info.Source, info.Account, info.APIURL, info.Credential, info.ToolVersion, formatTime(info.StartedAt), policyID).Scan(&w.id); err != nil {
		return fmt.Errorf("starting snapshot: %w", err)
	}
	w.eval = NewEvaluator(policy, info.StartedAt)
	w.seen = newRecordSet()
	w.counts = make(map[Kind]int)
	return nil
}

// closeUnfinished closes as failed, saying why, every unfinished
// snapshot of the account, for a run that never resumes (BeginSnapshot:
// a source read in one go, an import or a certificate scan). The run
// holds the account's lock, so no live run writes them, and no later run
// would ever finish them: one stopped busy whose file stayed busy for its
// close too (connectors.Run), killed, or left by an older nhi, would be
// listed as running for good.
func (w *SnapshotWriter) closeUnfinished(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, `SELECT id FROM snapshots WHERE source = ? AND account = ? AND status = 'running' ORDER BY id`, w.info.Source, w.info.Account)
	if err != nil {
		return fmt.Errorf("looking for an unfinished snapshot: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, id := range ids {
		if _, err := w.s.finish(ctx, tx, id, SnapshotFailed, unfinishedWholeRun, w.info.Actor, nil); err != nil {
			return err
		}
		w.startNotes = append(w.startNotes, fmt.Sprintf("snapshot %d of %s/%s stopped before it finished and is closed as failed; this run reads everything again", id, w.info.Source, w.info.Account))
	}
	return nil
}

// unfinishedWholeRun is the error of a snapshot closeUnfinished closed.
const unfinishedWholeRun = "stopped before it finished; a source read in one go is never resumed, so the next run closed it and read everything again"

// resume loads the newest unfinished snapshot of the account when this
// run may continue it. With abandon, one it may not continue is closed
// as failed, saying why, so it is never resumed by mistake later.
func (w *SnapshotWriter) resume(ctx context.Context, tx *sql.Tx, abandon bool) (bool, error) {
	var (
		id                               int64
		apiURL, cred, tool, started, pol string
	)
	err := tx.QueryRowContext(ctx, `SELECT s.id, s.api_url, s.credential, s.tool_version, s.started_at, p.body
		FROM snapshots s JOIN policies p ON p.id = s.policy_id
		WHERE s.source = ? AND s.account = ? AND s.status = 'running' ORDER BY s.id DESC LIMIT 1`, w.info.Source, w.info.Account).
		Scan(&id, &apiURL, &cred, &tool, &started, &pol)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("looking for an interrupted snapshot: %w", err)
	}
	var why string
	switch {
	case apiURL != w.info.APIURL:
		why = fmt.Sprintf("it was read from %s and this run reads %s", apiURL, w.info.APIURL)
	case cred == "" && w.info.Credential != "":
		why = "the credential that read it was never recorded"
	case cred != w.info.Credential:
		why = fmt.Sprintf("it was read with %q and this run reads with %q", Printable(cred), Printable(w.info.Credential))
	}
	if why != "" {
		if !abandon {
			return false, nil
		}
		reason := "abandoned, not resumed: " + why
		if _, err := w.s.finish(ctx, tx, id, SnapshotFailed, reason, w.info.Actor, nil); err != nil {
			return false, err
		}
		w.startNotes = append(w.startNotes, fmt.Sprintf("not resuming snapshot %d: %s; it is closed as failed and a new snapshot starts", id, why))
		return false, nil
	}
	w.id = id
	w.info.ToolVersion = tool
	w.info.StartedAt, _ = parseTime(started)
	var policy Policy
	if err := json.Unmarshal([]byte(pol), &policy); err != nil {
		return false, fmt.Errorf("snapshot %d: its policy: %w", id, err)
	}
	w.eval = NewEvaluator(policy, w.info.StartedAt)
	records, counts, err := snapshotRecords(ctx, tx, id)
	if err != nil {
		return false, err
	}
	w.seen, w.counts = recordSetOf(records), counts
	if w.gaps, err = gaps(ctx, tx, id); err != nil {
		return false, err
	}
	if w.scopes, w.scoped, err = w.s.scopeRecords(ctx, id); err != nil {
		return false, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT unit FROM snapshot_checkpoints WHERE snapshot_id = ?`, id)
	if err != nil {
		return false, err
	}
	defer rows.Close()
	for rows.Next() {
		var u string
		if err := rows.Scan(&u); err != nil {
			return false, err
		}
		w.units[u] = true
	}
	w.resumed, w.continues = len(w.units), true
	return true, rows.Err()
}

// Continues reports whether this run continues an interrupted one's
// snapshot rather than beginning a new one.
func (w *SnapshotWriter) Continues() bool { return w.continues }

// StartNotes say what the start of the run did that the user should
// know: a lock it took over from a process that stopped, an unfinished
// snapshot it did not resume and why.
func (w *SnapshotWriter) StartNotes() []string { return w.startNotes }

// ID is the snapshot's number in the file.
func (w *SnapshotWriter) ID() int64 { return w.id }

// Record adds one observation. An identity seen twice in one run (a page
// that shifted under pagination) is kept once. Safe for concurrent use.
func (w *SnapshotWriter) Record(o Observation) error {
	if err := o.Validate(); err != nil {
		return err
	}
	findings, err := findingsJSON(w.eval.EvaluateObservation(&o))
	if err != nil {
		return err
	}
	perms := mapJSON(o.Permissions)
	row := []any{w.id, o.ID, string(o.Kind), o.Name, o.Scope,
		nullTime(o.CreatedAt), nullTime(o.LastUsedAt), nullTime(o.RotatedAt), nullTime(o.ExpiresAt),
		perms, mapJSON(o.Attributes), findings, materialDigest(&o, perms)}
	sum := sha256.Sum256(canonicalRow(row[1:]))
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return errors.New("snapshot already finished")
	}
	if !w.seen.add(o.ID, sum) {
		return nil
	}
	if _, ok := o.Attributes["lineage"]; ok {
		w.lineage = true
	}
	w.counts[o.Kind]++
	w.pending = append(w.pending, row...)
	if n := w.batchRows() * columnsPerRow; len(w.pending) >= n {
		w.flushes <- flushRequest{rows: w.pending}
		w.pending = make([]any, 0, n)
	}
	return w.writeErr()
}

type flushRequest struct {
	rows []any      // a full batch to insert, or nil
	done chan error // closed over the first write error so far, when not nil
}

func (w *SnapshotWriter) startFlusher() {
	w.flushes = make(chan flushRequest, 2)
	w.flushDone.Add(1)
	go func() {
		defer w.flushDone.Done()
		for req := range w.flushes {
			if req.rows != nil && w.writeErr() == nil {
				if err := w.insert(context.Background(), nil, nil, req.rows); err != nil {
					w.flushMu.Lock()
					w.flushErr = err
					w.flushMu.Unlock()
				}
			}
			if req.done != nil {
				req.done <- w.writeErr()
			}
		}
	}()
}

// writeErr is the first error the flusher met.
func (w *SnapshotWriter) writeErr() error {
	w.flushMu.Lock()
	defer w.flushMu.Unlock()
	return w.flushErr
}

// syncLocked waits until every batch handed to the flusher is written.
func (w *SnapshotWriter) syncLocked() error {
	req := flushRequest{done: make(chan error, 1)}
	w.flushes <- req
	return <-req.done
}

// stopLocked writes what is pending and stops the flusher.
func (w *SnapshotWriter) stopLocked(ctx context.Context) error {
	if w.done {
		return nil
	}
	w.done = true
	close(w.flushes)
	w.flushDone.Wait()
	err := w.writeErr()
	if err == nil {
		err = w.flushLocked(ctx, nil, nil)
	}
	if w.batch != nil {
		w.batch.Close()
	}
	return err
}

// Suspend writes everything recorded so far and leaves the snapshot
// unfinished, for a later run to resume (see Store.StartSnapshot), and
// releases the account's snapshot lock.
func (w *SnapshotWriter) Suspend(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	err := w.stopLocked(ctx)
	w.stopHeartbeat()
	if errors.Is(err, ErrLockLost) {
		return err
	}
	if rerr := w.ownTx(ctx, func(tx *sql.Tx) error { return w.releaseLock(ctx, tx) }); err == nil {
		err = rerr
	}
	return err
}

// errLeft stops the flusher of a run that Leave ended.
var errLeft = errors.New("the run was left unfinished")

// Leave ends the run without writing anything more, for a run whose
// writes the file refused (ErrBusy: another process kept its write lock
// through the busy timeout, so a further write would wait as long
// again). The snapshot stays unfinished, never current, with every batch
// it committed; the rows recorded since the last one are not written.
// Its lock is let go in this process at once and, for other processes,
// when this one ends (or once its heartbeat is StaleAfter old), so the
// next run of the account takes the snapshot over and resumes it
// (StartSnapshot; ARCHITECTURE.md, "The evidence file").
func (w *SnapshotWriter) Leave() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return
	}
	w.flushMu.Lock()
	if w.flushErr == nil {
		w.flushErr = errLeft // the batches still queued are dropped
	}
	w.flushMu.Unlock()
	// With the flusher's error set, stopping writes nothing more.
	_ = w.stopLocked(context.Background())
	w.stopHeartbeat()
	liveLocks.Delete(w.token)
}

func (w *SnapshotWriter) stopHeartbeat() {
	if w.stopBeat != nil {
		close(w.stopBeat)
		w.beatDone.Wait()
		w.stopBeat = nil
	}
	if w.beatFile != "" {
		os.Remove(w.beatFile)
		w.beatFile = ""
	}
}

// Gap records an endpoint the connector could not read.
func (w *SnapshotWriter) Gap(g Gap) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return errors.New("snapshot already finished")
	}
	err := w.ownTx(context.Background(), func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO snapshot_gaps (snapshot_id, seq, endpoint, kind, scope, status, reason) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			w.id, len(w.gaps)+1, g.Endpoint, string(g.Kind), g.Scope, g.Status, g.Reason)
		return err
	})
	if err != nil {
		return fmt.Errorf("recording gap: %w", err)
	}
	w.gaps = append(w.gaps, g)
	return nil
}

// SetCredential records what read the snapshot, once the connector knows.
// A run that knows it at the start passes it in SnapshotInfo instead, so
// that a resume can be matched against it.
func (w *SnapshotWriter) SetCredential(ctx context.Context, credential string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.info.Credential = credential
	return w.ownTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE snapshots SET credential = ? WHERE id = ?`, credential, w.id)
		return err
	})
}

func (w *SnapshotWriter) flushLocked(ctx context.Context, tx *sql.Tx, conn *sql.Conn) error {
	if err := w.insert(ctx, tx, conn, w.pending); err != nil {
		return err
	}
	w.pending = w.pending[:0]
	return nil
}

// insert writes rows of observation parameters, in tx when not nil; on
// PostgreSQL by COPY on conn, the connection tx runs on.
func (w *SnapshotWriter) insert(ctx context.Context, tx *sql.Tx, conn *sql.Conn, params []any) error {
	rows := len(params) / columnsPerRow
	if rows == 0 {
		return nil
	}
	if tx == nil {
		return w.ownConnTx(ctx, func(tx *sql.Tx, conn *sql.Conn) error { return w.insert(ctx, tx, conn, params) })
	}
	var err error
	switch {
	case conn != nil:
		err = copyObservations(ctx, conn, params)
	case rows == batchSize:
		// Every full batch has the same shape: parse it once per run.
		if w.batch == nil {
			if w.batch, err = w.s.db.PrepareContext(ctx, insertObservations(batchSize)); err != nil {
				return fmt.Errorf("writing snapshot: %w", err)
			}
		}
		_, err = tx.StmtContext(ctx, w.batch).ExecContext(ctx, params...)
	default:
		_, err = tx.ExecContext(ctx, insertObservations(rows), params...)
	}
	if err != nil {
		return fmt.Errorf("writing snapshot: %w", err)
	}
	return nil
}

// Principal records a person or team read as context. Repeats are kept once.
func (w *SnapshotWriter) Principal(p Principal) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return errors.New("snapshot already finished")
	}
	// One statement, guarded by the lock, rather than a transaction per
	// principal: a large organisation has tens of thousands.
	res, err := w.s.execWaiting(context.Background(), w.token, `INSERT INTO principals (snapshot_id, type, scope, login, role)
		SELECT ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM meta WHERE key = ? AND json_extract(value, '$.token') = ?)
		ON CONFLICT DO NOTHING`, w.id, p.Type, p.Scope, p.Login, p.Role, lockKey(w.info.Source, w.info.Account), w.token)
	if err == nil {
		if n, _ := res.RowsAffected(); n == 0 {
			// A repeat, or the lock is gone: ask which.
			err = w.ownTx(context.Background(), func(*sql.Tx) error { return nil })
		}
	}
	if err != nil {
		return fmt.Errorf("recording %s %s: %w", p.Type, p.Login, err)
	}
	return nil
}

// Checkpoint marks a unit of work (an endpoint, a repository) as fully
// recorded: everything recorded so far reaches the file in the same
// transaction, so a resumed run can skip the unit and lose nothing.
func (w *SnapshotWriter) Checkpoint(unit string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return errors.New("snapshot already finished")
	}
	if err := w.syncLocked(); err != nil {
		return err
	}
	err := w.ownConnTx(context.Background(), func(tx *sql.Tx, conn *sql.Conn) error {
		if err := w.flushLocked(context.Background(), tx, conn); err != nil {
			return err
		}
		_, err := tx.Exec(`INSERT INTO snapshot_checkpoints (snapshot_id, unit) VALUES (?, ?) ON CONFLICT DO NOTHING`, w.id, unit)
		return err
	})
	if errors.Is(err, ErrLockLost) {
		return err
	}
	if err != nil {
		return fmt.Errorf("checkpoint %s: %w", unit, err)
	}
	w.units[unit] = true
	return nil
}

// Checkpointed reports whether an earlier, interrupted run of this
// snapshot already recorded unit in full.
func (w *SnapshotWriter) Checkpointed(unit string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.units[unit]
}

// Resumed reports how many units of work an interrupted run had finished
// before this one took over; 0 for a fresh run.
func (w *SnapshotWriter) Resumed() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.resumed
}

func insertObservations(rows int) string {
	const row = "(?,?,?,?,?,?,?,?,?,?,?,?,?)"
	return `INSERT INTO observations (snapshot_id, identity_id, kind, name, scope, created_at, last_used_at, rotated_at, expires_at, permissions, attributes, findings, material) VALUES ` +
		strings.Repeat(row+",", rows-1) + row
}

// Finish closes the run. With runErr nil the snapshot becomes complete, or
// partial when gaps were recorded, and its identities become the current
// population; with runErr set it is marked failed and changes nothing else.
// Either way its record goes into the event log (see SnapshotRecord) and
// the account's snapshot lock is released, in the same transaction.
func (w *SnapshotWriter) Finish(ctx context.Context, runErr error) (*Snapshot, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return nil, errors.New("snapshot already finished")
	}
	defer w.stopHeartbeat()
	unwritten := false // observations recorded that did not reach the file
	if err := w.stopLocked(ctx); err != nil {
		if errors.Is(err, ErrLockLost) {
			return nil, err
		}
		if runErr == nil {
			runErr = err
		}
		unwritten = true
	}
	snap := &Snapshot{
		ID: w.id, Source: w.info.Source, Account: w.info.Account, APIURL: w.info.APIURL, ServerVersion: w.server, Notes: append([]string{}, w.notes...), Reach: w.reach,
		Credential: w.info.Credential, ToolVersion: w.info.ToolVersion, StartedAt: w.info.StartedAt.UTC().Truncate(time.Second),
		Counts: w.counts, Gaps: w.gaps, Digest: w.digest(),
	}
	switch {
	case runErr != nil:
		snap.Status, snap.Error = SnapshotFailed, runErr.Error()
	case len(w.gaps) > 0:
		snap.Status = SnapshotPartial
	default:
		snap.Status = SnapshotComplete
	}
	err := w.ownTx(ctx, func(tx *sql.Tx) error {
		// Only an identity with a lineage continues another; a resumed
		// run does not know what its earlier part recorded, so it looks.
		if snap.Status != SnapshotFailed && (w.lineage || w.continues) {
			if err := w.linkRenames(ctx, tx); err != nil {
				return err
			}
		}
		known := &stored{digest: snap.Digest, counts: w.counts, own: true, continues: w.continues}
		if unwritten {
			// A write failed (the file stayed busy) and the rows
			// after it were dropped: the failed snapshot's record
			// states what the file holds, as nhi verify recomputes it.
			scopes, _, err := w.s.scopeRecords(ctx, w.id)
			if err != nil {
				return err
			}
			if known.digest, known.counts, err = snapshotDigest(ctx, tx, w.id, scopes); err != nil {
				return err
			}
			snap.Digest, snap.Counts = known.digest, known.counts
		}
		finished, err := w.s.finish(ctx, tx, w.id, snap.Status, snap.Error, w.info.Actor, known)
		if err != nil {
			return err
		}
		snap.FinishedAt = &finished
		return w.releaseLock(ctx, tx)
	})
	if err != nil {
		// The run is over: its lock is let go in this process, as
		// Leave lets it go.
		liveLocks.Delete(w.token)
		return nil, fmt.Errorf("finishing snapshot: %w", err)
	}
	if snap.Status != SnapshotFailed {
		w.s.analyzeGrown(ctx, snap.Total())
	}
	return snap, nil
}

// digest is SHA-256 over every (ID, record digest) in ID order: the same
// population gives the same digest whatever order the connector read it in.
func (w *SnapshotWriter) digest() string {
	return w.seen.digest(w.scopes)
}

func digestRecords(records map[string][sha256.Size]byte) string {
	ids := make([]string, 0, len(records))
	for id := range records {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	h := sha256.New()
	for _, id := range ids {
		d := records[id]
		h.Write([]byte(id))
		h.Write([]byte{0})
		h.Write(d[:])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// canonicalRow is the byte form a snapshot digest covers: the observation's
// columns as stored (identity_id through material), each length-prefixed
// and NULL marked apart from "", so nhi verify can recompute it from the file.
func canonicalRow(cols []any) []byte {
	b := make([]byte, 0, 256)
	for _, c := range cols {
		switch v := c.(type) {
		case nil:
			b = append(b, 0xff)
		case string:
			b = binary.AppendUvarint(b, uint64(len(v)))
			b = append(b, v...)
		default:
			panic(fmt.Sprintf("canonicalRow: column of type %T", c))
		}
	}
	return b
}

// TimeLayout is how timestamps are stored: UTC, whole seconds, so that text
// order is time order.
const TimeLayout = "2006-01-02T15:04:05Z"

// formatTime is t in TimeLayout. The digits are appended by hand (as
// parseTime reads them) for the years four digits hold: a snapshot of a
// million formats several million times (issue 21).
func formatTime(t time.Time) string {
	t = t.UTC()
	y, mo, d := t.Date()
	if y < 0 || y > 9999 {
		return t.Format(TimeLayout)
	}
	h, mi, sec := t.Clock()
	two := func(b []byte, n int) []byte { return append(b, byte('0'+n/10), byte('0'+n%10)) }
	b := make([]byte, 0, len(TimeLayout))
	b = two(two(b, y/100), y%100)
	b = two(append(b, '-'), int(mo))
	b = two(append(b, '-'), d)
	b = two(append(b, 'T'), h)
	b = two(append(b, ':'), mi)
	b = two(append(b, ':'), sec)
	return string(append(b, 'Z'))
}

func nullTime(t *time.Time) any {
	if t == nil || t.IsZero() {
		return nil
	}
	return formatTime(*t)
}

// materialDigest covers what compareObservations reports on, so two
// observations with equal digests show a reviewer nothing new.
func materialDigest(o *Observation, perms string) string {
	h := sha256.New()
	put := func(s string) {
		var n [binary.MaxVarintLen64]byte
		h.Write(n[:binary.PutUvarint(n[:], uint64(len(s)))])
		h.Write([]byte(s))
	}
	put(o.Name)
	put(perms)
	for _, t := range []*time.Time{o.RotatedAt, o.ExpiresAt} {
		if t == nil {
			put("-")
		} else {
			put(formatTime(*t))
		}
	}
	for _, a := range comparedAttributes {
		put(o.Attributes[a])
	}
	for _, a := range reachAttributes {
		if v := o.Attributes[a]; v != "" {
			put(a + "=" + v)
		}
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

func findingsJSON(fs []Finding) (string, error) {
	if len(fs) == 0 {
		return "[]", nil
	}
	b := make([]byte, 0, 128*len(fs))
	b = append(b, '[')
	for i, f := range fs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"rule":`...)
		b = AppendJSONString(b, f.Rule, false)
		b = append(b, `,"severity":`...)
		b = AppendJSONString(b, f.Severity, false)
		b = append(b, `,"owasp":`...)
		b = AppendJSONString(b, f.OWASP, false)
		b = append(b, `,"message":`...)
		b = AppendJSONString(b, f.Message, false)
		b = append(b, '}')
	}
	return string(append(b, ']')), nil
}

// mapJSON is the stored form of a string map: compact JSON, keys sorted,
// strings in AppendJSONString's stored form, which snapshot digests cover.
func mapJSON(m map[string]string) string {
	if len(m) == 0 {
		return "{}"
	}
	keys := make([]string, 0, len(m))
	n := 2
	for k, v := range m {
		keys = append(keys, k)
		n += len(k) + len(v) + 6
	}
	slices.Sort(keys)
	b := make([]byte, 0, n)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = AppendJSONString(b, k, false)
		b = append(b, ':')
		b = AppendJSONString(b, m[k], false)
	}
	return string(append(b, '}'))
}
