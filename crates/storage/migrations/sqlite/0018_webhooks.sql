-- Outbound webhooks (issue 23): an organisation's subscriptions, the events waiting to be fanned
-- out to them, and one delivery per (event, subscription) with its attempts.
--
-- Events are written by triggers in the same transaction as the change they report (an order's
-- state change, a show going live or ending), whichever code path makes it: nothing acknowledged
-- can happen without its event, and organisations without a subscription write nothing.

CREATE TABLE webhook_subscriptions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id BIGINT NOT NULL REFERENCES organisations(id),
    url TEXT NOT NULL,
    -- The signing secret: needed in clear to sign, shown to the organisation once.
    secret TEXT NOT NULL,
    -- Space-separated topics ('order.paid show.live'), or '*' for all.
    topics TEXT NOT NULL,
    active BIGINT NOT NULL,
    created_by BIGINT NOT NULL REFERENCES accounts(id),
    created_at BIGINT NOT NULL
);
CREATE INDEX webhook_subscriptions_org ON webhook_subscriptions(org_id, active);

CREATE TABLE webhook_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id BIGINT NOT NULL,
    topic TEXT NOT NULL,
    subject_id BIGINT NOT NULL,
    from_state TEXT,
    at BIGINT NOT NULL
);

CREATE TABLE webhook_deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    subscription_id BIGINT NOT NULL REFERENCES webhook_subscriptions(id),
    org_id BIGINT NOT NULL,
    -- The event's id (its outbox row), shared by the deliveries of one event.
    event_id BIGINT NOT NULL,
    topic TEXT NOT NULL,
    payload TEXT NOT NULL,
    -- pending, delivered, failed
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    -- Start of the retry window (the event, or the last redelivery).
    window_from BIGINT NOT NULL,
    next_at BIGINT,
    last_at BIGINT,
    last_status BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(state, next_at);
CREATE INDEX webhook_deliveries_org ON webhook_deliveries(org_id, id);

CREATE TABLE webhook_attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id BIGINT NOT NULL REFERENCES webhook_deliveries(id),
    at BIGINT NOT NULL,
    status BIGINT,
    error TEXT,
    duration_ms BIGINT NOT NULL
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts(delivery_id);

CREATE TRIGGER order_events_to_webhooks AFTER INSERT ON order_events
BEGIN
    INSERT INTO webhook_outbox (org_id, topic, subject_id, from_state, at)
    SELECT o.org_id, 'order.' || NEW.to_state, NEW.order_id, NEW.from_state, NEW.at
    FROM orders o
    WHERE o.id = NEW.order_id
      AND EXISTS (SELECT 1 FROM webhook_subscriptions s WHERE s.org_id = o.org_id AND s.active = 1);
END;

CREATE TRIGGER shows_to_webhooks AFTER UPDATE OF state ON shows
WHEN NEW.state <> OLD.state AND NEW.state IN ('live', 'ended')
BEGIN
    INSERT INTO webhook_outbox (org_id, topic, subject_id, from_state, at)
    SELECT cs.org_id, 'show.' || NEW.state, NEW.id, OLD.state,
           COALESCE(CASE NEW.state WHEN 'live' THEN NEW.started_at ELSE NEW.ended_at END, 0)
    FROM channel_shops cs
    WHERE cs.channel_id = NEW.channel_id
      AND EXISTS (SELECT 1 FROM webhook_subscriptions s WHERE s.org_id = cs.org_id AND s.active = 1);
END;

CREATE TRIGGER new_live_shows_to_webhooks AFTER INSERT ON shows
WHEN NEW.state = 'live'
BEGIN
    INSERT INTO webhook_outbox (org_id, topic, subject_id, from_state, at)
    SELECT cs.org_id, 'show.live', NEW.id, NULL, COALESCE(NEW.started_at, 0)
    FROM channel_shops cs
    WHERE cs.channel_id = NEW.channel_id
      AND EXISTS (SELECT 1 FROM webhook_subscriptions s WHERE s.org_id = cs.org_id AND s.active = 1);
END;
