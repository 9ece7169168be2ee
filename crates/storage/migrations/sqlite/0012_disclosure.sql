-- Honesty of what is shown: the disclosure of each showcase entry, virtual hosts, the paid
-- label's repeats in the room, sellers' credentials for regulated categories, prize draws.

-- A virtual or AI host, labelled as such wherever the channel is shown.
ALTER TABLE channels ADD COLUMN virtual_host BIGINT NOT NULL DEFAULT 0;

-- A showcase entry's disclosure, apart from the shelf's order so that re-setting the shelf
-- keeps it. Paid promotion is also implied by a paid slot or a sponsored product.
CREATE TABLE showcase_disclosures (
    show_id BIGINT NOT NULL REFERENCES shows(id),
    product_id BIGINT NOT NULL REFERENCES products(id),
    sponsored BIGINT NOT NULL,
    sponsored_by BIGINT REFERENCES accounts(id),
    -- The host's statement "I have used this product".
    host_used BIGINT NOT NULL,
    attested_at BIGINT,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (show_id, product_id)
);

-- When the room last repeated the paid label of a pinned product: a compare-and-set on it
-- lets exactly one node announce each repeat.
CREATE TABLE paid_label_repeats (
    show_id BIGINT NOT NULL REFERENCES shows(id),
    product_id BIGINT NOT NULL REFERENCES products(id),
    announced_at BIGINT NOT NULL,
    PRIMARY KEY (show_id, product_id)
);

-- A seller's licence for a regulated category (food, health, finance, education, cosmetics):
-- a document on disk, reviewed by ops. pending → approved | rejected; approved → revoked.
CREATE TABLE credentials (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id BIGINT NOT NULL REFERENCES organisations(id),
    category TEXT NOT NULL,
    file TEXT NOT NULL,
    content_type TEXT NOT NULL,
    valid_until BIGINT,
    state TEXT NOT NULL,
    uploaded_by BIGINT NOT NULL REFERENCES accounts(id),
    uploaded_at BIGINT NOT NULL,
    reviewed_by BIGINT REFERENCES accounts(id),
    reviewed_at BIGINT,
    reason TEXT
);
CREATE INDEX credentials_org ON credentials(org_id, category);
CREATE INDEX credentials_state ON credentials(state, uploaded_at);

-- Prize draws in a show. The seed is committed to (its SHA-256) at creation and revealed when
-- drawn. open → closing (entries closed, keyword entries collected) → drawn; open → cancelled.
CREATE TABLE prize_draws (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    show_id BIGINT NOT NULL REFERENCES shows(id),
    created_by BIGINT NOT NULL REFERENCES accounts(id),
    prize_description TEXT NOT NULL,
    prize_minor BIGINT NOT NULL CHECK (prize_minor > 0),
    currency TEXT NOT NULL,
    winners BIGINT NOT NULL CHECK (winners > 0),
    keyword TEXT,
    free_entry BIGINT NOT NULL,
    buyers_only BIGINT NOT NULL,
    law TEXT NOT NULL,
    seed TEXT NOT NULL,
    seed_commitment TEXT NOT NULL,
    state TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    closed_at BIGINT,
    drawn_at BIGINT,
    algorithm TEXT,
    entrants BIGINT,
    entrants_digest TEXT
);
CREATE INDEX prize_draws_show ON prize_draws(show_id);

CREATE TABLE prize_draw_entries (
    draw_id BIGINT NOT NULL REFERENCES prize_draws(id),
    account_id BIGINT NOT NULL REFERENCES accounts(id),
    route TEXT NOT NULL,
    entered_at BIGINT NOT NULL,
    PRIMARY KEY (draw_id, account_id)
);

CREATE TABLE prize_draw_winners (
    draw_id BIGINT NOT NULL REFERENCES prize_draws(id),
    position BIGINT NOT NULL,
    account_id BIGINT NOT NULL REFERENCES accounts(id),
    PRIMARY KEY (draw_id, position)
);
