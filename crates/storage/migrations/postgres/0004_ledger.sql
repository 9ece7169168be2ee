-- The double-entry ledger. Balances and statements are sums over ledger_entries, never a
-- counter kept beside them; entries and transactions are never changed or removed
-- (corrections are reversing transactions), which the trigger below enforces.
CREATE TABLE ledger_accounts (
    id BIGSERIAL PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    party_kind TEXT NOT NULL,
    party_id BIGINT NOT NULL,
    purpose TEXT NOT NULL,
    currency TEXT NOT NULL
);
CREATE INDEX ledger_accounts_party ON ledger_accounts(party_kind, party_id);

CREATE TABLE ledger_transactions (
    id BIGSERIAL PRIMARY KEY,
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
    PRIMARY KEY (tx_id, account_id)
);
CREATE INDEX ledger_entries_account ON ledger_entries(account_id, tx_id);

CREATE FUNCTION ledger_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'ledger rows are immutable'; END $$;
CREATE TRIGGER ledger_entries_immutable BEFORE UPDATE OR DELETE ON ledger_entries
FOR EACH ROW EXECUTE FUNCTION ledger_immutable();
CREATE TRIGGER ledger_transactions_immutable BEFORE UPDATE OR DELETE ON ledger_transactions
FOR EACH ROW EXECUTE FUNCTION ledger_immutable();

-- An agency's share of a streamer's earnings, visible to both; the platform pays each its part.
CREATE TABLE agency_contracts (
    id BIGSERIAL PRIMARY KEY,
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
