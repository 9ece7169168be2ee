-- Defect claims (issue 26): a buyer's claim that goods arrived broken or spoiled, with photos,
-- the seller's answer and the platform's decision. At most one claim under way per order.
CREATE TABLE defect_claims (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id BIGINT NOT NULL REFERENCES orders(id),
    buyer_id BIGINT NOT NULL REFERENCES accounts(id),
    org_id BIGINT NOT NULL,
    description TEXT NOT NULL,
    -- open, accepted, disputed, upheld, rejected
    state TEXT NOT NULL,
    -- refund_without_return, refund_with_return (when accepted or upheld)
    remedy TEXT,
    seller_note TEXT,
    platform_note TEXT,
    -- The law profile's deadline that applied when it was filed.
    deadline BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX defect_claims_one_under_way ON defect_claims(order_id) WHERE state IN ('open', 'disputed');
CREATE INDEX defect_claims_org ON defect_claims(org_id, id);
CREATE INDEX defect_claims_state ON defect_claims(state, id);
CREATE INDEX defect_claims_buyer ON defect_claims(buyer_id, id);

-- Photos in the database, not beside it: private evidence, removed with the claim.
CREATE TABLE defect_claim_photos (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    claim_id BIGINT NOT NULL REFERENCES defect_claims(id),
    content_type TEXT NOT NULL,
    bytes BLOB NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX defect_claim_photos_claim ON defect_claim_photos(claim_id);
