-- Retention (PRODUCT.md §3): who called the API, kept `[retention] access_days`; and the
-- indexes the retention job's deletes walk, so an hourly pass reads only what it removes.

-- One line per /api/ request: never a query string, token or body. Append-only: rows are only
-- ever inserted, and deleted by the retention job once older than `access_days`.
CREATE TABLE access_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at BIGINT NOT NULL,
    account_id BIGINT,
    ip TEXT NOT NULL,
    method TEXT NOT NULL,
    route TEXT NOT NULL,
    status BIGINT NOT NULL
);
CREATE INDEX access_log_at ON access_log(at);
CREATE TRIGGER access_log_no_update BEFORE UPDATE ON access_log
BEGIN SELECT RAISE(ABORT, 'access log rows are append-only'); END;

CREATE INDEX comments_at ON comments(at);
CREATE INDEX pins_at ON pins(pinned_at);
CREATE INDEX moderation_log_at ON moderation_log(at);
-- Orders enter this index once, when they reach a final state.
CREATE INDEX orders_final ON orders(updated_at) WHERE state IN ('completed', 'cancelled', 'expired', 'refunded');
CREATE INDEX coupon_redemptions_order ON coupon_redemptions(order_id);
