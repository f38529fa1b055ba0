package campaigns

import "github.com/nhi-audit/nhi/audit"

// decideOneStatement is step 9: nhi_decide as step 8 made it — the same
// arguments, reads, checks, refusals and result — but what it does under
// the write lock is two statements rather than nine. Step 8 called
// nhi_append_event (a function of its own: the rechecks in one statement,
// the log's head in another, the event, meta, the event's number kept in
// a setting, the row returned) and then stored the item and its history
// row; each statement a server function runs costs it an executor's start
// and end, its locks and its plan's checks, and under the lock they were
// most of what a decision cost the server (docs/team.md, "How fast a
// decision is"). Now one statement reads the log's head and rechecks the
// owner, the campaign and the directory as read before the lock, and one
// more appends the event, keeps the head in meta, stores the item's new
// state if its decision is still the one read, and inserts its history
// row (data-modifying WITH queries; the foreign keys are checked at the
// statement's end, when the event is there). The event is hashed as
// nhi_append_event hashes it (prev_hash ‖ "[" ‖ seq ‖ "," ‖ rest), and
// the server's checks of who a write names (events_actor,
// nhi_check_reviewer) fire on each row as before. A log with no event
// (which a campaign's creation rules out) or no head kept in meta is
// handled as nhi_append_event handles it: refused to the long way, the
// meta rows inserted. What it refuses, nothing is written
// (TestDecisionInOneRoundTrip, TestDecisionRechecksUnderTheLock).
const decideOneStatement = `
CREATE OR REPLACE FUNCTION nhi_decide(a_campaign bigint, a_create_seq bigint, a_item text, a_decision text, a_reason text, a_refuse_same bigint,
	a_actor_key text, a_same_keys text[], a_team_keys text[], a_person_seq bigint, a_decided_at text, a_via text,
	ev_at text, ev_actor text, ev_type text, ev_payload text, ev_rest text, ev_exception_payload text, ev_exception_rest text)
RETURNS TABLE (o_seq bigint, o_prev_hash text, o_hash text, o_variant int, o_reviewer text, o_decision text, o_decided_by text)
LANGUAGE plpgsql AS
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
	ok boolean;
	prev text;
	next_seq bigint;
	payload text;
	h text;
	kept bigint;
	stored bigint;
BEGIN
	-- Everything it depends on, in one statement, before the lock.
	SELECT i.owner, i.natural_owner, i.decision, i.reason, i.decided_by, i.decision_seq, i.conflict, i.findings, i.reviewer,
			COALESCE(o.owner, ''),
			EXISTS (SELECT 1 FROM campaigns c WHERE c.id = a_campaign AND c.create_seq = a_create_seq AND c.status = 'open'),
			COALESCE((SELECT max(e.seq) FROM events e WHERE e.type = '` + audit.EventPersonSet + `'), 0)
		INTO i_owner, i_natural, i_decision, i_reason, i_by, i_seq, i_conflict, i_findings, i_reviewer, cur, c_open, pseq
		FROM campaign_items i LEFT JOIN owners o ON o.identity_id = i.identity_id
		WHERE i.campaign_id = a_campaign AND i.identity_id = a_item;
	names := i_owner || cur || i_natural || i_by;
	IF NOT FOUND OR NOT c_open OR pseq <> a_person_seq OR octet_length(names) <> length(names) THEN
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
	-- The write lock, taken in an expression: PERFORM would run it as a
	-- query, with an executor of its own.
	IF nhi_lock_log() IS NULL THEN
	END IF;
	-- Under the lock: the log's head, and whether the owner, the campaign
	-- and the directory are as read above, in one statement.
	SELECT e.seq + 1, e.hash,
			COALESCE((SELECT o.owner FROM owners o WHERE o.identity_id = a_item), '') = cur
			AND EXISTS (SELECT 1 FROM campaigns c WHERE c.id = a_campaign AND c.create_seq = a_create_seq AND c.status = 'open')
			AND COALESCE((SELECT max(p.seq) FROM events p WHERE p.type = '` + audit.EventPersonSet + `'), 0) = pseq
		INTO next_seq, prev, ok
		FROM events e ORDER BY e.seq DESC LIMIT 1;
	IF ok IS NOT TRUE THEN
		RAISE EXCEPTION 'the store changed while the write was being prepared' USING ERRCODE = 'NHI01';
	END IF;
	IF exc THEN
		payload := ev_exception_payload;
		h := encode(sha256(convert_to(prev || '[' || next_seq || ',' || ev_exception_rest, 'UTF8')), 'hex');
	ELSE
		payload := ev_payload;
		h := encode(sha256(convert_to(prev || '[' || next_seq || ',' || ev_rest, 'UTF8')), 'hex');
	END IF;
	-- The event, the head kept in meta, the item's new state if its
	-- decision is still the one read above, and its history row, in one
	-- statement.
	WITH ev AS (
		INSERT INTO events (seq, at, actor, type, payload, prev_hash, hash) VALUES (next_seq, ev_at, ev_actor, ev_type, payload, prev, h)
	), m AS (
		UPDATE meta SET value = CASE WHEN key = 'log_head' THEN h ELSE next_seq::text END WHERE key IN ('log_head', 'log_length')
		RETURNING 1
	), u AS (
		UPDATE campaign_items SET decision = a_decision, reason = a_reason, decided_by = ev_actor, decided_at = a_decided_at, decision_seq = next_seq,
			conflict = CASE WHEN i_by <> '' AND (kd = '' OR kd <> a_actor_key) THEN 1 ELSE i_conflict END
		WHERE campaign_id = a_campaign AND identity_id = a_item
			AND decision = i_decision AND reason = i_reason AND decided_by = i_by
			AND decision_seq IS NOT DISTINCT FROM i_seq AND conflict = i_conflict
		RETURNING 1
	), d AS (
		INSERT INTO campaign_decisions (campaign_id, identity_id, seq, decision, reason, actor, at, via, undoes)
			SELECT a_campaign, a_item, next_seq, a_decision, a_reason, ev_actor, a_decided_at, a_via, 0 FROM u
		RETURNING 1
	)
	SELECT (SELECT count(*) FROM m), (SELECT count(*) FROM d) INTO kept, stored;
	IF stored <> 1 THEN
		RAISE EXCEPTION 'the store changed while the write was being prepared' USING ERRCODE = 'NHI01';
	END IF;
	IF kept <> 2 THEN
		INSERT INTO meta (key, value) VALUES ('log_head', h), ('log_length', next_seq::text)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value;
	END IF;
	o_seq := next_seq;
	o_prev_hash := prev;
	o_hash := h;
	o_variant := CASE WHEN exc THEN 1 ELSE 0 END;
	o_reviewer := i_reviewer;
	o_decision := i_decision;
	o_decided_by := i_by;
	RETURN NEXT;
END $$;
`
