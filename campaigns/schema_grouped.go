package campaigns

import (
	"strconv"
	"strings"

	"github.com/nhi-audit/nhi/audit"
)

// The group append (docs/team.md, "One turn of the lock for many
// decisions"): PostgreSQL's steps 16 to 19. SQLite is not touched: an
// evidence file decides under its own lock.

// checkReviewerDefinerStep is step 16: nhi_check_reviewer as step 15
// made it, but a write made inside a SECURITY DEFINER function of the
// tables' owner passes first (audit.OwnersDefinerPasses, as audit's step
// 14 makes nhi_check_actor): nhi_group_wait writes the items and their
// history of requests it checked itself, under the write lock, of the
// role that queued each (nhi_queue_may). Every other write is checked as
// before.
var checkReviewerDefinerStep = audit.EditMigration(checkReviewerSelfReviewStep,
	"BEGIN\n\tIF pg_has_role(session_user", "BEGIN\n"+audit.OwnersDefinerPasses+"\tIF pg_has_role(session_user")

// logLock and groupSign are the write lock (the key every write takes,
// audit's logLockKey) and the sign a holder that chains holds past its
// commit, which the decisions waiting for it wait on in share.
var (
	logLock   = strconv.Itoa(audit.ApplicationID)
	groupSign = strconv.Itoa(audit.ApplicationID) + ", 1"
)

