-- When a business seller first crossed the KYB thresholds: sales stop if the verification is
-- not approved within the grace period (INFORM: 10 days).
CREATE TABLE kyb_notices (
    org_id BIGINT PRIMARY KEY REFERENCES organisations(id),
    duty TEXT NOT NULL,
    noticed_at BIGINT NOT NULL
);
