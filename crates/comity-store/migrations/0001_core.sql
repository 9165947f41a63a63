-- Comity core schema. Portable SQL: the same text runs on SQLite and PostgreSQL.
-- Booleans are BIGINT 0/1, times are BIGINT milliseconds since the epoch (UTC),
-- structured values are JSON text, binary values are base64 text.

CREATE TABLE node_settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE authorities (
    id TEXT PRIMARY KEY,
    country TEXT NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    node_id TEXT NOT NULL,
    is_local BIGINT NOT NULL
);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    authority_id TEXT NOT NULL REFERENCES authorities (id),
    roles TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    active BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE TABLE cases (
    id TEXT PRIMARY KEY,
    authority_id TEXT NOT NULL REFERENCES authorities (id),
    reference TEXT NOT NULL,
    title TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX cases_by_authority ON cases (authority_id, created_at);

CREATE TABLE requests (
    id TEXT NOT NULL,
    side TEXT NOT NULL,
    case_id TEXT NOT NULL REFERENCES cases (id),
    holder_authority TEXT NOT NULL REFERENCES authorities (id),
    counterpart_authority TEXT NOT NULL,
    state TEXT NOT NULL,
    content TEXT NOT NULL,
    content_version BIGINT NOT NULL,
    urgent BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL,
    PRIMARY KEY (id, side)
);
CREATE INDEX requests_by_holder ON requests (holder_authority, updated_at);
CREATE INDEX requests_by_case ON requests (case_id);

CREATE TABLE request_history (
    request_id TEXT NOT NULL,
    side TEXT NOT NULL,
    seq BIGINT NOT NULL,
    action TEXT NOT NULL,
    from_state TEXT NOT NULL,
    to_state TEXT NOT NULL,
    actor_kind TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    actor_role TEXT NOT NULL,
    origin TEXT NOT NULL,
    at BIGINT NOT NULL,
    reason TEXT,
    grounds TEXT NOT NULL,
    PRIMARY KEY (request_id, side, seq)
);

CREATE TABLE outbox (
    message_id TEXT PRIMARY KEY,
    recipient_node TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    sequence BIGINT NOT NULL,
    message_type TEXT NOT NULL,
    in_reply_to TEXT,
    body TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    last_error TEXT,
    receipt TEXT,
    finished_at BIGINT
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);

CREATE TABLE conversation_sequences (
    conversation_id TEXT NOT NULL,
    peer_node TEXT NOT NULL,
    next_outgoing BIGINT NOT NULL,
    next_incoming BIGINT NOT NULL,
    PRIMARY KEY (conversation_id, peer_node)
);

CREATE TABLE inbox (
    message_id TEXT PRIMARY KEY,
    sender_node TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    sequence BIGINT NOT NULL,
    message_type TEXT NOT NULL,
    body TEXT NOT NULL,
    envelope TEXT NOT NULL,
    status TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    applied_at BIGINT,
    outcome TEXT
);
CREATE INDEX inbox_waiting ON inbox (conversation_id, sender_node, sequence);
