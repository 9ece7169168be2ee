CREATE TABLE organisations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE stores (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id BIGINT NOT NULL REFERENCES organisations(id),
    name TEXT NOT NULL,
    city TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX stores_org ON stores(org_id);

CREATE TABLE org_members (
    org_id BIGINT NOT NULL REFERENCES organisations(id),
    account_id BIGINT NOT NULL REFERENCES accounts(id),
    role TEXT NOT NULL,
    store_id BIGINT REFERENCES stores(id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, account_id)
);
CREATE INDEX org_members_account ON org_members(account_id);

-- Which organisation and store a channel sells for.
CREATE TABLE channel_shops (
    channel_id BIGINT PRIMARY KEY REFERENCES channels(id),
    org_id BIGINT NOT NULL REFERENCES organisations(id),
    store_id BIGINT NOT NULL REFERENCES stores(id)
);

CREATE TABLE products (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id BIGINT NOT NULL REFERENCES organisations(id),
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    category TEXT NOT NULL,
    return_class TEXT NOT NULL,
    currency TEXT NOT NULL,
    sponsored BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX products_org ON products(org_id);

CREATE TABLE skus (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    product_id BIGINT NOT NULL REFERENCES products(id),
    label TEXT NOT NULL,
    price_minor BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX skus_product ON skus(product_id);

CREATE TABLE price_history (
    sku_id BIGINT NOT NULL REFERENCES skus(id),
    at BIGINT NOT NULL,
    price_minor BIGINT NOT NULL
);
CREATE INDEX price_history_sku ON price_history(sku_id, at);

CREATE TABLE stock (
    sku_id BIGINT NOT NULL REFERENCES skus(id),
    store_id BIGINT NOT NULL REFERENCES stores(id),
    quantity BIGINT NOT NULL CHECK (quantity >= 0),
    PRIMARY KEY (sku_id, store_id)
);

CREATE TABLE product_images (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    product_id BIGINT NOT NULL REFERENCES products(id),
    file TEXT NOT NULL,
    content_type TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- A show's product shelf, in order.
CREATE TABLE show_products (
    show_id BIGINT NOT NULL REFERENCES shows(id),
    product_id BIGINT NOT NULL REFERENCES products(id),
    position BIGINT NOT NULL,
    PRIMARY KEY (show_id, product_id)
);

-- Every pin with its time in the show (replays and slot analytics use them).
CREATE TABLE pins (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    show_id BIGINT NOT NULL REFERENCES shows(id),
    product_id BIGINT NOT NULL REFERENCES products(id),
    pinned_at BIGINT NOT NULL,
    offset_ms BIGINT NOT NULL,
    unpinned_at BIGINT
);
CREATE INDEX pins_show ON pins(show_id, pinned_at);

CREATE TABLE flash_sales (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    channel_id BIGINT NOT NULL REFERENCES channels(id),
    show_id BIGINT REFERENCES shows(id),
    org_id BIGINT NOT NULL REFERENCES organisations(id),
    store_id BIGINT NOT NULL REFERENCES stores(id),
    sku_id BIGINT NOT NULL REFERENCES skus(id),
    price_minor BIGINT NOT NULL,
    reference_minor BIGINT,
    currency TEXT NOT NULL,
    total_stock BIGINT NOT NULL,
    per_buyer_limit BIGINT NOT NULL,
    starts_at BIGINT,
    ends_at BIGINT,
    duration_ms BIGINT NOT NULL,
    created_by BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX flash_sales_channel ON flash_sales(channel_id);

CREATE TABLE coupons (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    code TEXT NOT NULL UNIQUE,
    issuer_org BIGINT REFERENCES organisations(id),
    channel_id BIGINT REFERENCES channels(id),
    kind TEXT NOT NULL,
    value BIGINT NOT NULL,
    currency TEXT NOT NULL,
    min_spend_minor BIGINT NOT NULL,
    per_user_limit BIGINT NOT NULL,
    budget_minor BIGINT NOT NULL,
    spent_minor BIGINT NOT NULL,
    scope TEXT NOT NULL,
    valid_from BIGINT NOT NULL,
    valid_to BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE orders (
    id BIGINT PRIMARY KEY,
    buyer_id BIGINT NOT NULL REFERENCES accounts(id),
    org_id BIGINT NOT NULL REFERENCES organisations(id),
    store_id BIGINT NOT NULL REFERENCES stores(id),
    channel_id BIGINT,
    show_id BIGINT,
    flash_sale_id BIGINT,
    state TEXT NOT NULL,
    currency TEXT NOT NULL,
    subtotal_minor BIGINT NOT NULL,
    discount_minor BIGINT NOT NULL,
    total_minor BIGINT NOT NULL,
    coupon_id BIGINT,
    address TEXT NOT NULL,
    exceptions_acknowledged BIGINT NOT NULL,
    idempotency_key TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    updated_at BIGINT NOT NULL,
    carrier TEXT,
    tracking TEXT,
    delivered_at BIGINT,
    return_reason TEXT
);
CREATE UNIQUE INDEX orders_idempotency ON orders(buyer_id, idempotency_key);
CREATE INDEX orders_org ON orders(org_id, created_at);
CREATE INDEX orders_buyer ON orders(buyer_id, created_at);
CREATE INDEX orders_flash ON orders(flash_sale_id);
CREATE INDEX orders_state_expiry ON orders(state, expires_at);

CREATE TABLE order_items (
    order_id BIGINT NOT NULL REFERENCES orders(id),
    sku_id BIGINT NOT NULL REFERENCES skus(id),
    product_id BIGINT NOT NULL REFERENCES products(id),
    title TEXT NOT NULL,
    quantity BIGINT NOT NULL,
    unit_price_minor BIGINT NOT NULL,
    return_class TEXT NOT NULL
);
CREATE INDEX order_items_order ON order_items(order_id);

-- Every transition, with who and when.
CREATE TABLE order_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id BIGINT NOT NULL REFERENCES orders(id),
    from_state TEXT,
    to_state TEXT NOT NULL,
    actor_kind TEXT NOT NULL,
    actor_id BIGINT,
    note TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX order_events_order ON order_events(order_id);

CREATE TABLE coupon_redemptions (
    coupon_id BIGINT NOT NULL REFERENCES coupons(id),
    account_id BIGINT NOT NULL REFERENCES accounts(id),
    order_id BIGINT NOT NULL REFERENCES orders(id),
    amount_minor BIGINT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX coupon_redemptions_user ON coupon_redemptions(coupon_id, account_id);

CREATE TABLE payments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id BIGINT NOT NULL REFERENCES orders(id),
    provider TEXT NOT NULL,
    provider_ref TEXT NOT NULL,
    state TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX payments_ref ON payments(provider, provider_ref);
CREATE INDEX payments_order ON payments(order_id);
CREATE INDEX payments_state ON payments(state, updated_at);

-- Webhook deliveries already handled: a replay changes nothing.
CREATE TABLE webhook_events (
    provider TEXT NOT NULL,
    event_id TEXT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (provider, event_id)
);
