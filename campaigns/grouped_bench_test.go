package campaigns_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
	"github.com/nhi-audit/nhi/internal/pgtest"
)

// groupedSQL is the experiment of a group append (docs/performance.md,
// "Weighed and not done, tried and not kept"): a decision is queued by
// nhi_enqueue, which reads and checks as nhi_decide does before the
// lock and inserts the request, which a trigger marks with the role
// that queued it (session_user; a reviewer may insert a request, never
// change or remove one) and stamps with what the holder compares; then
// nhi_group_wait, an owner's function, either takes the write lock and
// chains every queued request in one transaction — one statement a
// table for the whole batch — or waits (a shared lock on a second key
// the holder holds until after its commit) for the holder that chains
// it. Who may write a request is checked when it is queued, under the
// deciding session, or by the holder of the role that queued it
// (installGrouped); either way the triggers on the log, the items and
// their history let the owner's function through, and a request
// refused is decided the long way, where the triggers say why.
const groupedSQL = `
CREATE UNLOGGED TABLE nhi_decision_queue (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	requester name NOT NULL,
	campaign_id bigint NOT NULL,
	identity_id text NOT NULL,
	actor text NOT NULL,
	create_seq bigint NOT NULL,
	decision text NOT NULL,
	reason text NOT NULL,
	decided_at text NOT NULL,
	via text NOT NULL,
	ev_at text NOT NULL,
	ev_type text NOT NULL,
	payload text NOT NULL,
	rest text NOT NULL,
	variant int NOT NULL,
	n_conflict bigint NOT NULL,
	s_decision text NOT NULL, s_reason text NOT NULL, s_by text NOT NULL, s_seq bigint, s_conflict bigint NOT NULL,
	s_cur text NOT NULL, s_pseq bigint NOT NULL, s_reviewer text,
	done boolean NOT NULL DEFAULT false,
	refused boolean NOT NULL DEFAULT false,
	o_seq bigint, o_prev_hash text, o_hash text
);
CREATE SEQUENCE nhi_group_batches;
CREATE SEQUENCE nhi_group_waits;
CREATE SEQUENCE nhi_group_xwaits;
GRANT USAGE ON nhi_group_batches, nhi_group_waits, nhi_group_xwaits TO PUBLIC;
CREATE INDEX nhi_decision_queue_todo ON nhi_decision_queue (id) WHERE NOT done;
GRANT INSERT, SELECT ON nhi_decision_queue TO nhi_reviewer;

-- A request is its role's, and what the holder compares under the lock
-- with the store as it is then — the directory's last person.set and
-- the identity's owner now — is read here, before the check that reads
-- the directory and the owner (the trigger after this one), so a change
-- the check did not see is one the holder sees.
CREATE FUNCTION nhi_queue_requester() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
	NEW.requester := session_user;
	NEW.done := false;
	NEW.refused := false;
	NEW.o_seq := NULL;
	SELECT COALESCE((SELECT max(e.seq) FROM events e WHERE e.type = 'person.set'), 0),
			COALESCE((SELECT o.owner FROM owners o WHERE o.identity_id = NEW.identity_id), '')
		INTO NEW.s_pseq, NEW.s_cur;
	RETURN NEW;
END $$;
DO $$ BEGIN
	EXECUTE format('ALTER FUNCTION nhi_queue_requester() SET search_path = pg_catalog, %I, pg_temp', current_schema());
END $$;
CREATE TRIGGER nhi_decision_queue_requester BEFORE INSERT ON nhi_decision_queue FOR EACH ROW EXECUTE FUNCTION nhi_queue_requester();
CHECK_QUEUED

-- Whether the role that queued each request not yet chained may write
-- what it asks (the event, the item's decision, its history row): the
-- checks nhi_check_actor and nhi_check_reviewer make of a session, made
-- of that role, for every request in one statement, under the write
-- lock (checkedUnderLock).
CREATE FUNCTION nhi_queue_may() RETURNS TABLE (id bigint, may boolean) LANGUAGE sql STABLE AS
$$ SELECT q.id,
		COALESCE(pg_has_role(to_regrole(q.requester::text), c.relowner, 'MEMBER'), false)
		OR COALESCE(pg_has_role(to_regrole(q.requester::text), to_regrole('nhi_admin'), 'MEMBER'), false)
		OR (to_regrole(q.requester::text) IS NOT NULL AND p.pl IS DISTINCT FROM p.ps
			AND k.ka <> '' AND (k.ka = k.ks OR COALESCE(p.pa = p.ps, false))
			AND i.reviewer IS NOT NULL AND k.kr <> '' AND (k.kr = k.ks OR COALESCE(p.pr = p.ps, false))
			AND NOT ((k.ko <> '' AND (k.ko = k.ks OR COALESCE(p.po = p.ps, false))) OR (k.kc <> '' AND (k.kc = k.ks OR COALESCE(p.pc = p.ps, false)))
				OR (k.kn <> '' AND (k.kn = k.ks OR COALESCE(p.pn = p.ps, false)))))
	FROM nhi_decision_queue q
	CROSS JOIN (SELECT relowner FROM pg_class WHERE oid = 'campaign_items'::regclass) c
	LEFT JOIN campaign_items i ON i.campaign_id = q.campaign_id AND i.identity_id = q.identity_id
	CROSS JOIN LATERAL (SELECT nhi_alias_key(q.requester::text) AS ks, COALESCE(nhi_alias_key(q.actor), '') AS ka,
			COALESCE(nhi_alias_key(i.reviewer), '') AS kr, COALESCE(nhi_alias_key(i.owner), '') AS ko,
			COALESCE(nhi_alias_key(i.natural_owner), '') AS kn,
			COALESCE((SELECT nhi_alias_key(o.owner) FROM owners o WHERE o.identity_id = q.identity_id), '') AS kc) k
	CROSS JOIN LATERAL (SELECT max(pk.email) FILTER (WHERE pk.key = k.ks) AS ps, max(pk.email) FILTER (WHERE pk.key = k.ka) AS pa,
			max(pk.email) FILTER (WHERE pk.key = k.kr) AS pr, max(pk.email) FILTER (WHERE pk.key = k.ks AND pk.has_left) AS pl,
			max(pk.email) FILTER (WHERE pk.key = k.ko) AS po, max(pk.email) FILTER (WHERE pk.key = k.kc) AS pc,
			max(pk.email) FILTER (WHERE pk.key = k.kn) AS pn
		FROM people_keys pk WHERE pk.key = ANY (ARRAY[k.ks, k.ka, k.kr, k.ko, k.kc, k.kn])) p
	WHERE NOT q.done $$;

-- The owner's function goes through the checks of who a write names:
-- what it writes was checked when it was queued.
DO $$ DECLARE d text; BEGIN
	d := pg_get_functiondef('nhi_check_reviewer'::regproc);
	d := replace(d, E'BEGIN\n\tIF pg_has_role(session_user', E'BEGIN\n\tIF current_user <> session_user AND pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID), ''MEMBER'') THEN\n\t\tRETURN NEW;\n\tEND IF;\n\tIF pg_has_role(session_user');
	EXECUTE d;
	d := pg_get_functiondef('nhi_check_actor'::regproc);
	d := replace(d, E'BEGIN\n\tIF ka <> '''' AND ka = ks THEN', E'BEGIN\n\tIF current_user <> session_user AND pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID), ''MEMBER'') THEN\n\t\tRETURN NEW;\n\tEND IF;\n\tIF ka <> '''' AND ka = ks THEN');
	EXECUTE d;
END $$;

CREATE FUNCTION nhi_enqueue(a_campaign bigint, a_create_seq bigint, a_item text, a_decision text, a_reason text, a_refuse_same bigint,
	a_actor_key text, a_same_keys text[], a_team_keys text[], a_person_seq bigint, a_decided_at text, a_via text,
	ev_at text, ev_actor text, ev_type text, ev_payload text, ev_rest text, ev_exception_payload text, ev_exception_rest text)
RETURNS void LANGUAGE plpgsql AS
$$ DECLARE
	i_owner text;
	i_natural text;
	i_decision text;
	i_reason text;
	i_by text;
	i_seq bigint;
	i_conflict bigint;
	i_findings text;
	i_reviewer text;
	cur text;
	c_open boolean;
	pseq bigint;
	names text;
	ko text;
	kc text;
	kd text;
	exc boolean;
	aliased boolean;
	sync_off text;
	qid bigint;
BEGIN
	sync_off := set_config('synchronous_commit', 'off', true);
	SELECT i.owner, i.natural_owner, i.decision, i.reason, i.decided_by, i.decision_seq, i.conflict, i.findings, i.reviewer,
			COALESCE(o.owner, ''),
			EXISTS (SELECT 1 FROM campaigns c WHERE c.id = a_campaign AND c.create_seq = a_create_seq AND c.status = 'open'),
			COALESCE((SELECT max(e.seq) FROM events e WHERE e.type = 'person.set'), 0),
			EXISTS (SELECT 1 FROM identity_aliases a WHERE a.id = a_item)
		INTO i_owner, i_natural, i_decision, i_reason, i_by, i_seq, i_conflict, i_findings, i_reviewer, cur, c_open, pseq, aliased
		FROM campaign_items i LEFT JOIN owners o ON o.identity_id = i.identity_id
		WHERE i.campaign_id = a_campaign AND i.identity_id = a_item;
	names := i_owner || cur || i_natural || i_by;
	IF NOT FOUND OR NOT c_open OR pseq <> a_person_seq OR octet_length(names) <> length(names)
		OR aliased
		OR i_owner ~ '[<+]|\.\s*$' OR cur ~ '[<+]|\.\s*$' OR i_natural ~ '[<+]|\.\s*$' THEN
		RAISE EXCEPTION 'the store changed while the write was being prepared' USING ERRCODE = 'NHI01';
	END IF;
	ko := nhi_ascii_key(i_owner);
	kc := nhi_ascii_key(cur);
	kd := nhi_ascii_key(i_by);
	exc := i_findings <> '[]';
	IF ko = ANY (a_same_keys) OR (strpos(i_owner, '/') > 0 AND ko = ANY (a_team_keys))
		OR kc = ANY (a_same_keys) OR (strpos(cur, '/') > 0 AND kc = ANY (a_team_keys))
		OR nhi_ascii_key(i_natural) = ANY (a_same_keys)
		OR (a_refuse_same <> 0 AND i_decision = a_decision AND i_seq IS NOT NULL AND kd = ANY (a_same_keys)
			AND (a_reason = '' OR a_reason = i_reason))
		OR (a_decision IN ('keep', 'rotate') AND exc AND a_reason = '') THEN
		RAISE EXCEPTION 'the decision must be made the long way' USING ERRCODE = 'NHI01';
	END IF;
	INSERT INTO nhi_decision_queue (requester, campaign_id, identity_id, actor, create_seq, decision, reason, decided_at, via, ev_at, ev_type, payload, rest, variant,
			n_conflict, s_decision, s_reason, s_by, s_seq, s_conflict, s_cur, s_pseq, s_reviewer)
		VALUES (session_user, a_campaign, a_item, ev_actor, a_create_seq, a_decision, a_reason, a_decided_at, a_via, ev_at, ev_type,
			CASE WHEN exc THEN ev_exception_payload ELSE ev_payload END, CASE WHEN exc THEN ev_exception_rest ELSE ev_rest END, CASE WHEN exc THEN 1 ELSE 0 END,
			CASE WHEN i_by <> '' AND (kd = '' OR kd <> a_actor_key) THEN 1 ELSE i_conflict END,
			i_decision, i_reason, i_by, i_seq, i_conflict, cur, pseq, i_reviewer)
		RETURNING id INTO qid;
	sync_off := set_config('nhi.queued', qid::text, false);
END $$;

CREATE FUNCTION nhi_group_wait() RETURNS TABLE (o_seq bigint, o_prev_hash text, o_hash text, o_variant int, o_reviewer text, o_decision text, o_decided_by text)
LANGUAGE plpgsql SECURITY DEFINER AS
$$ DECLARE
	qid bigint := current_setting('nhi.queued')::bigint;
	mine nhi_decision_queue;
	sync_off text;
	ids bigint[];
	rests text[];
	seqs bigint[];
	prevs text[];
	hashes text[];
	n bigint;
	prev text;
	h text;
	pseq bigint;
	passes int;
	kept int;
	lead boolean;
BEGIN
	sync_off := set_config('synchronous_commit', 'off', true);
	LOOP
		lead := false;
		IF pg_try_advisory_xact_lock(1313359153) THEN
			lead := true;
		ELSE
			-- Wait for the holder that chains: a shared lock of its sign
			-- is granted once it released it, after its commit (the
			-- caller's pipeline releases it). The write lock itself is
			-- never waited on in share, so whoever tries it next gets it.
			PERFORM nextval('nhi_group_waits');
			IF pg_try_advisory_lock_shared(1313359153, 1) THEN
				-- No sign: the write lock is held by another writer, or
				-- by a holder about to sign. Give it the core a while.
				PERFORM pg_advisory_unlock_shared(1313359153, 1);
				PERFORM nextval('nhi_group_xwaits');
				PERFORM pg_sleep(0.0005);
			ELSE
				PERFORM pg_advisory_lock_shared(1313359153, 1);
				PERFORM pg_advisory_unlock_shared(1313359153, 1);
			END IF;
		END IF;
		IF lead THEN
			-- The holder's sign, which those who wait for it wait on,
			-- held past the commit (session-level): released by the
			-- caller once the write lock is.
			PERFORM pg_advisory_lock(1313359153, 1);
			passes := 0;
			LOOP
				passes := passes + 1;
				pseq := COALESCE((SELECT max(e.seq) FROM events e WHERE e.type = 'person.set'), 0);
				-- What moved since a request was read refuses it (the
				-- caller decides the long way), and so does a second
				-- request of one item in one batch.
				UPDATE nhi_decision_queue q SET done = true, refused = true
					FROM (SELECT q2.id, row_number() OVER (PARTITION BY q2.campaign_id, q2.identity_id ORDER BY q2.id) AS rn MAY_SELECT
						FROM nhi_decision_queue q2 MAY_JOIN WHERE NOT q2.done) r
					WHERE q.id = r.id AND NOT (r.rn = 1 AND q.s_pseq = pseq MAY_COND
						AND COALESCE((SELECT o.owner FROM owners o WHERE o.identity_id = q.identity_id), '') = q.s_cur
						AND NOT EXISTS (SELECT 1 FROM identity_aliases a WHERE a.id = q.identity_id)
						AND EXISTS (SELECT 1 FROM campaigns c WHERE c.id = q.campaign_id AND c.create_seq = q.create_seq AND c.status = 'open')
						AND EXISTS (SELECT 1 FROM campaign_items i WHERE i.campaign_id = q.campaign_id AND i.identity_id = q.identity_id
							AND i.decision = q.s_decision AND i.reason = q.s_reason AND i.decided_by = q.s_by
							AND i.decision_seq IS NOT DISTINCT FROM q.s_seq AND i.conflict = q.s_conflict));
				SELECT array_agg(q.id ORDER BY q.id), array_agg(q.rest ORDER BY q.id) INTO ids, rests FROM nhi_decision_queue q WHERE NOT q.done;
				EXIT WHEN ids IS NULL;
				PERFORM nextval('nhi_group_batches');
				SELECT e.seq, e.hash INTO n, prev FROM events e ORDER BY e.seq DESC LIMIT 1;
				n := COALESCE(n, 0);
				prev := COALESCE(prev, '0000000000000000000000000000000000000000000000000000000000000000');
				seqs := '{}';
				prevs := '{}';
				hashes := '{}';
				FOR k IN 1 .. array_length(ids, 1) LOOP
					n := n + 1;
					h := encode(sha256(convert_to(prev || '[' || n || ',' || rests[k], 'UTF8')), 'hex');
					seqs := seqs || n;
					prevs := prevs || prev;
					hashes := hashes || h;
					prev := h;
				END LOOP;
				INSERT INTO events (seq, at, actor, type, payload, prev_hash, hash)
					SELECT x.seq, q.ev_at, q.actor, q.ev_type, q.payload, x.prev, x.hash
					FROM unnest(ids, seqs, prevs, hashes) AS x(id, seq, prev, hash) JOIN nhi_decision_queue q ON q.id = x.id ORDER BY x.seq;
				UPDATE campaign_items i SET decision = q.decision, reason = q.reason, decided_by = q.actor, decided_at = q.decided_at, decision_seq = x.seq, conflict = q.n_conflict
					FROM unnest(ids, seqs) AS x(id, seq) JOIN nhi_decision_queue q ON q.id = x.id
					WHERE i.campaign_id = q.campaign_id AND i.identity_id = q.identity_id;
				GET DIAGNOSTICS kept = ROW_COUNT;
				IF kept <> array_length(ids, 1) THEN
					RAISE EXCEPTION 'a batch of % decisions changed % items', array_length(ids, 1), kept;
				END IF;
				INSERT INTO campaign_decisions (campaign_id, identity_id, seq, decision, reason, actor, at, via, undoes)
					SELECT q.campaign_id, q.identity_id, x.seq, q.decision, q.reason, q.actor, q.decided_at, q.via, 0
					FROM unnest(ids, seqs) AS x(id, seq) JOIN nhi_decision_queue q ON q.id = x.id ORDER BY x.seq;
				UPDATE meta SET value = CASE WHEN key = 'log_head' THEN prev ELSE n::text END WHERE key IN ('log_head', 'log_length');
				GET DIAGNOSTICS kept = ROW_COUNT;
				IF kept <> 2 THEN
					INSERT INTO meta (key, value) VALUES ('log_head', prev), ('log_length', n::text)
						ON CONFLICT (key) DO UPDATE SET value = excluded.value;
				END IF;
				UPDATE nhi_decision_queue q SET done = true, o_seq = x.seq, o_prev_hash = x.prev, o_hash = x.hash
					FROM unnest(ids, seqs, prevs, hashes) AS x(id, seq, prev, hash) WHERE q.id = x.id;
				EXIT WHEN passes >= MAXPASSES;
			END LOOP;
		END IF;
		DELETE FROM nhi_decision_queue d WHERE d.id = qid AND d.requester = session_user AND d.done RETURNING * INTO mine;
		IF FOUND THEN
			IF mine.refused THEN
				RAISE EXCEPTION 'the store changed while the write was being prepared' USING ERRCODE = 'NHI01';
			END IF;
			o_seq := mine.o_seq;
			o_prev_hash := mine.o_prev_hash;
			o_hash := mine.o_hash;
			o_variant := mine.variant;
			o_reviewer := mine.s_reviewer;
			o_decision := mine.s_decision;
			o_decided_by := mine.s_by;
			RETURN NEXT;
			RETURN;
		END IF;
		IF NOT EXISTS (SELECT 1 FROM nhi_decision_queue d WHERE d.id = qid AND d.requester = session_user) THEN
			RAISE EXCEPTION 'no decision of yours is queued';
		END IF;
	END LOOP;
END $$;
-- A rehearsal (campaigns.PrepareToDecide) of both, in the transaction
-- it rolls back.
CREATE FUNCTION nhi_group_rehearse(a_campaign bigint, a_create_seq bigint, a_item text, a_decision text, a_reason text, a_refuse_same bigint,
	a_actor_key text, a_same_keys text[], a_team_keys text[], a_person_seq bigint, a_decided_at text, a_via text,
	ev_at text, ev_actor text, ev_type text, ev_payload text, ev_rest text, ev_exception_payload text, ev_exception_rest text)
RETURNS TABLE (o_seq bigint, o_prev_hash text, o_hash text, o_variant int, o_reviewer text, o_decision text, o_decided_by text)
LANGUAGE plpgsql AS
$$ BEGIN
	PERFORM nhi_enqueue(a_campaign, a_create_seq, a_item, a_decision, a_reason, a_refuse_same, a_actor_key, a_same_keys, a_team_keys, a_person_seq,
		a_decided_at, a_via, ev_at, ev_actor, ev_type, ev_payload, ev_rest, ev_exception_payload, ev_exception_rest);
	RETURN QUERY SELECT * FROM nhi_group_wait();
	PERFORM pg_advisory_unlock_all();
END $$;
DO $$ BEGIN
	EXECUTE format('ALTER FUNCTION nhi_group_wait() SET search_path = pg_catalog, %I, pg_temp', current_schema());
END $$;
`

