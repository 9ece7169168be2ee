-- The gift catalogue, coin top-ups and gifts sent. Money moves only in the ledger; these rows
-- say what happened so the ledger's postings can be rebuilt and checked.
CREATE TABLE gift_kinds (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    animation TEXT NOT NULL,
    coins BIGINT NOT NULL CHECK (coins > 0),
    active BIGINT NOT NULL DEFAULT 1
);
INSERT INTO gift_kinds (name, animation, coins) VALUES
    ('Rose', 'rose', 1),
    ('Heart', 'heart', 10),
    ('Peach basket', 'peach-basket', 99),
    ('Rocket', 'rocket', 1000);

CREATE TABLE coin_topups (
    id BIGSERIAL PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts(id),
    coins BIGINT NOT NULL CHECK (coins > 0),
    amount_minor BIGINT NOT NULL CHECK (amount_minor > 0),
    currency TEXT NOT NULL,
    provider TEXT NOT NULL,
    provider_ref TEXT,
    state TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX coin_topups_ref ON coin_topups(provider, provider_ref);
CREATE INDEX coin_topups_account ON coin_topups(account_id);

CREATE TABLE gifts (
    id BIGSERIAL PRIMARY KEY,
    show_id BIGINT REFERENCES shows(id),
    channel_id BIGINT NOT NULL REFERENCES channels(id),
    viewer_id BIGINT NOT NULL REFERENCES accounts(id),
    streamer_id BIGINT NOT NULL REFERENCES accounts(id),
    agency_org_id BIGINT REFERENCES organisations(id),
    kind_id BIGINT NOT NULL REFERENCES gift_kinds(id),
    coins BIGINT NOT NULL CHECK (coins > 0),
    value_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    streamer_bps BIGINT NOT NULL,
    tax_bps BIGINT NOT NULL,
    agency_bps BIGINT NOT NULL,
    state TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX gifts_state ON gifts(state, created_at);
CREATE INDEX gifts_viewer ON gifts(viewer_id, created_at);
CREATE INDEX gifts_show ON gifts(show_id);