// groupAppendStep is step 17: a decision in one round trip is queued and
// chained by whoever next holds the write lock, many in one turn of it
// (decideOneTrip, audit.Store.AppendCallGrouped; docs/team.md, "One turn
// of the lock for many decisions").
//
// nhi_enqueue reads and checks as nhi_decide does before the lock, and
// inserts the request into nhi_decision_queue, an unlogged table a
// reviewer may insert into and read but neither change nor delete from;
// a trigger marks the request with the role that queued it
// (session_user) and its backend (pid and start). It commits on its own,
// asynchronously. Then nhi_group_wait, the owner's SECURITY DEFINER
// function: whoever gets the write lock (a try) chains every request
// queued and not yet chained, in one transaction — requests whose
// backend no longer runs deleted, every request checked under the lock
// of the role that queued it in one statement (nhi_queue_may: the
// checks nhi_check_actor and nhi_check_reviewer make of a session), what
// moved since a request was read compared, the chain hashed in a loop,
// then one INSERT of the events, one UPDATE of the items, one INSERT of
// their history and one UPDATE of meta — in a block of its own: should
// anything raise, the whole batch is refused (each caller then decides
// the long way, where the triggers say why) and the holder goes on.
// The others wait on a shared lock of the holder's sign, which it holds
// until after its commit, and are woken together. A request refused
// returns no event (o_seq NULL), and its caller decides the long way.
//
// nhi_group_withdraw, the owner's too, deletes under the write lock the
// session role's request of a write whose connection was lost, so that
// once it returns no holder will chain it (audit's settleLost, before it
// looks in the log). nhi_group_rehearse rehearses both
// (PrepareToDecide) in the transaction the caller rolls back, chaining
// only its own request. Running it again changes nothing.
var groupAppendStep = `
CREATE UNLOGGED TABLE IF NOT EXISTS nhi_decision_queue (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	requester name NOT NULL,
	pid integer NOT NULL,
	backend_start timestamptz,
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
CREATE INDEX IF NOT EXISTS nhi_decision_queue_todo ON nhi_decision_queue (id) WHERE NOT done;
-- How many batches the holders chained, how many failed (refused
-- whole), how many times a decision waited for a holder, and how many
-- times the write lock was held by a writer not chaining: the
-- benchmark's figures.
CREATE SEQUENCE IF NOT EXISTS nhi_group_batches;
CREATE SEQUENCE IF NOT EXISTS nhi_group_failed;
CREATE SEQUENCE IF NOT EXISTS nhi_group_waits;
CREATE SEQUENCE IF NOT EXISTS nhi_group_xwaits;
DO $$ BEGIN
	IF to_regrole('nhi_reviewer') IS NOT NULL THEN
		GRANT INSERT, SELECT ON nhi_decision_queue TO nhi_reviewer;
	END IF;
	IF to_regrole('nhi_admin') IS NOT NULL THEN
		GRANT INSERT, SELECT ON nhi_decision_queue TO nhi_admin;
	END IF;
END $$;

-- A request is its role's and its backend's, whatever the insert says.
CREATE OR REPLACE FUNCTION nhi_queue_requester() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
	NEW.requester := session_user;
	NEW.pid := pg_backend_pid();
	NEW.backend_start := (SELECT a.backend_start FROM pg_stat_get_activity(pg_backend_pid()) a);
	NEW.done := false;
	NEW.refused := false;
	NEW.o_seq := NULL;
	NEW.o_prev_hash := NULL;
	NEW.o_hash := NULL;
	RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS nhi_decision_queue_requester ON nhi_decision_queue;
CREATE TRIGGER nhi_decision_queue_requester BEFORE INSERT ON nhi_decision_queue FOR EACH ROW EXECUTE FUNCTION nhi_queue_requester();

-- Whether the role that queued each request not yet chained may write
-- what it asks (the event, the item's decision, its history row): the
-- checks nhi_check_actor and nhi_check_reviewer make of a session — the
-- owner and nhi_admin may write anything; otherwise the actor is the
-- role's person, the item is assigned to that person, who has not left
-- and neither owns it (recorded at creation or now) nor holds it — made
-- of that role, for every request in one statement.
CREATE OR REPLACE FUNCTION nhi_queue_may() RETURNS TABLE (id bigint, may boolean) LANGUAGE sql STABLE AS
$$ SELECT q.id,
		COALESCE(pg_has_role(to_regrole(quote_ident(q.requester)), c.relowner, 'MEMBER'), false)
		OR COALESCE(pg_has_role(to_regrole(quote_ident(q.requester)), to_regrole('nhi_admin'), 'MEMBER'), false)
		OR (to_regrole(quote_ident(q.requester)) IS NOT NULL AND NOT COALESCE(p.pl = p.ps, false)
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

CREATE OR REPLACE FUNCTION nhi_enqueue(a_campaign bigint, a_create_seq bigint, a_item text, a_decision text, a_reason text, a_refuse_same bigint,
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
	-- Its commit does not wait for the disk; the caller flushes after
	-- the commit that chains it.
	sync_off := set_config('synchronous_commit', 'off', true);
	SELECT i.owner, i.natural_owner, i.decision, i.reason, i.decided_by, i.decision_seq, i.conflict, i.findings, i.reviewer,
			COALESCE(o.owner, ''),
			EXISTS (SELECT 1 FROM campaigns c WHERE c.id = a_campaign AND c.create_seq = a_create_seq AND c.status = 'open'),
			COALESCE((SELECT max(e.seq) FROM events e WHERE e.type = '` + audit.EventPersonSet + `'), 0),
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
	INSERT INTO nhi_decision_queue (requester, pid, campaign_id, identity_id, actor, create_seq, decision, reason, decided_at, via, ev_at, ev_type, payload, rest, variant,
			n_conflict, s_decision, s_reason, s_by, s_seq, s_conflict, s_cur, s_pseq, s_reviewer)
		VALUES (session_user, 0, a_campaign, a_item, ev_actor, a_create_seq, a_decision, a_reason, a_decided_at, a_via, ev_at, ev_type,
			CASE WHEN exc THEN ev_exception_payload ELSE ev_payload END, CASE WHEN exc THEN ev_exception_rest ELSE ev_rest END, CASE WHEN exc THEN 1 ELSE 0 END,
			CASE WHEN i_by <> '' AND (kd = '' OR kd <> a_actor_key) THEN 1 ELSE i_conflict END,
			i_decision, i_reason, i_by, i_seq, i_conflict, cur, pseq, i_reviewer)
		RETURNING id INTO qid;
	sync_off := set_config('nhi.queued', qid::text, false);
END $$;

CREATE OR REPLACE FUNCTION nhi_group_wait(a_only_mine boolean DEFAULT false)
RETURNS TABLE (o_seq bigint, o_prev_hash text, o_hash text, o_variant int, o_reviewer text, o_decision text, o_decided_by text)
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
	kept int;
	lead boolean;
	xtries int := 0;
BEGIN
	sync_off := set_config('synchronous_commit', 'off', true);
	LOOP
		lead := false;
		IF pg_try_advisory_xact_lock(` + logLock + `) THEN
			lead := true;
		ELSE
			-- Wait for the holder that chains: a shared lock of its sign
			-- is granted once it released it, after its commit (the
			-- caller's pipeline releases it). The write lock itself is
			-- never waited on in share, so whoever tries it next gets it.
			PERFORM nextval('nhi_group_waits');
			IF pg_try_advisory_lock_shared(` + groupSign + `) THEN
				-- No sign: the write lock is held by another writer, or
				-- by a holder about to sign. Give it the core a while;
				-- still held after four tries (a long write: a snapshot,
				-- an import), wait for the write lock itself, and chain.
				PERFORM pg_advisory_unlock_shared(` + groupSign + `);
				PERFORM nextval('nhi_group_xwaits');
				xtries := xtries + 1;
				IF xtries < 4 THEN
					PERFORM pg_sleep(0.0005);
				ELSE
					PERFORM pg_advisory_xact_lock(` + logLock + `);
					lead := true;
				END IF;
			ELSE
				PERFORM pg_advisory_lock_shared(` + groupSign + `);
				PERFORM pg_advisory_unlock_shared(` + groupSign + `);
			END IF;
		END IF;
		IF lead THEN
			-- The holder's sign, which those who wait for it wait on,
			-- held past the commit (session-level): released by the
			-- caller once the write lock is. A rehearsal, which rolls
			-- back, takes none (those who wait meanwhile try again).
			IF NOT a_only_mine THEN
				PERFORM pg_advisory_lock(` + groupSign + `);
			END IF;
			ids := NULL;
			BEGIN
				-- The requests of a backend that no longer runs (its
				-- connection lost) are not chained: settling it looks
				-- in the log once it withdrew its request.
				DELETE FROM nhi_decision_queue q WHERE NOT EXISTS (SELECT 1 FROM pg_stat_get_activity(NULL) a
					WHERE a.pid = q.pid AND a.usesysid = to_regrole(quote_ident(q.requester))
						AND (a.backend_start IS NULL OR q.backend_start IS NULL OR a.backend_start = q.backend_start));
				pseq := COALESCE((SELECT max(e.seq) FROM events e WHERE e.type = '` + audit.EventPersonSet + `'), 0);
				-- A request its role may not write, or whose reads moved
				-- since, is refused (the caller decides the long way),
				-- and so is a second request of one item in one batch.
				UPDATE nhi_decision_queue q SET done = true, refused = true
					FROM (SELECT q2.id, row_number() OVER (PARTITION BY q2.campaign_id, q2.identity_id ORDER BY q2.id) AS rn, m.may
						FROM nhi_decision_queue q2 JOIN nhi_queue_may() m ON m.id = q2.id WHERE NOT q2.done AND (NOT a_only_mine OR q2.id = qid)) r
					WHERE q.id = r.id AND NOT (r.rn = 1 AND r.may AND q.s_pseq = pseq
						AND COALESCE((SELECT o.owner FROM owners o WHERE o.identity_id = q.identity_id), '') = q.s_cur
						AND NOT EXISTS (SELECT 1 FROM identity_aliases a WHERE a.id = q.identity_id)
						AND EXISTS (SELECT 1 FROM campaigns c WHERE c.id = q.campaign_id AND c.create_seq = q.create_seq AND c.status = 'open')
						AND EXISTS (SELECT 1 FROM campaign_items i WHERE i.campaign_id = q.campaign_id AND i.identity_id = q.identity_id
							AND i.decision = q.s_decision AND i.reason = q.s_reason AND i.decided_by = q.s_by
							AND i.decision_seq IS NOT DISTINCT FROM q.s_seq AND i.conflict = q.s_conflict));
				SELECT array_agg(q.id ORDER BY q.id), array_agg(q.rest ORDER BY q.id) INTO ids, rests
					FROM nhi_decision_queue q WHERE NOT q.done AND (NOT a_only_mine OR q.id = qid);
				IF ids IS NOT NULL THEN
					PERFORM nextval('nhi_group_batches');
					SELECT e.seq, e.hash INTO n, prev FROM events e ORDER BY e.seq DESC LIMIT 1;
					n := COALESCE(n, 0);
					prev := COALESCE(prev, '` + audit.GenesisHash + `');
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
				END IF;
			EXCEPTION WHEN OTHERS THEN
				-- Everything the block wrote is undone: the batch is
				-- refused whole, and each of its callers decides the
				-- long way, where the triggers say precisely why.
				PERFORM nextval('nhi_group_failed');
				UPDATE nhi_decision_queue q SET done = true, refused = true
					WHERE NOT q.done AND (ids IS NULL OR q.id = ANY (ids)) AND (NOT a_only_mine OR q.id = qid);
			END;
		END IF;
		DELETE FROM nhi_decision_queue d WHERE d.id = qid AND d.requester = session_user AND d.done RETURNING * INTO mine;
		IF FOUND THEN
			IF mine.refused THEN
				o_seq := NULL;
				o_prev_hash := '';
				o_hash := '';
				o_variant := 0;
				o_reviewer := '';
				o_decision := '';
				o_decided_by := '';
			ELSE
				o_seq := mine.o_seq;
				o_prev_hash := mine.o_prev_hash;
				o_hash := mine.o_hash;
				o_variant := mine.variant;
				o_reviewer := COALESCE(mine.s_reviewer, '');
				o_decision := mine.s_decision;
				o_decided_by := mine.s_by;
			END IF;
			RETURN NEXT;
			RETURN;
		END IF;
		IF NOT EXISTS (SELECT 1 FROM nhi_decision_queue d WHERE d.id = qid AND d.requester = session_user) THEN
			RAISE EXCEPTION 'no decision of yours is queued';
		END IF;
	END LOOP;
END $$;

-- A write whose connection was lost: its request withdrawn, under the
-- write lock (a holder that chained it has committed), so no holder
-- chains it once this returns. Only the session role's own request, by
-- the backend that queued it and what the event would be.
CREATE OR REPLACE FUNCTION nhi_group_withdraw(a_pid integer, a_at text, a_actor text, a_type text, a_payloads text[]) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER AS
$$ DECLARE
	n bigint;
BEGIN
	PERFORM pg_advisory_xact_lock(` + logLock + `);
	DELETE FROM nhi_decision_queue q WHERE q.requester = session_user AND q.pid = a_pid
		AND q.ev_at = a_at AND q.actor = a_actor AND q.ev_type = a_type AND q.payload = ANY (a_payloads);
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END $$;

-- A rehearsal (campaigns.PrepareToDecide) of both, in the transaction
-- it rolls back, chaining its own request only; a request its role may
-- not write is refused (the holder would refuse it).
CREATE OR REPLACE FUNCTION nhi_group_rehearse(a_campaign bigint, a_create_seq bigint, a_item text, a_decision text, a_reason text, a_refuse_same bigint,
	a_actor_key text, a_same_keys text[], a_team_keys text[], a_person_seq bigint, a_decided_at text, a_via text,
	ev_at text, ev_actor text, ev_type text, ev_payload text, ev_rest text, ev_exception_payload text, ev_exception_rest text)
RETURNS TABLE (o_seq bigint, o_prev_hash text, o_hash text, o_variant int, o_reviewer text, o_decision text, o_decided_by text)
LANGUAGE plpgsql AS
$$ BEGIN
	PERFORM nhi_enqueue(a_campaign, a_create_seq, a_item, a_decision, a_reason, a_refuse_same, a_actor_key, a_same_keys, a_team_keys, a_person_seq,
		a_decided_at, a_via, ev_at, ev_actor, ev_type, ev_payload, ev_rest, ev_exception_payload, ev_exception_rest);
	-- Refused as the holder would refuse it, said as the triggers say it.
	IF NOT (SELECT m.may FROM nhi_queue_may() m WHERE m.id = current_setting('nhi.queued')::bigint) THEN
		RAISE EXCEPTION 'database role % may not decide % in campaign % (a rehearsal)', session_user, a_item, (SELECT name FROM campaigns WHERE id = a_campaign)
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	RETURN QUERY SELECT * FROM nhi_group_wait(true);
END $$;

DO $$ BEGIN
	EXECUTE format('ALTER FUNCTION nhi_queue_requester() SET search_path = pg_catalog, %I, pg_temp', current_schema());
	EXECUTE format('ALTER FUNCTION nhi_group_wait(boolean) SET search_path = pg_catalog, %I, pg_temp', current_schema());
	EXECUTE format('ALTER FUNCTION nhi_group_withdraw(integer, text, text, text, text[]) SET search_path = pg_catalog, %I, pg_temp', current_schema());
END $$;
`

