-- Viewer sessions (issue 6, integrity): one row per connection's stay in a live show, written
-- by the room hub in batches when the connection leaves, the show ends or the room stops.
-- The risk engine reads a show's sessions (never played, join/leave bursts, near-zero dwell);
-- the retention job deletes them with the chat, after `[retention] room_days`.
CREATE TABLE viewer_sessions (
    id BIGSERIAL PRIMARY KEY,
    show_id BIGINT NOT NULL,
    channel_id BIGINT NOT NULL REFERENCES channels(id),
    account_id BIGINT,
    joined_at BIGINT NOT NULL,
    left_at BIGINT NOT NULL,
    played_ms BIGINT NOT NULL,
    counted BIGINT NOT NULL
);
CREATE INDEX viewer_sessions_show ON viewer_sessions(show_id, joined_at);
CREATE INDEX viewer_sessions_left ON viewer_sessions(left_at);
