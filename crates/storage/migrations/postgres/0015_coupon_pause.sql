-- A coupon its issuer paused is refused until resumed.
ALTER TABLE coupons ADD COLUMN paused BIGINT NOT NULL DEFAULT 0;
CREATE INDEX coupons_issuer ON coupons(issuer_org);