// Where the holder's function finds who may write a request: checked
// when it is queued, under the deciding session, by the trigger that
// checks a history row (checkedQueued); or under the write lock, of
// the role that queued it (checkedUnderLock).
const (
	checkedQueued = iota + 1
	checkedUnderLock
)

// installGrouped creates the experiment's functions in the fixture's
// database, as its owner, the requests checked as checked says.
func installGrouped(b testing.TB, u string, checked int) {
	b.Helper()
	r := strings.NewReplacer("MAXPASSES", "1", "CHECK_QUEUED", `CREATE TRIGGER nhi_decision_queue_reviewer BEFORE INSERT ON nhi_decision_queue FOR EACH ROW EXECUTE FUNCTION nhi_check_reviewer();`,
		"MAY_SELECT", "", "MAY_JOIN", "", "MAY_COND", "")
	if checked == checkedUnderLock {
		r = strings.NewReplacer("MAXPASSES", "1", "CHECK_QUEUED", "",
			"MAY_SELECT", ", m.may", "MAY_JOIN", "JOIN nhi_queue_may() m ON m.id = q2.id", "MAY_COND", "AND r.may")
	}
	pgtest.Exec(b, u, r.Replace(groupedSQL))
}

// groupedCounts are how many batches the holders chained, how many
// times a decision waited for a holder that chains and how many times
// the write lock was held by a writer not chaining (each a sleep of
// half a millisecond), so far.
func groupedCounts(b *testing.B, st interface {
	QueryRow(ctx context.Context, query string, args ...any) *sql.Row
}) (batches, waits, xwaits int64) {
	b.Helper()
	if err := st.QueryRow(ctx, `SELECT (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM nhi_group_batches),
		(SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM nhi_group_waits),
		(SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM nhi_group_xwaits)`).Scan(&batches, &waits, &xwaits); err != nil {
		b.Fatal(err)
	}
	return batches, waits, xwaits
}

