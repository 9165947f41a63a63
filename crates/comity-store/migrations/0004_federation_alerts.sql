-- Federation you can recover: operator alerts, conversations out of step with a peer,
-- and what each outgoing message's receipt said.

-- Something an operator must look at (a rejected message, a conflict found by a
-- resynchronisation, a dead letter). Acknowledging keeps the row, with who and when.
CREATE TABLE operator_alerts (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    peer_node TEXT,
    conversation_id TEXT,
    message TEXT NOT NULL,
    raised_at BIGINT NOT NULL,
    acknowledged_at BIGINT,
    acknowledged_by TEXT
);
CREATE INDEX operator_alerts_open ON operator_alerts (acknowledged_at, raised_at);

-- A conversation whose two copies are known to differ, until a resynchronisation
-- brings them together again.
CREATE TABLE conversations_out_of_step (
    conversation_id TEXT NOT NULL,
    peer_node TEXT NOT NULL,
    reason TEXT NOT NULL,
    since BIGINT NOT NULL,
    PRIMARY KEY (conversation_id, peer_node)
);

-- The receipt's outcome (accepted, duplicate, rejected, restored) and the peer's reason
-- for a rejection.
ALTER TABLE outbox ADD COLUMN receipt_outcome TEXT;
ALTER TABLE outbox ADD COLUMN rejection_reason TEXT
