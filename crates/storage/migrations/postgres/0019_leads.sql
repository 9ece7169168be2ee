-- 1:1 video consults (issue 18): a product may be marked consultable; a viewer's request to
-- talk to the seller is a lead, answered by the seller's staff; the call's outcome stays on it.
ALTER TABLE products ADD COLUMN consultable BIGINT NOT NULL DEFAULT 0;

CREATE TABLE leads (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES organisations(id),
    product_id BIGINT NOT NULL REFERENCES products(id),
    buyer_id BIGINT NOT NULL REFERENCES accounts(id),
    channel_id BIGINT,
    state TEXT NOT NULL,
    staff_id BIGINT,
    outcome TEXT,
    buyer_consents_recording BIGINT NOT NULL DEFAULT 0,
    staff_consents_recording BIGINT NOT NULL DEFAULT 0,
    call_key TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    answered_at BIGINT,
    ended_at BIGINT,
    updated_at BIGINT NOT NULL
);
CREATE INDEX leads_org ON leads(org_id, id);
CREATE INDEX leads_buyer ON leads(buyer_id, id);
CREATE INDEX leads_state ON leads(state, created_at);

CREATE FUNCTION lead_to_webhooks() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.state IS DISTINCT FROM OLD.state THEN
        INSERT INTO webhook_outbox (org_id, topic, subject_id, from_state, at)
        SELECT NEW.org_id, 'lead.' || NEW.state, NEW.id,
               CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE OLD.state END,
               CASE WHEN TG_OP = 'INSERT' THEN NEW.created_at ELSE NEW.updated_at END
        WHERE EXISTS (SELECT 1 FROM webhook_subscriptions s WHERE s.org_id = NEW.org_id AND s.active = 1);
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER leads_to_webhooks AFTER INSERT OR UPDATE OF state ON leads
FOR EACH ROW EXECUTE FUNCTION lead_to_webhooks();
