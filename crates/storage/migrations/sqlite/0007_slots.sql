-- Paid slots: a brand's booking in a host's show. Its result comes from the orders placed
-- while its product was pinned in that show, and their later returns.
CREATE TABLE slots (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    show_id BIGINT NOT NULL REFERENCES shows(id),
    host_id BIGINT NOT NULL REFERENCES accounts(id),
    brand_org_id BIGINT NOT NULL REFERENCES organisations(id),
    product_id BIGINT NOT NULL REFERENCES products(id),
    fee_minor BIGINT NOT NULL CHECK (fee_minor >= 0),
    currency TEXT NOT NULL,
    commission_bps BIGINT NOT NULL,
    guaranteed_gmv_minor BIGINT,
    return_cap_bps BIGINT,
    -- booked → fee_received → closed, or cancelled
    state TEXT NOT NULL,
    created_by BIGINT NOT NULL REFERENCES accounts(id),
    created_at BIGINT NOT NULL
);
CREATE INDEX slots_show ON slots(show_id);
CREATE INDEX slots_brand ON slots(brand_org_id);
