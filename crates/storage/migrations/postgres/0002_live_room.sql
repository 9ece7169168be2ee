CREATE TABLE follows (
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    channel_id BIGINT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, channel_id)
);
CREATE INDEX follows_channel ON follows(channel_id);

CREATE TABLE channel_moderators (
    channel_id BIGINT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    can_pin BIGINT NOT NULL,
    can_mute BIGINT NOT NULL,
    can_ban BIGINT NOT NULL,
    can_delete BIGINT NOT NULL,
    can_announce BIGINT NOT NULL,
    granted_by BIGINT NOT NULL,
    granted_at BIGINT NOT NULL,
    PRIMARY KEY (channel_id, account_id)
);

CREATE TABLE room_sanctions (
    channel_id BIGINT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    until_ms BIGINT,
    created_by BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (channel_id, account_id, kind)
);

-- Who did what in a room: never updated, never deleted before retention.
CREATE TABLE moderation_log (
    id BIGSERIAL PRIMARY KEY,
    channel_id BIGINT NOT NULL REFERENCES channels(id),
    show_id BIGINT,
    actor_id BIGINT NOT NULL,
    action TEXT NOT NULL,
    target_account BIGINT,
    comment_id BIGINT,
    reason TEXT,
    detail TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX moderation_log_channel ON moderation_log(channel_id, at);

-- Chat, kept for retention and for regulators' requests.
CREATE TABLE comments (
    id BIGINT PRIMARY KEY,
    channel_id BIGINT NOT NULL REFERENCES channels(id),
    show_id BIGINT,
    account_id BIGINT NOT NULL,
    author_name TEXT NOT NULL,
    text TEXT NOT NULL,
    at BIGINT NOT NULL,
    shadow BIGINT NOT NULL,
    deleted_reason TEXT
);
CREATE INDEX comments_show ON comments(show_id, at);
CREATE INDEX comments_channel ON comments(channel_id, at);

-- Blocked words: channel_id NULL is the platform-wide list.
CREATE TABLE keywords (
    id BIGSERIAL PRIMARY KEY,
    channel_id BIGINT REFERENCES channels(id) ON DELETE CASCADE,
    keyword TEXT NOT NULL,
    created_by BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX keywords_unique ON keywords(COALESCE(channel_id, 0), keyword);
