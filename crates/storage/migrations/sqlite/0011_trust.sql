-- Real-name verification: what a person submitted and what a reviewer decided. ID numbers are
-- kept as a keyed hash plus the last four characters; the document photo is a file that only
-- reviewers can open.
CREATE TABLE identity_checks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BIGINT NOT NULL REFERENCES accounts(id),
    legal_name TEXT NOT NULL,
    id_hash TEXT NOT NULL,
    id_last4 TEXT NOT NULL,
    birth_date TEXT NOT NULL,
    phone TEXT,
    document_file TEXT,
    document_type TEXT,
    guardian_name TEXT,
    guardian_consent BIGINT NOT NULL,
    state TEXT NOT NULL,
    reason TEXT,
    reviewer_id BIGINT,
    submitted_at BIGINT NOT NULL,
    reviewed_at BIGINT
);
CREATE INDEX identity_checks_account ON identity_checks(account_id, id);
CREATE INDEX identity_checks_state ON identity_checks(state, submitted_at);
CREATE INDEX identity_checks_hash ON identity_checks(id_hash);

-- What the approved check and the course established, per account.
CREATE TABLE trust_profiles (
    account_id BIGINT PRIMARY KEY REFERENCES accounts(id),
    birth_date TEXT,
    id_hash TEXT,
    guardian_consent BIGINT NOT NULL DEFAULT 0,
    verified_at BIGINT,
    training_passed_at BIGINT,
    broadcast_check_at BIGINT,
    minor_mode BIGINT NOT NULL DEFAULT 0
);

-- A business seller's KYB data (DSA art. 30, INFORM).
CREATE TABLE business_profiles (
    org_id BIGINT PRIMARY KEY REFERENCES organisations(id),
    legal_name TEXT NOT NULL,
    registration_number TEXT NOT NULL,
    address TEXT NOT NULL,
    contact TEXT NOT NULL,
    payout_account_hash TEXT NOT NULL,
    payout_account_last4 TEXT NOT NULL,
    state TEXT NOT NULL,
    reason TEXT,
    reviewer_id BIGINT,
    submitted_at BIGINT NOT NULL,
    reviewed_at BIGINT
);

CREATE TABLE account_sanctions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BIGINT NOT NULL REFERENCES accounts(id),
    level TEXT NOT NULL,
    reason TEXT NOT NULL,
    until_at BIGINT,
    actor_id BIGINT,
    created_at BIGINT NOT NULL,
    lifted_at BIGINT
);
CREATE INDEX account_sanctions_account ON account_sanctions(account_id);

-- Closed accounts' identities, devices and instruments: nobody comes back with them.
CREATE TABLE blacklist (
    kind TEXT NOT NULL,
    value_hash TEXT NOT NULL,
    account_id BIGINT,
    reason TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (kind, value_hash)
);

-- What an account was seen with (keyed hashes): the links between accounts come from here.
CREATE TABLE account_signals (
    account_id BIGINT NOT NULL REFERENCES accounts(id),
    kind TEXT NOT NULL,
    value_hash TEXT NOT NULL,
    first_seen BIGINT NOT NULL,
    last_seen BIGINT NOT NULL,
    PRIMARY KEY (account_id, kind, value_hash)
);
CREATE INDEX account_signals_value ON account_signals(kind, value_hash);

CREATE TABLE complaints (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    reporter_id BIGINT NOT NULL REFERENCES accounts(id),
    target_kind TEXT NOT NULL,
    target_id BIGINT NOT NULL,
    -- Whom the outcome sanctions: the host of a show, the seller's owner.
    subject_account_id BIGINT,
    order_id BIGINT,
    reason TEXT NOT NULL,
    details TEXT NOT NULL,
    state TEXT NOT NULL,
    deadline_at BIGINT NOT NULL,
    outcome TEXT,
    resolved_by BIGINT,
    resolved_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX complaints_state ON complaints(state, deadline_at);

CREATE TABLE guardian_claims (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    claimant_id BIGINT NOT NULL REFERENCES accounts(id),
    minor_id BIGINT NOT NULL REFERENCES accounts(id),
    evidence TEXT NOT NULL,
    state TEXT NOT NULL,
    reason TEXT,
    refunded_coins BIGINT NOT NULL DEFAULT 0,
    reviewer_id BIGINT,
    created_at BIGINT NOT NULL,
    reviewed_at BIGINT
);
CREATE INDEX guardian_claims_state ON guardian_claims(state, created_at);

-- The risk engine's latest assessment of a show, and what ops decided.
CREATE TABLE risk_assessments (
    show_id BIGINT PRIMARY KEY REFERENCES shows(id),
    score_bps BIGINT NOT NULL,
    hold BIGINT NOT NULL,
    signals TEXT NOT NULL,
    state TEXT NOT NULL,
    assessed_at BIGINT NOT NULL,
    reviewed_by BIGINT,
    reviewed_at BIGINT
);
CREATE INDEX risk_assessments_state ON risk_assessments(state, score_bps);

-- The risk engine reads a show's orders (assessments, slot reports, exports).
CREATE INDEX orders_show ON orders(show_id, updated_at);

-- Orders whose earnings are held for an integrity signal.
CREATE TABLE risk_flags (
    order_id BIGINT PRIMARY KEY REFERENCES orders(id),
    show_id BIGINT NOT NULL,
    buyer_id BIGINT NOT NULL,
    why TEXT NOT NULL,
    state TEXT NOT NULL,
    flagged_at BIGINT NOT NULL
);
CREATE INDEX risk_flags_show ON risk_flags(show_id);

-- Every ops action: who did what to whom, when.
CREATE TABLE ops_audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    actor_id BIGINT,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    detail TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX ops_audit_at ON ops_audit(at);
