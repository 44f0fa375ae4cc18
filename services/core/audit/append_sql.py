"""``audit_append``: lock a chain's head, link the events and insert them, in one call.

The events arrive as a JSON array, grouped by chain in ascending chain order (so two
requests lock heads in the same order: no deadlock). Each carries its row (every column
but ``seq``, ``prev_hash`` and ``hash``) and its canonical form cut around the link
(``core.audit.chain.canonical_around_link``): the function only joins the pieces with
the head's hash and the next sequence number, and hashes the UTF-8 bytes, so the one
definition of the canonical form stays in Python and ``carnet audit verify`` checks
these events as any other.

It runs with the caller's privileges (row-level security and the append-only grants
apply as to a plain INSERT); the head row's lock is held until the transaction ends.
"""

APPEND_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_append(events jsonb) RETURNS void
LANGUAGE plpgsql AS
$$
DECLARE
    event jsonb;
    link_chain bigint := NULL;
    event_chain bigint;
    head_seq bigint;
    head_hash text;
    new_hash text;
    -- Each event's link, in the events' order; the rows are then inserted in one
    -- statement (a day's list appends 30 events: one INSERT each cost more than the
    -- hashing).
    seqs bigint[] := '{}';
    prevs text[] := '{}';
    hashes text[] := '{}';
BEGIN
    FOR event IN SELECT value FROM jsonb_array_elements(events) LOOP
        event_chain := (event -> 'row' ->> 'chain')::bigint;
        IF link_chain IS DISTINCT FROM event_chain THEN
            IF link_chain IS NOT NULL THEN
                UPDATE audit_chain SET seq = head_seq, hash = head_hash WHERE chain = link_chain;
            END IF;
            link_chain := event_chain;
            INSERT INTO audit_chain (chain, seq, hash) VALUES (link_chain, 0, repeat('0', 64))
                ON CONFLICT (chain) DO UPDATE SET chain = EXCLUDED.chain
                RETURNING seq, hash INTO head_seq, head_hash;
        END IF;
        head_seq := head_seq + 1;
        new_hash := encode(sha256(convert_to(
            (event ->> 'head') || head_hash || (event ->> 'middle') || head_seq::text
            || (event ->> 'tail'), 'UTF8')), 'hex');
        seqs := seqs || head_seq;
        prevs := prevs || head_hash;
        hashes := hashes || new_hash;
        head_hash := new_hash;
    END LOOP;
    IF link_chain IS NOT NULL THEN
        UPDATE audit_chain SET seq = head_seq, hash = head_hash WHERE chain = link_chain;
    END IF;
    INSERT INTO audit_event (
        chain, seq, occurred_at, practice_id, actor_id, actor_label, action, outcome,
        patient_id, category, purpose, reason, target, ip, user_agent, request_id,
        channel, details, prev_hash, hash)
    SELECT r.chain, seqs[e.n], r.occurred_at, r.practice_id, r.actor_id, r.actor_label,
        r.action, r.outcome, r.patient_id, r.category, r.purpose, r.reason, r.target,
        r.ip, r.user_agent, r.request_id, r.channel, r.details, prevs[e.n], hashes[e.n]
    FROM jsonb_array_elements(events) WITH ORDINALITY AS e(value, n),
        jsonb_populate_record(NULL::audit_event, e.value -> 'row') AS r
    ORDER BY e.n;
END
$$
"""
