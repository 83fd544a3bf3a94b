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
    post_ids        VARCHAR[] NOT NULL     -- the mentions it answers (platform:id)
);
-- A draft is one cluster of one inbox: the brand's (incident NULL) or one incident's, drafted
-- at one moment; both inboxes saved at the same moment are kept apart. (Stores made when the
-- key left out the incident are rebuilt by store/respond.py's upgrade_reply_drafts.)
CREATE UNIQUE INDEX IF NOT EXISTS reply_drafts_inbox
    ON reply_drafts (brand, drafted_at, coalesce(incident, ''), cluster);

-- alerts (uproar.alerts): each incident as alerts last saw it, so a restarted watch finds
-- the transitions against what it had already announced, not against nothing.
CREATE TABLE IF NOT EXISTS alert_state (
    incident    VARCHAR   PRIMARY KEY,
    snapshot    JSON      NOT NULL,        -- severity, scope, surged peers, regions, open, phase
    seen_at     TIMESTAMP NOT NULL         -- the watch's "now" when it was seen (UTC)
);

-- alerts: one row per alert and channel. The key makes sending idempotent: the same
-- transition found again (after kill -9 and a restart) is the same row, never a second send.
CREATE TABLE IF NOT EXISTS alerts_sent (
    incident     VARCHAR   NOT NULL,
    event        VARCHAR   NOT NULL,       -- opened | escalated | scope | resolved
    channel      VARCHAR   NOT NULL,       -- the channel's name in watch.toml
    revision     VARCHAR   NOT NULL,       -- what the event reached: phase2, critical, ...
    brand        VARCHAR   NOT NULL,
    severity     VARCHAR   NOT NULL,       -- the incident's severity at the event
    created_at   TIMESTAMP NOT NULL,       -- when the transition was seen (UTC)
    status       VARCHAR   NOT NULL,       -- queued | held | sending | sent | failed | superseded | gave_up | unknown
    due_at       TIMESTAMP NOT NULL,       -- earliest send: now, end of quiet hours, rate limit, retry
    reason       VARCHAR,                  -- why it waits: quiet hours | rate limit | retry
    attempts     INTEGER   NOT NULL,
    sent_at      TIMESTAMP,                -- handed to Apprise (the last attempt)
    error        VARCHAR,                  -- the last failure, with the URL's secrets masked
    title        VARCHAR   NOT NULL,
    body         VARCHAR   NOT NULL,       -- as rendered for this channel (hostile text neutralised)
    notify_type  VARCHAR   NOT NULL,       -- Apprise's info | success | warning | failure
    PRIMARY KEY (incident, event, channel, revision)
);

-- drill: an incident replayed at an accelerated clock for a team to practise on
-- (uproar.drill). A drill store holds one drill: its clock and scope, the posts and labels
-- still to be released (drill_feed, drill_feed_labels: the columns of posts and labels),
-- and what the team posted.
CREATE TABLE IF NOT EXISTS drill_state (
    id              VARCHAR   PRIMARY KEY,
    source          VARCHAR   NOT NULL,    -- the scenario or store it replays
    brand           VARCHAR   NOT NULL,    -- the brand the team plays
    incident        VARCHAR   NOT NULL,    -- the incident replayed (id in its source)
    onset           TIMESTAMP NOT NULL,    -- the incident's onset (UTC, the source's time)
    incident_end    TIMESTAMP,             -- when it was over, where known
    scope           VARCHAR   NOT NULL,    -- brand | industry, as its source says
    rumours         JSON,                  -- the incident's rumours and bait links
    recorded        JSON,                  -- the brand's own posts in its source: the real play
    replay_from     TIMESTAMP NOT NULL,    -- the first source time replayed
    replay_until    TIMESTAMP NOT NULL,    -- the source time the drill ends at
    speed           DOUBLE    NOT NULL,    -- source seconds per wall-clock second
    started_wall    TIMESTAMP NOT NULL,    -- wall-clock time the drill began (UTC)
    paused_wall     TIMESTAMP,             -- wall-clock time it was paused; NULL while running
    paused_s        DOUBLE    NOT NULL,    -- wall-clock seconds spent paused before that
    released_until  TIMESTAMP NOT NULL,    -- source time up to which posts are released
    team_size       INTEGER   NOT NULL,
    tz              VARCHAR   NOT NULL     -- the time zone people write times in (IANA)
);
CREATE TABLE IF NOT EXISTS drill_responses (
    drill_id        VARCHAR   NOT NULL,
    n               INTEGER   NOT NULL,    -- 1, 2, ... in the order they were recorded
    kind            VARCHAR   NOT NULL,    -- update | reply | resolved
    drill_at        TIMESTAMP NOT NULL,    -- the drill clock's time when it was posted
    wall_at         TIMESTAMP NOT NULL,
    author          VARCHAR,               -- the team member who wrote it
    text            VARCHAR   NOT NULL,
    reply_to        VARCHAR,               -- the mention it answers (reply), as platform:id
    platform        VARCHAR   NOT NULL,
    post_id         VARCHAR   NOT NULL,    -- its id in posts (the brand's own post)
    findings        JSON      NOT NULL,    -- the linter's findings
    PRIMARY KEY (drill_id, n)
);
CREATE TABLE IF NOT EXISTS drill_feed AS SELECT * FROM posts LIMIT 0;
CREATE TABLE IF NOT EXISTS drill_feed_labels AS SELECT * FROM labels LIMIT 0;

-- serve (the dashboard): accounts, API tokens, the audit log and the session-signing secret.
CREATE TABLE IF NOT EXISTS users (
    name           VARCHAR   PRIMARY KEY,
    role           VARCHAR   NOT NULL,     -- viewer | responder | admin
    password_hash  VARCHAR   NOT NULL,     -- argon2id, as argon2-cffi encodes it
    created_at     TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS api_tokens (
    token_hash     VARCHAR   PRIMARY KEY,  -- sha256 of the token; the token itself is never kept
    user_name      VARCHAR   NOT NULL,
    label          VARCHAR,
    created_at     TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS audit_log (
    logged_at      TIMESTAMP NOT NULL,
    user_name      VARCHAR,                -- NULL: the command line
    action         VARCHAR   NOT NULL,     -- e.g. reply.approve, user.add
    subject        VARCHAR,
    detail         JSON
);
CREATE TABLE IF NOT EXISTS serve_secrets (
    name           VARCHAR   PRIMARY KEY,  -- session: signs the dashboard's cookies
    value          VARCHAR   NOT NULL
);

-- serve (dashboard pages): what people decided on the inbox's reply drafts. Every decision is
-- kept (the latest for a draft is its state); ``text`` is what was approved, edits included.
CREATE TABLE IF NOT EXISTS reply_decisions (
    brand       VARCHAR   NOT NULL,
    drafted_at  TIMESTAMP NOT NULL,        -- the draft's inbox (reply_drafts.drafted_at)
    cluster     INTEGER   NOT NULL,        -- reply_drafts.cluster
    incident    VARCHAR,                   -- reply_drafts.incident (NULL: the brand's inbox)
    action      VARCHAR   NOT NULL,        -- approve | skip
    text        VARCHAR   NOT NULL,        -- the reply as approved (after any edit)
    edited      BOOLEAN   NOT NULL,        -- the text differs from the draft's
    decided_by  VARCHAR   NOT NULL,        -- the user who decided
    decided_at  TIMESTAMP NOT NULL         -- when (UTC)
);

-- watch (uproar.watch): how far continuous detection has read, the feeds' HTTP validators,
-- and the live lag figures for the dashboard.
-- Detection has read every post ingested at or before ``watermark`` (saved with its state).
CREATE TABLE IF NOT EXISTS watch_progress (
    name        VARCHAR   PRIMARY KEY,
    watermark   TIMESTAMP NOT NULL,       -- the last ingested_at detection has read
    saved_at    TIMESTAMP NOT NULL
);
-- An RSS/Atom feed's validators, saved with the entries of the poll that got them.
CREATE TABLE IF NOT EXISTS feed_state (
    url            VARCHAR   PRIMARY KEY,
    etag           VARCHAR,
    last_modified  VARCHAR,
    saved_at       TIMESTAMP NOT NULL
);
-- One row: what ``uproar watch`` last reported (rates, lag p50/p99, queue depth), as JSON.
CREATE TABLE IF NOT EXISTS watch_status (
    name        VARCHAR   PRIMARY KEY,
    status      JSON      NOT NULL,
    saved_at    TIMESTAMP NOT NULL
);

-- detect (issue 13): what an incident found beside its counts, each a JSON array of objects:
-- the peers that surged with it (brand, signal, expected, excess), its phases (flare-ups and
-- re-openings: start, detected_at, end, posts) and its terms with their counts (term, posts,
-- reference_posts, lift). Added to stores made before, where old rows hold NULL (read as none).
ALTER TABLE incidents ADD COLUMN IF NOT EXISTS peers JSON;
ALTER TABLE incidents ADD COLUMN IF NOT EXISTS phases JSON;
ALTER TABLE incidents ADD COLUMN IF NOT EXISTS term_counts JSON;

-- detect (issue 13): where each brand's collection began or had a gap, as the detector saw
-- it (coverage changes are never incidents); shown by `uproar stats` and `uproar signal`.
CREATE TABLE IF NOT EXISTS coverage (
    brand    VARCHAR   NOT NULL,
    kind     VARCHAR   NOT NULL,           -- start | gap
    since    TIMESTAMP NOT NULL,           -- UTC
    "until"  TIMESTAMP,                    -- a gap's end (NULL for a start)
    PRIMARY KEY (brand, kind, since)
);

-- serve (Search): the word index the dashboard's Search reads (store/search_index.py), built
-- from the stored posts as they arrive; older stores gain it here and are indexed on first use.
CREATE TABLE IF NOT EXISTS search_index (
    name        VARCHAR   PRIMARY KEY,     -- posts: the one row
    posts       BIGINT    NOT NULL,        -- how many posts are indexed
    watermark   TIMESTAMP,                 -- the newest ingested_at indexed
    vocabulary  BIGINT    NOT NULL         -- words in search_postings at its last merge
);
CREATE TABLE IF NOT EXISTS search_docs (    -- the posts indexed, so none is indexed twice
    platform     VARCHAR   NOT NULL,
    id           VARCHAR   NOT NULL,
    ingested_at  TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS search_postings (
    term   VARCHAR     NOT NULL,           -- a lower-cased word
    times  TIMESTAMP[] NOT NULL            -- created_at of the posts with it, ascending
);
INSERT OR IGNORE INTO search_index VALUES ('posts', 0, NULL, 0);