// TestGroupedChainsOnlyWhatTheRoleMayWrite: a reviewer who writes a
// request herself (psql) for another reviewer's item, in her own name,
// has it refused — by the trigger when checked as it is queued, by the
// holder when checked under the lock — and nothing is appended; the
// same request for her own item is chained.
func TestGroupedChainsOnlyWhatTheRoleMayWrite(t *testing.T) {
	for _, checked := range []int{checkedQueued, checkedUnderLock} {
		t.Run(fmt.Sprint(map[int]string{checkedQueued: "queued", checkedUnderLock: "under-lock"}[checked]), func(t *testing.T) {
			f := campaignstest.NewOn(t, campaignstest.Postgres, "2026-10-01T12:00:00Z")
			f.Snapshot(t, nil, key("repo-a", "1", "user1"), key("repo-a", "2", "user2"))
			if _, err := f.Store.InitRoles(ctx); err != nil {
				t.Fatal(err)
			}
			db := pgtest.DatabaseName(f.Path)
			rita, sam := "rita_"+db, "sam_"+db
			if _, err := f.Store.SetPeople(ctx, "admin", audit.PeopleImport{People: []audit.Person{
				{Email: "rita@acme.test", Aliases: []string{rita}}, {Email: "sam@acme.test", Aliases: []string{sam}}}}, false); err != nil {
				t.Fatal(err)
			}
			if _, err := campaigns.Create(ctx, f.Store, "lead", campaigns.Spec{Name: "q", Scope: "id:*", Due: "2026-12-31", Reviewers: []string{rita, sam}}); err != nil {
				t.Fatal(err)
			}
			c, err := campaigns.Get(ctx, f.Store, "q")
			if err != nil {
				t.Fatal(err)
			}
			installGrouped(t, f.Path, checked)
			var hers, his string
			for _, it := range c.Items {
				if strings.Contains(it.Reviewer, "rita") {
					hers = it.ID
				} else {
					his = it.ID
				}
			}
			if hers == "" || his == "" {
				t.Fatalf("items %+v", c.Items)
			}
			conn := pgtest.Connect(t, pgtest.LoginRole(t, f.Path, rita, audit.RoleReviewer))
			request := func(item string) error {
				var id int64
				err := conn.QueryRow(ctx, `INSERT INTO nhi_decision_queue (requester, campaign_id, identity_id, actor, create_seq, decision, reason, decided_at, via,
						ev_at, ev_type, payload, rest, variant, n_conflict, s_decision, s_reason, s_by, s_seq, s_conflict, s_cur, s_pseq, s_reviewer)
					VALUES ('x', $1, $2, $3, $4, 'decommission', '', '2026-10-01T12:00:00Z', 'single', '2026-10-01T12:00:00Z', 'campaign.decide', '{}', '"x"]', 0, 0,
						'', '', '', NULL, 0, '', 0, '') RETURNING id`, c.ID, item, rita, c.CreateSeq).Scan(&id)
				if err != nil {
					return err
				}
				if _, err := conn.Exec(ctx, `SELECT set_config('nhi.queued', $1, false)`, fmt.Sprint(id)); err != nil {
					return err
				}
				var seq int64
				err = conn.QueryRow(ctx, `SELECT o_seq FROM nhi_group_wait()`).Scan(&seq)
				if _, uerr := conn.Exec(ctx, `SELECT pg_advisory_unlock_all()`); err == nil {
					err = uerr
				}
				return err
			}
			before, err := f.Store.LogHead(ctx)
			if err != nil {
				t.Fatal(err)
			}
			err = request(his)
			pe, ok := errors.AsType[*pgconn.PgError](err)
			want := map[int]string{checkedQueued: "42501", checkedUnderLock: "NHI01"}[checked]
			if !ok || pe.Code != want {
				t.Fatalf("a request for sam's item: %v, want SQLSTATE %s", err, want)
			}
			if after, err := f.Store.LogHead(ctx); err != nil || after.Seq != before.Seq {
				t.Fatalf("the log went from %d to %d (%v)", before.Seq, after.Seq, err)
			}
			if err := request(hers); err != nil {
				t.Fatalf("a request for her own item: %v", err)
			}
			if after, err := f.Store.LogHead(ctx); err != nil || after.Seq != before.Seq+1 {
				t.Fatalf("the log went from %d to %d (%v), want one event", before.Seq, after.Seq, err)
			}
		})
	}
}
