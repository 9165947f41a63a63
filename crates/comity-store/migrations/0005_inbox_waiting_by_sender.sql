-- Messages waiting for a predecessor, by sender: a batch of incoming messages reads which
-- of the sender's conversations have any, once, instead of looking after every message.
CREATE INDEX inbox_waiting_by_sender ON inbox (sender_node, conversation_id) WHERE status = 'waiting';
