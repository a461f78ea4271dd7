-- racewatch schema v1. All timestamps are UTC (TIMESTAMP without time zone, by convention).
-- Every table is keyed by a stable id so each stage can upsert and be replayed without duplicates.

CREATE TABLE IF NOT EXISTS feeds (
    feed_id        VARCHAR PRIMARY KEY,
    url            VARCHAR NOT NULL,       -- effective URL (follows permanent redirects)
    config_url     VARCHAR NOT NULL,       -- URL as written in the sources file
    name           VARCHAR NOT NULL,
    tags           VARCHAR[] NOT NULL DEFAULT [],
    poll_minutes   INTEGER,
    allow_private  BOOLEAN NOT NULL DEFAULT FALSE,
    active         BOOLEAN NOT NULL DEFAULT TRUE,
    retired_reason VARCHAR,
    added_at       TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS feed_health (
    feed_id              VARCHAR PRIMARY KEY,
    last_status          VARCHAR,
    last_http_status     INTEGER,
    last_fetch_at        TIMESTAMP,
    last_success_at      TIMESTAMP,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    last_error           VARCHAR,
    next_due_at          TIMESTAMP,
    etag                 VARCHAR,
    last_modified        VARCHAR,
    body_hash            VARCHAR,
    fetch_count          INTEGER NOT NULL DEFAULT 0,
    not_modified_count   INTEGER NOT NULL DEFAULT 0,
    last_entries         INTEGER,
    last_warning         VARCHAR
);

CREATE TABLE IF NOT EXISTS fetches (
    fetch_id     VARCHAR PRIMARY KEY,
    batch_id     VARCHAR NOT NULL,
    feed_id      VARCHAR NOT NULL,
    url          VARCHAR NOT NULL,
    final_url    VARCHAR,
    started_at   TIMESTAMP NOT NULL,
    elapsed_ms   INTEGER,
    status       VARCHAR NOT NULL,
    http_status  INTEGER,
    bytes        BIGINT,
    entries      INTEGER,
    error        VARCHAR,
    warning      VARCHAR
);

CREATE TABLE IF NOT EXISTS entries (
    entry_key          VARCHAR PRIMARY KEY,
    feed_id            VARCHAR NOT NULL,
    guid               VARCHAR,
    link               VARCHAR,
    title              VARCHAR NOT NULL,
    summary_text       VARCHAR NOT NULL,
    summary_html       VARCHAR NOT NULL,
    published_at       TIMESTAMP NOT NULL,
    updated_at         TIMESTAMP,
    content_hash       VARCHAR NOT NULL,
    flags              VARCHAR[] NOT NULL DEFAULT [],
    first_seen_at      TIMESTAMP NOT NULL,
    last_seen_at       TIMESTAMP NOT NULL,
    revision           INTEGER NOT NULL DEFAULT 1,
    batch_id           VARCHAR NOT NULL,
    classified_version VARCHAR
);

CREATE TABLE IF NOT EXISTS stories (
    entry_key           VARCHAR PRIMARY KEY,
    is_ai_competition   BOOLEAN NOT NULL,
    event_type          VARCHAR NOT NULL,
    is_flagship_release BOOLEAN NOT NULL,
    orgs                VARCHAR[] NOT NULL,
    models              VARCHAR[] NOT NULL,
    country             VARCHAR,
    release_key         VARCHAR,
    score               DOUBLE NOT NULL,
    reasons             VARCHAR[] NOT NULL,
    parameters          VARCHAR,
    open_weights        BOOLEAN,
    claim               VARCHAR,
    classifier_version  VARCHAR NOT NULL,
    classified_at       TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS quarantine (
    quarantine_id  VARCHAR PRIMARY KEY,
    suite          VARCHAR NOT NULL,
    row_key        VARCHAR,
    expectation    VARCHAR NOT NULL,
    reason         VARCHAR NOT NULL,
    raw_row        JSON NOT NULL,
    batch_id       VARCHAR,
    quarantined_at TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS validation_runs (
    run_id           VARCHAR PRIMARY KEY,
    suite            VARCHAR NOT NULL,
    batch_id         VARCHAR,
    evaluated        INTEGER NOT NULL,
    failed           INTEGER NOT NULL,
    success          BOOLEAN NOT NULL,
    critical_failure VARCHAR,
    results_path     VARCHAR,
    stats            JSON,
    validated_at     TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS model_releases (
    release_key     VARCHAR PRIMARY KEY,
    org             VARCHAR,
    country         VARCHAR,
    model           VARCHAR,
    family          VARCHAR,
    version         VARCHAR,
    variants        VARCHAR[] NOT NULL DEFAULT [],
    parameters      VARCHAR,
    open_weights    BOOLEAN,
    claims          VARCHAR[] NOT NULL DEFAULT [],
    first_seen_at   TIMESTAMP NOT NULL,
    first_entry_key VARCHAR NOT NULL,
    announce_url    VARCHAR,
    outlets         INTEGER NOT NULL DEFAULT 1,
    provenance      JSON NOT NULL,
    updated_at      TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS release_coverage (
    release_key VARCHAR NOT NULL,
    entry_key   VARCHAR NOT NULL,
    feed_id     VARCHAR NOT NULL,
    seen_at     TIMESTAMP NOT NULL,
    PRIMARY KEY (release_key, entry_key)
);

CREATE TABLE IF NOT EXISTS events (
    event_id      VARCHAR PRIMARY KEY,
    event_type    VARCHAR NOT NULL,
    title         VARCHAR NOT NULL,
    release_key   VARCHAR,
    first_seen_at TIMESTAMP NOT NULL,
    last_seen_at  TIMESTAMP NOT NULL,
    stories       INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE IF NOT EXISTS event_stories (
    event_id  VARCHAR NOT NULL,
    entry_key VARCHAR PRIMARY KEY
);

CREATE TABLE IF NOT EXISTS alerts (
    alert_id     VARCHAR PRIMARY KEY,
    kind         VARCHAR NOT NULL,      -- release_root | followup | root_update
    release_key  VARCHAR,
    entry_key    VARCHAR,
    channel      VARCHAR,
    status       VARCHAR NOT NULL,      -- pending | sent | dry_run | failed | skipped
    payload      JSON,
    slack_ts     VARCHAR,
    thread_ts    VARCHAR,
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   VARCHAR,
    created_at   TIMESTAMP NOT NULL,
    sent_at      TIMESTAMP
);

CREATE TABLE IF NOT EXISTS landed_batches (
    batch_id  VARCHAR PRIMARY KEY,
    path      VARCHAR NOT NULL,
    fetches   INTEGER NOT NULL,
    entries   INTEGER NOT NULL,
    loaded_at TIMESTAMP NOT NULL
);
