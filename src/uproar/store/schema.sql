-- Uproar's store. All times are UTC (TIMESTAMP without zone, always UTC).
-- Each stage owns its section; Store.open() runs this whole file (idempotent).

-- listen: one row per post, whatever the platform; (platform, id) is the identity.
CREATE TABLE IF NOT EXISTS posts (
    platform          VARCHAR   NOT NULL,  -- x | mastodon | bluesky | csv | http
    id                VARCHAR   NOT NULL,  -- the platform's own id (Bluesky: at:// URI)
    created_at        TIMESTAMP NOT NULL,  -- UTC
    text              VARCHAR   NOT NULL,  -- plain text: HTML stripped, entities decoded
    author_id         VARCHAR   NOT NULL,
    author_handle     VARCHAR,
    author_name       VARCHAR,
    author_followers  BIGINT,
    author_location   VARCHAR,             -- the author's profile location, as they wrote it
    lang              VARCHAR,
    reply_to_id       VARCHAR,
    conversation_id   VARCHAR,
    quoted_id         VARCHAR,
    reposted_id       VARCHAR,
    urls              VARCHAR[],           -- expanded where the source gives them
    place             VARCHAR,             -- the source's place name
    region            VARCHAR,             -- ISO 3166-2 region (NZ-WGN) or ISO 3166-1 country (NZ)
    like_count        BIGINT,
    repost_count      BIGINT,
    reply_count       BIGINT,
    brands            VARCHAR[],           -- ids of the brands the post mentions
    own_brand         VARCHAR,             -- brand id when a brand's own handle wrote it
    source_file       VARCHAR,
    source_line       BIGINT,
    ingested_at       TIMESTAMP NOT NULL,
    -- the source record, verbatim; zstd: a third less ingest work and half the file size of
    -- DuckDB's default string compression on this long, rarely queried text (bench/ingest.py)
    raw               JSON USING COMPRESSION zstd,
    PRIMARY KEY (platform, id)
);
-- Stores made before author_location existed gain it (NULL for their posts).
ALTER TABLE posts ADD COLUMN IF NOT EXISTS author_location VARCHAR;

-- listen: input that could not become a post, kept with where it came from and why.
CREATE TABLE IF NOT EXISTS quarantine (
    source_file    VARCHAR   NOT NULL,
    line           BIGINT    NOT NULL,     -- 1-based line (CSV: 1 is the header)
    item           INTEGER   NOT NULL,     -- index inside a multi-post line, 0 otherwise
    kind           VARCHAR   NOT NULL,     -- invalid JSON | invalid UTF-8 | missing field | wrong type | bad value
    field          VARCHAR,                -- the offending field, where one is to blame
    reason         VARCHAR   NOT NULL,     -- the details, e.g. "not an ISO 8601 time: 'yesterday'"
    content        BLOB      NOT NULL,     -- the bad line or record as read (bytes)
    quarantined_at TIMESTAMP NOT NULL,
    PRIMARY KEY (source_file, line, item)
);

-- understand: labels per post (one row per post, latest model wins).
CREATE TABLE IF NOT EXISTS labels (
    platform   VARCHAR NOT NULL,
    id         VARCHAR NOT NULL,
    complaint  BOOLEAN NOT NULL,
    sentiment  VARCHAR NOT NULL,           -- negative | neutral | positive
    topics     VARCHAR[],
    question   BOOLEAN,
    urgency    BOOLEAN,
    language   VARCHAR,
    sarcasm    BOOLEAN,
    reach      DOUBLE,
    model      VARCHAR,
    PRIMARY KEY (platform, id)
);

-- brands as last loaded, so later commands can run without --brands.
CREATE TABLE IF NOT EXISTS brands (
    id      VARCHAR PRIMARY KEY,
    name    VARCHAR NOT NULL,
    config  JSON    NOT NULL
);

-- detect: incidents found by the detector (one row per incident; re-opened incidents keep
-- their id). List columns hold JSON-free values; ``rumours`` is a JSON array.
CREATE TABLE IF NOT EXISTS incidents (
    id               VARCHAR   PRIMARY KEY,
    brand            VARCHAR   NOT NULL,
    start            TIMESTAMP NOT NULL,   -- estimated onset (UTC)
    detected_at      TIMESTAMP NOT NULL,   -- post time at which the detector raised it
    peak             TIMESTAMP NOT NULL,
    "end"            TIMESTAMP,            -- NULL while open
    severity         VARCHAR   NOT NULL,   -- low | medium | high | critical
    scope            VARCHAR   NOT NULL,   -- brand | industry
    posts            BIGINT    NOT NULL,
    authors          BIGINT    NOT NULL,
    regions          VARCHAR[],
    topics           VARCHAR[],
    terms            VARCHAR[],
    sample_post_ids  VARCHAR[],
    rumours          JSON
);

-- detect: the streaming detector's state (pickled), so a restart carries on where it was.
CREATE TABLE IF NOT EXISTS detector_state (
    name        VARCHAR   PRIMARY KEY,
    state       BLOB      NOT NULL,
    clock       TIMESTAMP,                 -- the last minute the state has learned
    saved_at    TIMESTAMP NOT NULL
);

-- listen: where each live stream got to (Jetstream's time_us cursor), so a restart resumes.
CREATE TABLE IF NOT EXISTS stream_cursors (
    source      VARCHAR   PRIMARY KEY,     -- the stream's URL
    cursor      BIGINT    NOT NULL,
    saved_at    TIMESTAMP NOT NULL
);

-- respond: the inbox's reply drafts, one per cluster, kept for review and sending. A draft the
-- guard holds (media or a link in a reply to a complaint) waits for a second person.
CREATE TABLE IF NOT EXISTS reply_drafts (
    brand           VARCHAR   NOT NULL,
    drafted_at      TIMESTAMP NOT NULL,    -- the inbox's "now" (UTC)
    cluster         INTEGER   NOT NULL,    -- rank in that inbox, 1 = answer first
    incident        VARCHAR,
    intent          VARCHAR   NOT NULL,    -- eta | status | what_to_do | refund | complaint | other
    platform        VARCHAR   NOT NULL,
    text            VARCHAR   NOT NULL,
    source          VARCHAR   NOT NULL,    -- template | model
    needs_review    BOOLEAN   NOT NULL,
    review_reasons  VARCHAR[],
    findings        JSON,                  -- the linter's findings on the draft
    post_ids        VARCHAR[] NOT NULL,    -- the mentions it answers (platform:id)
    PRIMARY KEY (brand, drafted_at, cluster)
);
