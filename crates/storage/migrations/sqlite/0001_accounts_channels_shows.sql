CREATE TABLE accounts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_expiry ON sessions(expires_at);

CREATE TABLE api_tokens (
    token_hash TEXT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    label TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE channels (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    slug TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    owner_id BIGINT NOT NULL REFERENCES accounts(id),
    stream_key TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);
CREATE INDEX channels_owner ON channels(owner_id);

CREATE TABLE shows (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    channel_id BIGINT NOT NULL REFERENCES channels(id),
    title TEXT NOT NULL,
    state TEXT NOT NULL,
    scheduled_at BIGINT,
    started_at BIGINT,
    ended_at BIGINT
);
CREATE INDEX shows_channel_state ON shows(channel_id, state);
CREATE INDEX shows_state ON shows(state);
-- At most one live show per channel, whatever node opens it.
CREATE UNIQUE INDEX shows_one_live_per_channel ON shows(channel_id) WHERE state = 'live';

CREATE TABLE recordings (
    show_id BIGINT PRIMARY KEY REFERENCES shows(id),
    dir TEXT NOT NULL,
    bytes BIGINT NOT NULL,
    duration_ms BIGINT NOT NULL,
    segments BIGINT NOT NULL,
    complete BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
