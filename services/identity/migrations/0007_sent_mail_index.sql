-- For the retention sweep's purge of sent mail (ADR 0027).
CREATE INDEX mail_outbox_sent_at ON mail_outbox (sent_at) WHERE sent_at IS NOT NULL;