// groupGrantsStep is step 18. PostgreSQL grants EXECUTE on every new
// function to PUBLIC, so any role of the server, nhi's or not, could call
// the group append's two SECURITY DEFINER functions, which write past the
// triggers: they are revoked from PUBLIC and granted to the roles that
// decide (nhi_reviewer, nhi_admin; the owner may always), as nhi db init
// grants every definer function of the schema from now on
// (audit.rolePrivileges). And the queue, which every role read whole
// (others' pending decisions, their reasons, a few milliseconds before
// they are chained), shows each role only its own requests: a policy of
// row-level security, which the owner, whose nhi_group_wait chains
// everyone's, is not subject to. nhi_enqueue's insert returns its own
// row's id, and a rehearsal (nhi_group_rehearse, run as the caller)
// checks its own request (nhi_queue_may), so both read only their own
// (TestDefinerFunctionsOnlyForNhisRoles, TestQueueShowsOnlyOwnRequests).
const groupGrantsStep = `
REVOKE EXECUTE ON FUNCTION nhi_group_wait(boolean) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION nhi_group_withdraw(integer, text, text, text, text[]) FROM PUBLIC;
DO $$ BEGIN
	IF to_regrole('nhi_reviewer') IS NOT NULL THEN
		GRANT EXECUTE ON FUNCTION nhi_group_wait(boolean), nhi_group_withdraw(integer, text, text, text, text[]) TO nhi_reviewer;
	END IF;
	IF to_regrole('nhi_admin') IS NOT NULL THEN
		GRANT EXECUTE ON FUNCTION nhi_group_wait(boolean), nhi_group_withdraw(integer, text, text, text, text[]) TO nhi_admin;
	END IF;
END $$;
ALTER TABLE nhi_decision_queue ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS nhi_own_requests ON nhi_decision_queue;
CREATE POLICY nhi_own_requests ON nhi_decision_queue USING (requester = session_user);
`

