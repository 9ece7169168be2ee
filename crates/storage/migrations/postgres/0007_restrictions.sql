-- Platform restrictions on an account for a time: a host's mute, and the suspension of their
-- tipping income that follows it (cn: a multiple of the mute). The trust rules add more kinds.
CREATE TABLE account_restrictions (
    id BIGSERIAL PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts(id),
    kind TEXT NOT NULL,
    starts_at BIGINT NOT NULL,
    ends_at BIGINT,
    reason TEXT NOT NULL,
    created_by BIGINT NOT NULL REFERENCES accounts(id),
    created_at BIGINT NOT NULL
);
CREATE INDEX account_restrictions_account ON account_restrictions(account_id, kind);

-- Commission and fee terms more specific than the configuration's defaults.
ALTER TABLE products ADD COLUMN host_commission_bps BIGINT;
ALTER TABLE shows ADD COLUMN host_commission_bps BIGINT;
ALTER TABLE organisations ADD COLUMN platform_fee_bps BIGINT;
