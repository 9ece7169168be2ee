-- 1:1 video consults (issue 18): a product may be marked consultable; a viewer's request to
-- talk to the seller is a lead, answered by the seller's staff; the call's outcome stays on it.
ALTER TABLE products ADD COLUMN consultable BIGINT NOT NULL DEFAULT 0;

CREATE TABLE leads (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id BIGINT NOT NULL REFERENCES organisations(id),
    product_id BIGINT NOT NULL REFERENCES products(id),
    buyer_id BIGINT NOT NULL REFERENCES accounts(id),
    -- The channel the viewer was watching, if any.
    channel_id BIGINT,
    -- requested, accepted, ended, declined, cancelled, missed
    state TEXT NOT NULL,
    -- The staff member who answered.
    staff_id BIGINT,
    -- What came of the call, in the staff member's words.
    outcome TEXT,
    -- Recording needs both: the call is not recorded unless both agreed.
    buyer_consents_recording BIGINT NOT NULL DEFAULT 0,
    staff_consents_recording BIGINT NOT NULL DEFAULT 0,
    -- The call's secret part: the call id is consult-{id}-{call_key}.
    call_key TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    answered_at BIGINT,
    ended_at BIGINT,
    updated_at BIGINT NOT NULL
);
CREATE INDEX leads_org ON leads(org_id, id);
CREATE INDEX leads_buyer ON leads(buyer_id, id);
CREATE INDEX leads_state ON leads(state, created_at);

CREATE TRIGGER leads_created_to_webhooks AFTER INSERT ON leads
BEGIN
    INSERT INTO webhook_outbox (org_id, topic, subject_id, from_state, at)
    SELECT NEW.org_id, 'lead.' || NEW.state, NEW.id, NULL, NEW.created_at
    WHERE EXISTS (SELECT 1 FROM webhook_subscriptions s WHERE s.org_id = NEW.org_id AND s.active = 1);
END;

CREATE TRIGGER leads_to_webhooks AFTER UPDATE OF state ON leads
WHEN NEW.state <> OLD.state
BEGIN
    INSERT INTO webhook_outbox (org_id, topic, subject_id, from_state, at)
    SELECT NEW.org_id, 'lead.' || NEW.state, NEW.id, OLD.state, NEW.updated_at
    WHERE EXISTS (SELECT 1 FROM webhook_subscriptions s WHERE s.org_id = NEW.org_id AND s.active = 1);
END;
