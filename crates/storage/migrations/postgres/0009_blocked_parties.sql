-- Parties the ledger pays nothing to (the trust rules, ops): kept across restarts.
CREATE TABLE blocked_parties (
    party_kind TEXT NOT NULL,
    party_id BIGINT NOT NULL,
    reason TEXT NOT NULL,
    created_by BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (party_kind, party_id)
);
