-- The double-entry ledger. Balances and statements are sums over ledger_entries, never a
-- counter kept beside them; entries and transactions are never changed or removed
-- (corrections are reversing transactions), which the triggers below enforce.
CREATE TABLE ledger_accounts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    code TEXT NOT NULL UNIQUE,
    party_kind TEXT NOT NULL,
    party_id BIGINT NOT NULL,
    purpose TEXT NOT NULL,
    currency TEXT NOT NULL
);
CREATE INDEX ledger_accounts_party ON ledger_accounts(party_kind, party_id);

CREATE TABLE ledger_transactions (
    id INTEGER PRIMARY KEY, -- no AUTOINCREMENT: rows are never deleted, so rowids only grow
    posting_key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    fingerprint BIGINT NOT NULL,
    at BIGINT NOT NULL,
    order_id BIGINT,
    show_id BIGINT,
    gift_id BIGINT,
    slot_id BIGINT,
    batch TEXT
);
CREATE INDEX ledger_transactions_order ON ledger_transactions(order_id) WHERE order_id IS NOT NULL;

CREATE TABLE ledger_entries (
    tx_id BIGINT NOT NULL REFERENCES ledger_transactions(id),
    account_id BIGINT NOT NULL REFERENCES ledger_accounts(id),
    amount BIGINT NOT NULL CHECK (amount <> 0),
    -- Clustered by account: a statement or balance reads one range; an entry is one B-tree
    -- insert (a transaction's own entries are found by tx_id within its accounts).
    PRIMARY KEY (account_id, tx_id)
) WITHOUT ROWID;

CREATE TRIGGER ledger_entries_no_update BEFORE UPDATE ON ledger_entries
BEGIN SELECT RAISE(ABORT, 'ledger entries are immutable'); END;
CREATE TRIGGER ledger_entries_no_delete BEFORE DELETE ON ledger_entries
BEGIN SELECT RAISE(ABORT, 'ledger entries are immutable'); END;
CREATE TRIGGER ledger_transactions_no_update BEFORE UPDATE ON ledger_transactions
BEGIN SELECT RAISE(ABORT, 'ledger transactions are immutable'); END;
CREATE TRIGGER ledger_transactions_no_delete BEFORE DELETE ON ledger_transactions
BEGIN SELECT RAISE(ABORT, 'ledger transactions are immutable'); END;

-- An agency's share of a streamer's earnings, visible to both; the platform pays each its part.
CREATE TABLE agency_contracts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    agency_org_id BIGINT NOT NULL REFERENCES organisations(id),
    streamer_id BIGINT NOT NULL REFERENCES accounts(id),
    share_bps BIGINT NOT NULL CHECK (share_bps BETWEEN 1 AND 9000),
    starts_at BIGINT NOT NULL,
    ends_at BIGINT,
    created_by BIGINT NOT NULL REFERENCES accounts(id),
    created_at BIGINT NOT NULL
);
CREATE INDEX agency_contracts_streamer ON agency_contracts(streamer_id);
CREATE INDEX agency_contracts_agency ON agency_contracts(agency_org_id);
