-- Co-hosts (issue 18): who appeared on air as a show's guest and when, and each guest's own
-- statement of having used a showcase product (the host's is on showcase_disclosures). A
-- statement row exists while the guest stands by it.
CREATE TABLE show_co_hosts (
    show_id BIGINT NOT NULL REFERENCES shows(id),
    account_id BIGINT NOT NULL REFERENCES accounts(id),
    joined_at BIGINT NOT NULL,
    -- NULL while on air.
    left_at BIGINT,
    PRIMARY KEY (show_id, account_id)
);

CREATE TABLE co_host_statements (
    show_id BIGINT NOT NULL REFERENCES shows(id),
    product_id BIGINT NOT NULL REFERENCES products(id),
    account_id BIGINT NOT NULL REFERENCES accounts(id),
    attested_at BIGINT NOT NULL,
    PRIMARY KEY (show_id, product_id, account_id)
);
