-- What a viewer session shows about itself (issue 22, honest viewer counts): its client's
-- network, the media deliveries the origin reported for it, its heartbeats and their cadence.
ALTER TABLE viewer_sessions ADD COLUMN network TEXT NOT NULL DEFAULT '';
ALTER TABLE viewer_sessions ADD COLUMN media_deliveries BIGINT NOT NULL DEFAULT 0;
ALTER TABLE viewer_sessions ADD COLUMN heartbeats BIGINT NOT NULL DEFAULT 0;
ALTER TABLE viewer_sessions ADD COLUMN cadence_jitter_ms BIGINT;
