-- The flash-sale writer's record at acknowledgement (SQLite files): append-only, keyed by the
-- order id (monotonic per node), no other index, so a group commit dirties only the tail pages.
-- Rows move into orders, order_items and order_events off the hot path (deleted from here in
-- the same transaction: a row is in exactly one of the two places). What the sale, SKU and
-- product already say (organisation, store, channel, show, currency, SKU, product) is joined in
-- at that move; what an order fixes at purchase time (price, title, return class) is kept here.
CREATE TABLE flash_journal (
    order_id INTEGER PRIMARY KEY,
    sale_id INTEGER NOT NULL,
    buyer_id INTEGER NOT NULL,
    quantity INTEGER NOT NULL,
    unit_price_minor INTEGER NOT NULL,
    title TEXT NOT NULL,
    return_class TEXT NOT NULL,
    exceptions_acknowledged INTEGER NOT NULL,
    idempotency_key TEXT,
    address TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