// groupBatchReadOnceStep is step 19: nhi_group_wait as step 17 made it,
// but the holder checks its batch and reads what it chains in one
// statement. Step 17's holder checked the requests not yet chained in
// one statement and read them again to chain in another, each seeing
// the requests committed by its start (PL/pgSQL in READ COMMITTED takes
// a snapshot a statement): a request queued between the two was chained
// unchecked, past the triggers, whoever its role (docs/team.md, "One
// turn of the lock for many decisions";
// TestGroupedChainsOnlyWhatItChecked). Now one statement, one snapshot,
// checks the requests and returns the batch and what of it is chained,
// and the refused are marked by id after it, when there are any; a
// request queued meanwhile waits for the next holder. A batch refused
// whole is that batch, and a check that comes out NULL refuses. Every
// check is step 17's, word for word; the queue is read twice a batch
// where four times (docs/team.md, "Where the group append's time
// goes").
var groupBatchReadOnceStep = audit.EditMigration(functionText(groupAppendStep, "nhi_group_wait"),
	"\tids bigint[];\n", "\tbatch bigint[];\n\tids bigint[];\n",
	"\t\t\tids := NULL;\n", "\t\t\tbatch := NULL;\n\t\t\tids := NULL;\n",
	"-- and so is a second request of one item in one batch.\n",
	"-- and so is a second request of one item in one batch.\n"+
		"\t\t\t\t-- One statement, one snapshot: the batch is what it read,\n"+
		"\t\t\t\t-- and a request queued meanwhile waits for the next holder.\n",
	`				UPDATE nhi_decision_queue q SET done = true, refused = true
					FROM (SELECT q2.id, row_number() OVER (PARTITION BY q2.campaign_id, q2.identity_id ORDER BY q2.id) AS rn, m.may
						FROM nhi_decision_queue q2 JOIN nhi_queue_may() m ON m.id = q2.id WHERE NOT q2.done AND (NOT a_only_mine OR q2.id = qid)) r
					WHERE q.id = r.id AND NOT (r.rn = 1 AND r.may AND q.s_pseq = pseq
`,
	`				SELECT array_agg(q.id), array_agg(q.id ORDER BY q.id) FILTER (WHERE q.ok), array_agg(q.rest ORDER BY q.id) FILTER (WHERE q.ok)
					INTO batch, ids, rests FROM (SELECT q.id, q.rest, COALESCE(q.rn = 1 AND q.may AND q.s_pseq = pseq
`,
	`						AND i.decision_seq IS NOT DISTINCT FROM q.s_seq AND i.conflict = q.s_conflict));
				SELECT array_agg(q.id ORDER BY q.id), array_agg(q.rest ORDER BY q.id) INTO ids, rests
					FROM nhi_decision_queue q WHERE NOT q.done AND (NOT a_only_mine OR q.id = qid);
`,
	`						AND i.decision_seq IS NOT DISTINCT FROM q.s_seq AND i.conflict = q.s_conflict), false) AS ok
					FROM (SELECT q2.*, row_number() OVER (PARTITION BY q2.campaign_id, q2.identity_id ORDER BY q2.id) AS rn, m.may
						FROM nhi_decision_queue q2 JOIN nhi_queue_may() m ON m.id = q2.id WHERE NOT q2.done AND (NOT a_only_mine OR q2.id = qid)) q) q;
				IF cardinality(batch) > COALESCE(cardinality(ids), 0) THEN
					UPDATE nhi_decision_queue q SET done = true, refused = true WHERE q.id = ANY (batch) AND q.id <> ALL (COALESCE(ids, '{}'));
				END IF;
`,
	"WHERE NOT q.done AND (ids IS NULL OR q.id = ANY (ids)) AND (NOT a_only_mine OR q.id = qid);",
	"WHERE NOT q.done AND (COALESCE(ids, batch) IS NULL OR q.id = ANY (COALESCE(ids, batch))) AND (NOT a_only_mine OR q.id = qid);") + `
DO $$ BEGIN
	EXECUTE format('ALTER FUNCTION nhi_group_wait(boolean) SET search_path = pg_catalog, %I, pg_temp', current_schema());
END $$;
`

