package campaigns

import "github.com/nhi-audit/nhi/audit"

// transferOwnerStep is offboarding's PostgreSQL step 2: a reviewer's
// transfer records its new owner through nhi_transfer_owner, a SECURITY
// DEFINER function of the tables' owner (docs/team.md, "The owner's
// definer functions"), since owners are nhi_admin's to write and a
// reviewer role has nhi_reviewer alone.
//
// TransferItems writes the transfer's campaign.decide event, the item's
// new state and its history row in the reviewer's own transaction, under
// the write lock, where the triggers check them as any decision
// (nhi_check_actor, nhi_check_reviewer: her item, in her name, not hers
// to own or hold, and she has not left). Then it calls the function with
// the owner.set event nhi encoded, which, under the write lock:
//
//   - finds the campaign open and an offboarding, and the item in it;
//   - finds the item's decision the log's head, appended in this very
//     transaction, a campaign.decide of this campaign naming the item,
//     deciding transfer to the new owner, by the owner.set's actor: so
//     the owner it sets is the one a transfer decided, moments ago, in
//     the same commit, and nothing else;
//   - for a session that is neither the tables' owner nor an nhi_admin
//     (who may write owners themselves), checks again what the triggers
//     checked of that decision — the session's person has not left, is
//     the actor, is the item's reviewer, and neither owns it (recorded at
//     creation or now) nor holds it — and that the new owner is not the
//     session's person (TransferItems' rule: she would own what she
//     reviewed);
//   - finds the new owner an active person of the directory, by e-mail,
//     and not the person offboarded;
//   - finds the identity the item's or the one its links lead to now
//     (renames.go), the payload exactly {identity, owner, person} as
//     audit.OwnerSet encodes it, and the record after its number the
//     same event (compared as JSON: the hash covers the bytes nhi sent,
//     which nhi verify recomputes from the columns);
//
// then appends the owner.set event (nhi_append_event) and writes the
// owners row. Any refusal raises insufficient_privilege in nhi's words
// (a leaver's with audit.LeaverRefusal), and the transaction, the
// decision with it, is rolled back. Only nhi's roles that decide may call
// it: revoked from PUBLIC here, granted to nhi_reviewer and nhi_admin
// (and by nhi db init, audit.rolePrivileges). SQLite keeps its path: an
// evidence file's access is its file permissions.
var transferOwnerStep = `
CREATE OR REPLACE FUNCTION nhi_transfer_owner(a_campaign bigint, a_item text, a_identity text, a_owner text,
	ev_at text, ev_actor text, ev_payload text, ev_rest text)
RETURNS TABLE (o_seq bigint, o_prev_hash text, o_hash text)
LANGUAGE plpgsql SECURITY DEFINER AS
$$ DECLARE
	item campaign_items;
	c_name text;
	c_status text;
	leaver text;
	d_ok boolean;
	checked boolean;
	ks text := nhi_alias_key(session_user);
	ka text := COALESCE(nhi_alias_key(ev_actor), '');
	kt text := COALESCE(nhi_alias_key(a_owner), '');
	kr text;
	ko text;
	kc text;
	kn text;
	ps text;
	pa text;
	pr text;
	pl text;
	po text;
	pc text;
	pn text;
	pt text;
	ev record;
BEGIN
	PERFORM nhi_lock_log();
	SELECT c.name, c.status, o.person INTO c_name, c_status, leaver
		FROM campaigns c JOIN offboardings o ON o.campaign_id = c.id WHERE c.id = a_campaign;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'database role % may not set an owner through a transfer in campaign %: it is no offboarding campaign', session_user,
			COALESCE((SELECT name FROM campaigns WHERE id = a_campaign), a_campaign::text)
			USING ERRCODE = 'insufficient_privilege', HINT = 'a transfer belongs to offboarding (nhi offboard PERSON); owners are nhi_admin''s to set (docs/team.md)';
	END IF;
	IF c_status <> 'open' THEN
		RAISE EXCEPTION 'database role % may not transfer % in campaign %: it is closed, so nothing in it can be decided', session_user, a_item, c_name
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	SELECT * INTO item FROM campaign_items i WHERE i.campaign_id = a_campaign AND i.identity_id = a_item;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'database role % may not transfer %: it is no item of campaign %', session_user, a_item, c_name
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	-- The transfer this owner completes: the item's decision, the log's
	-- head, appended in this transaction.
	SELECT e.seq = (SELECT max(h.seq) FROM events h) AND e.xmin = pg_current_xact_id()::xid
			AND e.type = '` + EventDecide + `' AND e.actor = ev_actor
			AND e.payload::jsonb->>'campaign' = c_name AND e.payload::jsonb->>'decision' = '` + string(Transfer) + `'
			AND e.payload::jsonb->>'to' = a_owner AND e.payload::jsonb->'items' @> jsonb_build_array(a_item)
		INTO d_ok FROM events e WHERE e.seq = item.decision_seq;
	IF d_ok IS NOT TRUE THEN
		RAISE EXCEPTION 'database role % may not set the owner of % to %: the item''s decision is no transfer to them by % made in this transaction', session_user, a_item, a_owner, ev_actor
			USING ERRCODE = 'insufficient_privilege',
				HINT = 'a reviewer sets an owner only as the transfer she decides, in the same transaction (nhi decide … transfer --to, or T in nhi review); owners are otherwise nhi_admin''s to set (docs/team.md)';
	END IF;
	-- Who the session, the actor, the reviewer, the item's owners, its
	-- holder and the new owner are (Directory.Lookup), in one scan.
	kr := COALESCE(nhi_alias_key(item.reviewer), '');
	ko := COALESCE(nhi_alias_key(item.owner), '');
	kn := COALESCE(nhi_alias_key(item.natural_owner), '');
	kc := COALESCE((SELECT nhi_alias_key(o.owner) FROM owners o WHERE o.identity_id = item.identity_id), '');
	SELECT max(k.email) FILTER (WHERE k.key = ks), max(k.email) FILTER (WHERE k.key = ka), max(k.email) FILTER (WHERE k.key = kr),
			max(k.email) FILTER (WHERE k.key = ks AND k.has_left),
			max(k.email) FILTER (WHERE k.key = ko), max(k.email) FILTER (WHERE k.key = kc), max(k.email) FILTER (WHERE k.key = kn),
			max(k.email) FILTER (WHERE k.key = kt)
		INTO ps, pa, pr, pl, po, pc, pn, pt FROM people_keys k WHERE k.key = ANY (ARRAY[ks, ka, kr, ko, kc, kn, kt]);
	checked := NOT (COALESCE(pg_has_role(session_user, (SELECT relowner FROM pg_class WHERE oid = 'owners'::regclass), 'MEMBER'), false)
		OR COALESCE(pg_has_role(session_user, to_regrole('nhi_admin'), 'MEMBER'), false));
	IF checked THEN
		IF pl = ps THEN
			RAISE EXCEPTION 'database role % is %, who % according to the directory of people, so nothing was recorded: a leaver may not decide', session_user, ps, nhi_left_note(ps)
				USING ERRCODE = 'insufficient_privilege', CONSTRAINT = '` + audit.LeaverRefusal + `',
					HINT = 'a person the directory of people marks left may not act; if they are back, an administrator records them active (nhi people import), and a leaver''s role is the database owner''s to drop (docs/people.md, docs/team.md)';
		END IF;
		IF NOT (ka <> '' AND (ka = ks OR COALESCE(pa = ps, false))) THEN
			RAISE EXCEPTION 'database role % may not record an owner in the name of %', session_user, ev_actor
				USING ERRCODE = 'insufficient_privilege',
					HINT = 'an event''s actor is the session''s role or another alias of the same person in the directory of people (docs/team.md)';
		END IF;
		IF NOT (kr <> '' AND (kr = ks OR COALESCE(pr = ps, false))) THEN
			RAISE EXCEPTION 'database role % may not transfer % in campaign %: it is assigned to %', session_user, a_item, c_name, COALESCE(NULLIF(item.reviewer, ''), 'nobody')
				USING ERRCODE = 'insufficient_privilege',
					HINT = 'a reviewer decides only the items assigned to them; an nhi_admin decides any (docs/team.md)';
		END IF;
		IF (ko <> '' AND (ko = ks OR COALESCE(po = ps, false))) OR (kc <> '' AND (kc = ks OR COALESCE(pc = ps, false)))
			OR (kn <> '' AND (kn = ks OR COALESCE(pn = ps, false))) THEN
			RAISE EXCEPTION 'database role % may not transfer % in campaign %: its owner or holder is % (rule owner, rule holder)', session_user, a_item, c_name, COALESCE(ps, session_user)
				USING ERRCODE = 'insufficient_privilege',
					HINT = 'a reviewer may not decide an identity they own or hold; another reviewer decides it (docs/people.md, "Who may not decide")';
		END IF;
		IF kt = ks OR COALESCE(pt = ps, false) THEN
			RAISE EXCEPTION 'database role % may not transfer % in campaign % to %, who is %: she would own what she reviewed (rule owner)', session_user, a_item, c_name, a_owner, COALESCE(ps, session_user)
				USING ERRCODE = 'insufficient_privilege',
					HINT = 'ask another reviewer of the campaign to transfer it to you (docs/offboarding.md)';
		END IF;
	END IF;
	-- The new owner: an active person of the directory, by e-mail, not
	-- the person offboarded.
	IF a_owner = leaver OR NOT EXISTS (SELECT 1 FROM people p WHERE p.email = a_owner AND COALESCE(p.record::jsonb->>'status', '') <> 'left') THEN
		RAISE EXCEPTION 'database role % may not transfer % in campaign % to %: %', session_user, a_item, c_name, a_owner,
			CASE WHEN a_owner = leaver THEN 'they are the person being offboarded' ELSE 'they are no active person of the directory of people, named by e-mail' END
			USING ERRCODE = 'insufficient_privilege', HINT = 'transfer to someone who stays (docs/offboarding.md)';
	END IF;
	-- The owner.set event, exactly as nhi encodes it for this transfer,
	-- under the item's ID or the one its identity has now.
	IF NOT (a_identity IN (WITH RECURSIVE ch(id, n) AS (SELECT a_item, 0 UNION ALL
				SELECT a.current, ch.n + 1 FROM identity_aliases a JOIN ch ON a.id = ch.id WHERE ch.n < 64)
			SELECT ch.id FROM ch))
		OR ev_payload::jsonb IS DISTINCT FROM jsonb_build_object('identity', a_identity, 'owner', a_owner, 'person', a_owner)
		OR ('[0,' || ev_rest)::jsonb IS DISTINCT FROM jsonb_build_array(0, ev_at, ev_actor, '` + audit.EventOwnerSet + `', ev_payload::jsonb) THEN
		RAISE EXCEPTION 'database role % may not record that owner.set event for %: it is not the one the transfer of % to % records', session_user, a_identity, a_item, a_owner
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	SELECT * INTO ev FROM nhi_append_event(true, ev_at, ev_actor, '` + audit.EventOwnerSet + `', ev_payload, ev_rest);
	INSERT INTO owners (identity_id, owner, person, event_seq) VALUES (a_identity, a_owner, a_owner, ev.seq)
		ON CONFLICT (identity_id) DO UPDATE SET owner = excluded.owner, person = excluded.person, event_seq = excluded.event_seq;
	o_seq := ev.seq;
	o_prev_hash := ev.prev_hash;
	o_hash := ev.hash;
	RETURN NEXT;
END $$;
DO $$ BEGIN
	EXECUTE format('ALTER FUNCTION nhi_transfer_owner(bigint, text, text, text, text, text, text, text) SET search_path = pg_catalog, %I, pg_temp', current_schema());
END $$;
REVOKE EXECUTE ON FUNCTION nhi_transfer_owner(bigint, text, text, text, text, text, text, text) FROM PUBLIC;
DO $$ BEGIN
	IF to_regrole('nhi_reviewer') IS NOT NULL THEN
		GRANT EXECUTE ON FUNCTION nhi_transfer_owner(bigint, text, text, text, text, text, text, text) TO nhi_reviewer;
	END IF;
	IF to_regrole('nhi_admin') IS NOT NULL THEN
		GRANT EXECUTE ON FUNCTION nhi_transfer_owner(bigint, text, text, text, text, text, text, text) TO nhi_admin;
	END IF;
END $$;
`
