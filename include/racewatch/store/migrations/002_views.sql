-- Views for everyday questions. Later view changes go in new migrations (CREATE OR REPLACE VIEW).

CREATE OR REPLACE VIEW v_stories AS
SELECT e.entry_key, e.feed_id, f.name AS source, e.title, e.link, e.published_at, e.first_seen_at,
       s.is_ai_competition, s.event_type, s.is_flagship_release, s.orgs, s.models, s.country,
       s.release_key, s.score, s.reasons, s.parameters, s.open_weights, s.claim
FROM entries e
JOIN stories s USING (entry_key)
LEFT JOIN feeds f USING (feed_id);

CREATE OR REPLACE VIEW v_flagship_releases AS
SELECT r.release_key, r.model, r.org, r.country, r.parameters, r.open_weights, r.claims, r.variants,
       r.first_seen_at, r.announce_url, r.outlets,
       a.status AS alert_status, a.slack_ts
FROM model_releases r
LEFT JOIN alerts a ON a.release_key = r.release_key AND a.kind = 'release_root'
ORDER BY r.first_seen_at DESC;

CREATE OR REPLACE VIEW v_releases_by_country AS
SELECT coalesce(country, '??') AS country,
       count(*) AS releases,
       count(*) FILTER (WHERE open_weights) AS open_weights_releases,
       max(first_seen_at) AS latest_release_at,
       list(model ORDER BY first_seen_at DESC) AS models
FROM model_releases
GROUP BY ALL
ORDER BY releases DESC, country;

CREATE OR REPLACE VIEW v_feed_health AS
SELECT f.feed_id, f.name, f.url, f.active, h.last_status, h.last_http_status, h.last_fetch_at,
       h.last_success_at, h.consecutive_failures, h.last_error, h.next_due_at, h.fetch_count,
       round(h.not_modified_count / nullif(h.fetch_count, 0), 3) AS not_modified_ratio,
       h.last_entries, h.last_warning
FROM feeds f
LEFT JOIN feed_health h USING (feed_id)
ORDER BY h.consecutive_failures DESC NULLS LAST, f.feed_id;

CREATE OR REPLACE VIEW v_stories_today AS
SELECT * FROM v_stories
WHERE is_ai_competition AND first_seen_at >= date_trunc('day', now()::TIMESTAMP)
ORDER BY first_seen_at DESC;

CREATE OR REPLACE VIEW v_alerts AS
SELECT a.alert_id, a.kind, a.status, a.release_key, a.channel, a.slack_ts, a.thread_ts, a.attempts,
       a.last_error, a.created_at, a.sent_at
FROM alerts a
ORDER BY a.created_at DESC;