// functionText is the CREATE OR REPLACE FUNCTION statement of the
// function name in a step's text, for a later step that replaces the
// function alone (CREATE OR REPLACE sets its attributes anew: the step
// sets them again). It panics, at start-up, if the step has no such
// statement.
func functionText(step, name string) string {
	start := strings.Index(step, "CREATE OR REPLACE FUNCTION "+name+"(")
	if start < 0 {
		panic("campaigns: no function " + name + " in the step")
	}
	end := strings.Index(step[start:], "\nEND $$;\n")
	if end < 0 {
		panic("campaigns: function " + name + " has no end in the step")
	}
	return step[start : start+end+len("\nEND $$;\n")]
}

// groupReadQueueOnceStep is step 20: nhi_group_wait as step 19 made it,
// but the holder reads the queue once a batch, where seven times. The
// queue is MVCC: every request leaves dead versions that stay while a
// waiting decision's snapshot holds back pruning (docs/team.md, "Where
// the group append's time goes"), so each statement that read it
// scanned some hundreds of pages of dead rows by a run's end, under the
// write lock: the DELETE of ended backends' requests, the check's two
// (nhi_queue_may's and the batch's), and the joins of the events'
// INSERT, the items' UPDATE and the history's INSERT. Now one
// statement reads the queue once, into a CTE: which requests' backends
// have ended (deleted after it, when there are any), and the batch,
// checked as step 19 checks it (nhi_queue_may's checks, word for word,
// made of the CTE's rows rather than of a second read), with every
// column the chain needs, in arrays; the events, the items and the
// history are written from those arrays, reading the queue no more.
// What is chained, refused and deleted is step 19's, request for
// request; a request committed meanwhile waits for the next holder, as
// since step 19, and is now also checked for its backend in the same
// snapshot as the rest. Each request's item is read by its key (a
// LATERAL subquery), whatever the planner guesses the queue holds, and
// each request is checked once (OFFSET 0 keeps the subquery whole: each
// array's FILTER would otherwise make the checks anew). The function
// keeps its plans (plan_cache_mode): the check was planned anew at
// nearly every batch.
//
// And the queue's trigger (nhi_queue_requester) reads the backend's
// start from the server's activity once a session, keeping it in a
// setting, where it read it at every request: pg_stat_get_activity
// copies every backend's entry. The session may set that setting
// itself, but its requests keep their role and pid, which it cannot
// set: a start it forged only makes the holder take its own requests'
// backend for ended (not chained), or, left out, compare its pid and
// role alone, as where the activity does not show a start.
var groupReadQueueOnceStep = audit.EditMigration(functionText(groupBatchReadOnceStep, "nhi_group_wait"),
	"\tbatch bigint[];\n", "\tgone bigint[];\n\tbatch bigint[];\n",
	"\trests text[];\n", "\trests text[];\n\tats text[];\n\tactors text[];\n\ttypes text[];\n\tpayloads text[];\n"+
		"\tcamps bigint[];\n\titems text[];\n\tdecisions text[];\n\treasons text[];\n\tdats text[];\n\tvias text[];\n\tconflicts bigint[];\n",
	"\t\t\tbatch := NULL;\n", "\t\t\tgone := NULL;\n\t\t\tbatch := NULL;\n",
	`				-- The requests of a backend that no longer runs (its
				-- connection lost) are not chained: settling it looks
				-- in the log once it withdrew its request.
				DELETE FROM nhi_decision_queue q WHERE NOT EXISTS (SELECT 1 FROM pg_stat_get_activity(NULL) a
					WHERE a.pid = q.pid AND a.usesysid = to_regrole(quote_ident(q.requester))
						AND (a.backend_start IS NULL OR q.backend_start IS NULL OR a.backend_start = q.backend_start));
`, "",
	`				-- One statement, one snapshot: the batch is what it read,
				-- and a request queued meanwhile waits for the next holder.
				SELECT array_agg(q.id), array_agg(q.id ORDER BY q.id) FILTER (WHERE q.ok), array_agg(q.rest ORDER BY q.id) FILTER (WHERE q.ok)
					INTO batch, ids, rests FROM (SELECT q.id, q.rest, COALESCE(q.rn = 1 AND q.may AND q.s_pseq = pseq
`,
	`				-- One statement, one snapshot, one read of the queue (q0):
				-- the batch is what it read, and a request queued
				-- meanwhile waits for the next holder. The requests of a
				-- backend that no longer runs (its connection lost) are
				-- not chained, and are deleted after: settling it looks
				-- in the log once it withdrew its request.
				WITH q0 AS MATERIALIZED (SELECT q.*, a.pid IS NULL AS gone FROM nhi_decision_queue q
						LEFT JOIN pg_stat_get_activity(NULL) a ON a.pid = q.pid AND a.usesysid = to_regrole(quote_ident(q.requester))
							AND (a.backend_start IS NULL OR q.backend_start IS NULL OR a.backend_start = q.backend_start)),
					todo AS MATERIALIZED (SELECT * FROM q0 WHERE NOT q0.gone AND NOT q0.done AND (NOT a_only_mine OR q0.id = qid)),
					may (id, may) AS (`+queueMayOf("todo")+`)
				SELECT (SELECT array_agg(q0.id) FROM q0 WHERE q0.gone), array_agg(q.id),
						array_agg(q.id ORDER BY q.id) FILTER (WHERE q.ok), array_agg(q.rest ORDER BY q.id) FILTER (WHERE q.ok),
						array_agg(q.ev_at ORDER BY q.id) FILTER (WHERE q.ok), array_agg(q.actor ORDER BY q.id) FILTER (WHERE q.ok),
						array_agg(q.ev_type ORDER BY q.id) FILTER (WHERE q.ok), array_agg(q.payload ORDER BY q.id) FILTER (WHERE q.ok),
						array_agg(q.campaign_id ORDER BY q.id) FILTER (WHERE q.ok), array_agg(q.identity_id ORDER BY q.id) FILTER (WHERE q.ok),
						array_agg(q.decision ORDER BY q.id) FILTER (WHERE q.ok), array_agg(q.reason ORDER BY q.id) FILTER (WHERE q.ok),
						array_agg(q.decided_at ORDER BY q.id) FILTER (WHERE q.ok), array_agg(q.via ORDER BY q.id) FILTER (WHERE q.ok),
						array_agg(q.n_conflict ORDER BY q.id) FILTER (WHERE q.ok)
					INTO gone, batch, ids, rests, ats, actors, types, payloads, camps, items, decisions, reasons, dats, vias, conflicts
					FROM (SELECT q.*, COALESCE(q.rn = 1 AND q.may AND q.s_pseq = pseq
`,
	`							AND i.decision_seq IS NOT DISTINCT FROM q.s_seq AND i.conflict = q.s_conflict), false) AS ok
					FROM (SELECT q2.*, row_number() OVER (PARTITION BY q2.campaign_id, q2.identity_id ORDER BY q2.id) AS rn, m.may
						FROM nhi_decision_queue q2 JOIN nhi_queue_may() m ON m.id = q2.id WHERE NOT q2.done AND (NOT a_only_mine OR q2.id = qid)) q) q;
`,
	`							AND i.decision_seq IS NOT DISTINCT FROM q.s_seq AND i.conflict = q.s_conflict), false) AS ok
					FROM (SELECT q2.*, row_number() OVER (PARTITION BY q2.campaign_id, q2.identity_id ORDER BY q2.id) AS rn, m.may
						FROM todo q2 JOIN may m ON m.id = q2.id) q OFFSET 0) q;
				IF gone IS NOT NULL THEN
					DELETE FROM nhi_decision_queue q WHERE q.id = ANY (gone);
				END IF;
`,
	`					INSERT INTO events (seq, at, actor, type, payload, prev_hash, hash)
						SELECT x.seq, q.ev_at, q.actor, q.ev_type, q.payload, x.prev, x.hash
						FROM unnest(ids, seqs, prevs, hashes) AS x(id, seq, prev, hash) JOIN nhi_decision_queue q ON q.id = x.id ORDER BY x.seq;
					UPDATE campaign_items i SET decision = q.decision, reason = q.reason, decided_by = q.actor, decided_at = q.decided_at, decision_seq = x.seq, conflict = q.n_conflict
						FROM unnest(ids, seqs) AS x(id, seq) JOIN nhi_decision_queue q ON q.id = x.id
						WHERE i.campaign_id = q.campaign_id AND i.identity_id = q.identity_id;
`,
	`					INSERT INTO events (seq, at, actor, type, payload, prev_hash, hash)
						SELECT x.seq, x.at, x.actor, x.type, x.payload, x.prev, x.hash
						FROM unnest(seqs, ats, actors, types, payloads, prevs, hashes) AS x(seq, at, actor, type, payload, prev, hash) ORDER BY x.seq;
					UPDATE campaign_items i SET decision = x.decision, reason = x.reason, decided_by = x.actor, decided_at = x.dat, decision_seq = x.seq, conflict = x.conflict
						FROM unnest(camps, items, seqs, decisions, reasons, actors, dats, conflicts) AS x(camp, item, seq, decision, reason, actor, dat, conflict)
						WHERE i.campaign_id = x.camp AND i.identity_id = x.item;
`,
	`						SELECT q.campaign_id, q.identity_id, x.seq, q.decision, q.reason, q.actor, q.decided_at, q.via, 0
						FROM unnest(ids, seqs) AS x(id, seq) JOIN nhi_decision_queue q ON q.id = x.id ORDER BY x.seq;
`,
	`						SELECT x.camp, x.item, x.seq, x.decision, x.reason, x.actor, x.dat, x.via, 0
						FROM unnest(camps, items, seqs, decisions, reasons, actors, dats, vias) AS x(camp, item, seq, decision, reason, actor, dat, via) ORDER BY x.seq;
`) + `
DO $$ BEGIN
	EXECUTE format('ALTER FUNCTION nhi_group_wait(boolean) SET search_path = pg_catalog, %I, pg_temp', current_schema());
END $$;
-- Each statement planned once a session (and after an invalidation):
-- the queue's dead rows make the planner guess thousands of requests, so
-- a generic plan's cost looked dearer than a custom one's and the check
-- was planned anew, 10 to 18 ms, at every batch, under the write lock.
-- Its plan does not hang on those guesses (the items read by key, the
-- checks made of a CTE).
ALTER FUNCTION nhi_group_wait(boolean) SET plan_cache_mode = force_generic_plan;

-- A request is its role's and its backend's, whatever the insert says;
-- the backend's start read from the server's activity once a session
-- (nhi.backend_start, in microseconds since the epoch; 'none' when the
-- activity does not show it), where each request read it anew.
` + audit.EditMigration(functionText(groupAppendStep, "nhi_queue_requester"),
	"LANGUAGE plpgsql AS $$ BEGIN\n", `LANGUAGE plpgsql AS $$
DECLARE
	started text := current_setting('nhi.backend_start', true);
BEGIN
	IF started IS NULL OR started = '' THEN
		started := COALESCE((SELECT (extract(epoch FROM a.backend_start) * 1000000)::bigint::text FROM pg_stat_get_activity(pg_backend_pid()) a), 'none');
		PERFORM set_config('nhi.backend_start', started, false);
	END IF;
`,
	"\tNEW.backend_start := (SELECT a.backend_start FROM pg_stat_get_activity(pg_backend_pid()) a);\n",
	"\tNEW.backend_start := CASE WHEN started = 'none' THEN NULL ELSE timestamptz 'epoch' + started::bigint * interval '1 microsecond' END;\n") +
	`DO $$ BEGIN
	EXECUTE format('ALTER FUNCTION nhi_queue_requester() SET search_path = pg_catalog, %I, pg_temp', current_schema());
END $$;
`

// queueMayOf is nhi_queue_may's query (step 17), check for check, made
// of the rows of from (a CTE of the queue's requests to check) rather
// than of the queue's requests not yet chained.
func queueMayOf(from string) string {
	f := functionText(groupAppendStep, "nhi_queue_may")
	start := strings.Index(f, "$$ SELECT q.id,")
	end := strings.Index(f, "\n\tWHERE NOT q.done $$")
	if start < 0 || end < start {
		panic("campaigns: nhi_queue_may's query not found in step 17")
	}
	return audit.EditMigration(f[start+len("$$ "):end], "\tFROM nhi_decision_queue q\n", "\tFROM "+from+" q\n",
		// Each request's item found by its key, whatever the planner
		// guesses of how many requests there are: the queue's dead rows
		// make it guess thousands, and it then hashed every item of
		// the campaign for a batch of a few (OFFSET 0 keeps the
		// subquery from being flattened into a join).
		"LEFT JOIN campaign_items i ON i.campaign_id = q.campaign_id AND i.identity_id = q.identity_id\n",
		"LEFT JOIN LATERAL (SELECT * FROM campaign_items i WHERE i.campaign_id = q.campaign_id AND i.identity_id = q.identity_id OFFSET 0) i ON true\n")
}
